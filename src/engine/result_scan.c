/* result_scan.c — one pass over a result's JSON text, without building a tree.
 *
 * The driver's per-result hot path (runner.c) needs a handful of things from
 * each result a worker sends: the flattened numeric values (stop rules,
 * metric_analysis), the cells of a progress.csv row, whether `done` is set,
 * and where to splice the driver-owned fields into the result.json line.
 * Building a jansson tree for that, then dumping it again, costs most of the
 * budget; this scanner records, for every leaf of the flattened result
 * (dicts joined with "/", lists kept whole), its key, the byte span of its
 * raw text and its number, and leaves the text untouched so the line can be
 * written by splicing.
 *
 * Invariants: fields appear in text order; keys live in s->keys (offsets,
 * so the buffer may grow); spans index the scanned text, which the caller
 * keeps alive while it uses the scan. Accepts Python's NaN / Infinity /
 * -Infinity tokens. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tunec.h"

#define MAX_DEPTH 64

typedef struct scanner {
    tc_scan *s;
    const char *p, *end;
    tc_error *err;
} scanner;

static int fail(scanner *sc, const char *what)
{
    return tc_error_set(sc->err, TC_ERR_VALUE, "invalid result JSON at byte %ld: %s",
                        (long)(sc->p - sc->s->text), what);
}

static void skip_ws(scanner *sc)
{
    while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\n' || *sc->p == '\r' ||
                               *sc->p == '\t'))
        sc->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int put_utf8(tc_buf *b, unsigned long cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) { u[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { u[0] = (char)(0xC0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12)); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18)); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
    }
    return tc_buf_append(b, u, n);
}

/* Appends the decoded content of the JSON string starting at p (at the
 * opening quote) to out (may be NULL to only skip). Leaves sc->p after the
 * closing quote. */
static int string_token(scanner *sc, tc_buf *out)
{
    sc->p++;   /* opening quote */
    /* Nearly every string has no escape: find its end with memchr. */
    const char *quote = memchr(sc->p, '"', (size_t)(sc->end - sc->p));
    if (quote && !memchr(sc->p, '\\', (size_t)(quote - sc->p))) {
        if (out && tc_buf_append(out, sc->p, (size_t)(quote - sc->p)) < 0)
            return tc_error_set(sc->err, TC_ERR_NOMEM, "out of memory");
        sc->p = quote + 1;
        return 0;
    }
    const char *run = sc->p;
    while (sc->p < sc->end) {
        char c = *sc->p;
        if (c == '"') {
            if (out && tc_buf_append(out, run, (size_t)(sc->p - run)) < 0)
                return tc_error_set(sc->err, TC_ERR_NOMEM, "out of memory");
            sc->p++;
            return 0;
        }
        if (c != '\\') {
            sc->p++;
            continue;
        }
        if (out && tc_buf_append(out, run, (size_t)(sc->p - run)) < 0)
            return tc_error_set(sc->err, TC_ERR_NOMEM, "out of memory");
        if (sc->p + 1 >= sc->end)
            return fail(sc, "unterminated escape");
        char e = sc->p[1];
        sc->p += 2;
        char lit = 0;
        switch (e) {
        case '"': lit = '"'; break;
        case '\\': lit = '\\'; break;
        case '/': lit = '/'; break;
        case 'b': lit = '\b'; break;
        case 'f': lit = '\f'; break;
        case 'n': lit = '\n'; break;
        case 'r': lit = '\r'; break;
        case 't': lit = '\t'; break;
        case 'u': {
            unsigned long cp = 0;
            for (int i = 0; i < 4; i++) {
                int h = sc->p + i < sc->end ? hexval(sc->p[i]) : -1;
                if (h < 0)
                    return fail(sc, "bad \\u escape");
                cp = cp * 16 + (unsigned long)h;
            }
            sc->p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && sc->p + 6 <= sc->end && sc->p[0] == '\\' &&
                sc->p[1] == 'u') {
                unsigned long lo = 0;
                int ok = 1;
                for (int i = 0; i < 4; i++) {
                    int h = hexval(sc->p[2 + i]);
                    ok &= h >= 0;
                    lo = lo * 16 + (unsigned long)(h < 0 ? 0 : h);
                }
                if (ok && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    sc->p += 6;
                }
            }
            if (cp >= 0xD800 && cp < 0xE000)
                cp = 0xFFFD;   /* a lone surrogate cannot be UTF-8 */
            if (out && put_utf8(out, cp) < 0)
                return tc_error_set(sc->err, TC_ERR_NOMEM, "out of memory");
            break;
        }
        default:
            return fail(sc, "bad escape");
        }
        if (lit && out && tc_buf_putc(out, lit) < 0)
            return tc_error_set(sc->err, TC_ERR_NOMEM, "out of memory");
        run = sc->p;
    }
    return fail(sc, "unterminated string");
}

