/* test_runner_search_tpe.c — the runner's native TPE searcher
 * (runner_search.c's TPE operations over search_space_tpe.c), driven as
 * the executor drives it: search_step, choose, start, on_result,
 * on_complete. The host gives no search callbacks at all: a suggestion
 * never leaves the engine. The questions: a suggestion is made only when a
 * trial could start, its config holds every domain kind mapped back to
 * Ray's values, completions reach the core (the search concentrates near the
 * optimum), the same seed gives the same search, and what the TPE cannot
 * model is refused before any trial, naming the config path. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tc_test.h"
#include "start_attempt.h"
#include "tunec.h"
#include "runner.h"
#include "mem_fs.h"

typedef struct host { mem_fs fs; } host;

static const char *SPACE =
    "{\"config\": {\"x\": {\"$tunec\": \"domain\", \"kind\": \"uniform\", \"lower\": -5, \"upper\": 5},"
    " \"nest\": {\"lr\": {\"$tunec\": \"domain\", \"kind\": \"loguniform\", \"lower\": 1e-4, \"upper\": 1e-1},"
    "            \"q\": {\"$tunec\": \"domain\", \"kind\": \"quniform\", \"lower\": 0.1, \"upper\": 1.0, \"q\": 0.25}},"
    " \"n\": {\"$tunec\": \"domain\", \"kind\": \"randint\", \"lower\": 0, \"upper\": 4},"
    " \"m\": {\"$tunec\": \"domain\", \"kind\": \"qlograndint\", \"lower\": 2, \"upper\": 64, \"q\": 2},"
    " \"c\": {\"$tunec\": \"domain\", \"kind\": \"choice\", \"categories\": [\"a\", \"b\", 3]},"
    " \"const\": 7}}";

static const char *OPTS =
    "{\"type\": \"tpe\", \"metric\": \"loss\", \"mode\": \"min\", \"n_startup_trials\": 4,"
    " \"seed\": 11}";

static tc_runner *make_runner(host *h, const char *space, const char *opts, double cpus,
                              long max_trials, tc_error *err)
{
    tc_host hs = mem_fs_host(h);
    tc_runner_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.session_str = "2020-01-01_00-00-00";
    tc_runner *r = tc_runner_new(&ro, &hs, err);
    tc_capacity_init(tc_runner_capacity_mut(r), cpus, 0, NULL);
    json_t *spec = json_loads(space, 0, NULL), *o = json_loads(opts, 0, NULL);
    CHECK(spec && o);
    tc_space *sp = tc_space_new(spec, max_trials, 42, err);
    CHECK(sp != NULL);
    tc_experiment_opts xo;
    memset(&xo, 0, sizeof xo);
    xo.name = "exp";
    xo.exp_dir = "/r/exp";
    xo.trainable_name = "train";
    xo.resources.cpu = 1;
    CHECK_INT(tc_runner_add_experiment(r, &xo, sp, err), 0);
    int rc = tc_runner_set_tpe_searcher(r, 0, spec, max_trials, o, err);
    json_decref(spec);
    json_decref(o);
    if (rc < 0) {
        tc_runner_free(r);
        return NULL;
    }
    return r;
}

static int step(tc_runner *r)
{
    tc_error err;
    tc_error_init(&err);
    int rc = tc_runner_search_step(r, NULL, NULL, &err);
    if (rc < 0)
        fprintf(stderr, "search_step: %s\n", err.text);
    return rc;
}

static tc_trial *start_next(tc_runner *r)
{
    tc_error err;
    tc_error_init(&err);
    tc_trial *t = tc_runner_choose(r, NULL);
    if (t)
        CHECK_INT(start_attempt(r, t, 1234, "host", &err), 0);
    return t;
}

static void finish(tc_runner *r, tc_trial *t, double loss)
{
    char text[128];
    tc_error err;
    tc_error_init(&err);
    tc_decision d = TC_CONTINUE;
    snprintf(text, sizeof text, "{\"training_iteration\": 1, \"loss\": %.17g}", loss);
    CHECK_INT(tc_runner_on_result(r, t, text, strlen(text), &d, &err), 0);
    CHECK_INT(tc_runner_on_complete(r, t, &err), 0);
}

static double num(const json_t *config, const char *a, const char *b)
{
    const json_t *v = json_object_get(config, a);
    if (b)
        v = json_object_get(v, b);
    return json_number_value(v);
}

/* Asked only when a trial could start: one PENDING at a time, and not
 * beyond the capacity; an end frees a slot and is heard first. */
