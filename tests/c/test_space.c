/* test_space.c — search-space expansion (spec §5.2–§5.5, §18.3–18.6, §18.37):
 * grid order, list paths, tags, num_samples × grid, every domain kind's range
 * and quantisation, seed reproducibility, fn dependency order and cycles,
 * validation messages. Specs are written with single quotes (J()) for
 * readability. */
#include <stdlib.h>
#include "tunec.h"
#include "tc_test.h"

/* JSON text with ' for " (no ' may appear inside strings). New reference. */
static json_t *J(const char *text)
{
    char *t = strdup(text);
    for (char *p = t; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t e;
    json_t *v = json_loads(t, JSON_DECODE_ANY, &e);
    if (!v)
        fprintf(stderr, "bad test JSON: %s: %s\n", t, e.text);
    free(t);
    return v;
}

static char *dumps(const json_t *v)
{
    tc_buf b;
    tc_buf_init(&b);
    tc_json_dump(v, &b, TC_DUMP_COMPACT);
    return b.data;
}

#define CHECK_JSON(v, text) do { json_t *e_ = J(text); char *got_ = dumps(v), *exp_ = dumps(e_); \
    CHECK_STR(got_, exp_); free(got_); free(exp_); json_decref(e_); } while (0)

/* ------------------------------------------------------------------------- */
/* a C resolver for fn nodes: rule `id` reads config[dep] and adds `add`, or  */
/* returns `ret` (JSON text), or fails                                        */
/* ------------------------------------------------------------------------- */

typedef struct rule {
    json_int_t id;
    const char *dep;     /* config key read, NULL for none */
    long add;
    const char *ret;     /* JSON text returned when dep is NULL */
    int fail;            /* 1: a non-dependency failure */
} rule;

typedef struct fn_ctx {
    const rule *rules;
    int calls;
    char order[64];      /* ids in call order, as letters 'a' + id */
} fn_ctx;

static int unresolved(const json_t *v)
{
    return json_is_object(v) && (json_object_get(v, "$tunec") ||
           (json_object_size(v) == 1 && json_object_get(v, "grid_search")));
}

static json_t *test_fn(void *vctx, json_int_t id, const json_t *path, const json_t *spec,
                       tc_error *err)
{
    fn_ctx *ctx = vctx;
    const rule *r = ctx->rules;
    while (r->id != id)
        r++;
    if (ctx->calls < 63)
        ctx->order[ctx->calls] = (char)('a' + id);
    ctx->calls++;
    if (r->fail) {
        tc_error_set(err, TC_ERR_CALLBACK, "boom at %d", (int)id);
        return NULL;
    }
    if (!r->dep)
        return J(r->ret);
    json_t *dep = json_object_get(json_object_get(spec, "config"), r->dep);
    if (unresolved(dep)) {
        tc_buf b;
        tc_buf_init(&b);
        tc_py_str(dep, &b);
        /* Ray's text (§5.3 step 4) */
        tc_error_set(err, TC_ERR_DEPENDENCY, "`%s` recursively depends on %s", r->dep, b.data);
        tc_buf_free(&b);
        return NULL;
    }
    return json_integer(json_integer_value(dep) + r->add);
}

/* Expands text fully (num_samples, seed) into arrays of tags and configs.
 * Returns the count, or -1 with *err filled. */
#define MAXV 4096
static int expand(const char *text, long num_samples, uint64_t seed, tc_eval_fn fn, void *ctx,
                  char **tags, json_t **configs, tc_error *err)
{
    json_t *spec = J(text);
    tc_space *s = tc_space_new(spec, num_samples, seed, err);
    int n = 0, r = 0;
    json_decref(spec);
    if (!s)
        return -1;
    tc_variant v;
    while (n < MAXV && (r = tc_space_next(s, fn, ctx, &v, err)) == 1) {
        CHECK_INT(v.index, n);
        if (tags)
            tags[n] = strdup(v.tag);
        if (configs)
            configs[n] = json_incref(v.config);
        n++;
        tc_variant_clear(&v);
    }
    tc_space_free(s);
    return r < 0 ? -1 : n;
}

static void free_all(char **tags, json_t **configs, int n)
{
    for (int i = 0; i < n; i++) {
        if (tags)
            free(tags[i]);
        if (configs)
            json_decref(configs[i]);
    }
}

/* ------------------------------------------------------------------------- */
/* grid order, list paths, tags                                               */
/* ------------------------------------------------------------------------- */

typedef struct tag_case {
    const char *spec;
    long num_samples;
    int count;
    const char *tags[8];   /* the first few tags, NULL-terminated */
} tag_case;

