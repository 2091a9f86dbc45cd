/* runner_search.c — trials from a searcher (spec §9.4): a model-based
 * search written in the host's language (a Python Searcher), reached
 * through tc_host.search_suggest / search_event, or one of the engine's
 * own (TPESearch: search_space_tpe.c), which runs here without a call into
 * the host per suggestion. Both sit behind a small table of operations
 * (search_ops); the rest of this file does not know which it talks to.
 *
 * The engine decides *when* to ask: only when a trial of the searcher's
 * experiment could start now (none of its trials waits PENDING, the
 * resources fit, max_concurrent is not reached). "No suggestion yet" makes
 * it wait for the next event its searcher hears of (a result, a trial's
 * end) before asking again — or, with nothing running, for the next step
 * of the host's loop. "Finished" ends the searcher's trials; so does
 * num_samples trials made, as Ray's SearchGenerator counts them.
 *
 * Each suggestion is deep-merged over the experiment's config and what is
 * left unresolved there (sample_from, distributions) is resolved by the
 * space code, as Ray's SearchGenerator resolves the merged spec. Its tag is
 * "<n>_<the suggested values>" and its evaluated_params the flattened
 * suggestion.
 *
 * Trials that end (TERMINATED, ERROR) are flagged by tcp_set_status and
 * their searcher hears of them at the next step, before it is asked for a
 * new trial. On resume, the earlier session's records become the
 * searcher's trials again (same ids, same configs), before anything new is
 * asked; the finished ones are delivered as ends again, and the host
 * drops those its restored searcher state had already seen. */
#include <stdlib.h>
#include <string.h>
#include "runner_internal.h"
#include "search_space.h"
#include "space_internal.h"

struct runner_search;

/* What the runner asks of a searcher. suggest: 1 + *config, 0 "not yet",
 * 2 "finished", -1 + err. result: a result line of one of its trials.
 * end: its trial t ended (TERMINATED or ERROR). recovered: its trial t is
 * back from an earlier session's record (before its end, if it had one,
 * is delivered again). */
typedef struct search_ops {
    int (*suggest)(tc_runner *r, void *impl, const char *trial_id, json_t **config,
                   tc_error *err);
    int (*result)(tc_runner *r, void *impl, tc_trial *t, const char *line, size_t len,
                  tc_error *err);
    int (*end)(tc_runner *r, void *impl, tc_trial *t, tc_error *err);
    int (*recovered)(tc_runner *r, void *impl, tc_trial *t, long made, tc_error *err);
    void (*free)(void *impl);
} search_ops;

struct runner_search {
    const search_ops *ops;
    void *impl;            /* the TPE search; NULL for the host's searcher */
    int experiment;
    json_t *spec;          /* the encoded spec ({"config": ...}), owned */
    long max_trials;       /* num_samples; -1: until FINISHED */
    long made;             /* trials from it, recovered ones included */
    int finished;          /* FINISHED said, or max_trials made */
    int waiting;           /* said "not yet": ask after the next event */
    int recovered;         /* resume records turned back into trials */
};

/* ------------------------------------------------------------------------- */
/* the host's searcher                                                        */
/* ------------------------------------------------------------------------- */

static int host_suggest(tc_runner *r, void *impl, const char *trial_id, json_t **config,
                        tc_error *err)
{
    (void)impl;
    return r->host.search_suggest(r->host.ctx, trial_id, config, err);
}

