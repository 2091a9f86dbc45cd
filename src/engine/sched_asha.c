/* sched_asha.c — AsyncHyperBandScheduler / ASHAScheduler (spec §8.2), the
 * decision core of Ray 0.8's async_hyperband.py.
 *
 * Brackets s = 0..brackets-1 each hold MAX_RUNGS = int(log(max_t/grace) /
 * log(rf) - s + 1) rungs at milestones grace * rf^(k+s), highest first. A
 * result at time t walks the rungs from the highest milestone down and acts
 * at the first rung with t >= milestone where the trial has no score yet:
 * the cutoff is numpy's nanpercentile((1 - 1/rf) * 100) of the scores
 * recorded there before this one; score < cutoff stops the trial; the score
 * is recorded either way; at most one rung per result.
 *
 * Invariants: a rung keeps its non-NaN scores sorted ascending (the
 * percentile is then O(1)) and counts its NaN scores apart (nanpercentile
 * skips them, but they make the rung non-empty, so the cutoff is NaN rather
 * than None when every score is NaN); `seen` marks which trials a rung holds,
 * indexed by trial, and outlives the trial's bracket mapping as Ray's
 * recorded dicts do.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sched.h"

/* A bracket with more rungs than this means reduction_factor is so close to
 * 1 that Ray would build a list of millions of rungs; refuse it instead. */
#define MAX_RUNGS_LIMIT 4096

typedef struct rung {
    double milestone;
    double *sorted;          /* recorded non-NaN scores, ascending */
    size_t n_sorted, cap;
    size_t n_nan;            /* recorded NaN scores */
    unsigned char *seen;     /* seen[trial]: the trial has a score here */
    size_t seen_cap;
} rung;

typedef struct bracket {
    rung *rungs;             /* highest milestone first */
    long nrungs;
} bracket;

struct tc_asha {
    double max_t, grace, rf;
    double metric_op;        /* +1 max, -1 min */
    double q;                /* percentile as a fraction, as numpy divides it */
    long nbrackets;
    bracket *b;
    int *trial_bracket;      /* -1: no mapping */
    size_t ntrials;          /* capacity of trial_bracket */
    long num_stopped;
    tc_rng rng;
};

static int grow_bytes(unsigned char **v, size_t *cap, size_t need)
{
    size_t n;
    unsigned char *g;
    if (need <= *cap)
        return 0;
    n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    g = tc_realloc(*v, n);
    if (!g)
        return -1;
    memset(g + *cap, 0, n - *cap);
    *v = g;
    *cap = n;
    return 0;
}

static int ensure_trial(tc_asha *a, long trial, tc_error *err)
{
    size_t need = (size_t)trial + 1, n;
    int *g;
    if (trial < 0)
        return tc_error_set(err, TC_ERR_VALUE, "trial index must be >= 0, got %ld", trial);
    if (need <= a->ntrials)
        return 0;
    n = a->ntrials ? a->ntrials : 64;
    while (n < need)
        n *= 2;
    g = tc_realloc(a->trial_bracket, n * sizeof *g);
    if (!g)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory adding trial %ld", trial);
    for (size_t i = a->ntrials; i < n; i++)
        g[i] = -1;
    a->trial_bracket = g;
    a->ntrials = n;
    return 0;
}

static int mapped_bracket(const tc_asha *a, long trial)
{
    if (trial < 0 || (size_t)trial >= a->ntrials)
        return -1;
    return a->trial_bracket[trial];
}

