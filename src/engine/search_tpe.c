/* search_tpe.c — the Tree-structured Parzen Estimator core (search.h), with
 * Optuna's TPESampler (3.x/4.x) as the reference for what is computed. This
 * file holds the object (construction, observations) and the split of the
 * trials into groups with their weights; the univariate estimators are in
 * search_tpe_kset.c, the multivariate one in search_tpe_joint.c, sampling
 * and the suggestion in search_tpe_suggest.c, what they share in
 * search_tpe_model.h, and the vectorised loops and the normal's tails in
 * search_tpe_sum.c and search_tpe_norm.c.
 *
 * A suggestion, once n_startup_trials trials have completed:
 *   1. the n completed trials are ranked by loss (the objective, negated under
 *      mode_max; ties by age) and the best n_below = min(ceil(gamma_fraction *
 *      n), gamma_max, n) form "below"; the rest, and the running trials under
 *      constant_liar, form "above";
 *   2. per parameter, each group that has the parameter gives a Parzen
 *      estimator: one truncated Gaussian kernel per observation (a categorical
 *      kernel for a categorical parameter) plus the prior kernel (centre of
 *      the domain, sigma = its width), weighted by age (Optuna's
 *      default_weights: the 25 newest weigh 1, older ones a ramp from 1/n)
 *      and prior_weight; a kernel's sigma is the larger gap to its neighbours
 *      among the group's sorted values (the prior and the domain's ends
 *      included), clipped by the "magic clip" to [width/min(100, kernels+1),
 *      width];
 *   3. n_ei_candidates values are drawn from l (the below estimator) and the
 *      one with the largest log l(x) - log g(x) is suggested.
 * Multivariate mode (opts.multivariate) models the parameters every trial has
 * jointly, as Optuna 5's TPESampler does by default: one product kernel per
 * trial, each factor's sigma the larger gap to its neighbours among the
 * group's values of that parameter (the prior left out of the gaps, unlike
 * the univariate model's, which follows Optuna 3.x/4.x), clipped as above;
 * the others stay univariate, as Optuna's independent fallback.
 *
 * Why it is fast: nothing is sorted per call. Each parameter keeps its
 * observed values sorted by (value, trial) as they arrive, and the trials
 * sorted by loss; the weights of every trial are computed once per
 * suggestion, not per parameter. Each parameter's univariate estimators
 * (one per group) are kept from one suggestion to the next: the kernels of
 * the trials whose group changed are inserted or removed and their
 * neighbours' sigmas re-derived, and only the weights are applied afresh, in
 * one flat pass (ksets_sync); a set is rebuilt from the sorted values when
 * its clip, prior or end rule changed. The split lists the trials whose
 * group it changed, so a set synced at the split before finds its moves
 * without comparing every trial, and a kernel put in or taken out moves
 * the shorter side of the set (its arrays sit in buffers with room on both
 * sides). Kernels
 * are then in value order, so log g(x) at a candidate sums a window around x
 * bounded by a bound on everything further out (the side's largest weight
 * constant and sigma, the distance) falling below e^-28 of a lower bound on
 * the largest term, with log n for their count: the densities stay exact to
 * ~1e-12 relative while a candidate touches only the kernels near it,
 * summed by a vectorised loop in base 2 (search_tpe_sum.c). The bound seen
 * from x's place among the kernels gives the window's reach in closed form,
 * and its ends are two bisections of the centres; a set of at most 32
 * kernels (the below group at gamma_max 25) is summed whole. Each set
 * is evaluated at all the candidates at once (tcp_tpe_kset_log_pdfs), the
 * candidates' bisections side by side, so that their chains of dependent
 * loads overlap. The joint
 * density applies its first continuous factor only to the kernels that a
 * bisection on running maxima (of the bounds, and of that parameter's
 * sigmas, over the kernels in that parameter's value order) leaves within
 * reach of the candidate, every kernel in a small group, and every further
 * factor only to the kernels still within e^-36 of a
 * lower bound on the largest term (the prior's, and the drawn-from
 * kernel's), so in several dimensions most kernels drop out after a factor
 * or two (tcp_tpe_jset_log_pdf). The joint estimators are kept from one
 * suggestion to the next and, when a group only gained trials (new ones, or
 * one pushed out of "below" into the above group), updated for the new
 * kernels and their neighbours instead of rebuilt (tcp_tpe_build_jset). A kernel's
 * normaliser (log sigma plus the log of its mass inside the domain, an
 * erfc) is cached per trial and group and recomputed only when its sigma
 * changes, which after ~100 trials is rare: most sigmas sit at the clip.
 * A grid kernel's bin mass (two erfc and a log) at the clip sigma depends
 * only on the candidate's offset in steps, so it is tabled per parameter
 * and group (tcp_tpe_grid_bin_mass), for the univariate and the joint model alike.
 * Scratch arrays live in the object and grow geometrically.
 *
 * ei_budget (tunec's option, 0 by default) lowers the candidate count as
 * the history grows: about ei_budget / n, at least min(24, n_ei_candidates).
 *
 * Deviations from Optuna, on purpose (tests/tpe_reference.py follows them):
 *   - randomness is the engine's tc_rng, and sampling is ours: a truncated
 *     normal by rejection from tc_rng_normal (at least ~19% acceptance, as
 *     every kernel centre lies in the domain and sigma <= width), a
 *     univariate categorical drawn from the mixture's marginal directly (the
 *     same distribution as Optuna's kernel-then-choice draw), rounding to a
 *     grid by floor(v + 0.5) (numpy rounds half to even);
 *   - kernels of equal value are ordered by age, the prior after them
 *     (Optuna's argsort is not stable, so which equal kernel gets which gap
 *     is arbitrary there);
 *   - a log parameter's candidate keeps its log-space value for the density
 *     (Optuna exps and logs it again);
 *   - a quantized log parameter (qloguniform) is modelled as Optuna models a
 *     log int: continuous in log space over [low - step/2, high + step/2],
 *     rounded to the grid after sampling; Optuna refuses step with log for
 *     floats;
 *   - values outside the domain are clamped rather than refused;
 *   - pending trials are put in "above" without a value (Optuna >= 3.x does
 *     the same; the brief's "worst observed value" ranks them there too).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "search_tpe_model.h"

void tc_tpe_opts_default(tc_tpe_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_startup_trials = 10;
    o->n_ei_candidates = 24;
    o->gamma_fraction = 0.1;
    o->gamma_max = 25;
    o->prior_weight = 1.0;
    o->consider_prior = 1;
    o->consider_magic_clip = 1;
    o->consider_endpoints = 0;
    /* the joint model is Optuna 5's default, and it finds better values on
     * Hartmann-6 and Rosenbrock-6 (benchmarks/tpe_quality.py) */
    o->multivariate = 1;
}

