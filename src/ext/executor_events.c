/* executor_events.c — the runner's event record handed to Python callbacks
 * (tunec/_callbacks.py), a batch per call.
 *
 * The step loop runs with the GIL released; the callbacks' thread takes
 * events with it. So the runner's own queue (runner_events.c, touched only
 * by whoever steps the runner) is moved at step points into an outbox that
 * a mutex guards; take_events swaps the outbox out under the mutex and
 * builds the Python objects after letting go of it (no engine lock is held
 * while Python runs).
 *
 * Bound: when the outbox holds max_events events or max_bytes of text, the
 * step loop stops reading workers until the callbacks' thread has taken
 * them (tcx_events_full); the workers then block on their sockets, so a
 * hook slower than the trials slows the trials instead of growing memory.
 * Local mode (trials in the driver) is not held back. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "executor_internal.h"
#include "runner_events.h"
#include "result_decode.h"

struct tcx_events {
    pthread_mutex_t lock;
    pthread_cond_t changed;      /* events arrived, room was made, or closed */
    tc_events outbox;            /* guarded by lock */
    long max_events;
    size_t max_bytes;
    int closed;                  /* no more events will come: takers return */
    /* Used and freed with the GIL held (by take_events and its batches): */
    tcx_decoder *decoder;        /* results as dicts (take_events(decode=True)) */
    PyObject *kinds[TC_EVT_KINDS];/* the kind names, interned; NULL until a take */
};

static void deadline_in(struct timespec *ts, double seconds)
{
    clock_gettime(CLOCK_REALTIME, ts);
    long long ns = (long long)ts->tv_nsec + (long long)(seconds * 1e9);
    ts->tv_sec += (time_t)(ns / 1000000000LL);
    ts->tv_nsec = (long)(ns % 1000000000LL);
}

static int outbox_full(const struct tcx_events *ev)
{
    return ev->outbox.n >= ev->max_events || tc_events_text_bytes(&ev->outbox) >= ev->max_bytes;
}

void tcx_events_flush(RunObject *self)
{
    struct tcx_events *ev = self->events;
    tc_events *q = self->runner ? tc_runner_events(self->runner) : NULL;
    if (!ev || !q || q->n == 0)
        return;
    pthread_mutex_lock(&ev->lock);
    /* Out of memory keeps the events in the runner's queue for next time. */
    if (tc_events_move_to(q, &ev->outbox, NULL) == 0)
        pthread_cond_broadcast(&ev->changed);
    pthread_mutex_unlock(&ev->lock);
}

int tcx_events_full(RunObject *self)
{
    struct tcx_events *ev = self->events;
    if (!ev || self->local_mode)
        return 0;
    /* The runner's own queue counts too: only this thread touches it. */
    const tc_events *q = tc_runner_events(self->runner);
    long n = q ? q->n : 0;
    size_t bytes = q ? tc_events_text_bytes(q) : 0;
    pthread_mutex_lock(&ev->lock);
    int full = (ev->outbox.n + n >= ev->max_events ||
                tc_events_text_bytes(&ev->outbox) + bytes >= ev->max_bytes) && !ev->closed;
    pthread_mutex_unlock(&ev->lock);
    return full;
}

