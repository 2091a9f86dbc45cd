/* search_tpe_internal.h — what the TPE core (search_tpe_model.h) shares
 * with search_tpe_norm.c (the standard normal's log CDF and the log of its
 * mass on an interval, computed without cancellation in the tails: a kernel
 * far from a bound, a candidate far from a kernel) and with search_tpe_sum.c
 * (the vectorised loops). */
#ifndef TUNEC_SEARCH_TPE_INTERNAL_H
#define TUNEC_SEARCH_TPE_INTERNAL_H

#include <stddef.h>

/* log2(e): the univariate window sums are taken in base 2. */
#define TC_TPE_LOG2E 1.4426950408889634074
/* log(2 pi) / 2: the normal density's log normaliser. */
#define TC_TPE_LOG_SQRT_2PI 0.91893853320467274178032973640562

/* Phi(a), through erf near 0 and erfc in the tails (each where it keeps its
 * relative precision). */
double tc_tpe_ndtr(double a);
/* log Phi(a): -Phi(-a) for a > 6 (log(1 - q) ~ -q), the asymptotic series
 * below -20 (Phi underflows there), log(Phi(a)) between. */
double tc_tpe_log_ndtr(double a);
/* log(Phi(b) - Phi(a)) for a <= b: both bounds in the left tail, both in the
 * right tail (mirrored onto the left), or straddling 0 (log1p of the two
 * tails). -inf when the mass underflows. */
double tc_tpe_log_gauss_mass(double a, double b);

/* search_tpe_sum.c: sum over i < n of exp(c[i] - ((x - mu[i]) * isig[i])^2 / 2
 * - ref), from c2[i] = c[i] log2(e) (the sum is taken in base 2), and of
 * exp(terms[i] - ref); every exponent at most a few dozen. */
double tc_tpe_gauss_window_sum(const double *mu, const double *isig, const double *c2, size_t n,
                               double x, double ref);
double tc_tpe_exp_sum(const double *terms, size_t n, double ref);
/* out[i] = log x[i] for positive normal x[i], to about 1e-16 absolute. */
void tc_tpe_log_array(const double *x, double *out, size_t n);
/* t[k] = ub[k] - ((x - mu[k]) * isig[k])^2 / 2 for k < n: the joint
 * density's first continuous factor at every kernel, from their bounds ub. */
void tc_tpe_joint_first(double *t, const double *ub, const double *mu, const double *isig,
                        size_t n, double x);
/* t[k] -= ((x - mu[k]) * isig[k])^2 / 2 for k < n, without a fused
 * multiply-add: a further factor, as the joint density's gather rounds it. */
void tc_tpe_joint_next(double *t, const double *mu, const double *isig, size_t n, double x);
/* The largest t[k] (-inf when n is 0) and, in *at, the first index holding it. */
double tc_tpe_max_at(const double *t, size_t n, size_t *at);

/* The univariate densities' bisections for ne candidates side by side
 * (search_tpe.c, kset_log_pdfs): lo[c] the first kernel whose centre is not
 * below x[c]; [a[c], b[c]) the window of kernels within the reach, on each
 * side of x[c], where the side's bound (its running maxima seen from lo[c])
 * falls below floor_[c]; xl, xr: scratch of ne doubles each. The window
 * bound's maxima are per block of 1 << TC_TPE_BLK_SHIFT kernels. */
#define TC_TPE_BLK_SHIFT 2
typedef struct tc_tpe_window {
    const double *mu;               /* the kernels' centres, sorted */
    const double *lcb, *lsig;       /* per block: running maxima from the left */
    const double *rcb, *rsig;       /* and from the right (see kset) */
    size_t n;
    double hs, log_n;               /* half a grid step (0: continuous); log n */
} tc_tpe_window;
void tc_tpe_lower_indices(const double *mu, size_t n, const double *x, size_t ne, size_t *lo);
void tc_tpe_window_ends(const tc_tpe_window *w, const double *x, size_t ne, const size_t *lo,
                        const double *floor_, double *xl, double *xr, size_t *a, size_t *b);
/* For each candidate k < ne of a continuous univariate set (kset_log_pdfs):
 * prior_term[k] the prior's term c - z^2 / 2 at x[k] (-inf without a
 * prior), ref[k] the largest of it and the terms of kernels lo[k] - 1 and
 * lo[k] (those that exist and are not the prior), floor_[k] = ref[k] - cut. */
typedef struct tc_tpe_refs {
    const double *mu, *isig, *c;
    size_t n, prior_at;             /* prior_at >= n: none */
    double cut;
} tc_tpe_refs;
void tc_tpe_window_refs(const tc_tpe_refs *w, const double *x, const size_t *lo, size_t ne,
                        double *prior_term, double *ref, double *floor_);
/* For each of the nfull full blocks of kernels (1 << TC_TPE_BLK_SHIFT
 * each): bc[b] the largest c, bi[b] the smallest isig in it. */
void tc_tpe_block_extrema(const double *c, const double *isig, size_t nfull, double *bc,
                          double *bi);
/* c[i] = (wt[tr[i]] - shift) - nrm[i] for i < n, and c2[i] = c[i] log2(e)
 * for the window sums (the prior's, tr[i] == -1, is left for the caller). */
void tc_tpe_constants(double *c, double *c2, const double *wt, double shift, const long *tr,
                      const double *nrm, size_t n);
#endif