int tcp_tpe_grow(void **v, size_t *cap, size_t need, size_t elem)
{
    size_t n;
    void *g;
    if (need <= *cap)
        return 0;
    n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    g = tc_realloc(*v, n * elem);
    if (!g)
        return -1;
    *v = g;
    *cap = n;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* construction                                                               */
/* ------------------------------------------------------------------------- */

static int setup_param(pmodel *m, const tc_tpe_param *p, size_t i, tc_error *err)
{
    char fallback[32];
    const char *nm = p->name;
    if (!nm) {
        snprintf(fallback, sizeof fallback, "#%zu", i);
        nm = fallback;
    }
    m->name = tc_strdup(nm);
    if (!m->name)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    m->p = *p;
    m->p.name = m->name;
    if (p->kind == TC_TPE_CATEGORICAL) {
        if (p->n_choices < 1)
            return tc_error_set(err, TC_ERR_VALUE, "parameter %s: n_choices must be >= 1, got %ld",
                                nm, p->n_choices);
        m->cat = 1;
        m->constant = p->n_choices == 1;
        m->lo = 0;
        m->hi = (double)(p->n_choices - 1);
        return 0;
    }
    if (p->kind != TC_TPE_FLOAT && p->kind != TC_TPE_INT)
        return tc_error_set(err, TC_ERR_VALUE, "parameter %s: unknown kind %d", nm, p->kind);
    if (!isfinite(p->low) || !isfinite(p->high) || !(p->low <= p->high))
        return tc_error_set(err, TC_ERR_VALUE,
                            "parameter %s: bounds must be finite with low <= high, got [%g, %g]",
                            nm, p->low, p->high);
    if (p->kind == TC_TPE_INT && (!(p->step >= 1) || p->step != floor(p->step) ||
                                  p->low != floor(p->low) || p->high != floor(p->high)))
        return tc_error_set(err, TC_ERR_VALUE,
                            "parameter %s: an int needs integral bounds and an integral step >= 1",
                            nm);
    if (p->kind == TC_TPE_FLOAT && (!(p->step >= 0) || !isfinite(p->step)))
        return tc_error_set(err, TC_ERR_VALUE, "parameter %s: step must be >= 0, got %g", nm,
                            p->step);
    m->grid = p->step > 0;
    if (m->grid) {
        /* Optuna's adjustment: high becomes the last grid point (the 1e-9
         * forgives a range that is a multiple of step up to rounding). */
        double k = floor((p->high - p->low) / p->step + 1e-9);
        m->ngrid = (uint64_t)k + 1;
        m->p.high = fmin(p->low + k * p->step, p->high);
    }
    m->constant = m->grid ? m->ngrid == 1 : p->low == p->high;
    if (p->log) {
        double lo = m->grid ? p->low - p->step / 2 : p->low;
        if (!(lo > 0))
            return tc_error_set(err, TC_ERR_VALUE,
                                "parameter %s: a log domain needs low%s > 0, got %g", nm,
                                m->grid ? " - step/2" : "", lo);
        m->lo = log(lo);
        m->hi = log(m->grid ? m->p.high + p->step / 2 : m->p.high);
        m->step = 0;
    } else {
        m->lo = p->low;
        m->hi = m->p.high;
        m->step = m->grid ? p->step : 0;
    }
    m->L = m->lo - m->step / 2;
    m->H = m->hi + m->step / 2;
    m->width = m->hi - m->lo + m->step;
    if (m->step > 0 && m->ngrid <= GRID_TABLE_MAX) {
        m->gt_n = (size_t)m->ngrid;
        for (int g = 0; g < 2; g++) {
            m->gt[g] = tc_malloc(m->gt_n * sizeof(double));
            if (!m->gt[g])
                return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
            m->gt_sig[g] = NAN;
        }
        if (!(m->pt = tc_malloc(m->gt_n * sizeof(double))))
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < m->gt_n; i++)
            m->pt[i] = NAN;
    }
    return 0;
}

