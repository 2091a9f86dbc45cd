/* test_runner_cold.c — many trials in one runner (issue 12): finished trials
 * compacted (runner_cold.c), the experiment state streamed one trial at a
 * time with the same bytes as the whole-tree dump (runner_state_stream.c),
 * finished trials' texts in the host's cold store, and FIFO's start positions (runner_sched.c) still choosing the first
 * PENDING trial when a lower one becomes PENDING again. Also what a resume
 * of such a run finds: records kept without their files, and a trial whose
 * start the killed driver journaled without making its directory. */
#include <stdlib.h>
#include <string.h>
#include "tc_test.h"
#include "start_attempt.h"
#include "runner_internal.h"
#include "mem_fs.h"

/* write_atomic_stream over the memory file system: pieces concatenated. */
static int mem_stream(void *ctx, const char *path,
                      int (*next)(void *gen, tc_buf *out, tc_error *err), void *gen,
                      int durable, tc_error *err)
{
    tc_buf all, piece;
    tc_buf_init(&all);
    tc_buf_init(&piece);
    int rc;
    do {
        tc_buf_clear(&piece);
        rc = next(gen, &piece, err);
        if (rc >= 0 && piece.len)
            tc_buf_append(&all, piece.data, piece.len);
    } while (rc == 1);
    if (rc == 0)
        rc = mem_atomic(ctx, path, all.data ? all.data : "", all.len, durable, err);
    tc_buf_free(&all);
    tc_buf_free(&piece);
    return rc;
}

/* The cold store in memory: one buffer for every runner of the test. */
static tc_buf cold;

static long long mem_cold_put(void *ctx, const char *data, size_t len)
{
    long long pos = (long long)cold.len;
    return tc_buf_append(&cold, data, len) < 0 ? -1 : pos;
}

static char *mem_cold_get(void *ctx, long long pos, size_t len)
{
    if (pos < 0 || (size_t)pos + len > cold.len)
        return NULL;
    char *out = malloc(len + 1);
    memcpy(out, cold.data + pos, len);
    out[len] = '\0';
    return out;
}

static long cuts;   /* result.json reads: a resumed trial's files read back */

static char *count_cut(void *ctx, const char *path, size_t *len, tc_error *err)
{
    size_t n = strlen(path);
    if (n >= 11 && strcmp(path + n - 11, "result.json") == 0)
        cuts++;
    return NULL;    /* as if missing: nothing is cut */
}

static tc_buf journal;   /* the journal's lines */

static int journal_line(void *ctx, const char *line, size_t len, tc_error *err)
{
    return tc_buf_append(&journal, line, len);
}

static json_t *resume_records;   /* set: the runner resumes them before generating */
/* the experiment's spec (make) */
static const char *spec_text = "{\"config\": {\"x\": {\"grid_search\": [1, 2.5, \"a\"]}}}";

static tc_runner *make(mem_fs *fs, int streamed, long n)
{
    tc_error err;
    tc_error_init(&err);
    tc_host host = mem_fs_host(fs);
    if (streamed) {          /* and with the cold store */
        host.write_atomic_stream = mem_stream;
        host.cold_put = mem_cold_put;
        host.cold_get = mem_cold_get;
    }
    tc_runner_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.session_str = "2020-01-01_00-00-00";
    tc_runner *r = tc_runner_new(&ro, &host, &err);
    tc_capacity_init(tc_runner_capacity_mut(r), 2, 0, NULL);
    json_t *spec = json_loads(spec_text, 0, NULL);
    tc_space *space = tc_space_new(spec, n, 7, &err);
    tc_experiment_opts xo;
    memset(&xo, 0, sizeof xo);
    xo.name = "exp";
    xo.exp_dir = "/r/exp";
    xo.trainable_name = "train";
    xo.resources.cpu = 1;
    xo.max_failures = 1;
    xo.log_json = 1;
    xo.log_csv = 1;
    xo.log_tbx = 1;
    CHECK_INT(tc_runner_add_experiment(r, &xo, space, &err), 0);
    json_decref(spec);
    if (resume_records) {
        r->host.read_file = count_cut;
        CHECK_INT(tc_runner_set_resume(r, resume_records, 1, 0, 0, &err), 0);
        resume_records = NULL;
    }
    CHECK(tc_runner_generate(r, NULL, NULL, 1000, &err) >= 0);
    return r;
}

