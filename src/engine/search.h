/* search.h — the decision cores of the built-in search algorithms: today the
 * Tree-structured Parzen Estimator (search_tpe.c, with its Gaussian tail
 * arithmetic in search_tpe_norm.c).
 *
 * Like the scheduler cores (sched.h), a searcher core is a pure state
 * machine: observations in (a trial started with these values, it completed
 * with this objective, it failed), suggestions out. No I/O, no clock, no
 * Python, no JSON: parameters are a flat list the caller built from its
 * search space (nested dicts flattened, conditional parameters included), and
 * values are doubles in each parameter's external representation. Randomness
 * comes from a tc_rng seeded at construction, so a core's suggestions are a
 * function of its options, its seed and the order of the calls.
 *
 * Errors: functions return -1 (or NULL) and fill the caller's tc_error, the
 * first error winning; a bad argument is TC_ERR_VALUE naming it (the
 * parameter's name where there is one).
 */
#ifndef TUNEC_SEARCH_H
#define TUNEC_SEARCH_H

#include "tunec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------- */
/* TPE — Tree-structured Parzen Estimator (Optuna's TPESampler as reference)  */
/* ------------------------------------------------------------------------- */

/* Parameter kinds. A value's external representation:
 *   TC_TPE_FLOAT        the number; step > 0 makes it quantized: the grid
 *                       low, low + step, ..., (Optuna's step, not Ray's
 *                       "multiple of q": the caller maps Ray's q onto a grid);
 *   TC_TPE_INT          an integer on the grid low, low + step, ... (step >= 1);
 *   TC_TPE_CATEGORICAL  the index of the choice, 0 .. n_choices-1.
 * log = 1 models the parameter in log space (low > 0; with a step, low -
 * step/2 > 0): loguniform, qloguniform, lograndint. */
enum { TC_TPE_FLOAT = 0, TC_TPE_INT = 1, TC_TPE_CATEGORICAL = 2 };

typedef struct tc_tpe_param {
    const char *name;   /* copied; used in error messages; NULL: "#<index>" */
    int kind;           /* TC_TPE_* */
    double low, high;   /* inclusive bounds; low <= high (equal: a constant) */
    double step;        /* FLOAT: 0 (continuous) or > 0; INT: >= 1, integral */
    int log;
    long n_choices;     /* CATEGORICAL: >= 1 */
} tc_tpe_param;

typedef struct tc_tpe_opts {
    long n_startup_trials;    /* random suggestions until this many completed (10) */
    long n_ei_candidates;     /* candidates drawn from l(x) per suggestion (24) */
    long ei_budget;           /* > 0: fewer candidates once n trials are modelled, about
                                 ei_budget / n, never below min(24, n_ei_candidates);
                                 0: always n_ei_candidates (Optuna) */
    double gamma_fraction;    /* n_below = min(ceil(gamma_fraction * n), gamma_max) */
    long gamma_max;           /* (0.1, 25: Optuna's default_gamma) */
    double prior_weight;      /* > 0 (1.0) */
    int consider_prior;       /* 1 */
    int consider_magic_clip;  /* 1 */
    int consider_endpoints;   /* 0 */
    int multivariate;         /* 1: the parameters every trial has modelled jointly
                                 (Optuna 5's default; 0: one estimator per parameter) */
    int constant_liar;        /* 0: running trials count as the worst observations */
    int mode_max;             /* 0: minimise the objective, 1: maximise it */
    uint64_t seed;
} tc_tpe_opts;

/* Optuna 5's defaults (multivariate on), except constant_liar (off: running
 * trials are not seen unless asked for), seed 0. */
void tc_tpe_opts_default(tc_tpe_opts *o);

typedef struct tc_tpe tc_tpe;

/* params: n_params >= 1 entries, copied. Bounds must be finite; the high
 * bound of a grid is lowered to the last grid point (Optuna's adjustment).
 * New object, or NULL with err naming the bad parameter or option. */
