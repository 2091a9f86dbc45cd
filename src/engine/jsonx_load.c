/* jsonx_load.c — reading JSON text the way Python's json.loads does
 * (spec §10.2): standard JSON plus the bare tokens NaN, Infinity and
 * -Infinity where a value may stand, which become the engine's non-finite
 * markers (jsonx.c), and integers of any size: one outside json_int_t
 * becomes a big-integer marker (jsonx.c) keeping its digits, as Python's
 * json keeps 2**63 exact.
 *
 * Two parsers, one result:
 *   - parse_fast builds the jansson values directly in one pass over the
 *     text. A result line arrives from a worker for every report, so this is
 *     the driver's hottest read; jansson's own reader costs several times
 *     more (per-byte callbacks and token buffers).
 *   - tc_json_loads_jansson rewrites the bare tokens into marker strings and
 *     hands the text to jansson. It runs whenever parse_fast declines, which
 *     it does on anything it is not sure of: every syntax error (so error
 *     messages are jansson's, with line and column mapped back to the
 *     caller's text), reals that overflow, lone surrogates, NUL in keys,
 *     reals longer than 63 characters, nesting past 2048. Integers that
 *     overflow json_int_t are rewritten into big-integer marker strings
 *     before jansson sees them, so both paths build the same marker.
 * parse_fast accepts exactly what jansson (with JSON_DECODE_ANY |
 * JSON_ALLOW_NUL) accepts and builds the same values: a test feeds both the
 * same texts, valid and broken, and compares.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tunec.h"

/* jansson's JSON_PARSER_MAX_DEPTH */
#define MAX_DEPTH 2048

/* ------------------------------------------------------------------------- */
/* The fast parser                                                            */
/* ------------------------------------------------------------------------- */

typedef struct parser {
    const unsigned char *p, *end;
    int depth;
    tc_buf text;   /* decoded text of a string with escapes */
} parser;

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

static int literal(parser *ps, const char *word, size_t n)
{
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return 0;
    ps->p += n;
    return 1;
}

/* Length of the valid UTF-8 sequence at s (jansson's utf8_check_first /
 * utf8_check_full: no overlong forms, no surrogates, nothing past U+10FFFF),
 * 0 if invalid. */
static size_t utf8_valid(const unsigned char *s, const unsigned char *end)
{
    unsigned c = s[0], cp;
    size_t n;
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0) {
        n = 2;
        cp = c & 0x1F;
    } else if (c < 0xF0) {
        n = 3;
        cp = c & 0x0F;
    } else if (c < 0xF5) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - s) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static int hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = s[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

static int put_utf8(tc_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return tc_buf_append(b, u, n);
}

/* The string at ps->p (on its opening quote). Sets *s and *n to the decoded text:
 * a pointer into the input when it has no escapes (the common case, no
 * copy), else into ps->text, valid until the next string. 0 / -1. */
static int parse_string(parser *ps, const char **s, size_t *n)
{
    const unsigned char *start = ++ps->p, *p = start;
    while (p < ps->end && *p != '"' && *p != '\\') {
        if (*p < 0x20)
            return -1;
        if (*p < 0x80) {
            p++;
        } else {
            size_t k = utf8_valid(p, ps->end);
            if (!k)
                return -1;
            p += k;
        }
    }
    if (p >= ps->end)
        return -1;
    if (*p == '"') {
        *s = (const char *)start;
        *n = (size_t)(p - start);
        ps->p = p + 1;
        return 0;
    }

    tc_buf *b = &ps->text;
    tc_buf_clear(b);
    if (tc_buf_append(b, (const char *)start, (size_t)(p - start)) < 0)
        return -1;
    while (p < ps->end && *p != '"') {
        if (*p == '\\') {
            if (ps->end - p < 2)
                return -1;
            unsigned c = p[1], cp;
            const char *simple = NULL;
            switch (c) {
            case '"': simple = "\""; break;
            case '\\': simple = "\\"; break;
            case '/': simple = "/"; break;
            case 'b': simple = "\b"; break;
            case 'f': simple = "\f"; break;
            case 'n': simple = "\n"; break;
            case 'r': simple = "\r"; break;
            case 't': simple = "\t"; break;
            case 'u':
                if (ps->end - p < 6 || !hex4(p + 2, &cp))
                    return -1;
                p += 6;
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return -1;  /* a lone low surrogate: jansson refuses it */
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (ps->end - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, &lo) ||
                        lo < 0xDC00 || lo > 0xDFFF)
                        return -1;
                    p += 6;
                    cp = 0x10000 + (((cp - 0xD800) << 10) | (lo - 0xDC00));
                }
                if (put_utf8(b, cp) < 0)
                    return -1;
                continue;
            default:
                return -1;
            }
            if (tc_buf_append(b, simple, 1) < 0)
                return -1;
            p += 2;
        } else if (*p < 0x20) {
            return -1;
        } else {
            size_t k = *p < 0x80 ? 1 : utf8_valid(p, ps->end);
            if (!k || tc_buf_append(b, (const char *)p, k) < 0)
                return -1;
            p += k;
        }
    }
    if (p >= ps->end)
        return -1;
    ps->p = p + 1;
    *s = b->data ? b->data : "";
    *n = b->len;
    return 0;
}

