/* space.c — search-space expansion: grid × samples, resolution order, tags
 * (spec §5.2–§5.5, §18.3–18.6).
 *
 * The generator is Ray's recursive `generate_variants` turned into an explicit
 * stack of levels so that variants come out one at a time (tc_space_next) and
 * num_samples may be unbounded:
 *
 *   level d holds a spec that is never mutated, its unresolved nodes split
 *   into grid vars (sorted by path) and sample vars (domains and fn nodes,
 *   sorted by path), and an odometer over the grid whose FIRST digit turns
 *   fastest (§5.3 step 3). Each grid point is a deep copy of the spec with the
 *   grid values assigned and the sample vars resolved; that copy becomes the
 *   spec of level d+1, because a sampled value may bring new unresolved nodes
 *   (a choice of grids, a fn returning {"grid_search": ...}; step 5). A level
 *   with nothing unresolved yields its spec once.
 *
 * Sample vars of one grid point are resolved as follows: domain nodes first,
 * in path order, each with one draw from the space's stream (they depend on
 * nothing, so they all resolve in pass 1); then fn nodes by fixed-point passes
 * in path order, at most 20, through the host callback. A callback answering
 * TC_ERR_DEPENDENCY is retried in the next pass; after 20 passes the last such
 * message ("`<key>` recursively depends on <value>") is the error. Any other
 * callback error ends the generator.
 *
 * Path order: paths are compared element by element; at one position two
 * strings compare by their UTF-8 bytes (= Python's code point order), two
 * integers numerically, and an integer sorts before a string (Python would
 * raise there; inside one spec it cannot happen, since the same prefix always
 * leads to the same container). A path sorts after its own prefixes.
 *
 * Order (BasicVariantGenerator's options, keys of the spec object beside
 * "config"): "points_to_evaluate" — a list of partial configs, each merged
 * over the config and expanded first as one repetition of its own — and
 * "shuffle": true — all variants made, then yielded in a permutation drawn
 * from the seed.
 *
 * Invariants: s->spec and every level's spec are immutable once built, so
 * the borrowed node pointers in a level's vars stay valid; a level's child is
 * live only while `child` is set; after an error the space refuses to go on.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "space_internal.h"

#define MAX_LEVELS 32   /* sampled values nesting further unresolved values */
#define MAX_PASSES 20   /* Ray's bound on dependency passes (§5.3 step 4) */

typedef struct var {
    json_t *path;          /* owned */
    const json_t *node;    /* borrowed from the level's spec */
} var;

typedef struct level {
    json_t *spec;          /* owned, immutable */
    var *grid;             /* sorted by path */
    size_t ngrid;
    var *samp;             /* sorted by path */
    size_t nsamp;
    size_t *digit;         /* odometer, one digit per grid var */
    int started, done;
    int child;             /* level d+1 is live */
    json_t *sampled;       /* owned: [[path, value as sampled], ...] of the current point */
} level;

struct tc_space {
    json_t *spec;          /* owned, validated, immutable (no order keys) */
    uint64_t seed;
    json_t *points;        /* owned: one merged spec per points_to_evaluate entry */
    size_t points_done;    /* points whose sub-space has been opened */
    tc_space *point;       /* the open point's variants (num_samples 1), or NULL */
    int shuffle;           /* yield every variant in a seeded random order */
    tc_variant *order;     /* shuffle: all variants, permuted; NULL until the first next */
    size_t norder, order_next;
    long num_samples;      /* < 0: unbounded */
    long rep;              /* repetitions completed */
    long rep_yield;        /* variants yielded in the current repetition */
    long next_index;
    long grid_size;
    int nlevels;           /* live levels; 0 before a repetition starts */
    int failed;
    tc_rng rng;
    level lv[MAX_LEVELS];
};

/* ------------------------------------------------------------------------- */
/* paths                                                                      */
/* ------------------------------------------------------------------------- */

static int elem_cmp(const json_t *a, const json_t *b)
{
    int ai = json_is_integer(a), bi = json_is_integer(b);
    if (ai && bi) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return (x > y) - (x < y);
    }
    if (ai != bi)
        return ai ? -1 : 1;
    size_t la = json_string_length(a), lb = json_string_length(b);
    int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

static int path_cmp(const json_t *a, const json_t *b)
{
    size_t na = json_array_size(a), nb = json_array_size(b);
    for (size_t i = 0; i < na && i < nb; i++) {
        int c = elem_cmp(json_array_get(a, i), json_array_get(b, i));
        if (c)
            return c;
    }
    return (na > nb) - (na < nb);
}

