/* worker_session.c — tunec._tunec.Session: the worker's end of the driver
 * socket, and the per-result hot path of a trial.
 *
 * `report(result)` does what Ray's Trainable.train does to a result (spec
 * §2.2): counts the iteration, times it, accumulates timesteps/episodes, and
 * fills the automatic fields in Ray's key order, encoding straight from the
 * Python dict to JSON text (no intermediate objects), then sends the frame
 * and looks, without blocking, for a STOP from the driver. The driver adds
 * config, trial_id and experiment_tag (it has them already).
 *
 * Counters belong to the trial that `begin()` started; a restore (checkpoint
 * issue) will set them from the checkpoint metadata. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "tcx.h"
#include "proto.h"

/* Keys the session fills. Order = Ray's order of appearance (spec §2.2). */
enum {
    K_DONE, K_TIMESTEPS_TOTAL, K_EPISODES_TOTAL, K_TRAINING_ITERATION, K_NEG_MEAN_LOSS,
    K_EXPERIMENT_ID, K_DATE, K_TIMESTAMP, K_TIME_THIS_ITER_S, K_TIME_TOTAL_S, K_PID,
    K_HOSTNAME, K_NODE_IP, K_CONFIG, K_TIME_SINCE_RESTORE, K_TIMESTEPS_SINCE_RESTORE,
    K_ITERATIONS_SINCE_RESTORE, K_COUNT
};
/* The first five are setdefault (a user value wins); the rest are
 * overwritten whatever the user returned. */
#define FIRST_OVERWRITE K_EXPERIMENT_ID

static const char *const key_names[K_COUNT] = {
    "done", "timesteps_total", "episodes_total", "training_iteration", "neg_mean_loss",
    "experiment_id", "date", "timestamp", "time_this_iter_s", "time_total_s", "pid",
    "hostname", "node_ip", "config", "time_since_restore", "timesteps_since_restore",
    "iterations_since_restore",
};

typedef struct {
    PyObject_HEAD
    int fd;                       /* -1 in local mode */
    PyObject *pump;               /* local mode: pump(type, trial, payload) -> 0..3 */
    PyObject *keys;               /* dict: key name -> index in key_names */
    PyObject *str_time_this_iter, *str_timesteps_this_iter, *str_episodes_this_iter,
             *str_mean_loss;
    tc_buf out, in;
    int stop_requested, exit_requested;
    int checkpoint_requested;     /* the driver asked for a checkpoint: a STOP with flag 1
                                     (Ctrl-C, a scheduler's pause) or, for a class
                                     trainable, a CONTINUE with flag 1 (PBT) */
    pthread_mutex_t write_lock;   /* whole frames only: the heartbeat thread writes too */
    int heartbeat_started;
    long attempt;                 /* the attempt token of the current trial run, -1 between */
    /* counters (spec §2.1/§2.2) */
    long iteration, iterations_since_restore;
    long run_reports;             /* results sent since begin(): restores do not reset it, so
                                     the driver can place a checkpoint among the logged rows */
    double time_total, time_since_restore, last_mark;
    int has_timesteps, has_episodes;
    double timesteps_total, episodes_total, timesteps_since_restore;
    char experiment_id[64];
    char hostname[256];
    char node_ip[64];
    long pid;
} SessionObject;

static double monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------------ */
/* socket I/O                                                               */
/* ------------------------------------------------------------------------ */

/* Writes all of b. Tries without blocking first; only a full socket makes it
 * release the GIL and wait. Returns 0, or -1 with a Python exception. */
static int send_all_locked(SessionObject *self, const char *data, size_t len);

static int send_all(SessionObject *self, const char *data, size_t len)
{
    pthread_mutex_lock(&self->write_lock);
    int rc = send_all_locked(self, data, len);
    pthread_mutex_unlock(&self->write_lock);
    return rc;
}

static int send_all_locked(SessionObject *self, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(self->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {self->fd, POLLOUT, 0};
            int rc;
            Py_BEGIN_ALLOW_THREADS
            rc = poll(&p, 1, -1);
            Py_END_ALLOW_THREADS
            if (rc < 0 && errno != EINTR) {
                PyErr_SetFromErrno(PyExc_OSError);
                return -1;
            }
            if (PyErr_CheckSignals() < 0)
                return -1;
            continue;
        }
        PyErr_SetString(PyExc_ConnectionError, "tunec driver connection lost");
        return -1;
    }
    return 0;
}

