/* test_result_delivery.c — which results reach a trial's files, and when
 * the experiment stops taking them (issue 9, items 5 and 6):
 *
 *   - a host Stopper's stop_all is asked after every result; once it says
 *     True, no trial starts, the running ones stop, and no later result is
 *     processed (Ray's _stop_experiment_if_needed after each step);
 *   - a function trainable runs ahead of the driver: when it is paused and
 *     returns before it sees the pause, the results after the pause were
 *     dropped, so its return does not complete the trial: it stays PAUSED
 *     and reruns them from its checkpoint.
 *
 * Driven as the executor drives the runner, on the in-memory host. */
#include <stdlib.h>
#include <string.h>
#include "tc_test.h"
#include "start_attempt.h"
#include "tunec.h"
#include "runner.h"
#include "mem_fs.h"

typedef struct {
    mem_fs fs;               /* first: the callbacks' ctx is also a mem_fs */
    int stopper_calls;
    int stop_all_after;      /* stop_all() becomes true at this call */
} host_state;

/* A Stopper like the Python test's: never stops one trial; stop_all once
 * it has seen stop_all_after results. */
static int counting_stopper(void *ctx, long trial, const json_t *result, int *stop,
                            int *stop_all, tc_error *err)
{
    host_state *h = ctx;
    h->stopper_calls++;
    *stop = 0;
    *stop_all = h->stop_all_after > 0 && h->stopper_calls >= h->stop_all_after;
    return 0;
}

