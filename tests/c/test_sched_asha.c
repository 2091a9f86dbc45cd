/* test_sched_asha.c — the ASHA core (spec §8.2, §18.25): argument checks,
 * rung arithmetic, the promotion rule with numpy's nanpercentile, NaN
 * handling, mode min/max, STOP at max_t, bracket assignment, debug string.
 * Expected cutoffs were computed with numpy.nanpercentile. */
#include <stdlib.h>
#include "tc_test.h"
#include "sched.h"

enum { C = TC_SCHED_CONTINUE, S = TC_SCHED_STOP, ERR = -1 };

/* {max_t, grace, rf, brackets, error code (0 = valid), message start} */
static const struct {
    double max_t, grace, rf;
    long brackets;
    int code;
    const char *text;
} validate_cases[] = {
    {100, 1, 4, 1, 0, NULL},
    {100, 100, 4, 1, 0, NULL},                  /* grace == max_t is allowed */
    {0.5, 0.25, 1.01, 3, 0, NULL},
    {0, 1, 4, 1, TC_ERR_VALUE, "max_t must be a finite number > 0, got 0"},
    {-5, 1, 4, 1, TC_ERR_VALUE, "max_t must be"},
    {NAN, 1, 4, 1, TC_ERR_VALUE, "max_t must be"},
    {INFINITY, 1, 4, 1, TC_ERR_VALUE, "max_t must be"},
    {10, 11, 4, 1, TC_ERR_VALUE, "grace_period must be <= max_t, got grace_period=11, max_t=10"},
    {10, 0, 4, 1, TC_ERR_VALUE, "grace_period must be positive, got 0"},
    {10, -1, 4, 1, TC_ERR_VALUE, "grace_period must be positive"},
    {10, NAN, 4, 1, TC_ERR_VALUE, "grace_period must be <= max_t"},
    {10, 1, 1, 1, TC_ERR_VALUE, "reduction_factor must be a finite number > 1, got 1"},
    {10, 1, 0.5, 1, TC_ERR_VALUE, "reduction_factor must be"},
    {10, 1, NAN, 1, TC_ERR_VALUE, "reduction_factor must be"},
    {10, 1, 4, 0, TC_ERR_VALUE, "brackets must be positive, got 0"},
    {10, 1, 4, -2, TC_ERR_VALUE, "brackets must be positive"},
    {1e300, 1e-300, 1.0000001, 1, TC_ERR_VALUE, "reduction_factor 1.0000001 is too close to 1"},
};

static void test_validation(void)
{
    for (size_t i = 0; i < sizeof validate_cases / sizeof *validate_cases; i++) {
        tc_error err;
        tc_error_init(&err);
        tc_asha *a = tc_asha_new(validate_cases[i].max_t, validate_cases[i].grace,
                                 validate_cases[i].rf, validate_cases[i].brackets, 1, 0, &err);
        CHECK_INT(err.code, validate_cases[i].code);
        CHECK_INT(a == NULL, validate_cases[i].code != 0);
        if (validate_cases[i].text && strncmp(err.text, validate_cases[i].text,
                                              strlen(validate_cases[i].text)) != 0)
            CHECK_STR(err.text, validate_cases[i].text);
        tc_asha_free(a);
    }
}

/* {max_t, grace, rf, brackets, bracket, rung count, milestones highest first} */
static const struct {
    double max_t, grace, rf;
    long brackets, bracket, nrungs;
    double milestones[6];
} rung_cases[] = {
    {100, 1, 4, 1, 0, 4, {64, 16, 4, 1}},        /* the defaults: spec §8.2 */
    {100, 1, 4, 3, 1, 3, {64, 16, 4}},           /* s = 1: grace * rf^(k + 1) */
    {100, 1, 4, 3, 2, 2, {64, 16}},
    {100, 1, 4, 5, 4, 0, {0}},                   /* int(3.32 - 4 + 1) = 0 rungs */
    {81, 1, 3, 1, 0, 5, {81, 27, 9, 3, 1}},
    {10, 1, 2, 1, 0, 4, {8, 4, 2, 1}},
    /* log(1000)/log(10) is 2.9999999999999996 in doubles: Ray gets 3 rungs */
    {1000, 1, 10, 1, 0, 3, {100, 10, 1}},
    {100, 10, 3, 1, 0, 3, {90, 30, 10}},
    {37.5, 0.5, 2.5, 1, 0, 5, {19.53125, 7.8125, 3.125, 1.25, 0.5}},
    {5, 5, 2, 1, 0, 1, {5}},
};

