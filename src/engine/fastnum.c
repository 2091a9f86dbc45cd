/* fastnum.c — JSON number text to double, exactly as strtod rounds it, in a
 * fraction of strtod's time for the numbers results hold (the hot path's
 * scanner and the analysis loader read millions of them).
 *
 * The text's digits (at most 19 significant) form an exact 64-bit integer w
 * and a power of ten k. Clinger's fast path (w < 2^53, |k| <= 22: one
 * rounding of exact doubles) is taken first: most numbers of a result are
 * integers or short decimals. The rest -- metrics printed with 17 digits,
 * which w >= 2^53 keeps off that path -- take the Eisel-Lemire step (one or
 * two 64x64-bit products against a table of 128-bit powers of ten,
 * pow10_table.c), which is exact whenever it answers; the few it cannot
 * decide (a halfway point, a subnormal or infinite result) and texts of
 * more than 19 significant digits go to strtod. Plain integer arithmetic:
 * the same bits on every platform and under valgrind. tests/c/test_fastnum.c
 * checks the result against strtod on random and edge inputs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fastnum_table.h"
#include "tunec.h"

/* The Eisel-Lemire step (Lemire, "Number Parsing at a Gigabyte per Second",
 * 2021; this is Go's strconv.eiselLemire64, which fast_float also follows):
 * w * 10^q, w exact and nonzero, rounded to the nearest double from the top
 * bits of w times the 128-bit mantissa of 10^q. The truncated product is
 * within one unit of its last bit of the exact one, so the rounding it gives
 * is the correctly rounded one except when the bits that decide it are all
 * ones (the second product settles most of those) or the value sits on a
 * halfway point; those, and subnormal or infinite results, return 0 and go
 * to strtod. 1 = *out set. */
static int eisel_lemire(uint64_t w, int q, int neg, double *out)
{
    if (q < TCP_POW10_Q_MIN || q > TCP_POW10_Q_MAX)
        return 0;
    const uint64_t *pow10 = tcp_pow10_128[q - TCP_POW10_Q_MIN];
    int clz = __builtin_clzll(w);
    w <<= clz;
    /* floor(q * log2(10)) + 64 + the bias, less the shift: 217706 / 2^16
     * is log2(10) closely enough over the table's range. */
    int64_t scaled = (int64_t)217706 * q;
    int64_t log2_10q = (scaled >= 0 ? scaled : scaled - 65535) / 65536;
    uint64_t exp2 = (uint64_t)(log2_10q + 64 + 1023) - (uint64_t)clz;
    unsigned __int128 x = (unsigned __int128)w * pow10[0];
    uint64_t hi = (uint64_t)(x >> 64), lo = (uint64_t)x;
    if ((hi & 0x1FF) == 0x1FF && lo + w < w) {
        /* The low half of 10^q could carry into the bits that decide. */
        unsigned __int128 y = (unsigned __int128)w * pow10[1];
        uint64_t y_hi = (uint64_t)(y >> 64), y_lo = (uint64_t)y;
        uint64_t merged_hi = hi, merged_lo = lo + y_hi;
        if (merged_lo < lo)
            merged_hi++;
        if ((merged_hi & 0x1FF) == 0x1FF && merged_lo + 1 == 0 && y_lo + w < w)
            return 0;
        hi = merged_hi;
        lo = merged_lo;
    }
    uint64_t msb = hi >> 63;
    uint64_t mant = hi >> (msb + 9);
    exp2 -= 1 ^ msb;
    if (lo == 0 && (hi & 0x1FF) == 0 && (mant & 3) == 1)
        return 0;   /* exactly halfway: strtod breaks the tie */
    mant += mant & 1;
    mant >>= 1;
    if (mant >> 53) {
        mant >>= 1;
        exp2++;
    }
    if (exp2 - 1 >= 0x7FF - 1)
        return 0;   /* subnormal, zero or infinite: strtod */
    uint64_t bits = exp2 << 52 | (mant & 0x000FFFFFFFFFFFFFull);
    if (neg)
        bits |= 0x8000000000000000ull;
    memcpy(out, &bits, sizeof *out);
    return 1;
}

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
static inline __attribute__((always_inline)) size_t digit_blocks(const char *s, size_t i,
                                                                size_t n, uint64_t *w,
                                                                int *digits)
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
    if (dropped == 0 && w != 0 && eisel_lemire(w, exp10, neg, out))
        return 0;
    *out = slow(s, i);
    return 0;
}