static void test_asks_only_when_a_trial_can_start(void)
{
    host *h = calloc(1, sizeof *h);
    tc_error err;
    tc_error_init(&err);
    tc_runner *r = make_runner(h, SPACE, OPTS, 2, 6, &err);
    CHECK(r != NULL);
    CHECK_INT(step(r), 1);
    CHECK_INT(step(r), 0);                 /* the first waits PENDING */
    CHECK_INT(tc_runner_num_trials(r), 1);
    tc_trial *a = start_next(r);
    CHECK_INT(step(r), 1);
    tc_trial *b = start_next(r);
    CHECK(a && b);
    CHECK_INT(step(r), 0);                 /* two CPUs, two running */
    CHECK_INT(tc_runner_num_trials(r), 2);
    finish(r, a, 1.0);
    CHECK_INT(step(r), 1);
    CHECK_INT(tc_runner_num_trials(r), 3);
    /* Every domain kind comes back as Ray's value. */
    for (long i = 0; i < tc_runner_num_trials(r); i++) {
        const json_t *c = tc_runner_trial(r, i)->config;
        double x = num(c, "x", NULL), lr = num(c, "nest", "lr"), q = num(c, "nest", "q");
        CHECK(x >= -5 && x <= 5);
        CHECK(lr >= 1e-4 && lr <= 1e-1);
        CHECK(q >= 0.25 - 1e-12 && q <= 1.0 + 1e-12);
        CHECK(fabs(q / 0.25 - nearbyint(q / 0.25)) < 1e-9);
        CHECK(json_is_integer(json_object_get(c, "n")));
        CHECK(num(c, "n", NULL) >= 0 && num(c, "n", NULL) <= 3);
        CHECK(json_is_integer(json_object_get(c, "m")));
        CHECK((long)num(c, "m", NULL) % 2 == 0);
        const json_t *cat = json_object_get(c, "c");
        CHECK(json_is_string(cat) || json_integer_value(cat) == 3);
        CHECK_INT(json_integer_value(json_object_get(c, "const")), 7);
        const json_t *params = tc_runner_trial(r, i)->evaluated_params;
        CHECK(json_object_get(params, "nest/lr") != NULL);
        CHECK(json_object_get(params, "const") == NULL);
    }
    tc_runner_free(r);
    mem_fs_free(&h->fs);
    free(h);
}

/* Runs n trials one at a time with loss (x - 3)^2; fills xs. */
static void run_sequential(const char *opts, int n, double *xs)
{
    host *h = calloc(1, sizeof *h);
    tc_error err;
    tc_error_init(&err);
    tc_runner *r = make_runner(h, SPACE, opts, 1, n, &err);
    CHECK(r != NULL);
    for (int i = 0; i < n; i++) {
        CHECK_INT(step(r), 1);
        tc_trial *t = start_next(r);
        CHECK(t != NULL);
        if (!t)
            break;
        xs[i] = num(t->config, "x", NULL);
        finish(r, t, (xs[i] - 3) * (xs[i] - 3));
    }
    CHECK_INT(step(r), 0);                 /* num_samples made */
    tc_runner_free(r);
    mem_fs_free(&h->fs);
    free(h);
}

/* Completions reach the core: after the random start the suggestions
 * gather around x = 3; the same seed gives the same search. */
static void test_completions_are_fed(void)
{
    double a[40], b[40];
    run_sequential(OPTS, 40, a);
    run_sequential(OPTS, 40, b);
    CHECK(memcmp(a, b, sizeof a) == 0);
    double first = 0, last = 0;
    for (int i = 0; i < 10; i++) {
        first += fabs(a[i] - 3);
        last += fabs(a[30 + i] - 3);
    }
    CHECK(last < first / 3);
}

static void expect_refused(const char *space, const char *opts, const char *needle)
{
    host *h = calloc(1, sizeof *h);
    tc_error err;
    tc_error_init(&err);
    tc_runner *r = make_runner(h, space, opts, 1, 5, &err);
    CHECK(r == NULL);
    CHECK(strstr(err.text, needle) != NULL);
    if (!strstr(err.text, needle))
        fprintf(stderr, "expected \"%s\" in: %s\n", needle, err.text);
    mem_fs_free(&h->fs);
    free(h);
}

static void test_refusals_name_the_path(void)
{
    expect_refused("{\"config\": {\"a\": {\"b\": {\"grid_search\": [1, 2]}}, "
                   "\"x\": {\"$tunec\": \"domain\", \"kind\": \"uniform\", \"lower\": 0, \"upper\": 1}}}",
                   OPTS, "config[\"a\"][\"b\"]");
    expect_refused("{\"config\": {\"w\": {\"$tunec\": \"domain\", \"kind\": \"randn\"}}}", OPTS,
                   "config[\"w\"]: TPESearch cannot model randn");
    expect_refused("{\"config\": {\"l\": [{\"$tunec\": \"domain\", \"kind\": \"uniform\", "
                   "\"lower\": 0, \"upper\": 1}]}}", OPTS, "config[\"l\"][0]");
    expect_refused(SPACE, "{\"metric\": \"loss\"}", "needs a metric and a mode");
    expect_refused(SPACE, "{\"metric\": \"loss\", \"mode\": \"min\", \"points_to_evaluate\": "
                   "[{\"c\": \"zz\"}]}", "config[\"c\"]: points_to_evaluate");
}

/* A completed trial whose last result lacks the metric fails the step,
 * naming the metric. */
static void test_missing_metric(void)
{
    host *h = calloc(1, sizeof *h);
    tc_error err;
    tc_error_init(&err);
    tc_runner *r = make_runner(h, SPACE, OPTS, 1, 3, &err);
    CHECK_INT(step(r), 1);
    tc_trial *t = start_next(r);
    const char *text = "{\"training_iteration\": 1, \"acc\": 1}";
    tc_decision d = TC_CONTINUE;
    CHECK_INT(tc_runner_on_result(r, t, text, strlen(text), &d, &err), 0);
    CHECK_INT(tc_runner_on_complete(r, t, &err), 0);
    CHECK_INT(tc_runner_search_step(r, NULL, NULL, &err), -1);
    CHECK(strstr(err.text, "no metric \"loss\"") != NULL);
    tc_runner_free(r);
    mem_fs_free(&h->fs);
    free(h);
}

int main(void)
{
    test_asks_only_when_a_trial_can_start();
    test_completions_are_fed();
    test_refusals_name_the_path();
    test_missing_metric();
    TEST_MAIN_END();
}