/* An integer too long for tc_fastnum: 1 and its nearest double (strtod on
 * digits needs no locale), or 0 if s[0..n) is not -?[1-9][0-9]*. */
static int long_integer(const char *s, size_t n, double *out)
{
    size_t i = s[0] == '-';
    if (i >= n || s[i] < '1' || s[i] > '9')
        return 0;
    for (size_t k = i; k < n; k++)
        if (s[k] < '0' || s[k] > '9')
            return 0;
    char *copy = tc_malloc(n + 1);
    if (!copy)
        return 0;
    memcpy(copy, s, n);
    copy[n] = '\0';
    *out = strtod(copy, NULL);
    tc_free(copy);
    return 1;
}

/* Skips any value (for lists and for the skipped key's value). */
static int skip_value(scanner *sc, int depth)
{
    skip_ws(sc);
    if (sc->p >= sc->end)
        return fail(sc, "unexpected end");
    if (depth > MAX_DEPTH)
        return fail(sc, "nested too deeply");
    char c = *sc->p;
    if (c == '"')
        return string_token(sc, NULL);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        sc->p++;
        skip_ws(sc);
        if (sc->p < sc->end && *sc->p == close) {
            sc->p++;
            return 0;
        }
        for (;;) {
            if (c == '{') {
                skip_ws(sc);
                if (sc->p >= sc->end || *sc->p != '"')
                    return fail(sc, "expected a key");
                if (string_token(sc, NULL) < 0)
                    return -1;
                skip_ws(sc);
                if (sc->p >= sc->end || *sc->p != ':')
                    return fail(sc, "expected ':'");
                sc->p++;
            }
            if (skip_value(sc, depth + 1) < 0)
                return -1;
            skip_ws(sc);
            if (sc->p < sc->end && *sc->p == ',') {
                sc->p++;
                continue;
            }
            if (sc->p < sc->end && *sc->p == close) {
                sc->p++;
                return 0;
            }
            return fail(sc, "expected ',' or a closing bracket");
        }
    }
    /* a scalar: number, literal, NaN/Infinity */
    static const unsigned char ends_scalar[256] = {
        [','] = 1, ['}'] = 1, [']'] = 1, [' '] = 1, ['\n'] = 1, ['\r'] = 1, ['\t'] = 1};
    while (sc->p < sc->end && !ends_scalar[(unsigned char)*sc->p])
        sc->p++;
    return 0;
}

/* The loader's row template (row_template.c) skips lists and the skipped
 * key's value with this same skipper, so it accepts exactly what a scan does. */
const char *tc_scan_skip_value(const char *p, const char *end, int depth)
{
    tc_scan s;
    tc_error err;
    memset(&s, 0, sizeof s);
    s.text = p;
    tc_error_init(&err);
    scanner sc = {&s, p, end, &err};
    return skip_value(&sc, depth) < 0 ? NULL : sc.p;
}

static int add_field(scanner *sc, size_t key_off, size_t key_len, const char *v, size_t vlen,
                     int type, int is_int, double num)
{
    tc_scan *s = sc->s;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        tc_field *grown = tc_realloc(s->fields, cap * sizeof *grown);
        if (!grown)
            return tc_error_set(sc->err, TC_ERR_NOMEM, "out of memory");
        s->fields = grown;
        s->cap = cap;
    }
    tc_field *f = &s->fields[s->n++];
    f->key_off = key_off;
    f->key_len = key_len;
    f->val_off = (size_t)(v - s->text);
    f->val_len = vlen;
    f->type = type;
    f->is_int = is_int;
    f->num = num;
    return 0;
}

