/* test_runner_sched.c — the runner's scheduler wiring (runner_sched.c),
 * driven as the executor drives it: generate, choose, start, on_result with
 * the worker's JSON text, on_checkpoint, on_released, on_complete. The
 * decision cores themselves are tested in test_sched_*.c; here the question
 * is what their decisions do to trials: status, `saving`, restarts from the
 * newest checkpoint, HyperBand's stops and unpauses of other trials, PBT's
 * save/clone (config, tag, staged donor checkpoint, log files), transient
 * checkpoints, and the host-driven scheduler's events and actions.
 *
 * The host is in memory, as in test_runner.c (copied here, not shared): a
 * fake clock, a map path -> bytes standing for the file system (sinks append
 * to it, copy_path and remove_tree work on path prefixes), a journal buffer,
 * and a scripted host scheduler. */
#include <stdlib.h>
#include <string.h>
#include "tc_test.h"
#include "start_attempt.h"
#include "tunec.h"
#include "runner.h"
#include "sched.h"
#include "mem_fs.h"

/* ---- an in-memory host ---------------------------------------------- */

#define MAX_EVENTS 256
#define MAX_REMOVED 64

typedef struct mem_host {
    mem_fs fs;                /* first: the callbacks' ctx is also a mem_fs */
    tc_runner *r;             /* for the host scheduler's calls back into the runner */
    tc_buf journal;
    char removed[MAX_REMOVED][512];   /* remove_tree calls, in order */
    int nremoved;
    int ncopies;                      /* copy_path calls that copied something */
    /* the host-driven scheduler */
    struct { int ev; long trial; char *text; } events[MAX_EVENTS];
    int nevents;
    int decisions[32];        /* returned for consecutive TC_EV_RESULT events (-1: the
                                 built-in's, with super_calls) */
    int ndecisions, next_decision;
    int super_calls;          /* forward every event to tc_runner_sched_builtin */
    int event_fail;           /* sched_event fails (a Python exception) */
    long act_trial;           /* tc_runner_sched_act during the next result event */
    int act_kind;
    long choose_ret;          /* sched_choose's answer (-2: failure) */
    int choose_calls;
} mem_host;

static mem_host *mem_host_new(void)
{
    mem_host *h = calloc(1, sizeof *h);
    h->fs.clock = 1000.0;
    tc_buf_init(&h->journal);
    h->choose_ret = -1;
    return h;
}

static void mem_host_free(mem_host *h)
{
    mem_fs_free(&h->fs);
    for (int i = 0; i < h->nevents; i++)
        free(h->events[i].text);
    tc_buf_free(&h->journal);
    free(h);
}

static void put_file(mem_host *h, const char *dir, const char *name, const char *text)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int i = mem_file_index(&h->fs, path);
    tc_buf_clear(&h->fs.files[i].data);
    tc_buf_puts(&h->fs.files[i].data, text);
}

/* 1 when path is root or inside it. */
static int under(const char *path, const char *root)
{
    size_t n = strlen(root);
    return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static void h_remove_tree(void *ctx, const char *path)
{
    mem_host *h = ctx;
    if (h->nremoved < MAX_REMOVED)
        snprintf(h->removed[h->nremoved++], sizeof h->removed[0], "%s", path);
    for (int i = 0; i < h->fs.nfiles; i++)
        if (!h->fs.files[i].gone && under(h->fs.files[i].path, path)) {
            h->fs.files[i].gone = 1;
            tc_buf_free(&h->fs.files[i].data);
        }
}

static int removed_path(mem_host *h, const char *dir, const char *name)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    for (int i = 0; i < h->nremoved; i++)
        if (strcmp(h->removed[i], path) == 0)
            return 1;
    return 0;
}

/* copy_path on the map: every file at or under src, re-rooted at dst (which
 * is replaced). 1 copied, 0 no src. */
static int h_copy_path(void *ctx, const char *src, const char *dst, tc_error *err)
{
    mem_host *h = ctx;
    int n0 = h->fs.nfiles, found = 0;
    for (int i = 0; i < n0; i++)
        found |= !h->fs.files[i].gone && under(h->fs.files[i].path, src);
    if (!found)
        return 0;
    int saved = h->nremoved;
    h_remove_tree(h, dst);
    h->nremoved = saved;      /* not a removal the engine asked for */
    for (int i = 0; i < n0; i++) {
        if (h->fs.files[i].gone || !under(h->fs.files[i].path, src))
            continue;
        char path[1100];
        snprintf(path, sizeof path, "%s%s", dst, h->fs.files[i].path + strlen(src));
        int j = mem_file_index(&h->fs, path);
        tc_buf_clear(&h->fs.files[j].data);
        tc_buf_append(&h->fs.files[j].data, h->fs.files[i].data.data ? h->fs.files[i].data.data : "",
                      h->fs.files[i].data.len);
    }
    h->ncopies++;
    return 1;
}

static int h_journal(void *ctx, const char *line, size_t len, tc_error *err)
{
    mem_host *h = ctx;
    return tc_buf_append(&h->journal, line, len);
}

static int h_sched_event(void *ctx, int event, long trial, const char *result, size_t len,
                         int *decision, tc_error *err)
{
    mem_host *h = ctx;
    if (h->nevents < MAX_EVENTS) {
        h->events[h->nevents].ev = event;
        h->events[h->nevents].trial = trial;
        h->events[h->nevents].text = result ? strndup(result, len) : NULL;
        h->nevents++;
    }
    if (h->event_fail)
        return tc_error_set(err, TC_ERR_CALLBACK, "sched_event raised");
    if (h->super_calls) {
        /* super().on_trial_xxx(): the built-in core's handling */
        json_t *res = result ? tc_json_loads(result, len, err) : NULL;
        int d = TC_SCHED_CONTINUE;
        if (result && !res)
            return -1;
        int rc = tc_runner_sched_builtin(h->r, tc_runner_trial(h->r, trial), event, res, &d, err);
        json_decref(res);
        if (rc < 0)
            return -1;
        if (event == TC_EV_RESULT)
            *decision = d;
    }
    if (event == TC_EV_RESULT && h->next_decision < h->ndecisions) {
        int scripted = h->decisions[h->next_decision++];
        if (scripted >= 0)    /* -1: keep super()'s */
            *decision = scripted;
    }
    if (event == TC_EV_RESULT && h->act_kind) {
        int kind = h->act_kind;
        h->act_kind = 0;
        if (tc_runner_sched_act(h->r, tc_runner_trial(h->r, h->act_trial), kind, err) < 0)
            return -1;
    }
    return 0;
}

static long h_sched_choose(void *ctx, tc_error *err)
{
    mem_host *h = ctx;
    h->choose_calls++;
    if (h->choose_ret == -2) {
        tc_error_set(err, TC_ERR_CALLBACK, "choose_trial_to_run raised");
        return -2;
    }
    return h->choose_ret;
}

static tc_host make_host(mem_host *h)
{
    tc_host host = mem_fs_host(h);
    host.remove_tree = h_remove_tree;
    host.copy_path = h_copy_path;
    host.read_file = mem_read_file;   /* restarts cut the files (result_cut.c) */
    host.journal = h_journal;
    host.sched_event = h_sched_event;
    host.sched_choose = h_sched_choose;
    return host;
}

/* ---- the runner, driven as the executor drives it -------------------- */

typedef struct setup {
    const char *space;        /* the experiment's spec JSON */
    long samples;
    const char *sched;        /* the scheduler spec JSON, NULL: none */
    int host_driven;
    double cpus;
    long keep_checkpoints_num;
    const char *stop;         /* stop dict JSON or NULL */
    int max_failures;
} setup;