tc_tpe *tc_tpe_new(const tc_tpe_param *params, size_t n_params, const tc_tpe_opts *opts,
                   tc_error *err)
{
    tc_tpe *t;
    tc_tpe_opts d;
    if (!opts) {
        tc_tpe_opts_default(&d);
        opts = &d;
    }
    if (!params || n_params == 0) {
        tc_error_set(err, TC_ERR_VALUE, "params: at least one parameter is needed");
        return NULL;
    }
    if (opts->ei_budget < 0) {
        tc_error_set(err, TC_ERR_VALUE, "TPE options: ei_budget must be >= 0 (0: no budget), "
                     "got %ld", opts->ei_budget);
        return NULL;
    }
    if (opts->n_startup_trials < 0 || opts->n_ei_candidates < 1 || !(opts->prior_weight > 0) ||
        !isfinite(opts->prior_weight) || !(opts->gamma_fraction >= 0) ||
        !isfinite(opts->gamma_fraction) || opts->gamma_max < 0) {
        tc_error_set(err, TC_ERR_VALUE,
                     "TPE options: need n_startup_trials >= 0, n_ei_candidates >= 1, "
                     "prior_weight > 0, gamma_fraction >= 0 and gamma_max >= 0 (got %ld, %ld, "
                     "%g, %g, %ld)", opts->n_startup_trials, opts->n_ei_candidates,
                     opts->prior_weight, opts->gamma_fraction, opts->gamma_max);
        return NULL;
    }
    t = tc_calloc(1, sizeof *t);
    if (!t)
        goto nomem;
    t->o = *opts;
    t->np = n_params;
    tc_rng_seed(&t->rng, opts->seed);
    t->pm = tc_calloc(n_params, sizeof *t->pm);
    t->joint = tc_calloc(n_params, sizeof *t->joint);
    t->slot = tc_calloc(n_params, sizeof *t->slot);
    t->tr_val = tc_calloc(n_params * (size_t)opts->n_ei_candidates, sizeof(double));
    t->tr_ll = tc_calloc(n_params * (size_t)opts->n_ei_candidates, sizeof(double));
    t->tr_lg = tc_calloc(n_params * (size_t)opts->n_ei_candidates, sizeof(double));
    t->tr_chosen = tc_calloc(n_params, sizeof(long));
    t->cand = tc_calloc(n_params * (size_t)opts->n_ei_candidates, sizeof(double));
    t->cand_k = tc_calloc((size_t)opts->n_ei_candidates, sizeof(long));
    t->dscratch = tc_calloc(8 * (size_t)opts->n_ei_candidates, sizeof(double));
    if (!t->pm || !t->joint || !t->slot || !t->tr_val || !t->tr_ll || !t->tr_lg ||
        !t->tr_chosen || !t->cand || !t->cand_k || !t->dscratch)
        goto nomem;
    for (size_t i = 0; i < n_params; i++)
        if (setup_param(&t->pm[i], &params[i], i, err) < 0) {
            tc_tpe_free(t);
            return NULL;
        }
    return t;
nomem:
    tc_error_set(err, TC_ERR_NOMEM, "out of memory creating the TPE searcher");
    tc_tpe_free(t);
    return NULL;
}