static int var_cmp(const void *a, const void *b)
{
    return path_cmp(((const var *)a)->path, ((const var *)b)->path);
}

/* Sorts [[path, value], ...] in place. */
static int pair_cmp(const void *a, const void *b)
{
    return path_cmp(json_array_get(*(json_t *const *)a, 0), json_array_get(*(json_t *const *)b, 0));
}

static int sort_pairs(json_t *pairs)
{
    size_t n = json_array_size(pairs), i;
    json_t **tmp = n ? tc_malloc(n * sizeof *tmp) : NULL;
    if (n && !tmp)
        return -1;
    if (n == 0)
        return 0;
    for (i = 0; i < n; i++)
        tmp[i] = json_incref(json_array_get(pairs, i));
    qsort(tmp, n, sizeof *tmp, pair_cmp);
    json_array_clear(pairs);
    for (i = 0; i < n; i++)
        json_array_append_new(pairs, tmp[i]);
    tc_free(tmp);
    return 0;
}

int tcp_path_render(const json_t *path, tc_buf *out)
{
    size_t i;
    json_t *e;
    int rc = 0;
    json_array_foreach(path, i, e) {
        if (json_is_integer(e))
            rc |= tc_buf_printf(out, "[%" JSON_INTEGER_FORMAT "]", json_integer_value(e));
        else if (i == 0)
            rc |= tc_buf_puts(out, json_string_value(e));
        else
            rc |= tc_buf_printf(out, "[\"%s\"]", json_string_value(e));
    }
    return rc ? -1 : 0;
}

/* Python's repr of the path tuple, for messages quoting Ray's:
 * ('config', 'layers', 0). */
static int path_repr(const json_t *path, tc_buf *out)
{
    size_t i;
    json_t *e;
    int rc = tc_buf_putc(out, '(');
    json_array_foreach(path, i, e) {
        if (i)
            rc |= tc_buf_puts(out, ", ");
        if (json_is_integer(e))
            rc |= tc_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(e));
        else
            rc |= tc_buf_printf(out, "'%s'", json_string_value(e));
    }
    rc |= tc_buf_puts(out, json_array_size(path) == 1 ? ",)" : ")");
    return rc ? -1 : 0;
}

/* Borrowed value at path, or NULL. */
static json_t *path_get(json_t *root, const json_t *path)
{
    size_t i;
    json_t *e;
    json_array_foreach(path, i, e) {
        if (json_is_integer(e))
            root = json_array_get(root, (size_t)json_integer_value(e));
        else
            root = json_object_get(root, json_string_value(e));
        if (!root)
            return NULL;
    }
    return root;
}

/* Replaces the value at path (which exists: it came from this tree's walk).
 * value is stolen, even on failure. */
static int path_set(json_t *root, const json_t *path, json_t *value)
{
    size_t n = json_array_size(path);
    json_t *parent = root, *last;
    for (size_t i = 0; parent && i + 1 < n; i++) {
        json_t *e = json_array_get(path, i);
        parent = json_is_integer(e) ? json_array_get(parent, (size_t)json_integer_value(e))
                                    : json_object_get(parent, json_string_value(e));
    }
    if (!parent || n == 0) {
        json_decref(value);
        return -1;
    }
    last = json_array_get(path, n - 1);
    if (json_is_integer(last))
        return json_array_set_new(parent, (size_t)json_integer_value(last), value);
    return json_object_set_new(parent, json_string_value(last), value);
}

/* ------------------------------------------------------------------------- */
/* levels                                                                     */
/* ------------------------------------------------------------------------- */

static int push_var(var **arr, size_t *n, const json_t *path, const json_t *node)
{
    var *grown = tc_realloc(*arr, (*n + 1) * sizeof **arr);
    if (!grown)
        return -1;
    *arr = grown;
    /* a shallow copy is enough: path elements are never mutated */
    grown[*n].path = json_copy((json_t *)path);
    grown[*n].node = node;
    if (!grown[*n].path)
        return -1;
    (*n)++;
    return 0;
}

/* Finds the unresolved nodes under v (§5.2): dicts recursed, lists element
 * by element; an unresolved node is not looked into. */
