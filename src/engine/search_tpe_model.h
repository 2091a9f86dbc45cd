/* search_tpe_model.h — the TPE core's model, shared by its four files:
 * search_tpe.c (the object: construction, observations, the split into
 * groups and their weights), search_tpe_kset.c (the univariate estimators),
 * search_tpe_joint.c (the multivariate estimator) and search_tpe_suggest.c
 * (sampling and the suggestion). Private to them; search.h is the API.
 * search_tpe.c's header comment says what is computed and why it is fast. */
#ifndef TUNEC_SEARCH_TPE_MODEL_H
#define TUNEC_SEARCH_TPE_MODEL_H

#include <math.h>
#include <stddef.h>
#include "search.h"
#include "search_tpe_internal.h"

#define EPS_SIGMA 1e-12     /* Optuna's minimum sigma without the magic clip */
#define WINDOW_CUT 36.0     /* leave out what is below e^-36 (2e-16) of the largest term */
#define CLIP_FAR 9.0        /* a kernel this many sigmas inside both bounds has mass 1 - 1e-19 */
/* A univariate window's side bound counts every kernel of the side (log n),
 * so what it leaves out is below 2 e^-KSET_CUT (1.4e-12) of the density in
 * all; the joint model's cut (WINDOW_CUT) is per kernel, hence deeper. */
#define KSET_CUT 28.0
#define WINDOW_MIN 32        /* a univariate set of at most this many kernels is summed whole
                               (kset_log_pdfs) */
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
#define MIND(a, b) ((a) < (b) ? (a) : (b))
#define TC_TPE_WIN_F 3      /* continuous factors a joint window applies in flat passes */
#define TC_TPE_INC_MAX 8    /* kernels in since the last build up to which a joint set is
                               updated rather than rebuilt */

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
    /* the kept arrays above point at offset off of these buffers of 2 cap
     * entries, so that a kernel put in or taken out moves the shorter
     * side of the set (kset_shift_in, kset_shift_out) */
    long *trial_b;
    double *mu_b, *sig_b, *isig_b, *nrm_b;
    size_t off;
    double *c;              /* this suggestion: log weight - nrm (kset_constants) */
    double *c2;             /* c log2(e): the window sums' constants, in base 2 */
    double *w;              /* weights, this suggestion (below, and a categorical) */
    double *lcb, *lsig, *rcb, *rsig;   /* per block of BLK kernels, running maxima of
                                          c and of the sigmas from the left (up to
                                          the block's end) and from the right (from the
                                          block's start), the prior left out; lsig, rsig
                                          hold 1 / the largest sigma */
    double *tmp;            /* one candidate's terms */
    double log_n;
    const double *wt;       /* this suggestion's log raw weights by trial, */
    double wt_shift;        /* less this (the group's log total), */
    double wt_prior;        /* and the prior's log weight constant (kset_constants) */
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
    unsigned long sync_epoch;    /* the split (tc_tpe's split_epoch) ks were last synced at */
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
    double *tv;             /* and their partial terms (tcp_tpe_jset_log_pdf) */
    double *csum;           /* per kernel: the sum of its factors' bounds (ub less logw) */
    /* what the last build was, so that the next one can update it when the
     * group only gained new trials (tcp_tpe_build_jset) */
    int valid, with_prior;
    size_t nobs;
    long *ktr;              /* the trial of each kernel (age order) */
    long *pslot;            /* per parameter: its slot, -1 outside the joint group */
    double *minsig;         /* per slot: the clip the sigmas were made with */
    /* the window of the first continuous parameter (slot wslot, -1: none):
     * the observed kernels in the order of its values (ord, their values
     * sv), with running maxima of ub and minima of that slot's inverse
     * sigma per block of 8 of them, from the left (lcb, lis: over blocks
     * 0..b) and from the right (rcb, ris: over blocks b..), which bound
     * every kernel beyond a block */
    long wslot;
    size_t *ord;
    double *sv, *lcb, *lis, *rcb, *ris;
    /* in the same order: ub, the window slot's inverse sigmas, and the next
     * continuous slots' (wsl[1..wnf), wnf <= TC_TPE_WIN_F) centres and
     * inverse sigmas, so that a window's first wnf factors are flat
     * vectorised passes */
    long wsl[TC_TPE_WIN_F];
    size_t wnf;
    double *sub, *sis, *smu[TC_TPE_WIN_F], *sisf[TC_TPE_WIN_F];
    size_t wn;              /* kernels ord and sv were made for (0: none), */
    long wn0;               /* and the slot */
    /* an update's re-derived kernels, whose csum it recomputes (build_jset) */
    size_t *dirty;
    size_t ndirty, dcap;
    size_t ins[TC_TPE_INC_MAX]; /* an update's kernels in (new indices) */
    size_t nins;
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
    long *moved;            /* the trials whose group this split changed, in trial order */
    size_t nmoved;
    size_t split_nt;        /* trials at the last split (later ones were NONE before it) */
    unsigned long split_epoch;  /* splits so far: a parameter synced at the one before the
                                   last finds its moved trials in moved (ksets_sync) */
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
    double flat_sum;        /* the sum when the last tcp_tpe_ramp_for had n <= 25, else -1 */
    double glt[2];          /* per group, this suggestion: the log total weight, */
    double gprior[2];       /* and the prior's log weight constant (kset_prepare), */
    int ctab_ready;         /* for the parameters every trial has, once computed */
    double *pctab[2];       /* per group, for a parameter some trials lack: log weight
                               constants by trial + 1, the prior's at 0 (weight_table) */
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
    double *dscratch;       /* tcp_tpe_kset_log_pdfs' per-candidate scratch (8 words each) */
};

