/* test_alloc_failure.c — every allocation of whole engine scenarios fails in
 * turn (jansson's test_chaos.c, SQLite's malloc fault injection).
 *
 * Each scenario runs once cleanly (the reference: its output and its count
 * of allocations K), then again for every N < K with the Nth allocation
 * failing (tc_alloc_fail_after, alloc.c). Every run must either
 *   - fail, with an error set by the engine function that returned -1, or
 *   - succeed with exactly the reference output (a failure the engine could
 *     absorb must not show: no partial state file, no missing row);
 * and in both cases leave no block behind (tc_alloc_live back to its
 * baseline) and crash nothing (ASan/UBSan in the asan_ build).
 *
 * Scenarios (the in-memory host of mem_fs.h, plus a journal and read_file):
 *   run      — 3 trials under ASHA, a checkpoint after every result (keep 2),
 *              one trial crashes and is retried from its checkpoint (its
 *              files cut back), the experiment state written every round;
 *   resume   — the run killed after two rounds, a new runner resumed from the
 *              state snapshot it wrote, run to the end;
 *   analysis — tc_analysis_load over the run's files written to a real
 *              directory (result.json and progress.csv trials).
 *
 * Runtime: the plain build walks every N. The ASan build walks every
 * TC_ALLOC_STRIDE-th N (environment; `make test-c-asan` sets 7), as ASan
 * makes each walk step several times slower. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tc_test.h"
#include "start_attempt.h"
#include "tunec.h"
#include "runner.h"
#include "mem_fs.h"

/* ---- the host ---------------------------------------------------------- */

typedef struct host {
    mem_fs fs;                /* first: the callbacks' ctx is also a mem_fs */
    tc_buf journal;
} host;

static int h_journal(void *ctx, const char *line, size_t len, tc_error *err)
{
    host *h = ctx;
    if (tc_buf_append(&h->journal, line, len) < 0)
        return tc_error_set(err, TC_ERR_NOMEM, "journal: out of memory");
    return 0;
}

static void h_remove_tree(void *ctx, const char *path)
{
    host *h = ctx;
    size_t n = strlen(path);
    for (int i = 0; i < h->fs.nfiles; i++)
        if (!h->fs.files[i].gone && strncmp(h->fs.files[i].path, path, n) == 0 &&
            (h->fs.files[i].path[n] == '\0' || h->fs.files[i].path[n] == '/')) {
            h->fs.files[i].gone = 1;
            tc_buf_free(&h->fs.files[i].data);
        }
}

static tc_host make_host(host *h)
{
    tc_host th = mem_fs_host(h);
    th.journal = h_journal;
    th.remove_tree = h_remove_tree;
    th.read_file = mem_read_file;     /* restarts cut result files (result_cut.c) */
    return th;
}

static void host_init(host *h)
{
    memset(h, 0, sizeof *h);
    h->fs.clock = 1000.0;
    tc_buf_init(&h->journal);
}

static void host_free(host *h)
{
    mem_fs_free(&h->fs);
    tc_buf_free(&h->journal);
}

/* Everything the host holds, in one text: what "the same output" means. */
static void host_digest(host *h, tc_buf *out)
{
    for (int i = 0; i < h->fs.nfiles; i++) {
        if (h->fs.files[i].gone)
            continue;
        tc_buf_printf(out, "== %s\n", h->fs.files[i].path);
        if (h->fs.files[i].data.data)
            tc_buf_append(out, h->fs.files[i].data.data, h->fs.files[i].data.len);
    }
    tc_buf_puts(out, "== journal\n");
    if (h->journal.data)
        tc_buf_append(out, h->journal.data, h->journal.len);
}

/* ---- driving a runner as the executor does ----------------------------- */

static const char *SPACE = "{\"config\": {\"x\": {\"grid_search\": [1, 2, 3]}}}";
static const char *ASHA = "{\"kind\": \"asha\", \"metric\": \"score\", \"mode\": \"max\", "
                          "\"time_attr\": \"training_iteration\", \"max_t\": 4, "
                          "\"grace_period\": 1, \"reduction_factor\": 2}";

/* A -1 from the engine: the error must be set. Returns -1. */
static int failed(const tc_error *err, const char *where, long n)
{
    if (err->code == TC_OK || !err->text[0])
        fprintf(stderr, "allocation %ld failed: %s returned -1 without an error\n", n, where);
    CHECK(err->code != TC_OK && err->text[0] != '\0');
    return -1;
}

#define TRY(call, where)                       \
    do {                                       \
        if ((call) < 0)                        \
            return failed(&err, where, fail_n); \
    } while (0)

static long fail_n;           /* the allocation failing in this walk step */
static int teardown_failed;   /* it failed in a teardown that cannot report it */

