/* pyfloat.c — numbers as CPython prints them: repr(float) (the text of
 * json.dumps, progress.csv and str()), format(x, ".5") (experiment tags,
 * spec §5.5) and int.
 *
 * repr is the shortest decimal that reads back to the same double, the
 * nearest one when several are that short (David Gay's mode 0, which CPython
 * uses), laid out in fixed notation for 1e-4 <= |x| < 1e16 with ".0" added
 * to whole numbers ("1.0", "100.0") and in exponent notation otherwise
 * ("1e+16", "1e-05", two exponent digits at least).
 *
 * Two ways to the digits, the same answer (both were compared with Python's
 * repr on about a million doubles of every magnitude while this was
 * written; tests/c/test_jsonx.c keeps ~140 of them, powers of two included):
 *   - shortest_digits_fast: exact 128-bit integer arithmetic for
 *     2^-16 <= x < 1e15, no printf or strtod — the range results live in,
 *     where this runs per value per result and must be cheap;
 *   - shortest_digits: snprintf + strtod for everything else.
 * Text handed to strtod uses the locale's decimal point, so a process whose
 * LC_NUMERIC is not "C" still gets '.' in the output and correct round trips.
 */
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tunec.h"


/* Splits the text of snprintf("%.*e") into its digits (without the dot) and
 * the decimal exponent. Returns the digit count. */
static int split_e(const char *s, char *digits, int *exp10)
{
    int n = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            digits[n++] = *s;
    digits[n] = '\0';
    *exp10 = *s == 'e' ? atoi(s + 1) : 0;
    return n;
}

/* Rounds the 17 digits d17 (from %.16e) to `keep` digits, half up. Only
 * valid when the dropped tail is not exactly a half (see shortest_digits).
 * Returns the exponent carry (1 when 9.99.. rounded up to 10.0..). */
static int round_digits(const char *d17, int keep, char *out)
{
    memcpy(out, d17, (size_t)keep);
    out[keep] = '\0';
    if (d17[keep] < '5')
        return 0;
    for (int i = keep - 1; i >= 0; i--) {
        if (out[i] != '9') {
            out[i]++;
            return 0;
        }
        out[i] = '0';
    }
    out[0] = '1';  /* 99..9 -> 100..0, still `keep` digits, one decade up */
    return 1;
}

/* 1 when the tail d17[keep..16] is exactly "5", "50", ... (a tie at that
 * precision in the 17-digit text, which itself is rounded: then only a
 * direct conversion knows which way x goes). */
static int tail_is_half(const char *d17, int keep)
{
    if (d17[keep] != '5')
        return 0;
    for (int i = keep + 1; i < 17; i++)
        if (d17[i] != '0')
            return 0;
    return 1;
}

/* strtod of text written with '.', whatever LC_NUMERIC says. */
static double c_strtod(char *text)
{
    char point = localeconv()->decimal_point[0];
    if (point != '.') {
        char *dot = strchr(text, '.');
        if (dot)
            *dot = point;
    }
    return strtod(text, NULL);
}

/* Does digits x 10^(exp10 - ndigits + 1) read back as v? */
static int round_trips(const char *digits, int exp10, double v)
{
    char text[48];
    snprintf(text, sizeof text, "%c.%se%d", digits[0], digits + 1, exp10);
    return c_strtod(text) == v;
}

/* The shortest digits that read back as v (v > 0, finite), and decpt, the
 * position of the decimal point (v = 0.DIGITS x 10^decpt), as Python's repr
 * (David Gay's shortest mode) chooses them: fewest digits, then the nearest.
 *
 * Why 15 / 16 / 17: for a normal double any <= 15-digit decimal that reads
 * back equals the correctly rounded 15-digit text (DBL_DIG), and among
 * 16-digit candidates the correctly rounded one is the nearest; 17 always
 * reads back. All three roundings come from one %.16e call (re-rounding the
 * 17 digits is exact unless the tail is a tie, when we ask snprintf again).
 * Subnormals have fewer bits, so every precision from 1 up is tried. The
 * one case rounding cannot find — a power of two, whose lower neighbour is
 * half as far, so a 16-digit text just above v may read back while the
 * nearest (below) does not — is checked explicitly. */
