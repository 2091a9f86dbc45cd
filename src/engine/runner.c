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
#include "runner.h"

const char *const tc_status_names[5] = {"PENDING", "RUNNING", "PAUSED", "TERMINATED", "ERROR"};

typedef struct experiment {
    tc_experiment_opts opts;       /* strings below are owned copies */
    json_t *stop;                  /* owned */
    tc_space *space;               /* owned; NULL once exhausted */
    int space_started;             /* its numbering was aligned (below) */
} experiment;

struct tc_runner {
    tc_runner_opts opts;
    char *session_str;
    tc_host host;
    tc_capacity capacity;
    experiment *exps;
    int nexps;
    tc_trial **trials;
    long ntrials, cap_trials;
    long next_trial_number;        /* trial ids "%05d", shared by experiments */
    long next_variant_index;       /* tag counter, shared by experiments (§5.4) */
    long running;
    int stopping;                  /* stop_all requested */
    int interrupted;               /* Ctrl-C: end without finishing trials */
    long total_results;
    tc_buf scratch;                /* reused per result for log lines */
    tc_buf line;                   /* the result.json line being built */
    tc_scan scan;                  /* the worker's result, scanned */
    tc_scan line_scan;             /* the final line, scanned (CSV, metrics) */
    json_t *records;               /* resume: {trial_id: record} not yet matched */
    int resume_unfinished, resume_errored, restart_errored;
};

/* ------------------------------------------------------------------------ */
/* small helpers                                                            */
/* ------------------------------------------------------------------------ */

static char *xstrdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static void format_date(double epoch, char out[32])
{
    time_t t = (time_t)epoch;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%d_%H-%M-%S", &tm);
}

/* The class name inside an opaque marker's repr "<class 'pkg.mod.Env'>". */
static void env_name(const json_t *env, tc_buf *out)
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
static void make_path_safe(char *s)
{
    for (; *s; s++)
        if (*s == '/')
            *s = '_';
}

/* Copy of v where opaque markers {"$tunec": "obj", "repr": r} become the
 * string r: what Ray's fallback encoder writes for objects JSON cannot hold
 * (spec §10.2). New reference. */
static json_t *public_copy(const json_t *v)
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
            json_object_set_new(out, key, public_copy(item));
        }
        return out;
    }
    if (json_is_array(v)) {
        json_t *out = json_array();
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            json_array_append_new(out, public_copy(item));
        }
        return out;
    }
    return json_deep_copy(v);
}