static tc_runner *new_runner(host *h, json_t *records, tc_error *perr)
{
    tc_error err;
    tc_error_init(&err);
    tc_host th = make_host(h);
    tc_runner_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.session_str = "2020-01-01_00-00-00";
    tc_runner *r = tc_runner_new(&ro, &th, &err);
    json_t *spec = NULL, *sched = NULL;
    if (!r)
        goto fail;
    tc_capacity_init(tc_runner_capacity_mut(r), 3, 0, NULL);
    spec = tc_json_loads(SPACE, strlen(SPACE), &err);
    sched = spec ? tc_json_loads(ASHA, strlen(ASHA), &err) : NULL;
    if (!sched)
        goto fail;
    tc_space *space = tc_space_new(spec, 1, 42, &err);
    if (!space)
        goto fail;
    tc_experiment_opts xo;
    memset(&xo, 0, sizeof xo);
    xo.name = "exp";
    xo.exp_dir = "/r/exp";
    xo.trainable_name = "train";
    xo.resources.cpu = 1;
    xo.log_json = 1;
    xo.log_csv = 1;
    xo.log_tbx = 1;
    xo.keep_checkpoints_num = 2;
    xo.max_failures = 1;
    if (tc_runner_add_experiment(r, &xo, space, &err) < 0 ||
        tc_runner_set_scheduler(r, sched, 0, &err) < 0)
        goto fail;
    if (records) {
        json_t *stolen = records;
        records = NULL;
        if (tc_runner_set_resume(r, stolen, 1, 0, 0, &err) < 0)
            goto fail;
    }
    if (tc_runner_generate(r, NULL, NULL, 100, &err) < 0)
        goto fail;
    json_decref(spec);
    json_decref(sched);
    return r;
fail:
    failed(&err, "runner setup", fail_n);
    *perr = err;
    json_decref(records);
    json_decref(spec);
    json_decref(sched);
    tc_runner_free(r);
    return NULL;
}

/* The worker of trial t saves checkpoint_<it> and announces it. */
static int save_ckpt(host *h, tc_runner *r, tc_trial *t, long it)
{
    tc_error err;
    tc_error_init(&err);
    char dir[64], path[64], file[1100];
    snprintf(dir, sizeof dir, "checkpoint_%ld", it);
    snprintf(path, sizeof path, "checkpoint_%ld/checkpoint", it);
    snprintf(file, sizeof file, "%s/%s", t->logdir, path);
    int i = mem_file_index(&h->fs, file);
    tc_buf_clear(&h->fs.files[i].data);
    if (tc_buf_printf(&h->fs.files[i].data, "state of %s at %ld", t->trial_id, it) < 0)
        return -1;   /* the worker's own failure: not the engine's to report */
    TRY(tc_runner_on_checkpoint(r, t, dir, path, it, t->n_results - t->run_rows_base, 0, &err),
        "on_checkpoint");
    return 0;
}

/* `rounds` rounds of: start what can start, then one result (and a
 * checkpoint) from every running trial; trial 2 crashes once at iteration 3,
 * before checkpointing it. The state is written after every round.
 * 0, or -1 at the first failure. */
static int drive(host *h, tc_runner *r, int rounds, int *crashed)
{
    tc_error err;
    tc_error_init(&err);
    long it[16] = {0};
    for (int round = 0; round < rounds && !tc_runner_is_finished(r); round++) {
        tc_trial *t;
        while ((t = tc_runner_choose(r, &err)) != NULL) {
            TRY(start_attempt(r, t, 1234, "host", &err), "start");
            it[t->index] = t->restored_iteration > 0 ? t->restored_iteration : 0;
        }
        if (err.code)
            return failed(&err, "choose", fail_n);
        for (long i = 0; i < tc_runner_num_trials(r); i++) {
            t = tc_runner_trial(r, i);
            if (t->status != TC_RUNNING)
                continue;
            long k = ++it[i];
            char text[256];
            snprintf(text, sizeof text, "{\"training_iteration\": %ld, \"score\": %.17g, "
                     "\"time_total_s\": %ld.5, \"config\": null}", k, (double)(i + 1) * k, k);
            tc_decision d = TC_CONTINUE;
            TRY(tc_runner_on_result(r, t, text, strlen(text), &d, &err), "on_result");
            if (t->status != TC_RUNNING)
                continue;
            if (i == 2 && k == 3 && !*crashed) {
                *crashed = 1;
                TRY(tc_runner_on_error(r, t, "Traceback: boom", &err), "on_error");
                continue;
            }
            if (save_ckpt(h, r, t, k) < 0)
                return -1;
            if (k == 4)
                TRY(tc_runner_on_complete(r, t, &err), "on_complete");
        }
        h->fs.clock += 10;
        TRY(tc_runner_write_state(r, 1000.0, &err), "write_state");
    }
    return 0;
}

