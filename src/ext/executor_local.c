/* executor_local.c — the local executor: tunec._tunec.Run.
 *
 * Owns a pool of worker processes (`python -m tunec._worker`, DESIGN §3),
 * each connected by a socketpair, and one poll loop over them. The loop runs
 * with the GIL released; it takes the GIL only to call a Python callback the
 * user asked for (sample_from, a stop function, trial_name_creator, pickling
 * opaque config objects). Frames go to the engine's runner (runner.c), and
 * its decisions go back to the workers as frames. This file holds the Run
 * type (trial starts, the step loop, its methods); the worker processes and
 * the poll loop are in executor_workers.c.
 *
 * Worker states: STARTING (spawned, HELLO not seen yet; frames can already be
 * queued), IDLE, BUSY (running a trial), STOPPING (STOP sent or trial over,
 * waiting for READY), DEAD. A worker bound to one CUDA_VISIBLE_DEVICES value
 * only runs trials given the same devices. */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor_internal.h"

/* ------------------------------------------------------------------------ */
/* small helpers                                                            */
/* ------------------------------------------------------------------------ */

void tcx_free_strv(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        tc_free(*p);
    tc_free(v);
}

static char **strv_from_json(const json_t *arr)
{
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
    char **v = tc_calloc(n + 1, sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        v[i] = tc_strdup(s ? s : "");
    }
    return v;
}

/* ------------------------------------------------------------------------ */
/* host callbacks that call Python                                          */
/* ------------------------------------------------------------------------ */

/* The host stopper (spec §7.2): a Python Stopper's stopper(trial_id, result)
 * and then stop_all(), both after every result as Ray calls them, in one
 * GIL section (installed only when the user gave a Stopper). The host
 * context is embedded in the Run object, which gives the Run back. */
static int python_stopper(void *ctx, long trial, const json_t *result, int *stop, int *stop_all,
                          tc_error *err)
{
    RunObject *self = (RunObject *)((char *)ctx - offsetof(RunObject, host_ctx));
    int was_released = self->saved != NULL;
    int rc = 0;
    WITH_GIL_BEGIN(self);
    tc_trial *t = tc_runner_trial(self->runner, trial);
    PyObject *res = tcx_from_json(result);
    PyObject *ret = res ? PyObject_CallFunction(self->stopper, "sO", t->trial_id, res) : NULL;
    int truth = ret ? PyObject_IsTrue(ret) : -1;
    Py_XDECREF(ret);
    ret = NULL;
    if (truth >= 0) {
        *stop = truth;
        ret = PyObject_CallMethod(self->stopper, "stop_all", NULL);
        truth = ret ? PyObject_IsTrue(ret) : -1;
        if (truth >= 0)
            *stop_all = truth;
    }
    if (truth < 0)
        rc = tcx_error_from_python(err);
    Py_XDECREF(res);
    Py_XDECREF(ret);
    WITH_GIL_END(self, was_released);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* starting trials                                                          */
/* ------------------------------------------------------------------------ */

/* CUDA_VISIBLE_DEVICES for a trial: the names (as the driver sees them) of
 * the devices the engine assigned. */
static void gpu_key_of(RunObject *self, const tc_trial *t, char *out, size_t n)
{
    size_t k = 0;
    int ngpu_names = 0;
    while (self->gpu_names && self->gpu_names[ngpu_names])
        ngpu_names++;
    out[0] = '\0';
    for (int i = 0; i < t->ngpu_ids && k + 8 < n; i++) {
        int id = t->gpu_ids[i];
        if (id < ngpu_names)
            k += (size_t)snprintf(out + k, n - k, i ? ",%s" : "%s", self->gpu_names[id]);
        else
            k += (size_t)snprintf(out + k, n - k, i ? ",%d" : "%d", id);
    }
}

/* Collects the ids of opaque-object markers in a config. */
static void collect_object_ids(const json_t *v, json_t *ids)
{
    if (json_is_object(v)) {
        const json_t *mark = json_object_get(v, "$tunec");
        if (json_is_string(mark) && strcmp(json_string_value(mark), "obj") == 0) {
            json_array_append(ids, json_object_get(v, "id"));
            return;
        }
        const char *k;
        json_t *item;
        json_object_foreach((json_t *)v, k, item) collect_object_ids(item, ids);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) collect_object_ids(item, ids);
    }
}

/* The START message of trial t (new): names, config, and how to checkpoint
 * and restore it. */
static json_t *start_message(RunObject *self, const tc_trial *t)
{
    const tc_experiment_opts *ex = tc_runner_experiment(self->runner, t->experiment);
    const char *rel, *abs;
    long iteration;
    tc_trial_restore_source(self->runner, t, &rel, &abs, &iteration);
    json_t *restore = json_null();
    if (rel) {
        tc_buf b;
        tc_buf_init(&b);
        tc_buf_printf(&b, "%s/%s", t->logdir, rel);
        restore = json_string(b.data ? b.data : "");
        tc_buf_free(&b);
    } else if (abs) {
        restore = json_string(abs);
    }
    return json_pack("{s:s,s:s,s:s,s:O,s:s,s:i,s:I,s:i,s:o,s:o,s:I,s:I,s:b,s:b,s:s?,s:s?}",
                     "trial_id", t->trial_id, "trial_name", t->name, "logdir", t->logdir,
                     "config", t->config, "experiment_tag", t->tag ? t->tag : "",
                     "trainable", ex->trainable_id, "trial", (json_int_t)t->index,
                     "attempt", (int)t->token,
                     "resources", tc_resources_to_json(tc_trial_resources(self->runner, t)), "restore", restore,
                     "restore_iteration", (json_int_t)iteration,
                     "checkpoint_freq", (json_int_t)ex->checkpoint_freq,
                     "checkpoint_at_end", ex->checkpoint_at_end,
                     "reuse_actors", self->reuse_actors,
                     "stdout_file", ex->stdout_file, "stderr_file", ex->stderr_file);
}

/* Queues TRAINABLE (first time), OBJECTS (when the config holds opaque
 * values) and START frames for trial t on worker w. Called with the GIL. */
