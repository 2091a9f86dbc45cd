/* runner.h — the trial runner: the engine's state machine (spec §6).
 *
 * Events in (a trial started, a result arrived, the function returned, the
 * trial failed), decisions out (which trial to start next, continue or stop).
 * The runner owns the trial table, the experiments' search spaces, resource
 * accounting, stop rules, per-trial result logging (through host sinks) and
 * the experiment-state record. It does no I/O of its own: the clock, trial
 * directory creation and file sinks come from tc_host.
 *
 * Invariants:
 *   - a trial's status only moves PENDING -> RUNNING -> (TERMINATED | ERROR),
 *     RUNNING -> PENDING on a retry after an error (max_failures) or a PBT
 *     clone, RUNNING -> PAUSED -> (PENDING | RUNNING | TERMINATED) when a
 *     scheduler pauses it (runner_sched.c);
 *   - resources are held exactly while a trial is RUNNING: its own request
 *     (host.trial_resources) or else its experiment's, fixed when the
 *     trial is added;
 *   - results for a trial that is not RUNNING are ignored (a worker may run
 *     ahead of a stop decision by a few reports);
 *   - result.json and progress.csv get exactly one line per accepted result.
 */
#ifndef TUNEC_RUNNER_H
#define TUNEC_RUNNER_H

#include "tunec.h"
#include "wire.h"    /* tc_status, tc_decision, TC_EV_* */

extern const char *const tc_status_names[5];

/* What the host does with the worker after a result (runner_sched.c):
 *   TC_CONTINUE  nothing (a class trainable gets CONTINUE);
 *   TC_STOP      stop it; the trial is over;
 *   TC_PAUSE     stop it after it saves a checkpoint (STOP flag 1); the
 *                trial is PAUSED (or PENDING) and restarts from that
 *                checkpoint;
 *   TC_RESTART   stop it without saving; the trial restarts from a
 *                checkpoint the runner has put in place (a PBT clone);
 *   TC_SAVE      continue after saving a checkpoint (CONTINUE flag 1; a
 *                function trainable keeps its own checkpoints). */
/* (tc_decision and the scheduler events TC_EV_* are in wire.h.) */