static int collect(level *L, const json_t *v, json_t *path)
{
    int kind = tcp_node_kind(v);
    int rc = 0;
    if (kind == TCP_NODE_GRID)
        return push_var(&L->grid, &L->ngrid, path, v);
    if (kind != TCP_NODE_CONST)
        return push_var(&L->samp, &L->nsamp, path, v);
    if (tcp_is_obj_marker(v))
        return 0;
    if (json_is_object(v)) {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val) {
            if (json_array_append_new(path, json_string(key)) < 0)
                return -1;
            rc = collect(L, val, path);
            json_array_remove(path, json_array_size(path) - 1);
            if (rc < 0)
                return -1;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *val;
        json_array_foreach(v, i, val) {
            if (json_array_append_new(path, json_integer((json_int_t)i)) < 0)
                return -1;
            rc = collect(L, val, path);
            json_array_remove(path, json_array_size(path) - 1);
            if (rc < 0)
                return -1;
        }
    }
    return 0;
}

static void level_clear(level *L)
{
    for (size_t i = 0; i < L->ngrid; i++)
        json_decref(L->grid[i].path);
    for (size_t i = 0; i < L->nsamp; i++)
        json_decref(L->samp[i].path);
    tc_free(L->grid);
    tc_free(L->samp);
    tc_free(L->digit);
    json_decref(L->sampled);
    json_decref(L->spec);
    memset(L, 0, sizeof *L);
}

/* spec is stolen, even on failure. */
static int level_init(level *L, json_t *spec, tc_error *err)
{
    json_t *path = json_array();
    memset(L, 0, sizeof *L);
    L->spec = spec;
    if (!spec || !path || collect(L, spec, path) < 0)
        goto nomem;
    if (L->ngrid)   /* qsort's base must not be NULL, even for 0 items */
        qsort(L->grid, L->ngrid, sizeof *L->grid, var_cmp);
    if (L->nsamp)
        qsort(L->samp, L->nsamp, sizeof *L->samp, var_cmp);
    L->digit = tc_calloc(L->ngrid ? L->ngrid : 1, sizeof *L->digit);
    if (!L->digit)
        goto nomem;
    json_decref(path);
    return 0;
nomem:
    json_decref(path);
    level_clear(L);
    return tc_error_set(err, TC_ERR_NOMEM, "out of memory expanding the search space");
}

static const json_t *grid_values(const var *g)
{
    return json_object_get(g->node, "grid_search");
}

/* Moves to the next grid point; 0 when every point was visited. */
static int level_advance(level *L)
{
    if (L->done)
        return 0;
    if (!L->started) {
        L->started = 1;
        for (size_t i = 0; i < L->ngrid; i++)
            if (json_array_size(grid_values(&L->grid[i])) == 0)
                return !(L->done = 1);
        return 1;
    }
    for (size_t i = 0; i < L->ngrid; i++) {
        if (++L->digit[i] < json_array_size(grid_values(&L->grid[i])))
            return 1;
        L->digit[i] = 0;
    }
    L->done = 1;   /* wrapped around (or a grid-less level's single point) */
    return 0;
}

/* Appends [path, value] to pairs; value is stolen. */
static int pair_append(json_t *pairs, json_t *path, json_t *value)
{
    json_t *pair = value ? json_pack("[OO]", path, value) : NULL;
    json_decref(value);
    return pair ? json_array_append_new(pairs, pair) : -1;
}

/* ------------------------------------------------------------------------- */
/* resolving one grid point                                                   */
/* ------------------------------------------------------------------------- */

/* Assigns a callback's answer (stolen) into the point after checking it like
 * the original spec: a fn may return a malformed domain or a non-list grid. */
static int assign_checked(json_t *point, const json_t *path, json_t *value, tc_error *err)
{
    json_t *scratch = json_copy((json_t *)path);
    int rc = scratch ? tcp_space_validate(value, scratch, err)
                     : tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    json_decref(scratch);
    if (rc < 0) {
        json_decref(value);
        return -1;
    }
    if (path_set(point, path, value) < 0)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory assigning a sampled value");
    return 0;
}

