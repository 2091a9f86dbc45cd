/* test_metrics.c — a trial's metric_analysis (spec §6.3). The expected JSON
 * was produced by Python 3.11 running Ray 0.8.5's Trial.update_last_result
 * arithmetic (booleans excluded; without training_iteration the step is the
 * update count) over the same results, then json.dumps. */
#include <stdlib.h>
#include "tc_test.h"
#include "tunec.h"

#define MAX_RESULTS 12
/* {name, flattened results in order, count, json.dumps(metric_analysis)} */
static const struct {
    const char *name;
    const char *results[MAX_RESULTS];
    int n;
    const char *expected;
} cases[] = {
    {"ordinary",
     {"{\"training_iteration\": 1, \"loss\": 1.0, \"acc\": 0.1, \"n\": 1, \"info/x\": -1, \"s\": \"str\", \"done\": false, \"l\": [1]}",
      "{\"training_iteration\": 2, \"loss\": 0.5, \"acc\": 0.2, \"n\": 4, \"info/x\": 2, \"s\": \"str\", \"done\": false, \"l\": [1]}",
      "{\"training_iteration\": 3, \"loss\": 0.3333333333333333, \"acc\": 0.30000000000000004, \"n\": 9, \"info/x\": -3, \"s\": \"str\", \"done\": false, \"l\": [1]}",
      "{\"training_iteration\": 4, \"loss\": 0.25, \"acc\": 0.4, \"n\": 16, \"info/x\": 4, \"s\": \"str\", \"done\": false, \"l\": [1]}",
      "{\"training_iteration\": 5, \"loss\": 0.2, \"acc\": 0.5, \"n\": 25, \"info/x\": -5, \"s\": \"str\", \"done\": false, \"l\": [1]}",
      "{\"training_iteration\": 6, \"loss\": 0.16666666666666666, \"acc\": 0.6000000000000001, \"n\": 36, \"info/x\": 6, \"s\": \"str\", \"done\": false, \"l\": [1]}",
      "{\"training_iteration\": 7, \"loss\": 0.14285714285714285, \"acc\": 0.7000000000000001, \"n\": 49, \"info/x\": -7, \"s\": \"str\", \"done\": false, \"l\": [1]}",
      "{\"training_iteration\": 8, \"loss\": 0.125, \"acc\": 0.8, \"n\": 64, \"info/x\": 8, \"s\": \"str\", \"done\": false, \"l\": [1]}",
      "{\"training_iteration\": 9, \"loss\": 0.1111111111111111, \"acc\": 0.9, \"n\": 81, \"info/x\": -9, \"s\": \"str\", \"done\": false, \"l\": [1]}",
      "{\"training_iteration\": 10, \"loss\": 0.1, \"acc\": 1.0, \"n\": 100, \"info/x\": 10, \"s\": \"str\", \"done\": false, \"l\": [1]}",
      "{\"training_iteration\": 11, \"loss\": 0.09090909090909091, \"acc\": 1.1, \"n\": 121, \"info/x\": -11, \"s\": \"str\", \"done\": false, \"l\": [1]}",
      "{\"training_iteration\": 12, \"loss\": 0.08333333333333333, \"acc\": 1.2000000000000002, \"n\": 144, \"info/x\": 12, \"s\": \"str\", \"done\": true, \"l\": [1]}"},
     12,
     "{\"training_iteration\": {\"max\": 12, \"min\": 1, \"avg\": 6.5, \"last\": 12, \"last-5-avg\": 10.0, \"last-10-avg\": 7.5}, \"loss\": {\"max\": 1.0, \"min\": 0.08333333333333333, \"avg\": 0.2586008898508898, \"last\": 0.08333333333333333, \"last-5-avg\": 0.10207070707070709, \"last-10-avg\": 0.1603210678210678}, \"acc\": {\"max\": 1.2000000000000002, \"min\": 0.1, \"avg\": 0.6500000000000001, \"last\": 1.2000000000000002, \"last-5-avg\": 1.0, \"last-10-avg\": 0.7500000000000001}, \"n\": {\"max\": 144, \"min\": 1, \"avg\": 54.166666666666664, \"last\": 144, \"last-5-avg\": 102.0, \"last-10-avg\": 64.5}, \"info/x\": {\"max\": 12, \"min\": -11, \"avg\": 0.5, \"last\": 12, \"last-5-avg\": 2.0, \"last-10-avg\": 0.5}}"},
    {"nan and inf",
     {"{\"training_iteration\": 1, \"v\": 3.0}",
      "{\"training_iteration\": 2, \"v\": NaN}",
      "{\"training_iteration\": 3, \"v\": 1.0}",
      "{\"training_iteration\": 4, \"v\": Infinity}",
      "{\"training_iteration\": 5, \"v\": 2.0}",
      "{\"training_iteration\": 6, \"v\": -Infinity}",
      "{\"training_iteration\": 7, \"v\": 5.0}"},
     7,
     "{\"training_iteration\": {\"max\": 7, \"min\": 1, \"avg\": 4.0, \"last\": 7, \"last-5-avg\": 5.0, \"last-10-avg\": 4.0}, \"v\": {\"max\": Infinity, \"min\": -Infinity, \"avg\": NaN, \"last\": 5.0, \"last-5-avg\": NaN, \"last-10-avg\": NaN}}"},
    {"restored iterations",
     {"{\"training_iteration\": 1, \"m\": 10}",
      "{\"training_iteration\": 2, \"m\": 20}",
      "{\"training_iteration\": 3, \"m\": 30}",
      "{\"training_iteration\": 2, \"m\": 25}",
      "{\"training_iteration\": 3, \"m\": 35}",
      "{\"training_iteration\": 4, \"m\": 0.5}"},
     6,
     "{\"training_iteration\": {\"max\": 4, \"min\": 1, \"avg\": 2.75, \"last\": 4, \"last-5-avg\": 2.8, \"last-10-avg\": 2.5}, \"m\": {\"max\": 35, \"min\": 0.5, \"avg\": 20.125, \"last\": 0.5, \"last-5-avg\": 22.1, \"last-10-avg\": 20.083333333333332}}"},
    {"zero and missing iteration",
     {"{\"training_iteration\": 0, \"m\": 4}",
      "{\"training_iteration\": 0, \"m\": 8}",
      "{\"m\": 1.5}",
      "{\"m\": 2.5, \"late\": 7}",
      "{\"m\": 3, \"late\": 1}"},
     5,
     "{\"training_iteration\": {\"max\": 0, \"min\": 0, \"avg\": 0.0, \"last\": 0, \"last-5-avg\": 0.0, \"last-10-avg\": 0.0}, \"m\": {\"max\": 8, \"min\": 1.5, \"avg\": 4.6000000000000005, \"last\": 3, \"last-5-avg\": 3.8, \"last-10-avg\": 3.8}, \"late\": {\"max\": 7, \"min\": 1, \"avg\": 4.0, \"last\": 1, \"last-5-avg\": 4.0, \"last-10-avg\": 4.0}}"},
    {"late key",
     {"{\"training_iteration\": 1, \"a\": 1}",
      "{\"training_iteration\": 2, \"a\": 2}",
      "{\"training_iteration\": 3, \"a\": 3, \"b\": 10.0}",
      "{\"training_iteration\": 4, \"a\": 4, \"b\": 20.0}"},
     4,
     "{\"training_iteration\": {\"max\": 4, \"min\": 1, \"avg\": 2.5, \"last\": 4, \"last-5-avg\": 2.5, \"last-10-avg\": 2.5}, \"a\": {\"max\": 4, \"min\": 1, \"avg\": 2.5, \"last\": 4, \"last-5-avg\": 2.5, \"last-10-avg\": 2.5}, \"b\": {\"max\": 20.0, \"min\": 10.0, \"avg\": 12.5, \"last\": 20.0, \"last-5-avg\": 15.0, \"last-10-avg\": 15.0}}"},
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

static void test_sequences(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tc_metrics *m = tc_metrics_new();
        CHECK(m != NULL);
        for (int r = 0; r < cases[i].n; r++) {
            json_t *v = load(cases[i].results[r]);
            CHECK_INT(tc_metrics_update(m, v), 0);
            json_decref(v);
        }
        json_t *j = tc_metrics_to_json(m);
        tc_buf b;
        tc_buf_init(&b);
        CHECK(j != NULL);
        tc_json_dump(j, &b, TC_DUMP_COMPACT);
        if (!b.data || strcmp(b.data, cases[i].expected) != 0)
            fprintf(stderr, "case %s:\n", cases[i].name);
        CHECK_STR(b.data, cases[i].expected);
        tc_buf_free(&b);
        json_decref(j);
        tc_metrics_free(m);
    }
}

