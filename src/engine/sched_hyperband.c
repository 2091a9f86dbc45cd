/* sched_hyperband.c — the synchronous HyperBandScheduler (spec §8.3, §17.9,
 * §18.26): the decision core of Ray 0.8's hyperband.py.
 *
 * Three levels: a band ("HyperBand iteration") holds s_max_1 brackets; a
 * bracket s holds at most n0(s) trials that run to its milestone cumul_r,
 * PAUSE there until every live trial of the bracket has reached it, and are
 * then halved: the best ceil(n/eta) go on to the next milestone, the rest
 * stop. Trials fill the newest bracket; a full bracket opens the next one
 * (s = brackets in the band so far; r0(s) == 0 leaves a None slot); a full
 * band opens a new band.
 *
 * Ray's runner calls back into the scheduler while the scheduler acts:
 * stopping a PAUSED trial runs on_trial_remove for it, which may process the
 * bracket again. The core does the same itself and reports what the runner
 * must do as actions (sched.h). While one call runs, statuses come from the
 * caller's view overlaid with the actions taken so far in the call (a
 * stopped trial reads TERMINATED, an unpaused one PENDING), which is what
 * Ray's scheduler would read from its trials at that point.
 *
 * Milestones (spec §17.9): Ray 0.8 accumulates, cumul_r += r, with r =
 * int(min(r * eta, max_t - cumul_r)), so the last milestone is max_t; 1.x
 * sets cumul_r = r. Both are here (tc_hyperband_new's accumulate), 0.8's by
 * default. A finished bracket stops its PAUSED trials and returns STOP.
 * With 1.x's stop_last_trials=False (tc_hyperband_set_keep_last) no bracket
 * finishes: once its halvings are done its trials CONTINUE past max_t.
 *
 * Invariants: a trial belongs to at most one bracket for life; a bracket's
 * live list keeps insertion order (tombstones, compacted when they pile up);
 * n_below counts the live trials whose time is below cumul_r, so "every live
 * trial reached the milestone" is n_below == 0.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "sched.h"

/* More brackets per band than this means eta is so close to 1 that Ray would
 * open brackets of astronomically many trials; refuse it. */
#define MAX_S_MAX_1 512

typedef struct hb_bracket {
    long band, s;
    long n;                  /* _n: trials allowed (filled() is live == n) */
    double r, cumul_r;       /* integers held in doubles (Python ints) */
    long halves;
    double total_work, progress;
    long *live;              /* trial ids in insertion order, -1 = removed */
    size_t live_len, live_cap, live_count;
    long *all;               /* every trial ever added, for debug_string */
    size_t all_n, all_cap;
    long n_below;
} hb_bracket;

typedef struct hb_trial {
    hb_bracket *b;           /* NULL: never added */
    int live;
    size_t pos;              /* index in b->live while live */
    int has_result;
    double time, metric;
} hb_trial;

typedef struct hb_band {
    hb_bracket **br;         /* NULL entries: skipped brackets (Ray's None) */
    long n;
} hb_band;

struct tc_hyperband {
    double max_t, eta, metric_op;
    int accumulate;
    int bohb;                /* HyperBandForBOHB's rules (tc_hyperband_set_bohb) */
    int keep_last;           /* stop_last_trials=False (tc_hyperband_set_keep_last) */
    long s_max_1;
    hb_band *bands;
    long nbands, bands_cap;
    hb_bracket *cur;         /* _state["bracket"] */
    hb_trial *t;
    size_t ntrials;
    long num_stopped;
};

/* ------------------------------------------------------------------------- */
/* arithmetic                                                                 */
/* ------------------------------------------------------------------------- */

long tc_hyperband_s_max_1(const tc_hyperband *h)
{
    return h->s_max_1;
}

/* int(np.ceil(s_max_1 / (s + 1) * eta ** s)) */
static double n0_of(const tc_hyperband *h, long s)
{
    return ceil((double)h->s_max_1 / (double)(s + 1) * pow(h->eta, (double)s));
}

/* int(max_t * eta ** (-s)) */
static double r0_of(const tc_hyperband *h, long s)
{
    return trunc(h->max_t * pow(h->eta, -(double)s));
}

