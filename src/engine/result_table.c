/* result_table.c — one trial's results as columns (spec §10.2, §10.4): the
 * parsers behind the analysis loader, for result.json lines and for
 * progress.csv. Text in, table out; no I/O (analysis.c reads the files).
 *
 * A trial table holds the columns progress.csv would have (§10.4): the result
 * with "config" dropped, dicts flattened with "/", the column set and order
 * fixed by the first row's keys, later keys dropped, missing keys as empty
 * cells. result.json rows are typed by JSON; progress.csv cells are typed the
 * way pandas.read_csv reads them (with one deliberate difference, see
 * csv_cell). So a tunec or a Ray directory gives the same columns from
 * either file.
 *
 * result.json lines are read with the hot path's scanner (result_scan.c):
 * one pass per line, cells typed as they are met and written straight into
 * the columns (table_columns.c), no tree per row. The first row also names
 * the columns in progress.csv's header order: from its text (first_row.c)
 * when it is plain, else from a jansson tree and tc_flatten.
 *
 * Invariants:
 *   - the columns are those of table_columns.c (typed cells, pooled strings);
 *   - bad input never fails a parse: a torn or invalid line is skipped (and
 *     counted when it is not the last one). Only ENOMEM returns -1.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "table_internal.h"

#define RESULT_FILE "result.json"
#define PROGRESS_FILE "progress.csv"

static int nomem(tc_error *err, const char *what)
{
    return tc_error_set(err, TC_ERR_NOMEM, "out of memory while loading %s", what);
}

/* ------------------------------------------------------------------------- */
/* result.json                                                                */
/* ------------------------------------------------------------------------- */

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f' || ch == '\v';
}

/* Column names of the first row, in the order progress.csv's header has
 * (tc_flatten's breadth-first order, which the scan's text order is not):
 * the one row parsed into a tree. 1 = set, 0 = the line is not an object
 * after all, -1 = ENOMEM. */
static int columns_from_line(tc_trial_table *t, tc_table_builder *b, const char *line,
                             size_t len, tc_error *err)
{
    tc_error perr;
    tc_error_init(&perr);
    json_t *row = tc_json_loads(line, len, &perr);
    if (!row)
        return perr.code == TC_ERR_NOMEM ? nomem(err, RESULT_FILE) : 0;
    if (!json_is_object(row)) {
        json_decref(row);
        return 0;
    }
    json_t *flat = tc_flatten(row, "/", "config");
    json_decref(row);
    if (!flat)
        return nomem(err, RESULT_FILE);
    size_t n = json_object_size(flat), i = 0;
    const char **names = tc_calloc(n ? n : 1, sizeof *names);
    int rc = -1;
    if (!names) {
        nomem(err, RESULT_FILE);
    } else {
        const char *key;
        json_t *value;
        json_object_foreach(flat, key, value)
            names[i++] = key;
        rc = tc_table_set_columns(t, b, n, names, err) < 0 ? -1 : 1;
    }
    tc_free(names);
    json_decref(flat);
    return rc;
}

/* Stores the scanned fields of one line as a new row. -1 on ENOMEM. */
static int row_from_scan(tc_trial_table *t, tc_table_builder *b, const tc_scan *s,
                         tc_buf *scratch, tc_error *err)
{
    if (tc_table_add_row(t, b, err) < 0)
        return -1;
    for (size_t i = 0; i < s->n; i++) {
        const tc_field *f = &s->fields[i];
        long col = tc_table_find_column(t, b, i, tc_scan_key(s, f), f->key_len);
        if (col < 0)
            continue;   /* a key the first row did not have */
        const char *v = s->text + f->val_off;
        int rc = 0;
        switch (f->type) {
        case TC_F_NUMBER:
            if (f->is_int)
                rc = tc_table_put_int_text(t, b, (size_t)col, v, f->val_len, f->num);
            else
                tc_table_put_real(t, (size_t)col, f->num);
            break;
        case TC_F_TRUE: tc_table_put_tag(t, (size_t)col, TC_CELL_TRUE); break;
        case TC_F_FALSE: tc_table_put_tag(t, (size_t)col, TC_CELL_FALSE); break;
        case TC_F_NULL: tc_table_put_tag(t, (size_t)col, TC_CELL_NULL); break;
        case TC_F_LIST:
            rc = tc_table_put_text(t, b, (size_t)col, TC_CELL_LIST, v, f->val_len);
            break;
        case TC_F_STRING:
            /* Without escapes the text between the quotes is the string. */
            if (!memchr(v + 1, '\\', f->val_len - 2)) {
                rc = tc_table_put_text(t, b, (size_t)col, TC_CELL_STRING, v + 1, f->val_len - 2);
            } else {
                tc_buf_clear(scratch);
                if (tc_field_py_str(s, f, scratch, err) < 0)
                    return -1;
                rc = tc_table_put_text(t, b, (size_t)col, TC_CELL_STRING,
                                       scratch->data ? scratch->data : "", scratch->len);
            }
            break;
        }
        if (rc < 0)
            return nomem(err, RESULT_FILE);
    }
    return 0;
}

