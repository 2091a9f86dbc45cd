/* analysis_state.c — _tunec.state_logdirs: the trial logdirs of an
 * experiment_state file (src/engine/state_logdirs.c) for ExperimentAnalysis,
 * which then builds its Trial objects only when they are asked for. */
#include "tcx.h"

PyDoc_STRVAR(state_logdirs_doc,
"state_logdirs(text: bytes) -> list of (str | None), or None\n\n"
"The logdir of every \"checkpoints\" entry of an experiment_state file's\n"
"text that is (or holds) an object, in order; None for an entry without\n"
"one. Returns None when the state is not an object with a \"checkpoints\"\n"
"list. Raises ValueError when the text is not valid JSON.");

static PyObject *state_logdirs(PyObject *module, PyObject *arg)
{
    Py_buffer view;
    tc_state_logdirs out;
    tc_error err;
    int rc;
    (void)module;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    tc_error_init(&err);
    Py_BEGIN_ALLOW_THREADS
    rc = tc_state_logdirs_read(&out, view.buf, (size_t)view.len, &err);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (rc < 0) {
        if (err.code == TC_ERR_NOMEM)
            return PyErr_NoMemory();
        PyErr_SetString(PyExc_ValueError, err.text);
        return NULL;
    }
    PyObject *res = NULL;
    if (!out.found) {
        Py_INCREF(Py_None);
        res = Py_None;
        goto done;
    }
    if (!(res = PyList_New((Py_ssize_t)out.n)))
        goto done;
    for (size_t i = 0; i < out.n; i++) {
        PyObject *s;
        if (out.logdirs[i]) {
            s = PyUnicode_DecodeUTF8(out.logdirs[i], (Py_ssize_t)strlen(out.logdirs[i]),
                                     "surrogatepass");
        } else {
            Py_INCREF(Py_None);
            s = Py_None;
        }
        if (!s) {
            Py_CLEAR(res);
            goto done;
        }
        PyList_SET_ITEM(res, (Py_ssize_t)i, s);
    }
done:
    tc_state_logdirs_free(&out);
    return res;
}

static PyMethodDef state_methods[] = {
    {"state_logdirs", state_logdirs, METH_O, state_logdirs_doc},
    {NULL, NULL, 0, NULL},
};

int tcx_analysis_state_exec(PyObject *m)
{
    return PyModule_AddFunctions(m, state_methods);
}