tc_asha *tc_asha_new(double max_t, double grace_period, double reduction_factor, long brackets,
                     int mode_max, uint64_t seed, tc_error *err)
{
    tc_asha *a = NULL;
    /* Ray's assertions, in its order, each naming its argument. */
    if (!(max_t > 0) || !isfinite(max_t)) {
        tc_error_set(err, TC_ERR_VALUE, "max_t must be a finite number > 0, got %g", max_t);
        return NULL;
    }
    if (!(max_t >= grace_period)) {
        tc_error_set(err, TC_ERR_VALUE, "grace_period must be <= max_t, got grace_period=%g, max_t=%g",
                     grace_period, max_t);
        return NULL;
    }
    if (!(grace_period > 0)) {
        tc_error_set(err, TC_ERR_VALUE, "grace_period must be positive, got %g", grace_period);
        return NULL;
    }
    if (!(reduction_factor > 1) || !isfinite(reduction_factor)) {
        tc_error_set(err, TC_ERR_VALUE, "reduction_factor must be a finite number > 1, got %g",
                     reduction_factor);
        return NULL;
    }
    if (brackets < 1) {
        tc_error_set(err, TC_ERR_VALUE, "brackets must be positive, got %ld", brackets);
        return NULL;
    }
    if (brackets > MAX_RUNGS_LIMIT) {
        tc_error_set(err, TC_ERR_VALUE, "brackets must be at most %d, got %ld", MAX_RUNGS_LIMIT,
                     brackets);
        return NULL;
    }
    a = tc_calloc(1, sizeof *a);
    if (!a)
        goto nomem;
    a->max_t = max_t;
    a->grace = grace_period;
    a->rf = reduction_factor;
    a->metric_op = mode_max ? 1.0 : -1.0;
    /* np.nanpercentile(v, (1 - 1/rf) * 100) divides the percentage by 100. */
    a->q = ((1.0 - 1.0 / reduction_factor) * 100.0) / 100.0;
    tc_rng_seed(&a->rng, seed);
    a->nbrackets = brackets;
    a->b = tc_calloc((size_t)brackets, sizeof *a->b);
    if (!a->b)
        goto nomem;
    for (long s = 0; s < brackets; s++) {
        double x = log(max_t / grace_period) / log(reduction_factor) - (double)s + 1.0;
        /* int() truncates toward zero; range(n <= 0) is empty */
        long nr = x >= 1.0 ? (long)fmin(x, (double)MAX_RUNGS_LIMIT + 1) : 0;
        if (nr > MAX_RUNGS_LIMIT) {
            tc_error_set(err, TC_ERR_VALUE,
                         "reduction_factor %.12g is too close to 1: more than %d rungs from "
                         "grace_period %g to max_t %g", reduction_factor, MAX_RUNGS_LIMIT,
                         grace_period, max_t);
            tc_asha_free(a);
            return NULL;
        }
        a->b[s].nrungs = nr;
        if (nr == 0)
            continue;
        a->b[s].rungs = tc_calloc((size_t)nr, sizeof(rung));
        if (!a->b[s].rungs)
            goto nomem;
        /* rungs = [(grace * rf**(k + s), {}) for k in reversed(range(nr))] */
        for (long i = 0; i < nr; i++)
            a->b[s].rungs[i].milestone = grace_period * pow(reduction_factor, (double)(nr - 1 - i + s));
    }
    return a;
nomem:
    tc_asha_free(a);
    tc_error_set(err, TC_ERR_NOMEM, "out of memory creating the ASHA scheduler");
    return NULL;
}

void tc_asha_free(tc_asha *a)
{
    if (!a)
        return;
    for (long s = 0; a->b && s < a->nbrackets; s++) {
        for (long k = 0; k < a->b[s].nrungs && a->b[s].rungs; k++) {
            tc_free(a->b[s].rungs[k].sorted);
            tc_free(a->b[s].rungs[k].seen);
        }
        tc_free(a->b[s].rungs);
    }
    tc_free(a->b);
    tc_free(a->trial_bracket);
    tc_free(a);
}

