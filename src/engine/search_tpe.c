/* search_tpe.c — the Tree-structured Parzen Estimator core (search.h), with
 * Optuna's TPESampler (3.x/4.x) as the reference for what is computed.
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
 * its clip, prior or end rule changed. Kernels
 * are then in value order, so log g(x) at a candidate sums a window around x
 * whose ends are found by bisection on a bound on everything further out
 * (the largest remaining weight constant, the largest remaining sigma, the
 * distance) falling below e^-36 of a lower bound on the largest term: the
 * densities stay exact to ~1e-12 relative while a candidate touches only the
 * kernels near it, summed by a vectorised loop (search_tpe_sum.c). Each set
 * is evaluated at all the candidates at once (kset_log_pdfs), the
 * candidates' bisections side by side, so that their chains of dependent
 * loads overlap. The joint
 * density applies its first continuous factor to every kernel (vectorised)
 * and every further factor only to the kernels still within e^-36 of a
 * lower bound on the largest term (the prior's, and the drawn-from
 * kernel's), so in several dimensions most kernels drop out after a factor
 * or two (jset_log_pdf). The joint estimators are kept from one suggestion
 * to the next and, when a group only gained trials, updated for the new
 * kernels and their neighbours instead of rebuilt (build_jset). A kernel's
 * normaliser (log sigma plus the log of its mass inside the domain, an
 * erfc) is cached per trial and group and recomputed only when its sigma
 * changes, which after ~100 trials is rare: most sigmas sit at the clip.
 * A grid kernel's bin mass (two erfc and a log) at the clip sigma depends
 * only on the candidate's offset in steps, so it is tabled per parameter
 * and group (grid_bin_mass), for the univariate and the joint model alike.
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
#include "search.h"
#include "search_tpe_internal.h"

#define EPS_SIGMA 1e-12     /* Optuna's minimum sigma without the magic clip */
#define WINDOW_CUT 36.0     /* leave out what is below e^-36 (2e-16) of the largest term */
#define CLIP_FAR 9.0        /* a kernel this many sigmas inside both bounds has mass 1 - 1e-19 */
/* A univariate window's side bound counts every kernel of the side (log n),
 * so what it leaves out is below 2 e^-KSET_CUT (1.4e-12) of the density in
 * all; the joint model's cut (WINDOW_CUT) is per kernel, hence deeper. */
