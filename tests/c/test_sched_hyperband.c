/* test_sched_hyperband.c — the synchronous HyperBand core (spec §8.3, §17.9,
 * §18.26): bracket arithmetic, filling of brackets and bands, the pause at a
 * milestone, successive halving (good/bad, actions, decision, milestone
 * rules), finished brackets, removal, errors, choose_trial_to_run and the
 * debug string. A small fake runner provides the statuses. */
#include <stdlib.h>
#include "tc_test.h"
#include "sched.h"

enum { C = TC_SCHED_CONTINUE, P = TC_SCHED_PAUSE, S = TC_SCHED_STOP };

static int st[512], av[512];
static int view_status(void *ctx, long t) { (void)ctx; return st[t]; }
static int view_avail(void *ctx, long t) { (void)ctx; return av[t]; }
static const tc_sched_view VIEW = {NULL, view_status, view_avail};

static void reset_view(void)
{
    for (int i = 0; i < 512; i++) {
        st[i] = TC_SCHED_ST_PENDING;
        av[i] = 1;
    }
}

/* "S3 U6" for the actions, "" when none */
static const char *acts_str(const tc_sched_actions *a)
{
    static char buf[256];
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < a->n && n < sizeof buf - 16; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%c%ld", i ? " " : "",
                              a->v[i].kind == TC_SCHED_ACT_STOP ? 'S' : 'U', a->v[i].trial);
    return buf;
}

/* The runner applies a decision and the actions. */
static void apply(long trial, int decision, const tc_sched_actions *a)
{
    if (trial >= 0)
        st[trial] = decision == P ? TC_SCHED_ST_PAUSED
                  : decision == S ? TC_SCHED_ST_TERMINATED : TC_SCHED_ST_RUNNING;
    for (size_t i = 0; i < a->n; i++)
        st[a->v[i].trial] = a->v[i].kind == TC_SCHED_ACT_STOP ? TC_SCHED_ST_TERMINATED
                                                               : TC_SCHED_ST_PENDING;
}

/* {max_t, eta, s_max_1, n0(s)..., r0(s)...} */
static const struct { double max_t, eta; long s_max_1, n0[8], r0[8]; } arith_cases[] = {
    {81, 3, 5, {81, 34, 15, 8, 5}, {1, 3, 9, 27, 81}},         /* spec §18.26, by s desc */
    {1000, 10, 4, {1000, 134, 20, 4}, {1, 10, 100, 1000}},
    {100, 3, 5, {81, 34, 15, 8, 5}, {1, 3, 11, 33, 100}},
    {9, 3, 3, {9, 5, 3}, {1, 3, 9}},
    {2, 3, 2, {3, 2}, {0, 2}},                                  /* r0(1) == 0: skipped */
    {1, 2, 1, {1}, {1}},
    {12.5, 1.5, 7, {12, 9, 8, 6, 6, 6, 7}, {1, 1, 2, 3, 5, 8, 12}},
};

static void test_arithmetic(void)
{
    for (size_t i = 0; i < sizeof arith_cases / sizeof *arith_cases; i++) {
        tc_error err;
        tc_error_init(&err);
        tc_hyperband *h = tc_hyperband_new(arith_cases[i].max_t, arith_cases[i].eta, 1, 1, &err);
        long m;
        CHECK(h != NULL);
        if (!h)
            continue;
        m = tc_hyperband_s_max_1(h);
        CHECK_INT(m, arith_cases[i].s_max_1);
        /* the table lists s from s_max_1 - 1 down to 0, as the spec pairs them */
        for (long k = 0; k < m && k < 8; k++) {
            CHECK_INT(tc_hyperband_n0(h, m - 1 - k), arith_cases[i].n0[k]);
            CHECK_INT(tc_hyperband_r0(h, m - 1 - k), arith_cases[i].r0[k]);
        }
        tc_hyperband_free(h);
    }
}