static inline double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static inline double snap(double v, double low, double high, double step)
{
    return clampd(low + floor((v - low) / step + 0.5) * step, low, high);
}

static inline int considered(const tc_tpe *t, long tr)
{
    return t->state[tr] == ST_COMPLETE || (t->o.constant_liar && t->state[tr] == ST_RUNNING);
}

/* search_tpe.c */
int tcp_tpe_grow(void **v, size_t *cap, size_t need, size_t elem);
int tcp_tpe_ensure_trials(tc_tpe *t, size_t need);
int tcp_tpe_ramp_for(tc_tpe *t, size_t n);
double tcp_tpe_raw_sum(const tc_tpe *t);
double tcp_tpe_log_raw_weight(const tc_tpe *t, size_t r, size_t n);
void tcp_tpe_split_groups(tc_tpe *t, size_t nbelow);

/* search_tpe_kset.c */
void tcp_tpe_kset_free(kset *k);
double tcp_tpe_kernel_norm(const pmodel *m, double mu, double sig);
void tcp_tpe_grid_tables_for(pmodel *m, int g, double clip);
enum { GB_DIRECT = 0, GB_OBS = 1, GB_PRIOR = 2 };
double tcp_tpe_grid_bin_mass(pmodel *m, int g, int kind, double mu, double sig, double isig,
                             double x);
int tcp_tpe_build_ksets(tc_tpe *t, size_t p);
void tcp_tpe_kset_log_pdfs(pmodel *m, kset *k, int g, const double *x, size_t ne, double *out,
                           void *ws);
int tcp_tpe_kset_cat_marginal(tc_tpe *t, const pmodel *m, kset *k);

/* search_tpe_joint.c */
void tcp_tpe_jset_free(jset *j);
int tcp_tpe_build_jset(tc_tpe *t, int g, size_t njoint);
double tcp_tpe_jset_log_pdf(tc_tpe *t, int g, size_t i, long seed_k);
void tcp_tpe_sample_joint(tc_tpe *t);

/* search_tpe_suggest.c */
double tcp_tpe_sample_trunc(tc_rng *r, double mu, double sig, double L, double H);
void tcp_tpe_cumulate(const double *w, size_t n, double *cum);
size_t tcp_tpe_pick_cum(tc_rng *r, const double *cum, size_t n);
double tcp_tpe_to_grid(const pmodel *m, double x);

#endif