int tc_asha_on_add(tc_asha *a, long trial, tc_error *err)
{
    double *probs = NULL, sum, u, acc;
    long maxr = 0, idx = 0, n = a->nbrackets;
    if (ensure_trial(a, trial, err) < 0)
        return -1;
    probs = tc_malloc((size_t)n * sizeof *probs);
    if (!probs)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory adding trial %ld", trial);
    for (long i = 0; i < n; i++)
        if (i == 0 || a->b[i].nrungs > maxr)
            maxr = a->b[i].nrungs;
    /* probs = np.e ** (sizes - sizes.max()); p = probs / probs.sum(); then
     * numpy's choice: cdf = p.cumsum(); cdf /= cdf[-1]; the index is
     * searchsorted(cdf, uniform, side="right"). */
    for (long i = 0; i < n; i++)
        probs[i] = pow(2.718281828459045, (double)(a->b[i].nrungs - maxr));
    sum = tc_sched_np_sum(probs, (size_t)n);
    acc = 0.0;
    for (long i = 0; i < n; i++) {
        acc = i == 0 ? probs[i] / sum : acc + probs[i] / sum;
        probs[i] = acc;
    }
    u = tc_rng_uniform(&a->rng);
    for (long i = 0; i < n; i++)
        if (probs[i] / probs[n - 1] <= u)
            idx = i + 1;
    tc_free(probs);
    if (idx >= n)   /* cannot happen: cdf[-1] / cdf[-1] == 1 > u */
        idx = n - 1;
    a->trial_bracket[trial] = (int)idx;
    return (int)idx;
}

/* numpy's linear percentile of the sorted non-NaN values (the _lerp of
 * numpy >= 1.22: a + d*g, or b - d*(1-g) when g >= 0.5; at the top index
 * numpy takes the last value twice with g = vi + 1). */
static double percentile(const rung *r, double q)
{
    size_t n = r->n_sorted, lo, hi;
    double vi = (double)(n - 1) * q, g, a, b, d, res;
    if (vi >= (double)(n - 1)) {
        lo = hi = n - 1;
        g = vi + 1.0;
    } else {
        lo = (size_t)floor(vi);
        hi = lo + 1;
        g = vi - floor(vi);
    }
    a = r->sorted[lo];
    b = r->sorted[hi];
    d = b - a;
    res = a + d * g;
    if (g >= 0.5)
        res = b - d * (1.0 - g);
    return res;
}

/* 1 and *out set when the rung has recorded scores, 0 for Ray's None. */
static int rung_cutoff(const rung *r, double q, double *out)
{
    if (r->n_sorted + r->n_nan == 0)
        return 0;
    *out = r->n_sorted ? percentile(r, q) : NAN;
    return 1;
}

static int rung_record(rung *r, long trial, double score)
{
    if (grow_bytes(&r->seen, &r->seen_cap, (size_t)trial + 1) < 0)
        return -1;
    if (isnan(score)) {
        r->n_nan++;
    } else {
        size_t lo = 0, hi = r->n_sorted;
        if (r->n_sorted == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 16;
            double *g = tc_realloc(r->sorted, cap * sizeof *g);
            if (!g)
                return -1;
            r->sorted = g;
            r->cap = cap;
        }
        while (lo < hi) {   /* first position holding a value > score */
            size_t mid = lo + (hi - lo) / 2;
            if (r->sorted[mid] <= score)
                lo = mid + 1;
            else
                hi = mid;
        }
        memmove(r->sorted + lo + 1, r->sorted + lo, (r->n_sorted - lo) * sizeof(double));
        r->sorted[lo] = score;
        r->n_sorted++;
    }
    r->seen[trial] = 1;
    return 0;
}

static int rung_has(const rung *r, long trial)
{
    return (size_t)trial < r->seen_cap && r->seen[trial];
}

/* _Bracket.on_result. The comparisons are written as Ray's so that NaN
 * behaves the same: a NaN time passes `t < milestone` as false and lands on
 * the highest rung; a NaN score or cutoff never stops. */
