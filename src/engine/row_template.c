/* row_template.c — the analysis loader's fast path for result.json lines:
 * a trial's rows nearly always repeat the first row's keys, in the same
 * order, with the same nesting. The first row's key sequence becomes a
 * template; each later line is read by matching its key texts against the
 * template byte for byte and writing each value straight into its column --
 * no key is copied, hashed or looked up, no field record is made.
 *
 * A line the template does not describe (other keys, another order, a key
 * or string with an escape, a value of another shape, anything invalid) is
 * "no match": nothing of it stays in the table, and the caller reads it with
 * the general scanner (result_scan.c + result_table.c's row_from_scan). So a
 * line matched here gives exactly the row the general path would give:
 *   - keys are compared as raw text, and a key holding '\' never makes a
 *     template (its decoded form is what names the column);
 *   - values are classified with the scanner's own rules (the same scalar
 *     ends, literals, tc_fastnum, big integers kept as text, lists and the
 *     skipped key's value passed over by tc_scan_skip_value);
 *   - a string value with an escape is no match (the general path decodes).
 */
#include <math.h>
#include <string.h>
#include "table_internal.h"

#define MAX_DEPTH 64   /* result_scan.c's nesting limit */

enum { OP_LEAF, OP_SKIP, OP_OPEN, OP_CLOSE };

struct tc_row_template {
    struct op {
        size_t key_off, key_len;   /* raw key text in keys (OP_CLOSE: none) */
        long col;                  /* OP_LEAF: the column, -1 = not kept */
        int kind;
    } *ops;
    size_t n, cap;
    tc_buf keys;
};

/* JSON's blanks, as result_scan.c's skip_ws has them. */
static const unsigned char is_ws[256] = {[' '] = 1, ['\n'] = 1, ['\r'] = 1, ['\t'] = 1};

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && is_ws[(unsigned char)*p])
        p++;
    return p;
}

void tc_row_template_free(tc_row_template *tp)
{
    if (!tp)
        return;
    tc_free(tp->ops);
    tc_buf_free(&tp->keys);
    tc_free(tp);
}

static int add_op(tc_row_template *tp, int kind, const char *key, size_t key_len, long col)
{
    if (tp->n == tp->cap) {
        size_t cap = tp->cap ? tp->cap * 2 : 32;
        struct op *ops = tc_realloc(tp->ops, cap * sizeof *ops);
        if (!ops)
            return -1;
        tp->ops = ops;
        tp->cap = cap;
    }
    struct op *o = &tp->ops[tp->n++];
    o->kind = kind;
    o->key_off = tp->keys.len;
    o->key_len = key_len;
    o->col = col;
    return key_len ? tc_buf_append(&tp->keys, key, key_len) : 0;
}

/* Records the object at *pp (at '{'), its flattened names under prefix.
 * 1 = recorded, 0 = no template possible, -1 = ENOMEM. */