static const tag_case TAG_CASES[] = {
    /* §5.3 step 3: the first sorted var (alpha) changes fastest */
    {"{'config': {'beta': {'grid_search': [1, 2]}, 'alpha': {'grid_search': [0.2, 0.4, 0.6]}}}", 1, 6,
     {"0_alpha=0.2,beta=1", "1_alpha=0.4,beta=1", "2_alpha=0.6,beta=1", "3_alpha=0.2,beta=2",
      "4_alpha=0.4,beta=2", "5_alpha=0.6,beta=2", NULL}},
    /* §5.2: lists recursed with integer indices */
    {"{'config': {'layers': [{'grid_search': [16, 64]}, {'grid_search': [16, 64]}]}}", 1, 4,
     {"0_layers_0=16,layers_1=16", "1_layers_0=64,layers_1=16", "2_layers_0=16,layers_1=64",
      "3_layers_0=64,layers_1=64", NULL}},
    /* constants only: the tag is the bare counter; num_samples repeats */
    {"{'config': {'a': 1, 'b': [1, 2]}}", 3, 3, {"0", "1", "2", NULL}},
    /* nested key: only the leaf name shows (§18.3) */
    {"{'config': {'a': {'b': {'c': {'d': {'grid_search': [4]}}}}}}", 1, 1, {"0_d=4", NULL}},
    /* "run"/"env"/"resources_per_trial" paths are left out, "_" stays */
    {"{'run': {'grid_search': ['x', 'y']}, 'config': {}}", 1, 2, {"0_", "1_", NULL}},
    {"{'env': {'grid_search': ['E']}, 'config': {'z': {'grid_search': [1]}}}", 1, 1, {"0_z=1", NULL}},
    /* floats: format(v, '.5'); strings: "/" -> "_"; other values: str() */
    {"{'config': {'f': {'grid_search': [0.1, 1e-05, 123456.0, 2.0, 1234.5678]}}}", 1, 5,
     {"0_f=0.1", "1_f=1e-05", "2_f=1.2346e+05", "3_f=2.0", "4_f=1234.6", NULL}},
    {"{'config': {'s': {'grid_search': ['a/b', true, null, [1, 'x'], {'k': 'v/w'}]}}}", 1, 5,
     {"0_s=a_b", "1_s=True", "2_s=None", "3_s=[1, 'x']", "4_s={'k': 'v_w'}", NULL}},
    /* a grid inside a grid value: both the outer path and the inner one */
    {"{'config': {'a': {'grid_search': [{'x': {'grid_search': [1, 2]}}, 3]}}}", 1, 3,
     {"0_a={'x': 1},x=1", "1_a={'x': 2},x=2", "2_a=3", NULL}},
    /* an opaque object shows its repr */
    {"{'config': {'m': {'grid_search': [{'$tunec': 'obj', 'id': 1, 'repr': '<class X>'}]}}}", 1, 1,
     {"0_m=<class X>", NULL}},
    /* an empty grid gives no variant at all */
    {"{'config': {'a': {'grid_search': []}, 'b': {'grid_search': [1, 2]}}}", 4, 0, {NULL}},
    /* num_samples 0 */
    {"{'config': {'a': {'grid_search': [1, 2]}}}", 0, 0, {NULL}},
};

static void test_tags(void)
{
    char *tags[MAXV];
    for (size_t c = 0; c < sizeof TAG_CASES / sizeof TAG_CASES[0]; c++) {
        const tag_case *tc = &TAG_CASES[c];
        tc_error err;
        tc_error_init(&err);
        int n = expand(tc->spec, tc->num_samples, 1, NULL, NULL, tags, NULL, &err);
        CHECK_INT(n, tc->count);
        if (n < 0)
            fprintf(stderr, "case %zu: %s\n", c, err.text);
        for (int i = 0; i < n && tc->tags[i]; i++)
            CHECK_STR(tags[i], tc->tags[i]);
        free_all(tags, NULL, n > 0 ? n : 0);
    }
}

static void test_configs_and_params(void)
{
    json_t *spec = J("{'config': {'lr': {'grid_search': [0.1, 0.2]}, 'model': {'layers': "
                     "[{'grid_search': [16, 64]}, 8]}, 'k': 'const'}}");
    tc_error err;
    tc_error_init(&err);
    tc_space *s = tc_space_new(spec, 1, 7, &err);
    json_decref(spec);
    CHECK(s != NULL);
    CHECK_INT(tc_space_grid_size(s), 4);
    tc_variant v;
    CHECK_INT(tc_space_next(s, NULL, NULL, &v, &err), 1);
    CHECK_JSON(v.config, "{'lr': 0.1, 'model': {'layers': [16, 8]}, 'k': 'const'}");
    CHECK_JSON(v.resolved_vars, "[[['config', 'lr'], 0.1], [['config', 'model', 'layers', 0], 16]]");
    CHECK_JSON(v.evaluated_params, "{'lr': 0.1, 'model/layers/0': 16}");
    CHECK_JSON(v.spec, "{'config': {'lr': 0.1, 'model': {'layers': [16, 8]}, 'k': 'const'}}");
    CHECK_STR(v.tag, "0_lr=0.1,layers_0=16");
    tc_variant_clear(&v);
    CHECK(v.config == NULL && v.tag == NULL);
    tc_variant_clear(&v);   /* idempotent */
    tc_space_free(s);
}

/* ------------------------------------------------------------------------- */
/* format_vars                                                                */
/* ------------------------------------------------------------------------- */

