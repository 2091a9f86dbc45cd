/* test_analysis.c — the experiment loader (analysis.c, spec §10.1–10.7).
 *
 * Parser cases are table rows: input text, then the expected table rendered
 * one column per string as "name=K:v|v|…", K being i (integer column), f
 * (numeric) or o (other values, shown as compact JSON). The directory tests
 * write fixture trees under a mkdtemp dir. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "tunec.h"
#include "tc_test.h"

/* ------------------------------------------------------------------------- */
/* rendering                                                                  */
/* ------------------------------------------------------------------------- */

static void render_num(double d, tc_buf *out)
{
    if (isnan(d))
        tc_buf_puts(out, "nan");
    else if (isinf(d))
        tc_buf_puts(out, d > 0 ? "inf" : "-inf");
    else
        tc_buf_printf(out, "%.17g", d);
}

static void render_column(const tc_trial_table *t, const tc_column *c, tc_buf *out)
{
    static const char type_char[] = {[TC_COLTYPE_FLOAT] = 'f', [TC_COLTYPE_INT] = 'i',
                                     [TC_COLTYPE_BOOL] = 'b', [TC_COLTYPE_OBJECT] = 'o'};
    tc_coltype type = tc_column_type(c, t->n_rows);
    tc_buf_clear(out);
    tc_buf_printf(out, "%s=%c:", c->name, type_char[type]);
    for (size_t r = 0; r < t->n_rows; r++) {
        if (r)
            tc_buf_putc(out, '|');
        json_t *v = type == TC_COLTYPE_OBJECT || type == TC_COLTYPE_BOOL
                        ? tc_column_cell_json(t, c, r) : NULL;
        double d;
        if (!v && type == TC_COLTYPE_INT) {
            tc_buf_printf(out, "%lld", (long long)tc_column_int(c, r));   /* exact */
        } else if (!v) {
            render_num(c->num[r], out);
        } else if (json_is_integer(v)) {
            tc_buf_printf(out, "%lld", (long long)json_integer_value(v));
        } else if (tc_json_number(v, &d)) {
            render_num(d, out);
        } else {
            char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            tc_buf_puts(out, s ? s : "?");
            free(s);
        }
        json_decref(v);
    }
}

/* Every column's rendering must match expect[] (NULL-terminated), and every
 * val column's numbers must agree with num[]. */
static void check_table(const char *label, const tc_trial_table *t, const char *const *expect)
{
    tc_buf b;
    tc_buf_init(&b);
    size_t n = 0;
    while (expect[n])
        n++;
    tc_test_checks++;
    if (t->n_cols != n) {
        tc_test_failures++;
        fprintf(stderr, "%s: expected %zu columns, got %zu\n", label, n, t->n_cols);
    }
    for (size_t i = 0; i < t->n_cols && i < n; i++) {
        render_column(t, &t->cols[i], &b);
        tc_test_checks++;
        if (strcmp(b.data, expect[i]) != 0) {
            tc_test_failures++;
            fprintf(stderr, "%s: column %zu: expected %s, got %s\n", label, i, expect[i], b.data);
        }
    }
    tc_buf_free(&b);
}

/* ------------------------------------------------------------------------- */
/* parser tables                                                              */
/* ------------------------------------------------------------------------- */

typedef struct parse_case {
    const char *label;
    const char *text;
    size_t rows;
    size_t bad;
    int torn;
    int source;
    const char *cols[8];
} parse_case;