/* Looks at frames already received for STOP/EXIT of the current trial. */
static void scan_control(SessionObject *self)
{
    size_t off = 0;
    tc_frame f;
    long used;
    while ((used = tc_frame_parse(self->in.data + off, self->in.len - off, &f)) > 0) {
        if (f.type == TC_MSG_STOP && f.token == self->attempt) {
            self->stop_requested = 1;
            if (f.flags & TC_FLAG_STOP_SAVE)
                self->checkpoint_requested = 1;
        }
        else if (f.type == TC_MSG_EXIT)
            self->stop_requested = self->exit_requested = 1;
        off += (size_t)used;
    }
}

/* Reads whatever the driver sent, without blocking. */
static int poll_control(SessionObject *self)
{
    for (;;) {
        if (tc_buf_reserve(&self->in, 4096) < 0) {
            PyErr_NoMemory();
            return -1;
        }
        ssize_t n = recv(self->fd, self->in.data + self->in.len,
                         self->in.cap - self->in.len - 1, MSG_DONTWAIT);
        if (n > 0) {
            self->in.len += (size_t)n;
            continue;
        }
        if (n == 0) {                       /* driver gone: stop everything */
            self->stop_requested = self->exit_requested = 1;
            return 0;
        }
        if (errno == EINTR)
            continue;
        break;
    }
    scan_control(self);
    return 0;
}