static const struct { double max_t, eta; int code; const char *text; } validate_cases[] = {
    {81, 3, 0, NULL},
    {1, 1.01, 0, NULL},
    {0, 3, TC_ERR_VALUE, "max_t must be a finite number >= 1, got 0"},
    {0.5, 3, TC_ERR_VALUE, "max_t must be a finite number >= 1, got 0.5"},
    {NAN, 3, TC_ERR_VALUE, "max_t must be"},
    {INFINITY, 3, TC_ERR_VALUE, "max_t must be"},
    {81, 1, TC_ERR_VALUE, "reduction_factor must be a finite number > 1, got 1"},
    {81, 0.5, TC_ERR_VALUE, "reduction_factor must be"},
    {81, NAN, TC_ERR_VALUE, "reduction_factor must be"},
    {1e9, 1.001, TC_ERR_VALUE, "reduction_factor 1.001 is too close to 1"},
};

static void test_validation(void)
{
    for (size_t i = 0; i < sizeof validate_cases / sizeof *validate_cases; i++) {
        tc_error err;
        tc_error_init(&err);
        tc_hyperband *h = tc_hyperband_new(validate_cases[i].max_t, validate_cases[i].eta, 1, 1,
                                           &err);
        CHECK_INT(err.code, validate_cases[i].code);
        CHECK_INT(h == NULL, validate_cases[i].code != 0);
        if (validate_cases[i].text &&
            strncmp(err.text, validate_cases[i].text, strlen(validate_cases[i].text)) != 0)
            CHECK_STR(err.text, validate_cases[i].text);
        tc_hyperband_free(h);
    }
}

/* {max_t, eta, trial index (trials 0..index added in order), band, s} */
static const struct { double max_t, eta; long trial, band, s; } fill_cases[] = {
    {81, 3, 0, 0, 0}, {81, 3, 4, 0, 0}, {81, 3, 5, 0, 1}, {81, 3, 12, 0, 1},
    {81, 3, 13, 0, 2}, {81, 3, 27, 0, 2}, {81, 3, 28, 0, 3}, {81, 3, 61, 0, 3},
    {81, 3, 62, 0, 4}, {81, 3, 142, 0, 4}, {81, 3, 143, 1, 0}, {81, 3, 148, 1, 1},
    {2, 3, 0, 0, 0}, {2, 3, 1, 0, 0}, {2, 3, 2, 1, 0}, {2, 3, 4, 2, 0},
};

static void test_filling(void)
{
    tc_error err;
    tc_hyperband_info info;
    tc_sched_actions acts;
    tc_sched_actions_init(&acts);
    for (size_t i = 0; i < sizeof fill_cases / sizeof *fill_cases; i++) {
        tc_error_init(&err);
        tc_hyperband *h = tc_hyperband_new(fill_cases[i].max_t, fill_cases[i].eta, 1, 1, &err);
        for (long t = 0; t <= fill_cases[i].trial; t++)
            CHECK_INT(tc_hyperband_on_add(h, t, &err), 0);
        CHECK_INT(tc_hyperband_info_of(h, fill_cases[i].trial, &info), 0);
        CHECK_INT(info.band, fill_cases[i].band);
        CHECK_INT(info.s, fill_cases[i].s);
        tc_hyperband_free(h);
    }
    /* a skipped bracket still counts as a bracket (Ray's None entry) */
    tc_error_init(&err);
    tc_hyperband *h = tc_hyperband_new(2, 3, 1, 1, &err);
    for (long t = 0; t < 3; t++)
        tc_hyperband_on_add(h, t, &err);
    CHECK_INT(tc_hyperband_total_brackets(h), 3);
    CHECK_INT(tc_hyperband_on_add(h, 1, &err), -1);                 /* twice */
    CHECK_INT(err.code, TC_ERR_VALUE);
    tc_hyperband_free(h);
    /* filled() compares the live count: a removal reopens the bracket */
    reset_view();
    tc_error_init(&err);
    h = tc_hyperband_new(81, 3, 1, 1, &err);
    for (long t = 0; t < 5; t++)
        tc_hyperband_on_add(h, t, &err);
    st[0] = TC_SCHED_ST_TERMINATED;
    CHECK_INT(tc_hyperband_on_remove(h, 0, &VIEW, &acts, &err), 0);
    CHECK_INT(tc_hyperband_on_add(h, 5, &err), 0);
    CHECK_INT(tc_hyperband_info_of(h, 5, &info), 0);
    CHECK_INT(info.s, 0);
    CHECK_INT(info.live, 5);
    tc_hyperband_free(h);
    tc_sched_actions_free(&acts);
}