static const parse_case json_cases[] = {
    {"int64 cells past 2**53 are exact, template, general path and object column",
     "{\"a\": 1152921504606846977, \"m\": 9223372036854775807}\n"
     "{\"a\": -9007199254740993, \"m\": \"s\"}\n"
     "{\"m\": -9223372036854775808, \"a\": 3}\n",
     3, 0, 0, TC_SOURCE_RESULT_JSON,
     {"a=i:1152921504606846977|-9007199254740993|3",
      "m=o:9223372036854775807|\"s\"|-9223372036854775808", NULL}},
    {"nested dicts flatten after the plain keys, config dropped",
     "{\"a\": 1, \"b\": {\"c\": 2.5, \"d\": {\"e\": \"x\"}}, \"config\": {\"lr\": 0.1}, \"f\": true}\n"
     "{\"a\": 2, \"b\": {\"c\": NaN, \"d\": {\"e\": \"y\"}}, \"config\": {\"lr\": 0.1}, \"f\": false}\n",
     2, 0, 0, TC_SOURCE_RESULT_JSON,
     {"a=i:1|2", "f=b:true|false", "b/c=f:2.5|nan", "b/d/e=o:\"x\"|\"y\"", NULL}},
    {"torn last line is skipped, not counted",
     "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3, \"b", 2, 0, 1, TC_SOURCE_RESULT_JSON, {"a=i:1|2", NULL}},
    {"invalid middle line is skipped and counted",
     "{\"a\": 1}\ngarbage\n{\"a\": 2}\n", 2, 1, 0, TC_SOURCE_RESULT_JSON, {"a=i:1|2", NULL}},
    {"invalid first line: the first valid row fixes the columns",
     "{\"a\": \n{\"b\": 1}\n", 1, 1, 0, TC_SOURCE_RESULT_JSON, {"b=i:1", NULL}},
    {"a last line that is not an object, then blank lines",
     "{\"a\": 1}\n[1, 2]\n\n  \n", 1, 0, 1, TC_SOURCE_RESULT_JSON, {"a=i:1", NULL}},
    {"first row's keys fix the columns; later keys dropped, missing NaN",
     "{\"a\": 1, \"b\": 2}\n{\"b\": 3, \"c\": 4}\n", 2, 0, 0, TC_SOURCE_RESULT_JSON,
     {"a=f:1|nan", "b=i:2|3", NULL}},
    {"NaN / Infinity / -Infinity tokens and null",
     "{\"x\": NaN, \"y\": Infinity, \"z\": -Infinity, \"t\": null}\n"
     "{\"x\": 1.5, \"y\": 2, \"z\": 3, \"t\": null}\n", 2, 0, 0, TC_SOURCE_RESULT_JSON,
     {"x=f:nan|1.5", "y=f:inf|2", "z=f:-inf|3", "t=f:nan|nan", NULL}},
    {"numbers and strings in one column keep their values",
     "{\"m\": 1}\n{\"m\": \"oops\"}\n{}\n", 3, 0, 0, TC_SOURCE_RESULT_JSON,
     {"m=o:1|\"oops\"|null", NULL}},
    {"lists are values", "{\"l\": [1, 2], \"n\": 1}\n", 1, 0, 0, TC_SOURCE_RESULT_JSON,
     {"l=o:[1,2]", "n=i:1", NULL}},
    {"an empty dict leaves no column", "{\"a\": {}, \"b\": 1.0}\n", 1, 0, 0,
     TC_SOURCE_RESULT_JSON, {"b=f:1", NULL}},
    {"CRLF line ends", "{\"a\": 1}\r\n{\"a\": 2}\r\n", 2, 0, 0, TC_SOURCE_RESULT_JSON,
     {"a=i:1|2", NULL}},
    {"empty file", "", 0, 0, 0, TC_SOURCE_RESULT_JSON, {NULL}},
    {"only a torn line", "{\"a\"", 0, 0, 1, TC_SOURCE_RESULT_JSON, {NULL}},
};

