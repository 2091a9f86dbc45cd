/* jsonx.c — JSON text the way Python's json module writes it (spec §10.2,
 * §10.3), the non-finite markers, and the Python str()/repr() renderings the
 * CSV logger and error messages need. Reading is jsonx_load.c; float text is
 * pyfloat.c.
 *
 * Why not jansson's own dumper: Ray's files are written by json.dumps, whose
 * separators (", " and ": "), float text (repr: shortest round-trip digits,
 * "1.0", "1e+16") and NaN/Infinity tokens differ from jansson's, and the files
 * must read the same in tunec and in Ray (DESIGN §4).
 *
 * Invariants:
 *   - a non-finite float is, inside the engine, a JSON string made of
 *     TC_NONFINITE_MARK + "NaN" | "Infinity" | "-Infinity" (jansson cannot
 *     hold one in a json_real); the reader creates and the writers consume
 *     exactly these three spellings. A user string equal to a marker is
 *     indistinguishable from the float; \x1f never appears in real results.
 *   - an integer outside json_int_t (Python's json keeps 2**63 or 10**30
 *     exact; jansson refuses them) is a JSON string made of
 *     TC_NONFINITE_MARK + its decimal digits, "-" first when negative, as
 *     json.dumps wrote them (no leading zeros, no "+"). The writers print the
 *     digits bare; numeric readers see the nearest double; the extension
 *     turns it back into the exact Python int.
 *   - the writers never allocate per value beyond growing the output buffer,
 *     except TC_DUMP_INDENT2_SORTED, which sorts each object's keys.
 *   - strings are written as UTF-8 (json.dumps(ensure_ascii=False)); Python's
 *     reader accepts both spellings, so the files load the same either way.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tunec.h"

#define MARK_NAN TC_NONFINITE_MARK "NaN"
#define MARK_INF TC_NONFINITE_MARK "Infinity"
#define MARK_NINF TC_NONFINITE_MARK "-Infinity"

/* The deepest container the writers descend into (the same bound as
 * jansson's parser); deeper values fail instead of overflowing the stack. */
#define DUMP_MAX_DEPTH 2048

/* ------------------------------------------------------------------------- */
/* Non-finite markers                                                         */
/* ------------------------------------------------------------------------- */

/* new */
json_t *tc_json_real(double v)
{
    if (isnan(v))
        return json_string(MARK_NAN);
    if (isinf(v))
        return json_string(v > 0 ? MARK_INF : MARK_NINF);
    return json_real(v);
}

