/* test_log.c — result.json lines, progress.csv rows and the flattening
 * under them, compared with Python. The expected texts were produced by
 * Python 3.11 running Ray 0.8.5's flatten_dict and CSVLogger logic
 * (csv.DictWriter, default dialect) and json.dumps(ensure_ascii=False). */
#include <stdlib.h>
#include "tc_test.h"
#include "tunec.h"

/* {result, flatten_dict(result), flatten_dict(result without "config")} */
static const struct { const char *text, *flat, *flat_no_config; } flatten_cases[] = {
    {"{}", "{}", "{}"},
    {"{\"a\": 1}", "{\"a\": 1}", "{\"a\": 1}"},
    {"{\"a\": {\"x\": 1}, \"b\": 2}", "{\"b\": 2, \"a/x\": 1}", "{\"b\": 2, \"a/x\": 1}"},
    {"{\"a\": {\"b\": {\"c\": 1}}, \"d\": 2, \"e\": {\"f\": 3, \"g\": {\"h\": [1, {\"i\": 2}]}}}", "{\"d\": 2, \"e/f\": 3, \"a/b/c\": 1, \"e/g/h\": [1, {\"i\": 2}]}", "{\"d\": 2, \"e/f\": 3, \"a/b/c\": 1, \"e/g/h\": [1, {\"i\": 2}]}"},
    {"{\"config\": {\"lr\": 0.1}, \"z\": {\"y\": {}}, \"x\": [1, 2]}", "{\"x\": [1, 2], \"config/lr\": 0.1}", "{\"x\": [1, 2]}"},
    {"{\"p\": {\"q\": 1, \"r\": {\"s\": 2}}, \"t\": {\"u\": 3}, \"v\": 4}", "{\"v\": 4, \"p/q\": 1, \"t/u\": 3, \"p/r/s\": 2}", "{\"v\": 4, \"p/q\": 1, \"t/u\": 3, \"p/r/s\": 2}"},
    {"{\"a/x\": 1, \"a\": {\"x\": 2}, \"b\": 3}", "{\"a/x\": 2, \"b\": 3}", "{\"a/x\": 2, \"b\": 3}"},
};

#define MAX_ROWS 4
/* {name, existing header line or NULL, results, count, progress.csv bytes} */
static const struct {
    const char *name, *existing;
    const char *rows[MAX_ROWS];
    int nrows;
    const char *csv;
} csv_cases[] = {
    {"basic", NULL,
     {"{\"training_iteration\": 1, \"mean_loss\": 0.5, \"done\": false, \"config\": {\"lr\": 0.1}, \"info\": {\"a\": 1, \"b\": {\"c\": 2.5}}, \"tag\": \"x\", \"hist\": [1, 2.0, \"s\", null, true], \"none\": null}",
      "{\"training_iteration\": 2, \"mean_loss\": 0.25, \"done\": true, \"config\": {\"lr\": 0.1}, \"info\": {\"a\": 2}, \"tag\": \"y\", \"hist\": [], \"none\": 3, \"new_key\": 9}",
      "{\"mean_loss\": NaN, \"training_iteration\": 3, \"info\": {\"b\": {\"c\": -Infinity}}}"},
     3,
     "training_iteration,mean_loss,done,tag,hist,none,info/a,info/b/c\r\n1,0.5,False,x,\"[1, 2.0, 's', None, True]\",,1,2.5\r\n2,0.25,True,y,[],3,2,\r\n3,nan,,,,,,-inf\r\n"},
    {"quoting", NULL,
     {"{\"plain\": \"a b\", \"comma\": \"a,b\", \"quote\": \"say \\\"hi\\\"\", \"nl\": \"l1\\nl2\", \"cr\": \"r\\rs\", \"lead\": \" x\", \"empty\": \"\", \"list\": [\"a,b\", \"it's\"], \"uni\": \"caf\\u00e9\"}"},
     1,
     "plain,comma,quote,nl,cr,lead,empty,list,uni\r\na b,\"a,b\",\"say \"\"hi\"\"\",\"l1\nl2\",\"r\rs\", x,,\"['a,b', \"\"it's\"\"]\",café\r\n"},
    {"header-quoting", NULL,
     {"{\"a,b\": 1, \"q\\\"k\": 2, \"plain\": 3}"},
     1,
     "\"a,b\",\"q\"\"k\",plain\r\n1,2,3\r\n"},
    {"one-empty", NULL,
     {"{\"only\": \"\"}",
      "{\"other\": 1}",
      "{\"only\": null}",
      "{\"only\": 0}"},
     4,
     "only\r\n\"\"\r\n\"\"\r\n\"\"\r\n0\r\n"},
    {"empty-first", NULL,
     {"{\"config\": {\"a\": 1}}",
      "{\"x\": 1}"},
     2,
     "\r\n\r\n\r\n"},
    {"floats", NULL,
     {"{\"a\": 1.0, \"b\": 1e16, \"c\": 1e-05, \"d\": 0.1, \"e\": 123456789.123, \"f\": -0.0, \"g\": Infinity, \"h\": 12, \"i\": -9223372036854775808, \"j\": true, \"k\": false}"},
     1,
     "a,b,c,d,e,f,g,h,i,j,k\r\n1.0,1e+16,1e-05,0.1,123456789.123,-0.0,inf,12,-9223372036854775808,True,False\r\n"},
    {"existing", "training_iteration,mean_loss,info/a,\"odd,name\"",
     {"{\"mean_loss\": 1.5, \"training_iteration\": 4, \"info\": {\"a\": 7}, \"extra\": 1}",
      "{\"odd,name\": \"v\", \"training_iteration\": 5}"},
     2,
     "4,1.5,7,\r\n5,,,v\r\n"},
    {"existing-crlf", "a,b\r\n",
     {"{\"b\": 2, \"a\": 1, \"c\": 3}"},
     1,
     "1,2\r\n"},
    {"existing-dup", "a,b,a",
     {"{\"b\": 2, \"a\": 1}"},
     1,
     "1,2,1\r\n"},
    {"existing-quoted", "\"x\"\"y\",\"\",z",
     {"{\"x\\\"y\": 1, \"\": 2, \"z\": 3}"},
     1,
     "1,2,3\r\n"},
};

