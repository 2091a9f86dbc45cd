/* runner_resume.c — trials that run again: a resumed session's records
 * matched to the regenerated trials (spec §15.4), and the cut of a
 * restarting trial's result files back to its checkpoint so no iteration
 * is logged twice. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "result_cut.h"
#include "runner_internal.h"

/* Equality of two configs with opaque markers compared by kind only (their
 * ids and reprs differ from session to session). */
static int same_config(const json_t *a, const json_t *b)
{
    if (json_is_object(a) && json_is_object(b)) {
        const json_t *ma = json_object_get(a, "$tunec"), *mb = json_object_get(b, "$tunec");
        if (json_is_string(ma) && json_is_string(mb) && strcmp(json_string_value(ma), "obj") == 0)
            return strcmp(json_string_value(mb), "obj") == 0;
        if (json_object_size(a) != json_object_size(b))
            return 0;
        const char *k;
        json_t *va;
        json_object_foreach((json_t *)a, k, va) {
            const json_t *vb = json_object_get(b, k);
            if (!vb || !same_config(va, vb))
                return 0;
        }
        return 1;
    }
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same_config(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    }
    double x, y;
    if (tc_json_number(a, &x) && tc_json_number(b, &y))
        return x == y || (x != x && y != y);
    return json_equal((json_t *)a, (json_t *)b);
}

/* A finished trial's last result and metric analysis from its record, as
 * the texts a compacted trial keeps (runner_cold.c). 1 when taken, 0 when
 * the record has none (or an empty last result), -1 when out of memory. */
static int take_final_fields(tc_trial *t, const json_t *rec, tc_error *err)
{
    const json_t *last = json_object_get(rec, "last_result");
    const json_t *metrics = json_object_get(rec, "metric_analysis");
    if (!json_is_object(last) || json_object_size(last) == 0 || !json_is_object(metrics))
        return 0;
    tc_buf a, b;
    tc_buf_init(&a);
    tc_buf_init(&b);
    if (tc_json_dump(last, &a, TC_DUMP_COMPACT) < 0 || tc_json_dump(metrics, &b,
                                                                    TC_DUMP_COMPACT) < 0) {
        tc_buf_free(&a);
        tc_buf_free(&b);
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    }
    tc_free(t->last_text);
    t->last_text_len = a.len;
    t->last_text = tcp_fit_text(&a);
    json_decref(t->last_result);
    t->last_result = NULL;
    tc_free(t->cold_metrics);
    t->cold_metrics = tcp_fit_text(&b);
    tc_metrics_free((tc_metrics *)t->metrics);
    t->metrics = NULL;
    json_int_t n = json_integer_value(json_object_get(rec, "n_results"));
    t->n_results = n > 0 ? (long)n : 1;
    const json_t *it = json_object_get(last, "training_iteration");
    if (json_is_integer(it))
        t->last_iteration = (long)json_integer_value(it);
    double updated;
    if (tc_json_number(json_object_get(rec, "last_update_time"), &updated))
        t->last_update_time = updated;
    return 1;
}

