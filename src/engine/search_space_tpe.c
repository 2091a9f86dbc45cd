/* search_space_tpe.c — the TPE core (search_tpe.c) over a tune config
 * (search_space.h).
 *
 * The parameters are the config's domain nodes, found by a walk through its
 * dicts and sorted by path, so the same config gives the same parameter
 * order in every session. A suggestion is an object holding only the
 * parameters' values at their paths: the runner merges it over the config,
 * and the space resolves what is left (sample_from functions, which may read
 * the values set here: conditional spaces), as Ray's SearchGenerator does.
 *
 * Randomness: before suggestion k the core's stream is reseeded from
 * (seed, k). A search rebuilt from its trials (resume) and told how many
 * suggestions were made draws what the original would have drawn next,
 * whatever state the original's stream was in when it was killed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "search.h"
#include "search_space.h"
#include "space_internal.h"

typedef struct tparam {
    char *name;           /* "a/b" */
    json_t *path;         /* ["config", "a", "b"], for messages */
    const json_t *node;   /* the domain, borrowed from s->config */
} tparam;

typedef struct ttrial {
    char id[40];
    long index;           /* in the core */
} ttrial;

struct tc_tpe_search {
    json_t *config;       /* owned copy */
    tparam *p;
    size_t np, pcap;
    tc_tpe *core;
    char *metric;
    uint64_t seed;
    json_t *points;       /* owned: points still to be suggested, in order */
    long made;
    ttrial *trials;       /* running trials (the core's index of each) */
    size_t ntrials, tcap;
    double *values;       /* np scratch values */
};

static int fail_at(tc_error *err, const json_t *path, const char *msg)
{
    tc_buf where;
    tc_buf_init(&where);
    if (tcp_path_render(path, &where) == 0 && where.data)
        tc_error_set(err, TC_ERR_VALUE, "%s: %s", where.data, msg);
    else
        tc_error_set(err, TC_ERR_VALUE, "%s", msg);
    tc_buf_free(&where);
    return -1;
}

static char *dup(const char *text)
{
    size_t n = text ? strlen(text) + 1 : 0;
    char *out = n ? tc_malloc(n) : NULL;
    return out ? memcpy(out, text, n) : NULL;
}

static int nomem(tc_error *err)
{
    return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
}

/* ------------------------------------------------------------------------- */
/* the parameters                                                             */
/* ------------------------------------------------------------------------- */

static char *path_name(const json_t *path)
{
    tc_buf b;
    tc_buf_init(&b);
    for (size_t i = 1; i < json_array_size(path); i++) {
        if ((i > 1 && tc_buf_putc(&b, '/') < 0) ||
            tc_buf_puts(&b, json_string_value(json_array_get(path, i))) < 0) {
            tc_buf_free(&b);
            return NULL;
        }
    }
    return b.data;
}

static int add_param(tc_tpe_search *s, const json_t *node, const json_t *path, tc_error *err)
{
    if (s->np == s->pcap) {
        size_t cap = s->pcap ? 2 * s->pcap : 8;
        tparam *p = tc_realloc(s->p, cap * sizeof *p);
        if (!p)
            return nomem(err);
        s->p = p;
        s->pcap = cap;
    }
    tparam *p = &s->p[s->np];
    p->node = node;
    p->name = path_name(path);
    p->path = json_copy((json_t *)path);
    if (!p->name || !p->path) {
        tc_free(p->name);
        json_decref(p->path);
        return nomem(err);
    }
    s->np++;
    return 0;
}

/* path: a scratch array, left as found. */
static int collect(tc_tpe_search *s, const json_t *v, json_t *path, int in_list, tc_error *err)
{
    int rc = 0;
    switch (tcp_node_kind(v)) {
    case TCP_NODE_GRID:
        return fail_at(err, path, "grid_search cannot be combined with TPESearch: give the "
                       "values as tune.choice(...), or use the default BasicVariantGenerator");
    case TCP_NODE_FN:
        return 0;           /* resolved by the space after the parameters */
    case TCP_NODE_DOMAIN:
        if (in_list)
            return fail_at(err, path, "TPESearch models the domains of a config's dicts, not "
                           "of its lists: put this one under a key");
        return add_param(s, v, path, err);
    default:
        break;
    }
    if (json_is_object(v) && !json_object_get(v, "$tunec")) {
        const char *key;
        json_t *child;
        json_object_foreach((json_t *)v, key, child) {
            if (json_array_append_new(path, json_string(key)) < 0)
                return nomem(err);
            rc = collect(s, child, path, in_list, err);
            json_array_remove(path, json_array_size(path) - 1);
            if (rc < 0)
                return -1;
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (json_array_append_new(path, json_integer((json_int_t)i)) < 0)
                return nomem(err);
            rc = collect(s, json_array_get(v, i), path, 1, err);
            json_array_remove(path, json_array_size(path) - 1);
            if (rc < 0)
                return -1;
        }
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const tparam *)a)->name, ((const tparam *)b)->name);
}

