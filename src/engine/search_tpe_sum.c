/* search_tpe_sum.c — the TPE core's innermost loops: the sum of a window of
 * Gaussian kernel terms at one candidate, exp(c_i - z_i^2 / 2 - ref) (taken
 * in base 2 for the univariate windows); the reference terms, reaches and
 * bisections that find a univariate window for every candidate of a
 * suggestion; the flat passes over every kernel (constants, block extrema,
 * logs, the joint model's first factor).
 *
 * About 30,000 such terms make one suggestion at 1,000 trials x 8
 * parameters, so the exponential is ours rather than libm's: a call per term
 * cannot be vectorised, and libm's special cases (NaN, overflow, errno) are
 * dead weight here, where every argument is finite and at most a few dozen
 * (ref is a lower bound on the largest term, see kset_log_pdfs). The
 * polynomial below is accurate to 2e-14 relative, far inside the 1e-9 the
 * densities are checked to. On x86-64 Linux with GCC 12+ the loop is also built
 * for Haswell's AVX2 and FMA (the univariate window sum also for AVX-512,
 * x86-64-v4: a few per cent off a univariate suggestion) and picked at load
 * time (target_clones), so
 * the last bits of a density may differ between machines with and without
 * them (a suggestion is reproducible on one machine); elsewhere it is the
 * plain loop, which the compiler vectorises for the baseline ISA.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "search_tpe_internal.h"

#if defined(__GNUC__) && __GNUC__ >= 12 && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__)
#define VECTOR_CLONES                                                                     \
    __attribute__((target_clones("arch=x86-64-v3", "default"),                             \
                   optimize("O3", "no-trapping-math", "fp-contract=fast")))
/* the univariate window sum gains from AVX-512's eight lanes; the joint
 * model's loops lost a few per cent with them (benchmarks/tpe_latency.c) */
#define VECTOR_CLONES_WIDE                                                                \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"),             \
                   optimize("O3", "no-trapping-math", "fp-contract=fast")))
/* vectorised without contracting a * b + c into one rounding: the same
 * doubles as the scalar code of the engine's other files (-std=c11 keeps
 * contraction off) */
#define VECTOR_CLONES_EXACT                                                               \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"),             \
                   optimize("O3", "no-trapping-math", "fp-contract=off")))
#else
#define VECTOR_CLONES
#define VECTOR_CLONES_WIDE
#define VECTOR_CLONES_EXACT
#endif

#define LOG2E TC_TPE_LOG2E
#define HALF_LOG2E 0.7213475204444817037   /* log2(e) / 2: z^2 / 2 in base 2 */
#define LN2_HI 6.93147180369123816490e-01   /* ln 2 split in two: k * LN2_HI is exact */
#define LN2_LO 1.90821492927058770002e-10
#define ROUND_MAGIC 6755399441055744.0      /* 1.5 * 2^52: adding it rounds to an integer */

/* e^y for y in [-708, 708] (clamped below: a term e^-708 under the largest
 * one cannot change the sum). y = k ln2 + r with |r| <= ln2 / 2, e^r by a
 * degree-9 polynomial, and 2^k added to the exponent bits: k comes from the
 * low bits of y log2(e) + 1.5 * 2^52, whose mantissa then holds k as an
 * integer. The polynomial is the near-minimax (Chebyshev) fit of e^r on
 * [-ln2/2, ln2/2] (mpmath's chebyfit at 50 digits), its coefficients
 * rounded to doubles: its relative error is below 1.9e-14 (its maximum
 * over 20,001 evenly spaced points of the interval, in 50-digit
 * arithmetic; the error curve is a smooth polynomial-minus-exponential
 * with ten extrema, far wider apart than the points), and Horner's
 * rounding in doubles adds ~1e-15. The Taylor series it replaces needed
 * degree 10 for 2.2e-13: one multiply-add less per term, and seven times
 * closer. Either is far inside the 1e-9 the densities are checked to. */
static inline __attribute__((always_inline)) double exp_approx(double y)
{
    double t, k, r, p;
    uint64_t bits, kb;
    y = y < -708.0 ? -708.0 : y;
    t = y * LOG2E + ROUND_MAGIC;
    k = t - ROUND_MAGIC;
    r = (y - k * LN2_HI) - k * LN2_LO;
    p = 2.7632640675430236e-06;
    p = p * r + 2.4884459751751116e-05;
    p = p * r + 0.0001984119064754424;
    p = p * r + 0.0013888801749656543;
    p = p * r + 0.008333333367311603;
    p = p * r + 0.04166666704055191;
    p = p * r + 0.16666666666615648;
    p = p * r + 0.4999999999943859;
    p = p * r + 1.0000000000000013;
    p = p * r + 1.0000000000000135;
    memcpy(&bits, &p, sizeof bits);
    memcpy(&kb, &t, sizeof kb);
    bits += kb << 52;
    memcpy(&p, &bits, sizeof p);
    return p;
}