long tc_hyperband_n0(const tc_hyperband *h, long s)
{
    return (long)n0_of(h, s);
}

long tc_hyperband_r0(const tc_hyperband *h, long s)
{
    return (long)r0_of(h, s);
}

/* Bracket._calculate_total_work: note that cumulative_r stays r0 (as in Ray). */
static double total_work(const tc_hyperband *h, double n, double r, long s)
{
    double work = 0, cumulative_r = r;
    for (long i = 0; i <= s; i++) {
        work += trunc(n) * trunc(r);
        n = ceil(n / h->eta);
        r = trunc(fmin(r * h->eta, h->max_t - cumulative_r));
    }
    return work;
}

static int new_band(tc_hyperband *h);

tc_hyperband *tc_hyperband_new(double max_t, double reduction_factor, int mode_max,
                               int accumulate, tc_error *err)
{
    tc_hyperband *h;
    double s1;
    if (!(max_t >= 1) || !isfinite(max_t)) {
        tc_error_set(err, TC_ERR_VALUE, "max_t must be a finite number >= 1, got %g", max_t);
        return NULL;
    }
    if (!(reduction_factor > 1) || !isfinite(reduction_factor)) {
        tc_error_set(err, TC_ERR_VALUE, "reduction_factor must be a finite number > 1, got %g",
                     reduction_factor);
        return NULL;
    }
    /* np.round rounds half to even, like nearbyint */
    s1 = nearbyint(log(max_t) / log(reduction_factor)) + 1;
    if (s1 > MAX_S_MAX_1) {
        tc_error_set(err, TC_ERR_VALUE,
                     "reduction_factor %.12g is too close to 1 for max_t %g: %.0f brackets per band",
                     reduction_factor, max_t, s1);
        return NULL;
    }
    h = tc_calloc(1, sizeof *h);
    if (!h) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory creating the HyperBand scheduler");
        return NULL;
    }
    h->max_t = max_t;
    h->eta = reduction_factor;
    h->metric_op = mode_max ? 1.0 : -1.0;
    h->accumulate = accumulate;
    h->s_max_1 = (long)s1;
    for (long s = 0; s < h->s_max_1; s++)
        if (n0_of(h, s) > 1e15) {
            tc_error_set(err, TC_ERR_VALUE,
                         "max_t %g and reduction_factor %g give a bracket of %g trials",
                         max_t, reduction_factor, n0_of(h, s));
            tc_hyperband_free(h);
            return NULL;
        }
    /* Ray starts with one empty band (_hyperbands = [[]]) */
    if (new_band(h) < 0) {
        tc_hyperband_free(h);
        tc_error_set(err, TC_ERR_NOMEM, "out of memory creating the HyperBand scheduler");
        return NULL;
    }
    return h;
}

static void bracket_free(hb_bracket *b)
{
    if (!b)
        return;
    tc_free(b->live);
    tc_free(b->all);
    tc_free(b);
}

void tc_hyperband_free(tc_hyperband *h)
{
    if (!h)
        return;
    for (long i = 0; i < h->nbands; i++) {
        for (long j = 0; j < h->bands[i].n; j++)
            bracket_free(h->bands[i].br[j]);
        tc_free(h->bands[i].br);
    }
    tc_free(h->bands);
    tc_free(h->t);
    tc_free(h);
}

/* ------------------------------------------------------------------------- */
/* bracket bookkeeping                                                        */
/* ------------------------------------------------------------------------- */

static double result_time(const hb_trial *t)
{
    return t->has_result ? t->time : 0.0;   /* _get_result_time(None) == 0 */
}

static int filled(const hb_bracket *b)
{
    return (long)b->live_count == b->n;
}

static int cur_iter_done(const hb_bracket *b)
{
    return b->n_below == 0;
}

/* Ray 1.x's stop_last_trials=False: a bracket past its last halving never
 * finishes, and its trials run on past max_t (until their own stop). */
static int runs_on(const tc_hyperband *h, const hb_bracket *b)
{
    return h->keep_last && b->halves == 0;
}

static int finished(const tc_hyperband *h, const hb_bracket *b)
{
    return !h->keep_last && b->halves == 0 && cur_iter_done(b);
}

