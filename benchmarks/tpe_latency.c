/* tpe_latency.c — suggestion latency of the native TPE core (`make bench-tpe`).
 *
 * The workload of benchmarks/search_bench.py's latency figure: 8 uniform
 * parameters on [0, 1], `past` completed trials at random with the objective
 * sum((v - 0.3)^2), then timed suggestions. Before each timed suggestion one
 * more random trial completes (untimed), as in a real run where every
 * suggestion follows a result: nothing computed for the previous suggestion
 * can be reused as is. Lines for a mixed space (log, quantized, int, log-int,
 * categorical) and for the multivariate model follow. Prints the median and
 * the 90th percentile of the wall time in microseconds, and the median of the
 * thread's CPU time (what a loaded machine does not inflate).
 *
 * Each line runs with TPESearch's defaults (tunec/suggest/tpe.py: 128
 * candidates under ei_budget 24000, so 24 at 1,000 trials; gamma 0.12; prior
 * weight 0.75), and "optuna" lines with Optuna's settings (the core's
 * defaults: 24 candidates, gamma 0.1, prior weight 1).
 *
 * Usage: tpe_latency [past=1000] [suggestions=301]
 *                    [uniform|mixed|mv-uniform|mv-mixed|optuna|all]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "search.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void random_trial(tc_tpe *t, tc_rng *r, size_t np, double *v, double *y)
{
    *y = 0;
    for (size_t p = 0; p < np; p++) {
        const tc_tpe_param *q = tc_tpe_param_at(t, p);
        double u = tc_rng_uniform(r);
        if (q->kind == TC_TPE_CATEGORICAL)
            v[p] = (double)tc_rng_below(r, (uint64_t)q->n_choices);
        else if (q->step > 0)
            v[p] = q->low + floor(u * ((q->high - q->low) / q->step + 1)) * q->step;
        else
            v[p] = q->log ? exp(log(q->low) + u * (log(q->high) - log(q->low)))
                          : q->low + u * (q->high - q->low);
        *y += (u - 0.3) * (u - 0.3);
    }
}

static void run(const char *label, const tc_tpe_param *ps, size_t np, long past, long k,
                int multivariate, int optuna)
{
    tc_tpe_opts o;
    tc_error err;
    tc_rng r;
    tc_tpe *t;
    double v[16], *lat = malloc((size_t)k * sizeof *lat), *cpu = malloc((size_t)k * sizeof *cpu),
           t0, c0;
    tc_tpe_opts_default(&o);
    o.multivariate = multivariate;
    if (!optuna) {                      /* TPESearch's defaults */
        o.n_startup_trials = 5;
        o.n_ei_candidates = 128;
        o.ei_budget = 24000;
        o.gamma_fraction = 0.12;
        o.prior_weight = 0.75;
    }
    tc_error_init(&err);
    tc_rng_seed(&r, 1);
    t = tc_tpe_new(ps, np, &o, &err);
    if (!t) {
        fprintf(stderr, "%s\n", err.text);
        exit(1);
    }
    for (long i = 0; i < past; i++) {
        double y;
        random_trial(t, &r, np, v, &y);
        tc_tpe_observe(t, v, y, &err);
    }
    for (long i = 0; i < k; i++) {
        double y;
        random_trial(t, &r, np, v, &y);
        tc_tpe_observe(t, v, y, &err);
        t0 = clock_s(CLOCK_MONOTONIC);
        c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        tc_tpe_suggest(t, v, &err);
        cpu[i] = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        lat[i] = clock_s(CLOCK_MONOTONIC) - t0;
    }
    qsort(lat, (size_t)k, sizeof *lat, cmp);
    qsort(cpu, (size_t)k, sizeof *cpu, cmp);
    printf("%-31s past=%ld params=%zu  median %.1f us  p90 %.1f us  (cpu median %.1f us; "
           "%ld suggestions)\n", label, past, np, lat[k / 2] * 1e6, lat[k * 9 / 10] * 1e6,
           cpu[k / 2] * 1e6, k);
    tc_tpe_free(t);
    free(lat);
    free(cpu);
}

int main(int argc, char **argv)
{
    long past = argc > 1 ? atol(argv[1]) : 1000, k = argc > 2 ? atol(argv[2]) : 301;
    tc_tpe_param uni[8], mixed[8] = {
        {"u", TC_TPE_FLOAT, 0, 1, 0, 0, 0},       {"lu", TC_TPE_FLOAT, 1e-5, 1, 0, 1, 0},
        {"q", TC_TPE_FLOAT, 0, 1, 0.01, 0, 0},    {"i", TC_TPE_INT, 0, 100, 1, 0, 0},
        {"li", TC_TPE_INT, 1, 4096, 1, 1, 0},     {"c", TC_TPE_CATEGORICAL, 0, 0, 0, 0, 6},
        {"u2", TC_TPE_FLOAT, -10, 10, 0, 0, 0},   {"qlu", TC_TPE_FLOAT, 1, 1000, 1, 1, 0},
    };
    for (int i = 0; i < 8; i++)
        uni[i] = (tc_tpe_param){"p", TC_TPE_FLOAT, 0, 1, 0, 0, 0};
    const char *which = argc > 3 ? argv[3] : "all";
    int all = !strcmp(which, "all");
    if (all || !strcmp(which, "mv-uniform"))
        run("multivariate TPE, 8 x uniform", uni, 8, past, k, 1, 0);
    if (all || !strcmp(which, "mv-mixed"))
        run("multivariate TPE, 8 mixed", mixed, 8, past, k, 1, 0);
    if (all || !strcmp(which, "uniform"))
        run("TPE, 8 x uniform", uni, 8, past, k, 0, 0);
    if (all || !strcmp(which, "mixed"))
        run("TPE, 8 mixed (log/q/int/cat)", mixed, 8, past, k, 0, 0);
    if (all || !strcmp(which, "optuna")) {
        run("optuna-set mv TPE, 8 x uniform", uni, 8, past, k, 1, 1);
        run("optuna-set TPE, 8 x uniform", uni, 8, past, k, 0, 1);
    }
    return 0;
}
