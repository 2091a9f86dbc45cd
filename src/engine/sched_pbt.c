/* sched_pbt.c — PopulationBasedTraining (spec §8.5, §18.23, §18.24): the
 * decision core of Ray 0.8's pbt.py. The runner does the cloning itself
 * (save, restore, reset_config, log files); this file decides when and what.
 *
 * At a result where time - last_perturbation_time >= perturbation_interval
 * the trial's score (metric_op * metric) and time are recorded and the
 * population still running with a score is ranked: the bottom k trials
 * (k = ceil(n * quantile_fraction), at most n/2) clone a random one of the
 * top k. A top trial checkpoints in memory at that moment; a bottom trial
 * whose donor has no such checkpoint skips the clone. The clone's config is
 * explore(donor config): per mutated key a list moves to a neighbouring value
 * or is resampled, a callable is resampled or multiplied by 1.2 / 0.8 (ints
 * kept by truncation), a dict recurses; then custom_explore_fn.
 *
 * Randomness: Python's random.random() is tc_rng_uniform and
 * random.choice(seq) is seq[tc_rng_below(len)], drawn in Ray's order (the
 * first draw of a list mutation happens even when the value is not in the
 * list); domain resampling draws from the same stream (domain.c).
 *
 * Invariants: every known trial has an orig_tag and a config (deep copies
 * the core owns); trials are ranked in add order before the stable sort
 * (Ray's dict order), NaN scores lowest (sched.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sched.h"
#include "space_internal.h"

typedef struct pbt_trial {
    int known;
    char *orig_tag;
    json_t *config;
    int has_score;
    double last_score;
    int has_checkpoint;
    double last_perturbation_time;
    json_t *last_iter;       /* training_iteration of the last result, or NULL */
} pbt_trial;

struct tc_pbt {
    double interval, qf, resample_p, metric_op;
    int log_config;
    json_t *mutations;
    tc_pbt_explore_fn custom;
    void *custom_ctx;
    tc_pbt_sample_fn sample;
    void *sample_ctx;
    pbt_trial *t;
    size_t ntrials;
    long *order;             /* known trials in add order */
    size_t norder, order_cap;
    long num_checkpoints, num_perturbations;
    tc_rng rng;
};

static int nomem(tc_error *err)
{
    return tc_error_set(err, TC_ERR_NOMEM, "out of memory in the PBT scheduler");
}

/* The tunec node kind of a mutation value: a "$tunec" domain or fn node is
 * Ray's callable; any other dict nests. */
static int is_callable(const json_t *v)
{
    int k = tcp_node_kind(v);
    return k == TCP_NODE_DOMAIN || k == TCP_NODE_FN;
}

/* Appends the rendered path, e.g. hyperparam_mutations["opt"]["lr"]. */
static const char *render(const json_t *path, tc_buf *b)
{
    tc_buf_clear(b);
    if (tcp_path_render(path, b) < 0 || !b->data)
        return "?";
    return b->data;
}

static int validate(const json_t *muts, json_t *path, int have_sample, tc_buf *b, tc_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)muts, key, v) {
        int rc = 0;
        if (json_array_append_new(path, json_string(key)) < 0)
            return nomem(err);
        if (json_is_array(v)) {
            if (json_array_size(v) == 0)
                rc = tc_error_set(err, TC_ERR_VALUE, "%s: a hyperparam_mutations list needs at "
                                  "least one value", render(path, b));
        } else if (json_is_object(v) && !json_object_get(v, "$tunec")) {
            rc = validate(v, path, have_sample, b, err);
        } else if (is_callable(v)) {
            if (tcp_node_kind(v) == TCP_NODE_FN && !have_sample)
                rc = tc_error_set(err, TC_ERR_VALUE, "%s: no sampler for a callable mutation",
                                  render(path, b));
            else
                rc = tcp_space_validate(v, path, err);
        } else {
            rc = tc_error_set(err, TC_ERR_VALUE, "%s: `hyperparam_mutation` values must be either "
                              "a List, Dict, or callable.", render(path, b));
        }
        json_array_remove(path, json_array_size(path) - 1);
        if (rc < 0)
            return -1;
    }
    return 0;
}