/* Bracket s=1 of max_t=9, eta=3 holds trials 3..7 (n0 = 5, r0 = 3, one
 * halving). Trials 3..6 reach t=3 and pause; trial 7's result halves:
 * n = ceil(5/3) = 2 go on, r = int(min(3*3, 9-3)) = 6. */
static const struct {
    const char *name;
    int mode_max, accumulate;
    double m[5];          /* metrics of trials 3..7 */
    int want;             /* decision for trial 7 */
    const char *acts;
    double cumul_r;
} halving_cases[] = {
    {"max: the best two go on", 1, 1, {1, 2, 3, 4, 5}, C, "S3 S4 S5 U6", 9},
    {"1.x milestone rule", 1, 0, {1, 2, 3, 4, 5}, C, "S3 S4 S5 U6", 6},
    {"min: the reporter is bad", 0, 1, {1, 2, 3, 4, 5}, S, "S6 S5 U4 U3", 9},
    {"NaN ranks lowest", 1, 1, {NAN, 5, 1, 2, 3}, C, "S3 S5 S6 U4", 9},
    {"NaN ranks lowest in min mode too", 0, 1, {1, 2, NAN, 4, 5}, S, "S5 S6 U4 U3", 9},
    {"ties keep the add order", 1, 1, {2, 2, 2, 2, 2}, C, "S3 S4 S5 U6", 9},
    {"the best two, wherever they are", 1, 1, {8, 1, 1, 1, 9}, C, "S4 S5 S6 U3", 9},
};

static tc_hyperband *halving_setup(int mode_max, int accumulate, const double *m,
                                   tc_sched_actions *acts, tc_error *err)
{
    tc_hyperband *h = tc_hyperband_new(9, 3, mode_max, accumulate, err);
    reset_view();
    for (long t = 0; t < 8; t++)
        tc_hyperband_on_add(h, t, err);
    for (long t = 3; t < 8; t++)
        st[t] = TC_SCHED_ST_RUNNING;
    for (long t = 3; t < 7; t++) {
        int d = tc_hyperband_on_result(h, t, 1, m[t - 3], &VIEW, acts, err);
        CHECK_INT(d, C);                                    /* below the milestone */
        d = tc_hyperband_on_result(h, t, 3, m[t - 3], &VIEW, acts, err);
        CHECK_INT(d, P);                                    /* waits for the rest */
        CHECK_STR(acts_str(acts), "");
        apply(t, d, acts);
    }
    return h;
}

static void test_halving(void)
{
    tc_sched_actions acts;
    tc_hyperband_info info;
    tc_sched_actions_init(&acts);
    for (size_t i = 0; i < sizeof halving_cases / sizeof *halving_cases; i++) {
        tc_error err;
        int d;
        tc_error_init(&err);
        tc_hyperband *h = halving_setup(halving_cases[i].mode_max, halving_cases[i].accumulate,
                                        halving_cases[i].m, &acts, &err);
        d = tc_hyperband_on_result(h, 7, 3, halving_cases[i].m[4], &VIEW, &acts, &err);
        if (d != halving_cases[i].want || strcmp(acts_str(&acts), halving_cases[i].acts))
            fprintf(stderr, "halving case \"%s\"\n", halving_cases[i].name);
        CHECK_INT(d, halving_cases[i].want);
        CHECK_STR(acts_str(&acts), halving_cases[i].acts);
        CHECK_INT(tc_hyperband_info_of(h, 3, &info), 0);
        CHECK_NEAR(info.cumul_r, halving_cases[i].cumul_r, 0);
        CHECK_INT(info.n, 2);
        CHECK_NEAR(info.r, 6, 0);
        CHECK_INT(tc_hyperband_num_stopped(h), 3);
        tc_hyperband_free(h);
    }
    tc_sched_actions_free(&acts);
}

