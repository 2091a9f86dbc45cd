/* test_runner_search.c — the searcher seam (runner_search.c), driven as the
 * executor drives it (executor_search.c's tcx_search_fill: step, start what
 * can start, step again while trials were added) against a scripted host
 * searcher that records every call.
 *
 * What is checked: the engine asks only when a trial could start; "no
 * suggestion yet" waits for the next result or trial end; FINISHED and
 * num_samples end the search and the run ends once every end is heard;
 * errored trials reach the searcher as TC_EV_ERROR without a result; a
 * trial's results all come before its end, which carries the last one;
 * a resume recreates the recorded trials without asking and asks next for
 * the id a lost suggestion had; stop_all's ends are heard before generation
 * counts as done; searcher trials take custom names; a grid_search in a
 * suggestion fails naming its path.
 *
 * The call log is a string of tokens: "s<id>" a suggest call, "r<id>" a
 * result, "c<id>" a completion, "e<id>" an error end. */
#include <stdlib.h>
#include <string.h>
#include "tc_test.h"
#include "start_attempt.h"
#include "tunec.h"
#include "runner.h"
#include "mem_fs.h"

/* ---- the host and its scripted searcher ------------------------------- */

#define MAX_EVENTS 128
#define NONE "NONE"
#define FINISHED "FINISHED"

typedef struct {
    mem_fs fs;                /* first: the callbacks' ctx is also a mem_fs */
    tc_runner *r;
    tc_buf journal;
    tc_buf log;               /* tokens since the last CHECK_LOG */
    struct { char kind; char id[16]; char *text; } events[MAX_EVENTS];
    int nevents;
    /* The searcher's answers, in order: a JSON object, NONE or FINISHED.
     * Past the end, `then` (NULL: NONE). */
    const char *const *script;
    int nscript, next;
    const char *then;
    /* The bridge's memory of its newest suggestion (survives a "kill"):
     * asked again for that id, it hands the same config out again. */
    char handed_id[16];
    char *handed_config;
} host;

static void log_token(host *h, char kind, const char *id, const char *text, size_t len)
{
    if (h->log.len)
        tc_buf_putc(&h->log, ' ');
    tc_buf_printf(&h->log, "%c%s", kind, id);
    if (h->nevents < MAX_EVENTS) {
        h->events[h->nevents].kind = kind;
        snprintf(h->events[h->nevents].id, sizeof h->events[0].id, "%s", id);
        h->events[h->nevents].text = text ? strndup(text, len) : NULL;
        h->nevents++;
    }
}

static int h_suggest(void *ctx, const char *trial_id, json_t **config, tc_error *err)
{
    host *h = ctx;
    log_token(h, 's', trial_id, NULL, 0);
    const char *answer;
    if (h->handed_config && strcmp(h->handed_id, trial_id) == 0)
        answer = h->handed_config;        /* the bridge's re-hand-out */
    else
        answer = h->next < h->nscript ? h->script[h->next++] : h->then ? h->then : NONE;
    if (strcmp(answer, NONE) == 0)
        return 0;
    if (strcmp(answer, FINISHED) == 0)
        return 2;
    *config = json_loads(answer, 0, NULL);
    if (!*config)
        return tc_error_set(err, TC_ERR_VALUE, "bad script entry %s", answer);
    if (answer != h->handed_config) {
        free(h->handed_config);
        h->handed_config = strdup(answer);
        snprintf(h->handed_id, sizeof h->handed_id, "%s", trial_id);
    }
    return 1;
}

static int h_event(void *ctx, int event, const char *trial_id, const char *result, size_t len,
                   tc_error *err)
{
    host *h = ctx;
    char kind = event == TC_EV_RESULT ? 'r' : event == TC_EV_COMPLETE ? 'c' :
                event == TC_EV_ERROR ? 'e' : '?';
    log_token(h, kind, trial_id, result, len);
    return 0;
}