void tcx_events_wait_room(RunObject *self, int timeout_ms)
{
    struct tcx_events *ev = self->events;
    if (!ev)
        return;
    struct timespec until;
    deadline_in(&until, timeout_ms / 1000.0);
    pthread_mutex_lock(&ev->lock);
    while (outbox_full(ev) && !ev->closed)
        if (pthread_cond_timedwait(&ev->changed, &ev->lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&ev->lock);
}

static void events_free(struct tcx_events *ev)
{
    tcx_decoder_free(ev->decoder);
    for (int k = 0; k < TC_EVT_KINDS; k++)
        Py_XDECREF(ev->kinds[k]);
    tc_events_free(&ev->outbox);
    pthread_cond_destroy(&ev->changed);
    pthread_mutex_destroy(&ev->lock);
    tc_free(ev);
}

void tcx_events_dealloc(RunObject *self)
{
    if (self->events)
        events_free(self->events);
    self->events = NULL;
}

const char tcx_record_events_doc[] =
"record_events(on=True, max_events=8192, max_bytes=8388608)\n\n"
"Turns the engine's event record on (or off). While on, each trial\n"
"lifecycle step is queued for take_events; a backlog over max_events\n"
"events or max_bytes of result text holds the step loop back.";

PyObject *tcx_run_record_events(RunObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"on", "max_events", "max_bytes", NULL};
    int on = 1;
    long max_events = 8192;
    Py_ssize_t max_bytes = 8 << 20;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|pln:record_events", kwlist, &on,
                                     &max_events, &max_bytes))
        return NULL;
    if (max_events < 1 || max_bytes < 1) {
        PyErr_SetString(PyExc_ValueError, "record_events: max_events and max_bytes must be >= 1");
        return NULL;
    }
    tc_error err;
    tc_error_init(&err);
    if (on && !self->events) {
        struct tcx_events *ev = tc_calloc(1, sizeof *ev);
        if (!ev)
            return PyErr_NoMemory();
        pthread_mutex_init(&ev->lock, NULL);
        pthread_cond_init(&ev->changed, NULL);
        tc_events_init(&ev->outbox);
        self->events = ev;
    }
    if (self->events) {
        pthread_mutex_lock(&self->events->lock);
        self->events->max_events = max_events;
        self->events->max_bytes = (size_t)max_bytes;
        self->events->closed = !on;
        pthread_cond_broadcast(&self->events->changed);
        pthread_mutex_unlock(&self->events->lock);
    }
    if (!on)
        tcx_events_flush(self);   /* what the runner recorded last is still taken */
    if (tc_runner_record_events(self->runner, on, &err) < 0)
        return tcx_raise(self->module, &err);
    Py_RETURN_NONE;
}

const char tcx_take_events_doc[] =
"take_events(timeout, decode=False) -> EventBatch | [] | None\n\n"
"Waits up to `timeout` seconds (GIL released) for events and takes them\n"
"all: an EventBatch, iterated oldest first as (kind, trial_index,\n"
"payload) tuples, each made when reached (event_batch.c); [] when none\n"
"came, None once recording was turned off and nothing is left. decode:\n"
"a result's payload is its dict, decoded in C (its text where only\n"
"json.loads can say what it is).";

/* The interned kind names (made at the first take). 0 / -1. */
static int make_kinds(struct tcx_events *ev)
{
    for (int k = 0; k < TC_EVT_KINDS; k++)
        if (!ev->kinds[k] && !(ev->kinds[k] = PyUnicode_InternFromString(tc_event_kind_names[k])))
            return -1;
    return 0;
}

PyObject *tcx_run_take_events(RunObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"timeout", "decode", NULL};
    double timeout = 0;
    int decode = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "d|p:take_events", kwlist, &timeout, &decode))
        return NULL;
    struct tcx_events *ev = self->events;
    if (!ev)
        Py_RETURN_NONE;
    if (decode && !ev->decoder && !(ev->decoder = tcx_decoder_new()))
        return PyErr_NoMemory();
    if (make_kinds(ev) < 0)
        return NULL;
    tc_events batch;
    tc_events_init(&batch);
    int closed = 0;
    Py_BEGIN_ALLOW_THREADS
    struct timespec until;
    deadline_in(&until, timeout > 0 ? timeout : 0);
    pthread_mutex_lock(&ev->lock);
    while (ev->outbox.n == 0 && !ev->closed && timeout > 0)
        if (pthread_cond_timedwait(&ev->changed, &ev->lock, &until) == ETIMEDOUT)
            break;
    tc_events_move_to(&ev->outbox, &batch, NULL);   /* into an empty queue: a swap */
    closed = ev->closed;
    pthread_cond_broadcast(&ev->changed);           /* room for the step loop */
    pthread_mutex_unlock(&ev->lock);
    Py_END_ALLOW_THREADS
    if (batch.n == 0 && closed) {
        tc_events_free(&batch);
        Py_RETURN_NONE;
    }
    if (batch.n == 0) {
        tc_events_free(&batch);
        return PyList_New(0);
    }
    return tcx_event_batch_new(self, &batch, decode ? ev->decoder : NULL, ev->kinds);
}