static int push_long(long **v, size_t *n, size_t *cap, long x)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        long *g = tc_realloc(*v, c * sizeof *g);
        if (!g)
            return -1;
        *v = g;
        *cap = c;
    }
    (*v)[(*n)++] = x;
    return 0;
}

/* Drops the tombstones of the live list, keeping the order. */
static void compact(tc_hyperband *h, hb_bracket *b)
{
    size_t j = 0;
    for (size_t i = 0; i < b->live_len; i++)
        if (b->live[i] >= 0) {
            b->live[j] = b->live[i];
            h->t[b->live[j]].pos = j;
            j++;
        }
    b->live_len = j;
}

/* Bracket.cleanup_trial, lenient as 1.x (pop(trial, None)). */
static void cleanup_trial(tc_hyperband *h, long trial)
{
    hb_trial *t = &h->t[trial];
    hb_bracket *b = t->b;
    if (!t->live)
        return;
    b->live[t->pos] = -1;
    b->live_count--;
    if (result_time(t) < b->cumul_r)
        b->n_below--;
    t->live = 0;
    if (b->live_len > 32 && b->live_count < b->live_len / 2)
        compact(h, b);
}

static double completion(const hb_bracket *b)
{
    return b->total_work == 0 ? 0.0 : b->progress / b->total_work;
}

/* The live trials as a fresh array (Ray's current_trials() list: a snapshot
 * that later removals do not change). Caller frees. */
static long *snapshot(const hb_bracket *b, size_t *n)
{
    long *v = tc_malloc((b->live_count ? b->live_count : 1) * sizeof *v);
    *n = 0;
    if (!v)
        return NULL;
    for (size_t i = 0; i < b->live_len; i++)
        if (b->live[i] >= 0)
            v[(*n)++] = b->live[i];
    return v;
}

/* Status as Ray's scheduler would read it now: the last action this call
 * took on the trial, else the runner's view. */
static int status_of(const tc_sched_view *view, const tc_sched_actions *acts, long trial)
{
    for (size_t i = acts->n; i-- > 0;)
        if (acts->v[i].trial == trial)
            return acts->v[i].kind == TC_SCHED_ACT_STOP ? TC_SCHED_ST_TERMINATED
                                                        : TC_SCHED_ST_PENDING;
    return view->status(view->ctx, trial);
}

static int nomem(tc_error *err)
{
    return tc_error_set(err, TC_ERR_NOMEM, "out of memory in the HyperBand scheduler");
}

static int process_bracket(tc_hyperband *h, hb_bracket *b, const tc_sched_view *view,
                           tc_sched_actions *acts, tc_error *err);

/* on_trial_remove: cleanup, then reprocess unless the bracket is finished. */
static int remove_trial(tc_hyperband *h, long trial, const tc_sched_view *view,
                        tc_sched_actions *acts, tc_error *err)
{
    hb_bracket *b = h->t[trial].b;
    cleanup_trial(h, trial);
    if (!finished(h, b) && process_bracket(h, b, view, acts, err) < 0)
        return -1;
    return 0;
}

/* trial_runner.stop_trial on a PAUSED trial: the runner first tells the
 * scheduler (on_trial_remove), then marks the trial TERMINATED. */
static int stop_paused(tc_hyperband *h, long trial, const tc_sched_view *view,
                       tc_sched_actions *acts, tc_error *err)
{
    if (remove_trial(h, trial, view, acts, err) < 0)
        return -1;
    return tc_sched_actions_push(acts, trial, TC_SCHED_ACT_STOP) < 0 ? nomem(err) : 0;
}

/* Bracket.successive_halving: returns the live trials ranked by
 * metric_op * metric, ascending (stable, NaN lowest); the best n are the
 * last n. */