static int h_journal(void *ctx, const char *line, size_t len, tc_error *err)
{
    return tc_buf_append(&((host *)ctx)->journal, line, len);
}

static host *host_new(const char *const *script, int nscript, const char *then)
{
    host *h = calloc(1, sizeof *h);
    h->fs.clock = 1000.0;
    tc_buf_init(&h->journal);
    tc_buf_init(&h->log);
    h->script = script;
    h->nscript = nscript;
    h->then = then;
    return h;
}

static void host_free(host *h)
{
    mem_fs_free(&h->fs);
    for (int i = 0; i < h->nevents; i++)
        free(h->events[i].text);
    free(h->handed_config);
    tc_buf_free(&h->journal);
    tc_buf_free(&h->log);
    free(h);
}

#define CHECK_LOG(h, want) do { CHECK_STR((h)->log.data ? (h)->log.data : "", want); \
    tc_buf_clear(&(h)->log); } while (0)

/* The text of the newest event of that kind for trial id ("" if none
 * came, NULL if it came without text). */
static const char *event_text(host *h, char kind, const char *id)
{
    for (int i = h->nevents - 1; i >= 0; i--)
        if (h->events[i].kind == kind && strcmp(h->events[i].id, id) == 0)
            return h->events[i].text;
    return "";
}

/* ---- the runner, driven as the executor drives it -------------------- */

typedef struct setup {
    const char *spec;         /* the experiment's encoded spec, NULL: {"config": {}} */
    long max_trials;          /* num_samples (-1: until FINISHED) */
    double cpus;
    long max_concurrent;
    int max_failures;
    json_t *records;          /* resume records (stolen) or NULL */
} setup;

static tc_runner *make_runner(host *h, const setup *s)
{
    tc_error err;
    tc_error_init(&err);
    tc_host hc = mem_fs_host(h);
    hc.journal = h_journal;
    hc.read_file = mem_read_file;   /* restarts cut the files (result_cut.c) */
    hc.search_suggest = h_suggest;
    hc.search_event = h_event;
    tc_runner_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.session_str = "2020-01-01_00-00-00";
    ro.max_concurrent = s->max_concurrent;
    tc_runner *r = tc_runner_new(&ro, &hc, &err);
    h->r = r;
    tc_capacity_init(tc_runner_capacity_mut(r), s->cpus, 0, NULL);
    json_t *spec = json_loads(s->spec ? s->spec : "{\"config\": {}}", 0, NULL);
    CHECK(spec != NULL);
    tc_experiment_opts xo;
    memset(&xo, 0, sizeof xo);
    xo.name = "exp";
    xo.exp_dir = "/r/exp";
    xo.trainable_name = "train";
    xo.resources.cpu = 1;
    xo.max_failures = s->max_failures;
    xo.log_json = 1;
    CHECK_INT(tc_runner_add_experiment(r, &xo, tc_space_new(spec, 1, 42, &err), &err), 0);
    if (s->records)
        CHECK_INT(tc_runner_set_resume(r, s->records, 1, 0, 0, &err), 0);
    CHECK_INT(tc_runner_set_searcher(r, 0, spec, s->max_trials, &err), 0);
    json_decref(spec);
    return r;
}

static void start_all(host *h)
{
    tc_error err;
    tc_error_init(&err);
    for (tc_trial *t; (t = tc_runner_choose(h->r, NULL));)
        CHECK_INT(start_attempt(h->r, t, 1234, "host", &err), 0);
}

/* One search step, nothing started. */
static int step(host *h)
{
    tc_error err;
    tc_error_init(&err);
    int rc = tc_runner_search_step(h->r, NULL, NULL, &err);
    CHECK(rc >= 0);
    if (rc < 0)
        fprintf(stderr, "  search step: %s\n", err.text);
    return rc;
}

/* One round of the executor's loop (Run_step): start what can start, then
 * tcx_search_fill: step, and start, while steps add trials. */
