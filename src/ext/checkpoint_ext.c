/* checkpoint_ext.c — the engine's checkpoint retention (src/engine/checkpoint.c)
 * for Python: tunec._tunec.CheckpointRetention, which backs
 * tunec.checkpoint_manager.CheckpointManager.
 *
 * The engine keeps a trial's checkpoints as records keyed by directory; here
 * the key is any string the caller chooses (CheckpointManager uses one per
 * Checkpoint object), and the engine's delete callback collects the keys the
 * rule dropped so the caller can delete those checkpoints. The rule is the
 * same one tune.run applies: the newest is kept, plus the keep_num best by
 * score; an unscored checkpoint lives only while it is the newest. */
#include "tcx.h"

typedef struct {
    PyObject_HEAD
    tc_ckpts ckpts;
    long keep_num;          /* 0: keep all */
} RetentionObject;

static int Retention_init(RetentionObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"keep_num", NULL};
    long keep_num = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|l:CheckpointRetention", kwlist, &keep_num))
        return -1;
    if (keep_num < 0) {
        PyErr_Format(PyExc_ValueError, "CheckpointRetention: keep_num must be >= 0 (0 keeps "
                     "all), got %ld", keep_num);
        return -1;
    }
    tc_ckpts_clear(&self->ckpts);
    self->keep_num = keep_num;
    return 0;
}

/* The engine's delete callback: the dropped key goes into the list. */
static void collect_dropped(void *ctx, const char *key)
{
    PyObject *list = ctx;
    PyObject *s = PyUnicode_FromString(key);
    if (!s || PyList_Append(list, s) < 0)
        PyErr_Clear();   /* reported below: the list comes back short */
    Py_XDECREF(s);
}

PyDoc_STRVAR(retention_add_doc,
"add(key, iteration, score=None) -> list\n\n"
"Registers a checkpoint as the newest; score None: its result had no score\n"
"attribute. Returns the keys the retention rule dropped (delete those).");

static PyObject *Retention_add(RetentionObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"key", "iteration", "score", NULL};
    const char *key;
    long iteration;
    PyObject *score_obj = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "sl|O:add", kwlist, &key, &iteration,
                                     &score_obj))
        return NULL;
    double score = 0;
    int has_score = score_obj != Py_None;
    if (has_score) {
        score = PyFloat_AsDouble(score_obj);
        if (score == -1.0 && PyErr_Occurred())
            return NULL;
        has_score = score == score;   /* NaN ranks nowhere, as in the runner */
    }
    PyObject *dropped = PyList_New(0);
    if (!dropped)
        return NULL;
    tc_error err;
    tc_error_init(&err);
    if (tc_ckpts_add(&self->ckpts, key, key, iteration, -1, has_score, score, self->keep_num,
                     collect_dropped, dropped, &err) < 0) {
        Py_DECREF(dropped);
        return PyErr_NoMemory();
    }
    return dropped;
}

static PyObject *Retention_keys(RetentionObject *self, PyObject *unused)
{
    PyObject *list = PyList_New((Py_ssize_t)self->ckpts.n);
    for (size_t i = 0; list && i < self->ckpts.n; i++) {
        PyObject *s = PyUnicode_FromString(self->ckpts.list[i].dir);
        if (!s) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, s);
    }
    return list;
}

static void Retention_dealloc(RetentionObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    tc_ckpts_clear(&self->ckpts);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMethodDef Retention_methods[] = {
    {"add", (PyCFunction)(void (*)(void))Retention_add, METH_VARARGS | METH_KEYWORDS,
     retention_add_doc},
    {"keys", (PyCFunction)Retention_keys, METH_NOARGS,
     "The kept checkpoints' keys, oldest first (the last is the newest)."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Retention_slots[] = {
    {Py_tp_doc, "CheckpointRetention(keep_num=0): the engine's checkpoint retention rule."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, Retention_init},
    {Py_tp_dealloc, Retention_dealloc},
    {Py_tp_methods, Retention_methods},
    {0, NULL},
};

static PyType_Spec Retention_spec = {
    .name = "tunec._tunec.CheckpointRetention",
    .basicsize = sizeof(RetentionObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = Retention_slots,
};

int tcx_checkpoint_exec(PyObject *m)
{
    PyObject *type = PyType_FromModuleAndSpec(m, &Retention_spec, NULL);
    if (!type)
        return -1;
    if (PyModule_AddObject(m, "CheckpointRetention", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}
