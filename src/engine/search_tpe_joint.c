/* search_tpe_joint.c — the TPE core's multivariate estimator (Optuna 5's
 * joint model, opts.multivariate): per group, one product kernel per trial
 * over the parameters every considered trial has, kept from one suggestion
 * to the next and updated for new trials (build_jset); its log density at a
 * candidate (jset_log_pdf) and its candidates (sample_joint).
 * search_tpe.c says what is computed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "search_tpe_model.h"

void tcp_tpe_jset_free(jset *j)
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
    tc_free(j->ord);
    tc_free(j->sv);
    tc_free(j->lcb);
    tc_free(j->lis);
    tc_free(j->rcb);
    tc_free(j->ris);
    tc_free(j->sub);
    tc_free(j->sis);
    for (int f = 1; f < TC_TPE_WIN_F; f++) {
        tc_free(j->smu[f]);
        tc_free(j->sisf[f]);
    }
    tc_free(j->dirty);
}

/* ------------------------------------------------------------------------- */
/* the multivariate group                                                     */
/* ------------------------------------------------------------------------- */

#define INC_MAX TC_TPE_INC_MAX

static int jset_reserve(jset *j, size_t n, size_t np)
{
    int ok = 1;
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
        tcp_tpe_jset_free(j);
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
    j->ord = tc_malloc((n + 1) * sizeof(size_t));     /* + 1: jset_window's gather */
    j->sv = tc_malloc(n * sizeof(double));
    j->lcb = tc_malloc(n * sizeof(double));
    j->lis = tc_malloc(n * sizeof(double));
    j->rcb = tc_malloc(n * sizeof(double));
    j->ris = tc_malloc(n * sizeof(double));
    j->sub = tc_malloc(n * sizeof(double));
    j->sis = tc_malloc(n * sizeof(double));
    for (int f = 1; f < TC_TPE_WIN_F; f++) {
        j->smu[f] = tc_malloc(n * sizeof(double));
        j->sisf[f] = tc_malloc(n * sizeof(double));
        ok = ok && j->smu[f] && j->sisf[f];
    }
    j->dcap = 3 * INC_MAX * np;     /* joint_update re-derives at most 3 per new kernel */
    j->dirty = tc_malloc(j->dcap * sizeof(size_t));
    j->cap = n;
    j->np = np;
    return j->logw && j->w && j->ub && j->term && j->idx && j->tv && j->csum && j->ktr &&
                   j->minsig && j->mu && j->sig && j->isig && j->c && j->obs && j->ord &&
                   j->sv && j->lcb && j->lis && j->rcb && j->ris && j->sub && j->sis &&
                   j->dirty && ok
               ? 0
               : -1;
}

#define SMALL_SORT 64   /* a group of up to this many sorts its own values (joint_sigmas) */

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
    if (nobs <= SMALL_SORT && nobs * 4 < m->nsorted) {
        /* a small group among many trials: its own values sorted, by
         * (value, age rank) as the sorted values are by (value, trial),
         * rather than a pass over every trial's */
        for (size_t k = 0; k < nobs; k++) {
            double x = col[t->rank[k]];
            size_t at = k;
            for (; at > 0 && v[at - 1] > x; at--) {
                v[at] = v[at - 1];
                kk[at] = kk[at - 1];
            }
            v[at] = x;
            kk[at] = k;
        }
    } else {
        for (size_t s = 0; s < m->nsorted; s++) {  /* v and kk have room for one more */
            long tr = sorted[s];
            v[q] = col[tr];
            kk[q] = (size_t)grank[tr];
            q += grp[tr] == g;
        }
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
        kc->norm = tcp_tpe_kernel_norm(m, j->mu[at], sig);
        kc->isig = 1.0 / sig;
    }
    j->c[at] = -kc->norm;
    j->isig[at] = kc->isig;
    if (j->ndirty < j->dcap)            /* else build_jset sums every kernel afresh */
        j->dirty[j->ndirty] = (size_t)t->grank[tr];
    j->ndirty++;
    return 0;
}

/* The group gained the kernels at j->ins[0..nins) (new indices: new trials,
 * or older ones moved in from the other group) since the last build, at
 * the same clip: only they and their neighbours among the group's values of
 * this parameter change. -1: do a full build. */