/* A number, by jansson's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 * An integer is a json_int_t, or a big-integer marker when it overflows, anything with a fraction
 * or exponent a real (overflow to infinity: decline; underflow reads as 0,
 * as in jansson and Python). */
static json_t *parse_number(parser *ps)
{
    const unsigned char *start = ps->p, *p = ps->p;
    int is_real = 0;
    if (p < ps->end && *p == '-')
        p++;
    if (p < ps->end && *p == '0') {
        p++;
        if (p < ps->end && *p >= '0' && *p <= '9')
            return NULL;
    } else if (p < ps->end && *p >= '1' && *p <= '9') {
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return NULL;
    }
    if (p < ps->end && *p == '.') {
        is_real = 1;
        p++;
        if (p >= ps->end || *p < '0' || *p > '9')
            return NULL;
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        is_real = 1;
        p++;
        if (p < ps->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= ps->end || *p < '0' || *p > '9')
            return NULL;
        while (p < ps->end && *p >= '0' && *p <= '9')
            p++;
    }
    char text[64];
    size_t n = (size_t)(p - start);
    if (!is_real && n > 20) {   /* 20 = strlen("-9223372036854775808") */
        ps->p = p;
        return tc_json_bigint((const char *)start, n);
    }
    if (n >= sizeof text)
        return NULL;
    memcpy(text, start, n);
    text[n] = '\0';
    ps->p = p;
    errno = 0;
    if (!is_real) {
        if (n <= 18) {
            /* at most 18 digits: no overflow, no strtoll (a snapshot reads
             * thousands of these) */
            const char *q = text + (text[0] == '-');
            long long v = 0;
            for (; *q; q++)
                v = v * 10 + (*q - '0');
            return json_integer((json_int_t)(text[0] == '-' ? -v : v));
        }
        long long v = strtoll(text, NULL, 10);
        if (errno == ERANGE)
            return tc_json_bigint((const char *)start, n);
        return json_integer((json_int_t)v);
    }
    /* strtod's double, exactly (fastnum.c), without its locale lookups and
     * at a fraction of its cost: the snapshot of a finished trial parses
     * its metric analysis, mostly reals. */
    double d;
    int is_int;
    if (tc_fastnum(text, n, &d, &is_int) < 0 || isinf(d))
        return NULL;   /* overflow to infinity: declined, as before */
    return json_real(d);
}

static json_t *parse_value(parser *ps);