static long *halve(tc_hyperband *h, hb_bracket *b, size_t *nlive, tc_error *err)
{
    long *ids = snapshot(b, nlive);
    double *keys = tc_malloc((*nlive ? *nlive : 1) * sizeof *keys);
    if (!ids || !keys)
        goto fail;
    b->halves--;
    b->n = (long)ceil((double)b->n / h->eta);
    b->r = trunc(fmin(b->r * h->eta, h->max_t - b->cumul_r));
    b->cumul_r = h->accumulate ? b->cumul_r + b->r : b->r;
    b->n_below = 0;
    for (size_t i = 0; i < *nlive; i++) {
        hb_trial *t = &h->t[ids[i]];
        if (!t->has_result) {
            /* unreachable: a trial without a result is below every milestone */
            tc_error_set(err, TC_ERR_VALUE, "trial %ld has no result to rank", ids[i]);
            tc_free(ids);
            tc_free(keys);
            return NULL;
        }
        keys[i] = h->metric_op * t->metric;
        if (result_time(t) < b->cumul_r)
            b->n_below++;
    }
    if (tc_sched_sort_by_key(ids, keys, *nlive, 0) < 0)
        goto fail;
    tc_free(keys);
    return ids;
fail:
    tc_free(ids);
    tc_free(keys);
    nomem(err);
    return NULL;
}

/* _process_bracket: PAUSE unless the bracket's milestone is done. */
static int process_bracket(tc_hyperband *h, hb_bracket *b, const tc_sched_view *view,
                           tc_sched_actions *acts, tc_error *err)
{
    int action = TC_SCHED_PAUSE, rc = -1;
    long *ranked = NULL;
    size_t n = 0, nbad;
    if (!cur_iter_done(b))
        return action;
    if (finished(h, b)) {
        /* cleanup_full: stop the PAUSED ones, STOP the reporting one */
        ranked = snapshot(b, &n);
        if (!ranked)
            return nomem(err);
        for (size_t i = 0; i < n; i++)
            if (status_of(view, acts, ranked[i]) == TC_SCHED_ST_PAUSED &&
                stop_paused(h, ranked[i], view, acts, err) < 0)
                goto done;
        action = TC_SCHED_STOP;
        rc = 0;
        goto done;
    }
    if (runs_on(h, b)) {
        /* successive_halving returns every live trial as good: nothing stops */
        ranked = snapshot(b, &n);
        if (!ranked)
            return nomem(err);
        nbad = 0;
    } else {
        ranked = halve(h, b, &n, err);
        if (!ranked)
            return -1;
        nbad = (size_t)b->n < n ? n - (size_t)b->n : 0;
    }
    h->num_stopped += (long)nbad;
    for (size_t i = 0; i < nbad; i++) {
        int st = status_of(view, acts, ranked[i]);
        if (st == TC_SCHED_ST_PAUSED) {
            if (stop_paused(h, ranked[i], view, acts, err) < 0)
                goto done;
        } else if (st == TC_SCHED_ST_RUNNING) {
            cleanup_trial(h, ranked[i]);
            action = TC_SCHED_STOP;
        } else {
            tc_error_set(err, TC_ERR_TUNE, "Trial with unexpected status encountered "
                         "(trial %ld is %s)", ranked[i], tc_sched_status_name(st));
            goto done;
        }
    }
    for (size_t i = nbad; i < n; i++) {
        hb_trial *t = &h->t[ranked[i]];
        int st = status_of(view, acts, ranked[i]);
        if (st != TC_SCHED_ST_PAUSED && st != TC_SCHED_ST_RUNNING) {
            tc_error_set(err, TC_ERR_TUNE, "Trial with unexpected status encountered "
                         "(trial %ld is %s)", ranked[i], tc_sched_status_name(st));
            goto done;
        }
        if (!t->live) {
            /* Ray: KeyError in continue_trial (a nested halving removed it) */
            tc_error_set(err, TC_ERR_TUNE, "trial %ld left its bracket while it was halved",
                         ranked[i]);
            goto done;
        }
        if (result_time(t) < b->cumul_r || runs_on(h, b)) {      /* continue_trial */
            if (st == TC_SCHED_ST_PAUSED) {
                if (tc_sched_actions_push(acts, ranked[i], TC_SCHED_ACT_UNPAUSE) < 0) {
                    nomem(err);
                    goto done;
                }
            } else {
                action = TC_SCHED_CONTINUE;
            }
        }
    }
    rc = 0;
done:
    tc_free(ranked);
    return rc < 0 ? -1 : action;
}

/* ------------------------------------------------------------------------- */
/* events                                                                     */
/* ------------------------------------------------------------------------- */