static int host_result(tc_runner *r, void *impl, tc_trial *t, const char *line, size_t len,
                       tc_error *err)
{
    (void)impl;
    double budget;
    int tagged = tcp_sched_bohb_budget(r, t, &budget);
    if (tagged < 0)
        return r->host.search_event(r->host.ctx, TC_EV_RESULT, t->trial_id, line, len, err);
    /* HyperBandForBOHB's hyperband_info, for the searcher's eyes only (the
     * line is already logged): spliced in before the closing brace. */
    size_t end = len;
    while (end > 0 && line[end - 1] != '}')
        end--;
    if (end == 0)
        return tc_error_set(err, TC_ERR_VALUE, "a result line is not a JSON object");
    tc_buf b;
    tc_buf_init(&b);
    int ok = tc_buf_append(&b, line, end - 1) == 0 &&
             tc_buf_printf(&b, "%s\"hyperband_info\": {", end > 2 ? ", " : "") == 0 &&
             (!tagged || tc_buf_printf(&b, "\"budget\": %.17g", budget) == 0) &&
             tc_buf_append(&b, "}}", 2) == 0;
    int rc = ok ? r->host.search_event(r->host.ctx, TC_EV_RESULT, t->trial_id, b.data, b.len,
                                       err)
                : tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    tc_buf_free(&b);
    return rc;
}

static int host_end(tc_runner *r, void *impl, tc_trial *t, tc_error *err)
{
    (void)impl;
    if (t->status == TC_ERROR)
        return r->host.search_event(r->host.ctx, TC_EV_ERROR, t->trial_id, NULL, 0, err);
    if (t->last_text)
        return r->host.search_event(r->host.ctx, TC_EV_COMPLETE, t->trial_id, t->last_text,
                                    t->last_text_len, err);
    json_t *last = tc_trial_last_result(t);
    tc_buf b;
    tc_buf_init(&b);
    if (last && tc_json_dump(last, &b, TC_DUMP_COMPACT) < 0) {
        tc_buf_free(&b);
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    }
    int rc = r->host.search_event(r->host.ctx, TC_EV_COMPLETE, t->trial_id, b.data, b.len, err);
    tc_buf_free(&b);
    return rc;
}

/* The host's searcher restores its own state (tunec/suggest/_bridge.py). */
static int host_recovered(tc_runner *r, void *impl, tc_trial *t, long made, tc_error *err)
{
    (void)r, (void)impl, (void)t, (void)made, (void)err;
    return 0;
}

static void host_free(void *impl)
{
    (void)impl;
}

static const search_ops HOST_OPS = {host_suggest, host_result, host_end, host_recovered,
                                    host_free};

/* ------------------------------------------------------------------------- */
/* the engine's TPE                                                           */
/* ------------------------------------------------------------------------- */

static int tpe_suggest(tc_runner *r, void *impl, const char *trial_id, json_t **config,
                       tc_error *err)
{
    (void)r;
    *config = tc_tpe_search_suggest(impl, trial_id, err);
    return *config ? 1 : -1;
}

/* TPE weighs a trial by its last result only (Ray's on_trial_complete). */
static int tpe_result(tc_runner *r, void *impl, tc_trial *t, const char *line, size_t len,
                      tc_error *err)
{
    (void)r, (void)impl, (void)t, (void)line, (void)len, (void)err;
    return 0;
}

static int tpe_end(tc_runner *r, void *impl, tc_trial *t, tc_error *err)
{
    (void)r;
    return tc_tpe_search_complete(impl, t->trial_id, tc_trial_last_result(t),
                                  t->status == TC_ERROR, err);
}

/* The core is rebuilt from the records: each trial running with its
 * recorded config, then its end (delivered again) completes it; the
 * suggestion count says where the seeded stream goes on. */
static int tpe_recovered(tc_runner *r, void *impl, tc_trial *t, long made, tc_error *err)
{
    (void)r;
    tc_tpe_search_set_made(impl, made);
    return tc_tpe_search_restore_trial(impl, t->trial_id, t->config, err);
}

static void tpe_free(void *impl)
{
    tc_tpe_search_free(impl);
}

static const search_ops TPE_OPS = {tpe_suggest, tpe_result, tpe_end, tpe_recovered, tpe_free};

/* ------------------------------------------------------------------------- */
/* setup                                                                      */
/* ------------------------------------------------------------------------- */