static tc_runner *make_runner(host_state *h, const char *space_json, long samples,
                              const char *sched_json, double cpus)
{
    tc_error err;
    tc_error_init(&err);
    tc_host host = mem_fs_host(h);
    if (h->stop_all_after > 0)
        host.stopper = counting_stopper;
    tc_runner_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.session_str = "2020-01-01_00-00-00";
    tc_runner *r = tc_runner_new(&ro, &host, &err);
    tc_capacity_init(tc_runner_capacity_mut(r), cpus, 0, NULL);
    json_t *spec = json_loads(space_json, 0, NULL);
    tc_space *space = tc_space_new(spec, samples, 42, &err);
    CHECK(space != NULL);
    tc_experiment_opts xo;
    memset(&xo, 0, sizeof xo);
    xo.name = "exp";
    xo.exp_dir = "/r/exp";
    xo.trainable_name = "train";
    xo.resources.cpu = 1;
    xo.log_json = 1;
    CHECK_INT(tc_runner_add_experiment(r, &xo, space, &err), 0);
    if (sched_json) {
        json_t *sj = json_loads(sched_json, 0, NULL);
        CHECK_INT(tc_runner_set_scheduler(r, sj, 0, &err), 0);
        json_decref(sj);
    }
    json_decref(spec);
    CHECK(tc_runner_generate(r, NULL, NULL, 1000, &err) >= 0);
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

static tc_decision report(tc_runner *r, tc_trial *t, long it, double score)
{
    char text[160];
    snprintf(text, sizeof text, "{\"training_iteration\": %ld, \"score\": %.17g, "
             "\"config\": null}", it, score);
    tc_error err;
    tc_error_init(&err);
    tc_decision d = TC_CONTINUE;
    CHECK_INT(tc_runner_on_result(r, t, text, strlen(text), &d, &err), 0);
    return d;
}

static int checkpoint(tc_runner *r, tc_trial *t, long it)
{
    char dir[64], path[80];
    snprintf(dir, sizeof dir, "checkpoint_%ld", it);
    snprintf(path, sizeof path, "checkpoint_%ld/state", it);
    tc_error err;
    tc_error_init(&err);
    return tc_runner_on_checkpoint(r, t, dir, path, it, it, 0, &err);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

static int rows(host_state *h, const tc_trial *t)
{
    return t->logdir ? count_lines(mem_file_text(&h->fs, t->logdir, "result.json")) : 0;
}

/* ---- item 5: stop_all after each result ------------------------------ */

static void test_stop_all_after_each_result(void)
{
    host_state *h = calloc(1, sizeof *h);
    h->fs.clock = 1000.0;
    h->stop_all_after = 3;
    tc_runner *r = make_runner(h, "{\"config\": {}}", 50, NULL, 2);
    tc_trial *a = start_next(r), *b = start_next(r);
    CHECK(a && b && tc_runner_choose(r, NULL) == NULL);     /* two slots */
    CHECK_INT(report(r, a, 1, 0), TC_CONTINUE);
    CHECK_INT(report(r, b, 1, 0), TC_CONTINUE);
    CHECK(!tc_runner_stopping(r));
    /* the third result: stop_all() is true -> this trial stops too */
    CHECK_INT(report(r, a, 2, 0), TC_STOP);
    CHECK(tc_runner_stopping(r));
    CHECK_INT(a->status, TC_TERMINATED);
    CHECK_INT(rows(h, a), 2);                               /* the result itself is logged */
    /* b's next result raced with the decision: not processed, b stops */
    CHECK_INT(report(r, b, 2, 0), TC_STOP);
    CHECK_INT(b->status, TC_TERMINATED);
    CHECK_INT(rows(h, b), 1);
    CHECK_INT(h->stopper_calls, 3);                         /* never asked again */
    /* no other trial ever starts: the 48 pending ones are TERMINATED */
    CHECK(tc_runner_choose(r, NULL) == NULL);
    CHECK_INT(tc_runner_count(r, TC_TERMINATED), 50);
    CHECK(tc_runner_is_finished(r));
    tc_runner_free(r);
    mem_fs_free(&h->fs);
    free(h);
}

/* ---- item 6: a paused function that ran ahead ------------------------- */

static const char *const PBT_SPEC =
    "{\"kind\": \"pbt\", \"metric\": \"score\", \"mode\": \"max\", \"time_attr\": "
    "\"training_iteration\", \"perturbation_interval\": 1, \"quantile_fraction\": 0.25, "
    "\"resample_probability\": 0, \"hyperparam_mutations\": {\"lr\": [0.1, 0.2]}, "
    "\"seed\": 7}";
static const char *const GRID2 = "{\"config\": {\"lr\": {\"grid_search\": [0.1, 0.2]}}}";

/* One CPU, two trials: PBT pauses a at iteration 1 so b can run. a's
 * function had already reported 2 and 3 and returned (DONE) before it saw
 * the pause; those results were dropped. */
static void test_paused_function_that_ran_ahead(int ran_ahead)
{
    host_state *h = calloc(1, sizeof *h);
    h->fs.clock = 1000.0;
    tc_runner *r = make_runner(h, GRID2, 1, PBT_SPEC, 1);
    tc_error err;
    tc_error_init(&err);
    tc_trial *a = start_next(r);
    CHECK(a && a->index == 0);
    CHECK_INT(report(r, a, 1, 5.0), TC_PAUSE);              /* b waits */
    CHECK_INT(checkpoint(r, a, 1), 0);                      /* follows result 1 */
    if (ran_ahead) {
        CHECK_INT(report(r, a, 2, 5.0), TC_STOP);           /* late: not logged */
        CHECK_INT(checkpoint(r, a, 2), 0);                  /* not registered */
        CHECK_INT(report(r, a, 3, 5.0), TC_STOP);
    }
    CHECK_INT(tc_runner_on_complete(r, a, &err), 0);        /* DONE: a is not RUNNING */
    CHECK_INT(tc_runner_on_released(r, a, 1, &err), 0);     /* READY after DONE */
    CHECK_INT(rows(h, a), 1);
    if (!ran_ahead) {
        /* it returned right after the result that paused it: complete */
        CHECK_INT(a->status, TC_TERMINATED);
    } else {
        /* results 2 and 3 are not in its files: it is not complete */
        CHECK_INT(a->status, TC_PAUSED);
        CHECK_INT(a->saving, 0);
        CHECK_INT(a->ckpts.n, 1);
        tc_trial *b = start_next(r);
        CHECK(b && b->index == 1);
        CHECK_INT(report(r, b, 1, 1.0), TC_PAUSE);          /* a waits: b yields */
        CHECK_INT(tc_runner_on_released(r, b, 0, &err), 0);
        CHECK(start_next(r) == a);
        CHECK_INT(a->restored_iteration, 1);                /* from its checkpoint */
        CHECK_INT(a->ran_ahead, 0);
        CHECK_INT(report(r, a, 2, 5.0), TC_PAUSE);          /* rerun: logged now */
        CHECK_INT(rows(h, a), 2);
    }
    tc_runner_free(r);
    mem_fs_free(&h->fs);
    free(h);
}

int main(void)
{
    test_stop_all_after_each_result();
    test_paused_function_that_ran_ahead(0);
    test_paused_function_that_ran_ahead(1);
    TEST_MAIN_END();
}
