/* runner_sched.c — the runner's side of the trial schedulers (spec §8).
 *
 * The decision cores (sched_asha.c, sched_hyperband.c, sched_median.c,
 * sched_pbt.c) are pure; this file feeds them the runner's events and turns
 * their decisions into trial state:
 *   - time_attr and metric are read from the scanned result (no JSON tree on
 *     the per-result path); a result lacking either gets CONTINUE without
 *     asking the core (spec §8.2, §8.4; PBT is told, with has_value = 0);
 *   - PAUSE: the result is logged, the trial leaves RUNNING for PAUSED and
 *     its worker is asked to save a checkpoint and stop. The trial is
 *     `saving` until the worker is free again (tc_runner_on_released), so a
 *     restart always finds that checkpoint; it restarts through the normal
 *     start path, from its newest checkpoint;
 *   - HyperBand's side effects on other trials (stop a PAUSED one, unpause
 *     one) are applied as the core lists them;
 *   - PBT: an upper-quantile trial is asked for a checkpoint (TC_SAVE); a
 *     lower-quantile one is cloned (runner_pbt.c): a copy of the donor's
 *     newest checkpoint is staged, its config and tag become the core's, its
 *     worker stops (TC_RESTART), and once released it restarts at once from
 *     the copy, which replaced its own checkpoints, with its result files
 *     continued. The log_config lines go to pbt_global.txt and
 *     pbt_policy_<trial_id>.txt in the experiment dir. A donor is cloned only
 *     once the checkpoint it was asked for has arrived (view.clone_ready);
 *   - PopulationBasedTrainingReplay: at each change point the trial saves,
 *     and restarts at once from that checkpoint with the recorded config;
 *   - a host-driven scheduler (a user's Python subclass) gets every event
 *     through tc_host.sched_event; its super() calls come back here
 *     (tc_runner_sched_builtin), so subclassing a built-in keeps the
 *     engine's decisions.
 *
 * Owns: the scheduler state (struct runner_sched). Reads the trial table;
 * writes trial status, config, tag and checkpoints only as described. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "runner_sched_internal.h"

static int nomem(tc_error *err)
{
    return tc_error_set(err, TC_ERR_NOMEM, "out of memory in the scheduler");
}

void tcp_sched_free(tc_runner *r)
{
    struct runner_sched *s = r->sched;
    if (!s)
        return;
    tc_free(s->time_attr);
    tc_free(s->metric);
    tc_asha_free(s->asha);
    tc_hyperband_free(s->hb);
    tc_median_free(s->median);
    tc_pbt_free(s->pbt);
    json_decref(s->replay_initial);
    json_decref(s->replay_policy);
    tc_free(s->replay_tag);
    tc_sched_actions_free(&s->acts);
    tc_pbt_step_clear(&s->step);
    tc_free(s);
    r->sched = NULL;
}

/* ------------------------------------------------------------------------ */
/* the view the cores read                                                  */
/* ------------------------------------------------------------------------ */

static int view_status(void *ctx, long trial)
{
    tc_trial *t = tc_runner_trial(ctx, trial);
    return t ? (int)t->status : TC_SCHED_ST_TERMINATED;
}

static int view_has_resources(void *ctx, long trial)
{
    tc_trial *t = tc_runner_trial(ctx, trial);
    return t && tcp_can_start(ctx, t);
}

/* A PBT donor can be cloned once it has a registered checkpoint, and the
 * one it was asked to save (if any) has arrived: a donor whose save is in
 * flight is skipped, as Ray skips a donor without a checkpoint. "Arrived"
 * is read from the checkpoint's row count, as every checkpoint record
 * places itself (a checkpoint of unknown rows never ends the wait; the
 * worker's release does). */
static int view_clone_ready(void *ctx, long trial)
{
    tc_trial *t = tc_runner_trial(ctx, trial);
    const tc_ckpt *k = t ? tc_ckpts_newest(&t->ckpts) : NULL;
    return k && (t->save_wait_rows < 0 || k->rows >= t->save_wait_rows);
}

static tc_sched_view view_of(tc_runner *r)
{
    tc_sched_view v = {r, view_status, view_has_resources, view_clone_ready};
    return v;
}