tc_pbt *tc_pbt_new(const tc_pbt_opts *o, tc_error *err)
{
    tc_pbt *p = NULL;
    json_t *path = NULL;
    tc_buf b;
    int rc;
    tc_buf_init(&b);
    if (o->mutations && !json_is_object(o->mutations)) {
        tc_error_set(err, TC_ERR_VALUE, "hyperparam_mutations must be a dict");
        return NULL;
    }
    path = json_pack("[s]", "hyperparam_mutations");
    if (!path) {
        nomem(err);
        return NULL;
    }
    rc = o->mutations ? validate(o->mutations, path, o->sample_fn != NULL, &b, err) : 0;
    json_decref(path);
    tc_buf_free(&b);
    if (rc < 0)
        return NULL;
    if ((!o->mutations || json_object_size(o->mutations) == 0) && !o->custom_explore) {
        tc_error_set(err, TC_ERR_TUNE, "You must specify at least one of `hyperparam_mutations` "
                     "or `custom_explore_fn` to use PBT.");
        return NULL;
    }
    if (!(o->quantile_fraction >= 0 && o->quantile_fraction <= 0.5)) {
        tc_error_set(err, TC_ERR_VALUE, "You must set `quantile_fraction` to a value between 0 "
                     "and 0.5. Current value: '%g'", o->quantile_fraction);
        return NULL;
    }
    p = tc_calloc(1, sizeof *p);
    if (!p || !(p->mutations = o->mutations ? json_deep_copy(o->mutations) : json_object())) {
        tc_free(p);
        nomem(err);
        return NULL;
    }
    p->interval = o->perturbation_interval;
    p->qf = o->quantile_fraction;
    p->resample_p = o->resample_probability;
    p->metric_op = o->mode_max ? 1.0 : -1.0;
    p->log_config = o->log_config;
    p->custom = o->custom_explore;
    p->custom_ctx = o->custom_ctx;
    p->sample = o->sample_fn;
    p->sample_ctx = o->sample_ctx;
    tc_rng_seed(&p->rng, o->seed);
    return p;
}

static void trial_clear(pbt_trial *t)
{
    tc_free(t->orig_tag);
    json_decref(t->config);
    json_decref(t->last_iter);
    memset(t, 0, sizeof *t);
}

void tc_pbt_free(tc_pbt *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ntrials; i++)
        trial_clear(&p->t[i]);
    tc_free(p->t);
    tc_free(p->order);
    json_decref(p->mutations);
    tc_free(p);
}

int tc_pbt_on_add(tc_pbt *p, long trial, const char *tag, const json_t *config, tc_error *err)
{
    size_t need = (size_t)trial + 1;
    pbt_trial *t;
    char *tag_copy;
    json_t *cfg;
    if (trial < 0)
        return tc_error_set(err, TC_ERR_VALUE, "trial index must be >= 0, got %ld", trial);
    if (need > p->ntrials) {
        size_t n = p->ntrials ? p->ntrials : 64;
        pbt_trial *g;
        while (n < need)
            n *= 2;
        g = tc_realloc(p->t, n * sizeof *g);
        if (!g)
            return nomem(err);
        memset(g + p->ntrials, 0, (n - p->ntrials) * sizeof *g);
        p->t = g;
        p->ntrials = n;
    }
    t = &p->t[trial];
    if (!t->known) {
        if (p->norder == p->order_cap) {
            size_t cap = p->order_cap ? p->order_cap * 2 : 64;
            long *g = tc_realloc(p->order, cap * sizeof *g);
            if (!g)
                return nomem(err);
            p->order = g;
            p->order_cap = cap;
        }
        p->order[p->norder++] = trial;
    }
    tag_copy = tc_strdup(tag ? tag : "");
    cfg = config ? json_deep_copy(config) : json_object();
    if (!tag_copy || !cfg) {
        tc_free(tag_copy);
        json_decref(cfg);
        return nomem(err);
    }
    trial_clear(t);          /* PBTTrialState(trial): a fresh state */
    t->known = 1;
    t->orig_tag = tag_copy;
    t->config = cfg;
    return 0;
}

static pbt_trial *known(const tc_pbt *p, long trial, tc_error *err)
{
    if (trial < 0 || (size_t)trial >= p->ntrials || !p->t[trial].known) {
        tc_error_set(err, TC_ERR_VALUE, "trial %ld was not added to PBT", trial);
        return NULL;
    }
    return &p->t[trial];
}

/* ------------------------------------------------------------------------- */
/* explore                                                                    */
/* ------------------------------------------------------------------------- */