void tc_tpe_reseed(tc_tpe *t, uint64_t seed)
{
    tc_rng_seed(&t->rng, seed);
}

void tc_tpe_free(tc_tpe *t)
{
    if (!t)
        return;
    for (size_t i = 0; t->pm && i < t->np; i++) {
        pmodel *m = &t->pm[i];
        tc_free(m->name);
        tc_free(m->col);
        tc_free(m->sorted);
        tc_free(m->pt);
        tc_free(m->gk);
        tc_free(m->um);
        for (int g = 0; g < 2; g++) {
            tc_free(m->kc[g]);
            tc_free(m->gt[g]);
            tcp_tpe_kset_free(&m->ks[g]);
        }
    }
    tc_free(t->pm);
    tc_free(t->state);
    tc_free(t->loss);
    tc_free(t->by_loss);
    tc_free(t->in_below);
    tc_free(t->moved);
    tc_free(t->below);
    tc_free(t->rank);
    tc_free(t->grp);
    tc_free(t->grank);
    tc_free(t->pw);
    tc_free(t->plw);
    tc_free(t->tw);
    tc_free(t->tlw);
    tc_free(t->logramp);
    tc_free(t->ramp);
    for (int g = 0; g < 2; g++) {
        tc_free(t->pctab[g]);
        tcp_tpe_jset_free(&t->js[g]);
        tc_free(t->js[g].pslot);
    }
    tc_free(t->joint);
    tc_free(t->slot);
    tc_free(t->tr_val);
    tc_free(t->tr_ll);
    tc_free(t->tr_lg);
    tc_free(t->tr_chosen);
    tc_free(t->cand);
    tc_free(t->cand_k);
    tc_free(t->dscratch);
    tc_free(t);
}

size_t tc_tpe_num_params(const tc_tpe *t)
{
    return t->np;
}

