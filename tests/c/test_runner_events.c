/* test_runner_events.c — the runner's event record (runner_events.c): off by
 * default, then one event per lifecycle step in the order the runner takes
 * them (add, start, result, checkpoint, complete; a retried failure and a
 * final one; a restart from a checkpoint restores), and the queue moves
 * between owners without losing texts or snapshots. */
#include <stdlib.h>
#include <string.h>
#include "tc_test.h"
#include "start_attempt.h"
#include "tunec.h"
#include "runner.h"
#include "runner_events.h"
#include "mem_fs.h"

typedef struct {
    mem_fs fs;
} mem_host;

static tc_runner *make_runner(mem_host *h, long num_samples, int max_failures)
{
    tc_error err;
    tc_error_init(&err);
    tc_host host = mem_fs_host(h);
    tc_runner_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.session_str = "2020-01-01_00-00-00";
    tc_runner *r = tc_runner_new(&ro, &host, &err);
    tc_capacity_init(tc_runner_capacity_mut(r), 4, 0, NULL);
    json_t *spec = json_loads("{\"config\": {\"lr\": 0.5}}", 0, NULL);
    tc_space *space = tc_space_new(spec, num_samples, 7, &err);
    CHECK(space != NULL);
    tc_experiment_opts xo;
    memset(&xo, 0, sizeof xo);
    xo.name = "exp";
    xo.exp_dir = "/r/exp";
    xo.trainable_name = "train";
    xo.resources.cpu = 1;
    xo.max_failures = max_failures;
    xo.log_json = 1;
    CHECK_INT(tc_runner_add_experiment(r, &xo, space, &err), 0);
    json_decref(spec);
    return r;
}

static tc_trial *start_next(tc_runner *r)
{
    tc_error err;
    tc_error_init(&err);
    tc_trial *t = tc_runner_choose(r, NULL);
    CHECK(t != NULL);
    if (t)
        CHECK_INT(start_attempt(r, t, 1234, "host", &err), 0);
    return t;
}

static void result(tc_runner *r, tc_trial *t, const char *json)
{
    tc_error err;
    tc_error_init(&err);
    tc_decision d;
    CHECK_INT(tc_runner_on_result(r, t, json, strlen(json), &d, &err), 0);
}

/* The queue's kinds as one string, e.g. "add start result". Non-status
 * events only unless with_status. */
static void kinds(const tc_events *q, int with_status, char *out, size_t n)
{
    out[0] = '\0';
    for (long i = 0; i < q->n; i++) {
        if (q->ev[i].kind == TC_EVT_STATUS && !with_status)
            continue;
        if (out[0])
            strncat(out, " ", n - strlen(out) - 1);
        strncat(out, tc_event_kind_names[q->ev[i].kind], n - strlen(out) - 1);
    }
}

static void test_off_by_default(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, 1, 0);
    CHECK(tc_runner_events(r) == NULL);
    CHECK(tc_runner_generate(r, NULL, NULL, 10, NULL) == 1);
    tc_trial *t = start_next(r);
    result(r, t, "{\"a\": 1, \"config\": null}");
    CHECK(tc_runner_events(r) == NULL);
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

static void test_lifecycle_order(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, 2, 0);
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_record_events(r, 1, &err), 0);
    CHECK_INT(tc_runner_generate(r, NULL, NULL, 10, &err), 2);
    tc_trial *a = start_next(r);
    result(r, a, "{\"a\": 1, \"training_iteration\": 1, \"config\": null}");
    CHECK_INT(tc_runner_on_checkpoint(r, a, "checkpoint_1", "checkpoint_1/c", 1, 1, 0, &err), 0);
    CHECK_INT(tc_runner_on_complete(r, a, &err), 0);
    tc_trial *b = start_next(r);
    CHECK_INT(tc_runner_on_error(r, b, "boom", &err), 0);

    tc_events *q = tc_runner_events(r);
    char got[512];
    kinds(q, 0, got, sizeof got);
    CHECK_STR(got, "add add start result save checkpoint complete start error");
    kinds(q, 1, got, sizeof got);
    CHECK_STR(got, "add add status start result save checkpoint status complete "
                   "status start status error");
    /* Snapshots: the added trial, then the started one with its logdir. */
    CHECK(json_is_object(q->ev[0].snapshot));
    CHECK_STR(json_string_value(json_object_get(q->ev[0].snapshot, "trial_id")), "00000");
    CHECK_STR(json_string_value(json_object_get(q->ev[1].snapshot, "trial_id")), "00001");
    const tc_event *start = &q->ev[3];
    CHECK_INT(start->kind, TC_EVT_START);
    CHECK(json_is_string(json_object_get(start->snapshot, "logdir")));
    CHECK_INT(q->ev[2].status, TC_RUNNING);
    /* The result is the line as logged: config and trial fields in place. */
    const tc_event *res = &q->ev[4];
    CHECK_INT(res->trial, 0);
    CHECK(strstr(tc_event_text(q, res), "\"config\": {\"lr\": 0.5}") != NULL);
    CHECK(strstr(tc_event_text(q, res), "\"trial_id\": \"00000\"") != NULL);
    /* The checkpoint is named by its absolute directory. */
    const char *ck = tc_event_text(q, &q->ev[6]);
    CHECK(ck && ck[0] == '/' && strstr(ck, "/checkpoint_1/c") != NULL);
    const char *saved = tc_event_text(q, &q->ev[5]);
    CHECK(saved && saved[0] == '/' && strstr(saved, "/checkpoint_1/c") == NULL);
    CHECK(tc_event_text(q, &q->ev[8]) == NULL);   /* status: no text */
    CHECK_STR(tc_event_text(q, &q->ev[q->n - 1]), "boom");
    CHECK_INT(q->ev[q->n - 1].trial, 1);
    /* Turning it off drops the queue. */
    CHECK_INT(tc_runner_record_events(r, 0, &err), 0);
    CHECK(tc_runner_events(r) == NULL);
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