/* 1 if s[0..n) is -?(0|[1-9][0-9]*), the digits of a JSON integer. */
static int integer_digits(const char *s, size_t n)
{
    size_t i = n > 0 && s[0] == '-';
    if (i >= n || (s[i] == '0' && n - i > 1))
        return 0;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* new; digits borrowed, already checked by the caller's grammar */
json_t *tc_json_bigint(const char *digits, size_t n)
{
    char *s = tc_malloc(n + 2);
    if (!s)
        return NULL;
    s[0] = TC_NONFINITE_MARK[0];
    memcpy(s + 1, digits, n);
    s[n + 1] = '\0';
    json_t *v = json_stringn_nocheck(s, n + 1);
    tc_free(s);
    return v;
}

/* 0 = not a marker, else 1 = NaN, 2 = +inf, 3 = -inf, 4 = big integer.
 * v borrowed. */
static int marker_kind(const json_t *v)
{
    if (!json_is_string(v))
        return 0;
    const char *s = json_string_value(v);
    if (s[0] != TC_NONFINITE_MARK[0])
        return 0;
    size_t n = json_string_length(v);
    if (n >= 2 && integer_digits(s + 1, n - 1))
        return 4;
    if (n == sizeof MARK_NAN - 1 && memcmp(s, MARK_NAN, n) == 0)
        return 1;
    if (n == sizeof MARK_INF - 1 && memcmp(s, MARK_INF, n) == 0)
        return 2;
    if (n == sizeof MARK_NINF - 1 && memcmp(s, MARK_NINF, n) == 0)
        return 3;
    return 0;
}

/* v borrowed */
int tc_json_is_nonfinite(const json_t *v)
{
    int k = marker_kind(v);
    return k != 0 && k != 4;
}

/* v borrowed */
int tc_json_is_bigint(const json_t *v)
{
    return marker_kind(v) == 4;
}

/* v borrowed */
int tc_json_is_number_marker(const json_t *v)
{
    return marker_kind(v) != 0;
}

/* v borrowed. Booleans are not numbers here (callers that want Python's
 * bool-is-int rule test json_is_boolean themselves). */
int tc_json_number(const json_t *v, double *out)
{
    double d;
    if (!v)
        return 0;   /* a missing value (json_object_get's NULL) is no number */
    switch (json_typeof(v)) {
    case JSON_INTEGER:
        d = (double)json_integer_value(v);
        break;
    case JSON_REAL:
        d = json_real_value(v);
        break;
    case JSON_STRING:
        switch (marker_kind(v)) {
        case 1: d = NAN; break;
        case 2: d = INFINITY; break;
        case 3: d = -INFINITY; break;
        case 4: d = strtod(json_string_value(v) + 1, NULL); break;  /* digits only: no locale */
        default: return 0;
        }
        break;
    default:
        return 0;
    }
    if (out)
        *out = d;
    return 1;
}

/* ------------------------------------------------------------------------- */
/* Writing JSON                                                               */
/* ------------------------------------------------------------------------- */

/* tc_buf_append / tc_buf_putc, inlined: the writers call them for every
 * token, and the call overhead showed in profiles. */
static inline int put(tc_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap && tc_buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static inline int put1(tc_buf *b, char c)
{
    return put(b, &c, 1);
}

/* json.dumps string escaping with ensure_ascii=False: ", \, and the C0
 * controls (\b \f \n \r \t by name, the rest as \u00XX in lowercase hex). */
static int dump_string(const char *s, size_t len, tc_buf *out)
{
    static const char hex[] = "0123456789abcdef";
    if (tc_buf_reserve(out, len + 2) < 0)
        return -1;
    out->data[out->len++] = '"';
    size_t run = 0;  /* start of the pending unescaped run */
    for (size_t i = 0; i < len; i++) {
        /* Skip 8 plain bytes at a time: no byte < 0x20, no '"', no '\\'
         * (the classic "has zero byte" tests on x, x ^ '"', x ^ '\\'). */
        while (i + 8 <= len) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
            uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
            uint64_t special = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b);
            if (special & highs)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (put(out, s + run, i - run) < 0)
            return -1;
        char esc[7] = { '\\', 0 };
        size_t elen = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        if (put(out, esc, elen) < 0)
            return -1;
        run = i + 1;
    }
    if (put(out, s + run, len - run) < 0)
        return -1;
    return put1(out, '"');
}

static int dump_newline(tc_buf *out, int depth)
{
    if (tc_buf_reserve(out, 1 + 2 * (size_t)depth) < 0)
        return -1;
    out->data[out->len++] = '\n';
    memset(out->data + out->len, ' ', 2 * (size_t)depth);
    out->len += 2 * (size_t)depth;
    out->data[out->len] = '\0';
    return 0;
}

typedef struct key_ref {
    const char *key;
    size_t len;
    json_t *value;
} key_ref;

static int key_ref_cmp(const void *a, const void *b)
{
    const key_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);  /* UTF-8 byte order = code point order */
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

static int dump_value(const json_t *v, tc_buf *out, int mode, int depth);

static int dump_object(const json_t *v, tc_buf *out, int mode, int depth)
{
    const char *key;
    size_t key_len;
    json_t *value;
    size_t n = json_object_size(v);
    key_ref *keys = NULL;
    int rc = -1;

    if (n == 0)
        return put(out, "{}", 2);
    if (put1(out, '{') < 0)
        return -1;
    if (mode == TC_DUMP_COMPACT) {
        int first = 1;
        json_object_keylen_foreach((json_t *)v, key, key_len, value) {
            if (!first && put(out, ", ", 2) < 0)
                return -1;
            first = 0;
            if (dump_string(key, key_len, out) < 0 || put(out, ": ", 2) < 0 ||
                dump_value(value, out, mode, depth + 1) < 0)
                return -1;
        }
        return put1(out, '}');
    }

    keys = tc_malloc(n * sizeof *keys);
    if (!keys)
        return -1;
    size_t k = 0;
    json_object_keylen_foreach((json_t *)v, key, key_len, value)
        keys[k++] = (key_ref){ key, key_len, value };
    qsort(keys, n, sizeof *keys, key_ref_cmp);
    for (k = 0; k < n; k++) {
        if (k > 0 && put1(out, ',') < 0)
            goto done;
        if (dump_newline(out, depth + 1) < 0 || dump_string(keys[k].key, keys[k].len, out) < 0 ||
            put(out, ": ", 2) < 0 || dump_value(keys[k].value, out, mode, depth + 1) < 0)
            goto done;
    }
    if (dump_newline(out, depth) < 0 || put1(out, '}') < 0)
        goto done;
    rc = 0;
done:
    tc_free(keys);
    return rc;
}

static int dump_array(const json_t *v, tc_buf *out, int mode, int depth)
{
    size_t n = json_array_size(v);
    if (n == 0)
        return put(out, "[]", 2);
    if (put1(out, '[') < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (mode == TC_DUMP_COMPACT) {
            if (i > 0 && put(out, ", ", 2) < 0)
                return -1;
        } else if ((i > 0 && put1(out, ',') < 0) || dump_newline(out, depth + 1) < 0) {
            return -1;
        }
        if (dump_value(json_array_get(v, i), out, mode, depth + 1) < 0)
            return -1;
    }
    if (mode != TC_DUMP_COMPACT && dump_newline(out, depth) < 0)
        return -1;
    return put1(out, ']');
}

static int dump_value(const json_t *v, tc_buf *out, int mode, int depth)
{
    char num[40];
    int n;
    if (depth > DUMP_MAX_DEPTH)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return dump_object(v, out, mode, depth);
    case JSON_ARRAY:
        return dump_array(v, out, mode, depth);
    case JSON_STRING:
        switch (marker_kind(v)) {
        case 1: return put(out, "NaN", 3);
        case 2: return put(out, "Infinity", 8);
        case 3: return put(out, "-Infinity", 9);
        case 4: return put(out, json_string_value(v) + 1, json_string_length(v) - 1);
        default: return dump_string(json_string_value(v), json_string_length(v), out);
        }
    case JSON_INTEGER:
        n = tc_format_int(json_integer_value(v), num);
        return put(out, num, (size_t)n);
    case JSON_REAL:
        n = tc_format_double(json_real_value(v), num);
        return put(out, num, (size_t)n);
    case JSON_TRUE:
        return put(out, "true", 4);
    case JSON_FALSE:
        return put(out, "false", 5);
    case JSON_NULL:
        return put(out, "null", 4);
    }
    return -1;
}