static tc_runner *make_runner(mem_host *h, const setup *s)
{
    tc_error err;
    tc_error_init(&err);
    tc_host host = make_host(h);
    tc_runner_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.session_str = "2020-01-01_00-00-00";
    tc_runner *r = tc_runner_new(&ro, &host, &err);
    h->r = r;
    tc_capacity_init(tc_runner_capacity_mut(r), s->cpus, 0, NULL);
    json_t *spec = json_loads(s->space, 0, NULL);
    json_t *stop = s->stop ? json_loads(s->stop, 0, NULL) : NULL;
    tc_space *space = tc_space_new(spec, s->samples, 42, &err);
    CHECK(space != NULL);
    tc_experiment_opts xo;
    memset(&xo, 0, sizeof xo);
    xo.name = "exp";
    xo.exp_dir = "/r/exp";
    xo.trainable_name = "train";
    xo.stop = stop;
    xo.resources.cpu = 1;
    xo.log_json = 1;
    xo.log_csv = 1;
    xo.keep_checkpoints_num = s->keep_checkpoints_num;
    xo.max_failures = s->max_failures;
    CHECK_INT(tc_runner_add_experiment(r, &xo, space, &err), 0);
    if (s->sched) {
        json_t *sj = json_loads(s->sched, 0, NULL);
        CHECK(sj != NULL);
        CHECK_INT(tc_runner_set_scheduler(r, sj, s->host_driven, &err), 0);
        json_decref(sj);
    }
    json_decref(spec);
    json_decref(stop);
    CHECK(tc_runner_generate(r, NULL, NULL, 1000, &err) >= 0);
    if (err.code)
        fprintf(stderr, "make_runner: %s\n", err.text);
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

static tc_decision result_text(tc_runner *r, tc_trial *t, const char *json)
{
    tc_error err;
    tc_error_init(&err);
    tc_decision d = TC_CONTINUE;
    CHECK_INT(tc_runner_on_result(r, t, json, strlen(json), &d, &err), 0);
    if (err.code)
        fprintf(stderr, "on_result: %s\n", err.text);
    return d;
}

/* What the worker sends after iteration `it` (score omitted when NaN). */
static tc_decision report(tc_runner *r, tc_trial *t, long it, double score)
{
    char text[256];
    if (score == score)
        snprintf(text, sizeof text, "{\"training_iteration\": %ld, \"score\": %.17g, "
                 "\"time_total_s\": %ld.5, \"config\": null}", it, score, it);
    else
        snprintf(text, sizeof text, "{\"training_iteration\": %ld, \"time_total_s\": %ld.5, "
                 "\"config\": null}", it, it);
    return result_text(r, t, text);
}

/* The worker saves checkpoint_<it>/checkpoint and announces it. */
static int save_ckpt(mem_host *h, tc_runner *r, tc_trial *t, long it, int transient)
{
    char dir[64], path[64], body[64];
    snprintf(dir, sizeof dir, "checkpoint_%ld", it);
    snprintf(path, sizeof path, "checkpoint_%ld/checkpoint", it);
    snprintf(body, sizeof body, "state of %s at %ld", t->trial_id, it);
    put_file(h, t->logdir, path, body);
    tc_error err;
    tc_error_init(&err);
    /* As the worker announces it: after its run's last logged report. */
    int rc = tc_runner_on_checkpoint(r, t, dir, path, it, t->n_results - t->run_rows_base,
                                     transient, &err);
    if (rc < 0)
        fprintf(stderr, "on_checkpoint: %s\n", err.text);
    return rc;
}

static int release(tc_runner *r, tc_trial *t, int finished)
{
    tc_error err;
    tc_error_init(&err);
    int rc = tc_runner_on_released(r, t, finished, &err);
    if (rc < 0)
        fprintf(stderr, "on_released: %s\n", err.text);
    return rc;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

/* The n-th (0-based) line of s, parsed; NULL if there is none. New ref. */
static json_t *nth_line(const char *s, int n)
{
    for (int i = 0; s && i < n; i++) {
        s = strchr(s, '\n');
        if (s)
            s++;
    }
    if (!s || !*s)
        return NULL;
    const char *end = strchr(s, '\n');
    return tc_json_loads(s, end ? (size_t)(end - s) : strlen(s), NULL);
}

static json_t *last_line(const char *s)
{
    int n = count_lines(s);
    return n ? nth_line(s, n - 1) : NULL;
}

/* "checkpoint_2,checkpoint_3": the trial's registered checkpoint dirs. */
static void ckpt_dirs(const tc_trial *t, char *out, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < t->ckpts.n; i++) {
        size_t used = strlen(out);
        snprintf(out + used, n - used, "%s%s", i ? "," : "", t->ckpts.list[i].dir);
    }
}

static const char *debug_string(tc_runner *r, tc_buf *b)
{
    tc_buf_clear(b);
    CHECK_INT(tc_runner_sched_debug(r, b), 0);
    return b->data ? b->data : "";
}

/* The journal holds a status event of trial `id` with that status. */
static int journaled(mem_host *h, const char *id, const char *status)
{
    char want[128];
    snprintf(want, sizeof want, "\"trial_id\": \"%s\", \"status\": \"%s\"", id, status);
    return h->journal.data && strstr(h->journal.data, want) != NULL;
}

static const char *const GRID4 = "{\"config\": {\"lr\": {\"grid_search\": [0.1, 0.2, 0.3, 0.4]}}}";
static const char *const GRID3 = "{\"config\": {\"lr\": {\"grid_search\": [0.1, 0.2, 0.3]}}}";
static const char *const GRID2 = "{\"config\": {\"lr\": {\"grid_search\": [0.1, 0.2]}}}";

/* ---- spec parsing ----------------------------------------------------- */

/* The runner's per-status counts (kept by every status change) agree with
 * the trial table; then the runner is freed. */
static void free_checked(tc_runner *r)
{
    long n[5] = {0};
    for (long i = 0; i < tc_runner_num_trials(r); i++)
        n[tc_runner_trial(r, i)->status]++;
    for (int s = 0; s < 5; s++)
        CHECK(tc_runner_count(r, (tc_status)s) == n[s]);
    tc_runner_free(r);
}

static void test_spec_parsing(void)
{
    static const struct {
        const char *spec;
        int code;              /* TC_OK: accepted */
        const char *text;      /* in the error message, or the debug string when accepted */
    } rows[] = {
        {"{\"kind\": \"fifo\"}", TC_OK, "Using FIFO scheduling algorithm."},
        {"{\"kind\": \"asha\", \"metric\": \"score\", \"mode\": \"max\"}", TC_OK,
         "Using AsyncHyperBand: num_stopped=0"},
        {"{\"kind\": \"hyperband\", \"metric\": \"score\", \"mode\": \"min\"}", TC_OK,
         "Using HyperBand: num_stopped=0"},
        {"{\"kind\": \"median\", \"metric\": \"score\"}", TC_OK,
         "Using MedianStoppingRule: num_stopped=0."},
        {"{\"kind\": \"pbt\", \"metric\": \"score\", \"hyperparam_mutations\": {\"lr\": [1, 2]}}",
         TC_OK, "PopulationBasedTraining: 0 checkpoints, 0 perturbs"},
        {"{\"kind\": \"pbt_replay\", \"initial_config\": {\"lr\": 1}, \"policy\": []}", TC_OK,
         "PopulationBasedTraining replay: Step 0"},
        /* rejected */
        {"{\"kind\": \"bogus\"}", TC_ERR_VALUE, "unknown kind bogus"},
        {"{\"metric\": \"score\"}", TC_ERR_VALUE, "unknown kind"},
        {"{\"kind\": \"asha\", \"mode\": \"maximum\"}", TC_ERR_VALUE, "mode: must be 'min' or "
         "'max', got maximum"},
        {"{\"kind\": \"fifo\", \"mode\": \"best\"}", TC_ERR_VALUE, "got best"},
        {"{\"kind\": \"asha\", \"max_t\": 5, \"grace_period\": 10}", TC_ERR_VALUE,
         "grace_period must be <= max_t"},
        {"{\"kind\": \"asha\", \"reduction_factor\": 1}", TC_ERR_VALUE, "reduction_factor"},
        {"{\"kind\": \"asha\", \"grace_period\": 0}", TC_ERR_VALUE, "grace_period must be positive"},
        {"{\"kind\": \"hyperband\", \"max_t\": 0.5}", TC_ERR_VALUE, "max_t"},
        {"{\"kind\": \"pbt\"}", TC_ERR_TUNE, ""},
        {"{\"kind\": \"pbt\", \"hyperparam_mutations\": {\"lr\": 3}}", TC_ERR_VALUE, "lr"},
        {"{\"kind\": \"pbt\", \"hyperparam_mutations\": {\"lr\": [1]}, \"quantile_fraction\": 0.7}",
         TC_ERR_VALUE, "quantile_fraction"},
        {"{\"kind\": \"pbt\", \"hyperparam_mutations\": {\"lr\": [1]}, \"custom_explore\": true}",
         TC_ERR_VALUE, "custom_explore_fn"},
        {"{\"kind\": \"pbt_replay\", \"policy\": {}}", TC_ERR_VALUE, "policy_file"},
        {"{\"kind\": \"pbt_replay\", \"initial_config\": 3, \"policy\": []}", TC_ERR_VALUE,
         "policy_file"},
    };
    tc_buf dbg;
    tc_buf_init(&dbg);
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        mem_host *h = mem_host_new();
        tc_host host = make_host(h);
        host.pbt_explore = NULL;
        tc_runner_opts ro;
        memset(&ro, 0, sizeof ro);
        tc_error err;
        tc_error_init(&err);
        tc_runner *r = tc_runner_new(&ro, &host, &err);
        json_t *spec = json_loads(rows[k].spec, 0, NULL);
        CHECK(spec != NULL);
        int rc = tc_runner_set_scheduler(r, spec, 0, &err);
        if (rows[k].code == TC_OK) {
            CHECK_INT(rc, 0);
            CHECK_INT(err.code, TC_OK);
            const char *d = debug_string(r, &dbg);
            if (strncmp(d, rows[k].text, strlen(rows[k].text)) != 0) {
                CHECK_STR(d, rows[k].text);
            }
        } else {
            CHECK_INT(rc, -1);
            CHECK_INT(err.code, rows[k].code);
            if (!strstr(err.text, rows[k].text))
                fprintf(stderr, "row %zu: \"%s\" not in \"%s\"\n", k, rows[k].text, err.text);
            CHECK(strstr(err.text, rows[k].text) != NULL);
        }
        json_decref(spec);
        free_checked(r);   /* a half-built scheduler is freed cleanly (ASan) */
        mem_host_free(h);
    }
    tc_buf_free(&dbg);

    /* A scheduler set twice: the second replaces the first. */
    mem_host *h = mem_host_new();
    tc_runner *r = make_runner(h, &(setup){GRID2, 1, "{\"kind\": \"median\"}", 0, 1, 0, NULL});
    json_t *spec = json_loads("{\"kind\": \"fifo\"}", 0, NULL);
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_set_scheduler(r, spec, 0, &err), 0);
    tc_buf_init(&dbg);
    CHECK_STR(debug_string(r, &dbg), "Using FIFO scheduling algorithm.");
    tc_buf_free(&dbg);
    json_decref(spec);
    free_checked(r);
    mem_host_free(h);
}

/* ---- FIFO choice and `saving` (median's time-sharing pauses) ---------- */

static void test_fifo_paused_fallback(void)
{
    /* Median with min_samples_required 3: every result past the grace
     * period yields to the waiting trials (PAUSE); the built-in choice is
     * FIFO's: PENDING first, then PAUSED, never one still saving. */
    mem_host *h = mem_host_new();
    tc_runner *r = make_runner(h, &(setup){GRID3, 1,
        "{\"kind\": \"median\", \"metric\": \"score\", \"time_attr\": \"training_iteration\", "
        "\"grace_period\": 1, \"min_samples_required\": 3}", 0, 1, 0, NULL});
    tc_error err;
    tc_error_init(&err);
    tc_trial *t0 = start_next(r);
    CHECK(t0 && t0->index == 0);
    CHECK(tc_runner_choose(r, NULL) == NULL);             /* one CPU */
    CHECK_INT(report(r, t0, 1, 5.0), TC_PAUSE);
    CHECK_INT(t0->status, TC_PAUSED);
    CHECK_INT(t0->saving, 1);
    CHECK_INT(tc_runner_count(r, TC_RUNNING), 0);
    CHECK(journaled(h, "00000", "PAUSED"));
    /* The pause's result is logged like any other, done false. */
    json_t *line = last_line(mem_file_text(&h->fs, t0->logdir, "result.json"));
    CHECK(line && json_is_false(json_object_get(line, "done")));
    json_decref(line);
    /* While it saves, a start of it is refused. */
    CHECK_INT(start_attempt(r, t0, 1, "host", &err), -1);
    CHECK(strstr(err.text, "still stopping") != NULL);
    tc_error_clear(&err);

    tc_trial *t1 = start_next(r);                          /* PENDING before PAUSED */
    CHECK(t1 && t1->index == 1);
    CHECK_INT(report(r, t1, 1, 4.0), TC_PAUSE);
    tc_trial *t2 = start_next(r);
    CHECK(t2 && t2->index == 2);
    CHECK_INT(report(r, t2, 1, 3.0), TC_PAUSE);
    /* All three PAUSED and saving: nothing may start, nor is this stuck. */
    CHECK(tc_runner_choose(r, NULL) == NULL);
    CHECK_INT(tc_runner_stuck(r, &err), 0);
    CHECK_INT(err.code, TC_OK);

    /* t1's worker is free first: t1 is chosen although t0 comes first. */
    CHECK_INT(save_ckpt(h, r, t1, 1, 1), 0);
    CHECK_INT(release(r, t1, 0), 0);
    CHECK_INT(t1->saving, 0);
    CHECK(tc_runner_choose(r, NULL) == t1);
    CHECK_INT(save_ckpt(h, r, t0, 1, 1), 0);
    CHECK_INT(release(r, t0, 0), 0);
    CHECK(tc_runner_choose(r, NULL) == t0);                /* first PAUSED that can start */
    /* A restart of a paused trial: from its newest checkpoint, files kept. */
    const char *rel, *abs;
    long it;
    tc_trial_restore_source(r, t0, &rel, &abs, &it);
    CHECK_STR(rel, "checkpoint_1/checkpoint");
    CHECK(abs == NULL);
    CHECK_INT(it, 1);
    CHECK_INT(start_attempt(r, t0, 1, "host", &err), 0);
    CHECK_INT(t0->status, TC_RUNNING);
    CHECK_INT(t0->restored_iteration, 1);
    CHECK_INT(count_lines(mem_file_text(&h->fs, t0->logdir, "result.json")), 1);
    CHECK_INT(report(r, t0, 2, 5.5), TC_PAUSE);            /* t1, t2 still wait */
    CHECK_INT(count_lines(mem_file_text(&h->fs, t0->logdir, "result.json")), 2);
    /* A paused trial whose function returned while it was being paused is
     * over once its worker is released. */
    CHECK_INT(release(r, t2, 1), 0);
    CHECK_INT(t2->status, TC_TERMINATED);
    CHECK(journaled(h, "00002", "TERMINATED"));
    /* on_released of a trial not saving does nothing. */
    CHECK_INT(release(r, t2, 1), 0);
    CHECK_INT(t2->status, TC_TERMINATED);
    free_checked(r);
    mem_host_free(h);
}

