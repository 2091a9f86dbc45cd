/* sched.h — the decision cores of the built-in trial schedulers (spec §8):
 * ASHA (sched_asha.c), synchronous HyperBand (sched_hyperband.c), the median
 * stopping rule (sched_median.c) and Population Based Training (sched_pbt.c),
 * with the helpers they share (sched_common.c).
 *
 * Each core is a pure state machine: events in (a trial was added, reported a
 * result, completed, failed, was removed), decisions out. No I/O, no clock,
 * no Python. Trials are the caller's integer indices (0..n-1, the runner's
 * trial table); metric values and times are doubles (NaN allowed where Ray
 * allows it); randomness comes from a tc_rng seeded at construction, so a
 * core's decisions are a function of its arguments, its seed and the event
 * order. The caller (the runner) is responsible for what Ray's scheduler does
 * before it looks at a result: a result without time_attr or metric gets
 * CONTINUE without calling the core (spec §8.2, §8.4; PBT takes it with
 * has_value = 0 to keep the trial's training_iteration, §8.5 step 1), and
 * mode "max"/"min" is passed as mode_max = 1/0.
 *
 * Errors: functions return -1 (or NULL) and fill the caller's tc_error.
 * Constructors name the bad argument (TC_ERR_VALUE unless noted). Events for
 * a trial the core never saw are TC_ERR_VALUE (Ray raises KeyError there).
 *
 * Deviations from Ray 0.8, on purpose (the Python reference in
 * tests/sched_reference.py follows the same choices):
 *   - sorting by score (HyperBand halving, PBT quantiles) is stable and puts
 *     NaN below every number; Ray's sorted() with NaN keys gives an order
 *     that depends on the input order;
 *   - PBT's choose_trial_to_run puts a NaN last_perturbation_time last;
 *   - HyperBand accepts a time_attr that goes back (a trial restored from an
 *     older checkpoint), as Ray 1.x does; 0.8 asserted. A NaN or negative
 *     time is an error, as in both;
 *   - invalid arguments that Ray accepts and then loops on or crashes with
 *     later (HyperBand max_t < 1, an empty PBT mutation list, non-finite
 *     bounds) are refused at construction.
 */
#ifndef TUNEC_SCHED_H
#define TUNEC_SCHED_H

#include "tunec.h"
#include "wire.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Decisions (TrialScheduler.CONTINUE/PAUSE/STOP, 2.x NOOP): TC_SCHED_* in
 * wire.h, as are the actions TC_SCHED_ACT_* below. */

/* Trial statuses as the schedulers see them: the same values as runner.h's
 * tc_status (PENDING, RUNNING, PAUSED, TERMINATED, ERROR). */
enum {
    TC_SCHED_ST_PENDING = 0, TC_SCHED_ST_RUNNING = 1, TC_SCHED_ST_PAUSED = 2,
    TC_SCHED_ST_TERMINATED = 3, TC_SCHED_ST_ERROR = 4
};
/* "PENDING", ... indexed by TC_SCHED_ST_*; NULL past the end. */
const char *tc_sched_status_name(int status);

/* What a scheduler may read of the runner (Ray's trial_runner.get_trials()
 * statuses and has_resources). Both callbacks must be set where a function
 * takes a view. */
typedef struct tc_sched_view {
    void *ctx;
    int (*status)(void *ctx, long trial);         /* TC_SCHED_ST_* */
    int (*has_resources)(void *ctx, long trial);  /* 1: could start now */
    /* Optional (NULL: always): PBT may clone this donor now — the
     * checkpoint it asked the donor for has reached the runner. A donor
     * that is not ready is skipped like one without a checkpoint, before
     * anything is explored. */
    int (*clone_ready)(void *ctx, long trial);
} tc_sched_view;

/* Side effects a decision has on trials other than the one reporting, in
 * the order Ray performs them:
 *   TC_SCHED_ACT_STOP    stop this PAUSED trial. The core has already done
 *                        what Ray's on_trial_remove does when the runner
 *                        stops it: the runner stops the trial WITHOUT
 *                        calling the core's on_remove for it;
 *   TC_SCHED_ACT_UNPAUSE PAUSED -> PENDING (it may be chosen to run again). */