/* Sends one frame (or hands it to the local-mode pump). */
static int send_frame(SessionObject *self, int type, long trial, const char *payload, size_t len)
{
    if (self->fd < 0) {
        if (self->pump == NULL || self->pump == Py_None)
            return 0;
        PyObject *ret = PyObject_CallFunction(self->pump, "ily#", type, trial, payload,
                                              (Py_ssize_t)len);
        if (!ret)
            return -1;
        /* TC_LOCAL_* (Run.local_frame); any other truthy value stops. */
        long code = PyLong_Check(ret) ? PyLong_AsLong(ret) : PyObject_IsTrue(ret);
        Py_DECREF(ret);
        if (code == -1 && PyErr_Occurred())
            return -1;
        if (type == TC_MSG_RESULT)
            self->checkpoint_requested = code == TC_LOCAL_STOP_SAVE ||
                                         code == TC_LOCAL_GO_ON_SAVE;
        if (code != TC_LOCAL_GO_ON && code != TC_LOCAL_GO_ON_SAVE)
            self->stop_requested = 1;
        return 0;
    }
    tc_buf_clear(&self->out);
    if (tc_frame_append(&self->out, (uint16_t)type, (int32_t)trial, payload, len) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return send_all(self, self->out.data, self->out.len);
}

/* ------------------------------------------------------------------------ */
/* result encoding                                                          */
/* ------------------------------------------------------------------------ */

static int put_key(tc_buf *b, const char *key, int first)
{
    if (!first && tc_buf_append(b, ", ", 2) < 0)
        return -1;
    if (tc_buf_putc(b, '"') < 0 || tc_buf_puts(b, key) < 0 || tc_buf_append(b, "\": ", 3) < 0)
        return -1;
    return 0;
}

static int put_number(tc_buf *b, double v, int as_int)
{
    char tmp[40];
    if (as_int && v == (double)(long long)v) {
        snprintf(tmp, sizeof tmp, "%lld", (long long)v);
        return tc_buf_puts(b, tmp);
    }
    tc_format_double(v, tmp);
    if (strcmp(tmp, "nan") == 0)
        return tc_buf_puts(b, "NaN");
    if (strcmp(tmp, "inf") == 0)
        return tc_buf_puts(b, "Infinity");
    if (strcmp(tmp, "-inf") == 0)
        return tc_buf_puts(b, "-Infinity");
    return tc_buf_puts(b, tmp);
}

/* Appends the value Ray's train() puts under key k (an overwrite key, or a
 * setdefault key the user left out). */
static int put_auto_value(SessionObject *self, tc_buf *b, int k, double time_this_iter,
                          PyObject *result)
{
    char tmp[96];
    switch (k) {
    case K_DONE: return tc_buf_puts(b, "false");
    case K_TIMESTEPS_TOTAL:
        return self->has_timesteps ? put_number(b, self->timesteps_total, 1) : tc_buf_puts(b, "null");
    case K_EPISODES_TOTAL:
        return self->has_episodes ? put_number(b, self->episodes_total, 1) : tc_buf_puts(b, "null");
    case K_TRAINING_ITERATION: return put_number(b, (double)self->iteration, 1);
    case K_NEG_MEAN_LOSS: {
        PyObject *loss = PyDict_GetItemWithError(result, self->str_mean_loss);   /* borrowed */
        PyObject *neg = loss ? PyNumber_Negative(loss) : NULL;
        if (!neg) {
            PyErr_Clear();
            return tc_buf_puts(b, "null");
        }
        int rc = tcx_encode_json(neg, b, "neg_mean_loss");
        Py_DECREF(neg);
        return rc;
    }
    case K_EXPERIMENT_ID:
        snprintf(tmp, sizeof tmp, "\"%s\"", self->experiment_id);
        return tc_buf_puts(b, tmp);
    case K_DATE: {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(tmp, sizeof tmp, "\"%Y-%m-%d_%H-%M-%S\"", &tm);
        return tc_buf_puts(b, tmp);
    }
    case K_TIMESTAMP:
        snprintf(tmp, sizeof tmp, "%lld", (long long)time(NULL));
        return tc_buf_puts(b, tmp);
    case K_TIME_THIS_ITER_S: return put_number(b, time_this_iter, 0);
    case K_TIME_TOTAL_S: return put_number(b, self->time_total, 0);
    case K_PID: return put_number(b, (double)self->pid, 1);
    case K_HOSTNAME:
    case K_NODE_IP: {
        PyObject *s = PyUnicode_FromString(k == K_HOSTNAME ? self->hostname : self->node_ip);
        int rc = s ? tcx_encode_json(s, b, key_names[k]) : -1;
        Py_XDECREF(s);
        return rc;
    }
    case K_CONFIG: return tc_buf_puts(b, "null");   /* the driver fills it */
    case K_TIME_SINCE_RESTORE: return put_number(b, self->time_since_restore, 0);
    case K_TIMESTEPS_SINCE_RESTORE: return put_number(b, self->timesteps_since_restore, 1);
    case K_ITERATIONS_SINCE_RESTORE:
        return put_number(b, (double)self->iterations_since_restore, 1);
    }
    return 0;
}

/* Reads an optional numeric field (None or absent -> 0, *present = 0). */
static int optional_number(PyObject *result, PyObject *key, double *out, int *present)
{
    PyObject *v = PyDict_GetItemWithError(result, key);   /* borrowed */
    *present = 0;
    if (!v)
        return PyErr_Occurred() ? -1 : 0;
    if (v == Py_None)
        return 0;
    double d = PyFloat_AsDouble(v);
    if (d == -1.0 && PyErr_Occurred()) {
        PyErr_Format(PyExc_TypeError, "result[\"%U\"] must be a number, got %.100s", key,
                     Py_TYPE(v)->tp_name);
        return -1;
    }
    *out = d;
    *present = 1;
    return 0;
}

/* Encodes result + automatic fields into self->out as a RESULT frame. */
static int encode_result(SessionObject *self, PyObject *result, uint16_t frame_flags)
{
    double measured = monotonic_now() - self->last_mark, t, steps = 0, eps = 0;
    int has_t, has_steps, has_eps;
    if (optional_number(result, self->str_time_this_iter, &t, &has_t) < 0 ||
        optional_number(result, self->str_timesteps_this_iter, &steps, &has_steps) < 0 ||
        optional_number(result, self->str_episodes_this_iter, &eps, &has_eps) < 0)
        return -1;
    if (!has_t)
        t = measured;
    self->iteration++;
    self->iterations_since_restore++;
    self->run_reports++;
    self->time_total += t;
    self->time_since_restore += t;
    if (has_steps) {
        self->timesteps_total = (self->has_timesteps ? self->timesteps_total : 0) + steps;
        self->has_timesteps = 1;
        self->timesteps_since_restore += steps;
    }
    if (has_eps) {
        self->episodes_total = (self->has_episodes ? self->episodes_total : 0) + eps;
        self->has_episodes = 1;
    }

    tc_buf *b = &self->out;
    tc_buf_clear(b);
    char header[TC_FRAME_HEADER] = {0};
    if (tc_buf_append(b, header, sizeof header) < 0 || tc_buf_putc(b, '{') < 0)
        goto nomem;
    int seen[K_COUNT] = {0};
    int first = 1;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(result, &pos, &key, &value)) {
        /* Encoding may call str() on a value, which may run user code. */
        if (!PyUnicode_Check(key)) {
            PyErr_Format(PyExc_TypeError, "result keys must be str, got %.100s: %R",
                         Py_TYPE(key)->tp_name, key);
            return -1;
        }
        if (!first && tc_buf_append(b, ", ", 2) < 0)
            goto nomem;
        first = 0;
        if (tcx_encode_json(key, b, "result key") < 0 || tc_buf_append(b, ": ", 2) < 0)
            return -1;
        PyObject *idx = PyDict_GetItemWithError(self->keys, key);   /* borrowed */
        if (idx) {
            int k = (int)PyLong_AsLong(idx);
            seen[k] = 1;
            if (k >= FIRST_OVERWRITE) {
                if (put_auto_value(self, b, k, t, result) < 0)
                    return -1;
                continue;
            }
        } else if (PyErr_Occurred()) {
            return -1;
        }
        if (tcx_encode_json(value, b, "result") < 0)
            return -1;
    }
    /* neg_mean_loss only when mean_loss is truthy (spec §2.2 step 7). */
    PyObject *loss = PyDict_GetItemWithError(result, self->str_mean_loss);
    int loss_truthy = loss ? PyObject_IsTrue(loss) : 0;
    if (loss_truthy < 0)
        return -1;
    for (int k = 0; k < K_COUNT; k++) {
        if (seen[k] || (k == K_NEG_MEAN_LOSS && !loss_truthy))
            continue;
        if (put_key(b, key_names[k], first) < 0 || put_auto_value(self, b, k, t, result) < 0)
            goto nomem;
        first = 0;
    }
    if (tc_buf_putc(b, '}') < 0)
        goto nomem;
    /* Now the header: payload length is known. */
    uint32_t len = (uint32_t)(b->len - TC_FRAME_HEADER);
    uint16_t type = TC_MSG_RESULT, flags = frame_flags;
    int32_t trial = (int32_t)self->attempt;
    memcpy(b->data, &len, 4);
    memcpy(b->data + 4, &type, 2);
    memcpy(b->data + 6, &flags, 2);
    memcpy(b->data + 8, &trial, 4);
    self->last_mark = monotonic_now();
    return 0;
nomem:
    if (!PyErr_Occurred())
        PyErr_NoMemory();
    return -1;
}