static void test_get(void)
{
    static const struct { const char *key, *stat; int present; double value; } rows[] = {
        {"loss", "max", 1, 4.0}, {"loss", "min", 1, 1.0}, {"loss", "avg", 1, 2.5},
        {"loss", "last", 1, 4.0}, {"loss", "last-5-avg", 1, 2.5}, {"loss", "last-10-avg", 1, 2.5},
        {"loss", "median", 0, 0}, {"absent", "max", 0, 0}, {"flag", "max", 0, 0},
        {"name", "last", 0, 0}, {"nested/x", "last", 1, 8.0},
    };
    tc_metrics *m = tc_metrics_new();
    for (int it = 1; it <= 4; it++) {
        json_t *v = json_pack("{s:i, s:f, s:b, s:s, s:i}", "training_iteration", it, "loss",
                              (double)it, "flag", 1, "name", "x", "nested/x", 2 * it);
        CHECK_INT(tc_metrics_update(m, v), 0);
        json_decref(v);
    }
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double d = -1;
        CHECK_INT(tc_metrics_get(m, rows[i].key, rows[i].stat, &d), rows[i].present);
        if (rows[i].present)
            CHECK_NEAR(d, rows[i].value, 1e-12);
    }
    /* not an object: refused, state kept */
    json_t *arr = json_array();
    CHECK_INT(tc_metrics_update(m, arr), -1);
    json_decref(arr);
    double d;
    CHECK_INT(tc_metrics_get(m, "loss", "last", &d), 1);
    tc_metrics_free(m);
    tc_metrics_free(NULL);
}