static int set_searcher(tc_runner *r, int experiment, const json_t *spec, long max_trials,
                        const search_ops *ops, void *impl, tc_error *err)
{
    if (experiment < 0 || experiment >= r->nexps)
        return tc_error_set(err, TC_ERR_VALUE, "searcher: no experiment %d", experiment);
    if (r->search)
        return tc_error_set(err, TC_ERR_VALUE, "a run has at most one searcher");
    if (!json_is_object(spec))
        return tc_error_set(err, TC_ERR_VALUE, "searcher: the spec must be an object");
    struct runner_search *s = tc_calloc(1, sizeof *s);
    if (!s || !(s->spec = json_deep_copy(spec))) {
        tc_free(s);
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    }
    s->ops = ops;
    s->impl = impl;
    s->experiment = experiment;
    s->max_trials = max_trials;
    /* Its trials come from the searcher, not from the space. */
    tc_space_free(r->exps[experiment].space);
    r->exps[experiment].space = NULL;
    r->search = s;
    return 0;
}

int tc_runner_set_searcher(tc_runner *r, int experiment, const json_t *spec, long max_trials,
                           tc_error *err)
{
    if (!r->host.search_suggest || !r->host.search_event)
        return tc_error_set(err, TC_ERR_VALUE, "searcher: the host gave no search callbacks");
    return set_searcher(r, experiment, spec, max_trials, &HOST_OPS, NULL, err);
}

int tc_runner_set_tpe_searcher(tc_runner *r, int experiment, const json_t *spec,
                               long max_trials, const json_t *opts, tc_error *err)
{
    if (!json_is_object(spec))
        return tc_error_set(err, TC_ERR_VALUE, "searcher: the spec must be an object");
    /* The searcher's own space when it was given one, else tune.run's config. */
    const json_t *config = json_object_get(opts, "space");
    if (!json_is_object(config))
        config = json_object_get(spec, "config");
    json_t *empty = config ? NULL : json_object();
    tc_tpe_search *tpe = tc_tpe_search_new(config ? config : empty, opts, err);
    json_decref(empty);
    if (!tpe)
        return -1;
    if (set_searcher(r, experiment, spec, max_trials, &TPE_OPS, tpe, err) < 0) {
        tc_tpe_search_free(tpe);
        return -1;
    }
    return 0;
}

int tc_runner_has_searcher(const tc_runner *r)
{
    return r->search != NULL;
}

void tcp_search_free(tc_runner *r)
{
    if (!r->search)
        return;
    r->search->ops->free(r->search->impl);
    json_decref(r->search->spec);
    tc_free(r->search);
    r->search = NULL;
}

int tcp_search_active(const tc_runner *r)
{
    return r->search && (!r->search->finished || r->search_ends > 0);
}

int tcp_search_on_result(tc_runner *r, tc_trial *t, const char *line, size_t len, tc_error *err)
{
    struct runner_search *s = r->search;
    if (!s || t->experiment != s->experiment)
        return 0;
    s->waiting = 0;
    return s->ops->result(r, s->impl, t, line, len, err);
}

int tcp_search_on_pause(tc_runner *r, tc_trial *t, int paused, tc_error *err)
{
    struct runner_search *s = r->search;
    if (!s || t->experiment != s->experiment)
        return 0;
    s->waiting = 0;     /* a pause frees a slot the searcher counts */
    if (s->ops != &HOST_OPS)
        return 0;       /* on_pause/on_unpause are for a Python searcher (TuneBOHB) */
    return r->host.search_event(r->host.ctx, paused ? TC_EV_PAUSE : TC_EV_UNPAUSE,
                                t->trial_id, NULL, 0, err);
}

/* The ends of trials since the last step, in trial order. */
static int deliver_ends(tc_runner *r, tc_error *err)
{
    struct runner_search *s = r->search;
    for (long i = 0; i < r->ntrials && r->search_ends > 0; i++) {
        tc_trial *t = r->trials[i];
        if (!t->search_end_pending)
            continue;
        t->search_end_pending = 0;
        r->search_ends--;
        if (t->experiment != s->experiment) {
            tcp_trial_compact(r, t);
            continue;
        }
        s->waiting = 0;
        if (s->ops->end(r, s->impl, t, err) < 0)
            return -1;
        tcp_trial_compact(r, t);   /* heard: its texts may go to the cold store */
    }
    return 0;
}

