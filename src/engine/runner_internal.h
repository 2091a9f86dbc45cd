/* runner_internal.h — what the runner's files share (runner.c: lifecycle,
 * generation, scheduling; runner_result.c: the per-result path and
 * checkpoint registration; runner_resume.c: restarts and resume records;
 * runner_state.c: snapshots and the experiment state; runner_resources.c:
 * what each trial reserves). Not installed. */
#ifndef TUNEC_RUNNER_INTERNAL_H
#define TUNEC_RUNNER_INTERNAL_H

#include "runner.h"
#include "runner_events.h"
#include "runner_actions.h"
#include "state_read.h"

typedef struct experiment {
    tc_experiment_opts opts;       /* strings below are owned copies */
    json_t *stop;                  /* owned */
    tc_space *space;               /* owned; NULL once exhausted */
    int space_started;             /* its numbering was aligned (below) */
    int fixed_id_used;             /* opts.trial_id went to its first trial */
} experiment;

struct tc_runner {
    tc_runner_opts opts;
    char *session_str;
    char *hostname;                /* the driver's (TensorBoard file names) */
    tc_error deferred_err;         /* a failure where none can be returned (a journal
                                      event lost, a trial's closing TensorBoard record
                                      not written) since the last public call; that
                                      call fails with it (tcp_journal_check) */
    tc_host host;
    tc_capacity capacity;
    experiment *exps;
    int nexps;
    tc_trial **trials;
    long ntrials, cap_trials;
    long next_trial_number;        /* trial ids "%05d", shared by experiments */
    long next_variant_index;       /* tag counter, shared by experiments (§5.4) */
    long running;
    long count[5];                 /* trials per tc_status (tcp_set_status keeps it) */
    long fifo_from[2];             /* FIFO: no PENDING [0] / PAUSED [1] trial has a lower
                                      index (tcp_set_status lowers it, fifo_choose raises
                                      it), so a choice does not rescan finished trials */
    int any_restart_first;         /* some trial was ever flagged restart_first (PBT) */
    int stopping;                  /* stop_all requested */
    int interrupted;               /* Ctrl-C: end without finishing trials */
    long total_results;
    tc_buf scratch;                /* reused per result for log lines */
    tc_buf line;                   /* the result.json line being built */
    tc_scan scan;                  /* the worker's result, scanned */
    tc_scan line_scan;             /* the final line, scanned (CSV, metrics) */
    struct tc_state *state;        /* resume: the records not yet matched
                                      (state_read.c), parsed one at a time */
    struct runner_sched *sched;    /* NULL: FIFO (runner_sched.c) */
    struct runner_search *search;  /* NULL: no searcher (runner_search.c) */
    long search_ends;              /* trials with search_end_pending set */
    int resume_unfinished, resume_errored, restart_errored;
    struct tc_events *events;      /* NULL: not recording (runner_events.c) */
    long events_dropped;           /* events lost for lack of memory */
    int32_t *attempt_trial;        /* token -> trial index (runner_attempt.c) */
    size_t nattempts, cap_attempts;/* tokens issued; the array's capacity */
    uint8_t *attempt_flags;        /* token -> TCP_ATTEMPT_* (runner_actions.c) */
    tc_action *actions;            /* the action queue: [act_head, act_n) untaken */
    size_t act_head, act_n, act_cap, act_limit;
    tc_error action_err;           /* an action that could not be queued, reported by
                                      the next tc_runner_next_action */
    tc_token deciding;             /* the attempt whose result is being decided: its
                                      decision is queued by tc_runner_on_result itself */
};


/* runner_attempt.c */
int tcp_attempt_issue(tc_runner *r, tc_trial *t, tc_error *err);
void tcp_attempts_free(tc_runner *r);

/* runner_actions.c. Attempt flags: the executor reported it over; an
 * ending action (STOP, PAUSE, RESTORE) was queued for it. */
enum { TCP_ATTEMPT_ENDED = 1, TCP_ATTEMPT_END_QUEUED = 2 };
/* Queues kind (not START) for t's current attempt, unless the invariants
 * drop it. 0, or -1 + err. */
int tcp_action_push(tc_runner *r, tc_trial *t, tc_action_kind kind, tc_error *err);
/* The same where no error can be returned: a failure is latched for the
 * next tc_runner_next_action. */
void tcp_action_push_latched(tc_runner *r, tc_trial *t, tc_action_kind kind);
/* t's START (its attempt issued, logdir and checkpoint in place): the texts
 * are built and a place in the queue is reserved, so that the commit after
 * the trial is RUNNING cannot fail. 0, or -1 + err (nothing queued; a
 * cleared). */