static const struct { const char *vars; const char *out; } FORMAT_CASES[] = {
    {"[[['config', 'a', 1, 'b', 2], 3]]", "1_b_2=3"},
    {"[[['config', 'alpha'], 0.5], [['config', 'beta'], 2]]", "alpha=0.5,beta=2"},
    {"[[['config', 'beta'], 2], [['config', 'alpha'], 0.5]]", "alpha=0.5,beta=2"},   /* sorted */
    {"[[['config', 'layers', 0], 16]]", "layers_0=16"},
    {"[[['config', 'a/b'], 'c/d']]", "a_b=c_d"},
    {"[[['run'], 'PPO'], [['env'], 'x'], [['resources_per_trial', 'cpu'], 2]]", ""},
    /* mixed types at one position: an integer sorts before a string */
    {"[[['config', 'a', 'x'], 1], [['config', 'a', 0], 2]]", "a_0=2,x=1"},
    /* a path sorts after its prefix; numbers compare numerically */
    {"[[['config', 'l', 10], 1], [['config', 'l', 9], 2], [['config', 'l'], 3]]", "l=3,l_9=2,l_10=1"},
    {"[]", ""},
};

static void test_format_vars(void)
{
    for (size_t c = 0; c < sizeof FORMAT_CASES / sizeof FORMAT_CASES[0]; c++) {
        json_t *vars = J(FORMAT_CASES[c].vars);
        tc_buf b;
        tc_buf_init(&b);
        CHECK_INT(tc_format_vars(vars, &b), 0);
        CHECK_STR(b.data ? b.data : "", FORMAT_CASES[c].out);
        tc_buf_free(&b);
        json_decref(vars);
    }
    /* non-finite reals come in as the engine's markers */
    json_t *vars = json_pack("[[[s, s], o], [[s, s], o]]", "config", "n", tc_json_real(NAN),
                             "config", "p", tc_json_real(INFINITY));
    tc_buf b;
    tc_buf_init(&b);
    CHECK_INT(tc_format_vars(vars, &b), 0);
    CHECK_STR(b.data, "n=nan,p=inf");
    tc_buf_free(&b);
    json_decref(vars);
}

/* ------------------------------------------------------------------------- */
/* num_samples × grid and the counter                                         */
/* ------------------------------------------------------------------------- */

static void test_num_samples(void)
{
    json_t *spec = J("{'config': {'a': {'grid_search': [1, 2, 3]}, 'b': {'grid_search': ['x', 'y']}, "
                     "'u': {'$tunec': 'domain', 'kind': 'uniform', 'lower': 0, 'upper': 1}}}");
    tc_error err;
    tc_error_init(&err);
    tc_space *s = tc_space_new(spec, 3, 11, &err);
    CHECK_INT(tc_space_grid_size(s), 6);
    tc_space_set_next_index(s, 100);   /* a second experiment continues the count */
    tc_variant v;
    int n = 0;
    double first_u[6] = {0}, u;
    while (tc_space_next(s, NULL, NULL, &v, &err) == 1) {
        char expect[16];
        snprintf(expect, sizeof expect, "%d_", 100 + n);
        CHECK_INT(v.index, 100 + n);
        CHECK(strncmp(v.tag, expect, strlen(expect)) == 0);
        /* the grid repeats; the sampled value is drawn anew each repetition */
        CHECK_INT(json_integer_value(json_object_get(v.config, "a")), 1 + n % 3);
        u = json_real_value(json_object_get(v.config, "u"));
        if (n < 6)
            first_u[n] = u;
        else
            CHECK(u != first_u[n % 6]);
        n++;
        tc_variant_clear(&v);
    }
    CHECK_INT(n, 18);
    CHECK_INT(tc_space_next_index(s), 118);
    CHECK_INT(tc_space_next(s, NULL, NULL, &v, &err), 0);   /* stays exhausted */
    tc_space_free(s);

    /* unbounded: keeps going */
    s = tc_space_new(spec, -1, 11, &err);
    for (n = 0; n < 50 && tc_space_next(s, NULL, NULL, &v, &err) == 1; n++)
        tc_variant_clear(&v);
    CHECK_INT(n, 50);
    tc_space_free(s);
    json_decref(spec);

    /* unbounded over an empty grid ends instead of spinning */
    spec = J("{'config': {'a': {'grid_search': []}}}");
    s = tc_space_new(spec, -1, 1, &err);
    CHECK_INT(tc_space_grid_size(s), 0);
    CHECK_INT(tc_space_next(s, NULL, NULL, &v, &err), 0);
    tc_space_free(s);
    json_decref(spec);
}

/* ------------------------------------------------------------------------- */
/* domains                                                                    */
/* ------------------------------------------------------------------------- */

typedef struct dom_case {
    const char *node;     /* the domain node */
    int integer;          /* results are JSON integers */
    double lo, hi;        /* closed range every draw must be in */
    int hi_open;          /* and hi itself is never drawn */
    double q;             /* draws are multiples of q (0: none) */
    int distinct;         /* exact number of distinct values expected (0: many) */
} dom_case;