static int shortest_digits(double v, char *digits, int *decpt)
{
    char text[48], d17[24], cand[24];
    int e17, n;

    if (v < DBL_MIN) {
        for (int p = 1; p <= 17; p++) {
            snprintf(text, sizeof text, "%.*e", p - 1, v);
            if (strtod(text, NULL) == v)
                break;
        }
        n = split_e(text, digits, decpt);
        while (n > 1 && digits[n - 1] == '0')
            digits[--n] = '\0';
        (*decpt)++;
        return n;
    }

    snprintf(text, sizeof text, "%.16e", v);
    split_e(text, d17, &e17);

    /* 16 digits */
    int e16 = e17, ok16 = 0;
    char d16[24];
    if (tail_is_half(d17, 16)) {
        snprintf(text, sizeof text, "%.15e", v);
        split_e(text, d16, &e16);
    } else {
        e16 += round_digits(d17, 16, d16);
    }
    ok16 = round_trips(d16, e16, v);
    if (!ok16) {
        int mant_exp;
        if (frexp(v, &mant_exp) == 0.5) {
            /* power of two: try the 16-digit neighbour above the nearest */
            memcpy(cand, d16, 17);
            int i = 15;
            while (i >= 0 && cand[i] == '9')
                cand[i--] = '0';
            int ecand = e16;
            if (i < 0) {
                cand[0] = '1';
                ecand++;
            } else {
                cand[i]++;
            }
            if (round_trips(cand, ecand, v)) {
                memcpy(d16, cand, 17);
                e16 = ecand;
                ok16 = 1;
            }
        }
    }
    if (!ok16) {
        memcpy(digits, d17, 18);
        *decpt = e17 + 1;
        n = 17;
    } else {
        /* 15 digits */
        char d15[24];
        int e15 = e17;
        if (tail_is_half(d17, 15)) {
            snprintf(text, sizeof text, "%.14e", v);
            split_e(text, d15, &e15);
        } else {
            e15 += round_digits(d17, 15, d15);
        }
        if (round_trips(d15, e15, v)) {
            memcpy(digits, d15, 16);
            *decpt = e15 + 1;
            n = 15;
        } else {
            memcpy(digits, d16, 17);
            *decpt = e16 + 1;
            n = 16;
        }
    }
    while (n > 1 && digits[n - 1] == '0')
        digits[--n] = '\0';
    return n;
}

/* Lays out digits/decpt like CPython's format_float_short: exponent form
 * when decpt <= -4 or decpt > exp_above, else fixed with ".0" added when
 * add_dot_0 and no fraction digits. Returns the length written. */