/* ------------------------------------------------------------------------ */
/* construction                                                             */
/* ------------------------------------------------------------------------ */

static double num_arg(const json_t *spec, const char *key, double dflt)
{
    double d;
    const json_t *v = json_object_get(spec, key);
    return v && tc_json_number(v, &d) ? d : dflt;
}

static json_t *pbt_explore_cb(void *ctx, const json_t *config, tc_error *err)
{
    tc_runner *r = ctx;
    return r->host.pbt_explore(r->host.ctx, config, err);
}

static json_t *pbt_sample_cb(void *ctx, json_int_t id, tc_error *err)
{
    tc_runner *r = ctx;
    if (!r->host.pbt_sample) {
        tc_error_set(err, TC_ERR_VALUE, "hyperparam_mutations: callables need a host");
        return NULL;
    }
    return r->host.pbt_sample(r->host.ctx, id, err);
}

static int make_core(tc_runner *r, struct runner_sched *s, const json_t *spec, tc_error *err)
{
    uint64_t seed = (uint64_t)json_integer_value(json_object_get(spec, "seed"));
    switch (s->kind) {
    case K_ASHA:
        s->asha = tc_asha_new(num_arg(spec, "max_t", 100), num_arg(spec, "grace_period", 1),
                              num_arg(spec, "reduction_factor", 4),
                              (long)num_arg(spec, "brackets", 1), s->mode_max, seed, err);
        return s->asha ? 0 : -1;
    case K_HYPERBAND:
        s->hb = tc_hyperband_new(num_arg(spec, "max_t", 81), num_arg(spec, "reduction_factor", 3),
                                 s->mode_max, !json_is_false(json_object_get(spec, "accumulate")),
                                 err);
        if (!s->hb)
            return -1;
        s->bohb = json_is_true(json_object_get(spec, "bohb"));
        s->bohb_trial = -1;
        tc_hyperband_set_bohb(s->hb, s->bohb);
        tc_hyperband_set_keep_last(s->hb, json_is_false(json_object_get(spec,
                                                                        "stop_last_trials")));
        return 0;
    case K_MEDIAN:
        s->median = tc_median_new(num_arg(spec, "grace_period", 60.0),
                                  (long)num_arg(spec, "min_samples_required", 3),
                                  num_arg(spec, "min_time_slice", 0),
                                  !json_is_false(json_object_get(spec, "hard_stop")), s->mode_max,
                                  err);
        return s->median ? 0 : -1;
    case K_PBT: {
        tc_pbt_opts o;
        memset(&o, 0, sizeof o);
        o.perturbation_interval = num_arg(spec, "perturbation_interval", 60.0);
        o.mutations = json_object_get(spec, "hyperparam_mutations");
        o.quantile_fraction = num_arg(spec, "quantile_fraction", 0.25);
        o.resample_probability = num_arg(spec, "resample_probability", 0.25);
        o.mode_max = s->mode_max;
        o.log_config = s->log_config = !json_is_false(json_object_get(spec, "log_config"));
        s->require_attrs = json_is_true(json_object_get(spec, "require_attrs"));
        o.seed = seed;
        if (json_is_true(json_object_get(spec, "custom_explore"))) {
            if (!r->host.pbt_explore)
                return tc_error_set(err, TC_ERR_VALUE, "custom_explore_fn: no host to call it");
            o.custom_explore = pbt_explore_cb;
            o.custom_ctx = r;
        }
        o.sample_fn = pbt_sample_cb;
        o.sample_ctx = r;
        s->pbt = tc_pbt_new(&o, err);
        return s->pbt ? 0 : -1;
    }
    case K_REPLAY: {
        const json_t *init = json_object_get(spec, "initial_config");
        const json_t *policy = json_object_get(spec, "policy");
        /* An empty policy has no initial config: the trial keeps its own. */
        if ((init && !json_is_null(init) && !json_is_object(init)) || !json_is_array(policy))
            return tc_error_set(err, TC_ERR_VALUE, "policy_file: malformed initial config or "
                                                   "policy");
        s->replay_initial = json_is_object(init) ? json_deep_copy(init) : NULL;
        s->replay_policy = json_deep_copy(policy);
        const char *tag = json_string_value(json_object_get(spec, "experiment_tag"));
        s->replay_tag = tcp_xstrdup(tag ? tag : "replay");
        return s->replay_policy && s->replay_tag ? 0 : nomem(err);
    }
    default:
        return 0;
    }
}