/* ---- ASHA through the runner ------------------------------------------ */

static void test_asha(void)
{
    /* max_t 4, grace 1, rf 2: rungs at 4, 2, 1; cutoff = median of the
     * earlier scores at the rung (the 50th percentile). */
    mem_host *h = mem_host_new();
    tc_runner *r = make_runner(h, &(setup){GRID3, 1,
        "{\"kind\": \"asha\", \"metric\": \"score\", \"mode\": \"max\", \"time_attr\": "
        "\"training_iteration\", \"max_t\": 4, \"grace_period\": 1, \"reduction_factor\": 2}",
        0, 3, 0, NULL});
    tc_trial *t[3];
    for (int i = 0; i < 3; i++)
        t[i] = start_next(r);
    CHECK(t[0] && t[1] && t[2] && t[2]->index == 2);
    static const struct {
        int trial;
        long it;
        double score;          /* NaN: no metric in the result */
        tc_decision want;
        tc_status status;
    } steps[] = {
        {0, 1, 1.0, TC_CONTINUE, TC_RUNNING},   /* first at rung 1 */
        {1, 1, 0.5, TC_STOP, TC_TERMINATED},    /* below the cutoff 1.0 */
        {2, 1, NAN, TC_CONTINUE, TC_RUNNING},   /* no metric: not asked */
        {2, 2, 2.0, TC_CONTINUE, TC_RUNNING},   /* first at rung 2 */
        {0, 2, 1.5, TC_STOP, TC_TERMINATED},    /* below 2.0 at rung 2 */
        {2, 3, 3.0, TC_CONTINUE, TC_RUNNING},   /* rung 1, above 0.75 */
        {2, 4, 0.0, TC_STOP, TC_TERMINATED},    /* max_t */
    };
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        tc_trial *tr = t[steps[k].trial];
        tc_decision d = report(r, tr, steps[k].it, steps[k].score);
        if (d != steps[k].want)
            fprintf(stderr, "asha step %zu\n", k);
        CHECK_INT(d, steps[k].want);
        CHECK_INT(tr->status, steps[k].status);
        /* The row the sink received: done is the decision. */
        json_t *line = last_line(mem_file_text(&h->fs, tr->logdir, "result.json"));
        CHECK(line != NULL);
        CHECK_INT(json_is_true(json_object_get(line, "done")), steps[k].want == TC_STOP);
        CHECK_INT(json_integer_value(json_object_get(line, "training_iteration")), steps[k].it);
        json_decref(line);
    }
    CHECK_INT(count_lines(mem_file_text(&h->fs, t[1]->logdir, "result.json")), 1);
    CHECK_INT(count_lines(mem_file_text(&h->fs, t[2]->logdir, "result.json")), 4);
    /* progress.csv agrees (done column True on the last row only) */
    const char *csv = mem_file_text(&h->fs, t[2]->logdir, "progress.csv");
    int ntrue = 0;
    for (const char *p = csv; p && (p = strstr(p, "True")) != NULL; p++)
        ntrue++;
    CHECK_INT(ntrue, 1);
    CHECK_INT(count_lines(csv), 5);                        /* header + 4 rows */
    CHECK_INT(tc_runner_count(r, TC_RUNNING), 0);
    CHECK(tc_runner_is_finished(r));
    tc_buf dbg;
    tc_buf_init(&dbg);
    CHECK(strncmp(debug_string(r, &dbg), "Using AsyncHyperBand: num_stopped=3", 35) == 0);
    tc_buf_free(&dbg);
    /* A result after the stop is ignored (the worker ran ahead). */
    CHECK_INT(report(r, t[2], 5, 9.0), TC_STOP);
    CHECK_INT(count_lines(mem_file_text(&h->fs, t[2]->logdir, "result.json")), 4);
    free_checked(r);
    mem_host_free(h);

    /* A stop rule that ends a trial tells ASHA it completed (no decision
     * asked): the trial's score is recorded at its rung, so a later worse
     * trial stops there. */
    h = mem_host_new();
    r = make_runner(h, &(setup){GRID2, 1,
        "{\"kind\": \"asha\", \"metric\": \"score\", \"time_attr\": \"training_iteration\", "
        "\"max_t\": 8, \"grace_period\": 1, \"reduction_factor\": 2}", 0, 2, 0,
        "{\"score\": 100}"});
    tc_trial *a = start_next(r), *b = start_next(r);
    CHECK_INT(report(r, a, 1, 100.0), TC_STOP);            /* the stop rule */
    CHECK_INT(a->status, TC_TERMINATED);
    CHECK_INT(report(r, b, 1, 50.0), TC_STOP);             /* below a's 100 at rung 1 */
    free_checked(r);
    mem_host_free(h);
}

/* ---- HyperBand through the runner ------------------------------------- */

/* max_t 2, reduction_factor 2: s_max_1 = 2. Bracket s=0 holds trials 0, 1
 * (milestone 2, no halving); bracket s=1 holds trials 2, 3 (milestone 1,
 * then one halving to n = 1 and milestone 1 + 1 = 2). */
static const char *const HB_SPEC =
    "{\"kind\": \"hyperband\", \"metric\": \"score\", \"mode\": \"max\", "
    "\"time_attr\": \"training_iteration\", \"max_t\": 2, \"reduction_factor\": 2}";

static void test_hyperband_halving(void)
{
    /* first: the score of the trial that reaches the milestone first
     * (PAUSED), second: the other's, whose result triggers the halving. */
    static const struct { double first, second; } rows[] = {
        {0.9, 0.1},   /* the paused one is good: unpaused; the running one stops */
        {0.1, 0.9},   /* the paused one is bad: stopped; the running one continues */
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        mem_host *h = mem_host_new();
        tc_runner *r = make_runner(h, &(setup){GRID4, 1, HB_SPEC, 0, 4, 0, NULL});
        tc_trial *t[4];
        for (int i = 0; i < 4; i++)
            t[i] = start_next(r);
        CHECK(t[0] && t[1] && t[2] && t[3]);
        CHECK(t[0]->index == 0 && t[3]->index == 3);   /* HyperBand's choice: bracket order */
        tc_trial *p = t[2], *q = t[3];
        CHECK_INT(report(r, p, 1, rows[k].first), TC_PAUSE);
        CHECK_INT(p->status, TC_PAUSED);
        CHECK_INT(p->saving, 1);
        CHECK_INT(tc_runner_count(r, TC_RUNNING), 3);
        /* its worker saves (a pause checkpoint) and stops */
        CHECK_INT(save_ckpt(h, r, p, 1, 1), 0);
        CHECK_INT(release(r, p, 0), 0);
        CHECK(tc_runner_choose(r, NULL) == NULL);   /* HyperBand never picks a PAUSED one */
        int good_first = rows[k].first > rows[k].second;
        tc_decision d = report(r, q, 1, rows[k].second);
        if (good_first) {
            CHECK_INT(d, TC_STOP);
            CHECK_INT(q->status, TC_TERMINATED);
            CHECK_INT(p->status, TC_PENDING);               /* unpaused */
            CHECK(journaled(h, p->trial_id, "PENDING"));
            json_t *line = last_line(mem_file_text(&h->fs, q->logdir, "result.json"));
            CHECK(line && json_is_true(json_object_get(line, "done")));
            json_decref(line);
            /* it restarts from the pause checkpoint, its files as they are */
            CHECK(tc_runner_choose(r, NULL) == p);
            tc_error err;
            tc_error_init(&err);
            CHECK_INT(start_attempt(r, p, 77, "host", &err), 0);
            CHECK_INT(p->restored_iteration, 1);
            CHECK_INT(count_lines(mem_file_text(&h->fs, p->logdir, "result.json")), 1);
            /* reaching the new milestone (2) finishes the bracket */
            CHECK_INT(report(r, p, 2, 0.95), TC_STOP);
            CHECK_INT(p->status, TC_TERMINATED);
            CHECK_INT(count_lines(mem_file_text(&h->fs, p->logdir, "result.json")), 2);
        } else {
            CHECK_INT(d, TC_CONTINUE);
            CHECK_INT(q->status, TC_RUNNING);
            CHECK_INT(p->status, TC_TERMINATED);            /* stopped while PAUSED */
            CHECK(journaled(h, p->trial_id, "TERMINATED"));
            CHECK(tc_runner_choose(r, NULL) == NULL);
            CHECK_INT(report(r, q, 2, 0.95), TC_STOP);      /* bracket finished */
        }
        tc_buf dbg;
        tc_buf_init(&dbg);
        CHECK(strstr(debug_string(r, &dbg), "num_stopped=1") != NULL);
        tc_buf_free(&dbg);

        /* Bracket s=0: the first at milestone 2 pauses; the second finishes
         * the bracket, which stops the paused one (even before its worker
         * is released) and the reporting one. */
        CHECK_INT(report(r, t[0], 1, 0.5), TC_CONTINUE);
        CHECK_INT(report(r, t[0], 2, 0.3), TC_PAUSE);
        CHECK_INT(t[0]->status, TC_PAUSED);
        CHECK_INT(report(r, t[1], 1, 0.5), TC_CONTINUE);
        CHECK_INT(report(r, t[1], 2, 0.8), TC_STOP);
        CHECK_INT(t[0]->status, TC_TERMINATED);
        CHECK_INT(t[0]->saving, 1);
        CHECK_INT(release(r, t[0], 0), 0);
        CHECK_INT(t[0]->saving, 0);
        CHECK_INT(t[0]->status, TC_TERMINATED);
        CHECK(tc_runner_is_finished(r));
        free_checked(r);
        mem_host_free(h);
    }
}

/* A PAUSED trial whose function returned while it was being paused ends
 * (on_released, finished = 1); its bracket must not keep it, or the next
 * halving meets a TERMINATED trial (Ray's "Trial with unexpected status"). */
static void test_hyperband_finished_while_paused(void)
{
    mem_host *h = mem_host_new();
    tc_runner *r = make_runner(h, &(setup){GRID4, 1, HB_SPEC, 0, 4, 0, NULL});
    tc_trial *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = start_next(r);
    CHECK_INT(report(r, t[2], 1, 0.9), TC_PAUSE);
    /* the function returns: DONE (on_complete ignores a non-RUNNING trial),
     * then the release with finished = 1 */
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_on_complete(r, t[2], &err), 0);
    CHECK_INT(release(r, t[2], 1), 0);
    CHECK_INT(t[2]->status, TC_TERMINATED);
    tc_decision d = TC_CONTINUE;
    const char *text = "{\"training_iteration\": 1, \"score\": 0.1, \"config\": null}";
    int rc = tc_runner_on_result(r, t[3], text, strlen(text), &d, &err);
    if (rc < 0)
        fprintf(stderr, "finished while paused: %s\n", err.text);
    CHECK_INT(rc, 0);
    CHECK_INT(err.code, TC_OK);
    CHECK_INT(d, TC_CONTINUE);        /* alone in its bracket now: it goes on */
    CHECK_INT(report(r, t[3], 2, 0.1), TC_STOP);           /* bracket finished */
    free_checked(r);
    mem_host_free(h);

    /* A final failure of the bracket mate the paused trial waits for: the
     * bracket is processed without it and the paused trial goes on. */
    h = mem_host_new();
    r = make_runner(h, &(setup){GRID4, 1, HB_SPEC, 0, 4, 0, NULL});
    for (int i = 0; i < 4; i++)
        t[i] = start_next(r);
    CHECK_INT(report(r, t[2], 1, 0.9), TC_PAUSE);
    CHECK_INT(release(r, t[2], 0), 0);
    tc_error_init(&err);
    CHECK_INT(tc_runner_on_error(r, t[3], "Traceback: boom", &err), 0);   /* max_failures 0 */
    CHECK_INT(t[3]->status, TC_ERROR);
    CHECK_INT(t[2]->status, TC_PENDING);
    CHECK(tc_runner_choose(r, NULL) == t[2]);
    free_checked(r);
    mem_host_free(h);
}