static void fill(host *h)
{
    start_all(h);
    while (step(h) > 0)
        start_all(h);
}

static tc_trial *trial(host *h, long i)
{
    return tc_runner_trial(h->r, i);
}

static void report(host *h, tc_trial *t, const char *json)
{
    tc_error err;
    tc_error_init(&err);
    tc_decision d;
    CHECK_INT(tc_runner_on_result(h->r, t, json, strlen(json), &d, &err), 0);
}

static void complete(host *h, tc_trial *t)
{
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_on_complete(h->r, t, &err), 0);
}

static void crash(host *h, tc_trial *t)
{
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_on_error(h->r, t, "Traceback: boom", &err), 0);
}

static void finish(host *h)
{
    tc_runner_free(h->r);
    host_free(h);
}

/* ---- tests ------------------------------------------------------------ */

/* The searcher is asked only when a trial of its experiment could start
 * now: free resources, max_concurrent not reached, no PENDING trial of the
 * experiment waiting. */
static void test_asks_only_when_a_trial_can_start(void)
{
    static const struct {
        const char *what;
        double cpus;
        long max_concurrent;
        int start;            /* 1: fill (start what can start), 0: bare steps */
        int steps;
        int asks, trials, running;
    } rows[] = {
        {"two CPUs: two asks, not a third", 2, 0, 1, 1, 2, 2, 2},
        {"max_concurrent caps the asks", 4, 1, 1, 1, 1, 1, 1},
        {"max_concurrent below the CPUs", 4, 3, 1, 2, 3, 3, 3},
        {"a PENDING trial waits: no second ask", 4, 0, 0, 3, 1, 1, 0},
        {"resources never fit: never asked", 0.5, 0, 1, 3, 0, 0, 0},
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        host *h = host_new(NULL, 0, "{\"x\": 1}");
        setup s = {.max_trials = -1, .cpus = rows[k].cpus,
                   .max_concurrent = rows[k].max_concurrent};
        make_runner(h, &s);
        for (int i = 0; i < rows[k].steps; i++) {
            if (rows[k].start)
                fill(h);
            else
                step(h);
        }
        int asks = 0;
        for (int i = 0; i < h->nevents; i++)
            asks += h->events[i].kind == 's';
        if (asks != rows[k].asks)
            fprintf(stderr, "  row: %s\n", rows[k].what);
        CHECK_INT(asks, rows[k].asks);
        CHECK_INT(tc_runner_num_trials(h->r), rows[k].trials);
        CHECK_INT(tc_runner_count(h->r, TC_RUNNING), rows[k].running);
        finish(h);
    }
}

/* "No suggestion yet" (None) waits for the next result or trial end of the
 * searcher's trials before asking again; with nothing running, every step
 * of the host's loop may ask (nothing else would wake it). */
static void test_none_waits_for_the_next_event(void)
{
    static const char *const script[] = {"{\"x\": 1}", "{\"x\": 2}", NONE, NONE, NONE, NONE,
                                         NONE, "{\"x\": 3}"};
    host *h = host_new(script, 8, NULL);
    setup s = {.max_trials = -1, .cpus = 3};
    make_runner(h, &s);
    fill(h);
    CHECK_LOG(h, "s00000 s00001 s00002");
    CHECK_INT(tc_runner_count(h->r, TC_RUNNING), 2);
    fill(h);
    fill(h);
    CHECK_LOG(h, "");                             /* no busy asking */
    report(h, trial(h, 0), "{\"acc\": 0.5}");
    fill(h);
    CHECK_LOG(h, "r00000 s00002");                /* a result wakes it */
    fill(h);
    CHECK_LOG(h, "");
    complete(h, trial(h, 0));
    fill(h);
    CHECK_LOG(h, "c00000 s00002");                /* so does an end, heard first */
    fill(h);
    CHECK_LOG(h, "");
    complete(h, trial(h, 1));
    fill(h);
    CHECK_LOG(h, "c00001 s00002");
    fill(h);                                      /* nothing runs: each step of the */
    CHECK_LOG(h, "s00002");                       /* host's loop asks */
    fill(h);
    CHECK_LOG(h, "s00002 s00003");                /* a config; then None for the next */
    CHECK_INT(tc_runner_num_trials(h->r), 3);
    CHECK_STR(trial(h, 2)->trial_id, "00002");
    CHECK_INT(json_integer_value(json_object_get(trial(h, 2)->config, "x")), 3);
    finish(h);
}

