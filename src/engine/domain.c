/* domain.c — the "$tunec" nodes of a search space: what a node is, whether it
 * is well formed, and how a domain node is sampled (spec §5.1, §16, §18.37).
 *
 * A domain node is {"$tunec": "domain", "kind": K, <fields>}; the kinds and
 * their fields are listed in tunec.h and in the KINDS table below. One parser
 * (parse_domain) serves both validation and sampling, so a node that passed
 * tc_space_new can always be sampled and a bad node is reported once, before
 * any trial exists, with its config path.
 *
 * Sampling follows Ray 1.x's samplers:
 *   uniform      lower + (upper - lower) * U            [lower, upper)
 *   quniform     bounds moved inwards to multiples of q, U over them,
 *                rint(u / q) * q, clipped into [lower, upper]   (float)
 *   loguniform   base ** U(log_b lower, log_b upper)    [lower, upper)
 *   qloguniform  as quniform over a log-uniform draw
 *   randint      integer in [lower, upper)
 *   qrandint     integer multiple of q in [lower, upper], uniform over the
 *                multiples (Ray rounds a randint draw, which gives the two end
 *                multiples half weight and, for q == 1, never draws upper;
 *                the spec asks for an inclusive upper bound, so tunec draws
 *                the multiple directly)
 *   lograndint   floor(loguniform(lower, upper))        [lower, upper)
 *   qlograndint  floor of a log-uniform draw over the bounds moved to
 *                multiples of q, then rounded to a multiple: [lower, upper]
 *   randn        mean + sd * N(0, 1); "q" rounds to a multiple of q; "shape"
 *                (list of ints, 0.8's randn(d0, d1, ...)) gives nested lists
 *   choice       a deep copy of one element of "categories"; the element may
 *                itself be a grid or another node (space.c resolves it next)
 * rint rounds half to even, like numpy's np.round that Ray uses.
 * Optional fields: "base" (log kinds, default 10), "mean" (default 0), "sd"
 * (default 1), "q" and "shape" (randn), and "int": true on quniform,
 * qloguniform and randn, which emits the (rounded) value as a JSON integer.
 * Unknown fields are an error: they are typos, never extensions.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "space_internal.h"

/* Nesting bound of a spec: deeper trees are refused rather than recursed
 * into, so no input can exhaust the C stack. */
#define MAX_DEPTH 512
/* randn "shape" draws at most this many values (2^24 doubles = 128 MiB of
 * JSON reals already). */
#define MAX_SHAPE_ELEMS (1L << 24)

enum {
    F_LOWER = 1 << 0, F_UPPER = 1 << 1, F_Q = 1 << 2, F_BASE = 1 << 3, F_MEAN = 1 << 4,
    F_SD = 1 << 5, F_SHAPE = 1 << 6, F_CATS = 1 << 7, F_INT = 1 << 8
};

typedef enum {
    K_UNIFORM, K_QUNIFORM, K_LOGUNIFORM, K_QLOGUNIFORM, K_RANDINT, K_QRANDINT,
    K_LOGRANDINT, K_QLOGRANDINT, K_RANDN, K_CHOICE
} kind_id;

typedef struct kind_def {
    const char *name;
    kind_id id;
    unsigned required;
    unsigned optional;
    int integer;      /* bounds and q are integers, results are integers */
    int log;          /* bounds must be > 0; "base" applies */
    int quantized;    /* "q" is required */
} kind_def;