static int ensure_trial(tc_hyperband *h, long trial, tc_error *err)
{
    size_t need = (size_t)trial + 1, n;
    hb_trial *g;
    if (trial < 0)
        return tc_error_set(err, TC_ERR_VALUE, "trial index must be >= 0, got %ld", trial);
    if (need <= h->ntrials)
        return 0;
    n = h->ntrials ? h->ntrials : 64;
    while (n < need)
        n *= 2;
    g = tc_realloc(h->t, n * sizeof *g);
    if (!g)
        return nomem(err);
    memset(g + h->ntrials, 0, (n - h->ntrials) * sizeof *g);
    h->t = g;
    h->ntrials = n;
    return 0;
}

static hb_bracket *new_bracket(tc_hyperband *h, long s, long band)
{
    hb_bracket *b = tc_calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->band = band;
    b->s = s;
    b->n = (long)n0_of(h, s);
    b->r = b->cumul_r = r0_of(h, s);
    b->halves = s;
    b->total_work = total_work(h, (double)b->n, b->r, s);
    return b;
}

static int band_append(hb_band *band, hb_bracket *b)
{
    hb_bracket **g = tc_realloc(band->br, (size_t)(band->n + 1) * sizeof *g);
    if (!g)
        return -1;
    band->br = g;
    band->br[band->n++] = b;
    return 0;
}

static int new_band(tc_hyperband *h)
{
    if (h->nbands == h->bands_cap) {
        long cap = h->bands_cap ? h->bands_cap * 2 : 4;
        hb_band *g = tc_realloc(h->bands, (size_t)cap * sizeof *g);
        if (!g)
            return -1;
        h->bands = g;
        h->bands_cap = cap;
    }
    h->bands[h->nbands].br = NULL;
    h->bands[h->nbands].n = 0;
    h->nbands++;
    return 0;
}

int tc_hyperband_on_add(tc_hyperband *h, long trial, tc_error *err)
{
    hb_bracket *cur;
    hb_trial *t;
    if (ensure_trial(h, trial, err) < 0)
        return -1;
    if (h->t[trial].b)
        return tc_error_set(err, TC_ERR_VALUE, "trial %ld was already added to HyperBand", trial);
    cur = h->cur;
    if (!cur || filled(cur)) {
        for (;;) {
            hb_band *band = &h->bands[h->nbands - 1];
            long s;
            if (band->n == h->s_max_1) {     /* _cur_band_filled */
                if (new_band(h) < 0)
                    return nomem(err);
                band = &h->bands[h->nbands - 1];
            }
            /* BOHB fills the largest bracket (s_max_1 - 1) first */
            s = h->bohb ? h->s_max_1 - band->n - 1 : band->n;
            cur = r0_of(h, s) == 0 ? NULL : new_bracket(h, s, h->nbands - 1);
            if (r0_of(h, s) != 0 && !cur)
                return nomem(err);
            if (band_append(band, cur) < 0) {
                bracket_free(cur);
                return nomem(err);
            }
            h->cur = cur;
            if (cur)
                break;
        }
    }
    t = &h->t[trial];
    if (push_long(&cur->live, &cur->live_len, &cur->live_cap, trial) < 0 ||
        push_long(&cur->all, &cur->all_n, &cur->all_cap, trial) < 0)
        return nomem(err);
    t->b = cur;
    t->live = 1;
    t->pos = cur->live_len - 1;
    t->has_result = 0;
    cur->live_count++;
    if (0.0 < cur->cumul_r)
        cur->n_below++;
    return 0;
}

/* HyperBandForBOHB pauses a trial at its milestone while its bracket is not
 * full or another of its live trials is not PAUSED yet, even when plain
 * HyperBand would halve: the paused slot goes to a new suggestion, and the
 * bracket is halved once all its trials wait (or nothing runs any more,
 * tc_hyperband_choose_bohb). */
static int bohb_waits(const hb_bracket *b, long trial, const tc_sched_view *view)
{
    if (!filled(b))
        return 1;
    for (size_t i = 0; i < b->live_len; i++) {
        long o = b->live[i];
        if (o >= 0 && o != trial && view->status(view->ctx, o) != TC_SCHED_ST_PAUSED)
            return 1;
    }
    return 0;
}