static void test_retry_then_restore(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, 1, 1);
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_record_events(r, 1, &err), 0);
    CHECK_INT(tc_runner_generate(r, NULL, NULL, 10, &err), 1);
    tc_trial *t = start_next(r);
    result(r, t, "{\"a\": 1, \"training_iteration\": 1, \"config\": null}");
    CHECK_INT(tc_runner_on_checkpoint(r, t, "checkpoint_1", "checkpoint_1/c", 1, 1, 0, &err), 0);
    /* A failure that will be retried is a recover event (Ray calls
     * on_trial_error only for the final one); the retry restores. */
    CHECK_INT(tc_runner_on_error(r, t, "first", &err), 0);
    CHECK_INT(t->status, TC_PENDING);
    CHECK(start_next(r) == t);
    CHECK_INT(tc_runner_on_error(r, t, "second", &err), 0);
    char got[512];
    kinds(tc_runner_events(r), 0, got, sizeof got);
    CHECK_STR(got, "add start result save checkpoint recover start restore error");
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

static void test_move_keeps_texts_and_snapshots(void)
{
    tc_events a, b;
    tc_events_init(&a);
    tc_events_init(&b);
    tc_error err;
    tc_error_init(&err);
    /* Into an empty queue: a swap. */
    CHECK_INT(tc_events_push_new(&a, TC_EVT_RESULT, 3, 0, "{\"x\": 1}", 8, NULL, &err), 0);
    CHECK_INT(tc_events_move_to(&a, &b, &err), 0);
    CHECK_INT(a.n, 0);
    CHECK_INT(b.n, 1);
    /* Into a non-empty one: appended, offsets rebased. */
    for (int i = 0; i < 1000; i++) {
        char text[32];
        int len = snprintf(text, sizeof text, "line %d", i);
        json_t *snap = i % 100 == 0 ? json_pack("{s:i}", "i", i) : NULL;
        CHECK_INT(tc_events_push_new(&a, i % 100 == 0 ? TC_EVT_START : TC_EVT_RESULT, i, 0,
                                     text, (size_t)len, snap, &err), 0);
    }
    CHECK_INT(tc_events_move_to(&a, &b, &err), 0);
    CHECK_INT(a.n, 0);
    CHECK_INT(tc_events_text_bytes(&a), 0);
    CHECK_INT(b.n, 1001);
    CHECK_STR(tc_event_text(&b, &b.ev[0]), "{\"x\": 1}");
    CHECK_STR(tc_event_text(&b, &b.ev[1]), "line 0");
    CHECK_STR(tc_event_text(&b, &b.ev[1000]), "line 999");
    CHECK_INT(json_integer_value(json_object_get(b.ev[501].snapshot, "i")), 500);
    /* Events without text and a snapshot pushed on a queue: stolen. */
    CHECK_INT(tc_events_push_new(&a, TC_EVT_COMPLETE, 1, 0, NULL, 0, json_object(), &err), 0);
    CHECK(tc_event_text(&a, &a.ev[0]) == NULL);
    tc_events_free(&a);
    tc_events_clear(&b);
    CHECK_INT(b.n, 0);
    tc_events_free(&b);
}

int main(void)
{
    test_off_by_default();
    test_lifecycle_order();
    test_retry_then_restore();
    test_move_keeps_texts_and_snapshots();
    TEST_MAIN_END();
}