/* 2^y for y in [-1000, 1000] (clamped below: a term 2^-1000 under the
 * largest one cannot change the sum), for the univariate window sums, whose
 * kernel constants and reference come in base 2 (kset's c2): y = k + f with
 * k the nearest integer and |f| <= 1/2, 2^f by the degree-9 near-minimax
 * fit of 2^f on [-1/2, 1/2] (mpmath's chebyfit at 50 digits; relative error
 * below 1.9e-14 with its coefficients rounded to doubles, measured as for
 * exp_approx), and k added to the exponent bits. In base 2 the reduction is
 * one subtraction, where e^y's needs a multiply and two multiply-adds, and
 * the clamp is a maximum. */
static inline __attribute__((always_inline)) double exp2_approx(double y)
{
    double t, k, f, p;
    uint64_t bits, kb;
    y = y > -1000.0 ? y : -1000.0;
    t = y + ROUND_MAGIC;
    k = t - ROUND_MAGIC;
    f = y - k;
    p = 1.0205905413765595e-07;
    p = p * f + 1.325964524488711e-06;
    p = p * f + 1.5252672924850737e-05;
    p = p * f + 0.0001540343375125101;
    p = p * f + 0.0013333558200794592;
    p = p * f + 0.009618129193934313;
    p = p * f + 0.05550410866465167;
    p = p * f + 0.2402265069564034;
    p = p * f + 0.6931471805599462;
    p = p * f + 1.0000000000000135;
    memcpy(&bits, &p, sizeof bits);
    memcpy(&kb, &t, sizeof kb);
    bits += kb << 52;
    memcpy(&p, &bits, sizeof p);
    return p;
}

/* The exponentials go through a block of scratch first: the map vectorises,
 * and the sum is then taken in four partial sums (the engine's strict
 * floating point forbids the compiler to reassociate one). */
#define BLOCK 256

static double sum4(const double *e, size_t n)
{
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0, s = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a0 += e[i];
        a1 += e[i + 1];
        a2 += e[i + 2];
        a3 += e[i + 3];
    }
    for (; i < n; i++)
        s += e[i];
    return s + ((a0 + a1) + (a2 + a3));
}

/* The window sum in one pass: eight running partial sums, one per lane of
 * AVX-512 (two AVX2 registers, four SSE2 ones), which the compiler keeps
 * in registers as it vectorises the inner loop (a single running sum it may
 * not split: the engine's floating point is strict); no scratch block to
 * store the exponentials in and read back. The first n % 8 kernels go
 * through the same vector step, as the first vector with its other lanes
 * masked off (those kernels are read again by the next vector), so that no
 * scalar tail of up to seven exponentials remains: a window is ~100-200
 * kernels, and such a tail cost a fifth as much as the rest. */
#define LANES 8