const tc_tpe_param *tc_tpe_param_at(const tc_tpe *t, size_t i)
{
    return i < t->np ? &t->pm[i].p : NULL;
}

long tc_tpe_num_complete(const tc_tpe *t)
{
    return (long)t->ncomplete;
}

long tc_tpe_num_running(const tc_tpe *t)
{
    return (long)t->nrunning;
}

/* ------------------------------------------------------------------------- */
/* observations                                                               */
/* ------------------------------------------------------------------------- */

/* Per-trial arrays grow together; every parameter's arrays share t->cap. */
int tcp_tpe_ensure_trials(tc_tpe *t, size_t need)
{
    size_t n;
    if (need <= t->cap)
        return 0;
    n = t->cap ? t->cap * 2 : 64;
    while (n < need)
        n *= 2;
#define RE(ptr, type) do { void *g_ = tc_realloc(ptr, n * sizeof(type)); if (!g_) return -1; \
        ptr = g_; } while (0)
    RE(t->state, unsigned char);
    RE(t->loss, double);
    RE(t->by_loss, long);
    RE(t->in_below, unsigned char);
    RE(t->below, long);
    RE(t->rank, long);
    RE(t->grp, unsigned char);
    RE(t->moved, long);
    RE(t->grank, long);
    RE(t->pw, double);
    RE(t->plw, double);
    RE(t->tw, double);
    RE(t->tlw, double);
    for (int g = 0; g < 2; g++) {
        void *c_ = tc_realloc(t->pctab[g], (n + 1) * sizeof(double));
        if (!c_)
            return -1;
        t->pctab[g] = c_;
    }
    for (size_t i = 0; i < t->np; i++) {
        pmodel *m = &t->pm[i];
        RE(m->col, double);
        RE(m->sorted, long);
        RE(m->um, unsigned char);
        for (int g = 0; g < 2; g++) {
            RE(m->kc[g], kcache);
        }
    }
#undef RE
    memset(t->in_below + t->cap, 0, n - t->cap);
    t->cap = n;
    return 0;
}

/* External value -> model value; NaN stays NaN (absent). */
static int to_model(const pmodel *m, double v, double *out, tc_error *err)
{
    if (isnan(v)) {
        *out = NAN;
        return 0;
    }
    if (!isfinite(v))
        return tc_error_set(err, TC_ERR_VALUE, "parameter %s: value must be finite, got %g",
                            m->name, v);
    if (m->cat) {
        if (v != floor(v) || v < 0 || v >= (double)m->p.n_choices)
            return tc_error_set(err, TC_ERR_VALUE,
                                "parameter %s: categorical index must be an integer in [0, %ld), "
                                "got %g", m->name, m->p.n_choices, v);
        *out = v;
        return 0;
    }
    v = clampd(v, m->p.low, m->p.high);
    *out = m->p.log ? log(v) : v;
    return 0;
}

/* Inserts trial tr (just appended, so the largest index) among the sorted
 * values of m: after every equal value, keeping the (value, trial) order. */
static void sorted_insert(pmodel *m, long tr)
{
    double v = m->col[tr];
    size_t lo = 0, hi = m->nsorted;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->col[m->sorted[mid]] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(m->sorted + lo + 1, m->sorted + lo, (m->nsorted - lo) * sizeof(long));
    m->sorted[lo] = tr;
    m->nsorted++;
}

static void sorted_remove(pmodel *m, long tr)
{
    for (size_t i = 0; i < m->nsorted; i++)
        if (m->sorted[i] == tr) {
            memmove(m->sorted + i, m->sorted + i + 1, (m->nsorted - i - 1) * sizeof(long));
            m->nsorted--;
            return;
        }
}