/* FINISHED ends the search; the run is finished once every trial has
 * ended and the searcher has heard of every end. */
static void test_finished_ends_the_search(void)
{
    static const char *const script[] = {"{\"x\": 1}", "{\"x\": 2}", FINISHED};
    host *h = host_new(script, 3, "{\"x\": 99}");
    setup s = {.max_trials = 10, .cpus = 4};
    make_runner(h, &s);
    fill(h);
    CHECK_LOG(h, "s00000 s00001 s00002");
    fill(h);
    CHECK_LOG(h, "");                             /* never asked again */
    CHECK(!tc_runner_is_finished(h->r));
    report(h, trial(h, 0), "{\"acc\": 1, \"done\": true}");
    complete(h, trial(h, 1));
    CHECK(!tc_runner_generation_done(h->r));      /* two ends not heard yet */
    CHECK(!tc_runner_is_finished(h->r));
    fill(h);
    CHECK_LOG(h, "r00000 c00000 c00001");
    CHECK(tc_runner_generation_done(h->r));
    CHECK(tc_runner_is_finished(h->r));
    CHECK_INT(tc_runner_num_trials(h->r), 2);
    finish(h);
}

/* num_samples caps the trials made (Ray's SearchGenerator counts them):
 * the searcher is not asked past it, whatever is free. */
static void test_num_samples_cap(void)
{
    static const struct {
        long max_trials;
        double cpus;
        const char *first, *rest;   /* the log of the first fill, then of the rest */
    } rows[] = {
        {3, 8, "s00000 s00001 s00002", "c00000 c00001 c00002"},
        {2, 1, "s00000", "c00000 s00001 c00001"},
        {0, 2, "", ""},
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        host *h = host_new(NULL, 0, "{\"x\": 1}");
        setup s = {.max_trials = rows[k].max_trials, .cpus = rows[k].cpus};
        make_runner(h, &s);
        fill(h);
        CHECK_LOG(h, rows[k].first);
        tc_buf rest;
        tc_buf_init(&rest);
        /* End whatever runs, one step at a time, until the run is over. */
        for (int guard = 0; guard < 20 && !tc_runner_is_finished(h->r); guard++) {
            for (long i = 0; i < tc_runner_num_trials(h->r); i++)
                if (trial(h, i)->status == TC_RUNNING)
                    complete(h, trial(h, i));
            fill(h);
            if (h->log.len)
                tc_buf_printf(&rest, "%s%s", rest.len ? " " : "", h->log.data);
            tc_buf_clear(&h->log);
        }
        CHECK_STR(rest.data ? rest.data : "", rows[k].rest);
        CHECK(tc_runner_is_finished(h->r));
        CHECK_INT(tc_runner_num_trials(h->r), rows[k].max_trials);
        tc_buf_free(&rest);
        finish(h);
    }
}

/* An errored trial reaches the searcher as TC_EV_ERROR with no result —
 * only once it is ERROR: a failure that is retried is not an end. */