/* A scalar or list value for the field whose key is keys[key_off..]. */
static int leaf(scanner *sc, size_t key_off, size_t key_len, int depth)
{
    const char *start = sc->p;
    char c = *sc->p;
    if (c == '"') {
        if (string_token(sc, NULL) < 0)
            return -1;
        return add_field(sc, key_off, key_len, start, (size_t)(sc->p - start), TC_F_STRING, 0, 0);
    }
    if (c == '[') {
        if (skip_value(sc, depth) < 0)
            return -1;
        return add_field(sc, key_off, key_len, start, (size_t)(sc->p - start), TC_F_LIST, 0, 0);
    }
    if (skip_value(sc, depth) < 0)
        return -1;
    size_t n = (size_t)(sc->p - start);
    if (n == 4 && memcmp(start, "true", 4) == 0)
        return add_field(sc, key_off, key_len, start, n, TC_F_TRUE, 0, 1);
    if (n == 5 && memcmp(start, "false", 5) == 0)
        return add_field(sc, key_off, key_len, start, n, TC_F_FALSE, 0, 0);
    if (n == 4 && memcmp(start, "null", 4) == 0)
        return add_field(sc, key_off, key_len, start, n, TC_F_NULL, 0, 0);
    if (n == 3 && memcmp(start, "NaN", 3) == 0)
        return add_field(sc, key_off, key_len, start, n, TC_F_NUMBER, 0, NAN);
    if (n == 8 && memcmp(start, "Infinity", 8) == 0)
        return add_field(sc, key_off, key_len, start, n, TC_F_NUMBER, 0, INFINITY);
    if (n == 9 && memcmp(start, "-Infinity", 9) == 0)
        return add_field(sc, key_off, key_len, start, n, TC_F_NUMBER, 0, -INFINITY);
    double d;
    int is_int;
    if (n >= 64 && long_integer(start, n, &d))   /* 10**70: Python's json keeps it */
        return add_field(sc, key_off, key_len, start, n, TC_F_NUMBER, 1, d);
    if (n == 0 || n >= 64 || tc_fastnum(start, n, &d, &is_int) < 0)
        return fail(sc, "bad value");
    return add_field(sc, key_off, key_len, start, n, TC_F_NUMBER, is_int, d);
}

/* Scans the object at sc->p; keys are prefixed with keys[0..prefix_len). */
static int object(scanner *sc, size_t prefix_len, int depth, const char *skip_key)
{
    tc_scan *s = sc->s;
    sc->p++;   /* '{' */
    skip_ws(sc);
    if (sc->p < sc->end && *sc->p == '}') {
        sc->p++;
        return 0;   /* an empty dict leaves no column (Ray's flatten_dict) */
    }
    for (;;) {
        skip_ws(sc);
        if (sc->p >= sc->end || *sc->p != '"')
            return fail(sc, "expected a key");
        s->keys.len = prefix_len;
        if (depth > 0 && tc_buf_putc(&s->keys, '/') < 0)
            return tc_error_set(sc->err, TC_ERR_NOMEM, "out of memory");
        size_t key_start = s->keys.len;
        if (string_token(sc, &s->keys) < 0)
            return -1;
        size_t key_end = s->keys.len;
        skip_ws(sc);
        if (sc->p >= sc->end || *sc->p != ':')
            return fail(sc, "expected ':'");
        sc->p++;
        skip_ws(sc);
        if (sc->p >= sc->end)
            return fail(sc, "unexpected end");
        if (depth == 0 && skip_key && key_end - key_start == strlen(skip_key) &&
            memcmp(s->keys.data + key_start, skip_key, key_end - key_start) == 0) {
            const char *v = sc->p;
            if (skip_value(sc, depth + 1) < 0)
                return -1;
            s->skip_off = (long)(v - s->text);
            s->skip_len = (long)(sc->p - v);
        } else if (*sc->p == '{') {
            if (depth + 1 > MAX_DEPTH)
                return fail(sc, "nested too deeply");
            /* Keys of this level stay in the buffer as the prefix below. */
            size_t keep = key_end;
            /* Move the key so it starts at 0 of the prefix region: it already
             * follows the prefix, so the prefix for children is [0, keep). */
            if (object(sc, keep, depth + 1, NULL) < 0)
                return -1;
        } else {
            /* Copy the finished key to its own stable place: later keys reuse
             * the scratch region after the prefix. */
            size_t len = key_end;   /* prefix + key */
            size_t off = s->keys_store.len;
            if (tc_buf_append(&s->keys_store, s->keys.data, len) < 0)
                return tc_error_set(sc->err, TC_ERR_NOMEM, "out of memory");
            if (depth == 0 && len == 4 && memcmp(s->keys.data, "done", 4) == 0)
                s->done_index = (long)s->n;
            if (leaf(sc, off, len, depth + 1) < 0)
                return -1;
        }
        skip_ws(sc);
        if (sc->p < sc->end && *sc->p == ',') {
            sc->p++;
            continue;
        }
        if (sc->p < sc->end && *sc->p == '}') {
            sc->p++;
            return 0;
        }
        return fail(sc, "expected ',' or '}'");
    }
}