static void test_stuck(void)
{
    tc_error err;
    /* HyperBand: a PAUSED trial waits for its bracket mate, which can never
     * start (the capacity shrank under it). With enough capacity HyperBand
     * cannot get stuck: a PAUSED trial waits only for mates that are RUNNING
     * or PENDING (chosen next), and a mate's removal reprocesses the
     * bracket. */
    mem_host *h = mem_host_new();
    tc_runner *r = make_runner(h, &(setup){GRID2, 1, HB_SPEC, 0, 1, 0, NULL});
    tc_trial *a = start_next(r);
    CHECK_INT(report(r, a, 1, 1.0), TC_CONTINUE);
    CHECK_INT(report(r, a, 2, 1.0), TC_PAUSE);
    tc_error_init(&err);
    CHECK_INT(tc_runner_stuck(r, &err), 0);                /* still saving */
    CHECK_INT(release(r, a, 0), 0);
    CHECK(tc_runner_choose(r, NULL) == tc_runner_trial(r, 1));
    CHECK_INT(tc_runner_stuck(r, &err), 0);
    tc_capacity_init(tc_runner_capacity_mut(r), 0.5, 0, NULL);
    CHECK(tc_runner_choose(r, NULL) == NULL);
    CHECK_INT(tc_runner_stuck(r, &err), 1);
    CHECK_STR(err.text, "There are paused trials, but no more pending trials with sufficient "
                        "resources.");
    CHECK_INT(err.code, TC_ERR_TUNE);
    free_checked(r);
    mem_host_free(h);

    /* A host scheduler whose choose_trial_to_run returns None. */
    static const struct {
        int pause_first;       /* the first trial was paused by the host */
        long choose_ret;
        int stuck;
        int code;
        const char *text;
    } rows[] = {
        {1, -1, 1, TC_ERR_TUNE, "There are paused trials, but no more pending trials"},
        {0, -1, 1, TC_ERR_TUNE, "The scheduler chose none of the 2 pending trials"},
        {0, -2, 1, TC_ERR_CALLBACK, "choose_trial_to_run raised"},
        {1, 0, 0, TC_OK, ""},          /* it picks the paused one */
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        h = mem_host_new();
        h->choose_ret = 0;
        h->decisions[h->ndecisions++] = TC_SCHED_PAUSE;
        r = make_runner(h, &(setup){GRID2, 1, "{\"kind\": \"fifo\"}", 1, 1, 0, NULL});
        if (rows[k].pause_first) {
            tc_trial *t = start_next(r);
            CHECK(t && t->index == 0);
            CHECK_INT(report(r, t, 1, 1.0), TC_PAUSE);
            CHECK_INT(release(r, t, 0), 0);
        }
        h->choose_ret = rows[k].choose_ret;
        tc_error_init(&err);
        CHECK_INT(tc_runner_stuck(r, &err), rows[k].stuck);
        CHECK_INT(err.code, rows[k].code);
        CHECK(strstr(err.text, rows[k].text) == err.text);
        free_checked(r);
        mem_host_free(h);
    }
}

/* ---- Median ------------------------------------------------------------ */

static void test_median(void)
{
    /* min_samples_required 1: with one sample the rule applies at once. */
    static const char *const spec =
        "{\"kind\": \"median\", \"metric\": \"score\", \"mode\": \"max\", \"time_attr\": "
        "\"training_iteration\", \"grace_period\": 1, \"min_samples_required\": 1}";
    mem_host *h = mem_host_new();
    tc_runner *r = make_runner(h, &(setup){GRID3, 1, spec, 0, 2, 0, NULL});
    tc_trial *a = start_next(r), *b = start_next(r);
    static const struct {
        int trial; long it; double score; tc_decision want; tc_status status;
    } steps[] = {
        {0, 1, 10.0, TC_PAUSE, TC_PAUSED},    /* no other sample yet, trial 2 waits */
        {1, 1, 1.0, TC_STOP, TC_TERMINATED},  /* best 1 < median 10 */
    };
    tc_trial *t[2] = {a, b};
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        CHECK_INT(report(r, t[steps[k].trial], steps[k].it, steps[k].score), steps[k].want);
        CHECK_INT(t[steps[k].trial]->status, steps[k].status);
    }
    json_t *line = last_line(mem_file_text(&h->fs, b->logdir, "result.json"));
    CHECK(line && json_is_true(json_object_get(line, "done")));
    json_decref(line);
    /* a's worker is free: FIFO still takes the PENDING trial first. The
     * third trial is better than the median: it goes on. */
    CHECK_INT(release(r, a, 0), 0);
    tc_trial *c = start_next(r);
    CHECK(c && c->index == 2);
    CHECK_INT(report(r, c, 1, 20.0), TC_CONTINUE);         /* a (10) and b (1): median 5.5 */
    tc_trial *again = start_next(r);
    CHECK(again == a);
    CHECK_INT(report(r, a, 2, 10.0), TC_CONTINUE);         /* c's last time 1 < 2: no sample */
    CHECK_INT(report(r, c, 2, 0.0), TC_CONTINUE);          /* best 20 >= median 10 */
    tc_buf dbg;
    tc_buf_init(&dbg);
    CHECK_STR(debug_string(r, &dbg), "Using MedianStoppingRule: num_stopped=1.");
    tc_buf_free(&dbg);
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_on_complete(r, a, &err), 0);
    CHECK_INT(tc_runner_on_complete(r, c, &err), 0);
    CHECK(tc_runner_is_finished(r));
    free_checked(r);
    mem_host_free(h);
}

/* ---- PBT --------------------------------------------------------------- */

static const char *const PBT_SPEC =
    "{\"kind\": \"pbt\", \"metric\": \"score\", \"mode\": \"max\", \"time_attr\": "
    "\"training_iteration\", \"perturbation_interval\": 1, \"quantile_fraction\": 0.25, "
    "\"resample_probability\": 0, \"hyperparam_mutations\": {\"lr\": [0.1, 0.2, 0.3, 0.4]}, "
    "\"seed\": 7}";

static void test_pbt_clone(void)
{
    mem_host *h = mem_host_new();
    tc_runner *r = make_runner(h, &(setup){GRID4, 1, PBT_SPEC, 0, 4, 0, NULL});
    tc_trial *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = start_next(r);
    CHECK(t[3] && t[3]->index == 3);
    CHECK_STR(t[3]->tag, "3_lr=0.4");
    /* Iteration 1: scores 4 > 3 > 2 > 1. Each lower-quantile trial's donor
     * (trial 0) was not in the upper quantile when it reported: no clone. */
    static const double first[4] = {4, 3, 2, 1};
    for (int i = 0; i < 4; i++)
        CHECK_INT(report(r, t[i], 1, first[i]), TC_CONTINUE);
    /* Trial 3 keeps a checkpoint of its own (replaced by the clone later). */
    CHECK_INT(save_ckpt(h, r, t[3], 1, 0), 0);
    CHECK_INT(h->ncopies, 0);
    /* Iteration 2: trial 0 is in the upper quantile: TC_SAVE (the executor
     * asks a class trainable for the checkpoint and tells the runner). */
    CHECK_INT(report(r, t[0], 2, 5.0), TC_SAVE);
    tc_runner_expect_checkpoint(r, t[0]);
    CHECK_INT(t[0]->status, TC_RUNNING);
    CHECK_INT(t[0]->save_requested, 0);
    /* Trial 3 is in the lower quantile, its donor trial 0's checkpoint has
     * not reached the driver yet: skipped, nothing changes. */
    CHECK_INT(report(r, t[3], 2, 0.0), TC_CONTINUE);
    tc_buf dbg;
    tc_buf_init(&dbg);
    CHECK_STR(debug_string(r, &dbg), "PopulationBasedTraining: 1 checkpoints, 0 perturbs");
    CHECK_INT(t[3]->status, TC_RUNNING);
    CHECK_STR(t[3]->tag, "3_lr=0.4");
    CHECK(json_real_value(json_object_get(t[3]->config, "lr")) == 0.4);
    CHECK_INT(h->ncopies, 0);
    CHECK(mem_file_text(&h->fs, "/r/exp", "pbt_global.txt") == NULL);
    CHECK(t[3]->clone_dir == NULL && !t[3]->restart_first);
    /* Now trial 0's (transient) checkpoint arrives. */
    CHECK_INT(save_ckpt(h, r, t[0], 2, 1), 0);
    /* Iteration 3 of trial 3: cloned from trial 0. */
    tc_decision d = report(r, t[3], 3, 0.0);
    CHECK_INT(d, TC_RESTART);
    CHECK_INT(t[3]->status, TC_PENDING);
    CHECK_INT(t[3]->saving, 1);
    double lr = json_real_value(json_object_get(t[3]->config, "lr"));
    CHECK(lr == 0.1 || lr == 0.2);                         /* a neighbour of the donor's 0.1 */
    char want_tag[128];
    snprintf(want_tag, sizeof want_tag, "3_lr=0.4@perturbed[lr=%g]", lr);
    CHECK_STR(t[3]->tag, want_tag);
    /* the donor's checkpoint is staged in the trial's logdir */
    CHECK_STR(mem_file_text(&h->fs, t[3]->logdir, ".pbt_clone/checkpoint"), "state of 00000 at 2");
    CHECK_STR(t[3]->clone_dir, "checkpoint_2");
    /* the log files, in the experiment dir */
    const char *global = mem_file_text(&h->fs, "/r/exp", "pbt_global.txt");
    CHECK_INT(count_lines(global), 1);
    json_t *line = nth_line(global, 0);
    CHECK(line && json_array_size(line) == 6);
    CHECK_STR(json_string_value(json_array_get(line, 0)), "3_lr=0.4");
    CHECK_STR(json_string_value(json_array_get(line, 1)), "0_lr=0.1");
    CHECK_INT(json_integer_value(json_array_get(line, 2)), 2);   /* the result before this one */
    CHECK_INT(json_integer_value(json_array_get(line, 3)), 2);
    CHECK(json_real_value(json_object_get(json_array_get(line, 4), "lr")) == 0.1);
    CHECK(json_equal(json_array_get(line, 5), t[3]->config));
    json_decref(line);
    CHECK_STR(mem_file_text(&h->fs, "/r/exp", "pbt_policy_00003.txt"), global);
    CHECK(mem_file_text(&h->fs, "/r/exp", "pbt_policy_00000.txt") == NULL);
    /* While its worker stops: not startable, nothing overtakes it wrongly. */
    CHECK(tc_runner_choose(r, NULL) == NULL);
    /* Released: its own checkpoints give way to the donor's copy. */
    CHECK_INT(release(r, t[3], 0), 0);
    CHECK_INT(t[3]->saving, 0);
    char dirs[256];
    ckpt_dirs(t[3], dirs, sizeof dirs);
    CHECK_STR(dirs, "checkpoint_2");
    CHECK_INT(t[3]->ckpts.list[0].iteration, 2);
    CHECK(removed_path(h, t[3]->logdir, "checkpoint_1"));
    CHECK(mem_file_text(&h->fs, t[3]->logdir, "checkpoint_1/checkpoint") == NULL);
    CHECK(mem_file_text(&h->fs, t[3]->logdir, ".pbt_clone/checkpoint") == NULL);
    CHECK_STR(mem_file_text(&h->fs, t[3]->logdir, "checkpoint_2/checkpoint"), "state of 00000 at 2");
    CHECK(t[3]->clone_dir == NULL);
    /* the donor's own checkpoint is untouched */
    CHECK_STR(mem_file_text(&h->fs, t[0]->logdir, "checkpoint_2/checkpoint"), "state of 00000 at 2");
    /* It restarts first, from the copy, continuing its result files. */
    CHECK(tc_runner_choose(r, NULL) == t[3]);
    const char *rel, *abs;
    long it;
    tc_trial_restore_source(r, t[3], &rel, &abs, &it);
    CHECK_STR(rel, "checkpoint_2/checkpoint");
    CHECK_INT(it, 2);
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(start_attempt(r, t[3], 99, "host", &err), 0);
    CHECK_INT(t[3]->restored_iteration, 2);
    CHECK_INT(t[3]->restart_first, 0);
    CHECK_INT(count_lines(mem_file_text(&h->fs, t[3]->logdir, "result.json")), 3);
    CHECK_INT(report(r, t[3], 3, 6.0), TC_SAVE);           /* now the best: upper quantile */
    tc_runner_expect_checkpoint(r, t[3]);
    line = last_line(mem_file_text(&h->fs, t[3]->logdir, "result.json"));
    CHECK(line && json_equal(json_object_get(line, "config"), t[3]->config));
    CHECK_STR(json_string_value(json_object_get(line, "experiment_tag")), want_tag);
    json_decref(line);
    /* params.json is the first start's (Ray writes it once) */
    CHECK_STR(mem_file_text(&h->fs, t[3]->logdir, "params.json"), "{\n  \"lr\": 0.4\n}");

    /* Trial 3 is now a donor, with a policy file: trial 2's clone starts
     * its policy file as a copy of trial 3's, then appends its line. */
    CHECK_INT(save_ckpt(h, r, t[3], 3, 1), 0);
    CHECK_INT(report(r, t[2], 2, -1.0), TC_RESTART);
    CHECK_STR(t[2]->clone_dir, "checkpoint_3");
    CHECK_STR(mem_file_text(&h->fs, t[2]->logdir, ".pbt_clone/checkpoint"), "state of 00003 at 3");
    global = mem_file_text(&h->fs, "/r/exp", "pbt_global.txt");
    CHECK_INT(count_lines(global), 2);
    line = nth_line(global, 1);
    CHECK(line && json_array_size(line) == 6);
    CHECK_STR(json_string_value(json_array_get(line, 0)), "2_lr=0.3");
    CHECK_STR(json_string_value(json_array_get(line, 1)), "3_lr=0.4");   /* orig_tag */
    CHECK_INT(json_integer_value(json_array_get(line, 2)), 1);
    CHECK_INT(json_integer_value(json_array_get(line, 3)), 3);
    CHECK(json_equal(json_array_get(line, 4), t[3]->config));   /* the donor's config as run */
    CHECK(json_equal(json_array_get(line, 5), t[2]->config));
    json_decref(line);
    const char *policy2 = mem_file_text(&h->fs, "/r/exp", "pbt_policy_00002.txt");
    const char *policy3 = mem_file_text(&h->fs, "/r/exp", "pbt_policy_00003.txt");
    CHECK_INT(count_lines(policy2), 2);
    CHECK_INT(count_lines(policy3), 1);
    CHECK(policy2 && policy3 && strncmp(policy2, policy3, strlen(policy3)) == 0);
    CHECK(policy2 && strstr(policy2, "\"2_lr=0.3\"") != NULL);
    CHECK_INT(release(r, t[2], 0), 0);
    ckpt_dirs(t[2], dirs, sizeof dirs);
    CHECK_STR(dirs, "checkpoint_3");
    CHECK_STR(mem_file_text(&h->fs, t[2]->logdir, "checkpoint_3/checkpoint"), "state of 00003 at 3");
    CHECK_STR(debug_string(r, &dbg), "PopulationBasedTraining: 2 checkpoints, 2 perturbs");
    tc_buf_free(&dbg);
    free_checked(r);
    mem_host_free(h);
}

