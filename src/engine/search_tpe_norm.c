/* search_tpe_norm.c — the standard normal's tails for the TPE core.
 *
 * A truncated Gaussian kernel's log density needs log(Phi(b) - Phi(a)) for
 * bounds that may sit 30 standard deviations away (a narrow kernel near one
 * end of a wide domain). Subtracting two CDF values loses every digit there,
 * so the mass is computed the way SciPy's truncnorm (and Optuna's port of it)
 * does: on the left tail, where log Phi is accurate, mirroring a right-tail
 * interval onto the left, and as log1p of the two excluded tails when the
 * interval straddles 0. The asymptotic series takes over where Phi itself
 * underflows.
 */
#include <float.h>
#include <math.h>
#include "search_tpe_internal.h"

#define SQRT1_2 0.70710678118654752440084436210485

double tc_tpe_ndtr(double a)
{
    double x = a * SQRT1_2;
    if (x < -SQRT1_2)
        return 0.5 * erfc(-x);
    if (x < SQRT1_2)
        return 0.5 + 0.5 * erf(x);
    return 1.0 - 0.5 * erfc(x);
}

double tc_tpe_log_ndtr(double a)
{
    double log_lhs, total, last, numerator, denom_factor, denom;
    int sign, i;
    if (a > 6)
        return -tc_tpe_ndtr(-a);
    if (a > -20)
        return log(tc_tpe_ndtr(a));
    /* log Phi(a) = -a^2/2 - log(-a) - log(2 pi)/2 + log(1 - 1/a^2 + 3/a^4 - ...),
     * summed until a term no longer changes the total. */
    log_lhs = -0.5 * a * a - log(-a) - TC_TPE_LOG_SQRT_2PI;
    total = 1.0;
    last = 0.0;
    numerator = 1.0;
    denom_factor = 1.0;
    denom = 1.0 / (a * a);
    sign = 1;
    i = 0;
    while (fabs(last - total) > DBL_EPSILON) {
        i++;
        last = total;
        sign = -sign;
        denom_factor *= denom;
        numerator *= 2 * i - 1;
        total += sign * numerator * denom_factor;
    }
    return log_lhs + log(total);
}

/* log(Phi(b) - Phi(a)) with a <= b <= 0. */
static double mass_left(double a, double b)
{
    double lb = tc_tpe_log_ndtr(b), la = tc_tpe_log_ndtr(a);
    return lb + log1p(-exp(la - lb));
}

double tc_tpe_log_gauss_mass(double a, double b)
{
    if (b <= 0)
        return mass_left(a, b);
    if (a > 0)
        return mass_left(-b, -a);
    /* 1 - (mass below a) - (mass above b): no cancellation near 1. */
    return log1p(-tc_tpe_ndtr(a) - tc_tpe_ndtr(-b));
}