/* After the halving the bracket runs to max_t and finishes: the first to
 * arrive pauses, the last stops every paused trial and gets STOP. */
static void test_finish(void)
{
    tc_error err;
    tc_sched_actions acts;
    const double m[5] = {1, 2, 3, 4, 5};
    int d;
    tc_error_init(&err);
    tc_sched_actions_init(&acts);
    tc_hyperband *h = halving_setup(1, 1, m, &acts, &err);
    d = tc_hyperband_on_result(h, 7, 3, 5, &VIEW, &acts, &err);
    apply(7, d, &acts);
    CHECK_INT(st[6], TC_SCHED_ST_PENDING);
    CHECK_INT(tc_hyperband_choose(h, &VIEW), 0);    /* bracket s=0 (trials 0-2) has 0% */
    st[0] = st[1] = st[2] = TC_SCHED_ST_RUNNING;
    CHECK_INT(tc_hyperband_choose(h, &VIEW), 6);
    d = tc_hyperband_on_result(h, 7, 9, 5, &VIEW, &acts, &err);
    CHECK_INT(d, P);                                 /* trial 6 is still at 3 */
    apply(7, d, &acts);
    st[6] = TC_SCHED_ST_RUNNING;
    d = tc_hyperband_on_result(h, 6, 8, 4, &VIEW, &acts, &err);
    CHECK_INT(d, C);
    d = tc_hyperband_on_result(h, 6, 9, 4, &VIEW, &acts, &err);
    CHECK_INT(d, S);
    CHECK_STR(acts_str(&acts), "S7");
    /* the bracket s=0 (r0 = max_t = 9, no halving) finishes the same way */
    for (long t = 0; t < 2; t++) {
        d = tc_hyperband_on_result(h, t, 9, (double)t, &VIEW, &acts, &err);
        CHECK_INT(d, P);
        apply(t, d, &acts);
    }
    d = tc_hyperband_on_result(h, 2, 9.5, 2, &VIEW, &acts, &err);
    CHECK_INT(d, S);
    CHECK_STR(acts_str(&acts), "S0 S1");
    CHECK_INT(err.code, 0);
    tc_hyperband_free(h);
    tc_sched_actions_free(&acts);
}

/* stop_last_trials=False (Ray 1.x): the halving before the last rung is the
 * same, but a bracket past its last halving never finishes: its trials
 * CONTINUE at and past max_t and none is stopped or paused. */