static void test_rungs(void)
{
    for (size_t i = 0; i < sizeof rung_cases / sizeof *rung_cases; i++) {
        tc_error err;
        tc_error_init(&err);
        tc_asha *a = tc_asha_new(rung_cases[i].max_t, rung_cases[i].grace, rung_cases[i].rf,
                                 rung_cases[i].brackets, 1, 0, &err);
        CHECK(a != NULL);
        if (!a)
            continue;
        CHECK_INT(tc_asha_num_brackets(a), rung_cases[i].brackets);
        CHECK_INT(tc_asha_num_rungs(a, rung_cases[i].bracket), rung_cases[i].nrungs);
        for (long k = 0; k < rung_cases[i].nrungs; k++)
            CHECK_NEAR(tc_asha_milestone(a, rung_cases[i].bracket, k),
                       rung_cases[i].milestones[k], 0);
        CHECK(isnan(tc_asha_milestone(a, rung_cases[i].bracket, rung_cases[i].nrungs)));
        tc_asha_free(a);
    }
}

/* Event scripts on one bracket. op: 'r' result, 'c' complete, 'x' remove,
 * 'a' add; want: the decision for 'r', 0 or ERR otherwise. */
typedef struct ev { char op; long trial; double t, m; int want; } ev;
static const struct {
    const char *name;
    double max_t, grace, rf;
    int mode_max;
    ev evs[12];
} scripts[] = {
    /* Ray's _Bracket docstring: rungs 8, 4, 2, 1 */
    {"first arrivals pass, then the top 1/rf", 10, 1, 2, 1,
     {{'r', 0, 1, 2, C}, {'r', 1, 1, 4, C}, {'r', 2, 1, 1, S}, {'r', 3, 1, 3, C}}},
    {"cutoff is computed before recording", 10, 1, 2, 1,
     {{'r', 0, 1, 5, C}, {'r', 1, 1, 5, C}, {'r', 2, 1, 4.999, S}}},
    {"equal to the cutoff continues", 100, 1, 4, 1,
     {{'r', 0, 1, 1, C}, {'r', 1, 1, 2, C}, {'r', 2, 1, 1.75, C}}},
    {"one rung per result, once per rung", 100, 1, 4, 1,
     {{'r', 0, 1, 10, C}, {'r', 1, 1, 1, S}, {'r', 1, 2, -100, C}, {'r', 1, 3, -100, C}}},
    {"a jump records the highest rung reached, lower rungs later", 100, 1, 4, 1,
     {{'r', 0, 1, 10, C}, {'r', 0, 4, 10, C}, {'r', 1, 20, 5, C}, {'r', 1, 21, 5, S},
      {'r', 1, 22, 5, S}, {'r', 1, 23, 50, C}}},
    {"STOP at max_t, even a first arrival", 100, 1, 4, 1,
     {{'r', 0, 100, 1, S}, {'r', 1, 150, 1, S}, {'r', 2, 99.5, 1, C}}},
    {"mode min: lower is better", 100, 1, 4, 0,
     {{'r', 0, 1, 1, C}, {'r', 1, 1, 5, S}, {'r', 2, 1, 0.5, C}, {'r', 3, 1, 1.01, S}}},
    {"a NaN score never stops and is recorded", 100, 1, 4, 1,
     {{'r', 0, 1, NAN, C}, {'r', 1, 1, -5, C}, {'r', 2, 1, -6, S}, {'r', 3, 1, NAN, C}}},
    {"a rung of NaN scores has a NaN cutoff: nothing stops", 100, 1, 4, 1,
     {{'r', 0, 1, NAN, C}, {'r', 1, 1, -1e9, C}}},
    {"an infinite score makes numpy's cutoff NaN", 100, 1, 4, 1,
     {{'r', 0, 1, 1, C}, {'r', 1, 1, INFINITY, C}, {'r', 2, 1, -1e9, C}}},
    {"a NaN time lands on the highest rung", 100, 1, 4, 1,
     {{'r', 0, 64, 5, C}, {'r', 1, NAN, 1, S}}},
    {"complete records the final score without the max_t test", 10, 1, 2, 1,
     {{'c', 0, 50, 9, 0}, {'r', 1, 8, 1, S}, {'r', 0, 1, 1, ERR}}},
    {"remove forgets the bracket", 10, 1, 2, 1,
     {{'r', 0, 1, 1, C}, {'x', 0, 0, 0, 0}, {'r', 0, 2, 1, ERR}}},
    {"unknown trial: error after the max_t test", 10, 1, 2, 1,
     {{'r', 99, 10, 1, S}, {'r', 99, 9, 1, ERR}, {'c', 98, 1, 1, ERR}, {'x', 97, 0, 0, ERR}}},
};