static int bracket_on_result(tc_asha *a, bracket *b, long trial, double t, double score,
                             tc_error *err)
{
    int action = TC_SCHED_CONTINUE;
    for (long k = 0; k < b->nrungs; k++) {
        rung *r = &b->rungs[k];
        double cutoff;
        if (t < r->milestone || rung_has(r, trial))
            continue;
        if (rung_cutoff(r, a->q, &cutoff) && score < cutoff)
            action = TC_SCHED_STOP;
        if (rung_record(r, trial, score) < 0)
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory recording a score");
        break;
    }
    return action;
}

static int unknown(long trial, tc_error *err)
{
    return tc_error_set(err, TC_ERR_VALUE, "trial %ld was not added to the ASHA scheduler", trial);
}

int tc_asha_on_result(tc_asha *a, long trial, double time, double metric, tc_error *err)
{
    int action, bi;
    if (time >= a->max_t) {
        action = TC_SCHED_STOP;
    } else {
        bi = mapped_bracket(a, trial);
        if (bi < 0)
            return unknown(trial, err);
        action = bracket_on_result(a, &a->b[bi], trial, time, a->metric_op * metric, err);
        if (action < 0)
            return -1;
    }
    if (action == TC_SCHED_STOP)
        a->num_stopped++;
    return action;
}

int tc_asha_on_complete(tc_asha *a, long trial, double time, double metric, tc_error *err)
{
    int bi = mapped_bracket(a, trial);
    if (bi < 0)
        return unknown(trial, err);
    if (bracket_on_result(a, &a->b[bi], trial, time, a->metric_op * metric, err) < 0)
        return -1;
    a->trial_bracket[trial] = -1;
    return 0;
}

int tc_asha_on_remove(tc_asha *a, long trial, tc_error *err)
{
    if (mapped_bracket(a, trial) < 0)
        return unknown(trial, err);
    a->trial_bracket[trial] = -1;
    return 0;
}

int tc_asha_debug_string(const tc_asha *a, tc_buf *out)
{
    char num[32];
    int rc = tc_buf_printf(out, "Using AsyncHyperBand: num_stopped=%ld", a->num_stopped);
    for (long s = 0; s < a->nbrackets; s++) {
        const bracket *b = &a->b[s];
        rc |= tc_buf_puts(out, "\nBracket: ");
        for (long k = 0; k < b->nrungs; k++) {
            double c;
            /* "Iter {:.3f}: {}" — the cutoff is str() of a float or None */
            rc |= tc_buf_printf(out, "%sIter %.3f: ", k ? " | " : "", b->rungs[k].milestone);
            if (rung_cutoff(&b->rungs[k], a->q, &c)) {
                /* + 0.0: the sign of a zero cutoff depends on the order in
                 * which numpy's partition leaves equal values; print 0.0 */
                tc_format_double(c + 0.0, num);
                rc |= tc_buf_puts(out, num);
            } else {
                rc |= tc_buf_puts(out, "None");
            }
        }
    }
    return rc ? -1 : 0;
}

long tc_asha_num_stopped(const tc_asha *a)
{
    return a->num_stopped;
}

long tc_asha_num_brackets(const tc_asha *a)
{
    return a->nbrackets;
}

long tc_asha_num_rungs(const tc_asha *a, long bracket)
{
    return bracket >= 0 && bracket < a->nbrackets ? a->b[bracket].nrungs : 0;
}

double tc_asha_milestone(const tc_asha *a, long bracket, long k)
{
    if (k < 0 || k >= tc_asha_num_rungs(a, bracket))
        return NAN;
    return a->b[bracket].rungs[k].milestone;
}

int tc_asha_cutoff(const tc_asha *a, long bracket, long k, double *out)
{
    if (k < 0 || k >= tc_asha_num_rungs(a, bracket))
        return 0;
    return rung_cutoff(&a->b[bracket].rungs[k], a->q, out);
}

int tc_asha_bracket_of(const tc_asha *a, long trial)
{
    return mapped_bracket(a, trial);
}
