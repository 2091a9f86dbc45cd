/* log_csv.c — progress.csv rows (spec §10.4, §17.4), byte for byte what
 * Ray's CSVLogger writes through csv.DictWriter:
 *
 *   - each result is copied without "config" and flattened with "/"
 *     (flatten.c order); the first result's keys become the header, forever;
 *     keys that appear later are dropped, missing ones are empty cells;
 *   - cells are str(value) (tc_py_str: True/False, float repr, lists as
 *     "[1, 'a']"), None is empty; QUOTE_MINIMAL quoting: a cell holding the
 *     delimiter, the quote char, \r or \n is quoted with inner quotes doubled;
 *     a row of one empty cell is written '""' (csv's empty-record rule);
 *   - rows end in "\r\n".
 *
 * Resume: given the header line of an existing file, no header is written
 * and that header's fields are the columns. (Ray 0.8 took the columns from
 * the first new result instead, which misaligns the file when keys differ;
 * with equal keys both write the same bytes.)
 *
 * Invariants: after the header is fixed, a row allocates nothing once the
 * scratch buffers have grown (the result is walked, not copied); on failure
 * `out` is left as it was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tunec.h"

struct tc_csv {
    int have_fields;        /* the columns are known */
    int header_pending;     /* the header row is still to be written */
    size_t nfields;
    char **fields;          /* malloc'd names */
    size_t *field_len;
    size_t *next_same;      /* next column with the same name, or SIZE_MAX */
    size_t *slots;          /* hash: column index + 1, 0 = empty */
    size_t nslots;          /* power of two, > 2 * nfields */
    const json_t **cells;   /* per row, borrowed from the result */
    long *cell_fields;      /* per row of a scanned result: field index or -1 */
    tc_buf key;             /* scratch for flattened keys */
    tc_buf cell;            /* scratch for one formatted cell */
};


/* First column named key, or SIZE_MAX. */
static size_t find_field(const tc_csv *csv, const char *key, size_t n)
{
    if (!csv->nslots)
        return SIZE_MAX;
    size_t mask = csv->nslots - 1;
    for (size_t i = tc_hash_bytes(key, n) & mask; csv->slots[i]; i = (i + 1) & mask) {
        size_t f = csv->slots[i] - 1;
        if (csv->field_len[f] == n && memcmp(csv->fields[f], key, n) == 0)
            return f;
    }
    return SIZE_MAX;
}

/* Appends a column. allow_dup: a resumed header may name a column twice
 * (DictWriter then writes the value into both). */
static int add_field(tc_csv *csv, const char *key, size_t n, int allow_dup)
{
    size_t first = find_field(csv, key, n);
    if (first != SIZE_MAX && !allow_dup)
        return 0;
    size_t i = csv->nfields;
    char **fields = tc_realloc(csv->fields, (i + 1) * sizeof *fields);
    if (!fields)
        return -1;
    csv->fields = fields;
    size_t *lens = tc_realloc(csv->field_len, (i + 1) * sizeof *lens);
    if (!lens)
        return -1;
    csv->field_len = lens;
    size_t *next = tc_realloc(csv->next_same, (i + 1) * sizeof *next);
    if (!next)
        return -1;
    csv->next_same = next;
    char *name = tc_malloc(n + 1);
    if (!name)
        return -1;
    if (n)   /* an empty key may come with a NULL pointer: memcpy(_, NULL, 0) is UB */
        memcpy(name, key, n);
    name[n] = '\0';
    csv->fields[i] = name;
    csv->field_len[i] = n;
    csv->next_same[i] = SIZE_MAX;
    csv->nfields = i + 1;
    if (first != SIZE_MAX) {
        size_t f = first;
        while (csv->next_same[f] != SIZE_MAX)
            f = csv->next_same[f];
        csv->next_same[f] = i;
        return 0;
    }
    if (2 * csv->nfields >= csv->nslots) {
        size_t nslots = csv->nslots ? csv->nslots * 2 : 64;
        size_t *slots = tc_calloc(nslots, sizeof *slots);
        if (!slots)
            return -1;
        for (size_t f = 0; f < csv->nfields; f++) {
            if (f != i && find_field(csv, csv->fields[f], csv->field_len[f]) != f)
                continue;  /* a duplicate: reached through next_same */
            size_t k = tc_hash_bytes(csv->fields[f], csv->field_len[f]) & (nslots - 1);
            while (slots[k])
                k = (k + 1) & (nslots - 1);
            slots[k] = f + 1;
        }
        tc_free(csv->slots);
        csv->slots = slots;
        csv->nslots = nslots;
        return 0;
    }
    size_t k = tc_hash_bytes(key, n) & (csv->nslots - 1);
    while (csv->slots[k])
        k = (k + 1) & (csv->nslots - 1);
    csv->slots[k] = i + 1;
    return 0;
}