static json_t *parse_object(parser *ps)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return obj;
    }
    for (;;) {
        const char *key;
        size_t key_len;
        char *key_copy = NULL;
        if (ps->p >= ps->end || *ps->p != '"' || parse_string(ps, &key, &key_len) < 0)
            goto error;
        if (memchr(key, '\0', key_len))
            goto error;  /* jansson: "NUL byte in object key not supported" */
        if (key == ps->text.data) {
            /* the value's strings reuse ps->text: keep the key */
            key_copy = tc_malloc(key_len + 1);
            if (!key_copy)
                goto error;
            memcpy(key_copy, key, key_len);
            key = key_copy;
        }
        skip_ws(ps);
        json_t *value = NULL;
        if (ps->p < ps->end && *ps->p == ':') {
            ps->p++;
            value = parse_value(ps);
        }
        /* setn_new steals value (NULL fails); the key is copied in */
        int rc = value ? json_object_setn_new_nocheck(obj, key, key_len, value) : -1;
        tc_free(key_copy);
        if (rc < 0)
            goto error;
        skip_ws(ps);
        if (ps->p >= ps->end)
            goto error;
        if (*ps->p == '}') {
            ps->p++;
            return obj;
        }
        if (*ps->p != ',')
            goto error;
        ps->p++;
        skip_ws(ps);
    }
error:
    json_decref(obj);
    return NULL;
}

static json_t *parse_array(parser *ps)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return arr;
    }
    for (;;) {
        json_t *value = parse_value(ps);
        if (!value || json_array_append_new(arr, value) < 0)
            goto error;
        skip_ws(ps);
        if (ps->p >= ps->end)
            goto error;
        if (*ps->p == ']') {
            ps->p++;
            return arr;
        }
        if (*ps->p != ',')
            goto error;
        ps->p++;
    }
error:
    json_decref(arr);
    return NULL;
}

static json_t *parse_scalar(parser *ps)
{
    const char *s;
    size_t n;
    switch (*ps->p) {
    case '"':
        if (parse_string(ps, &s, &n) < 0)
            return NULL;
        return json_stringn_nocheck(s, n);
    case 't':
        return literal(ps, "true", 4) ? json_true() : NULL;
    case 'f':
        return literal(ps, "false", 5) ? json_false() : NULL;
    case 'n':
        return literal(ps, "null", 4) ? json_null() : NULL;
    case 'N':
        return literal(ps, "NaN", 3) ? tc_json_real(NAN) : NULL;
    case 'I':
        return literal(ps, "Infinity", 8) ? tc_json_real(INFINITY) : NULL;
    case '-':
        if (literal(ps, "-Infinity", 9))
            return tc_json_real(-INFINITY);
        return parse_number(ps);
    default:
        return parse_number(ps);
    }
}

/* new, or NULL when the text is not something this parser is sure of.
 * Depth counts every value, containers and scalars, as jansson's does. */
static json_t *parse_value(parser *ps)
{
    json_t *v;
    skip_ws(ps);
    if (ps->p >= ps->end || ++ps->depth > MAX_DEPTH)
        return NULL;
    if (*ps->p == '{')
        v = parse_object(ps);
    else if (*ps->p == '[')
        v = parse_array(ps);
    else
        v = parse_scalar(ps);
    ps->depth--;
    return v;
}

/* new, or NULL (no error set: the caller falls back) */
static json_t *loads_fast(const char *text, size_t len)
{
    parser ps = { (const unsigned char *)text, (const unsigned char *)text + len, 0, { 0 } };
    json_t *v = parse_value(&ps);
    if (v) {
        skip_ws(&ps);
        if (ps.p != ps.end) {  /* "end of file expected" */
            json_decref(v);
            v = NULL;
        }
    }
    tc_buf_free(&ps.text);
    return v;
}

/* ------------------------------------------------------------------------- */
/* The careful path: bare tokens rewritten, then jansson                      */
/* ------------------------------------------------------------------------- */


/* One bare token rewritten into a marker string. */
typedef struct rewrite {
    size_t at;       /* offset in the original text */
    size_t old_len;  /* bytes of the bare token */
    int kind;        /* 1 NaN, 2 Infinity, 3 -Infinity, 4 big integer */
} rewrite;

static const char *const rewrite_text[4] = {
    NULL, "\"\\u001fNaN\"", "\"\\u001fInfinity\"", "\"\\u001f-Infinity\"",
};

/* A big integer keeps its digits: "\u001f" + digits, quoted. */
#define BIGINT_OPEN "\"\\u001f"

