/* error.c — the caller-owned error record. The first error set wins, so a
 * low-level failure is not masked by the generic message of a caller that
 * reports it on the way out. */
#include <stdarg.h>
#include <stdio.h>
#include "tunec.h"

void tc_error_init(tc_error *err)
{
    if (!err)
        return;
    err->code = TC_OK;
    err->text[0] = '\0';
}

int tc_error_set(tc_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    if (!err || err->code != TC_OK)
        return -1;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof err->text, fmt, ap);
    va_end(ap);
    return -1;
}

void tc_error_clear(tc_error *err)
{
    tc_error_init(err);
}
