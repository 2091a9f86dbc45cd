/* sched_bench.c — ASHA and HyperBand decision cores over simulated trials
 * (run by benchmarks/sched_bench.py, which runs the same simulation on the
 * Python reference and prints the ratio).
 *
 * The simulation: N trials whose metric follows a learning curve
 *   m(i, t) = a_i * (1 - exp(-k_i * t)) + 0.01 * sin(i * 12.9898 + t * 78.233)
 * (a_i, k_i drawn from the engine rng in trial order), at most R results each,
 * K trials running at once, each running trial reporting in turn. ASHA:
 * trials start in order and leave on STOP. HyperBand: all trials are added
 * first, the scheduler chooses which to start, PAUSE and its actions move
 * trials between statuses as a runner would. A "decision" is one call into
 * the scheduler (add, result, complete, choose). The checksum (FNV-1a over
 * decisions and actions) lets the Python side check it made the same ones.
 *
 * Usage: sched_bench N R K; prints one JSON line per scheduler.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "sched.h"

static double *A, *K_;
static int *st;

static double metric(long i, long t)
{
    return A[i] * (1.0 - exp(-K_[i] * (double)t)) + 0.01 * sin((double)i * 12.9898 + (double)t * 78.233);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t fnv(uint64_t h, long long v)
{
    for (int i = 0; i < 8; i++) {
        h ^= (uint64_t)((unsigned long long)v >> (8 * i)) & 0xff;
        h *= 0x100000001b3ull;
    }
    return h;
}

static int view_status(void *ctx, long t) { (void)ctx; return st[t]; }
static int view_avail(void *ctx, long t) { (void)ctx; (void)t; return 1; }

static void report(const char *name, long n, double secs, uint64_t h, const long *counts)
{
    printf("{\"sched\": \"%s\", \"decisions\": %ld, \"seconds\": %.6f, \"checksum\": \"%016llx\", "
           "\"counts\": [%ld, %ld, %ld]}\n", name, n, secs, (unsigned long long)h, counts[0],
           counts[1], counts[2]);
}

static int run_asha(long N, long R, long K)
{
    tc_error err;
    long *slot = malloc((size_t)K * sizeof *slot), *iter = calloc((size_t)N, sizeof *iter);
    long next = 0, running = 0, n = 0, counts[3] = {0};
    uint64_t h = 0xcbf29ce484222325ull;
    double t0;
    tc_error_init(&err);
    tc_asha *a = tc_asha_new(100, 1, 4, 1, 1, 1, &err);
    if (!a || !slot || !iter)
        return 1;
    t0 = now();
    for (long k = 0; k < K; k++)
        slot[k] = -1;
    for (;;) {
        for (long k = 0; k < K; k++)
            if (slot[k] < 0 && next < N) {
                h = fnv(h, tc_asha_on_add(a, next, &err));
                n++;
                slot[k] = next++;
                running++;
            }
        if (!running)
            break;
        for (long k = 0; k < K; k++) {
            long i = slot[k];
            int d;
            if (i < 0)
                continue;
            iter[i]++;
            d = tc_asha_on_result(a, i, (double)iter[i], metric(i, iter[i]), &err);
            n++;
            h = fnv(h, d);
            counts[d == TC_SCHED_STOP ? 2 : 0]++;
            if (d == TC_SCHED_CONTINUE && iter[i] >= R) {
                tc_asha_on_complete(a, i, (double)iter[i], metric(i, iter[i]), &err);
                n++;
                d = TC_SCHED_STOP;
            }
            if (d == TC_SCHED_STOP) {
                slot[k] = -1;
                running--;
            }
        }
    }
    report("asha", n, now() - t0, h, counts);
    tc_asha_free(a);
    free(slot);
    free(iter);
    return err.code != 0;
}

static int run_hyperband(long N, long R, long K)
{
    tc_error err;
    tc_sched_actions acts;
    tc_sched_view view = {NULL, view_status, view_avail};
    long *slot = malloc((size_t)K * sizeof *slot), *iter = calloc((size_t)N, sizeof *iter);
    long running = 0, n = 0, counts[3] = {0};
    uint64_t h = 0xcbf29ce484222325ull;
    double t0;
    tc_error_init(&err);
    tc_sched_actions_init(&acts);
    tc_hyperband *hb = tc_hyperband_new(100, 3, 1, 1, &err);
    if (!hb || !slot || !iter)
        return 1;
    t0 = now();
    for (long i = 0; i < N; i++) {
        st[i] = TC_SCHED_ST_PENDING;
        tc_hyperband_on_add(hb, i, &err);
        n++;
    }
    for (long k = 0; k < K; k++)
        slot[k] = -1;
    for (;;) {
        for (long k = 0; k < K; k++)
            if (slot[k] < 0) {
                long i = tc_hyperband_choose(hb, &view);
                n++;
                h = fnv(h, i);
                if (i < 0)
                    break;
                st[i] = TC_SCHED_ST_RUNNING;
                slot[k] = i;
                running++;
            }
        if (!running)
            break;
        for (long k = 0; k < K; k++) {
            long i = slot[k];
            int d;
            if (i < 0)
                continue;
            iter[i]++;
            d = tc_hyperband_on_result(hb, i, (double)iter[i], metric(i, iter[i]), &view, &acts,
                                       &err);
            n++;
            if (d < 0) {
                fprintf(stderr, "hyperband: %s\n", err.text);
                return 1;
            }
            h = fnv(h, d);
            counts[d]++;
            for (size_t j = 0; j < acts.n; j++) {
                h = fnv(fnv(h, acts.v[j].trial), acts.v[j].kind);
                st[acts.v[j].trial] = acts.v[j].kind == TC_SCHED_ACT_STOP ? TC_SCHED_ST_TERMINATED
                                                                          : TC_SCHED_ST_PENDING;
            }
            if (d == TC_SCHED_CONTINUE && iter[i] >= R) {
                st[i] = TC_SCHED_ST_TERMINATED;
                tc_hyperband_on_complete(hb, i, &view, &acts, &err);
                n++;
                for (size_t j = 0; j < acts.n; j++) {
                    h = fnv(fnv(h, acts.v[j].trial), acts.v[j].kind);
                    st[acts.v[j].trial] = acts.v[j].kind == TC_SCHED_ACT_STOP
                                              ? TC_SCHED_ST_TERMINATED : TC_SCHED_ST_PENDING;
                }
                d = TC_SCHED_STOP;
            } else if (d != TC_SCHED_CONTINUE) {
                st[i] = d == TC_SCHED_PAUSE ? TC_SCHED_ST_PAUSED : TC_SCHED_ST_TERMINATED;
            }
            if (d != TC_SCHED_CONTINUE) {
                slot[k] = -1;
                running--;
            }
        }
    }
    report("hyperband", n, now() - t0, h, counts);
    tc_hyperband_free(hb);
    tc_sched_actions_free(&acts);
    free(slot);
    free(iter);
    return err.code != 0;
}

int main(int argc, char **argv)
{
    long N = argc > 1 ? atol(argv[1]) : 10000, R = argc > 2 ? atol(argv[2]) : 100,
         K = argc > 3 ? atol(argv[3]) : 8;
    tc_rng rng;
    int rc;
    A = malloc((size_t)N * sizeof *A);
    K_ = malloc((size_t)N * sizeof *K_);
    st = malloc((size_t)N * sizeof *st);
    tc_rng_seed(&rng, 2024);
    for (long i = 0; i < N; i++) {
        A[i] = tc_rng_uniform(&rng);
        K_[i] = 0.02 + 0.18 * tc_rng_uniform(&rng);
    }
    rc = run_asha(N, R, K) | run_hyperband(N, R, K);
    free(A);
    free(K_);
    free(st);
    return rc;
}