static const parse_case csv_cases[] = {
    {"int64 cells past 2**53 are exact",
     "a,b\r\n1152921504606846977,x\r\n-9007199254740993,y\r\n", 2, 0, 0,
     TC_SOURCE_PROGRESS_CSV, {"a=i:1152921504606846977|-9007199254740993", "b=o:\"x\"|\"y\"", NULL}},
    {"csv.DictWriter output: ints, floats, empty cells, bools, quoting",
     "a,b/c,done,s\r\n1,2.5,False,x\r\n2,,True,\"q,\"\"r\"\"\"\r\n", 2, 0, 0,
     TC_SOURCE_PROGRESS_CSV,
     {"a=i:1|2", "b/c=f:2.5|nan", "done=b:false|true", "s=o:\"x\"|\"q,\\\"r\\\"\"", NULL}},
    {"nan and inf as Python's str writes them",
     "x,y\r\nnan,inf\r\n-inf,1e3\r\n", 2, 0, 0, TC_SOURCE_PROGRESS_CSV,
     {"x=f:nan|-inf", "y=f:inf|1000", NULL}},
    {"pandas NA words are missing", "x,y\r\nNone,NULL\r\n1,x\r\n", 2, 0, 0,
     TC_SOURCE_PROGRESS_CSV, {"x=f:nan|1", "y=o:null|\"x\"", NULL}},
    {"a short last row without a line break is torn",
     "a,b\r\n1,2\r\n3", 1, 0, 1, TC_SOURCE_PROGRESS_CSV, {"a=i:1", "b=i:2", NULL}},
    {"a full last row without a line break is kept",
     "a,b\r\n1,2\r\n3,4", 2, 0, 0, TC_SOURCE_PROGRESS_CSV, {"a=i:1|3", "b=i:2|4", NULL}},
    {"a short row in the middle has missing cells",
     "a,b\r\n1\r\n3,4\r\n", 2, 0, 0, TC_SOURCE_PROGRESS_CSV, {"a=i:1|3", "b=f:nan|4", NULL}},
    {"a row longer than the header is skipped and counted",
     "a\r\n1\r\n2,3\r\n4\r\n", 2, 1, 0, TC_SOURCE_PROGRESS_CSV, {"a=i:1|4", NULL}},
    {"line breaks inside quotes belong to the field",
     "a,b\r\n\"x\r\ny\",1\r\n", 1, 0, 0, TC_SOURCE_PROGRESS_CSV,
     {"a=o:\"x\\r\\ny\"", "b=i:1", NULL}},
    {"blank lines are skipped", "a\r\n\r\n1\r\n\r\n2\r\n", 2, 0, 0, TC_SOURCE_PROGRESS_CSV,
     {"a=i:1|2", NULL}},
    {"header only", "a,b\r\n", 0, 0, 0, TC_SOURCE_PROGRESS_CSV, {"a=f:", "b=f:", NULL}},
    {"empty file", "", 0, 0, 0, TC_SOURCE_NONE, {NULL}},
    {"repeated header names are numbered like pandas", "a,a,a\r\n1,2,3\r\n", 1, 0, 0,
     TC_SOURCE_PROGRESS_CSV, {"a=i:1", "a.1=i:2", "a.2=i:3", NULL}},
    {"a list written with str() stays a string", "l\r\n\"[1, 2]\"\r\n", 1, 0, 0,
     TC_SOURCE_PROGRESS_CSV, {"l=o:\"[1, 2]\"", NULL}},
    {"bytes that are not UTF-8 become U+FFFD", "s\r\na\xff" "b\r\n", 1, 0, 0,
     TC_SOURCE_PROGRESS_CSV, {"s=o:\"a\xef\xbf\xbd" "b\"", NULL}},
    {"\\n and \\r line ends", "a\n1\r2\n", 2, 0, 0, TC_SOURCE_PROGRESS_CSV, {"a=i:1|2", NULL}},
    {"a quote inside an unquoted field is literal", "a\r\nab\"c\r\n", 1, 0, 0,
     TC_SOURCE_PROGRESS_CSV, {"a=o:\"ab\\\"c\"", NULL}},
    {"an integer too wide for int64 is a float", "a\r\n99999999999999999999\r\n", 1, 0, 0,
     TC_SOURCE_PROGRESS_CSV, {"a=f:1e+20", NULL}},
    {"number syntax: signs, exponents, blanks; others are strings",
     "a,b,c,d,e\r\n+1,-.5,1E-2, 7 ,0x10\r\n", 1, 0, 0, TC_SOURCE_PROGRESS_CSV,
     {"a=i:1", "b=f:-0.5", "c=f:0.01", "d=i:7", "e=o:\"0x10\"", NULL}},
    {"zero-padded digits stay strings (trial ids), unlike pandas",
     "a,b,c,d\r\n00003,0,-01,0.5\r\n", 1, 0, 0, TC_SOURCE_PROGRESS_CSV,
     {"a=o:\"00003\"", "b=i:0", "c=o:\"-01\"", "d=f:0.5", NULL}},
    {"true/TRUE/false spellings", "a\r\ntrue\r\nTRUE\r\nfalse\r\n", 3, 0, 0,
     TC_SOURCE_PROGRESS_CSV, {"a=b:true|true|false", NULL}},
};