static int build_object(tc_row_template *tp, const tc_trial_table *t, tc_table_builder *b,
                        const char **pp, const char *end, tc_buf *prefix, int depth,
                        const char *skip_key, size_t *leaves)
{
    const char *p = skip_ws(*pp + 1, end);
    size_t prefix_len = prefix->len;
    if (p < end && *p == '}') {
        *pp = p + 1;
        return 1;
    }
    for (;;) {
        if (p >= end || *p != '"')
            return 0;
        const char *key = p + 1;
        const char *quote = memchr(key, '"', (size_t)(end - key));
        if (!quote || memchr(key, '\\', (size_t)(quote - key)))
            return 0;
        size_t key_len = (size_t)(quote - key);
        p = skip_ws(quote + 1, end);
        if (p >= end || *p != ':')
            return 0;
        p = skip_ws(p + 1, end);
        if (p >= end)
            return 0;
        prefix->len = prefix_len;
        if ((depth > 0 && tc_buf_putc(prefix, '/') < 0) || tc_buf_append(prefix, key, key_len) < 0)
            return -1;
        if (depth == 0 && skip_key && strlen(skip_key) == key_len &&
            memcmp(key, skip_key, key_len) == 0) {
            if (add_op(tp, OP_SKIP, key, key_len, -1) < 0)
                return -1;
            if (!(p = tc_scan_skip_value(p, end, depth + 1)))
                return 0;
        } else if (*p == '{') {
            if (depth + 1 > MAX_DEPTH)
                return 0;
            if (add_op(tp, OP_OPEN, key, key_len, -1) < 0)
                return -1;
            int rc = build_object(tp, t, b, &p, end, prefix, depth + 1, NULL, leaves);
            if (rc <= 0)
                return rc;
            if (add_op(tp, OP_CLOSE, NULL, 0, -1) < 0)
                return -1;
        } else {
            long col = tc_table_find_column(t, b, (*leaves)++, prefix->data, prefix->len);
            if (add_op(tp, OP_LEAF, key, key_len, col) < 0)
                return -1;
            if (!(p = tc_scan_skip_value(p, end, depth + 1)))
                return 0;
        }
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p = skip_ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') {
            *pp = p + 1;
            return 1;
        }
        return 0;
    }
}

int tc_row_template_new(tc_row_template **out, const tc_trial_table *t, tc_table_builder *b,
                        const char *line, size_t len, const char *skip_key)
{
    tc_buf prefix;
    size_t leaves = 0;
    const char *p = skip_ws(line, line + len), *end = line + len;
    *out = NULL;
    if (p >= end || *p != '{')
        return 0;
    tc_row_template *tp = tc_calloc(1, sizeof *tp);
    if (!tp)
        return -1;
    tc_buf_init(&tp->keys);
    tc_buf_init(&prefix);
    int rc = build_object(tp, t, b, &p, end, &prefix, 0, skip_key, &leaves);
    tc_buf_free(&prefix);
    if (rc == 1 && skip_ws(p, end) != end)
        rc = 0;
    if (rc == 1)
        *out = tp;
    else
        tc_row_template_free(tp);
    return rc < 0 ? -1 : rc;
}

/* ------------------------------------------------------------------------- */
/* matching                                                                   */
/* ------------------------------------------------------------------------- */

/* Ends of a scalar, as result_scan.c's skip_value has them. */
static const unsigned char ends_scalar[256] = {
    [','] = 1, ['}'] = 1, [']'] = 1, [' '] = 1, ['\n'] = 1, ['\r'] = 1, ['\t'] = 1};

/* Reads the value at p into (last row, col): the byte after it, NULL for no
 * match; *nomem set on ENOMEM. */
