/* test_runner_actions.c — the action queue (runner_actions.c): the runner
 * queues what it decides, in order; every START names a fresh attempt
 * token with the trial's config, checkpoint and resources; an attempt gets
 * one ending action and none once it is over; a queue over its limit or
 * out of memory is a clean error: the action is never half queued. (A PBT exploit's SAVE, RESTORE, START:
 * test_runner_sched.c, test_pbt_exploit_actions.) */
#include <stdlib.h>
#include <string.h>
#include "tc_test.h"
#include "tunec.h"
#include "runner.h"
#include "runner_actions.h"
#include "alloc.h"
#include "mem_fs.h"

typedef struct { mem_fs fs; } mem_host;

static tc_runner *make_runner(mem_host *h, long num_samples, int max_failures, const char *stop)
{
    tc_error err;
    tc_error_init(&err);
    tc_host host = mem_fs_host(h);
    tc_runner_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.session_str = "2020-01-01_00-00-00";
    tc_runner *r = tc_runner_new(&ro, &host, &err);
    tc_capacity_init(tc_runner_capacity_mut(r), 8, 0, NULL);
    json_t *spec = json_loads("{\"config\": {\"a\": 1, \"b\": [2.5, \"x\"]}}", 0, NULL);
    tc_space *space = tc_space_new(spec, num_samples, 42, &err);
    json_decref(spec);
    json_t *stop_dict = stop ? json_loads(stop, 0, NULL) : NULL;
    tc_experiment_opts xo;
    memset(&xo, 0, sizeof xo);
    xo.name = "exp";
    xo.exp_dir = "/r/exp";
    xo.trainable_name = "train";
    xo.resources.cpu = 2;
    xo.max_failures = max_failures;
    xo.log_json = 1;
    xo.stop = stop_dict;
    CHECK_INT(tc_runner_add_experiment(r, &xo, space, &err), 0);
    json_decref(stop_dict);
    CHECK(tc_runner_generate(r, NULL, NULL, 1000, &err) >= 0);
    return r;
}

/* The next action, which must be of kind for trial (index) and token. */
static void expect(tc_runner *r, int kind, long trial, tc_token token)
{
    tc_error err;
    tc_error_init(&err);
    tc_action a;
    CHECK_INT(tc_runner_next_action(r, &a, &err), 1);
    CHECK_STR(tc_action_kind_names[a.kind], tc_action_kind_names[kind]);
    CHECK_INT(a.trial, trial);
    CHECK_INT(a.token, token);
    if (kind != TC_ACT_START)
        CHECK(a.config == NULL && a.checkpoint == NULL && a.resources == NULL);
    tc_action_clear(&a);
}

static void expect_none(tc_runner *r)
{
    tc_error err;
    tc_error_init(&err);
    tc_action a;
    CHECK_INT(tc_runner_next_action(r, &a, &err), 0);
    CHECK_INT(tc_runner_actions_pending(r), 0);
}

static tc_decision result(tc_runner *r, tc_trial *t, long it, int done)
{
    char line[200];
    snprintf(line, sizeof line, "{\"training_iteration\": %ld, \"done\": %s}", it,
             done ? "true" : "false");
    tc_error err;
    tc_error_init(&err);
    tc_decision d;
    CHECK_INT(tc_runner_on_result(r, t, line, strlen(line), &d, &err), 0);
    return d;
}

static void test_starts_in_order_with_fresh_tokens(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, 3, 1, NULL);
    tc_error err;
    tc_error_init(&err);
    expect_none(r);
    /* 8 CPUs, 2 per trial: all three start, in trial order. */
    CHECK_INT(tc_runner_fill(r, 2, &err), 2);
    CHECK_INT(tc_runner_fill(r, -1, &err), 1);
    CHECK_INT(tc_runner_fill(r, -1, &err), 0);
    CHECK_INT(tc_runner_actions_pending(r), 3);
    tc_action a;
    CHECK_INT(tc_runner_next_action(r, &a, &err), 1);
    CHECK_INT(a.kind, TC_ACT_START);
    CHECK_INT(a.trial, 0);
    CHECK_INT(a.token, 1);
    CHECK_STR(a.config, "{\"a\": 1, \"b\": [2.5, \"x\"]}");
    CHECK(a.checkpoint == NULL);
    CHECK_INT(a.restore_iteration, -1);
    CHECK(a.resources && strstr(a.resources, "\"cpu\": 2") != NULL);
    tc_action_clear(&a);
    CHECK(a.config == NULL);
    expect(r, TC_ACT_START, 1, 2);
    expect(r, TC_ACT_START, 2, 3);
    expect_none(r);

    /* Trial 1 fails and is retried: a START with a new token, and the old
     * attempt is not the trial's any more. */
    tc_trial *t1 = tc_runner_trial(r, 1);
    tc_runner_on_ended(r, 2);
    CHECK_INT(tc_runner_on_error(r, t1, "boom", &err), 0);
    CHECK_INT(t1->status, TC_PENDING);
    expect_none(r);                        /* the failed attempt is over: no STOP */
    CHECK_INT(tc_runner_fill(r, -1, &err), 1);
    expect(r, TC_ACT_START, 1, 4);
    CHECK(tc_runner_attempt(r, 2) == NULL);
    CHECK(tc_runner_attempt(r, 4) == t1);

    /* Decisions come out in the order they were made: trial 2 ends by its
     * own result (done), trial 0 is stopped from outside. */
    tc_trial *t0 = tc_runner_trial(r, 0), *t2 = tc_runner_trial(r, 2);
    CHECK_INT(result(r, t2, 1, 0), TC_CONTINUE);
    expect_none(r);                        /* CONTINUE asks nothing of the executor */
    CHECK_INT(result(r, t2, 2, 1), TC_STOP);
    CHECK_INT(tc_runner_sched_act(r, t0, TC_SCHED_ACT_STOP, &err), 0);
    expect(r, TC_ACT_STOP, 2, 3);
    expect(r, TC_ACT_STOP, 0, 1);
    expect_none(r);
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