static void run_parse_cases(const parse_case *cases, size_t n, int csv)
{
    for (size_t i = 0; i < n; i++) {
        const parse_case *c = &cases[i];
        tc_trial_table t;
        tc_error err;
        tc_trial_table_init(&t);
        tc_error_init(&err);
        int rc = csv ? tc_table_from_csv(&t, c->text, strlen(c->text), &err)
                     : tc_table_from_json_lines(&t, c->text, strlen(c->text), &err);
        CHECK_INT(rc, 0);
        if (t.n_rows != c->rows || t.n_bad_lines != c->bad || t.torn_tail != c->torn ||
            t.source != c->source)
            fprintf(stderr, "case: %s\n", c->label);
        CHECK_INT(t.n_rows, c->rows);
        CHECK_INT(t.n_bad_lines, c->bad);
        CHECK_INT(t.torn_tail, c->torn);
        CHECK_INT(t.source, c->source);
        check_table(c->label, &t, c->cols);
        tc_trial_table_clear(&t);
    }
}

/* ------------------------------------------------------------------------- */
/* directories                                                                */
/* ------------------------------------------------------------------------- */

static char root[256];

static void write_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

static void make_dir(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    if (mkdir(path, 0755) != 0) {
        perror(path);
        exit(2);
    }
}

static void link_at(const char *target, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    if (symlink(target, path) != 0) {
        perror(path);
        exit(2);
    }
}

static const tc_trial_table *find_trial(const tc_analysis *a, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (size_t i = 0; i < a->n_trials; i++)
        if (strcmp(a->trials[i].logdir, path) == 0)
            return &a->trials[i];
    return NULL;
}

/* The same two Ray results as result.json lines and as progress.csv. */
static const char *ray_json =
    "{\"mean_accuracy\": 0.5, \"done\": false, \"timesteps_total\": null, "
    "\"training_iteration\": 1, \"config\": {\"lr\": 0.01}, \"info\": {\"x\": 1}, "
    "\"trial_id\": \"00000\"}\n"
    "{\"mean_accuracy\": NaN, \"done\": true, \"timesteps_total\": null, "
    "\"training_iteration\": 2, \"config\": {\"lr\": 0.01}, \"info\": {\"x\": 2}, "
    "\"trial_id\": \"00000\", \"late\": 1}\n";
static const char *ray_csv =
    "mean_accuracy,done,timesteps_total,training_iteration,trial_id,info/x\r\n"
    "0.5,False,,1,00000,1\r\n"
    "nan,True,,2,00000,2\r\n";
static const char *const ray_cols[] = {
    "mean_accuracy=f:0.5|nan", "done=b:false|true", "timesteps_total=f:nan|nan",
    "training_iteration=i:1|2", "trial_id=o:\"00000\"|\"00000\"", "info/x=i:1|2", NULL};