static void test_keep_last(void)
{
    tc_error err;
    tc_sched_actions acts;
    const double m[5] = {1, 2, 3, 4, 5};
    int d;
    tc_error_init(&err);
    tc_sched_actions_init(&acts);
    tc_hyperband *h = halving_setup(1, 1, m, &acts, &err);
    tc_hyperband_set_keep_last(h, 1);
    d = tc_hyperband_on_result(h, 7, 3, 5, &VIEW, &acts, &err);
    CHECK_INT(d, C);
    CHECK_STR(acts_str(&acts), "S3 S4 S5 U6");         /* the halving itself is unchanged */
    apply(7, d, &acts);
    st[6] = TC_SCHED_ST_RUNNING;
    d = tc_hyperband_on_result(h, 7, 9, 5, &VIEW, &acts, &err);
    CHECK_INT(d, C);                                   /* not PAUSE: trial 6 is still at 3 */
    d = tc_hyperband_on_result(h, 7, 12, 5, &VIEW, &acts, &err);
    CHECK_INT(d, C);                                   /* past max_t = 9 */
    d = tc_hyperband_on_result(h, 6, 9, 4, &VIEW, &acts, &err);
    CHECK_INT(d, C);                                   /* not STOP at max_t */
    CHECK_STR(acts_str(&acts), "");
    /* trial 7 ends on its own: nothing to halve, trial 6 runs on */
    st[7] = TC_SCHED_ST_TERMINATED;
    CHECK_INT(tc_hyperband_on_remove(h, 7, &VIEW, &acts, &err), 0);
    CHECK_STR(acts_str(&acts), "");
    /* the bracket s=0 (r0 = max_t, no halving at all) runs on too */
    st[0] = st[1] = st[2] = TC_SCHED_ST_RUNNING;
    for (long t = 0; t < 3; t++) {
        d = tc_hyperband_on_result(h, t, 9, (double)t, &VIEW, &acts, &err);
        CHECK_INT(d, C);
        d = tc_hyperband_on_result(h, t, 10, (double)t, &VIEW, &acts, &err);
        CHECK_INT(d, C);
        CHECK_STR(acts_str(&acts), "");
    }
    CHECK_INT(tc_hyperband_num_stopped(h), 3);
    CHECK_INT(err.code, 0);
    tc_hyperband_free(h);
    tc_sched_actions_free(&acts);
}

/* A trial that ends while the others wait at the milestone triggers the
 * halving of the rest (on_trial_complete / error / remove). */
static void test_remove_halves(void)
{
    tc_error err;
    tc_sched_actions acts;
    const double m[5] = {4, 3, 2, 1, 0};
    tc_error_init(&err);
    tc_sched_actions_init(&acts);
    tc_hyperband *h = halving_setup(1, 1, m, &acts, &err);
    st[7] = TC_SCHED_ST_ERROR;
    CHECK_INT(tc_hyperband_on_remove(h, 7, &VIEW, &acts, &err), 0);
    /* four live trials, n = 2: 5 and 6 are bad (lowest), 3 and 4 go on */
    CHECK_STR(acts_str(&acts), "S6 S5 U4 U3");
    CHECK_INT(tc_hyperband_num_stopped(h), 2);
    tc_hyperband_free(h);
    tc_sched_actions_free(&acts);
}

static void test_errors(void)
{
    tc_error err;
    tc_sched_actions acts;
    const double m[5] = {1, 2, 3, 4, 5};
    tc_sched_actions_init(&acts);
    tc_error_init(&err);
    tc_hyperband *h = tc_hyperband_new(81, 3, 1, 1, &err);
    reset_view();
    tc_hyperband_on_add(h, 0, &err);
    tc_hyperband_on_add(h, 1, &err);
    CHECK_INT(tc_hyperband_on_result(h, 0, -1, 1, &VIEW, &acts, &err), -1);
    CHECK_STR(err.text, "the time attribute of trial 0 must be a number >= 0, got -1");
    tc_error_init(&err);
    CHECK_INT(tc_hyperband_on_result(h, 0, NAN, 1, &VIEW, &acts, &err), -1);
    CHECK_INT(err.code, TC_ERR_VALUE);
    tc_error_init(&err);
    CHECK_INT(tc_hyperband_on_result(h, 9, 1, 1, &VIEW, &acts, &err), -1);
    CHECK_STR(err.text, "trial 9 was not added to HyperBand");
    tc_error_init(&err);
    CHECK_INT(tc_hyperband_on_remove(h, 9, &VIEW, &acts, &err), -1);
    CHECK_INT(err.code, TC_ERR_VALUE);
    tc_error_init(&err);
    CHECK_INT(tc_hyperband_on_remove(h, 1, &VIEW, &acts, &err), 0);
    CHECK_INT(tc_hyperband_on_result(h, 1, 1, 1, &VIEW, &acts, &err), -1);
    CHECK_STR(err.text, "trial 1 is no longer live in its HyperBand bracket");
    /* a time that goes back is accepted (a restore from an older checkpoint) */
    tc_error_init(&err);
    CHECK_INT(tc_hyperband_on_result(h, 0, 5, 1, &VIEW, &acts, &err), C);
    CHECK_INT(tc_hyperband_on_result(h, 0, 2, 1, &VIEW, &acts, &err), C);
    tc_hyperband_free(h);
    /* a bad trial the runner did not pause is Ray's TuneError */
    tc_error_init(&err);
    h = halving_setup(1, 1, m, &acts, &err);
    st[3] = TC_SCHED_ST_PENDING;
    CHECK_INT(tc_hyperband_on_result(h, 7, 3, 5, &VIEW, &acts, &err), -1);
    CHECK_INT(err.code, TC_ERR_TUNE);
    CHECK(strncmp(err.text, "Trial with unexpected status encountered", 40) == 0);
    tc_hyperband_free(h);
    tc_sched_actions_free(&acts);
}