/* The executor's side of a PBT exploit (runner_actions.h): the donor's
 * SAVE, then the clone's RESTORE (its attempt ends without saving), then
 * the clone's START with a new token, from the donor's checkpoint copy. */
static tc_action take(tc_runner *r)
{
    tc_error err;
    tc_error_init(&err);
    tc_action a;
    int got = tc_runner_next_action(r, &a, &err);
    CHECK(got >= 0);
    if (got == 0)
        a.kind = (tc_action_kind)0;
    return a;
}

static void test_pbt_exploit_actions(void)
{
    mem_host *h = mem_host_new();
    tc_runner *r = make_runner(h, &(setup){GRID4, 1, PBT_SPEC, 0, 4, 0, NULL});
    tc_trial *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = start_next(r);
    static const double first[4] = {4, 3, 2, 1};
    for (int i = 0; i < 4; i++)
        CHECK_INT(report(r, t[i], 1, first[i]), TC_CONTINUE);
    CHECK_INT(save_ckpt(h, r, t[3], 1, 0), 0);
    CHECK_INT(tc_runner_actions_pending(r), 0);
    CHECK_INT(report(r, t[0], 2, 5.0), TC_SAVE);
    tc_runner_expect_checkpoint(r, t[0]);
    CHECK_INT(save_ckpt(h, r, t[0], 2, 1), 0);
    tc_token old = t[3]->token;
    CHECK_INT(report(r, t[3], 3, 0.0), TC_RESTART);
    tc_action a = take(r);
    CHECK_INT(a.kind, TC_ACT_SAVE);
    CHECK_INT(a.trial, 0);
    CHECK_INT(a.token, t[0]->token);
    tc_action_clear(&a);
    a = take(r);
    CHECK_INT(a.kind, TC_ACT_RESTORE);
    CHECK_INT(a.trial, 3);
    CHECK_INT(a.token, old);
    tc_action_clear(&a);
    CHECK_INT(take(r).kind, 0);
    /* Its worker is done with the old attempt: the clone starts at once. */
    tc_runner_on_ended(r, old);
    CHECK_INT(release(r, t[3], 0), 0);
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_fill(r, 1, &err), 1);
    a = take(r);
    CHECK_INT(a.kind, TC_ACT_START);
    CHECK_INT(a.trial, 3);
    CHECK(a.token > old && a.token == t[3]->token);
    char want[1200];
    snprintf(want, sizeof want, "%s/checkpoint_2/checkpoint", t[3]->logdir);
    CHECK_STR(a.checkpoint, want);
    CHECK_INT(a.restore_iteration, 2);
    json_t *config = json_loads(a.config, 0, NULL);
    CHECK(config && json_equal(config, t[3]->config));   /* the explored config */
    json_decref(config);
    tc_action_clear(&a);
    CHECK_INT(take(r).kind, 0);
    free_checked(r);
    mem_host_free(h);
}

/* Time-sharing: with a trial waiting, every perturbation result PAUSEs; an
 * upper-quantile trial saves through the pause, a clone restarts through
 * TC_RESTART into PAUSED; pause checkpoints are transient. */
static void test_pbt_paused_clone(void)
{
    mem_host *h = mem_host_new();
    tc_runner *r = make_runner(h, &(setup){GRID2, 1, PBT_SPEC, 0, 1, 0, NULL});
    tc_trial *a = start_next(r);
    CHECK(a && a->index == 0);
    CHECK_INT(report(r, a, 1, 5.0), TC_PAUSE);             /* b waits */
    CHECK_INT(save_ckpt(h, r, a, 1, 1), 0);
    CHECK_INT(release(r, a, 0), 0);
    tc_trial *b = start_next(r);                           /* smallest perturbation time */
    CHECK(b && b->index == 1);
    CHECK_INT(report(r, b, 1, 1.0), TC_PAUSE);             /* donor a had no checkpoint then */
    CHECK_STR(b->tag, "1_lr=0.2");
    CHECK_INT(release(r, b, 0), 0);
    CHECK(start_next(r) == a);                             /* ties: add order */
    CHECK_INT(report(r, a, 2, 6.0), TC_PAUSE);             /* upper: saves through the pause */
    tc_runner_expect_checkpoint(r, a);
    CHECK_INT(save_ckpt(h, r, a, 2, 1), 0);
    /* the older pause checkpoint was transient: gone once a newer one exists */
    char dirs[256];
    ckpt_dirs(a, dirs, sizeof dirs);
    CHECK_STR(dirs, "checkpoint_2");
    CHECK(removed_path(h, a->logdir, "checkpoint_1"));
    CHECK_INT(release(r, a, 0), 0);
    CHECK(start_next(r) == b);
    tc_decision d = report(r, b, 2, 0.0);
    CHECK_INT(d, TC_RESTART);
    CHECK_INT(b->status, TC_PAUSED);                       /* a waits: b yields */
    CHECK_INT(b->restart_first, 0);
    CHECK(strncmp(b->tag, "1_lr=0.2@perturbed[lr=", 22) == 0);
    CHECK(tc_runner_choose(r, NULL) == a);                 /* b is still stopping */
    CHECK_INT(release(r, b, 0), 0);
    ckpt_dirs(b, dirs, sizeof dirs);
    CHECK_STR(dirs, "checkpoint_2");
    CHECK_STR(mem_file_text(&h->fs, b->logdir, "checkpoint_2/checkpoint"), "state of 00000 at 2");
    /* a's checkpoint, transient but the newest, survives the copy */
    CHECK_STR(mem_file_text(&h->fs, a->logdir, "checkpoint_2/checkpoint"), "state of 00000 at 2");
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(start_attempt(r, b, 5, "host", &err), 0);
    CHECK_INT(b->restored_iteration, 2);
    /* b's first run had no checkpoint: its restart from scratch dropped its
     * row; the clone continues the files of its second run (1 row) */
    CHECK_INT(count_lines(mem_file_text(&h->fs, b->logdir, "result.json")), 1);
    CHECK_INT(b->ckpts.list[0].rows, 1);
    free_checked(r);
    mem_host_free(h);
}

/* When a donor may be cloned: it has a registered checkpoint, and the one
 * the executor asked a class trainable for (tc_runner_expect_checkpoint)
 * has arrived, or its worker was released. Two trials; b clones a. */