/* ------------------------------------------------------------------------ */
/* methods                                                                  */
/* ------------------------------------------------------------------------ */

PyDoc_STRVAR(report_doc,
"report(result: dict) -> bool\n\n"
"Auto-fills and sends one result of the current trial. Returns True when the\n"
"trial must end now: the driver asked it to stop, or the result had done.");

static PyObject *decode_filled(SessionObject *self);

static int wait_decision(SessionObject *self);

static PyObject *report_impl(SessionObject *self, PyObject *result, PyObject *hook, int sync)
{
    if (!PyDict_Check(result)) {
        PyErr_Format(PyExc_TypeError, "a result must be a dict, got %.100s",
                     Py_TYPE(result)->tp_name);
        return NULL;
    }
    if (encode_result(self, result, sync ? TC_FLAG_RESULT_ANSWER : 0) < 0)
        return NULL;
    if (hook) {
        PyObject *filled = decode_filled(self);
        PyObject *ret = filled ? PyObject_CallOneArg(hook, filled) : NULL;
        Py_XDECREF(filled);
        if (!ret)
            return NULL;
        Py_DECREF(ret);
    }
    if (self->fd < 0) {
        if (send_frame(self, TC_MSG_RESULT, self->attempt, self->out.data + TC_FRAME_HEADER,
                       self->out.len - TC_FRAME_HEADER) < 0)
            return NULL;
    } else if (sync) {
        if (send_all(self, self->out.data, self->out.len) < 0 || wait_decision(self) < 0)
            return NULL;
    } else {
        if (send_all(self, self->out.data, self->out.len) < 0 || poll_control(self) < 0)
            return NULL;
    }
    PyObject *done = PyDict_GetItemString(result, "done");   /* borrowed */
    int ended = done ? PyObject_IsTrue(done) : 0;
    if (ended < 0)
        return NULL;
    return PyBool_FromLong(self->stop_requested || ended);
}

static PyObject *Session_report(SessionObject *self, PyObject *result)
{
    return report_impl(self, result, NULL, 0);
}