static int send_start(RunObject *self, worker *w, tc_trial *t, tc_error *err)
{
    const tc_experiment_opts *ex = tc_runner_experiment(self->runner, t->experiment);
    int tid = ex->trainable_id;
    unsigned char bit = (unsigned char)(1u << (tid % 8));
    if (!(w->trainables_sent[tid / 8] & bit)) {
        PyObject *blob = PyList_GET_ITEM(self->trainables, tid);   /* borrowed */
        tcx_worker_send(w, TC_MSG_TRAINABLE, tid, PyBytes_AS_STRING(blob),
                    (size_t)PyBytes_GET_SIZE(blob));
        w->trainables_sent[tid / 8] |= bit;
    }
    json_t *ids = json_array();
    collect_object_ids(t->config, ids);
    if (json_array_size(ids) > 0 && self->objects != Py_None) {
        PyObject *pyids = tcx_from_json(ids);
        PyObject *blob = pyids ? PyObject_CallOneArg(self->objects, pyids) : NULL;
        Py_XDECREF(pyids);
        if (!blob || !PyBytes_Check(blob)) {
            Py_XDECREF(blob);
            json_decref(ids);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "objects callback must return bytes");
            return tcx_error_from_python(err);
        }
        tcx_worker_send(w, TC_MSG_OBJECTS, t->token, PyBytes_AS_STRING(blob),
                    (size_t)PyBytes_GET_SIZE(blob));
        Py_DECREF(blob);
    }
    json_decref(ids);
    json_t *msg = start_message(self, t);
    tc_buf_clear(&self->scratch);
    if (!msg || tc_json_dump(msg, &self->scratch, TC_DUMP_COMPACT) < 0) {
        json_decref(msg);
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    }
    json_decref(msg);
    tcx_worker_send(w, TC_MSG_START, t->token, self->scratch.data, self->scratch.len);
    w->state = W_BUSY;
    w->token = t->token;
    w->finishing = 0;
    w->starts_pending++;
    return 0;
}

/* START: the attempt goes to a worker that may run it. Called with the GIL. */
static int do_start(RunObject *self, const tc_action *a, tc_error *err)
{
    tc_trial *t = tc_runner_attempt(self->runner, a->token);
    if (!t)
        return 0;   /* replaced before it was carried out */
    /* The engine took the resources first: they decide the GPU devices,
     * and the devices decide which worker may run the trial. */
    char key[256];
    if (self->launcher->key_of)
        self->launcher->key_of(self, t, key, sizeof key);
    else
        gpu_key_of(self, t, key, sizeof key);
    /* An idle worker first, then one finishing its trial (the START
     * waits in its socket behind READY), else a new process. */
    int slot = -1;
    for (int pass = 0; pass < 2 && slot < 0; pass++) {
        for (int i = 0; i < self->nworkers; i++) {
            worker *w = &self->workers[i];
            int usable = pass == 0 ? w->state == W_IDLE
                                   : (w->state == W_STOPPING && w->finishing);
            if (usable && strcmp(w->gpu_key, key) == 0) {
                slot = i;
                break;
            }
        }
    }
    if (slot < 0) {
        /* Make room: idle workers bound to other devices go first. */
        if (tcx_live_workers(self) >= self->max_workers) {
            for (int i = 0; i < self->nworkers; i++) {
                worker *w = &self->workers[i];
                if (w->state == W_IDLE) {
                    tcx_worker_send(w, TC_MSG_EXIT, -1, NULL, 0);
                    self->launcher->kill(self, w, 0);
                    tcx_worker_bury(w);
                    break;
                }
            }
        }
        slot = tcx_spawn_worker(self, t, key, err);
        if (slot < 0)
            return -1;
    }
    worker *w = &self->workers[slot];
    /* Where the attempt runs (a new worker names its host in HELLO). */
    if (tc_runner_on_started(self->runner, t->token, (long)w->pid, w->hostname, err) < 0)
        return -1;
    return send_start(self, w, t, err);
}

/* STOP, PAUSE (save first), RESTORE: the worker running the attempt is
 * asked to end it. A worker not yet started ends once it is (no frame is
 * read before HELLO). A STOP of a trial still RUNNING (stop_all, the time
 * budget) is reported back as stopped. */
static void do_end(RunObject *self, const tc_action *a)
{
    for (int i = 0; i < self->nworkers; i++) {
        worker *w = &self->workers[i];
        if (w->token != a->token || (w->state != W_BUSY && w->state != W_STARTING))
            continue;
        int starting = w->state == W_STARTING;
        /* PAUSE: save a checkpoint first (STOP flag); the trial restarts
         * from it once this worker is free (READY). The STOP frame is also
         * the answer a class trainable waits for after its result: it stops
         * right away, so its worker can take the next trial. */
        tcx_request_stop_flags(w, a->kind == TC_ACT_PAUSE ? TC_FLAG_STOP_SAVE : 0);
        if (w->awaits_answer == a->token) {
            w->finishing = 1;
            w->awaits_answer = 0;
        }
        if (a->kind != TC_ACT_STOP)
            return;
        if (starting)
            w->state = W_STOPPING, w->stop_sent_at = tcx_now();
        tc_trial *t = tc_runner_attempt(self->runner, a->token);
        if (t && t->status == TC_RUNNING)
            tc_runner_on_stopped(self->runner, t, NULL);
        return;
    }
}

/* SAVE (PBT's upper quantile): a class trainable waiting for its answer
 * saves a checkpoint now and goes on; a function trainable checkpoints on
 * its own, so there is nothing to send it. */
static void do_save(RunObject *self, const tc_action *a)
{
    for (int i = 0; i < self->nworkers; i++) {
        worker *w = &self->workers[i];
        if (w->awaits_answer != a->token || w->state != W_BUSY)
            continue;
        tc_frame_append_flags(&w->out, TC_MSG_CONTINUE, TC_FLAG_CONTINUE_SAVE, a->token, NULL, 0);
        w->awaits_answer = 0;
        return;
    }
}

