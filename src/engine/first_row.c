/* first_row.c — a trial table's column names from its first result.json
 * line without a jansson tree (spec §10.4): what result_table.c's
 * columns_from_line gets from tc_json_loads + tc_flatten, for the lines
 * where both are sure to agree.
 *
 * The names are progress.csv's header: the flattened leaves in tc_flatten's
 * breadth-first order, which is the text order stably sorted by depth (the
 * depth-first order restricted to one level is the breadth-first order).
 *
 * That holds only when the tree jansson would build has exactly the text's
 * shape and jansson would accept the line at all, so this path takes only
 * the plain lines results are made of and answers "not sure" (0) for any
 * other; the caller then parses the line as before. Plain means:
 *   - every byte printable ASCII and no backslash (no escapes, nothing
 *     jansson's UTF-8 or control-character checks could refuse);
 *   - numbers in JSON's strict grammar, finite, integers of at most 18
 *     digits; literals true/false/null/NaN/Infinity/-Infinity (the bare
 *     tokens tc_json_loads accepts);
 *   - no two leaves or objects with the same flattened name (no duplicate
 *     key, no "a/b" beside {"a": {"b": …}}: there jansson keeps one value
 *     and tc_flatten merges names);
 *   - lists and the skipped key's value held to the same rules inside.
 */
#include <stdlib.h>
#include <string.h>
#include "table_internal.h"

#define MAX_DEPTH 64   /* result_scan.c's nesting limit */

typedef struct name_ref {
    size_t off, len;   /* in the names buffer */
    const char *s;     /* set once the buffer stops moving */
    int depth;         /* -1: an object's own name (only for the repeat check) */
    size_t order;      /* text order, for a stable sort */
} name_ref;

typedef struct walk {
    const char *end;
    tc_buf names;
    name_ref *refs;
    size_t n, cap;
    int nomem;
} walk;

static const unsigned char is_ws[256] = {[' '] = 1, ['\n'] = 1, ['\r'] = 1, ['\t'] = 1};

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && is_ws[(unsigned char)*p])
        p++;
    return p;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* JSON's number grammar; the byte after it, or NULL. */
static const char *strict_number(const char *p, const char *end)
{
    const char *s = p;
    int is_int = 1;
    if (p < end && *p == '-')
        p++;
    if (p >= end || !is_digit(*p))
        return NULL;
    if (*p == '0')
        p++;
    else
        while (p < end && is_digit(*p))
            p++;
    size_t int_digits = (size_t)(p - s) - (*s == '-');
    if (p < end && *p == '.') {
        is_int = 0;
        if (++p >= end || !is_digit(*p))
            return NULL;
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_int = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p))
            return NULL;
        while (p < end && is_digit(*p))
            p++;
    }
    if (is_int)
        return int_digits <= 18 ? p : NULL;   /* wider: jansson's big-int rewrite */
    /* An overflowing real is an error to jansson. */
    char tmp[64];
    size_t n = (size_t)(p - s);
    if (n >= sizeof tmp)
        return NULL;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    double d = strtod(tmp, NULL);
    return d - d == 0 ? p : NULL;
}

static int is_word(const char *p, const char *end, const char *w, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, w, n) == 0;
}

/* A scalar or list; the byte after it, or NULL. */
static const char *plain_value(walk *w, const char *p, int depth);

static const char *plain_object(walk *w, const char *p, int depth, tc_buf *prefix,
                                const char *skip_key);

/* A string with no backslash: the byte after it. */
static const char *plain_string(const char *p, const char *end)
{
    const char *quote = memchr(p + 1, '"', (size_t)(end - p - 1));
    return quote ? quote + 1 : NULL;
}

static const char *plain_value(walk *w, const char *p, int depth)
{
    const char *end = w->end;
    if (p >= end || depth > MAX_DEPTH)
        return NULL;
    switch (*p) {
    case '"': return plain_string(p, end);
    case '{': return plain_object(w, p, depth, NULL, NULL);
    case '[':
        p = skip_ws(p + 1, end);
        if (p < end && *p == ']')
            return p + 1;
        for (;;) {
            if (!(p = plain_value(w, p, depth + 1)))
                return NULL;
            p = skip_ws(p, end);
            if (p < end && *p == ']')
                return p + 1;
            if (p >= end || *p != ',')
                return NULL;
            p = skip_ws(p + 1, end);
        }
    case 't': return is_word(p, end, "true", 4) ? p + 4 : NULL;
    case 'f': return is_word(p, end, "false", 5) ? p + 5 : NULL;
    case 'n': return is_word(p, end, "null", 4) ? p + 4 : NULL;
    case 'N': return is_word(p, end, "NaN", 3) ? p + 3 : NULL;
    case 'I': return is_word(p, end, "Infinity", 8) ? p + 8 : NULL;
    case '-':
        if (is_word(p, end, "-Infinity", 9))
            return p + 9;
        return strict_number(p, end);
    default: return strict_number(p, end);
    }
}

