/* test_trial_resources.c — per-trial resource requests (host.trial_resources,
 * tune.with_resources with a callable of the config): the runner asks once
 * per new trial, reserves each trial's own amount while it runs (the FIFO
 * choice, the capacity, the GPUs), reports it in the trial's snapshot, and
 * fails naming the trial when a request is malformed or can never fit. The
 * host is in memory (mem_fs.h); its callback reads {"cpu": config.n}. */
#include <stdlib.h>
#include <string.h>
#include "tc_test.h"
#include "start_attempt.h"
#include "tunec.h"
#include "runner.h"
#include "mem_fs.h"

typedef struct {
    mem_fs fs;                /* first: the runner's context is also the mem_fs */
    int calls;                /* how often the runner asked */
    int fail;                 /* the callback fails (a raising Python callable) */
} res_host;

/* {"cpu": n, "gpu": g} from the config's n and g; no n: the experiment's
 * request. A "bad" key in the config asks for an unknown resource. */
static int fake_trial_resources(void *ctx, int experiment, const json_t *config,
                                json_t **request, tc_error *err)
{
    res_host *h = ctx;
    (void)experiment;
    h->calls++;
    if (h->fail)
        return tc_error_set(err, TC_ERR_CALLBACK, "the callable raised");
    json_t *n = json_object_get(config, "n");
    if (!n)
        return 0;
    *request = json_pack("{s:O}", "cpu", n);
    json_t *g = json_object_get(config, "g");
    if (g)
        json_object_set(*request, "gpu", g);
    if (json_object_get(config, "bad"))
        json_object_set_new(*request, "cpux", json_integer(1));
    return 1;
}

/* A runner over space_json with `cpus` CPUs and `gpus` GPUs; the experiment
 * asks for 1 CPU unless the callback says otherwise. Returns NULL (err set)
 * when generating the trials fails. */
static tc_runner *make_runner(res_host *h, const char *space_json, double cpus, int gpus,
                              tc_error *err)
{
    tc_host host = mem_fs_host(h);
    host.trial_resources = fake_trial_resources;
    tc_runner_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.session_str = "2020-01-01_00-00-00";
    tc_runner *r = tc_runner_new(&ro, &host, err);
    tc_capacity_init(tc_runner_capacity_mut(r), cpus, gpus, NULL);
    json_t *spec = json_loads(space_json, 0, NULL);
    tc_space *space = tc_space_new(spec, 1, 42, err);
    json_decref(spec);
    CHECK(space != NULL);
    tc_experiment_opts xo;
    memset(&xo, 0, sizeof xo);
    xo.name = "exp";
    xo.exp_dir = "/r/exp";
    xo.trainable_name = "train";
    xo.resources.cpu = 1;
    xo.log_json = 1;
    CHECK_INT(tc_runner_add_experiment(r, &xo, space, err), 0);
    if (tc_runner_generate(r, NULL, NULL, 1000, err) < 0) {
        tc_runner_free(r);
        return NULL;
    }
    return r;
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

static void finish(tc_runner *r, tc_trial *t)
{
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_on_complete(r, t, &err), 0);
}

/* Trials asking for 2, 1, 1, 2 CPUs of 2: the 2-CPU trials run alone, the
 * 1-CPU ones side by side; FIFO order holds (the last waits for both). */
static void test_each_trial_reserves_its_own(void)
{
    res_host h = {.fs.clock = 1000.0};
    tc_error err;
    tc_error_init(&err);
    tc_runner *r = make_runner(&h, "{\"config\": {\"n\": {\"grid_search\": [2, 1, 1, 2]}}}",
                               2, 0, &err);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_INT(h.calls, 4);
    CHECK_NEAR(tc_trial_resources(r, tc_runner_trial(r, 0))->cpu, 2, 1e-9);
    CHECK_NEAR(tc_trial_resources(r, tc_runner_trial(r, 1))->cpu, 1, 1e-9);

    tc_trial *a = start_next(r);
    CHECK_INT(a->index, 0);
    CHECK(start_next(r) == NULL);                 /* 2 of 2 CPUs held */
    CHECK_NEAR(tc_runner_capacity(r)->used.cpu, 2, 1e-9);
    finish(r, a);
    CHECK_NEAR(tc_runner_capacity(r)->used.cpu, 0, 1e-9);

    tc_trial *b = start_next(r), *c = start_next(r);
    CHECK(b && c && b->index == 1 && c->index == 2);
    CHECK(start_next(r) == NULL);                 /* the 2-CPU trial waits */
    finish(r, b);
    CHECK(start_next(r) == NULL);                 /* 1 CPU free is not enough */
    finish(r, c);
    tc_trial *d = start_next(r);
    CHECK(d && d->index == 3);
    CHECK_NEAR(tc_runner_capacity(r)->used.cpu, 2, 1e-9);

    /* The snapshot (Trial.resources, the state file) shows the trial's own. */
    json_t *snap = tc_trial_snapshot(r, d);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(snap, "resources"), "cpu")), 2);
    json_decref(snap);
    finish(r, d);
    CHECK(tc_runner_is_finished(r));
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

