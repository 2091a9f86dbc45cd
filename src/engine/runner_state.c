/* runner_state.c — views of the runner: a trial's snapshot (the attributes
 * of tunec.trial.Trial) and experiment_state-<session>.json (spec §10.6). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "runner_internal.h"

/* ------------------------------------------------------------------------ */
/* views                                                                    */
/* ------------------------------------------------------------------------ */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* The builders below set every key through these: a NULL value (a failed
 * allocation) or a failed set clears *ok, so the builder returns NULL rather
 * than a snapshot missing a key (a partial state file would resume wrong). */
static void put(json_t *o, const char *key, json_t *v, int *ok)
{
    if (json_object_set_new(o, key, v) < 0)   /* steals v, even NULL o */
        *ok = 0;
}

/* borrowed v; NULL v is no key, as json_object_set has it */
static void put_ref(json_t *o, const char *key, json_t *v, int *ok)
{
    if (v)
        put(o, key, json_incref(v), ok);
}

static void append(json_t *a, json_t *v, int *ok)
{
    if (json_array_append_new(a, v) < 0)
        *ok = 0;
}

/* marks: the last result and the metric analysis are the marker strings of
 * TCP_COLD_MARK instead (tcp_state_entry_cold). */
static json_t *snapshot(const tc_runner *r, tc_trial *t, int marks)
{
    const experiment *ex = &r->exps[t->experiment];
    int ok = 1;
    json_t *o = json_object();
    put(o, "trainable_name", json_string(ex->opts.trainable_name), &ok);
    put(o, "trial_id", json_string(t->trial_id), &ok);
    put_ref(o, "config", t->config, &ok);
    put(o, "local_dir", json_string(ex->opts.exp_dir), &ok);
    put_ref(o, "evaluated_params", t->evaluated_params, &ok);
    put(o, "experiment_tag", json_string(t->tag ? t->tag : ""), &ok);
    put(o, "resources", tc_resources_to_json(tc_trial_resources(r, t)), &ok);
    put(o, "stopping_criterion", ex->stop ? json_deep_copy(ex->stop) : json_object(), &ok);
    put(o, "max_failures", json_integer(ex->opts.max_failures), &ok);
    put(o, "num_failures", json_integer(t->num_failures), &ok);
    put(o, "status", json_string(tc_status_names[t->status]), &ok);
    put(o, "start_time", t->start_time ? json_real(t->start_time) : json_null(), &ok);
    put(o, "logdir", str_or_null(t->logdir), &ok);
    json_t *last = marks ? NULL : tc_trial_last_result(t);
    if (!marks && !last && t->cold_stored) {
        size_t len;
        char *text = tcp_trial_cold_text(r, t, &len);
        last = t->last_result = text ? tc_json_loads(text, len, NULL) : NULL;
        tc_free(text);
    }
    if (marks)
        put(o, "last_result", json_string(TCP_COLD_MARK "last_result"), &ok);
    else
        put(o, "last_result", last ? json_incref(last) : json_object(), &ok);
    put(o, "last_update_time",
        tc_json_real(t->last_update_time ? t->last_update_time : -INFINITY), &ok);
    put(o, "metric_analysis", marks ? json_string(TCP_COLD_MARK "metric_analysis")
                                    : tcp_trial_metrics_json(r, t), &ok);
    put(o, "error_file", str_or_null(t->error_file), &ok);
    put(o, "error_msg", str_or_null(t->error_msg), &ok);
    put(o, "custom_trial_name", str_or_null(t->custom_name), &ok);
    put(o, "location",
        t->pid ? json_pack("[sI]", t->hostname ? t->hostname : "", (json_int_t)t->pid)
               : json_null(), &ok);
    put(o, "n_results", json_integer(t->n_results), &ok);
    /* tunec's own resume data: the config with its markers (opaque values by
     * id), the checkpoints, the experiment. */
    put_ref(o, "tunec_config", t->origin_config ? t->origin_config : t->config, &ok);
    if (t->origin_config)
        put_ref(o, "tunec_current_config", t->config, &ok);
    put(o, "tunec_checkpoints", tc_ckpts_to_json(&t->ckpts), &ok);
    put(o, "tunec_experiment", json_integer(t->experiment), &ok);
    const tc_ckpt *newest = tc_ckpts_newest(&t->ckpts);
    put(o, "checkpoint",
        newest && t->logdir ? json_pack("{s:s,s:I}", "path", newest->path, "iteration",
                                        (json_int_t)newest->iteration)
                            : json_null(), &ok);
    tcp_trial_drop_result_tree(t);   /* o holds it; a finished trial keeps its text */
    if (!ok || !o) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *tc_trial_snapshot(const tc_runner *r, tc_trial *t)
{
    return snapshot(r, t, 0);
}

/* Files hold the public form of configs (objects as their repr). Takes snap. */
static json_t *public_config(tc_trial *t, json_t *snap)
{
    if (snap && json_object_set_new(snap, "config", tcp_public_copy(t->config)) < 0) {
        json_decref(snap);
        return NULL;
    }
    return snap;
}

json_t *tcp_state_entry(const tc_runner *r, tc_trial *t)
{
    return public_config(t, snapshot(r, t, 0));
}

json_t *tcp_state_entry_cold(const tc_runner *r, tc_trial *t, char **sorted, size_t *len0,
                             size_t *len1)
{
    *sorted = tcp_trial_cold_sorted(r, t, len0, len1);
    if (!*sorted)
        return tcp_state_entry(r, t);
    json_t *snap = public_config(t, snapshot(r, t, 1));
    if (!snap) {
        tc_free(*sorted);
        *sorted = NULL;
    }
    return snap;
}

json_t *tc_runner_state(const tc_runner *r, double start_time)
{
    return tcp_runner_state(r, start_time, 1);
}

json_t *tcp_runner_state(const tc_runner *r, double start_time, int with_checkpoints)
{
    int ok = 1;
    json_t *state = json_object();
    json_t *checkpoints = json_array();
    for (long i = 0; with_checkpoints && i < r->ntrials; i++)
        append(checkpoints, tcp_state_entry(r, r->trials[i]), &ok);
    /* A resumed session carries forward the records its spaces have not
     * regenerated yet, so resuming it again finds every trial. */
    if (with_checkpoints) {
        size_t pos = 0;
        const char *id;
        json_t *rec;
        tc_error e;
        tc_error_init(&e);
        while ((rec = tc_state_next(r->state, &pos, &id, &e)) != NULL)
            append(checkpoints, rec, &ok);
        if (e.code != TC_OK)
            ok = 0;
    }
    put(state, "checkpoints", checkpoints, &ok);
    double now = r->host.now(r->host.ctx);
    json_t *runner_data = json_object();
    put(runner_data, "_session_str", json_string(r->session_str), &ok);
    put(runner_data, "_start_time", json_real(start_time), &ok);
    put(runner_data, "_total_results", json_integer(r->total_results), &ok);
    put(runner_data, "_fail_fast", json_boolean(r->opts.fail_fast), &ok);
    put(runner_data, "_has_errored", json_boolean(tc_runner_count(r, TC_ERROR) > 0), &ok);
    put(runner_data, "_local_checkpoint_dir",
        r->nexps ? json_string(r->exps[0].opts.exp_dir) : json_null(), &ok);
    put(runner_data, "launch_web_server", json_false(), &ok);
    json_t *exps = json_array();
    for (int e = 0; e < r->nexps; e++)
        append(exps, json_pack("{s:s,s:I}", "name", r->exps[e].opts.name, "seed",
                               (json_int_t)r->exps[e].opts.seed), &ok);
    put(runner_data, "tunec",
        json_pack("{s:o,s:b}", "experiments", exps, "interrupted", r->interrupted), &ok);
    put(state, "runner_data", runner_data, &ok);
    put(state, "stats", json_pack("{s:f,s:f}", "start_time", start_time, "timestamp", now), &ok);
    if (!ok || !state) {
        json_decref(state);
        return NULL;
    }
    return state;
}

int tc_runner_write_state(tc_runner *r, double start_time, tc_error *err)
{
    if (r->host.write_atomic_stream)
        return tcp_write_state_streamed(r, start_time, err);
    int rc = 0;
    json_t *state = tc_runner_state(r, start_time);
    tc_buf b;
    tc_buf_init(&b);
    if (!state || tc_json_dump(state, &b, TC_DUMP_INDENT2_SORTED) < 0) {
        rc = tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int e = 0; e < r->nexps && rc == 0; e++) {
        int seen = 0;   /* several experiments may share one directory */
        for (int p = 0; p < e; p++)
            seen |= strcmp(r->exps[p].opts.exp_dir, r->exps[e].opts.exp_dir) == 0;
        if (seen)
            continue;
        tc_buf name;
        tc_buf_init(&name);
        tc_buf_printf(&name, "%s/experiment_state-%s.json", r->exps[e].opts.exp_dir,
                      r->session_str);
        rc = name.data ? r->host.write_atomic(r->host.ctx, name.data, b.data, b.len, 1, err)
                       : tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        tc_buf_free(&name);
    }
done:
    json_decref(state);
    tc_buf_free(&b);
    return rc;
}