/* Resume: the regenerated trial t takes over its earlier session's record. */
int tcp_apply_record(tc_runner *r, tc_trial *t, const json_t *rec, tc_error *err)
{
    const json_t *old = json_object_get(rec, "tunec_config");
    if (old && !same_config(old, t->config)) {
        tc_buf a, b;
        tc_buf_init(&a);
        tc_buf_init(&b);
        json_t *pa = tcp_public_copy(old), *pb = tcp_public_copy(t->config);
        tc_json_dump(pa, &a, TC_DUMP_COMPACT);
        tc_json_dump(pb, &b, TC_DUMP_COMPACT);
        tc_error_set(err, TC_ERR_VALUE,
                     "resume: trial %s was started with config %.300s but the search space now "
                     "gives %.300s; the search space changed since the experiment started (a "
                     "resumed experiment may only grow num_samples)", t->trial_id,
                     a.data ? a.data : "?", b.data ? b.data : "?");
        json_decref(pa);
        json_decref(pb);
        tc_buf_free(&a);
        tc_buf_free(&b);
        return -1;
    }
    const json_t *current = json_object_get(rec, "tunec_current_config");
    if (json_is_object(current)) {
        /* A scheduler had changed its config (and tag): it goes on with them. */
        const char *tag = json_string_value(json_object_get(rec, "experiment_tag"));
        json_t *config = json_deep_copy(current);
        char *tag_copy = tag ? tcp_xstrdup(tag) : NULL;
        if (!config || (tag && !tag_copy)) {
            json_decref(config);
            tc_free(tag_copy);
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        }
        t->origin_config = t->config;
        t->config = config;
        if (tag) {
            tc_free(t->tag);
            t->tag = tag_copy;
        }
        t->texts_stale = 1;
    }
    const char *status = json_string_value(json_object_get(rec, "status"));
    const char *logdir = json_string_value(json_object_get(rec, "logdir"));
    const char *emsg = json_string_value(json_object_get(rec, "error_msg"));
    const char *efile = json_string_value(json_object_get(rec, "error_file"));
    const char *custom = json_string_value(json_object_get(rec, "custom_trial_name"));
    t->num_failures = (int)json_integer_value(json_object_get(rec, "num_failures"));
    t->logdir = tcp_xstrdup(logdir);
    t->error_msg = tcp_xstrdup(emsg);
    t->error_file = tcp_xstrdup(efile);
    if ((logdir && !t->logdir) || (emsg && !t->error_msg) || (efile && !t->error_file))
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");   /* the trial frees them */
    if (custom && !t->custom_name) {
        if (!(t->custom_name = tcp_xstrdup(custom)))
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        tcp_trial_set_name(t, r->exps[t->experiment].opts.trainable_name);
    }
    double st;
    if (tc_json_number(json_object_get(rec, "start_time"), &st))
        t->start_time = st;
    t->resumed = 1;
    if (tc_ckpts_from_json(&t->ckpts, json_object_get(rec, "tunec_checkpoints"), err) < 0)
        return -1;
    tc_status next = TC_PENDING;
    if (status && strcmp(status, "TERMINATED") == 0) {
        next = TC_TERMINATED;
    } else if (status && strcmp(status, "ERROR") == 0) {
        next = TC_ERROR;
        if (r->restart_errored) {
            tc_ckpts_clear(&t->ckpts);
            t->num_failures = 0;
            next = TC_PENDING;
        } else if (r->resume_errored) {
            t->num_failures = 0;
            next = TC_PENDING;
        }
    }
    if (next == TC_PENDING && !r->resume_unfinished && !(status && strcmp(status, "ERROR") == 0))
        next = TC_TERMINATED;
    /* A finished trial takes its last result and metric analysis from the
     * record (its snapshot entry, or its final journal event): its result
     * files are never read again. A record without them (an older tunec's
     * journal) reads them back from the files; unfinished trials are cut
     * back when they restart. */
    int kept = next != TC_PENDING && take_final_fields(t, rec, err);
    if (kept < 0)
        return -1;
    tcp_set_status(r, t, next);
    if (next != TC_PENDING && !kept && t->logdir && tcp_prepare_restart(r, t, -2, -1, err) < 0)
        return -1;
    return 0;
}

int tc_runner_set_resume(tc_runner *r, json_t *records, int resume_unfinished,
                         int resume_errored, int restart_errored, tc_error *err)
{
    if (records && !json_is_object(records)) {
        json_decref(records);
        return tc_error_set(err, TC_ERR_VALUE, "resume records must be an object");
    }
    tc_state *st = NULL;
    if (records) {
        st = tc_state_from_records(records, NULL, err);
        json_decref(records);
        if (!st)
            return -1;
    }
    return tc_runner_set_resume_state(r, st, resume_unfinished, resume_errored, restart_errored);
}

int tc_runner_set_resume_state(tc_runner *r, tc_state *st, int resume_unfinished,
                               int resume_errored, int restart_errored)
{
    tc_state_free(r->state);
    r->state = st;
    r->resume_unfinished = resume_unfinished;
    r->resume_errored = resume_errored;
    r->restart_errored = restart_errored;
    return 0;
}

long tc_runner_resume_pending(const tc_runner *r)
{
    return (long)tc_state_count(r->state);
}

int tcp_take_record(tc_runner *r, const char *id, json_t **out, tc_error *err)
{
    tc_error e;
    tc_error_init(&e);
    if ((*out = tc_state_take(r->state, id, &e)) == NULL && e.code != TC_OK)
        return tc_error_set(err, e.code, "%s", e.text);
    return 0;
}