static int is_num(const json_t *v)
{
    return json_is_integer(v) || json_is_real(v) || json_is_boolean(v) || tc_json_is_number_marker(v);
}

static double num_of(const json_t *v)
{
    double d = 0;
    if (json_is_boolean(v))
        return json_is_true(v) ? 1.0 : 0.0;
    tc_json_number(v, &d);
    return d;
}

/* Python's == on JSON values: numbers across int/float/bool by exact value
 * (NaN equals nothing), strings by content, containers element-wise. */
static int py_eq(const json_t *a, const json_t *b)
{
    if (is_num(a) && is_num(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        if (json_is_integer(a) || json_is_integer(b)) {
            json_int_t i = json_integer_value(json_is_integer(a) ? a : b);
            double d = num_of(json_is_integer(a) ? b : a);
            /* exact int/float comparison, as Python does */
            return d == trunc(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
                   (json_int_t)d == i;
        }
        return num_of(a) == num_of(b);
    }
    if (json_typeof(a) != json_typeof(b))
        return 0;
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_NULL:
        return 1;
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!py_eq(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    case JSON_OBJECT: {
        const char *k;
        json_t *v;
        if (json_object_size(a) != json_object_size(b))
            return 0;
        json_object_foreach((json_t *)a, k, v) {
            json_t *w = json_object_get(b, k);
            if (!w || !py_eq(v, w))
                return 0;
        }
        return 1;
    }
    default:
        return 0;
    }
}

static const char *py_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING: return "str";
    case JSON_ARRAY: return "list";
    case JSON_OBJECT: return "dict";
    case JSON_NULL: return "NoneType";
    default: return "number";
    }
}

/* config[key] * factor: a new reference (cur borrowed). */
static json_t *perturb(const json_t *cur, double factor, const json_t *path, tc_error *err)
{
    tc_buf b;
    json_t *v;
    if (!is_num(cur)) {
        tc_buf_init(&b);
        tc_error_set(err, TC_ERR_TYPE, "%s: cannot perturb a value of type %s by %g (a callable "
                     "mutation needs a number)", render(path, &b), py_type(cur), factor);
        tc_buf_free(&b);
        return NULL;
    }
    v = tc_json_real(num_of(cur) * factor);
    if (!v)
        nomem(err);
    return v;
}

/* int(v) of Python: floats truncate, ints and bools stay (new reference;
 * v stolen). */
static json_t *to_int(json_t *v, const json_t *path, tc_error *err)
{
    tc_buf b;
    double d;
    json_t *out = NULL;
    const char *why = NULL;
    if (json_is_integer(v))
        return v;
    if (json_is_boolean(v))
        out = json_integer(json_is_true(v));
    else if (json_is_real(v) || tc_json_is_number_marker(v)) {
        d = trunc(num_of(v));
        if (isnan(d))
            why = "cannot convert float NaN to integer";
        else if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
            why = "the value does not fit a 64-bit integer";
        else
            out = json_integer((json_int_t)d);
    } else {
        why = "the new value is not a number";
    }
    json_decref(v);
    if (why) {
        tc_buf_init(&b);
        tc_error_set(err, TC_ERR_VALUE, "%s: %s (the original value was an int)",
                     render(path, &b), why);
        tc_buf_free(&b);
        return NULL;
    }
    if (!out)
        nomem(err);
    return out;
}

/* distribution() of a callable mutation: new reference (dist borrowed). */
static json_t *resample(tc_pbt *p, const json_t *dist, const json_t *path, tc_error *err)
{
    if (tcp_node_kind(dist) == TCP_NODE_FN)
        return p->sample(p->sample_ctx, json_integer_value(json_object_get(dist, "id")), err);
    return tcp_domain_sample(dist, &p->rng, path, err);
}

/* Index of the first element == v, or -1 (list.index / `in`). */
static long py_index(const json_t *list, const json_t *v)
{
    for (size_t i = 0; i < json_array_size(list); i++)
        if (py_eq(json_array_get(list, i), v))
            return (long)i;
    return -1;
}

/* explore() without the custom function: a new reference; config, muts
 * borrowed; path (borrowed scratch) names the config path in errors. */
