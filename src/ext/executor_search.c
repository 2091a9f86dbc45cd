/* executor_search.c — the Run type's side of a searcher written in Python
 * (tunec/suggest/_bridge.py): the host callbacks that ask it for a config
 * and tell it of results and ends (with the GIL taken for the call), its
 * setup, and the loop that asks while trials could start. Nothing here
 * runs unless the user gave a Python searcher. */
#include <stddef.h>
#include <string.h>
#include "executor_internal.h"

static RunObject *run_of(void *ctx)
{
    return (RunObject *)((char *)ctx - offsetof(RunObject, host_ctx));
}

/* search_suggest(trial_id) -> dict (encoded), None, or the string
 * "FINISHED". */
static int python_search_suggest(void *ctx, const char *trial_id, json_t **config,
                                 tc_error *err)
{
    RunObject *self = run_of(ctx);
    int was_released = self->saved != NULL;
    int rc = -1;
    WITH_GIL_BEGIN(self);
    PyObject *ret = PyObject_CallFunction(self->search_suggest, "s", trial_id);
    if (!ret) {
        tcx_error_from_python(err);
    } else if (ret == Py_None) {
        rc = 0;
    } else if (PyUnicode_Check(ret) && PyUnicode_CompareWithASCIIString(ret, "FINISHED") == 0) {
        rc = 2;
    } else if (PyDict_Check(ret)) {
        *config = tcx_to_json(ret, "the searcher's suggestion");
        rc = *config ? 1 : tcx_error_from_python(err);
    } else {
        PyErr_Format(PyExc_TypeError, "searcher: suggest(%s) must return a dict, None or "
                     "Searcher.FINISHED, got %R", trial_id, ret);
        tcx_error_from_python(err);
    }
    Py_XDECREF(ret);
    WITH_GIL_END(self, was_released);
    return rc;
}

static int python_search_event(void *ctx, int event, const char *trial_id, const char *result,
                               size_t len, tc_error *err)
{
    RunObject *self = run_of(ctx);
    int was_released = self->saved != NULL;
    int rc = 0;
    WITH_GIL_BEGIN(self);
    PyObject *text = result ? PyUnicode_DecodeUTF8(result, (Py_ssize_t)len, "replace")
                            : (Py_INCREF(Py_None), Py_None);
    PyObject *ret = text ? PyObject_CallFunction(self->search_event, "isO", event, trial_id,
                                                 text)
                         : NULL;
    if (!ret)
        rc = tcx_error_from_python(err);
    Py_XDECREF(text);
    Py_XDECREF(ret);
    WITH_GIL_END(self, was_released);
    return rc;
}

void tcx_install_search_callbacks(RunObject *self)
{
    if (self->search_suggest != Py_None && self->search_event != Py_None) {
        self->host.search_suggest = python_search_suggest;
        self->host.search_event = python_search_event;
    }
}

/* An engine searcher ("searcher": {"type": "tpe", ...} among the options:
 * tunec.suggest.TPESearch) runs in the engine; otherwise a Python one
 * through the callbacks above. */
int tcx_setup_searcher(RunObject *self, const tc_run_options *ro, tc_error *err)
{
    const json_t *native = json_is_null(ro->searcher_json) ? NULL : ro->searcher_json;
    if (!self->host.search_suggest && !native)
        return 0;
    if (ro->nexps != 1)
        return tc_error_set(err, TC_ERR_VALUE, "search_alg: a searcher runs exactly one "
                            "experiment, got %zu", ro->nexps);
    if (native) {
        const char *type = json_string_value(json_object_get(native, "type"));
        if (!type || strcmp(type, "tpe") != 0)
            return tc_error_set(err, TC_ERR_VALUE, "search_alg: unknown engine searcher %s",
                                type ? type : "(no type)");
        return tc_runner_set_tpe_searcher(self->runner, 0, ro->exps[0].spec,
                                          ro->exps[0].num_samples, native, err);
    }
    return tc_runner_set_searcher(self->runner, 0, ro->exps[0].spec, ro->exps[0].num_samples,
                                  err);
}

int tcx_search_fill(RunObject *self, int (*start)(RunObject *, tc_error *), tc_error *err)
{
    if (!tc_runner_has_searcher(self->runner))
        return 0;
    for (;;) {
        long before = tc_runner_num_trials(self->runner);
        int added = tc_runner_search_step(self->runner, tcx_eval_fn,
                                          self->resolver == Py_None ? NULL : self->resolver, err);
        /* Named as variant trials are, recovered ones included. */
        if (added >= 0 && tcx_name_trials(self, before, tc_runner_num_trials(self->runner),
                                          err) < 0)
            return -1;
        if (added <= 0 || !start)
            return added;
        if (start(self, err) < 0)
            return -1;
    }
}