void tc_scan_init(tc_scan *s)
{
    memset(s, 0, sizeof *s);
    tc_buf_init(&s->keys);
    tc_buf_init(&s->keys_store);
}

void tc_scan_free(tc_scan *s)
{
    tc_free(s->fields);
    tc_buf_free(&s->keys);
    tc_buf_free(&s->keys_store);
    memset(s, 0, sizeof *s);
}

int tc_scan_result(tc_scan *s, const char *text, size_t len, const char *skip_key, tc_error *err)
{
    scanner sc = {s, text, text + len, err};
    s->text = text;
    s->len = len;
    s->n = 0;
    s->skip_off = s->skip_len = -1;
    s->done_index = -1;
    tc_buf_clear(&s->keys);
    tc_buf_clear(&s->keys_store);
    skip_ws(&sc);
    if (sc.p >= sc.end || *sc.p != '{')
        return tc_error_set(err, TC_ERR_TUNE, "a result must be a dict");
    if (object(&sc, 0, 0, skip_key) < 0)
        return -1;
    skip_ws(&sc);
    if (sc.p != sc.end)
        return fail(&sc, "trailing data");
    return 0;
}

long tc_scan_find(const tc_scan *s, const char *key, size_t key_len)
{
    for (size_t i = 0; i < s->n; i++) {
        const tc_field *f = &s->fields[i];
        if (f->key_len == key_len && memcmp(tc_scan_key(s, f), key, key_len) == 0)
            return (long)i;
    }
    return -1;
}

int tc_field_truthy(const tc_scan *s, const tc_field *f)
{
    switch (f->type) {
    case TC_F_TRUE: return 1;
    case TC_F_FALSE: case TC_F_NULL: return 0;
    case TC_F_NUMBER: return f->num != 0.0;   /* NaN is truthy, as in Python */
    case TC_F_STRING: return f->val_len > 2;
    case TC_F_LIST: {        /* "[]" or "[ ]" is an empty list */
        const char *v = s->text + f->val_off + 1, *end = s->text + f->val_off + f->val_len;
        while (v < end && (*v == ' ' || *v == '\n' || *v == '\t' || *v == '\r'))
            v++;
        return v < end && *v != ']';
    }
    }
    return 0;
}

/* Python's str() of the value, as csv.DictWriter writes it (spec §10.4). */
int tc_field_py_str(const tc_scan *s, const tc_field *f, tc_buf *out, tc_error *err)
{
    const char *v = s->text + f->val_off;
    switch (f->type) {
    case TC_F_TRUE: return tc_buf_puts(out, "True");
    case TC_F_FALSE: return tc_buf_puts(out, "False");
    case TC_F_NULL: return 0;
    case TC_F_NUMBER:
        if (isnan(f->num))
            return tc_buf_puts(out, "nan");
        if (isinf(f->num))
            return tc_buf_puts(out, f->num > 0 ? "inf" : "-inf");
        /* The worker writes numbers as Python's repr, which str() equals. */
        return tc_buf_append(out, v, f->val_len);
    case TC_F_STRING: {
        scanner sc = {(tc_scan *)s, v, v + f->val_len, err};
        return string_token(&sc, out);
    }
    case TC_F_LIST: {
        json_t *j = tc_json_loads(v, f->val_len, err);
        if (!j)
            return -1;
        int rc = tc_py_str(j, out);
        json_decref(j);
        return rc;
    }
    }
    return 0;
}
