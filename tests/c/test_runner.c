/* test_runner.c — the runner state machine driven by synthetic events: trial
 * generation and naming, FIFO choice under resource limits, result handling
 * (auto fields, stop rules, done), failures and retries, fail_fast,
 * stop_all, and what reaches the sinks. The host is in memory: a fake clock,
 * directories recorded by name, sinks that are growable buffers. */
#include <stdlib.h>
#include <string.h>
#include "tc_test.h"
#include "start_attempt.h"
#include "tunec.h"
#include "runner.h"
#include "mem_fs.h"

/* ---- an in-memory host ---------------------------------------------- */

/* The test's host: the in-memory file system (first, see mem_fs.h). */
typedef struct {
    mem_fs fs;
    int stopper_calls;
} mem_host;

static tc_host make_host(mem_host *h)
{
    return mem_fs_host(h);
}

static tc_runner *make_runner(mem_host *h, const char *space_json, long num_samples,
                              const char *stop_json, double cpus, int max_failures,
                              int fail_fast)
{
    tc_error err;
    tc_error_init(&err);
    tc_host host = make_host(h);
    tc_runner_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.fail_fast = fail_fast;
    ro.session_str = "2020-01-01_00-00-00";
    tc_runner *r = tc_runner_new(&ro, &host, &err);
    tc_capacity_init(tc_runner_capacity_mut(r), cpus, 0, NULL);
    json_t *spec = json_loads(space_json, 0, NULL);
    json_t *stop = stop_json ? json_loads(stop_json, 0, NULL) : NULL;
    tc_space *space = tc_space_new(spec, num_samples, 42, &err);
    CHECK(space != NULL);
    tc_experiment_opts xo;
    memset(&xo, 0, sizeof xo);
    xo.name = "exp";
    xo.exp_dir = "/r/exp";
    xo.trainable_name = "train";
    xo.stop = stop;
    xo.resources.cpu = 1;
    xo.max_failures = max_failures;
    xo.log_json = 1;
    xo.log_csv = 1;
    CHECK_INT(tc_runner_add_experiment(r, &xo, space, &err), 0);
    json_decref(spec);
    json_decref(stop);
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

static tc_decision result(tc_runner *r, tc_trial *t, const char *json)
{
    tc_error err;
    tc_error_init(&err);
    tc_decision d = TC_CONTINUE;
    CHECK_INT(tc_runner_on_result(r, t, json, strlen(json), &d, &err), 0);
    return d;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

/* ---- tests ------------------------------------------------------------ */

static void test_generation_and_names(void)
{
    mem_host h = {.fs.clock = 1588334400.0};
    tc_runner *r = make_runner(&h,
        "{\"config\": {\"alpha\": {\"grid_search\": [0.2, 0.4, 0.6]}, "
        "\"beta\": {\"grid_search\": [1, 2]}}}", 2, NULL, 2, 0, 0);
    CHECK_INT(tc_runner_num_trials(r), 12);
    CHECK(tc_runner_generation_done(r));
    static const struct { long i; const char *id; const char *tag; } rows[] = {
        {0, "00000", "0_alpha=0.2,beta=1"},
        {1, "00001", "1_alpha=0.4,beta=1"},
        {2, "00002", "2_alpha=0.6,beta=1"},
        {3, "00003", "3_alpha=0.2,beta=2"},
        {6, "00006", "6_alpha=0.2,beta=1"},
        {11, "00011", "11_alpha=0.6,beta=2"},
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        tc_trial *t = tc_runner_trial(r, rows[k].i);
        CHECK_STR(t->trial_id, rows[k].id);
        CHECK_STR(t->tag, rows[k].tag);
    }
    CHECK_STR(tc_runner_trial(r, 0)->name, "train_00000");
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

static void test_fifo_and_resources(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, "{\"config\": {\"x\": {\"grid_search\": [1, 2, 3]}}}", 1,
                               NULL, 2, 0, 0);
    tc_trial *a = start_next(r), *b = start_next(r);
    CHECK(a && b && a->index == 0 && b->index == 1);
    CHECK(tc_runner_choose(r, NULL) == NULL);              /* 2 CPUs, both taken */
    CHECK_INT(tc_runner_count(r, TC_RUNNING), 2);
    CHECK(a->logdir && strstr(a->logdir, "/r/exp/train_0_x=1_") == a->logdir);
    CHECK(mem_file_text(&h.fs, a->logdir, "params.json") != NULL);
    CHECK_STR(mem_file_text(&h.fs, a->logdir, "params.json"), "{\n  \"x\": 1\n}");
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_on_complete(r, a, &err), 0);
    CHECK_INT(a->status, TC_TERMINATED);
    tc_trial *c = start_next(r);
    CHECK(c && c->index == 2);
    CHECK(!tc_runner_is_finished(r));
    tc_runner_on_complete(r, b, &err);
    tc_runner_on_complete(r, c, &err);
    CHECK(tc_runner_is_finished(r));
    CHECK_INT(tc_runner_count(r, TC_TERMINATED), 3);
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

static void test_results_and_stop_dict(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, "{\"config\": {\"lr\": 0.1}}", 1,
                               "{\"training_iteration\": 3}", 1, 0, 0);
    tc_trial *t = start_next(r);
    CHECK_INT(result(r, t, "{\"acc\": 0.5, \"training_iteration\": 1, \"config\": null}"),
              TC_CONTINUE);
    CHECK_INT(result(r, t, "{\"acc\": 0.6, \"training_iteration\": 2, \"config\": null}"),
              TC_CONTINUE);
    CHECK_INT(result(r, t, "{\"acc\": NaN, \"training_iteration\": 3, \"config\": null}"),
              TC_STOP);
    CHECK_INT(t->status, TC_TERMINATED);
    /* A result after the stop (worker ran ahead) is dropped. */
    CHECK_INT(result(r, t, "{\"acc\": 0.9, \"training_iteration\": 4}"), TC_STOP);
    const char *lines = mem_file_text(&h.fs, t->logdir, "result.json");
    CHECK_INT(count_lines(lines), 3);
    CHECK(strstr(lines, "\"config\": {\"lr\": 0.1}") != NULL);
    CHECK(strstr(lines, "\"trial_id\": \"00000\"") != NULL);
    CHECK(strstr(lines, "NaN") != NULL);
    /* done is true only on the row that ended the trial (spec §17.1). */
    const char *last_line = strstr(strstr(strstr(lines, "\n") + 1, "\n") + 1, "{");
    CHECK(strstr(lines, "\"done\": false") < last_line);
    CHECK(strstr(lines, "\"done\": true") > last_line);
    const char *csv = mem_file_text(&h.fs, t->logdir, "progress.csv");
    CHECK_INT(count_lines(csv), 4);
    /* A result without `done` gets it before the driver's trial fields. */
    CHECK(strncmp(csv, "acc,training_iteration,done,trial_id,experiment_tag\r\n", 53) == 0);
    CHECK(strstr(csv, "nan,3,True,00000,0\r\n") != NULL);
    /* Finished: compacted (runner_cold.c), its metric analysis kept as text
     * and given back whole by the snapshot. */
    CHECK(t->metrics == NULL && t->cold_metrics != NULL && t->tb == NULL && t->csv == NULL);
    json_t *snap = tc_trial_snapshot(r, t);
    json_t *acc = json_object_get(json_object_get(snap, "metric_analysis"), "acc");
    CHECK(json_object_get(acc, "last") != NULL && json_object_get(acc, "max") != NULL);
    CHECK(json_is_true(json_object_get(json_object_get(snap, "last_result"), "done")));
    CHECK(t->last_result == NULL && t->last_text != NULL);   /* the tree went back to text */
    json_decref(snap);
    CHECK_INT(t->n_results, 3);
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

/* Results of growing size make every scratch buffer grow while scans point
 * into them (a use-after-free here once; ASan watches this test). */
static void test_growing_results(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, "{\"config\": {\"lr\": 0.1}}", 1, NULL, 1, 0, 0);
    tc_trial *t = start_next(r);
    tc_buf text;
    tc_buf_init(&text);
    for (int i = 1; i <= 60; i++) {
        tc_buf_clear(&text);
        tc_buf_printf(&text, "{\"s\": \"");
        for (int k = 0; k < i * 97; k++)
            tc_buf_putc(&text, (char)('a' + k % 26));
        tc_buf_printf(&text, "\", \"i\": %d, \"done\": false, \"config\": null}", i);
        CHECK_INT(result(r, t, text.data), TC_CONTINUE);
    }
    const char *csv = mem_file_text(&h.fs, t->logdir, "progress.csv");
    CHECK_INT(count_lines(csv), 61);
    CHECK_INT(count_lines(mem_file_text(&h.fs, t->logdir, "result.json")), 60);
    tc_buf_free(&text);
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

static void test_missing_stop_key_is_trial_error(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, "{\"config\": {}}", 1, "{\"mean_accuracy\": 0.9}", 1, 0, 0);
    tc_trial *t = start_next(r);
    CHECK_INT(result(r, t, "{\"acc\": 0.5}"), TC_STOP);
    CHECK_INT(t->status, TC_ERROR);
    CHECK_INT(t->num_failures, 1);
    CHECK(t->error_msg && strstr(t->error_msg, "Stopping criteria mean_accuracy not provided"));
    const char *errtxt = mem_file_text(&h.fs, t->logdir, "error.txt");
    CHECK(errtxt && strncmp(errtxt, "Failure # 1 (occurred at ", 25) == 0);
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

static void test_user_done_and_max_failures(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, "{\"config\": {}}", 1, NULL, 1, 2, 0);
    tc_trial *t = start_next(r);
    tc_error err;
    tc_error_init(&err);
    /* max_failures=2: two retries, three failures in total (spec §18.34). */
    for (int failure = 1; failure <= 3; failure++) {
        CHECK_INT(t->status, TC_RUNNING);
        CHECK_INT(tc_runner_on_error(r, t, "Traceback: boom", &err), 0);
        CHECK_INT(t->num_failures, failure);
        if (failure < 3) {
            CHECK_INT(t->status, TC_PENDING);
            CHECK(start_next(r) == t);
        }
    }
    CHECK_INT(t->status, TC_ERROR);
    const char *errtxt = mem_file_text(&h.fs, t->logdir, "error.txt");
    CHECK(errtxt && strstr(errtxt, "Failure # 3") != NULL && strstr(errtxt, "Failure # 2"));
    tc_runner_free(r);

    r = make_runner(&h, "{\"config\": {}}", 1, NULL, 1, 0, 0);
    t = start_next(r);
    CHECK_INT(result(r, t, "{\"x\": 1, \"done\": true}"), TC_STOP);
    CHECK_INT(t->status, TC_TERMINATED);
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

/* A checkpoint's place among the rows is the run's report count, not the
 * training_iteration of the rows: a function may report its own (here from
 * 0). A checkpoint after a result the driver never logged is not kept. */
static void test_checkpoint_placed_by_reports(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, "{\"config\": {}}", 1, NULL, 1, 1, 0);
    tc_trial *t = start_next(r);
    tc_error err;
    tc_error_init(&err);
    result(r, t, "{\"training_iteration\": 0}");
    result(r, t, "{\"training_iteration\": 1}");
    CHECK_INT(tc_runner_on_checkpoint(r, t, "checkpoint_1", "checkpoint_1/c", 2, 2, 0, &err), 0);
    result(r, t, "{\"training_iteration\": 2}");
    CHECK_INT(tc_runner_on_checkpoint(r, t, "checkpoint_3", "checkpoint_3/c", 4, 4, 0, &err), 0);
    CHECK_INT((long)t->ckpts.n, 1);                  /* the 4th report was never logged */
    CHECK_INT(tc_ckpts_newest(&t->ckpts)->rows, 2);
    /* Unknown report count (an older worker): placed by training_iteration. */
    CHECK_INT(tc_runner_on_checkpoint(r, t, "old", "old/c", 3, -1, 0, &err), 0);
    CHECK_INT((long)t->ckpts.n, 1);                  /* 3 > the logged training_iteration 2 */
    CHECK_INT(tc_runner_on_error(r, t, "Traceback: boom", &err), 0);
    CHECK(start_next(r) == t);
    const char *rel, *abs;
    long iteration;
    tc_trial_restore_source(r, t, &rel, &abs, &iteration);
    CHECK_STR(rel, "checkpoint_1/c");
    CHECK_INT(iteration, 2);
    CHECK_INT(t->run_rows_base, t->n_results);
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

static void test_function_return_marks_done(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, "{\"config\": {}}", 1, NULL, 1, 0, 0);
    tc_trial *t = start_next(r);
    result(r, t, "{\"x\": 1}");
    result(r, t, "{\"x\": 2}");
    tc_error err;
    tc_error_init(&err);
    tc_runner_on_complete(r, t, &err);
    CHECK(json_is_true(json_object_get(tc_trial_last_result(t), "done")));
    CHECK_INT(count_lines(mem_file_text(&h.fs, t->logdir, "result.json")), 2);   /* no extra row */
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

static void test_fail_fast_and_stop_all(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, "{\"config\": {\"x\": {\"grid_search\": [1, 2, 3, 4]}}}", 1,
                               NULL, 2, 0, 1);
    tc_trial *a = start_next(r);
    tc_trial *b = start_next(r);
    tc_error err;
    tc_error_init(&err);
    tc_runner_on_error(r, a, "boom", &err);
    CHECK_INT(a->status, TC_ERROR);
    CHECK(tc_runner_stopping(r));
    CHECK_INT(tc_runner_trial(r, 2)->status, TC_TERMINATED);   /* pending ones end */
    CHECK(tc_runner_choose(r, NULL) == NULL);
    CHECK_INT(b->status, TC_RUNNING);                          /* the host stops it */
    tc_runner_on_stopped(r, b, &err);
    CHECK(tc_runner_is_finished(r));
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

static void test_insufficient_resources(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, "{\"config\": {}}", 1, NULL, 0.5, 0, 0);
    tc_error err;
    tc_error_init(&err);
    CHECK(tc_runner_choose(r, NULL) == NULL);
    CHECK_INT(tc_runner_blocked(r, &err), 1);
    CHECK(strstr(err.text, "Insufficient cluster resources") != NULL);
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

static void test_state_json(void)
{
    mem_host h = {.fs.clock = 1000.0};
    tc_runner *r = make_runner(&h, "{\"config\": {\"x\": {\"grid_search\": [1, 2]}}}", 1, NULL,
                               2, 0, 0);
    tc_trial *t = start_next(r);
    result(r, t, "{\"acc\": 1}");
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_write_state(r, 999.0, &err), 0);
    const char *state = mem_file_text(&h.fs, "/r/exp", "experiment_state-2020-01-01_00-00-00.json");
    CHECK(state != NULL);
    json_t *j = state ? tc_json_loads(state, strlen(state), &err) : NULL;
    CHECK(j && json_array_size(json_object_get(j, "checkpoints")) == 2);
    CHECK(j && json_object_get(j, "runner_data") && json_object_get(j, "stats"));
    json_t *first = json_array_get(json_object_get(j, "checkpoints"), 0);
    CHECK_STR(json_string_value(json_object_get(first, "status")), "RUNNING");
    json_decref(j);
    tc_runner_free(r);
    mem_fs_free(&h.fs);
}

int main(void)
{
    test_generation_and_names();
    test_fifo_and_resources();
    test_results_and_stop_dict();
    test_growing_results();
    test_missing_stop_key_is_trial_error();
    test_user_done_and_max_failures();
    test_function_return_marks_done();
    test_checkpoint_placed_by_reports();
    test_fail_fast_and_stop_all();
    test_insufficient_resources();
    test_state_json();
    TEST_MAIN_END();
}
