/* test_sched_hb_bohb.c — HyperBandForBOHB's rules in the HyperBand core
 * (Ray's hb_bohb.py): the largest bracket is filled first; a trial at its
 * milestone pauses while its bracket is not full or another trial of it
 * still runs; choose_trial_to_run processes waiting brackets only when no
 * trial runs. max_t = 3, eta = 3: two brackets per band, s = 1 (n0 = 3,
 * r0 = 1) and s = 0 (n0 = 2, r0 = 3). Mode max. */
#include <stdlib.h>
#include "tc_test.h"
#include "sched.h"

enum { C = TC_SCHED_CONTINUE, P = TC_SCHED_PAUSE, S = TC_SCHED_STOP };

static int st[64];
static int view_status(void *ctx, long t) { (void)ctx; return st[t]; }
static int view_avail(void *ctx, long t) { (void)ctx; return 1; }
static const tc_sched_view VIEW = {NULL, view_status, view_avail};

static tc_hyperband *bohb_new(tc_error *err)
{
    tc_hyperband *h = tc_hyperband_new(3, 3, 1, 1, err);
    tc_hyperband_set_bohb(h, 1);
    for (int i = 0; i < 64; i++)
        st[i] = TC_SCHED_ST_PENDING;
    return h;
}

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

static long bracket_s(const tc_hyperband *h, long trial)
{
    tc_hyperband_info info;
    return tc_hyperband_info_of(h, trial, &info) == 0 ? info.s * 100 + info.band : -1;
}

static void test_largest_bracket_first(void)
{
    tc_error err;
    tc_error_init(&err);
    tc_hyperband *h = bohb_new(&err);
    for (long t = 0; t < 6; t++)
        CHECK_INT(tc_hyperband_on_add(h, t, &err), 0);
    /* trials 0-2: s=1 of band 0; 3-4: s=0; 5: s=1 of band 1 (plain
     * HyperBand fills s=0 first) */
    CHECK_INT(bracket_s(h, 0), 100);
    CHECK_INT(bracket_s(h, 2), 100);
    CHECK_INT(bracket_s(h, 3), 0);
    CHECK_INT(bracket_s(h, 4), 0);
    CHECK_INT(bracket_s(h, 5), 101);
    CHECK_INT(err.code, 0);
    tc_hyperband_free(h);
}

/* Paused while the bracket is not full, though every live trial of it is at
 * the milestone (plain HyperBand halves there); halved when the last one
 * arrives with all others paused. */
static void test_pause_until_full(void)
{
    tc_error err;
    tc_sched_actions acts;
    tc_error_init(&err);
    tc_sched_actions_init(&acts);
    tc_hyperband *h = bohb_new(&err);
    tc_hyperband_on_add(h, 0, &err);
    tc_hyperband_on_add(h, 1, &err);
    st[0] = st[1] = TC_SCHED_ST_RUNNING;
    CHECK_INT(tc_hyperband_on_result(h, 0, 1, 5, &VIEW, &acts, &err), P);
    st[0] = TC_SCHED_ST_PAUSED;
    CHECK_INT(tc_hyperband_on_result(h, 1, 1, 7, &VIEW, &acts, &err), P);
    CHECK_STR(acts_str(&acts), "");
    st[1] = TC_SCHED_ST_PAUSED;
    tc_hyperband_on_add(h, 2, &err);               /* fills the bracket */
    st[2] = TC_SCHED_ST_RUNNING;
    CHECK_INT(tc_hyperband_on_result(h, 2, 0.5, 9, &VIEW, &acts, &err), C);
    /* full, all others paused: halved to ceil(3/3) = 1, trial 2 (best) goes on */
    CHECK_INT(tc_hyperband_on_result(h, 2, 1, 9, &VIEW, &acts, &err), C);
    CHECK_STR(acts_str(&acts), "S0 S1");
    CHECK_INT(err.code, 0);
    tc_hyperband_free(h);
    tc_sched_actions_free(&acts);
}

/* choose: nothing pending and something running: wait (-1, no action);
 * nothing running: the waiting bracket is halved as it stands. */
static void test_choose_processes_when_idle(void)
{
    tc_error err;
    tc_sched_actions acts;
    tc_error_init(&err);
    tc_sched_actions_init(&acts);
    tc_hyperband *h = bohb_new(&err);
    tc_hyperband_on_add(h, 0, &err);
    tc_hyperband_on_add(h, 1, &err);
    CHECK_INT(tc_hyperband_choose_bohb(h, &VIEW, &acts, &err), 0);   /* first PENDING */
    st[0] = st[1] = TC_SCHED_ST_RUNNING;
    CHECK_INT(tc_hyperband_on_result(h, 0, 1, 2, &VIEW, &acts, &err), P);
    st[0] = TC_SCHED_ST_PAUSED;
    CHECK_INT(tc_hyperband_choose_bohb(h, &VIEW, &acts, &err), -1);  /* 1 runs */
    CHECK_STR(acts_str(&acts), "");
    CHECK_INT(tc_hyperband_on_result(h, 1, 1, 7, &VIEW, &acts, &err), P);
    st[1] = TC_SCHED_ST_PAUSED;
    CHECK_INT(tc_hyperband_choose_bohb(h, &VIEW, &acts, &err), 1);
    CHECK_STR(acts_str(&acts), "S0 U1");
    tc_hyperband_info info;
    tc_hyperband_info_of(h, 1, &info);
    CHECK_NEAR(info.cumul_r, 3, 0);                /* next milestone: 1 + min(3, 3 - 1) */
    CHECK_INT(err.code, 0);
    tc_hyperband_free(h);
    tc_sched_actions_free(&acts);
}

int main(void)
{
    test_largest_bracket_first();
    test_pause_until_full();
    test_choose_processes_when_idle();
    TEST_MAIN_END();
}