VECTOR_CLONES_WIDE
static double gauss_sum(const double *restrict mu, const double *restrict isig,
                        const double *restrict c2, size_t n, double x, double ref2)
{
    double acc[LANES] = {0};
    size_t i = n % LANES;
    if (n < LANES) {
        for (size_t j = 0; j < n; j++) {
            double z = (x - mu[j]) * isig[j];
            acc[j] = exp2_approx(c2[j] - HALF_LOG2E * z * z - ref2);
        }
    } else if (i) {
        for (size_t j = 0; j < LANES; j++) {
            double z = (x - mu[j]) * isig[j], e = exp2_approx(c2[j] - HALF_LOG2E * z * z - ref2);
            acc[j] = j < i ? e : 0.0;
        }
    }
    for (; i + LANES <= n; i += LANES)
        for (size_t j = 0; j < LANES; j++) {
            double z = (x - mu[i + j]) * isig[i + j];
            acc[j] += exp2_approx(c2[i + j] - HALF_LOG2E * z * z - ref2);
        }
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

VECTOR_CLONES
static void exp_block(const double *restrict terms, size_t n, double ref, double *restrict e)
{
    for (size_t i = 0; i < n; i++)
        e[i] = exp_approx(terms[i] - ref);
}

double tc_tpe_gauss_window_sum(const double *mu, const double *isig, const double *c2, size_t n,
                               double x, double ref)
{
    return gauss_sum(mu, isig, c2, n, x, ref * LOG2E);
}

double tc_tpe_exp_sum(const double *terms, size_t n, double ref)
{
    double e[BLOCK], s = 0;
    for (size_t i = 0; i < n; i += BLOCK) {
        size_t m = n - i < BLOCK ? n - i : BLOCK;
        exp_block(terms + i, m, ref, e);
        s += sum4(e, m);
    }
    return s;
}

#define SQRT2 1.41421356237309504880
#define LN2_FULL 0.69314718055994530942

/* log x for positive normal x: x = m 2^e with m in [sqrt(1/2), sqrt(2)),
 * log m = 2 atanh(s) with s = (m - 1) / (m + 1), |s| <= 0.1716, by its
 * series to s^21 (the remainder is below 1e-17). The exponent becomes a
 * double through the 2^52 trick, which needs no int64 conversion
 * instruction. */
VECTOR_CLONES
static void log_block(const double *restrict x, double *restrict out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t bits, mb, eb;
        double m, e, s, s2, p, two52;
        memcpy(&bits, &x[i], sizeof bits);
        mb = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
        eb = (bits >> 52) | 0x4330000000000000ULL;
        memcpy(&m, &mb, sizeof m);
        memcpy(&e, &eb, sizeof e);
        two52 = 4503599627370496.0;
        e = e - two52 - 1023.0;
        e = m > SQRT2 ? e + 1.0 : e;
        m = m > SQRT2 ? m * 0.5 : m;
        s = (m - 1.0) / (m + 1.0);
        s2 = s * s;
        p = 1.0 / 21;
        p = p * s2 + 1.0 / 19;
        p = p * s2 + 1.0 / 17;
        p = p * s2 + 1.0 / 15;
        p = p * s2 + 1.0 / 13;
        p = p * s2 + 1.0 / 11;
        p = p * s2 + 1.0 / 9;
        p = p * s2 + 1.0 / 7;
        p = p * s2 + 1.0 / 5;
        p = p * s2 + 1.0 / 3;
        p = p * s2 + 1.0;
        out[i] = e * LN2_FULL + 2.0 * s * p;
    }
}

void tc_tpe_log_array(const double *x, double *out, size_t n)
{
    log_block(x, out, n);
}

/* The first factor, from the kernels' bounds: t[k] = ub[k] - z^2 / 2 (the
 * same double as copying ub and applying the factor, without the copy). */
VECTOR_CLONES
static void joint_first_block(double *restrict t, const double *restrict ub,
                              const double *restrict mu, const double *restrict isig, size_t n,
                              double x)
{
    for (size_t k = 0; k < n; k++) {
        double z = (x - mu[k]) * isig[k];
        t[k] = ub[k] - 0.5 * z * z;
    }
}

void tc_tpe_joint_first(double *t, const double *ub, const double *mu, const double *isig,
                        size_t n, double x)
{
    joint_first_block(t, ub, mu, isig, n, x);
}

/* A further factor over a flat run: t[k] -= ((x - mu[k]) * isig[k])^2 / 2,
 * rounded as the joint density's gather applies one (a product, then the
 * difference: no fused multiply-add, whatever the machine has). */
#if defined(__GNUC__) && __GNUC__ >= 12 && !defined(__clang__) && defined(__x86_64__) && \
    defined(__linux__)
__attribute__((target_clones("arch=x86-64-v3", "default"),
               optimize("O3", "no-trapping-math", "fp-contract=off")))
#endif
static void joint_next_block(double *restrict t, const double *restrict mu,
                             const double *restrict isig, size_t n, double x)
{
    for (size_t k = 0; k < n; k++) {
        double z = (x - mu[k]) * isig[k];
        t[k] = t[k] - 0.5 * z * z;
    }
}

void tc_tpe_joint_next(double *t, const double *mu, const double *isig, size_t n, double x)
{
    joint_next_block(t, mu, isig, n, x);
}

