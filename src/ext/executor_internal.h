/* executor_internal.h — what the executor's files share: executor_local.c
 * (the Run type: trial starts, the step loop, methods), executor_workers.c
 * (the worker processes: spawning, frames, the poll loop, stopping and
 * reaping) and executor_remote.c (workers on a Ray cluster). Not installed. */
#ifndef TCX_EXECUTOR_INTERNAL_H
#define TCX_EXECUTOR_INTERNAL_H

#include <sys/types.h>
#include "tcx.h"
#include "tcx_host.h"
#include "proto.h"
#include "options.h"
#include "runner_actions.h"

enum { W_STARTING, W_IDLE, W_BUSY, W_STOPPING, W_DEAD };

typedef struct worker {
    pid_t pid;
    int fd;
    int state;
    tc_token token;          /* the attempt it runs or last ran (its trial:
                                tc_runner_attempt), 0 if none */
    char gpu_key[256];       /* CUDA_VISIBLE_DEVICES it was started with */
    unsigned char *trainables_sent; /* bit per trainable id: sent to it already */
    double stop_sent_at;     /* when it entered STOPPING */
    int finishing;           /* its trial ended (DONE/ERROR seen): READY is imminent,
                                so the next START may be queued behind it */
    int starts_pending;      /* STARTs sent whose READY has not come back: a READY for
                                an earlier attempt means a queued START follows */
    tc_token awaits_answer;  /* the attempt whose class trainable waits for the answer
                                to its last result (0: none): the engine's action for
                                that attempt carries it (tcx_run_actions), else
                                CONTINUE */
    tc_buf in, out;          /* unparsed input, unsent output */
    char hostname[256];
    double last_seen;        /* when it last sent anything (heartbeats included) */
} worker;

typedef struct {
    PyObject_HEAD
    tc_runner *runner;
    tc_host host;
    tcx_host_ctx host_ctx;
    worker *workers;
    int nworkers, cap_workers;
    int max_workers;
    PyObject *trainables;    /* list of bytes */
    PyObject *resolver;      /* callable or None */
    PyObject *stopper;       /* callable(trial_id, result) or None */
    PyObject *objects;       /* callable(ids) -> bytes, or None */
    PyObject *name_creator;  /* callable(snapshot) -> str, or None */
    PyObject *dirname_creator;/* trial_dirname_creator: callable(snapshot) -> str, or None */
    PyObject *sched_event;   /* a user scheduler's events (schedulers/_bridge.py), or None */
    PyObject *sched_choose;  /* its choose_trial_to_run() -> index, or None */
    PyObject *pbt_explore;   /* PBT custom_explore_fn(config) -> config, or None */
    PyObject *pbt_sample;    /* PBT mutation resampling: fn(id) -> value, or None */
    PyObject *search_suggest;/* a Python searcher (suggest/_bridge.py): fn(trial_id), or None */
    PyObject *search_event;  /* fn(event, trial_id, result_text or None), or None */
    PyObject *trial_resources;/* fn(experiment, config) -> resources dict or None: each
                                trial's own request (with_resources), or None */
    PyObject *launcher_fn;   /* fn(fd, request_json): starts a remote worker behind the
                                socket fd (tunec/_ray_executor.py), or None: local workers */
    long remote_seq;         /* remote workers started: their ids are -2 - n */
    PyObject *module;        /* for errors (borrowed from the type's module) */
    const struct tcx_launcher *launcher; /* how its workers start and end (below) */
    char **worker_argv;
    char **worker_env;
    char **gpu_names;        /* device id -> CUDA_VISIBLE_DEVICES name */
    int has_zygote;          /* workers are forked by the zygote (tunec/_zygote.py) */
    int zygote_fd;           /* its socket (owned by tunec._zygote), when has_zygote */
    PyObject *unheld;        /* callable() -> list of bytes, or NULL: the trainables' own
                                bytes, where the list holds the markers of trainables the
                                zygote holds (tunec/_zygote.py, held_blob), for workers it
                                does not fork (executor_workers.c) */
    worker local;            /* the in-process "worker" of local mode */
    double start_time;
    double time_budget_s;
    double stop_grace_s;
    double last_state_write;
    double last_state_cost;        /* seconds the last snapshot write took (auto period) */
    double state_period_s;
    double heartbeat_timeout_s; /* a busy worker silent this long is hung */
    int reuse_actors;
    int local_mode;
    int unbounded;           /* some experiment has num_samples = -1 */
    PyThreadState *saved;    /* set while the GIL is released */
    int callback_failed;     /* a Python callback raised during the loop */
    struct tcx_events *events;/* the event outbox for Python callbacks, or NULL
                                (executor_events.c) */
    tc_buf scratch;
} RunObject;