/* The same events on a runner: most trials end (one fails for good, one is
 * retried), a few stay PENDING or RUNNING. */
static void drive(tc_runner *r, mem_fs *fs)
{
    tc_error err;
    tc_error_init(&err);
    tc_decision d;
    for (int k = 0; k < 40; k++) {
        tc_trial *t = tc_runner_choose(r, NULL);
        if (!t)
            break;
        CHECK_INT(start_attempt(r, t, 100 + k, "host", &err), 0);
        fs->clock += 1;
        if (k == 38)
            break;                                  /* stays RUNNING */
        char res[128];
        snprintf(res, sizeof res, "{\"score\": %d.5, \"loss\": %d, \"name\": \"t%d\"}", k, -k,
                 k);
        CHECK_INT(tc_runner_on_result(r, t, res, strlen(res), &d, &err), 0);
        if (k == 5 || k == 6) {
            CHECK_INT(tc_runner_on_error(r, t, "boom", &err), 0);
            if (k == 6)
                CHECK_INT(tc_runner_on_error(r, t, "boom again", &err), 0);
        } else {
            CHECK_INT(tc_runner_on_complete(r, t, &err), 0);
        }
    }
}

static void test_streamed_state_is_the_same_file(void)
{
    mem_fs a = {.clock = 1000.0}, b = {.clock = 1000.0};
    tc_runner *ra = make(&a, 0, 20), *rb = make(&b, 1, 20);
    drive(ra, &a);
    drive(rb, &b);
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_write_state(ra, 999.0, &err), 0);
    CHECK_INT(tc_runner_write_state(rb, 999.0, &err), 0);
    const char *ta = mem_file_text(&a, "/r/exp", "experiment_state-2020-01-01_00-00-00.json");
    const char *tb = mem_file_text(&b, "/r/exp", "experiment_state-2020-01-01_00-00-00.json");
    CHECK(ta != NULL && tb != NULL);
    CHECK(ta && tb && strcmp(ta, tb) == 0);
    json_t *state = ta ? tc_json_loads(ta, strlen(ta), NULL) : NULL;
    CHECK_INT((long)json_array_size(json_object_get(state, "checkpoints")), 60);
    json_decref(state);
    /* the finished trials' last results and metric analyses came from the
     * cold store's printed texts, not from parsing them back */
    long printed = 0;
    for (long i = 0; i < tc_runner_num_trials(rb); i++)
        printed += tc_runner_trial(rb, i)->cold_sorted_len[0] > 0;
    CHECK(printed >= 30);
    /* written again, the same (the texts are read, not used up) */
    CHECK_INT(tc_runner_write_state(rb, 999.0, &err), 0);
    const char *tb2 = mem_file_text(&b, "/r/exp", "experiment_state-2020-01-01_00-00-00.json");
    CHECK(ta && tb2 && strcmp(ta, tb2) == 0);
    /* an empty list is written as [] */
    mem_fs c = {.clock = 1000.0};
    tc_runner *rc = make(&c, 1, 0);
    CHECK_INT(tc_runner_write_state(rc, 999.0, &err), 0);
    const char *tc = mem_file_text(&c, "/r/exp", "experiment_state-2020-01-01_00-00-00.json");
    json_t *whole = tc_runner_state(rc, 999.0);
    tc_buf want;
    tc_buf_init(&want);
    tc_json_dump(whole, &want, TC_DUMP_INDENT2_SORTED);
    CHECK(tc && want.data && strcmp(tc, want.data) == 0);
    tc_buf_free(&want);
    json_decref(whole);
    tc_runner_free(ra);
    tc_runner_free(rb);
    tc_runner_free(rc);
    mem_fs_free(&a);
    mem_fs_free(&b);
    mem_fs_free(&c);
}

