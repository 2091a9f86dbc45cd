/* sched_median.c — MedianStoppingRule (spec §8.4), the decision core of Ray
 * 0.8's median_stopping_rule.py (the version with min_time_slice; not the
 * 0.7 rule over completed trials).
 *
 * At a result of trial T at time t >= grace_period: the other trials whose
 * latest result is at time >= t are the sample; with fewer than
 * min_samples_required of them T yields (PAUSE) when others wait and it ran
 * more than min_time_slice since its last yield. Otherwise T stops (or
 * pauses, hard_stop=False) when its best metric so far is strictly worse than
 * the median of the sample's running means over grace_period <= time <= t.
 *
 * Numbers follow numpy where Ray uses it: means are numpy's pairwise sums
 * divided by the count (an empty mean is NaN), the median of an even count
 * is the mean of the two middle values, any NaN makes the median NaN.
 * "Strictly worse" is Ray's compare_op(median, best) != best with Python's
 * max/min, so a NaN median or a NaN best stops.
 *
 * Invariants: a trial's history holds every result it reported while not
 * stopped, plus its final result; `best` is Python's max()/min() over that
 * history, kept incrementally (the same left fold); trials with a history are
 * listed in order of their first result (Ray's defaultdict order).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sched.h"

typedef struct md_trial {
    double *time, *metric;   /* the history */
    size_t n, cap;
    double best;
    double last_pause;       /* -inf until the trial first yields */
    int stopped;
} md_trial;

struct tc_median {
    double grace, min_time_slice;
    long min_samples;
    int hard_stop, mode_max;
    md_trial *t;
    size_t ntrials;
    long *order;             /* trials with a history, by first result */
    size_t norder, order_cap;
    long num_stopped;
    double *scratch, *means; /* reused buffers */
    size_t scratch_cap, means_cap;
};

tc_median *tc_median_new(double grace_period, long min_samples_required, double min_time_slice,
                         int hard_stop, int mode_max, tc_error *err)
{
    tc_median *m;
    if (isnan(grace_period) || isnan(min_time_slice)) {
        tc_error_set(err, TC_ERR_VALUE, "%s must be a number, got nan",
                     isnan(grace_period) ? "grace_period" : "min_time_slice");
        return NULL;
    }
    m = tc_calloc(1, sizeof *m);
    if (!m) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory creating the median stopping rule");
        return NULL;
    }
    m->grace = grace_period;
    m->min_samples = min_samples_required;
    m->min_time_slice = min_time_slice;
    m->hard_stop = hard_stop;
    m->mode_max = mode_max;
    return m;
}

void tc_median_free(tc_median *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->ntrials; i++) {
        tc_free(m->t[i].time);
        tc_free(m->t[i].metric);
    }
    tc_free(m->t);
    tc_free(m->order);
    tc_free(m->scratch);
    tc_free(m->means);
    tc_free(m);
}

static int nomem(tc_error *err)
{
    return tc_error_set(err, TC_ERR_NOMEM, "out of memory in the median stopping rule");
}

static int grow(double **v, size_t *cap, size_t need)
{
    size_t n;
    double *g;
    if (need <= *cap)
        return 0;
    n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    g = tc_realloc(*v, n * sizeof *g);
    if (!g)
        return -1;
    *v = g;
    *cap = n;
    return 0;
}

static md_trial *trial_of(tc_median *m, long trial, tc_error *err)
{
    size_t need = (size_t)trial + 1, n;
    md_trial *g;
    if (trial < 0) {
        tc_error_set(err, TC_ERR_VALUE, "trial index must be >= 0, got %ld", trial);
        return NULL;
    }
    if (need > m->ntrials) {
        n = m->ntrials ? m->ntrials : 64;
        while (n < need)
            n *= 2;
        g = tc_realloc(m->t, n * sizeof *g);
        if (!g) {
            nomem(err);
            return NULL;
        }
        memset(g + m->ntrials, 0, (n - m->ntrials) * sizeof *g);
        for (size_t i = m->ntrials; i < n; i++)
            g[i].last_pause = -INFINITY;
        m->t = g;
        m->ntrials = n;
    }
    return &m->t[trial];
}