static int add_name(walk *w, const tc_buf *prefix, int depth)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        name_ref *refs = tc_realloc(w->refs, cap * sizeof *refs);
        if (!refs)
            return -1;
        w->refs = refs;
        w->cap = cap;
    }
    name_ref *r = &w->refs[w->n];
    r->off = w->names.len;
    r->len = prefix->len;
    r->depth = depth;
    r->order = w->n++;
    if (tc_buf_append(&w->names, prefix->data ? prefix->data : "", prefix->len) < 0 ||
        tc_buf_putc(&w->names, '\0') < 0)
        return -1;
    return 0;
}

/* The object at p ('{'). With a prefix, its leaves and objects are named
 * (the result's own objects); without, it is only checked (inside lists and
 * the skipped value). */
static const char *plain_object(walk *w, const char *p, int depth, tc_buf *prefix,
                                const char *skip_key)
{
    const char *end = w->end;
    if (depth > MAX_DEPTH)
        return NULL;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    size_t prefix_len = prefix ? prefix->len : 0;
    for (;;) {
        if (p >= end || *p != '"')
            return NULL;
        const char *key = p + 1;
        if (!(p = plain_string(p, end)))
            return NULL;
        size_t key_len = (size_t)(p - 1 - key);
        if (!key_len)
            return NULL;   /* "" names oddly once flattened: left to jansson */
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return NULL;
        p = skip_ws(p + 1, end);
        if (p >= end)
            return NULL;
        if (!prefix || (depth == 0 && skip_key && strlen(skip_key) == key_len &&
                        memcmp(key, skip_key, key_len) == 0)) {
            p = plain_value(w, p, depth + 1);
        } else {
            prefix->len = prefix_len;
            if ((prefix_len && tc_buf_putc(prefix, '/') < 0) ||
                tc_buf_append(prefix, key, key_len) < 0) {
                w->nomem = 1;
                return NULL;
            }
            int is_obj = *p == '{';
            if (add_name(w, prefix, is_obj ? -1 : depth) < 0) {
                w->nomem = 1;
                return NULL;
            }
            p = is_obj ? plain_object(w, p, depth + 1, prefix, NULL) : plain_value(w, p, depth + 1);
        }
        if (!p)
            return NULL;
        p = skip_ws(p, end);
        if (p < end && *p == '}')
            return p + 1;
        if (p >= end || *p != ',')
            return NULL;
        p = skip_ws(p + 1, end);
    }
}

static int by_name(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static int by_depth(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    if (x->depth != y->depth)
        return x->depth < y->depth ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

int tc_table_columns_plain(tc_trial_table *t, tc_table_builder *b, const char *line, size_t len,
                           const char *skip_key, tc_error *err)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        /* (a tab is a blank between tokens but refused inside a string:
         * rare enough to leave to jansson) */
        if (c < 0x20 || c > 0x7E || c == '\\')
            return 0;
    }
    walk w = {.end = line + len};
    tc_buf prefix;
    tc_buf_init(&prefix);
    tc_buf_init(&w.names);
    const char **names = NULL;
    int rc = 0;
    const char *p = skip_ws(line, w.end);
    if (p < w.end && *p == '{')
        p = plain_object(&w, p, 0, &prefix, skip_key);
    else
        p = NULL;
    if (w.nomem)
        goto nomem;
    if (!p || skip_ws(p, w.end) != w.end)
        goto done;
    /* Every name once: objects' names included, so a leaf "a/b" beside
     * {"a": {"b": …}} or a repeated key is caught. */
    for (size_t i = 0; i < w.n; i++)
        w.refs[i].s = w.names.data + w.refs[i].off;
    if (w.n > 1)
        qsort(w.refs, w.n, sizeof *w.refs, by_name);
    for (size_t i = 1; i < w.n; i++)
        if (by_name(&w.refs[i - 1], &w.refs[i]) == 0)
            goto done;
    if (w.n > 1)
        qsort(w.refs, w.n, sizeof *w.refs, by_depth);
    size_t n_leaves = 0;
    if (!(names = tc_calloc(w.n ? w.n : 1, sizeof *names)))
        goto nomem;
    for (size_t i = 0; i < w.n; i++)
        if (w.refs[i].depth >= 0)
            names[n_leaves++] = w.refs[i].s;
    rc = tc_table_set_columns(t, b, n_leaves, names, err) < 0 ? -1 : 1;
    goto done;
nomem:
    rc = tc_error_set(err, TC_ERR_NOMEM, "out of memory while loading result.json");
done:
    tc_free(names);
    tc_free(w.refs);
    tc_buf_free(&w.names);
    tc_buf_free(&prefix);
    return rc;
}
