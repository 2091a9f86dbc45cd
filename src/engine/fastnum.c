/* fastnum.c — JSON number text to double, exactly as strtod rounds it, in a
 * fraction of strtod's time for the numbers results hold (the hot path's
 * scanner and the analysis loader read millions of them).
 *
 * The text's digits (at most 19 significant) form an exact 64-bit integer w
 * and a power of ten k. When |k| <= 27, 10^|k| is exact in x87's 64-bit
 * long double, so w * 10^k or w / 10^-k is one correctly rounded long double
 * operation; rounding that to double is then exact unless the long double
 * lands on, or next to, a point halfway between two doubles -- those rare
 * cases go to strtod, as does everything where long double is not x87's
 * (other platforms, valgrind). Clinger's fast path (w < 2^53, |k| <= 22:
 * one rounding of exact doubles) is taken first, before any of that: most
 * numbers of a result are integers or short decimals. tests/c/test_fastnum.c
 * checks the result against strtod on random and edge inputs.
 */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tunec.h"

#if defined(__x86_64__) && LDBL_MANT_DIG == 64
#define HAVE_X87 1
static const long double pow10_ld[28] = {
    1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L, 1e7L, 1e8L, 1e9L, 1e10L, 1e11L, 1e12L, 1e13L,
    1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L,
    1e27L};

/* Whether long double arithmetic really carries 64 bits here: not under
 * valgrind (which computes x87 operations in double precision) nor with the
 * x87 precision control set to double by some library. Checked per call (a
 * volatile add): a thread's control word can change at any time. */
static int x87_extended(void)
{
    volatile long double one = 1.0L, tiny = 0x1p-63L;
    return one + tiny != one;
}

/* The 11 mantissa bits a double drops from a long double: a value at or
 * next to 0x400 is at, or within one long double step of, a halfway point. */
static int near_halfway(long double r)
{
    uint64_t mant;
    memcpy(&mant, &r, sizeof mant);   /* x87: the explicit 64-bit mantissa first */
    unsigned low = (unsigned)(mant & 0x7FF);
    return low >= 0x3FF && low <= 0x401;
}
#endif

/* strtod of the n bytes at s (not NUL-terminated); the caller has checked
 * that they are a JSON number. */
static double slow(const char *s, size_t n)
{
    char tmp[128];
    if (n >= sizeof tmp) {
        char *copy = tc_malloc(n + 1);
        if (!copy)
            return 0.0;
        memcpy(copy, s, n);
        copy[n] = '\0';
        double d = strtod(copy, NULL);
        tc_free(copy);
        return d;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return strtod(tmp, NULL);
}

/* Eight ASCII digits at s, read as one little-endian word: 1 if they are
 * all digits (the SWAR test of fast_float and simdjson). */
static int eight_digits(const char *s, uint64_t *word)
{
    uint64_t v;
    memcpy(&v, s, 8);
    *word = v;
    return (((v & 0xF0F0F0F0F0F0F0F0ull) |
             (((v + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull) >> 4)) ==
            0x3333333333333333ull);
}

/* Their value: three multiply steps instead of eight. */
static uint64_t eight_digits_value(uint64_t v)
{
    const uint64_t mask = 0x000000FF000000FFull;
    const uint64_t mul1 = 0x000F424000000064ull;   /* 100 + (1000000 << 32) */
    const uint64_t mul2 = 0x0000271000000001ull;   /* 1 + (10000 << 32) */
    v -= 0x3030303030303030ull;
    v = (v * 10) + (v >> 8);
    return (((v & mask) * mul1) + (((v >> 16) & mask) * mul2)) >> 32;
}

/* Significant digits of w < 10^8 (0 for 0). */
static int digit_count(uint64_t w)
{
    if (w < 10000)
        return w < 100 ? (w ? 1 + (w >= 10) : 0) : 3 + (w >= 1000);
    return w < 1000000 ? 5 + (w >= 100000) : 7 + (w >= 10000000);
}

/* Takes digits eight at a time into w while 19 significant digits cannot
 * be exceeded (w < 10^digits, so w * 10^8 + 8 digits < 10^19 < 2^64): the
 * same w and digit count as the one-by-one loop, which does the rest. */
static size_t digit_blocks(const char *s, size_t i, size_t n, uint64_t *w, int *digits)
{
    uint64_t word;
    while (i + 8 <= n && *digits <= 11 && eight_digits(s + i, &word)) {
        uint64_t block = eight_digits_value(word);
        *digits = *w ? *digits + 8 : digit_count(block);
        *w = *w * 100000000u + block;
        i += 8;
    }
    return i;
}

int tc_fastnum(const char *s, size_t n, double *out, int *is_int)
{
    size_t used;
    return tc_fastnum_prefix(s, n, out, is_int, &used) < 0 || used != n ? -1 : 0;
}

int tc_fastnum_prefix(const char *s, size_t n, double *out, int *is_int, size_t *used)
{
    size_t i = 0;
    int neg = 0;
    if (i < n && s[i] == '-') {
        neg = 1;
        i++;
    }
    if (i >= n || s[i] < '0' || s[i] > '9')
        return -1;
    uint64_t w = 0;
    int digits = 0;    /* significant digits in w */
    int dropped = 0;   /* integer digits past the 19 kept (they scale by 10) */
    int exp10 = 0;
    int integral = 1;
    i = digit_blocks(s, i, n, &w, &digits);
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (digits < 19) {
            w = w * 10 + (uint64_t)(s[i] - '0');
            digits += w != 0;
        } else {
            dropped++;
        }
    }
    if (i < n && s[i] == '.') {
        integral = 0;
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return -1;
        size_t block_start = i;
        i = digit_blocks(s, i, n, &w, &digits);
        exp10 -= (int)(i - block_start);
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            if (digits < 19) {
                w = w * 10 + (uint64_t)(s[i] - '0');
                digits += w != 0;
                exp10--;
            } else {
                dropped = dropped ? dropped : -1;   /* lost fraction digits: not exact */
            }
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        integral = 0;
        i++;
        int eneg = 0, e = 0, edigits = 0;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, edigits++)
            if (e < 100000)
                e = e * 10 + (s[i] - '0');
        if (!edigits)
            return -1;
        exp10 += eneg ? -e : e;
    }
    *used = i;
    *is_int = integral;
    /* Clinger's fast path first: both operands exact doubles, one rounding,
     * no x87 round trip (integers and short decimals: most of a result). */
    static const double pow10_d[23] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                       1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
                                       1e20, 1e21, 1e22};
    if (dropped == 0 && w < (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        double d = exp10 < 0 ? (double)w / pow10_d[-exp10] : (double)w * pow10_d[exp10];
        *out = neg ? -d : d;
        return 0;
    }
#ifdef HAVE_X87
    if (dropped == 0 && exp10 >= -27 && exp10 <= 27 && x87_extended()) {
        long double r = exp10 < 0 ? (long double)w / pow10_ld[-exp10]
                                  : (long double)w * pow10_ld[exp10];
        if (!near_halfway(r)) {
            double d = (double)r;
            *out = neg ? -d : d;
            return 0;
        }
    }
#endif
    *out = slow(s, i);
    return 0;
}