/* self._results[trial].append(result) */
static int append(tc_median *m, long trial, md_trial *t, double time, double metric,
                  tc_error *err)
{
    if (t->n == 0) {
        if (m->norder == m->order_cap) {
            size_t cap = m->order_cap ? m->order_cap * 2 : 64;
            long *g = tc_realloc(m->order, cap * sizeof *g);
            if (!g)
                return nomem(err);
            m->order = g;
            m->order_cap = cap;
        }
        m->order[m->norder++] = trial;
    }
    if (t->n == t->cap) {
        size_t c1 = t->cap, c2 = t->cap;
        if (grow(&t->time, &c1, t->n + 1) < 0 || grow(&t->metric, &c2, t->n + 1) < 0)
            return nomem(err);
        t->cap = c1 < c2 ? c1 : c2;
    }
    t->time[t->n] = time;
    t->metric[t->n] = metric;
    /* max(list) / min(list): keep the first, replace on a strict win */
    if (t->n == 0 || (m->mode_max ? metric > t->best : metric < t->best))
        t->best = metric;
    t->n++;
    return 0;
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : (a > b);
}

/* np.median of n values (reorders v). */
static double np_median(double *v, size_t n)
{
    double two[2];
    if (n == 0)
        return NAN;
    for (size_t i = 0; i < n; i++)
        if (isnan(v[i]))
            return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    if (n % 2)
        return tc_sched_np_sum(v + n / 2, 1) / 1.0;
    two[0] = v[n / 2 - 1];
    two[1] = v[n / 2];
    return tc_sched_np_sum(two, 2) / 2.0;
}

/* _running_mean: np.mean of metric over grace <= time_r <= t. */
static int running_mean(tc_median *m, const md_trial *o, double t, double *out, tc_error *err)
{
    size_t k = 0;
    if (grow(&m->scratch, &m->scratch_cap, o->n ? o->n : 1) < 0)
        return nomem(err);
    for (size_t i = 0; i < o->n; i++)
        if (m->grace <= o->time[i] && o->time[i] <= t)
            m->scratch[k++] = o->metric[i];
    *out = k ? tc_sched_np_sum(m->scratch, k) / (double)k : NAN;
    return 0;
}

int tc_median_on_result(tc_median *m, long trial, double time, double metric, int any_waiting,
                        tc_error *err)
{
    md_trial *t = trial_of(m, trial, err);
    size_t nothers = 0;
    double median, best, cmp;
    if (!t)
        return -1;
    if (t->stopped)
        return TC_SCHED_CONTINUE;            /* only with hard_stop=False: FIFO */
    if (isnan(time))
        /* Ray: the trial is not among the trials "beyond" a NaN time, and
         * trials.remove(trial) raises */
        return tc_error_set(err, TC_ERR_VALUE, "the time attribute of trial %ld is NaN", trial);
    if (append(m, trial, t, time, metric, err) < 0)
        return -1;
    if (time < m->grace)
        return TC_SCHED_CONTINUE;
    if (grow(&m->means, &m->means_cap, m->norder) < 0)
        return nomem(err);
    for (size_t i = 0; i < m->norder; i++) {
        const md_trial *o = &m->t[m->order[i]];
        if (m->order[i] == trial || !(o->time[o->n - 1] >= time))
            continue;
        if (running_mean(m, o, time, &m->means[nothers], err) < 0)
            return -1;
        nothers++;
    }
    if ((long)nothers < m->min_samples) {
        /* _on_insufficient_samples: yield to waiting trials */
        if (time - t->last_pause > m->min_time_slice && any_waiting) {
            t->last_pause = time;
            return TC_SCHED_PAUSE;
        }
        return TC_SCHED_CONTINUE;
    }
    median = np_median(m->means, nothers);
    best = t->best;
    /* compare_op(median, best): Python's max/min keep the first argument
     * unless the second strictly wins */
    if (m->mode_max)
        cmp = best > median ? best : median;
    else
        cmp = best < median ? best : median;
    if (cmp != best) {
        t->stopped = 1;
        m->num_stopped++;
        return m->hard_stop ? TC_SCHED_STOP : TC_SCHED_PAUSE;
    }
    return TC_SCHED_CONTINUE;
}

int tc_median_on_complete(tc_median *m, long trial, double time, double metric, tc_error *err)
{
    md_trial *t = trial_of(m, trial, err);
    if (!t)
        return -1;
    return append(m, trial, t, time, metric, err);
}

int tc_median_debug_string(const tc_median *m, tc_buf *out)
{
    return tc_buf_printf(out, "Using MedianStoppingRule: num_stopped=%ld.", m->num_stopped);
}

long tc_median_num_stopped(const tc_median *m)
{
    return m->num_stopped;
}
