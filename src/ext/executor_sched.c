/* executor_sched.c — the Run type's side of a scheduler written in Python
 * (tunec/schedulers/_bridge.py): the host callbacks that call it with the
 * GIL taken for the call (events, choose_trial_to_run, PBT's
 * custom_explore_fn and mutation resamplers), its setup from the run's
 * options, and the Run methods its trial_runner facade uses to reach back
 * into the engine. */
#include <stddef.h>
#include "executor_internal.h"

/* ------------------------------------------------------------------------ */
/* host callbacks of a scheduler (tunec/schedulers/_bridge.py)              */
/* ------------------------------------------------------------------------ */

static RunObject *run_of(void *ctx)
{
    return (RunObject *)((char *)ctx - offsetof(RunObject, host_ctx));
}

/* A user scheduler's event: sched_event(event, trial_index, result_text or
 * None) -> decision (TC_SCHED_*). */
static int python_sched_event(void *ctx, int event, long trial, const char *result, size_t len,
                              int *decision, tc_error *err)
{
    RunObject *self = run_of(ctx);
    int was_released = self->saved != NULL;
    int rc = 0;
    WITH_GIL_BEGIN(self);
    PyObject *text = result ? PyUnicode_DecodeUTF8(result, (Py_ssize_t)len, "replace")
                            : (Py_INCREF(Py_None), Py_None);
    PyObject *ret = text ? PyObject_CallFunction(self->sched_event, "ilO", event, trial, text)
                         : NULL;
    long d = ret ? PyLong_AsLong(ret) : -1;
    if (!ret || (d == -1 && PyErr_Occurred()))
        rc = tcx_error_from_python(err);
    else
        *decision = (int)d;
    Py_XDECREF(text);
    Py_XDECREF(ret);
    WITH_GIL_END(self, was_released);
    return rc;
}

static long python_sched_choose(void *ctx, tc_error *err)
{
    RunObject *self = run_of(ctx);
    int was_released = self->saved != NULL;
    WITH_GIL_BEGIN(self);
    PyObject *ret = PyObject_CallNoArgs(self->sched_choose);
    long index = ret ? PyLong_AsLong(ret) : -2;
    if (!ret || (index == -1 && PyErr_Occurred())) {
        tcx_error_from_python(err);
        index = -2;
    }
    Py_XDECREF(ret);
    WITH_GIL_END(self, was_released);
    return index;
}

/* Calls fn(arg) with the GIL taken: arg is JSON (borrowed), the result comes
 * back as JSON (new), or NULL with err set. */
static json_t *call_json(RunObject *self, PyObject *fn, const json_t *arg, const char *where,
                         tc_error *err)
{
    int was_released = self->saved != NULL;
    json_t *out = NULL;
    WITH_GIL_BEGIN(self);
    PyObject *pyarg = tcx_from_json(arg);
    PyObject *ret = pyarg ? PyObject_CallOneArg(fn, pyarg) : NULL;
    if (ret)
        out = tcx_to_json(ret, where);
    if (!out)
        tcx_error_from_python(err);
    Py_XDECREF(ret);
    Py_XDECREF(pyarg);
    WITH_GIL_END(self, was_released);
    return out;
}

static json_t *python_pbt_explore(void *ctx, const json_t *config, tc_error *err)
{
    RunObject *self = run_of(ctx);
    return call_json(self, self->pbt_explore, config, "custom_explore_fn", err);
}

static json_t *python_pbt_sample(void *ctx, json_int_t id, tc_error *err)
{
    RunObject *self = run_of(ctx);
    json_t *arg = json_integer(id);
    json_t *out = arg ? call_json(self, self->pbt_sample, arg, "hyperparam_mutations", err)
                      : NULL;
    if (!arg)
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    json_decref(arg);
    return out;
}

/* The scheduler of the options (read by options.c). */
int tcx_setup_scheduler(RunObject *self, const tc_scheduler_options *sched, tc_error *err)
{
    if (sched->host_driven && (self->sched_event == Py_None || self->sched_choose == Py_None))
        return tc_error_set(err, TC_ERR_VALUE, "scheduler: host-driven without callbacks");
    return tc_runner_set_scheduler(self->runner, sched->spec, sched->host_driven, err);
}

/* ------------------------------------------------------------------------ */
/* scheduler methods: what tunec/schedulers/_bridge.py's runner facade uses  */
/* ------------------------------------------------------------------------ */