int tcp_action_prepare_start(tc_runner *r, tc_trial *t, tc_action *a, tc_error *err);
void tcp_action_commit_start(tc_runner *r, tc_action *a);
/* t just left RUNNING (tcp_leave_running): its attempt is stopped unless it
 * is over, already ending, or being decided. */
void tcp_action_left_running(tc_runner *r, tc_trial *t);
void tcp_actions_free(tc_runner *r);

/* runner.c — helpers; returned strings and JSON are new */
char *tcp_xstrdup(const char *s);
void tcp_format_date(double epoch, char out[32]);
void tcp_env_name(const json_t *env, tc_buf *out);
void tcp_make_path_safe(char *s);
json_t *tcp_public_copy(const json_t *v);
char *tcp_join_path(const char *dir, const char *name);
/* final: the trial ends (TensorBoard gets its hparams); a pause is not final. */
void tcp_trial_close_sinks(tc_runner *r, tc_trial *t, int final);
int tcp_trial_set_name(tc_trial *t, const char *trainable);
/* Every status change goes through here: it keeps r->count. */
void tcp_set_status(tc_runner *r, tc_trial *t, tc_status next);
/* RUNNING -> another status: gives the resources back, closes the sinks,
 * journals the change. */
void tcp_leave_running(tc_runner *r, tc_trial *t, tc_status next);
/* Appends one event (stolen) to the journal. */
void tcp_journal(tc_runner *r, json_t *event);
/* rc when rc < 0 or no journal event was lost since the last check; else -1
 * with the loss in err (and the latch cleared). */
int tcp_journal_check(tc_runner *r, int rc, tc_error *err);
void tcp_journal_status(tc_runner *r, const tc_trial *t);

/* runner_cold.c: a finished trial (TERMINATED/ERROR, sinks closed) drops
 * its writers and keeps its result and metric analysis as text. */
void tcp_trial_compact(tc_runner *r, tc_trial *t);
/* b's text (taken) in an allocation of its own size: what a trial keeps for
 * the whole run is not a tc_buf's 256-byte start. */
char *tcp_fit_text(tc_buf *b);
/* A finished trial's parsed last result goes (its text stays). */
void tcp_trial_drop_result_tree(tc_trial *t);
/* t's metric_analysis, new. */
json_t *tcp_trial_metrics_json(const tc_runner *r, const tc_trial *t);
/* The last result text of a trial whose texts are in the cold store
 * (malloc'd; *len its length), or NULL. */
char *tcp_trial_cold_text(const tc_runner *r, const tc_trial *t, size_t *len);
/* The last result (*len0 bytes) and then the metric analysis (*len1) of a
 * trial in the cold store, as the state file prints them (sorted keys,
 * indent 2, at depth 0): malloc'd, or NULL when the store has not got them. */
char *tcp_trial_cold_sorted(const tc_runner *r, const tc_trial *t, size_t *len0,
                            size_t *len1);

/* Appends `, "last_result": <text>, "metric_analysis": <text>, "n_results":
 * N, "last_update_time": T` of a finished trial (nothing when it has no
 * result text) for its final journal event. -1 when out of memory. */
int tcp_trial_final_fields(const tc_runner *r, const tc_trial *t, tc_buf *out);

/* runner_state.c: the experiment state without (with_checkpoints 0) or
 * with its "checkpoints" list; one entry of that list (new). */
json_t *tcp_runner_state(const tc_runner *r, double start_time, int with_checkpoints);
json_t *tcp_state_entry(const tc_runner *r, tc_trial *t);
/* The same entry (new) for the streamed state file: when the cold store
 * holds t's last result and metric analysis as the file prints them,
 * *sorted is that text (malloc'd: *len0 bytes of the one, then *len1 of the
 * other) and the entry has the marker strings TCP_COLD_MARK "last_result"
 * and TCP_COLD_MARK "metric_analysis" in their places, which the writer
 * replaces by the texts (runner_state_stream.c); else *sorted is NULL and
 * the entry is tcp_state_entry's. */
json_t *tcp_state_entry_cold(const tc_runner *r, tc_trial *t, char **sorted, size_t *len0,
                             size_t *len1);
/* A control character no value of a snapshot's last_result or
 * metric_analysis key holds: dumped as "\u0001". */
#define TCP_COLD_MARK "\001tunec:"
/* runner_state_stream.c: tc_runner_write_state through
 * host.write_atomic_stream, one trial at a time (same bytes). */
int tcp_write_state_streamed(tc_runner *r, double start_time, tc_error *err);

/* runner_resume.c */
/* Resume: the regenerated trial t takes over its earlier session's record. */
int tcp_apply_record(tc_runner *r, tc_trial *t, const json_t *rec, tc_error *err);
/* The resume record of trial id, removed from the ones not yet matched:
 * *out a new reference or NULL (none). -1 when it could not be read. */
int tcp_take_record(tc_runner *r, const char *id, json_t **out, tc_error *err);