long tc_tpe_add_running(tc_tpe *t, const double *values, tc_error *err)
{
    long tr = (long)t->ntrials;
    if (!values) {
        tc_error_set(err, TC_ERR_VALUE, "values: NULL");
        return -1;
    }
    if (tcp_tpe_ensure_trials(t, t->ntrials + 1) < 0) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory adding a trial");
        return -1;
    }
    for (size_t i = 0; i < t->np; i++)
        if (to_model(&t->pm[i], values[i], &t->pm[i].col[tr], err) < 0)
            return -1;
    for (size_t i = 0; i < t->np; i++) {
        pmodel *m = &t->pm[i];
        m->kc[BELOW][tr].sig = m->kc[ABOVE][tr].sig = NAN;
        m->um[tr] = NONE;
        if (!isnan(m->col[tr]))
            sorted_insert(m, tr);
        else
            m->nabsent++;
    }
    t->state[tr] = ST_RUNNING;
    t->loss[tr] = NAN;
    t->ntrials++;
    t->nrunning++;
    return tr;
}

static int check_running(const tc_tpe *t, long trial, tc_error *err)
{
    if (trial < 0 || (size_t)trial >= t->ntrials)
        return tc_error_set(err, TC_ERR_VALUE, "trial %ld: unknown to the TPE searcher", trial);
    if (t->state[trial] != ST_RUNNING)
        return tc_error_set(err, TC_ERR_VALUE, "trial %ld: not running (already %s)", trial,
                            t->state[trial] == ST_COMPLETE ? "completed" : "failed");
    return 0;
}

int tc_tpe_fail(tc_tpe *t, long trial, tc_error *err)
{
    if (check_running(t, trial, err) < 0)
        return -1;
    for (size_t i = 0; i < t->np; i++)
        if (!isnan(t->pm[i].col[trial]))
            sorted_remove(&t->pm[i], trial);
    t->state[trial] = ST_GONE;
    t->nrunning--;
    return 0;
}

int tc_tpe_complete(tc_tpe *t, long trial, double objective, tc_error *err)
{
    double loss;
    size_t lo = 0, hi;
    if (check_running(t, trial, err) < 0)
        return -1;
    if (isnan(objective))
        return tc_tpe_fail(t, trial, err);
    loss = t->o.mode_max ? -objective : objective;
    /* by (loss, trial): trials complete out of order, so compare both */
    hi = t->ncomplete;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        long o = t->by_loss[mid];
        if (t->loss[o] < loss || (t->loss[o] == loss && o < trial))
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(t->by_loss + lo + 1, t->by_loss + lo, (t->ncomplete - lo) * sizeof(long));
    t->by_loss[lo] = trial;
    t->loss[trial] = loss;
    t->state[trial] = ST_COMPLETE;
    t->ncomplete++;
    t->nrunning--;
    return 0;
}

long tc_tpe_observe(tc_tpe *t, const double *values, double objective, tc_error *err)
{
    long tr = tc_tpe_add_running(t, values, err);
    if (tr < 0)
        return -1;
    if (tc_tpe_complete(t, tr, objective, err) < 0)
        return -1;
    return tr;
}

/* ------------------------------------------------------------------------- */
/* weights                                                                    */
/* ------------------------------------------------------------------------- */

/* default_weights(n): the ramp numpy's linspace(1/n, 1, n - 25) gives the
 * oldest n - 25 observations (the rest weigh 1); logs cached for the last n. */
int tcp_tpe_ramp_for(tc_tpe *t, size_t n)
{
    size_t m;
    double start, step;
    if (n <= RAMP_FLAT) {           /* all weigh 1: keep the cached ramp */
        t->flat_sum = (double)n;
        return 0;
    }
    t->flat_sum = -1;
    if (t->logramp_n == n)
        return 0;
    m = n - RAMP_FLAT;
    if (m + 1 > t->logramp_cap) {
        size_t c1 = t->logramp_cap, c2 = t->logramp_cap;
        if (tcp_tpe_grow((void **)&t->logramp, &c1, m + 1, sizeof(double)) < 0 ||
            tcp_tpe_grow((void **)&t->ramp, &c2, m + 1, sizeof(double)) < 0)
            return -1;
        t->logramp_cap = c1 < c2 ? c1 : c2;
    }
    start = 1.0 / (double)n;
    step = m > 1 ? (1.0 - start) / (double)(m - 1) : 0;
    t->ramp_sum = 0;
    for (size_t i = 0; i < m; i++) {
        double w = (m > 1 && i == m - 1) ? 1.0 : (double)i * step + start;
        t->ramp[i] = w;
        t->logramp[i] = log(w);
        t->ramp_sum += w;
    }
    t->ramp_sum += (double)RAMP_FLAT;
    t->logramp_n = n;
    return 0;
}

