/* runner_actions.h — the runner's actions for an executor: the seam between
 * the engine, which decides, and an executor (the local process pool, local
 * mode, the Ray executor), which carries the decisions out.
 *
 * The runner queues an action as it decides: START when it starts a trial
 * (tc_runner_fill, tc_runner_start), STOP / PAUSE / SAVE / RESTORE when a
 * result's decision (a stop rule, a scheduler, a PBT exploit) or a call
 * from outside (stop_all, a scheduler's stop_trial, Ctrl-C) ends or
 * checkpoints an attempt. The executor takes them in order
 * (tc_runner_next_action), does what each says to the attempt it names,
 * and reports back through the runner's events: tc_runner_on_started,
 * on_result, on_checkpoint, on_complete, on_error, on_stopped,
 * on_released, and tc_runner_on_ended when an attempt is over.
 *
 * Invariants:
 *   - actions are taken in the order the runner decided them;
 *   - every START names a fresh attempt token; every other action names
 *     the attempt it is about (a trial's later attempt is another token);
 *   - an attempt gets at most one ending action (STOP, PAUSE or RESTORE):
 *     the first decided wins; none once the attempt is over (the executor
 *     reported it ended, or it was replaced), and one queued before the
 *     attempt ended is dropped when it is taken;
 *   - a START's texts are the action's own (tc_action_clear frees them);
 *   - a failure to queue (out of memory, the queue over its limit) is
 *     never silent: the call that queued fails, or, where it cannot fail
 *     (stop_all, Ctrl-C), the next tc_runner_next_action does. */
#ifndef TUNEC_RUNNER_ACTIONS_H
#define TUNEC_RUNNER_ACTIONS_H

#include "runner.h"

typedef struct tc_action {
    tc_action_kind kind;     /* TC_ACT_* (wire.h) */
    long trial;              /* the trial's index */
    tc_token token;          /* the attempt it is about */
    /* START only; owned (tc_action_clear), NULL for the other kinds. */
    char *config;            /* the trial's config, compact JSON */
    char *checkpoint;        /* absolute path its trainable restores, or NULL: from scratch */
    long restore_iteration;  /* the checkpoint's iteration (-1: none) */
    char *resources;         /* what it holds while it runs, JSON ({"cpu": ..}) */
} tc_action;

extern const char *const tc_action_kind_names[TC_ACT_RESTORE + 1];

/* Takes the oldest action: 1 with *out filled (its texts owned by the
 * caller: tc_action_clear), 0 when none is queued, -1 + err when an action
 * could not be queued (out of memory, the queue full) since the last
 * take. */
int tc_runner_next_action(tc_runner *r, tc_action *out, tc_error *err);
void tc_action_clear(tc_action *a);
/* Actions queued and not taken. */
size_t tc_runner_actions_pending(const tc_runner *r);
/* At most `limit` actions wait untaken (0: the default, 1 << 20); one more
 * is a TC_ERR_TUNE error ("action queue full"), not unbounded memory. */
void tc_runner_set_action_limit(tc_runner *r, size_t limit);

/* Chooses and starts trials while one can start (tc_runner_choose, then
 * tc_runner_start: a START each), at most max (< 0: no limit). Returns
 * how many started, or -1 + err (a host scheduler's choice failed, a
 * start failed). */
long tc_runner_fill(tc_runner *r, long max, tc_error *err);

/* Event: attempt token is over (its trainable returned or failed, its
 * worker is free again or gone). No action about it is queued from now on,
 * and those queued are dropped. A stale or unknown token is ignored. */
void tc_runner_on_ended(tc_runner *r, tc_token token);
/* 1 when tc_runner_on_ended was reported for token. */
int tc_runner_attempt_ended(const tc_runner *r, tc_token token);

#endif