/* keep(): a result.json line the host kept while cutting the files. */
static int replay_line(void *kctx, const char *line, size_t len)
{
    void **pair = kctx;
    tc_runner *r = pair[0];
    tc_trial *t = pair[1];
    tc_error e;
    tc_error_init(&e);
    if (tc_scan_result(&r->line_scan, line, len, "config", &e) < 0)
        return e.code == TC_ERR_NOMEM ? -1 : 0;   /* else a torn line: skip it */
    if (tc_metrics_update_scan((tc_metrics *)t->metrics, &r->line_scan) < 0)
        return -1;
    char *copy = tc_malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, line, len);
    copy[len] = '\0';
    tc_free(t->last_text);
    t->last_text = copy;
    t->last_text_len = len;
    json_decref(t->last_result);
    t->last_result = NULL;
    t->n_results++;
    long it = tc_scan_find(&r->line_scan, "training_iteration", 18);
    if (it >= 0 && r->line_scan.fields[it].type == TC_F_NUMBER)
        t->last_iteration = (long)r->line_scan.fields[it].num;
    return 0;
}

/* Reads t's result files back, cuts them by the restart rule (result_cut.h)
 * and rewrites what changed; each kept result.json line is replayed into
 * t's last result and metric analysis. *header: progress.csv's header
 * (tc_malloc'd) or NULL. */
static int cut_files(tc_runner *r, tc_trial *t, long max_iteration, long max_rows, char **header,
                     tc_error *err)
{
    tc_buf json_path, csv_path;
    tc_buf_init(&json_path);
    tc_buf_init(&csv_path);
    char *json = NULL, *csv = NULL;
    size_t json_len = 0, csv_len = 0;
    void *pair[2] = {r, t};
    tc_result_cut cut;
    int rc = -1;
    if (tc_buf_printf(&json_path, "%s/result.json", t->logdir) < 0 ||
        tc_buf_printf(&csv_path, "%s/progress.csv", t->logdir) < 0) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        goto done;
    }
    tc_error rerr;                 /* a missing file is no error: tell them apart */
    tc_error_init(&rerr);
    json = r->host.read_file(r->host.ctx, json_path.data, &json_len, &rerr);
    if (rerr.code == TC_OK)
        csv = r->host.read_file(r->host.ctx, csv_path.data, &csv_len, &rerr);
    if (rerr.code != TC_OK) {
        tc_error_set(err, rerr.code, "%s", rerr.text);
        goto done;
    }
    if (tc_result_cut_plan(json, json_len, csv, csv_len, max_iteration, max_rows, replay_line,
                           pair, &cut, err) < 0)
        goto done;
    if (json && cut.json_bytes != json_len &&
        r->host.write_atomic(r->host.ctx, json_path.data, json, cut.json_bytes, 1, err) < 0)
        goto done;
    if (csv && cut.csv_bytes != csv_len &&
        r->host.write_atomic(r->host.ctx, csv_path.data, csv, cut.csv_bytes, 1, err) < 0)
        goto done;
    if (csv && cut.header_len > 0 && !(*header = tc_strndup(csv, cut.header_len))) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        goto done;
    }
    rc = 0;
done:
    tc_free(json);
    tc_free(csv);
    tc_buf_free(&json_path);
    tc_buf_free(&csv_path);
    return rc;
}

/* Before a trial runs again (a retry, a resumed session): its result files
 * are cut back to the rows up to keep_iteration (-1: none; -2: all, for a
 * finished trial whose analysis is rebuilt) and to at most keep_rows rows
 * (-1: no such limit), so no result appears twice, and its metric analysis
 * is rebuilt from the rows kept. */
int tcp_prepare_restart(tc_runner *r, tc_trial *t, long keep_iteration, long keep_rows,
                        tc_error *err)
{
    tcp_trial_close_sinks(r, t, 0);
    tc_metrics_free((tc_metrics *)t->metrics);
    t->metrics = tc_metrics_new();
    if (!t->metrics)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    tc_free(t->last_text);
    t->last_text = NULL;
    t->last_text_len = 0;
    json_decref(t->last_result);
    t->last_result = NULL;
    t->n_results = 0;
    t->last_iteration = 0;
    char *header = NULL;
    if (r->host.read_file && cut_files(r, t, keep_iteration == -2 ? LONG_MAX : keep_iteration,
                                       keep_rows, &header, err) < 0)
        return -1;
    if (t->csv)
        tc_csv_free(t->csv);
    t->csv = tc_csv_new(header);
    tc_free(header);
    if (!t->csv)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    return 0;
}