static int by_trial_id(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One record of recover(): its trial added back with the recorded config. */
static int recover_one(tc_runner *r, struct runner_search *s, const char *id, const json_t *rec,
                       tc_error *err)
{
    const json_t *config = json_object_get(rec, "tunec_config");
    const json_t *params = json_object_get(rec, "evaluated_params");
    const char *tag = json_string_value(json_object_get(rec, "experiment_tag"));
    char *end = NULL;
    long number = strtol(id, &end, 10);
    if (!json_is_object(config) || !end || *end)
        return tc_error_set(err, TC_ERR_VALUE, "resume: the record of trial %s has no config "
                            "a searcher's trial can restart from", id);
    tc_variant v;
    memset(&v, 0, sizeof v);
    v.config = json_deep_copy(config);
    v.evaluated_params = json_is_object(params) ? json_deep_copy(params) : json_object();
    v.tag = tcp_xstrdup(tag ? tag : "");
    r->next_trial_number = number;
    tc_trial *t = tcp_add_trial(r, s->experiment, &v, err);
    if (!t)
        return -1;
    s->made++;
    int rc = s->ops->recovered(r, s->impl, t, s->made, err);
    if (rc == 0)
        rc = tcp_apply_record(r, t, rec, err);
    if (rc == 0 && t->status == TC_PENDING)
        rc = tcp_sched_on_add(r, t, err);
    return rc;
}

/* Resume: every record is one of the searcher's trials (a run with a
 * searcher has one experiment); they come back in id order, with their
 * recorded configs, and the numbering continues after them. */
static int recover(tc_runner *r, struct runner_search *s, tc_error *err)
{
    s->recovered = 1;
    size_t n = tc_state_count(r->state), k = 0, pos = 0;
    if (n == 0)
        return 0;
    const char **ids = tc_malloc(n * sizeof *ids);
    if (!ids)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    const char *id;
    while (k < n && (id = tc_state_next_id(r->state, &pos)) != NULL)
        ids[k++] = id;   /* valid until the state is freed */
    qsort(ids, n, sizeof *ids, by_trial_id);
    int rc = 0;
    for (k = 0; k < n && rc == 0; k++) {
        json_t *rec = NULL;
        rc = tcp_take_record(r, ids[k], &rec, err);
        if (rc == 0)
            rc = recover_one(r, s, ids[k], rec, err);
        json_decref(rec);
    }
    /* Numbering goes on after the highest id, even past a failed record. */
    long next = 0;
    for (long i = 0; i < r->ntrials; i++) {
        long number = strtol(r->trials[i]->trial_id, NULL, 10);
        if (number + 1 > next)
            next = number + 1;
    }
    r->next_trial_number = next;
    tc_free(ids);
    tc_state_free(r->state);   /* what a failed record left is not carried forward */
    r->state = NULL;
    return rc;
}

/* Deep merge of src's objects into dst (Ray's merge_dicts): src wins. */
static int merge_into(json_t *dst, const json_t *src)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)src, key, value) {
        json_t *have = json_object_get(dst, key);
        if (json_is_object(have) && json_is_object(value) &&
            !json_object_get(value, "$tunec") && !json_object_get(have, "$tunec")) {
            if (merge_into(have, value) < 0)
                return -1;
        } else if (json_object_set_new(dst, key, json_deep_copy(value)) < 0) {
            return -1;
        }
    }
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The suggestion's leaves: pairs [[path, value], ...] for the tag, and
 * {"a/b": value} as evaluated_params. Keys in sorted order. */