/* v borrowed */
int tc_json_dump(const json_t *v, tc_buf *out, int mode)
{
    if (!v)
        return -1;
    return dump_value(v, out, mode, 0);
}

/* ------------------------------------------------------------------------- */
/* Python str() / repr()                                                      */
/* ------------------------------------------------------------------------- */

/* Decodes one UTF-8 sequence (jansson strings are valid UTF-8); returns its
 * byte length. */
static size_t utf8_decode(const unsigned char *s, size_t left, unsigned *cp)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (n > left) {
        *cp = c;
        return 1;
    }
    switch (n) {
    case 1: *cp = c; break;
    case 2: *cp = ((c & 0x1F) << 6) | (s[1] & 0x3F); break;
    case 3: *cp = ((c & 0x0F) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3F); break;
    default:
        *cp = ((c & 0x07) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3F);
    }
    return n;
}

/* str.isprintable() for a non-ASCII code point. Python consults the whole
 * Unicode database; this covers what it rejects among assigned characters
 * (separators Zs/Zl/Zp, format Cf, controls, private use, noncharacters).
 * Unassigned code points count as printable here (Python escapes them). */
static int py_printable(unsigned cp)
{
    static const unsigned ranges[][2] = {
        {0x80, 0xA0}, {0xAD, 0xAD}, {0x600, 0x605}, {0x61C, 0x61C}, {0x6DD, 0x6DD},
        {0x70F, 0x70F}, {0x890, 0x891}, {0x8E2, 0x8E2}, {0x1680, 0x1680},
        {0x180E, 0x180E}, {0x2000, 0x200F}, {0x2028, 0x202F}, {0x205F, 0x2064},
        {0x2066, 0x206F}, {0x3000, 0x3000}, {0xD800, 0xF8FF}, {0xFDD0, 0xFDEF},
        {0xFEFF, 0xFEFF}, {0xFFF0, 0xFFFB}, {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
        {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
        {0xE0000, 0xE0FFF}, {0xF0000, 0x10FFFF},
    };
    if ((cp & 0xFFFE) == 0xFFFE)
        return 0;  /* U+xFFFE / U+xFFFF noncharacters of every plane */
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (cp >= ranges[i][0] && cp <= ranges[i][1])
            return 0;
    return 1;
}

/* repr(str): single quotes unless the text has ' and no ", then double. */
static int py_repr_string(const char *s, size_t len, tc_buf *out)
{
    static const char hex[] = "0123456789abcdef";
    char quote = '\'';
    if (memchr(s, '\'', len) && !memchr(s, '"', len))
        quote = '"';
    if (put1(out, quote) < 0)
        return -1;
    size_t i = 0;
    while (i < len) {
        unsigned cp;
        size_t n = utf8_decode((const unsigned char *)s + i, len - i, &cp);
        char esc[12];
        size_t elen = 0;
        if (cp == (unsigned)quote || cp == '\\') {
            esc[0] = '\\';
            esc[1] = (char)cp;
            elen = 2;
        } else if (cp == '\t' || cp == '\n' || cp == '\r') {
            esc[0] = '\\';
            esc[1] = cp == '\t' ? 't' : cp == '\n' ? 'n' : 'r';
            elen = 2;
        } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && !py_printable(cp))) {
            int digits = cp <= 0xFF ? 2 : cp <= 0xFFFF ? 4 : 8;
            esc[0] = '\\';
            esc[1] = digits == 2 ? 'x' : digits == 4 ? 'u' : 'U';
            for (int d = 0; d < digits; d++)
                esc[2 + d] = hex[(cp >> (4 * (digits - 1 - d))) & 15];
            elen = 2 + (size_t)digits;
        }
        if (elen) {
            if (put(out, esc, elen) < 0)
                return -1;
        } else if (put(out, s + i, n) < 0) {
            return -1;
        }
        i += n;
    }
    return put1(out, quote);
}