static int truthy(const json_t *v)
{
    double d;
    if (!v || json_is_null(v) || json_is_false(v))
        return 0;
    if (json_is_true(v))
        return 1;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    if (tc_json_number(v, &d))
        return d != 0.0;
    if (json_is_array(v))
        return json_array_size(v) > 0;
    if (json_is_object(v))
        return json_object_size(v) > 0;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* construction                                                             */
/* ------------------------------------------------------------------------ */

tc_runner *tc_runner_new(const tc_runner_opts *opts, const tc_host *host, tc_error *err)
{
    tc_runner *r = calloc(1, sizeof *r);
    if (!r) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    r->opts = *opts;
    if (r->opts.max_len_identifier <= 0)
        r->opts.max_len_identifier = 130;
    r->session_str = xstrdup(opts->session_str ? opts->session_str : "session");
    r->opts.session_str = r->session_str;
    r->host = *host;
    tc_capacity_init(&r->capacity, 1, 0, NULL);
    tc_buf_init(&r->scratch);
    tc_buf_init(&r->line);
    tc_scan_init(&r->scan);
    tc_scan_init(&r->line_scan);
    return r;
}

static void trial_close_sinks(tc_runner *r, tc_trial *t)
{
    if (t->json_sink)
        r->host.sink_close(r->host.ctx, t->json_sink);
    if (t->csv_sink)
        r->host.sink_close(r->host.ctx, t->csv_sink);
    t->json_sink = t->csv_sink = NULL;
}

static void trial_free(tc_runner *r, tc_trial *t)
{
    trial_close_sinks(r, t);
    free(t->name);
    free(t->custom_name);
    free(t->tag);
    free(t->logdir);
    free(t->error_msg);
    free(t->error_file);
    json_decref(t->config);
    json_decref(t->evaluated_params);
    json_decref(t->last_result);
    free(t->last_text);
    free(t->config_text);
    free(t->id_json);
    free(t->tag_json);
    tc_metrics_free((tc_metrics *)t->metrics);
    if (t->csv)
        tc_csv_free(t->csv);
    tc_ckpts_clear(&t->ckpts);
    free(t);
}

void tc_runner_free(tc_runner *r)
{
    if (!r)
        return;
    for (long i = 0; i < r->ntrials; i++)
        trial_free(r, r->trials[i]);
    free(r->trials);
    for (int i = 0; i < r->nexps; i++) {
        experiment *e = &r->exps[i];
        free((char *)e->opts.name);
        free((char *)e->opts.exp_dir);
        free((char *)e->opts.trainable_name);
        free((char *)e->opts.checkpoint_score_attr);
        free((char *)e->opts.restore_path);
        json_decref(e->stop);
        tc_space_free(e->space);
    }
    free(r->exps);
    free(r->session_str);
    tc_buf_free(&r->scratch);
    tc_buf_free(&r->line);
    tc_scan_free(&r->scan);
    tc_scan_free(&r->line_scan);
    json_decref(r->records);
    free(r);
}

int tc_runner_add_experiment(tc_runner *r, const tc_experiment_opts *opts, tc_space *space,
                             tc_error *err)
{
    experiment *grown = realloc(r->exps, (size_t)(r->nexps + 1) * sizeof *grown);
    if (!grown) {
        tc_space_free(space);
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    }
    r->exps = grown;
    experiment *e = &r->exps[r->nexps];
    memset(e, 0, sizeof *e);
    e->opts = *opts;
    e->opts.name = xstrdup(opts->name);
    e->opts.exp_dir = xstrdup(opts->exp_dir);
    e->opts.trainable_name = xstrdup(opts->trainable_name);
    e->opts.checkpoint_score_attr = xstrdup(opts->checkpoint_score_attr);
    e->opts.restore_path = xstrdup(opts->restore_path);
    e->stop = opts->stop ? json_deep_copy(opts->stop) : NULL;
    e->opts.stop = e->stop;
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
    long n = 0;
    for (long i = 0; i < r->ntrials; i++)
        n += r->trials[i]->status == status;
    return n;
}

/* ------------------------------------------------------------------------ */
/* the journal: events that must survive a killed driver                    */
/* ------------------------------------------------------------------------ */

/* Appends one event (stolen). Journal failures are not fatal to the run:
 * the periodic snapshot still covers the state. */
static void journal(tc_runner *r, json_t *event)
{
    if (!event)
        return;
    if (r->host.journal) {
        tc_buf b;
        tc_buf_init(&b);
        if (tc_json_dump(event, &b, TC_DUMP_COMPACT) == 0 && tc_buf_putc(&b, '\n') == 0)
            r->host.journal(r->host.ctx, b.data, b.len, NULL);
        tc_buf_free(&b);
    }
    json_decref(event);
}

static void journal_status(tc_runner *r, const tc_trial *t)
{
    journal(r, json_pack("{s:s,s:s,s:s,s:i,s:o,s:o}", "event", "status", "trial_id", t->trial_id,
                         "status", tc_status_names[t->status], "num_failures", t->num_failures,
                         "error_msg", t->error_msg ? json_string(t->error_msg) : json_null(),
                         "error_file", t->error_file ? json_string(t->error_file) : json_null()));
}

/* ------------------------------------------------------------------------ */
/* trial generation                                                         */
/* ------------------------------------------------------------------------ */

/* str(trial): <trainable>[_<env>]_<trial_id>, or the custom name (§5.6). */
static int trial_set_name(tc_trial *t, const char *trainable)
{
    tc_buf b;
    tc_buf_init(&b);
    if (t->custom_name) {
        tc_buf_puts(&b, t->custom_name);
    } else {
        tc_buf_puts(&b, trainable);
        const json_t *env = json_object_get(t->config, "env");
        if (env && truthy(env)) {
            tc_buf_putc(&b, '_');
            env_name(env, &b);
        }
        tc_buf_putc(&b, '_');
        tc_buf_puts(&b, t->trial_id);
    }
    if (!b.data)
        return -1;
    if (!t->custom_name)      /* a custom name is the user's, verbatim (§5.6) */
        make_path_safe(b.data);
    free(t->name);
    t->name = b.data;   /* takes the buffer */
    return 0;
}

static int push_trial(tc_runner *r, tc_trial *t, tc_error *err)
{
    if (r->ntrials == r->cap_trials) {
        long cap = r->cap_trials ? r->cap_trials * 2 : 64;
        tc_trial **grown = realloc(r->trials, (size_t)cap * sizeof *grown);
        if (!grown)
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        r->trials = grown;
        r->cap_trials = cap;
    }
    t->index = r->ntrials;
    r->trials[r->ntrials++] = t;
    return 0;
}

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

static int prepare_restart(tc_runner *r, tc_trial *t, long keep_iteration, tc_error *err);

/* Resume: the regenerated trial t takes over its earlier session's record. */
static int apply_record(tc_runner *r, tc_trial *t, const json_t *rec, tc_error *err)
{
    const json_t *old = json_object_get(rec, "tunec_config");
    if (old && !same_config(old, t->config)) {
        tc_buf a, b;
        tc_buf_init(&a);
        tc_buf_init(&b);
        json_t *pa = public_copy(old), *pb = public_copy(t->config);
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
    const char *status = json_string_value(json_object_get(rec, "status"));
    const char *logdir = json_string_value(json_object_get(rec, "logdir"));
    const char *emsg = json_string_value(json_object_get(rec, "error_msg"));
    const char *efile = json_string_value(json_object_get(rec, "error_file"));
    const char *custom = json_string_value(json_object_get(rec, "custom_trial_name"));
    t->num_failures = (int)json_integer_value(json_object_get(rec, "num_failures"));
    t->logdir = xstrdup(logdir);
    t->error_msg = xstrdup(emsg);
    t->error_file = xstrdup(efile);
    if (custom && !t->custom_name) {
        t->custom_name = xstrdup(custom);
        trial_set_name(t, r->exps[t->experiment].opts.trainable_name);
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
    t->status = next;
    /* Finished trials get their metric analysis and last result back from
     * their files; the others are cut back when they restart. */
    if (next != TC_PENDING && t->logdir && prepare_restart(r, t, -2, err) < 0)
        return -1;
    return 0;
}

int tc_runner_set_resume(tc_runner *r, json_t *records, int resume_unfinished,
                         int resume_errored, int restart_errored, tc_error *err)
{
    json_decref(r->records);
    r->records = records;
    r->resume_unfinished = resume_unfinished;
    r->resume_errored = resume_errored;
    r->restart_errored = restart_errored;
    if (records && !json_is_object(records)) {
        json_decref(records);
        r->records = NULL;
        return tc_error_set(err, TC_ERR_VALUE, "resume records must be an object");
    }
    return 0;
}

long tc_runner_resume_pending(const tc_runner *r)
{
    return r->records ? (long)json_object_size(r->records) : 0;
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
            r->next_variant_index = v.index + 1;
            tc_trial *t = calloc(1, sizeof *t);
            if (!t) {
                tc_variant_clear(&v);
                return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
            }
            t->experiment = e;
            snprintf(t->trial_id, sizeof t->trial_id, "%05ld", r->next_trial_number++);
            t->config = v.config;
            v.config = NULL;
            t->evaluated_params = v.evaluated_params;
            v.evaluated_params = NULL;
            t->tag = v.tag;
            v.tag = NULL;
            tc_variant_clear(&v);
            t->metrics = tc_metrics_new();
            t->status = TC_PENDING;
            t->restored_iteration = -1;
            tc_ckpts_init(&t->ckpts);
            if (!t->metrics || trial_set_name(t, ex->opts.trainable_name) < 0 ||
                push_trial(r, t, err) < 0) {
                trial_free(r, t);
                return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
            }
            json_t *record = r->records ? json_object_get(r->records, t->trial_id) : NULL;
            if (record) {
                int rc = apply_record(r, t, record, err);
                json_object_del(r->records, t->trial_id);
                if (rc < 0)
                    return -1;
            }
            added++;
        }
    }
    return added;
}

int tc_runner_generation_done(const tc_runner *r)
{
    if (r->stopping)
        return 1;
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
    free(t->custom_name);
    t->custom_name = xstrdup(name);
    return trial_set_name(t, r->exps[t->experiment].opts.trainable_name);
}

/* ------------------------------------------------------------------------ */
/* scheduling (FIFO, spec §8.1)                                             */
/* ------------------------------------------------------------------------ */

tc_trial *tc_runner_choose(tc_runner *r)
{
    if (r->stopping || r->interrupted)
        return NULL;
    if (r->opts.max_concurrent > 0 && r->running >= r->opts.max_concurrent)
        return NULL;
    for (long i = 0; i < r->ntrials; i++) {
        tc_trial *t = r->trials[i];
        if (t->status == TC_PENDING &&
            tc_capacity_fits(&r->capacity, &r->exps[t->experiment].opts.resources))
            return t;
    }
    return NULL;
}

int tc_runner_blocked(tc_runner *r, tc_error *err)
{
    if (r->running > 0 || r->stopping)
        return 0;
    for (long i = 0; i < r->ntrials; i++) {
        tc_trial *t = r->trials[i];
        if (t->status != TC_PENDING)
            continue;
        const tc_resources *req = &r->exps[t->experiment].opts.resources;
        if (!tc_capacity_can_ever_fit(&r->capacity, req, err))
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
        if (env && truthy(env)) {
            tc_buf_putc(&b, '_');
            env_name(env, &b);
        }
    }
    tc_buf_putc(&b, '_');
    tc_buf_puts(&b, t->tag ? t->tag : "");
    if (!b.data)
        return NULL;
    size_t cut = (size_t)r->opts.max_len_identifier;
    if (b.len > cut) {
        while (cut > 0 && ((unsigned char)b.data[cut] & 0xC0) == 0x80)
            cut--;
        b.len = cut;
        b.data[cut] = '\0';
    }
    char date[32];
    format_date(now, date);
    tc_buf_putc(&b, '_');
    tc_buf_puts(&b, date);
    if (!b.data)
        return NULL;
    make_path_safe(b.data);
    return b.data;
}

static char *join_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int write_params(tc_runner *r, tc_trial *t, tc_error *err)
{
    int rc = -1;
    char *path = join_path(t->logdir, "params.json");
    json_t *pub = public_copy(t->config);
    tc_buf b;
    tc_buf_init(&b);
    if (!path || !pub || tc_json_dump(pub, &b, TC_DUMP_INDENT2_SORTED) < 0) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        goto done;
    }
    rc = r->host.write_atomic(r->host.ctx, path, b.data, b.len, err);
done:
    free(path);
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
    json_t *pub = public_copy(t->config);
    json_t *id = json_string(t->trial_id);
    json_t *tag = t->tag && t->tag[0] ? json_string(t->tag) : NULL;
    free(t->config_text);
    free(t->id_json);
    free(t->tag_json);
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
    if (ex->opts.log_json && !t->json_sink) {
        char *path = join_path(t->logdir, "result.json");
        t->json_sink = path ? r->host.open_sink(r->host.ctx, path, &existed, err) : NULL;
        free(path);
        if (!t->json_sink)
            return -1;
    }
    if (ex->opts.log_csv && !t->csv_sink) {
        char *path = join_path(t->logdir, "progress.csv");
        t->csv_sink = path ? r->host.open_sink(r->host.ctx, path, &existed, err) : NULL;
        free(path);
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

/* keep(): a result.json line the host kept while cutting the files. */
static int replay_line(void *kctx, const char *line, size_t len)
{
    void **pair = kctx;
    tc_runner *r = pair[0];
    tc_trial *t = pair[1];
    if (tc_scan_result(&r->line_scan, line, len, "config", NULL) < 0)
        return 0;   /* a torn line: skip it */
    if (tc_metrics_update_scan((tc_metrics *)t->metrics, &r->line_scan) < 0)
        return -1;
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, line, len);
    copy[len] = '\0';
    free(t->last_text);
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

/* Before a trial runs again (a retry, a resumed session): its result files
 * are cut back to the rows up to keep_iteration (-1: none; -2: all, for a
 * finished trial whose analysis is rebuilt), so no iteration appears twice,
 * and its metric analysis is rebuilt from the rows kept. */
static int prepare_restart(tc_runner *r, tc_trial *t, long keep_iteration, tc_error *err)
{
    trial_close_sinks(r, t);
    tc_metrics_free((tc_metrics *)t->metrics);
    t->metrics = tc_metrics_new();
    if (!t->metrics)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    free(t->last_text);
    t->last_text = NULL;
    t->last_text_len = 0;
    json_decref(t->last_result);
    t->last_result = NULL;
    t->n_results = 0;
    t->last_iteration = 0;
    if (!r->host.cut_results)
        return 0;
    char *header = NULL;
    void *pair[2] = {r, t};
    long limit = keep_iteration == -2 ? LONG_MAX : keep_iteration;
    if (r->host.cut_results(r->host.ctx, t->logdir, limit, replay_line, pair, &header, err) < 0)
        return -1;
    if (t->csv)
        tc_csv_free(t->csv);
    t->csv = tc_csv_new(header);
    free(header);
    if (!t->csv)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    return 0;
}

int tc_runner_start(tc_runner *r, tc_trial *t, long pid, const char *hostname, tc_error *err)
{
    const experiment *ex = &r->exps[t->experiment];
    if (t->status != TC_PENDING)
        return tc_error_set(err, TC_ERR_VALUE, "trial %s is %s, not PENDING", t->name,
                            tc_status_names[t->status]);
    double now = r->host.now(r->host.ctx);
    if (!t->logdir) {
        char *prefix = logdir_prefix(r, t, now);
        if (!prefix)
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        t->logdir = r->host.make_trial_dir(r->host.ctx, ex->opts.exp_dir, prefix, err);
        free(prefix);
        if (!t->logdir || write_params(r, t, err) < 0)
            return -1;
        t->restored_iteration = -1;
        json_t *rec = tc_trial_snapshot(r, t);
        journal(r, json_pack("{s:s,s:o}", "event", "start", "record", rec));
    } else {
        /* A restart: from the newest checkpoint, files cut back to it. */
        const tc_ckpt *k = tc_ckpts_newest(&t->ckpts);
        t->restored_iteration = k ? k->iteration : -1;
        if (prepare_restart(r, t, t->restored_iteration, err) < 0)
            return -1;
    }
    if (open_sinks(r, t, err) < 0 || cache_texts(t, err) < 0)
        return -1;
    tc_capacity_acquire(&r->capacity, &ex->opts.resources, t->gpu_ids, &t->ngpu_ids);
    t->status = TC_RUNNING;
    r->running++;
    if (t->start_time == 0)
        t->start_time = now;
    t->pid = pid;
    snprintf(t->hostname, sizeof t->hostname, "%s", hostname ? hostname : "");
    return 0;
}

/* RUNNING -> another status: gives the resources back, closes the sinks. */
static void leave_running(tc_runner *r, tc_trial *t, tc_status next)
{
    if (t->status == TC_RUNNING) {
        tc_capacity_release(&r->capacity, &r->exps[t->experiment].opts.resources, t->gpu_ids,
                            t->ngpu_ids);
        t->ngpu_ids = 0;
        r->running--;
        trial_close_sinks(r, t);
    }
    t->status = next;
    journal_status(r, t);
}

/* ------------------------------------------------------------------------ */
/* results                                                                  */
/* ------------------------------------------------------------------------ */

json_t *tc_trial_last_result(tc_trial *t)
{
    if (!t->last_result && t->last_text) {
        t->last_result = tc_json_loads(t->last_text, t->last_text_len, NULL);
        if (t->last_result && !json_is_object(t->last_result)) {
            json_decref(t->last_result);
            t->last_result = NULL;
        }
    }
    return t->last_result;
}

/* One splice of the result text: replace [off, off+len) by text. */
typedef struct edit { size_t off, len; const char *text; size_t text_len; } edit;

static void add_edit(edit *e, int *n, size_t off, size_t len, const char *text)
{
    e[*n].off = off;
    e[*n].len = len;
    e[*n].text = text;
    e[*n].text_len = strlen(text);
    (*n)++;
}

/* Builds the result.json line (without "\n") into r->line from the worker's
 * text: the config placeholder replaced by the trial's config, `done` set to
 * the decision, trial_id/experiment_tag put in place (spec §2.2, §6.3). Keys
 * the worker did not send are added before the closing brace. */
static int build_line(tc_runner *r, tc_trial *t, const char *text, size_t len, int stop)
{
    const tc_scan *s = &r->scan;
    edit edits[6];
    int n = 0;
    const char *done_text = stop ? "true" : "false";
    size_t close = len;
    while (close > 0 && text[close - 1] != '}')
        close--;
    close--;   /* the closing brace */
    tc_buf *tail = &r->scratch;
    tc_buf_clear(tail);
    int empty = s->n == 0 && s->skip_off < 0;
    if (s->skip_off >= 0)
        add_edit(edits, &n, (size_t)s->skip_off, (size_t)s->skip_len, t->config_text);
    else if (tc_buf_printf(tail, "%s\"config\": %s", empty ? "" : ", ", t->config_text) < 0)
        return -1;
    else
        empty = 0;
    if (s->done_index >= 0) {
        const tc_field *f = &s->fields[s->done_index];
        add_edit(edits, &n, f->val_off, f->val_len, done_text);
    } else if (tc_buf_printf(tail, "%s\"done\": %s", empty ? "" : ", ", done_text) < 0) {
        return -1;
    } else {
        empty = 0;
    }
    /* trial_id / experiment_tag: the driver's values, in place if the user
     * sent those keys, else at the end. */
    long id = tc_scan_find(s, "trial_id", 8);
    if (id >= 0)
        add_edit(edits, &n, s->fields[id].val_off, s->fields[id].val_len, t->id_json);
    else if (tc_buf_printf(tail, "%s\"trial_id\": %s", empty ? "" : ", ", t->id_json) < 0)
        return -1;
    if (t->tag_json) {
        long tag = tc_scan_find(s, "experiment_tag", 14);
        if (tag >= 0)
            add_edit(edits, &n, s->fields[tag].val_off, s->fields[tag].val_len, t->tag_json);
        else if (tc_buf_printf(tail, ", \"experiment_tag\": %s", t->tag_json) < 0)
            return -1;
    }
    /* Apply the edits in text order, then the tail before the brace. */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && edits[j].off < edits[j - 1].off; j--) {
            edit tmp = edits[j];
            edits[j] = edits[j - 1];
            edits[j - 1] = tmp;
        }
    tc_buf *line = &r->line;
    tc_buf_clear(line);
    size_t pos = 0;
    for (int i = 0; i < n; i++) {
        if (tc_buf_append(line, text + pos, edits[i].off - pos) < 0 ||
            tc_buf_append(line, edits[i].text, edits[i].text_len) < 0)
            return -1;
        pos = edits[i].off + edits[i].len;
    }
    if (tc_buf_append(line, text + pos, close - pos) < 0 ||
        tc_buf_append(line, tail->data ? tail->data : "", tail->len) < 0 ||
        tc_buf_putc(line, '}') < 0)
        return -1;
    return 0;
}

/* Stop rules on the scanned result; the parsed tree is only built for the
 * rare cases the scan cannot answer (a missing key's message, a non-number),
 * so the messages stay those of stopper.c. */
static int check_stop_dict(tc_runner *r, const json_t *criteria, const char *text, size_t len,
                           int *stop, tc_error *err)
{
    const char *key;
    json_t *threshold;
    json_object_foreach((json_t *)criteria, key, threshold) {
        long i = tc_scan_find(&r->scan, key, strlen(key));
        double t;
        const tc_field *f = i >= 0 ? &r->scan.fields[i] : NULL;
        int exact = f && f->is_int && json_is_integer(threshold);
        long long whole = 0;
        if (exact) {   /* int against int: exact, as Python compares them */
            errno = 0;
            whole = strtoll(r->scan.text + f->val_off, NULL, 10);
            exact = errno == 0;
            if (exact && whole >= json_integer_value(threshold)) {
                *stop = 1;
                return 0;
            }
            if (exact)
                continue;
        }
        if (!f || (f->type != TC_F_NUMBER && f->type != TC_F_TRUE && f->type != TC_F_FALSE) ||
            !tc_json_number(threshold, &t) || (f->is_int && json_is_integer(threshold))) {
            json_t *result = tc_json_loads(text, len, err);
            if (!result)
                return -1;
            json_t *one = json_pack("{sO}", key, threshold);
            int rc = tc_stop_check(one, result, stop, err);
            json_decref(one);
            json_decref(result);
            if (rc < 0 || *stop)
                return rc;
            continue;
        }
        if (f->num >= t) {
            *stop = 1;
            return 0;
        }
    }
    return 0;
}

static int log_line(tc_runner *r, tc_trial *t, tc_error *err)
{
    /* r->line must not move: r->line_scan points into it. */
    if (t->json_sink &&
        (r->host.sink_write(r->host.ctx, t->json_sink, r->line.data, r->line.len, err) < 0 ||
         r->host.sink_write(r->host.ctx, t->json_sink, "\n", 1, err) < 0))
        return -1;
    if (t->csv_sink && t->csv) {
        tc_buf_clear(&r->scratch);
        if (tc_csv_row_scan(t->csv, &r->line_scan, &r->scratch, err) < 0)
            return -1;
        if (r->host.sink_write(r->host.ctx, t->csv_sink, r->scratch.data, r->scratch.len, err) < 0)
            return -1;
    }
    return 0;
}

int tc_runner_on_result(tc_runner *r, tc_trial *t, const char *text, size_t len,
                        tc_decision *decision, tc_error *err)
{
    tc_error rule_err;
    int stop = 0;
    *decision = TC_STOP;
    if (t->status != TC_RUNNING)
        return 0;   /* the worker ran ahead of a stop decision */

    tc_error_init(&rule_err);
    if (tc_scan_result(&r->scan, text, len, "config", &rule_err) < 0)
        return tc_runner_on_error(r, t, rule_err.text, err);
    const experiment *ex = &r->exps[t->experiment];
    if (r->scan.done_index >= 0)
        stop = tc_field_truthy(&r->scan, &r->scan.fields[r->scan.done_index]);
    if (!stop && ex->stop && check_stop_dict(r, ex->stop, text, len, &stop, &rule_err) < 0)
        return tc_runner_on_error(r, t, rule_err.text, err);
    if (build_line(r, t, text, len, 0) < 0)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    if (!stop && r->host.trial_stopper) {
        /* A Python stopper sees the result as the loggers will (done False). */
        json_t *result = tc_json_loads(r->line.data, r->line.len, &rule_err);
        int rc = result ? r->host.trial_stopper(r->host.ctx, t->index, result, &stop, &rule_err)
                        : -1;
        json_decref(result);
        if (rc < 0) {
            if (rule_err.code == TC_ERR_CALLBACK)   /* a Python exception: not a trial error */
                return tc_error_set(err, rule_err.code, "%s", rule_err.text);
            return tc_runner_on_error(r, t, rule_err.text, err);
        }
    }
    /* `done` in files means "this result ended the trial" (spec §17.1). */
    if (stop && build_line(r, t, text, len, 1) < 0)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    if (tc_scan_result(&r->line_scan, r->line.data, r->line.len, "config", err) < 0 ||
        log_line(r, t, err) < 0 ||
        tc_metrics_update_scan((tc_metrics *)t->metrics, &r->line_scan) < 0)
        return -1;
    /* Keep the line as the trial's last result; parse it only when asked. */
    char *keep = realloc(t->last_text, r->line.len + 1);
    if (!keep)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    memcpy(keep, r->line.data, r->line.len + 1);
    t->last_text = keep;
    t->last_text_len = r->line.len;
    json_decref(t->last_result);
    t->last_result = NULL;
    t->last_update_time = r->host.now(r->host.ctx);
    t->n_results++;
    r->total_results++;
    long it = tc_scan_find(&r->line_scan, "training_iteration", 18);
    if (it >= 0 && r->line_scan.fields[it].type == TC_F_NUMBER)
        t->last_iteration = (long)r->line_scan.fields[it].num;
    if (stop)
        leave_running(r, t, TC_TERMINATED);
    *decision = stop ? TC_STOP : TC_CONTINUE;
    return 0;
}

int tc_runner_on_complete(tc_runner *r, tc_trial *t, tc_error *err)
{
    if (t->status != TC_RUNNING)
        return 0;
    if (!tc_trial_last_result(t)) {
        /* A function that never reported still ends with done=True (§18.11). */
        t->last_result = json_object();
        json_object_set_new(t->last_result, "trial_id", json_string(t->trial_id));
    }
    json_object_set_new(t->last_result, "done", json_true());
    free(t->last_text);          /* the tree is now the newer form */
    t->last_text = NULL;
    t->last_text_len = 0;
    t->last_update_time = r->host.now(r->host.ctx);
    leave_running(r, t, TC_TERMINATED);
    return 0;
}

static int append_error_file(tc_runner *r, tc_trial *t, const char *message, tc_error *err)
{
    if (!t->logdir)
        return 0;
    char *path = join_path(t->logdir, "error.txt");
    if (!path)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    int existed = 0, rc = -1;
    tc_sink *s = r->host.open_sink(r->host.ctx, path, &existed, err);
    if (s) {
        char date[32];
        format_date(r->host.now(r->host.ctx), date);
        tc_buf b;
        tc_buf_init(&b);
        tc_buf_printf(&b, "Failure # %d (occurred at %s)\n%s\n", t->num_failures, date, message);
        rc = b.data ? r->host.sink_write(r->host.ctx, s, b.data, b.len, err) : -1;
        tc_buf_free(&b);
        r->host.sink_close(r->host.ctx, s);
    }
    free(t->error_file);
    t->error_file = path;
    return rc;
}

int tc_runner_on_error(tc_runner *r, tc_trial *t, const char *message, tc_error *err)
{
    if (t->status != TC_RUNNING && t->status != TC_PENDING)
        return 0;
    const experiment *ex = &r->exps[t->experiment];
    /* should_recover is decided before the failure is counted (§6.4, §18.34). */
    int recover = ex->opts.max_failures < 0 || t->num_failures < ex->opts.max_failures;
    t->num_failures++;
    free(t->error_msg);
    t->error_msg = xstrdup(message);
    t->last_update_time = r->host.now(r->host.ctx);
    int rc = append_error_file(r, t, message, err);
    if (recover && !r->stopping) {
        leave_running(r, t, TC_PENDING);
    } else {
        leave_running(r, t, TC_ERROR);
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
            t->status = TC_TERMINATED;
    }
}

int tc_runner_on_stopped(tc_runner *r, tc_trial *t, tc_error *err)
{
    /* Interrupted trials stay resumable: they restart from their newest
     * checkpoint when the experiment is resumed. */
    if (t->status == TC_RUNNING)
        leave_running(r, t, r->interrupted ? TC_PENDING : TC_TERMINATED);
    return 0;
}

void tc_runner_interrupt(tc_runner *r)
{
    r->interrupted = 1;
}

int tc_runner_interrupted(const tc_runner *r)
{
    return r->interrupted;
}

static void delete_checkpoint_dir(void *ctx, const char *dir)
{
    void **pair = ctx;
    tc_runner *r = pair[0];
    tc_trial *t = pair[1];
    if (!r->host.remove_tree || !t->logdir || strstr(dir, "..") || dir[0] == '/')
        return;   /* never anything outside the trial's directory */
    char *path = join_path(t->logdir, dir);
    if (path)
        r->host.remove_tree(r->host.ctx, path);
    free(path);
}

int tc_runner_on_checkpoint(tc_runner *r, tc_trial *t, const char *dir, const char *path,
                            long iteration, tc_error *err)
{
    const experiment *ex = &r->exps[t->experiment];
    /* A function runs ahead of the driver by a report or two: a checkpoint
     * of an iteration that was never logged (the trial had already been
     * stopped) would resume into missing rows, so it is not registered. */
    if (iteration > t->last_iteration)
        return 0;
    if (!t->logdir || !dir || !path || dir[0] == '/' || strstr(dir, ".."))
        return tc_error_set(err, TC_ERR_VALUE, "trial %s: bad checkpoint location %s",
                            t->trial_id, dir ? dir : "(none)");
    /* Score: the checkpoint_score_attr of the result it follows (§2.5). */
    const char *attr = ex->opts.checkpoint_score_attr ? ex->opts.checkpoint_score_attr
                                                      : "training_iteration";
    int negate = strncmp(attr, "min-", 4) == 0;
    if (negate)
        attr += 4;
    int has_score = 0;
    double score = 0;
    if (t->last_text &&
        tc_scan_result(&r->scan, t->last_text, t->last_text_len, "config", NULL) == 0) {
        long i = tc_scan_find(&r->scan, attr, strlen(attr));
        if (i >= 0 && r->scan.fields[i].type == TC_F_NUMBER) {
            score = negate ? -r->scan.fields[i].num : r->scan.fields[i].num;
            has_score = score == score;
        }
    }
    void *pair[2] = {r, t};
    if (tc_ckpts_add(&t->ckpts, dir, path, iteration, has_score, score,
                     ex->opts.keep_checkpoints_num, delete_checkpoint_dir, pair, err) < 0)
        return -1;
    journal(r, json_pack("{s:s,s:s,s:o}", "event", "checkpoint", "trial_id", t->trial_id,
                         "checkpoints", tc_ckpts_to_json(&t->ckpts)));
    return 0;
}

void tc_trial_restore_source(const tc_runner *r, const tc_trial *t, const char **rel,
                             const char **abs, long *iteration)
{
    const tc_ckpt *k = tc_ckpts_newest(&t->ckpts);
    *rel = k ? k->path : NULL;
    *abs = !k ? r->exps[t->experiment].opts.restore_path : NULL;
    *iteration = k ? k->iteration : -1;
}

int tc_runner_is_finished(const tc_runner *r)
{
    if (r->interrupted)
        return r->running == 0;
    if (!tc_runner_generation_done(r))
        return 0;
    for (long i = 0; i < r->ntrials; i++) {
        tc_status s = r->trials[i]->status;
        if (s == TC_PENDING || s == TC_RUNNING || s == TC_PAUSED)
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------------ */
/* views                                                                    */
/* ------------------------------------------------------------------------ */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *tc_trial_snapshot(const tc_runner *r, tc_trial *t)
{
    const experiment *ex = &r->exps[t->experiment];
    json_t *o = json_object();
    json_object_set_new(o, "trainable_name", json_string(ex->opts.trainable_name));
    json_object_set_new(o, "trial_id", json_string(t->trial_id));
    json_object_set(o, "config", t->config);
    json_object_set_new(o, "local_dir", json_string(ex->opts.exp_dir));
    json_object_set(o, "evaluated_params", t->evaluated_params);
    json_object_set_new(o, "experiment_tag", json_string(t->tag ? t->tag : ""));
    json_object_set_new(o, "resources", tc_resources_to_json(&ex->opts.resources));
    json_object_set_new(o, "stopping_criterion", ex->stop ? json_deep_copy(ex->stop) : json_object());
    json_object_set_new(o, "max_failures", json_integer(ex->opts.max_failures));
    json_object_set_new(o, "num_failures", json_integer(t->num_failures));
    json_object_set_new(o, "status", json_string(tc_status_names[t->status]));
    json_object_set_new(o, "start_time", t->start_time ? json_real(t->start_time) : json_null());
    json_object_set_new(o, "logdir", str_or_null(t->logdir));
    json_t *last = tc_trial_last_result(t);
    json_object_set_new(o, "last_result", last ? json_incref(last) : json_object());
    json_object_set_new(o, "last_update_time", tc_json_real(t->last_update_time ? t->last_update_time
                                                                                : -INFINITY));
    json_object_set_new(o, "metric_analysis", tc_metrics_to_json((const tc_metrics *)t->metrics));
    json_object_set_new(o, "error_file", str_or_null(t->error_file));
    json_object_set_new(o, "error_msg", str_or_null(t->error_msg));
    json_object_set_new(o, "custom_trial_name", str_or_null(t->custom_name));
    json_object_set_new(o, "location", t->pid ? json_pack("[sI]", t->hostname, (json_int_t)t->pid)
                                              : json_null());
    json_object_set_new(o, "n_results", json_integer(t->n_results));
    /* tunec's own resume data: the config with its markers (opaque values by
     * id), the checkpoints, the experiment. */
    json_object_set(o, "tunec_config", t->config);
    json_object_set_new(o, "tunec_checkpoints", tc_ckpts_to_json(&t->ckpts));
    json_object_set_new(o, "tunec_experiment", json_integer(t->experiment));
    const tc_ckpt *newest = tc_ckpts_newest(&t->ckpts);
    json_object_set_new(o, "checkpoint",
                        newest && t->logdir ? json_pack("{s:s,s:I}", "path", newest->path,
                                                        "iteration",
                                                        (json_int_t)newest->iteration)
                                            : json_null());
    return o;
}

json_t *tc_runner_state(const tc_runner *r, double start_time)
{
    json_t *state = json_object();
    json_t *checkpoints = json_array();
    for (long i = 0; i < r->ntrials; i++) {
        json_t *snap = tc_trial_snapshot(r, r->trials[i]);
        /* Files hold the public form of configs (objects as their repr). */
        json_object_set_new(snap, "config", public_copy(r->trials[i]->config));
        json_array_append_new(checkpoints, snap);
    }
    /* A resumed session carries forward the records its spaces have not
     * regenerated yet, so resuming it again finds every trial. */
    if (r->records) {
        const char *id;
        json_t *rec;
        json_object_foreach(r->records, id, rec) {
            json_array_append(checkpoints, rec);
        }
    }
    json_object_set_new(state, "checkpoints", checkpoints);
    double now = r->host.now(r->host.ctx);
    json_t *runner_data = json_object();
    json_object_set_new(runner_data, "_session_str", json_string(r->session_str));
    json_object_set_new(runner_data, "_start_time", json_real(start_time));
    json_object_set_new(runner_data, "_total_results", json_integer(r->total_results));
    json_object_set_new(runner_data, "_fail_fast", json_boolean(r->opts.fail_fast));
    json_object_set_new(runner_data, "_has_errored",
                        json_boolean(tc_runner_count(r, TC_ERROR) > 0));
    json_object_set_new(runner_data, "_local_checkpoint_dir",
                        r->nexps ? json_string(r->exps[0].opts.exp_dir) : json_null());
    json_object_set_new(runner_data, "launch_web_server", json_false());
    json_t *exps = json_array();
    for (int e = 0; e < r->nexps; e++)
        json_array_append_new(exps, json_pack("{s:s,s:I}", "name", r->exps[e].opts.name, "seed",
                                              (json_int_t)r->exps[e].opts.seed));
    json_object_set_new(runner_data, "tunec", json_pack("{s:o,s:b}", "experiments", exps,
                                                        "interrupted", r->interrupted));
    json_object_set_new(state, "runner_data", runner_data);
    json_object_set_new(state, "stats", json_pack("{s:f,s:f}", "start_time", start_time,
                                                  "timestamp", now));
    return state;
}

int tc_runner_write_state(tc_runner *r, double start_time, tc_error *err)
{
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
        rc = name.data ? r->host.write_atomic(r->host.ctx, name.data, b.data, b.len, err)
                       : tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        tc_buf_free(&name);
    }
done:
    json_decref(state);
    tc_buf_free(&b);
    return rc;
}
