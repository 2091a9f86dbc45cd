/* search_tpe_kset.c — the TPE core's univariate estimators: per parameter
 * and group, one truncated Gaussian (or categorical) kernel per observation
 * plus the prior, in value order, with each kernel's sigma, inverse sigma
 * and normaliser kept from one suggestion to the next (ksets_sync), and the
 * log density at every candidate of a suggestion at once (kset_log_pdfs),
 * summed over a window around each candidate. Invariant: a kept set and
 * one rebuilt from the sorted values agree to the bit
 * (tests/c/test_search_tpe_update.c). search_tpe.c says what is computed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "search_tpe_model.h"

void tcp_tpe_kset_free(kset *k)
{
    tc_free(k->trial_b);
    tc_free(k->mu_b);
    tc_free(k->sig_b);
    tc_free(k->isig_b);
    tc_free(k->nrm_b);
    tc_free(k->w);
    tc_free(k->c);
    tc_free(k->c2);
    tc_free(k->lcb);
    tc_free(k->lsig);
    tc_free(k->rcb);
    tc_free(k->rsig);
    tc_free(k->tmp);
    tc_free(k->catp);
}

/* ------------------------------------------------------------------------- */
/* univariate estimators                                                      */
/* ------------------------------------------------------------------------- */

#define RESYNC_MAX 32       /* more moved trials than this: rebuild the sets (ksets_sync) */

/* Points the kept arrays at offset off of their buffers. */
static void kset_place(kset *k, size_t off)
{
    k->off = off;
    k->trial = k->trial_b + off;
    k->mu = k->mu_b + off;
    k->sig = k->sig_b + off;
    k->isig = k->isig_b + off;
    k->nrm = k->nrm_b + off;
}

static int kset_reserve(kset *k, size_t n)
{
    size_t cap = k->cap, ncap = cap ? cap : 16;
    if (n <= k->cap)
        return 0;
    while (ncap < n)                /* tcp_tpe_grow's growth */
        ncap *= 2;
    /* the kept arrays' buffers first, twice the capacity (kset_shift_in):
     * their contents stay at the same offset */
#define B(ptr, type) do {                                          \
        void *g_ = tc_realloc(k->ptr##_b, 2 * ncap * sizeof(type)); \
        if (!g_)                                                   \
            return -1;                                             \
        k->ptr##_b = g_;                                           \
        kset_place(k, k->off);                                     \
    } while (0)
    B(trial, long);
    B(mu, double);
    B(sig, double);
    B(isig, double);
    B(nrm, double);
#undef B
    /* every other array grows from the same old capacity to the same new one */
#define G(ptr, type) do {                                          \
        size_t c_ = cap;                                           \
        if (tcp_tpe_grow((void **)&k->ptr, &c_, n, sizeof(type)) < 0)      \
            return -1;                                             \
        k->cap = c_;                                               \
    } while (0)
    G(w, double);
    G(c, double);
    G(c2, double);
    G(lcb, double);
    G(lsig, double);
    G(rcb, double);
    G(rsig, double);
    G(tmp, double);
#undef G
    return 0;
}

/* Normaliser of a kernel: log sigma + log sqrt(2 pi) + log mass for a
 * continuous kernel, log mass for a grid kernel. */
double tcp_tpe_kernel_norm(const pmodel *m, double mu, double sig)
{
    double lm = tc_tpe_log_gauss_mass((m->L - mu) / sig, (m->H - mu) / sig);
    return m->step > 0 ? lm : log(sig) + TC_TPE_LOG_SQRT_2PI + lm;
}

/* Points the grid tables of group g at its clip sigma for this build (the
 * sigma most kernels have), emptying them when that sigma changed. */
void tcp_tpe_grid_tables_for(pmodel *m, int g, double clip)
{
    if (!m->gt_n || m->gt_sig[g] == clip)
        return;
    m->gt_sig[g] = clip;
    for (size_t i = 0; i < m->gt_n; i++)
        m->gt[g][i] = NAN;
}