/* max t[k] and its first index, in four independent chains. */
double tc_tpe_max_at(const double *t, size_t n, size_t *at)
{
    double m[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY}, best = -INFINITY;
    size_t i = 0;
    *at = 0;
    for (; i + 4 <= n; i += 4)
        for (size_t j = 0; j < 4; j++)
            m[j] = t[i + j] > m[j] ? t[i + j] : m[j];
    for (; i < n; i++)
        m[0] = t[i] > m[0] ? t[i] : m[0];
    for (size_t j = 0; j < 4; j++)
        best = m[j] > best ? m[j] : best;
    for (i = 0; i < n; i++)
        if (t[i] == best) {
            *at = i;
            break;
        }
    return best;
}

/* The branch-free bisections of the univariate densities (search_tpe.c,
 * kset_log_pdfs), every candidate taking the same steps, so that the loop
 * over candidates vectorises: its loads become gathers, its tests masks.
 * STEP_IF moves a base by half where "before" holds. */
#define STEP_IF(base, half, before) ((base) += (half) & ((size_t)0 - (size_t)(before)))
#define MAXD(a, b) ((a) > (b) ? (a) : (b))

VECTOR_CLONES_WIDE
static void lower_indices(const double *restrict mu, size_t n, const double *restrict x,
                          size_t ne, size_t *restrict lo)
{
    for (size_t c = 0; c < ne; c++)
        lo[c] = 0;
    if (n == 0)
        return;
    for (size_t len = n; len > 1; len -= len >> 1) {
        size_t half = len >> 1;
        for (size_t c = 0; c < ne; c++)
            STEP_IF(lo[c], half, mu[lo[c] + half] < x[c]);
    }
    for (size_t c = 0; c < ne; c++)
        lo[c] += mu[lo[c]] < x[c];
}

/* Each candidate's window (search_tpe.c, kset_log_pdfs) as how far it
 * reaches on each side of x: every kernel on a side, at the side's largest
 * constant and sigma (the running maxima seen from lo, the first kernel
 * not below x: they cover every kernel of the side), lies below floor_
 * beyond the distance d where log_n + cb - ((d - hs) isg)^2 / 2 = floor_
 * (a grid kernel's bin mass is below the normal tail beyond the bin's near
 * edge, hs: half a step, so the same bound holds). xl[c], xr[c]: x less and
 * plus that distance, widened by a relative 1e-9 and a few ulps of x so
 * that rounding cannot cut a kernel the bound keeps; +-inf where the side
 * is empty. The window is then the kernels in [xl, xr): two bisections for
 * the value (tc_tpe_lower_indices), each reading one array. The bound at
 * lo covers its side at least as widely as at any kernel further out, so
 * this window holds every kernel a search of the bound kernel by kernel
 * keeps, and a few more. */
VECTOR_CLONES_WIDE
static void window_reach(const tc_tpe_window *w, const double *restrict x, size_t ne,
                         const size_t *restrict lo, const double *restrict floor_,
                         double *restrict xl, double *restrict xr)
{
    const double *restrict lcb = w->lcb, *restrict lsig = w->lsig, *restrict rcb = w->rcb,
                 *restrict rsig = w->rsig;
    double hs = w->hs, log_n = w->log_n;
    size_t n = w->n;
    for (size_t c = 0; c < ne; c++) {
        size_t l = lo[c], r = (l < n ? l : 0) >> TC_TPE_BLK_SHIFT,
               q = (l > 0 ? l - 1 : 0) >> TC_TPE_BLK_SHIFT;
        double sr = 2.0 * (log_n + rcb[r] - floor_[c]), sl = 2.0 * (log_n + lcb[q] - floor_[c]);
        /* sr < 0: the bound is below floor_ at any distance (-inf: no kernel) */
        double dr = sr >= 0 ? hs + sqrt(sr) / rsig[r] : 0.0;
        double dl = sl >= 0 ? hs + sqrt(sl) / lsig[q] : 0.0;
        double slack = 4.0 * DBL_EPSILON * fabs(x[c]);
        xr[c] = l < n ? x[c] + (dr * (1.0 + 1e-9) + slack) : INFINITY;
        xl[c] = l > 0 ? x[c] - (dl * (1.0 + 1e-9) + slack) : -INFINITY;
    }
}

/* The reference of each candidate's window (search_tpe.c, kset_log_pdfs):
 * the largest of the prior's term and those of the two kernels around x
 * (lo[c] - 1 and lo[c]), for continuous kernels, c[i] - z^2 / 2. The
 * candidates side by side: the kernels' loads become gathers (indices
 * clamped into the set, the terms of kernels that do not exist masked). */