static void test_experiment_dir(void)
{
    /* exp/
     *   a_trial/     result.json + progress.csv + params.json, checkpoint_1/ inside
     *   b_trial/     progress.csv only
     *   c_trial/     empty result.json, progress.csv: the CSV is read
     *   d_trial/     progress.csv is a broken link: found, skipped
     *   e_link       -> a_trial (not followed)
     *   f_plain/     no result files; holds g_deep/h_trial/ with a torn result.json
     *   i_trial/     params.json not JSON, result.json is a directory, no csv */
    make_dir("exp");
    make_dir("exp/a_trial");
    write_file("exp/a_trial/result.json", ray_json);
    write_file("exp/a_trial/progress.csv", "other\r\n1\r\n");
    write_file("exp/a_trial/params.json", "{\n  \"lr\": 0.01,\n  \"nested\": {\"k\": NaN}\n}");
    make_dir("exp/a_trial/checkpoint_1");
    write_file("exp/a_trial/checkpoint_1/progress.csv", "x\r\n1\r\n");
    make_dir("exp/b_trial");
    write_file("exp/b_trial/progress.csv", ray_csv);
    make_dir("exp/c_trial");
    write_file("exp/c_trial/result.json", "");
    write_file("exp/c_trial/progress.csv", ray_csv);
    make_dir("exp/d_trial");
    link_at("/nonexistent/progress.csv", "exp/d_trial/progress.csv");
    write_file("exp/d_trial/params.json", "{\"lr\": 1}");
    link_at("a_trial", "exp/e_link");
    make_dir("exp/f_plain");
    make_dir("exp/f_plain/g_deep");
    make_dir("exp/f_plain/g_deep/h_trial");
    write_file("exp/f_plain/g_deep/h_trial/result.json", "{\"a\": 1}\n{\"a\": 2}\n{\"a\"");
    make_dir("exp/i_trial");
    make_dir("exp/i_trial/result.json");
    write_file("exp/i_trial/progress.csv", "");
    write_file("exp/i_trial/params.json", "{not json");

    char dir[512];
    snprintf(dir, sizeof dir, "%s/exp", root);
    tc_analysis a;
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_analysis_load(&a, dir, &err), 0);
    CHECK_INT(err.code, TC_OK);

    /* parents before children, names sorted; no checkpoint_1, no e_link */
    const char *order[] = {"exp/a_trial", "exp/b_trial", "exp/c_trial", "exp/d_trial",
                           "exp/f_plain/g_deep/h_trial", "exp/i_trial"};
    CHECK_INT(a.n_trials, 6);
    for (size_t i = 0; i < 6 && i < a.n_trials; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", root, order[i]);
        CHECK_STR(a.trials[i].logdir, path);
    }
    CHECK_INT(a.n_skipped, 2);   /* d_trial, i_trial */
    CHECK_INT(a.n_bad_lines, 0);

    /* the walk alone (the parsed-column cache's key) finds the same dirs */
    char **found = NULL;
    size_t n_found = 0;
    CHECK_INT(tc_analysis_find(dir, &found, &n_found, &err), 0);
    CHECK_INT(n_found, a.n_trials);
    for (size_t i = 0; i < n_found && i < a.n_trials; i++)
        CHECK_STR(found[i], a.trials[i].logdir);
    tc_analysis_dirs_free(found, n_found);

    const tc_trial_table *t = find_trial(&a, "exp/a_trial");
    CHECK(t != NULL);
    if (t) {
        CHECK_INT(t->source, TC_SOURCE_RESULT_JSON);
        check_table("a_trial from result.json", t, ray_cols);
        CHECK(json_is_object(t->params));
        double d = 0;
        CHECK(tc_json_number(tc_json_path_get(t->params, "nested/k"), &d) && isnan(d));
    }
    const tc_trial_table *b = find_trial(&a, "exp/b_trial");
    CHECK(b != NULL);
    if (b) {
        CHECK_INT(b->source, TC_SOURCE_PROGRESS_CSV);
        check_table("b_trial from progress.csv", b, ray_cols);
        CHECK(b->params == NULL);
    }
    t = find_trial(&a, "exp/c_trial");
    CHECK(t && t->source == TC_SOURCE_PROGRESS_CSV && t->n_rows == 2);
    t = find_trial(&a, "exp/d_trial");
    CHECK(t && t->source == TC_SOURCE_NONE && t->n_rows == 0 && t->n_cols == 0);
    CHECK(t && json_is_object(t->params));   /* params still count (get_all_configs) */
    t = find_trial(&a, "exp/f_plain/g_deep/h_trial");
    CHECK(t && t->source == TC_SOURCE_RESULT_JSON && t->n_rows == 2 && t->torn_tail == 1);
    t = find_trial(&a, "exp/i_trial");
    CHECK(t && t->source == TC_SOURCE_NONE && t->params == NULL);
    const tc_column *col = find_trial(&a, "exp/a_trial")
                               ? tc_trial_table_find(find_trial(&a, "exp/a_trial"), "info/x")
                               : NULL;
    CHECK(col && col->is_int && col->num[1] == 2.0);
    CHECK(find_trial(&a, "exp/a_trial") &&
          tc_trial_table_find(find_trial(&a, "exp/a_trial"), "late") == NULL);
    tc_analysis_clear(&a);

    /* a trailing slash gives the same logdirs, without "//" */
    char slash[520];
    snprintf(slash, sizeof slash, "%s/", dir);
    CHECK_INT(tc_analysis_load(&a, slash, &err), 0);
    CHECK(a.n_trials == 6 && find_trial(&a, "exp/b_trial") != NULL);
    tc_analysis_clear(&a);

    /* the given-dirs form: order kept, a missing dir is a skipped trial */
    char d1[512], d2[512];
    snprintf(d1, sizeof d1, "%s/exp/c_trial", root);
    snprintf(d2, sizeof d2, "%s/exp/nope", root);
    const char *dirs[] = {d1, d2};
    CHECK_INT(tc_analysis_load_dirs(&a, dirs, 2, &err), 0);
    CHECK_INT(a.n_trials, 2);
    CHECK_INT(a.n_skipped, 1);
    CHECK(a.n_trials == 2 && !strcmp(a.trials[0].logdir, d1) && a.trials[1].source == TC_SOURCE_NONE);
    tc_analysis_clear(&a);
}