/* Host services. Sinks are opaque to the engine. */
typedef struct tc_sink tc_sink;
typedef struct tc_host {
    void *ctx;
    double (*now)(void *ctx);  /* wall clock, epoch seconds */
    /* Names a new trial directory `<parent>/<prefix><8 random chars>`
     * (mkdtemp style, spec §5.6), or with `exact` (trial_dirname_creator's
     * name) `<parent>/<prefix>`, and `<parent>/<prefix>_<4 hex>` when that
     * exists (Ray 1.x/2.x create_logdir): a path nothing holds when it is
     * called. It does not make the directory: make_dir does, once the
     * trial's start is in the journal, so that a driver killed in between
     * leaves a record naming a missing directory (made on resume) rather
     * than a directory no record names. Returns the malloc'd absolute path
     * or NULL + err. */
    char *(*name_trial_dir)(void *ctx, const char *parent, const char *prefix, int exact,
                            tc_error *err);
    /* Makes the directory path and its missing parents: 1 when it made
     * path, 0 when path was a directory already, -1 + err. */
    int (*make_dir)(void *ctx, const char *path, tc_error *err);
    /* Opens path for appending (created if missing); *existed tells whether
     * it held data already. */
    tc_sink *(*open_sink)(void *ctx, const char *path, int *existed, tc_error *err);
    int (*sink_write)(void *ctx, tc_sink *s, const char *data, size_t len, tc_error *err);
    void (*sink_close)(void *ctx, tc_sink *s);
    /* Replaces path with data atomically (temp file, rename): a crash leaves
     * the old or the new file, never a torn one. durable: also fsync, so the
     * file survives a power loss (the experiment state; params.json need
     * not pay for it once per trial). */
    int (*write_atomic)(void *ctx, const char *path, const char *data, size_t len, int durable,
                        tc_error *err);
    /* Optional: a stop rule implemented by the host (a Python Stopper),
     * asked once per accepted result, as Ray asks its stopper: *stop ends
     * this trial (Stopper.__call__), *stop_all the whole experiment
     * (Stopper.stop_all, which Ray checks after each result). -1 + err on
     * failure (a trial error; TC_ERR_CALLBACK: the run's error). */
    int (*stopper)(void *ctx, long trial, const json_t *result, int *stop, int *stop_all,
                   tc_error *err);
    /* Removes a directory tree (a checkpoint the retention rule dropped). */
    void (*remove_tree)(void *ctx, const char *path);
    /* Appends one line to the experiment's journal, durably against a killed
     * driver (written through, not buffered). NULL: no journal. */
    int (*journal)(void *ctx, const char *line, size_t len, tc_error *err);
    /* Optional: the whole text of path, in memory from tc_malloc that the
     * engine frees, its bytes in *len; NULL with err untouched when there
     * is no such file, NULL + err when it cannot be read. The runner reads
     * a restarting trial's result files back through it and cuts them
     * (result_cut.h) with write_atomic. NULL: result files are never read
     * back (nor cut). */
    char *(*read_file)(void *ctx, const char *path, size_t *len, tc_error *err);
    /* Replaces dst by a copy of src (a file or a directory tree). Returns
     * 1 when copied, 0 when src does not exist, -1 + err. (PBT clones.) */
    int (*copy_path)(void *ctx, const char *src, const char *dst, tc_error *err);
    /* A scheduler written in the host's language (a Python subclass): the
     * event for trial, with the result line (JSON text, NULL for add, error
     * and remove). Sets *decision (TC_SCHED_CONTINUE/PAUSE/STOP/NOOP) for
     * TC_EV_RESULT. The host may call tc_runner_sched_builtin and
     * tc_runner_sched_act meanwhile. NULL unless the scheduler is host-driven. */
    int (*sched_event)(void *ctx, int event, long trial, const char *result, size_t len,
                       int *decision, tc_error *err);
    /* The host scheduler's choose_trial_to_run: a trial index, -1 for none,
     * -2 + err on failure. */
    long (*sched_choose)(void *ctx, tc_error *err);
    /* PBT's custom_explore_fn (config borrowed; new reference or NULL + err)
     * and the resampling of a {"$tunec": "fn"} mutation. */
    json_t *(*pbt_explore)(void *ctx, const json_t *config, tc_error *err);
    json_t *(*pbt_sample)(void *ctx, json_int_t id, tc_error *err);
    /* A searcher written in the host's language (runner_search.c): asked
     * for the config of the trial that would get trial_id. Returns 1 with
     * *config (new reference, an object merged over the experiment's
     * config), 0 for "no suggestion yet", 2 for "finished", -1 + err. */
    int (*search_suggest)(void *ctx, const char *trial_id, json_t **config, tc_error *err);
    /* What the searcher hears of its trials: TC_EV_RESULT (the result
     * line), TC_EV_COMPLETE (the last result line, NULL if none) and
     * TC_EV_ERROR (NULL); under HyperBandForBOHB also TC_EV_PAUSE and
     * TC_EV_UNPAUSE (NULL: the scheduler paused / unpaused the trial; Ray's
     * searcher.on_pause / on_unpause), the pause before the result that
     * caused it, and results carry "hyperband_info" ({"budget": milestone}
     * at a milestone). -1 + err fails the run. */
    int (*search_event)(void *ctx, int event, const char *trial_id, const char *result,
                        size_t len, tc_error *err);
    /* Optional: the resources of one new trial, computed from its config
     * (tune.with_resources with a callable of the config). Asked once for
     * every trial the runner adds, searcher trials and resumed ones too
     * (the callable is a function of the config, so a resume asks again
     * rather than reading a record). Returns 1 with *request (a new
     * reference, a resources dict as resources_per_trial takes), 0 for
     * "the experiment's request", -1 + err. */
    int (*trial_resources)(void *ctx, int experiment, const json_t *config, json_t **request,
                           tc_error *err);
    /* Optional: write_atomic of data produced in pieces, so a large file
     * (the experiment state of 100,000 trials) is never whole in memory:
     * the host calls next(gen, out) with out emptied, writes what it added
     * and calls again while it returns 1; 0 is the end, -1 + err a failure
     * (the old file stays). */
    int (*write_atomic_stream)(void *ctx, const char *path,
                               int (*next)(void *gen, tc_buf *out, tc_error *err), void *gen,
                               int durable, tc_error *err);
    /* Optional: the cold store of finished trials' texts (runner_cold.c),
     * so that 100,000 of them need not stay in memory. cold_put keeps len
     * bytes and returns their position (>= 0), or -1 (they stay in
     * memory); cold_get returns len bytes from pos, malloc'd and
     * NUL-terminated, or NULL. */
    long long (*cold_put)(void *ctx, const char *data, size_t len);
    char *(*cold_get)(void *ctx, long long pos, size_t len);
} tc_host;

