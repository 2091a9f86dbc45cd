/* test_sched_median.c — the median stopping rule (spec §8.4): grace period,
 * min_samples_required and the time-sharing PAUSE with min_time_slice, the
 * median of the other trials' running means at the same time, Ray's
 * compare_op in both modes, hard_stop, NaN handling, errors, debug string. */
#include "tc_test.h"
#include "sched.h"

enum { C = TC_SCHED_CONTINUE, P = TC_SCHED_PAUSE, S = TC_SCHED_STOP, ERR = -1 };

/* op 'r': result (trial, time, metric, any_waiting) -> want; 'c': complete */
typedef struct ev { char op; long trial; double t, m; int waiting, want; } ev;

static const struct {
    const char *name;
    double grace;
    long min_samples;
    double slice;
    int hard_stop, mode_max;
    ev evs[16];
} scripts[] = {
    {"before the grace period: CONTINUE", 10, 0, 0, 1, 1,
     {{'r', 0, 9.9, -100, 1, C}}},
    {"too few samples and a trial waiting: yield", 0, 3, 0, 1, 1,
     {{'r', 0, 1, 1, 1, P}, {'r', 0, 2, 1, 0, C}, {'r', 0, 3, 1, 1, P}}},
    {"min_time_slice: yield again only after the slice", 0, 3, 2, 1, 1,
     {{'r', 0, 1, 1, 1, P}, {'r', 0, 2, 1, 1, C}, {'r', 0, 3, 1, 1, C}, {'r', 0, 3.5, 1, 1, P}}},
    {"best below the median stops", 0, 2, 0, 1, 1,
     {{'r', 0, 5, 10, 0, C}, {'r', 1, 5, 20, 0, C}, {'r', 2, 5, 14, 0, S},
      {'r', 3, 5, 15, 0, C}}},
    {"equal to the median continues", 0, 2, 0, 1, 1,
     {{'r', 0, 5, 10, 0, C}, {'r', 1, 5, 20, 0, C}, {'r', 2, 5, 15, 0, C}}},
    {"mode min: best above the median stops", 0, 2, 0, 1, 0,
     {{'r', 0, 5, 10, 0, C}, {'r', 1, 5, 20, 0, C}, {'r', 2, 5, 16, 0, S},
      {'r', 3, 5, 15, 0, C}}},
    {"the best result so far counts, not the last", 0, 2, 0, 1, 1,
     {{'r', 0, 5, 10, 0, C}, {'r', 0, 10, 10, 0, C}, {'r', 1, 5, 10, 0, C},
      {'r', 1, 10, 10, 0, C}, {'r', 2, 5, 50, 0, C}, {'r', 2, 6, 0, 0, C}}},
    /* others' means run over grace <= time <= t only */
    {"running means stop at the current time", 2, 1, 0, 1, 1,
     {{'r', 0, 1, 1000, 0, C}, {'r', 0, 2, 10, 0, C}, {'r', 0, 10, 1000, 0, C},
      {'r', 1, 2, 11, 0, C}, {'r', 2, 2, 9, 0, S}}},
    {"others must have reached the time", 0, 1, 0, 1, 1,
     {{'r', 0, 3, 100, 0, C}, {'r', 1, 5, 1, 1, P}, {'r', 1, 6, 1, 0, C}}},
    {"hard_stop=False pauses once, then FIFO", 0, 1, 0, 0, 1,
     {{'r', 0, 5, 10, 0, C}, {'r', 1, 5, 1, 0, P}, {'r', 1, 6, -50, 0, C},
      {'r', 1, 7, -60, 1, C}}},
    {"even count: mean of the two middle means", 0, 2, 0, 1, 1,
     {{'r', 0, 1, 1, 0, C}, {'r', 1, 1, 4, 0, C}, {'r', 2, 1, 2.4, 0, S},
      {'r', 3, 1, 2.5, 0, C}}},
    {"a NaN mean makes the median NaN: STOP", 0, 1, 0, 1, 1,
     {{'r', 0, 1, NAN, 0, C}, {'r', 1, 1, 100, 0, S}}},
    {"a NaN best: STOP", 0, 1, 0, 1, 1,
     {{'r', 0, 1, 5, 0, C}, {'r', 1, 1, NAN, 0, S}}},
    {"min_samples 0 and nobody else: the median of nothing is NaN", 0, 0, 0, 1, 1,
     {{'r', 0, 1, 5, 0, S}}},
    {"an empty running mean is NaN", 5, 1, 0, 1, 1,
     {{'r', 0, 1, 5, 0, C}, {'r', 0, 20, 5, 0, C}, {'r', 1, 10, 1, 0, S}}},
    {"complete adds to the history others are measured against", 0, 1, 0, 1, 1,
     {{'c', 0, 5, 10, 0, 0}, {'r', 1, 5, 9, 0, S}}},
    {"a NaN time is an error", 0, 1, 0, 1, 1,
     {{'r', 0, NAN, 1, 0, ERR}, {'r', -1, 1, 1, 0, ERR}}},
};

static void test_scripts(void)
{
    for (size_t i = 0; i < sizeof scripts / sizeof *scripts; i++) {
        tc_error err;
        tc_error_init(&err);
        tc_median *m = tc_median_new(scripts[i].grace, scripts[i].min_samples, scripts[i].slice,
                                     scripts[i].hard_stop, scripts[i].mode_max, &err);
        CHECK(m != NULL);
        for (int k = 0; m && k < 16 && scripts[i].evs[k].op; k++) {
            const ev *e = &scripts[i].evs[k];
            int got;
            tc_error_init(&err);
            if (e->op == 'r')
                got = tc_median_on_result(m, e->trial, e->t, e->m, e->waiting, &err);
            else
                got = tc_median_on_complete(m, e->trial, e->t, e->m, &err);
            if (got != e->want)
                fprintf(stderr, "script \"%s\", event %d:\n", scripts[i].name, k);
            CHECK_INT(got, e->want);
            CHECK_INT(err.code != 0, e->want == ERR);
        }
        tc_median_free(m);
    }
}

static void test_misc(void)
{
    tc_error err;
    tc_buf b;
    tc_error_init(&err);
    tc_buf_init(&b);
    CHECK(tc_median_new(NAN, 3, 0, 1, 1, &err) == NULL);
    CHECK_STR(err.text, "grace_period must be a number, got nan");
    tc_error_init(&err);
    CHECK(tc_median_new(0, 3, NAN, 1, 1, &err) == NULL);
    CHECK_STR(err.text, "min_time_slice must be a number, got nan");
    tc_error_init(&err);
    tc_median *m = tc_median_new(0, 1, 0, 1, 1, &err);
    tc_median_on_result(m, 0, 1, 10, 0, &err);
    CHECK_INT(tc_median_on_result(m, 1, 1, 1, 0, &err), S);
    CHECK_INT(tc_median_on_result(m, 2, 1, 2, 0, &err), S);
    CHECK_INT(tc_median_num_stopped(m), 2);
    tc_median_debug_string(m, &b);
    CHECK_STR(b.data, "Using MedianStoppingRule: num_stopped=2.");
    tc_median_free(m);
    tc_buf_free(&b);
}

int main(void)
{
    test_scripts();
    test_misc();
    TEST_MAIN_END();
}
