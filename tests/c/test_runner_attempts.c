/* test_runner_attempts.c — attempt tokens (runner_attempt.c): each start of
 * a trial gets a new, larger token; only a trial's current attempt is found
 * by its token, so a replaced attempt's frames are ignored; where an attempt
 * runs is what the executor reports (tc_runner_on_started), and the state
 * snapshot's location shows it as before. */
#include <stdlib.h>
#include <string.h>
#include "tc_test.h"
#include "tunec.h"
#include "runner.h"
#include "mem_fs.h"

typedef struct { mem_fs fs; } mem_host;

static tc_runner *make_runner(mem_host *h, long num_samples, int max_failures)
{
    tc_error err;
    tc_error_init(&err);
    tc_host host = mem_fs_host(h);
    tc_runner_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.session_str = "2020-01-01_00-00-00";
    tc_runner *r = tc_runner_new(&ro, &host, &err);
    tc_capacity_init(tc_runner_capacity_mut(r), 8, 0, NULL);
    json_t *spec = json_loads("{\"config\": {\"a\": 1}}", 0, NULL);
    tc_space *space = tc_space_new(spec, num_samples, 42, &err);
    json_decref(spec);
    tc_experiment_opts xo;
    memset(&xo, 0, sizeof xo);
    xo.name = "exp";
    xo.exp_dir = "/r/exp";
    xo.trainable_name = "train";
    xo.resources.cpu = 1;
    xo.max_failures = max_failures;
    xo.log_json = 1;
    CHECK_INT(tc_runner_add_experiment(r, &xo, space, &err), 0);
    CHECK(tc_runner_generate(r, NULL, NULL, 1000, &err) >= 0);
    return r;
}

/* The snapshot's "location" as text ("null" or ["host", pid]). */
static void check_location(tc_runner *r, tc_trial *t, const char *want)
{
    json_t *snap = tc_trial_snapshot(r, t);
    CHECK(snap != NULL);
    char *text = json_dumps(json_object_get(snap, "location"), JSON_COMPACT | JSON_ENCODE_ANY);
    CHECK_STR(text, want);
    free(text);
    json_decref(snap);
}

static void test_tokens_name_attempts(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, 2, 2);
    tc_error err;
    tc_error_init(&err);
    tc_trial *t0 = tc_runner_trial(r, 0), *t1 = tc_runner_trial(r, 1);
    CHECK_INT(t0->token, 0);
    CHECK(tc_runner_attempt(r, 0) == NULL);
    CHECK(tc_runner_attempt(r, 1) == NULL);        /* not issued yet */

    CHECK_INT(tc_runner_start(r, t0, &err), 0);
    CHECK_INT(tc_runner_start(r, t1, &err), 0);
    CHECK_INT(t0->token, 1);
    CHECK_INT(t1->token, 2);
    CHECK_INT(t0->attempts, 1);
    CHECK(tc_runner_attempt(r, 1) == t0);
    CHECK(tc_runner_attempt(r, 2) == t1);
    CHECK(tc_runner_attempt(r, 3) == NULL);
    CHECK(tc_runner_attempt(r, -7) == NULL);

    /* Where it runs is the executor's report, not part of the start. */
    CHECK_INT(t0->pid, 0);
    check_location(r, t0, "null");
    CHECK_INT(tc_runner_on_started(r, t0->token, 4321, "node-a", &err), 0);
    CHECK_INT(t0->pid, 4321);
    CHECK_STR(t0->hostname, "node-a");
    check_location(r, t0, "[\"node-a\",4321]");
    /* A later report of the same attempt may name the host only. */
    CHECK_INT(tc_runner_on_started(r, t0->token, 0, "node-b", &err), 0);
    check_location(r, t0, "[\"node-b\",4321]");

    /* The attempt fails and is retried: a new token; the old one is stale. */
    const char *line = "{\"loss\": 1, \"training_iteration\": 1}";
    tc_decision d;
    CHECK_INT(tc_runner_on_result(r, t0, line, strlen(line), &d, &err), 0);
    CHECK_INT(tc_runner_on_error(r, t0, "worker died", &err), 0);
    CHECK_INT(t0->status, TC_PENDING);
    CHECK(tc_runner_attempt(r, 1) == t0);          /* its last attempt until restarted */
    CHECK_INT(tc_runner_start(r, t0, &err), 0);
    CHECK_INT(t0->token, 3);
    CHECK_INT(t0->attempts, 2);
    CHECK(tc_runner_attempt(r, 1) == NULL);        /* frames of the killed attempt: ignored */
    CHECK(tc_runner_attempt(r, 3) == t0);
    CHECK(tc_runner_attempt(r, 2) == t1);
    CHECK_INT(t0->pid, 0);                         /* the new attempt has not reported */
    check_location(r, t0, "null");
    /* A stale report changes nothing. */
    CHECK_INT(tc_runner_on_started(r, 1, 999, "stale-host", &err), 0);
    CHECK_INT(t0->pid, 0);
    CHECK_INT(tc_runner_on_started(r, 3, 555, "node-c", &err), 0);
    check_location(r, t0, "[\"node-c\",555]");
    CHECK_INT(err.code, TC_OK);
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

/* Tokens strictly increase over many starts and retries, and each maps back
 * to the trial it started while it is that trial's newest. */
static void test_tokens_increase(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, 6, 100);
    tc_error err;
    tc_error_init(&err);
    tc_token last = 0;
    for (int round = 0; round < 40; round++) {
        tc_trial *t = tc_runner_trial(r, round % 6);
        if (t->status == TC_RUNNING)
            CHECK_INT(tc_runner_on_error(r, t, "retry", &err), 0);
        CHECK_INT(tc_runner_start(r, t, &err), 0);
        CHECK(t->token > last);
        last = t->token;
        CHECK(tc_runner_attempt(r, t->token) == t);
        CHECK(tc_runner_attempt(r, t->token - 6 > 0 ? t->token - 6 : 0) == NULL);
    }
    CHECK_INT(last, 40);
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

int main(void)
{
    test_tokens_name_attempts();
    test_tokens_increase();
    TEST_MAIN_END();
}