typedef struct tc_experiment_opts {
    const char *name;
    const char *exp_dir;          /* absolute <local_dir>/<name> */
    const char *trainable_name;
    int trainable_id;             /* host's handle for the trainable */
    const json_t *stop;           /* borrowed stop dict (validated) or NULL */
    tc_resources resources;       /* per trial */
    int max_failures;             /* -1 = unlimited */
    int log_json, log_csv;        /* built-in loggers on */
    int log_tbx;                  /* TensorBoard event files (TBXLogger) */
    long checkpoint_freq;         /* class trainables: save every N iterations (0: never) */
    int checkpoint_at_end;        /* save when the trial stops */
    long keep_checkpoints_num;    /* 0 = keep all */
    const char *checkpoint_score_attr;  /* NULL = training_iteration; "min-x" = lower is better */
    const char *restore_path;     /* absolute checkpoint every trial starts from, or NULL */
    int has_name_creator;         /* host renames trials (trial_name_creator) */
    /* log_to_file: where the trial's stdout / stderr go, relative to its
     * logdir (the worker redirects them), or NULL to leave it alone. */
    const char *stdout_file, *stderr_file;
    uint64_t seed;                /* of its space, recorded for resume */
    const char *trial_id;         /* the id of its first trial, or NULL to number it (a
                                     trial a TrialRunner was handed with its own id) */
} tc_experiment_opts;

typedef struct tc_runner_opts {
    int fail_fast;
    long max_concurrent;          /* 0 = no limit besides resources */
    long max_len_identifier;      /* MAX_LEN_IDENTIFIER, default 130 */
    double time_budget_s;         /* <= 0: none */
    const char *session_str;      /* %Y-%m-%d_%H-%M-%S of the run start */
    const char *hostname;         /* the driver's, for event file names */
} tc_runner_opts;

typedef struct tc_trial tc_trial;
typedef struct tc_runner tc_runner;
/* An attempt: one start of one trial, named by the runner (runner_attempt.c).
 * > 0, increasing within a run; frames of an attempt carry it. */
typedef int32_t tc_token;