int tc_table_from_json_lines(tc_trial_table *t, const char *text, size_t len, tc_error *err)
{
    tc_table_builder b = {0};
    tc_scan scan;
    tc_buf scratch;
    tc_row_template *tpl = NULL;
    size_t tpl_misses = 0;
    int rc = -1, have_columns = 0;
    tc_scan_init(&scan);
    tc_buf_init(&scratch);

    /* The line holding the last non-blank byte is "the last line": only it
     * may be a write in progress, so only it is skipped without counting. */
    size_t content_end = len;
    while (content_end > 0 && is_space(text[content_end - 1]))
        content_end--;
    /* One row per line: the columns are allocated once, not regrown. */
    for (const char *p = text; (p = memchr(p, '\n', (size_t)(text + content_end - p))) != NULL; p++)
        b.rows_hint++;
    b.rows_hint++;

    size_t pos = 0;
    while (pos < content_end) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t a = pos, z = end;
        pos = end + 1;
        while (a < z && is_space(text[a]))
            a++;
        while (z > a && is_space(text[z - 1]))
            z--;
        if (a == z)
            continue;

        if (tpl) {
            int got = tc_row_template_read(tpl, t, &b, text + a, z - a, err);
            if (got < 0)
                goto done;
            if (got)
                continue;
            /* Rows that keep changing shape: the template only costs. */
            if (++tpl_misses > 16 && tpl_misses * 4 > t->n_rows) {
                tc_row_template_free(tpl);
                tpl = NULL;
            }
        }
        tc_error perr;
        tc_error_init(&perr);
        int ok = tc_scan_result(&scan, text + a, z - a, "config", &perr) == 0;
        if (!ok && perr.code == TC_ERR_NOMEM) {
            nomem(err, RESULT_FILE);
            goto done;
        }
        if (ok && !have_columns) {
            int got = tc_table_columns_plain(t, &b, text + a, z - a, "config", err);
            if (got == 0)
                got = columns_from_line(t, &b, text + a, z - a, err);
            if (got < 0)
                goto done;
            ok = have_columns = got;
            if (ok && tc_row_template_new(&tpl, t, &b, text + a, z - a, "config") < 0) {
                nomem(err, RESULT_FILE);
                goto done;
            }
        }
        if (!ok) {
            if (z >= content_end)
                t->torn_tail = 1;
            else
                t->n_bad_lines++;
            continue;
        }
        if (row_from_scan(t, &b, &scan, &scratch, err) < 0)
            goto done;
    }
    if (!have_columns && tc_table_set_columns(t, &b, 0, NULL, err) < 0)
        goto done;
    tc_table_finish(t);
    t->source = TC_SOURCE_RESULT_JSON;
    rc = 0;
done:
    tc_row_template_free(tpl);
    tc_table_builder_free(&b);
    tc_scan_free(&scan);
    tc_buf_free(&scratch);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* progress.csv                                                               */
/* ------------------------------------------------------------------------- */

/* One CSV record: the field texts, each NUL-terminated, packed in `text`. */
typedef struct csv_record {
    tc_buf text;
    size_t *off;
    size_t n, cap;
    int blank;       /* the line was empty: Python's csv yields [], pandas skips it */
    int terminated;  /* it ended in a line break (not at the end of the data) */
} csv_record;

static int record_add_field(csv_record *rec)
{
    if (rec->n == rec->cap) {
        size_t cap = rec->cap ? rec->cap * 2 : 32;
        size_t *off = tc_realloc(rec->off, cap * sizeof *off);
        if (!off)
            return -1;
        rec->off = off;
        rec->cap = cap;
    }
    rec->off[rec->n++] = rec->text.len;
    return 0;
}

static const char *record_field(const csv_record *rec, size_t i, size_t *len)
{
    size_t start = rec->off[i];
    size_t stop = i + 1 < rec->n ? rec->off[i + 1] - 1 : rec->text.len - 1;
    *len = stop - start;
    return rec->text.data + start;
}

/* Reads the record at *pos, the way Python's csv module (default dialect,
 * strict=False) does: "," separates, '"' quotes, "" inside quotes is one
 * quote, line breaks inside quotes belong to the field, a record ends at
 * \r\n, \n or \r. A quoted field cut off by the end of the data ends there.
 * Returns 1 (record read), 0 (no data left), -1 (ENOMEM). */