static const kind_def KINDS[] = {
    {"uniform",     K_UNIFORM,     F_LOWER | F_UPPER,       0,                            0, 0, 0},
    {"quniform",    K_QUNIFORM,    F_LOWER | F_UPPER | F_Q, F_INT,                        0, 0, 1},
    {"loguniform",  K_LOGUNIFORM,  F_LOWER | F_UPPER,       F_BASE,                       0, 1, 0},
    {"qloguniform", K_QLOGUNIFORM, F_LOWER | F_UPPER | F_Q, F_BASE | F_INT,               0, 1, 1},
    {"randint",     K_RANDINT,     F_LOWER | F_UPPER,       0,                            1, 0, 0},
    {"qrandint",    K_QRANDINT,    F_LOWER | F_UPPER | F_Q, 0,                            1, 0, 1},
    {"lograndint",  K_LOGRANDINT,  F_LOWER | F_UPPER,       F_BASE,                       1, 1, 0},
    {"qlograndint", K_QLOGRANDINT, F_LOWER | F_UPPER | F_Q, F_BASE,                       1, 1, 1},
    {"randn",       K_RANDN,       0,                       F_MEAN | F_SD | F_Q | F_SHAPE | F_INT, 0, 0, 0},
    {"choice",      K_CHOICE,      F_CATS,                  0,                            0, 0, 0},
};

static const struct { const char *name; unsigned flag; } FIELDS[] = {
    {"lower", F_LOWER}, {"upper", F_UPPER}, {"q", F_Q}, {"base", F_BASE}, {"mean", F_MEAN},
    {"sd", F_SD}, {"shape", F_SHAPE}, {"categories", F_CATS}, {"int", F_INT},
};

/* A parsed, validated domain node. Integer kinds fill the i* fields, the
 * others the double ones; klo/khi are the multiples of q at the bounds. */
typedef struct domain {
    const kind_def *k;
    double lower, upper, q, base, mean, sd;
    long long ilower, iupper, iq;
    double klo, khi;                  /* float kinds: first/last multiple index */
    long long iklo, ikhi;             /* integer kinds */
    const json_t *shape, *cats;       /* borrowed from the node */
    int as_int;
} domain;

/* ------------------------------------------------------------------------- */
/* node kinds                                                                 */
/* ------------------------------------------------------------------------- */

int tcp_node_kind(const json_t *v)
{
    if (!json_is_object(v))
        return TCP_NODE_CONST;
    json_t *mark = json_object_get(v, "$tunec");
    if (mark) {
        const char *m = json_string_value(mark);
        if (m && strcmp(m, "fn") == 0)
            return TCP_NODE_FN;
        if (m && strcmp(m, "domain") == 0)
            return TCP_NODE_DOMAIN;
        return TCP_NODE_CONST;
    }
    /* Ray's test is "a one-key dict with grid_search" (§5.2); a dict with more
     * keys is an ordinary constant dict. */
    if (json_object_size(v) == 1 && json_object_get(v, "grid_search"))
        return TCP_NODE_GRID;
    return TCP_NODE_CONST;
}

int tcp_is_obj_marker(const json_t *v)
{
    const char *m = json_string_value(json_object_get(v, "$tunec"));
    return json_is_object(v) && m && strcmp(m, "obj") == 0;
}

/* ------------------------------------------------------------------------- */
/* error messages                                                             */
/* ------------------------------------------------------------------------- */