int tcx_run_actions(RunObject *self, int may_start, tc_error *err)
{
    tc_action a;
    int got;
    while ((got = tc_runner_next_action(self->runner, &a, err)) > 0) {
        int rc = 0;
        if (a.kind == TC_ACT_START)
            rc = may_start ? do_start(self, &a, err)
                           : tc_error_set(err, TC_ERR_TUNE, "a trial started outside a start step");
        else if (a.kind == TC_ACT_SAVE)
            do_save(self, &a);
        else
            do_end(self, &a);
        tc_action_clear(&a);
        if (rc < 0)
            return -1;
    }
    return got;
}

/* Starts every trial the runner chooses while resources allow, and carries
 * out the STARTs. Returns 0, or -1 with err set. Called with the GIL. */
static int start_trials(RunObject *self, tc_error *err)
{
    if (tc_runner_fill(self->runner, -1, err) < 0)
        return -1;
    return tcx_run_actions(self, 1, err);
}

/* New trials from the search spaces, with names from trial_name_creator.
 * Called with the GIL (resolvers are Python). */
static int generate(RunObject *self, tc_error *err)
{
    if (tc_runner_generation_done(self->runner))
        return 0;
    /* A finite space is generated up front in large batches (Ray shows every
     * trial PENDING from the start); an endless one (num_samples=-1) only as
     * fast as trials can start. */
    long want = self->unbounded ? self->max_workers : 4096;
    long pending = tc_runner_count(self->runner, TC_PENDING);
    if (pending >= want / 4 + 1)
        return 0;
    long before = tc_runner_num_trials(self->runner);
    long added = tc_runner_generate(self->runner, tcx_eval_fn,
                                    self->resolver == Py_None ? NULL : self->resolver,
                                    want - pending, err);
    if (added < 0)
        return -1;
    return tcx_name_trials(self, before, before + added, err);
}

/* One creator's str for trial i (its snapshot as a tune Trial), or NULL
 * with a Python error set. New reference. */
static PyObject *call_creator(RunObject *self, PyObject *creator, const char *what, long i)
{
    json_t *snap = tc_trial_snapshot(self->runner, tc_runner_trial(self->runner, i));
    PyObject *py = snap ? tcx_from_json(snap) : NULL;
    json_decref(snap);
    if (!py && !PyErr_Occurred())
        PyErr_NoMemory();
    PyObject *value = py ? PyObject_CallOneArg(creator, py) : NULL;
    Py_XDECREF(py);
    if (value && !PyUnicode_Check(value)) {
        PyErr_Format(PyExc_TypeError, "%s must return a str, got %.100s", what,
                     Py_TYPE(value)->tp_name);
        Py_CLEAR(value);
    }
    if (value && !PyUnicode_AsUTF8(value))    /* lone surrogates */
        Py_CLEAR(value);
    return value;
}

/* trial_name_creator, then trial_dirname_creator (which sees the custom
 * name, as Ray's Trial does), over trials [from, to) (variant and searcher
 * trials alike). Called with the GIL. */
int tcx_name_trials(RunObject *self, long from, long to, tc_error *err)
{
    if (self->name_creator == Py_None && self->dirname_creator == Py_None)
        return 0;
    for (long i = from; i < to; i++) {
        if (self->name_creator != Py_None) {
            PyObject *name = call_creator(self, self->name_creator, "trial_name_creator", i);
            if (!name)
                return tcx_error_from_python(err);
            int rc = tc_runner_set_custom_name(self->runner, i, PyUnicode_AsUTF8(name), err);
            Py_DECREF(name);
            if (rc < 0)
                return -1;
        }
        if (self->dirname_creator != Py_None) {
            PyObject *dir = call_creator(self, self->dirname_creator, "trial_dirname_creator", i);
            if (!dir)
                return tcx_error_from_python(err);
            int rc = tc_runner_set_custom_dirname(self->runner, i, PyUnicode_AsUTF8(dir), err);
            Py_DECREF(dir);
            if (rc < 0)
                return -1;
        }
    }
    return 0;
}

static int maybe_write_state(RunObject *self, int force, tc_error *err)
{
    double now = tcx_now();
    /* Ray's "auto" checkpoint period: a snapshot costs O(trials), so the
     * period grows to 19 times the last write's duration (writes take at
     * most 5% of the run) and a large experiment's per-trial cost stays flat. */
    double period = self->state_period_s;
    if (period < 19 * self->last_state_cost)
        period = 19 * self->last_state_cost;
    if (!force && now - self->last_state_write < period)
        return 0;
    int rc = tc_runner_write_state(self->runner, self->start_time, err);
    self->last_state_write = tcx_now();
    self->last_state_cost = self->last_state_write - now;
    return rc;
}

static int workers_busy(RunObject *self)
{
    for (int i = 0; i < self->nworkers; i++) {
        int st = self->workers[i].state;
        if ((st == W_BUSY || st == W_STOPPING) && self->workers[i].token > 0)
            return 1;
    }
    return 0;
}

PyDoc_STRVAR(run_step_doc,
"step(timeout, once=False) -> bool\n\n"
"Runs the experiment for up to `timeout` seconds: starts trials, moves\n"
"results from workers into the engine, stops trials. Returns True once\n"
"every trial is finished. once=True returns after the first batch of\n"
"worker events (and the trial starts they allow), as Ray's\n"
"TrialRunner.step processes one event. The GIL is released while waiting.");