/* ---- scenarios ---------------------------------------------------------- */

static int scenario_run(host *h)
{
    tc_error err;
    tc_error_init(&err);
    int crashed = 0;
    tc_runner *r = new_runner(h, NULL, &err);
    if (!r)
        return -1;
    int rc = drive(h, r, 8, &crashed);
    if (rc == 0 && !tc_runner_is_finished(r)) {
        fprintf(stderr, "run scenario: not finished\n");
        CHECK(0);
    }
    tc_runner_free(r);
    return rc;
}

/* {trial_id: record} from the state snapshot the killed run wrote, as
 * tunec/_resume.py builds it (a harness step: its own failure counts as the
 * host's, with the error it would set). */
static json_t *records_from_state(host *h, tc_error *err)
{
    const char *text = mem_file_text(&h->fs, "/r/exp", "experiment_state-2020-01-01_00-00-00.json");
    if (!text) {
        tc_error_set(err, TC_ERR_IO, "no state file");
        return NULL;
    }
    json_t *state = tc_json_loads(text, strlen(text), err);
    if (!state)
        return NULL;
    json_t *records = json_object();
    json_t *list = json_object_get(state, "checkpoints");
    for (size_t i = 0; records && i < json_array_size(list); i++) {
        json_t *rec = json_array_get(list, i);
        const char *id = json_string_value(json_object_get(rec, "trial_id"));
        if (id && json_object_set(records, id, rec) < 0) {
            json_decref(records);
            records = NULL;
        }
    }
    json_decref(state);
    if (!records)
        tc_error_set(err, TC_ERR_NOMEM, "records: out of memory");
    return records;
}

static int scenario_resume(host *h)
{
    tc_error err;
    tc_error_init(&err);
    int crashed = 0;
    tc_runner *r = new_runner(h, NULL, &err);
    if (!r)
        return -1;
    int rc = drive(h, r, 2, &crashed);
    /* The driver is killed: tc_runner_free stands for the kill, but it also
     * writes the closing TensorBoard records of open trials, and a failure
     * there has no one to report to (a real kill writes nothing at all). */
    long before = tc_alloc_failures();
    tc_runner_free(r);
    teardown_failed = tc_alloc_failures() > before;
    if (rc < 0)
        return -1;
    json_t *records = records_from_state(h, &err);
    if (!records)
        return failed(&err, "records_from_state", fail_n);
    if (!(r = new_runner(h, records, &err)))
        return -1;
    rc = drive(h, r, 8, &crashed);
    if (rc == 0 && !tc_runner_is_finished(r)) {
        fprintf(stderr, "resume scenario: not finished\n");
        CHECK(0);
    }
    tc_runner_free(r);
    return rc;
}

static char analysis_dir[256];

static void table_digest(const tc_analysis *a, tc_buf *out)
{
    for (size_t i = 0; i < a->n_trials; i++) {
        const tc_trial_table *t = &a->trials[i];
        tc_buf_printf(out, "== %s source %d rows %zu bad %zu\n", t->logdir, t->source,
                      t->n_rows, t->n_bad_lines);
        for (size_t c = 0; c < t->n_cols; c++) {
            tc_buf_printf(out, "%s:", t->cols[c].name);
            for (size_t row = 0; row < t->n_rows; row++) {
                json_t *v = tc_column_cell_json(t, &t->cols[c], row);
                char *s = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
                tc_buf_printf(out, " %s", s ? s : "?");
                tc_free(s);
                json_decref(v);
            }
            tc_buf_puts(out, "\n");
        }
    }
}

static tc_buf analysis_out;

static int scenario_analysis(host *h)
{
    tc_analysis a;
    tc_error err;
    tc_error_init(&err);
    int rc = tc_analysis_load(&a, analysis_dir, &err);
    if (rc < 0)
        failed(&err, "tc_analysis_load", fail_n);
    else {
        tc_alloc_fail_after(-1);     /* the digest is the test's, not under test */
        tc_buf_clear(&analysis_out);
        table_digest(&a, &analysis_out);
    }
    tc_analysis_clear(&a);
    return rc;
}

/* The run's files, written to a real directory for the analysis scenario:
 * trials 0 and 1 with result.json, trial 2 with progress.csv only. */