/* Sets err to "<path>: <message>". Always returns -1. */
static int fail(tc_error *err, int code, const json_t *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(tc_error *err, int code, const json_t *path, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    tc_buf where;
    tc_buf_init(&where);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (path && json_array_size(path) > 0 && tcp_path_render(path, &where) == 0 && where.data)
        tc_error_set(err, code, "%s: %s", where.data, msg);
    else
        tc_error_set(err, code, "%s", msg);
    tc_buf_free(&where);
    return -1;
}

/* Python's repr() (or str(), for Ray's grid message) of a value for "got
 * ..." texts, clipped to n bytes. */
static const char *show_as(const json_t *v, char *buf, size_t n, int as_str)
{
    tc_buf b;
    tc_buf_init(&b);
    if (!v)
        snprintf(buf, n, "None");
    else if ((as_str ? tc_py_str(v, &b) : tc_py_repr(v, &b)) == 0 && b.data)
        snprintf(buf, n, "%s", b.data);
    else
        snprintf(buf, n, "?");
    tc_buf_free(&b);
    return buf;
}

static const char *show(const json_t *v, char *buf, size_t n)
{
    return show_as(v, buf, n, 0);
}

/* ------------------------------------------------------------------------- */
/* parsing a domain node                                                      */
/* ------------------------------------------------------------------------- */

static int get_double(const json_t *node, const char *key, const char *what, const domain *d,
                      double dflt, double *out, const json_t *path, tc_error *err)
{
    const json_t *v = json_object_get(node, key);
    char b[64];
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (json_is_boolean(v) || !tc_json_number(v, out))
        return fail(err, TC_ERR_VALUE, path, "%s %s must be a number, got %s", d->k->name, what,
                    show(v, b, sizeof b));
    if (!isfinite(*out))
        return fail(err, TC_ERR_VALUE, path, "%s %s must be finite, got %s", d->k->name, what,
                    show(v, b, sizeof b));
    return 0;
}

/* Integer fields accept JSON integers and integral reals (2.0 from a
 * YAML/JSON spec). */
static int get_int(const json_t *node, const char *key, const char *what, const domain *d,
                   long long dflt, long long *out, const json_t *path, tc_error *err)
{
    const json_t *v = json_object_get(node, key);
    char b[64];
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        double x = json_real_value(v);
        if (x == floor(x) && fabs(x) < 9.2e18) {
            *out = (long long)x;
            return 0;
        }
    }
    return fail(err, TC_ERR_VALUE, path, "%s %s must be an integer, got %s", d->k->name, what,
                show(v, b, sizeof b));
}

/* x rounded to the nearest integer when it is within a relative 1e-9 of it,
 * else ceil (up = 1) or floor (up = 0): 0.3 / 0.1 is 2.9999999999999996 and
 * must count as 3, not 2. The tolerance is relative only, so 1e-12 / 1.0
 * still rounds up to 1. */
static double snap(double x, int up)
{
    double r = nearbyint(x);
    if (fabs(x - r) <= 1e-9 * fabs(x))
        return r;
    return up ? ceil(x) : floor(x);
}

