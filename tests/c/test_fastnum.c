/* test_fastnum.c — tc_fastnum against strtod: bit for bit on edge inputs
 * (halfway cases, long mantissas, exponent limits, zeros, subnormals) and
 * on random numbers in Python's repr forms, plus rejection of non-numbers. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tc_test.h"
#include "tunec.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t next_u64(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int mismatches;

static void same_as_strtod(const char *text)
{
    double got = 0, want = strtod(text, NULL);
    int is_int = -1;
    if (tc_fastnum(text, strlen(text), &got, &is_int) < 0) {
        printf("rejected: %s\n", text);
        mismatches++;
        return;
    }
    if (memcmp(&got, &want, sizeof got) != 0 && !(isnan(got) && isnan(want))) {
        if (mismatches < 10)
            printf("mismatch: %s -> %.17g, strtod %.17g\n", text, got, want);
        mismatches++;
    }
    CHECK_INT(is_int, strpbrk(text, ".eE") == NULL);
}

static void test_edges(void)
{
    static const char *const cases[] = {
        "0", "-0", "0.0", "-0.0", "1", "-1", "9007199254740992", "9007199254740993",
        "9007199254740995", "18446744073709551615", "18446744073709551616",
        "99999999999999999999999", "1e22", "1e23", "1e-22", "1e-23", "1e27", "1e28", "1e-27",
        "1e-28", "0.1", "0.2", "0.3", "0.30000000000000004", "2.2250738585072014e-308",
        "2.2250738585072011e-308", "4.9e-324", "5e-324", "1e-400", "1.7976931348623157e308",
        "1.7976931348623159e308", "1e309", "0.0037874735877334365", "1.4130055205896497e-06",
        "0.996250026150759", "1796446759.522861", "8.988465674311580536566680e307",
        "9007199254740993.0", "0.500000000000000166533453693773481063544750213623046875",
        "2.0000000000000004440892098500626161694526672363281250", "123456789012345678901234",
        "0.000000000000000000000000000001", "1E5", "1e+5", "1e-5", "-2.5E-3",
        "7.2057594037927933e16", "3.0517578125e-05", "1.00000000000000011102230246251565404236316680908203125",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        same_as_strtod(cases[i]);
    CHECK_INT(mismatches, 0);
}

static void test_random(void)
{
    char text[64];
    for (int i = 0; i < 300000; i++) {
        uint64_t bits = next_u64();
        double d;
        switch (i % 4) {
        case 0:   /* any finite double, shortest repr-like and full precision */
            memcpy(&d, &bits, sizeof d);
            if (!isfinite(d))
                continue;
            snprintf(text, sizeof text, i % 8 ? "%.17g" : "%.16g", d);
            break;
        case 1:   /* values in [0, 1): metrics */
            d = (double)(bits >> 11) / 9007199254740992.0;
            snprintf(text, sizeof text, "%.*g", 15 + (int)(bits % 3), d);
            break;
        case 2:   /* timings and timestamps */
            d = (double)(bits >> 11) / 9007199254740992.0 * pow(10.0, (double)(int)(bits % 20) - 8);
            snprintf(text, sizeof text, "%.17g", d);
            break;
        default:  /* integers, some past 2^53 */
            snprintf(text, sizeof text, "%llu", (unsigned long long)(bits >> (bits % 40)));
            break;
        }
        same_as_strtod(text);
    }
    CHECK_INT(mismatches, 0);
}

/* Texts of 17 to 19 digits next to the point halfway between two doubles,
 * over the whole exponent range: where the Eisel-Lemire step must see that
 * its truncated product cannot decide, and where it still can. */
static void test_near_halfway(void)
{
    char text[64];
    for (int i = 0; i < 200000; i++) {
        uint64_t bits = next_u64() & 0x7FFFFFFFFFFFFFFFull;
        double d, up;
        memcpy(&d, &bits, sizeof d);
        up = nextafter(d, INFINITY);
        if (!isfinite(d) || !isfinite(up))
            continue;
        long double mid = ((long double)d + (long double)up) / 2;
        snprintf(text, sizeof text, "%.*Le", 16 + (int)(bits % 3), mid);
        same_as_strtod(text);
    }
    CHECK_INT(mismatches, 0);
}

static void test_rejects(void)
{
    static const char *const bad[] = {"", "-", ".5", "1.", "1e", "1e+", "+1", "abc", "1x",
                                      "--1", "1.2.3", "NaN", "Infinity", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double d;
        int is_int;
        CHECK_INT(tc_fastnum(bad[i], strlen(bad[i]), &d, &is_int), -1);
    }
}

/* tc_fastnum_prefix: the longest number at the start, and where it ends. */
static void test_prefix(void)
{
    static const struct {
        const char *text;
        long used;   /* -1: rejected */
        double value;
    } cases[] = {
        {"12,", 2, 12}, {"-0.5}", 4, -0.5}, {"1e3 ", 3, 1000}, {"12abc", 2, 12},
        {"0.1234567890123456789012]", 24, 0.1234567890123456789012},
        {"1.", -1, 0}, {"1e", -1, 0}, {"-", -1, 0}, {"x1", -1, 0}, {"-.5", -1, 0},
        {"12345678901234567890123,", 23, 12345678901234567890123.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double d = 0;
        int is_int;
        size_t used = 0;
        const char *t = cases[i].text;
        int rc = tc_fastnum_prefix(t, strlen(t), &d, &is_int, &used);
        CHECK_INT(rc < 0 ? -1 : (long)used, cases[i].used);
        if (rc == 0) {
            char tmp[64];
            memcpy(tmp, t, used);
            tmp[used] = '\0';
            CHECK(d == strtod(tmp, NULL));
            CHECK(d == cases[i].value);
        }
    }
}

int main(void)
{
    test_prefix();
    test_edges();
    test_random();
    test_near_halfway();
    test_rejects();
    TEST_MAIN_END();
}