static hb_trial *known(tc_hyperband *h, long trial, tc_error *err)
{
    if (trial < 0 || (size_t)trial >= h->ntrials || !h->t[trial].b) {
        tc_error_set(err, TC_ERR_VALUE, "trial %ld was not added to HyperBand", trial);
        return NULL;
    }
    return &h->t[trial];
}

int tc_hyperband_on_result(tc_hyperband *h, long trial, double time, double metric,
                           const tc_sched_view *view, tc_sched_actions *acts, tc_error *err)
{
    hb_trial *t = known(h, trial, err);
    hb_bracket *b;
    acts->n = 0;
    if (!t)
        return -1;
    b = t->b;
    /* Bracket.update_trial_stats */
    if (!t->live)
        return tc_error_set(err, TC_ERR_VALUE, "trial %ld is no longer live in its HyperBand "
                            "bracket", trial);
    if (!(time >= 0))
        return tc_error_set(err, TC_ERR_VALUE, "the time attribute of trial %ld must be a "
                            "number >= 0, got %g", trial, time);
    if (result_time(t) < b->cumul_r)
        b->n_below--;
    b->progress += time - result_time(t);
    t->has_result = 1;
    t->time = time;
    t->metric = metric;
    if (time < b->cumul_r) {
        b->n_below++;
        return TC_SCHED_CONTINUE;             /* continue_trial */
    }
    if (runs_on(h, b))
        return TC_SCHED_CONTINUE;             /* continue_trial, past max_t */
    if (h->bohb && bohb_waits(b, trial, view))
        return TC_SCHED_PAUSE;
    return process_bracket(h, b, view, acts, err);
}

int tc_hyperband_on_remove(tc_hyperband *h, long trial, const tc_sched_view *view,
                           tc_sched_actions *acts, tc_error *err)
{
    acts->n = 0;
    if (!known(h, trial, err))
        return -1;
    return remove_trial(h, trial, view, acts, err);
}

long tc_hyperband_choose(const tc_hyperband *h, const tc_sched_view *view)
{
    long found = -1;
    /* a band holds at most s_max_1 brackets */
    long *ids = tc_malloc((size_t)h->s_max_1 * sizeof *ids);
    double *keys = tc_malloc((size_t)h->s_max_1 * sizeof *keys);
    if (!ids || !keys) {
        tc_free(ids);
        tc_free(keys);
        return -1;
    }
    for (long i = 0; i < h->nbands && found < 0; i++) {
        const hb_band *band = &h->bands[i];
        size_t m = 0;
        for (long j = 0; j < band->n; j++)
            if (band->br[j]) {
                ids[m] = j;
                keys[m++] = completion(band->br[j]);
            }
        if (tc_sched_sort_by_key(ids, keys, m, 1) < 0)
            break;
        for (size_t j = 0; j < m && found < 0; j++) {
            const hb_bracket *b = band->br[ids[j]];
            for (size_t k = 0; k < b->live_len; k++) {
                long tr = b->live[k];
                if (tr >= 0 && view->status(view->ctx, tr) == TC_SCHED_ST_PENDING &&
                    view->has_resources(view->ctx, tr)) {
                    found = tr;
                    break;
                }
            }
        }
    }
    tc_free(ids);
    tc_free(keys);
    return found;
}

void tc_hyperband_set_bohb(tc_hyperband *h, int on)
{
    h->bohb = on;
}

void tc_hyperband_set_keep_last(tc_hyperband *h, int on)
{
    h->keep_last = on;
}

/* The first live trial, band by band and bracket by bracket in the order
 * they were opened, that reads PENDING (after this call's actions) and has
 * resources. */
static long bohb_first_pending(const tc_hyperband *h, const tc_sched_view *view,
                               const tc_sched_actions *acts)
{
    for (long i = 0; i < h->nbands; i++)
        for (long j = 0; j < h->bands[i].n; j++) {
            const hb_bracket *b = h->bands[i].br[j];
            for (size_t k = 0; b && k < b->live_len; k++) {
                long tr = b->live[k];
                if (tr >= 0 && status_of(view, acts, tr) == TC_SCHED_ST_PENDING &&
                    view->has_resources(view->ctx, tr))
                    return tr;
            }
        }
    return -1;
}