/* floor(a / b) and ceil(a / b) for b > 0, for negative a too. */
static long long floor_div(long long a, long long b)
{
    long long q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static long long ceil_div(long long a, long long b)
{
    long long q = a / b;
    return (a % b != 0 && a > 0) ? q + 1 : q;
}

static int parse_domain(const json_t *node, domain *d, const json_t *path, tc_error *err)
{
    char b1[64], b2[64], b3[64];
    const char *key;
    json_t *val;
    const char *kind = json_string_value(json_object_get(node, "kind"));
    memset(d, 0, sizeof *d);
    if (!kind)
        return fail(err, TC_ERR_VALUE, path, "domain node needs a string \"kind\"");
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (strcmp(KINDS[i].name, kind) == 0)
            d->k = &KINDS[i];
    if (!d->k)
        return fail(err, TC_ERR_VALUE, path, "unknown domain kind \"%s\"", kind);

    unsigned allowed = d->k->required | d->k->optional;
    json_object_foreach((json_t *)node, key, val) {
        unsigned flag = 0;
        if (strcmp(key, "$tunec") == 0 || strcmp(key, "kind") == 0)
            continue;
        for (size_t i = 0; i < sizeof FIELDS / sizeof FIELDS[0]; i++)
            if (strcmp(FIELDS[i].name, key) == 0)
                flag = FIELDS[i].flag;
        if (!(flag & allowed))
            return fail(err, TC_ERR_VALUE, path, "%s: unknown field \"%s\"", kind, key);
    }
    for (size_t i = 0; i < sizeof FIELDS / sizeof FIELDS[0]; i++)
        if ((d->k->required & FIELDS[i].flag) && !json_object_get(node, FIELDS[i].name))
            return fail(err, TC_ERR_VALUE, path, "%s needs \"%s\"", kind, FIELDS[i].name);

    const json_t *as_int = json_object_get(node, "int");
    if (as_int && !json_is_boolean(as_int))
        return fail(err, TC_ERR_VALUE, path, "%s \"int\" must be true or false, got %s", kind,
                    show(as_int, b1, sizeof b1));
    d->as_int = json_is_true(as_int);

    if (d->k->id == K_CHOICE) {
        d->cats = json_object_get(node, "categories");
        if (!json_is_array(d->cats) || json_array_size(d->cats) == 0)
            return fail(err, TC_ERR_VALUE, path, "choice categories must be a non-empty list, got %s",
                        show(d->cats, b1, sizeof b1));
        return 0;
    }

    if (d->k->id == K_RANDN) {
        if (get_double(node, "mean", "mean", d, 0.0, &d->mean, path, err) < 0 ||
            get_double(node, "sd", "sd", d, 1.0, &d->sd, path, err) < 0 ||
            get_double(node, "q", "q", d, 0.0, &d->q, path, err) < 0)
            return -1;
        if (!(d->sd > 0))
            return fail(err, TC_ERR_VALUE, path, "randn sd must be > 0, got %s",
                        show(json_object_get(node, "sd"), b1, sizeof b1));
        if (json_object_get(node, "q") && !(d->q > 0))
            return fail(err, TC_ERR_VALUE, path, "randn q must be > 0, got %s",
                        show(json_object_get(node, "q"), b1, sizeof b1));
        d->shape = json_object_get(node, "shape");
        if (d->shape) {
            size_t i;
            json_t *dim;
            long total = 1;
            int ok = json_is_array(d->shape);
            if (ok)
                json_array_foreach(d->shape, i, dim) {
                    if (!json_is_integer(dim) || json_integer_value(dim) < 0) {
                        ok = 0;
                        break;
                    }
                    json_int_t n = json_integer_value(dim);
                    total = (n == 0 || total == 0) ? 0
                          : (total > MAX_SHAPE_ELEMS / n ? MAX_SHAPE_ELEMS + 1 : total * (long)n);
                }
            if (!ok)
                return fail(err, TC_ERR_VALUE, path,
                            "randn shape must be a list of non-negative integers, got %s",
                            show(d->shape, b1, sizeof b1));
            if (total > MAX_SHAPE_ELEMS)
                return fail(err, TC_ERR_VALUE, path, "randn shape %s has more than %ld elements",
                            show(d->shape, b1, sizeof b1), MAX_SHAPE_ELEMS);
        }
        return 0;
    }

    const json_t *jlo = json_object_get(node, "lower"), *jhi = json_object_get(node, "upper");
    if (d->k->integer) {
        if (get_int(node, "lower", "lower bound", d, 0, &d->ilower, path, err) < 0 ||
            get_int(node, "upper", "upper bound", d, 0, &d->iupper, path, err) < 0 ||
            get_int(node, "q", "q", d, 1, &d->iq, path, err) < 0)
            return -1;
        d->lower = (double)d->ilower;
        d->upper = (double)d->iupper;
        d->q = (double)d->iq;
    } else if (get_double(node, "lower", "lower bound", d, 0, &d->lower, path, err) < 0 ||
               get_double(node, "upper", "upper bound", d, 0, &d->upper, path, err) < 0 ||
               get_double(node, "q", "q", d, 1, &d->q, path, err) < 0) {
        return -1;
    }
    if (d->k->log && !(d->lower > 0))
        return fail(err, TC_ERR_VALUE, path, "%s lower bound must be > 0, got %s", kind,
                    show(jlo, b1, sizeof b1));
    if (!(d->lower < d->upper))
        return fail(err, TC_ERR_VALUE, path,
                    "%s lower bound must be < upper bound, got lower=%s, upper=%s", kind,
                    show(jlo, b1, sizeof b1), show(jhi, b2, sizeof b2));
    if (d->k->log) {
        if (get_double(node, "base", "base", d, 10.0, &d->base, path, err) < 0)
            return -1;
        if (!(d->base > 0) || d->base == 1)
            return fail(err, TC_ERR_VALUE, path, "%s base must be > 0 and != 1, got %s", kind,
                        show(json_object_get(node, "base"), b1, sizeof b1));
    }
    if (d->k->quantized) {
        if (!(d->q > 0))
            return fail(err, TC_ERR_VALUE, path, "%s q must be > 0, got %s", kind,
                        show(json_object_get(node, "q"), b1, sizeof b1));
        int empty;
        if (d->k->integer) {
            d->iklo = ceil_div(d->ilower, d->iq);
            d->ikhi = floor_div(d->iupper, d->iq);
            empty = d->iklo > d->ikhi;
        } else {
            d->klo = snap(d->lower / d->q, 1);
            d->khi = snap(d->upper / d->q, 0);
            empty = d->klo > d->khi;
        }
        if (empty)
            return fail(err, TC_ERR_VALUE, path, "%s has no multiple of q=%s in [%s, %s]", kind,
                        show(json_object_get(node, "q"), b1, sizeof b1), show(jlo, b2, sizeof b2),
                        show(jhi, b3, sizeof b3));
    }
    return 0;
}

/* ------------------------------------------------------------------------- */
/* validation of a whole tree                                                 */
/* ------------------------------------------------------------------------- */

static int validate_array(const json_t *arr, json_t *path, tc_error *err)
{
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item) {
        if (json_array_append_new(path, json_integer((json_int_t)i)) < 0)
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        int rc = tcp_space_validate(item, path, err);
        json_array_remove(path, json_array_size(path) - 1);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Validates a container member reached through `key` (then index i). */
static int validate_member(const json_t *v, const char *key, json_t *path, tc_error *err)
{
    if (json_array_append_new(path, json_string(key)) < 0)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    int rc = json_is_array(v) ? validate_array(v, path, err) : tcp_space_validate(v, path, err);
    json_array_remove(path, json_array_size(path) - 1);
    return rc;
}

static int validate_marker(const json_t *v, json_t *path, tc_error *err)
{
    const json_t *mark = json_object_get(v, "$tunec");
    const char *m = json_string_value(mark);
    char b[64];
    domain d;
    if (m && (strcmp(m, "fn") == 0 || strcmp(m, "obj") == 0)) {
        if (!json_is_integer(json_object_get(v, "id")))
            return fail(err, TC_ERR_VALUE, path, "\"%s\" node needs an integer \"id\"", m);
        return 0;
    }
    if (m && strcmp(m, "domain") == 0) {
        if (parse_domain(v, &d, path, err) < 0)
            return -1;
        /* A category is an ordinary value until chosen, and may itself hold
         * grids or domains: check them now, not when drawn. */
        return d.cats ? validate_member(d.cats, "categories", path, err) : 0;
    }
    return fail(err, TC_ERR_VALUE, path, "unknown \"$tunec\" node %s", show(mark, b, sizeof b));
}

int tcp_space_validate(const json_t *v, json_t *path, tc_error *err)
{
    const char *key;
    json_t *val;
    char b[256];
    if (json_array_size(path) > MAX_DEPTH)
        return fail(err, TC_ERR_VALUE, NULL, "the spec nests deeper than %d levels", MAX_DEPTH);
    if (json_is_array(v))
        return validate_array(v, path, err);
    if (!json_is_object(v))
        return 0;
    if (json_object_get(v, "$tunec"))
        return validate_marker(v, path, err);
    if (tcp_node_kind(v) == TCP_NODE_GRID) {
        const json_t *values = json_object_get(v, "grid_search");
        if (!json_is_array(values))
            return fail(err, TC_ERR_TUNE, path, "Grid search expected list of values, got: %s",
                        show_as(values, b, sizeof b, 1));
        return validate_member(values, "grid_search", path, err);
    }
    json_object_foreach((json_t *)v, key, val) {
        if (validate_member(val, key, path, err) < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------- */
/* sampling                                                                   */
/* ------------------------------------------------------------------------- */

/* Uniform double in [lo, hi) (lo < hi). The convex form is used when hi - lo
 * overflows; the final clamp catches a product that rounds up to hi. */
static double draw_uniform(tc_rng *rng, double lo, double hi)
{
    double u = tc_rng_uniform(rng);
    double span = hi - lo;
    double x = isfinite(span) ? lo + span * u : lo * (1.0 - u) + hi * u;
    if (x >= hi)
        x = nextafter(hi, lo);
    return x < lo ? lo : x;
}

/* base ** U(log_b lo, log_b hi), clamped into [lo, hi) against pow's
 * rounding (0 < lo < hi). */
static double draw_loguniform(tc_rng *rng, double lo, double hi, double base)
{
    double lb = log(base);
    double a = log(lo) / lb, c = log(hi) / lb;
    double x = pow(base, a + (c - a) * tc_rng_uniform(rng));
    if (x >= hi)
        x = nextafter(hi, lo);
    return x < lo ? lo : x;
}

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

static json_t *number(double x, int as_int)
{
    return as_int ? json_integer((json_int_t)llrint(x)) : tc_json_real(x);
}

static json_t *draw_normal(tc_rng *rng, const domain *d)
{
    double x = d->mean + d->sd * tc_rng_normal(rng);
    if (d->q > 0)
        x = nearbyint(x / d->q) * d->q;
    return number(x, d->as_int);
}

/* Nested lists of normal draws, dims[i..] of the shape (0.8's randn(d0, ...)). */
static json_t *draw_normal_shape(tc_rng *rng, const domain *d, size_t i)
{
    if (i == json_array_size(d->shape))
        return draw_normal(rng, d);
    json_t *out = json_array();
    json_int_t n = json_integer_value(json_array_get(d->shape, i));
    for (json_int_t j = 0; out && j < n; j++)
        if (json_array_append_new(out, draw_normal_shape(rng, d, i + 1)) < 0) {
            json_decref(out);
            out = NULL;
        }
    return out;
}

json_t *tcp_domain_sample(const json_t *node, tc_rng *rng, const json_t *path, tc_error *err)
{
    domain d;
    json_t *out = NULL;
    double x, a, c;
    if (parse_domain(node, &d, path, err) < 0)
        return NULL;
    switch (d.k->id) {
    case K_UNIFORM:
        out = tc_json_real(draw_uniform(rng, d.lower, d.upper));
        break;
    case K_QUNIFORM:
        a = d.klo * d.q;
        c = d.khi * d.q;
        x = a < c ? draw_uniform(rng, a, c) : a;
        out = number(clampd(nearbyint(x / d.q) * d.q, d.lower, d.upper), d.as_int);
        break;
    case K_LOGUNIFORM:
        out = tc_json_real(draw_loguniform(rng, d.lower, d.upper, d.base));
        break;
    case K_QLOGUNIFORM:
        a = d.klo * d.q;
        c = d.khi * d.q;
        x = a < c ? draw_loguniform(rng, a, c, d.base) : a;
        out = number(clampd(nearbyint(x / d.q) * d.q, d.lower, d.upper), d.as_int);
        break;
    case K_RANDINT:
        /* unsigned difference: the range may span more than LLONG_MAX */
        out = json_integer((json_int_t)((unsigned long long)d.ilower +
              tc_rng_below(rng, (unsigned long long)d.iupper - (unsigned long long)d.ilower)));
        break;
    case K_QRANDINT: {
        unsigned long long n = (unsigned long long)d.ikhi - (unsigned long long)d.iklo + 1;
        unsigned long long k = (unsigned long long)d.iklo + (n ? tc_rng_below(rng, n) : tc_rng_next(rng));
        out = json_integer((json_int_t)((long long)k * d.iq));
        break;
    }
    case K_LOGRANDINT:
        x = floor(draw_loguniform(rng, d.lower, d.upper, d.base));
        out = json_integer((json_int_t)clampd(x, d.lower, d.upper - 1));
        break;
    case K_QLOGRANDINT:
        a = (double)(d.iklo * d.iq);
        c = (double)(d.ikhi * d.iq);
        x = a < c ? floor(draw_loguniform(rng, a, c, d.base)) : a;
        x = clampd(nearbyint(x / d.q) * d.q, a, c);
        out = json_integer((json_int_t)x);
        break;
    case K_RANDN:
        out = d.shape ? draw_normal_shape(rng, &d, 0) : draw_normal(rng, &d);
        break;
    case K_CHOICE:
        out = json_deep_copy(json_array_get(d.cats, tc_rng_below(rng, json_array_size(d.cats))));
        break;
    }
    if (!out)
        tc_error_set(err, TC_ERR_NOMEM, "out of memory sampling a %s domain", d.k->name);
    return out;
}

/* ------------------------------------------------------------------------- */
/* domains as TPE parameters (search_space_tpe.c)                             */
/* ------------------------------------------------------------------------- */

int tcp_domain_tpe_param(const json_t *node, const json_t *path, tc_tpe_param *p,
                         tc_error *err)
{
    domain d;
    if (parse_domain(node, &d, path, err) < 0)
        return -1;
    const char *name = p->name;
    memset(p, 0, sizeof *p);
    p->name = name;
    p->log = d.k->log;
    switch (d.k->id) {
    case K_UNIFORM:
    case K_LOGUNIFORM:
        p->kind = TC_TPE_FLOAT;
        p->low = d.lower;
        p->high = d.upper;
        break;
    case K_QUNIFORM:
    case K_QLOGUNIFORM:
        /* Ray's values are the multiples of q inside the bounds. */
        p->kind = TC_TPE_FLOAT;
        p->low = d.klo * d.q;
        p->high = d.klo < d.khi ? d.khi * d.q : p->low;
        p->step = d.q;
        break;
    case K_RANDINT:
    case K_LOGRANDINT:
        p->kind = TC_TPE_INT;
        p->low = (double)d.ilower;
        p->high = (double)(d.iupper - 1);    /* Ray's upper is exclusive */
        p->step = 1;
        break;
    case K_QRANDINT:
    case K_QLOGRANDINT:
        p->kind = TC_TPE_INT;
        p->low = (double)(d.iklo * d.iq);
        p->high = (double)(d.ikhi * d.iq);
        p->step = (double)d.iq;
        break;
    case K_RANDN:
        return fail(err, TC_ERR_VALUE, path, "TPESearch cannot model randn (a normal "
                    "distribution has no bounds): use uniform, loguniform or a quantized kind");
    case K_CHOICE:
        p->kind = TC_TPE_CATEGORICAL;
        p->n_choices = (long)json_array_size(d.cats);
        break;
    }
    if (p->kind != TC_TPE_CATEGORICAL && p->high < p->low)
        return fail(err, TC_ERR_VALUE, path, "%s: no value lies inside the bounds", d.k->name);
    return 0;
}

json_t *tcp_domain_tpe_value(const json_t *node, double x)
{
    domain d;
    tc_error ignored;
    tc_error_init(&ignored);
    if (parse_domain(node, &d, NULL, &ignored) < 0)
        return NULL;
    if (d.k->id == K_CHOICE)
        return json_deep_copy(json_array_get(d.cats, (size_t)x));
    if (d.k->integer)
        return json_integer((json_int_t)llrint(x));
    return number(x, d.as_int);
}

int tcp_domain_tpe_external(const json_t *node, const json_t *v, const json_t *path, double *x,
                            tc_error *err)
{
    domain d;
    char b[64];
    if (parse_domain(node, &d, path, err) < 0)
        return -1;
    if (d.k->id == K_CHOICE) {
        for (size_t i = 0; i < json_array_size(d.cats); i++) {
            if (json_equal(json_array_get(d.cats, i), (json_t *)v)) {
                *x = (double)i;
                return 0;
            }
        }
        return fail(err, TC_ERR_VALUE, path, "points_to_evaluate: %s is not one of the "
                    "choice's categories", show(v, b, sizeof b));
    }
    if (json_is_boolean(v) || !tc_json_number(v, x) || !isfinite(*x))
        return fail(err, TC_ERR_VALUE, path, "points_to_evaluate: %s must be a finite number",
                    show(v, b, sizeof b));
    return 0;
}
