/* runner.c — the trial runner state machine (see runner.h for invariants).
 *
 * Spec references: trial lifecycle §6, result processing §6.3, failures §6.4,
 * stop rules §7, trial names and directories §5.6, experiment state §10.6. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "runner_internal.h"

const char *const tc_status_names[5] = {"PENDING", "RUNNING", "PAUSED", "TERMINATED", "ERROR"};

/* ------------------------------------------------------------------------ */
/* small helpers                                                            */
/* ------------------------------------------------------------------------ */

char *tcp_xstrdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = tc_malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void tcp_format_date(double epoch, char out[32])
{
    time_t t = (time_t)epoch;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%d_%H-%M-%S", &tm);
}

/* The class name inside an opaque marker's repr "<class 'pkg.mod.Env'>". */
void tcp_env_name(const json_t *env, tc_buf *out)
{
    if (json_is_string(env)) {
        tc_buf_puts(out, json_string_value(env));
        return;
    }
    const json_t *repr = json_is_object(env) ? json_object_get(env, "repr") : NULL;
    if (json_is_string(repr)) {
        const char *s = json_string_value(repr);
        const char *q = strstr(s, "<class '");
        if (q) {
            q += 8;
            const char *end = strchr(q, '\'');
            const char *dot = q;
            for (const char *p = q; end && p < end; p++)
                if (*p == '.')
                    dot = p + 1;
            if (end) {
                tc_buf_append(out, dot, (size_t)(end - dot));
                return;
            }
        }
        tc_buf_puts(out, s);
        return;
    }
    tc_py_str(env, out);
}

/* Replaces '/' (and NUL-unsafe bytes) so a name is one path component. */
void tcp_make_path_safe(char *s)
{
    for (; *s; s++)
        if (*s == '/')
            *s = '_';
}

/* Copy of v where opaque markers {"$tunec": "obj", "repr": r} become the
 * string r: what Ray's fallback encoder writes for objects JSON cannot hold
 * (spec §10.2). New reference. */
json_t *tcp_public_copy(const json_t *v)
{
    if (json_is_object(v)) {
        const json_t *mark = json_object_get(v, "$tunec");
        if (json_is_string(mark) && strcmp(json_string_value(mark), "obj") == 0) {
            const json_t *repr = json_object_get(v, "repr");
            return json_string(json_is_string(repr) ? json_string_value(repr) : "<object>");
        }
        json_t *out = json_object();
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)v, key, item) {
            /* set_new steals even a NULL; any failure fails the whole copy */
            if (!out || json_object_set_new(out, key, tcp_public_copy(item)) < 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            if (!out || json_array_append_new(out, tcp_public_copy(item)) < 0) {
                json_decref(out);
                return NULL;
            }
        }
        return out;
    }
    return json_deep_copy(v);
}

/* ------------------------------------------------------------------------ */
/* construction                                                             */
/* ------------------------------------------------------------------------ */