static PyObject *Run_step(RunObject *self, PyObject *args)
{
    double timeout;
    int once = 0;
    if (!PyArg_ParseTuple(args, "d|p:step", &timeout, &once))
        return NULL;
    tc_error err;
    tc_error_init(&err);
    double deadline = tcx_now() + timeout;
    int handled = 0;   /* a poll round moved frames (once: the step is over) */
    for (;;) {
        /* The searcher is asked before the scheduler chooses, as in Ray's
         * TrialRunner.step (_update_trial_queue, then choose_trial_to_run):
         * HyperBandForBOHB halves a waiting bracket only when nothing is
         * pending, so asking after it would make that a race. */
        if (generate(self, &err) < 0 || tcx_search_fill(self, start_trials, &err) < 0 ||
            start_trials(self, &err) < 0)
            goto fail;
        /* Finished once every trial is, and every worker has reported back
         * (a checkpoint taken at the end arrives after the last result). */
        if (tc_runner_is_finished(self->runner) && !workers_busy(self)) {
            tcx_sinks_flush(&self->host_ctx);
            tcx_events_flush(self);
            if (tcx_host_failed(&self->host_ctx, &err))
                goto fail;
            if (maybe_write_state(self, 1, &err) < 0)
                goto fail;
            Py_RETURN_TRUE;
        }
        if (tc_runner_blocked(self->runner, &err)) {
            if (err.code == TC_OK)
                tc_error_set(&err, TC_ERR_TUNE, "Insufficient cluster resources to launch trial");
            goto fail;
        }
        if (!workers_busy(self) && tc_runner_stuck(self->runner, &err))
            goto fail;
        double now = tcx_now();
        if (now >= deadline || (once && handled))
            break;
        int wait_ms = (int)((deadline - now) * 1000.0);
        if (wait_ms > 100)
            wait_ms = 100;
        int rc;
        self->saved = PyEval_SaveThread();
        /* With Python callbacks, their thread holds the GIL much of the
         * time: keep polling without it while nothing but results happen
         * (no trial left or joined RUNNING), for up to 20 ms. */
        double hold_until = tcx_now() + 0.02;
        long running = tc_runner_count(self->runner, TC_RUNNING);
        do {
            tcx_events_flush(self);
            if (tcx_events_full(self)) {
                /* Python callbacks are behind: read no worker until they
                 * catch up (executor_events.c); nor judge workers by their
                 * silence. */
                tcx_events_wait_room(self, wait_ms);
                rc = 0;
            } else {
                rc = tcx_poll_once(self, wait_ms, &err);
                /* What the frames decided for other trials (a scheduler's
                 * stop_trial, fail_fast, stop_all from a Stopper). */
                if (rc >= 0 && tcx_run_actions(self, 0, &err) < 0)
                    rc = -1;
                tcx_sinks_flush(&self->host_ctx);
                tcx_events_flush(self);
                if (rc >= 0 && tcx_host_failed(&self->host_ctx, &err))
                    rc = -1;
                if (rc >= 0)
                    tcx_reap_stuck(self, &err);
            }
        } while (self->events && rc > 0 && !once && !tc_runner_stopping(self->runner) &&
                 tc_runner_count(self->runner, TC_RUNNING) == running &&
                 tcx_now() < hold_until && tcx_now() < deadline);
        if (rc > 0)
            handled = 1;
        if (self->saved) {
            PyEval_RestoreThread(self->saved);
            self->saved = NULL;
        }
        if (rc < 0)
            goto fail;
        if (self->time_budget_s > 0 && tcx_now() - self->start_time > self->time_budget_s &&
            !tc_runner_stopping(self->runner)) {
            tc_runner_stop_all(self->runner);
        }
        if (tcx_run_actions(self, 1, &err) < 0)
            goto fail;
        if (maybe_write_state(self, 0, &err) < 0)
            goto fail;
        if (PyErr_CheckSignals() < 0) {
            return NULL;
        }
    }
    Py_RETURN_FALSE;
fail:
    tcx_sinks_flush(&self->host_ctx);
    tcx_events_flush(self);
    return tcx_raise(self->module, &err);
}

/* ------------------------------------------------------------------------ */
/* other methods                                                            */
/* ------------------------------------------------------------------------ */

static PyObject *Run_trials(RunObject *self, PyObject *unused)
{
    long n = tc_runner_num_trials(self->runner);
    PyObject *list = PyList_New(n);
    if (!list)
        return NULL;
    for (long i = 0; i < n; i++) {
        json_t *snap = tc_trial_snapshot(self->runner, tc_runner_trial(self->runner, i));
        PyObject *py = snap ? tcx_from_json(snap) : NULL;
        json_decref(snap);
        if (!py) {
            Py_DECREF(list);
            if (!PyErr_Occurred())
                PyErr_NoMemory();
            return NULL;
        }
        PyList_SET_ITEM(list, i, py);
    }
    return list;
}

static PyObject *Run_resources_string(RunObject *self, PyObject *unused)
{
    tc_buf b;
    tc_buf_init(&b);
    tc_capacity_debug_string(tc_runner_capacity(self->runner), &b);
    PyObject *s = PyUnicode_FromString(b.data ? b.data : "Resources requested: ?");
    tc_buf_free(&b);
    return s;
}