typedef struct tc_sched_action { long trial; int kind; } tc_sched_action;
typedef struct tc_sched_actions {
    tc_sched_action *v;
    size_t n, cap;
} tc_sched_actions;
void tc_sched_actions_init(tc_sched_actions *a);
void tc_sched_actions_free(tc_sched_actions *a);
int tc_sched_actions_push(tc_sched_actions *a, long trial, int kind);  /* 0 / -1 ENOMEM */

/* numpy's float64 add.reduce (pairwise summation, blocks of 8, the same
 * association as numpy 1.x/2.x), so means and sums match numpy bit for bit. */
double tc_sched_np_sum(const double *a, size_t n);
/* Sorts ids by keys (parallel arrays, both reordered), ascending, stable,
 * NaN below every number (nan_last = 0) or above it (nan_last = 1).
 * 0 / -1 (ENOMEM). */
int tc_sched_sort_by_key(long *ids, double *keys, size_t n, int nan_last);

/* ------------------------------------------------------------------------- */
/* ASHA — AsyncHyperBandScheduler (spec §8.2)                                 */
/* ------------------------------------------------------------------------- */

typedef struct tc_asha tc_asha;

/* Validates as Ray asserts (max_t > 0, grace_period <= max_t, grace_period > 0,
 * reduction_factor > 1, brackets >= 1; all finite). seed drives the bracket
 * choice of tc_asha_on_add. New object or NULL. */
tc_asha *tc_asha_new(double max_t, double grace_period, double reduction_factor, long brackets,
                     int mode_max, uint64_t seed, tc_error *err);
void tc_asha_free(tc_asha *a);
/* Assigns the trial a bracket: index drawn with probability proportional to
 * e^(rungs_b - max rungs) (numpy's choice over that softmax, one uniform draw
 * per call even with one bracket). Re-adding a trial reassigns it. Returns
 * the bracket index or -1. */
int tc_asha_on_add(tc_asha *a, long trial, tc_error *err);
/* TC_SCHED_STOP when time >= max_t, else the bracket's rung rule; -1 on an
 * unknown trial (checked after the max_t test, as Ray does). */
int tc_asha_on_result(tc_asha *a, long trial, double time, double metric, tc_error *err);
/* Records the final result like a result (no max_t test), then forgets the
 * trial's bracket. 0 / -1. */
int tc_asha_on_complete(tc_asha *a, long trial, double time, double metric, tc_error *err);
/* Forgets the trial's bracket (a PENDING/PAUSED trial stopped). 0 / -1. */
int tc_asha_on_remove(tc_asha *a, long trial, tc_error *err);
/* "Using AsyncHyperBand: num_stopped=<n>\nBracket: Iter 64.000: None | ..."
 * appended to out. 0 / -1 (ENOMEM). */
int tc_asha_debug_string(const tc_asha *a, tc_buf *out);
long tc_asha_num_stopped(const tc_asha *a);
long tc_asha_num_brackets(const tc_asha *a);
long tc_asha_num_rungs(const tc_asha *a, long bracket);
/* Milestone of rung k (0 = highest) of a bracket; NaN if out of range. */
double tc_asha_milestone(const tc_asha *a, long bracket, long k);
/* The cutoff the next arrival at that rung would face: 1 and *out set (NaN
 * when only NaN scores are recorded), 0 when nothing is recorded (None). */
int tc_asha_cutoff(const tc_asha *a, long bracket, long k, double *out);
/* Bracket index of a trial, -1 if it has none. */
int tc_asha_bracket_of(const tc_asha *a, long trial);

/* ------------------------------------------------------------------------- */
/* HyperBand — synchronous HyperBandScheduler (spec §8.3, §17.9, §18.26)      */
/* ------------------------------------------------------------------------- */

typedef struct tc_hyperband tc_hyperband;

/* eta = reduction_factor (> 1), max_t >= 1 (r0(0) = int(max_t) must be at
 * least 1, or Ray's bracket filling never ends). accumulate: 1 = Ray 0.8's
 * milestone rule cumul_r += r (the default in tunec, spec §8.3), 0 = the
 * 1.x rule cumul_r = r. */