/* A config holding the keys and the strings the streamed writer marks its
 * places with (runner_state_stream.c): the file is still the whole-tree
 * dump's, byte for byte. */
static void test_streamed_state_with_marker_lookalikes(void)
{
    const char *saved = spec_text;
    spec_text = "{\"config\": {\"last_result\": \"\\u0001tunec:last_result\", "
                "\"metric_analysis\": \"\\u0001tunec:metric_analysis\", "
                "\"x\": {\"grid_search\": [1, 2]}}}";
    mem_fs a = {.clock = 1000.0}, b = {.clock = 1000.0};
    tc_runner *ra = make(&a, 0, 3), *rb = make(&b, 1, 3);
    drive(ra, &a);
    drive(rb, &b);
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_runner_write_state(ra, 999.0, &err), 0);
    CHECK_INT(tc_runner_write_state(rb, 999.0, &err), 0);
    const char *ta = mem_file_text(&a, "/r/exp", "experiment_state-2020-01-01_00-00-00.json");
    const char *tb = mem_file_text(&b, "/r/exp", "experiment_state-2020-01-01_00-00-00.json");
    CHECK(ta && tb && strcmp(ta, tb) == 0);
    CHECK(ta && strstr(ta, "\\u0001tunec:last_result") != NULL);
    tc_runner_free(ra);
    tc_runner_free(rb);
    mem_fs_free(&a);
    mem_fs_free(&b);
    spec_text = saved;
}

static void test_finished_trials_are_compact(void)
{
    mem_fs fs = {.clock = 1000.0};
    tc_runner *r = make(&fs, 1, 20);
    drive(r, &fs);
    long finished = 0;
    for (long i = 0; i < tc_runner_num_trials(r); i++) {
        tc_trial *t = tc_runner_trial(r, i);
        if (t->status != TC_TERMINATED && t->status != TC_ERROR) {
            CHECK(t->config_text == NULL || t->status == TC_RUNNING);
            continue;
        }
        finished++;
        CHECK(t->tb == NULL && t->csv == NULL && t->metrics == NULL);
        CHECK(t->config_text == NULL && t->id_json == NULL && t->last_result == NULL);
        CHECK(t->cold_stored && t->last_text == NULL && t->cold_metrics == NULL);
        json_t *snap = tc_trial_snapshot(r, t);
        json_t *score = json_object_get(json_object_get(snap, "metric_analysis"), "score");
        CHECK(json_is_real(json_object_get(score, "max")));
        if (t->status == TC_TERMINATED)
            CHECK(json_is_true(json_object_get(json_object_get(snap, "last_result"), "done")));
        else
            CHECK(json_string_value(json_object_get(snap, "error_msg")) != NULL);
        CHECK(t->last_result == NULL);     /* the snapshot did not keep a tree in t */
        json_decref(snap);
    }
    CHECK_INT(finished, 37);
    CHECK_INT(tc_runner_count(r, TC_ERROR), 1);
    tc_runner_free(r);
    mem_fs_free(&fs);
}

static void test_fifo_takes_the_lowest_pending(void)
{
    mem_fs fs = {.clock = 1000.0};
    tc_runner *r = make(&fs, 1, 4);
    tc_error err;
    tc_error_init(&err);
    tc_decision d;
    tc_trial *t0 = tc_runner_choose(r, NULL);
    CHECK_INT(t0->index, 0);
    CHECK_INT(start_attempt(r, t0, 1, "host", &err), 0);
    tc_trial *t1 = tc_runner_choose(r, NULL);
    CHECK_INT(t1->index, 1);
    CHECK_INT(start_attempt(r, t1, 2, "host", &err), 0);
    CHECK(tc_runner_choose(r, NULL) == NULL);          /* 2 CPUs in use */
    CHECK_INT(tc_runner_on_result(r, t1, "{\"a\": 1}", 8, &d, &err), 0);
    CHECK_INT(tc_runner_on_complete(r, t1, &err), 0);
    tc_trial *t2 = tc_runner_choose(r, NULL);
    CHECK_INT(t2->index, 2);
    CHECK_INT(start_attempt(r, t2, 3, "host", &err), 0);
    /* trial 0 fails with a retry left: PENDING again, below the position */
    CHECK_INT(tc_runner_on_error(r, t0, "boom", &err), 0);
    CHECK_INT(t0->status, TC_PENDING);
    tc_trial *again = tc_runner_choose(r, NULL);
    CHECK(again == t0);
    tc_runner_free(r);
    mem_fs_free(&fs);
}