static int resolve_fns(level *L, json_t *point, tc_eval_fn fn, void *ctx, tc_error *err)
{
    int rc = -1;
    size_t pending = 0;
    char *done = tc_calloc(L->nsamp ? L->nsamp : 1, 1);
    tc_error last_dep;
    tc_error_init(&last_dep);
    if (!done)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < L->nsamp; i++) {
        done[i] = tcp_node_kind(L->samp[i].node) != TCP_NODE_FN;
        pending += !done[i];
    }
    if (pending && !fn) {
        tc_error_set(err, TC_ERR_VALUE, "the search space has sample_from nodes but no resolver");
        goto done;
    }
    for (int pass = 0; pending && pass < MAX_PASSES; pass++) {
        int blocked = 0;
        for (size_t i = 0; i < L->nsamp; i++) {
            if (done[i])
                continue;
            const var *sv = &L->samp[i];
            tc_error e;
            tc_error_init(&e);
            json_int_t id = json_integer_value(json_object_get(sv->node, "id"));
            json_t *value = fn(ctx, id, sv->path, point, &e);   /* new */
            if (value) {
                if (pair_append(L->sampled, sv->path, json_incref(value)) < 0) {
                    json_decref(value);
                    tc_error_set(err, TC_ERR_NOMEM, "out of memory");
                    goto done;
                }
                if (assign_checked(point, sv->path, value, err) < 0)
                    goto done;
                done[i] = 1;
                pending--;
            } else if (e.code == TC_ERR_DEPENDENCY) {
                blocked = 1;
                last_dep = e;
            } else {
                if (e.code == TC_OK)
                    tc_error_set(&e, TC_ERR_CALLBACK, "the sample_from resolver failed");
                tc_error_set(err, e.code, "%s", e.text);
                goto done;
            }
        }
        if (!blocked)
            break;
    }
    if (pending) {
        tc_error_set(err, TC_ERR_DEPENDENCY, "%s", last_dep.text);
        goto done;
    }
    rc = 0;
done:
    tc_free(done);
    return rc;
}

/* Assigns grid point L->digit into a fresh copy of L->spec and resolves its
 * sample vars. New reference, or NULL with err set. */
static json_t *make_point(tc_space *s, level *L, tc_eval_fn fn, void *ctx, tc_error *err)
{
    json_t *point = json_deep_copy(L->spec);
    json_decref(L->sampled);
    L->sampled = json_array();
    if (!point || !L->sampled) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory expanding the search space");
        goto error;
    }
    for (size_t i = 0; i < L->ngrid; i++) {
        /* deep copy: later resolution mutates the point in place */
        json_t *v = json_deep_copy(json_array_get(grid_values(&L->grid[i]), L->digit[i]));
        if (!v || path_set(point, L->grid[i].path, v) < 0) {
            tc_error_set(err, TC_ERR_NOMEM, "out of memory expanding the search space");
            goto error;
        }
    }
    for (size_t i = 0; i < L->nsamp; i++) {
        const var *sv = &L->samp[i];
        if (tcp_node_kind(sv->node) != TCP_NODE_DOMAIN)
            continue;
        json_t *v = tcp_domain_sample(sv->node, &s->rng, sv->path, err);   /* new */
        if (!v || pair_append(L->sampled, sv->path, json_incref(v)) < 0) {
            json_decref(v);
            tc_error_set(err, TC_ERR_NOMEM, "out of memory");
            goto error;
        }
        if (path_set(point, sv->path, v) < 0) {
            tc_error_set(err, TC_ERR_NOMEM, "out of memory");
            goto error;
        }
    }
    if (resolve_fns(L, point, fn, ctx, err) < 0)
        goto error;
    return point;
error:
    json_decref(point);
    return NULL;
}

/* resolved_vars of level L for one final spec: L's own grid and sample paths
 * with their final values (§5.3 step 6), then the inner level's vars, which
 * must not contradict a value L already resolved (step 5). inner is stolen.
 * New reference, or NULL with err set. */
static json_t *merge_vars(level *L, json_t *final, json_t *inner, tc_error *err)
{
    json_t *out = json_array();
    size_t i, j;
    json_t *pair;
    for (i = 0; out && i < L->ngrid + L->nsamp; i++) {
        const var *v = i < L->ngrid ? &L->grid[i] : &L->samp[i - L->ngrid];
        json_t *value = path_get(final, v->path);
        if (value && pair_append(out, v->path, json_incref(value)) < 0)
            goto nomem;
    }
    if (!out)
        goto nomem;
    json_array_foreach(inner, i, pair) {
        json_t *path = json_array_get(pair, 0), *value = json_array_get(pair, 1);
        json_t *found = NULL, *pr;
        json_array_foreach(L->sampled, j, pr) {
            json_t *old = json_array_get(pr, 1);
            if (json_equal(json_array_get(pr, 0), path) && tcp_node_kind(old) == TCP_NODE_CONST &&
                !json_equal(old, value)) {
                tc_buf b;
                tc_buf_init(&b);
                path_repr(path, &b);
                tc_error_set(err, TC_ERR_VALUE,
                             "The variable `%s` could not be unambiguously resolved to a single "
                             "value. Consider simplifying your configuration.",
                             b.data ? b.data : "?");
                tc_buf_free(&b);
                goto error;
            }
        }
        json_array_foreach(out, j, pr) {
            if (json_equal(json_array_get(pr, 0), path))
                found = pr;
        }
        if (found ? json_array_set(found, 1, value) < 0 : json_array_append(out, pair) < 0)
            goto nomem;
    }
    json_decref(inner);
    return out;
nomem:
    tc_error_set(err, TC_ERR_NOMEM, "out of memory");
error:
    json_decref(inner);
    json_decref(out);
    return NULL;
}