static void write_analysis_dir(void)
{
    host h;
    host_init(&h);
    CHECK_INT(scenario_run(&h), 0);
    snprintf(analysis_dir, sizeof analysis_dir, "/tmp/tunec_alloc_XXXXXX");
    if (!mkdtemp(analysis_dir)) {
        perror("mkdtemp");
        exit(2);
    }
    for (int i = 0; i < h.fs.nfiles; i++) {
        const mem_file *f = &h.fs.files[i];
        const char *base = strrchr(f->path, '/');
        if (f->gone || !base || strncmp(f->path, "/r/exp/train_", 13) != 0)
            continue;
        int trial = atoi(f->path + 13);
        int json = strcmp(base, "/result.json") == 0, csv = strcmp(base, "/progress.csv") == 0;
        if (!(json && trial < 2) && !(csv && trial == 2))
            continue;
        char dir[512], path[600];
        snprintf(dir, sizeof dir, "%s/trial_%d", analysis_dir, trial);
        mkdir(dir, 0755);
        snprintf(path, sizeof path, "%s%s", dir, base);
        FILE *out = fopen(path, "wb");
        CHECK(out != NULL);
        if (out) {
            fwrite(f->data.data ? f->data.data : "", 1, f->data.len, out);
            fclose(out);
        }
    }
    host_free(&h);
}

/* ---- the walk ----------------------------------------------------------- */

static long stride(void)
{
    const char *s = getenv("TC_ALLOC_STRIDE");
    long n = s ? atol(s) : 1;
    return n > 0 ? n : 1;
}

static void walk(const char *name, int (*scenario)(host *), int uses_host_digest)
{
    /* TC_ALLOC_SCENARIO=name: that walk alone (with TC_ALLOC_ONLY, when debugging) */
    const char *want = getenv("TC_ALLOC_SCENARIO");
    if (want && strcmp(want, name) != 0)
        return;
    tc_buf ref, got;
    tc_buf_init(&ref);
    tc_buf_init(&got);
    tc_buf_reserve(&ref, 1);     /* each holds its one block from here on */
    tc_buf_reserve(&got, 1);
    long base_live = tc_alloc_live();

    /* the reference run */
    host h;
    host_init(&h);
    fail_n = -1;
    long before = tc_alloc_count();
    CHECK_INT(scenario(&h), 0);
    long k = tc_alloc_count() - before;
    if (uses_host_digest)
        host_digest(&h, &ref);
    else
        tc_buf_append(&ref, analysis_out.data ? analysis_out.data : "", analysis_out.len);
    host_free(&h);
    CHECK_INT(tc_alloc_live(), base_live);

    long failures = 0, absorbed = 0, in_teardown = 0, step = stride();
    /* TC_ALLOC_ONLY=N: that step alone (with `break tc_alloc_injected` in gdb) */
    long only = getenv("TC_ALLOC_ONLY") ? atol(getenv("TC_ALLOC_ONLY")) : -1;
    for (long n = only >= 0 ? only : 0; n < k && (only < 0 || n == only); n += step) {
        long live0 = tc_alloc_live(), injected0 = tc_alloc_failures();
        host_init(&h);
        fail_n = n;
        teardown_failed = 0;
        tc_alloc_fail_after(n);
        int rc = scenario(&h);
        tc_alloc_fail_after(-1);
        int injected = tc_alloc_failures() > injected0;
        if (rc == 0) {
            tc_buf_clear(&got);
            if (uses_host_digest)
                host_digest(&h, &got);
            else
                tc_buf_append(&got, analysis_out.data ? analysis_out.data : "", analysis_out.len);
            int same = got.len == ref.len && memcmp(got.data, ref.data, ref.len) == 0;
            if (!same && teardown_failed) {
                same = 1;
                in_teardown++;
            }
            if (!same) {
                size_t at = 0;
                while (at < got.len && at < ref.len && got.data[at] == ref.data[at])
                    at++;
                size_t from = at > 120 ? at - 120 : 0;
                fprintf(stderr, "%s: allocation %ld failed, the scenario succeeded, but its "
                        "output differs from the reference at byte %zu:\n  want ...%.200s\n"
                        "  got  ...%.200s\n", name, n, at, ref.data + from, got.data + from);
            }
            CHECK(same);
            absorbed += injected;
        } else {
            failures++;
        }
        host_free(&h);
        long live = tc_alloc_live();
        if (live != live0)
            fprintf(stderr, "%s: allocation %ld failed: %ld blocks leaked\n", name, n, live - live0);
        CHECK_INT(live, live0);
        if (tc_test_failures > 20)
            break;
    }
    printf("%s: %ld allocations, every %ld-th failed in turn: %ld runs failed cleanly, "
           "%ld absorbed the failure (same output), %ld lost a record in the killed "
           "driver's teardown\n", name, k, step, failures, absorbed - in_teardown, in_teardown);
    tc_buf_free(&ref);
    tc_buf_free(&got);
}

static void cleanup(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", analysis_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", analysis_dir);
}

int main(void)
{
    tc_buf_init(&analysis_out);
    tc_buf_reserve(&analysis_out, 1);
    walk("run", scenario_run, 1);
    walk("resume", scenario_resume, 1);
    write_analysis_dir();
    walk("analysis", scenario_analysis, 0);
    tc_buf_free(&analysis_out);
    cleanup();
    TEST_MAIN_END();
}