tc_hyperband *tc_hyperband_new(double max_t, double reduction_factor, int mode_max,
                               int accumulate, tc_error *err);
void tc_hyperband_free(tc_hyperband *h);
/* s_max_1 = int(round(log(max_t) / log(eta))) + 1: brackets per band. */
long tc_hyperband_s_max_1(const tc_hyperband *h);
/* The bracket arithmetic of spec §8.3: n0(s) = ceil(s_max_1 / (s+1) * eta^s),
 * r0(s) = int(max_t * eta^-s). */
long tc_hyperband_n0(const tc_hyperband *h, long s);
long tc_hyperband_r0(const tc_hyperband *h, long s);

/* Puts the trial in the current bracket, opening brackets and bands as Ray
 * does (a bracket with r0 == 0 is skipped). Returns 0 / -1 (a trial added
 * twice is an error). */
int tc_hyperband_on_add(tc_hyperband *h, long trial, tc_error *err);
/* A result of a RUNNING trial. Returns the decision for it (CONTINUE below
 * the bracket's milestone, PAUSE while waiting for the rest of the bracket,
 * STOP / CONTINUE after a halving, STOP when the bracket is finished) and
 * fills acts (cleared first) with what happens to the other trials. time
 * must be >= 0 and not NaN. -1 on errors, including Ray's TuneError "Trial
 * with unexpected status encountered" (TC_ERR_TUNE). */
int tc_hyperband_on_result(tc_hyperband *h, long trial, double time, double metric,
                           const tc_sched_view *view, tc_sched_actions *acts, tc_error *err);
/* on_trial_complete / on_trial_error / on_trial_remove: all three drop the
 * trial from its bracket and reprocess the bracket unless it is finished
 * (the halving this may trigger fills acts, cleared first). 0 / -1. */
int tc_hyperband_on_remove(tc_hyperband *h, long trial, const tc_sched_view *view,
                           tc_sched_actions *acts, tc_error *err);
#define tc_hyperband_on_complete tc_hyperband_on_remove
#define tc_hyperband_on_error tc_hyperband_on_remove
/* choose_trial_to_run: per band in order, brackets by ascending completion
 * percentage (stable), the first live PENDING trial that has resources.
 * Returns its index or -1. */
long tc_hyperband_choose(const tc_hyperband *h, const tc_sched_view *view);
/* HyperBandForBOHB (Ray's hb_bohb.py): on = 1 fills bands largest bracket
 * first, and a trial at its milestone PAUSEs while its bracket is not full
 * or another live trial of it is not PAUSED. Set before the first add. */
void tc_hyperband_set_bohb(tc_hyperband *h, int on);
/* Ray 1.x's stop_last_trials=False: the trials of a bracket past its last
 * halving are never stopped by the scheduler (they run past max_t). */
void tc_hyperband_set_keep_last(tc_hyperband *h, int on);
/* HyperBandForBOHB's choose_trial_to_run: the first live PENDING trial with
 * resources, brackets in the order they were opened; when there is none
 * and no trial is RUNNING, each bracket with PAUSED trials is processed as
 * it stands (halving, stopping, unpausing: acts, cleared first) until one
 * has a PENDING trial, which is then chosen. Returns the trial, -1 for
 * none, -2 + err on errors. */
long tc_hyperband_choose_bohb(tc_hyperband *h, const tc_sched_view *view,
                              tc_sched_actions *acts, tc_error *err);
/* "Using HyperBand: num_stopped=.. total_brackets=..\nRound #0:\n  Bracket(Max
 * Size (n)=5, Milestone (r)=81, completed=0.0%): {PENDING: 5} ". */
int tc_hyperband_debug_string(const tc_hyperband *h, const tc_sched_view *view, tc_buf *out);
long tc_hyperband_num_stopped(const tc_hyperband *h);
/* Brackets opened so far, None entries of skipped brackets included. */
long tc_hyperband_total_brackets(const tc_hyperband *h);
/* The trial's bracket: its band, its s, and the bracket's current n, r,
 * milestone (cumul_r) and completion percentage. 0, or -1 if unknown. */