static void test_error_flag(void)
{
    host *h = host_new(NULL, 0, "{\"x\": 1}");
    setup s = {.max_trials = 2, .cpus = 1, .max_failures = 1};
    make_runner(h, &s);
    fill(h);
    CHECK_LOG(h, "s00000");
    tc_trial *t = trial(h, 0);
    report(h, t, "{\"acc\": 0.1}");
    crash(h, t);
    CHECK_INT(t->status, TC_PENDING);             /* retried */
    fill(h);                                      /* restarted, no end, no ask */
    CHECK_INT(t->status, TC_RUNNING);
    CHECK_LOG(h, "r00000");
    crash(h, t);
    CHECK_INT(t->status, TC_ERROR);
    fill(h);
    CHECK_LOG(h, "e00000 s00001");
    CHECK(event_text(h, 'e', "00000") == NULL);
    finish(h);
}

/* A trial's results all reach the searcher before its end, which carries
 * the last result; ends are heard in trial order at the
 * next step, before the next ask; a result after the trial's end is not
 * passed on. */
static void test_completion_order_and_last_result(void)
{
    host *h = host_new(NULL, 0, "{\"x\": 1}");
    setup s = {.max_trials = 4, .cpus = 3};
    make_runner(h, &s);
    fill(h);
    CHECK_LOG(h, "s00000 s00001 s00002");
    tc_trial *a = trial(h, 0), *b = trial(h, 1), *c = trial(h, 2);
    report(h, a, "{\"i\": 1}");
    report(h, b, "{\"i\": 1}");
    report(h, a, "{\"i\": 2}");
    report(h, a, "{\"i\": 3}");
    report(h, b, "{\"i\": 2, \"done\": true}");   /* the trial's own stop */
    report(h, b, "{\"i\": 3}");                   /* ran ahead of the stop: dropped */
    complete(h, c);                               /* ends first, no result */
    complete(h, a);
    CHECK_LOG(h, "r00000 r00001 r00000 r00000 r00001");
    fill(h);
    CHECK_LOG(h, "c00000 c00001 c00002 s00003");
    const char *last_a = event_text(h, 'r', "00000"), *end_a = event_text(h, 'c', "00000");
    CHECK(last_a && strstr(last_a, "\"i\": 3") && strstr(last_a, "\"done\": false"));
    /* the same row, marked done: the function returned after it */
    CHECK(end_a && strstr(end_a, "\"i\": 3") && strstr(end_a, "\"done\": true"));
    const char *end_b = event_text(h, 'c', "00001");
    CHECK(end_b && strstr(end_b, "\"i\": 2") && strstr(end_b, "\"done\": true"));
    /* a function that returned without reporting ends with done=True only */
    const char *end_c = event_text(h, 'c', "00002");
    CHECK(end_c && strstr(end_c, "\"done\": true") && !strstr(end_c, "\"i\""));
    finish(h);
}

/* Resume: the recorded trials come back with their ids and configs without
 * a suggest call; finished ones are delivered as ends again (the bridge
 * drops those its saved state had heard). The next ask is for the id after
 * the highest record: a suggestion given out for it before the kill, whose
 * trial was never journaled, is handed out again (here by the scripted
 * bridge) under that same id, and the searcher's next answer goes to the
 * next id — none repeated, none lost. */
