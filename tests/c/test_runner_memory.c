/* test_runner_memory.c — the engine's memory per finished trial (issue 12:
 * a driver of 100,000 trials grows by at most 2 KB per finished trial, the
 * Python side and malloc's own overhead included). Counted in bytes of live
 * blocks (tc_alloc_live_bytes), not timed: a few thousand trivial trials
 * through a runner whose host keeps no files, with the cold store on, as
 * the extension's host has it. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include "tc_test.h"
#include "start_attempt.h"
#include "runner_internal.h"

struct tc_sink { int unused; };
static struct tc_sink the_sink;
static double clock_s = 1000.0;
static tc_buf cold;          /* the cold store, in memory (counted apart) */
static long cold_bytes_outside;

static double now(void *ctx) { return clock_s; }

static char *name_dir(void *ctx, const char *parent, const char *prefix, int exact,
                      tc_error *err)
{
    static long n;
    char *p = tc_malloc(strlen(parent) + strlen(prefix) + 24);
    if (!p) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    sprintf(p, "%s/%s%08ld", parent, prefix, n++);
    return p;
}

/* Directories are not modelled: every one "exists" (no params.json is
 * written again on a restart). */
static int make_dir(void *ctx, const char *path, tc_error *err) { return 0; }

static tc_sink *open_sink(void *ctx, const char *path, int *existed, tc_error *err)
{
    *existed = 0;
    return &the_sink;
}

static int sink_write(void *ctx, tc_sink *s, const char *data, size_t len, tc_error *err)
{
    return 0;
}

static void sink_close(void *ctx, tc_sink *s) {}

static int write_atomic(void *ctx, const char *path, const char *data, size_t len, int durable,
                        tc_error *err)
{
    return 0;
}

/* The cold store lives outside the engine's count, as the host's file does. */
static long long cold_put(void *ctx, const char *data, size_t len)
{
    long long pos = (long long)cold.len;
    long before = tc_alloc_live_bytes();
    int rc = tc_buf_append(&cold, data, len);
    cold_bytes_outside += tc_alloc_live_bytes() - before;
    return rc < 0 ? -1 : pos;
}

static char *cold_get(void *ctx, long long pos, size_t len)
{
    if (pos < 0 || (size_t)pos + len > cold.len)
        return NULL;
    char *out = tc_malloc(len + 1);
    memcpy(out, cold.data + pos, len);
    out[len] = '\0';
    return out;
}

static long engine_bytes(void)
{
    return tc_alloc_live_bytes() - cold_bytes_outside;
}

static size_t usable(const void *p)
{
    return p ? malloc_usable_size((void *)p) : 0;
}

static void test_finished_trials_are_small(void)
{
    enum { N = 4000 };
    tc_error err;
    tc_error_init(&err);
    tc_host host;
    memset(&host, 0, sizeof host);
    host.now = now;
    host.name_trial_dir = name_dir;
    host.make_dir = make_dir;
    host.open_sink = open_sink;
    host.sink_write = sink_write;
    host.sink_close = sink_close;
    host.write_atomic = write_atomic;
    host.cold_put = cold_put;
    host.cold_get = cold_get;
    tc_runner_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.session_str = "2020-01-01_00-00-00";
    tc_runner *r = tc_runner_new(&ro, &host, &err);
    tc_capacity_init(tc_runner_capacity_mut(r), 2, 0, NULL);
    json_t *spec = json_loads("{\"config\": {\"x\": {\"$tunec\": \"domain\", \"kind\": \"uniform\","
                              " \"lower\": 0, \"upper\": 1}}}", 0, NULL);
    tc_space *space = tc_space_new(spec, N, 7, &err);
    json_decref(spec);
    CHECK(space != NULL);
    tc_experiment_opts xo;
    memset(&xo, 0, sizeof xo);
    xo.name = "exp";
    xo.exp_dir = "/tmp/some/where/exp";
    xo.trainable_name = "_trainable";
    xo.resources.cpu = 1;
    xo.log_json = 1;
    xo.log_csv = 1;
    CHECK_INT(tc_runner_add_experiment(r, &xo, space, &err), 0);
    long base = engine_bytes();
    long done = 0;
    tc_decision d;
    /* as the executor does it: a few trials generated ahead, two running */
    while (done < N) {
        CHECK(tc_runner_generate(r, NULL, NULL, 4, &err) >= 0);
        tc_trial *t = tc_runner_choose(r, NULL);
        if (!t)
            break;
        CHECK_INT(start_attempt(r, t, 4242, "vm", &err), 0);
        char res[600];
        clock_s += 0.001;
        snprintf(res, sizeof res,
                 "{\"score\": 0.%06ld, \"done\": false, \"timesteps_total\": null, "
                 "\"episodes_total\": null, \"training_iteration\": 1, \"trial_id\": \"%s\", "
                 "\"experiment_id\": \"34ec85c42edec13180eb32605e47b88d\", \"date\": "
                 "\"2026-12-05_08-34-32\", \"timestamp\": 1796459672, \"time_this_iter_s\": "
                 "0.000177, \"time_total_s\": 0.000177, \"pid\": 4242, \"hostname\": \"vm\", "
                 "\"node_ip\": \"127.0.0.1\", \"config\": null, \"time_since_restore\": 0.000177, "
                 "\"timesteps_since_restore\": 0, \"iterations_since_restore\": 1}",
                 done * 7919 % 1000000, t->trial_id);
        CHECK_INT(tc_runner_on_result(r, t, res, strlen(res), &d, &err), 0);
        CHECK_INT(tc_runner_on_complete(r, t, &err), 0);
        done++;
    }
    CHECK_INT(done, N);
    long grown = engine_bytes() - base;
    tc_trial *t = tc_runner_trial(r, N / 2);
    printf("engine bytes per finished trial: %.0f (cold store %.0f)\n", (double)grown / N,
           (double)cold.len / N);
    printf("  struct %zu name %zu tag %zu logdir %zu hostname %zu\n", usable(t),
           usable(t->name), usable(t->tag), usable(t->logdir), usable(t->hostname));
    /* 1,233 bytes today (struct 480, configs ~500, name/tag/logdir/host ~190):
     * the bound leaves room for a field, not for a per-trial buffer */
    CHECK(grown / N <= 1400);
    tc_runner_free(r);
}

int main(void)
{
    test_finished_trials_are_small();
    tc_buf_free(&cold);
    TEST_MAIN_END();
}