/* Next (spec, resolved_vars) of level d: 1 with both new references, 0 when
 * the level is exhausted, -1 on error. */
static int level_next(tc_space *s, int d, tc_eval_fn fn, void *ctx, json_t **spec_out,
                      json_t **vars_out, tc_error *err)
{
    level *L = &s->lv[d];
    for (;;) {
        if (L->child) {
            json_t *cspec = NULL, *cvars = NULL;
            int r = level_next(s, d + 1, fn, ctx, &cspec, &cvars, err);
            if (r < 0)
                return -1;
            if (r == 1) {
                json_t *vars = merge_vars(L, cspec, cvars, err);
                if (!vars) {
                    json_decref(cspec);
                    return -1;
                }
                *spec_out = cspec;
                *vars_out = vars;
                return 1;
            }
            level_clear(&s->lv[d + 1]);
            s->nlevels = d + 1;
            L->child = 0;
        }
        if (L->ngrid == 0 && L->nsamp == 0) {
            if (L->done)
                return 0;
            json_t *vars = json_array();
            if (!vars)
                return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
            L->done = 1;
            *spec_out = json_incref(L->spec);
            *vars_out = vars;
            return 1;
        }
        if (!level_advance(L))
            return 0;
        if (d + 1 >= MAX_LEVELS)
            return tc_error_set(err, TC_ERR_VALUE,
                                "sampled values nest unresolved values more than %d levels deep",
                                MAX_LEVELS);
        json_t *point = make_point(s, L, fn, ctx, err);
        if (!point || level_init(&s->lv[d + 1], point, err) < 0)
            return -1;
        s->nlevels = d + 2;
        L->child = 1;
    }
}

/* ------------------------------------------------------------------------- */
/* tags (§5.5)                                                                */
/* ------------------------------------------------------------------------- */

/* Python's _clean_value: a float as format(v, ".5"), anything else as str()
 * with "/" replaced by "_". An opaque object shows its repr. */
static int clean_value(const json_t *v, tc_buf *out)
{
    char num[64];
    double x;
    tc_buf tmp;
    int rc;
    if (json_is_real(v) || tc_json_is_nonfinite(v)) {
        tc_json_number(v, &x);
        tc_format_double_5(x, num);
        return tc_buf_puts(out, num);
    }
    tc_buf_init(&tmp);
    if (tcp_is_obj_marker(v)) {
        const char *r = json_string_value(json_object_get(v, "repr"));
        rc = tc_buf_puts(&tmp, r ? r : "?");
    } else {
        rc = tc_py_str(v, &tmp);
    }
    for (size_t i = 0; rc == 0 && i < tmp.len; i++)
        rc = tc_buf_putc(out, tmp.data[i] == '/' ? '_' : tmp.data[i]);
    tc_buf_free(&tmp);
    return rc;
}

static int skipped_path(const json_t *path)
{
    const char *first = json_string_value(json_array_get(path, 0));
    return first && (strcmp(first, "run") == 0 || strcmp(first, "env") == 0 ||
                     strcmp(first, "resources_per_trial") == 0);
}

/* The tag key of a path: every integer index plus the last string element,
 * in path order ("config", "a", 1, "b", 2) -> "1_b_2". */
static int path_key(const json_t *path, tc_buf *out)
{
    size_t n = json_array_size(path);
    size_t last_str = n;
    int rc = 0, first = 1;
    for (size_t i = n; i-- > 0;)
        if (json_is_string(json_array_get(path, i))) {
            last_str = i;
            break;
        }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(path, i);
        if (!json_is_integer(e) && i != last_str)
            continue;
        if (!first)
            rc |= tc_buf_putc(out, '_');
        first = 0;
        if (json_is_integer(e))
            rc |= tc_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(e));
        else
            rc |= tc_buf_puts(out, json_string_value(e));
    }
    return rc ? -1 : 0;
}