static PyObject *Run_stop_all(RunObject *self, PyObject *unused)
{
    tc_error err;
    tc_error_init(&err);
    tc_runner_stop_all(self->runner);
    if (tcx_run_actions(self, 1, &err) < 0)
        return tcx_raise(self->module, &err);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(run_interrupt_doc,
"interrupt()\n\n"
"Ctrl-C: no new trial starts; running trials are asked to save a checkpoint\n"
"and stop, and stay resumable. Keep calling step() until it returns True.");

static PyObject *Run_interrupt(RunObject *self, PyObject *unused)
{
    tc_error err;
    tc_error_init(&err);
    tc_runner_interrupt(self->runner);   /* a PAUSE for every running attempt */
    if (tcx_run_actions(self, 1, &err) < 0)
        return tcx_raise(self->module, &err);
    Py_RETURN_NONE;
}

static PyObject *Run_write_state(RunObject *self, PyObject *unused)
{
    tc_error err;
    tc_error_init(&err);
    tcx_sinks_flush(&self->host_ctx);
    if (tcx_host_failed(&self->host_ctx, &err) || maybe_write_state(self, 1, &err) < 0)
        return tcx_raise(self->module, &err);
    Py_RETURN_NONE;
}

static PyObject *Run_total_results(RunObject *self, PyObject *unused)
{
    return PyLong_FromLong(tc_runner_total_results(self->runner));
}

/* ------------------------------------------------------------------------ */
/* local mode: the trial runs in this process (tunec/_local.py)             */
/* ------------------------------------------------------------------------ */

PyDoc_STRVAR(local_start_doc,
"local_start() -> dict | None\n\n"
"Local mode: starts the next trial in this process and returns its START\n"
"message (as a dict), or None when no trial can start now.");

static PyObject *Run_local_start(RunObject *self, PyObject *unused)
{
    tc_error err;
    tc_error_init(&err);
    /* Earlier actions first: local mode has no worker to stop (its trial
     * reads its status at the next frame, Run_local_frame). */
    if (generate(self, &err) < 0 || tcx_search_fill(self, NULL, &err) < 0 ||
        tcx_run_actions(self, 0, &err) < 0)
        return tcx_raise(self->module, &err);
    long started = tc_runner_fill(self->runner, 1, &err);
    if (started < 0)
        return tcx_raise(self->module, &err);
    if (started == 0) {
        if (tc_runner_blocked(self->runner, &err))
            return tcx_raise(self->module, &err);
        Py_RETURN_NONE;
    }
    tc_action a;
    int got = tc_runner_next_action(self->runner, &a, &err);
    tc_trial *t = got > 0 && a.kind == TC_ACT_START ? tc_runner_attempt(self->runner, a.token)
                                                    : NULL;
    tc_action_clear(&a);
    if (!t) {
        if (got >= 0)
            tc_error_set(&err, TC_ERR_TUNE, "local mode: no START for the trial it started");
        return tcx_raise(self->module, &err);
    }
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    if (tc_runner_on_started(self->runner, t->token, (long)getpid(), host, &err) < 0)
        return tcx_raise(self->module, &err);
    tcx_events_flush(self);
    json_t *msg = start_message(self, t);
    PyObject *py = msg ? tcx_from_json(msg) : PyErr_NoMemory();
    json_decref(msg);
    self->local.state = W_BUSY;
    self->local.token = t->token;
    self->local.pid = getpid();
    self->local.fd = -1;
    return py;
}

PyDoc_STRVAR(local_frame_doc,
"local_frame(type, token, payload) -> int\n\n"
"Local mode: one frame from the in-process trial. Returns LOCAL_GO_ON,\n"
"LOCAL_STOP, LOCAL_STOP_SAVE (stop after saving a checkpoint: a pause) or\n"
"LOCAL_GO_ON_SAVE (go on after saving one: PBT).");

/* The answer to attempt `token` among the frames in out (the last one for
 * it), as a local-mode code; -1 if there is none. */
static int local_answer(const tc_buf *out, tc_token token)
{
    int answer = -1;
    size_t off = 0;
    while (off < out->len) {
        tc_frame f;
        long used = tc_frame_parse(out->data + off, out->len - off, &f);
        if (used <= 0)
            break;
        if ((tc_token)f.token == token && f.type == TC_MSG_STOP)
            answer = f.flags & TC_FLAG_STOP_SAVE ? TC_LOCAL_STOP_SAVE : TC_LOCAL_STOP;
        else if ((tc_token)f.token == token && f.type == TC_MSG_CONTINUE)
            answer = f.flags & TC_FLAG_CONTINUE_SAVE ? TC_LOCAL_GO_ON_SAVE : TC_LOCAL_GO_ON;
        off += (size_t)used;
    }
    return answer;
}

static PyObject *Run_local_frame(RunObject *self, PyObject *args)
{
    int type;
    int token;
    const char *payload;
    Py_ssize_t len;
    if (!PyArg_ParseTuple(args, "iiy#", &type, &token, &payload, &len))
        return NULL;
    tc_error err;
    tc_error_init(&err);
    /* The trainable waits for the answer to its result, as a class
     * trainable's worker does: the frame handler has the engine's action
     * for the attempt carried out, and the answer is the frame it leaves
     * for this "worker" to read. */
    uint16_t flags = type == TC_MSG_RESULT ? TC_FLAG_RESULT_ANSWER : 0;
    tc_frame f = {(uint32_t)len, (uint16_t)type, flags, (int32_t)token, payload};
    tc_buf_clear(&self->local.out);
    if (tcx_handle_frame(self, &self->local, &f, &err) < 0)
        return tcx_raise(self->module, &err);
    int answer = local_answer(&self->local.out, (tc_token)token);
    tc_buf_clear(&self->local.out);
    /* Actions for other trials have no worker here. */
    if (tcx_run_actions(self, 0, &err) < 0)
        return tcx_raise(self->module, &err);
    tcx_sinks_flush(&self->host_ctx);
    tcx_events_flush(self);
    if (tcx_host_failed(&self->host_ctx, &err))
        return tcx_raise(self->module, &err);
    tc_trial *t = tc_runner_attempt(self->runner, (tc_token)token);
    int code = type == TC_MSG_RESULT && answer >= 0 ? answer : TC_LOCAL_GO_ON;
    if (code == TC_LOCAL_GO_ON && (self->local.state != W_BUSY || !t || t->status != TC_RUNNING))
        code = TC_LOCAL_STOP;
    return PyLong_FromLong(code);
}

static PyObject *Run_is_finished(RunObject *self, PyObject *unused)
{
    return PyBool_FromLong(tc_runner_is_finished(self->runner));
}

static PyObject *Run_shutdown(RunObject *self, PyObject *args)
{
    double grace = 2.0;
    if (!PyArg_ParseTuple(args, "|d", &grace))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    tcx_shutdown_workers(self, grace);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* The run is over and its final state written: the journal, which only
 * bridges the gaps between snapshots, is closed now rather than when the
 * Run goes (an Analysis returned by tune.run keeps the Run alive). */
static PyObject *Run_close_journal(RunObject *self, PyObject *unused)
{
    tcx_close_journal(&self->host_ctx);
    Py_RETURN_NONE;
}

static PyObject *Run_worker_pids(RunObject *self, PyObject *unused)
{
    PyObject *list = PyList_New(0);
    for (int i = 0; list && i < self->nworkers; i++) {
        if (self->workers[i].state == W_DEAD)
            continue;
        PyObject *pid = PyLong_FromLong(self->workers[i].pid);
        if (!pid || PyList_Append(list, pid) < 0) {
            Py_XDECREF(pid);
            Py_CLEAR(list);
            break;
        }
        Py_DECREF(pid);
    }
    return list;
}

/* ------------------------------------------------------------------------ */
/* construction                                                             */
/* ------------------------------------------------------------------------ */

/* Makes the experiments' directories and hands them to the runner. Every
 * option was checked before (tc_run_options_read): only the resources and
 * the search space, which need the capacity and the seeds, can fail here,
 * and they are checked for every experiment before any directory is made. */
static int add_experiments(RunObject *self, tc_run_options *ro, tc_error *err)
{
    Py_ssize_t ntrainables = PyList_GET_SIZE(self->trainables);
    for (size_t i = 0; i < ro->nexps; i++) {
        tc_experiment_opts *xo = &ro->exps[i].exp;
        if (xo->trainable_id >= ntrainables)
            return tc_error_set(err, TC_ERR_VALUE, "experiment %zu: trainable_id %d, but %zd "
                                "trainables were given", i, xo->trainable_id, ntrainables);
        if (xo->stop && tc_stop_validate(xo->stop, err) < 0)
            return -1;
        if (tc_resources_parse(ro->exps[i].resources, &xo->resources, "resources_per_trial",
                               err) < 0)
            return -1;
        if (!tc_capacity_can_ever_fit(tc_runner_capacity(self->runner), &xo->resources, err))
            return -1;
    }
    /* The search spaces next (a bad domain is an error naming its config
     * path), still before any directory exists. */
    tc_space **spaces = tc_calloc(ro->nexps, sizeof *spaces);
    if (!spaces)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    size_t made = 0;
    int rc = 0;
    for (; made < ro->nexps; made++) {
        tc_exp_options *e = &ro->exps[made];
        spaces[made] = tc_space_new(e->spec, e->num_samples, e->exp.seed, err);
        if (!spaces[made]) {
            rc = -1;
            break;
        }
    }
    /* tc_runner_add_experiment takes each space, even on failure. */
    for (size_t i = 0; i < made; i++) {
        tc_exp_options *e = &ro->exps[i];
        if (rc == 0 && e->num_samples < 0)
            self->unbounded = 1;
        if (rc == 0 && tcx_mkdirs(e->exp.exp_dir, err) < 0)
            rc = -1;
        if (rc == 0)   /* the experiment's index, or -1 */
            rc = tc_runner_add_experiment(self->runner, &e->exp, spaces[i], err) < 0 ? -1 : 0;
        else
            tc_space_free(spaces[i]);
    }
    tc_free(spaces);
    return rc;
}

PyDoc_STRVAR(run_add_experiment_doc,
"add_experiment(options_json, trainable=None) -> int\n\n"
"Adds one experiment (an entry of the options' `experiments`) to this Run;\n"
"its trials are generated at the next step (TrialRunner.add_trial).\n"
"`trainable` is the pickled trainable when its trainable_id is a new one,\n"
"the next index. Checked as at construction; returns the experiment index.");

static PyObject *Run_add_experiment(RunObject *self, PyObject *args)
{
    const char *text;
    Py_ssize_t len;
    PyObject *blob = Py_None;
    if (!PyArg_ParseTuple(args, "s#|O:add_experiment", &text, &len, &blob))
        return NULL;
    if (blob != Py_None && !PyBytes_Check(blob))
        return PyErr_Format(PyExc_TypeError, "add_experiment: trainable must be bytes or None");
    tc_error err;
    tc_error_init(&err);
    tc_exp_options e;
    tc_space *space = NULL;
    int index = -1;
    json_t *opts = tc_json_loads(text, (size_t)len, &err);
    if (!opts || tc_experiment_options_read(opts, &e, "add_trial", &err) < 0)
        goto done;
    Py_ssize_t known = PyList_GET_SIZE(self->trainables) + (blob != Py_None);
    tc_experiment_opts *xo = &e.exp;
    if (xo->trainable_id >= known) {
        tc_error_set(&err, TC_ERR_VALUE, "add_experiment: trainable_id %d, but %zd trainables "
                     "were given", xo->trainable_id, known);
        goto done;
    }
    if ((xo->stop && tc_stop_validate(xo->stop, &err) < 0) ||
        tc_resources_parse(e.resources, &xo->resources, "resources", &err) < 0 ||
        !tc_capacity_can_ever_fit(tc_runner_capacity(self->runner), &xo->resources, &err))
        goto done;
    space = tc_space_new(e.spec, e.num_samples, xo->seed, &err);
    if (!space || tcx_mkdirs(xo->exp_dir, &err) < 0)
        goto done;
    if (blob != Py_None && PyList_Append(self->trainables, blob) < 0) {
        tcx_error_from_python(&err);
        goto done;
    }
    if (e.num_samples < 0)
        self->unbounded = 1;
    index = tc_runner_add_experiment(self->runner, xo, space, &err);   /* takes the space */
    space = NULL;
done:
    tc_space_free(space);
    json_decref(opts);
    if (index < 0)
        return tcx_raise(self->module, &err);
    return PyLong_FromLong(index);
}

static int max_workers_for(const tc_capacity *cap, long limit)
{
    /* Enough workers for every slot the resources allow, plus spares for
     * workers still finishing a stopped trial. */
    double cpus = cap->total.cpu > 0 ? cap->total.cpu : 1;
    int n = (int)cpus * 2 + 2;
    if (limit > 0)
        n = (int)limit;
    return n < 2 ? 2 : n;
}

static int Run_init(RunObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"options", "trainables", "callbacks", NULL};
    const char *options_text;
    Py_ssize_t options_len;
    PyObject *trainables, *callbacks;
    json_t *opts = NULL;
    tc_run_options ro;
    memset(&ro, 0, sizeof ro);
    tc_error err;
    tc_error_init(&err);
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "s#O!O!", kwlist, &options_text, &options_len,
                                     &PyList_Type, &trainables, &PyDict_Type, &callbacks))
        return -1;
    if (self->runner) {
        PyErr_SetString(PyExc_RuntimeError, "Run already initialised");
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(trainables); i++) {
        if (!PyBytes_Check(PyList_GET_ITEM(trainables, i))) {
            PyErr_SetString(PyExc_TypeError, "trainables must be a list of bytes");
            return -1;
        }
    }
    Py_INCREF(trainables);
    self->trainables = trainables;