static void test_scripts(void)
{
    for (size_t i = 0; i < sizeof scripts / sizeof *scripts; i++) {
        tc_error err;
        tc_error_init(&err);
        tc_asha *a = tc_asha_new(scripts[i].max_t, scripts[i].grace, scripts[i].rf, 1,
                                 scripts[i].mode_max, 7, &err);
        CHECK(a != NULL);
        if (!a)
            continue;
        for (long t = 0; t < 8; t++)
            CHECK_INT(tc_asha_on_add(a, t, &err), 0);
        for (int k = 0; k < 12 && scripts[i].evs[k].op; k++) {
            const ev *e = &scripts[i].evs[k];
            int got;
            tc_error_init(&err);
            switch (e->op) {
            case 'r': got = tc_asha_on_result(a, e->trial, e->t, e->m, &err); break;
            case 'c': got = tc_asha_on_complete(a, e->trial, e->t, e->m, &err); break;
            default: got = tc_asha_on_remove(a, e->trial, &err); break;
            }
            if (got != e->want)
                fprintf(stderr, "script \"%s\", event %d:\n", scripts[i].name, k);
            CHECK_INT(got, e->want);
            CHECK_INT(err.code != 0, e->want == ERR);
        }
        tc_asha_free(a);
    }
}

/* {rf, scores recorded at the lowest rung, expected cutoff (numpy)} */
static const struct { double rf; int n; double v[5]; int has; double want; } cutoff_cases[] = {
    {4, 0, {0}, 0, 0},                           /* None */
    {4, 5, {1, 2, 3, 4, 5}, 1, 4.0},
    {4, 2, {1, 2}, 1, 1.75},
    {3, 3, {0.1, 0.2, 0.3}, 1, 0.23333333333333334},
    {4, 1, {5}, 1, 5.0},
    {2, 2, {4, 2}, 1, 3.0},
    {4, 4, {1, 2, NAN, 3}, 1, 2.5},              /* NaN skipped */
    {1.5, 4, {3, 1, 2, 10}, 1, 2.0},
    {4, 3, {-1, -2, -3}, 1, -1.5},
    {10, 3, {1, 2, 3}, 1, 2.8},
    {4, 2, {NAN, NAN}, 1, NAN},                  /* all NaN: NaN, not None */
    {4, 2, {1, INFINITY}, 1, NAN},
};

static void test_cutoffs(void)
{
    for (size_t i = 0; i < sizeof cutoff_cases / sizeof *cutoff_cases; i++) {
        tc_error err;
        double c = 0;
        tc_error_init(&err);
        tc_asha *a = tc_asha_new(100, 1, cutoff_cases[i].rf, 1, 1, 0, &err);
        long last = tc_asha_num_rungs(a, 0) - 1;
        for (int k = 0; k < cutoff_cases[i].n; k++) {
            tc_asha_on_add(a, k, &err);
            tc_asha_on_complete(a, k, 1, cutoff_cases[i].v[k], &err);
        }
        CHECK_INT(tc_asha_cutoff(a, 0, last, &c), cutoff_cases[i].has);
        if (cutoff_cases[i].has && isnan(cutoff_cases[i].want))
            CHECK(isnan(c));
        else if (cutoff_cases[i].has)
            CHECK(c == cutoff_cases[i].want);
        tc_asha_free(a);
    }
}