VECTOR_CLONES_EXACT
static void window_refs(const tc_tpe_refs *w, const double *restrict x,
                        const size_t *restrict lo, size_t ne, double *restrict prior_term,
                        double *restrict ref, double *restrict floor_)
{
    const double *restrict mu = w->mu, *restrict isig = w->isig, *restrict c = w->c;
    size_t n = w->n, pa = w->prior_at, last = n ? n - 1 : 0;
    int has_prior = pa < n;
    double pmu = has_prior ? mu[pa] : 0, pis = has_prior ? isig[pa] : 0,
           pc = has_prior ? c[pa] : -INFINITY, cut = w->cut;
    for (size_t k = 0; k < ne; k++) {
        size_t l = lo[k], r = l < n ? l : last, q = l > 0 ? l - 1 : 0;
        double zp = (x[k] - pmu) * pis, zr = (x[k] - mu[r]) * isig[r],
               zq = (x[k] - mu[q]) * isig[q];
        double tp = has_prior ? pc - 0.5 * zp * zp : -INFINITY;
        double tr = c[r] - 0.5 * zr * zr, tq = c[q] - 0.5 * zq * zq, f = tp;
        tr = l < n && l != pa ? tr : -INFINITY;
        tq = l > 0 && q != pa ? tq : -INFINITY;
        f = MAXD(f, tr);
        f = MAXD(f, tq);
        prior_term[k] = tp;
        ref[k] = f;
        floor_[k] = f - cut;
    }
}

/* c[i] = wt[tr[i]] - nrm[i]: a univariate estimator's kernel constants for
 * this suggestion's weights (search_tpe.c, kset_constants), every kernel of
 * every set, every suggestion. */
VECTOR_CLONES_WIDE
static void constants(double *restrict c, double *restrict c2, const double *restrict wt,
                      double shift, const long *restrict tr, const double *restrict nrm,
                      size_t n)
{
    for (size_t i = 0; i < n; i++) {
        long j = tr[i] < 0 ? 0 : tr[i];     /* the prior's (tr -1) is set by the caller */
        double v = (wt[j] - shift) - nrm[i];
        c[i] = v;
        c2[i] = v * LOG2E;
    }
}

/* Each full block of 1 << TC_TPE_BLK_SHIFT kernels' largest constant and
 * smallest inverse sigma (the window bound's per-block extrema, kset's
 * block_maxima), in a pass the compiler vectorises. */
VECTOR_CLONES_WIDE
static void block_extrema(const double *restrict c, const double *restrict isig, size_t nfull,
                          double *restrict bc, double *restrict bi)
{
    enum { B = 1 << TC_TPE_BLK_SHIFT };
    for (size_t b = 0; b < nfull; b++) {
        const double *cb = c + b * B, *ib = isig + b * B;
        double mc = cb[0], mi = ib[0];
        for (size_t j = 1; j < B; j++) {
            mc = MAXD(mc, cb[j]);
            mi = ib[j] < mi ? ib[j] : mi;
        }
        bc[b] = mc;
        bi[b] = mi;
    }
}

/* The cloned functions stay static, called through these: GCC gives a
 * cloned function's resolver default visibility, so an extern one would
 * be exported from the extension (tests/test_build_hygiene.py). */
void tc_tpe_lower_indices(const double *mu, size_t n, const double *x, size_t ne, size_t *lo)
{
    lower_indices(mu, n, x, ne, lo);
}

void tc_tpe_window_ends(const tc_tpe_window *w, const double *x, size_t ne, const size_t *lo,
                        const double *floor_, double *xl, double *xr, size_t *a, size_t *b)
{
    if (w->n == 0) {
        for (size_t c = 0; c < ne; c++)
            a[c] = b[c] = 0;
        return;
    }
    window_reach(w, x, ne, lo, floor_, xl, xr);
    lower_indices(w->mu, w->n, xl, ne, a);
    lower_indices(w->mu, w->n, xr, ne, b);
}

void tc_tpe_block_extrema(const double *c, const double *isig, size_t nfull, double *bc,
                          double *bi)
{
    block_extrema(c, isig, nfull, bc, bi);
}

void tc_tpe_window_refs(const tc_tpe_refs *w, const double *x, const size_t *lo, size_t ne,
                        double *prior_term, double *ref, double *floor_)
{
    window_refs(w, x, lo, ne, prior_term, ref, floor_);
}

void tc_tpe_constants(double *c, double *c2, const double *wt, double shift, const long *tr,
                      const double *nrm, size_t n)
{
    constants(c, c2, wt, shift, tr, nrm, n);
}

