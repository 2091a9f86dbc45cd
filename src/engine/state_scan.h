/* state_scan.h — the state reader's validating JSON byte scanner
 * (state_scan.c): value ends and object members, without building values. */
#ifndef TUNEC_STATE_SCAN_H
#define TUNEC_STATE_SCAN_H

#include <stddef.h>

#define TC_SCAN_DEPTH 1000

typedef struct tc_scan_span {
    const char *start, *end;   /* a value's text, [start, end) */
} tc_scan_span;

const char *tc_scan_ws(const char *p, const char *end);
/* Past the one JSON value at p (leading whitespace skipped), or NULL when
 * the text there is not one. depth: nesting so far (0 at the top). */
const char *tc_scan_value(const char *p, const char *end, int depth);
/* The value of key in the object at obj, which tc_scan_value validated
 * (it is not checked again): 1 and *out set, 0 when absent or obj is not an
 * object. */
int tc_scan_member(const char *obj, const char *end, const char *key, tc_scan_span *out);
/* A string value without escapes (its text between the quotes is its value). */
int tc_scan_is_plain_string(const tc_scan_span *s);

#endif