int tc_format_vars(const json_t *resolved_vars, tc_buf *out)
{
    int rc = -1, first = 1;
    size_t i;
    json_t *pair;
    json_t *sorted = json_copy((json_t *)resolved_vars);   /* shallow: only reordered */
    tc_buf key;
    tc_buf_init(&key);
    if (!sorted || sort_pairs(sorted) < 0)
        goto done;
    json_array_foreach(sorted, i, pair) {
        json_t *path = json_array_get(pair, 0);
        if (skipped_path(path))
            continue;
        tc_buf_clear(&key);
        if (path_key(path, &key) < 0)
            goto done;
        json_t *k = json_string(key.data ? key.data : "");
        int bad = !k || (!first && tc_buf_putc(out, ',') < 0) || clean_value(k, out) < 0 ||
                  tc_buf_putc(out, '=') < 0 || clean_value(json_array_get(pair, 1), out) < 0;
        json_decref(k);
        if (bad)
            goto done;
        first = 0;
    }
    rc = 0;
done:
    tc_buf_free(&key);
    json_decref(sorted);
    return rc;
}

/* {"/".join(str(p) for p in path without a leading "config"): value}. */
static json_t *evaluated_params(const json_t *resolved_vars)
{
    json_t *out = json_object();
    size_t i, j;
    json_t *pair, *e;
    tc_buf key;
    tc_buf_init(&key);
    json_array_foreach(resolved_vars, i, pair) {
        json_t *path = json_array_get(pair, 0);
        const char *first = json_string_value(json_array_get(path, 0));
        int rc = 0;
        tc_buf_clear(&key);
        rc = tc_buf_puts(&key, "");
        json_array_foreach(path, j, e) {
            if (j == 0 && first && strcmp(first, "config") == 0)
                continue;
            if (key.len)
                rc |= tc_buf_putc(&key, '/');
            if (json_is_integer(e))
                rc |= tc_buf_printf(&key, "%" JSON_INTEGER_FORMAT, json_integer_value(e));
            else
                rc |= tc_buf_puts(&key, json_string_value(e));
        }
        if (!out || rc || json_object_set(out, key.data, json_array_get(pair, 1)) < 0) {
            json_decref(out);
            out = NULL;
            break;
        }
    }
    tc_buf_free(&key);
    return out;
}

/* Fills v from a final (spec, vars); both are stolen. */
static int make_variant(tc_space *s, json_t *spec, json_t *vars, tc_variant *v, tc_error *err)
{
    tc_buf tag;
    tc_buf_init(&tag);
    json_t *config = json_object_get(spec, "config");
    v->index = s->next_index;
    v->spec = spec;
    v->resolved_vars = vars;
    v->config = config ? json_incref(config) : json_object();
    if (sort_pairs(vars) < 0 || !v->config || !(v->evaluated_params = evaluated_params(vars)))
        goto nomem;
    if (tc_buf_printf(&tag, "%ld", v->index) < 0 ||
        (json_array_size(vars) && (tc_buf_putc(&tag, '_') < 0 || tc_format_vars(vars, &tag) < 0)))
        goto nomem;
    v->tag = tag.data;   /* the buffer's memory is the malloc'd tag */
    s->next_index++;
    s->rep_yield++;
    return 0;
nomem:
    tc_buf_free(&tag);
    tc_variant_clear(v);
    return tc_error_set(err, TC_ERR_NOMEM, "out of memory building a variant");
}

/* ------------------------------------------------------------------------- */
/* the order of variants: points_to_evaluate first, shuffle                   */
/* ------------------------------------------------------------------------- */

/* Ray 1.x's get_preset_variants: the point's resolved leaves overwrite the
 * spec's config at their paths (a grid_search or a distribution there
 * included); dicts are merged key by key; a point value that is itself
 * unresolved is ignored, as Ray ignores it. A key the config lacks is an
 * error naming it. */