struct tc_trial {
    long index;                   /* position in the trial table */
    int experiment;               /* index of its experiment */
    char trial_id[32];
    char *name;                   /* str(trial) */
    char *custom_name;            /* trial_name_creator's value or NULL */
    char *custom_dirname;         /* trial_dirname_creator's value or NULL */
    char *tag;                    /* experiment_tag */
    char *logdir;                 /* NULL until first started */
    json_t *config;               /* resolved config (owned) */
    json_t *origin_config;        /* the generated config when a scheduler has replaced it
                                     (PBT, replay): what a resume matches (owned) or NULL */
    json_t *evaluated_params;     /* owned */
    json_t *last_result;          /* owned, nested; NULL before the first or while
                                     last_text holds a newer result (parsed lazily) */
    char *last_text;              /* the last result.json line, without "\n" */
    size_t last_text_len;
    char *config_text;            /* public config as JSON text (spliced into results) */
    char *id_json, *tag_json;     /* trial_id / experiment_tag as JSON strings (tag: NULL
                                     when empty) */
    void *metrics;                /* tc_metrics * (metrics.c); NULL once compacted */
    char *cold_metrics;           /* a finished trial's metric analysis as JSON text
                                     (runner_cold.c), or NULL */
    int cold_stored;              /* last_text and cold_metrics are in the host's cold
                                     store at cold_pos (last_text_len + cold_metrics_len
                                     bytes), not in memory */
    long long cold_pos;
    size_t cold_metrics_len;
    size_t cold_sorted_len[2];    /* the last result and the metric analysis as the state
                                     file prints them (sorted keys, indent 2), after them in
                                     the cold store; 0: not there (runner_cold.c) */
    tc_status status;
    int num_failures;
    char *error_msg;              /* last failure text */
    char *error_file;
    tc_resources *resources;      /* its own request (owned), when has_own_resources; a
                                     pointer, as most trials use the experiment's (~1 KB) */
    int has_own_resources;        /* host.trial_resources gave one (else the experiment's) */
    int *gpu_ids;                 /* ngpu_ids GPUs it holds while RUNNING (owned) or NULL */
    int ngpu_ids;
    double start_time;            /* first start, epoch s; 0 before */
    double last_update_time;
    tc_token token;               /* its current (or last) attempt, 0 before its first start */
    int attempts;                 /* starts this session */
    long pid;                     /* the process of its current attempt, as the executor
                                     reported it (tc_runner_on_started); 0 until then */
    char *hostname;               /* where it runs (owned), as reported; NULL before */
    long n_results;               /* result rows in its files */
    long run_rows_base;           /* n_results when the current run started: a checkpoint
                                     after the run's k-th report follows row base + k */
    long last_iteration;          /* training_iteration of the last logged result */
    /* logging state */
    tc_sink *json_sink, *csv_sink, *tb_sink;
    void *tb;                     /* tc_tfevents * (log_tfevents.c), per trial */
    char *tb_path;                /* its current events file, or NULL */
    int tb_continue;              /* the next start appends to tb_path (after a pause) */
    tc_csv *csv;
    /* checkpoints */
    tc_ckpts ckpts;
    long restored_iteration;      /* iteration of the checkpoint the current run started
                                     from (-1: from scratch); results files are cut there */
    int resumed;                  /* restored from an earlier session's state */
    /* scheduling (runner_sched.c) */
    int saving;                   /* paused or restarting, its worker still saving or
                                     stopping: it may not start again until released */
    int restart_first;            /* started before other trials (a PBT clone, a replay
                                     reconfiguration: Ray restarts them at once) */
    int restart_keep_files;       /* the next restart continues the result files as they
                                     are (the restored checkpoint is another trial's) */
    int texts_stale;              /* config/tag changed: spliced texts rebuilt at start */
    int save_requested;           /* the scheduler wants a checkpoint after this result */
    char *transient_dir;          /* a checkpoint saved only for a pause or PBT (Ray keeps
                                     those in memory): deleted once a newer one exists */
    char *clone_dir, *clone_path; /* a PBT clone's checkpoint staged in the logdir until
                                     the worker is released (runner_sched.c), or NULL */
    long clone_iteration;
    char *source_copy_dir;        /* PBT: the checkpoint this run restored from, copied
                                     before its worker started (runner_pbt.c): clones of
                                     t copy the copy while the worker may rewrite the
                                     original. NULL: no copy */
    long save_wait_rows;          /* a checkpoint following this many result rows was asked
                                     for and has not arrived (-1: none): PBT does not clone
                                     it yet. Rows, not training_iteration: a trainable may
                                     report its own (from 0, in steps of 10, ...) */
    int search_end_pending;       /* ended; its searcher has not heard yet */
    int ran_ahead;                /* its current run reported results after it left
                                     RUNNING (a function runs ahead of the driver): those
                                     were not logged, so the run's end is not the trial's */
};

/* Where t runs (a worker's host name; NULL: ""), copied; kept as one
 * string per trial rather than a fixed array (runner_cold.c). -1 when out
 * of memory (the old name stays). */
int tc_trial_set_hostname(tc_trial *t, const char *hostname);