/* No own request (the callback answers 0): the experiment's applies. */
static void test_experiment_request_by_default(void)
{
    res_host h = {.fs.clock = 1000.0};
    tc_error err;
    tc_error_init(&err);
    tc_runner *r = make_runner(&h, "{\"config\": {\"x\": {\"grid_search\": [1, 2, 3]}}}", 2, 0,
                               &err);
    CHECK(r != NULL);
    if (!r)
        return;
    CHECK_INT(h.calls, 3);
    CHECK(start_next(r) != NULL);
    CHECK(start_next(r) != NULL);
    CHECK(start_next(r) == NULL);                 /* 1 CPU each, 2 CPUs */
    CHECK_NEAR(tc_trial_resources(r, tc_runner_trial(r, 2))->cpu, 1, 1e-9);
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

/* Whole GPUs follow the trial's request: a 2-GPU trial takes both devices. */
static void test_gpus_follow_the_request(void)
{
    res_host h = {.fs.clock = 1000.0};
    tc_error err;
    tc_error_init(&err);
    tc_runner *r = make_runner(&h, "{\"config\": {\"n\": 1, \"g\": {\"grid_search\": [2, 1, 1]}}}",
                               4, 2, &err);
    CHECK(r != NULL);
    if (!r)
        return;
    tc_trial *a = start_next(r);
    CHECK(a && a->ngpu_ids == 2);
    CHECK(start_next(r) == NULL);
    finish(r, a);
    tc_trial *b = start_next(r), *c = start_next(r);
    CHECK(b && c && b->ngpu_ids == 1 && c->ngpu_ids == 1);
    CHECK(b && c && b->gpu_ids[0] != c->gpu_ids[0]);
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

/* A request that can never fit fails while the trials are made, before any
 * starts, naming with_resources and the trial. */
static void test_never_fits_names_the_trial(void)
{
    res_host h = {.fs.clock = 1000.0};
    tc_error err;
    tc_error_init(&err);
    tc_runner *r = make_runner(&h, "{\"config\": {\"n\": {\"grid_search\": [1, 3]}}}", 2, 0,
                               &err);
    CHECK(r == NULL);
    CHECK_INT(err.code, TC_ERR_TUNE);
    CHECK(strstr(err.text, "with_resources") != NULL);
    CHECK(strstr(err.text, "train_00001") != NULL);
    CHECK(strstr(err.text, "1_n=3") != NULL);
    CHECK(strstr(err.text, "Insufficient cluster resources") != NULL);
    mem_fs_free(&h.fs);
}

/* A malformed request, and a failing callback, fail the run too. */
static void test_bad_request_and_failing_callback(void)
{
    res_host h = {.fs.clock = 1000.0};
    tc_error err;
    tc_error_init(&err);
    CHECK(make_runner(&h, "{\"config\": {\"n\": 1, \"bad\": 1}}", 2, 0, &err) == NULL);
    CHECK_INT(err.code, TC_ERR_TUNE);
    CHECK(strstr(err.text, "with_resources: trial train_00000") != NULL);
    CHECK(strstr(err.text, "cpux") != NULL);
    mem_fs_free(&h.fs);

    res_host h2 = {.fs.clock = 1000.0, .fail = 1};
    tc_error_init(&err);
    CHECK(make_runner(&h2, "{\"config\": {\"n\": 1}}", 2, 0, &err) == NULL);
    CHECK_INT(err.code, TC_ERR_CALLBACK);
    mem_fs_free(&h2.fs);
}

int main(void)
{
    test_each_trial_reserves_its_own();
    test_experiment_request_by_default();
    test_gpus_follow_the_request();
    test_never_fits_names_the_trial();
    test_bad_request_and_failing_callback();
    TEST_MAIN_END();
}