static int preset_into(json_t *dst, const json_t *point, json_t *path, size_t index,
                       tc_error *err)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)point, key, value) {
        json_t *have = json_object_get(dst, key);
        if (json_array_append_new(path, json_string(key)) < 0)
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        int rc = 0;
        if (!have) {
            tc_buf where;
            tc_buf_init(&where);
            tcp_path_render(path, &where);
            rc = tc_error_set(err, TC_ERR_VALUE, "points_to_evaluate[%zu]: %s is not a key of "
                              "the search space: add it to `config`", index,
                              where.data ? where.data : "?");
            tc_buf_free(&where);
        } else if (tcp_node_kind(value) != TCP_NODE_CONST) {
            rc = 0;    /* unresolved in the point: the spec's own node stays */
        } else if (json_is_object(value) && !tcp_is_obj_marker(value) &&
                   json_is_object(have) && tcp_node_kind(have) == TCP_NODE_CONST &&
                   !tcp_is_obj_marker(have)) {
            rc = preset_into(have, value, path, index, err);
        } else if (json_object_set_new(dst, key, json_deep_copy(value)) < 0) {
            rc = tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        }
        json_array_remove(path, json_array_size(path) - 1);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* s->points from the spec's "points_to_evaluate" (borrowed). */
static int build_points(tc_space *s, const json_t *points, tc_error *err)
{
    if (!json_is_array(points))
        return tc_error_set(err, TC_ERR_TYPE, "points_to_evaluate must be a list of dicts");
    s->points = json_array();
    if (!s->points)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    size_t i;
    json_t *point;
    json_array_foreach(points, i, point) {
        if (!json_is_object(point))
            return tc_error_set(err, TC_ERR_TYPE, "points_to_evaluate[%zu] must be a dict", i);
        json_t *spec = json_deep_copy(s->spec), *path = json_pack("[s]", "config");
        json_t *config = spec ? json_object_get(spec, "config") : NULL;
        int rc = (spec && path) ? 0 : tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        if (rc == 0 && !config && json_object_size(point))
            rc = tc_error_set(err, TC_ERR_VALUE, "points_to_evaluate[%zu]: the search space "
                              "has no config", i);
        if (rc == 0 && config)
            rc = preset_into(config, point, path, i, err);
        json_decref(path);
        if (rc == 0 && json_array_append_new(s->points, spec) < 0)
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        if (rc < 0) {
            json_decref(spec);
            return -1;
        }
    }
    return 0;
}

static int next_generated(tc_space *s, tc_eval_fn fn, void *ctx, tc_variant *out,
                          tc_error *err);

/* Each point is one repetition (Ray 1.x's _TrialIterator): its own variants
 * (a grid the point leaves open still expands) come before the generated
 * ones, which make up the num_samples the points left. */
static int next_in_order(tc_space *s, tc_eval_fn fn, void *ctx, tc_variant *out,
                         tc_error *err)
{
    size_t npoints = json_array_size(s->points);
    while (s->point || s->points_done < npoints) {
        if (!s->point) {
            /* Its own stream: the points do not shift the generated draws. */
            uint64_t seed = s->seed ^ (0xD1B54A32D192ED03ull * (uint64_t)(s->points_done + 1));
            s->point = tc_space_new(json_array_get(s->points, s->points_done), 1, seed, err);
            if (!s->point)
                return -1;
            s->points_done++;
        }
        s->point->next_index = s->next_index;
        int r = tc_space_next(s->point, fn, ctx, out, err);
        if (r != 0) {
            s->next_index = s->point->next_index;
            return r;
        }
        tc_space_free(s->point);
        s->point = NULL;
    }
    return next_generated(s, fn, ctx, out, err);
}

/* Shuffle (Ray 0.8): every variant is made first, numbered in generation
 * order, then yielded in a permutation drawn from the seed — the same seed
 * gives the same order, so a resumed run regenerates it. */
static int next_shuffled(tc_space *s, tc_eval_fn fn, void *ctx, tc_variant *out,
                         tc_error *err)
{
    if (!s->order) {
        size_t cap = 16;
        s->order = tc_malloc(cap * sizeof *s->order);
        if (!s->order)
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        for (;;) {
            if (s->norder == cap) {
                tc_variant *grown = tc_realloc(s->order, 2 * cap * sizeof *grown);
                if (!grown)
                    return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
                s->order = grown;
                cap *= 2;
            }
            int r = next_in_order(s, fn, ctx, &s->order[s->norder], err);
            if (r < 0)
                return -1;
            if (r == 0)
                break;
            s->norder++;
        }
        tc_rng rng;
        tc_rng_seed(&rng, s->seed ^ 0x5DEECE66Dull);
        for (size_t i = s->norder; i > 1; i--) {    /* Fisher-Yates */
            size_t j = (size_t)tc_rng_below(&rng, i);
            tc_variant tmp = s->order[i - 1];
            s->order[i - 1] = s->order[j];
            s->order[j] = tmp;
        }
    }
    if (s->order_next == s->norder)
        return 0;
    *out = s->order[s->order_next];
    memset(&s->order[s->order_next++], 0, sizeof *out);
    return 1;
}

/* ------------------------------------------------------------------------- */
/* public API                                                                 */
/* ------------------------------------------------------------------------- */

tc_space *tc_space_new(const json_t *spec, long num_samples, uint64_t seed, tc_error *err)
{
    tc_space *s = NULL;
    json_t *path = json_array();
    if (!path) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        goto error;
    }
    if (!json_is_object(spec)) {
        tc_error_set(err, TC_ERR_TYPE, "the search space must be a JSON object ({\"config\": ...})");
        goto error;
    }
    if (tcp_space_validate(spec, path, err) < 0)
        goto error;
    s = tc_calloc(1, sizeof *s);
    if (!s || !(s->spec = json_deep_copy(spec))) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        goto error;
    }
    s->num_samples = num_samples;
    s->seed = seed;
    tc_rng_seed(&s->rng, seed);
    /* The order keys are options of the generator, not part of the space. */
    s->shuffle = json_is_true(json_object_get(spec, "shuffle"));
    json_object_del(s->spec, "shuffle");
    const json_t *points = json_object_get(spec, "points_to_evaluate");
    if (points) {
        json_object_del(s->spec, "points_to_evaluate");
        if (build_points(s, points, err) < 0)
            goto error;
        s->rep = (long)json_array_size(s->points);    /* each point is a repetition */
    }
    if (s->shuffle && num_samples < 0) {
        tc_error_set(err, TC_ERR_VALUE, "BasicVariantGenerator(shuffle=True) needs a finite "
                     "num_samples: it orders all variants before the first trial");
        goto error;
    }
    /* Level 0 is built now so the grid size is known before the first draw. */
    if (level_init(&s->lv[0], json_incref(s->spec), err) < 0)
        goto error;
    s->nlevels = 1;
    s->grid_size = 1;
    for (size_t i = 0; i < s->lv[0].ngrid; i++) {
        long n = (long)json_array_size(grid_values(&s->lv[0].grid[i]));
        s->grid_size = (n && s->grid_size > LONG_MAX / n) ? LONG_MAX : s->grid_size * n;
    }
    json_decref(path);
    return s;