/* {result, result.json line} */
static const struct { const char *text, *line; } json_line_cases[] = {
    {"{\"training_iteration\": 1, \"mean_loss\": 0.5, \"done\": false, \"config\": {\"lr\": 0.1}, \"info\": {\"a\": 1, \"b\": {\"c\": 2.5}}, \"tag\": \"x\", \"hist\": [1, 2.0, \"s\", null, true], \"none\": null}", "{\"training_iteration\": 1, \"mean_loss\": 0.5, \"done\": false, \"config\": {\"lr\": 0.1}, \"info\": {\"a\": 1, \"b\": {\"c\": 2.5}}, \"tag\": \"x\", \"hist\": [1, 2.0, \"s\", null, true], \"none\": null}\n"},
    {"{\"training_iteration\": 2, \"mean_loss\": 0.25, \"done\": true, \"config\": {\"lr\": 0.1}, \"info\": {\"a\": 2}, \"tag\": \"y\", \"hist\": [], \"none\": 3, \"new_key\": 9}", "{\"training_iteration\": 2, \"mean_loss\": 0.25, \"done\": true, \"config\": {\"lr\": 0.1}, \"info\": {\"a\": 2}, \"tag\": \"y\", \"hist\": [], \"none\": 3, \"new_key\": 9}\n"},
    {"{\"mean_loss\": NaN, \"training_iteration\": 3, \"info\": {\"b\": {\"c\": -Infinity}}}", "{\"mean_loss\": NaN, \"training_iteration\": 3, \"info\": {\"b\": {\"c\": -Infinity}}}\n"},
    {"{\"plain\": \"a b\", \"comma\": \"a,b\", \"quote\": \"say \\\"hi\\\"\", \"nl\": \"l1\\nl2\", \"cr\": \"r\\rs\", \"lead\": \" x\", \"empty\": \"\", \"list\": [\"a,b\", \"it's\"], \"uni\": \"caf\\u00e9\"}", "{\"plain\": \"a b\", \"comma\": \"a,b\", \"quote\": \"say \\\"hi\\\"\", \"nl\": \"l1\\nl2\", \"cr\": \"r\\rs\", \"lead\": \" x\", \"empty\": \"\", \"list\": [\"a,b\", \"it's\"], \"uni\": \"café\"}\n"},
    {"{\"a,b\": 1, \"q\\\"k\": 2, \"plain\": 3}", "{\"a,b\": 1, \"q\\\"k\": 2, \"plain\": 3}\n"},
    {"{\"only\": \"\"}", "{\"only\": \"\"}\n"},
    {"{\"other\": 1}", "{\"other\": 1}\n"},
    {"{\"only\": null}", "{\"only\": null}\n"},
    {"{\"only\": 0}", "{\"only\": 0}\n"},
    {"{\"config\": {\"a\": 1}}", "{\"config\": {\"a\": 1}}\n"},
    {"{\"x\": 1}", "{\"x\": 1}\n"},
    {"{\"a\": 1.0, \"b\": 1e16, \"c\": 1e-05, \"d\": 0.1, \"e\": 123456789.123, \"f\": -0.0, \"g\": Infinity, \"h\": 12, \"i\": -9223372036854775808, \"j\": true, \"k\": false}", "{\"a\": 1.0, \"b\": 1e+16, \"c\": 1e-05, \"d\": 0.1, \"e\": 123456789.123, \"f\": -0.0, \"g\": Infinity, \"h\": 12, \"i\": -9223372036854775808, \"j\": true, \"k\": false}\n"},
    {"{\"mean_loss\": 1.5, \"training_iteration\": 4, \"info\": {\"a\": 7}, \"extra\": 1}", "{\"mean_loss\": 1.5, \"training_iteration\": 4, \"info\": {\"a\": 7}, \"extra\": 1}\n"},
    {"{\"odd,name\": \"v\", \"training_iteration\": 5}", "{\"odd,name\": \"v\", \"training_iteration\": 5}\n"},
    {"{\"b\": 2, \"a\": 1, \"c\": 3}", "{\"b\": 2, \"a\": 1, \"c\": 3}\n"},
    {"{\"b\": 2, \"a\": 1}", "{\"b\": 2, \"a\": 1}\n"},
    {"{\"x\\\"y\": 1, \"\": 2, \"z\": 3}", "{\"x\\\"y\": 1, \"\": 2, \"z\": 3}\n"},
};