static int leaves(const json_t *obj, json_t *path, tc_buf *key, json_t *pairs, json_t *params)
{
    size_t n = json_object_size(obj), k = 0;
    if (n == 0)
        return 0;
    const char **keys = tc_malloc(n * sizeof *keys);
    if (!keys)
        return -1;
    const char *name;
    json_t *value;
    json_object_foreach((json_t *)obj, name, value)
        keys[k++] = name;
    qsort(keys, n, sizeof *keys, key_cmp);
    int rc = 0;
    size_t base = key->len;
    for (k = 0; k < n && rc == 0; k++) {
        value = json_object_get(obj, keys[k]);
        json_t *here = json_copy(path);
        rc = here ? json_array_append_new(here, json_string(keys[k])) : -1;
        key->len = base;
        if (base && rc == 0)
            rc = tc_buf_putc(key, '/');
        if (rc == 0)
            rc = tc_buf_puts(key, keys[k]);
        if (rc == 0 && json_is_object(value) && json_object_size(value) &&
            !json_object_get(value, "$tunec")) {
            rc = leaves(value, here, key, pairs, params);
        } else if (rc == 0) {
            rc = json_array_append_new(pairs, json_pack("[OO]", here, value));
            if (rc == 0)
                rc = json_object_set(params, key->data, value);
        }
        json_decref(here);
    }
    key->len = base;
    if (key->data)
        key->data[base] = '\0';
    tc_free(keys);
    return rc;
}

/* The path ("config/a/0/b") of the first grid_search in v, appended to
 * path; 1 when one was found. Any grid, one value or many: a searcher's
 * trial is one point, as Ray's searchers refuse grid variables. */
static int find_grid(const json_t *v, tc_buf *path)
{
    size_t base = path->len;
    if (tcp_node_kind(v) == TCP_NODE_GRID)
        return 1;
    if (json_is_object(v) && !json_object_get(v, "$tunec")) {
        const char *key;
        json_t *child;
        json_object_foreach((json_t *)v, key, child) {
            if (tc_buf_printf(path, "/%s", key) == 0 && find_grid(child, path))
                return 1;
            path->len = base;
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (tc_buf_printf(path, "/%zu", i) == 0 && find_grid(json_array_get(v, i), path))
                return 1;
            path->len = base;
        }
    }
    return 0;
}

/* A trial from one suggestion (stolen). */
static int add_suggested(tc_runner *r, struct runner_search *s, json_t *suggested,
                         tc_eval_fn fn, void *ctx, tc_error *err)
{
    json_t *spec = json_deep_copy(s->spec);
    json_t *config = spec ? json_object_get(spec, "config") : NULL;
    if (spec && !config) {
        config = json_object();
        json_object_set_new(spec, "config", config);
    }
    if (!config || merge_into(config, suggested) < 0) {
        json_decref(spec);
        json_decref(suggested);
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    }
    tc_buf grid;
    tc_buf_init(&grid);
    if (tc_buf_puts(&grid, "config") == 0 && find_grid(config, &grid)) {
        json_decref(spec);
        json_decref(suggested);
        tc_error_set(err, TC_ERR_VALUE, "%s: grid_search cannot be combined with a searcher "
                     "(search_alg=...): give the searcher the values to try, or use the "
                     "default BasicVariantGenerator", grid.data);
        tc_buf_free(&grid);
        return -1;
    }
    tc_buf_free(&grid);
    tc_space *space = tc_space_new(spec, 1, r->exps[s->experiment].opts.seed +
                                   (uint64_t)r->next_trial_number, err);
    json_decref(spec);
    if (!space) {
        json_decref(suggested);
        return -1;
    }
    tc_space_set_next_index(space, s->made + 1);
    tc_variant v;
    memset(&v, 0, sizeof v);
    int got = tc_space_next(space, fn, ctx, &v, err);
    tc_space_free(space);
    if (got <= 0) {
        json_decref(suggested);
        return got < 0 ? -1 : tc_error_set(err, TC_ERR_VALUE, "searcher: empty config");
    }
    /* Ray's tag and evaluated_params come from the suggestion itself. */
    json_t *pairs = json_array(), *params = json_object(), *root = json_pack("[s]", "config");
    tc_buf key, tag;
    tc_buf_init(&key);
    tc_buf_init(&tag);
    int rc = (pairs && params && root && tc_buf_puts(&key, "") == 0) ?
             leaves(suggested, root, &key, pairs, params) : -1;
    if (rc == 0)
        rc = tc_buf_printf(&tag, "%ld", s->made + 1);
    if (rc == 0 && json_array_size(pairs))
        rc = (tc_buf_putc(&tag, '_') < 0 || tc_format_vars(pairs, &tag) < 0) ? -1 : 0;
    json_decref(pairs);
    json_decref(root);
    json_decref(suggested);
    tc_buf_free(&key);
    if (rc < 0 || !tag.data) {
        json_decref(params);
        tc_buf_free(&tag);
        tc_variant_clear(&v);
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    }
    json_decref(v.evaluated_params);
    v.evaluated_params = params;
    tc_free(v.tag);
    v.tag = tag.data;     /* the buffer's memory is the tag */
    tc_trial *t = tcp_add_trial(r, s->experiment, &v, err);
    if (!t)
        return -1;
    s->made++;
    /* Journaled now: a driver killed before the trial starts still finds
     * it on resume (its searcher has already given it out). */
    json_t *rec = tc_trial_snapshot(r, t);
    tcp_journal(r, json_pack("{s:s,s:o}", "event", "start", "record", rec));
    return tcp_sched_on_add(r, t, err);
}