static const dom_case DOM_CASES[] = {
    {"{'kind': 'uniform', 'lower': -2, 'upper': 3}", 0, -2, 3, 1, 0, 0},
    {"{'kind': 'uniform', 'lower': 0.5, 'upper': 0.5000001}", 0, 0.5, 0.5000001, 1, 0, 0},
    {"{'kind': 'quniform', 'lower': 0, 'upper': 1, 'q': 0.25}", 0, 0, 1, 0, 0.25, 5},
    {"{'kind': 'quniform', 'lower': 0.1, 'upper': 0.3, 'q': 0.1}", 0, 0.1, 0.3, 0, 0.1, 3},
    {"{'kind': 'quniform', 'lower': 0.05, 'upper': 0.95, 'q': 0.5}", 0, 0.05, 0.95, 0, 0.5, 1},
    {"{'kind': 'quniform', 'lower': 1, 'upper': 9, 'q': 2, 'int': true}", 1, 2, 8, 0, 2, 4},
    {"{'kind': 'loguniform', 'lower': 1e-4, 'upper': 1e-1}", 0, 1e-4, 1e-1, 1, 0, 0},
    {"{'kind': 'loguniform', 'lower': 1, 'upper': 1024, 'base': 2}", 0, 1, 1024, 1, 0, 0},
    {"{'kind': 'qloguniform', 'lower': 1e-4, 'upper': 1e-1, 'q': 5e-5}", 0, 1e-4, 1e-1, 0, 5e-5, 0},
    {"{'kind': 'qloguniform', 'lower': 1, 'upper': 100, 'q': 10}", 0, 10, 100, 0, 10, 0},
    {"{'kind': 'randint', 'lower': 0, 'upper': 3}", 1, 0, 2, 0, 1, 3},
    {"{'kind': 'randint', 'lower': -5, 'upper': -3}", 1, -5, -4, 0, 1, 2},
    {"{'kind': 'randint', 'lower': 2.0, 'upper': 4}", 1, 2, 3, 0, 1, 2},
    {"{'kind': 'qrandint', 'lower': 1, 'upper': 10, 'q': 3}", 1, 3, 9, 0, 3, 3},
    {"{'kind': 'qrandint', 'lower': 1, 'upper': 10, 'q': 1}", 1, 1, 10, 0, 1, 10},
    {"{'kind': 'qrandint', 'lower': -7, 'upper': 7, 'q': 5}", 1, -5, 5, 0, 5, 3},
    {"{'kind': 'lograndint', 'lower': 1, 'upper': 5}", 1, 1, 4, 0, 1, 4},
    {"{'kind': 'lograndint', 'lower': 1, 'upper': 1000, 'base': 2}", 1, 1, 999, 0, 1, 0},
    {"{'kind': 'qlograndint', 'lower': 1, 'upper': 100, 'q': 25}", 1, 25, 100, 0, 25, 4},
    {"{'kind': 'qlograndint', 'lower': 2, 'upper': 9, 'q': 2}", 1, 2, 8, 0, 2, 4},
    {"{'kind': 'randn', 'mean': 5, 'sd': 0.001}", 0, 4.99, 5.01, 0, 0, 0},
    {"{'kind': 'randn', 'mean': 0, 'sd': 1, 'q': 0.5}", 0, -10, 10, 0, 0.5, 0},
    {"{'kind': 'randn', 'mean': 0, 'sd': 1, 'q': 1, 'int': true}", 1, -10, 10, 0, 1, 0},
    {"{'kind': 'choice', 'categories': [10, 20, 30]}", 1, 10, 30, 0, 10, 3},
};

static int is_multiple(double x, double q)
{
    double k = x / q;
    return fabs(k - nearbyint(k)) < 1e-6;
}

static void test_domains(void)
{
    enum { DRAWS = 3000 };
    for (size_t c = 0; c < sizeof DOM_CASES / sizeof DOM_CASES[0]; c++) {
        const dom_case *dc = &DOM_CASES[c];
        char text[512];
        snprintf(text, sizeof text, "{'config': {'x': %.*s'$tunec': 'domain', %s}}", 1, dc->node,
                 dc->node + 1);
        json_t *spec = J(text);
        tc_error err;
        tc_error_init(&err);
        tc_space *s = tc_space_new(spec, DRAWS, 42 + c, &err);
        json_decref(spec);
        CHECK(s != NULL);
        if (!s) {
            fprintf(stderr, "case %zu: %s\n", c, err.text);
            continue;
        }
        double seen[64];
        int nseen = 0, bad = 0, n = 0;
        double sum = 0;
        tc_variant v;
        while (tc_space_next(s, NULL, NULL, &v, &err) == 1) {
            json_t *x = json_object_get(v.config, "x");
            double d = 0;
            if (dc->integer ? !json_is_integer(x) : !json_is_real(x))
                bad |= 1;
            tc_json_number(x, &d);
            if (d < dc->lo || d > dc->hi || (dc->hi_open && d >= dc->hi))
                bad |= 2;
            if (dc->q > 0 && !is_multiple(d, dc->q))
                bad |= 4;
            int known = 0;
            for (int i = 0; i < nseen; i++)
                known |= seen[i] == d;
            if (!known && nseen < 64)
                seen[nseen++] = d;
            sum += d;
            n++;
            tc_variant_clear(&v);
        }
        tc_space_free(s);
        CHECK_INT(n, DRAWS);
        if (bad)
            fprintf(stderr, "domain case %zu (%s): flags %d\n", c, dc->node, bad);
        CHECK_INT(bad, 0);
        if (dc->distinct)
            CHECK_INT(nseen, dc->distinct);
        else
            CHECK(nseen >= 8);   /* continuous or wide: many distinct values */
        if (c == 0)   /* uniform(-2, 3): mean 0.5 */
            CHECK_NEAR(sum / n, 0.5, 0.15);
    }

    /* randn: mean and spread of the standard normal */
    json_t *spec = J("{'config': {'x': {'$tunec': 'domain', 'kind': 'randn', 'mean': 3, 'sd': 2}}}");
    tc_error err;
    tc_error_init(&err);
    tc_space *s = tc_space_new(spec, 20000, 5, &err);
    json_decref(spec);
    double sum = 0, sq = 0;
    int n = 0;
    tc_variant v;
    while (tc_space_next(s, NULL, NULL, &v, &err) == 1) {
        double x = json_real_value(json_object_get(v.config, "x"));
        sum += x;
        sq += x * x;
        n++;
        tc_variant_clear(&v);
    }
    tc_space_free(s);
    double mean = sum / n, sd = sqrt(sq / n - mean * mean);
    CHECK_NEAR(mean, 3.0, 0.06);
    CHECK_NEAR(sd, 2.0, 0.06);

    /* randn shape -> nested lists (0.8's randn(2, 3)) */
    spec = J("{'config': {'x': {'$tunec': 'domain', 'kind': 'randn', 'shape': [2, 3]}, "
             "'e': {'$tunec': 'domain', 'kind': 'randn', 'shape': [0]}}}");
    s = tc_space_new(spec, 1, 5, &err);
    json_decref(spec);
    CHECK_INT(tc_space_next(s, NULL, NULL, &v, &err), 1);
    json_t *x = json_object_get(v.config, "x");
    CHECK_INT(json_array_size(x), 2);
    CHECK_INT(json_array_size(json_array_get(x, 1)), 3);
    CHECK(json_is_real(json_array_get(json_array_get(x, 1), 2)));
    CHECK_JSON(json_object_get(v.config, "e"), "[]");
    tc_variant_clear(&v);
    tc_space_free(s);
}

