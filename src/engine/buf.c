/* buf.c — a growable byte buffer. Invariant: when data is non-NULL it is
 * NUL-terminated at data[len], so text users can read it as a C string. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tunec.h"

void tc_buf_init(tc_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = 0;
}

void tc_buf_free(tc_buf *b)
{
    tc_free(b->data);
    tc_buf_init(b);
}

void tc_buf_clear(tc_buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data)
        b->data[0] = '\0';
}

int tc_buf_reserve(tc_buf *b, size_t extra)
{
    if (b->failed)
        return -1;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = tc_realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int tc_buf_append(tc_buf *b, const char *data, size_t len)
{
    if (tc_buf_reserve(b, len) < 0)
        return -1;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int tc_buf_puts(tc_buf *b, const char *s)
{
    return tc_buf_append(b, s, strlen(s));
}

int tc_buf_putc(tc_buf *b, char c)
{
    return tc_buf_append(b, &c, 1);
}

int tc_buf_printf(tc_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof small)
        return tc_buf_append(b, small, (size_t)n);
    if (tc_buf_reserve(b, (size_t)n) < 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

/* FNV-1a: the engine's small hash tables (CSV columns, metrics) key on it. */
uint64_t tc_hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}