#define CALLBACK(field, name) do { PyObject *cb_ = PyDict_GetItemString(callbacks, name); \
        self->field = cb_ ? cb_ : Py_None; Py_INCREF(self->field); } while (0)
    CALLBACK(resolver, "resolver");
    CALLBACK(stopper, "stopper");
    CALLBACK(objects, "objects");
    CALLBACK(name_creator, "name_creator");
    CALLBACK(dirname_creator, "dirname_creator");
    CALLBACK(sched_event, "sched_event");
    CALLBACK(sched_choose, "sched_choose");
    CALLBACK(pbt_explore, "pbt_explore");
    CALLBACK(pbt_sample, "pbt_sample");
    CALLBACK(search_suggest, "search_suggest");
    CALLBACK(search_event, "search_event");
    CALLBACK(trial_resources, "trial_resources");
    CALLBACK(launcher_fn, "launcher");
#undef CALLBACK
    if (self->launcher_fn != Py_None)   /* workers on a Ray cluster */
        self->launcher = &tcx_remote_launcher;
    /* Every option is read and checked here, once (src/engine/options.c),
     * before a directory is made or a worker started. */
    opts = tc_json_loads(options_text, (size_t)options_len, &err);
    if (!opts || tc_run_options_read(opts, &ro, &err) < 0)
        goto fail;

    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    ro.runner.hostname = host;
    if (ro.local_mode)
        ro.runner.max_concurrent = 1;
    tcx_host_init(&self->host, &self->host_ctx);
    if (self->stopper != Py_None)
        self->host.stopper = python_stopper;
    tcx_install_sched_callbacks(self);
    tcx_install_search_callbacks(self);
    tcx_install_resources_callback(self);
    self->runner = tc_runner_new(&ro.runner, &self->host, &err);
    if (!self->runner)
        goto fail;
    tc_capacity_init(tc_runner_capacity_mut(self->runner), ro.capacity.cpu, ro.capacity.gpu,
                     ro.capacity.custom);
    self->worker_argv = strv_from_json(ro.worker_argv);
    self->worker_env = strv_from_json(ro.worker_env);
    self->gpu_names = strv_from_json(ro.gpu_names);
    if (!self->worker_argv || !self->worker_env || !self->gpu_names) {
        tc_error_set(&err, TC_ERR_NOMEM, "out of memory");
        goto fail;
    }
    self->time_budget_s = ro.runner.time_budget_s;
    self->stop_grace_s = ro.stop_grace_s;
    self->state_period_s = ro.state_period_s;
    self->max_workers = max_workers_for(tc_runner_capacity(self->runner), ro.max_workers);
    self->heartbeat_timeout_s = ro.heartbeat_timeout_s;
    self->reuse_actors = ro.reuse_actors;
    self->start_time = tcx_now();
    self->last_state_write = 0;
    if (ro.has_scheduler &&
        tcx_setup_scheduler(self, &ro.scheduler, &err) < 0)
        goto fail;
    if (add_experiments(self, &ro, &err) < 0)
        goto fail;
    if (ro.has_resume) {
        /* tune.run hands the state its reader indexed (callbacks'
         * "resume_state", state_ext.c): records are parsed one at a time as
         * their trials come back, never all at once (100,000 trials). */
        PyObject *given = PyDict_GetItemString(callbacks, "resume_state");   /* borrowed */
        if (given) {
            struct tc_state *st = tcx_take_resume_state(given);
            if (!st) {
                tc_run_options_free(&ro);
                json_decref(opts);
                return -1;
            }
            tc_runner_set_resume_state(self->runner, st, ro.resume.resume_unfinished,
                                       ro.resume.resume_errored, ro.resume.restart_errored);
        } else {
            json_t *records = json_deep_copy(ro.resume.records);
            if (!records)
                tc_error_set(&err, TC_ERR_NOMEM, "out of memory");
            if (!records ||
                tc_runner_set_resume(self->runner, records, ro.resume.resume_unfinished,
                                     ro.resume.resume_errored, ro.resume.restart_errored,
                                     &err) < 0)
                goto fail;
        }
    }
    if (tcx_setup_searcher(self, &ro, &err) < 0)
        goto fail;
    if (ro.journal && tcx_open_journal(&self->host_ctx, ro.journal, &err) < 0)
        goto fail;
    /* A snapshot right away: with the journal, a driver killed at any
     * moment leaves a resumable state. */
    if (maybe_write_state(self, 1, &err) < 0)
        goto fail;
    tc_run_options_free(&ro);
    json_decref(opts);
    return 0;