typedef struct tc_hyperband_info {
    long band, s, n, live;
    double r, cumul_r, completion;
} tc_hyperband_info;
int tc_hyperband_info_of(const tc_hyperband *h, long trial, tc_hyperband_info *out);

/* ------------------------------------------------------------------------- */
/* Median stopping rule — MedianStoppingRule (spec §8.4)                      */
/* ------------------------------------------------------------------------- */

typedef struct tc_median tc_median;

tc_median *tc_median_new(double grace_period, long min_samples_required, double min_time_slice,
                         int hard_stop, int mode_max, tc_error *err);
void tc_median_free(tc_median *m);
/* any_waiting: some trial is PENDING or PAUSED (the time-sharing rule).
 * Returns CONTINUE, PAUSE or STOP; -1 for a NaN time (Ray fails there). */
int tc_median_on_result(tc_median *m, long trial, double time, double metric, int any_waiting,
                        tc_error *err);
/* Appends the final result to the trial's history. 0 / -1. */
int tc_median_on_complete(tc_median *m, long trial, double time, double metric, tc_error *err);
/* "Using MedianStoppingRule: num_stopped=<n>." */
int tc_median_debug_string(const tc_median *m, tc_buf *out);
long tc_median_num_stopped(const tc_median *m);

/* ------------------------------------------------------------------------- */
/* PBT — PopulationBasedTraining (spec §8.5, §18.23, §18.24)                  */
/* ------------------------------------------------------------------------- */

typedef struct tc_pbt tc_pbt;

/* custom_explore_fn: receives the perturbed config (borrowed), returns the
 * config to use (new reference), or NULL with err set. */
typedef json_t *(*tc_pbt_explore_fn)(void *ctx, const json_t *config, tc_error *err);
/* Resamples a {"$tunec": "fn", "id": N} mutation (a Python callable): new
 * reference, or NULL with err set. */
typedef json_t *(*tc_pbt_sample_fn)(void *ctx, json_int_t id, tc_error *err);

typedef struct tc_pbt_opts {
    double perturbation_interval;   /* Ray default 60.0 */
    const json_t *mutations;        /* borrowed, deep-copied; NULL = {} */
    double quantile_fraction;       /* [0, 0.5], default 0.25 */
    double resample_probability;    /* default 0.25 */
    int mode_max;
    int log_config;                 /* fill tc_pbt_step.log_line */
    uint64_t seed;
    tc_pbt_explore_fn custom_explore;   /* NULL = none */
    void *custom_ctx;
    tc_pbt_sample_fn sample_fn;     /* required when mutations hold "fn" nodes */
    void *sample_ctx;
} tc_pbt_opts;

/* Hyperparam mutations: per key a non-empty list (categorical neighbours), a
 * dict (nested mutations) or a callable: {"$tunec": "domain", ...} (sampled
 * in C) or {"$tunec": "fn", "id": N} (sample_fn). Anything else is
 * TC_ERR_VALUE naming the key; neither mutations nor custom_explore is
 * TC_ERR_TUNE (Ray's TuneError); quantile_fraction outside [0, 0.5] is
 * TC_ERR_VALUE. */
tc_pbt *tc_pbt_new(const tc_pbt_opts *opts, tc_error *err);
void tc_pbt_free(tc_pbt *p);

/* tag: the trial's experiment_tag (becomes orig_tag); config borrowed, deep-
 * copied. Re-adding a trial resets its state. 0 / -1. */
int tc_pbt_on_add(tc_pbt *p, long trial, const char *tag, const json_t *config, tc_error *err);

typedef struct tc_pbt_result {
    int has_value;            /* time_attr and metric both present */
    double time, metric;
    const json_t *iteration;  /* borrowed result["training_iteration"], NULL if absent */
} tc_pbt_result;

