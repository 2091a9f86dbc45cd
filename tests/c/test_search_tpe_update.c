/* test_search_tpe_update.c — the multivariate estimators are updated from
 * one suggestion to the next when a group only gained trials (build_jset in
 * search_tpe.c), and rebuilt otherwise; the univariate ones keep their
 * kernels and insert or remove those of the trials whose group changed
 * (ksets_sync), rebuilding when the clip, the prior or the end rule moved.
 * Whatever path a suggestion took, it must weigh exactly what a fresh
 * searcher given the same history weighs (whose estimators are built from
 * scratch): here one long-lived searcher and a fresh one per step are fed
 * the same trials (completions, failures, running trials under constant
 * liar, values on grids, categorical ones, a conditional parameter some
 * trials lack), both reseeded alike before suggesting, and their
 * candidates, densities and choices are compared. The univariate runs
 * also move the split: a small gamma_max makes a good new trial push one out
 * of "below", and without the magic clip the above group's kernels are kept
 * from the first suggestions on; so do three joint runs, where the trial
 * pushed out goes in among the above group's kernels. */
#include <stdlib.h>
#include "tc_test.h"
#include "search.h"

#define NP 6
#define STEPS 160

static const tc_tpe_param PARAMS[NP] = {
    {"u", TC_TPE_FLOAT, 0, 1, 0, 0, 0},      {"lu", TC_TPE_FLOAT, 1e-4, 1, 0, 1, 0},
    {"q", TC_TPE_FLOAT, -1, 1, 0.05, 0, 0},  {"i", TC_TPE_INT, 0, 40, 1, 0, 0},
    {"c", TC_TPE_CATEGORICAL, 0, 0, 0, 0, 4}, {"cond", TC_TPE_FLOAT, -2, 2, 0, 0, 0},
};

/* The same with "c" a float (its values stay whole numbers, so ties): a
 * joint group of continuous and grid parameters only, which the joint
 * estimator updates without re-summing every kernel's bound. */
static const tc_tpe_param PARAMS_F[NP] = {
    {"u", TC_TPE_FLOAT, 0, 1, 0, 0, 0},      {"lu", TC_TPE_FLOAT, 1e-4, 1, 0, 1, 0},
    {"q", TC_TPE_FLOAT, -1, 1, 0.05, 0, 0},  {"i", TC_TPE_INT, 0, 40, 1, 0, 0},
    {"c", TC_TPE_FLOAT, 0, 3, 0, 0, 0},      {"cond", TC_TPE_FLOAT, -2, 2, 0, 0, 0},
};

/* How a run's searchers are configured. */
typedef struct setup {
    int liar, multivariate, magic_clip;
    long gamma_max;
    int c_float;            /* PARAMS_F rather than PARAMS */
} setup;

typedef struct event {
    int kind;               /* 0 observe, 1 add running, 2 complete, 3 fail */
    long trial;
    double v[NP], y;
} event;

static tc_tpe *fresh(const setup *su)
{
    tc_tpe_opts o;
    tc_error err;
    tc_tpe *t;
    tc_tpe_opts_default(&o);
    o.n_startup_trials = 5;
    o.constant_liar = su->liar;
    o.multivariate = su->multivariate;
    o.consider_magic_clip = su->magic_clip;
    o.gamma_max = su->gamma_max;
    tc_error_init(&err);
    t = tc_tpe_new(su->c_float ? PARAMS_F : PARAMS, NP, &o, &err);
    if (!t)
        fprintf(stderr, "tc_tpe_new: %s\n", err.text);
    return t;
}

static void apply(tc_tpe *t, const event *e, tc_error *err)
{
    if (e->kind == 0)
        tc_tpe_observe(t, e->v, e->y, err);
    else if (e->kind == 1)
        tc_tpe_add_running(t, e->v, err);
    else if (e->kind == 2)
        tc_tpe_complete(t, e->trial, e->y, err);
    else
        tc_tpe_fail(t, e->trial, err);
}

static void random_values(tc_rng *r, double *v)
{
    v[0] = tc_rng_uniform(r);
    v[1] = exp(log(1e-4) * tc_rng_uniform(r));
    v[2] = -1 + 0.05 * (double)tc_rng_below(r, 41);
    v[3] = (double)tc_rng_below(r, 41);
    v[4] = (double)tc_rng_below(r, 4);
    v[5] = v[4] == 1 ? NAN : 4 * tc_rng_uniform(r) - 2;   /* only where c != 1 */
}