PyDoc_STRVAR(report_step_doc,
"report_step(result, hook=None) -> bool\n\n"
"A class trainable's result: like report(), then waits for the driver's\n"
"CONTINUE or STOP (one step at a time, as Ray runs train()). `hook` is the\n"
"user's log_result, called with the auto-filled result.");

static PyObject *Session_report_step(SessionObject *self, PyObject *args)
{
    PyObject *result, *hook = Py_None;
    if (!PyArg_ParseTuple(args, "O|O", &result, &hook))
        return NULL;
    return report_impl(self, result, hook == Py_None ? NULL : hook, 1);
}

/* Blocks (GIL released) until a CONTINUE or STOP about the current trial,
 * or EXIT, has arrived. */
static int wait_decision(SessionObject *self)
{
    /* Set again below by a STOP or CONTINUE that asks for a checkpoint. */
    self->checkpoint_requested = 0;
    for (;;) {
        size_t off = 0;
        tc_frame f;
        long used;
        int decided = 0;
        while ((used = tc_frame_parse(self->in.data ? self->in.data + off : "",
                                      self->in.len - off, &f)) > 0) {
            if (f.token == self->attempt && f.type == TC_MSG_CONTINUE) {
                /* flag 1: save a checkpoint before the next step (PBT) */
                if (f.flags & TC_FLAG_CONTINUE_SAVE)
                    self->checkpoint_requested = 1;
                /* consume it: CONTINUE frames are not needed afterwards */
                memmove(self->in.data + off, self->in.data + off + used,
                        self->in.len - off - (size_t)used);
                self->in.len -= (size_t)used;
                return 0;
            }
            if ((f.type == TC_MSG_STOP && f.token == self->attempt) || f.type == TC_MSG_EXIT)
                decided = 1;
            off += (size_t)used;
        }
        if (decided) {
            scan_control(self);
            return 0;
        }
        if (tc_buf_reserve(&self->in, 4096) < 0) {
            PyErr_NoMemory();
            return -1;
        }
        ssize_t n;
        Py_BEGIN_ALLOW_THREADS
        n = recv(self->fd, self->in.data + self->in.len, self->in.cap - self->in.len - 1, 0);
        Py_END_ALLOW_THREADS
        if (n == 0) {
            self->stop_requested = self->exit_requested = 1;
            return 0;
        }
        if (n < 0) {
            if (errno == EINTR) {
                if (PyErr_CheckSignals() < 0)
                    return -1;
                continue;
            }
            PyErr_SetFromErrno(PyExc_OSError);
            return -1;
        }
        self->in.len += (size_t)n;
    }
}

/* The auto-filled result just encoded into self->out, as a dict. New. */
static PyObject *decode_filled(SessionObject *self)
{
    tc_error err;
    tc_error_init(&err);
    json_t *j = tc_json_loads(self->out.data + TC_FRAME_HEADER, self->out.len - TC_FRAME_HEADER,
                              &err);
    if (!j)
        return tcx_raise(NULL, &err);
    PyObject *out = tcx_from_json(j);
    json_decref(j);
    return out;
}

PyDoc_STRVAR(fill_doc,
"fill(result: dict) -> dict\n\n"
"Counts and auto-fills one result like report() but returns it instead of\n"
"sending it (Trainable.train outside tune.run, and log_result hooks).");

static PyObject *Session_fill(SessionObject *self, PyObject *result)
{
    if (!PyDict_Check(result)) {
        PyErr_Format(PyExc_TypeError, "a result must be a dict, got %.100s",
                     Py_TYPE(result)->tp_name);
        return NULL;
    }
    if (encode_result(self, result, 0) < 0)
        return NULL;
    return decode_filled(self);
}

static PyObject *Session_begin(SessionObject *self, PyObject *args)
{
    long trial;
    const char *experiment_id;
    if (!PyArg_ParseTuple(args, "ls", &trial, &experiment_id))
        return NULL;
    self->attempt = trial;
    self->stop_requested = 0;
    self->checkpoint_requested = 0;
    self->iteration = self->iterations_since_restore = self->run_reports = 0;
    self->time_total = self->time_since_restore = 0;
    self->has_timesteps = self->has_episodes = 0;
    self->timesteps_total = self->episodes_total = self->timesteps_since_restore = 0;
    snprintf(self->experiment_id, sizeof self->experiment_id, "%s", experiment_id);
    self->last_mark = monotonic_now();
    /* Frames still in `in` stay: they may be about this trial (a STOP sent
     * right after START); stale ones name another trial and are skipped. */
    Py_RETURN_NONE;
}