/* {nested result, path, compact JSON of the value or NULL when absent} */
static const struct { const char *text, *path, *value; } path_cases[] = {
    {"{\"a\": 1}", "a", "1"},
    {"{\"a\": {\"b\": {\"c\": 2}}}", "a/b/c", "2"},
    {"{\"a\": {\"b\": {\"c\": 2}}}", "a/b", "{\"c\": 2}"},
    {"{\"a\": {\"b\": 1}}", "a/c", NULL},
    {"{\"a\": {\"b\": 1}}", "b", NULL},
    {"{\"a\": [1, 2]}", "a/0", NULL},                          /* lists are values */
    {"{\"a/b\": 5, \"a\": {\"b\": 6}}", "a/b", "5"},            /* the literal key first */
    {"{\"a/b\": {\"c\": 7}}", "a/b/c", "7"},                    /* a key holding "/" */
    {"{\"a\": {\"b/c\": {\"d\": 8}}}", "a/b/c/d", "8"},
    {"{\"a\": 1}", "", NULL},
    {"{\"\": {\"x\": 3}}", "/x", "3"},
    {"{\"a\": {\"\": 4}}", "a/", "4"},
};

static json_t *load(const char *text)
{
    tc_error err;
    tc_error_init(&err);
    json_t *v = tc_json_loads(text, strlen(text), &err);
    if (!v)
        fprintf(stderr, "bad test JSON %s: %s\n", text, err.text);
    return v;
}

static void check_dump(const json_t *v, const char *expected)
{
    tc_buf b;
    tc_buf_init(&b);
    CHECK_INT(tc_json_dump(v, &b, TC_DUMP_COMPACT), 0);
    CHECK_STR(b.data, expected);
    tc_buf_free(&b);
}

/* tc_flatten_walk callback: collects pairs into an object, counting calls */
static int count_pairs(void *ctx, const char *key, size_t key_len, json_t *value)
{
    (*(int *)ctx)++;
    return 0;
}

static int stop_at_second(void *ctx, const char *key, size_t key_len, json_t *value)
{
    return ++(*(int *)ctx) == 2 ? -1 : 0;
}

static void test_flatten(void)
{
    for (size_t i = 0; i < sizeof flatten_cases / sizeof flatten_cases[0]; i++) {
        json_t *v = load(flatten_cases[i].text);
        json_t *flat = tc_flatten(v, "/", NULL);
        json_t *flat2 = tc_flatten(v, "/", "config");
        CHECK(flat && flat2);
        check_dump(flat, flatten_cases[i].flat);
        check_dump(flat2, flatten_cases[i].flat_no_config);
        /* values are shared, not copied */
        json_t *top = json_object_get(v, "d");
        if (top)
            CHECK(json_object_get(flat, "d") == top);
        json_decref(flat);
        json_decref(flat2);
        json_decref(v);
    }
    /* another delimiter */
    json_t *v = load("{\"a\": {\"b\": 1}, \"c\": 2}");
    json_t *flat = tc_flatten(v, ".", NULL);
    check_dump(flat, "{\"c\": 2, \"a.b\": 1}");
    json_decref(flat);
    /* the walk: one call per pair; a callback error stops it */
    tc_buf key;
    tc_buf_init(&key);
    int calls = 0;
    CHECK_INT(tc_flatten_walk(v, "/", NULL, &key, count_pairs, &calls), 0);
    CHECK_INT(calls, 2);
    calls = 0;
    CHECK_INT(tc_flatten_walk(v, "/", NULL, &key, stop_at_second, &calls), -1);
    CHECK_INT(calls, 2);
    json_t *arr = json_array();
    CHECK_INT(tc_flatten_walk(arr, "/", NULL, &key, count_pairs, &calls), -1);
    CHECK(tc_flatten(arr, "/", NULL) == NULL);
    json_decref(arr);
    tc_buf_free(&key);
    json_decref(v);
}