#define KSET_CUT 28.0
#define EXP_HEADROOM 600.0  /* the window sum's exponents stay below this (e^709 overflows) */
#define MAX_REJECT 1000     /* rejection tries before falling back to the centre */
#define RAMP_FLAT 25        /* default_weights: the newest 25 weigh 1 */
#define EI_FLOOR 24         /* an ei_budget keeps at least Optuna's candidate count */
#define GRID_TABLE_MAX 65536 /* grid points up to which bin masses are tabled */
#define GK_MAX 16           /* sigmas of up to this many steps get a bin-mass table, */
#define GK_GRID_MAX 4096    /* on grids of up to this many points */
#define BLK_SHIFT TC_TPE_BLK_SHIFT  /* the window bound's maxima are kept per block of 4 kernels
                               (block_maxima's flat pass reads blocks of exactly 4): */
#define BLK (1 << BLK_SHIFT) /* a block's own maximum needs no serial chain */
/* fmax is a libm call unless NaNs are ruled out; the hot loops never see one
 * (a NaN kernel constant would have to come from a NaN bound or value). */
#define MAXD(a, b) ((a) > (b) ? (a) : (b))

enum { ST_RUNNING = 0, ST_COMPLETE = 1, ST_GONE = 2 };
enum { BELOW = 0, ABOVE = 1, NONE = 2 };

/* A kernel's normaliser and inverse sigma for the sigma they were computed
 * at (most kernels keep theirs from one suggestion to the next); one record,
 * so that a kernel's lookup is one cache line. */
typedef struct kcache {
    double sig, norm, isig;
} kcache;

/* One Parzen estimator of one parameter (univariate), kernels in value
 * order; kept from one suggestion to the next (ksets_sync). */
typedef struct kset {
    size_t n, cap, nobs;
    size_t prior_at;        /* the prior's index, (size_t)-1 without one */
    long *trial;            /* -1: the prior */
    double *mu, *sig, *isig;
    double *nrm;            /* the kernel's log normaliser (kept) */
    double *c;              /* this suggestion: log weight - nrm (kset_constants) */
    double *w;              /* weights, this suggestion (below, and a categorical) */
    double *lcb, *lsig, *rcb, *rsig;   /* per block of BLK kernels, running maxima of
                                          c and of the sigmas from the left (up to
                                          the block's end) and from the right (from the
                                          block's start), the prior left out; lsig, rsig
                                          hold 1 / the largest sigma */
    double *tmp;            /* one candidate's terms */
    double log_n;
    const double *ctab;     /* this suggestion's log weight constants by trial + 1 */
    /* what the kernels were derived with (ksets_sync) */
    int valid, with_prior, ends;
    double minsig;
    /* categorical: the marginal */
    double *catp;
    size_t catcap;
} kset;


/* One parameter as modelled. */
typedef struct pmodel {
    tc_tpe_param p;         /* as given, name copied, high adjusted to the grid */
    char *name;
    int constant;           /* a single possible value: never modelled */
    int grid;               /* values on low + k * step */
    int cat;
    double lo, hi;          /* model-space bounds (logs for log parameters) */
    double step;            /* model-space step: 0 unless a linear grid */
    double L, H;            /* kernels' truncation: lo - step/2, hi + step/2 */
    double width;           /* hi - lo + step */
    uint64_t ngrid;
    double *col;            /* model value per trial, NaN: absent */
    long *sorted;           /* trials with a value, by (value, trial) */
    size_t nsorted;
    kcache *kc[2];               /* per trial and group: the kernel's sigma -> normaliser */
    size_t nabsent;              /* trials ever added without this parameter */
    /* grid parameters: a grid kernel's log bin mass depends only on the
     * kernel's sigma and the candidate's offset d from it in steps, so at the
     * group's clip sigma (most kernels) it is looked up by |d| */
    double gt_sig[2];
    double *gt[2];               /* [|d|], NaN: not computed yet */
    size_t gt_n;                 /* entries: ngrid, 0 without tables */
    double *pt;                  /* the prior's log bin mass per grid index (its centre and
                                    sigma never change), NaN: not computed yet */
    double *gk;                  /* [(k - 1) * gt_n + |d|]: the log bin mass at offset d
                                    steps under sigma = k steps, k <= GK_MAX (a gap between
                                    grid values); allocated on first use, NULL: none */
    kset ks[2];                  /* the univariate estimators, kept (ksets_sync) */
    unsigned char *um;           /* per trial: its group when ks was last synced */
} pmodel;


/* The multivariate estimator of one group: kernels in age order, prior last. */
typedef struct jset {
    size_t n, cap, np;      /* kernels; parameters in the joint group */
    double *logw, *w;
    double *mu, *sig, *c;   /* [param slot * cap + kernel]; categorical: c the log
                               probability of a choice not observed, mu of the observed */
    double *isig;           /* 1 / sig */
    long *obs;              /* categorical index per slot and kernel */
    double *ub;             /* per kernel: log weight + every slot's largest log density,
                               an upper bound on the kernel's term at any candidate */
    double *term;           /* one candidate's partial terms over every kernel */
    size_t *idx;            /* the kernels still within reach of the largest term, */
    double *tv;             /* and their partial terms (jset_log_pdf) */
    double *csum;           /* per kernel: the sum of its factors' bounds (ub less logw) */
    /* what the last build was, so that the next one can update it when the
     * group only gained new trials (build_jset) */
    int valid, with_prior;
    size_t nobs;
    long *ktr;              /* the trial of each kernel (age order) */
    long *pslot;            /* per parameter: its slot, -1 outside the joint group */
    double *minsig;         /* per slot: the clip the sigmas were made with */
} jset;

struct tc_tpe {
    tc_tpe_opts o;
    size_t np;
    pmodel *pm;
    size_t ntrials, cap;
    unsigned char *state;
    double *loss;
    long *by_loss;          /* completed trials by (loss, trial) */
    size_t ncomplete, nrunning;
    tc_rng rng;
    /* scratch */
    unsigned char *in_below;
    unsigned char *grp;     /* per trial, this suggestion: BELOW, ABOVE or NONE */
    long *grank;            /* per trial: age rank within its group */
    size_t gcount[2];       /* trials per group */
    double *tw, *tlw;       /* per trial: raw weight in its group (default_weights by age) and
                               its log */
    double gsum[2];         /* each group's sum of raw weights */
    double *pw, *plw;       /* the same for a parameter some trials lack */
    long *below;            /* the below trials, by age */
    long *rank;             /* per trial: age rank within the group among those with the
                               parameter (a parameter some trials lack) */
    double *ramp, *logramp; /* default_weights' ramp for logramp_n, and its logs */
    size_t logramp_n, logramp_cap;
    double ramp_sum;        /* sum of the n raw weights for logramp_n */
    double flat_sum;        /* the sum when the last ramp_for had n <= 25, else -1 */
    double *ctab[2];        /* per group, this suggestion: log weight constants by trial + 1
                               (weight_table), for the parameters every trial has */
    int ctab_ready;
    double *pctab[2];       /* the same for a parameter some trials lack */
    long kernel_updates;    /* kernels inserted or removed by ksets_sync (diagnostics) */
    jset js[2];
    int *joint;             /* per parameter: in the joint group */
    size_t *slot;           /* joint slot of a joint parameter */
    /* trace of the last suggestion */
    int last_random, has_last;
    double *tr_val, *tr_ll, *tr_lg;   /* [param * n_ei + i] */
    long *tr_chosen;
    double *cand;           /* model values of the candidates [slot * ne + i] */
    size_t ne;              /* candidates of the last suggestion (candidates_for) */
    long *cand_k;
    double *dscratch;       /* kset_log_pdfs' per-candidate scratch (7 words each) */
};

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

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static double snap(double v, double low, double high, double step)
{
    return clampd(low + floor((v - low) / step + 0.5) * step, low, high);
}

static int grow(void **v, size_t *cap, size_t need, size_t elem)
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
    t->dscratch = tc_calloc(7 * (size_t)opts->n_ei_candidates, sizeof(double));
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

static void kset_free(kset *k)
{
    tc_free(k->trial);
    tc_free(k->mu);
    tc_free(k->sig);
    tc_free(k->w);
    tc_free(k->nrm);
    tc_free(k->c);
    tc_free(k->lcb);
    tc_free(k->lsig);
    tc_free(k->rcb);
    tc_free(k->rsig);
    tc_free(k->isig);
    tc_free(k->tmp);
    tc_free(k->catp);
}

static void jset_free(jset *j)
{
    tc_free(j->logw);
    tc_free(j->w);
    tc_free(j->ub);
    tc_free(j->term);
    tc_free(j->csum);
    tc_free(j->ktr);
    tc_free(j->minsig);
    tc_free(j->idx);
    tc_free(j->tv);
    tc_free(j->mu);
    tc_free(j->sig);
    tc_free(j->isig);
    tc_free(j->c);
    tc_free(j->obs);
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
            kset_free(&m->ks[g]);
        }
    }
    tc_free(t->pm);
    tc_free(t->state);
    tc_free(t->loss);
    tc_free(t->by_loss);
    tc_free(t->in_below);
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
        tc_free(t->ctab[g]);
        tc_free(t->pctab[g]);
        jset_free(&t->js[g]);
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
static int ensure_trials(tc_tpe *t, size_t need)
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
    RE(t->grank, long);
    RE(t->pw, double);
    RE(t->plw, double);
    RE(t->tw, double);
    RE(t->tlw, double);
    for (int g = 0; g < 2; g++) {
        void *c_ = tc_realloc(t->ctab[g], (n + 1) * sizeof(double));
        if (!c_)
            return -1;
        t->ctab[g] = c_;
        c_ = tc_realloc(t->pctab[g], (n + 1) * sizeof(double));
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
    if (ensure_trials(t, t->ntrials + 1) < 0) {
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
static int ramp_for(tc_tpe *t, size_t n)
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
        if (grow((void **)&t->logramp, &c1, m + 1, sizeof(double)) < 0 ||
            grow((void **)&t->ramp, &c2, m + 1, sizeof(double)) < 0)
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

/* The sum of the raw weights for the n of the last ramp_for. */
static double raw_sum(const tc_tpe *t)
{
    return t->flat_sum >= 0 ? t->flat_sum : t->ramp_sum;
}

/* log raw weight of the observation of age rank r among n. */
static double log_raw_weight(const tc_tpe *t, size_t r, size_t n)
{
    size_t m = n > RAMP_FLAT ? n - RAMP_FLAT : 0;
    return r < m ? t->logramp[r] : 0.0;
}

static int considered(const tc_tpe *t, long tr)
{
    return t->state[tr] == ST_COMPLETE || (t->o.constant_liar && t->state[tr] == ST_RUNNING);
}

/* Splits the trials for a suggestion: the best nbelow completed ones by
 * loss are BELOW, the other considered ones ABOVE; each gets its age rank
 * within its group, and below[] lists the below group by age. Each gets its
 * raw weight in its group too (default_weights by age rank: the oldest n -
 * 25 on numpy's linspace(1/n, 1, n - 25), the rest 1), in the same pass, as
 * both groups' sizes are known before it; their logs follow in one
 * vectorised pass over every trial (about a thousand per suggestion). */
static void split_groups(tc_tpe *t, size_t nbelow)
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
    for (size_t tr = 0; tr < t->ntrials; tr++) {
        int g = !considered(t, (long)tr) ? NONE : t->in_below[tr] ? BELOW : ABOVE;
        size_t r;
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
}

/* ------------------------------------------------------------------------- */
/* univariate estimators                                                      */
/* ------------------------------------------------------------------------- */

static int kset_reserve(kset *k, size_t n)
{
    size_t cap = k->cap;
    if (n <= k->cap)
        return 0;
    /* every array grows from the same old capacity to the same new one */
#define G(ptr, type) do {                                          \
        size_t c_ = cap;                                           \
        if (grow((void **)&k->ptr, &c_, n, sizeof(type)) < 0)      \
            return -1;                                             \
        k->cap = c_;                                               \
    } while (0)
    G(trial, long);
    G(mu, double);
    G(sig, double);
    G(w, double);
    G(nrm, double);
    G(c, double);
    G(lcb, double);
    G(lsig, double);
    G(rcb, double);
    G(rsig, double);
    G(isig, double);
    G(tmp, double);
#undef G
    return 0;
}

/* Normaliser of a kernel: log sigma + log sqrt(2 pi) + log mass for a
 * continuous kernel, log mass for a grid kernel. */
static double kernel_norm(const pmodel *m, double mu, double sig)
{
    double lm = tc_tpe_log_gauss_mass((m->L - mu) / sig, (m->H - mu) / sig);
    return m->step > 0 ? lm : log(sig) + TC_TPE_LOG_SQRT_2PI + lm;
}

/* Points the grid tables of group g at its clip sigma for this build (the
 * sigma most kernels have), emptying them when that sigma changed. */
static void grid_tables_for(pmodel *m, int g, double clip)
{
    if (!m->gt_n || m->gt_sig[g] == clip)
        return;
    m->gt_sig[g] = clip;
    for (size_t i = 0; i < m->gt_n; i++)
        m->gt[g][i] = NAN;
}

/* The window bound's maxima per block of BLK kernels (see kset), the prior
 * left out: its sigma is the whole width, and it is summed apart. A block's
 * own maxima come from independent comparisons; only the running maxima
 * over blocks form a chain, BLK times shorter than one over kernels. */
static void block_maxima(kset *k)
{
    size_t n = k->n, prior_at = k->prior_at, nb = (n + BLK - 1) >> BLK_SHIFT;
    double cbm = -INFINITY, sgm = 0, isgm = INFINITY;
    double *bc = k->tmp, *bs = k->tmp + nb;     /* each block's own maxima */
    double *lcb = k->lcb, *lsg = k->lsig, *rcb = k->rcb, *rsg = k->rsig;
    double pc = 0, ps = 0;
    if (prior_at != (size_t)-1) {   /* the prior left out: masked for the flat pass */
        pc = k->c[prior_at];
        ps = k->sig[prior_at];
        k->c[prior_at] = -INFINITY;
        k->sig[prior_at] = 0;
    }
    {
        const double *restrict cv = k->c, *restrict sv = k->sig;
        size_t full = n >> BLK_SHIFT;
        for (size_t b = 0; b < full; b++) {
            const double *c4 = cv + (b << BLK_SHIFT), *s4 = sv + (b << BLK_SHIFT);
            bc[b] = MAXD(MAXD(c4[0], c4[1]), MAXD(c4[2], c4[3]));
            bs[b] = MAXD(MAXD(s4[0], s4[1]), MAXD(s4[2], s4[3]));
        }
        if (full < nb) {
            double mc = -INFINITY, ms = 0;
            for (size_t i = full << BLK_SHIFT; i < n; i++) {
                mc = MAXD(mc, cv[i]);
                ms = MAXD(ms, sv[i]);
            }
            bc[full] = mc;
            bs[full] = ms;
        }
    }
    if (prior_at != (size_t)-1) {
        k->c[prior_at] = pc;
        k->sig[prior_at] = ps;
    }
    for (size_t b = 0; b < nb; b++) {
        cbm = MAXD(cbm, bc[b]);
        if (bs[b] > sgm) {
            sgm = bs[b];
            isgm = 1.0 / sgm;
        }
        lcb[b] = cbm;
        lsg[b] = isgm;
    }
    cbm = -INFINITY;
    sgm = 0;
    isgm = INFINITY;
    for (size_t b = nb; b-- > 0;) {
        cbm = MAXD(cbm, bc[b]);
        if (bs[b] > sgm) {
            sgm = bs[b];
            isgm = 1.0 / sgm;
        }
        rcb[b] = cbm;
        rsg[b] = isgm;
    }
}

/* What a group's estimator of one parameter is built with this suggestion. */
typedef struct kprep {
    size_t nobs;
    const double *tw;           /* the observations' raw weights by trial */
    double rawsum;
    int with_prior;
    double minsig;              /* the magic clip */
} kprep;

/* Per-trial log weight constants of group g: ctab[0] the prior's, ctab[tr +
 * 1] trial tr's (log raw weight - log total), for the trials of the group
 * that have the parameter (m, or every trial when m is NULL; other entries
 * are not read). */
static void weight_table(const tc_tpe *t, int g, const pmodel *m, const double *tlw,
                         double rawsum, size_t nobs, int with_prior, double *ctab)
{
    double total = nobs ? rawsum + (with_prior ? t->o.prior_weight : 0) : 1.0,
           log_total = log(total);
    ctab[0] = nobs ? log(t->o.prior_weight) - log_total : 0.0;
    if (!m) {
        for (size_t tr = 0; tr < t->ntrials; tr++)
            ctab[tr + 1] = tlw[tr] - log_total;
        return;
    }
    for (size_t tr = 0; tr < t->ntrials; tr++)
        if (t->grp[tr] == g && !isnan(m->col[tr]))
            ctab[tr + 1] = tlw[tr] - log_total;
}

/* Group g's weights for parameter p: the group's own (t->ctab, filled once
 * per suggestion) when every trial has p, else from the ranks among the
 * group's trials that have p (t->pctab). Points the kset at its table. */
static int kset_prepare(tc_tpe *t, size_t p, int g, kprep *q)
{
    pmodel *m = &t->pm[p];
    kset *k = &m->ks[g];
    if (m->nabsent == 0) {
        q->nobs = t->gcount[g];
        q->tw = t->tw;
        q->rawsum = t->gsum[g];
        q->with_prior = t->o.consider_prior || q->nobs == 0;
        if (!(t->ctab_ready & (1 << g))) {     /* once per suggestion and group */
            weight_table(t, g, NULL, t->tlw, q->rawsum, q->nobs, q->with_prior, t->ctab[g]);
            t->ctab_ready |= 1 << g;
        }
        k->ctab = t->ctab[g];
    } else {
        /* pw, plw are per trial: the two groups' trials are disjoint */
        size_t r = 0, nobs;
        for (size_t tr = 0; tr < t->ntrials; tr++)
            if (t->grp[tr] == g && !isnan(m->col[tr]))
                t->rank[tr] = (long)r++;
        q->nobs = nobs = r;
        if (ramp_for(t, nobs) < 0)
            return -1;
        for (size_t tr = 0; tr < t->ntrials; tr++)
            if (t->grp[tr] == g && !isnan(m->col[tr])) {
                size_t rk = (size_t)t->rank[tr];
                t->pw[tr] = rk + RAMP_FLAT < nobs ? t->ramp[rk] : 1.0;
                t->plw[tr] = log_raw_weight(t, rk, nobs);
            }
        q->tw = t->pw;
        q->rawsum = raw_sum(t);
        q->with_prior = t->o.consider_prior || q->nobs == 0;
        weight_table(t, g, m, t->plw, q->rawsum, nobs, q->with_prior, t->pctab[g]);
        k->ctab = t->pctab[g];
    }
    q->minsig = t->o.consider_magic_clip
                    ? m->width / fmin(100.0, 1.0 + (double)q->nobs + (double)q->with_prior)
                    : EPS_SIGMA;
    if (kset_reserve(k, q->nobs + 2) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------------- */
/* keeping a univariate estimator from one suggestion to the next             */
/* ------------------------------------------------------------------------- */
/* A parameter's two ksets hold its kernels in (value, trial) order, the
 * prior after every value <= its centre, with each kernel's sigma, inverse
 * sigma and normaliser: what depends only on the values and the split, not
 * on the weights (those change with every trial: they come from the
 * per-trial ctab at each use). A suggestion finds the trials whose group
 * changed since the parameter's last build (m->um) and inserts or removes
 * just those kernels, re-deriving the sigmas of their neighbours; a set is
 * built afresh from the sorted values when its clip, prior or end rule
 * changed (the clip moves with the group's size below ~100 observations)
 * or when many trials moved. Either way every kernel's numbers are those of
 * the same formulas on the same inputs, so the two paths agree to the bit
 * (tests/c/test_search_tpe_update.c). */

#define RESYNC_MAX 32       /* more moved trials than this: rebuild the sets */

/* Kernel i's sigma under the set's clip and end rule: the larger gap to a
 * neighbour, the domain's ends as neighbours (the end kernels' inner gap
 * without endpoints); the prior's is the width. */
static double kernel_sigma(const pmodel *m, const kset *k, size_t i)
{
    const double *mu = k->mu;
    size_t n = k->n;
    double s;
    if (i == k->prior_at)
        return m->width;
    if (i == 0)
        s = k->ends ? mu[1] - mu[0] : MAXD(mu[0] - m->L, (n > 1 ? mu[1] : m->H) - mu[0]);
    else if (i == n - 1)
        s = k->ends ? mu[n - 1] - mu[n - 2] : MAXD(mu[n - 1] - mu[n - 2], m->H - mu[n - 1]);
    else
        s = MAXD(mu[i] - mu[i - 1], mu[i + 1] - mu[i]);
    return clampd(s, k->minsig, m->width);
}

/* Sets kernel i's sigma and what follows from it (inverse sigma,
 * normaliser): a kernel at the clip lying CLIP_FAR sigmas inside both
 * truncation bounds has a mass within 1e-19 of 1, so its normaliser is the
 * clip's; others come from the trial's cache while their sigma is
 * unchanged. */
static void kernel_set(pmodel *m, kset *k, int g, size_t i)
{
    double sig = kernel_sigma(m, k, i), mu = k->mu[i], minsig = k->minsig;
    long tr = k->trial[i];
    k->sig[i] = sig;
    if (m->cat) {
        k->isig[i] = 1.0 / sig;
        k->nrm[i] = 0;
    } else if (tr < 0) {
        k->isig[i] = 1.0 / sig;
        k->nrm[i] = kernel_norm(m, mu, sig);
    } else if (sig == minsig && mu > m->L + CLIP_FAR * minsig && mu < m->H - CLIP_FAR * minsig) {
        k->isig[i] = 1.0 / minsig;
        k->nrm[i] = m->step > 0 ? 0.0 : log(minsig) + TC_TPE_LOG_SQRT_2PI;
    } else {
        kcache *kc = &m->kc[g][tr];
        if (kc->sig != sig) {
            kc->sig = sig;
            kc->norm = kernel_norm(m, mu, sig);
            kc->isig = 1.0 / sig;
        }
        k->isig[i] = kc->isig;
        k->nrm[i] = kc->norm;
    }
}

static void kset_set_range(pmodel *m, kset *k, int g, size_t i0, size_t i1)
{
    for (size_t i = i0; i < i1; i++)
        kernel_set(m, k, g, i);
}

/* Group g's set of parameter m from scratch: its trials from the sorted
 * values, the prior placed, every kernel set. */
static void kset_rebuild(tc_tpe *t, pmodel *m, int g, const kprep *q)
{
    kset *k = &m->ks[g];
    const unsigned char *grp = t->grp;
    double prior_mu = 0.5 * (m->lo + m->hi);
    size_t j = 0;
    k->prior_at = (size_t)-1;
    for (size_t s = 0; s < m->nsorted; s++) {
        long tr = m->sorted[s];
        double v = m->col[tr];
        if (grp[tr] != g)
            continue;
        if (q->with_prior && k->prior_at == (size_t)-1 && v > prior_mu) {
            k->prior_at = j;
            k->mu[j] = prior_mu;
            k->trial[j++] = -1;
        }
        k->mu[j] = v;
        k->trial[j++] = tr;
    }
    if (q->with_prior && k->prior_at == (size_t)-1) {
        k->prior_at = j;
        k->mu[j] = prior_mu;
        k->trial[j++] = -1;
    }
    k->n = j;
    k->nobs = q->nobs;
    k->with_prior = q->with_prior;
    k->minsig = q->minsig;
    k->ends = !t->o.consider_endpoints && j >= 2;
    k->valid = 1;
    kset_set_range(m, k, g, 0, j);
}

/* The first index whose kernel sorts after (v, tr) (insert) or not before
 * it (find): the prior sorts after every value <= its centre. */
static size_t kset_bisect(const kset *k, double v, long tr, int after)
{
    size_t lo = 0, hi = k->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        double mv = k->mu[mid];
        long mt = k->trial[mid];
        int before = mv < v || (mv == v && (after ? mt >= 0 && mt <= tr : mt >= 0 && mt < tr));
        if (before)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void kset_shift(kset *k, size_t at, size_t from, size_t count)
{
    memmove(k->mu + at, k->mu + from, count * sizeof(double));
    memmove(k->trial + at, k->trial + from, count * sizeof(long));
    memmove(k->sig + at, k->sig + from, count * sizeof(double));
    memmove(k->isig + at, k->isig + from, count * sizeof(double));
    memmove(k->nrm + at, k->nrm + from, count * sizeof(double));
}

/* Re-derives the kernels in [i0, i1) (clamped to the set). */
static void kset_touch(pmodel *m, kset *k, int g, size_t i0, size_t i1)
{
    kset_set_range(m, k, g, i0, i1 < k->n ? i1 : k->n);
}

static void kset_insert(pmodel *m, kset *k, int g, long tr)
{
    double v = m->col[tr];
    size_t at = kset_bisect(k, v, tr, 1);
    kset_shift(k, at + 1, at, k->n - at);
    k->mu[at] = v;
    k->trial[at] = tr;
    k->n++;
    k->nobs++;
    if (k->prior_at != (size_t)-1 && k->prior_at >= at)
        k->prior_at++;
    kset_touch(m, k, g, at ? at - 1 : 0, at + 2);
}

static void kset_remove(pmodel *m, kset *k, int g, long tr)
{
    size_t at = kset_bisect(k, m->col[tr], tr, 0);
    if (at >= k->n || k->trial[at] != tr) {     /* cannot happen: resync from scratch */
        k->valid = 0;
        return;
    }
    kset_shift(k, at, at + 1, k->n - at - 1);
    k->n--;
    k->nobs--;
    if (k->prior_at != (size_t)-1 && k->prior_at > at)
        k->prior_at--;
    kset_touch(m, k, g, at ? at - 1 : 0, at + 1);
}

/* Each kernel's constant for this suggestion's weights: the log weight
 * less the log normaliser, in one flat pass (a window touches each kernel
 * several times per suggestion). */
static void kset_constants(kset *k)
{
    tc_tpe_constants(k->c, k->ctab + 1, k->trial, k->nrm, k->n);
}

/* Brings both groups' sets of parameter p to this suggestion's split. */
static void ksets_sync(tc_tpe *t, size_t p, const kprep q[2])
{
    pmodel *m = &t->pm[p];
    unsigned char *um = m->um;
    const unsigned char *grp = t->grp;
    int fresh[2];
    size_t moved = 0;
    for (int g = 0; g < 2; g++) {
        kset *k = &m->ks[g];
        int ends = !t->o.consider_endpoints && q[g].nobs + (size_t)q[g].with_prior >= 2;
        fresh[g] = !k->valid || k->with_prior != q[g].with_prior || k->minsig != q[g].minsig ||
                   k->ends != ends;
    }
    if (!fresh[BELOW] || !fresh[ABOVE]) {
        /* eight trials at a time: most words are equal */
        size_t nt = t->ntrials, tr = 0;
        for (; tr + 8 <= nt && moved <= RESYNC_MAX; tr += 8) {
            uint64_t a, b;
            memcpy(&a, um + tr, 8);
            memcpy(&b, grp + tr, 8);
            if (a == b)
                continue;
            for (size_t j = tr; j < tr + 8; j++)
                moved += um[j] != grp[j] && !isnan(m->col[j]);
        }
        for (; tr < nt && moved <= RESYNC_MAX; tr++)
            moved += um[tr] != grp[tr] && !isnan(m->col[tr]);
        if (moved > RESYNC_MAX)
            fresh[BELOW] = fresh[ABOVE] = 1;
    }
    if (!fresh[BELOW] || !fresh[ABOVE]) {
        for (size_t tr = 0; tr < t->ntrials && moved; tr++) {
            int from = um[tr], to = grp[tr];
            if (tr + 8 <= t->ntrials && !(tr & 7)) {   /* skip equal words */
                uint64_t a, b;
                memcpy(&a, um + tr, 8);
                memcpy(&b, grp + tr, 8);
                if (a == b) {
                    tr += 7;
                    continue;
                }
            }
            if (from == to || isnan(m->col[tr]))
                continue;
            moved--;
            if (from != NONE && !fresh[from]) {
                kset_remove(m, &m->ks[from], from, (long)tr);
                t->kernel_updates++;
            }
            if (to != NONE && !fresh[to]) {
                kset_insert(m, &m->ks[to], to, (long)tr);
                t->kernel_updates++;
            }
        }
    }
    for (int g = 0; g < 2; g++) {
        kset *k = &m->ks[g];
        if (fresh[g] || !k->valid || k->nobs != q[g].nobs)
            kset_rebuild(t, m, g, &q[g]);
        grid_tables_for(m, g, k->minsig);
        k->log_n = log((double)k->n);
        kset_constants(k);
        block_maxima(k);
    }
    memcpy(um, grp, t->ntrials);
}

/* Group g's kernel weights (for drawing from it, and for a categorical's
 * marginal), from the raw weights by trial. */
static void kset_weights(const tc_tpe *t, kset *k, const kprep *q)
{
    double total = q->nobs ? q->rawsum + (q->with_prior ? t->o.prior_weight : 0) : 1.0,
           inv_total = 1.0 / total, w_prior = q->nobs ? t->o.prior_weight * inv_total : 1.0;
    for (size_t i = 0; i < k->n; i++) {
        long tr = k->trial[i];
        k->w[i] = tr < 0 ? w_prior : q->tw[tr] * inv_total;
    }
}

/* Builds (or updates) both groups' estimators of parameter p. */
static int build_ksets(tc_tpe *t, size_t p)
{
    pmodel *m = &t->pm[p];
    kprep q[2];
    if (kset_prepare(t, p, BELOW, &q[BELOW]) < 0 || kset_prepare(t, p, ABOVE, &q[ABOVE]) < 0)
        return -1;
    ksets_sync(t, p, q);
    kset_weights(t, &m->ks[BELOW], &q[BELOW]);
    if (m->cat)
        kset_weights(t, &m->ks[ABOVE], &q[ABOVE]);
    return 0;
}

/* The log mass of the grid bin around model value x (a grid point) under a
 * kernel at mu with sigma sig (isig its inverse) of group g. An
 * observation's kernel (kind GB_OBS) at the group's clip sigma, centred on
 * the grid, reads the group's table (the mass then depends only on the
 * offset in steps), and one at a sigma of k steps the parameter's table for
 * k; the prior (GB_PRIOR) reads the parameter's table by the
 * candidate's grid index (its centre and sigma are fixed). */
enum { GB_DIRECT = 0, GB_OBS = 1, GB_PRIOR = 2 };
static double grid_bin_mass(pmodel *m, int g, int kind, double mu, double sig, double isig,
                            double x)
{
    double hs = m->step / 2, xl = fmax(x - hs, m->L), xh = fmin(x + hs, m->H), d, ad;
    double *e = NULL;
    if (kind == GB_OBS && m->gt_n) {
        /* off the clip, a grid kernel's sigma is a gap between grid values:
         * a whole number of steps (to rounding), tabled up to GK_MAX */
        double r = sig / m->step, kr = floor(r + 0.5);
        int clip = sig == m->gt_sig[g];
        d = (x - mu) / m->step;
        ad = floor(fabs(d) + 0.5);
        if (fabs(fabs(d) - ad) < 1e-9 && ad < (double)m->gt_n) {
            if (clip) {
                e = &m->gt[g][(size_t)ad];
            } else if (fabs(r - kr) < 1e-9 && kr >= 1 && kr <= GK_MAX &&
                       m->gt_n <= GK_GRID_MAX) {
                if (!m->gk && (m->gk = tc_malloc(GK_MAX * m->gt_n * sizeof(double))))
                    for (size_t i = 0; i < GK_MAX * m->gt_n; i++)
                        m->gk[i] = NAN;
                if (m->gk)      /* no memory: computed directly, as without a table */
                    e = &m->gk[((size_t)kr - 1) * m->gt_n + (size_t)ad];
            }
        }
    } else if (kind == GB_PRIOR && m->gt_n) {
        d = (x - m->lo) / m->step;
        ad = floor(d + 0.5);
        if (fabs(d - ad) < 1e-9 && ad >= 0 && ad < (double)m->gt_n)
            e = &m->pt[(size_t)ad];
    }
    if (!e)
        return tc_tpe_log_gauss_mass((xl - mu) * isig, (xh - mu) * isig);
    if (isnan(*e))
        *e = tc_tpe_log_gauss_mass((xl - mu) * isig, (xh - mu) * isig);
    return *e;
}

/* Grid kernel i's log bin mass at model value x (a grid point). */
static double grid_log_mass(pmodel *m, const kset *k, int g, size_t i, double x)
{
    return grid_bin_mass(m, g, k->trial[i] >= 0 ? GB_OBS : GB_PRIOR, k->mu[i], k->sig[i],
                         k->isig[i], x);
}

/* A continuous kernel i's log weighted density at model value x. */
static inline double cont_term(const kset *k, size_t i, double x)
{
    double z = (x - k->mu[i]) * k->isig[i];
    return k->c[i] - 0.5 * z * z;
}

/* Kernel i's log weighted density at model value x (the continuous case
 * inlined: three per candidate and set). */
static inline double kernel_term(pmodel *m, const kset *k, int g, size_t i, double x)
{
    if (m->step > 0)
        return k->c[i] + grid_log_mass(m, k, g, i, x);
    return cont_term(k, i, x);
}

/* A suggestion evaluates each estimator at all its candidates at once
 * (kset_log_pdfs), so that the three bisections a density needs (x's place
 * among the kernels, and the window's two ends) run for every candidate
 * side by side (tc_tpe_lower_indices, tc_tpe_window_ends in
 * search_tpe_sum.c): one candidate's bisection is a chain of dependent
 * loads whose steps cannot be predicted, but the candidates' chains are
 * independent, so the processor overlaps them, and the loop over candidates
 * vectorises. For that, every candidate's bisection takes the same steps:
 * each runs over all n kernels, with a predicate that is monotone over all
 * of them ("before" the answer, then not; a side's bound never grows
 * outward, as the running maxima cover fewer kernels and the distance
 * grows), and moves its base by a mask rather than a branch. The answers
 * are the first index whose predicate is false, as a bisection of the side
 * alone finds. */

/* log of the kernel mixture at model values x[0..ne) into out (numeric
 * parameters). The prior and the two kernels around x give a lower bound
 * on the largest term; the window then extends on each side while the
 * side's bound could still reach e^-KSET_CUT of it, and only the window is
 * summed, relative to that lower bound (so every exponent is at most a few
 * dozen and the sum at least 1). ws: the scratch of 7 * ne words. */
static void kset_log_pdfs(pmodel *m, kset *k, int g, const double *x, size_t ne, double *out,
                          void *ws)
{
    double hs = m->step / 2, *ref = ws, *floor_ = ref + ne, *prior_term = floor_ + ne;
    double *sum = prior_term + ne;
    size_t *lo = (size_t *)(sum + ne), *a = lo + ne, *b = a + ne, n = k->n;
    tc_tpe_window w = {k->mu, k->lcb, k->lsig, k->rcb, k->rsig, n, hs, k->log_n};
    tc_tpe_lower_indices(k->mu, n, x, ne, lo);
    for (size_t c = 0; c < ne; c++) {
        double f = -INFINITY;
        size_t l = lo[c];
        if (k->prior_at != (size_t)-1)
            f = kernel_term(m, k, g, k->prior_at, x[c]);
        prior_term[c] = f;
        if (l < n && l != k->prior_at)
            f = MAXD(f, kernel_term(m, k, g, l, x[c]));
        if (l > 0 && l - 1 != k->prior_at)
            f = MAXD(f, kernel_term(m, k, g, l - 1, x[c]));
        ref[c] = f;
        floor_[c] = f - KSET_CUT;
    }
    tc_tpe_window_ends(&w, x, ne, lo, floor_, a, b);
    for (size_t c = 0; c < ne; c++) {
        double mx, s, r = ref[c], pt = prior_term[c];
        size_t ac = a[c], bc = b[c];
        int prior_apart = k->prior_at != (size_t)-1 && (k->prior_at < ac || k->prior_at >= bc);
        /* relative to ref, every window term is at most the window's largest
         * constant less ref: usually a few dozen, but a kernel of tiny sigma
         * next to x (no magic clip) can put ref far below a wider kernel's
         * term, and then the terms and their maximum are computed first, as
         * for a grid */
        if (m->step == 0 && r > -INFINITY &&
            (bc == ac || k->lcb[(bc - 1) >> BLK_SHIFT] - r < EXP_HEADROOM)) {
            s = tc_tpe_gauss_window_sum(k->mu + ac, k->isig + ac, k->c + ac, bc - ac, x[c], r);
            if (prior_apart)
                s += exp(pt - r);
            out[c] = r;
            sum[c] = s;
            continue;
        }
        /* grid kernels (a bin mass may underflow to -inf), or a ref too far
         * below the largest term: the terms, their maximum, the sum */
        mx = pt;
        for (size_t i = ac; i < bc; i++) {
            k->tmp[i - ac] = kernel_term(m, k, g, i, x[c]);
            mx = MAXD(mx, k->tmp[i - ac]);
        }
        if (mx == -INFINITY) {
            out[c] = -INFINITY;
            sum[c] = 1;
            continue;
        }
        s = tc_tpe_exp_sum(k->tmp, bc - ac, mx);
        if (prior_apart)
            s += exp(pt - mx);
        out[c] = mx;
        sum[c] = s;
    }
    /* the logs in one vectorised pass (a sum is at least ~1: ref's own
     * term is in it; libm's log takes anything else) */
    tc_tpe_log_array(sum, ref, ne);
    for (size_t c = 0; c < ne; c++)
        out[c] += sum[c] >= 1e-300 && sum[c] < INFINITY ? ref[c] : log(sum[c]);
}

/* Categorical: the mixture's marginal over the choices into k->catp. */
static int kset_cat_marginal(tc_tpe *t, const pmodel *m, kset *k)
{
    size_t nc = (size_t)m->p.n_choices;
    double nk, a = 0, wprior = 0, den;
    if (grow((void **)&k->catp, &k->catcap, nc, sizeof(double)) < 0)
        return -1;
    for (size_t j = 0; j < nc; j++)
        k->catp[j] = 0;
    nk = (double)k->nobs + (t->o.consider_prior ? 1.0 : 0.0);
    den = (double)nc * t->o.prior_weight / (nk > 0 ? nk : 1.0) + 1.0;
    for (size_t i = 0; i < k->n; i++) {
        if (k->trial[i] < 0) {
            wprior += k->w[i];
            continue;
        }
        a += k->w[i];
        k->catp[(size_t)k->mu[i]] += k->w[i];
    }
    for (size_t j = 0; j < nc; j++) {
        double obs_part = k->nobs ? (a * t->o.prior_weight / nk + k->catp[j]) / den : 0;
        k->catp[j] = obs_part + wprior / (double)nc;
    }
    return 0;
}

/* ------------------------------------------------------------------------- */
/* sampling                                                                   */
/* ------------------------------------------------------------------------- */

static double sample_trunc(tc_rng *r, double mu, double sig, double L, double H)
{
    for (int i = 0; i < MAX_REJECT; i++) {
        double x = mu + sig * tc_rng_normal(r);
        if (x >= L && x <= H)
            return x;
    }
    return clampd(mu, L, H);
}

static size_t pick(tc_rng *r, const double *w, size_t n)
{
    double u = tc_rng_uniform(r), acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc += w[i];
        if (u < acc)
            return i;
    }
    return n - 1;
}

/* Running sums of w[0..n) into cum, for pick_cum: a suggestion draws all its
 * candidates' kernels from one estimator, so the scan pick does is done once. */
static void cumulate(const double *w, size_t n, double *cum)
{
    double acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc += w[i];
        cum[i] = acc;
    }
}

/* pick's draw by bisection on cumulate's sums (the same additions in the same
 * order, so the same index): the first i with u < cum[i], else n - 1. */
static size_t pick_cum(tc_rng *r, const double *cum, size_t n)
{
    double u = tc_rng_uniform(r);
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u < cum[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo < n ? lo : n - 1;
}

/* A sampled model-space value x -> the grid (log grids round in the external
 * space and come back to log). */
static double to_grid(const pmodel *m, double x)
{
    if (!m->grid)
        return x;
    if (m->p.log)
        return log(snap(exp(x), m->p.low, m->p.high, m->p.step));
    return snap(x, m->p.low, m->p.high, m->p.step);
}

static double to_external(const pmodel *m, double x)
{
    if (m->cat || !m->p.log)
        return x;
    return m->grid ? snap(exp(x), m->p.low, m->p.high, m->p.step)
                   : clampd(exp(x), m->p.low, m->p.high);
}

static double sample_random(tc_tpe *t, const pmodel *m)
{
    if (m->constant)
        return m->cat ? 0 : m->p.low;
    if (m->cat)
        return (double)tc_rng_below(&t->rng, (uint64_t)m->p.n_choices);
    if (m->grid && !m->p.log)
        return clampd(m->p.low + (double)tc_rng_below(&t->rng, m->ngrid) * m->p.step, m->p.low,
                      m->p.high);
    return to_external(m, to_grid(m, m->L + tc_rng_uniform(&t->rng) * (m->H - m->L)));
}

/* ------------------------------------------------------------------------- */
/* the multivariate group                                                     */
/* ------------------------------------------------------------------------- */

static int jset_reserve(jset *j, size_t n, size_t np)
{
    if (n <= j->cap && np <= j->np)
        return 0;
    /* grows by half again, so that a run that adds one trial per suggestion
     * reallocates (and rebuilds from scratch) only now and then */
    if (n < j->cap + j->cap / 2)
        n = j->cap + j->cap / 2;
    if (n < 64)
        n = 64;
    if (np < j->np)
        np = j->np;
    {
        long *pslot = j->pslot;     /* not capacity-bound: kept */
        j->pslot = NULL;
        jset_free(j);
        j->pslot = pslot;
    }
    j->valid = 0;
    j->csum = tc_malloc(n * sizeof(double));
    j->ktr = tc_malloc(n * sizeof(long));
    j->minsig = tc_malloc(np * sizeof(double));
    j->logw = tc_malloc(n * sizeof(double));
    j->w = tc_malloc(n * sizeof(double));
    j->ub = tc_malloc(n * sizeof(double));
    j->term = tc_malloc((n + 1) * sizeof(double));     /* + 1: joint_sigmas' gather */
    j->idx = tc_malloc((n + 1) * sizeof(size_t));
    j->tv = tc_malloc(n * sizeof(double));
    j->mu = tc_malloc(n * np * sizeof(double));
    j->sig = tc_malloc(n * np * sizeof(double));
    j->isig = tc_malloc(n * np * sizeof(double));
    j->c = tc_malloc(n * np * sizeof(double));
    j->obs = tc_malloc(n * np * sizeof(long));
    j->cap = n;
    j->np = np;
    return j->logw && j->w && j->ub && j->term && j->idx && j->tv && j->csum && j->ktr &&
                   j->minsig && j->mu && j->sig && j->isig && j->c && j->obs
               ? 0
               : -1;
}

/* Optuna 5's sigmas for one parameter of the joint estimator (its
 * parzen_estimator.py, which uses them for the multivariate model too): per
 * observation the larger gap to its neighbours among the group's values
 * sorted, the domain's ends as neighbours and the prior left out (unlike the
 * univariate model's), the end kernels' inner gap without
 * consider_endpoints, clipped to [minsig, width]. Into j->sig[base + k] for
 * the kernel of age rank k. */
static void joint_sigmas(tc_tpe *t, const pmodel *m, int g, size_t base, size_t nobs,
                         double minsig)
{
    /* three flat passes, so that the middle one vectorises: the group's
     * values in value order with their kernels (age ranks), gathered without
     * a branch; the gaps; the sigmas and centres scattered to the kernels.
     * The per-candidate scratch of the jset holds the sorted rows. */
    jset *j = &t->js[g];
    double *restrict v = j->term, *restrict sg = j->tv;
    size_t *restrict kk = j->idx;
    const long *restrict sorted = m->sorted, *restrict grank = t->grank;
    const unsigned char *restrict grp = t->grp;
    const double *restrict col = m->col;
    double *restrict sig = j->sig + base, *restrict mu = j->mu + base;
    double W = m->width;
    size_t q = 0;
    int ends = !t->o.consider_endpoints && nobs >= 2;
    for (size_t s = 0; s < m->nsorted; s++) {   /* v and kk have room for one more */
        long tr = sorted[s];
        v[q] = col[tr];
        kk[q] = (size_t)grank[tr];
        q += grp[tr] == g;
    }
    if (nobs == 0)
        return;
    for (size_t i = 1; i + 1 < nobs; i++)
        sg[i] = MAXD(v[i] - v[i - 1], v[i + 1] - v[i]);
    if (nobs == 1) {
        sg[0] = MAXD(v[0] - m->L, m->H - v[0]);
    } else if (ends) {
        sg[0] = v[1] - v[0];                    /* the end kernels' inner gap */
        sg[nobs - 1] = v[nobs - 1] - v[nobs - 2];
    } else {
        sg[0] = MAXD(v[0] - m->L, v[1] - v[0]);
        sg[nobs - 1] = MAXD(v[nobs - 1] - v[nobs - 2], m->H - v[nobs - 1]);
    }
    for (size_t i = 0; i < nobs; i++) {
        double x = sg[i] < minsig ? minsig : sg[i];
        sg[i] = x > W ? W : x;
    }
    for (size_t i = 0; i < nobs; i++) {
        sig[kk[i]] = sg[i];
        mu[kk[i]] = v[i];
    }
}

/* joint_sigmas' rule for the one value at sorted position s, given its
 * neighbours within the group (sorted positions, -1: none): the same
 * expressions, so an update gives the very bits a full build would. */
static double joint_sigma_at(const tc_tpe *t, const pmodel *m, size_t nobs, long lp, long s,
                             long rp, double minsig)
{
    double v = m->col[m->sorted[s]], lv = lp >= 0 ? m->col[m->sorted[lp]] : 0,
           rv = rp >= 0 ? m->col[m->sorted[rp]] : 0, sg, x;
    int ends = !t->o.consider_endpoints && nobs >= 2;
    if (nobs == 1)
        sg = MAXD(v - m->L, m->H - v);
    else if (ends && lp < 0)
        sg = rv - v;
    else if (ends && rp < 0)
        sg = v - lv;
    else
        sg = MAXD(v - (lp >= 0 ? lv : m->L), (rp >= 0 ? rv : m->H) - v);
    x = sg < minsig ? minsig : sg;
    return x > m->width ? m->width : x;
}

#define NB_WALK 64  /* an update looks this far for a neighbour in the group */

/* The next value of group g from sorted position s in direction dir (-1:
 * none); *far when NB_WALK values of other groups were passed first. */
static long group_neighbour(const tc_tpe *t, const pmodel *m, int g, long s, int dir, int *far)
{
    for (int i = 0; i < NB_WALK; i++) {
        s += dir;
        if (s < 0 || (size_t)s >= m->nsorted)
            return -1;
        if (t->grp[m->sorted[s]] == g)
            return s;
    }
    *far = 1;
    return -1;
}

/* Trial tr's position among m's sorted values ((value, trial) order), -1. */
static long sorted_pos(const pmodel *m, long tr)
{
    double v = m->col[tr];
    size_t lo = 0, hi = m->nsorted;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        long o = m->sorted[mid];
        if (m->col[o] < v || (m->col[o] == v && o < tr))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->nsorted && m->sorted[lo] == tr ? (long)lo : -1;
}

/* Kernel of the value at sorted position s: its centre, sigma and (through
 * the trial's cache) normaliser and inverse sigma. -1: a neighbour too far. */
static int joint_refresh(tc_tpe *t, pmodel *m, int g, size_t base, size_t nobs, double minsig,
                         long s)
{
    jset *j = &t->js[g];
    int far = 0;
    long lp = group_neighbour(t, m, g, s, -1, &far), rp = group_neighbour(t, m, g, s, 1, &far);
    long tr = m->sorted[s];
    size_t at = base + (size_t)t->grank[tr];
    kcache *kc = &m->kc[g][tr];
    double sig;
    if (far)
        return -1;
    sig = joint_sigma_at(t, m, nobs, lp, s, rp, minsig);
    j->sig[at] = sig;
    j->mu[at] = m->col[tr];
    if (kc->sig != sig) {
        kc->sig = sig;
        kc->norm = kernel_norm(m, j->mu[at], sig);
        kc->isig = 1.0 / sig;
    }
    j->c[at] = -kc->norm;
    j->isig[at] = kc->isig;
    return 0;
}

/* The group gained the kernels from..nobs-1 (new trials) since the last
 * build, at the same clip: only they and their neighbours among the group's
 * values of this parameter change. -1: do a full build. */
static int joint_update(tc_tpe *t, pmodel *m, int g, size_t base, size_t from, size_t nobs,
                        double minsig)
{
    for (size_t k = from; k < nobs; k++) {
        long s = sorted_pos(m, t->rank[k]), lp, rp;
        int far = 0;
        if (s < 0)
            return -1;
        lp = group_neighbour(t, m, g, s, -1, &far);
        rp = group_neighbour(t, m, g, s, 1, &far);
        if (far || joint_refresh(t, m, g, base, nobs, minsig, s) < 0 ||
            (lp >= 0 && joint_refresh(t, m, g, base, nobs, minsig, lp) < 0) ||
            (rp >= 0 && joint_refresh(t, m, g, base, nobs, minsig, rp) < 0))
            return -1;
    }
    return 0;
}

#define INC_MAX 8   /* more new kernels than this since the last build: a full one */

/* Whether group g's last build can be updated: built at this capacity and
 * joint group, with the same prior, and its trials now are the same ones
 * followed by at most INC_MAX new ones (nothing left, failed or moved to
 * the other group). */
static int jset_updatable(const tc_tpe *t, const jset *j, size_t nobs, int with_prior)
{
    if (!j->valid || j->with_prior != with_prior || nobs < j->nobs ||
        nobs - j->nobs > INC_MAX || !j->pslot)
        return 0;
    for (size_t p = 0; p < t->np; p++)
        if (j->pslot[p] != (t->joint[p] ? (long)t->slot[p] : -1))
            return 0;
    return memcmp(j->ktr, t->rank, j->nobs * sizeof(long)) == 0;
}

/* Builds group g's joint estimator over the njoint parameters in t->joint. */
static int build_jset(tc_tpe *t, int g, size_t njoint)
{
    jset *j = &t->js[g];
    size_t nobs = 0, n, cap;
    int with_prior, inc;
    double total, log_total;
    for (size_t tr = 0; tr < t->ntrials; tr++)
        if (t->grp[tr] == g)
            t->rank[nobs++] = (long)tr;     /* rank[] reused as the age-ordered list */
    with_prior = t->o.consider_prior || nobs == 0;
    n = nobs + (size_t)with_prior;
    if (jset_reserve(j, n, njoint) < 0)
        return -1;
    if (!j->pslot && !(j->pslot = tc_malloc(t->np * sizeof(long))))
        return -1;
    cap = j->cap;
    j->n = n;
    inc = jset_updatable(t, j, nobs, with_prior);
    total = nobs ? t->gsum[g] + (with_prior ? t->o.prior_weight : 0) : 1.0;
    log_total = log(total);
    for (size_t k = 0; k < nobs; k++) {
        long tr = t->rank[k];
        j->logw[k] = t->tlw[tr] - log_total;
        j->w[k] = t->tw[tr] / total;
    }
    if (with_prior) {
        j->logw[nobs] = nobs ? log(t->o.prior_weight) - log_total : 0.0;
        j->w[nobs] = nobs ? t->o.prior_weight / total : 1.0;
    }
    for (size_t p = 0; p < t->np; p++) {
        pmodel *m = &t->pm[p];
        size_t s = t->slot[p];
        double minsig;
        if (!t->joint[p])
            continue;
        if (m->cat) {
            double nk = (double)nobs + (t->o.consider_prior ? 1.0 : 0.0);
            double nc = (double)m->p.n_choices;
            double base = nk > 0 ? t->o.prior_weight / nk : 0;
            double den = nc * base + 1.0;
            double l_other = log(base / den);           /* a choice not observed */
            double l_obs = log((base + 1.0) / den);     /* the observed choice */
            for (size_t k = 0; k < nobs; k++) {
                j->obs[s * cap + k] = (long)m->col[t->rank[k]];
                j->c[s * cap + k] = l_other;
                j->mu[s * cap + k] = l_obs;
            }
            if (with_prior) {
                j->obs[s * cap + nobs] = -1;
                j->c[s * cap + nobs] = j->mu[s * cap + nobs] = -log(nc);
            }
            continue;
        }
        minsig = t->o.consider_magic_clip
                     ? m->width / fmin(100.0, 1.0 + (double)nobs + (double)with_prior)
                     : EPS_SIGMA;
        if (m->step > 0)
            grid_tables_for(m, g, minsig);     /* a grid's bin masses at this clip */
        if (inc && j->minsig[s] == minsig &&
            joint_update(t, m, g, s * cap, j->nobs, nobs, minsig) == 0)
            goto prior;
        j->minsig[s] = minsig;
        joint_sigmas(t, m, g, s * cap, nobs, minsig);
        {
            const long *restrict rank = t->rank;
            const double *restrict sig = j->sig + s * cap, *restrict mu = j->mu + s * cap;
            double *restrict c = j->c + s * cap, *restrict isig = j->isig + s * cap;
            kcache *restrict kcg = m->kc[g];
            for (size_t k = 0; k < nobs; k++) {
                kcache *kc = &kcg[rank[k]];
                if (kc->sig != sig[k]) {
                    kc->sig = sig[k];
                    kc->norm = kernel_norm(m, mu[k], sig[k]);
                    kc->isig = 1.0 / sig[k];
                }
                c[k] = -kc->norm;
                isig[k] = kc->isig;
            }
        }
    prior:
        if (with_prior) {
            j->mu[s * cap + nobs] = 0.5 * (m->lo + m->hi);
            j->sig[s * cap + nobs] = m->width;
            j->isig[s * cap + nobs] = 1.0 / m->width;
            j->c[s * cap + nobs] = -kernel_norm(m, j->mu[s * cap + nobs], m->width);
        }
    }
    /* the pruning bound: a continuous or grid term is at most its constant,
     * a categorical one the observed choice's probability */
    for (size_t k = 0; k < n; k++)
        j->csum[k] = 0;
    for (size_t p = 0; p < t->np; p++) {
        double *restrict cs = j->csum;
        const double *restrict c = j->c + t->slot[p] * cap, *restrict mu = j->mu + t->slot[p] * cap;
        if (!t->joint[p])
            continue;
        if (t->pm[p].cat) {
            for (size_t k = 0; k < n; k++)
                cs[k] += MAXD(c[k], mu[k]);
        } else {
            for (size_t k = 0; k < n; k++)
                cs[k] += c[k];
        }
    }
    for (size_t k = 0; k < n; k++)
        j->ub[k] = j->logw[k] + j->csum[k];
    /* what the next build may update */
    memcpy(j->ktr, t->rank, nobs * sizeof(long));
    j->nobs = nobs;
    j->with_prior = with_prior;
    for (size_t p = 0; p < t->np; p++)
        j->pslot[p] = t->joint[p] ? (long)t->slot[p] : -1;
    j->valid = 1;
    return 0;
}

/* The factors of kernel k that are not continuous (grid, categorical) at
 * candidate i, added to tt (which holds their bounds) until tt drops below
 * cut: returns tt, or -INFINITY when dropped. */
static double joint_other_factors(tc_tpe *t, int g, size_t i, size_t k, double tt, double cut)
{
    const jset *j = &t->js[g];
    size_t cap = j->cap, ne = t->ne;
    for (size_t p = 0; p < t->np; p++) {
        pmodel *m = &t->pm[p];
        size_t at;
        double x;
        if (!t->joint[p] || (!m->cat && m->step == 0))
            continue;
        at = t->slot[p] * cap + k;
        x = t->cand[t->slot[p] * ne + i];
        if (m->cat) {
            long o = j->obs[at];
            double f = (o < 0 || (double)o != x) ? j->c[at] : j->mu[at];
            tt += f - MAXD(j->c[at], j->mu[at]);
        } else {
            /* kernels past the observations: the prior */
            tt += grid_bin_mass(m, g, k < j->nobs ? GB_OBS : GB_PRIOR, j->mu[at], j->sig[at],
                                j->isig[at], x);
        }
        if (tt < cut)
            return -INFINITY;
    }
    return tt;
}

/* Kernel k's whole term at candidate i: its bound less every continuous
 * factor, plus its grid and categorical factors. */
static double joint_full_term(tc_tpe *t, int g, size_t i, size_t k)
{
    const jset *j = &t->js[g];
    size_t cap = j->cap, ne = t->ne;
    double tt = j->ub[k];
    for (size_t p = 0; p < t->np; p++) {
        const pmodel *m = &t->pm[p];
        size_t at = t->slot[p] * cap + k;
        double z;
        if (!t->joint[p] || m->cat || m->step > 0)
            continue;
        z = (t->cand[t->slot[p] * ne + i] - j->mu[at]) * j->isig[at];
        tt -= 0.5 * z * z;
    }
    return joint_other_factors(t, g, i, k, tt, -INFINITY);
}

/* Joint log density of candidate i (model values in t->cand). A kernel's
 * partial term only falls as its factors are applied (each factor is at
 * most its share of the bound ub), so once it is below e^-WINDOW_CUT of a
 * lower bound on the largest term the kernel cannot matter (dropped kernels
 * change the density by under n e^-36 relative). The lower bound is the
 * whole term of the prior (the last kernel: broad, so never far below the
 * largest) and of the kernel the candidate was drawn from (seed_k, or -1).
 * The first continuous factor is applied to every kernel in one vectorised
 * pass, and the kernels still within reach are gathered; each further
 * continuous factor, then the grid and categorical ones, thin that list.
 * In 8 dimensions at 1,000 trials a candidate keeps a few dozen kernels
 * after two factors, so most of the n x parameters work is never done. The
 * survivors are summed relative to the largest. */
static double jset_log_pdf(tc_tpe *t, int g, size_t i, long seed_k)
{
    const jset *j = &t->js[g];
    size_t cap = j->cap, ne = t->ne, n = j->n, m = 0, top;
    size_t *restrict idx = j->idx;
    double *restrict tv = j->tv;
    int others = 0, first = 1;
    double lb = -INFINITY, cut, mx;
    if (t->o.consider_prior && n > 0)
        lb = joint_full_term(t, g, i, n - 1);
    if (seed_k >= 0)
        lb = MAXD(lb, joint_full_term(t, g, i, (size_t)seed_k));
    cut = lb - WINDOW_CUT;
    for (size_t p = 0; p < t->np; p++) {
        const pmodel *pm = &t->pm[p];
        size_t base = t->slot[p] * cap, kept = 0;
        double x;
        if (!t->joint[p])
            continue;
        if (pm->cat || pm->step > 0) {
            others = 1;
            continue;
        }
        x = t->cand[t->slot[p] * ne + i];
        if (first) {
            const double *term = j->term;
            tc_tpe_joint_first(j->term, j->ub, j->mu + base, j->isig + base, n, x);
            for (size_t k = 0; k < n; k++) {
                idx[kept] = k;
                tv[kept] = term[k];
                kept += term[k] >= cut;
            }
            first = 0;
        } else {
            const double *restrict mu = j->mu + base, *restrict is = j->isig + base;
            for (size_t r = 0; r < m; r++) {
                size_t k = idx[r];
                double z = (x - mu[k]) * is[k], v = tv[r] - 0.5 * z * z;
                idx[kept] = k;
                tv[kept] = v;
                kept += v >= cut;
            }
        }
        m = kept;
    }
    if (first) {                /* no continuous factor: every kernel */
        for (size_t k = 0; k < n; k++) {
            idx[m] = k;
            tv[m] = j->ub[k];
            m += j->ub[k] >= cut;
        }
    }
    if (others) {
        size_t kept = 0;
        for (size_t r = 0; r < m; r++) {
            double v = joint_other_factors(t, g, i, idx[r], tv[r], cut);
            if (v == -INFINITY)
                continue;
            idx[kept] = idx[r];
            tv[kept++] = v;
            if (v - WINDOW_CUT > cut)
                cut = v - WINDOW_CUT;
        }
        m = kept;
    }
    mx = tc_tpe_max_at(tv, m, &top);
    if (mx == -INFINITY)
        return -INFINITY;
    return mx + log(tc_tpe_exp_sum(tv, m, mx));
}

static void sample_joint(tc_tpe *t)
{
    jset *j = &t->js[BELOW];
    size_t ne = t->ne, cap = j->cap;
    cumulate(j->w, j->n, j->term);      /* term: free until jset_log_pdf */
    for (size_t i = 0; i < ne; i++) {
        size_t k = pick_cum(&t->rng, j->term, j->n);
        t->cand_k[i] = (long)k;
        for (size_t p = 0; p < t->np; p++) {
            pmodel *m = &t->pm[p];
            size_t sl = t->slot[p];
            double x;
            if (!t->joint[p])
                continue;
            if (m->cat) {
                long o = j->obs[sl * cap + k];
                size_t nc = (size_t)m->p.n_choices, c;
                double u = tc_rng_uniform(&t->rng), acc = 0, lo = exp(j->c[sl * cap + k]),
                       hi = exp(j->mu[sl * cap + k]);
                for (c = 0; c < nc; c++) {
                    acc += (o >= 0 && (size_t)o == c) ? hi : lo;
                    if (u < acc)
                        break;
                }
                x = (double)(c < nc ? c : nc - 1);
            } else {
                x = to_grid(m, sample_trunc(&t->rng, j->mu[sl * cap + k], j->sig[sl * cap + k],
                                            m->L, m->H));
            }
            t->cand[sl * ne + i] = x;
        }
    }
}

/* ------------------------------------------------------------------------- */
/* suggest                                                                    */
/* ------------------------------------------------------------------------- */

static long argmax_score(const double *ll, const double *lg, size_t n)
{
    long best = 0;
    double bs = -INFINITY;
    int have = 0;
    for (size_t i = 0; i < n; i++) {
        double s = ll[i] - lg[i];
        if (isnan(s))
            continue;
        if (!have || s > bs) {
            bs = s;
            best = (long)i;
            have = 1;
        }
    }
    return best;
}

static int suggest_univariate(tc_tpe *t, size_t p, double *out)
{
    pmodel *m = &t->pm[p];
    size_t ne = t->ne;
    double *val = t->tr_val + p * ne, *ll = t->tr_ll + p * ne, *lg = t->tr_lg + p * ne;
    kset *kb = &m->ks[BELOW], *ka = &m->ks[ABOVE];
    if (build_ksets(t, p) < 0)
        return -1;
    if (m->cat) {
        if (kset_cat_marginal(t, m, kb) < 0)
            return -1;
        for (size_t i = 0; i < ne; i++)
            val[i] = (double)pick(&t->rng, kb->catp, (size_t)m->p.n_choices);
        for (size_t i = 0; i < ne; i++)
            ll[i] = log(kb->catp[(size_t)val[i]]);
        if (kset_cat_marginal(t, m, ka) < 0)
            return -1;
        for (size_t i = 0; i < ne; i++)
            lg[i] = log(ka->catp[(size_t)val[i]]);
    } else {
        /* model values; the joint group's rows were read out before this */
        double *x = t->cand + p * ne;
        cumulate(kb->w, kb->n, kb->tmp);    /* tmp: free until kset_log_pdfs */
        for (size_t i = 0; i < ne; i++) {
            size_t k = pick_cum(&t->rng, kb->tmp, kb->n);
            x[i] = to_grid(m, sample_trunc(&t->rng, kb->mu[k], kb->sig[k], m->L, m->H));
        }
        if (m->step == 0) {
            kset_log_pdfs(m, kb, BELOW, x, ne, ll, t->dscratch);
            kset_log_pdfs(m, ka, ABOVE, x, ne, lg, t->dscratch);
        } else {
            /* a grid's bin masses are tabled on first use, from the first
             * candidate and kernel that need one (to the last bit, the mass
             * depends on which), so candidates go one at a time, in order */
            for (size_t i = 0; i < ne; i++)
                kset_log_pdfs(m, kb, BELOW, x + i, 1, ll + i, t->dscratch);
            for (size_t i = 0; i < ne; i++)
                kset_log_pdfs(m, ka, ABOVE, x + i, 1, lg + i, t->dscratch);
        }
        for (size_t i = 0; i < ne; i++)
            val[i] = to_external(m, x[i]);
    }
    t->tr_chosen[p] = argmax_score(ll, lg, ne);
    out[p] = val[t->tr_chosen[p]];
    return 0;
}

/* The joint group: non-constant parameters every considered trial has. */
static size_t choose_joint(tc_tpe *t)
{
    size_t nj = 0, nconsidered = t->ncomplete + (t->o.constant_liar ? t->nrunning : 0);
    for (size_t p = 0; p < t->np; p++) {
        pmodel *m = &t->pm[p];
        size_t have = 0;
        t->joint[p] = 0;
        if (!t->o.multivariate || m->constant)
            continue;
        for (size_t s = 0; s < m->nsorted; s++)
            have += (size_t)considered(t, m->sorted[s]);
        if (have == nconsidered) {
            t->joint[p] = 1;
            t->slot[p] = nj++;
        }
    }
    return nj;
}

/* The candidate count of this suggestion: n_ei_candidates, or under an
 * ei_budget about ei_budget / (trials modelled), as the work of a density
 * grows with both; at least min(EI_FLOOR, n_ei_candidates). */
static size_t candidates_for(const tc_tpe *t)
{
    size_t most = (size_t)t->o.n_ei_candidates, least = most < EI_FLOOR ? most : EI_FLOOR, n, ne;
    if (t->o.ei_budget <= 0)
        return most;
    n = t->ncomplete + (t->o.constant_liar ? t->nrunning : 0);
    ne = n ? (size_t)t->o.ei_budget / n : most;
    return ne < least ? least : ne > most ? most : ne;
}

static int suggest_tpe(tc_tpe *t, double *out)
{
    size_t n = t->ncomplete, nbelow, nj, ne;
    double g = ceil(t->o.gamma_fraction * (double)n);
    /* the per-trial tables exist even before the first trial (a searcher
     * without startup trials suggests from the priors alone) */
    if (ensure_trials(t, 1) < 0)
        goto nomem;
    t->ne = ne = candidates_for(t);
    nbelow = g < (double)t->o.gamma_max ? (size_t)g : (size_t)t->o.gamma_max;
    if (nbelow > n)
        nbelow = n;
    split_groups(t, nbelow);
    t->ctab_ready = 0;
    nj = choose_joint(t);
    if (nj) {
        if (build_jset(t, BELOW, nj) < 0)
            goto nomem;
        sample_joint(t);
        for (size_t i = 0; i < ne; i++)
            t->tr_ll[i] = jset_log_pdf(t, BELOW, i, t->cand_k[i]);
        if (build_jset(t, ABOVE, nj) < 0)
            goto nomem;
        for (size_t i = 0; i < ne; i++)
            t->tr_lg[i] = jset_log_pdf(t, ABOVE, i, -1);
        {
            long best = argmax_score(t->tr_ll, t->tr_lg, ne);
            double ll[64], lg[64];
            double *sll = ne <= 64 ? ll : NULL, *slg = ne <= 64 ? lg : NULL;
            /* every joint parameter's trace shares the joint densities */
            if (!sll) {
                sll = tc_malloc(ne * sizeof(double));
                slg = tc_malloc(ne * sizeof(double));
                if (!sll || !slg) {
                    if (sll != ll)
                        tc_free(sll);
                    if (slg != lg)
                        tc_free(slg);
                    goto nomem;
                }
            }
            memcpy(sll, t->tr_ll, ne * sizeof(double));
            memcpy(slg, t->tr_lg, ne * sizeof(double));
            for (size_t p = 0; p < t->np; p++) {
                pmodel *m = &t->pm[p];
                if (!t->joint[p])
                    continue;
                for (size_t i = 0; i < ne; i++) {
                    t->tr_val[p * ne + i] = to_external(m, t->cand[t->slot[p] * ne + i]);
                    t->tr_ll[p * ne + i] = sll[i];
                    t->tr_lg[p * ne + i] = slg[i];
                }
                t->tr_chosen[p] = best;
                out[p] = t->tr_val[p * ne + best];
            }
            if (sll != ll) {
                tc_free(sll);
                tc_free(slg);
            }
        }
    }
    for (size_t p = 0; p < t->np; p++) {
        pmodel *m = &t->pm[p];
        if (t->joint[p])
            continue;
        if (m->constant) {
            out[p] = m->cat ? 0 : m->p.low;
            continue;
        }
        if (suggest_univariate(t, p, out) < 0)
            goto nomem;
    }
    return 0;
nomem:
    return -1;
}

int tc_tpe_suggest(tc_tpe *t, double *out, tc_error *err)
{
    if (!out)
        return tc_error_set(err, TC_ERR_VALUE, "out: NULL");
    t->has_last = 1;
    if ((long)t->ncomplete < t->o.n_startup_trials) {
        t->last_random = 1;
        for (size_t p = 0; p < t->np; p++) {
            t->joint[p] = 0;
            out[p] = sample_random(t, &t->pm[p]);
        }
        return 0;
    }
    t->last_random = 0;
    if (suggest_tpe(t, out) < 0)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory suggesting");
    return 0;
}

int tc_tpe_last_was_random(const tc_tpe *t)
{
    return t->has_last && t->last_random;
}

long tc_tpe_trace(const tc_tpe *t, size_t i, const double **values, const double **log_l,
                  const double **log_g, long *chosen)
{
    size_t ne = t->ne;
    if (!t->has_last || t->last_random || i >= t->np || t->pm[i].constant)
        return 0;
    if (values)
        *values = t->tr_val + i * ne;
    if (log_l)
        *log_l = t->tr_ll + i * ne;
    if (log_g)
        *log_g = t->tr_lg + i * ne;
    if (chosen)
        *chosen = t->tr_chosen[i];
    return (long)ne;
}

long tc_tpe_kernel_updates(const tc_tpe *t)
{
    return t->kernel_updates;
}

int tc_tpe_in_joint_group(const tc_tpe *t, size_t i)
{
    return i < t->np && !t->last_random && t->joint[i];
}