static int joint_update(tc_tpe *t, pmodel *m, int g, size_t base, size_t nobs, double minsig)
{
    const jset *j = &t->js[g];
    for (size_t u = 0; u < j->nins; u++) {
        long s = sorted_pos(m, t->rank[j->ins[u]]), lp, rp;
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

/* Whether group g's last build can be updated: built at this capacity and
 * joint group, with the same prior, and its trials now are the same ones
 * with at most INC_MAX others among them (nothing left, failed or moved to
 * the other group; a trial that moved in from it is fine). The others' new
 * indices (age ranks) into j->ins. */
static int jset_updatable(const tc_tpe *t, jset *j, size_t nobs, int with_prior)
{
    size_t i = 0;
    if (!j->valid || j->with_prior != with_prior || nobs < j->nobs ||
        nobs - j->nobs > INC_MAX || !j->pslot)
        return 0;
    for (size_t p = 0; p < t->np; p++)
        if (j->pslot[p] != (t->joint[p] ? (long)t->slot[p] : -1))
            return 0;
    j->nins = 0;
    for (size_t k = 0; k < nobs; k++) {     /* both lists are in trial order */
        if (i < j->nobs && j->ktr[i] == t->rank[k]) {
            i++;
            continue;
        }
        if (j->nins == INC_MAX)
            return 0;
        j->ins[j->nins++] = k;
    }
    return i == j->nobs;
}

/* An array of the last build's kernels (old indices 0..prev-1, elem bytes
 * each) moved to the new indices around the inserted ones (j->ins): each
 * run between two insertions moves up by the insertions before it. */
static void spread(const jset *j, void *a, size_t prev, size_t elem)
{
    char *c = a;
    size_t end = prev;
    for (size_t u = j->nins; u-- > 0;) {
        size_t from = j->ins[u] - u;    /* the old index now right after insertion u */
        if (from < end)
            memmove(c + (from + u + 1) * elem, c + from * elem, (end - from) * elem);
        end = from < end ? from : end;
    }
}

#define WBLK 8          /* the window's running maxima are per block of this many kernels */
#define WINDOW_MIN 32    /* fewer observed kernels: no window (the flat pass is as cheap) */

/* The first TC_TPE_WIN_F continuous joint parameters' slots into sl;
 * returns how many there are. */
static size_t continuous_slots(const tc_tpe *t, long *sl)
{
    size_t nf = 0;
    for (size_t p = 0; p < t->np && nf < TC_TPE_WIN_F; p++)
        if (t->joint[p] && !t->pm[p].cat && t->pm[p].step == 0)
            sl[nf++] = (long)t->slot[p];
    return nf;
}

/* Group g's window index (see jset): the first continuous joint parameter's
 * sorted values filtered to the group give its kernels in value order. */
static void jset_window(tc_tpe *t, int g, size_t kept)
{
    jset *j = &t->js[g];
    size_t nobs = j->nobs, q = 0, nb, nf;
    long sl[TC_TPE_WIN_F], s0;
    const pmodel *m = NULL;
    const long *restrict sorted, *restrict grank = t->grank;
    const unsigned char *restrict grp = t->grp;
    size_t *restrict ord = j->ord;
    const double *restrict ub = j->ub, *restrict isig, *restrict mu;
    double *restrict sub = j->sub, *restrict sis = j->sis, *restrict sv = j->sv;
    double cb = -INFINITY, is = INFINITY;
    nf = continuous_slots(t, sl);
    s0 = nf ? sl[0] : -1;
    j->wslot = -1;
    if (!nf || nobs < WINDOW_MIN) {
        j->wn = 0;
        return;
    }
    for (size_t p = 0; p < t->np && !m; p++)
        if (t->joint[p] && (long)t->slot[p] == s0)
            m = &t->pm[p];
    mu = j->mu + (size_t)s0 * j->cap;
    isig = j->isig + (size_t)s0 * j->cap;
    if (kept && j->wn == kept && j->wn0 == s0) {
        /* the last build's kernels with the same values, at their new
         * indices, and the ones in (j->ins) put in after their equals
         * (ties keep any order: the window only needs the values sorted,
         * and its survivors go back to kernel order) */
        if (j->nins && j->ins[0] < kept)
            for (size_t r = 0; r < kept; r++) {
                size_t o = ord[r], up = 0;
                for (size_t u = 0; u < j->nins; u++)
                    up += j->ins[u] - u <= o;
                ord[r] = o + up;
            }
        for (size_t u = 0; u < j->nins; u++) {
            size_t k = j->ins[u], len = kept + u, lo = 0, hi = len;
            double v = mu[k];
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (sv[mid] <= v)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            memmove(ord + lo + 1, ord + lo, (len - lo) * sizeof(size_t));
            memmove(sv + lo + 1, sv + lo, (len - lo) * sizeof(double));
            ord[lo] = k;
            sv[lo] = v;
        }
    } else {
        sorted = m->sorted;
        for (size_t s = 0; s < m->nsorted; s++) {   /* ord has room for one more */
            long tr = sorted[s];
            ord[q] = (size_t)grank[tr];
            q += grp[tr] == g;
        }
        if (q != nobs) {                            /* not expected: no window */
            j->wn = 0;
            return;
        }
        for (size_t r = 0; r < nobs; r++)
            sv[r] = mu[ord[r]];
    }
    j->wn = nobs;
    j->wn0 = s0;
    j->wslot = s0;
    j->wnf = nf;
    for (size_t f = 0; f < nf; f++)
        j->wsl[f] = sl[f];
    for (size_t r = 0; r < nobs; r++) {
        size_t k = ord[r];
        sub[r] = ub[k];
        sis[r] = isig[k];
    }
    for (size_t f = 1; f < nf; f++) {
        const double *restrict muf = j->mu + (size_t)sl[f] * j->cap,
                               *restrict isf = j->isig + (size_t)sl[f] * j->cap;
        double *restrict smu = j->smu[f], *restrict sisf = j->sisf[f];
        for (size_t r = 0; r < nobs; r++) {
            size_t k = ord[r];
            smu[r] = muf[k];
            sisf[r] = isf[k];
        }
    }
    /* per block of WBLK kernels, then running over the blocks: the chains
     * of maxima are an eighth as long as per kernel */
    nb = (nobs + WBLK - 1) / WBLK;
    for (size_t b = 0; b < nb; b++) {
        size_t end = (b + 1) * WBLK < nobs ? (b + 1) * WBLK : nobs;
        double bc = sub[b * WBLK], bi = sis[b * WBLK];
        for (size_t r = b * WBLK + 1; r < end; r++) {
            bc = MAXD(bc, sub[r]);
            bi = sis[r] < bi ? sis[r] : bi;
        }
        j->rcb[b] = bc;         /* the block's own, until the pass from the right */
        j->ris[b] = bi;
    }
    for (size_t b = 0; b < nb; b++) {
        cb = MAXD(cb, j->rcb[b]);
        is = j->ris[b] < is ? j->ris[b] : is;
        j->lcb[b] = cb;
        j->lis[b] = is;
    }
    cb = -INFINITY;
    is = INFINITY;
    for (size_t b = nb; b-- > 0;) {
        cb = MAXD(cb, j->rcb[b]);
        is = j->ris[b] < is ? j->ris[b] : is;
        j->rcb[b] = cb;
        j->ris[b] = is;
    }
}

/* Kernel k's csum, as the full pass in tcp_tpe_build_jset adds it up
 * (continuous and grid factors only: an update has no categorical one). */
static void kernel_csum(const tc_tpe *t, jset *j, size_t k)
{
    double cs = 0;
    for (size_t p = 0; p < t->np; p++)
        if (t->joint[p])
            cs += j->c[t->slot[p] * j->cap + k];
    j->csum[k] = cs;
}

/* Builds group g's joint estimator over the njoint parameters in t->joint. */
int tcp_tpe_build_jset(tc_tpe *t, int g, size_t njoint)
{
    jset *j = &t->js[g];
    size_t nobs = 0, n, cap, prev = j->nobs;
    int with_prior, inc, sum_all;
    double total, log_total;
    for (size_t tr = 0; tr < t->ntrials; tr++) {    /* rank[] reused as the age-ordered */
        t->rank[nobs] = (long)tr;                     /* list (branch-free: nobs <= tr) */
        nobs += t->grp[tr] == g;
    }
    with_prior = t->o.consider_prior || nobs == 0;
    n = nobs + (size_t)with_prior;
    if (jset_reserve(j, n, njoint) < 0)
        return -1;
    if (!j->pslot && !(j->pslot = tc_malloc(t->np * sizeof(long))))
        return -1;
    cap = j->cap;
    j->n = n;
    inc = jset_updatable(t, j, nobs, with_prior);
    j->ndirty = 0;
    sum_all = !inc;
    if (inc && j->nins && j->ins[0] < prev) {
        /* a kernel in among the old ones: their per-kernel values move up
         * (the categorical slots and the rest are written afresh below) */
        for (size_t p = 0; p < t->np; p++) {
            size_t b = t->slot[p] * cap;
            if (!t->joint[p] || t->pm[p].cat)
                continue;
            spread(j, j->mu + b, prev, sizeof(double));
            spread(j, j->sig + b, prev, sizeof(double));
            spread(j, j->isig + b, prev, sizeof(double));
            spread(j, j->c + b, prev, sizeof(double));
        }
        spread(j, j->csum, prev, sizeof(double));
    }
    total = nobs ? t->gsum[g] + (with_prior ? t->o.prior_weight : 0) : 1.0;
    log_total = log(total);
    for (size_t k = 0; k < nobs; k++)
        j->logw[k] = t->tlw[t->rank[k]] - log_total;
    if (g == BELOW)     /* the weights proper only for sampling (tcp_tpe_sample_joint) */
        for (size_t k = 0; k < nobs; k++)
            j->w[k] = t->tw[t->rank[k]] / total;
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
            sum_all = 1;    /* every kernel's bound changes with nobs */
            continue;
        }
        minsig = t->o.consider_magic_clip
                     ? m->width / fmin(100.0, 1.0 + (double)nobs + (double)with_prior)
                     : EPS_SIGMA;
        if (m->step > 0)
            tcp_tpe_grid_tables_for(m, g, minsig);     /* a grid's bin masses at this clip */
        if (inc && j->minsig[s] == minsig && joint_update(t, m, g, s * cap, nobs, minsig) == 0)
            goto prior;
        j->minsig[s] = minsig;
        sum_all = 1;
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
                    kc->norm = tcp_tpe_kernel_norm(m, mu[k], sig[k]);
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
            j->c[s * cap + nobs] = -tcp_tpe_kernel_norm(m, j->mu[s * cap + nobs], m->width);
        }
    }
    /* the pruning bound: a continuous or grid term is at most its constant,
     * a categorical one the observed choice's probability */
    if (sum_all || j->ndirty > j->dcap) {
        for (size_t k = 0; k < n; k++)
            j->csum[k] = 0;
        for (size_t p = 0; p < t->np; p++) {
            double *restrict cs = j->csum;
            const double *restrict c = j->c + t->slot[p] * cap,
                                   *restrict mu = j->mu + t->slot[p] * cap;
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
    } else {
        /* an update of continuous and grid factors only: the sums of the
         * kernels it re-derived, the new ones and the prior, the others'
         * as they were (each in the same order, so the same doubles) */
        for (size_t d = 0; d < j->ndirty; d++)
            kernel_csum(t, j, j->dirty[d]);
        for (size_t u = 0; u < j->nins; u++)
            kernel_csum(t, j, j->ins[u]);
        if (n > nobs)
            kernel_csum(t, j, n - 1);
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
    jset_window(t, g, inc ? prev : 0);
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
            tt += tcp_tpe_grid_bin_mass(m, g, k < j->nobs ? GB_OBS : GB_PRIOR, j->mu[at],
                                        j->sig[at], j->isig[at], x);
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

/* The kernels whose term could reach floor_ by the window slot's factor
 * alone, at value x: [*a, *b) in value order (jset's ord), every kernel
 * outside it bounded below floor_ by the running maxima of the blocks
 * wholly to one side of x. The bounds only fall away from x (the same
 * rounded operations on larger distances, smaller inverse sigmas, smaller
 * maxima), so each end is a bisection over blocks. */
static void window_at(const jset *j, double x, double floor_, size_t *a, size_t *b)
{
    const double *sv = j->sv;
    size_t n = j->nobs, nb = (n + WBLK - 1) / WBLK, lo = 0, hi = n, at;
    while (lo < hi) {                   /* at: the first value not below x */
        size_t mid = lo + (hi - lo) / 2;
        if (sv[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    at = lo;
    lo = 0;
    hi = at / WBLK;                     /* blocks wholly left of x */
    while (lo < hi) {                   /* the first whose bound reaches floor_ */
        size_t mid = lo + (hi - lo) / 2;
        double e = (x - sv[mid * WBLK + WBLK - 1]) * j->lis[mid];
        if (j->lcb[mid] - 0.5 * e * e < floor_)
            lo = mid + 1;
        else
            hi = mid;
    }
    *a = lo * WBLK;
    lo = (at + WBLK - 1) / WBLK;        /* blocks wholly right of x */
    hi = nb;
    while (lo < hi) {                   /* the first whose bound misses it */
        size_t mid = lo + (hi - lo) / 2;
        double e = (sv[mid * WBLK] - x) * j->ris[mid];
        if (j->rcb[mid] - 0.5 * e * e < floor_)
            hi = mid;
        else
            lo = mid + 1;
    }
    *b = lo * WBLK < n ? lo * WBLK : n;
}

/* A window's kernels [a, b) (value order) at candidate i: their terms
 * after the window slot's factor (x) and the next continuous slots' (up to
 * TC_TPE_WIN_F in all), in flat passes over the value-ordered copies, the
 * same doubles as the full pass (the first factor as tc_tpe_joint_first
 * computes it, the others as the gather in tcp_tpe_jset_log_pdf does);
 * those reaching cut, and the prior's, into idx and tv. Returns how many.
 * Few reach it, so the test is a branch: rarely taken, cheaper than
 * writing every kernel. */
static size_t window_terms(tc_tpe *t, int g, size_t i, size_t a, size_t b, double cut)
{
    jset *j = &t->js[g];
    size_t cap = j->cap, ne = t->ne, n = j->n, len = b - a, kept = 0, nf = j->wnf;
    size_t *restrict idx = j->idx;
    const size_t *restrict ord = j->ord + a;
    double *restrict tv = j->tv, *restrict w = j->term, x[TC_TPE_WIN_F] = {0};
    for (size_t f = 0; f < nf; f++)
        x[f] = t->cand[(size_t)j->wsl[f] * ne + i];
    tc_tpe_joint_first(w, j->sub + a, j->sv + a, j->sis + a, len, x[0]);
    for (size_t f = 1; f < nf; f++)
        tc_tpe_joint_next(w, j->smu[f] + a, j->sisf[f] + a, len, x[f]);
    for (size_t r = 0; r < len; r++)
        if (w[r] >= cut) {
            idx[kept] = ord[r];
            tv[kept++] = w[r];
        }
    if (n > j->nobs) {          /* the prior, outside the value order */
        size_t pk = n - 1, b0 = (size_t)j->wslot * cap;
        double v;
        tc_tpe_joint_first(w, j->ub + pk, j->mu + b0 + pk, j->isig + b0 + pk, 1, x[0]);
        v = w[0];
        for (size_t f = 1; f < nf; f++) {
            size_t at = (size_t)j->wsl[f] * cap + pk;
            double z = (x[f] - j->mu[at]) * j->isig[at];
            v = v - 0.5 * z * z;
        }
        if (v >= cut) {
            idx[kept] = pk;
            tv[kept++] = v;
        }
    }
    return kept;
}

#define FLAT_MAX 64     /* kernels up to which every continuous factor is a flat pass over all:
                           a small group's kernels are broad and most stay in reach */
#define SORT_SMALL 64   /* survivors up to this many are sorted by insertion */

/* The survivors of a window (value order) back in kernel order, the order
 * in which the full pass keeps them (the sum's rounding depends on it). */
static void by_kernel(size_t *restrict idx, double *restrict tv, size_t m, double *restrict scr,
                      size_t n)
{
    if (m <= SORT_SMALL) {
        for (size_t r = 1; r < m; r++) {
            size_t k = idx[r], q = r;
            double v = tv[r];
            for (; q > 0 && idx[q - 1] > k; q--) {
                idx[q] = idx[q - 1];
                tv[q] = tv[q - 1];
            }
            idx[q] = k;
            tv[q] = v;
        }
        return;
    }
    for (size_t k = 0; k < n; k++)      /* many: through a table by kernel (NaN: none) */
        scr[k] = NAN;
    for (size_t r = 0; r < m; r++)
        scr[idx[r]] = tv[r];
    m = 0;
    for (size_t k = 0; k < n; k++)
        if (!isnan(scr[k])) {
            idx[m] = k;
            tv[m++] = scr[k];
        }
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
 * after two factors, so most of the n x parameters work is never done.
 * With a window (jset's ord; a large group) not even the first factor
 * touches every kernel: the running maxima bound the first factor's term
 * by the distance in that parameter, and only the kernels in the window
 * they leave around the candidate's value get their first two factors,
 * in flat passes over the value-ordered copies; a window wider than half
 * the kernels is not worth its sort and takes the flat pass. The kept set
 * is the same either way (exactly the kernels whose continuous term
 * reaches the cut: a term only falls, and the window leaves out only
 * kernels bounded below it), the terms are the same doubles, and the
 * window's survivors go back to kernel order, so the sum is the same to
 * the last bit. A small group (FLAT_MAX) takes every continuous factor as a
 * flat pass over all its kernels and keeps those that reach the cut at the
 * end: the same set again. The survivors are summed relative to the
 * largest. */
double tcp_tpe_jset_log_pdf(tc_tpe *t, int g, size_t i, long seed_k)
{
    const jset *j = &t->js[g];
    size_t cap = j->cap, ne = t->ne, n = j->n, m = 0, top;
    size_t *restrict idx = j->idx;
    double *restrict tv = j->tv;
    int others = 0, first = 1, windowed = 0, flat;
    double lb = -INFINITY, cut, mx;
    size_t wa = 0, wb = 0, nc = 0;
    if (t->o.consider_prior && n > 0)
        lb = joint_full_term(t, g, i, n - 1);
    if (seed_k >= 0)
        lb = MAXD(lb, joint_full_term(t, g, i, (size_t)seed_k));
    cut = lb - WINDOW_CUT;
    if (j->wslot >= 0 && cut > -INFINITY) {
        /* the floor sits a little below the cut, so that no kernel that
         * reaches the cut is left out over the bound's own rounding */
        window_at(j, t->cand[(size_t)j->wslot * ne + i], cut - 1e-6 * (1.0 + fabs(cut)), &wa,
                  &wb);
        windowed = 2 * (wb - wa) < j->nobs;     /* else the flat pass is as cheap */
    }
    flat = !windowed && n <= FLAT_MAX;
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
        if (windowed && nc < j->wnf) {  /* the window's factors, all at the first */
            if (nc++ == 0)
                m = window_terms(t, g, i, wa, wb, cut);
            first = 0;
            continue;
        }
        if (flat) {
            if (first)
                tc_tpe_joint_first(j->term, j->ub, j->mu + base, j->isig + base, n, x);
            else
                tc_tpe_joint_next(j->term, j->mu + base, j->isig + base, n, x);
            first = 0;
            continue;
        }
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
    if (windowed)
        by_kernel(idx, tv, m, j->term, n);
    if (flat && !first) {
        const double *term = j->term;
        for (size_t k = 0; k < n; k++) {
            idx[m] = k;
            tv[m] = term[k];
            m += term[k] >= cut;
        }
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

void tcp_tpe_sample_joint(tc_tpe *t)
{
    jset *j = &t->js[BELOW];
    size_t ne = t->ne, cap = j->cap;
    tcp_tpe_cumulate(j->w, j->n, j->term);      /* term: free until tcp_tpe_jset_log_pdf */
    for (size_t i = 0; i < ne; i++) {
        size_t k = tcp_tpe_pick_cum(&t->rng, j->term, j->n);
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
                x = tcp_tpe_to_grid(m, tcp_tpe_sample_trunc(&t->rng, j->mu[sl * cap + k],
                                                            j->sig[sl * cap + k], m->L, m->H));
            }
            t->cand[sl * ne + i] = x;
        }
    }
}