/* Cuts a restarting trial's result files back to keep_iteration (-1: none,
 * -2: all) and rebuilds its metric analysis from the rows kept. */
int tcp_prepare_restart(tc_runner *r, tc_trial *t, long keep_iteration, long keep_rows,
                        tc_error *err);

/* A scheduler gives t a new config (stolen) and tag (malloc'd, stolen; NULL:
 * keep): the generated config is kept for resume matching, the change is
 * journaled, and the spliced texts are rebuilt at the next start. */
void tcp_reconfigure(tc_runner *r, tc_trial *t, json_t *config, char *tag);

/* runner_sched.c — the runner's side of the scheduler */
void tcp_sched_free(tc_runner *r);
/* A new PENDING trial (generation, resume). 0 / -1. */
int tcp_sched_on_add(tc_runner *r, tc_trial *t, tc_error *err);
/* The decision for an accepted result of RUNNING t whose worker text is
 * scanned in r->scan and whose result.json line (done false) is r->line:
 * *sched_decision gets TC_SCHED_*. A failure of a host scheduler is
 * TC_ERR_CALLBACK. 0 / -1. */
int tcp_sched_on_result(tc_runner *r, tc_trial *t, int *sched_decision, tc_error *err);
/* A built-in scheduler's metric or time_attr that is in the scanned result
 * but not a number (Ray's scheduler fails computing with it): -1 with err. */
int tcp_sched_check_result(const tc_runner *r, const tc_trial *t, tc_error *err);
/* t ended by its stop rule or its function returning (result: its last
 * line, may be NULL), or failed for good. 0 / -1. */
int tcp_sched_on_complete(tc_runner *r, tc_trial *t, const char *line, size_t len,
                          tc_error *err);
int tcp_sched_on_error(tc_runner *r, tc_trial *t, tc_error *err);
/* Moves t out of RUNNING as the scheduler decided (after its line was
 * logged) and returns what the host must do with its worker. */
tc_decision tcp_sched_apply(tc_runner *r, tc_trial *t, int sched_decision);
/* t became PENDING or PAUSED (or was added): FIFO's start positions
 * (fifo_from) move down to it. */
void tcp_fifo_lower(tc_runner *r, const tc_trial *t);
/* The scheduler's choice among PENDING/PAUSED trials (NULL: none). */
tc_trial *tcp_sched_choose(tc_runner *r, tc_error *err);
/* 1 when t's resources fit now and it is not being saved. */
int tcp_can_start(tc_runner *r, const tc_trial *t);

/* runner_pbt.c: under PBT, t restarting from its checkpoint k gets a copy
 * of k taken before its worker starts, which t's clones copy instead of k
 * (the worker may write k again); the copy goes once t has saved anew or
 * has ended. Without PBT, nothing. 0 / -1. */
int tcp_pbt_copy_restore_source(tc_runner *r, tc_trial *t, const tc_ckpt *k, tc_error *err);
void tcp_pbt_forget_restore_source(tc_runner *r, tc_trial *t);

/* A new PENDING trial of experiment e from variant v (its config,
 * evaluated_params and tag are taken), id "%05ld" of next_trial_number. */
tc_trial *tcp_add_trial(tc_runner *r, int e, tc_variant *v, tc_error *err);

/* runner_resources.c: asks the host for t's own request (a new trial, named,
 * its config set); keeps it when there is one. A request that is malformed
 * or can never fit the capacity is -1 with err naming the trial. */
int tcp_trial_ask_resources(tc_runner *r, tc_trial *t, tc_error *err);

/* runner_search.c */
void tcp_search_free(tc_runner *r);
int tcp_search_active(const tc_runner *r);     /* may still add trials */
int tcp_search_on_result(tc_runner *r, tc_trial *t, const char *line, size_t len,
                         tc_error *err);
/* HyperBandForBOHB paused (1) or unpaused (0) t: the searcher hears
 * TC_EV_PAUSE / TC_EV_UNPAUSE. */
int tcp_search_on_pause(tc_runner *r, tc_trial *t, int paused, tc_error *err);
/* runner_sched.c: under HyperBandForBOHB, 1 and *budget when t's latest
 * result reached its bracket's milestone (once per result), else 0; -1 for
 * other schedulers. */
int tcp_sched_bohb_budget(tc_runner *r, const tc_trial *t, double *budget);

/* runner_events.c — the event record for Python callbacks; each is a
 * no-op unless recording is on. `text` is copied. */
void tcp_event(tc_runner *r, tc_trial *t, tc_event_kind kind, const char *text, size_t len);
void tcp_event_status(tc_runner *r, tc_trial *t, int status);
void tcp_event_checkpoint(tc_runner *r, tc_trial *t, const char *dir, const char *path);

#endif
