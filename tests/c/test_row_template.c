/* test_row_template.c — the loader's row template (row_template.c): a line
 * it reads must give exactly the row the general scanner gives, and a line
 * it does not describe must fall back to the general path.
 *
 * 1. Same line twice: in "L\nL\nL" the first row is always read by the
 *    general path (it makes the template), the later ones by the template
 *    when it matches; every cell of rows 1 and 2 must equal row 0's.
 * 2. Table rows: a first line, then lines of other shapes, and the expected
 *    cells of every row (rendered as in test_analysis.c). */
#include <math.h>
#include <string.h>
#include "tunec.h"
#include "tc_test.h"

static int same_cell(const tc_trial_table *t, const tc_column *c, size_t a, size_t b)
{
    if (c->tag[a] != c->tag[b])
        return 0;
    if (c->tag[a] == TC_CELL_STRING || c->tag[a] == TC_CELL_LIST) {
        const tc_strpool *p = &t->strings;
        return p->len[c->ref[a]] == p->len[c->ref[b]] &&
               memcmp(tc_strpool_get(p, c->ref[a]), tc_strpool_get(p, c->ref[b]),
                      p->len[c->ref[a]]) == 0;
    }
    if (isnan(c->num[a]))
        return isnan(c->num[b]);
    return c->num[a] == c->num[b] && signbit(c->num[a]) == signbit(c->num[b]);
}

static const char *const same_lines[] = {
    "{\"loss\": 0.23254870756338475, \"acc\": 0.8837256462183076, \"step\": 0, "
    "\"done\": false, \"timesteps_total\": null, \"training_iteration\": 1, "
    "\"experiment_id\": \"c4843c629f0f2e3d22aaeb0d6c615c2e\", \"date\": \"2026-12-05_12-31-14\", "
    "\"timestamp\": 1796473874, \"time_this_iter_s\": 0.0006528230005642399, "
    "\"config\": {\"x\": 0.23254870756338475, \"nested\": {\"a\": [1, 2]}}, "
    "\"trial_id\": \"00000\", \"experiment_tag\": \"0_x=0.23255\"}",
    /* nesting, lists, the literals, signs and exponents */
    "{\"a\": {\"b\": 1, \"c\": {\"d\": -2.5e-3}}, \"l\": [1, {\"x\": [2]}, \"s\"], "
    "\"t\": true, \"f\": false, \"n\": null, \"nan\": NaN, \"inf\": Infinity, "
    "\"ninf\": -Infinity, \"neg\": -0.0, \"e\": 1E+300, \"z\": 0}",
    /* numbers: long digit runs (the eight-digit blocks), integers past 2**63
     * (kept as text), past 19 significant digits, leading zeros after '.' */
    "{\"a\": 12345678901234567, \"b\": 0.000000001234567890123, "
    "\"c\": 9223372036854775808, \"d\": -9223372036854775809, "
    "\"e\": 123456789012345678901234567890, \"f\": 1.0000000000000002, "
    "\"g\": 99999999999999999999999.5, \"h\": 4.9406564584124654e-324}",
    /* escapes in values and keys (the template takes neither) */
    "{\"s\": \"a\\\"b\\\\c\\u00e9\", \"k\\u00e9y\": 1, \"u\": \"caf\xc3\xa9\"}",
    "{\"s\": \"plain\", \"q\": \"with \\n newline\"}",
    /* no blanks at all, and odd blanks */
    "{\"a\":1,\"b\":{\"c\":\"x\"},\"d\":[]}",
    "{ \"a\" :\t1 ,\"b\" : { } , \"c\":\"y\" }",
    /* an empty object, a key "a/b" beside a nested a.b */
    "{}",
    "{\"a/b\": 1, \"a\": {\"b\": 2}}",
    /* a long integer (64+ digits) */
    "{\"big\": 1234567890123456789012345678901234567890123456789012345678901234567890}",
};

static void test_same_line_twice(void)
{
    for (size_t i = 0; i < sizeof same_lines / sizeof *same_lines; i++) {
        const char *l = same_lines[i];
        tc_buf text;
        tc_buf_init(&text);
        tc_buf_printf(&text, "%s\n%s\n%s\n", l, l, l);
        tc_trial_table t;
        tc_error err;
        tc_trial_table_init(&t);
        tc_error_init(&err);
        CHECK_INT(tc_table_from_json_lines(&t, text.data, text.len, &err), 0);
        CHECK_INT(t.n_rows, 3);
        CHECK_INT(t.n_bad_lines, 0);
        for (size_t c = 0; c < t.n_cols && t.n_rows == 3; c++) {
            int ok = same_cell(&t, &t.cols[c], 0, 1) && same_cell(&t, &t.cols[c], 0, 2);
            if (!ok)
                fprintf(stderr, "line %zu, column %s differs\n", i, t.cols[c].name);
            CHECK(ok);
        }
        tc_trial_table_clear(&t);
        tc_buf_free(&text);
    }
}

/* ------------------------------------------------------------------------- */
/* shapes the template does not describe                                      */
/* ------------------------------------------------------------------------- */

static void render(const tc_trial_table *t, const tc_column *c, tc_buf *out)
{
    tc_buf_clear(out);
    tc_buf_printf(out, "%s=", c->name);
    for (size_t r = 0; r < t->n_rows; r++) {
        if (r)
            tc_buf_putc(out, '|');
        json_t *v = tc_column_cell_json(t, c, r);
        char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        tc_buf_puts(out, c->tag[r] == TC_CELL_MISSING ? "-" : s ? s : "?");
        free(s);
        json_decref(v);
    }
}

typedef struct shape_case {
    const char *label;
    const char *text;
    size_t rows, bad;
    const char *cols[8];
} shape_case;