static size_t rewrite_len(const rewrite *rw)
{
    if (rw->kind == 4)
        return strlen(BIGINT_OPEN) + rw->old_len + 1;
    return strlen(rewrite_text[rw->kind]);
}

/* Bytes of an integer at text[i] that json_int_t cannot hold (what jansson
 * calls "too big integer"), 0 for anything else: a fitting integer, a real,
 * or text that is not a well-formed number (jansson reports it). */
static size_t overflowing_integer(const char *text, size_t len, size_t i)
{
    size_t j = i + (text[i] == '-');
    size_t first = j;
    while (j < len && text[j] >= '0' && text[j] <= '9')
        j++;
    if (j == first || (text[first] == '0' && j - first > 1))
        return 0;
    if (j < len && (text[j] == '.' || text[j] == 'e' || text[j] == 'E'))
        return 0;
    size_t n = j - i;
    if (n > 20)
        return n;
    char buf[24];
    memcpy(buf, text + i, n);
    buf[n] = '\0';
    errno = 0;
    (void)strtoll(buf, NULL, 10);
    return errno == ERANGE ? n : 0;
}

/* Returns the token kind at text[i] (a value position), 0 if none. */
static int bare_token(const char *text, size_t len, size_t i, size_t *tok_len)
{
    size_t left = len - i;
    if (left >= 3 && memcmp(text + i, "NaN", 3) == 0) {
        *tok_len = 3;
        return 1;
    }
    if (left >= 8 && memcmp(text + i, "Infinity", 8) == 0) {
        *tok_len = 8;
        return 2;
    }
    if (left >= 9 && memcmp(text + i, "-Infinity", 9) == 0) {
        *tok_len = 9;
        return 3;
    }
    return 0;
}

/* Finds the bare tokens that sit where a value may start (Python's scanner
 * accepts them only there: not as keys, not inside strings). A tiny state
 * machine over the container stack is enough, because jansson validates the
 * text afterwards; on anything odd the scan just stops rewriting and lets
 * jansson report the error. Fills *out (malloc'd, may stay NULL) and *n. */
static int find_bare_tokens(const char *text, size_t len, rewrite **out, size_t *n)
{
    char stack[MAX_DEPTH + 1];
    int depth = 0;
    int expect_value = 1;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        switch (c) {
        case ' ': case '\t': case '\n': case '\r':
            continue;
        case '"':
            for (i++; i < len && text[i] != '"'; i++)
                if (text[i] == '\\')
                    i++;
            expect_value = 0;
            continue;
        case '{': case '[':
            if (depth >= MAX_DEPTH)
                return 0;  /* jansson will refuse the depth */
            stack[depth++] = c;
            expect_value = c == '[';
            continue;
        case '}': case ']':
            if (depth > 0)
                depth--;
            expect_value = 0;
            continue;
        case ':':
            expect_value = 1;
            continue;
        case ',':
            expect_value = depth > 0 && stack[depth - 1] == '[';
            continue;
        default:
            break;
        }
        size_t tok_len = 0;
        int kind = expect_value ? bare_token(text, len, i, &tok_len) : 0;
        if (expect_value && !kind && (c == '-' || (c >= '0' && c <= '9')) &&
            (tok_len = overflowing_integer(text, len, i)) > 0)
            kind = 4;
        expect_value = 0;
        if (!kind)
            continue;  /* a number or literal: its remaining bytes are skipped harmlessly */
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            rewrite *p = tc_realloc(*out, ncap * sizeof *p);
            if (!p)
                return -1;
            *out = p;
            cap = ncap;
        }
        (*out)[(*n)++] = (rewrite){ i, tok_len, kind };
        i += tok_len - 1;
    }
    return 0;
}