static void test_ended_attempts_get_no_stop(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, 3, 0, NULL);
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_fill(r, -1, &err), 3);
    for (int i = 0; i < 3; i++)
        expect(r, TC_ACT_START, i, i + 1);
    tc_trial *t0 = tc_runner_trial(r, 0), *t1 = tc_runner_trial(r, 1);
    /* Trial 0's function returned: its attempt is over. */
    CHECK_INT(tc_runner_on_complete(r, t0, &err), 0);
    CHECK(tc_runner_attempt_ended(r, t0->token));
    /* Trial 1's worker was done (READY) before the executor said so to the
     * trial: still RUNNING, but its attempt is over. */
    tc_runner_on_ended(r, t1->token);
    CHECK_INT(t1->status, TC_RUNNING);
    tc_runner_stop_all(r);
    tc_runner_stop_all(r);                 /* twice: still one STOP per attempt */
    expect(r, TC_ACT_STOP, 2, 3);
    expect_none(r);
    CHECK_INT(tc_runner_on_stopped(r, t1, &err), 0);
    expect_none(r);
    tc_runner_free(r);

    /* A STOP queued before its attempt ended is dropped when taken. */
    r = make_runner(&h, 2, 0, NULL);
    CHECK_INT(tc_runner_fill(r, -1, &err), 2);
    expect(r, TC_ACT_START, 0, 1);
    expect(r, TC_ACT_START, 1, 2);
    tc_runner_stop_all(r);
    CHECK_INT(tc_runner_actions_pending(r), 2);
    tc_runner_on_ended(r, 1);
    expect(r, TC_ACT_STOP, 1, 2);
    expect_none(r);
    /* Unknown and stale tokens are ignored. */
    tc_runner_on_ended(r, 0);
    tc_runner_on_ended(r, 99);
    CHECK(!tc_runner_attempt_ended(r, 99));
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

static void test_pause_and_interrupt(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, 2, 0, NULL);
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_fill(r, -1, &err), 2);
    expect(r, TC_ACT_START, 0, 1);
    expect(r, TC_ACT_START, 1, 2);
    /* Ctrl-C: every running attempt saves and stops; the trials stay
     * RUNNING until their workers are done. */
    tc_runner_interrupt(r);
    expect(r, TC_ACT_PAUSE, 0, 1);
    expect(r, TC_ACT_PAUSE, 1, 2);
    expect_none(r);
    CHECK_INT(tc_runner_trial(r, 0)->status, TC_RUNNING);
    /* A later stop of an attempt already ending adds nothing. */
    tc_runner_stop_all(r);
    expect_none(r);
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

static void test_full_queue_and_no_memory(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, 3, 0, NULL);
    tc_error err;
    tc_error_init(&err);
    tc_runner_set_action_limit(r, 2);
    /* The third START does not fit: the start fails, the trial stays
     * PENDING, the two queued are intact. */
    CHECK_INT(tc_runner_fill(r, -1, &err), -1);
    CHECK_INT(err.code, TC_ERR_TUNE);
    CHECK(strstr(err.text, "action queue full") != NULL);
    CHECK_INT(tc_runner_trial(r, 2)->status, TC_PENDING);
    CHECK_INT(tc_runner_actions_pending(r), 2);
    expect(r, TC_ACT_START, 0, 1);
    /* stop_all cannot fail: the STOP that did not fit is the error of the
     * next take, after which the queue goes on. */
    tc_runner_stop_all(r);               /* trial 0's STOP fits, trial 1's does not */
    tc_error_init(&err);
    tc_action a;
    CHECK_INT(tc_runner_next_action(r, &a, &err), -1);
    CHECK(strstr(err.text, "action queue full") != NULL);
    tc_error_init(&err);
    expect(r, TC_ACT_START, 1, 2);
    expect(r, TC_ACT_STOP, 0, 1);
    expect_none(r);
    tc_runner_free(r);

    /* Every allocation of a start, failed in turn: the start fails cleanly
     * (nothing queued for it) or succeeds with its START queued. */
    int failed = 0, succeeded = 0;
    for (long n = 0; n < 400 && !succeeded; n++) {
        r = make_runner(&h, 1, 0, NULL);
        long live = tc_alloc_live();
        tc_error_init(&err);
        tc_alloc_fail_after(n);
        long rc = tc_runner_fill(r, -1, &err);
        tc_alloc_fail_after(-1);
        if (rc < 0) {
            failed++;
            CHECK(err.code != TC_OK && err.text[0] != '\0');
            /* Failed before the trial started: nothing queued; after (a
             * journal line lost): it runs, and its START is there. */
            if (tc_runner_trial(r, 0)->status == TC_RUNNING)
                expect(r, TC_ACT_START, 0, 1);
            else
                CHECK_INT(tc_runner_trial(r, 0)->status, TC_PENDING);
            expect_none(r);
        } else {
            succeeded = 1;
            CHECK_INT(rc, 1);
            CHECK(tc_alloc_live() > live);
            expect(r, TC_ACT_START, 0, 1);
        }
        tc_runner_free(r);
        mem_fs_free(&h.fs);
        memset(&h.fs, 0, sizeof h.fs);
        h.fs.clock = 1000.0;
    }
    CHECK(failed > 3);
    CHECK(succeeded);
}

int main(void)
{
    test_starts_in_order_with_fresh_tokens();
    test_ended_attempts_get_no_stop();
    test_pause_and_interrupt();
    test_full_queue_and_no_memory();
    TEST_MAIN_END();
}
