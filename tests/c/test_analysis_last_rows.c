/* test_analysis_last_rows.c — the last-result loader (analysis_last.c) that
 * `tune ls` uses: one row per trial from the tail of result.json, else
 * progress.csv's header and last row.
 *
 * Each case writes a trial dir under a mkdtemp dir and names the expected
 * value of one column of the one row (or no row at all). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "tunec.h"
#include "tc_test.h"

static char root[] = "/tmp/tc_last_rows_XXXXXX";

static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fwrite(text, 1, len, f);
    fclose(f);
}

typedef struct last_case {
    const char *label;
    const char *result_json;   /* NULL: no file */
    const char *progress_csv;  /* NULL: no file */
    const char *column;        /* NULL: expect no row */
    double number;             /* expected numeric value of column */
    size_t n_cols;             /* expected columns; 0: not checked */
} last_case;

static const last_case cases[] = {
    {"one line", "{\"a\": 1, \"b\": 2.5}\n", NULL, "b", 2.5, 2},
    {"last of three", "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3}\n", NULL, "a", 3, 1},
    {"no final newline", "{\"a\": 1}\n{\"a\": 2}", NULL, "a", 2, 1},
    {"torn tail: the line before", "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3, \"b", NULL, "a", 2, 1},
    {"trailing blank lines", "{\"a\": 1}\n{\"a\": 7}\n\n\n", NULL, "a", 7, 1},
    /* The config is left out, as analysis.c does: it comes from params.json. */
    {"config left out", "{\"x\": 1, \"config\": {\"lr\": 0.5, \"m\": {\"k\": 4}}, \"y\": 3}\n",
     NULL, "y", 3, 2},
    {"empty result.json: progress.csv", "", "a,b\n1,2\n3,4\n", "b", 4, 2},
    {"invalid result.json: progress.csv", "not json\nnor this\n", "a,b\n1,2\n5,6\n", "a", 5, 2},
    {"csv without final newline", NULL, "a,b\n1,2\n8,9", "b", 9, 2},
    {"csv header only: no row", NULL, "a,b\n", NULL, 0, 0},
    {"no files: no row", NULL, NULL, NULL, 0, 0},
};

static void run_case(int i, const last_case *c)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/t%d", root, i);
    mkdir(dir, 0700);
    if (c->result_json)
        write_file(dir, "result.json", c->result_json, strlen(c->result_json));
    if (c->progress_csv)
        write_file(dir, "progress.csv", c->progress_csv, strlen(c->progress_csv));
    if (i % 2)
        write_file(dir, "params.json", "{\"lr\": 0.25}", 12);
    tc_trial_table t;
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_trial_table_load_last(&t, dir, &err), 0);
    if (!c->column) {
        CHECK_INT(t.n_rows, 0);
    } else {
        CHECK_INT(t.n_rows, 1);
        const tc_column *col = tc_trial_table_find(&t, c->column);
        if (!col)
            fprintf(stderr, "case %s: no column %s\n", c->label, c->column);
        CHECK(col != NULL);
        if (col && t.n_rows == 1)
            CHECK_NEAR(col->num[0], c->number, 1e-12);
        if (c->n_cols)
            CHECK_INT(t.n_cols, c->n_cols);
    }
    /* params.json is read whenever it is there, a row or not. */
    CHECK_INT(t.params != NULL, i % 2);
    if (t.params)
        CHECK_NEAR(json_real_value(json_object_get(t.params, "lr")), 0.25, 0);
    tc_trial_table_clear(&t);
}

/* A line longer than the first read window: the window grows to hold it. */
static void test_long_line(void)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/long", root);
    mkdir(dir, 0700);
    tc_buf text;
    tc_buf_init(&text);
    tc_buf_puts(&text, "{\"a\": 1}\n{\"a\": 2, \"s\": \"");
    for (int i = 0; i < 100000; i++)
        tc_buf_putc(&text, 'x');
    tc_buf_puts(&text, "\"}\n");
    write_file(dir, "result.json", text.data, text.len);
    tc_trial_table t;
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_trial_table_load_last(&t, dir, &err), 0);
    CHECK_INT(t.n_rows, 1);
    const tc_column *a = tc_trial_table_find(&t, "a");
    CHECK(a != NULL);
    if (a && t.n_rows == 1)
        CHECK_NEAR(a->num[0], 2, 0);
    const tc_column *s = tc_trial_table_find(&t, "s");
    CHECK(s != NULL);
    if (s && t.n_rows == 1)
        CHECK_INT(t.strings.len[s->ref[0]], 100000);
    tc_trial_table_clear(&t);
    tc_buf_free(&text);
}

int main(void)
{
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 2;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case((int)i, &cases[i]);
    test_long_line();
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    TEST_MAIN_END();
}