/* Parses one CSV record (Python's default dialect reader, non-strict) into
 * columns: quotes are special at the start of a field, "" inside quotes is a
 * quote, text after a closing quote is kept; the record ends at an unquoted
 * \r or \n. */
static int parse_header(tc_csv *csv, const char *line)
{
    tc_buf field;
    int rc = -1;
    tc_buf_init(&field);
    const char *p = line;
    for (;;) {
        tc_buf_clear(&field);
        if (tc_buf_reserve(&field, 0) < 0)
            goto done;
        int quoted = 0;
        if (*p == '"') {
            quoted = 1;
            p++;
        }
        for (; *p; p++) {
            if (quoted) {
                if (*p == '"') {
                    if (p[1] == '"') {
                        p++;
                    } else {
                        quoted = 0;
                        continue;
                    }
                }
            } else if (*p == ',' || *p == '\r' || *p == '\n') {
                break;
            }
            if (tc_buf_putc(&field, *p) < 0)
                goto done;
        }
        if (add_field(csv, field.data, field.len, 1) < 0)
            goto done;
        if (*p != ',')
            break;
        p++;
    }
    rc = 0;
done:
    tc_buf_free(&field);
    return rc;
}

/* new; existing_header borrowed */
tc_csv *tc_csv_new(const char *existing_header)
{
    tc_csv *csv = tc_calloc(1, sizeof *csv);
    if (!csv)
        return NULL;
    tc_buf_init(&csv->key);
    tc_buf_init(&csv->cell);
    /* An empty existing file has no header line: treat it as new. */
    if (existing_header && existing_header[0] != '\0' && existing_header[0] != '\r' &&
        existing_header[0] != '\n') {
        if (parse_header(csv, existing_header) < 0)
            goto error;
        csv->have_fields = 1;
        csv->cells = tc_calloc(csv->nfields ? csv->nfields : 1, sizeof *csv->cells);
        if (!csv->cells)
            goto error;
    } else {
        csv->header_pending = 1;
    }
    return csv;
error:
    tc_csv_free(csv);
    return NULL;
}

void tc_csv_free(tc_csv *csv)
{
    if (!csv)
        return;
    for (size_t i = 0; i < csv->nfields; i++)
        tc_free(csv->fields[i]);
    tc_free(csv->fields);
    tc_free(csv->field_len);
    tc_free(csv->next_same);
    tc_free(csv->slots);
    tc_free(csv->cells);
    tc_free(csv->cell_fields);
    tc_buf_free(&csv->key);
    tc_buf_free(&csv->cell);
    tc_free(csv);
}

static int collect_field(void *ctx, const char *key, size_t key_len, json_t *value)
{
    return add_field(ctx, key, key_len, 0);
}

static int collect_cell(void *ctx, const char *key, size_t key_len, json_t *value)
{
    tc_csv *csv = ctx;
    for (size_t f = find_field(csv, key, key_len); f != SIZE_MAX; f = csv->next_same[f])
        csv->cells[f] = value;  /* a later equal key replaces, as dict.update does */
    return 0;
}

/* Appends text as one QUOTE_MINIMAL cell. */
static int put_cell(const char *text, size_t n, size_t ncols, tc_buf *out)
{
    if (n == 0)
        return ncols == 1 ? tc_buf_append(out, "\"\"", 2) : 0;
    size_t quotes = 0;
    int needs = 0;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (c == '"') {
            quotes++;
            needs = 1;
        } else if (c == ',' || c == '\r' || c == '\n') {
            needs = 1;
        }
    }
    if (!needs)
        return tc_buf_append(out, text, n);
    if (tc_buf_reserve(out, n + quotes + 2) < 0)
        return -1;
    char *p = out->data + out->len;
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        *p++ = text[i];
        if (text[i] == '"')
            *p++ = '"';
    }
    *p++ = '"';
    *p = '\0';
    out->len = (size_t)(p - out->data);
    return 0;
}

/* One cell from a value (borrowed, NULL when missing). Numbers need no
 * quoting check: their text has no comma, quote or line break. */
static int put_value(tc_csv *csv, const json_t *v, tc_buf *out)
{
    if (!v || json_is_null(v))
        return put_cell("", 0, csv->nfields, out);
    switch (json_typeof(v)) {
    case JSON_INTEGER:
    case JSON_REAL:
    case JSON_TRUE:
    case JSON_FALSE:
        return tc_py_str(v, out);
    case JSON_STRING:
        /* a non-finite marker prints as nan / inf / -inf, a big integer
         * as its digits */
        if (tc_json_is_number_marker(v))
            return tc_py_str(v, out);
        return put_cell(json_string_value(v), json_string_length(v), csv->nfields, out);
    default:
        tc_buf_clear(&csv->cell);
        if (tc_py_str(v, &csv->cell) < 0)
            return -1;
        return put_cell(csv->cell.data, csv->cell.len, csv->nfields, out);
    }
}