static const shape_case shape_cases[] = {
    {"keys in another order", "{\"a\": 1, \"b\": 2}\n{\"b\": 3, \"a\": 4}\n", 2, 0,
     {"a=1|4", "b=2|3"}},
    {"a key missing, a key added (dropped)", "{\"a\": 1, \"b\": 2}\n{\"a\": 3}\n"
     "{\"a\": 5, \"b\": 6, \"c\": 7}\n", 3, 0, {"a=1|3|5", "b=2|-|6"}},
    {"a leaf becomes a dict, a dict a leaf",
     "{\"a\": 1, \"d\": {\"x\": 1}}\n{\"a\": {\"y\": 2}, \"d\": 5}\n", 2, 0,
     {"a=1|-", "d/x=1|-"}},
    {"a nested dict gains a key", "{\"d\": {\"x\": 1}}\n{\"d\": {\"x\": 2, \"y\": 3}}\n", 2, 0,
     {"d/x=1|2"}},
    {"the skipped key changes shape", "{\"config\": {\"a\": 1}, \"v\": 1}\n"
     "{\"config\": [1, {\"b\": 2}], \"v\": 2}\n", 2, 0, {"v=1|2"}},
    {"an escaped string later", "{\"s\": \"a\"}\n{\"s\": \"b\\tc\"}\n", 2, 0,
     {"s=\"a\"|\"b\\tc\""}},
    {"a type change per row", "{\"v\": 1}\n{\"v\": \"x\"}\n{\"v\": [1]}\n{\"v\": null}\n"
     "{\"v\": true}\n", 5, 0, {"v=1|\"x\"|[1]|null|true"}},
    {"invalid lines in the middle are counted", "{\"v\": 1}\n{\"v\": 01x}\n{\"v\": tru}\n"
     "{\"v\": 2} junk\n{\"v\": 3\n{\"v\": 4}\n", 2, 4, {"v=1|4"}},
    {"numbers cut short or run on", "{\"v\": 1}\n{\"v\": 12abc}\n{\"v\": 1.}\n{\"v\": -}\n"
     "{\"v\": 1e}\n{\"v\": -Inf}\n{\"v\": 2}\n", 2, 5, {"v=1|2"}},
    {"a string value not closed", "{\"v\": \"a\"}\n{\"v\": \"b}\n{\"v\": \"c\"}\n", 2, 1,
     {"v=\"a\"|\"c\""}},
    /* an empty parent key is joined with a "/", as Ray's flatten_dict joins it */
    {"only empty keys", "{\"\": 1}\n{\"\": 2}\n{\"\": {\"\": 3}}\n", 3, 0, {"=1|2|-"}},
    {"an empty key nested under an empty key",
     "{\"\": {\"\": 1}, \"a\": {\"\": 2}}\n{\"\": {\"\": 3}, \"a\": {\"\": 4}}\n", 2, 0,
     {"/=1|3", "a/=2|4"}},
    {"an escaped key later is the same column", "{\"k\": 1}\n{\"\\u006b\": 2}\n", 2, 0,
     {"k=1|2"}},
    {"a repeated key: the last value wins", "{\"a\": 1, \"a\": 2}\n{\"a\": 3, \"a\": 4}\n", 2,
     0, {"a=2|4"}},
};

static void test_shapes(void)
{
    tc_buf b;
    tc_buf_init(&b);
    for (size_t i = 0; i < sizeof shape_cases / sizeof *shape_cases; i++) {
        const shape_case *c = &shape_cases[i];
        tc_trial_table t;
        tc_error err;
        tc_trial_table_init(&t);
        tc_error_init(&err);
        CHECK_INT(tc_table_from_json_lines(&t, c->text, strlen(c->text), &err), 0);
        if (t.n_rows != c->rows || t.n_bad_lines != c->bad)
            fprintf(stderr, "case: %s\n", c->label);
        CHECK_INT(t.n_rows, c->rows);
        CHECK_INT(t.n_bad_lines, c->bad);
        size_t n = 0;
        while (n < 8 && c->cols[n])
            n++;
        CHECK_INT(t.n_cols, n);
        for (size_t k = 0; k < n && k < t.n_cols; k++) {
            render(&t, &t.cols[k], &b);
            if (strcmp(b.data, c->cols[k]) != 0)
                fprintf(stderr, "case: %s\n", c->label);
            CHECK_STR(b.data, c->cols[k]);
        }
        tc_trial_table_clear(&t);
    }
    tc_buf_free(&b);
}

/* Rows that change shape every time turn the template off; the rows are
 * still all read (the general path), whatever the order of shapes. */
static void test_changing_shapes(void)
{
    tc_buf text;
    tc_buf_init(&text);
    for (int i = 0; i < 200; i++)
        tc_buf_printf(&text, i % 2 ? "{\"b\": %d, \"a\": %d}\n" : "{\"a\": %d, \"b\": %d}\n",
                      i, -i);
    tc_trial_table t;
    tc_error err;
    tc_trial_table_init(&t);
    tc_error_init(&err);
    CHECK_INT(tc_table_from_json_lines(&t, text.data, text.len, &err), 0);
    CHECK_INT(t.n_rows, 200);
    const tc_column *a = tc_trial_table_find(&t, "a");
    const tc_column *b = tc_trial_table_find(&t, "b");
    CHECK(a && b);
    for (int i = 0; a && b && i < 200; i++) {
        CHECK(a->num[i] == (i % 2 ? -i : i));
        CHECK(b->num[i] == (i % 2 ? i : -i));
    }
    tc_trial_table_clear(&t);
    tc_buf_free(&text);
}

int main(void)
{
    test_same_line_twice();
    test_shapes();
    test_changing_shapes();
    TEST_MAIN_END();
}
