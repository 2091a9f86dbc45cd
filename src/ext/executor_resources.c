/* executor_resources.c — the Run type's side of per-trial resources
 * (tune.with_resources with a callable of the config): the host callback
 * that asks Python for one new trial's request, with the GIL taken for the
 * call. Nothing here runs unless the user gave such a callable. */
#include <stddef.h>
#include "executor_internal.h"

static RunObject *run_of(void *ctx)
{
    return (RunObject *)((char *)ctx - offsetof(RunObject, host_ctx));
}

/* trial_resources(experiment, config) -> a resources dict, or None for the
 * experiment's request (tunec/_with_resources.py). */
static int python_trial_resources(void *ctx, int experiment, const json_t *config,
                                  json_t **request, tc_error *err)
{
    RunObject *self = run_of(ctx);
    int was_released = self->saved != NULL;
    int rc = -1;
    WITH_GIL_BEGIN(self);
    PyObject *py_config = tcx_from_json(config);
    PyObject *ret = py_config ? PyObject_CallFunction(self->trial_resources, "iO", experiment,
                                                      py_config)
                              : NULL;
    if (!ret) {
        tcx_error_from_python(err);
    } else if (ret == Py_None) {
        rc = 0;
    } else if (PyDict_Check(ret)) {
        *request = tcx_to_json(ret, "with_resources");
        rc = *request ? 1 : tcx_error_from_python(err);
    } else {
        PyErr_Format(PyExc_TypeError, "with_resources: the request must be a dict, got %R",
                     ret);
        tcx_error_from_python(err);
    }
    Py_XDECREF(py_config);
    Py_XDECREF(ret);
    WITH_GIL_END(self, was_released);
    return rc;
}

void tcx_install_resources_callback(RunObject *self)
{
    if (self->trial_resources != Py_None)
        self->host.trial_resources = python_trial_resources;
}