/* How the executor's worker processes are started and ended. The local
 * process pool's launcher (executor_workers.c: forked by the zygote or
 * spawned, signals, waitpid) is every Run's default; a remote launcher (a
 * worker whose socket is a socketpair relayed elsewhere, e.g. to a Ray
 * actor, and which is ended through a callback rather than a pid) fills
 * the same table. Frames, attempts, the poll loop and the handling of
 * dead, hung and stubborn workers are the same for every launcher. A
 * worker's `pid` is whatever id start() gave it. */
typedef struct tcx_launcher {
    /* Starts a worker whose end of the socket is child_fd (the caller
     * closes its copy afterwards) for trial t, the first it will run, with
     * key (key_of below: its CUDA_VISIBLE_DEVICES for a local worker); *id
     * names it. 0, or -1 + err. With the GIL. */
    int (*start)(RunObject *self, int child_fd, const char *key, const tc_trial *t, long *id,
                 tc_error *err);
    /* Ends w (hard: at once; else asks it to, SIGTERM) and waits until it
     * is gone. */
    void (*kill)(RunObject *self, worker *w, int hard);
    /* w's socket closed: waits for its end and says how it ended in why. */
    void (*reap)(RunObject *self, worker *w, char *why, size_t n);
    /* 1 when w has ended (without waiting), else 0. */
    int (*ended)(RunObject *self, worker *w);
    /* The key of the workers that may run trial t (a worker is reused only
     * for a trial with its key); NULL: the trial's CUDA_VISIBLE_DEVICES. */
    void (*key_of)(RunObject *self, const tc_trial *t, char *out, size_t n);
    /* Called on every round of tcx_reap_stuck (no GIL), or NULL. */
    void (*tick)(RunObject *self);
    /* 1: a worker may wait any time for its first message (HELLO), as a
     * remote one waits for a place on the cluster; it is judged hung only
     * after that. */
    int waits_for_placement;
} tcx_launcher;
extern const tcx_launcher tcx_local_launcher;   /* executor_workers.c */
/* executor_remote.c: workers that run elsewhere (Ray actors), started
 * through the Run's launcher_fn. */
extern const tcx_launcher tcx_remote_launcher;

/* Runs a Python callback from inside the GIL-released loop. */
#define WITH_GIL_BEGIN(self) do { if ((self)->saved) { PyEval_RestoreThread((self)->saved); (self)->saved = NULL; } } while (0)
#define WITH_GIL_END(self, was) do { if (was) (self)->saved = PyEval_SaveThread(); } while (0)

/* executor_sched.c */
int tcx_setup_scheduler(RunObject *self, const tc_scheduler_options *sched, tc_error *err);
void tcx_install_sched_callbacks(RunObject *self);
/* executor_search.c: a Python searcher's host callbacks; its setup after
 * the experiments (and the resume records) are in. */
void tcx_install_search_callbacks(RunObject *self);
int tcx_setup_searcher(RunObject *self, const tc_run_options *ro, tc_error *err);
/* Asks the searcher for trials while they could start (start_trials runs
 * between asks). With the GIL. */
int tcx_search_fill(RunObject *self, int (*start)(RunObject *, tc_error *), tc_error *err);
int tcx_name_trials(RunObject *self, long from, long to, tc_error *err);
extern const char tcx_sched_builtin_doc[];
PyObject *tcx_run_sched_builtin(RunObject *self, PyObject *args);
PyObject *tcx_run_sched_builtin_choose(RunObject *self, PyObject *unused);
PyObject *tcx_run_sched_act(RunObject *self, PyObject *args);
PyObject *tcx_run_sched_debug(RunObject *self, PyObject *unused);
PyObject *tcx_run_trial_statuses(RunObject *self, PyObject *unused);
PyObject *tcx_run_trial_snapshot(RunObject *self, PyObject *arg);
PyObject *tcx_run_has_resources(RunObject *self, PyObject *arg);