static void test_many_keys(void)
{
    /* enough keys to grow the table several times; every key keeps its own stats */
    tc_metrics *m = tc_metrics_new();
    char key[32];
    for (int round = 1; round <= 3; round++) {
        json_t *v = json_object();
        json_object_set_new(v, "training_iteration", json_integer(round));
        for (int i = 0; i < 500; i++) {
            snprintf(key, sizeof key, "metric_%d", i);
            json_object_set_new(v, key, json_integer(i * round));
        }
        CHECK_INT(tc_metrics_update(m, v), 0);
        json_decref(v);
    }
    int bad = 0;
    for (int i = 0; i < 500; i++) {
        double mx, avg;
        snprintf(key, sizeof key, "metric_%d", i);
        if (!tc_metrics_get(m, key, "max", &mx) || mx != 3.0 * i ||
            !tc_metrics_get(m, key, "avg", &avg) || fabs(avg - 2.0 * i) > 1e-9)
            bad++;
    }
    CHECK_INT(bad, 0);
    json_t *j = tc_metrics_to_json(m);
    CHECK_INT(json_object_size(j), 501);
    json_decref(j);
    tc_metrics_free(m);
}

int main(void)
{
    test_sequences();
    test_get();
    test_many_keys();
    TEST_MAIN_END();
}