static const char *leaf_value(tc_trial_table *t, tc_table_builder *b, long col, const char *p,
                              const char *end, int depth, int *nomem)
{
    char c = *p;
    if (c == '"') {
        const char *s = p + 1;
        const char *quote = memchr(s, '"', (size_t)(end - s));
        if (!quote || memchr(s, '\\', (size_t)(quote - s)))
            return NULL;
        if (col >= 0 &&
            tc_table_put_text(t, b, (size_t)col, TC_CELL_STRING, s, (size_t)(quote - s)) < 0) {
            *nomem = 1;
            return NULL;
        }
        return quote + 1;
    }
    if (c == '[') {
        const char *after = tc_scan_skip_value(p, end, depth);
        if (!after)
            return NULL;
        if (col >= 0 &&
            tc_table_put_text(t, b, (size_t)col, TC_CELL_LIST, p, (size_t)(after - p)) < 0) {
            *nomem = 1;
            return NULL;
        }
        return after;
    }
    if (c == '{')
        return NULL;
    const char *s = p;
    double d;
    int is_int;
    if ((c >= '0' && c <= '9') || (c == '-' && p + 1 < end && p[1] != 'I')) {
        /* The number and where it ends in one pass; the scanner's token is
         * the same when an end of scalar follows it. */
        size_t n;
        if (tc_fastnum_prefix(s, (size_t)(end - s), &d, &is_int, &n) < 0 || n >= 64)
            return NULL;   /* not a number, or a long integer: the general path */
        p = s + n;
        if (p < end && !ends_scalar[(unsigned char)*p])
            return NULL;
        if (col < 0)
            return p;
        if (!is_int) {
            tc_table_put_real(t, (size_t)col, d);
        } else if (tc_table_put_int_text(t, b, (size_t)col, s, n, d) < 0) {
            *nomem = 1;
            return NULL;
        }
        return p;
    }
    while (p < end && !ends_scalar[(unsigned char)*p])
        p++;
    size_t n = (size_t)(p - s);
    int tag;
    if (n == 4 && memcmp(s, "true", 4) == 0)
        tag = TC_CELL_TRUE;
    else if (n == 5 && memcmp(s, "false", 5) == 0)
        tag = TC_CELL_FALSE;
    else if (n == 4 && memcmp(s, "null", 4) == 0)
        tag = TC_CELL_NULL;
    else if (n == 3 && memcmp(s, "NaN", 3) == 0)
        d = NAN, tag = -1;
    else if (n == 8 && memcmp(s, "Infinity", 8) == 0)
        d = INFINITY, tag = -1;
    else if (n == 9 && memcmp(s, "-Infinity", 9) == 0)
        d = -INFINITY, tag = -1;
    else
        return NULL;   /* a long integer, or not a value: the general path */
    if (col >= 0) {
        if (tag < 0)
            tc_table_put_real(t, (size_t)col, d);
        else
            tc_table_put_tag(t, (size_t)col, tag);
    }
    return p;
}

int tc_row_template_read(const tc_row_template *tp, tc_trial_table *t, tc_table_builder *b,
                         const char *line, size_t len, tc_error *err)
{
    const char *end = line + len, *p = skip_ws(line, end);
    const char *keys = tp->keys.data ? tp->keys.data : "";   /* NULL when every key is "" */
    int depth = 0, first = 1, nomem = 0;
    if (p >= end || *p != '{')
        return 0;
    p++;
    if (tc_table_add_row(t, b, err) < 0)
        return -1;
    for (size_t i = 0; i < tp->n; i++) {
        const struct op *o = &tp->ops[i];
        p = skip_ws(p, end);
        if (o->kind == OP_CLOSE) {
            if (p >= end || *p != '}')
                goto no_match;
            p++;
            depth--;
            first = 0;
            continue;
        }
        if (!first) {
            if (p >= end || *p != ',')
                goto no_match;
            p = skip_ws(p + 1, end);
        }
        first = 0;
        /* "key" then ':' */
        if ((size_t)(end - p) < o->key_len + 2 || *p != '"' || p[o->key_len + 1] != '"' ||
            memcmp(p + 1, keys + o->key_off, o->key_len) != 0)
            goto no_match;
        p = skip_ws(p + o->key_len + 2, end);
        if (p >= end || *p != ':')
            goto no_match;
        p = skip_ws(p + 1, end);
        if (p >= end)
            goto no_match;
        switch (o->kind) {
        case OP_OPEN:
            if (*p != '{')
                goto no_match;
            p++;
            depth++;
            first = 1;
            break;
        case OP_SKIP:
            if (!(p = tc_scan_skip_value(p, end, depth + 1)))
                goto no_match;
            break;
        default:
            if (!(p = leaf_value(t, b, o->col, p, end, depth + 1, &nomem)))
                goto no_match;
        }
    }
    p = skip_ws(p, end);
    if (p >= end || *p != '}' || skip_ws(p + 1, end) != end)
        goto no_match;
    return 1;
no_match:
    /* The row goes; strings it pooled stay unused. */
    t->n_rows--;
    if (nomem)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory while loading result.json");
    return 0;
}