/* executor_resources.c: the per-trial resources callback (with_resources). */
void tcx_install_resources_callback(RunObject *self);

/* executor_events.c: the engine's event record for Python callbacks. Flush
 * moves the runner's queue to the outbox (any thread, no GIL needed); full:
 * the outbox is over its bound, so the step loop should not read workers;
 * wait_room waits (GIL released) until it is not. */
void tcx_events_flush(RunObject *self);
int tcx_events_full(RunObject *self);
void tcx_events_wait_room(RunObject *self, int timeout_ms);
void tcx_events_dealloc(RunObject *self);
extern const char tcx_record_events_doc[];
extern const char tcx_take_events_doc[];
PyObject *tcx_run_record_events(RunObject *self, PyObject *args, PyObject *kwds);
PyObject *tcx_run_take_events(RunObject *self, PyObject *args, PyObject *kwds);
/* event_batch.c: the object take_events returns, which takes over *events
 * (left empty, also on failure) and borrows decoder (may be NULL) and the
 * TC_EVT_KINDS interned kind names from the Run it keeps alive. */
struct tc_events;
struct tcx_decoder;
int tcx_event_batch_exec(PyObject *m);
PyObject *tcx_event_batch_new(RunObject *self, struct tc_events *events,
                              struct tcx_decoder *decoder, PyObject *const *kinds);
/* executor_local.c */
void tcx_free_strv(char **v);   /* frees a NULL-terminated array of strings */
/* Carries out the runner's queued actions (runner_actions.h) on the
 * workers: START (may_start: with the GIL, between polls; else a START is
 * an error), STOP / PAUSE / RESTORE to the worker of the attempt. 0 / -1. */
int tcx_run_actions(RunObject *self, int may_start, tc_error *err);

/* executor_workers.c */
/* A worker for trial t with key (the launcher's key_of): its slot or -1. */
int tcx_spawn_worker(RunObject *self, const tc_trial *t, const char *key, tc_error *err);
/* executor_zygote.c: a worker forked by the zygote (its socket on fd 3,
 * env as its environment); -1 when the run has none or it failed. */
pid_t tcx_zygote_spawn(RunObject *self, int child_fd, char **env);
extern const char tcx_use_zygote_doc[];
PyObject *tcx_run_use_zygote(RunObject *self, PyObject *args);
/* Before a worker the zygote did not fork gets a trainable: swaps the
 * zygote's markers in self->trainables for the trainables' own bytes (the
 * unheld callable, asked once). 0, or -1 with err set. */
int tcx_zygote_unhold(RunObject *self, tc_error *err);
int tcx_live_workers(RunObject *self);
/* Queues a frame for the worker (sent by the poll loop). */
void tcx_worker_send(worker *w, uint16_t type, int32_t trial, const void *data, size_t len);
/* Closes a dead worker's resources (the slot stays, marked DEAD). */
void tcx_worker_bury(worker *w);
/* Asks the worker to end its trial; TC_FLAG_STOP_SAVE: save a checkpoint first. */
void tcx_request_stop_flags(worker *w, uint16_t flags);
void tcx_request_stop(worker *w);
/* One frame from worker w (or the in-process worker of local mode). */
int tcx_handle_frame(RunObject *self, worker *w, const tc_frame *f, tc_error *err);
/* The worker's socket closed: its trial (if any) failed. */
int tcx_worker_lost(RunObject *self, worker *w, tc_error *err);
/* One poll round over all workers (GIL released by the caller): the number of
 * workers that had events (0 if none), or -1. */
int tcx_poll_once(RunObject *self, int timeout_ms, tc_error *err);
/* Kills workers that hang or ignore a STOP for too long. */
void tcx_reap_stuck(RunObject *self, tc_error *err);
/* Ends every worker: EXIT, a grace period, then SIGKILL. */
void tcx_shutdown_workers(RunObject *self, double grace_s);

#endif