static json_t *explore_rec(tc_pbt *p, const json_t *config, const json_t *muts, json_t *path,
                           tc_error *err)
{
    json_t *out = NULL, *v = NULL, *dist;
    const char *key;
    tc_buf b;
    tc_buf_init(&b);
    if (!json_is_object(config)) {
        tc_error_set(err, TC_ERR_TYPE, "%s must be a dict to apply nested hyperparam_mutations",
                     render(path, &b));
        goto fail;
    }
    if (!(out = json_deep_copy(config)))
        goto oom;
    json_object_foreach((json_t *)muts, key, dist) {
        const json_t *cur = json_object_get(config, key);
        if (json_array_append_new(path, json_string(key)) < 0)
            goto oom;
        /* A list mutation that resamples never reads config[key] (Python's
         * `or` short-circuits), so a missing key fails only otherwise. */
        if (!cur && !(json_is_array(dist) && tc_rng_uniform(&p->rng) < p->resample_p)) {
            tc_error_set(err, TC_ERR_VALUE, "%s: the key of hyperparam_mutations is not in the "
                         "config", render(path, &b));
            goto fail;
        }
        if (json_is_array(dist)) {
            size_t n = json_array_size(dist);
            long i = cur ? py_index(dist, cur) : -1;
            if (!cur || tc_rng_uniform(&p->rng) < p->resample_p || i < 0)
                v = json_array_get(dist, tc_rng_below(&p->rng, n));
            else if (tc_rng_uniform(&p->rng) > 0.5)
                v = json_array_get(dist, i > 0 ? (size_t)i - 1 : 0);
            else
                v = json_array_get(dist, (size_t)i + 1 < n ? (size_t)i + 1 : n - 1);
            if (!(v = json_deep_copy(v)))
                goto oom;
        } else if (is_callable(dist)) {
            if (tc_rng_uniform(&p->rng) < p->resample_p)
                v = resample(p, dist, path, err);
            else
                v = perturb(cur, tc_rng_uniform(&p->rng) > 0.5 ? 1.2 : 0.8, path, err);
            if (v && json_is_integer(cur))
                v = to_int(v, path, err);
        } else {
            v = explore_rec(p, cur, dist, path, err);
        }
        if (!v)
            goto fail;
        if (json_object_set_new(out, key, v) < 0)
            goto oom;
        v = NULL;
        json_array_remove(path, json_array_size(path) - 1);
    }
    tc_buf_free(&b);
    return out;
oom:
    nomem(err);
fail:
    tc_buf_free(&b);
    json_decref(out);
    return NULL;
}

/* config borrowed; new reference */
json_t *tc_pbt_explore(tc_pbt *p, const json_t *config, tc_error *err)
{
    json_t *path = json_pack("[s]", "config"), *out, *custom;
    if (!path) {
        nomem(err);
        return NULL;
    }
    out = explore_rec(p, config, p->mutations, path, err);
    json_decref(path);
    if (!out || !p->custom)
        return out;
    custom = p->custom(p->custom_ctx, out, err);
    json_decref(out);
    if (!custom) {
        tc_error_set(err, TC_ERR_CALLBACK, "custom_explore_fn failed");
        return NULL;
    }
    if (json_is_null(custom)) {
        json_decref(custom);
        tc_error_set(err, TC_ERR_TUNE, "Custom explore fn failed to return new config");
        return NULL;
    }
    return custom;
}

/* ------------------------------------------------------------------------- */
/* tags and log lines                                                         */
/* ------------------------------------------------------------------------- */

/* config borrowed */
int tc_pbt_make_tag(const tc_pbt *p, const char *orig_tag, const json_t *config, tc_buf *out,
                    tc_error *err)
{
    json_t *vars = json_array(), *v;
    const char *key;
    int rc = -1;
    if (!vars)
        return nomem(err);
    json_object_foreach(p->mutations, key, v) {
        json_t *val = json_object_get(config, key);
        (void)v;
        if (!val) {
            tc_error_set(err, TC_ERR_VALUE, "config[\"%s\"]: a mutated key is missing from the "
                         "explored config", key);
            goto done;
        }
        if (json_array_append_new(vars, json_pack("[[ss]O]", "config", key, val)) < 0)
            goto oom;
    }
    if (tc_buf_puts(out, orig_tag) < 0 || tc_buf_puts(out, "@perturbed[") < 0 ||
        tc_format_vars(vars, out) < 0 || tc_buf_putc(out, ']') < 0)
        goto oom;
    rc = 0;
    goto done;
oom:
    nomem(err);
done:
    json_decref(vars);
    return rc;
}