static PyObject *Session_mark(SessionObject *self, PyObject *unused)
{
    self->last_mark = monotonic_now();
    Py_RETURN_NONE;
}

static PyObject *Session_send(SessionObject *self, PyObject *args)
{
    int type;
    long trial;
    const char *payload = "";
    Py_ssize_t len = 0;
    if (!PyArg_ParseTuple(args, "il|y#", &type, &trial, &payload, &len))
        return NULL;
    if (send_frame(self, type, trial, payload, (size_t)len) < 0)
        return NULL;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(recv_doc,
"recv() -> (type, token, payload) or None at end of stream\n\n"
"Blocks (without the GIL) until the driver sends a frame.");

static PyObject *Session_recv(SessionObject *self, PyObject *unused)
{
    for (;;) {
        tc_frame f;
        long used = tc_frame_parse(self->in.data ? self->in.data : "", self->in.len, &f);
        if (used < 0) {
            PyErr_SetString(PyExc_ConnectionError, "corrupt frame from the tunec driver");
            return NULL;
        }
        if (used > 0) {
            PyObject *ret = Py_BuildValue("iiy#", f.type, f.token, f.payload, (Py_ssize_t)f.len);
            memmove(self->in.data, self->in.data + used, self->in.len - (size_t)used);
            self->in.len -= (size_t)used;
            return ret;
        }
        if (tc_buf_reserve(&self->in, 1 << 16) < 0)
            return PyErr_NoMemory();
        ssize_t n;
        Py_BEGIN_ALLOW_THREADS
        n = recv(self->fd, self->in.data + self->in.len, self->in.cap - self->in.len - 1, 0);
        Py_END_ALLOW_THREADS
        if (n == 0)
            Py_RETURN_NONE;
        if (n < 0) {
            if (errno == EINTR) {
                if (PyErr_CheckSignals() < 0)
                    return NULL;
                continue;
            }
            if (errno == EAGAIN)
                continue;
            return PyErr_SetFromErrno(PyExc_OSError);
        }
        self->in.len += (size_t)n;
    }
}

/* The heartbeat: one small frame a second from a plain C thread, so the
 * driver can tell a worker that computes for a long time from one that is
 * stopped or gone. Never touches Python. */
static void *heartbeat_main(void *arg)
{
    SessionObject *self = arg;
    char frame[TC_FRAME_HEADER];
    uint32_t len = 0;
    uint16_t type = TC_MSG_HEARTBEAT, flags = 0;
    int32_t trial = -1;
    memcpy(frame, &len, 4);
    memcpy(frame + 4, &type, 2);
    memcpy(frame + 6, &flags, 2);
    memcpy(frame + 8, &trial, 4);
    for (;;) {
        sleep(1);
        pthread_mutex_lock(&self->write_lock);
        ssize_t n = send(self->fd, frame, sizeof frame, MSG_NOSIGNAL | MSG_DONTWAIT);
        pthread_mutex_unlock(&self->write_lock);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return NULL;   /* the driver is gone */
    }
}

static PyObject *Session_start_heartbeat(SessionObject *self, PyObject *unused)
{
    if (self->fd < 0 || self->heartbeat_started)
        Py_RETURN_NONE;
    pthread_t th;
    /* The session object lives until the process exits (the worker keeps
     * it), so the thread's pointer stays valid. */
    Py_INCREF(self);
    if (pthread_create(&th, NULL, heartbeat_main, self) != 0) {
        Py_DECREF(self);
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    pthread_detach(th);
    self->heartbeat_started = 1;
    Py_RETURN_NONE;
}

static PyObject *Session_set_counters(SessionObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"iteration", "time_total", "timesteps_total", "episodes_total",
                             "experiment_id", NULL};
    long iteration;
    double time_total;
    PyObject *steps = Py_None, *eps = Py_None;
    const char *experiment_id = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "ld|OOz", kwlist, &iteration, &time_total,
                                     &steps, &eps, &experiment_id))
        return NULL;
    self->iteration = iteration;
    self->time_total = time_total;
    self->has_timesteps = steps != Py_None;
    self->timesteps_total = steps != Py_None ? PyFloat_AsDouble(steps) : 0;
    self->has_episodes = eps != Py_None;
    self->episodes_total = eps != Py_None ? PyFloat_AsDouble(eps) : 0;
    if (PyErr_Occurred())
        return NULL;
    /* A restore resets the *_since_restore counters (spec §2.3). */
    self->iterations_since_restore = 0;
    self->time_since_restore = 0;
    self->timesteps_since_restore = 0;
    if (experiment_id)
        snprintf(self->experiment_id, sizeof self->experiment_id, "%s", experiment_id);
    Py_RETURN_NONE;
}