/* A choice among grids and domains: the chosen category is resolved by the
 * next level, so a grid category yields several variants. */
static void test_choice_of_grids(void)
{
    char *tags[MAXV];
    json_t *configs[MAXV];
    tc_error err;
    tc_error_init(&err);
    int n = expand("{'config': {'c': {'$tunec': 'domain', 'kind': 'choice', 'categories': "
                   "[{'grid_search': [1, 2, 3]}]}}}", 1, 3, NULL, NULL, tags, configs, &err);
    CHECK_INT(n, 3);
    CHECK_STR(tags[0], "0_c=1");
    CHECK_STR(tags[2], "2_c=3");
    free_all(tags, configs, n);

    n = expand("{'config': {'c': {'$tunec': 'domain', 'kind': 'choice', 'categories': "
               "[{'$tunec': 'domain', 'kind': 'randint', 'lower': 5, 'upper': 6}]}}}",
               2, 3, NULL, NULL, tags, configs, &err);
    CHECK_INT(n, 2);
    CHECK_JSON(configs[1], "{'c': 5}");
    CHECK_STR(tags[1], "1_c=5");
    free_all(tags, configs, n);
}

/* ------------------------------------------------------------------------- */
/* seeds                                                                      */
/* ------------------------------------------------------------------------- */

static const char *SEEDED =
    "{'config': {'g': {'grid_search': [1, 2]}, "
    "'u': {'$tunec': 'domain', 'kind': 'uniform', 'lower': 0, 'upper': 1}, "
    "'l': [{'$tunec': 'domain', 'kind': 'loguniform', 'lower': 1e-5, 'upper': 1}], "
    "'c': {'$tunec': 'domain', 'kind': 'choice', 'categories': ['a', 'b', 'c', 'd']}, "
    "'n': {'$tunec': 'domain', 'kind': 'randn'}, "
    "'i': {'$tunec': 'domain', 'kind': 'qrandint', 'lower': 0, 'upper': 1000, 'q': 7}}}";