/* every json_t borrowed */
int tc_pbt_log_line(const char *target_tag, const char *clone_tag, const json_t *target_iter,
                    const json_t *clone_iter, const json_t *old_config, const json_t *new_config,
                    tc_buf *out)
{
    json_t *zero = json_integer(0);
    json_t *line = json_pack("[ssOOOO]", target_tag, clone_tag,
                             target_iter ? target_iter : zero, clone_iter ? clone_iter : zero,
                             old_config, new_config);
    int rc = line ? tc_json_dump(line, out, TC_DUMP_COMPACT) : -1;
    json_decref(line);
    json_decref(zero);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* decisions                                                                  */
/* ------------------------------------------------------------------------- */

void tc_pbt_step_init(tc_pbt_step *s)
{
    memset(s, 0, sizeof *s);
    s->decision = TC_SCHED_CONTINUE;
    s->clone_from = -1;
    s->skipped_donor = -1;
}

void tc_pbt_step_clear(tc_pbt_step *s)
{
    json_decref(s->new_config);
    tc_free(s->new_tag);
    tc_free(s->log_line);
    tc_pbt_step_init(s);
}

static int is_finished(const tc_sched_view *view, long trial)
{
    int st = view->status(view->ctx, trial);
    return st == TC_SCHED_ST_TERMINATED || st == TC_SCHED_ST_ERROR;
}

/* _quantiles: the scored, unfinished trials sorted by score into ids (the
 * caller frees); lower = ids[0, *lo_end), upper = ids[*up_start, *n). */
static long *quantiles(const tc_pbt *p, const tc_sched_view *view, size_t *n, size_t *lo_end,
                       size_t *up_start, tc_error *err)
{
    long *ids = tc_malloc((p->norder ? p->norder : 1) * sizeof *ids);
    double *keys = tc_malloc((p->norder ? p->norder : 1) * sizeof *keys);
    size_t m = 0, k;
    if (!ids || !keys)
        goto oom;
    for (size_t i = 0; i < p->norder; i++) {
        const pbt_trial *t = &p->t[p->order[i]];
        if (t->has_score && !is_finished(view, p->order[i])) {
            ids[m] = p->order[i];
            keys[m++] = t->last_score;
        }
    }
    if (tc_sched_sort_by_key(ids, keys, m, 0) < 0)
        goto oom;
    tc_free(keys);
    *n = m;
    if (m <= 1) {
        *lo_end = 0;
        *up_start = m;        /* both empty */
        return ids;
    }
    k = (size_t)ceil((double)m * p->qf);
    if ((double)k > (double)m / 2.0)
        k = m / 2;
    *lo_end = k;
    *up_start = k ? m - k : 0;    /* k == 0: trials[-0:] is every trial */
    return ids;
oom:
    tc_free(ids);
    tc_free(keys);
    nomem(err);
    return NULL;
}

/* _exploit(trial, donor) */
static int exploit(tc_pbt *p, long trial, long donor, const tc_sched_view *view,
                   tc_pbt_step *out, tc_error *err)
{
    pbt_trial *t = &p->t[trial], *d = &p->t[donor];
    json_t *cfg = NULL;
    tc_buf tag, line;
    int rc = -1;
    if (!d->has_checkpoint || (view->clone_ready && !view->clone_ready(view->ctx, donor))) {
        out->skipped_donor = donor;
        return 0;
    }
    tc_buf_init(&tag);
    tc_buf_init(&line);
    if (!(cfg = tc_pbt_explore(p, d->config, err)))
        goto done;
    if (p->log_config && tc_pbt_log_line(t->orig_tag, d->orig_tag, t->last_iter, d->last_iter,
                                         d->config, cfg, &line) < 0) {
        nomem(err);
        goto done;
    }
    if (tc_pbt_make_tag(p, t->orig_tag, cfg, &tag, err) < 0)
        goto done;
    out->new_tag = tc_strdup(tag.data ? tag.data : "");
    out->log_line = p->log_config ? tc_strdup(line.data ? line.data : "") : NULL;
    out->new_config = json_deep_copy(cfg);
    if (!out->new_tag || (p->log_config && !out->log_line) || !out->new_config) {
        nomem(err);
        goto done;
    }
    out->clone_from = donor;
    p->num_perturbations++;
    t->last_perturbation_time = d->last_perturbation_time;
    json_decref(t->config);
    t->config = cfg;          /* trial.config = new_config */
    cfg = NULL;
    rc = 0;
done:
    json_decref(cfg);
    tc_buf_free(&tag);
    tc_buf_free(&line);
    return rc;
}

static int set_iter(pbt_trial *t, const json_t *iteration, tc_error *err)
{
    json_t *copy = iteration ? json_deep_copy(iteration) : NULL;
    if (iteration && !copy)
        return nomem(err);
    json_decref(t->last_iter);
    t->last_iter = copy;
    return 0;
}

int tc_pbt_on_result(tc_pbt *p, long trial, const tc_pbt_result *r, const tc_sched_view *view,
                     tc_pbt_step *out, tc_error *err)
{
    pbt_trial *t = known(p, trial, err);
    long *ids = NULL;
    size_t n = 0, lo_end = 0, up_start = 0, pos;
    int rc = -1;
    tc_pbt_step_clear(out);
    if (!t)
        return -1;
    if (!r->has_value || r->time - t->last_perturbation_time < p->interval) {
        rc = 0;               /* CONTINUE: avoid checkpoint overhead */
        goto done;
    }
    t->last_score = p->metric_op * r->metric;
    t->has_score = 1;
    t->last_perturbation_time = r->time;
    if (!(ids = quantiles(p, view, &n, &lo_end, &up_start, err)))
        goto done;
    for (pos = 0; pos < n && ids[pos] != trial; pos++)
        ;
    if (pos < n && pos >= up_start) {
        t->has_checkpoint = 1;
        p->num_checkpoints++;
        out->checkpoint = 1;
    } else {
        t->has_checkpoint = 0;
    }
    if (pos < lo_end) {
        long donor = ids[up_start + tc_rng_below(&p->rng, n - up_start)];
        if (exploit(p, trial, donor, view, out, err) < 0)
            goto done;
    }
    for (size_t i = 0; i < p->norder; i++) {
        int st = view->status(view->ctx, p->order[i]);
        if (st == TC_SCHED_ST_PENDING || st == TC_SCHED_ST_PAUSED) {
            out->decision = TC_SCHED_PAUSE;   /* yield time to other trials */
            break;
        }
    }
    rc = 0;
done:
    tc_free(ids);
    /* the runner updates trial.last_result after the scheduler callback */
    if (t && set_iter(t, r->iteration, err) < 0)
        rc = -1;
    if (rc < 0)
        tc_pbt_step_clear(out);
    return rc;
}

int tc_pbt_on_complete(tc_pbt *p, long trial, const json_t *iteration, tc_error *err)
{
    pbt_trial *t = known(p, trial, err);
    return t ? set_iter(t, iteration, err) : -1;
}

long tc_pbt_choose(const tc_pbt *p, const tc_sched_view *view)
{
    long best = -1;
    double bk = 0;
    for (size_t i = 0; i < p->norder; i++) {
        long id = p->order[i];
        int st = view->status(view->ctx, id);
        double k = p->t[id].last_perturbation_time;
        if ((st != TC_SCHED_ST_PENDING && st != TC_SCHED_ST_PAUSED) ||
            !view->has_resources(view->ctx, id))
            continue;
        if (best < 0 || (!isnan(k) && (isnan(bk) || k < bk))) {
            best = id;
            bk = k;
        }
    }
    return best;
}

int tc_pbt_debug_string(const tc_pbt *p, tc_buf *out)
{
    return tc_buf_printf(out, "PopulationBasedTraining: %ld checkpoints, %ld perturbs",
                         p->num_checkpoints, p->num_perturbations);
}

void tc_pbt_reset_stats(tc_pbt *p)
{
    p->num_checkpoints = 0;
    p->num_perturbations = 0;
}

long tc_pbt_num_checkpoints(const tc_pbt *p)
{
    return p->num_checkpoints;
}

long tc_pbt_num_perturbations(const tc_pbt *p)
{
    return p->num_perturbations;
}

int tc_pbt_last_score(const tc_pbt *p, long trial, double *out)
{
    if (trial < 0 || (size_t)trial >= p->ntrials || !p->t[trial].known || !p->t[trial].has_score)
        return 0;
    *out = p->t[trial].last_score;
    return 1;
}

const json_t *tc_pbt_config(const tc_pbt *p, long trial)
{
    if (trial < 0 || (size_t)trial >= p->ntrials || !p->t[trial].known)
        return NULL;
    return p->t[trial].config;
}