fail:
    tc_run_options_free(&ro);
    json_decref(opts);
    tcx_raise(self->module, &err);
    return -1;
}

static PyObject *Run_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    RunObject *self = (RunObject *)type->tp_alloc(type, 0);
    if (!self)
        return NULL;
    self->module = PyType_GetModule(type);   /* borrowed */
    tc_buf_init(&self->scratch);
    tc_buf_init(&self->local.out);
    tc_buf_init(&self->local.in);
    self->local.fd = -1;
    self->local.token = 0;
    self->local.state = W_DEAD;
    self->launcher = &tcx_local_launcher;
    self->host_ctx.journal_fd = -1;
    self->host_ctx.dir_fd = -1;
    return (PyObject *)self;
}

static int Run_traverse(RunObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->trainables);
    Py_VISIT(self->resolver);
    Py_VISIT(self->stopper);
    Py_VISIT(self->objects);
    Py_VISIT(self->name_creator);
    Py_VISIT(self->dirname_creator);
    Py_VISIT(self->sched_event);
    Py_VISIT(self->sched_choose);
    Py_VISIT(self->pbt_explore);
    Py_VISIT(self->pbt_sample);
    Py_VISIT(self->search_suggest);
    Py_VISIT(self->search_event);
    Py_VISIT(self->trial_resources);
    Py_VISIT(self->launcher_fn);
    Py_VISIT(self->unheld);
    return 0;
}

