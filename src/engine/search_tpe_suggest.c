/* search_tpe_suggest.c — a TPE suggestion: the candidates drawn from each
 * "below" estimator, scored by log l(x) - log g(x), the best kept, and the
 * trace of the last suggestion (tc_tpe_trace); random draws before
 * n_startup_trials. search_tpe.c says what is computed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "search_tpe_model.h"

/* ------------------------------------------------------------------------- */
/* sampling                                                                   */
/* ------------------------------------------------------------------------- */

double tcp_tpe_sample_trunc(tc_rng *r, double mu, double sig, double L, double H)
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

/* Running sums of w[0..n) into cum, for tcp_tpe_pick_cum: a suggestion draws all its
 * candidates' kernels from one estimator, so the scan pick does is done once. */
void tcp_tpe_cumulate(const double *w, size_t n, double *cum)
{
    double acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc += w[i];
        cum[i] = acc;
    }
}

/* pick's draw by bisection on tcp_tpe_cumulate's sums (the same additions in the same
 * order, so the same index): the first i with u < cum[i], else n - 1. */
size_t tcp_tpe_pick_cum(tc_rng *r, const double *cum, size_t n)
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
double tcp_tpe_to_grid(const pmodel *m, double x)
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
    return to_external(m, tcp_tpe_to_grid(m, m->L + tc_rng_uniform(&t->rng) * (m->H - m->L)));
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
    if (tcp_tpe_build_ksets(t, p) < 0)
        return -1;
    if (m->cat) {
        if (tcp_tpe_kset_cat_marginal(t, m, kb) < 0)
            return -1;
        for (size_t i = 0; i < ne; i++)
            val[i] = (double)pick(&t->rng, kb->catp, (size_t)m->p.n_choices);
        for (size_t i = 0; i < ne; i++)
            ll[i] = log(kb->catp[(size_t)val[i]]);
        if (tcp_tpe_kset_cat_marginal(t, m, ka) < 0)
            return -1;
        for (size_t i = 0; i < ne; i++)
            lg[i] = log(ka->catp[(size_t)val[i]]);
    } else {
        /* model values; the joint group's rows were read out before this */
        double *x = t->cand + p * ne;
        tcp_tpe_cumulate(kb->w, kb->n, kb->tmp);    /* tmp: free until tcp_tpe_kset_log_pdfs */
        for (size_t i = 0; i < ne; i++) {
            size_t k = tcp_tpe_pick_cum(&t->rng, kb->tmp, kb->n);
            x[i] = tcp_tpe_to_grid(m, tcp_tpe_sample_trunc(&t->rng, kb->mu[k], kb->sig[k], m->L,
                                                           m->H));
        }
        if (m->step == 0) {
            tcp_tpe_kset_log_pdfs(m, kb, BELOW, x, ne, ll, t->dscratch);
            tcp_tpe_kset_log_pdfs(m, ka, ABOVE, x, ne, lg, t->dscratch);
        } else {
            /* a grid's bin masses are tabled on first use, from the first
             * candidate and kernel that need one (to the last bit, the mass
             * depends on which), so candidates go one at a time, in order */
            for (size_t i = 0; i < ne; i++)
                tcp_tpe_kset_log_pdfs(m, kb, BELOW, x + i, 1, ll + i, t->dscratch);
            for (size_t i = 0; i < ne; i++)
                tcp_tpe_kset_log_pdfs(m, ka, ABOVE, x + i, 1, lg + i, t->dscratch);
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
        if (m->nabsent == 0) {      /* every trial has it (a failed one is not considered) */
            t->joint[p] = 1;
            t->slot[p] = nj++;
            continue;
        }
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
    if (tcp_tpe_ensure_trials(t, 1) < 0)
        goto nomem;
    t->ne = ne = candidates_for(t);
    nbelow = g < (double)t->o.gamma_max ? (size_t)g : (size_t)t->o.gamma_max;
    if (nbelow > n)
        nbelow = n;
    tcp_tpe_split_groups(t, nbelow);
    t->ctab_ready = 0;
    nj = choose_joint(t);
    if (nj) {
        if (tcp_tpe_build_jset(t, BELOW, nj) < 0)
            goto nomem;
        tcp_tpe_sample_joint(t);
        for (size_t i = 0; i < ne; i++)
            t->tr_ll[i] = tcp_tpe_jset_log_pdf(t, BELOW, i, t->cand_k[i]);
        if (tcp_tpe_build_jset(t, ABOVE, nj) < 0)
            goto nomem;
        for (size_t i = 0; i < ne; i++)
            t->tr_lg[i] = tcp_tpe_jset_log_pdf(t, ABOVE, i, -1);
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
