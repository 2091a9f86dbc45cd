/* rng.c — the engine's one pseudo-random generator: xoshiro256** (Blackman &
 * Vigna, 2018) seeded through splitmix64.
 *
 * Why this generator: it is small, fast, has a 2^256 period and passes
 * BigCrush; its output is fully determined by the 64-bit seed, which is what
 * "same seed -> same variants" (space.c) and the scheduler tests need. The
 * state is a plain struct the caller owns, so there is no hidden global.
 *
 * Invariant: the state is never all zero. splitmix64 cannot produce four zero
 * words in a row from any seed, so tc_rng_seed guarantees it.
 */
#include <math.h>
#include "tunec.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void tc_rng_seed(tc_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t tc_rng_next(tc_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* The top 53 bits scaled by 2^-53: every value is a multiple of 2^-53 in
 * [0, 1), and 1.0 can never come out. */
double tc_rng_uniform(tc_rng *r)
{
    return (double)(tc_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Box-Muller, one output per call: the struct has no room to cache the second
 * value, and keeping the state to four words keeps a stream fully described by
 * its seed and the number of calls. u1 is taken from (0, 1] so log() never
 * sees 0. */
double tc_rng_normal(tc_rng *r)
{
    double u1 = 1.0 - tc_rng_uniform(r);
    double u2 = tc_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925286766559 * u2);
}

/* Unbiased draw from [0, n) by rejection: values below 2^64 mod n would make
 * the low residues more likely, so they are redrawn. For any n the expected
 * number of draws is below 2. n == 0 returns 0 rather than dividing by zero. */
uint64_t tc_rng_below(tc_rng *r, uint64_t n)
{
    if (n == 0)
        return 0;
    uint64_t threshold = (0 - n) % n;   /* == 2^64 mod n */
    for (;;) {
        uint64_t x = tc_rng_next(r);
        if (x >= threshold)
            return x % n;
    }
}