/* The value at the parameter's path in a (nested) config, or NULL. */
static const json_t *lookup(const json_t *config, const tparam *p)
{
    const json_t *v = config;
    for (size_t i = 1; v && i < json_array_size(p->path); i++)
        v = json_is_object(v) ? json_object_get(v, json_string_value(json_array_get(p->path, i)))
                              : NULL;
    return v;
}

/* Sets the value at the parameter's path, making the dicts on the way. */
static int put(json_t *obj, const tparam *p, json_t *value)
{
    size_t n = json_array_size(p->path);
    for (size_t i = 1; i + 1 < n; i++) {
        const char *key = json_string_value(json_array_get(p->path, i));
        json_t *next = json_object_get(obj, key);
        if (!json_is_object(next) || json_object_get(next, "$tunec")) {
            next = json_object();
            if (json_object_set_new(obj, key, next) < 0) {
                json_decref(value);
                return -1;
            }
        }
        obj = next;
    }
    return json_object_set_new(obj, json_string_value(json_array_get(p->path, n - 1)), value);
}

/* ------------------------------------------------------------------------- */
/* options                                                                    */
/* ------------------------------------------------------------------------- */

static int opt_long(const json_t *opts, const char *key, long *out, tc_error *err)
{
    const json_t *v = json_object_get(opts, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return tc_error_set(err, TC_ERR_VALUE, "TPESearch: %s must be an integer", key);
    *out = (long)json_integer_value(v);
    return 0;
}

static int opt_double(const json_t *opts, const char *key, double *out, tc_error *err)
{
    const json_t *v = json_object_get(opts, key);
    if (!v || json_is_null(v))
        return 0;
    if (json_is_boolean(v) || !json_is_number(v))
        return tc_error_set(err, TC_ERR_VALUE, "TPESearch: %s must be a number", key);
    *out = json_number_value(v);
    return 0;
}

static int opt_bool(const json_t *opts, const char *key, int *out, tc_error *err)
{
    const json_t *v = json_object_get(opts, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return tc_error_set(err, TC_ERR_VALUE, "TPESearch: %s must be True or False", key);
    *out = json_is_true(v);
    return 0;
}

static int read_opts(const json_t *opts, tc_tpe_opts *o, tc_error *err)
{
    const char *mode = json_string_value(json_object_get(opts, "mode"));
    long gamma_max = o->gamma_max;
    if (!json_string_value(json_object_get(opts, "metric")) || !mode ||
        (strcmp(mode, "min") != 0 && strcmp(mode, "max") != 0))
        return tc_error_set(err, TC_ERR_VALUE, "TPESearch needs a metric and a mode (\"min\" or "
                            "\"max\"): pass them to TPESearch(...) or to tune.run(...)");
    o->mode_max = strcmp(mode, "max") == 0;
    json_t *seed = json_object_get(opts, "seed");
    if (seed && !json_is_null(seed) && !json_is_integer(seed))
        return tc_error_set(err, TC_ERR_VALUE, "TPESearch: seed must be an integer");
    o->seed = json_is_integer(seed) ? (uint64_t)json_integer_value(seed) : 0;
    if (opt_long(opts, "n_startup_trials", &o->n_startup_trials, err) < 0 ||
        opt_long(opts, "n_ei_candidates", &o->n_ei_candidates, err) < 0 ||
        opt_long(opts, "ei_budget", &o->ei_budget, err) < 0 ||
        opt_long(opts, "gamma_max", &gamma_max, err) < 0 ||
        opt_double(opts, "gamma", &o->gamma_fraction, err) < 0 ||
        opt_double(opts, "prior_weight", &o->prior_weight, err) < 0 ||
        opt_bool(opts, "consider_prior", &o->consider_prior, err) < 0 ||
        opt_bool(opts, "consider_magic_clip", &o->consider_magic_clip, err) < 0 ||
        opt_bool(opts, "consider_endpoints", &o->consider_endpoints, err) < 0 ||
        opt_bool(opts, "multivariate", &o->multivariate, err) < 0 ||
        opt_bool(opts, "constant_liar", &o->constant_liar, err) < 0)
        return -1;
    o->gamma_max = gamma_max;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* trials                                                                     */
/* ------------------------------------------------------------------------- */

static int remember(tc_tpe_search *s, const char *trial_id, long index, tc_error *err)
{
    if (s->ntrials == s->tcap) {
        size_t cap = s->tcap ? 2 * s->tcap : 16;
        ttrial *t = tc_realloc(s->trials, cap * sizeof *t);
        if (!t)
            return nomem(err);
        s->trials = t;
        s->tcap = cap;
    }
    ttrial *t = &s->trials[s->ntrials++];
    snprintf(t->id, sizeof t->id, "%s", trial_id);
    t->index = index;
    return 0;
}

/* The running trial's slot, or -1. Newest first: a trial usually ends
 * soon after it starts. */
static long find_trial(const tc_tpe_search *s, const char *trial_id)
{
    for (size_t i = s->ntrials; i-- > 0;)
        if (strcmp(s->trials[i].id, trial_id) == 0)
            return (long)i;
    return -1;
}

/* The core's values of a (partial) config: NaN where it has none. With
 * strict, a value that is not one of the parameter's is an error. */
static int values_of(tc_tpe_search *s, const json_t *config, int strict, tc_error *err)
{
    for (size_t i = 0; i < s->np; i++) {
        const json_t *v = lookup(config, &s->p[i]);
        s->values[i] = NAN;
        if (!v || tcp_node_kind(v) != TCP_NODE_CONST)
            continue;
        double x;
        tc_error ignored;
        tc_error_init(&ignored);
        if (tcp_domain_tpe_external(s->p[i].node, v, s->p[i].path, &x,
                                    strict ? err : &ignored) == 0)
            s->values[i] = x;
        else if (strict)
            return -1;
    }
    return 0;
}

static int read_points(tc_tpe_search *s, const json_t *opts, tc_error *err)
{
    const json_t *points = json_object_get(opts, "points_to_evaluate");
    const json_t *rewards = json_object_get(opts, "evaluated_rewards");
    if (json_is_null(points))
        points = NULL;
    if (json_is_null(rewards))
        rewards = NULL;
    if ((points && !json_is_array(points)) || (rewards && !json_is_array(rewards)))
        return tc_error_set(err, TC_ERR_VALUE, "TPESearch: points_to_evaluate and "
                            "evaluated_rewards must be lists");
    if (rewards && json_array_size(rewards) != json_array_size(points))
        return tc_error_set(err, TC_ERR_VALUE, "TPESearch: evaluated_rewards has %zu values for "
                            "%zu points_to_evaluate", json_array_size(rewards),
                            json_array_size(points));
    s->points = json_array();
    if (!s->points)
        return nomem(err);
    for (size_t k = 0; k < json_array_size(points); k++) {
        const json_t *point = json_array_get(points, k);
        if (!json_is_object(point))
            return tc_error_set(err, TC_ERR_VALUE, "TPESearch: points_to_evaluate[%zu] must be "
                                "a dict", k);
        if (values_of(s, point, 1, err) < 0)
            return -1;
        if (!rewards) {
            if (json_array_append(s->points, (json_t *)point) < 0)
                return nomem(err);
            continue;
        }
        double y;
        const json_t *r = json_array_get(rewards, k);
        if (json_is_boolean(r) || !tc_json_number(r, &y))
            return tc_error_set(err, TC_ERR_VALUE, "TPESearch: evaluated_rewards[%zu] must be a "
                                "number", k);
        if (tc_tpe_observe(s->core, s->values, y, err) < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------- */
/* the API                                                                    */
/* ------------------------------------------------------------------------- */

tc_tpe_search *tc_tpe_search_new(const json_t *config, const json_t *opts, tc_error *err)
{
    tc_tpe_opts o;
    tc_tpe_opts_default(&o);
    if (!json_is_object(config)) {
        tc_error_set(err, TC_ERR_VALUE, "TPESearch: the config must be a dict");
        return NULL;
    }
    if (!json_is_object(opts)) {
        tc_error_set(err, TC_ERR_VALUE, "TPESearch: the options must be an object");
        return NULL;
    }
    if (read_opts(opts, &o, err) < 0)
        return NULL;
    tc_tpe_search *s = tc_calloc(1, sizeof *s);
    json_t *path = json_pack("[s]", "config");
    if (!s || !path || !(s->config = json_deep_copy(config)) ||
        !(s->metric = dup(json_string_value(json_object_get(opts, "metric"))))) {
        json_decref(path);
        tc_tpe_search_free(s);
        nomem(err);
        return NULL;
    }
    s->seed = o.seed;
    int rc = tcp_space_validate(s->config, path, err);
    if (rc == 0)
        rc = collect(s, s->config, path, 0, err);
    json_decref(path);
    if (rc == 0 && s->np == 0)
        rc = tc_error_set(err, TC_ERR_VALUE, "TPESearch: the config has no domain to search "
                          "(tune.uniform, tune.choice, ...)");
    tc_tpe_param *params = rc == 0 ? tc_calloc(s->np, sizeof *params) : NULL;
    if (rc == 0 && !params)
        rc = nomem(err);
    if (rc == 0) {
        qsort(s->p, s->np, sizeof *s->p, by_name);
        for (size_t i = 0; i < s->np && rc == 0; i++) {
            params[i].name = s->p[i].name;
            rc = tcp_domain_tpe_param(s->p[i].node, s->p[i].path, &params[i], err);
        }
    }
    if (rc == 0 && !(s->values = tc_calloc(s->np, sizeof *s->values)))
        rc = nomem(err);
    if (rc == 0 && !(s->core = tc_tpe_new(params, s->np, &o, err)))
        rc = -1;
    tc_free(params);
    if (rc == 0)
        rc = read_points(s, opts, err);
    if (rc < 0) {
        tc_tpe_search_free(s);
        return NULL;
    }
    return s;
}

void tc_tpe_search_free(tc_tpe_search *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->np; i++) {
        tc_free(s->p[i].name);
        json_decref(s->p[i].path);
    }
    tc_free(s->p);
    tc_tpe_free(s->core);
    json_decref(s->config);
    json_decref(s->points);
    tc_free(s->metric);
    tc_free(s->trials);
    tc_free(s->values);
    tc_free(s);
}

static uint64_t stream_seed(uint64_t seed, long k)
{
    return seed ^ ((uint64_t)(k + 1) * 0x9E3779B97F4A7C15ULL);
}

json_t *tc_tpe_search_suggest(tc_tpe_search *s, const char *trial_id, tc_error *err)
{
    tc_tpe_reseed(s->core, stream_seed(s->seed, s->made));
    if (tc_tpe_suggest(s->core, s->values, err) < 0)
        return NULL;
    /* A point to evaluate comes first, whole; what it leaves out is drawn. */
    const json_t *point = s->made < (long)json_array_size(s->points)
                          ? json_array_get(s->points, (size_t)s->made) : NULL;
    json_t *out = point ? json_deep_copy(point) : json_object();
    if (!out) {
        nomem(err);
        return NULL;
    }
    for (size_t i = 0; i < s->np; i++) {
        const json_t *given = point ? lookup(point, &s->p[i]) : NULL;
        if (given && tcp_node_kind(given) == TCP_NODE_CONST) {
            if (tcp_domain_tpe_external(s->p[i].node, given, s->p[i].path, &s->values[i],
                                        err) < 0) {
                json_decref(out);
                return NULL;
            }
            continue;
        }
        json_t *v = tcp_domain_tpe_value(s->p[i].node, s->values[i]);
        if (!v || put(out, &s->p[i], v) < 0) {
            json_decref(out);
            nomem(err);
            return NULL;
        }
    }
    long index = tc_tpe_add_running(s->core, s->values, err);
    if (index < 0 || remember(s, trial_id, index, err) < 0) {
        json_decref(out);
        return NULL;
    }
    s->made++;
    return out;
}

int tc_tpe_search_restore_trial(tc_tpe_search *s, const char *trial_id, const json_t *config,
                                tc_error *err)
{
    values_of(s, config, 0, err);
    long index = tc_tpe_add_running(s->core, s->values, err);
    return index < 0 ? -1 : remember(s, trial_id, index, err);
}

/* The metric's value in a result: its key, or a "a/b" path into it. */
static const json_t *metric_of(const json_t *result, const char *metric)
{
    const json_t *v = json_object_get(result, metric);
    if (v || !strchr(metric, '/'))
        return v;
    char *copy = dup(metric), *save = NULL;
    v = result;
    for (char *part = copy ? strtok_r(copy, "/", &save) : NULL; part && v;
         part = strtok_r(NULL, "/", &save))
        v = json_is_object(v) ? json_object_get(v, part) : NULL;
    tc_free(copy);
    return copy ? v : NULL;
}

int tc_tpe_search_complete(tc_tpe_search *s, const char *trial_id, const json_t *result,
                           int error, tc_error *err)
{
    long slot = find_trial(s, trial_id);
    if (slot < 0)
        return 0;
    long index = s->trials[slot].index;
    s->trials[slot] = s->trials[--s->ntrials];
    if (error || !json_is_object(result) || json_object_size(result) == 0)
        return tc_tpe_fail(s->core, index, err);
    const json_t *v = metric_of(result, s->metric);
    double y;
    if (!v)
        return tc_error_set(err, TC_ERR_VALUE, "TPESearch: the last result of trial %s has no "
                            "metric \"%s\" (the searcher's metric)", trial_id, s->metric);
    if (json_is_boolean(v) || !tc_json_number(v, &y))
        return tc_error_set(err, TC_ERR_VALUE, "TPESearch: trial %s's metric \"%s\" is not a "
                            "number", trial_id, s->metric);
    return tc_tpe_complete(s->core, index, y, err);
}

long tc_tpe_search_made(const tc_tpe_search *s)
{
    return s->made;
}

void tc_tpe_search_set_made(tc_tpe_search *s, long made)
{
    s->made = made;
}

const char *tc_tpe_search_metric(const tc_tpe_search *s)
{
    return s->metric;
}