static void test_pbt_donor_ready(void)
{
    static const struct {
        int ckpt_before;       /* a registered checkpoint_1 of its own */
        int expect;            /* the TC_SAVE went to a class trainable */
        int arrives;           /* checkpoint_2 registered before b's result */
        int released;          /* a's worker released (it died, or stopped) */
        const char *clone;     /* the donor checkpoint cloned, NULL: skipped */
    } rows[] = {
        {0, 0, 0, 0, NULL},                /* nothing registered */
        {1, 0, 0, 0, "checkpoint_1"},      /* a function trainable's own checkpoint */
        {1, 1, 0, 0, NULL},                /* the requested one is in flight */
        {1, 1, 1, 0, "checkpoint_2"},
        {1, 1, 0, 1, "checkpoint_1"},      /* released: no more waiting */
        {0, 1, 1, 0, "checkpoint_2"},
        {0, 1, 0, 1, NULL},
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        mem_host *h = mem_host_new();
        tc_runner *r = make_runner(h, &(setup){GRID2, 1, PBT_SPEC, 0, 2, 0, NULL});
        tc_trial *a = start_next(r), *b = start_next(r);
        CHECK_INT(report(r, a, 1, 5.0), TC_CONTINUE);
        CHECK_INT(report(r, b, 1, 1.0), TC_CONTINUE);      /* a was not upper when it reported */
        if (rows[k].ckpt_before)
            CHECK_INT(save_ckpt(h, r, a, 1, 0), 0);
        CHECK_INT(report(r, a, 2, 6.0), TC_SAVE);
        if (rows[k].expect)
            tc_runner_expect_checkpoint(r, a);
        if (rows[k].arrives)
            CHECK_INT(save_ckpt(h, r, a, 2, 1), 0);
        if (rows[k].released)
            CHECK_INT(release(r, a, 0), 0);
        tc_decision d = report(r, b, 2, 0.0);
        if ((d == TC_RESTART) != (rows[k].clone != NULL))
            fprintf(stderr, "donor row %zu\n", k);
        CHECK_INT(d, rows[k].clone ? TC_RESTART : TC_CONTINUE);
        tc_buf dbg;
        tc_buf_init(&dbg);
        char want[80];
        snprintf(want, sizeof want, "PopulationBasedTraining: 1 checkpoints, %d perturbs",
                 rows[k].clone ? 1 : 0);
        CHECK_STR(debug_string(r, &dbg), want);
        tc_buf_free(&dbg);
        if (rows[k].clone) {
            CHECK_STR(b->clone_dir, rows[k].clone);
            CHECK(strncmp(b->tag, "1_lr=0.2@perturbed[", 19) == 0);
            CHECK_INT(release(r, b, 0), 0);
            char dirs[64];
            ckpt_dirs(b, dirs, sizeof dirs);
            CHECK_STR(dirs, rows[k].clone);
        } else {
            CHECK(b->clone_dir == NULL);
            CHECK_STR(b->tag, "1_lr=0.2");
            CHECK_INT(b->status, TC_RUNNING);
            CHECK_INT(h->ncopies, 0);
        }
        free_checked(r);
        mem_host_free(h);
    }
}

static void test_pbt_replay(void)
{
    mem_host *h = mem_host_new();
    tc_runner *r = make_runner(h, &(setup){"{\"config\": {\"lr\": 0.3}}", 1,
        "{\"kind\": \"pbt_replay\", \"initial_config\": {\"lr\": 0.1}, "
        "\"policy\": [[2, {\"lr\": 0.5}]], \"experiment_tag\": \"replay_p\"}", 0, 1, 0, NULL});
    tc_trial *t = start_next(r);
    CHECK(json_real_value(json_object_get(t->config, "lr")) == 0.1);
    CHECK_INT(report(r, t, 1, 1.0), TC_CONTINUE);
    CHECK_INT(report(r, t, 2, 1.0), TC_PAUSE);             /* save, then restart */
    CHECK_INT(t->status, TC_PENDING);
    CHECK_INT(t->saving, 1);
    CHECK(json_real_value(json_object_get(t->config, "lr")) == 0.5);
    CHECK_STR(t->tag, "replay_p@perturbed[lr=0.5]");
    CHECK_INT(save_ckpt(h, r, t, 2, 1), 0);
    CHECK_INT(release(r, t, 0), 0);
    CHECK(tc_runner_choose(r, NULL) == t);
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(start_attempt(r, t, 5, "host", &err), 0);
    CHECK_INT(t->restored_iteration, 2);
    CHECK_INT(report(r, t, 3, 1.0), TC_CONTINUE);          /* the policy is used up */
    json_t *line = last_line(mem_file_text(&h->fs, t->logdir, "result.json"));
    CHECK(line && json_real_value(json_object_get(json_object_get(line, "config"), "lr")) == 0.5);
    json_decref(line);
    tc_buf dbg;
    tc_buf_init(&dbg);
    CHECK_STR(debug_string(r, &dbg), "PopulationBasedTraining replay: Step 1");
    tc_buf_free(&dbg);
    free_checked(r);
    mem_host_free(h);
}

/* A trial restarting at once (restart_first) comes before the scheduler's
 * own choice, here a host scheduler's, once its worker is released. */
static void test_restart_first(void)
{
    mem_host *h = mem_host_new();
    h->super_calls = 1;
    h->choose_ret = 1;
    tc_runner *r = make_runner(h, &(setup){GRID2, 1,
        "{\"kind\": \"pbt_replay\", \"initial_config\": {\"lr\": 0.7}, "
        "\"policy\": [[2, {\"lr\": 0.5}]]}", 1, 1, 0, NULL});
    tc_trial *t0 = tc_runner_trial(r, 0), *t1 = start_next(r);
    CHECK(t1 && t1->index == 1);
    CHECK(json_real_value(json_object_get(t0->config, "lr")) == 0.7);   /* super().on_add */
    CHECK_INT(report(r, t1, 1, 1.0), TC_CONTINUE);
    CHECK_INT(report(r, t1, 2, 1.0), TC_PAUSE);
    CHECK_INT(t1->status, TC_PENDING);
    CHECK_INT(t1->restart_first, 1);
    CHECK_STR(t1->tag, "replay@perturbed[lr=0.5]");
    h->choose_ret = 0;
    int calls = h->choose_calls;
    CHECK(tc_runner_choose(r, NULL) == t0);    /* t1 still stopping: the host's choice */
    CHECK_INT(h->choose_calls, calls + 1);
    CHECK_INT(save_ckpt(h, r, t1, 2, 1), 0);
    CHECK_INT(release(r, t1, 0), 0);
    calls = h->choose_calls;
    CHECK(tc_runner_choose(r, NULL) == t1);
    CHECK_INT(h->choose_calls, calls);         /* not asked */
    free_checked(r);
    mem_host_free(h);
}

/* ---- transient checkpoints --------------------------------------------- */

static void test_transient_checkpoints(void)
{
    static const struct {
        long it;
        int transient;
        const char *dirs;          /* registered after the call */
        const char *removed;       /* remove_tree'd by this call, or NULL */
    } rows[] = {
        {1, 1, "checkpoint_1", NULL},
        {2, 0, "checkpoint_2", "checkpoint_1"},                 /* transient 1 dropped */
        {3, 0, "checkpoint_2,checkpoint_3", NULL},              /* non-transient kept */
        {4, 1, "checkpoint_2,checkpoint_3,checkpoint_4", NULL},
        {5, 1, "checkpoint_2,checkpoint_3,checkpoint_5", "checkpoint_4"},
        {5, 0, "checkpoint_2,checkpoint_3,checkpoint_5", NULL}, /* same dir saved again */
        {6, 0, "checkpoint_2,checkpoint_3,checkpoint_5,checkpoint_6", NULL},
    };
    mem_host *h = mem_host_new();
    tc_runner *r = make_runner(h, &(setup){GRID2, 1, NULL, 0, 1, 0, NULL});
    tc_trial *t = start_next(r);
    for (long i = 1; i <= 6; i++)
        CHECK_INT(report(r, t, i, (double)i), TC_CONTINUE);
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        int before = h->nremoved;
        CHECK_INT(save_ckpt(h, r, t, rows[k].it, rows[k].transient), 0);
        char dirs[256];
        ckpt_dirs(t, dirs, sizeof dirs);
        CHECK_STR(dirs, rows[k].dirs);
        CHECK_INT(h->nremoved - before, rows[k].removed ? 1 : 0);
        if (rows[k].removed) {
            CHECK(removed_path(h, t->logdir, rows[k].removed));
            char path[64];
            snprintf(path, sizeof path, "%s/checkpoint", rows[k].removed);
            CHECK(mem_file_text(&h->fs, t->logdir, path) == NULL);
        }
    }
    /* A checkpoint of an iteration never logged is not registered; a path
     * outside the logdir is refused. */
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_on_checkpoint(r, t, "checkpoint_9", "checkpoint_9/c", 9, -1, 0, &err), 0);
    CHECK_INT((long)t->ckpts.n, 4);
    CHECK_INT(tc_runner_on_checkpoint(r, t, "../x", "../x/c", 1, -1, 0, &err), -1);
    CHECK_INT(err.code, TC_ERR_VALUE);
    free_checked(r);
    mem_host_free(h);

    /* keep_checkpoints_num 1 with a transient newest: the retention rule
     * and the transient rule both apply, each directory removed once. */
    h = mem_host_new();
    r = make_runner(h, &(setup){GRID2, 1, NULL, 0, 1, 1, NULL});
    t = start_next(r);
    for (long i = 1; i <= 3; i++)
        CHECK_INT(report(r, t, i, (double)i), TC_CONTINUE);
    CHECK_INT(save_ckpt(h, r, t, 1, 0), 0);
    CHECK_INT(save_ckpt(h, r, t, 2, 1), 0);
    CHECK_INT(save_ckpt(h, r, t, 3, 0), 0);
    char dirs[256];
    ckpt_dirs(t, dirs, sizeof dirs);
    CHECK_STR(dirs, "checkpoint_3");
    CHECK_INT(h->nremoved, 2);
    CHECK(removed_path(h, t->logdir, "checkpoint_1") && removed_path(h, t->logdir, "checkpoint_2"));
    free_checked(r);
    mem_host_free(h);
}

/* ---- the host-driven scheduler ------------------------------------------ */

static int count_events(mem_host *h, int ev)
{
    int n = 0;
    for (int i = 0; i < h->nevents; i++)
        n += h->events[i].ev == ev;
    return n;
}