/* Running maxima (the largest constant) and minima (the smallest inverse
 * sigma, i.e. 1 / the largest sigma) over the n block values bc, bi, from
 * the left into lc, li and from the right into rc, ri. A serial scan is one
 * chain of dependent comparisons, so the blocks are cut into four
 * contiguous runs: each run's own extrema first (independent), then the
 * four runs scanned side by side (independent chains, in registers), each
 * seeded with the extrema of the runs before it (from the left) or after it
 * (from the right). Extrema are exact in any order: the values are those of
 * one serial scan. */
#define RUN_MAX(m, v) ((m) = MAXD((m), (v)))
#define RUN_MIN(m, v) ((m) = MIND((m), (v)))

static void scan_blocks(const double *restrict bc, const double *restrict bi, size_t n,
                        double *restrict lc, double *restrict li, double *restrict rc,
                        double *restrict ri)
{
    /* runs [k q, (k + 1) q) for k < 3 and [3q, n): the last takes the rest */
    size_t q = n / 4, r1 = q, r2 = 2 * q, r3 = 3 * q;
    double e0 = -INFINITY, e1 = -INFINITY, e2 = -INFINITY, e3 = -INFINITY;
    double f0 = INFINITY, f1 = INFINITY, f2 = INFINITY, f3 = INFINITY;
    double c0, c1, c2, c3, i0, i1, i2, i3;
    for (size_t i = 0; i < q; i++) {        /* the runs' own extrema, side by side */
        RUN_MAX(e0, bc[i]);
        RUN_MIN(f0, bi[i]);
        RUN_MAX(e1, bc[r1 + i]);
        RUN_MIN(f1, bi[r1 + i]);
        RUN_MAX(e2, bc[r2 + i]);
        RUN_MIN(f2, bi[r2 + i]);
        RUN_MAX(e3, bc[r3 + i]);
        RUN_MIN(f3, bi[r3 + i]);
    }
    for (size_t b = r3 + q; b < n; b++) {
        RUN_MAX(e3, bc[b]);
        RUN_MIN(f3, bi[b]);
    }
    /* from the left: each run starts from the runs before it */
    c0 = -INFINITY;
    i0 = INFINITY;
    c1 = e0;
    i1 = f0;
    c2 = MAXD(c1, e1);
    i2 = MIND(i1, f1);
    c3 = MAXD(c2, e2);
    i3 = MIND(i2, f2);
    for (size_t i = 0; i < q; i++) {
        lc[i] = RUN_MAX(c0, bc[i]);
        li[i] = RUN_MIN(i0, bi[i]);
        lc[r1 + i] = RUN_MAX(c1, bc[r1 + i]);
        li[r1 + i] = RUN_MIN(i1, bi[r1 + i]);
        lc[r2 + i] = RUN_MAX(c2, bc[r2 + i]);
        li[r2 + i] = RUN_MIN(i2, bi[r2 + i]);
        lc[r3 + i] = RUN_MAX(c3, bc[r3 + i]);
        li[r3 + i] = RUN_MIN(i3, bi[r3 + i]);
    }
    for (size_t b = r3 + q; b < n; b++) {
        lc[b] = RUN_MAX(c3, bc[b]);
        li[b] = RUN_MIN(i3, bi[b]);
    }
    /* from the right: each run starts from the runs after it */
    c3 = -INFINITY;
    i3 = INFINITY;
    for (size_t b = n; b-- > r3 + q;) {
        rc[b] = RUN_MAX(c3, bc[b]);
        ri[b] = RUN_MIN(i3, bi[b]);
    }
    c2 = e3;
    i2 = f3;
    c1 = MAXD(c2, e2);
    i1 = MIND(i2, f2);
    c0 = MAXD(c1, e1);
    i0 = MIND(i1, f1);
    for (size_t i = q; i-- > 0;) {
        rc[i] = RUN_MAX(c0, bc[i]);
        ri[i] = RUN_MIN(i0, bi[i]);
        rc[r1 + i] = RUN_MAX(c1, bc[r1 + i]);
        ri[r1 + i] = RUN_MIN(i1, bi[r1 + i]);
        rc[r2 + i] = RUN_MAX(c2, bc[r2 + i]);
        ri[r2 + i] = RUN_MIN(i2, bi[r2 + i]);
        rc[r3 + i] = RUN_MAX(c3, bc[r3 + i]);
        ri[r3 + i] = RUN_MIN(i3, bi[r3 + i]);
    }
}