/* The sum of the raw weights for the n of the last tcp_tpe_ramp_for. */
double tcp_tpe_raw_sum(const tc_tpe *t)
{
    return t->flat_sum >= 0 ? t->flat_sum : t->ramp_sum;
}

/* log raw weight of the observation of age rank r among n. */
double tcp_tpe_log_raw_weight(const tc_tpe *t, size_t r, size_t n)
{
    size_t m = n > RAMP_FLAT ? n - RAMP_FLAT : 0;
    return r < m ? t->logramp[r] : 0.0;
}

/* Splits the trials for a suggestion: the best nbelow completed ones by
 * loss are BELOW, the other considered ones ABOVE; each gets its age rank
 * within its group, and below[] lists the below group by age. Each gets its
 * raw weight in its group too (default_weights by age rank: the oldest n -
 * 25 on numpy's linspace(1/n, 1, n - 25), the rest 1), in the same pass, as
 * both groups' sizes are known before it; their logs follow in one
 * vectorised pass over every trial (about a thousand per suggestion). */
void tcp_tpe_split_groups(tc_tpe *t, size_t nbelow)
{
    size_t n[2], m[2];
    double start[2], step[2], sum[2] = {0, 0}, *w = t->tw;
    n[BELOW] = nbelow;
    n[ABOVE] = t->ncomplete + (t->o.constant_liar ? t->nrunning : 0) - nbelow;
    for (int g = 0; g < 2; g++) {
        m[g] = n[g] > RAMP_FLAT ? n[g] - RAMP_FLAT : 0;
        start[g] = n[g] ? 1.0 / (double)n[g] : 0;
        step[g] = m[g] > 1 ? (1.0 - start[g]) / (double)(m[g] - 1) : 0;
    }
    for (size_t i = 0; i < nbelow; i++)
        t->in_below[t->by_loss[i]] = 1;
    t->gcount[BELOW] = t->gcount[ABOVE] = 0;
    t->nmoved = 0;
    for (size_t tr = 0; tr < t->ntrials; tr++) {
        int g = !considered(t, (long)tr) ? NONE : t->in_below[tr] ? BELOW : ABOVE;
        int was = tr < t->split_nt ? t->grp[tr] : NONE;   /* a new trial's um is NONE */
        size_t r;
        if (g != was)
            t->moved[t->nmoved++] = (long)tr;
        t->grp[tr] = (unsigned char)g;
        if (g == NONE) {
            t->grank[tr] = 0;       /* read (not used) by joint_sigmas' gather */
            w[tr] = 1.0;            /* keeps the log pass finite */
            continue;
        }
        if (g == BELOW)
            t->below[t->gcount[BELOW]] = (long)tr;
        r = t->gcount[g]++;
        t->grank[tr] = (long)r;
        w[tr] = r < m[g] ? ((m[g] > 1 && r == m[g] - 1) ? 1.0 : (double)r * step[g] + start[g])
                         : 1.0;
        if (r < m[g])
            sum[g] += w[tr];
    }
    for (size_t i = 0; i < nbelow; i++)
        t->in_below[t->by_loss[i]] = 0;
    for (int g = 0; g < 2; g++)
        t->gsum[g] = m[g] ? sum[g] + (double)RAMP_FLAT : (double)t->gcount[g];
    tc_tpe_log_array(w, t->tlw, t->ntrials);
    t->split_nt = t->ntrials;
    t->split_epoch++;
}