/* What one result decides. */
typedef struct tc_pbt_step {
    int decision;        /* TC_SCHED_CONTINUE, or PAUSE when some trial waits
                            (only for a result at a perturbation time) */
    int checkpoint;      /* 1: save an in-memory checkpoint of this trial now
                            (it is in the upper quantile); it is the trial's
                            last_checkpoint that other trials clone */
    long clone_from;     /* -1, or the donor: restore the donor's last
                            checkpoint into this trial, with new_config */
    long skipped_donor;  /* donor drawn but without a checkpoint (-1 if none):
                            Ray logs "no checkpoint for trial" and skips */
    json_t *new_config;  /* new reference when clone_from >= 0 */
    char *new_tag;       /* malloc'd "<orig_tag>@perturbed[<vars>]" when cloning */
    char *log_line;      /* malloc'd pbt_global.txt / pbt_policy line (no "\n")
                            when cloning with log_config */
} tc_pbt_step;
/* A step is initialised once (tc_pbt_step_init); on_result clears it before
 * filling it, so one step can be reused across calls; clear it at the end. */
void tc_pbt_step_init(tc_pbt_step *s);
void tc_pbt_step_clear(tc_pbt_step *s);   /* releases and re-inits */

/* on_trial_result (spec §8.5): out is cleared first. The view gives the
 * statuses Ray reads: TERMINATED/ERROR trials leave the quantiles
 * (trial.is_finished()), and the decision is PAUSE when any trial is PENDING
 * or PAUSED. After the call the core holds new_config as the trial's config
 * when it cloned, and r->iteration as its last training_iteration. 0 / -1. */
int tc_pbt_on_result(tc_pbt *p, long trial, const tc_pbt_result *r, const tc_sched_view *view,
                     tc_pbt_step *out, tc_error *err);
/* The runner's last_result of a trial changed without on_trial_result (the
 * final result, a result that met the stop criteria): keeps the trial's
 * training_iteration for the log lines (borrowed, may be NULL). 0 / -1. */
int tc_pbt_on_complete(tc_pbt *p, long trial, const json_t *iteration, tc_error *err);
/* The PENDING or PAUSED trial with resources and the smallest
 * last_perturbation_time (ties: add order); -1 if none. */
long tc_pbt_choose(const tc_pbt *p, const tc_sched_view *view);
/* "PopulationBasedTraining: <n> checkpoints, <m> perturbs" */
int tc_pbt_debug_string(const tc_pbt *p, tc_buf *out);
void tc_pbt_reset_stats(tc_pbt *p);
long tc_pbt_num_checkpoints(const tc_pbt *p);
long tc_pbt_num_perturbations(const tc_pbt *p);
/* 1 and *out = last_score when the trial has one, else 0 (Ray's
 * last_scores also drops finished trials: the caller knows which). */
int tc_pbt_last_score(const tc_pbt *p, long trial, double *out);
/* The trial's current config (borrowed; NULL if unknown). */
const json_t *tc_pbt_config(const tc_pbt *p, long trial);

/* explore(config, mutations, resample_probability, custom_explore_fn) on the
 * core's rng and options: config borrowed; returns a new reference, the
 * perturbed deep copy (spec §8.5), or NULL with err naming the config path.
 * Exposed for tests and for the runner's PopulationBasedTrainingReplay. */
json_t *tc_pbt_explore(tc_pbt *p, const json_t *config, tc_error *err);
/* "<orig_tag>@perturbed[<format_vars of the top-level mutated keys>]" of
 * config (borrowed), appended to out. 0 / -1 (a mutated key missing from
 * config: TC_ERR_VALUE). */
int tc_pbt_make_tag(const tc_pbt *p, const char *orig_tag, const json_t *config, tc_buf *out,
                    tc_error *err);
/* One log_config line: json.dumps([target_tag, clone_tag, target_iter,
 * clone_iter, old_config, new_config]) appended to out (no newline); every
 * json_t is borrowed. NULL iterations are written as 0 (Ray's
 * last_result.get(..., 0)). 0 / -1 (ENOMEM). */
int tc_pbt_log_line(const char *target_tag, const char *clone_tag, const json_t *target_iter,
                    const json_t *clone_iter, const json_t *old_config, const json_t *new_config,
                    tc_buf *out);

#ifdef __cplusplus
}
#endif
#endif /* TUNEC_SCHED_H */