int tc_runner_set_scheduler(tc_runner *r, const json_t *spec, int host_driven, tc_error *err)
{
    static const char *const kinds[] = {"fifo", "asha", "hyperband", "median", "pbt",
                                        "pbt_replay"};
    const char *kind = json_string_value(json_object_get(spec, "kind"));
    const char *mode = json_string_value(json_object_get(spec, "mode"));
    const char *time_attr = json_string_value(json_object_get(spec, "time_attr"));
    const char *metric = json_string_value(json_object_get(spec, "metric"));
    struct runner_sched *s = tc_calloc(1, sizeof *s);
    if (!s)
        return nomem(err);
    s->kind = -1;
    for (int i = 0; kind && i < (int)(sizeof kinds / sizeof *kinds); i++)
        if (strcmp(kind, kinds[i]) == 0)
            s->kind = i;
    tc_sched_actions_init(&s->acts);
    tc_pbt_step_init(&s->step);
    s->host_driven = host_driven;
    tcp_sched_free(r);
    r->sched = s;
    if (s->kind < 0)
        return tc_error_set(err, TC_ERR_VALUE, "scheduler: unknown kind %s", kind ? kind : "?");
    if (mode && strcmp(mode, "max") != 0 && strcmp(mode, "min") != 0)
        return tc_error_set(err, TC_ERR_VALUE, "mode: must be 'min' or 'max', got %s", mode);
    s->mode_max = !mode || strcmp(mode, "max") == 0;
    s->time_attr = tcp_xstrdup(time_attr ? time_attr : "training_iteration");
    s->metric = tcp_xstrdup(metric ? metric : "episode_reward_mean");
    if (!s->time_attr || !s->metric)
        return nomem(err);
    return make_core(r, s, spec, err);
}

/* ------------------------------------------------------------------------ */
/* reading a result                                                         */
/* ------------------------------------------------------------------------ */

static int scan_number(const tc_scan *sc, const char *key, double *out)
{
    long i = tc_scan_find(sc, key, strlen(key));
    if (i < 0)
        return 0;
    const tc_field *f = &sc->fields[i];
    if (f->type == TC_F_NUMBER)
        *out = f->num;
    else if (f->type == TC_F_TRUE || f->type == TC_F_FALSE)
        *out = f->type == TC_F_TRUE;
    else
        return 0;
    return 1;
}

static const char *scheduler_name(int kind)
{
    switch (kind) {
    case K_ASHA: return "AsyncHyperBandScheduler";
    case K_HYPERBAND: return "HyperBandScheduler";
    case K_MEDIAN: return "MedianStoppingRule";
    case K_PBT: return "PopulationBasedTraining";
    default: return NULL;
    }
}

/* One result field a scheduler computes with: absent or null is "not
 * reported" (Ray skips the result), a number or bool is used, anything else
 * is an error naming the field. */
static int check_sched_field(const tc_scan *sc, int kind, const char *what, const char *key,
                             const tc_trial *t, tc_error *err)
{
    long i = tc_scan_find(sc, key, strlen(key));
    if (i < 0)
        return 0;
    const tc_field *f = &sc->fields[i];
    if (f->type != TC_F_STRING && f->type != TC_F_LIST)
        return 0;
    return tc_error_set(err, TC_ERR_TYPE, "%s: %s '%s' of trial %s must be a number, got %s %.*s",
                        scheduler_name(kind), what, key, t->trial_id,
                        f->type == TC_F_STRING ? "str" : "list",
                        (int)(f->val_len < 200 ? f->val_len : 200), sc->text + f->val_off);
}

int tcp_sched_check_result(const tc_runner *r, const tc_trial *t, tc_error *err)
{
    const struct runner_sched *s = r->sched;
    if (!s || s->host_driven || !scheduler_name(s->kind))
        return 0;
    if (check_sched_field(&r->scan, s->kind, "time_attr", s->time_attr, t, err) < 0 ||
        check_sched_field(&r->scan, s->kind, "metric", s->metric, t, err) < 0)
        return -1;
    return 0;
}