/* Maps a byte offset of the rewritten text back to the original. */
static size_t original_offset(const rewrite *rw, size_t n, size_t pos)
{
    size_t shift = 0;  /* bytes the rewrites before pos added */
    for (size_t k = 0; k < n; k++) {
        size_t new_at = rw[k].at + shift;
        size_t new_len = rewrite_len(&rw[k]);
        if (pos >= new_at + new_len)
            shift += new_len - rw[k].old_len;
        else if (pos > new_at)
            return rw[k].at + (pos - new_at < rw[k].old_len ? pos - new_at : rw[k].old_len);
        else
            break;
    }
    return pos - shift;
}

/* jansson's line/column at byte offset pos: the line counts '\n's read, the
 * column counts the characters (UTF-8 lead bytes) read on that line. */
static void line_column(const char *text, size_t pos, int *line, int *column)
{
    int l = 1, col = 0;
    for (size_t i = 0; i < pos; i++) {
        if (text[i] == '\n') {
            l++;
            col = 0;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            col++;
        }
    }
    *line = l;
    *column = col;
}

/* The careful path: bare tokens rewritten into marker strings, then
 * jansson, whose error texts (with line and column in the caller's text) are
 * what the caller sees. New, or NULL + err; text borrowed. */
json_t *tc_json_loads_jansson(const char *text, size_t len, tc_error *err)
{
    rewrite *rw = NULL;
    size_t nrw = 0;
    char *copy = NULL;
    json_t *result = NULL;
    json_error_t jerr;
    /* JSON_ALLOW_NUL: Python accepts "\u0000" inside strings. */
    const size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;

    if (find_bare_tokens(text, len, &rw, &nrw) < 0) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory while parsing JSON");
        goto done;
    }
    if (nrw == 0) {
        result = json_loadb(text, len, flags, &jerr);
        if (!result)
            tc_error_set(err, TC_ERR_VALUE, "invalid JSON: %s: line %d column %d (char %d)",
                         jerr.text, jerr.line, jerr.column, jerr.position);
        goto done;
    }

    size_t extra = 0;
    for (size_t k = 0; k < nrw; k++)
        extra += rewrite_len(&rw[k]) - rw[k].old_len;
    copy = tc_malloc(len + extra + 1);
    if (!copy) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory while parsing JSON");
        goto done;
    }
    size_t from = 0, to = 0;
    for (size_t k = 0; k < nrw; k++) {
        memcpy(copy + to, text + from, rw[k].at - from);
        to += rw[k].at - from;
        size_t rl = rewrite_len(&rw[k]);
        if (rw[k].kind == 4) {
            size_t open = strlen(BIGINT_OPEN);
            memcpy(copy + to, BIGINT_OPEN, open);
            memcpy(copy + to + open, text + rw[k].at, rw[k].old_len);
            copy[to + rl - 1] = '"';
        } else {
            memcpy(copy + to, rewrite_text[rw[k].kind], rl);
        }
        to += rl;
        from = rw[k].at + rw[k].old_len;
    }
    memcpy(copy + to, text + from, len - from);
    to += len - from;
    copy[to] = '\0';

    result = json_loadb(copy, to, flags, &jerr);
    if (!result) {
        /* Report where the error is in the text the caller gave us. */
        size_t pos = original_offset(rw, nrw, (size_t)(jerr.position > 0 ? jerr.position : 0));
        int line, column;
        if (pos > len)
            pos = len;
        line_column(text, pos, &line, &column);
        /* jansson quotes the token near the error: for a rewritten one that
         * is the marker string; show it as the caller wrote it. */
        char *w = jerr.text;
        for (const char *r = jerr.text; *r; r++)
            if (*r != TC_NONFINITE_MARK[0])
                *w++ = *r;
        *w = '\0';
        tc_error_set(err, TC_ERR_VALUE, "invalid JSON: %s: line %d column %d (char %zu)",
                     jerr.text, line, column, pos);
    }
done:
    tc_free(rw);
    tc_free(copy);
    return result;
}

/* new, or NULL + err (TC_ERR_VALUE naming line and column). text need not
 * be NUL-terminated. */
json_t *tc_json_loads(const char *text, size_t len, tc_error *err)
{
    json_t *v = loads_fast(text, len);
    if (v)
        return v;
    return tc_json_loads_jansson(text, len, err);
}
