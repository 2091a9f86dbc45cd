/* table_columns.c — the storage of a trial table (spec §10.2): typed columns
 * built cell by cell by the parsers of result_table.c.
 *
 * Every cell costs a double and a type byte, plus a 4-byte string id in
 * columns that hold strings or lists; no per-cell allocation, no jansson
 * value. A string is stored once per table (the pool interns it), so a
 * trial's hostname or trial_id is one entry however many rows repeat it, and
 * the extension makes one Python str of it.
 *
 * Invariants:
 *   - every column has n_rows entries in num[] and tag[]; num[r] is NaN
 *     unless tag[r] is INT or REAL; ref[r] is meaningful only for STRING and
 *     LIST cells (ref is NULL until the column has one); an integer outside
 *     json_int_t is a LIST cell of its digits (JSON text, read back exact);
 *   - INT cells are exact: num[r] is their double, and once a column holds
 *     one past 2**53 (where the double rounds) ival[] keeps them all;
 *   - a row is added to every column at once (tc_table_add_row), so a failed
 *     parse leaves a table that tc_trial_table_clear releases completely;
 *   - kinds and is_int are settled by tc_table_finish.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "table_internal.h"

static int nomem(tc_error *err, const char *what)
{
    return tc_error_set(err, TC_ERR_NOMEM, "out of memory while loading %s", what);
}

/* ------------------------------------------------------------------------- */
/* the string pool                                                            */
/* ------------------------------------------------------------------------- */

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void strpool_free(tc_strpool *p)
{
    tc_buf_free(&p->text);
    tc_free(p->off);
    tc_free(p->len);
    tc_free(p->slots);
    memset(p, 0, sizeof *p);
}

/* Appends s as a new id; -1 on ENOMEM. */
static long strpool_add(tc_strpool *p, const char *s, size_t n)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        size_t *off = tc_realloc(p->off, cap * sizeof *off);
        if (!off)
            return -1;
        p->off = off;
        size_t *len = tc_realloc(p->len, cap * sizeof *len);
        if (!len)
            return -1;
        p->len = len;
        p->cap = cap;
    }
    p->off[p->n] = p->text.len;
    p->len[p->n] = n;
    if (tc_buf_append(&p->text, s, n) < 0 || tc_buf_putc(&p->text, '\0') < 0)
        return -1;
    return (long)p->n++;
}

static int strpool_rehash(tc_strpool *p, size_t n_slots)
{
    uint32_t *slots = tc_calloc(n_slots, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t id = 0; id < p->n; id++) {
        size_t i = hash_bytes(tc_strpool_get(p, id), p->len[id]) & (n_slots - 1);
        while (slots[i])
            i = (i + 1) & (n_slots - 1);
        slots[i] = (uint32_t)id + 1;
    }
    tc_free(p->slots);
    p->slots = slots;
    p->n_slots = n_slots;
    return 0;
}

/* The id of s, added if new; -1 on ENOMEM. */
static long strpool_intern(tc_strpool *p, const char *s, size_t n)
{
    if ((p->n + 1) * 2 > p->n_slots && strpool_rehash(p, p->n_slots ? p->n_slots * 2 : 64) < 0)
        return -1;
    size_t i = hash_bytes(s, n) & (p->n_slots - 1);
    for (; p->slots[i]; i = (i + 1) & (p->n_slots - 1)) {
        uint32_t id = p->slots[i] - 1;
        if (p->len[id] == n && memcmp(tc_strpool_get(p, id), s, n) == 0)
            return id;
    }
    long id = strpool_add(p, s, n);
    if (id >= 0)
        p->slots[i] = (uint32_t)id + 1;
    return id;
}

/* ------------------------------------------------------------------------- */
/* tables                                                                     */
/* ------------------------------------------------------------------------- */

void tc_trial_table_init(tc_trial_table *t)
{
    memset(t, 0, sizeof *t);
    tc_buf_init(&t->strings.text);
}

void tc_trial_table_clear(tc_trial_table *t)
{
    for (size_t i = 0; i < t->n_cols; i++) {
        tc_free(t->cols[i].num);   /* tag[] with it */
        tc_free(t->cols[i].ref);
        tc_free(t->cols[i].ival);
    }
    tc_free(t->cols);
    tc_free(t->col_names);
    strpool_free(&t->strings);
    tc_free(t->logdir);
    json_decref(t->params);
    tc_trial_table_init(t);
}