static void test_choose_and_debug(void)
{
    tc_error err;
    tc_sched_actions acts;
    tc_buf b;
    tc_error_init(&err);
    tc_sched_actions_init(&acts);
    tc_buf_init(&b);
    reset_view();
    tc_hyperband *h = tc_hyperband_new(81, 3, 1, 1, &err);
    CHECK_INT(tc_hyperband_choose(h, &VIEW), -1);
    tc_hyperband_debug_string(h, &VIEW, &b);
    CHECK_STR(b.data, "Using HyperBand: num_stopped=0 total_brackets=0\nRound #0:");
    for (long t = 0; t < 13; t++)
        tc_hyperband_on_add(h, t, &err);
    CHECK_INT(tc_hyperband_choose(h, &VIEW), 0);     /* equal completion: band order */
    st[0] = TC_SCHED_ST_RUNNING;
    CHECK_INT(tc_hyperband_choose(h, &VIEW), 1);
    CHECK_INT(tc_hyperband_on_result(h, 0, 10, 1, &VIEW, &acts, &err), C);
    CHECK_INT(tc_hyperband_choose(h, &VIEW), 5);     /* s=1 is now less complete */
    av[5] = 0;
    CHECK_INT(tc_hyperband_choose(h, &VIEW), 6);
    for (long t = 5; t < 13; t++)
        av[t] = 0;
    CHECK_INT(tc_hyperband_choose(h, &VIEW), 1);
    tc_hyperband_free(h);

    reset_view();
    h = tc_hyperband_new(9, 3, 1, 1, &err);
    for (long t = 0; t < 4; t++)
        tc_hyperband_on_add(h, t, &err);
    st[0] = TC_SCHED_ST_RUNNING;
    st[2] = TC_SCHED_ST_PAUSED;
    CHECK_INT(tc_hyperband_on_result(h, 0, 3, 1, &VIEW, &acts, &err), C);
    tc_buf_clear(&b);
    tc_hyperband_debug_string(h, &VIEW, &b);
    CHECK_STR(b.data, "Using HyperBand: num_stopped=0 total_brackets=2\nRound #0:\n"
                      "  Bracket(Max Size (n)=3, Milestone (r)=9, completed=11.1%): "
                      "{PAUSED: 1, PENDING: 1, RUNNING: 1} \n"
                      "  Bracket(Max Size (n)=5, Milestone (r)=3, completed=0.0%): "
                      "{PENDING: 1} ");
    tc_hyperband_free(h);
    tc_sched_actions_free(&acts);
    tc_buf_free(&b);
}

int main(void)
{
    test_arithmetic();
    test_validation();
    test_filling();
    test_halving();
    test_finish();
    test_keep_last();
    test_remove_halves();
    test_errors();
    test_choose_and_debug();
    TEST_MAIN_END();
}