static tc_trial *trial_arg(RunObject *self, long index)
{
    tc_trial *t = tc_runner_trial(self->runner, index);
    if (!t)
        PyErr_Format(PyExc_IndexError, "no trial %ld", index);
    return t;
}

const char tcx_sched_builtin_doc[] =
"sched_builtin(event, trial, result=None) -> int\n\n"
"The built-in scheduler's handling of one event (TC_EV_*: 0 add, 1 result,\n"
"2 complete, 3 error, 4 remove) of a trial; the decision for a result\n"
"(0 CONTINUE, 1 PAUSE, 2 STOP, 3 NOOP). `result` is a dict.";

PyObject *tcx_run_sched_builtin(RunObject *self, PyObject *args)
{
    int event;
    long index;
    PyObject *result = Py_None;
    if (!PyArg_ParseTuple(args, "il|O", &event, &index, &result))
        return NULL;
    tc_trial *t = trial_arg(self, index);
    if (!t)
        return NULL;
    json_t *res = NULL;
    if (result != Py_None && !(res = tcx_to_json(result, "result")))
        return NULL;
    tc_error err;
    tc_error_init(&err);
    int decision = 0;
    int rc = tc_runner_sched_builtin(self->runner, t, event, res, &decision, &err);
    json_decref(res);
    if (rc < 0)
        return tcx_raise(self->module, &err);
    return PyLong_FromLong(decision);
}

PyObject *tcx_run_sched_builtin_choose(RunObject *self, PyObject *unused)
{
    return PyLong_FromLong(tc_runner_sched_builtin_choose(self->runner));
}

PyObject *tcx_run_sched_act(RunObject *self, PyObject *args)
{
    int action;
    long index;
    if (!PyArg_ParseTuple(args, "il", &action, &index))
        return NULL;
    tc_trial *t = trial_arg(self, index);
    if (!t)
        return NULL;
    tc_error err;
    tc_error_init(&err);
    if (tc_runner_sched_act(self->runner, t, action, &err) < 0)
        return tcx_raise(self->module, &err);
    Py_RETURN_NONE;
}

PyObject *tcx_run_sched_debug(RunObject *self, PyObject *unused)
{
    tc_buf b;
    tc_buf_init(&b);
    if (tc_runner_sched_debug(self->runner, &b) < 0) {
        tc_buf_free(&b);
        return PyErr_NoMemory();
    }
    PyObject *s = PyUnicode_FromString(b.data ? b.data : "");
    tc_buf_free(&b);
    return s;
}

PyObject *tcx_run_trial_statuses(RunObject *self, PyObject *unused)
{
    long n = tc_runner_num_trials(self->runner);
    PyObject *list = PyList_New(n);
    for (long i = 0; list && i < n; i++) {
        PyObject *s = PyUnicode_FromString(tc_status_names[tc_runner_trial(self->runner, i)->status]);
        if (!s) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, s);
    }
    return list;
}

PyObject *tcx_run_trial_snapshot(RunObject *self, PyObject *arg)
{
    long index = PyLong_AsLong(arg);
    if (index == -1 && PyErr_Occurred())
        return NULL;
    tc_trial *t = trial_arg(self, index);
    if (!t)
        return NULL;
    json_t *snap = tc_trial_snapshot(self->runner, t);
    PyObject *py = snap ? tcx_from_json(snap) : PyErr_NoMemory();
    json_decref(snap);
    return py;
}

PyObject *tcx_run_has_resources(RunObject *self, PyObject *arg)
{
    json_t *req = tcx_to_json(arg, "resources");
    if (!req)
        return NULL;
    tc_resources res;
    tc_error err;
    tc_error_init(&err);
    int rc = tc_resources_parse(req, &res, "resources", &err);
    json_decref(req);
    if (rc < 0)
        return tcx_raise(self->module, &err);
    return PyBool_FromLong(tc_capacity_fits(tc_runner_capacity(self->runner), &res));
}

/* Points the host's scheduler hooks at the Python callbacks given. */
void tcx_install_sched_callbacks(RunObject *self)
{
    if (self->sched_event != Py_None)
        self->host.sched_event = python_sched_event;
    if (self->sched_choose != Py_None)
        self->host.sched_choose = python_sched_choose;
    if (self->pbt_explore != Py_None)
        self->host.pbt_explore = python_pbt_explore;
    if (self->pbt_sample != Py_None)
        self->host.pbt_sample = python_pbt_sample;
}