/* 1 when a trial of the searcher's experiment could start now. */
static int could_start(tc_runner *r, const struct runner_search *s)
{
    if (r->stopping || r->interrupted)
        return 0;
    if (r->opts.max_concurrent > 0 && r->running >= r->opts.max_concurrent)
        return 0;
    for (long i = r->ntrials - 1; i >= 0; i--) {
        const tc_trial *t = r->trials[i];
        if (t->experiment == s->experiment && t->status == TC_PENDING)
            return 0;     /* one waits already */
    }
    return tc_capacity_fits(&r->capacity, &r->exps[s->experiment].opts.resources);
}

static int runner_search_step_impl(tc_runner *r, tc_eval_fn fn, void *ctx, tc_error *err);

/* The journal events it wrote are checked once, at the end: a lost one
 * fails the call (runner.c tcp_journal). */
int tc_runner_search_step(tc_runner *r, tc_eval_fn fn, void *ctx, tc_error *err)
{
    return tcp_journal_check(r, runner_search_step_impl(r, fn, ctx, err), err);
}

static int runner_search_step_impl(tc_runner *r, tc_eval_fn fn, void *ctx, tc_error *err)
{
    struct runner_search *s = r->search;
    if (!s)
        return 0;
    if (!s->recovered && recover(r, s, err) < 0)
        return -1;
    if (r->search_ends > 0 && deliver_ends(r, err) < 0)
        return -1;
    if (s->max_trials >= 0 && s->made >= s->max_trials)
        s->finished = 1;
    if (s->finished || (s->waiting && r->running > 0) || !could_start(r, s))
        return 0;
    char trial_id[32];
    snprintf(trial_id, sizeof trial_id, "%05ld", r->next_trial_number);
    json_t *suggested = NULL;
    int rc = s->ops->suggest(r, s->impl, trial_id, &suggested, err);
    if (rc < 0)
        return -1;
    if (rc == 2) {
        s->finished = 1;
        return 0;
    }
    if (rc == 0 || !suggested) {
        json_decref(suggested);
        s->waiting = 1;
        return 0;
    }
    s->waiting = 0;
    if (!json_is_object(suggested)) {
        json_decref(suggested);
        return tc_error_set(err, TC_ERR_VALUE, "searcher: suggest(%s) must return a dict, None "
                            "or Searcher.FINISHED", trial_id);
    }
    return add_suggested(r, s, suggested, fn, ctx, err) < 0 ? -1 : 1;
}