/* New runner; opts and host are copied. */
tc_runner *tc_runner_new(const tc_runner_opts *opts, const tc_host *host, tc_error *err);
void tc_runner_free(tc_runner *r);

/* Adds an experiment whose trials come from `space` (stolen, even on
 * failure). Returns the experiment index or -1. */
int tc_runner_add_experiment(tc_runner *r, const tc_experiment_opts *opts, tc_space *space,
                             tc_error *err);

/* Pulls up to max_new variants from the experiments' spaces into new PENDING
 * trials (fn/ctx resolve sample_from nodes, see tc_space_next). Returns the
 * number added, or -1. */
long tc_runner_generate(tc_runner *r, tc_eval_fn fn, void *ctx, long max_new, tc_error *err);
int tc_runner_generation_done(const tc_runner *r);

/* Sets a trial's custom name (trial_name_creator), before it first starts. */
int tc_runner_set_custom_name(tc_runner *r, long trial, const char *name, tc_error *err);
/* Sets the name of a trial's directory (trial_dirname_creator), before it
 * first starts: '/', '(' and ')' become '_' as in Ray; an empty name, "."
 * or ".." is an error naming trial_dirname_creator. */
int tc_runner_set_custom_dirname(tc_runner *r, long trial, const char *dirname, tc_error *err);

/* The scheduler's choice (FIFO, spec §8.1: the first PENDING trial whose
 * resources fit now, else the first PAUSED one), NULL if none (or the
 * concurrency limit is reached; err set if a host scheduler failed; err may
 * be NULL). Borrowed. */
tc_trial *tc_runner_choose(tc_runner *r, tc_error *err);
/* 1 when nothing runs, PENDING trials remain and none of them can ever run
 * with the total capacity; err says which (spec §1.3). */
int tc_runner_blocked(tc_runner *r, tc_error *err);

/* PENDING -> RUNNING: issues the trial's next attempt token (t->token),
 * takes resources and GPU ids, creates the logdir and params.json on the
 * first start, opens the result sinks. The executor starts the attempt and
 * reports where it runs with tc_runner_on_started. */
int tc_runner_start(tc_runner *r, tc_trial *t, tc_error *err);
/* The trial whose current (or last) attempt is token; NULL for a stale or
 * unknown token (an attempt killed and replaced): its frames are ignored.
 * Borrowed. */
tc_trial *tc_runner_attempt(const tc_runner *r, tc_token token);
/* Event: attempt token runs in process pid (> 0; else unchanged) on
 * hostname (NULL: unchanged), as the state file's location shows. A stale
 * token is ignored. 0, or -1 + err (out of memory). */
int tc_runner_on_started(tc_runner *r, tc_token token, long pid, const char *hostname,
                         tc_error *err);

/* A RESULT payload (JSON text from the worker). Fills *decision. A failure
 * of a stop rule becomes a trial error (decision TC_STOP, status ERROR or a
 * retry); only host-level failures return -1. */
int tc_runner_on_result(tc_runner *r, tc_trial *t, const char *json, size_t len,
                        tc_decision *decision, tc_error *err);
/* A RESULT of t's current run that arrived after t left RUNNING (a
 * function trainable runs ahead of the driver's stop or pause decision). It
 * is not logged; t->ran_ahead records it, so a paused function that then
 * returns is restarted from its checkpoint, not taken as complete. */
void tc_runner_on_late_result(tc_runner *r, tc_trial *t);
/* The function trainable returned (spec §3.2): last_result gets done=True,
 * no new row is logged; the trial is TERMINATED. */
int tc_runner_on_complete(tc_runner *r, tc_trial *t, tc_error *err);
/* The trial failed with `message` (traceback or signal). Appends to
 * error.txt; retries (-> PENDING) while max_failures allows, else ERROR.
 * With fail_fast, the experiment stops. */
int tc_runner_on_error(tc_runner *r, tc_trial *t, const char *message, tc_error *err);
/* Stops the experiment: PENDING trials become TERMINATED; RUNNING ones are
 * listed for the host to stop (tc_runner_on_stopped when they are). */