static void compare_runs(const setup *su)
{
    static event ev[4 * STEPS];
    size_t nev = 0;
    long ntr = 0, running[8];
    int nrun = 0;
    tc_rng r;
    tc_error err;
    tc_tpe *kept = fresh(su);
    int joint_seen = 0;
    tc_rng_seed(&r, 7 + (uint64_t)su->liar + 2 * (uint64_t)su->gamma_max);
    tc_error_init(&err);
    for (int step = 0; step < STEPS; step++) {
        event *e = &ev[nev];
        double u = tc_rng_uniform(&r), out_k[NP], out_f[NP];
        tc_tpe *f;
        memset(e, 0, sizeof *e);
        if (u < 0.15 && nrun < 8) {                 /* a trial starts */
            e->kind = 1;
            random_values(&r, e->v);
            running[nrun++] = ntr++;
        } else if (u < 0.3 && nrun > 0) {           /* a running one ends */
            int at = (int)tc_rng_below(&r, (uint64_t)nrun);
            e->trial = running[at];
            running[at] = running[--nrun];
            e->kind = tc_rng_uniform(&r) < 0.3 ? 3 : 2;
            e->y = tc_rng_uniform(&r);
        } else {                                    /* a result comes in */
            e->kind = 0;
            random_values(&r, e->v);
            e->y = fabs(e->v[0] - 0.3) + fabs(e->v[2]) + 0.01 * e->v[3] + (e->v[4] == 2) +
                   (isnan(e->v[5]) ? 0.5 : fabs(e->v[5] - 1));
            ntr++;
        }
        apply(kept, e, &err);
        nev++;
        f = fresh(su);
        for (size_t i = 0; i < nev; i++)
            apply(f, &ev[i], &err);
        CHECK_INT(err.code, TC_OK);
        tc_tpe_reseed(kept, 1000 + (uint64_t)step);
        tc_tpe_reseed(f, 1000 + (uint64_t)step);
        CHECK_INT(tc_tpe_suggest(kept, out_k, &err), 0);
        CHECK_INT(tc_tpe_suggest(f, out_f, &err), 0);
        for (size_t p = 0; p < NP; p++) {
            const double *vk, *lk, *gk, *vf, *lf, *gf;
            long ck = -1, cf = -1, nk = tc_tpe_trace(kept, p, &vk, &lk, &gk, &ck),
                         nf = tc_tpe_trace(f, p, &vf, &lf, &gf, &cf);
            CHECK_INT(nk, nf);
            CHECK(out_k[p] == out_f[p]);
            joint_seen |= tc_tpe_in_joint_group(kept, p);
            for (long i = 0; i < nk; i++) {
                CHECK(vk[i] == vf[i]);
                CHECK_NEAR(lk[i], lf[i], 1e-12 * (1 + fabs(lf[i])));
                CHECK_NEAR(gk[i], gf[i], 1e-12 * (1 + fabs(gf[i])));
            }
            CHECK_INT(ck, cf);
        }
        tc_tpe_free(f);
    }
    CHECK(joint_seen == su->multivariate);
    /* the fresh searchers built every estimator from scratch; the kept one
     * updated its univariate ones in place (the joint group's parameters
     * other than the conditional one have none) */
    if (!su->multivariate)
        CHECK(tc_tpe_kernel_updates(kept) > STEPS);
    tc_tpe_free(kept);
}

/* Without startup trials the first suggestions come from the priors
 * alone, before any trial exists (the estimators' tables included). */
static void no_history(void)
{
    tc_tpe_opts o;
    tc_error err;
    double out[NP];
    tc_tpe *t;
    tc_tpe_opts_default(&o);
    o.n_startup_trials = 0;
    o.multivariate = 0;
    tc_error_init(&err);
    t = tc_tpe_new(PARAMS, NP, &o, &err);
    CHECK(t != NULL);
    CHECK_INT(tc_tpe_suggest(t, out, &err), 0);
    CHECK_INT(tc_tpe_suggest(t, out, &err), 0);
    CHECK(out[0] >= 0 && out[0] <= 1);
    tc_tpe_free(t);
}

int main(void)
{
    no_history();
    static const setup runs[] = {
        {0, 1, 1, 25}, {1, 1, 1, 25},                   /* the joint model */
        {0, 0, 1, 25}, {1, 0, 1, 25},                   /* univariate, Optuna's split */
        {0, 0, 0, 25}, {1, 0, 0, 4}, {0, 0, 1, 3},      /* kept from the start; split moving */
        /* the joint model with the split moving: a trial pushed out of
         * "below" goes in among the above group's kernels (updated, not
         * rebuilt), with and without a categorical factor */
        {0, 1, 1, 3, 0}, {1, 1, 1, 4, 1}, {0, 1, 1, 3, 1},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++)
        compare_runs(&runs[i]);
    TEST_MAIN_END();
}
