/* metrics.c — a trial's metric_analysis (spec §6.3, Ray 0.8.5
 * Trial.update_last_result), which ExperimentAnalysis.get_best_trial reads.
 *
 * For every numeric key of the flattened result it keeps max, min, avg,
 * last, last-5-avg and last-10-avg, reproducing Ray's arithmetic so the
 * numbers agree bit for bit on ordinary results:
 *   - first sight of a key: every statistic is the value itself (an int
 *     stays an int, as in Ray's dict);
 *   - later: max = max(value, max) and min = min(value, min) with Python's
 *     builtin semantics — the old statistic is kept only if it compares
 *     greater (less), so a NaN value replaces it, and the next ordinary
 *     value replaces the NaN (nothing is skipped, nothing crashes);
 *   - avg = 1 / step * (value + (step - 1) * avg) with step =
 *     result["training_iteration"] or 1: a running mean weighted by the
 *     iteration, equal to the plain mean over updates when iterations count
 *     1, 2, 3... When training_iteration is absent or not a number (Ray would
 *     raise), step is the number of updates of that key instead;
 *   - last-n-avg = sum of the last n values / their count, summed oldest
 *     first like Python's sum over the deque.
 * Numbers are ints, reals and non-finite markers; booleans are not counted
 * (Ray's isinstance(value, Number) would include them).
 *
 * Invariant: entries keep first-seen order (the JSON view's key order); the
 * hash table maps key -> entry index and is rebuilt when half full.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tunec.h"

#define RING 10   /* the longest window, last-10-avg */

typedef struct num {
    double d;
    json_int_t i;
    int is_int;
} num;

typedef struct metric {
    char *key;
    size_t key_len;
    num max, min, avg, last, avg5, avg10;
    double ring[RING];   /* ring[(count - 1) % RING] is the newest value */
    long count;
} metric;

struct tc_metrics {
    metric *entries;
    size_t n, cap;
    size_t *slots;       /* entry index + 1, 0 = empty */
    size_t nslots;       /* power of two */
};

static const char *const stat_names[] = {
    "max", "min", "avg", "last", "last-5-avg", "last-10-avg",
};


tc_metrics *tc_metrics_new(void)
{
    return tc_calloc(1, sizeof(tc_metrics));
}

void tc_metrics_free(tc_metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        tc_free(m->entries[i].key);
    tc_free(m->entries);
    tc_free(m->slots);
    tc_free(m);
}

static metric *find(const tc_metrics *m, const char *key, size_t n)
{
    if (!m->nslots)
        return NULL;
    size_t mask = m->nslots - 1;
    for (size_t i = tc_hash_bytes(key, n) & mask; m->slots[i]; i = (i + 1) & mask) {
        metric *e = &m->entries[m->slots[i] - 1];
        if (e->key_len == n && memcmp(e->key, key, n) == 0)
            return e;
    }
    return NULL;
}

static int rehash(tc_metrics *m, size_t nslots)
{
    size_t *slots = tc_calloc(nslots, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t e = 0; e < m->n; e++) {
        size_t k = tc_hash_bytes(m->entries[e].key, m->entries[e].key_len) & (nslots - 1);
        while (slots[k])
            k = (k + 1) & (nslots - 1);
        slots[k] = e + 1;
    }
    tc_free(m->slots);
    m->slots = slots;
    m->nslots = nslots;
    return 0;
}

/* A new zeroed entry for key, or NULL on ENOMEM. */
static metric *add(tc_metrics *m, const char *key, size_t n)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        metric *p = tc_realloc(m->entries, cap * sizeof *p);
        if (!p)
            return NULL;
        m->entries = p;
        m->cap = cap;
    }
    char *copy = tc_malloc(n + 1);
    if (!copy)
        return NULL;
    memcpy(copy, key, n);
    copy[n] = '\0';
    metric *e = &m->entries[m->n++];
    memset(e, 0, sizeof *e);
    e->key = copy;
    e->key_len = n;
    if (2 * m->n > m->nslots) {
        if (rehash(m, m->nslots ? m->nslots * 2 : 32) < 0) {
            tc_free(copy);
            m->n--;
            return NULL;
        }
    } else {
        size_t k = tc_hash_bytes(key, n) & (m->nslots - 1);
        while (m->slots[k])
            k = (k + 1) & (m->nslots - 1);
        m->slots[k] = m->n;
    }
    return e;
}

/* Python's a > b for two numbers (ints compare exactly). */
static int num_gt(num a, num b)
{
    if (a.is_int && b.is_int)
        return a.i > b.i;
    return a.d > b.d;
}

static num real(double d)
{
    return (num){ d, 0, 0 };
}

static double window_avg(const metric *e, int n)
{
    long have = e->count < n ? e->count : n;
    double sum = 0.0;
    for (long k = have; k >= 1; k--)   /* oldest first */
        sum += e->ring[(e->count - k) % RING];
    return sum / (double)have;
}