static int layout(int neg, const char *digits, int n, int decpt, int exp_above,
                  int add_dot_0, char *buf)
{
    char *p = buf;
    if (neg)
        *p++ = '-';
    if (decpt <= -4 || decpt > exp_above) {
        *p++ = digits[0];
        if (n > 1) {
            *p++ = '.';
            memcpy(p, digits + 1, (size_t)n - 1);
            p += n - 1;
        }
        int e = decpt - 1;
        p += sprintf(p, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    } else if (decpt <= 0) {
        *p++ = '0';
        *p++ = '.';
        for (int i = 0; i < -decpt; i++)
            *p++ = '0';
        memcpy(p, digits, (size_t)n);
        p += n;
    } else if (decpt >= n) {
        memcpy(p, digits, (size_t)n);
        p += n;
        for (int i = n; i < decpt; i++)
            *p++ = '0';
        if (add_dot_0) {
            *p++ = '.';
            *p++ = '0';
        }
    } else {
        memcpy(p, digits, (size_t)decpt);
        p += decpt;
        *p++ = '.';
        memcpy(p, digits + decpt, (size_t)(n - decpt));
        p += n - decpt;
    }
    *p = '\0';
    return (int)(p - buf);
}

/* Writes an unsigned decimal; returns the length. */
static int utoa(unsigned long long u, char *buf)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    for (int i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

int tc_format_int(long long v, char *buf)
{
    if (v < 0) {
        buf[0] = '-';
        return 1 + utoa(0ull - (unsigned long long)v, buf + 1);
    }
    return utoa((unsigned long long)v, buf);
}

/* The same choice as shortest_digits, in exact 128-bit integer arithmetic
 * instead of snprintf + strtod, for the range most results live in:
 * 2^-16 <= v < 1e15 (2^-16 is about 1.5e-5). Returns the digit count, or
 * 0 outside that range (the caller falls back).
 *
 * With v = f * 2^-E (f the 53-bit significand, 1 <= E <= 68) and a
 * candidate d = m * 10^-k (k <= 21), everything is scaled by 4 * 10^k * 2^E
 * so the comparisons are between integers below 2^128:
 *   - m, the p-digit rounding of v, is f * 10^k / 2^E rounded half-even
 *     (what printf does);
 *   - d reads back as v iff 4 |m 2^E - f 10^k| is below 2 * 10^k (half an
 *     ulp), or 10^k on the lower side of a power of two, with equality
 *     allowed when f is even (strtod rounds ties to even). */
#ifdef __SIZEOF_INT128__
__extension__ typedef unsigned __int128 u128;

#define P19 10000000000000000000ull
static const u128 pow10_table[22] = {
    1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull, 100000000ull,
    1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull,
    100000000000000ull, 1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
    1000000000000000000ull, P19, (u128)P19 * 10, (u128)P19 * 100,
};

/* p-digit rounding of f * 2^-E at scale 10^k, half-even. */
static uint64_t round_scaled(uint64_t f, int E, u128 p10)
{
    u128 x = (u128)f * p10;
    u128 q = x >> E, r = x & (((u128)1 << E) - 1), half = (u128)1 << (E - 1);
    if (r > half || (r == half && (q & 1)))
        q++;
    return (uint64_t)q;
}

static int reads_back(uint64_t m, uint64_t f, int E, u128 p10)
{
    u128 a = (u128)m << E, b = (u128)f * p10;
    u128 diff = a > b ? a - b : b - a;
    u128 bound = (a < b && f == (1ull << 52)) ? p10 : 2 * p10;
    diff *= 4;
    return diff < bound || (diff == bound && (f & 1) == 0);
}

static int shortest_digits_fast(double v, char *digits, int *decpt)
{
    int ex;
    double mant = frexp(v, &ex);           /* v = mant * 2^ex, mant in [0.5, 1) */
    int E = 53 - ex;
    if (E < 1 || E > 68)
        return 0;
    uint64_t f = (uint64_t)ldexp(mant, 53);  /* exact: 53 significant bits */
    /* v in [2^(ex-1), 2^ex): floor(log10 v) is this or one more; the loop
     * below corrects it (cheaper than calling log10) */
    int e10 = (int)floor((ex - 1) * 0.30102999566398120);
    uint64_t m17 = 0;
    int found = 0;
    for (int tries = 0; tries < 3 && !found; tries++) {
        int k = 16 - e10;
        if (k > 21) {          /* 10^k * f would pass 2^128 */
            e10++;
            continue;
        }
        if (k < 2)
            return 0;          /* v >= 1e15, where 15 digits would need k < 0 */
        m17 = round_scaled(f, E, pow10_table[k]);
        if (m17 >= 100000000000000000ull)
            e10++;
        else if (m17 < 10000000000000000ull)
            e10--;
        else
            found = 1;
    }
    if (!found)
        return 0;

    uint64_t best = m17;
    int best_p = 17;
    int k16 = 15 - e10;
    u128 p16 = pow10_table[k16];
    uint64_t m16 = round_scaled(f, E, p16);
    int ok16 = reads_back(m16, f, E, p16);
    if (!ok16 && f == (1ull << 52) && reads_back(m16 + 1, f, E, p16)) {
        m16++;   /* power of two: the neighbour above, see shortest_digits */
        ok16 = 1;
    }
    if (ok16) {
        best = m16;
        best_p = 16;
        u128 p15 = pow10_table[14 - e10];
        uint64_t m15 = round_scaled(f, E, p15);
        if (reads_back(m15, f, E, p15)) {
            best = m15;
            best_p = 15;
        }
    }
    /* best has best_p digits, or best_p + 1 when rounding carried into a new
     * decade (10^p): then it is "1" followed by zeros, one decade up. */
    char tmp[24];
    int n = utoa(best, tmp);
    *decpt = e10 + 1 + (n - best_p);
    while (n > 1 && tmp[n - 1] == '0')
        n--;
    memcpy(digits, tmp, (size_t)n);
    digits[n] = '\0';
    return n;
}
#else
static int shortest_digits_fast(double v, char *digits, int *decpt)
{
    return 0;  /* no 128-bit integers: always the snprintf path */
}
#endif

static int put_text(char *buf, const char *text)
{
    size_t n = strlen(text);
    memcpy(buf, text, n + 1);
    return (int)n;
}

int tc_format_double(double v, char *buf)
{
    if (isnan(v))
        return put_text(buf, "nan");
    if (isinf(v))
        return put_text(buf, v > 0 ? "inf" : "-inf");
    int neg = signbit(v) != 0;
    double a = fabs(v);
    if (a == 0.0)
        return put_text(buf, neg ? "-0.0" : "0.0");
    /* Integral values below 1e15 (fixed notation, exact in a long long) are
     * common in results (1.0, 100.0) and need no digit search. */
    if (a < 1e15 && a == floor(a)) {
        char *p = buf;
        if (neg)
            *p++ = '-';
        p += utoa((unsigned long long)a, p);
        memcpy(p, ".0", 3);
        return (int)(p - buf) + 2;
    }
    char digits[24];
    int decpt;
    int n = shortest_digits_fast(a, digits, &decpt);
    if (n == 0)
        n = shortest_digits(a, digits, &decpt);
    return layout(neg, digits, n, decpt, 16, 1, buf);
}

int tc_format_double_5(double v, char *buf)
{
    if (isnan(v))
        return put_text(buf, "nan");
    if (isinf(v))
        return put_text(buf, v > 0 ? "inf" : "-inf");
    char text[48], digits[24];
    int exp10;
    snprintf(text, sizeof text, "%.4e", fabs(v));
    int n = split_e(text, digits, &exp10);
    while (n > 1 && digits[n - 1] == '0')
        digits[--n] = '\0';
    /* format(v, ".5") is 'g' with Py_DTSF_ADD_DOT_0, which in CPython also
     * moves the switch to exponent form one decade down: decpt > p - 1.
     * So 1234.0 -> "1234.0" but 12345.0 -> "1.2345e+04". */
    int decpt = fabs(v) == 0.0 ? 1 : exp10 + 1;
    return layout(signbit(v) != 0, digits, n, decpt, 5 - 1, 1, buf);
}