static void test_host_driven_events(void)
{
    mem_host *h = mem_host_new();
    h->choose_ret = -1;
    static const int script[] = {TC_SCHED_CONTINUE, TC_SCHED_NOOP, TC_SCHED_PAUSE, TC_SCHED_STOP};
    for (size_t i = 0; i < sizeof script / sizeof *script; i++)
        h->decisions[h->ndecisions++] = script[i];
    tc_runner *r = make_runner(h, &(setup){GRID3, 1, "{\"kind\": \"fifo\"}", 1, 3, 0,
                                           "{\"training_iteration\": 5}"});
    /* generation: one add per trial, no text */
    CHECK_INT(h->nevents, 3);
    for (int i = 0; i < 3 && i < h->nevents; i++) {
        CHECK_INT(h->events[i].ev, TC_EV_ADD);
        CHECK_INT(h->events[i].trial, i);
        CHECK(h->events[i].text == NULL);
    }
    /* the host's choice is used */
    h->choose_ret = 2;
    tc_trial *c = start_next(r);
    CHECK(c && c->index == 2);
    CHECK_INT(h->choose_calls, 1);
    h->choose_ret = 2;                                     /* RUNNING now: not startable */
    CHECK(tc_runner_choose(r, NULL) == NULL);
    h->choose_ret = 7;                                     /* no such trial */
    CHECK(tc_runner_choose(r, NULL) == NULL);
    h->choose_ret = -2;
    tc_error err;
    tc_error_init(&err);
    CHECK(tc_runner_choose(r, &err) == NULL);
    CHECK_INT(err.code, TC_ERR_CALLBACK);
    h->choose_ret = 0;
    tc_trial *a = start_next(r);
    h->choose_ret = 1;
    tc_trial *b = start_next(r);
    CHECK(a && a->index == 0 && b && b->index == 1);

    /* results: the decision script CONTINUE, NOOP, PAUSE, STOP */
    static const struct { int trial; tc_decision want; tc_status status; } steps[] = {
        {0, TC_CONTINUE, TC_RUNNING},
        {0, TC_CONTINUE, TC_RUNNING},     /* NOOP */
        {1, TC_PAUSE, TC_PAUSED},
        {2, TC_STOP, TC_TERMINATED},
    };
    tc_trial *t[3] = {a, b, c};
    int n0 = h->nevents;
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        CHECK_INT(report(r, t[steps[k].trial], (long)k + 1, 1.0), steps[k].want);
        CHECK_INT(t[steps[k].trial]->status, steps[k].status);
        CHECK_INT(h->events[n0 + (int)k].ev, TC_EV_RESULT);
        CHECK_INT(h->events[n0 + (int)k].trial, steps[k].trial);
        /* the line as the loggers get it, done false */
        json_t *line = h->events[n0 + (int)k].text
            ? tc_json_loads(h->events[n0 + (int)k].text, strlen(h->events[n0 + (int)k].text), NULL)
            : NULL;
        CHECK(line != NULL);
        CHECK(json_is_false(json_object_get(line, "done")));
        CHECK_STR(json_string_value(json_object_get(line, "trial_id")), t[steps[k].trial]->trial_id);
        CHECK(json_is_object(json_object_get(line, "config")));
        CHECK_INT(json_integer_value(json_object_get(line, "training_iteration")), (long)k + 1);
        json_decref(line);
    }
    /* the stop rule ends a: COMPLETE with its line, no RESULT */
    int before = h->nevents;
    CHECK_INT(report(r, a, 5, 1.0), TC_STOP);
    CHECK_INT(h->nevents, before + 1);
    CHECK_INT(h->events[before].ev, TC_EV_COMPLETE);
    CHECK(h->events[before].text && strstr(h->events[before].text, "\"training_iteration\": 5"));
    /* the paused b saves, is released and restarted; its function returns */
    CHECK_INT(save_ckpt(h, r, b, 3, 1), 0);
    CHECK_INT(release(r, b, 0), 0);
    h->choose_ret = 1;
    CHECK(start_next(r) == b);
    before = h->nevents;
    CHECK_INT(tc_runner_on_complete(r, b, &err), 0);
    CHECK_INT(h->nevents, before + 1);
    CHECK_INT(h->events[before].ev, TC_EV_COMPLETE);
    CHECK_INT(h->events[before].trial, 1);
    CHECK(h->events[before].text && strstr(h->events[before].text, "\"trial_id\": \"00001\""));
    CHECK_INT(count_events(h, TC_EV_ERROR), 0);
    free_checked(r);
    mem_host_free(h);

    /* a trial the host paused returns while being paused: COMPLETE too */
    h = mem_host_new();
    h->choose_ret = 0;
    h->decisions[h->ndecisions++] = TC_SCHED_PAUSE;
    r = make_runner(h, &(setup){GRID2, 1, "{\"kind\": \"fifo\"}", 1, 2, 0, NULL});
    a = start_next(r);
    CHECK_INT(report(r, a, 1, 2.0), TC_PAUSE);
    before = h->nevents;
    CHECK_INT(release(r, a, 1), 0);
    CHECK_INT(a->status, TC_TERMINATED);
    CHECK_INT(h->nevents, before + 1);
    CHECK_INT(h->events[before].ev, TC_EV_COMPLETE);
    CHECK(h->events[before].text && strstr(h->events[before].text, "\"score\": 2"));
    free_checked(r);
    mem_host_free(h);

    /* a final failure: ERROR, no text; a failing sched_event fails the call */
    h = mem_host_new();
    h->choose_ret = 0;
    r = make_runner(h, &(setup){GRID2, 1, "{\"kind\": \"fifo\"}", 1, 2, 0, NULL});
    a = start_next(r);
    tc_error_init(&err);
    CHECK_INT(tc_runner_on_error(r, a, "Traceback: boom", &err), 0);
    CHECK_INT(h->events[h->nevents - 1].ev, TC_EV_ERROR);
    CHECK(h->events[h->nevents - 1].text == NULL);
    CHECK_INT(a->status, TC_ERROR);
    h->choose_ret = 1;
    b = start_next(r);
    h->event_fail = 1;
    tc_decision d;
    const char *text = "{\"training_iteration\": 1, \"score\": 1, \"config\": null}";
    CHECK_INT(tc_runner_on_result(r, b, text, strlen(text), &d, &err), -1);
    CHECK_INT(err.code, TC_ERR_CALLBACK);
    free_checked(r);
    mem_host_free(h);
}

static void test_host_driven_super_and_act(void)
{
    /* A subclass of ASHA that calls super() for every event: the built-in
     * core decides, through tc_runner_sched_builtin. */
    mem_host *h = mem_host_new();
    h->super_calls = 1;
    h->choose_ret = -1;
    tc_runner *r = make_runner(h, &(setup){GRID3, 1,
        "{\"kind\": \"asha\", \"metric\": \"score\", \"time_attr\": \"training_iteration\", "
        "\"max_t\": 10, \"grace_period\": 1, \"reduction_factor\": 2}", 1, 3, 0, NULL});
    tc_trial *t[3];
    for (int i = 0; i < 3; i++) {
        h->choose_ret = i;
        t[i] = start_next(r);
    }
    CHECK_INT(report(r, t[0], 1, 1.0), TC_CONTINUE);
    CHECK_INT(report(r, t[1], 1, 0.5), TC_STOP);           /* ASHA's cutoff, via super() */
    CHECK_INT(t[1]->status, TC_TERMINATED);
    json_t *line = last_line(mem_file_text(&h->fs, t[1]->logdir, "result.json"));
    CHECK(line && json_is_true(json_object_get(line, "done")));
    json_decref(line);
    CHECK_INT(report(r, t[2], 10, 0.0), TC_STOP);          /* max_t */
    tc_buf dbg;
    tc_buf_init(&dbg);
    CHECK(strncmp(debug_string(r, &dbg), "Using AsyncHyperBand: num_stopped=2", 35) == 0);
    tc_buf_free(&dbg);
    /* tc_runner_sched_builtin takes nested or flattened results */
    int dec = -1;
    tc_error err;
    tc_error_init(&err);
    json_t *nested = json_loads("{\"training_iteration\": 2, \"score\": 3}", 0, NULL);
    CHECK_INT(tc_runner_sched_builtin(r, t[0], TC_EV_RESULT, nested, &dec, &err), 0);
    CHECK_INT(dec, TC_SCHED_CONTINUE);
    json_decref(nested);
    free_checked(r);
    mem_host_free(h);

    /* tc_runner_sched_act: what the host scheduler does to other trials. */
    h = mem_host_new();
    h->choose_ret = 0;
    h->decisions[h->ndecisions++] = TC_SCHED_PAUSE;
    r = make_runner(h, &(setup){GRID4, 1, "{\"kind\": \"fifo\"}", 1, 4, 0, NULL});
    tc_trial *a = start_next(r);
    h->choose_ret = 1;
    tc_trial *b = start_next(r);
    CHECK_INT(report(r, a, 1, 1.0), TC_PAUSE);
    CHECK_INT(release(r, a, 0), 0);
    /* during b's result the host unpauses a: PAUSED -> PENDING */
    h->act_trial = 0;
    h->act_kind = TC_SCHED_ACT_UNPAUSE;
    CHECK_INT(report(r, b, 1, 1.0), TC_CONTINUE);
    CHECK_INT(a->status, TC_PENDING);
    CHECK(journaled(h, "00000", "PENDING"));
    static const struct {
        long trial;            /* acted on */
        int action;
        int rc;
        tc_status before, after;
    } acts[] = {
        {2, TC_SCHED_ACT_STOP, 0, TC_PENDING, TC_TERMINATED},
        {0, TC_SCHED_ACT_UNPAUSE, 0, TC_PENDING, TC_PENDING},      /* not PAUSED: no-op */
        {1, TC_SCHED_ACT_STOP, 0, TC_RUNNING, TC_TERMINATED},      /* the host stops its worker */
        {3, 99, -1, TC_PENDING, TC_PENDING},
    };
    for (size_t k = 0; k < sizeof acts / sizeof acts[0]; k++) {
        tc_trial *x = tc_runner_trial(r, acts[k].trial);
        CHECK_INT(x->status, acts[k].before);
        tc_error_init(&err);
        CHECK_INT(tc_runner_sched_act(r, x, acts[k].action, &err), acts[k].rc);
        CHECK_INT(x->status, acts[k].after);
        CHECK_INT(err.code, acts[k].rc < 0 ? TC_ERR_VALUE : TC_OK);
    }
    CHECK_INT(tc_runner_count(r, TC_RUNNING), 0);
    /* the capacity b held is free again: both remaining trials fit */
    h->choose_ret = 0;
    CHECK(start_next(r) == a);
    h->choose_ret = 3;
    CHECK(start_next(r) == tc_runner_trial(r, 3));
    /* a result of the stopped b (its worker ran ahead) is ignored */
    int before = h->nevents;
    CHECK_INT(report(r, b, 2, 1.0), TC_STOP);
    CHECK_INT(h->nevents, before);
    free_checked(r);
    mem_host_free(h);
}

/* A user's PBT subclass whose super() call cloned the trial, then stops it
 * anyway: the staged copy is dropped and nothing is put in place later. */
static void test_host_driven_stops_clone(void)
{
    mem_host *h = mem_host_new();
    h->super_calls = 1;
    static const int script[] = {-1, -1, -1, TC_SCHED_STOP};
    for (size_t i = 0; i < sizeof script / sizeof *script; i++)
        h->decisions[h->ndecisions++] = script[i];
    tc_runner *r = make_runner(h, &(setup){GRID2, 1, PBT_SPEC, 1, 2, 0, NULL});
    h->choose_ret = 0;
    tc_trial *a = start_next(r);
    h->choose_ret = 1;
    tc_trial *b = start_next(r);
    CHECK_INT(report(r, a, 1, 5.0), TC_CONTINUE);
    CHECK_INT(report(r, b, 1, 1.0), TC_CONTINUE);
    CHECK_INT(save_ckpt(h, r, b, 1, 0), 0);
    CHECK_INT(report(r, a, 2, 6.0), TC_SAVE);              /* super(): upper quantile */
    tc_runner_expect_checkpoint(r, a);
    CHECK_INT(save_ckpt(h, r, a, 2, 1), 0);
    CHECK_INT(report(r, b, 2, 0.0), TC_STOP);              /* cloned by super(), then stopped */
    CHECK_INT(b->status, TC_TERMINATED);
    CHECK(b->clone_dir == NULL);
    CHECK_INT(b->restart_first, 0);
    CHECK(removed_path(h, b->logdir, ".pbt_clone"));
    CHECK(mem_file_text(&h->fs, b->logdir, ".pbt_clone/checkpoint") == NULL);
    CHECK_INT(release(r, b, 0), 0);
    char dirs[64];
    ckpt_dirs(b, dirs, sizeof dirs);
    CHECK_STR(dirs, "checkpoint_1");                       /* its own, untouched */
    CHECK_STR(mem_file_text(&h->fs, b->logdir, "checkpoint_1/checkpoint"), "state of 00001 at 1");
    CHECK(mem_file_text(&h->fs, b->logdir, "checkpoint_2/checkpoint") == NULL);
    free_checked(r);
    mem_host_free(h);
}


/* ---- PBT with rows, not training_iteration (issue 9, item 6) ---------- */

