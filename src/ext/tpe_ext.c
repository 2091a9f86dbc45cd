/* tpe_ext.c — the engine's TPE over a tune config (src/engine/search_space.h)
 * for Python: tunec._tunec.TPESearcher, which backs tunec.suggest.TPESearch
 * when it is used on its own (a ConcurrencyLimiter or Repeater around it,
 * or called directly). Inside tune.run a bare TPESearch never comes here:
 * the runner builds the same object itself and asks it without Python.
 *
 * Configs and results cross as JSON text in the engine's encoding
 * (tunec.sample._Codec), so the domains are read by the same code as the
 * engine's. */
#include "tcx.h"
#include "search_space.h"

typedef struct {
    PyObject_HEAD
    tc_tpe_search *search;
} TPEObject;

static PyObject *raise_err(TPEObject *self, const tc_error *err)
{
    return tcx_raise(PyType_GetModule(Py_TYPE(self)), err);
}

static json_t *loads(const char *text, Py_ssize_t len, tc_error *err)
{
    return tc_json_loads(text, (size_t)len, err);
}

static int TPE_init(TPEObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"config", "options", NULL};
    const char *config_text, *opts_text;
    Py_ssize_t config_len, opts_len;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "s#s#:TPESearcher", kwlist, &config_text,
                                     &config_len, &opts_text, &opts_len))
        return -1;
    tc_error err;
    tc_error_init(&err);
    json_t *config = loads(config_text, config_len, &err);
    json_t *opts = config ? loads(opts_text, opts_len, &err) : NULL;
    tc_tpe_search *search = opts ? tc_tpe_search_new(config, opts, &err) : NULL;
    json_decref(config);
    json_decref(opts);
    if (!search) {
        raise_err(self, &err);
        return -1;
    }
    tc_tpe_search_free(self->search);
    self->search = search;
    return 0;
}

static int ready(TPEObject *self)
{
    if (self->search)
        return 1;
    PyErr_SetString(PyExc_RuntimeError, "TPESearcher is not initialised");
    return 0;
}

PyDoc_STRVAR(tpe_suggest_doc,
"suggest(trial_id) -> str\n\n"
"The next suggestion (JSON: the parameters' values at their paths); the\n"
"trial counts as running until complete().");

static PyObject *TPE_suggest(TPEObject *self, PyObject *arg)
{
    const char *trial_id = PyUnicode_AsUTF8(arg);
    if (!trial_id || !ready(self))
        return NULL;
    tc_error err;
    tc_error_init(&err);
    json_t *config = tc_tpe_search_suggest(self->search, trial_id, &err);
    if (!config)
        return raise_err(self, &err);
    tc_buf b;
    tc_buf_init(&b);
    int rc = tc_json_dump(config, &b, TC_DUMP_COMPACT);
    json_decref(config);
    PyObject *out = rc < 0 ? PyErr_NoMemory() : PyUnicode_FromStringAndSize(b.data,
                                                                           (Py_ssize_t)b.len);
    tc_buf_free(&b);
    return out;
}

PyDoc_STRVAR(tpe_restore_doc,
"restore_trial(trial_id, config_json)\n\n"
"A trial of a saved search back, running with the values in its config.");

static PyObject *TPE_restore_trial(TPEObject *self, PyObject *args)
{
    const char *trial_id, *text;
    Py_ssize_t len;
    if (!PyArg_ParseTuple(args, "ss#:restore_trial", &trial_id, &text, &len) || !ready(self))
        return NULL;
    tc_error err;
    tc_error_init(&err);
    json_t *config = loads(text, len, &err);
    int rc = config ? tc_tpe_search_restore_trial(self->search, trial_id, config, &err) : -1;
    json_decref(config);
    if (rc < 0)
        return raise_err(self, &err);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(tpe_complete_doc,
"complete(trial_id, result_json=None, error=False)\n\n"
"The trial ended with this last result (None: none), or failed.");

static PyObject *TPE_complete(TPEObject *self, PyObject *args)
{
    const char *trial_id, *text = NULL;
    Py_ssize_t len = 0;
    int error = 0;
    if (!PyArg_ParseTuple(args, "s|z#p:complete", &trial_id, &text, &len, &error) ||
        !ready(self))
        return NULL;
    tc_error err;
    tc_error_init(&err);
    json_t *result = text ? loads(text, len, &err) : NULL;
    int rc = (text && !result) ? -1
             : tc_tpe_search_complete(self->search, trial_id, result, error, &err);
    json_decref(result);
    if (rc < 0)
        return raise_err(self, &err);
    Py_RETURN_NONE;
}

static PyObject *TPE_get_made(TPEObject *self, void *closure)
{
    (void)closure;
    return ready(self) ? PyLong_FromLong(tc_tpe_search_made(self->search)) : NULL;
}

static int TPE_set_made(TPEObject *self, PyObject *value, void *closure)
{
    (void)closure;
    long made = value ? PyLong_AsLong(value) : -1;
    if (made == -1 && (!value || PyErr_Occurred())) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "made cannot be deleted");
        return -1;
    }
    if (!ready(self))
        return -1;
    tc_tpe_search_set_made(self->search, made);
    return 0;
}

static void TPE_dealloc(TPEObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    tc_tpe_search_free(self->search);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMethodDef TPE_methods[] = {
    {"suggest", (PyCFunction)TPE_suggest, METH_O, tpe_suggest_doc},
    {"restore_trial", (PyCFunction)TPE_restore_trial, METH_VARARGS, tpe_restore_doc},
    {"complete", (PyCFunction)TPE_complete, METH_VARARGS, tpe_complete_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef TPE_getset[] = {
    {"made", (getter)TPE_get_made, (setter)TPE_set_made,
     "Suggestions made (the seeded stream's position).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot TPE_slots[] = {
    {Py_tp_doc, "TPESearcher(config_json, options_json): the engine's TPE over a config."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, TPE_init},
    {Py_tp_dealloc, TPE_dealloc},
    {Py_tp_methods, TPE_methods},
    {Py_tp_getset, TPE_getset},
    {0, NULL},
};

static PyType_Spec TPE_spec = {
    .name = "tunec._tunec.TPESearcher",
    .basicsize = sizeof(TPEObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = TPE_slots,
};

int tcx_tpe_exec(PyObject *m)
{
    PyObject *type = PyType_FromModuleAndSpec(m, &TPE_spec, NULL);
    if (!type)
        return -1;
    if (PyModule_AddObject(m, "TPESearcher", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}