static PyObject *num_or_none(int has, double v)
{
    if (!has)
        Py_RETURN_NONE;
    if (v == (double)(long long)v)
        return PyLong_FromLongLong((long long)v);
    return PyFloat_FromDouble(v);
}

static PyObject *Session_counters(SessionObject *self, PyObject *unused)
{
    PyObject *steps = num_or_none(self->has_timesteps, self->timesteps_total);
    PyObject *eps = num_or_none(self->has_episodes, self->episodes_total);
    PyObject *out = Py_BuildValue("{s:l,s:d,s:N,s:N,s:s}", "iteration", self->iteration,
                                  "time_total", self->time_total, "timesteps_total", steps,
                                  "episodes_total", eps, "experiment_id", self->experiment_id);
    return out;
}

static PyObject *Session_get_checkpoint_requested(SessionObject *self, void *closure)
{
    return PyBool_FromLong(self->checkpoint_requested);
}

static PyObject *Session_get_stop(SessionObject *self, void *closure)
{
    return PyBool_FromLong(self->stop_requested);
}

static PyObject *Session_get_exit(SessionObject *self, void *closure)
{
    return PyBool_FromLong(self->exit_requested);
}

static PyObject *Session_get_iteration(SessionObject *self, void *closure)
{
    return PyLong_FromLong(self->iteration);
}

static PyObject *Session_get_run_reports(SessionObject *self, void *closure)
{
    return PyLong_FromLong(self->run_reports);
}

static PyObject *Session_poll(SessionObject *self, PyObject *unused)
{
    if (self->fd >= 0 && poll_control(self) < 0)
        return NULL;
    return PyBool_FromLong(self->stop_requested);
}

static int Session_init(SessionObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"fd", "hostname", "node_ip", "pump", NULL};
    int fd;
    const char *hostname = "", *node_ip = "";
    PyObject *pump = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "i|ssO", kwlist, &fd, &hostname, &node_ip, &pump))
        return -1;
    self->fd = fd;
    Py_INCREF(pump);
    Py_XSETREF(self->pump, pump);
    snprintf(self->hostname, sizeof self->hostname, "%s", hostname);
    snprintf(self->node_ip, sizeof self->node_ip, "%s", node_ip);
    self->pid = (long)getpid();
    self->attempt = -1;
    if (!self->keys) {
        self->keys = PyDict_New();
        if (!self->keys)
            return -1;
        for (int k = 0; k < K_COUNT; k++) {
            PyObject *idx = PyLong_FromLong(k);
            int rc = idx ? PyDict_SetItemString(self->keys, key_names[k], idx) : -1;
            Py_XDECREF(idx);
            if (rc < 0)
                return -1;
        }
        self->str_time_this_iter = PyUnicode_InternFromString("time_this_iter_s");
        self->str_timesteps_this_iter = PyUnicode_InternFromString("timesteps_this_iter");
        self->str_episodes_this_iter = PyUnicode_InternFromString("episodes_this_iter");
        self->str_mean_loss = PyUnicode_InternFromString("mean_loss");
        if (!self->str_time_this_iter || !self->str_timesteps_this_iter ||
            !self->str_episodes_this_iter || !self->str_mean_loss)
            return -1;
    }
    self->last_mark = monotonic_now();
    return 0;
}

static PyObject *Session_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    SessionObject *self = (SessionObject *)type->tp_alloc(type, 0);
    if (self) {
        self->fd = -1;
        pthread_mutex_init(&self->write_lock, NULL);
        tc_buf_init(&self->in);
        tc_buf_init(&self->out);
    }
    return (PyObject *)self;
}

static int Session_traverse(SessionObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->pump);
    return 0;
}