static int py_value(const json_t *v, tc_buf *out, int top, int depth)
{
    char num[40];
    int n;
    const char *key;
    size_t key_len;
    json_t *value;

    if (depth > DUMP_MAX_DEPTH)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        int first = 1;
        if (put1(out, '{') < 0)
            return -1;
        json_object_keylen_foreach((json_t *)v, key, key_len, value) {
            if (!first && put(out, ", ", 2) < 0)
                return -1;
            first = 0;
            if (py_repr_string(key, key_len, out) < 0 || put(out, ": ", 2) < 0 ||
                py_value(value, out, 0, depth + 1) < 0)
                return -1;
        }
        return put1(out, '}');
    }
    case JSON_ARRAY:
        if (put1(out, '[') < 0)
            return -1;
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i > 0 && put(out, ", ", 2) < 0)
                return -1;
            if (py_value(json_array_get(v, i), out, 0, depth + 1) < 0)
                return -1;
        }
        return put1(out, ']');
    case JSON_STRING:
        switch (marker_kind(v)) {
        case 1: return put(out, "nan", 3);
        case 2: return put(out, "inf", 3);
        case 3: return put(out, "-inf", 4);
        case 4: return put(out, json_string_value(v) + 1, json_string_length(v) - 1);
        default:
            if (top)
                return put(out, json_string_value(v), json_string_length(v));
            return py_repr_string(json_string_value(v), json_string_length(v), out);
        }
    case JSON_INTEGER:
        n = tc_format_int(json_integer_value(v), num);
        return put(out, num, (size_t)n);
    case JSON_REAL:
        n = tc_format_double(json_real_value(v), num);
        return put(out, num, (size_t)n);
    case JSON_TRUE:
        return put(out, "True", 4);
    case JSON_FALSE:
        return put(out, "False", 5);
    case JSON_NULL:
        return put(out, "None", 4);
    }
    return -1;
}

/* v borrowed */
int tc_py_str(const json_t *v, tc_buf *out)
{
    if (!v)
        return -1;
    return py_value(v, out, 1, 0);
}

/* v borrowed */
int tc_py_repr(const json_t *v, tc_buf *out)
{
    if (!v)
        return -1;
    return py_value(v, out, 0, 0);
}

/* Python's truth value of a JSON value as json.loads gives it: null,
 * false, 0, 0.0, "" and empty containers are false (a marker string, NaN
 * or a big integer, is true as Python's float or int is). */
int tc_json_truthy(const json_t *v)
{
    double d;
    if (!v || json_is_null(v) || json_is_false(v))
        return 0;
    if (json_is_true(v))
        return 1;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    if (tc_json_number(v, &d))
        return d != 0.0;
    if (json_is_array(v))
        return json_array_size(v) > 0;
    if (json_is_object(v))
        return json_object_size(v) > 0;
    return 0;
}
