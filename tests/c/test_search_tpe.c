/* test_search_tpe.c — the TPE core (search.h): argument checks, startup
 * sampling over every domain kind, seeded reproducibility, the trial
 * lifecycle, constant liar, conditional parameters, the multivariate group,
 * and that it optimises (a deterministic run with a fixed seed). The
 * densities themselves are checked against the Python reference by
 * tests/test_tpe_reference.py. */
#include <stdlib.h>
#include "tc_test.h"
#include "search.h"

static tc_tpe *make(const tc_tpe_param *p, size_t n, int startup, uint64_t seed, int multi,
                    int liar)
{
    tc_tpe_opts o;
    tc_error err;
    tc_tpe *t;
    tc_tpe_opts_default(&o);
    o.n_startup_trials = startup;
    o.seed = seed;
    o.multivariate = multi;
    o.constant_liar = liar;
    tc_error_init(&err);
    t = tc_tpe_new(p, n, &o, &err);
    if (!t)
        fprintf(stderr, "tc_tpe_new: %s\n", err.text);
    return t;
}

static void test_bad_arguments(void)
{
    tc_error err;
    tc_tpe_opts o;
    tc_tpe_param logp = {"lr", TC_TPE_FLOAT, 0.0, 1.0, 0, 1, 0};
    tc_tpe_param intp = {"layers", TC_TPE_INT, 1, 8, 0.5, 0, 0};
    tc_tpe_param catp = {"opt", TC_TPE_CATEGORICAL, 0, 0, 0, 0, 0};
    tc_tpe_param inv = {"x", TC_TPE_FLOAT, 2.0, 1.0, 0, 0, 0};
    tc_tpe_param ok = {"x", TC_TPE_FLOAT, 0.0, 1.0, 0, 0, 0};
    tc_error_init(&err);
    CHECK(!tc_tpe_new(&logp, 1, NULL, &err));
    CHECK(err.code == TC_ERR_VALUE && strstr(err.text, "lr"));
    tc_error_init(&err);
    CHECK(!tc_tpe_new(&intp, 1, NULL, &err));
    CHECK(strstr(err.text, "layers") != NULL);
    tc_error_init(&err);
    CHECK(!tc_tpe_new(&catp, 1, NULL, &err));
    CHECK(strstr(err.text, "opt") != NULL);
    tc_error_init(&err);
    CHECK(!tc_tpe_new(&inv, 1, NULL, &err));
    CHECK(strstr(err.text, "low <= high") != NULL);
    tc_error_init(&err);
    CHECK(!tc_tpe_new(&ok, 0, NULL, &err));
    tc_tpe_opts_default(&o);
    CHECK_INT(o.multivariate, 1);       /* Optuna 5's default model */
    CHECK_INT(o.n_ei_candidates, 24);
    o.n_ei_candidates = 0;
    tc_error_init(&err);
    CHECK(!tc_tpe_new(&ok, 1, &o, &err));
    CHECK(strstr(err.text, "n_ei_candidates") != NULL);
}

/* Every kind of domain, with the grid high bound adjusted. */
static const tc_tpe_param SPACE[] = {
    {"u", TC_TPE_FLOAT, -5, 10, 0, 0, 0},
    {"lu", TC_TPE_FLOAT, 1e-4, 1, 0, 1, 0},
    {"q", TC_TPE_FLOAT, 0, 2.1, 0.25, 0, 0},     /* grid up to 2.0 */
    {"qlu", TC_TPE_FLOAT, 0.5, 64, 0.5, 1, 0},
    {"i", TC_TPE_INT, -20, 20, 4, 0, 0},
    {"li", TC_TPE_INT, 1, 1024, 1, 1, 0},
    {"c", TC_TPE_CATEGORICAL, 0, 0, 0, 0, 5},
    {"k", TC_TPE_FLOAT, 3, 3, 0, 0, 0},
};
#define NSPACE (sizeof SPACE / sizeof SPACE[0])

static int in_domain(const tc_tpe_param *p, double v)
{
    if (p->kind == TC_TPE_CATEGORICAL)
        return v == floor(v) && v >= 0 && v < p->n_choices;
    if (v < p->low || v > p->high)
        return 0;
    if (p->step > 0) {
        double k = (v - p->low) / p->step;
        return fabs(k - floor(k + 0.5)) < 1e-9;
    }
    return 1;
}