static int csv_next(const char *text, size_t len, size_t *pos, csv_record *rec)
{
    size_t p = *pos;
    if (p >= len)
        return 0;
    tc_buf_clear(&rec->text);
    rec->n = 0;
    rec->terminated = 0;
    if (record_add_field(rec) < 0)
        return -1;
    int quoted = 0, any = 0;
    while (p < len) {
        char ch = text[p];
        if (quoted) {
            if (ch == '"') {
                if (p + 1 < len && text[p + 1] == '"') {
                    if (tc_buf_putc(&rec->text, '"') < 0)
                        return -1;
                    p += 2;
                    continue;
                }
                quoted = 0;
                p++;
                continue;
            }
            if (tc_buf_putc(&rec->text, ch) < 0)
                return -1;
            p++;
            continue;
        }
        if (ch == '\r' || ch == '\n') {
            p += (ch == '\r' && p + 1 < len && text[p + 1] == '\n') ? 2 : 1;
            rec->terminated = 1;
            break;
        }
        any = 1;
        if (ch == ',') {
            if (tc_buf_putc(&rec->text, '\0') < 0 || record_add_field(rec) < 0)
                return -1;
        } else if (ch == '"' && rec->text.len == rec->off[rec->n - 1]) {
            quoted = 1;   /* only at a field's start; elsewhere it is literal */
        } else if (tc_buf_putc(&rec->text, ch) < 0) {
            return -1;
        }
        p++;
    }
    if (tc_buf_putc(&rec->text, '\0') < 0)
        return -1;
    rec->blank = !any;
    *pos = p;
    return 1;
}

static void csv_record_free(csv_record *rec)
{
    tc_buf_free(&rec->text);
    tc_free(rec->off);
}

/* pandas.read_csv's default missing-value strings (STR_NA_VALUES). The NaN
 * spellings become a NaN number, the others a missing cell; pandas turns both
 * into NaN, but a NaN in a column of strings stays a float either way. */
static const char *const csv_nan_words[] = {"NaN", "-NaN", "nan", "-nan", NULL};
static const char *const csv_na_words[] = {
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "1.#IND", "1.#QNAN", "<NA>",
    "N/A", "NA", "NULL", "None", "n/a", "null", NULL};

static int in_words(const char *s, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (strcmp(s, words[i]) == 0)
            return 1;
    return 0;
}

/* [+-]?digits */
static int is_int_text(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    if (i == n)
        return 0;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* [+-]?(digits[.digits*]|.digits)([eE][+-]?digits)?  or  [+-]?inf(inity)? */
static int is_float_text(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    if ((n - i == 3 && strncasecmp(s + i, "inf", 3) == 0) ||
        (n - i == 8 && strncasecmp(s + i, "infinity", 8) == 0))
        return 1;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (!digits)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp_digits = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, exp_digits++;
        if (!exp_digits)
            return 0;
    }
    return i == n;
}

/* The value of one CSV cell (NUL-terminated s of length n), typed the way
 * pandas.read_csv types it: empty or an NA word is missing (*out = NULL),
 * True/False are booleans, integer and float text are numbers, anything else
 * is a string — except that zero-padded digits stay a string, where pandas
 * would read "00001" as 1. Returns 0, or -1 on ENOMEM. */
static int csv_cell(const char *s, size_t n, json_t **out)
{
    *out = NULL;
    if (n == 0 || in_words(s, csv_na_words))
        return 0;
    if (in_words(s, csv_nan_words)) {
        *out = tc_json_real(NAN);
        return *out ? 0 : -1;
    }
    if (!strcmp(s, "True") || !strcmp(s, "TRUE") || !strcmp(s, "true")) {
        *out = json_true();
        return 0;
    }
    if (!strcmp(s, "False") || !strcmp(s, "FALSE") || !strcmp(s, "false")) {
        *out = json_false();
        return 0;
    }
    /* Surrounding blanks do not stop pandas from reading a number. */
    size_t a = 0, z = n;
    while (a < z && s[a] == ' ')
        a++;
    while (z > a && s[z - 1] == ' ')
        z--;
    /* Python's str() of a number never starts with a 0 followed by a digit,
     * so "00003" was a string (a zero-padded trial id), whatever pandas
     * would make of it. */
    size_t lead = a + (a < z && (s[a] == '+' || s[a] == '-'));
    if (z - lead >= 2 && s[lead] == '0' && s[lead + 1] >= '0' && s[lead + 1] <= '9') {
        *out = tc_json_utf8_string(s, n);
        return *out ? 0 : -1;
    }
    if (is_int_text(s + a, z - a)) {
        errno = 0;
        long long v = strtoll(s + a, NULL, 10);
        if (errno != ERANGE) {
            *out = json_integer((json_int_t)v);
            return *out ? 0 : -1;
        }
        /* too wide for int64: pandas falls back to float (or uint64) */
    }
    if (is_float_text(s + a, z - a)) {
        *out = tc_json_real(strtod(s + a, NULL));
        return *out ? 0 : -1;
    }
    *out = tc_json_utf8_string(s, n);
    return *out ? 0 : -1;
}