/* The window bound's maxima per block of BLK kernels (see kset), the prior
 * left out: its sigma is the whole width, and it is summed apart. A block's
 * own extrema come from a flat vectorised pass (tc_tpe_block_extrema), the
 * prior's block then again without it; the running maxima over blocks are
 * scan_blocks'. The largest sigma is kept as its inverse, the smallest of
 * the kernels' inverse sigmas (1 / sig, so the same double as 1 / the
 * largest sigma), which needs no division. */
static void block_one(const kset *k, size_t b, double *bc, double *bi)
{
    double mc = -INFINITY, mi = INFINITY;
    for (size_t i = b << BLK_SHIFT; i < (b + 1) << BLK_SHIFT && i < k->n; i++)
        if (i != k->prior_at) {
            mc = MAXD(mc, k->c[i]);
            mi = MIND(mi, k->isig[i]);
        }
    bc[b] = mc;
    bi[b] = mi;
}

static void block_maxima(kset *k)
{
    size_t n = k->n, nb = (n + BLK - 1) >> BLK_SHIFT, full = n >> BLK_SHIFT;
    double *bc = k->tmp, *bi = k->tmp + nb;     /* each block's own extrema */
    tc_tpe_block_extrema(k->c, k->isig, full, bc, bi);
    if (full < nb)                              /* the last block, partial */
        block_one(k, full, bc, bi);
    if (k->prior_at != (size_t)-1)              /* the prior's block, without it */
        block_one(k, k->prior_at >> BLK_SHIFT, bc, bi);
    scan_blocks(bc, bi, nb, k->lcb, k->lsig, k->rcb, k->rsig);
}

/* What a group's estimator of one parameter is built with this suggestion. */
typedef struct kprep {
    size_t nobs;
    const double *tw;           /* the observations' raw weights by trial */
    double rawsum;
    int with_prior;
    double minsig;              /* the magic clip */
} kprep;

/* The log of a group's total weight, and the prior's log weight constant
 * (its log weight less that): a kernel's constant is its trial's log raw
 * weight less the log total (kset_constants). */
static double log_total_of(const tc_tpe *t, double rawsum, size_t nobs, int with_prior,
                           double *prior)
{
    double total = nobs ? rawsum + (with_prior ? t->o.prior_weight : 0) : 1.0,
           log_total = log(total);
    *prior = nobs ? log(t->o.prior_weight) - log_total : 0.0;
    return log_total;
}

/* Per-trial log weight constants of group g for parameter m (some trials
 * lack it): ctab[0] the prior's, ctab[tr + 1] trial tr's (log raw weight -
 * log total), for the trials of the group that have the parameter (other
 * entries are not read). */
static void weight_table(const tc_tpe *t, int g, const pmodel *m, const double *tlw,
                         double rawsum, size_t nobs, int with_prior, double *ctab)
{
    double log_total = log_total_of(t, rawsum, nobs, with_prior, &ctab[0]);
    for (size_t tr = 0; tr < t->ntrials; tr++)
        if (t->grp[tr] == g && !isnan(m->col[tr]))
            ctab[tr + 1] = tlw[tr] - log_total;
}