static void test_brackets(void)
{
    tc_error err;
    long counts[3] = {0}, n = 30000;
    int seq1[50], seq2[50], same = 1, differ = 0;
    tc_error_init(&err);
    /* rungs 4, 3, 2: probabilities e^0, e^-1, e^-2 normalised */
    tc_asha *a = tc_asha_new(100, 1, 4, 3, 1, 1, &err), *b = tc_asha_new(100, 1, 4, 3, 1, 1, &err),
            *c = tc_asha_new(100, 1, 4, 3, 1, 2, &err), *one = tc_asha_new(100, 1, 4, 1, 1, 3, &err);
    for (long t = 0; t < n; t++)
        counts[tc_asha_on_add(a, t, &err)]++;
    CHECK_NEAR((double)counts[0] / n, 0.66524096, 0.01);
    CHECK_NEAR((double)counts[1] / n, 0.24472847, 0.01);
    CHECK_NEAR((double)counts[2] / n, 0.09003057, 0.01);
    for (int t = 0; t < 50; t++) {
        seq1[t] = tc_asha_on_add(b, t, &err);
        seq2[t] = tc_asha_on_add(c, t, &err);
        differ |= seq1[t] != seq2[t];
    }
    tc_asha_free(b);
    b = tc_asha_new(100, 1, 4, 3, 1, 1, &err);
    for (int t = 0; t < 50; t++)
        same &= tc_asha_on_add(b, t, &err) == seq1[t];
    CHECK(same);                                 /* same seed, same brackets */
    CHECK(differ);                               /* another seed, others */
    for (int t = 0; t < 20; t++)
        CHECK_INT(tc_asha_on_add(one, t, &err), 0);
    CHECK_INT(tc_asha_bracket_of(one, 5), 0);
    CHECK_INT(tc_asha_bracket_of(one, 500), -1);
    CHECK_INT(tc_asha_on_add(one, -1, &err), -1);
    CHECK_INT(err.code, TC_ERR_VALUE);
    tc_asha_free(a);
    tc_asha_free(b);
    tc_asha_free(c);
    tc_asha_free(one);
}

static void test_debug_string(void)
{
    tc_error err;
    tc_buf b;
    tc_error_init(&err);
    tc_buf_init(&b);
    tc_asha *a = tc_asha_new(100, 1, 4, 2, 1, 0, &err);
    tc_asha_debug_string(a, &b);
    CHECK_STR(b.data, "Using AsyncHyperBand: num_stopped=0\n"
                      "Bracket: Iter 64.000: None | Iter 16.000: None | Iter 4.000: None | "
                      "Iter 1.000: None\n"
                      "Bracket: Iter 64.000: None | Iter 16.000: None | Iter 4.000: None");
    tc_asha_free(a);
    a = tc_asha_new(100, 1, 4, 1, 1, 0, &err);
    for (long t = 0; t < 4; t++)
        tc_asha_on_add(a, t, &err);
    tc_asha_on_result(a, 0, 1, 0.5, &err);
    tc_asha_on_result(a, 1, 1, 0.25, &err);      /* stopped */
    tc_asha_on_result(a, 2, 4, NAN, &err);
    tc_asha_on_result(a, 3, 100, 1, &err);       /* stopped at max_t */
    tc_buf_clear(&b);
    tc_asha_debug_string(a, &b);
    CHECK_STR(b.data, "Using AsyncHyperBand: num_stopped=2\n"
                      "Bracket: Iter 64.000: None | Iter 16.000: None | Iter 4.000: nan | "
                      "Iter 1.000: 0.4375");
    CHECK_INT(tc_asha_num_stopped(a), 2);
    tc_asha_free(a);
    tc_buf_free(&b);
}

int main(void)
{
    test_validation();
    test_rungs();
    test_scripts();
    test_cutoffs();
    test_brackets();
    test_debug_string();
    TEST_MAIN_END();
}