static int Session_clear(SessionObject *self)
{
    Py_CLEAR(self->pump);
    Py_CLEAR(self->keys);
    Py_CLEAR(self->str_time_this_iter);
    Py_CLEAR(self->str_timesteps_this_iter);
    Py_CLEAR(self->str_episodes_this_iter);
    Py_CLEAR(self->str_mean_loss);
    return 0;
}

static void Session_dealloc(SessionObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Session_clear(self);
    tc_buf_free(&self->in);
    tc_buf_free(&self->out);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMethodDef Session_methods[] = {
    {"report", (PyCFunction)Session_report, METH_O, report_doc},
    {"report_step", (PyCFunction)Session_report_step, METH_VARARGS, report_step_doc},
    {"fill", (PyCFunction)Session_fill, METH_O, fill_doc},
    {"begin", (PyCFunction)Session_begin, METH_VARARGS,
     "begin(attempt, experiment_id): resets the counters for a new trial run\n(attempt: the START frame's token, which every frame of the run carries)."},
    {"mark", (PyCFunction)Session_mark, METH_NOARGS,
     "Restarts the iteration clock (before a class trainable's step)."},
    {"send", (PyCFunction)Session_send, METH_VARARGS, "send(type, token, payload=b'')"},
    {"recv", (PyCFunction)Session_recv, METH_NOARGS, recv_doc},
    {"start_heartbeat", (PyCFunction)Session_start_heartbeat, METH_NOARGS,
     "Starts the C thread that tells the driver, every second, that this worker lives."},
    {"set_counters", (PyCFunction)(void (*)(void))Session_set_counters, METH_VARARGS | METH_KEYWORDS,
     "set_counters(iteration, time_total, timesteps_total=None, episodes_total=None, "
     "experiment_id=None): the counters of a restored checkpoint."},
    {"counters", (PyCFunction)Session_counters, METH_NOARGS,
     "The trial's counters, as a checkpoint's metadata records them."},
    {"poll", (PyCFunction)Session_poll, METH_NOARGS,
     "Reads control frames without blocking; returns stop_requested."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Session_getset[] = {
    {"stop_requested", (getter)Session_get_stop, NULL, "The driver asked the trial to stop.", NULL},
    {"exit_requested", (getter)Session_get_exit, NULL, "The driver asked the worker to exit.", NULL},
    {"checkpoint_requested", (getter)Session_get_checkpoint_requested, NULL,
     "The stop asked for a checkpoint first.", NULL},
    {"iteration", (getter)Session_get_iteration, NULL, "Results reported in this trial.", NULL},
    {"run_reports", (getter)Session_get_run_reports, NULL,
     "Results sent since begin() (this run of the trial, restores included).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot Session_slots[] = {
    {Py_tp_doc, "Session(fd, hostname='', node_ip='', pump=None): a worker's driver link."},
    {Py_tp_new, Session_new},
    {Py_tp_init, Session_init},
    {Py_tp_dealloc, Session_dealloc},
    {Py_tp_traverse, Session_traverse},
    {Py_tp_clear, Session_clear},
    {Py_tp_methods, Session_methods},
    {Py_tp_getset, Session_getset},
    {0, NULL},
};

static PyType_Spec Session_spec = {
    .name = "tunec._tunec.Session",
    .basicsize = sizeof(SessionObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = Session_slots,
};

PyDoc_STRVAR(die_with_parent_doc,
"die_with_parent()\n\n"
"Asks the kernel to SIGKILL this process when its parent (the driver) dies,\n"
"so no worker outlives a killed driver. Exits at once if the parent is gone.");

static PyObject *die_with_parent(PyObject *module, PyObject *unused)
{
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    if (getppid() != parent || parent == 1)
        _exit(1);
    Py_RETURN_NONE;
}

static PyMethodDef worker_functions[] = {
    {"die_with_parent", die_with_parent, METH_NOARGS, die_with_parent_doc},
    {NULL, NULL, 0, NULL},
};

/* (The message-type constants are exported with the other wire codes by
 * wire_ext.c.) */
int tcx_worker_exec(PyObject *m)
{
    PyObject *type = PyType_FromModuleAndSpec(m, &Session_spec, NULL);
    if (!type)
        return -1;
    if (PyModule_AddFunctions(m, worker_functions) < 0) {
        Py_DECREF(type);
        return -1;
    }
    tcx_get_state(m)->SessionType = (PyTypeObject *)type;
    Py_INCREF(type);
    if (PyModule_AddObject(m, "Session", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}
