/* sched_common.c — what the scheduler cores (sched.h) share: status names,
 * the side-action list, numpy's pairwise sum and a stable sort by score.
 *
 * Why numpy's summation: Ray computes means and probabilities with numpy, and
 * a sum in another association can differ in the last bit, which is enough
 * to flip a comparison against a median or a random draw against a cdf. */
#include <math.h>
#include <stdlib.h>
#include "sched.h"

static const char *const STATUS_NAMES[] = {"PENDING", "RUNNING", "PAUSED", "TERMINATED", "ERROR"};

const char *tc_sched_status_name(int status)
{
    if (status < 0 || status >= (int)(sizeof STATUS_NAMES / sizeof *STATUS_NAMES))
        return NULL;
    return STATUS_NAMES[status];
}

void tc_sched_actions_init(tc_sched_actions *a)
{
    a->v = NULL;
    a->n = a->cap = 0;
}

void tc_sched_actions_free(tc_sched_actions *a)
{
    tc_free(a->v);
    tc_sched_actions_init(a);
}

int tc_sched_actions_push(tc_sched_actions *a, long trial, int kind)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        tc_sched_action *v = tc_realloc(a->v, cap * sizeof *v);
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n].trial = trial;
    a->v[a->n].kind = kind;
    a->n++;
    return 0;
}

/* numpy's pairwise_sum for float64 (umath loops_utils): below 8 values a
 * plain loop, up to 128 eight interleaved accumulators combined as
 * ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) plus the tail, above that two halves
 * split at a multiple of 8. */
static double pairwise(const double *a, size_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (size_t i = 0; i < n; i++)
            res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8], res;
        size_t i;
        for (int j = 0; j < 8; j++)
            r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + j];
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise(a, n2) + pairwise(a + n2, n - n2);
}

/* add.reduce starts from the identity 0.0, then adds the pairwise sum (this
 * is what turns a lone -0.0 into 0.0, as numpy does). */
double tc_sched_np_sum(const double *a, size_t n)
{
    return 0.0 + pairwise(a, n);
}

typedef struct keyed { double key; size_t pos; long id; int nan_last; } keyed;

static int keyed_cmp(const void *pa, const void *pb)
{
    const keyed *a = pa, *b = pb;
    int an = isnan(a->key), bn = isnan(b->key);
    if (an != bn)
        return (an ? -1 : 1) * (a->nan_last ? -1 : 1);
    if (!an && a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->pos < b->pos ? -1 : (a->pos > b->pos);
}

/* a before b in the order of tc_sched_sort_by_key (ties: not before) */
static int key_before(double a, double b, int nan_last)
{
    int an = isnan(a), bn = isnan(b);
    if (an || bn)
        return an != bn && (an ? !nan_last : nan_last);
    return a < b;
}

int tc_sched_sort_by_key(long *ids, double *keys, size_t n, int nan_last)
{
    keyed *k;
    if (n < 2)
        return 0;
    if (n <= 16) {
        /* small (a band's brackets): stable insertion sort, no allocation */
        for (size_t i = 1; i < n; i++) {
            double kv = keys[i];
            long id = ids[i];
            size_t j = i;
            for (; j > 0 && key_before(kv, keys[j - 1], nan_last); j--) {
                keys[j] = keys[j - 1];
                ids[j] = ids[j - 1];
            }
            keys[j] = kv;
            ids[j] = id;
        }
        return 0;
    }
    k = tc_malloc(n * sizeof *k);
    if (!k)
        return -1;
    for (size_t i = 0; i < n; i++) {
        k[i].key = keys[i];
        k[i].pos = i;
        k[i].id = ids[i];
        k[i].nan_last = nan_last;
    }
    qsort(k, n, sizeof *k, keyed_cmp);
    for (size_t i = 0; i < n; i++) {
        keys[i] = k[i].key;
        ids[i] = k[i].id;
    }
    tc_free(k);
    return 0;
}