static void test_not_a_directory(void)
{
    char path[512];
    tc_analysis a;
    tc_error err;
    write_file("plain.txt", "x");
    const char *names[] = {"plain.txt", "missing"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", root, names[i]);
        tc_error_init(&err);
        CHECK_INT(tc_analysis_load(&a, path, &err), -1);
        CHECK_INT(err.code, TC_ERR_VALUE);
        char want[600];
        snprintf(want, sizeof want, "%s is not a valid directory.", path);
        CHECK_STR(err.text, want);
        CHECK_INT(a.n_trials, 0);
        char **found = NULL;
        size_t n_found = 7;
        tc_error_init(&err);
        CHECK_INT(tc_analysis_find(path, &found, &n_found, &err), -1);
        CHECK_INT(err.code, TC_ERR_VALUE);
        CHECK(found == NULL && n_found == 0);
    }
    /* a dir with no trials is not an error here: Analysis raises "No trials found" */
    make_dir("empty");
    snprintf(path, sizeof path, "%s/empty", root);
    tc_error_init(&err);
    CHECK_INT(tc_analysis_load(&a, path, &err), 0);
    CHECK_INT(a.n_trials, 0);
    tc_analysis_clear(&a);
}

static void test_bad_lines_counted(void)
{
    make_dir("bad");
    write_file("bad/result.json", "{\"a\": 1}\n{oops}\n{\"a\": 2}\n{\"a\": 3, \"b\"\n{\"a\": 4}\n");
    char path[512];
    snprintf(path, sizeof path, "%s/bad", root);
    tc_analysis a;
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_analysis_load(&a, path, &err), 0);
    CHECK_INT(a.n_trials, 1);
    CHECK_INT(a.n_bad_lines, 2);
    if (a.n_trials == 1) {
        const char *const cols[] = {"a=i:1|2|4", NULL};
        check_table("bad lines", &a.trials[0], cols);
    }
    tc_analysis_clear(&a);
}