static void test_path_get(void)
{
    for (size_t i = 0; i < sizeof path_cases / sizeof path_cases[0]; i++) {
        json_t *v = load(path_cases[i].text);
        json_t *got = tc_json_path_get(v, path_cases[i].path);
        if (!path_cases[i].value) {
            CHECK(got == NULL);
        } else {
            CHECK(got != NULL);
            if (got)
                check_dump(got, path_cases[i].value);
        }
        json_decref(v);
    }
    CHECK(tc_json_path_get(NULL, "a") == NULL);
}

static void test_json_lines(void)
{
    tc_buf b;
    tc_buf_init(&b);
    for (size_t i = 0; i < sizeof json_line_cases / sizeof json_line_cases[0]; i++) {
        json_t *v = load(json_line_cases[i].text);
        tc_buf_clear(&b);
        CHECK_INT(tc_log_json_line(v, &b), 0);
        CHECK_STR(b.data, json_line_cases[i].line);
        json_decref(v);
    }
    /* appends; a failed line leaves the buffer as it was */
    tc_buf_clear(&b);
    tc_buf_puts(&b, "keep");
    json_t *deep = json_array(), *cur = deep;
    for (int i = 0; i < 3000; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    CHECK_INT(tc_log_json_line(deep, &b), -1);
    CHECK_STR(b.data, "keep");
    json_decref(deep);
    tc_buf_free(&b);
}

static void test_csv(void)
{
    for (size_t i = 0; i < sizeof csv_cases / sizeof csv_cases[0]; i++) {
        tc_csv *csv = tc_csv_new(csv_cases[i].existing);
        tc_buf out;
        tc_buf_init(&out);
        CHECK(csv != NULL);
        for (int r = 0; r < csv_cases[i].nrows; r++) {
            json_t *v = load(csv_cases[i].rows[r]);
            CHECK_INT(tc_csv_row(csv, v, &out), 0);
            json_decref(v);
        }
        if (!out.data || strcmp(out.data, csv_cases[i].csv) != 0)
            fprintf(stderr, "csv case %s:\n", csv_cases[i].name);
        CHECK_STR(out.data, csv_cases[i].csv);
        tc_buf_free(&out);
        tc_csv_free(csv);
    }
}

static void test_csv_misc(void)
{
    tc_buf out;
    tc_buf_init(&out);
    /* an empty existing file has no header: one is written */
    tc_csv *csv = tc_csv_new("");
    json_t *v = load("{\"a\": 1}");
    CHECK_INT(tc_csv_row(csv, v, &out), 0);
    CHECK_STR(out.data, "a\r\n1\r\n");
    /* not an object: refused, nothing written */
    json_t *arr = json_array();
    CHECK_INT(tc_csv_row(csv, arr, &out), -1);
    CHECK_STR(out.data, "a\r\n1\r\n");
    json_decref(arr);
    tc_csv_free(csv);
    tc_csv_free(NULL);
    json_decref(v);

    /* many columns (the field table grows) keep their order and values */
    csv = tc_csv_new(NULL);
    v = json_object();
    char key[16];
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "k%d", i);
        json_object_set_new(v, key, json_integer(i));
    }
    tc_buf_clear(&out);
    CHECK_INT(tc_csv_row(csv, v, &out), 0);
    CHECK(strncmp(out.data, "k0,k1,k2,", 9) == 0);
    char *row = strstr(out.data, "\r\n") + 2;
    CHECK(strncmp(row, "0,1,2,", 6) == 0);
    CHECK(strstr(row, ",298,299\r\n") != NULL);
    json_decref(v);
    tc_csv_free(csv);
    tc_buf_free(&out);
}

int main(void)
{
    test_flatten();
    test_path_get();
    test_json_lines();
    test_csv();
    test_csv_misc();
    TEST_MAIN_END();
}