tc_runner *tc_runner_new(const tc_runner_opts *opts, const tc_host *host, tc_error *err)
{
    tc_runner *r = tc_calloc(1, sizeof *r);
    if (!r) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    r->opts = *opts;
    if (r->opts.max_len_identifier <= 0)
        r->opts.max_len_identifier = 130;
    r->session_str = tcp_xstrdup(opts->session_str ? opts->session_str : "session");
    r->opts.session_str = r->session_str;
    r->hostname = tcp_xstrdup(opts->hostname ? opts->hostname : "localhost");
    r->opts.hostname = r->hostname;
    if (!r->session_str || !r->hostname) {
        tc_free(r->session_str);
        tc_free(r->hostname);
        tc_free(r);
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    r->host = *host;
    tc_capacity_init(&r->capacity, 1, 0, NULL);
    tc_buf_init(&r->scratch);
    tc_buf_init(&r->line);
    tc_scan_init(&r->scan);
    tc_scan_init(&r->line_scan);
    return r;
}

/* TBXLogger writes the trial's hparams when it closes (spec §10.5). */
static void write_hparams(tc_runner *r, tc_trial *t, tc_sink *sink)
{
    tc_buf b;
    tc_buf_init(&b);
    json_t *removed = NULL;
    if (t->n_results > 0 && json_object_size(t->evaluated_params) > 0) {
        tc_error e;
        tc_error_init(&e);
        if (tc_tfevents_hparams((tc_tfevents *)t->tb, t->evaluated_params,
                                r->host.now(r->host.ctx), &b, &removed, &e) < 0) {
            if (e.code == TC_ERR_NOMEM || e.code == TC_OK)
                tc_error_set(&r->deferred_err, TC_ERR_NOMEM, "out of memory (TensorBoard hparams)");
        } else if (b.len) {
            r->host.sink_write(r->host.ctx, sink, b.data, b.len, &r->deferred_err);
        }
    }
    json_decref(removed);
    tc_buf_free(&b);
}

void tcp_trial_close_sinks(tc_runner *r, tc_trial *t, int final)
{
    if (final && t->tb_sink && t->tb)
        write_hparams(r, t, t->tb_sink);
    if (t->json_sink)
        r->host.sink_close(r->host.ctx, t->json_sink);
    if (t->csv_sink)
        r->host.sink_close(r->host.ctx, t->csv_sink);
    if (t->tb_sink)
        r->host.sink_close(r->host.ctx, t->tb_sink);
    t->json_sink = t->csv_sink = t->tb_sink = NULL;
}

static void trial_free(tc_runner *r, tc_trial *t)
{
    tcp_trial_close_sinks(r, t, 1);
    tc_free(t->name);
    tc_free(t->custom_name);
    tc_free(t->custom_dirname);
    tc_free(t->tag);
    tc_free(t->logdir);
    tc_free(t->error_msg);
    tc_free(t->error_file);
    tc_free(t->transient_dir);
    tc_free(t->tb_path);
    tc_free(t->clone_dir);
    tc_free(t->clone_path);
    tc_free(t->source_copy_dir);
    json_decref(t->config);
    json_decref(t->origin_config);
    json_decref(t->evaluated_params);
    json_decref(t->last_result);
    tc_free(t->last_text);
    tc_free(t->config_text);
    tc_free(t->id_json);
    tc_free(t->tag_json);
    tc_metrics_free((tc_metrics *)t->metrics);
    tc_free(t->cold_metrics);
    tc_free(t->resources);
    tc_free(t->gpu_ids);
    tc_free(t->hostname);
    if (t->csv)
        tc_csv_free(t->csv);
    tc_ckpts_clear(&t->ckpts);
    tc_tfevents_free((tc_tfevents *)t->tb);
    tc_free(t);
}

void tc_runner_free(tc_runner *r)
{
    if (!r)
        return;
    for (long i = 0; i < r->ntrials; i++)
        trial_free(r, r->trials[i]);
    tc_free(r->trials);
    for (int i = 0; i < r->nexps; i++) {
        experiment *e = &r->exps[i];
        tc_free((char *)e->opts.name);
        tc_free((char *)e->opts.exp_dir);
        tc_free((char *)e->opts.trainable_name);
        tc_free((char *)e->opts.checkpoint_score_attr);
        tc_free((char *)e->opts.restore_path);
        tc_free((char *)e->opts.trial_id);
        tc_free((char *)e->opts.stdout_file);
        tc_free((char *)e->opts.stderr_file);
        json_decref(e->stop);
        tc_space_free(e->space);
    }
    tc_free(r->exps);
    tc_free(r->session_str);
    tc_free(r->hostname);
    tcp_actions_free(r);
    tcp_attempts_free(r);
    tc_buf_free(&r->scratch);
    tc_buf_free(&r->line);
    tc_scan_free(&r->scan);
    tc_scan_free(&r->line_scan);
    tc_state_free(r->state);
    tc_runner_record_events(r, 0, NULL);
    tcp_sched_free(r);
    tcp_search_free(r);
    tc_free(r);
}

int tc_runner_add_experiment(tc_runner *r, const tc_experiment_opts *opts, tc_space *space,
                             tc_error *err)
{
    experiment *grown = tc_realloc(r->exps, (size_t)(r->nexps + 1) * sizeof *grown);
    if (!grown) {
        tc_space_free(space);
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    }
    r->exps = grown;
    experiment *e = &r->exps[r->nexps];
    memset(e, 0, sizeof *e);
    e->opts = *opts;
    e->opts.name = tcp_xstrdup(opts->name);
    e->opts.exp_dir = tcp_xstrdup(opts->exp_dir);
    e->opts.trainable_name = tcp_xstrdup(opts->trainable_name);
    e->opts.checkpoint_score_attr = tcp_xstrdup(opts->checkpoint_score_attr);
    e->opts.restore_path = tcp_xstrdup(opts->restore_path);
    e->opts.trial_id = tcp_xstrdup(opts->trial_id);
    e->opts.stdout_file = tcp_xstrdup(opts->stdout_file);
    e->opts.stderr_file = tcp_xstrdup(opts->stderr_file);
    e->stop = opts->stop ? json_deep_copy(opts->stop) : NULL;
    e->opts.stop = e->stop;
    /* every copy made, or none kept: a NULL where the caller gave a string
     * would later read as "not set" (exp_dir!) */
    if ((opts->name && !e->opts.name) || (opts->exp_dir && !e->opts.exp_dir) ||
        (opts->trainable_name && !e->opts.trainable_name) ||
        (opts->checkpoint_score_attr && !e->opts.checkpoint_score_attr) ||
        (opts->restore_path && !e->opts.restore_path) || (opts->trial_id && !e->opts.trial_id) ||
        (opts->stdout_file && !e->opts.stdout_file) || (opts->stderr_file && !e->opts.stderr_file) ||
        (opts->stop && !e->stop)) {
        tc_free((char *)e->opts.name);
        tc_free((char *)e->opts.exp_dir);
        tc_free((char *)e->opts.trainable_name);
        tc_free((char *)e->opts.checkpoint_score_attr);
        tc_free((char *)e->opts.restore_path);
        tc_free((char *)e->opts.trial_id);
        tc_free((char *)e->opts.stdout_file);
        tc_free((char *)e->opts.stderr_file);
        json_decref(e->stop);
        memset(e, 0, sizeof *e);
        tc_space_free(space);
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    }
    e->space = space;
    return r->nexps++;
}

tc_capacity *tc_runner_capacity_mut(tc_runner *r) { return &r->capacity; }
const tc_capacity *tc_runner_capacity(const tc_runner *r) { return &r->capacity; }
long tc_runner_num_trials(const tc_runner *r) { return r->ntrials; }
long tc_runner_total_results(const tc_runner *r) { return r->total_results; }
int tc_runner_stopping(const tc_runner *r) { return r->stopping; }

tc_trial *tc_runner_trial(tc_runner *r, long index)
{
    return (index >= 0 && index < r->ntrials) ? r->trials[index] : NULL;
}

const tc_experiment_opts *tc_runner_experiment(const tc_runner *r, int index)
{
    return (index >= 0 && index < r->nexps) ? &r->exps[index].opts : NULL;
}

long tc_runner_count(const tc_runner *r, tc_status status)
{
    return (int)status >= 0 && status <= TC_ERROR ? r->count[status] : 0;
}

/* ------------------------------------------------------------------------ */
/* the journal: events that must survive a killed driver                    */
/* ------------------------------------------------------------------------ */

/* Appends one event (stolen; NULL: building it failed). A lost event must
 * not pass silently — a resume would miss it — but the callers are deep in
 * state changes that cannot be undone, so the loss is latched here and the
 * public call that caused it fails at its end (tcp_journal_check): the run
 * stops with the error, its in-memory state consistent. */
void tcp_journal(tc_runner *r, json_t *event)
{
    if (!event) {
        tc_error_set(&r->deferred_err, TC_ERR_NOMEM, "out of memory (experiment journal)");
        return;
    }
    if (r->host.journal) {
        tc_buf b;
        tc_buf_init(&b);
        if (tc_json_dump(event, &b, TC_DUMP_COMPACT) < 0 || tc_buf_putc(&b, '\n') < 0)
            tc_error_set(&r->deferred_err, TC_ERR_NOMEM, "out of memory (experiment journal)");
        else
            r->host.journal(r->host.ctx, b.data, b.len, &r->deferred_err);
        tc_buf_free(&b);
    }
    json_decref(event);
}

int tcp_journal_check(tc_runner *r, int rc, tc_error *err)
{
    if (rc < 0 || r->deferred_err.code == TC_OK)
        return rc;
    tc_error_set(err, r->deferred_err.code, "%s", r->deferred_err.text);
    tc_error_init(&r->deferred_err);
    return -1;
}

void tcp_reconfigure(tc_runner *r, tc_trial *t, json_t *config, char *tag)
{
    if (!t->origin_config)
        t->origin_config = t->config;   /* takes the reference */
    else
        json_decref(t->config);
    t->config = config;
    if (tag) {
        tc_free(t->tag);
        t->tag = tag;
    }
    t->texts_stale = 1;
    tcp_journal(r, json_pack("{s:s,s:s,s:O,s:s}", "event", "reconfig", "trial_id", t->trial_id,
                             "config", t->config, "experiment_tag", t->tag ? t->tag : ""));
}

void tcp_journal_status(tc_runner *r, const tc_trial *t)
{
    json_t *event = json_pack("{s:s,s:s,s:s,s:i,s:o,s:o}", "event", "status", "trial_id",
                              t->trial_id, "status", tc_status_names[t->status], "num_failures",
                              t->num_failures,
                              "error_msg", t->error_msg ? json_string(t->error_msg) : json_null(),
                              "error_file", t->error_file ? json_string(t->error_file)
                                                         : json_null());
    if (!event || (t->status != TC_TERMINATED && t->status != TC_ERROR) || !r->host.journal) {
        tcp_journal(r, event);
        return;
    }
    /* A final status carries what a resume keeps of a finished trial (its
     * last result and metric analysis, as texts), so that a resumed session
     * never reads a finished trial's result files again (issue 12). */
    tc_buf b;
    tc_buf_init(&b);
    if (tc_json_dump(event, &b, TC_DUMP_COMPACT) < 0 || !b.len || b.data[b.len - 1] != '}' ||
        (b.len--, tcp_trial_final_fields(r, t, &b) < 0) || tc_buf_puts(&b, "}\n") < 0)
        tc_error_set(&r->deferred_err, TC_ERR_NOMEM, "out of memory (experiment journal)");
    else
        r->host.journal(r->host.ctx, b.data, b.len, &r->deferred_err);
    tc_buf_free(&b);
    json_decref(event);
}

/* ------------------------------------------------------------------------ */
/* trial generation                                                         */
/* ------------------------------------------------------------------------ */

/* str(trial): <trainable>[_<env>]_<trial_id>, or the custom name (§5.6). */
int tcp_trial_set_name(tc_trial *t, const char *trainable)
{
    tc_buf b;
    tc_buf_init(&b);
    if (t->custom_name) {
        tc_buf_puts(&b, t->custom_name);
    } else {
        tc_buf_puts(&b, trainable);
        const json_t *env = json_object_get(t->config, "env");
        if (env && tc_json_truthy(env)) {
            tc_buf_putc(&b, '_');
            tcp_env_name(env, &b);
        }
        tc_buf_putc(&b, '_');
        tc_buf_puts(&b, t->trial_id);
    }
    if (!b.data)
        return -1;
    if (!t->custom_name)      /* a custom name is the user's, verbatim (§5.6) */
        tcp_make_path_safe(b.data);
    tc_free(t->name);
    t->name = tcp_fit_text(&b);   /* takes the buffer */
    return 0;
}

void tcp_set_status(tc_runner *r, tc_trial *t, tc_status next)
{
    /* A paused (or waiting) trial that ends now had its logger closed
     * without the hparams a final close writes: they go in now. */
    if ((next == TC_TERMINATED || next == TC_ERROR) && t->status != TC_RUNNING && t->tb &&
        t->tb_path && !t->tb_sink) {
        int existed = 0;
        tc_sink *sink = r->host.open_sink(r->host.ctx, t->tb_path, &existed, NULL);
        if (sink) {
            write_hparams(r, t, sink);
            r->host.sink_close(r->host.ctx, sink);
        }
    }
    if ((next == TC_TERMINATED || next == TC_ERROR) && t->status != TC_TERMINATED &&
        t->status != TC_ERROR && r->search && !t->search_end_pending) {
        t->search_end_pending = 1;    /* delivered by runner_search.c */
        r->search_ends++;
    }
    if (next == TC_ERROR)
        tcp_pbt_forget_restore_source(r, t);   /* its worker has failed: it writes no more */
    r->count[t->status]--;
    r->count[next]++;
    t->status = next;
    tcp_event_status(r, t, next);
    tcp_fifo_lower(r, t);
    tcp_trial_compact(r, t);
}

static int push_trial(tc_runner *r, tc_trial *t, tc_error *err)
{
    if (r->ntrials == r->cap_trials) {
        long cap = r->cap_trials ? r->cap_trials * 2 : 64;
        tc_trial **grown = tc_realloc(r->trials, (size_t)cap * sizeof *grown);
        if (!grown)
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        r->trials = grown;
        r->cap_trials = cap;
    }
    t->index = r->ntrials;
    r->trials[r->ntrials++] = t;
    r->count[t->status]++;
    tcp_fifo_lower(r, t);
    return 0;
}

tc_trial *tcp_add_trial(tc_runner *r, int e, tc_variant *v, tc_error *err)
{
    tc_trial *t = tc_calloc(1, sizeof *t);
    if (!t) {
        tc_variant_clear(v);
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    t->experiment = e;
    experiment *ex = &r->exps[e];
    if (ex->opts.trial_id && !ex->fixed_id_used) {
        /* A hand-added Trial (tunec.trial_runner) keeps the id it has. */
        snprintf(t->trial_id, sizeof t->trial_id, "%s", ex->opts.trial_id);
        ex->fixed_id_used = 1;
    } else {
        snprintf(t->trial_id, sizeof t->trial_id, "%05ld", r->next_trial_number++);
    }
    t->config = v->config;
    v->config = NULL;
    t->evaluated_params = v->evaluated_params;
    v->evaluated_params = NULL;
    t->tag = v->tag;     /* a tc_buf's memory: fitted, as it stays for the whole run */
    v->tag = NULL;
    if (t->tag) {
        char *fitted = tc_realloc(t->tag, strlen(t->tag) + 1);
        if (fitted)
            t->tag = fitted;
    }
    tc_variant_clear(v);
    t->metrics = tc_metrics_new();
    t->status = TC_PENDING;
    t->restored_iteration = -1;
    t->save_wait_rows = -1;
    tc_ckpts_init(&t->ckpts);
    if (!t->metrics || tcp_trial_set_name(t, ex->opts.trainable_name) < 0) {
        trial_free(r, t);
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (tcp_trial_ask_resources(r, t, err) < 0 || push_trial(r, t, err) < 0) {
        trial_free(r, t);
        return NULL;
    }
    tcp_event(r, t, TC_EVT_ADD, NULL, 0);
    return t;
}

long tc_runner_generate(tc_runner *r, tc_eval_fn fn, void *ctx, long max_new, tc_error *err)
{
    long added = 0;
    for (int e = 0; e < r->nexps && added < max_new; e++) {
        experiment *ex = &r->exps[e];
        if (ex->space && !ex->space_started) {
            tc_space_set_next_index(ex->space, r->next_variant_index);
            ex->space_started = 1;
        }
        while (ex->space && added < max_new && !r->stopping) {
            tc_variant v;
            memset(&v, 0, sizeof v);
            int rc = tc_space_next(ex->space, fn, ctx, &v, err);
            if (rc < 0)
                return -1;
            if (rc == 0) {
                tc_space_free(ex->space);
                ex->space = NULL;
                break;
            }
            if (v.index + 1 > r->next_variant_index)   /* shuffled: any order */
                r->next_variant_index = v.index + 1;
            tc_trial *t = tcp_add_trial(r, e, &v, err);
            if (!t)
                return -1;
            json_t *record = NULL;
            if (tcp_take_record(r, t->trial_id, &record, err) < 0)
                return -1;
            if (record) {
                int rc = tcp_apply_record(r, t, record, err);
                json_decref(record);
                if (rc < 0)
                    return -1;
            }
            /* The scheduler learns of every trial that may still run (a
             * resumed finished trial would wait in a bracket for ever). */
            if (t->status == TC_PENDING && tcp_sched_on_add(r, t, err) < 0)
                return -1;
            added++;
        }
    }
    return added;
}

int tc_runner_generation_done(const tc_runner *r)
{
    if (r->stopping)   /* the searcher still hears of the ends the stop caused */
        return r->search_ends == 0;
    if (tcp_search_active(r))
        return 0;
    for (int e = 0; e < r->nexps; e++)
        if (r->exps[e].space)
            return 0;
    return 1;
}

int tc_runner_set_custom_name(tc_runner *r, long index, const char *name, tc_error *err)
{
    tc_trial *t = tc_runner_trial(r, index);
    if (!t)
        return tc_error_set(err, TC_ERR_VALUE, "no trial %ld", index);
    tc_free(t->custom_name);
    t->custom_name = tcp_xstrdup(name);
    return tcp_trial_set_name(t, r->exps[t->experiment].opts.trainable_name);
}

int tc_runner_set_custom_dirname(tc_runner *r, long index, const char *dirname, tc_error *err)
{
    tc_trial *t = tc_runner_trial(r, index);
    if (!t)
        return tc_error_set(err, TC_ERR_VALUE, "no trial %ld", index);
    if (dirname[0] == '\0' || strcmp(dirname, ".") == 0 || strcmp(dirname, "..") == 0 ||
        strlen(dirname) > 200)
        return tc_error_set(err, TC_ERR_VALUE, "trial_dirname_creator: a trial directory needs "
                            "a name of 1 to 200 characters other than '.' and '..', got '%s'",
                            dirname);
    char *copy = tcp_xstrdup(dirname);
    if (!copy)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    /* Ray: "This is the file path used by rsync. ['/', '(', ')'] are not
     * allowed." */
    for (char *c = copy; *c; c++)
        if (*c == '/' || *c == '(' || *c == ')')
            *c = '_';
    tc_free(t->custom_dirname);
    t->custom_dirname = copy;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* scheduling (the choice itself is the scheduler's: runner_sched.c)        */
/* ------------------------------------------------------------------------ */

int tcp_can_start(tc_runner *r, const tc_trial *t)
{
    return !t->saving && tc_capacity_fits(&r->capacity, tc_trial_resources(r, t));
}

tc_trial *tc_runner_choose(tc_runner *r, tc_error *err)
{
    if (r->stopping || r->interrupted)
        return NULL;
    if (r->opts.max_concurrent > 0 && r->running >= r->opts.max_concurrent)
        return NULL;
    return tcp_sched_choose(r, err);
}

int tc_runner_blocked(tc_runner *r, tc_error *err)
{
    if (r->running > 0 || r->stopping)
        return 0;
    for (long i = 0; i < r->ntrials; i++) {
        tc_trial *t = r->trials[i];
        if (t->status != TC_PENDING)
            continue;
        if (!tc_capacity_can_ever_fit(&r->capacity, tc_trial_resources(r, t), err))
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* starting a trial                                                         */
/* ------------------------------------------------------------------------ */

/* `<identifier[:max_len]>_<date>` where identifier = name prefix + "_" + tag
 * (spec §5.6). The cut never splits a UTF-8 sequence. */
static char *logdir_prefix(tc_runner *r, tc_trial *t, double now)
{
    const experiment *ex = &r->exps[t->experiment];
    tc_buf b;
    tc_buf_init(&b);
    if (t->custom_name) {
        tc_buf_puts(&b, t->custom_name);
    } else {
        tc_buf_puts(&b, ex->opts.trainable_name);
        const json_t *env = json_object_get(t->config, "env");
        if (env && tc_json_truthy(env)) {
            tc_buf_putc(&b, '_');
            tcp_env_name(env, &b);
        }
    }
    tc_buf_putc(&b, '_');
    tc_buf_puts(&b, t->tag ? t->tag : "");
    if (!b.data || b.failed) {
        tc_buf_free(&b);
        return NULL;
    }
    size_t cut = (size_t)r->opts.max_len_identifier;
    if (b.len > cut) {
        while (cut > 0 && ((unsigned char)b.data[cut] & 0xC0) == 0x80)
            cut--;
        b.len = cut;
        b.data[cut] = '\0';
    }
    char date[32];
    tcp_format_date(now, date);
    tc_buf_putc(&b, '_');
    tc_buf_puts(&b, date);
    if (!b.data || b.failed) {
        tc_buf_free(&b);
        return NULL;
    }
    tcp_make_path_safe(b.data);
    return b.data;
}

char *tcp_join_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = tc_malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int write_params(tc_runner *r, tc_trial *t, tc_error *err)
{
    int rc = -1;
    char *path = tcp_join_path(t->logdir, "params.json");
    json_t *pub = tcp_public_copy(t->config);
    tc_buf b;
    tc_buf_init(&b);
    if (!path || !pub || tc_json_dump(pub, &b, TC_DUMP_INDENT2_SORTED) < 0) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        goto done;
    }
    rc = r->host.write_atomic(r->host.ctx, path, b.data, b.len, 0, err);
done:
    tc_free(path);
    json_decref(pub);
    tc_buf_free(&b);
    return rc;
}

/* The JSON texts spliced into every result of the trial: its public config,
 * its trial_id and its experiment_tag (NULL when the tag is empty). */
static char *dump_text(const json_t *v)
{
    tc_buf b;
    tc_buf_init(&b);
    if (!v || tc_json_dump(v, &b, TC_DUMP_COMPACT) < 0) {
        tc_buf_free(&b);
        return NULL;
    }
    return b.data;
}

static int cache_texts(tc_trial *t, tc_error *err)
{
    if (t->config_text && t->id_json)
        return 0;
    json_t *pub = tcp_public_copy(t->config);
    json_t *id = json_string(t->trial_id);
    json_t *tag = t->tag && t->tag[0] ? json_string(t->tag) : NULL;
    tc_free(t->config_text);
    tc_free(t->id_json);
    tc_free(t->tag_json);
    t->config_text = dump_text(pub);
    t->id_json = dump_text(id);
    t->tag_json = tag ? dump_text(tag) : NULL;
    json_decref(pub);
    json_decref(id);
    json_decref(tag);
    if (!t->config_text || !t->id_json || (t->tag && t->tag[0] && !t->tag_json))
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    return 0;
}

static int open_sinks(tc_runner *r, tc_trial *t, tc_error *err)
{
    const experiment *ex = &r->exps[t->experiment];
    int existed = 0;
    if (ex->opts.log_tbx && !t->tb_sink) {
        /* A new events file per (re)start, as a new tensorboardX writer
         * makes; named events.out.tfevents.<epoch s>.<host>. A trial back
         * from a scheduler's pause continues its file (Ray keeps the logger
         * open through a pause). */
        double now = r->host.now(r->host.ctx);
        tc_buf name, head;
        tc_buf_init(&name);
        tc_buf_init(&head);
        int rc = tc_tfevents_header(&head, now);
        if (t->tb_continue && t->tb_path)
            rc |= tc_buf_puts(&name, t->tb_path);
        else
            rc |= tc_buf_printf(&name, "%s/", t->logdir) |
                  tc_tfevents_filename(now, r->hostname, &name);
        t->tb_continue = 0;
        if (rc == 0 && name.data && (!t->tb_path || strcmp(t->tb_path, name.data) != 0)) {
            tc_free(t->tb_path);
            t->tb_path = tcp_xstrdup(name.data);
            rc |= t->tb_path ? 0 : -1;
        }
        if (!t->tb)
            t->tb = tc_tfevents_new(0);
        if (rc == 0 && t->tb)
            t->tb_sink = r->host.open_sink(r->host.ctx, name.data, &existed, err);
        if (t->tb_sink && !existed &&
            r->host.sink_write(r->host.ctx, t->tb_sink, head.data, head.len, err) < 0) {
            tc_buf_free(&name);
            tc_buf_free(&head);
            return -1;   /* the sink stays open: the trial's close releases it */
        }
        tc_buf_free(&name);
        tc_buf_free(&head);
        if (!t->tb_sink)
            return rc == 0 && t->tb ? -1 : tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    }
    if (ex->opts.log_json && !t->json_sink) {
        char *path = tcp_join_path(t->logdir, "result.json");
        if (!path)
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        t->json_sink = r->host.open_sink(r->host.ctx, path, &existed, err);
        tc_free(path);
        if (!t->json_sink)
            return -1;
    }
    if (ex->opts.log_csv && !t->csv_sink) {
        char *path = tcp_join_path(t->logdir, "progress.csv");
        if (!path)
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        t->csv_sink = r->host.open_sink(r->host.ctx, path, &existed, err);
        tc_free(path);
        if (!t->csv_sink)
            return -1;
        /* A restarted trial keeps its header state; a fresh object on an
         * existing file would repeat the header, so pass no header only
         * when the file is new. */
        if (!t->csv) {
            t->csv = tc_csv_new(NULL);
            if (!t->csv)
                return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        }
    }
    return 0;
}

static int runner_start_impl(tc_runner *r, tc_trial *t, tc_error *err);

/* The journal events it wrote are checked once, at the end: a lost one
 * fails the call (runner.c tcp_journal). */
int tc_runner_start(tc_runner *r, tc_trial *t, tc_error *err)
{
    return tcp_journal_check(r, runner_start_impl(r, t, err), err);
}

static int runner_start_impl(tc_runner *r, tc_trial *t, tc_error *err)
{
    const experiment *ex = &r->exps[t->experiment];
    if ((t->status != TC_PENDING && t->status != TC_PAUSED) || t->saving)
        return tc_error_set(err, TC_ERR_VALUE, "trial %s is %s, not PENDING", t->name,
                            t->saving ? "still stopping" : tc_status_names[t->status]);
    if (tcp_attempt_issue(r, t, err) < 0)
        return -1;
    if (t->texts_stale) {
        /* A scheduler changed its config or tag (PBT, replay). */
        tc_free(t->config_text);
        tc_free(t->id_json);
        tc_free(t->tag_json);
        t->config_text = t->id_json = t->tag_json = NULL;
        t->texts_stale = 0;
    }
    double now = r->host.now(r->host.ctx);
    if (!t->logdir) {
        int exact = t->custom_dirname != NULL;
        char *prefix = exact ? tcp_xstrdup(t->custom_dirname) : logdir_prefix(r, t, now);
        if (!prefix)
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        t->logdir = r->host.name_trial_dir(r->host.ctx, ex->opts.exp_dir, prefix, exact, err);
        tc_free(prefix);
        if (!t->logdir)
            return -1;
        t->restored_iteration = -1;
        /* The journal names the directory before it exists (tc_host
         * name_trial_dir): a driver killed now leaves no directory that no
         * record names, and the resume makes the missing one (below). */
        json_t *rec = tc_trial_snapshot(r, t);
        tcp_journal(r, json_pack("{s:s,s:o}", "event", "start", "record", rec));
        if (r->host.make_dir(r->host.ctx, t->logdir, err) < 0 || write_params(r, t, err) < 0)
            return -1;
    } else {
        /* A resumed trial whose first start the killed driver journaled
         * but did not finish: its directory (and params.json) come now. */
        int made = r->host.make_dir(r->host.ctx, t->logdir, err);
        if (made < 0 || (made && write_params(r, t, err) < 0))
            return -1;
        /* A restart: from the newest checkpoint, files cut back to it —
         * unless the files end there already (a paused trial), or the
         * checkpoint is another trial's (a PBT clone continues its files). */
        const tc_ckpt *k = tc_ckpts_newest(&t->ckpts);
        t->restored_iteration = k ? k->iteration : -1;
        /* Where the checkpoint sits among the rows: its row count, or for
         * an older record (rows unknown) its training_iteration. */
        int at_end = k && (k->rows >= 0 ? k->rows >= t->n_results
                                        : k->iteration >= t->last_iteration);
        /* A PBT clone continues its files as they were at the clone: its
         * copied checkpoint's row count says where that was, so rows logged
         * after it are cut like anyone's. Only a checkpoint without a row
         * count (an old record) falls back on the flag alone. */
        int clone = t->restart_keep_files;
        int keep = clone && !(k && k->rows >= 0)
                       ? 1
                       : at_end && (clone || (t->n_results > 0 && !t->resumed));
        t->restart_keep_files = 0;
        t->tb_continue = keep;
        long cut_iteration = k && k->rows >= 0 ? LONG_MAX : t->restored_iteration;
        long cut_rows = k ? k->rows : -1;
        if (!keep && tcp_prepare_restart(r, t, cut_iteration, cut_rows, err) < 0)
            return -1;
        if (k && tcp_pbt_copy_restore_source(r, t, k, err) < 0)
            return -1;
    }
    t->run_rows_base = t->n_results;
    t->restart_first = 0;
    t->ran_ahead = 0;
    tc_action start;
    if (open_sinks(r, t, err) < 0 || cache_texts(t, err) < 0 ||
        tcp_action_prepare_start(r, t, &start, err) < 0)
        return -1;
    int gpu_ids[TC_MAX_GPUS], ngpu_ids = 0;
    tc_capacity_acquire(&r->capacity, tc_trial_resources(r, t), gpu_ids, &ngpu_ids);
    tc_free(t->gpu_ids);
    t->gpu_ids = NULL;
    t->ngpu_ids = 0;
    if (ngpu_ids > 0 && (t->gpu_ids = tc_malloc((size_t)ngpu_ids * sizeof *gpu_ids)) != NULL) {
        memcpy(t->gpu_ids, gpu_ids, (size_t)ngpu_ids * sizeof *gpu_ids);
        t->ngpu_ids = ngpu_ids;
    }
    tcp_set_status(r, t, TC_RUNNING);
    r->running++;
    tcp_action_commit_start(r, &start);   /* the executor's START of the attempt */
    if (t->start_time == 0)
        t->start_time = now;
    tcp_event(r, t, TC_EVT_START, NULL, 0);
    if (t->restored_iteration >= 0 || (ex->opts.restore_path && !tc_ckpts_newest(&t->ckpts)))
        tcp_event(r, t, TC_EVT_RESTORE, NULL, 0);
    return 0;
}

/* RUNNING -> another status: gives the resources back, closes the sinks. */
void tcp_leave_running(tc_runner *r, tc_trial *t, tc_status next)
{
    int was_running = t->status == TC_RUNNING;
    if (was_running) {
        tc_capacity_release(&r->capacity, tc_trial_resources(r, t), t->gpu_ids, t->ngpu_ids);
        tc_free(t->gpu_ids);
        t->gpu_ids = NULL;
        t->ngpu_ids = 0;
        r->running--;
        tcp_trial_close_sinks(r, t, next == TC_TERMINATED || next == TC_ERROR);
    }
    tcp_set_status(r, t, next);
    tcp_journal_status(r, t);
    if (was_running)
        tcp_action_left_running(r, t);   /* its worker stops, unless it is done */
    if (was_running && next == TC_TERMINATED)
        tcp_event(r, t, TC_EVT_COMPLETE, NULL, 0);
    else if (was_running && next == TC_ERROR)
        tcp_event(r, t, TC_EVT_ERROR, t->error_msg, t->error_msg ? strlen(t->error_msg) : 0);
}

static int runner_on_complete_impl(tc_runner *r, tc_trial *t, tc_error *err);

/* The journal events it wrote are checked once, at the end: a lost one
 * fails the call (runner.c tcp_journal). */
int tc_runner_on_complete(tc_runner *r, tc_trial *t, tc_error *err)
{
    return tcp_journal_check(r, runner_on_complete_impl(r, t, err), err);
}

static int runner_on_complete_impl(tc_runner *r, tc_trial *t, tc_error *err)
{
    if (t->status != TC_RUNNING)
        return 0;
    const char *line = t->last_text;
    size_t line_len = t->last_text_len;
    if (tcp_sched_on_complete(r, t, line, line_len, err) < 0)
        return -1;
    if (!tc_trial_last_result(t)) {
        /* A function that never reported still ends with done=True (§18.11). */
        t->last_result = json_object();
        json_object_set_new(t->last_result, "trial_id", json_string(t->trial_id));
    }
    json_object_set_new(t->last_result, "done", json_true());
    tc_free(t->last_text);          /* the tree is now the newer form */
    t->last_text = NULL;
    t->last_text_len = 0;
    t->last_update_time = r->host.now(r->host.ctx);
    tc_runner_on_ended(r, t->token);      /* its trainable returned */
    tcp_leave_running(r, t, TC_TERMINATED);
    return 0;
}

static int append_error_file(tc_runner *r, tc_trial *t, const char *message, tc_error *err)
{
    if (!t->logdir)
        return 0;
    char *path = tcp_join_path(t->logdir, "error.txt");
    if (!path)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    int existed = 0, rc = -1;
    tc_sink *s = r->host.open_sink(r->host.ctx, path, &existed, err);
    if (s) {
        char date[32];
        tcp_format_date(r->host.now(r->host.ctx), date);
        tc_buf b;
        tc_buf_init(&b);
        tc_buf_printf(&b, "Failure # %d (occurred at %s)\n%s\n", t->num_failures, date, message);
        rc = b.data && !b.failed ? r->host.sink_write(r->host.ctx, s, b.data, b.len, err)
                                 : tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        tc_buf_free(&b);
        r->host.sink_close(r->host.ctx, s);
    }
    tc_free(t->error_file);
    t->error_file = path;
    return rc;
}

static int runner_on_error_impl(tc_runner *r, tc_trial *t, const char *message, tc_error *err);

/* The journal events it wrote are checked once, at the end: a lost one
 * fails the call (runner.c tcp_journal). */
int tc_runner_on_error(tc_runner *r, tc_trial *t, const char *message, tc_error *err)
{
    return tcp_journal_check(r, runner_on_error_impl(r, t, message, err), err);
}

static int runner_on_error_impl(tc_runner *r, tc_trial *t, const char *message, tc_error *err)
{
    if (t->status != TC_RUNNING && t->status != TC_PENDING)
        return 0;
    const experiment *ex = &r->exps[t->experiment];
    /* should_recover is decided before the failure is counted (§6.4, §18.34). */
    int recover = ex->opts.max_failures < 0 || t->num_failures < ex->opts.max_failures;
    t->num_failures++;
    tc_free(t->error_msg);
    t->error_msg = tcp_xstrdup(message);
    t->last_update_time = r->host.now(r->host.ctx);
    int rc = append_error_file(r, t, message, err);
    if (!t->error_msg)   /* still ends the run below, the trial's status settled */
        rc = tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    if (recover && !r->stopping) {
        int was_running = t->status == TC_RUNNING;
        tcp_leave_running(r, t, TC_PENDING);
        if (was_running)
            tcp_event(r, t, TC_EVT_RECOVER, message, message ? strlen(message) : 0);
    } else {
        /* Only a final failure is the scheduler's business (Ray: a retried
         * trial just restarts). */
        if (tcp_sched_on_error(r, t, err) < 0)
            rc = -1;
        tcp_leave_running(r, t, TC_ERROR);
        if (r->opts.fail_fast)
            tc_runner_stop_all(r);
    }
    return rc;
}

void tc_runner_stop_all(tc_runner *r)
{
    r->stopping = 1;
    for (long i = 0; i < r->ntrials; i++) {
        tc_trial *t = r->trials[i];
        if (t->status == TC_PENDING || t->status == TC_PAUSED)
            tcp_set_status(r, t, TC_TERMINATED);
        else if (t->status == TC_RUNNING)
            tcp_action_push_latched(r, t, TC_ACT_STOP);   /* on_stopped once it is sent */
    }
}

static int runner_on_stopped_impl(tc_runner *r, tc_trial *t, tc_error *err);

/* The journal events it wrote are checked once, at the end: a lost one
 * fails the call (runner.c tcp_journal). */
int tc_runner_on_stopped(tc_runner *r, tc_trial *t, tc_error *err)
{
    return tcp_journal_check(r, runner_on_stopped_impl(r, t, err), err);
}

static int runner_on_stopped_impl(tc_runner *r, tc_trial *t, tc_error *err)
{
    /* Interrupted trials stay resumable: they restart from their newest
     * checkpoint when the experiment is resumed. */
    if (t->status == TC_RUNNING)
        tcp_leave_running(r, t, r->interrupted ? TC_PENDING : TC_TERMINATED);
    return 0;
}

void tc_runner_interrupt(tc_runner *r)
{
    r->interrupted = 1;
    /* Each running attempt saves a checkpoint and stops; its trial stays
     * RUNNING until the worker is done, and resumable. */
    for (long i = 0; i < r->ntrials; i++)
        if (r->trials[i]->status == TC_RUNNING)
            tcp_action_push_latched(r, r->trials[i], TC_ACT_PAUSE);
}

int tc_runner_interrupted(const tc_runner *r)
{
    return r->interrupted;
}

int tc_runner_is_finished(const tc_runner *r)
{
    if (r->interrupted)
        return r->running == 0;
    if (!tc_runner_generation_done(r))
        return 0;
    return r->count[TC_PENDING] + r->count[TC_RUNNING] + r->count[TC_PAUSED] == 0;
}