/* Header names as pandas would give them: a repeated name gets ".1", ".2"…
 * (csv.DictWriter never repeats one, a hand-edited file might). */
static int csv_header(tc_trial_table *t, tc_table_builder *b, const csv_record *rec, tc_error *err)
{
    int rc = -1;
    char **names = tc_calloc(rec->n, sizeof *names);
    if (!names)
        return nomem(err, PROGRESS_FILE);
    for (size_t i = 0; i < rec->n; i++) {
        size_t len;
        const char *field = record_field(rec, i, &len);
        /* Column names are C strings: a NUL byte in a hand-made header ends
         * the name, and the repeat check below must compare the same text
         * (comparing past it once looped forever on "a\0b,a\0c"). */
        len = strnlen(field, len);
        tc_buf name;
        tc_buf_init(&name);
        if (tc_buf_append(&name, field, len) < 0)
            goto done;
        for (long dup = 1;; dup++) {
            size_t j = 0;
            while (j < i && strcmp(names[j], name.data) != 0)
                j++;
            if (j == i)
                break;
            tc_buf_clear(&name);
            if (tc_buf_append(&name, field, len) < 0 || tc_buf_printf(&name, ".%ld", dup) < 0) {
                tc_buf_free(&name);
                goto done;
            }
        }
        names[i] = name.data;   /* taken over */
    }
    rc = tc_table_set_columns(t, b, rec->n, (const char *const *)names, err);
done:
    if (rc < 0)
        nomem(err, PROGRESS_FILE);
    for (size_t i = 0; i < rec->n; i++)
        tc_free(names[i]);
    tc_free(names);
    return rc;
}

int tc_table_from_csv(tc_trial_table *t, const char *text, size_t len, tc_error *err)
{
    tc_table_builder b = {0};
    csv_record rec = {0};
    json_t **cells = NULL;
    int rc = -1, have_header = 0, got;
    size_t pos = 0;
    tc_buf_init(&rec.text);

    while ((got = csv_next(text, len, &pos, &rec)) == 1) {
        if (rec.blank)
            continue;
        if (!have_header) {
            if (csv_header(t, &b, &rec, err) < 0)
                goto done;
            if (!(cells = tc_calloc(t->n_cols ? t->n_cols : 1, sizeof *cells))) {
                nomem(err, PROGRESS_FILE);
                goto done;
            }
            have_header = 1;
            continue;
        }
        /* pandas refuses a row longer than the header; one cut short at the
         * very end of the data is a write in progress. */
        int last = pos >= len;
        if (rec.n > t->n_cols || (last && !rec.terminated && rec.n < t->n_cols)) {
            if (last)
                t->torn_tail = 1;
            else
                t->n_bad_lines++;
            continue;
        }
        for (size_t i = 0; i < rec.n; i++) {
            size_t flen;
            const char *field = record_field(&rec, i, &flen);
            if (csv_cell(field, flen, &cells[i]) < 0) {
                nomem(err, PROGRESS_FILE);
                goto done;
            }
        }
        if (tc_table_add_row(t, &b, err) < 0)
            goto done;
        for (size_t i = 0; i < rec.n; i++) {
            int put = tc_table_put_json(t, &b, i, cells[i]);
            json_decref(cells[i]);
            cells[i] = NULL;
            if (put < 0) {
                nomem(err, PROGRESS_FILE);
                goto done;
            }
        }
    }
    if (got < 0) {
        nomem(err, PROGRESS_FILE);
        goto done;
    }
    if (!have_header) {
        /* An empty file: pandas raises EmptyDataError, Ray skips the trial. */
        t->source = TC_SOURCE_NONE;
        rc = 0;
        goto done;
    }
    tc_table_finish(t);
    t->source = TC_SOURCE_PROGRESS_CSV;
    rc = 0;
done:
    if (cells)
        for (size_t i = 0; i < t->n_cols; i++)
            json_decref(cells[i]);
    tc_free(cells);
    tc_table_builder_free(&b);
    csv_record_free(&rec);
    return rc;
}