static void test_resume_hands_out_the_lost_suggestion(void)
{
    static const char *const script[] = {"{\"x\": 10}", "{\"x\": 11}", "{\"x\": 12}",
                                         "{\"x\": 13}"};
    host *h = host_new(script, 4, NULL);
    setup s = {.max_trials = 5, .cpus = 2};
    tc_runner *r1 = make_runner(h, &s);
    fill(h);
    CHECK_LOG(h, "s00000 s00001");
    /* Each suggested trial is journaled as it is made, before it starts. */
    CHECK(h->journal.data && strstr(h->journal.data, "\"event\": \"start\"") &&
          strstr(h->journal.data, "\"trial_id\": \"00001\""));
    report(h, trial(h, 0), "{\"acc\": 0.7}");
    complete(h, trial(h, 0));
    fill(h);
    CHECK_LOG(h, "r00000 c00000 s00002");        /* 00002 = {"x": 12} handed out... */
    /* ...and the driver is killed before 00002 is recorded: the records
     * hold 00000 (TERMINATED) and 00001 (RUNNING). */
    json_t *records = json_object();
    for (long i = 0; i < 2; i++)
        json_object_set_new(records, trial(h, i)->trial_id, tc_trial_snapshot(r1, trial(h, i)));
    tc_runner_free(r1);
    h->next = 3;                                  /* the restored searcher's position */

    setup s2 = {.max_trials = 5, .cpus = 2, .records = records};
    make_runner(h, &s2);
    fill(h);
    CHECK_INT(tc_runner_num_trials(h->r), 2);
    CHECK_LOG(h, "c00000");                       /* the old end again; 00001 waits */
    const char *old_end = event_text(h, 'c', "00000");
    CHECK(old_end && strstr(old_end, "\"acc\": 0.7") != NULL);
    CHECK_INT(trial(h, 1)->status, TC_PENDING);
    fill(h);                                      /* 00001 restarts; then the lost id */
    CHECK_LOG(h, "s00002");
    CHECK_INT(tc_runner_num_trials(h->r), 3);
    if (tc_runner_num_trials(h->r) < 3) {
        finish(h);
        return;
    }
    static const struct { const char *id; long x; tc_status status; } want[] = {
        {"00000", 10, TC_TERMINATED}, {"00001", 11, TC_RUNNING}, {"00002", 12, TC_RUNNING},
    };
    for (long i = 0; i < 3; i++) {
        CHECK_STR(trial(h, i)->trial_id, want[i].id);
        CHECK_INT(json_integer_value(json_object_get(trial(h, i)->config, "x")), want[i].x);
        CHECK_INT(trial(h, i)->status, want[i].status);
    }
    CHECK_STR(trial(h, 2)->tag, "3_x=12");        /* numbered after the recovered two */
    complete(h, trial(h, 1));
    fill(h);
    CHECK_LOG(h, "c00001 s00003");
    CHECK_INT(json_integer_value(json_object_get(trial(h, 3)->config, "x")), 13);
    finish(h);
}

/* stop_all ends the PENDING trials at once and the RUNNING ones when the
 * host has stopped them; generation is not done (so the run is not
 * finished) until the searcher has heard of those ends. No ask meanwhile. */
static void test_stop_all_ends_heard_before_generation_done(void)
{
    host *h = host_new(NULL, 0, "{\"x\": 1}");
    setup s = {.max_trials = -1, .cpus = 3};
    make_runner(h, &s);
    step(h);
    start_all(h);
    step(h);
    start_all(h);
    step(h);                                      /* 00002 made, left PENDING */
    step(h);
    CHECK_LOG(h, "s00000 s00001 s00002");
    CHECK_INT(trial(h, 2)->status, TC_PENDING);
    tc_runner_stop_all(h->r);
    CHECK_INT(trial(h, 2)->status, TC_TERMINATED);
    CHECK(!tc_runner_generation_done(h->r));
    fill(h);
    CHECK_LOG(h, "c00002");
    CHECK(event_text(h, 'c', "00002") == NULL);   /* it never ran: no result */
    CHECK(tc_runner_generation_done(h->r));
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_on_stopped(h->r, trial(h, 1), &err), 0);
    CHECK_INT(tc_runner_on_stopped(h->r, trial(h, 0), &err), 0);
    CHECK(!tc_runner_generation_done(h->r));
    CHECK(!tc_runner_is_finished(h->r));
    fill(h);
    CHECK_LOG(h, "c00000 c00001");               /* in trial order */
    CHECK(tc_runner_generation_done(h->r));
    CHECK(tc_runner_is_finished(h->r));
    finish(h);
}

/* A suggestion is merged over the experiment's config (what is left there
 * unresolved is sampled); its tag and evaluated_params come from the
 * suggestion; the trial takes a custom name (trial_name_creator's path)
 * before it starts, and its directory follows the name. */