void tc_runner_stop_all(tc_runner *r);
int tc_runner_stopping(const tc_runner *r);
/* A RUNNING trial the host stopped on request (stop_all, time budget). */
int tc_runner_on_stopped(tc_runner *r, tc_trial *t, tc_error *err);
/* The worker saved a checkpoint of t: `dir` is its top directory and `path`
 * what restore() takes, both relative to the logdir; `iteration` the
 * trainable's own result count it holds; `run_reports` how many results
 * the current run had sent before it (-1: unknown, then `iteration` is
 * taken to be the training_iteration of the row it follows). Scores it
 * from the last result, applies the retention rule and journals it. */
int tc_runner_on_checkpoint(tc_runner *r, tc_trial *t, const char *dir, const char *path,
                            long iteration, long run_reports, int transient, tc_error *err);
/* The checkpoint a (re)start of t restores: a relative path in *rel (inside
 * the logdir) or an absolute one in *abs (the experiment's restore_path);
 * both NULL to start from scratch. Borrowed. */
void tc_trial_restore_source(const tc_runner *r, const tc_trial *t, const char **rel,
                             const char **abs, long *iteration);
/* Ctrl-C: the run ends without finishing its trials; the state keeps them
 * resumable (RUNNING trials restart from their latest checkpoint). */
void tc_runner_interrupt(tc_runner *r);
int tc_runner_interrupted(const tc_runner *r);

/* Resume: records of an earlier session's trials, {trial_id: record} (a
 * state snapshot entry updated by the journal's events; stolen). As the
 * spaces regenerate their variants (same seeds), a variant whose trial id
 * has a record takes the record's status, logdir, failures and checkpoints
 * instead of starting fresh; its config must equal the record's, or the
 * search space changed (TC_ERR_VALUE). RUNNING/PAUSED trials come back
 * PENDING (restarted from their newest checkpoint) — or, without
 * resume_unfinished, TERMINATED; ERROR trials stay
 * finished unless resume_errored (from their checkpoint) or restart_errored
 * (from scratch). */
int tc_runner_set_resume(tc_runner *r, json_t *records, int resume_unfinished,
                         int resume_errored, int restart_errored, tc_error *err);
/* The same from the state the reader indexed (state_read.h; taken, also on
 * failure): what tune.run's resume hands the runner, so that no record is
 * parsed before its trial is regenerated. 0. */
struct tc_state;
int tc_runner_set_resume_state(tc_runner *r, struct tc_state *st, int resume_unfinished,
                               int resume_errored, int restart_errored);
/* Records not yet matched by a regenerated variant (0 once all were). */
long tc_runner_resume_pending(const tc_runner *r);

/* Schedulers (spec §8; runner_sched.c). spec is {"kind": "fifo" | "asha" |
 * "hyperband" | "median" | "pbt" | "pbt_replay", "metric", "mode",
 * "time_attr", ...the kind's arguments} (borrowed). host_driven: events go to
 * host.sched_event (a user subclass); the built-in core still exists for the
 * host's calls to tc_runner_sched_builtin. Set before trials are generated.
 * Bad arguments: TC_ERR_VALUE naming them. */
int tc_runner_set_scheduler(tc_runner *r, const json_t *spec, int host_driven, tc_error *err);
/* The built-in core's handling of one event of trial t (the host scheduler's
 * super() call): result is the result as an object (flattened or nested;
 * borrowed; NULL for add/error/remove). *decision gets TC_SCHED_* for
 * TC_EV_RESULT. Side effects on other trials (HyperBand's stops and
 * unpauses, a PBT clone into t) are applied. 0 / -1. */
int tc_runner_sched_builtin(tc_runner *r, tc_trial *t, int event, const json_t *result,
                            int *decision, tc_error *err);
/* The built-in core's choose_trial_to_run: a trial index or -1. */
long tc_runner_sched_builtin_choose(tc_runner *r);
/* What the host scheduler did to another trial through the runner facade:
 * TC_SCHED_ACT_STOP (stop_trial: a PENDING/PAUSED trial ends, a RUNNING one
 * is stopped by the host's loop) or TC_SCHED_ACT_UNPAUSE (PAUSED ->
 * PENDING). 0 / -1. */