/* PBT driven by "step", while the trainable reports a training_iteration
 * of its own. */
static const char *const PBT_STEP_SPEC =
    "{\"kind\": \"pbt\", \"metric\": \"score\", \"mode\": \"max\", \"time_attr\": \"step\", "
    "\"perturbation_interval\": 1, \"quantile_fraction\": 0.25, \"resample_probability\": 0, "
    "\"hyperparam_mutations\": {\"lr\": [0.1, 0.2, 0.3, 0.4]}, \"seed\": 7}";

/* The worker's k-th result (step k) with the trainable's own
 * training_iteration `it`. */
static tc_decision report_step(tc_runner *r, tc_trial *t, long k, long it, double score)
{
    char text[256];
    snprintf(text, sizeof text, "{\"training_iteration\": %ld, \"step\": %ld, \"score\": %.17g, "
             "\"config\": null}", it, k, score);
    return result_text(r, t, text);
}

/* The checkpoint PBT asks a donor for is awaited by its place among the
 * rows: a trainable whose training_iteration runs in steps of 10 (its
 * checkpoints count 1, 2, ...) is cloned once the checkpoint arrives, and
 * one counting from 0 is not cloned from an older checkpoint while the
 * requested one is in flight. */
static void test_pbt_donor_ready_by_rows(void)
{
    static const struct { long first, stride; int arrives; const char *clone; } rows[] = {
        {10, 10, 1, "checkpoint_2"},
        {10, 10, 0, NULL},
        {0, 1, 1, "checkpoint_2"},
        {0, 1, 0, NULL},     /* checkpoint_1 is older than the one asked for */
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        mem_host *h = mem_host_new();
        tc_runner *r = make_runner(h, &(setup){GRID2, 1, PBT_STEP_SPEC, 0, 2, 0, NULL, 0});
        tc_trial *a = start_next(r), *b = start_next(r);
        long it1 = rows[k].first, it2 = rows[k].first + rows[k].stride;
        CHECK_INT(report_step(r, a, 1, it1, 5.0), TC_CONTINUE);
        CHECK_INT(report_step(r, b, 1, it1, 1.0), TC_CONTINUE);
        CHECK_INT(save_ckpt(h, r, a, 1, 0), 0);
        CHECK_INT(report_step(r, a, 2, it2, 6.0), TC_SAVE);
        tc_runner_expect_checkpoint(r, a);                 /* a class trainable saves */
        if (rows[k].arrives)
            CHECK_INT(save_ckpt(h, r, a, 2, 1), 0);
        CHECK_INT(a->save_wait_rows, rows[k].arrives ? -1 : 2);
        tc_decision d = report_step(r, b, 2, it2, 0.0);
        if ((d == TC_RESTART) != (rows[k].clone != NULL))
            fprintf(stderr, "donor-by-rows row %zu\n", k);
        CHECK_INT(d, rows[k].clone ? TC_RESTART : TC_CONTINUE);
        if (rows[k].clone)
            CHECK_STR(b->clone_dir, rows[k].clone);
        else
            CHECK(b->clone_dir == NULL);
        /* released: the wait is over, the newest checkpoint is the donor's */
        CHECK_INT(release(r, a, 0), 0);
        CHECK_INT(a->save_wait_rows, -1);
        free_checked(r);
        mem_host_free(h);
    }
}

/* training_iteration of each row of a trial's result.json, "1,2,3". */
static void row_iterations(mem_host *h, const tc_trial *t, char *out, size_t n)
{
    const char *text = mem_file_text(&h->fs, t->logdir, "result.json");
    out[0] = '\0';
    for (int i = 0; i < count_lines(text); i++) {
        json_t *row = nth_line(text, i);
        size_t used = strlen(out);
        snprintf(out + used, n - used, "%s%lld", i ? "," : "",
                 (long long)json_integer_value(json_object_get(row, "training_iteration")));
        json_decref(row);
    }
}

/* A clone's copied checkpoint records the rows the trial had logged when it
 * was cloned: a retry that restores it keeps them all, though the rows the
 * clone then logged go back to lower training_iterations. The row count is
 * journaled and in the experiment state, so a resume cuts the same way. */
static void test_pbt_clone_then_retry_keeps_rows(void)
{
    mem_host *h = mem_host_new();
    tc_runner *r = make_runner(h, &(setup){GRID2, 1, PBT_STEP_SPEC, 0, 2, 0, NULL, 1});
    tc_trial *a = start_next(r), *b = start_next(r);
    CHECK_INT(report_step(r, a, 1, 1, 5.0), TC_CONTINUE);
    /* b logs 4 rows; its donor has no checkpoint yet: no clone */
    for (long k = 1; k <= 4; k++)
        CHECK_INT(report_step(r, b, k, k, 1.0), TC_CONTINUE);
    CHECK_INT(report_step(r, a, 2, 2, 6.0), TC_SAVE);
    tc_runner_expect_checkpoint(r, a);
    CHECK_INT(save_ckpt(h, r, a, 2, 1), 0);
    /* b's 5th result: cloned from a's checkpoint_2 */
    CHECK_INT(report_step(r, b, 5, 5, 0.0), TC_RESTART);
    CHECK_INT(release(r, b, 0), 0);
    CHECK_INT(b->ckpts.n, 1);
    CHECK_STR(b->ckpts.list[0].dir, "checkpoint_2");
    CHECK_INT(b->ckpts.list[0].iteration, 2);
    CHECK_INT(b->ckpts.list[0].rows, 5);
    /* journaled and in the state with its rows */
    CHECK(h->journal.data && strstr(h->journal.data, "\"dir\": \"checkpoint_2\", \"path\": "
                                    "\"checkpoint_2/checkpoint\", \"iteration\": 2, \"score\": "
                                    "null, \"rows\": 5") != NULL);
    json_t *state = tc_runner_state(r, 1000.0);
    json_t *recs = json_object_get(state, "checkpoints");
    int found = 0;
    for (size_t i = 0; i < json_array_size(recs); i++) {
        json_t *rec = json_array_get(recs, i);
        if (strcmp(json_string_value(json_object_get(rec, "trial_id")), b->trial_id) == 0) {
            json_t *k = json_array_get(json_object_get(rec, "tunec_checkpoints"), 0);
            CHECK_INT(json_integer_value(json_object_get(k, "rows")), 5);
            found = 1;
        }
    }
    CHECK(found);
    json_decref(state);
    /* the clone restarts from iteration 2, its files continued */
    CHECK(start_next(r) == b);
    CHECK_INT(b->restored_iteration, 2);
    char its[128];
    row_iterations(h, b, its, sizeof its);
    CHECK_STR(its, "1,2,3,4,5");
    CHECK_INT(report_step(r, b, 3, 3, 10.0), TC_SAVE);    /* now the better one */
    row_iterations(h, b, its, sizeof its);
    CHECK_STR(its, "1,2,3,4,5,3");
    /* then fails: the retry restores the copy and keeps the 5 rows before it */
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_on_error(r, b, "Traceback: boom", &err), 0);
    CHECK_INT(b->status, TC_PENDING);
    CHECK(start_next(r) == b);
    CHECK_INT(b->restored_iteration, 2);
    row_iterations(h, b, its, sizeof its);
    CHECK_STR(its, "1,2,3,4,5");
    CHECK_INT(count_lines(mem_file_text(&h->fs, b->logdir, "progress.csv")), 6);
    CHECK_INT(b->n_results, 5);
    CHECK_INT(report_step(r, b, 3, 3, 10.0), TC_CONTINUE);   /* not a perturbation step */
    row_iterations(h, b, its, sizeof its);
    CHECK_STR(its, "1,2,3,4,5,3");
    free_checked(r);
    mem_host_free(h);
}

/* A function trainable restored from checkpoint_<n> may save checkpoint_<n>
 * again (Ray 0.8.7's pbt_function example does), rewriting it in place. A
 * clone of that trial taken meanwhile copies the copy made before the
 * trial restarted, never the half-written directory; the copy goes once the
 * trial's own save of that directory has arrived. */
static void test_pbt_clone_of_a_donor_rewriting_its_checkpoint(void)
{
    mem_host *h = mem_host_new();
    tc_runner *r = make_runner(h, &(setup){GRID2, 1, PBT_STEP_SPEC, 0, 2, 0, NULL, 1});
    tc_trial *a = start_next(r), *b = start_next(r);
    CHECK_INT(report_step(r, a, 1, 1, 5.0), TC_CONTINUE);
    for (long k = 1; k <= 4; k++)
        CHECK_INT(report_step(r, b, k, k, 1.0), TC_CONTINUE);
    CHECK_INT(report_step(r, a, 2, 2, 6.0), TC_SAVE);
    tc_runner_expect_checkpoint(r, a);
    CHECK_INT(save_ckpt(h, r, a, 2, 0), 0);
    CHECK(mem_file_text(&h->fs, a->logdir, ".pbt_restore_source/checkpoint") == NULL);
    /* a fails, and its retry restores checkpoint_2: copied first */
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_on_error(r, a, "Traceback: boom", &err), 0);
    CHECK(start_next(r) == a);
    CHECK_INT(a->restored_iteration, 2);
    CHECK_STR(mem_file_text(&h->fs, a->logdir, ".pbt_restore_source/checkpoint"),
              "state of 00000 at 2");
    /* its worker truncates checkpoint_2 to write it again; b is cloned now */
    put_file(h, a->logdir, "checkpoint_2/checkpoint", "");
    CHECK_INT(report_step(r, b, 5, 5, 0.0), TC_RESTART);
    CHECK_STR(b->clone_dir, "checkpoint_2");
    CHECK_STR(mem_file_text(&h->fs, b->logdir, ".pbt_clone/checkpoint"), "state of 00000 at 2");
    CHECK_INT(release(r, b, 0), 0);
    CHECK_STR(mem_file_text(&h->fs, b->logdir, "checkpoint_2/checkpoint"), "state of 00000 at 2");
    /* a's save of checkpoint_2 arrives: its copy is no longer needed */
    CHECK_INT(save_ckpt(h, r, a, 2, 0), 0);
    CHECK(mem_file_text(&h->fs, a->logdir, ".pbt_restore_source/checkpoint") == NULL);
    CHECK(a->source_copy_dir == NULL);
    /* b, restarted from its clone, is copied too; its end drops the copy */
    CHECK(start_next(r) == b);
    CHECK_STR(mem_file_text(&h->fs, b->logdir, ".pbt_restore_source/checkpoint"),
              "state of 00000 at 2");
    CHECK_INT(tc_runner_on_complete(r, b, &err), 0);
    CHECK_INT(release(r, b, 1), 0);
    CHECK(mem_file_text(&h->fs, b->logdir, ".pbt_restore_source/checkpoint") == NULL);
    free_checked(r);
    mem_host_free(h);
}

int main(void)
{
    test_spec_parsing();
    test_fifo_paused_fallback();
    test_asha();
    test_hyperband_halving();
    test_hyperband_finished_while_paused();
    test_stuck();
    test_median();
    test_pbt_clone();
    test_pbt_exploit_actions();
    test_pbt_paused_clone();
    test_pbt_donor_ready();
    test_pbt_replay();
    test_restart_first();
    test_transient_checkpoints();
    test_host_driven_events();
    test_host_driven_super_and_act();
    test_host_driven_stops_clone();
    test_pbt_donor_ready_by_rows();
    test_pbt_clone_then_retry_keeps_rows();
    test_pbt_clone_of_a_donor_rewriting_its_checkpoint();
    TEST_MAIN_END();
}