static void test_merge_tags_and_names(void)
{
    static const char *const script[] = {"{\"opt\": {\"lr\": 0.5}, \"b\": 2}", "{\"b\": 3}"};
    host *h = host_new(script, 2, NULL);
    setup s = {.spec = "{\"config\": {\"a\": 7, \"opt\": {\"mom\": 0.9}, \"u\": {\"$tunec\": "
                       "\"domain\", \"kind\": \"uniform\", \"lower\": 0, \"upper\": 1}}}",
               .max_trials = 2, .cpus = 2};
    make_runner(h, &s);
    CHECK_INT(step(h), 1);
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_set_custom_name(h->r, 0, "my_first", &err), 0);
    fill(h);
    tc_trial *t = trial(h, 0), *u = trial(h, 1);
    CHECK_STR(t->name, "my_first");
    CHECK(t->logdir && strncmp(t->logdir, "/r/exp/my_first", 15) == 0);
    CHECK_STR(u->name, "train_00001");
    CHECK_STR(t->tag, "1_b=2,lr=0.5");
    CHECK_STR(u->tag, "2_b=3");
    CHECK_INT(json_integer_value(json_object_get(t->config, "a")), 7);
    json_t *opt = json_object_get(t->config, "opt");
    CHECK_NEAR(json_real_value(json_object_get(opt, "mom")), 0.9, 0);
    CHECK_NEAR(json_real_value(json_object_get(opt, "lr")), 0.5, 0);
    double x = json_real_value(json_object_get(t->config, "u"));
    CHECK(json_is_real(json_object_get(t->config, "u")) && x >= 0 && x < 1);
    CHECK_INT(json_object_size(t->evaluated_params), 2);
    CHECK(json_object_get(t->evaluated_params, "opt/lr") != NULL);
    CHECK(json_object_get(t->evaluated_params, "b") != NULL);
    finish(h);
}

/* A grid_search a suggestion brings (or the config it is merged over holds)
 * cannot be searched: the step fails with an error naming its path, and
 * no trial is made. */
static void test_grid_search_in_suggestion_is_an_error(void)
{
    static const struct { const char *spec, *suggestion, *path; } rows[] = {
        {NULL, "{\"x\": {\"grid_search\": [1, 2]}}", "config/x"},
        {NULL, "{\"opt\": {\"lr\": {\"grid_search\": [0.1]}}}", "config/opt/lr"},
        {"{\"config\": {\"a\": {\"grid_search\": [1, 2]}}}", "{\"x\": 1}", "config/a"},
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        const char *script[] = {rows[k].suggestion};
        host *h = host_new(script, 1, NULL);
        setup s = {.spec = rows[k].spec, .max_trials = -1, .cpus = 1};
        make_runner(h, &s);
        tc_error err;
        tc_error_init(&err);
        CHECK_INT(tc_runner_search_step(h->r, NULL, NULL, &err), -1);
        CHECK_INT(err.code, TC_ERR_VALUE);
        CHECK(strstr(err.text, "grid_search") != NULL);
        if (!strstr(err.text, rows[k].path))
            fprintf(stderr, "  no path %s in: %s\n", rows[k].path, err.text);
        CHECK(strstr(err.text, rows[k].path) != NULL);
        CHECK_INT(tc_runner_num_trials(h->r), 0);
        finish(h);
    }
}

int main(void)
{
    test_asks_only_when_a_trial_can_start();
    test_none_waits_for_the_next_event();
    test_finished_ends_the_search();
    test_num_samples_cap();
    test_error_flag();
    test_completion_order_and_last_result();
    test_resume_hands_out_the_lost_suggestion();
    test_stop_all_ends_heard_before_generation_done();
    test_merge_tags_and_names();
    test_grid_search_in_suggestion_is_an_error();
    TEST_MAIN_END();
}
