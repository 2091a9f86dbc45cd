/* state_scan.c — a validating byte scanner for the state reader
 * (state_read.c): it finds where a JSON value ends and where an object's key
 * holds its value, building nothing. It accepts what tunec/_resume.py's
 * json.loads accepted: standard JSON plus NaN, Infinity and -Infinity, no
 * control characters in strings, valid UTF-8 (escaped surrogates pass, as in
 * Python). Nesting deeper than TC_SCAN_DEPTH is refused (json.loads would
 * have failed with RecursionError). */
#include <string.h>
#include "state_scan.h"

static const char *ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

const char *tc_scan_ws(const char *p, const char *end)
{
    return ws(p, end);
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* One UTF-8 sequence starting at a non-ASCII byte; its length or 0. */
static size_t utf8_seq(const unsigned char *s, const unsigned char *end)
{
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3;
        if (s[0] == 0xE0)
            lo = 0xA0;
        else if (s[0] == 0xED)
            hi = 0x9F;   /* no encoded surrogates */
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4;
        if (s[0] == 0xF0)
            lo = 0x90;
        else if (s[0] == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if ((size_t)(end - s) < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/* p at the opening quote: past the closing quote, or NULL. *escaped: the
 * string holds a backslash (its text is not its value). An object key may
 * not hold \u0000: the parser that builds the record refuses it (jansson's
 * rule), so the state is refused here, where the file can be named. */
static const char *string(const char *p, const char *end, int *escaped, int is_key)
{
    const unsigned char *s = (const unsigned char *)p + 1, *e = (const unsigned char *)end;
    while (s < e) {
        unsigned char c = *s;
        if (c == '"')
            return (const char *)s + 1;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            if (escaped)
                *escaped = 1;
            if (s + 1 >= e)
                return NULL;
            c = s[1];
            if (c == 'u') {
                if (e - s < 6 || !is_hex((char)s[2]) || !is_hex((char)s[3]) ||
                    !is_hex((char)s[4]) || !is_hex((char)s[5]))
                    return NULL;
                if (is_key && memcmp(s + 2, "0000", 4) == 0)
                    return NULL;
                s += 6;
            } else if (strchr("\"\\/bfnrt", c) && c) {
                s += 2;
            } else {
                return NULL;
            }
        } else if (c < 0x80) {
            s++;
        } else {
            size_t n = utf8_seq(s, e);
            if (!n)
                return NULL;
            s += n;
        }
    }
    return NULL;
}

static int word(const char *p, const char *end, const char *w)
{
    size_t n = strlen(w);
    return (size_t)(end - p) >= n && memcmp(p, w, n) == 0;
}

static const char *digits(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && *q >= '0' && *q <= '9')
        q++;
    return q == p ? NULL : q;
}

static const char *number(const char *p, const char *end)
{
    if (*p == '-') {
        if (word(p, end, "-Infinity"))
            return p + 9;
        p++;
    }
    if (p < end && *p == '0')
        p++;
    else if (!(p = digits(p, end)))
        return NULL;
    if (p < end && *p == '.' && !(p = digits(p + 1, end)))
        return NULL;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!(p = digits(p, end)))
            return NULL;
    }
    return p;
}

const char *tc_scan_value(const char *p, const char *end, int depth)
{
    p = ws(p, end);
    if (p >= end)
        return NULL;
    switch (*p) {
    case '"':
        return string(p, end, NULL, 0);
    case '{':
    case '[': {
        char close = *p == '{' ? '}' : ']';
        if (depth >= TC_SCAN_DEPTH)
            return NULL;
        p = ws(p + 1, end);
        if (p < end && *p == close)
            return p + 1;
        for (;;) {
            if (close == '}') {
                if (p >= end || *p != '"' || !(p = string(p, end, NULL, 1)))
                    return NULL;
                p = ws(p, end);
                if (p >= end || *p != ':')
                    return NULL;
                p++;
            }
            if (!(p = tc_scan_value(p, end, depth + 1)))
                return NULL;
            p = ws(p, end);
            if (p >= end)
                return NULL;
            if (*p == close)
                return p + 1;
            if (*p != ',')
                return NULL;
            p = ws(p + 1, end);
        }
    }
    case 't':
        return word(p, end, "true") ? p + 4 : NULL;
    case 'f':
        return word(p, end, "false") ? p + 5 : NULL;
    case 'n':
        return word(p, end, "null") ? p + 4 : NULL;
    case 'N':
        return word(p, end, "NaN") ? p + 3 : NULL;
    case 'I':
        return word(p, end, "Infinity") ? p + 8 : NULL;
    default:
        return (*p == '-' || (*p >= '0' && *p <= '9')) ? number(p, end) : NULL;
    }
}

/* Past the string at p (already validated): the next quote no backslash
 * escapes. */
static const char *skip_string(const char *p, const char *end)
{
    p++;
    for (;;) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q)
            return end;
        const char *b = q;
        while (b > p && b[-1] == '\\')
            b--;
        if ((q - b) % 2 == 0)
            return q + 1;
        p = q + 1;
    }
}

/* Past the value at p, which a validation already passed: only strings and
 * brackets matter (tc_scan_member looks up keys in validated objects, so it
 * need not check them again). */
static const char *skip_valid(const char *p, const char *end)
{
    int depth = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            p = skip_string(p, end);
        } else if (c == '{' || c == '[') {
            depth++;
            p++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return p;   /* the end of the enclosing container */
            depth--;
            p++;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\n' || c == '\t' || c == '\r')) {
            return p;
        } else {
            p++;
        }
        if (depth == 0 && (c == '"' || c == '}' || c == ']'))
            return p;
    }
    return p;
}

int tc_scan_member(const char *obj, const char *end, const char *key, tc_scan_span *out)
{
    const char *p = ws(obj, end);
    size_t klen = strlen(key);
    int found = 0;
    if (p >= end || *p != '{')
        return 0;
    p = ws(p + 1, end);
    if (p < end && *p == '}')
        return 0;
    while (p < end && *p == '"') {
        const char *kend = skip_string(p, end);
        int escaped = memchr(p + 1, '\\', (size_t)(kend - p - 1)) != NULL;
        /* tunec's keys carry no escapes; an escaped key never matches (it
         * would only be one of tunec's by accident) */
        int match = !escaped && (size_t)(kend - p - 2) == klen && memcmp(p + 1, key, klen) == 0;
        p = ws(kend, end);
        if (p >= end || *p != ':')
            return 0;
        const char *vs = ws(p + 1, end), *ve = skip_valid(vs, end);
        if (ve == vs)
            return 0;
        if (match) {   /* the last of duplicate keys wins, as in a dict */
            out->start = vs;
            out->end = ve;
            found = 1;
        }
        p = ws(ve, end);
        if (p >= end || *p != ',')
            break;
        p = ws(p + 1, end);
    }
    return found;
}

int tc_scan_is_plain_string(const tc_scan_span *s)
{
    if (s->end - s->start < 2 || *s->start != '"')
        return 0;
    return memchr(s->start + 1, '\\', (size_t)(s->end - s->start - 2)) == NULL;
}