static void test_domains_and_reproducibility(void)
{
    tc_tpe *a = make(SPACE, NSPACE, 10, 42, 0, 0), *b = make(SPACE, NSPACE, 10, 42, 0, 0);
    tc_tpe *c = make(SPACE, NSPACE, 10, 43, 0, 0);
    tc_error err;
    double va[NSPACE], vb[NSPACE], vc[NSPACE];
    int differs = 0;
    tc_error_init(&err);
    CHECK_NEAR(tc_tpe_param_at(a, 2)->high, 2.0, 0);
    for (int round = 0; round < 40; round++) {
        int ok = 1;
        CHECK_INT(tc_tpe_suggest(a, va, &err), 0);
        CHECK_INT(tc_tpe_suggest(b, vb, &err), 0);
        CHECK_INT(tc_tpe_suggest(c, vc, &err), 0);
        CHECK_INT(tc_tpe_last_was_random(a), round < 10);
        for (size_t p = 0; p < NSPACE; p++) {
            ok &= in_domain(tc_tpe_param_at(a, p), va[p]);
            ok &= va[p] == vb[p];
            differs |= va[p] != vc[p];
        }
        CHECK(ok);
        CHECK_NEAR(va[7], 3.0, 0);
        /* a made-up objective so that TPE (rounds >= 10) has something to model */
        CHECK(tc_tpe_observe(a, va, va[0] * va[0] + va[6], &err) >= 0);
        CHECK(tc_tpe_observe(b, vb, vb[0] * vb[0] + vb[6], &err) >= 0);
        CHECK(tc_tpe_observe(c, vc, vc[0] * vc[0] + vc[6], &err) >= 0);
    }
    CHECK(differs);
    CHECK_INT(err.code, TC_OK);
    tc_tpe_free(a);
    tc_tpe_free(b);
    tc_tpe_free(c);
}

static void test_lifecycle(void)
{
    tc_tpe_param p = {"x", TC_TPE_FLOAT, 0, 1, 0, 0, 0};
    tc_tpe_param cat = {"c", TC_TPE_CATEGORICAL, 0, 0, 0, 0, 3};
    tc_tpe *t = make(&p, 1, 2, 1, 0, 0), *tc = make(&cat, 1, 2, 1, 0, 0);
    tc_error err;
    double v = 0.5, bad = 3;
    long a, b;
    tc_error_init(&err);
    a = tc_tpe_add_running(t, &v, &err);
    b = tc_tpe_add_running(t, &v, &err);
    CHECK_INT(a, 0);
    CHECK_INT(b, 1);
    CHECK_INT(tc_tpe_num_running(t), 2);
    CHECK_INT(tc_tpe_complete(t, a, 1.0, &err), 0);
    CHECK_INT(tc_tpe_complete(t, a, 1.0, &err), -1);          /* twice */
    CHECK(strstr(err.text, "already completed") != NULL);
    tc_error_init(&err);
    CHECK_INT(tc_tpe_fail(t, 9, &err), -1);                   /* unknown */
    tc_error_init(&err);
    CHECK_INT(tc_tpe_complete(t, b, NAN, &err), 0);           /* NaN: a failure */
    CHECK_INT(tc_tpe_num_complete(t), 1);
    CHECK_INT(tc_tpe_num_running(t), 0);
    CHECK_INT(tc_tpe_fail(t, b, &err), -1);
    tc_error_init(&err);
    CHECK_INT(tc_tpe_observe(tc, &bad, 1.0, &err), -1);       /* index out of range */
    CHECK(strstr(err.text, "parameter c") != NULL);
    tc_tpe_free(t);
    tc_tpe_free(tc);
}

/* A 1-D quadratic with its minimum at 0.3: TPE (after 10 random trials)
 * gets much closer than the random start, and under mode_max the negated
 * objective gives the same run. */
static double run_quadratic(int mode_max, double *first10)
{
    tc_tpe_param p = {"x", TC_TPE_FLOAT, -5, 5, 0, 0, 0};
    tc_tpe_opts o;
    tc_error err;
    tc_tpe *t;
    double best = INFINITY;
    tc_tpe_opts_default(&o);
    o.seed = 7;
    o.mode_max = mode_max;
    tc_error_init(&err);
    t = tc_tpe_new(&p, 1, &o, &err);
    for (int i = 0; i < 80; i++) {
        double x, y;
        tc_tpe_suggest(t, &x, &err);
        y = (x - 0.3) * (x - 0.3);
        tc_tpe_observe(t, &x, mode_max ? -y : y, &err);
        best = fmin(best, y);
        if (i == 9)
            *first10 = best;
    }
    CHECK_INT(err.code, TC_OK);
    tc_tpe_free(t);
    return best;
}

static void test_optimises(void)
{
    double r10, r10m, best = run_quadratic(0, &r10), best_max = run_quadratic(1, &r10m);
    CHECK(best < 1e-3);
    CHECK(best < r10 / 10);
    CHECK_NEAR(best_max, best, 0);
}