/* has_step: the result's training_iteration as a number (bools and None as
 * 1/0), else the count of updates of the key is the step. */
static void fold(metric *e, num x, int has_step, double step)
{
    e->ring[e->count % RING] = x.d;
    e->count++;
    if (e->count == 1) {
        e->max = e->min = e->avg = e->last = e->avg5 = e->avg10 = x;
        return;
    }
    if (!has_step)
        step = (double)e->count;
    if (step == 0.0)
        step = 1.0;  /* `result["training_iteration"] or 1` */

    /* max(value, old) keeps old only when old > value (min: old < value) */
    if (!num_gt(e->max, x))
        e->max = x;
    if (!num_gt(x, e->min))
        e->min = x;
    e->avg = real(1.0 / step * (x.d + (step - 1.0) * e->avg.d));
    e->last = x;
    e->avg5 = real(window_avg(e, 5));
    e->avg10 = real(window_avg(e, 10));
}

/* flat_result borrowed */
int tc_metrics_update(tc_metrics *m, const json_t *flat_result)
{
    const char *key;
    size_t key_len;
    json_t *value;
    if (!json_is_object(flat_result))
        return -1;
    const json_t *iteration = json_object_get(flat_result, "training_iteration");
    double step = 0.0;
    int has_step = 1;
    if (json_is_boolean(iteration) || json_is_null(iteration))
        step = json_is_true(iteration) ? 1.0 : 0.0;
    else if (!iteration || !tc_json_number(iteration, &step))
        has_step = 0;
    json_object_keylen_foreach((json_t *)flat_result, key, key_len, value) {
        num x = { 0.0, 0, 0 };
        if (json_is_integer(value)) {
            x.i = json_integer_value(value);
            x.d = (double)x.i;
            x.is_int = 1;
        } else if (!tc_json_number(value, &x.d)) {
            continue;  /* strings, lists, None, bools */
        }
        metric *e = find(m, key, key_len);
        if (!e && !(e = add(m, key, key_len)))
            return -1;
        fold(e, x, has_step, step);
    }
    return 0;
}

/* The same update from a scanned result (result_scan.c), the driver's hot
 * path: no JSON tree. `skip` fields are not metrics (none here: the scan
 * already left config out). */
int tc_metrics_update_scan(tc_metrics *m, const tc_scan *s)
{
    double step = 0.0;
    int has_step = 1;
    long it = tc_scan_find(s, "training_iteration", 18);
    if (it < 0) {
        has_step = 0;
    } else {
        const tc_field *f = &s->fields[it];
        if (f->type == TC_F_NUMBER)
            step = f->num;
        else if (f->type == TC_F_TRUE)
            step = 1.0;
        else if (f->type != TC_F_FALSE && f->type != TC_F_NULL)
            has_step = 0;
    }
    for (size_t i = 0; i < s->n; i++) {
        const tc_field *f = &s->fields[i];
        if (f->type != TC_F_NUMBER)
            continue;
        num x = { f->num, 0, 0 };
        if (f->is_int && f->num >= -9.2e18 && f->num <= 9.2e18) {
            x.i = (json_int_t)strtoll(s->text + f->val_off, NULL, 10);
            x.is_int = 1;
        }
        metric *e = find(m, tc_scan_key(s, f), f->key_len);
        if (!e && !(e = add(m, tc_scan_key(s, f), f->key_len)))
            return -1;
        fold(e, x, has_step, step);
    }
    return 0;
}

static json_t *num_json(num x)
{
    return x.is_int ? json_integer(x.i) : tc_json_real(x.d);
}

/* new */
json_t *tc_metrics_to_json(const tc_metrics *m)
{
    json_t *out = json_object();
    if (!out)
        return NULL;
    for (size_t i = 0; i < m->n; i++) {
        const metric *e = &m->entries[i];
        json_t *stats = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
                                  "max", num_json(e->max), "min", num_json(e->min),
                                  "avg", num_json(e->avg), "last", num_json(e->last),
                                  "last-5-avg", num_json(e->avg5),
                                  "last-10-avg", num_json(e->avg10));
        if (!stats || json_object_setn_new(out, e->key, e->key_len, stats) < 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

int tc_metrics_get(const tc_metrics *m, const char *key, const char *stat, double *out)
{
    const metric *e = find(m, key, strlen(key));
    if (!e)
        return 0;
    const num *values[] = { &e->max, &e->min, &e->avg, &e->last, &e->avg5, &e->avg10 };
    for (size_t i = 0; i < sizeof stat_names / sizeof stat_names[0]; i++) {
        if (strcmp(stat, stat_names[i]) == 0) {
            *out = values[i]->d;
            return 1;
        }
    }
    return 0;
}