static int Run_clear(RunObject *self)
{
    Py_CLEAR(self->trainables);
    Py_CLEAR(self->resolver);
    Py_CLEAR(self->stopper);
    Py_CLEAR(self->objects);
    Py_CLEAR(self->name_creator);
    Py_CLEAR(self->dirname_creator);
    Py_CLEAR(self->sched_event);
    Py_CLEAR(self->sched_choose);
    Py_CLEAR(self->pbt_explore);
    Py_CLEAR(self->pbt_sample);
    Py_CLEAR(self->search_suggest);
    Py_CLEAR(self->search_event);
    Py_CLEAR(self->trial_resources);
    Py_CLEAR(self->launcher_fn);
    Py_CLEAR(self->unheld);
    return 0;
}

static void Run_dealloc(RunObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    tcx_shutdown_workers(self, 0.5);
    tc_free(self->workers);
    tc_runner_free(self->runner);
    tcx_events_dealloc(self);
    tcx_free_strv(self->worker_argv);
    tcx_free_strv(self->worker_env);
    tcx_free_strv(self->gpu_names);
    tcx_host_done(&self->host_ctx);   /* after the runner: it held cold positions */
    tc_buf_free(&self->local.out);
    tc_buf_free(&self->scratch);
    Run_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMethodDef Run_methods[] = {
    {"use_zygote", (PyCFunction)tcx_run_use_zygote, METH_VARARGS, tcx_use_zygote_doc},
    {"step", (PyCFunction)Run_step, METH_VARARGS, run_step_doc},
    {"add_experiment", (PyCFunction)Run_add_experiment, METH_VARARGS, run_add_experiment_doc},
    {"trials", (PyCFunction)Run_trials, METH_NOARGS, "Snapshots of every trial (list of dicts)."},
    {"resources_string", (PyCFunction)Run_resources_string, METH_NOARGS,
     "The 'Resources requested: ...' status line."},
    {"stop_all", (PyCFunction)Run_stop_all, METH_NOARGS,
     "Stops the experiment: pending trials end TERMINATED, running ones are stopped."},
    {"interrupt", (PyCFunction)Run_interrupt, METH_NOARGS, run_interrupt_doc},
    {"write_state", (PyCFunction)Run_write_state, METH_NOARGS,
     "Writes experiment_state-<session>.json now (atomically)."},
    {"total_results", (PyCFunction)Run_total_results, METH_NOARGS, "Results accepted so far."},
    {"shutdown", (PyCFunction)Run_shutdown, METH_VARARGS,
     "shutdown(grace=2.0): ends every worker process."},
    {"worker_pids", (PyCFunction)Run_worker_pids, METH_NOARGS, "Pids of live workers."},
    {"close_journal", (PyCFunction)Run_close_journal, METH_NOARGS,
     "Closes the experiment's journal (the run is over, its final state written)."},
    {"local_start", (PyCFunction)Run_local_start, METH_NOARGS, local_start_doc},
    {"local_frame", (PyCFunction)Run_local_frame, METH_VARARGS, local_frame_doc},
    {"is_finished", (PyCFunction)Run_is_finished, METH_NOARGS, "All trials are finished."},
    {"sched_builtin", (PyCFunction)tcx_run_sched_builtin, METH_VARARGS, tcx_sched_builtin_doc},
    {"sched_builtin_choose", (PyCFunction)tcx_run_sched_builtin_choose, METH_NOARGS,
     "The built-in scheduler's choose_trial_to_run: a trial index or -1."},
    {"sched_act", (PyCFunction)tcx_run_sched_act, METH_VARARGS,
     "sched_act(action, trial): 1 stop the trial, 2 unpause it (a user scheduler's doing)."},
    {"sched_debug", (PyCFunction)tcx_run_sched_debug, METH_NOARGS,
     "The built-in scheduler's debug_string."},
    {"trial_statuses", (PyCFunction)tcx_run_trial_statuses, METH_NOARGS,
     "Every trial's status, by trial index."},
    {"trial_snapshot", (PyCFunction)tcx_run_trial_snapshot, METH_O,
     "trial_snapshot(index) -> dict: one trial's snapshot."},
    {"record_events", (PyCFunction)(void (*)(void))tcx_run_record_events,
     METH_VARARGS | METH_KEYWORDS, tcx_record_events_doc},
    {"take_events", (PyCFunction)(void (*)(void))tcx_run_take_events, METH_VARARGS | METH_KEYWORDS,
     tcx_take_events_doc},
    {"has_resources", (PyCFunction)tcx_run_has_resources, METH_O,
     "has_resources(resources) -> bool: the request fits the free capacity now."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Run_slots[] = {
    {Py_tp_doc, "Run(options_json, trainables, callbacks): one tune.run on the local executor."},
    {Py_tp_new, Run_new},
    {Py_tp_init, Run_init},
    {Py_tp_dealloc, Run_dealloc},
    {Py_tp_traverse, Run_traverse},
    {Py_tp_clear, Run_clear},
    {Py_tp_methods, Run_methods},
    {0, NULL},
};

static PyType_Spec Run_spec = {
    .name = "tunec._tunec.Run",
    .basicsize = sizeof(RunObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = Run_slots,
};

int tcx_run_exec(PyObject *m)
{
    if (tcx_event_batch_exec(m) < 0)
        return -1;
    PyObject *type = PyType_FromModuleAndSpec(m, &Run_spec, NULL);
    if (!type)
        return -1;
    tcx_get_state(m)->RunType = (PyTypeObject *)type;
    Py_INCREF(type);
    if (PyModule_AddObject(m, "Run", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}