static void test_seeds(void)
{
    char *a[MAXV], *b[MAXV], *c[MAXV];
    tc_error err;
    tc_error_init(&err);
    int na = expand(SEEDED, 20, 1234, NULL, NULL, a, NULL, &err);
    int nb = expand(SEEDED, 20, 1234, NULL, NULL, b, NULL, &err);
    int nc = expand(SEEDED, 20, 1235, NULL, NULL, c, NULL, &err);
    CHECK_INT(na, 40);
    CHECK_INT(nb, 40);
    CHECK_INT(nc, 40);
    int same = 1, differ = 0;
    for (int i = 0; i < na; i++) {
        same &= strcmp(a[i], b[i]) == 0;
        differ += strcmp(a[i], c[i]) != 0;
    }
    CHECK(same);
    CHECK_INT(differ, 40);
    free_all(a, NULL, na);
    free_all(b, NULL, nb);
    free_all(c, NULL, nc);

    /* the generator itself */
    tc_rng r1, r2;
    tc_rng_seed(&r1, 99);
    tc_rng_seed(&r2, 99);
    int eq = 1;
    for (int i = 0; i < 100; i++)
        eq &= tc_rng_next(&r1) == tc_rng_next(&r2);
    CHECK(eq);
    /* below(n): unbiased enough to see every residue, never n */
    int counts[7] = {0}, out = 0;
    for (int i = 0; i < 70000; i++) {
        uint64_t k = tc_rng_below(&r1, 7);
        if (k >= 7)
            out = 1;
        else
            counts[k]++;
    }
    CHECK(!out);
    for (int i = 0; i < 7; i++)
        CHECK_NEAR(counts[i], 10000, 400);
    double lo = 1, hi = 0;
    for (int i = 0; i < 100000; i++) {
        double u = tc_rng_uniform(&r1);
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    CHECK(lo >= 0 && lo < 1e-3 && hi < 1 && hi > 0.999);
    CHECK_INT(tc_rng_below(&r1, 1), 0);
}

/* ------------------------------------------------------------------------- */
/* fn nodes: dependency order, cycles, failures, values bringing new nodes    */
/* ------------------------------------------------------------------------- */

static const rule CHAIN[] = {
    /* a = c + 1, c = b + 10, b = 5: resolvable in 3 passes whatever the order */
    {0, "c", 1, NULL, 0}, {1, NULL, 0, "5", 0}, {2, "b", 10, NULL, 0}, {-1, NULL, 0, NULL, 0},
};
static const rule CYCLE[] = {
    {0, "b", 1, NULL, 0}, {1, "a", 1, NULL, 0}, {-1, NULL, 0, NULL, 0},
};
static const rule FAILS[] = {
    {0, NULL, 0, NULL, 1}, {-1, NULL, 0, NULL, 0},
};
static const rule RETURNS_GRID[] = {
    {0, NULL, 0, "{'grid_search': [1, 2, 3]}", 0},
    {1, NULL, 0, "{'$tunec': 'domain', 'kind': 'randint', 'lower': 7, 'upper': 8}", 0},
    {2, NULL, 0, "{'grid_search': 5}", 0},
    {3, NULL, 0, "{'$tunec': 'domain', 'kind': 'loguniform', 'lower': 0, 'upper': 1}", 0},
    {-1, NULL, 0, NULL, 0},
};
static const rule DEP_ON_DOMAIN[] = {
    {0, "u", 100, NULL, 0}, {-1, NULL, 0, NULL, 0},
};

static void test_fn_nodes(void)
{
    char *tags[MAXV];
    json_t *configs[MAXV];
    tc_error err;
    fn_ctx ctx = {CHAIN, 0, {0}};
    tc_error_init(&err);
    int n = expand("{'config': {'a': {'$tunec': 'fn', 'id': 0}, 'b': {'$tunec': 'fn', 'id': 1}, "
                   "'c': {'$tunec': 'fn', 'id': 2}, 'g': {'grid_search': [0, 1]}}}",
                   1, 1, test_fn, &ctx, tags, configs, &err);
    CHECK_INT(n, 2);
    CHECK_JSON(configs[0], "{'a': 16, 'b': 5, 'c': 15, 'g': 0}");
    CHECK_STR(tags[0], "0_a=16,b=5,c=15,g=0");
    /* per grid point: pass 1 a (blocked), b, c; pass 2 a */
    CHECK_STR(ctx.order, "abcaabca");
    free_all(tags, configs, n);

    /* a cycle: after 20 passes, the last dependency message */
    ctx = (fn_ctx){CYCLE, 0, {0}};
    tc_error_init(&err);
    n = expand("{'config': {'a': {'$tunec': 'fn', 'id': 0}, 'b': {'$tunec': 'fn', 'id': 1}}}",
               1, 1, test_fn, &ctx, tags, configs, &err);
    CHECK_INT(n, -1);
    CHECK_INT(err.code, TC_ERR_DEPENDENCY);
    CHECK_STR(err.text, "`a` recursively depends on {'$tunec': 'fn', 'id': 0}");
    CHECK_INT(ctx.calls, 40);

    /* another failure stops at once, with the callback's code and text */
    ctx = (fn_ctx){FAILS, 0, {0}};
    tc_error_init(&err);
    n = expand("{'config': {'a': {'$tunec': 'fn', 'id': 0}}}", 1, 1, test_fn, &ctx, NULL, NULL, &err);
    CHECK_INT(n, -1);
    CHECK_INT(err.code, TC_ERR_CALLBACK);
    CHECK_STR(err.text, "boom at 0");
    CHECK_INT(ctx.calls, 1);

    /* no resolver for a spec with fn nodes */
    tc_error_init(&err);
    n = expand("{'config': {'a': {'$tunec': 'fn', 'id': 0}}}", 1, 1, NULL, NULL, NULL, NULL, &err);
    CHECK_INT(n, -1);
    CHECK_INT(err.code, TC_ERR_VALUE);

    /* a fn returning a grid: the inner level yields one variant per value,
     * inside each outer grid point; a returned domain is sampled next */
    ctx = (fn_ctx){RETURNS_GRID, 0, {0}};
    tc_error_init(&err);
    n = expand("{'config': {'f': {'$tunec': 'fn', 'id': 0}, 'd': {'$tunec': 'fn', 'id': 1}, "
               "'o': {'grid_search': ['x', 'y']}}}", 1, 1, test_fn, &ctx, tags, configs, &err);
    CHECK_INT(n, 6);
    CHECK_STR(tags[0], "0_d=7,f=1,o=x");
    CHECK_STR(tags[1], "1_d=7,f=2,o=x");
    CHECK_STR(tags[3], "3_d=7,f=1,o=y");
    CHECK_JSON(configs[5], "{'f': 3, 'd': 7, 'o': 'y'}");
    CHECK_INT(ctx.calls, 4);   /* once per outer grid point per fn */
    free_all(tags, configs, n);

    /* a returned value is validated like the spec */
    ctx = (fn_ctx){RETURNS_GRID, 0, {0}};
    tc_error_init(&err);
    n = expand("{'config': {'f': {'$tunec': 'fn', 'id': 2}}}", 1, 1, test_fn, &ctx, NULL, NULL, &err);
    CHECK_INT(n, -1);
    CHECK_INT(err.code, TC_ERR_TUNE);
    CHECK_STR(err.text, "config[\"f\"]: Grid search expected list of values, got: 5");
    tc_error_init(&err);
    n = expand("{'config': {'f': {'$tunec': 'fn', 'id': 3}}}", 1, 1, test_fn, &ctx, NULL, NULL, &err);
    CHECK_INT(n, -1);
    CHECK_STR(err.text, "config[\"f\"]: loguniform lower bound must be > 0, got 0");

    /* fns see domain values already drawn (domains resolve first) */
    ctx = (fn_ctx){DEP_ON_DOMAIN, 0, {0}};
    tc_error_init(&err);
    n = expand("{'config': {'a': {'$tunec': 'fn', 'id': 0}, "
               "'u': {'$tunec': 'domain', 'kind': 'randint', 'lower': 3, 'upper': 4}}}",
               1, 1, test_fn, &ctx, NULL, configs, &err);
    CHECK_INT(n, 1);
    CHECK_JSON(configs[0], "{'a': 103, 'u': 3}");
    CHECK_INT(ctx.calls, 1);
    free_all(NULL, configs, n);

    /* after an error the generator refuses to go on */
    json_t *spec = J("{'config': {'a': {'$tunec': 'fn', 'id': 0}}}");
    tc_space *s = tc_space_new(spec, 2, 1, &err);
    tc_variant v;
    ctx = (fn_ctx){FAILS, 0, {0}};
    tc_error_init(&err);
    CHECK_INT(tc_space_next(s, test_fn, &ctx, &v, &err), -1);
    tc_error_init(&err);
    CHECK_INT(tc_space_next(s, test_fn, &ctx, &v, &err), -1);
    CHECK_INT(ctx.calls, 1);
    tc_space_free(s);
    json_decref(spec);
}

/* ------------------------------------------------------------------------- */
/* validation                                                                 */
/* ------------------------------------------------------------------------- */

#define D "'$tunec': 'domain', "
static const struct { const char *spec; int code; const char *msg; } BAD[] = {
    {"{'config': {'optimizer': {'lr': {" D "'kind': 'loguniform', 'lower': 0, 'upper': 1}}}}",
     TC_ERR_VALUE, "config[\"optimizer\"][\"lr\"]: loguniform lower bound must be > 0, got 0"},
    {"{'config': {'a': {'grid_search': 5}}}",
     TC_ERR_TUNE, "config[\"a\"]: Grid search expected list of values, got: 5"},
    {"{'config': {'a': {'grid_search': 'abc'}}}",
     TC_ERR_TUNE, "config[\"a\"]: Grid search expected list of values, got: abc"},
    {"{'config': {'a': {'grid_search': {'x': 1}}}}",
     TC_ERR_TUNE, "config[\"a\"]: Grid search expected list of values, got: {'x': 1}"},
    {"{'config': {'a': {" D "'kind': 'uniform', 'lower': 1, 'upper': 1}}}",
     TC_ERR_VALUE, "config[\"a\"]: uniform lower bound must be < upper bound, got lower=1, upper=1"},
    {"{'config': {'a': {" D "'kind': 'uniform', 'lower': 'x', 'upper': 1}}}",
     TC_ERR_VALUE, "config[\"a\"]: uniform lower bound must be a number, got 'x'"},
    {"{'config': {'a': {" D "'kind': 'uniform', 'upper': 1}}}",
     TC_ERR_VALUE, "config[\"a\"]: uniform needs \"lower\""},
    {"{'config': {'a': {" D "'kind': 'uniform', 'lower': 0, 'upper': 1, 'lowr': 0}}}",
     TC_ERR_VALUE, "config[\"a\"]: uniform: unknown field \"lowr\""},
    {"{'config': {'a': {" D "'kind': 'quniform', 'lower': 0, 'upper': 1, 'q': 0}}}",
     TC_ERR_VALUE, "config[\"a\"]: quniform q must be > 0, got 0"},
    {"{'config': {'a': {" D "'kind': 'quniform', 'lower': 0.1, 'upper': 0.2, 'q': 0.3}}}",
     TC_ERR_VALUE, "config[\"a\"]: quniform has no multiple of q=0.3 in [0.1, 0.2]"},
    {"{'config': {'a': {" D "'kind': 'loguniform', 'lower': 1, 'upper': 10, 'base': 1}}}",
     TC_ERR_VALUE, "config[\"a\"]: loguniform base must be > 0 and != 1, got 1"},
    {"{'config': {'a': {" D "'kind': 'qloguniform', 'lower': 1, 'upper': 10, 'q': -1}}}",
     TC_ERR_VALUE, "config[\"a\"]: qloguniform q must be > 0, got -1"},
    {"{'config': {'a': {" D "'kind': 'randint', 'lower': 0.5, 'upper': 3}}}",
     TC_ERR_VALUE, "config[\"a\"]: randint lower bound must be an integer, got 0.5"},
    {"{'config': {'a': {" D "'kind': 'randint', 'lower': 3, 'upper': 3}}}",
     TC_ERR_VALUE, "config[\"a\"]: randint lower bound must be < upper bound, got lower=3, upper=3"},
    {"{'config': {'a': {" D "'kind': 'qrandint', 'lower': 1, 'upper': 2, 'q': 5}}}",
     TC_ERR_VALUE, "config[\"a\"]: qrandint has no multiple of q=5 in [1, 2]"},
    {"{'config': {'a': {" D "'kind': 'lograndint', 'lower': -1, 'upper': 3}}}",
     TC_ERR_VALUE, "config[\"a\"]: lograndint lower bound must be > 0, got -1"},
    {"{'config': {'a': {" D "'kind': 'qlograndint', 'lower': 1, 'upper': 9, 'q': 2, 'base': 0}}}",
     TC_ERR_VALUE, "config[\"a\"]: qlograndint base must be > 0 and != 1, got 0"},
    {"{'config': {'a': {" D "'kind': 'randn', 'sd': 0}}}",
     TC_ERR_VALUE, "config[\"a\"]: randn sd must be > 0, got 0"},
    {"{'config': {'a': {" D "'kind': 'randn', 'shape': [2, -1]}}}",
     TC_ERR_VALUE, "config[\"a\"]: randn shape must be a list of non-negative integers, got [2, -1]"},
    {"{'config': {'a': {" D "'kind': 'randn', 'shape': [100000, 100000]}}}",
     TC_ERR_VALUE, "config[\"a\"]: randn shape [100000, 100000] has more than 16777216 elements"},
    {"{'config': {'a': {" D "'kind': 'choice', 'categories': []}}}",
     TC_ERR_VALUE, "config[\"a\"]: choice categories must be a non-empty list, got []"},
    {"{'config': {'a': {" D "'kind': 'choice', 'categories': 3}}}",
     TC_ERR_VALUE, "config[\"a\"]: choice categories must be a non-empty list, got 3"},
    {"{'config': {'a': {" D "'kind': 'uniform', 'lower': 0, 'upper': 1, 'int': 1}}}",
     TC_ERR_VALUE, "config[\"a\"]: uniform: unknown field \"int\""},
    {"{'config': {'a': {" D "'kind': 'gauss'}}}",
     TC_ERR_VALUE, "config[\"a\"]: unknown domain kind \"gauss\""},
    {"{'config': {'a': {'$tunec': 'lambda'}}}",
     TC_ERR_VALUE, "config[\"a\"]: unknown \"$tunec\" node 'lambda'"},
    {"{'config': {'a': {'$tunec': 'fn', 'id': 'x'}}}",
     TC_ERR_VALUE, "config[\"a\"]: \"fn\" node needs an integer \"id\""},
    /* paths through lists, grid values and choice categories */
    {"{'config': {'l': [1, {" D "'kind': 'uniform', 'lower': 2, 'upper': 1}]}}",
     TC_ERR_VALUE, "config[\"l\"][1]: uniform lower bound must be < upper bound, got lower=2, upper=1"},
    {"{'config': {'g': {'grid_search': [{'x': {'grid_search': 1}}]}}}",
     TC_ERR_TUNE, "config[\"g\"][\"grid_search\"][0][\"x\"]: Grid search expected list of values, got: 1"},
    {"{'config': {'c': {" D "'kind': 'choice', 'categories': [{" D "'kind': 'randint', 'lower': 1, 'upper': 0}]}}}",
     TC_ERR_VALUE, "config[\"c\"][\"categories\"][0]: randint lower bound must be < upper bound, got lower=1, upper=0"},
    {"[1]", TC_ERR_TYPE, "the search space must be a JSON object ({\"config\": ...})"},
};

static void test_validation(void)
{
    for (size_t c = 0; c < sizeof BAD / sizeof BAD[0]; c++) {
        json_t *spec = J(BAD[c].spec);
        tc_error err;
        tc_error_init(&err);
        tc_space *s = tc_space_new(spec, 1, 0, &err);
        CHECK(s == NULL);
        CHECK_INT(err.code, BAD[c].code);
        CHECK_STR(err.text, BAD[c].msg);
        tc_space_free(s);
        json_decref(spec);
    }
    /* a spec nested too deeply is refused, not recursed into */
    json_t *deep = json_object(), *cur = deep;
    for (int i = 0; i < 600; i++) {
        json_t *next = json_object();
        json_object_set_new(cur, "k", next);
        cur = next;
    }
    tc_error err;
    tc_error_init(&err);
    CHECK(tc_space_new(deep, 1, 0, &err) == NULL);
    CHECK(strstr(err.text, "nests deeper than 512 levels") != NULL);
    json_decref(deep);

    /* the input spec is not modified, and later changes to it do not leak in */
    json_t *spec = J("{'config': {'a': {'grid_search': [1, 2]}}}");
    tc_space *s = tc_space_new(spec, 1, 0, &err);
    json_object_set_new(json_object_get(spec, "config"), "a", json_integer(9));
    tc_variant v;
    CHECK_INT(tc_space_next(s, NULL, NULL, &v, &err), 1);
    CHECK_JSON(v.config, "{'a': 1}");
    tc_variant_clear(&v);
    tc_space_free(s);
    json_decref(spec);
}

int main(void)
{
    test_tags();
    test_configs_and_params();
    test_format_vars();
    test_num_samples();
    test_domains();
    test_choice_of_grids();
    test_seeds();
    test_fn_nodes();
    test_validation();
    TEST_MAIN_END();
}