/* Found by tests/fuzz/fuzz_table_csv.c: header names holding NUL bytes
 * ("a\0b,a\0c") made the repeated-name loop spin forever, as it compared
 * the names as C strings but numbered the whole field. A name ends at its
 * NUL; the repeat is numbered as any other. */
static void test_csv_header_nul(void)
{
    static const char text[] = "a\0b,a\0c,x\0\n1,2,3\n";
    tc_trial_table t;
    tc_error err;
    tc_trial_table_init(&t);
    tc_error_init(&err);
    CHECK_INT(tc_table_from_csv(&t, text, sizeof text - 1, &err), 0);
    CHECK_INT(t.n_rows, 1);
    const char *const cols[] = {"a=i:1", "a.1=i:2", "x=i:3", NULL};
    check_table("NUL in header names", &t, cols);
    tc_trial_table_clear(&t);
}

/* tc_analysis_parallel: every index exactly once, whatever the threads. */
static void count_index(void *ctx, size_t i)
{
    __atomic_fetch_add(&((int *)ctx)[i], 1, __ATOMIC_RELAXED);
}

/* progress.csv has no line count up front: its columns start at 16 rows and
 * grow, num[] and tag[] in one allocation (table_columns.c); every cell must
 * survive each regrowth. */
static void test_csv_columns_grow(void)
{
    tc_buf text;
    tc_buf_init(&text);
    tc_buf_puts(&text, "i,s,r\n");
    for (int r = 0; r < 100; r++)
        tc_buf_printf(&text, "%d,%s,%s\n", r, r % 3 ? "x" : "", r % 2 ? "0.5" : "True");
    tc_trial_table t;
    tc_error err;
    tc_trial_table_init(&t);
    tc_error_init(&err);
    CHECK_INT(tc_table_from_csv(&t, text.data, text.len, &err), 0);
    CHECK_INT(t.n_rows, 100);
    CHECK_INT(t.n_cols, 3);
    const tc_column *i = tc_trial_table_find(&t, "i"), *s = tc_trial_table_find(&t, "s"),
                    *real = tc_trial_table_find(&t, "r");
    CHECK(i && s && real);
    if (i && s && real) {
        CHECK(i->is_int);
        for (size_t r = 0; r < 100; r++) {
            CHECK_INT(tc_column_int(i, r), (long long)r);
            CHECK_INT(s->tag[r], r % 3 ? TC_CELL_STRING : TC_CELL_MISSING);
            CHECK_INT(real->tag[r], r % 2 ? TC_CELL_REAL : TC_CELL_TRUE);
        }
        CHECK_STR(tc_strpool_get(&t.strings, s->ref[1]), "x");
        CHECK_STR(tc_strpool_get(&t.strings, s->ref[98]), "x");
    }
    tc_trial_table_clear(&t);
    tc_buf_free(&text);
}

static void test_parallel_each_index_once(void)
{
    static int seen[1000];
    for (size_t n = 0; n <= 1000; n += 333) {
        memset(seen, 0, sizeof seen);
        tc_analysis_parallel(n, count_index, seen);
        size_t once = 0;
        for (size_t i = 0; i < 1000; i++)
            once += seen[i] == (i < n ? 1 : 0);
        CHECK_INT(once, 1000);
    }
}

static void cleanup(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
}

int main(void)
{
    run_parse_cases(json_cases, sizeof json_cases / sizeof *json_cases, 0);
    run_parse_cases(csv_cases, sizeof csv_cases / sizeof *csv_cases, 1);
    test_csv_header_nul();
    test_csv_columns_grow();
    test_parallel_each_index_once();

    snprintf(root, sizeof root, "/tmp/tunec_analysis_XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 2;
    }
    test_experiment_dir();
    test_not_a_directory();
    test_bad_lines_counted();
    cleanup();
    TEST_MAIN_END();
}