tc_tpe *tc_tpe_new(const tc_tpe_param *params, size_t n_params, const tc_tpe_opts *opts,
                   tc_error *err);
void tc_tpe_free(tc_tpe *t);
size_t tc_tpe_num_params(const tc_tpe *t);
/* The parameter as the core models it (high adjusted to the grid). */
const tc_tpe_param *tc_tpe_param_at(const tc_tpe *t, size_t i);

/* Observations. values has one entry per parameter in external
 * representation; NaN marks a parameter the trial does not have (an inactive
 * branch of a conditional space): it is left out of that parameter's
 * estimators. A number outside [low, high] is clamped into it (a
 * points_to_evaluate entry may lie outside the domain); a categorical index
 * that is not an integer in range, or an infinite value, is TC_ERR_VALUE
 * naming the parameter.
 *
 * tc_tpe_add_running: a trial started with these values (usually the last
 * suggestion). It is seen only under constant_liar, in the "above" group,
 * until it completes or fails. Returns the trial's index in the core
 * (0, 1, 2, ... in call order, shared with tc_tpe_observe), or -1. */
long tc_tpe_add_running(tc_tpe *t, const double *values, tc_error *err);
/* The running trial finished with this objective (a NaN objective counts as
 * a failure, as in Optuna). 0 / -1 (unknown, or not running). */
int tc_tpe_complete(tc_tpe *t, long trial, double objective, tc_error *err);
/* The running trial failed or was stopped without a result: forgotten. */
int tc_tpe_fail(tc_tpe *t, long trial, tc_error *err);
/* A completed observation at once: points_to_evaluate with their
 * evaluated_rewards, or a restored history. Returns the trial index or -1. */
long tc_tpe_observe(tc_tpe *t, const double *values, double objective, tc_error *err);
long tc_tpe_num_complete(const tc_tpe *t);
long tc_tpe_num_running(const tc_tpe *t);

/* One suggestion for every parameter, into out[n_params] (external
 * representation; a caller whose space is conditional uses the values of the
 * parameters that turn out active). Random until n_startup_trials trials have
 * completed, TPE after. Does not record anything: call tc_tpe_add_running
 * with the values the trial actually runs with. 0 / -1 (ENOMEM). */
int tc_tpe_suggest(tc_tpe *t, double *out, tc_error *err);
/* Restarts the core's random stream from seed: a caller that reseeds from
 * (its seed, suggestions made) before each suggestion gets the same stream
 * after rebuilding the core from a history (a resumed run). */
void tc_tpe_reseed(tc_tpe *t, uint64_t seed);

/* What the last tc_tpe_suggest weighed, for tests and diagnostics.
 * tc_tpe_last_was_random: 1 when it sampled at random (startup), 0 when TPE.
 * tc_tpe_trace: for parameter i, the candidates (see ei_budget) drawn from
 * l(x) in external representation and their log l(x), log g(x) (for a
 * parameter of the multivariate group: the joint log densities of the whole
 * candidate); *chosen is the index picked (the first maximum of log l - log
 * g). Returns their count, or 0 when the last suggestion was random (or
 * there was none). Arrays are borrowed until the next suggestion. */
int tc_tpe_last_was_random(const tc_tpe *t);
long tc_tpe_trace(const tc_tpe *t, size_t i, const double **values, const double **log_l,
                  const double **log_g, long *chosen);
/* 1 when parameter i was sampled by the multivariate group in the last
 * suggestion (the parameters every observed trial has), 0 otherwise. */
int tc_tpe_in_joint_group(const tc_tpe *t, size_t i);
/* How many univariate kernels were inserted into or removed from a kept
 * estimator so far, rather than rebuilt with it (tests: the incremental
 * path was taken). */
long tc_tpe_kernel_updates(const tc_tpe *t);

#ifdef __cplusplus
}
#endif
#endif /* TUNEC_SEARCH_H */
