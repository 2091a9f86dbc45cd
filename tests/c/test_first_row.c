/* test_first_row.c — the first result.json line names a table's columns
 * without a tree (first_row.c) only where jansson + tc_flatten would name
 * them the same, and the loader's columns are then exactly those.
 *
 * Each case is one first line and whether the plain path must take it. For
 * every case the table read by tc_table_from_json_lines (two copies of the
 * line) must have the columns of tc_flatten(tc_json_loads(line)) in that
 * order, or none when jansson refuses the line. */
#include <string.h>
#include "tunec.h"
#include "table_internal.h"
#include "tc_test.h"

typedef struct first_case {
    const char *line;
    int plain;   /* 1: first_row.c names the columns; 0: left to jansson */
} first_case;

static const first_case cases[] = {
    /* what tunec and Ray write */
    {"{\"loss\": 0.5, \"acc\": 0.25, \"step\": 0, \"done\": false, \"timesteps_total\": null, "
     "\"training_iteration\": 1, \"trial_id\": \"00000\", \"date\": \"2026-12-05_12-31-14\", "
     "\"timestamp\": 1796473874, \"config\": {\"x\": 0.5, \"n\": {\"a\": [1, NaN]}}, "
     "\"experiment_tag\": \"0_x=0.5\"}", 1},
    /* breadth-first order: all top-level leaves, then one level down... */
    {"{\"a\": {\"b\": 1, \"c\": {\"d\": 2}}, \"e\": 3, \"f\": {\"g\": 4}, \"h\": 5}", 1},
    {"{\"x\": {\"y\": {\"z\": {\"w\": 1}}}, \"v\": {}, \"u\": [{\"k\": 1}], \"t\": {\"s\": 2}}", 1},
    {"{}", 1},
    {"{\"config\": 1}", 1},
    {"{\"a\":1,\"b\":{\"c\":\"x\"},\"d\":[]}", 1},
    {"{ \"a\" : 1 , \"b\" : { } , \"c\":\"y\" }", 1},
    {"{\"n\": NaN, \"i\": Infinity, \"m\": -Infinity, \"z\": -0.0, \"e\": 1E+300, "
     "\"i18\": 123456789012345678, \"t\": true}", 1},
    /* repeated or merging names: jansson keeps one value */
    {"{\"a\": 1, \"a\": 2}", 0},
    {"{\"a/b\": 1, \"a\": {\"b\": 2}}", 0},
    {"{\"a\": {\"x\": 1}, \"a\": 2}", 0},
    {"{\"a\": {\"x\": 1}, \"a\": {\"y\": 2}}", 0},
    {"{\"a\": {}, \"a\": 1}", 0},
    /* ...but a repeat inside the skipped value names nothing */
    {"{\"config\": {\"p\": 1, \"p\": 2}, \"v\": 1}", 1},
    /* escapes, non-ASCII, control bytes, empty keys */
    {"{\"s\": \"a\\\"b\", \"v\": 1}", 0},
    {"{\"k\\u00e9\": 1}", 0},
    {"{\"u\": \"caf\xc3\xa9\"}", 0},
    {"{\"u\": \"\xff\"}", 0},
    {"{\"u\": \"a\tb\"}", 0},
    {"{\"\": {\"b\": 1}}", 0},
    /* numbers jansson reads another way, or refuses */
    {"{\"big\": 1234567890123456789}", 0},
    {"{\"big\": 123456789012345678901234567890}", 0},
    {"{\"r\": 1e400}", 0},
    {"{\"l\": [1e400]}", 0},
    {"{\"config\": {\"r\": -1e999}, \"v\": 1}", 0},
    {"{\"r\": 01}", 0},
    {"{\"r\": 1.}", 0},
    {"{\"r\": .5}", 0},
    {"{\"r\": +1}", 0},
    {"{\"r\": -Inf}", 0},
    {"{\"r\": nan}", 0},
    /* not one object */
    {"[1, 2]", 0},
    {"{\"a\": 1} x", 0},
    {"{\"a\": 1", 0},
    {"{\"a\" 1}", 0},
    {"{\"a\": [1, 2}", 0},
};

/* The names jansson + tc_flatten give, or n = 0 when jansson refuses. */
static json_t *jansson_names(const char *line)
{
    tc_error err;
    tc_error_init(&err);
    json_t *row = tc_json_loads(line, strlen(line), &err);
    if (!row || !json_is_object(row)) {
        json_decref(row);
        return NULL;
    }
    json_t *flat = tc_flatten(row, "/", "config");
    json_decref(row);
    return flat;
}

static void test_plain_or_not(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *line = cases[i].line;
        tc_trial_table t;
        tc_table_builder b = {0};
        tc_error err;
        tc_trial_table_init(&t);
        tc_error_init(&err);
        int got = tc_table_columns_plain(&t, &b, line, strlen(line), "config", &err);
        if (got != cases[i].plain)
            fprintf(stderr, "case %zu: plain = %d: %s\n", i, got, line);
        CHECK_INT(got, cases[i].plain);
        if (got == 0)
            CHECK_INT(t.n_cols, 0);
        tc_table_builder_free(&b);
        tc_trial_table_clear(&t);
    }
}

static void test_same_columns_as_jansson(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *line = cases[i].line;
        tc_buf text;
        tc_buf_init(&text);
        tc_buf_printf(&text, "%s\n%s\n", line, line);
        tc_trial_table t;
        tc_error err;
        tc_trial_table_init(&t);
        tc_error_init(&err);
        CHECK_INT(tc_table_from_json_lines(&t, text.data, text.len, &err), 0);
        json_t *flat = jansson_names(line);
        size_t want = flat ? json_object_size(flat) : 0;
        if (t.n_cols != want)
            fprintf(stderr, "case %zu: %zu columns, jansson %zu: %s\n", i, t.n_cols, want, line);
        CHECK_INT(t.n_cols, want);
        size_t c = 0;
        const char *key;
        json_t *value;
        if (flat) {
            json_object_foreach(flat, key, value) {
                if (c < t.n_cols)
                    CHECK_STR(t.cols[c].name, key);
                c++;
            }
        }
        json_decref(flat);
        tc_trial_table_clear(&t);
        tc_buf_free(&text);
    }
}

int main(void)
{
    test_plain_or_not();
    test_same_columns_as_jansson();
    TEST_MAIN_END();
}