/* Group g's weights for parameter p: the group's own (the per-trial log
 * raw weights t->tlw less the group's log total, computed once per
 * suggestion) when every trial has p, else from the ranks among the
 * group's trials that have p (t->pctab). Points the kset at them. */
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
            t->glt[g] = log_total_of(t, q->rawsum, q->nobs, q->with_prior, &t->gprior[g]);
            t->ctab_ready |= 1 << g;
        }
        k->wt = t->tlw;
        k->wt_shift = t->glt[g];
        k->wt_prior = t->gprior[g];
    } else {
        /* pw, plw are per trial: the two groups' trials are disjoint */
        size_t r = 0, nobs;
        for (size_t tr = 0; tr < t->ntrials; tr++)
            if (t->grp[tr] == g && !isnan(m->col[tr]))
                t->rank[tr] = (long)r++;
        q->nobs = nobs = r;
        if (tcp_tpe_ramp_for(t, nobs) < 0)
            return -1;
        for (size_t tr = 0; tr < t->ntrials; tr++)
            if (t->grp[tr] == g && !isnan(m->col[tr])) {
                size_t rk = (size_t)t->rank[tr];
                t->pw[tr] = rk + RAMP_FLAT < nobs ? t->ramp[rk] : 1.0;
                t->plw[tr] = tcp_tpe_log_raw_weight(t, rk, nobs);
            }
        q->tw = t->pw;
        q->rawsum = tcp_tpe_raw_sum(t);
        q->with_prior = t->o.consider_prior || q->nobs == 0;
        weight_table(t, g, m, t->plw, q->rawsum, nobs, q->with_prior, t->pctab[g]);
        k->wt = t->pctab[g] + 1;
        k->wt_shift = 0.0;      /* x - 0.0 is x: the table's constants as they are */
        k->wt_prior = t->pctab[g][0];
    }
    q->minsig = t->o.consider_magic_clip
                    ? m->width / fmin(100.0, 1.0 + (double)q->nobs + (double)q->with_prior)
                    : EPS_SIGMA;
    /* Room for the set after this suggestion's sync (its observations and
     * the prior), plus what ksets_sync can hold for a moment: it takes the
     * moved trials in trial order, so a trial entering this set may be
     * inserted before one leaving it is removed — at most RESYNC_MAX of
     * them, or the set is rebuilt instead. */
    if (kset_reserve(k, q->nobs + 2 + RESYNC_MAX) < 0)
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
 * per-trial log weights at each use, kset_constants). A suggestion finds
 * the trials whose group changed since the parameter's last build (m->um)
 * and inserts or removes just those kernels, re-deriving the sigmas of their neighbours; a set is
 * built afresh from the sorted values when its clip, prior or end rule
 * changed (the clip moves with the group's size below ~100 observations)
 * or when many trials moved. Either way every kernel's numbers are those of
 * the same formulas on the same inputs, so the two paths agree to the bit
 * (tests/c/test_search_tpe_update.c). */


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
        k->nrm[i] = tcp_tpe_kernel_norm(m, mu, sig);
    } else if (sig == minsig && mu > m->L + CLIP_FAR * minsig && mu < m->H - CLIP_FAR * minsig) {
        k->isig[i] = 1.0 / minsig;
        k->nrm[i] = m->step > 0 ? 0.0 : log(minsig) + TC_TPE_LOG_SQRT_2PI;
    } else {
        kcache *kc = &m->kc[g][tr];
        if (kc->sig != sig) {
            kc->sig = sig;
            kc->norm = tcp_tpe_kernel_norm(m, mu, sig);
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
    kset_place(k, k->cap / 2);      /* room to shift either way (kset_shift_in) */
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

/* Makes room for a kernel at index at (the kernels from at on move up one),
 * moving the shorter side: the kernels before at move down into the
 * buffers' room below the set when there is some, else those from at move
 * up (the buffers hold twice the capacity, so one side has room). */
static void kset_shift_in(kset *k, size_t at)
{
    if (k->off > 0 && (at < k->n - at || k->off + k->n >= 2 * k->cap)) {
        kset_place(k, k->off - 1);
        kset_shift(k, 0, 1, at);
    } else {
        kset_shift(k, at + 1, at, k->n - at);
    }
}

/* Closes the gap of a kernel taken out at index at, moving the shorter side. */
static void kset_shift_out(kset *k, size_t at)
{
    if (at < k->n - 1 - at) {
        kset_shift(k, 1, 0, at);
        kset_place(k, k->off + 1);
    } else {
        kset_shift(k, at, at + 1, k->n - at - 1);
    }
}

/* Re-derives the kernels in [i0, i1) (clamped to the set). */
static void kset_touch(pmodel *m, kset *k, int g, size_t i0, size_t i1)
{
    kset_set_range(m, k, g, i0, i1 < k->n ? i1 : k->n);
}

static void kset_insert(pmodel *m, kset *k, int g, long tr)
{
    if (!k->valid || k->n >= k->cap) {   /* no room (see kset_prepare): rebuilt after the sync */
        k->valid = 0;
        return;
    }
    double v = m->col[tr];
    size_t at = kset_bisect(k, v, tr, 1);
    kset_shift_in(k, at);
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
    kset_shift_out(k, at);
    k->n--;
    k->nobs--;
    if (k->prior_at != (size_t)-1 && k->prior_at > at)
        k->prior_at--;
    kset_touch(m, k, g, at ? at - 1 : 0, at + 1);
}

/* Each kernel's constant for this suggestion's weights: the log weight
 * (the trial's log raw weight less the group's log total; the prior's set
 * apart) less the log normaliser, in one flat pass (a window touches each kernel
 * several times per suggestion). */
static void kset_constants(kset *k)
{
    size_t p = k->prior_at;
    tc_tpe_constants(k->c, k->c2, k->wt, k->wt_shift, k->trial, k->nrm, k->n);
    if (p != (size_t)-1) {
        k->c[p] = k->wt_prior - k->nrm[p];
        k->c2[p] = k->c[p] * TC_TPE_LOG2E;
    }
}

/* Moves trial tr from the set of its group in m->um to that of its group in
 * t->grp (the kernels' neighbours re-derived), where those sets are kept. */
static void kset_move(tc_tpe *t, pmodel *m, const int fresh[2], size_t tr)
{
    int from = m->um[tr], to = t->grp[tr];
    if (from != NONE && !fresh[from]) {
        kset_remove(m, &m->ks[from], from, (long)tr);
        t->kernel_updates++;
    }
    if (to != NONE && !fresh[to]) {
        kset_insert(m, &m->ks[to], to, (long)tr);
        t->kernel_updates++;
    }
}

/* Brings both groups' sets of parameter p to this suggestion's split. The
 * trials to move are those whose group differs from m->um: when the sets
 * were synced at the split before this one, the split's own list of changed
 * trials (t->moved, in trial order) is that, else every trial is compared. */
static void ksets_sync(tc_tpe *t, size_t p, const kprep q[2])
{
    pmodel *m = &t->pm[p];
    unsigned char *um = m->um;
    const unsigned char *grp = t->grp;
    int fresh[2], listed = m->sync_epoch + 1 == t->split_epoch;
    size_t moved = 0;
    for (int g = 0; g < 2; g++) {
        kset *k = &m->ks[g];
        int ends = !t->o.consider_endpoints && q[g].nobs + (size_t)q[g].with_prior >= 2;
        fresh[g] = !k->valid || k->with_prior != q[g].with_prior || k->minsig != q[g].minsig ||
                   k->ends != ends;
    }
    if ((!fresh[BELOW] || !fresh[ABOVE]) && listed) {
        for (size_t i = 0; i < t->nmoved && moved <= RESYNC_MAX; i++)
            moved += !isnan(m->col[t->moved[i]]);
    } else if (!fresh[BELOW] || !fresh[ABOVE]) {
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
    }
    if (moved > RESYNC_MAX)
        fresh[BELOW] = fresh[ABOVE] = 1;
    if ((!fresh[BELOW] || !fresh[ABOVE]) && listed) {
        for (size_t i = 0; i < t->nmoved && moved; i++) {
            size_t tr = (size_t)t->moved[i];
            if (isnan(m->col[tr]))
                continue;
            moved--;
            kset_move(t, m, fresh, tr);
        }
    } else if (!fresh[BELOW] || !fresh[ABOVE]) {
        for (size_t tr = 0; tr < t->ntrials && moved; tr++) {
            if (tr + 8 <= t->ntrials && !(tr & 7)) {   /* skip equal words */
                uint64_t a, b;
                memcpy(&a, um + tr, 8);
                memcpy(&b, grp + tr, 8);
                if (a == b) {
                    tr += 7;
                    continue;
                }
            }
            if (um[tr] == grp[tr] || isnan(m->col[tr]))
                continue;
            moved--;
            kset_move(t, m, fresh, tr);
        }
    }
    for (int g = 0; g < 2; g++) {
        kset *k = &m->ks[g];
        if (fresh[g] || !k->valid || k->nobs != q[g].nobs)
            kset_rebuild(t, m, g, &q[g]);
        tcp_tpe_grid_tables_for(m, g, k->minsig);
        k->log_n = log((double)k->n);
        kset_constants(k);
        block_maxima(k);
    }
    memcpy(um, grp, t->ntrials);
    m->sync_epoch = t->split_epoch;
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
int tcp_tpe_build_ksets(tc_tpe *t, size_t p)
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
double tcp_tpe_grid_bin_mass(pmodel *m, int g, int kind, double mu, double sig, double isig,
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
    return tcp_tpe_grid_bin_mass(m, g, k->trial[i] >= 0 ? GB_OBS : GB_PRIOR, k->mu[i], k->sig[i],
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
 * (tcp_tpe_kset_log_pdfs), so that the three bisections a density needs (x's place
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
 * dozen and the sum at least 1). ws: the scratch of 8 * ne words. */
void tcp_tpe_kset_log_pdfs(pmodel *m, kset *k, int g, const double *x, size_t ne, double *out,
                           void *ws)
{
    double hs = m->step / 2, *ref = ws, *floor_ = ref + ne, *prior_term = floor_ + ne;
    double *sum = prior_term + ne, *xr = sum + ne;
    size_t *lo = (size_t *)(xr + ne), *a = lo + ne, *b = a + ne, n = k->n;
    tc_tpe_window w = {k->mu, k->lcb, k->lsig, k->rcb, k->rsig, n, hs, k->log_n};
    tc_tpe_lower_indices(k->mu, n, x, ne, lo);
    if (m->step == 0) {
        tc_tpe_refs rw = {k->mu, k->isig, k->c, n, k->prior_at, KSET_CUT};
        tc_tpe_window_refs(&rw, x, lo, ne, prior_term, ref, floor_);
    }
    for (size_t c = 0; c < ne && m->step > 0; c++) {
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
    if (n > WINDOW_MIN) {
        tc_tpe_window_ends(&w, x, ne, lo, floor_, sum, xr, a, b);  /* sum: scratch */
    } else {
        /* a small set (the below group's, at Optuna's gamma_max of 25) is
         * summed whole: its bisections cost more than the kernels they
         * leave out, and the prior is then one of the summed terms */
        for (size_t c = 0; c < ne; c++) {
            a[c] = 0;
            b[c] = n;
        }
    }
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
            s = tc_tpe_gauss_window_sum(k->mu + ac, k->isig + ac, k->c2 + ac, bc - ac, x[c], r);
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
int tcp_tpe_kset_cat_marginal(tc_tpe *t, const pmodel *m, kset *k)
{
    size_t nc = (size_t)m->p.n_choices;
    double nk, a = 0, wprior = 0, den;
    if (tcp_tpe_grow((void **)&k->catp, &k->catcap, nc, sizeof(double)) < 0)
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