int tc_runner_sched_act(tc_runner *r, tc_trial *t, int action, tc_error *err);
/* The scheduler's debug_string, appended to out. */
int tc_runner_sched_debug(tc_runner *r, tc_buf *out);
/* The worker that ran t has finished stopping (READY, or it died): a paused
 * or restarting trial may start again. Also ends a paused trial whose
 * function returned while it was being paused (finished = 1) — unless the
 * function ran past the pause (tc_runner_on_late_result): then the results
 * after the pause were never logged, and the trial stays PAUSED to rerun
 * them from its checkpoint. */
int tc_runner_on_released(tc_runner *r, tc_trial *t, int finished, tc_error *err);
/* The host asked t's trainable for a checkpoint of its last result (TC_SAVE
 * or TC_PAUSE to a class trainable): PBT waits for it before cloning t. */
void tc_runner_expect_checkpoint(tc_runner *r, tc_trial *t);
/* 1 when nothing runs, nothing can start and trials are PAUSED or PENDING
 * forever (Ray's "There are paused trials, but no more pending trials with
 * sufficient resources."); err says so. */
int tc_runner_stuck(tc_runner *r, tc_error *err);

/* Searchers (runner_search.c). The experiment's trials come from
 * host.search_suggest instead of its space: at most max_trials of them
 * (num_samples; -1: until the searcher is finished), each asked for only
 * when it could start now. spec is the experiment's encoded config
 * (borrowed), which each suggestion is merged over and then resolved. Set
 * before the run starts (and after tc_runner_set_resume). 0 / -1. */
int tc_runner_set_searcher(tc_runner *r, int experiment, const json_t *spec, long max_trials,
                           tc_error *err);
/* The engine's own TPE as the experiment's searcher (search_space.h):
 * built from the spec's config and opts ({"metric", "mode", ...}); no host
 * callback is called for it. Bad options or a config it cannot model
 * (grid_search, randn) fail here, naming the config path. */
int tc_runner_set_tpe_searcher(tc_runner *r, int experiment, const json_t *spec,
                               long max_trials, const json_t *opts, tc_error *err);
/* 1 when a searcher (the host's or the engine's) makes the trials. */
int tc_runner_has_searcher(const tc_runner *r);
/* Delivers the ends of the searcher's trials, then asks for one new trial
 * if one could start now. Returns 1 when a trial was added, 0 when not, -1
 * on error (a failing host searcher: its exception). */
int tc_runner_search_step(tc_runner *r, tc_eval_fn fn, void *ctx, tc_error *err);

int tc_runner_is_finished(const tc_runner *r);
long tc_runner_num_trials(const tc_runner *r);
tc_trial *tc_runner_trial(tc_runner *r, long index);   /* borrowed or NULL */
const tc_experiment_opts *tc_runner_experiment(const tc_runner *r, int index);
long tc_runner_count(const tc_runner *r, tc_status status);
const tc_capacity *tc_runner_capacity(const tc_runner *r);
tc_capacity *tc_runner_capacity_mut(tc_runner *r);
long tc_runner_total_results(const tc_runner *r);

/* What t reserves while it runs: its own request, or its experiment's. */
const tc_resources *tc_trial_resources(const tc_runner *r, const tc_trial *t);

/* The trial's last result (borrowed, parsed on first use), or NULL. */
json_t *tc_trial_last_result(tc_trial *t);

/* New JSON views, or NULL when an allocation failed (never a partial one). A
 * snapshot has the attributes of tunec.trial.Trial. */
json_t *tc_trial_snapshot(const tc_runner *r, tc_trial *t);
/* experiment_state-<session>.json content (spec §10.6). */
json_t *tc_runner_state(const tc_runner *r, double start_time);
/* Writes it atomically into every experiment dir. */
int tc_runner_write_state(tc_runner *r, double start_time, tc_error *err);

#endif
