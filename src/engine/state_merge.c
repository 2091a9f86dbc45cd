/* state_merge.c — one trial's record from its pieces (state_read.c): the
 * merge rules tunec/_resume.py applied to the whole state, now applied to
 * one trial when the runner takes it (spec §15.4). */
#include <string.h>
#include "state_merge.h"

/* What a finished trial's final journal event carries besides its status. */
static const char *const FINAL_KEYS[] = {"last_result", "metric_analysis", "n_results",
                                         "last_update_time"};
#define NFINAL (sizeof FINAL_KEYS / sizeof FINAL_KEYS[0])

/* A relative path that stays inside the directory it is relative to. */
static int inside(const json_t *v)
{
    if (!json_is_string(v) || json_string_length(v) == 0)
        return 0;
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v) || s[0] == '/')
        return 0;   /* a NUL inside, or absolute */
    for (const char *part = s;;) {
        const char *slash = strchr(part, '/');
        size_t n = slash ? (size_t)(slash - part) : strlen(part);
        if (n == 2 && part[0] == '.' && part[1] == '.')
            return 0;
        if (!slash)
            return 1;
        part = slash + 1;
    }
}

/* The well-formed checkpoint records of a checkpoint event's list (a new
 * array; NULL when out of memory). *damaged: some were dropped. A record
 * that points outside its trial directory is damaged too: retention deletes
 * checkpoints, so a resume must never adopt "../.." from a file. */
json_t *tcp_state_checkpoints(const json_t *list, int *damaged)
{
    json_t *kept = json_array();
    *damaged = !json_is_array(list);
    if (!kept)
        return NULL;
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        const json_t *it = json_object_get(e, "iteration");
        if (json_is_object(e) && inside(json_object_get(e, "dir")) &&
            inside(json_object_get(e, "path")) && (json_is_integer(it) || tc_json_is_bigint(it))) {
            if (json_array_append(kept, e) < 0) {
                json_decref(kept);
                return NULL;
            }
        } else {
            *damaged = 1;
        }
    }
    return kept;
}

static int set(json_t *rec, const char *key, const json_t *v)
{
    return json_object_set_new(rec, key, v ? json_incref((json_t *)v) : json_null());
}

/* A start event holds no results yet: the earlier piece's final fields stay
 * (they come after it). */
static int apply_start(json_t **rec, const json_t *record)
{
    json_t *merged = *rec ? json_copy(*rec) : json_object();
    if (!merged || json_object_update(merged, (json_t *)record) < 0) {
        json_decref(merged);
        return -1;
    }
    for (size_t i = 0; *rec && i < NFINAL; i++) {
        json_t *v = json_object_get(*rec, FINAL_KEYS[i]);
        if (v && json_object_set(merged, FINAL_KEYS[i], v) < 0) {
            json_decref(merged);
            return -1;
        }
    }
    json_decref(*rec);
    *rec = merged;
    return 0;
}

int tcp_state_apply_event(json_t **rec, const json_t *ev)
{
    const char *kind = json_string_value(json_object_get(ev, "event"));
    if (!kind)
        return 0;
    if (strcmp(kind, "start") == 0)
        return apply_start(rec, json_object_get(ev, "record"));
    if (!*rec)
        return 0;   /* the reader only keeps these for a known trial */
    int rc = 0;
    if (strcmp(kind, "status") == 0) {
        static const char *const keys[] = {"status", "num_failures", "error_msg", "error_file"};
        for (size_t i = 0; i < 4 && rc == 0; i++)
            rc = set(*rec, keys[i], json_object_get(ev, keys[i]));
        /* A final status carries the trial's last result and metric
         * analysis: the engine keeps them, without reading its files. */
        if (json_is_object(json_object_get(ev, "last_result")) &&
            json_is_object(json_object_get(ev, "metric_analysis")))
            for (size_t i = 0; i < NFINAL && rc == 0; i++)
                rc = set(*rec, FINAL_KEYS[i], json_object_get(ev, FINAL_KEYS[i]));
    } else if (strcmp(kind, "checkpoint") == 0) {
        int damaged;
        json_t *kept = tcp_state_checkpoints(json_object_get(ev, "checkpoints"), &damaged);
        rc = kept ? json_object_set_new(*rec, "tunec_checkpoints", kept) : -1;
    } else if (strcmp(kind, "reconfig") == 0) {
        /* A scheduler gave the trial a new config and tag (PBT, replay). */
        rc = set(*rec, "tunec_current_config", json_object_get(ev, "config"));
        if (rc == 0)
            rc = set(*rec, "experiment_tag", json_object_get(ev, "experiment_tag"));
    }
    return rc;
}


/* os.path.join(exp_dir, os.path.basename(logdir without trailing slashes)) */
static int moved_path(tc_buf *out, const char *exp_dir, const char *logdir)
{
    size_t n = strlen(logdir);
    while (n > 1 && logdir[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && logdir[b - 1] != '/')
        b--;
    size_t dl = strlen(exp_dir);
    if (tc_buf_append(out, exp_dir, dl) < 0)
        return -1;
    if (dl && exp_dir[dl - 1] != '/' && tc_buf_putc(out, '/') < 0)
        return -1;
    return tc_buf_append(out, logdir + b, n - b);
}

int tcp_state_relocate(json_t *rec, const char *exp_dir, int (*is_dir)(void *, const char *),
                       void *ctx)
{
    const json_t *logdir = json_object_get(rec, "logdir");
    int rc = 0;
    if (json_is_string(logdir) && json_string_length(logdir) > 0) {
        tc_buf moved;
        tc_buf_init(&moved);
        int efile = tc_json_truthy(json_object_get(rec, "error_file"));
        if (moved_path(&moved, exp_dir, json_string_value(logdir)) < 0 ||
            tc_buf_puts(&moved, "") < 0) {
            rc = -1;
        } else if (strcmp(moved.data, json_string_value(logdir)) == 0 && !efile) {
            /* in place (the usual case): nothing changes, no stat per trial */
        } else if (is_dir && is_dir(ctx, moved.data)) {
            rc = json_object_set_new(rec, "logdir", json_string(moved.data));
            if (rc == 0 && efile && (tc_buf_puts(&moved, "/error.txt") < 0 ||
                                     json_object_set_new(rec, "error_file",
                                                         json_string(moved.data)) < 0))
                rc = -1;
        }
        tc_buf_free(&moved);
    }
    if (rc == 0)
        rc = json_object_set_new(rec, "local_dir", json_string(exp_dir));
    return rc;
}