static int json_number_of(const json_t *v, double *out)
{
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 1;
    }
    return v && tc_json_number(v, out);
}

static void input_from_json(const struct runner_sched *s, const json_t *result, sched_input *in)
{
    memset(in, 0, sizeof *in);
    if (!result)
        return;
    in->has_time = json_number_of(tc_json_path_get(result, s->time_attr), &in->time);
    in->has_metric = json_number_of(tc_json_path_get(result, s->metric), &in->metric);
    in->iteration = json_object_get(result, "training_iteration");
}

/* ------------------------------------------------------------------------ */
/* side effects                                                             */
/* ------------------------------------------------------------------------ */

/* HyperBand's actions on other trials (sched.h: the core already did what
 * on_trial_remove would). */
static void apply_actions(tc_runner *r, const tc_sched_actions *acts)
{
    for (size_t i = 0; i < acts->n; i++) {
        tc_trial *o = tc_runner_trial(r, acts->v[i].trial);
        if (!o || (o->status != TC_PAUSED && o->status != TC_PENDING))
            continue;
        if (acts->v[i].kind == TC_SCHED_ACT_STOP) {
            tcp_set_status(r, o, TC_TERMINATED);
            o->restart_first = 0;
            tcp_journal_status(r, o);
        } else if (acts->v[i].kind == TC_SCHED_ACT_UNPAUSE && o->status == TC_PAUSED) {
            tcp_set_status(r, o, TC_PENDING);
            tcp_journal_status(r, o);
        }
    }
}

/* HyperBand's actions, and under HyperBandForBOHB the searcher hears of
 * each trial they unpause (Ray's _unpause_trial: searcher.on_unpause). */
static int apply_hb_actions(tc_runner *r, tc_error *err)
{
    struct runner_sched *s = r->sched;
    for (size_t i = 0; s->bohb && i < s->acts.n; i++) {
        tc_trial *o = tc_runner_trial(r, s->acts.v[i].trial);
        if (o && o->status == TC_PAUSED && s->acts.v[i].kind == TC_SCHED_ACT_UNPAUSE &&
            tcp_search_on_pause(r, o, 0, err) < 0) {
            s->acts.n = 0;
            return -1;
        }
    }
    apply_actions(r, &s->acts);
    s->acts.n = 0;
    return 0;
}

/* Ray's HyperBandForBOHB tags a result that reaches its bracket's
 * milestone with hyperband_info.budget = that milestone, read before the
 * bracket is processed (a halving moves it). */
static void note_bohb_budget(struct runner_sched *s, const tc_trial *t, double time)
{
    tc_hyperband_info info;
    s->bohb_trial = -1;
    if (tc_hyperband_info_of(s->hb, t->index, &info) == 0 && time >= info.cumul_r) {
        s->bohb_trial = t->index;
        s->bohb_budget = info.cumul_r;
    }
}