/* Constant liar puts running trials in "above": g(x) changes, l(x) does not. */
static void test_constant_liar(void)
{
    tc_tpe_param p = {"x", TC_TPE_FLOAT, 0, 1, 0, 0, 0};
    tc_tpe *with = make(&p, 1, 5, 3, 0, 1), *without = make(&p, 1, 5, 3, 0, 0);
    tc_error err;
    const double *vw, *lw, *gw, *vo, *lo, *go;
    double out;
    long ch;
    tc_error_init(&err);
    for (int i = 0; i < 12; i++) {
        double x = (i + 0.5) / 12, y = fabs(x - 0.25);
        tc_tpe_observe(with, &x, y, &err);
        tc_tpe_observe(without, &x, y, &err);
    }
    for (int i = 0; i < 5; i++) {
        double x = 0.25 + 0.01 * i;
        tc_tpe_add_running(with, &x, &err);
        tc_tpe_add_running(without, &x, &err);
    }
    tc_tpe_suggest(with, &out, &err);
    tc_tpe_suggest(without, &out, &err);
    CHECK_INT(tc_tpe_trace(with, 0, &vw, &lw, &gw, &ch), 24);
    CHECK_INT(tc_tpe_trace(without, 0, &vo, &lo, &go, &ch), 24);
    CHECK_NEAR(vw[0], vo[0], 0);
    CHECK_NEAR(lw[0], lo[0], 0);
    CHECK(fabs(gw[0] - go[0]) > 1e-6);
    CHECK_INT(err.code, TC_OK);
    tc_tpe_free(with);
    tc_tpe_free(without);
}

/* A parameter no observation has: both estimators are the prior alone, so
 * l = g at every candidate. Under multivariate, a parameter some trial lacks
 * stays out of the joint group. */
static void test_conditional(void)
{
    tc_tpe_param ps[3] = {{"a", TC_TPE_FLOAT, 0, 1, 0, 0, 0},
                          {"b", TC_TPE_INT, 0, 9, 1, 0, 0},
                          {"only_b1", TC_TPE_FLOAT, 1, 100, 0, 1, 0}};
    tc_tpe *t = make(ps, 3, 4, 9, 1, 0);
    tc_error err;
    const double *v, *l, *g;
    double out[3];
    long ch;
    tc_error_init(&err);
    for (int i = 0; i < 20; i++) {
        double vals[3] = {i / 20.0, (double)(i % 10), NAN};
        tc_tpe_observe(t, vals, vals[0], &err);
    }
    CHECK_INT(tc_tpe_suggest(t, out, &err), 0);
    CHECK(tc_tpe_in_joint_group(t, 0) && tc_tpe_in_joint_group(t, 1));
    CHECK(!tc_tpe_in_joint_group(t, 2));
    CHECK_INT(tc_tpe_trace(t, 2, &v, &l, &g, &ch), 24);
    for (int i = 0; i < 24; i++) {
        CHECK_NEAR(l[i], g[i], 1e-12);
        CHECK(v[i] >= 1 && v[i] <= 100);
    }
    CHECK_INT(err.code, TC_OK);
    tc_tpe_free(t);
}

/* ei_budget: the candidate count follows ei_budget / n between
 * min(24, n_ei_candidates) and n_ei_candidates; a negative budget is refused. */
static void test_ei_budget(void)
{
    tc_tpe_param p[2] = {{"x", TC_TPE_FLOAT, 0, 1, 0, 0, 0}, {"y", TC_TPE_FLOAT, 0, 1, 0, 0, 0}};
    tc_tpe_opts o;
    tc_error err;
    tc_tpe *t;
    double out[2];
    long want[] = {64, 64, 50, 40, 24, 24};   /* at 2, 3, 4, 5, 9, 30 trials */
    int at[] = {2, 3, 4, 5, 9, 30}, k = 0;
    tc_tpe_opts_default(&o);
    CHECK_INT(o.ei_budget, 0);                  /* the core's default is Optuna's */
    o.ei_budget = -1;
    tc_error_init(&err);
    CHECK(!tc_tpe_new(p, 2, &o, &err));
    CHECK(strstr(err.text, "ei_budget") != NULL);
    for (int multi = 0; multi < 2; multi++) {
        o.ei_budget = 200;
        o.n_ei_candidates = 64;
        o.n_startup_trials = 2;
        o.multivariate = multi;
        tc_error_init(&err);
        t = tc_tpe_new(p, 2, &o, &err);
        k = 0;
        for (int n = 0; n <= 30; n++) {
            if (n == at[k]) {
                CHECK_INT(tc_tpe_suggest(t, out, &err), 0);
                CHECK_INT(tc_tpe_trace(t, 0, NULL, NULL, NULL, NULL), want[k]);
                k++;
            }
            double v[2] = {(n % 7) / 7.0, (n % 5) / 5.0};
            tc_tpe_observe(t, v, v[0] + v[1], &err);
        }
        CHECK_INT(k, 6);
        CHECK_INT(err.code, TC_OK);
        tc_tpe_free(t);
    }
}

int main(void)
{
    test_bad_arguments();
    test_domains_and_reproducibility();
    test_lifecycle();
    test_optimises();
    test_constant_liar();
    test_conditional();
    test_ei_budget();
    TEST_MAIN_END();
}