static int put_header(const tc_csv *csv, tc_buf *out)
{
    for (size_t f = 0; f < csv->nfields; f++) {
        if ((f > 0 && tc_buf_putc(out, ',') < 0) ||
            put_cell(csv->fields[f], csv->field_len[f], csv->nfields, out) < 0)
            return -1;
    }
    return tc_buf_append(out, "\r\n", 2);
}

/* result borrowed */
int tc_csv_row(tc_csv *csv, const json_t *result, tc_buf *out)
{
    size_t mark = out->len;
    if (!json_is_object(result))
        return -1;
    if (!csv->have_fields) {
        if (tc_flatten_walk(result, "/", "config", &csv->key, collect_field, csv) < 0)
            goto error;
        csv->cells = tc_calloc(csv->nfields ? csv->nfields : 1, sizeof *csv->cells);
        if (!csv->cells)
            goto error;
        csv->have_fields = 1;
    }
    if (csv->header_pending) {
        if (put_header(csv, out) < 0)
            goto error;
    }
    memset(csv->cells, 0, csv->nfields * sizeof *csv->cells);
    if (tc_flatten_walk(result, "/", "config", &csv->key, collect_cell, csv) < 0)
        goto error;
    for (size_t f = 0; f < csv->nfields; f++) {
        if ((f > 0 && tc_buf_putc(out, ',') < 0) || put_value(csv, csv->cells[f], out) < 0)
            goto error;
    }
    if (tc_buf_append(out, "\r\n", 2) < 0)
        goto error;
    csv->header_pending = 0;
    return 0;
error:
    out->len = mark;
    out->failed = 0;   /* back to the complete text it held */
    if (out->data)
        out->data[mark] = '\0';
    return -1;
}

/* The same row from a scanned result (result_scan.c): the driver's hot path.
 * Numbers are copied as the worker wrote them (Python's repr, which is what
 * str() gives); only strings and lists are re-formatted. */
int tc_csv_row_scan(tc_csv *csv, const tc_scan *s, tc_buf *out, tc_error *err)
{
    size_t mark = out->len;
    if (!csv->have_fields) {
        for (size_t i = 0; i < s->n; i++)
            if (add_field(csv, tc_scan_key(s, &s->fields[i]), s->fields[i].key_len, 0) < 0)
                goto nomem;
        csv->have_fields = 1;
    }
    if (!csv->cell_fields) {
        csv->cell_fields = tc_malloc((csv->nfields ? csv->nfields : 1) * sizeof *csv->cell_fields);
        if (!csv->cell_fields)
            goto nomem;
    }
    if (csv->header_pending && put_header(csv, out) < 0)
        goto nomem;
    for (size_t f = 0; f < csv->nfields; f++)
        csv->cell_fields[f] = -1;
    for (size_t i = 0; i < s->n; i++) {
        const tc_field *fl = &s->fields[i];
        size_t f = find_field(csv, tc_scan_key(s, fl), fl->key_len);
        for (; f != SIZE_MAX; f = csv->next_same[f])
            csv->cell_fields[f] = (long)i;
    }
    for (size_t f = 0; f < csv->nfields; f++) {
        if (f > 0 && tc_buf_putc(out, ',') < 0)
            goto nomem;
        long i = csv->cell_fields[f];
        const tc_field *fl = i >= 0 ? &s->fields[i] : NULL;
        if (!fl || fl->type == TC_F_NULL) {
            if (put_cell("", 0, csv->nfields, out) < 0)
                goto nomem;
        } else if (fl->type == TC_F_NUMBER || fl->type == TC_F_TRUE || fl->type == TC_F_FALSE) {
            if (tc_field_py_str(s, fl, out, err) < 0)
                goto fail;
        } else {
            tc_buf_clear(&csv->cell);
            if (tc_field_py_str(s, fl, &csv->cell, err) < 0)
                goto fail;
            if (put_cell(csv->cell.data ? csv->cell.data : "", csv->cell.len, csv->nfields,
                         out) < 0)
                goto nomem;
        }
    }
    if (tc_buf_append(out, "\r\n", 2) < 0)
        goto nomem;
    csv->header_pending = 0;
    return 0;
nomem:
    tc_error_set(err, TC_ERR_NOMEM, "out of memory");
fail:
    out->len = mark;
    out->failed = 0;   /* back to the complete text it held */
    if (out->data)
        out->data[mark] = '\0';
    return -1;
}