const tc_column *tc_trial_table_find(const tc_trial_table *t, const char *name)
{
    for (size_t i = 0; i < t->n_cols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return &t->cols[i];
    return NULL;
}

tc_coltype tc_column_type(const tc_column *c, size_t n_rows)
{
    if ((c->kinds & ~TC_KINDS_NUMERIC) == 0)
        return c->is_int ? TC_COLTYPE_INT : TC_COLTYPE_FLOAT;
    if (n_rows > 0 && (c->kinds & ~TC_KINDS_BOOL) == 0)
        return TC_COLTYPE_BOOL;
    return TC_COLTYPE_OBJECT;
}

void tc_table_builder_free(tc_table_builder *b)
{
    tc_free(b->name_len);
    tc_free(b->slots);
    tc_free(b->hint);
    tc_free(b->plain_str);
    memset(b, 0, sizeof *b);
}

int tc_table_set_columns(tc_trial_table *t, tc_table_builder *b, size_t n,
                         const char *const *names, tc_error *err)
{
    size_t n_slots = 16, names_size = 1;
    while (n_slots < 2 * n)
        n_slots *= 2;
    t->cols = tc_calloc(n ? n : 1, sizeof *t->cols);
    b->name_len = tc_calloc(n ? n : 1, sizeof *b->name_len);
    b->slots = tc_calloc(n_slots, sizeof *b->slots);
    if (!t->cols || !b->name_len || !b->slots)
        return nomem(err, "column names");
    for (size_t i = 0; i < n; i++) {
        b->name_len[i] = strlen(names[i]);
        names_size += b->name_len[i] + 1;
    }
    /* The names in one block: a table has tens of columns, a load thousands
     * of tables, and one allocation each was a measurable part of it. */
    if (!(t->col_names = tc_malloc(names_size)))
        return nomem(err, "column names");
    b->n_slots = n_slots;
    t->n_cols = n;
    char *name = t->col_names;
    for (size_t i = 0; i < n; i++) {
        memcpy(name, names[i], b->name_len[i] + 1);
        t->cols[i].name = name;
        name += b->name_len[i] + 1;
        size_t s = hash_bytes(names[i], b->name_len[i]) & (n_slots - 1);
        while (b->slots[s])
            s = (s + 1) & (n_slots - 1);
        b->slots[s] = (uint32_t)i + 1;
    }
    return 0;
}

long tc_table_find_column(const tc_trial_table *t, tc_table_builder *b, size_t pos,
                          const char *key, size_t key_len)
{
    /* Rows of one trial nearly always repeat the same keys in the same
     * order: the column this position matched last time is checked first. */
    if (pos < b->n_hint) {
        size_t c = b->hint[pos];
        if (c < t->n_cols && b->name_len[c] == key_len &&
            memcmp(t->cols[c].name, key, key_len) == 0)
            return (long)c;
    }
    if (!b->n_slots)
        return -1;
    size_t s = hash_bytes(key, key_len) & (b->n_slots - 1);
    for (; b->slots[s]; s = (s + 1) & (b->n_slots - 1)) {
        size_t c = b->slots[s] - 1;
        if (b->name_len[c] == key_len && memcmp(t->cols[c].name, key, key_len) == 0) {
            if (pos >= b->n_hint) {
                size_t n = pos + 16;
                size_t *hint = tc_realloc(b->hint, n * sizeof *hint);
                if (!hint)
                    return (long)c;   /* only a hint: the lookup still worked */
                for (size_t i = b->n_hint; i < n; i++)
                    hint[i] = (size_t)-1;
                b->hint = hint;
                b->n_hint = n;
            }
            b->hint[pos] = c;
            return (long)c;
        }
    }
    return -1;
}

int tc_table_add_row(tc_trial_table *t, tc_table_builder *b, tc_error *err)
{
    if (t->n_rows == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : b->rows_hint > 16 ? b->rows_hint : 16;
        for (size_t i = 0; i < t->n_cols; i++) {
            tc_column *c = &t->cols[i];
            /* num[] and tag[] share one allocation (tag[] after num[]):
             * half the allocations of a table. */
            unsigned char *blk = tc_realloc(c->num, cap * (sizeof *c->num + 1));
            if (!blk)
                return nomem(err, "a column");
            if (t->n_rows)   /* the tags sat after the old capacity's numbers */
                memmove(blk + cap * sizeof *c->num, blk + b->cap * sizeof *c->num, t->n_rows);
            c->num = (double *)(void *)blk;
            c->tag = blk + cap * sizeof *c->num;
            if (c->ref) {
                uint32_t *ref = tc_realloc(c->ref, cap * sizeof *ref);
                if (!ref)
                    return nomem(err, "a column");
                c->ref = ref;
            }
            if (c->ival) {
                int64_t *ival = tc_realloc(c->ival, cap * sizeof *ival);
                if (!ival)
                    return nomem(err, "a column");
                c->ival = ival;
            }
        }
        b->cap = cap;
    }
    size_t r = t->n_rows++;
    for (size_t i = 0; i < t->n_cols; i++) {
        t->cols[i].num[r] = NAN;
        t->cols[i].tag[r] = TC_CELL_MISSING;
    }
    return 0;
}

void tc_table_put_real(tc_trial_table *t, size_t col, double v)
{
    tc_column *c = &t->cols[col];
    size_t r = t->n_rows - 1;
    c->num[r] = v;
    c->tag[r] = TC_CELL_REAL;
}

/* 2**53: every integer of smaller magnitude is exact as a double. */
#define EXACT_DOUBLE_INT 9007199254740992LL

int tc_table_put_int(tc_trial_table *t, tc_table_builder *b, size_t col, int64_t v)
{
    tc_column *c = &t->cols[col];
    size_t r = t->n_rows - 1;
    c->num[r] = (double)v;
    c->tag[r] = TC_CELL_INT;
    if (!c->ival && (v > EXACT_DOUBLE_INT || v < -EXACT_DOUBLE_INT)) {
        /* The first integer a double would round: from here on the column
         * keeps every INT cell exactly (the earlier ones were exact). */
        if (!(c->ival = tc_calloc(b->cap, sizeof *c->ival)))
            return -1;
        for (size_t k = 0; k < r; k++)
            if (c->tag[k] == TC_CELL_INT)
                c->ival[k] = (int64_t)c->num[k];
    }
    if (c->ival)
        c->ival[r] = v;
    return 0;
}

int tc_table_put_int_text(tc_trial_table *t, tc_table_builder *b, size_t col, const char *s,
                          size_t n, double d)
{
    if (d > -(double)EXACT_DOUBLE_INT && d < (double)EXACT_DOUBLE_INT)
        return tc_table_put_int(t, b, col, (int64_t)d);
    /* Past 2**53 the double may have rounded: the digits say. Outside
     * int64 (2**63, 10**30) the cell keeps its text as a LIST cell, read
     * back as an exact Python int. */
    char tmp[24];
    if (n <= 20) {   /* strlen("-9223372036854775808") */
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        errno = 0;
        long long v = strtoll(tmp, NULL, 10);
        if (errno != ERANGE)
            return tc_table_put_int(t, b, col, (int64_t)v);
    }
    return tc_table_put_text(t, b, col, TC_CELL_LIST, s, n);
}

void tc_table_put_tag(tc_trial_table *t, size_t col, int tag)
{
    tc_column *c = &t->cols[col];
    size_t r = t->n_rows - 1;
    c->num[r] = NAN;
    c->tag[r] = (unsigned char)tag;
}

int tc_table_put_string_id(tc_trial_table *t, tc_table_builder *b, size_t col, uint32_t id)
{
    tc_column *c = &t->cols[col];
    size_t r = t->n_rows - 1;
    if (!c->ref && !(c->ref = tc_calloc(b->cap, sizeof *c->ref)))
        return -1;
    c->num[r] = NAN;
    c->tag[r] = TC_CELL_STRING;
    c->ref[r] = id;
    return 0;
}

int tc_table_put_text(tc_trial_table *t, tc_table_builder *b, size_t col, int tag,
                      const char *s, size_t n)
{
    tc_column *c = &t->cols[col];
    size_t r = t->n_rows - 1;
    if (!c->ref && !(c->ref = tc_calloc(b->cap, sizeof *c->ref)))
        return -1;
    /* A column's string nearly always repeats the row above's (trial_id,
     * hostname, experiment_tag): one compare instead of a hash lookup. */
    if (tag == TC_CELL_STRING && r > 0 && c->tag[r - 1] == TC_CELL_STRING) {
        uint32_t prev = c->ref[r - 1];
        if (t->strings.len[prev] == n && memcmp(tc_strpool_get(&t->strings, prev), s, n) == 0) {
            c->num[r] = NAN;
            c->tag[r] = TC_CELL_STRING;
            c->ref[r] = prev;
            return 0;
        }
    }
    long id = tag == TC_CELL_STRING ? strpool_intern(&t->strings, s, n)
                                    : strpool_add(&t->strings, s, n);
    if (id < 0 || id > (long)UINT32_MAX - 1)
        return -1;
    c->num[r] = NAN;
    c->tag[r] = (unsigned char)tag;
    c->ref[r] = (uint32_t)id;
    return 0;
}

int tc_table_put_json(tc_trial_table *t, tc_table_builder *b, size_t col, const json_t *v)
{
    double d;
    if (!v)
        return 0;   /* the row starts missing */
    if (tc_json_is_bigint(v))   /* its digits, read back exactly (result_table.c) */
        return tc_table_put_text(t, b, col, TC_CELL_LIST, json_string_value(v) + 1,
                                 json_string_length(v) - 1);
    if (json_is_integer(v))
        return tc_table_put_int(t, b, col, (int64_t)json_integer_value(v));
    if (tc_json_number(v, &d)) {
        tc_table_put_real(t, col, d);
        return 0;
    }
    if (json_is_string(v))
        return tc_table_put_text(t, b, col, TC_CELL_STRING, json_string_value(v),
                                 json_string_length(v));
    tc_table_put_tag(t, col, json_is_true(v) ? TC_CELL_TRUE : json_is_false(v) ? TC_CELL_FALSE
                                                                                : TC_CELL_NULL);
    return 0;
}

void tc_table_finish(tc_trial_table *t)
{
    for (size_t i = 0; i < t->n_cols; i++) {
        tc_column *c = &t->cols[i];
        unsigned kinds = 0;
        for (size_t r = 0; r < t->n_rows; r++)
            kinds |= TC_CELL_BIT(c->tag[r]);
        c->kinds = kinds;
        /* pandas reads a header-only column as object: not int */
        c->is_int = t->n_rows > 0 && kinds == TC_CELL_BIT(TC_CELL_INT);
    }
}

/* ------------------------------------------------------------------------- */
/* cells as JSON (tests, slow paths)                                          */
/* ------------------------------------------------------------------------- */

/* Length of the UTF-8 sequence at s (at most n bytes), 0 if it is invalid:
 * overlong forms, surrogates and code points past U+10FFFF included, the
 * same rules jansson applies to strings. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned int cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

json_t *tc_json_utf8_string(const char *s, size_t n)
{
    json_t *str = json_stringn(s, n);
    if (str)
        return str;
    tc_buf fixed;
    tc_buf_init(&fixed);
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq_len((const unsigned char *)s + i, n - i);
        int rc = k ? tc_buf_append(&fixed, s + i, k) : tc_buf_append(&fixed, "\xEF\xBF\xBD", 3);
        if (rc < 0) {
            tc_buf_free(&fixed);
            return NULL;
        }
        i += k ? k : 1;
    }
    str = json_stringn(fixed.data ? fixed.data : "", fixed.len);
    tc_buf_free(&fixed);
    return str;
}

json_t *tc_column_cell_json(const tc_trial_table *t, const tc_column *c, size_t row)
{
    const tc_strpool *p = &t->strings;
    switch (c->tag[row]) {
    case TC_CELL_INT: return json_integer((json_int_t)tc_column_int(c, row));
    case TC_CELL_REAL: return tc_json_real(c->num[row]);
    case TC_CELL_TRUE: return json_true();
    case TC_CELL_FALSE: return json_false();
    case TC_CELL_STRING:
        return tc_json_utf8_string(tc_strpool_get(p, c->ref[row]), p->len[c->ref[row]]);
    case TC_CELL_LIST: {
        tc_error err;
        tc_error_init(&err);
        return tc_json_loads(tc_strpool_get(p, c->ref[row]), p->len[c->ref[row]], &err);
    }
    default: return json_null();
    }
}