/* A finished trial resumes from its record's last result and metric
 * analysis (its final journal event carries them) without reading its
 * result files; a record without them (an older journal) reads them. */
static void test_resume_keeps_finished_trials_without_reading_files(void)
{
    mem_fs a = {.clock = 1000.0};
    tc_runner *ra = make(&a, 1, 4);
    drive(ra, &a);
    json_t *records = json_object();
    for (long i = 0; i < tc_runner_num_trials(ra); i++) {
        tc_trial *t = tc_runner_trial(ra, i);
        json_t *entry = tc_trial_snapshot(ra, t);
        if (i == 1) {   /* as an older tunec journaled it */
            json_object_set_new(entry, "last_result", json_object());
        }
        json_object_set_new(records, t->trial_id, entry);
    }
    json_t *kept = json_deep_copy(json_object_get(records, "00002"));
    mem_fs b = {.clock = 2000.0};
    cuts = 0;
    resume_records = records;
    tc_runner *rb = make(&b, 1, 4);
    long finished = 0;
    for (long i = 0; i < tc_runner_num_trials(rb); i++)
        finished += tc_runner_trial(rb, i)->status == TC_TERMINATED ||
                    tc_runner_trial(rb, i)->status == TC_ERROR;
    long before = tc_runner_count(ra, TC_TERMINATED) + tc_runner_count(ra, TC_ERROR);
    CHECK(before >= 8);
    CHECK_INT(finished, before);
    /* only trial 1 (no last result in its record) and the unfinished ones
     * that restart from scratch read their files */
    CHECK(cuts >= 1 && cuts <= 3);
    tc_trial *t2 = tc_runner_trial(rb, 2);
    CHECK(t2->cold_stored);
    json_t *snap = tc_trial_snapshot(rb, t2);
    CHECK(json_equal(json_object_get(snap, "last_result"), json_object_get(kept, "last_result")));
    CHECK(json_equal(json_object_get(snap, "metric_analysis"),
                     json_object_get(kept, "metric_analysis")));
    CHECK_INT(json_integer_value(json_object_get(snap, "n_results")), 1);
    json_decref(snap);
    json_decref(kept);
    tc_runner_free(ra);
    tc_runner_free(rb);
    mem_fs_free(&a);
    mem_fs_free(&b);
}

/* The final status event of a finished trial carries its last result and
 * metric analysis, so a resume needs no files. */
static void test_final_journal_event_has_results(void)
{
    mem_fs fs = {.clock = 1000.0};
    tc_runner *r = make(&fs, 1, 4);
    r->host.journal = journal_line;
    journal.len = 0;
    drive(r, &fs);
    long finals = 0;
    const char *p = journal.data;
    while (p && p < journal.data + journal.len) {
        const char *nl = memchr(p, '\n', (size_t)(journal.data + journal.len - p));
        json_t *ev = tc_json_loads(p, (size_t)(nl - p), NULL);
        CHECK(ev != NULL);
        const char *st = json_string_value(json_object_get(ev, "status"));
        if (st && strcmp(st, "TERMINATED") == 0) {
            finals++;
            CHECK(json_is_true(json_object_get(json_object_get(ev, "last_result"), "done")));
            CHECK(json_is_object(json_object_get(json_object_get(ev, "metric_analysis"),
                                                 "score")));
            CHECK_INT(json_integer_value(json_object_get(ev, "n_results")), 1);
        }
        json_decref(ev);
        p = nl + 1;
    }
    CHECK(finals >= 8);
    CHECK_INT(finals, tc_runner_count(r, TC_TERMINATED));
    tc_runner_free(r);
    mem_fs_free(&fs);
}