int tcp_sched_bohb_budget(tc_runner *r, const tc_trial *t, double *budget)
{
    struct runner_sched *s = r->sched;
    if (!s || s->kind != K_HYPERBAND || !s->bohb || s->host_driven)
        return -1;
    if (s->bohb_trial != t->index)
        return 0;
    s->bohb_trial = -1;         /* read once: it belongs to this one result */
    *budget = s->bohb_budget;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* the built-in cores                                                       */
/* ------------------------------------------------------------------------ */

static int builtin_event(tc_runner *r, tc_trial *t, int ev, const sched_input *in,
                         int *decision, tc_error *err)
{
    struct runner_sched *s = r->sched;
    tc_sched_view view = view_of(r);
    *decision = TC_SCHED_CONTINUE;
    int both = in->has_time && in->has_metric;
    switch (s ? s->kind : K_FIFO) {
    case K_ASHA:
        if (ev == TC_EV_ADD)
            return tc_asha_on_add(s->asha, t->index, err) < 0 ? -1 : 0;
        if (ev == TC_EV_RESULT && both) {
            int d = tc_asha_on_result(s->asha, t->index, in->time, in->metric, err);
            if (d < 0)
                return -1;
            *decision = d;
        } else if (ev == TC_EV_COMPLETE && both) {
            return tc_asha_on_complete(s->asha, t->index, in->time, in->metric, err);
        } else if (ev == TC_EV_REMOVE) {
            return tc_asha_on_remove(s->asha, t->index, err);
        }
        return 0;
    case K_HYPERBAND: {
        int rc = 0;
        if (ev == TC_EV_ADD)
            return tc_hyperband_on_add(s->hb, t->index, err);
        if (ev == TC_EV_RESULT && both) {
            if (s->bohb)
                note_bohb_budget(s, t, in->time);
            rc = tc_hyperband_on_result(s->hb, t->index, in->time, in->metric, &view, &s->acts,
                                        err);
            if (rc >= 0)
                *decision = rc;
            if (rc == TC_SCHED_PAUSE && s->bohb && tcp_search_on_pause(r, t, 1, err) < 0)
                return -1;
        } else if (ev == TC_EV_COMPLETE || ev == TC_EV_ERROR || ev == TC_EV_REMOVE) {
            rc = tc_hyperband_on_remove(s->hb, t->index, &view, &s->acts, err);
        } else {
            return 0;
        }
        if (rc < 0)
            return -1;
        return apply_hb_actions(r, err);
    }
    case K_MEDIAN:
        if (ev == TC_EV_RESULT && both) {
            int waiting = r->count[TC_PENDING] + r->count[TC_PAUSED] > 0;
            int d = tc_median_on_result(s->median, t->index, in->time, in->metric, waiting, err);
            if (d < 0)
                return -1;
            *decision = d;
        } else if (ev == TC_EV_COMPLETE && both) {
            return tc_median_on_complete(s->median, t->index, in->time, in->metric, err);
        }
        return 0;
    case K_PBT:
        if (ev == TC_EV_ADD)
            return tc_pbt_on_add(s->pbt, t->index, t->tag ? t->tag : "", t->config, err);
        if (ev == TC_EV_COMPLETE)
            return tc_pbt_on_complete(s->pbt, t->index, in->iteration, err);
        if (ev == TC_EV_RESULT) {
            if (!both && s->require_attrs)
                return tc_error_set(err, TC_ERR_VALUE,
                                    "PopulationBasedTraining: a result of trial %s has no %s; "
                                    "report it in every result, or pass require_attrs=False",
                                    t->trial_id, in->has_time ? s->metric : s->time_attr);
            tc_pbt_result pr = {both, in->time, in->metric, in->iteration};
            if (tc_pbt_on_result(s->pbt, t->index, &pr, &view, &s->step, err) < 0)
                return -1;
            *decision = s->step.decision;
            if (s->step.checkpoint)
                t->save_requested = 1;
            tc_trial *donor = tc_runner_trial(r, s->step.clone_from);
            int rc = donor ? tcp_pbt_clone_into(r, t, donor, &s->step, err) : 0;
            tc_pbt_step_clear(&s->step);
            return rc;
        }
        return 0;
    case K_REPLAY:
        if (ev == TC_EV_ADD && !t->logdir && s->replay_initial) {
            json_t *copy = json_deep_copy(s->replay_initial);
            if (!copy)
                return nomem(err);
            tcp_reconfigure(r, t, copy, NULL);
            return 0;
        }
        return ev == TC_EV_RESULT ? tcp_replay_result(r, t, in, err) : 0;
    default:
        return 0;
    }
}

int tc_runner_sched_builtin(tc_runner *r, tc_trial *t, int event, const json_t *result,
                            int *decision, tc_error *err)
{
    sched_input in;
    if (r->sched)
        input_from_json(r->sched, result, &in);
    else
        memset(&in, 0, sizeof in);
    return builtin_event(r, t, event, &in, decision, err);
}

/* FIFO (spec §8.1): the first PENDING trial that can start, else the first
 * PAUSED one. */
static tc_trial *fifo_choose(tc_runner *r)
{
    for (int pass = 0; pass < 2; pass++) {
        tc_status want = pass == 0 ? TC_PENDING : TC_PAUSED;
        if (r->count[want] == 0)
            continue;
        long i = r->fifo_from[pass];
        while (i < r->ntrials && r->trials[i]->status != want)
            i++;
        r->fifo_from[pass] = i;     /* nothing wanted below the first one found */
        /* Trials that cannot start now are skipped; one sharing a refused
         * request (its experiment's) is refused without asking again. */
        const tc_resources *refused = NULL;
        for (; i < r->ntrials; i++) {
            tc_trial *t = r->trials[i];
            if (t->status != want || t->saving)
                continue;
            const tc_resources *req = tc_trial_resources(r, t);
            if (req == refused)
                continue;
            if (tcp_can_start(r, t))
                return t;
            refused = req;
        }
    }
    return NULL;
}

void tcp_fifo_lower(tc_runner *r, const tc_trial *t)
{
    int pass = t->status == TC_PENDING ? 0 : t->status == TC_PAUSED ? 1 : -1;
    if (pass >= 0 && t->index < r->fifo_from[pass])
        r->fifo_from[pass] = t->index;
}

long tc_runner_sched_builtin_choose(tc_runner *r)
{
    struct runner_sched *s = r->sched;
    tc_sched_view view = view_of(r);
    if (s && s->kind == K_HYPERBAND)
        return tc_hyperband_choose(s->hb, &view);
    if (s && s->kind == K_PBT)
        return tc_pbt_choose(s->pbt, &view);
    tc_trial *t = fifo_choose(r);
    return t ? t->index : -1;
}

/* ------------------------------------------------------------------------ */
/* the runner's entry points                                                */
/* ------------------------------------------------------------------------ */

static int host_event(tc_runner *r, tc_trial *t, int ev, const char *line, size_t len,
                      int *decision, tc_error *err)
{
    *decision = TC_SCHED_CONTINUE;
    return r->host.sched_event(r->host.ctx, ev, t->index, line, len, decision, err);
}

static int hosted(const tc_runner *r)
{
    return r->sched && r->sched->host_driven && r->host.sched_event;
}

int tcp_sched_on_add(tc_runner *r, tc_trial *t, tc_error *err)
{
    int d;
    if (!r->sched)
        return 0;
    if (hosted(r))
        return host_event(r, t, TC_EV_ADD, NULL, 0, &d, err);
    sched_input none;
    memset(&none, 0, sizeof none);
    return builtin_event(r, t, TC_EV_ADD, &none, &d, err);
}

int tcp_sched_on_result(tc_runner *r, tc_trial *t, int *sched_decision, tc_error *err)
{
    struct runner_sched *s = r->sched;
    *sched_decision = TC_SCHED_CONTINUE;
    if (hosted(r))
        return host_event(r, t, TC_EV_RESULT, r->line.data, r->line.len, sched_decision, err);
    if (!s || s->kind == K_FIFO)
        return 0;
    sched_input in;
    memset(&in, 0, sizeof in);
    in.has_time = scan_number(&r->scan, s->time_attr, &in.time);
    in.has_metric = scan_number(&r->scan, s->metric, &in.metric);
    json_t *iteration = NULL;
    if (s->kind == K_PBT || s->kind == K_REPLAY) {
        long i = tc_scan_find(&r->scan, "training_iteration", 18);
        if (i >= 0)
            iteration = tc_json_loads(r->scan.text + r->scan.fields[i].val_off,
                                      r->scan.fields[i].val_len, NULL);
        in.iteration = iteration;
    }
    int rc = builtin_event(r, t, TC_EV_RESULT, &in, sched_decision, err);
    json_decref(iteration);
    return rc;
}

int tcp_sched_on_complete(tc_runner *r, tc_trial *t, const char *line, size_t len,
                          tc_error *err)
{
    int d;
    if (hosted(r))
        return host_event(r, t, TC_EV_COMPLETE, line, len, &d, err);
    if (!r->sched || r->sched->kind == K_FIFO)
        return 0;
    json_t *result = line ? tc_json_loads(line, len, NULL) : NULL;
    int rc = tc_runner_sched_builtin(r, t, TC_EV_COMPLETE, result, &d, err);
    json_decref(result);
    return rc;
}

int tcp_sched_on_error(tc_runner *r, tc_trial *t, tc_error *err)
{
    int d;
    if (hosted(r))
        return host_event(r, t, TC_EV_ERROR, NULL, 0, &d, err);
    if (!r->sched || r->sched->kind == K_FIFO)
        return 0;
    return tc_runner_sched_builtin(r, t, TC_EV_ERROR, NULL, &d, err);
}

/* Leaves RUNNING for a pause or a restart: the worker still has to save or
 * stop, so the trial waits for tc_runner_on_released. */
static void leave_for_restart(tc_runner *r, tc_trial *t, tc_status next)
{
    t->saving = 1;
    tcp_leave_running(r, t, next);
}

tc_decision tcp_sched_apply(tc_runner *r, tc_trial *t, int sched_decision)
{
    int save = t->save_requested;
    t->save_requested = 0;
    if (sched_decision == TC_SCHED_STOP) {
        /* (A user's scheduler may stop a trial its super() call cloned:
         * the staged copy is dropped.) */
        tcp_pbt_drop_clone(r, t);
        t->restart_first = t->restart_keep_files = 0;
        tcp_leave_running(r, t, TC_TERMINATED);
        return TC_STOP;
    }
    int paused = sched_decision == TC_SCHED_PAUSE;
    if (t->restart_first && t->restart_keep_files) {
        /* A PBT clone: the old run just ends; the staged checkpoint is put
         * in place when the worker is released. */
        if (paused)
            t->restart_first = 0;
        leave_for_restart(r, t, paused ? TC_PAUSED : TC_PENDING);
        return TC_RESTART;
    }
    if (t->restart_first) {
        /* A replay reconfiguration: save, then restart with the new config. */
        leave_for_restart(r, t, paused ? TC_PAUSED : TC_PENDING);
        if (paused)
            t->restart_first = 0;
        return TC_PAUSE;
    }
    if (paused) {
        leave_for_restart(r, t, TC_PAUSED);
        return TC_PAUSE;
    }
    return save ? TC_SAVE : TC_CONTINUE;
}

tc_trial *tcp_sched_choose(tc_runner *r, tc_error *err)
{
    /* Trials a scheduler restarts at once come first (Ray restarts a
     * cloned trial before anything else runs). */
    for (long i = 0; r->any_restart_first && i < r->ntrials; i++) {
        tc_trial *t = r->trials[i];
        if (t->restart_first && (t->status == TC_PENDING || t->status == TC_PAUSED)) {
            if (tcp_can_start(r, t))
                return t;
            if (!t->saving)
                break;   /* waits for resources: nothing overtakes it */
        }
    }
    long index;
    if (hosted(r) && r->host.sched_choose) {
        index = r->host.sched_choose(r->host.ctx, err);
        if (index < -1)
            return NULL;
    } else if (r->sched && r->sched->kind == K_HYPERBAND && r->sched->bohb) {
        tc_sched_view view = view_of(r);
        index = tc_hyperband_choose_bohb(r->sched->hb, &view, &r->sched->acts, err);
        if (index < -1) {
            r->sched->acts.n = 0;
            return NULL;
        }
        if (apply_hb_actions(r, err) < 0)
            return NULL;
    } else {
        index = tc_runner_sched_builtin_choose(r);
    }
    tc_trial *t = tc_runner_trial(r, index);
    if (!t || (t->status != TC_PENDING && t->status != TC_PAUSED) || !tcp_can_start(r, t))
        return NULL;
    return t;
}

static int runner_sched_act_impl(tc_runner *r, tc_trial *t, int action, tc_error *err);

/* The journal events it wrote are checked once, at the end: a lost one
 * fails the call (runner.c tcp_journal). */
int tc_runner_sched_act(tc_runner *r, tc_trial *t, int action, tc_error *err)
{
    return tcp_journal_check(r, runner_sched_act_impl(r, t, action, err), err);
}

static int runner_sched_act_impl(tc_runner *r, tc_trial *t, int action, tc_error *err)
{
    if (action == TC_SCHED_ACT_UNPAUSE) {
        if (t->status == TC_PAUSED) {
            tcp_set_status(r, t, TC_PENDING);
            tcp_journal_status(r, t);
        }
        return 0;
    }
    if (action != TC_SCHED_ACT_STOP)
        return tc_error_set(err, TC_ERR_VALUE, "unknown scheduler action %d", action);
    if (t->status == TC_PENDING || t->status == TC_PAUSED) {
        tcp_set_status(r, t, TC_TERMINATED);
        t->restart_first = 0;
        tcp_journal_status(r, t);
    } else if (t->status == TC_RUNNING) {
        /* Leaving RUNNING queues the attempt's STOP for the executor
         * (runner_actions.h; the attempt being decided gets it from
         * tc_runner_on_result). */
        tcp_leave_running(r, t, TC_TERMINATED);
    }
    return 0;
}

void tc_runner_expect_checkpoint(tc_runner *r, tc_trial *t)
{
    t->save_wait_rows = t->n_results;   /* it follows the row just logged */
}

static int runner_on_released_impl(tc_runner *r, tc_trial *t, int finished, tc_error *err);

/* The journal events it wrote are checked once, at the end: a lost one
 * fails the call (runner.c tcp_journal). */
int tc_runner_on_released(tc_runner *r, tc_trial *t, int finished, tc_error *err)
{
    return tcp_journal_check(r, runner_on_released_impl(r, t, finished, err), err);
}

static int runner_on_released_impl(tc_runner *r, tc_trial *t, int finished, tc_error *err)
{
    t->save_wait_rows = -1;   /* whatever it saved has arrived by now */
    if (t->status == TC_TERMINATED || t->status == TC_ERROR)
        tcp_pbt_forget_restore_source(r, t);   /* its worker writes nothing more */
    if (!t->saving)
        return 0;
    t->saving = 0;
    if (t->clone_dir)
        return tcp_pbt_finish_clone(r, t, err);
    if (finished && t->status == TC_PAUSED && !t->ran_ahead) {
        /* Its function returned while it was being paused, right after the
         * result that paused it: it is done, and the scheduler hears so as
         * of any completed trial (else HyperBand keeps it in its bracket and
         * its next halving meets a TERMINATED trial: "Trial with unexpected
         * status encountered"). A function that reported past the pause
         * before returning is not done: those results were dropped, and it
         * stays PAUSED to rerun them from its checkpoint. */
        int rc = tcp_sched_on_complete(r, t, t->last_text, t->last_text_len, err);
        tcp_set_status(r, t, TC_TERMINATED);
        tcp_journal_status(r, t);
        return rc;
    }
    return 0;
}

int tc_runner_stuck(tc_runner *r, tc_error *err)
{
    if (r->running > 0 || r->stopping || r->interrupted || !tc_runner_generation_done(r))
        return 0;
    int paused = 0, waiting = 0;
    for (long i = 0; i < r->ntrials; i++) {
        const tc_trial *t = r->trials[i];
        if (t->saving)
            return 0;
        paused += t->status == TC_PAUSED;
        waiting += t->status == TC_PENDING || t->status == TC_PAUSED;
    }
    if (!waiting)
        return 0;
    tc_error probe;
    tc_error_init(&probe);
    if (tcp_sched_choose(r, &probe) != NULL)
        return 0;
    if (probe.code != TC_OK) {
        tc_error_set(err, probe.code, "%s", probe.text);
        return 1;
    }
    if (paused)
        tc_error_set(err, TC_ERR_TUNE, "There are paused trials, but no more pending trials "
                                       "with sufficient resources.");
    else
        tc_error_set(err, TC_ERR_TUNE, "The scheduler chose none of the %d pending trials; "
                                       "they can never run.", waiting);
    return 1;
}

int tc_runner_sched_debug(tc_runner *r, tc_buf *out)
{
    struct runner_sched *s = r->sched;
    tc_sched_view view = view_of(r);
    switch (s ? s->kind : K_FIFO) {
    case K_ASHA:
        return tc_asha_debug_string(s->asha, out);
    case K_HYPERBAND:
        return tc_hyperband_debug_string(s->hb, &view, out);
    case K_MEDIAN:
        return tc_median_debug_string(s->median, out);
    case K_PBT:
        return tc_pbt_debug_string(s->pbt, out);
    case K_REPLAY:
        return tc_buf_printf(out, "PopulationBasedTraining replay: Step %zu",
                             s->replay_next) < 0 ? -1 : 0;
    default:
        return tc_buf_puts(out, "Using FIFO scheduling algorithm.") < 0 ? -1 : 0;
    }
}