error:
    json_decref(path);
    tc_space_free(s);
    return NULL;
}

void tc_space_free(tc_space *s)
{
    if (!s)
        return;
    for (int d = 0; d < s->nlevels; d++)
        level_clear(&s->lv[d]);
    json_decref(s->spec);
    json_decref(s->points);
    tc_space_free(s->point);
    for (size_t i = s->order_next; i < s->norder; i++)
        tc_variant_clear(&s->order[i]);
    tc_free(s->order);
    tc_free(s);
}

int tc_space_next(tc_space *s, tc_eval_fn fn, void *ctx, tc_variant *out, tc_error *err)
{
    memset(out, 0, sizeof *out);
    if (s->failed)
        return tc_error_set(err, TC_ERR_VALUE, "the search space generator stopped at an earlier error");
    int r = s->shuffle ? next_shuffled(s, fn, ctx, out, err) : next_in_order(s, fn, ctx, out, err);
    if (r < 0)
        s->failed = 1;
    return r;
}

/* The grid × num_samples variants, in generation order. */
static int next_generated(tc_space *s, tc_eval_fn fn, void *ctx, tc_variant *out,
                          tc_error *err)
{
    json_t *spec = NULL, *vars = NULL;
    for (;;) {
        if (s->num_samples >= 0 && s->rep >= s->num_samples)
            return 0;
        if (s->nlevels == 0) {
            if (level_init(&s->lv[0], json_incref(s->spec), err) < 0)
                return -1;
            s->nlevels = 1;
        }
        int r = level_next(s, 0, fn, ctx, &spec, &vars, err);
        if (r < 0)
            return -1;
        if (r == 1)
            return make_variant(s, spec, vars, out, err) < 0 ? -1 : 1;
        /* one repetition of the grid is complete (§5.4) */
        level_clear(&s->lv[0]);
        s->nlevels = 0;
        if (s->num_samples < 0 && s->rep_yield == 0)
            return 0;   /* unbounded, but a whole repetition yields nothing */
        s->rep++;
        s->rep_yield = 0;
    }
}

long tc_space_grid_size(const tc_space *s)
{
    return s->grid_size;
}

void tc_space_set_next_index(tc_space *s, long next_index)
{
    s->next_index = next_index;
}

long tc_space_next_index(const tc_space *s)
{
    return s->next_index;
}

void tc_variant_clear(tc_variant *v)
{
    if (!v)
        return;
    json_decref(v->spec);
    json_decref(v->config);
    json_decref(v->resolved_vars);
    json_decref(v->evaluated_params);
    tc_free(v->tag);
    memset(v, 0, sizeof *v);
}