/* host.make_dir of a driver killed after the journal line of a start. */
static int killed_before_mkdir(void *ctx, const char *path, tc_error *err)
{
    return tc_error_set(err, TC_ERR_IO, "killed before making %s", path);
}

/* The "start" record the journal holds for trial_id (a new reference), or
 * NULL. */
static json_t *journaled_start(const char *trial_id)
{
    json_t *found = NULL;
    const char *p = journal.data;
    while (p && p < journal.data + journal.len) {
        const char *nl = memchr(p, '\n', (size_t)(journal.data + journal.len - p));
        json_t *ev = tc_json_loads(p, (size_t)(nl - p), NULL);
        json_t *rec = json_object_get(ev, "record");
        const char *kind = json_string_value(json_object_get(ev, "event"));
        if (kind && strcmp(kind, "start") == 0 &&
            strcmp(json_string_value(json_object_get(rec, "trial_id")), trial_id) == 0) {
            json_decref(found);
            found = json_incref(rec);
        }
        json_decref(ev);
        p = nl + 1;
    }
    return found;
}

static int count_dirs(mem_fs *fs)
{
    int n = 0;
    for (int i = 0; i < fs->nfiles; i++) {
        size_t len = strlen(fs->files[i].path);
        n += !fs->files[i].gone && len && fs->files[i].path[len - 1] == '/';
    }
    return n;
}

/* A driver killed between a trial's journaled start and its directory
 * leaves a record naming a directory that does not exist, never a
 * directory no record names (a resume would start that trial in a second
 * one); the resume makes the named directory, with its params.json. */
static void test_killed_start_resumes_into_its_journaled_directory(void)
{
    tc_error err;
    tc_error_init(&err);
    mem_fs disk = {.clock = 1000.0};
    tc_runner *ra = make(&disk, 0, 1);
    ra->host.journal = journal_line;
    ra->host.make_dir = killed_before_mkdir;
    journal.len = 0;
    tc_trial *t = tc_runner_choose(ra, NULL);
    CHECK(start_attempt(ra, t, 100, "host", &err) < 0);
    tc_error_clear(&err);
    json_t *rec = journaled_start("00000");
    CHECK(rec != NULL);
    char logdir[512];
    snprintf(logdir, sizeof logdir, "%s", json_string_value(json_object_get(rec, "logdir")));
    CHECK(strncmp(logdir, "/r/exp/train_", 13) == 0);
    CHECK_INT(count_dirs(&disk), 0);
    CHECK(mem_file_text(&disk, logdir, "params.json") == NULL);
    tc_runner_free(ra);

    resume_records = json_object();
    json_object_set_new(resume_records, "00000", rec);
    tc_runner *rb = make(&disk, 0, 1);
    tc_trial *again = tc_runner_choose(rb, NULL);
    CHECK(again != NULL && strcmp(again->trial_id, "00000") == 0);
    CHECK_INT(start_attempt(rb, again, 101, "host", &err), 0);
    CHECK_STR(again->logdir, logdir);
    CHECK_INT(count_dirs(&disk), 1);
    const char *params = mem_file_text(&disk, logdir, "params.json");
    CHECK(params != NULL && strstr(params, "\"x\"") != NULL);
    tc_runner_free(rb);
    mem_fs_free(&disk);
}

int main(void)
{
    test_streamed_state_is_the_same_file();
    test_streamed_state_with_marker_lookalikes();
    test_finished_trials_are_compact();
    test_fifo_takes_the_lowest_pending();
    test_resume_keeps_finished_trials_without_reading_files();
    test_final_journal_event_has_results();
    test_killed_start_resumes_into_its_journaled_directory();
    tc_buf_free(&journal);
    tc_buf_free(&cold);
    TEST_MAIN_END();
}