static int bracket_has(const hb_bracket *b, const tc_sched_view *view,
                       const tc_sched_actions *acts, int status)
{
    for (size_t k = 0; k < b->live_len; k++)
        if (b->live[k] >= 0 && status_of(view, acts, b->live[k]) == status)
            return 1;
    return 0;
}

long tc_hyperband_choose_bohb(tc_hyperband *h, const tc_sched_view *view,
                              tc_sched_actions *acts, tc_error *err)
{
    long found;
    acts->n = 0;
    found = bohb_first_pending(h, view, acts);
    if (found >= 0)
        return found;
    for (size_t i = 0; i < h->ntrials; i++)
        if (h->t[i].b && view->status(view->ctx, (long)i) == TC_SCHED_ST_RUNNING)
            return -1;
    /* Nothing runs: no result can complete a waiting bracket, so process
     * each bracket with PAUSED trials as it stands. */
    for (long i = 0; i < h->nbands; i++)
        for (long j = 0; j < h->bands[i].n; j++) {
            hb_bracket *b = h->bands[i].br[j];
            if (!b || !bracket_has(b, view, acts, TC_SCHED_ST_PAUSED))
                continue;
            if (process_bracket(h, b, view, acts, err) < 0)
                return -2;
            if (bracket_has(b, view, acts, TC_SCHED_ST_PENDING))
                return bohb_first_pending(h, view, acts);
        }
    return -1;
}

int tc_hyperband_debug_string(const tc_hyperband *h, const tc_sched_view *view, tc_buf *out)
{
    int rc = tc_buf_printf(out, "Using HyperBand: num_stopped=%ld total_brackets=%ld",
                           h->num_stopped, tc_hyperband_total_brackets(h));
    for (long i = 0; i < h->nbands; i++) {
        rc |= tc_buf_printf(out, "\nRound #%ld:", i);
        for (long j = 0; j < h->bands[i].n; j++) {
            const hb_bracket *b = h->bands[i].br[j];
            long counts[5] = {0};
            int first = 1;
            /* names sorted: ERROR, PAUSED, PENDING, RUNNING, TERMINATED */
            static const int order[5] = {TC_SCHED_ST_ERROR, TC_SCHED_ST_PAUSED, TC_SCHED_ST_PENDING,
                                         TC_SCHED_ST_RUNNING, TC_SCHED_ST_TERMINATED};
            if (!b)
                continue;
            for (size_t k = 0; k < b->all_n; k++) {
                int st = view->status(view->ctx, b->all[k]);
                if (st >= 0 && st < 5)
                    counts[st]++;
            }
            rc |= tc_buf_printf(out, "\n  Bracket(Max Size (n)=%ld, Milestone (r)=%.0f, "
                                "completed=%.1f%%): {", b->n, b->cumul_r, completion(b) * 100.0);
            for (int k = 0; k < 5; k++)
                if (counts[order[k]]) {
                    rc |= tc_buf_printf(out, "%s%s: %ld", first ? "" : ", ",
                                        tc_sched_status_name(order[k]), counts[order[k]]);
                    first = 0;
                }
            rc |= tc_buf_puts(out, "} ");
        }
    }
    return rc ? -1 : 0;
}

long tc_hyperband_num_stopped(const tc_hyperband *h)
{
    return h->num_stopped;
}

long tc_hyperband_total_brackets(const tc_hyperband *h)
{
    long n = 0;
    for (long i = 0; i < h->nbands; i++)
        n += h->bands[i].n;
    return n;
}

int tc_hyperband_info_of(const tc_hyperband *h, long trial, tc_hyperband_info *out)
{
    const hb_bracket *b;
    if (trial < 0 || (size_t)trial >= h->ntrials || !h->t[trial].b)
        return -1;
    b = h->t[trial].b;
    out->band = b->band;
    out->s = b->s;
    out->n = b->n;
    out->live = (long)b->live_count;
    out->r = b->r;
    out->cumul_r = b->cumul_r;
    out->completion = completion(b);
    return 0;
}
