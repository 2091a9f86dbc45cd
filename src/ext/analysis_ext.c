/* analysis_ext.c — the analysis loader (src/engine/analysis.c) for Python:
 * _tunec.load_experiment and _tunec.load_trials.
 *
 * C hands back raw data (psutil's split); tunec/analysis builds DataFrames and
 * the friendly objects. One dict per trial:
 *   {"logdir": str, "params": dict | None,
 *    "columns": [names, in order], "data": {name: ndarray float64 | list},
 *    "int_columns": [names of columns whose every row is an integer],
 *    "source": "result.json" | "progress.csv" | None, "rows": int,
 *    "bad_lines": int, "torn_tail": bool}
 * A column is a float64 array when every cell is a number or missing (NaN),
 * else a list of Python values (None where missing).
 *
 * The GIL is released while the engine walks, reads and parses; it is taken
 * back only to build the Python objects. NumPy is imported here (analysis
 * always needs it), never at `import tunec`.
 */
#include "tcx.h"
#include "tcx_numpy.h"

static const char *source_name(int source)
{
    switch (source) {
    case TC_SOURCE_RESULT_JSON: return "result.json";
    case TC_SOURCE_PROGRESS_CSV: return "progress.csv";
    default: return NULL;
    }
}

/* New reference: the column's values, as an array or a list. */
static PyObject *column_values(const tc_trial_table *t, const tc_column *c)
{
    npy_intp n = (npy_intp)t->n_rows;
    if (!c->val) {
        PyObject *arr = PyArray_SimpleNew(1, &n, NPY_FLOAT64);   /* new */
        if (arr && n)
            memcpy(PyArray_DATA((PyArrayObject *)arr), c->num, (size_t)n * sizeof(double));
        return arr;
    }
    PyObject *list = PyList_New(n);   /* new */
    for (npy_intp r = 0; list && r < n; r++) {
        PyObject *item = tcx_from_json(c->val[r]);   /* new */
        if (!item)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, r, item);          /* steals item */
    }
    return list;
}

/* New reference to None (Py_NewRef is 3.10+; tunec supports 3.9). */
static PyObject *new_none(void)
{
    Py_INCREF(Py_None);
    return Py_None;
}

/* Sets d[key] = value, stealing value (NULL: an error is already set). */
static int set_new(PyObject *d, const char *key, PyObject *value)
{
    if (!value)
        return -1;
    int rc = PyDict_SetItemString(d, key, value);
    Py_DECREF(value);
    return rc;
}

/* New reference: the dict of one trial (see the header comment). */
static PyObject *trial_dict(const tc_trial_table *t)
{
    PyObject *d = PyDict_New(), *columns = NULL, *ints = NULL, *data = NULL;   /* new */
    if (!d)
        return NULL;
    if (set_new(d, "logdir", PyUnicode_DecodeFSDefault(t->logdir)) < 0)
        goto error;
    if (set_new(d, "params", t->params ? tcx_from_json(t->params) : new_none()) < 0)
        goto error;
    const char *src = source_name(t->source);
    if (set_new(d, "source", src ? PyUnicode_FromString(src) : new_none()) < 0 ||
        set_new(d, "rows", PyLong_FromSize_t(t->n_rows)) < 0 ||
        set_new(d, "bad_lines", PyLong_FromSize_t(t->n_bad_lines)) < 0 ||
        set_new(d, "torn_tail", PyBool_FromLong(t->torn_tail)) < 0)
        goto error;
    if (!(columns = PyList_New(0)) || !(ints = PyList_New(0)) || !(data = PyDict_New()))
        goto error;
    for (size_t i = 0; i < t->n_cols; i++) {
        const tc_column *c = &t->cols[i];
        /* A CSV header is bytes from disk: never fail on them. */
        PyObject *name = PyUnicode_DecodeUTF8(c->name, (Py_ssize_t)strlen(c->name), "replace");
        PyObject *values = name ? column_values(t, c) : NULL;   /* new */
        int rc = values ? PyDict_SetItem(data, name, values) : -1;
        if (rc == 0)
            rc = PyList_Append(columns, name);
        if (rc == 0 && c->is_int)
            rc = PyList_Append(ints, name);
        Py_XDECREF(name);
        Py_XDECREF(values);
        if (rc < 0)
            goto error;
    }
    if (PyDict_SetItemString(d, "columns", columns) < 0 ||
        PyDict_SetItemString(d, "int_columns", ints) < 0 ||
        PyDict_SetItemString(d, "data", data) < 0)
        goto error;
    Py_DECREF(columns);
    Py_DECREF(ints);
    Py_DECREF(data);
    return d;
error:
    Py_XDECREF(columns);
    Py_XDECREF(ints);
    Py_XDECREF(data);
    Py_DECREF(d);
    return NULL;
}

/* New reference: the list of trial dicts; fills `stats` (a dict or None). */
static PyObject *analysis_result(const tc_analysis *a, PyObject *stats)
{
    if (stats != Py_None) {
        if (set_new(stats, "trials", PyLong_FromSize_t(a->n_trials)) < 0 ||
            set_new(stats, "skipped", PyLong_FromSize_t(a->n_skipped)) < 0 ||
            set_new(stats, "bad_lines", PyLong_FromSize_t(a->n_bad_lines)) < 0)
            return NULL;
    }
    PyObject *list = PyList_New((Py_ssize_t)a->n_trials);   /* new */
    for (size_t i = 0; list && i < a->n_trials; i++) {
        PyObject *d = trial_dict(&a->trials[i]);   /* new */
        if (!d)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, d);   /* steals d */
    }
    return list;
}

/* NumPy loaded for the arrays: 0, or -1 with an exception set. */
static int need_numpy(void)
{
    PyObject *np = PyImport_ImportModule("numpy");   /* new */
    if (!np)
        return -1;
    Py_DECREF(np);
    int ready = tcx_numpy_ready();
    if (ready == 0)
        PyErr_SetString(PyExc_ImportError, "numpy could not be loaded");
    return ready == 1 ? 0 : -1;
}

static int check_stats(PyObject *stats)
{
    if (stats == Py_None || PyDict_Check(stats))
        return 0;
    PyErr_Format(PyExc_TypeError, "stats must be a dict or None, not %.100s",
                 Py_TYPE(stats)->tp_name);
    return -1;
}

PyDoc_STRVAR(load_experiment_doc,
"load_experiment(path, stats=None) -> list of dict\n\n"
"Walks the experiment directory `path` (recursively; checkpoint_* dirs and\n"
"links to dirs are not entered) and loads every directory that holds a\n"
"result.json or progress.csv, in name order, parents first. Each trial is a\n"
"dict {'logdir', 'params', 'columns', 'data', 'int_columns', 'source', 'rows',\n"
"'bad_lines', 'torn_tail'}; 'source' is None for a trial whose results could\n"
"not be read. `stats`, if a dict, receives 'trials', 'skipped', 'bad_lines'.\n"
"Raises ValueError('<path> is not a valid directory.').");

static PyObject *load_experiment(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"path", "stats", NULL};
    PyObject *path = NULL, *stats = Py_None, *res = NULL;   /* path: new (bytes) */
    tc_analysis a;
    tc_error err;
    int rc;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|O:load_experiment", kwlist,
                                     PyUnicode_FSConverter, &path, &stats))
        return NULL;
    if (check_stats(stats) < 0 || need_numpy() < 0)
        goto done;
    tc_error_init(&err);
    const char *dir = PyBytes_AS_STRING(path);
    Py_BEGIN_ALLOW_THREADS
    rc = tc_analysis_load(&a, dir, &err);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        tcx_raise(module, &err);
        goto done;
    }
    res = analysis_result(&a, stats);
    tc_analysis_clear(&a);
done:
    Py_XDECREF(path);
    return res;
}

PyDoc_STRVAR(load_trials_doc,
"load_trials(logdirs, stats=None) -> list of dict\n\n"
"Loads the given trial directories, in order, as load_experiment does (one\n"
"dict per logdir; a directory that cannot be read has source None).");

static PyObject *load_trials(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"logdirs", "stats", NULL};
    PyObject *logdirs = NULL, *stats = Py_None, *seq = NULL, *paths = NULL, *res = NULL;
    const char **dirs = NULL;
    tc_analysis a;
    tc_error err;
    int rc;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:load_trials", kwlist, &logdirs, &stats))
        return NULL;
    if (check_stats(stats) < 0 || need_numpy() < 0)
        return NULL;
    if (PyUnicode_Check(logdirs) || PyBytes_Check(logdirs)) {
        PyErr_SetString(PyExc_TypeError, "logdirs must be a sequence of paths, not a single path");
        return NULL;
    }
    /* A tuple copy: a path's __fspath__ runs user code, which must not be
     * able to resize what is being walked. */
    if (!(seq = PySequence_Tuple(logdirs)))   /* new */
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(seq);
    /* The bytes objects stay alive in `paths` while the GIL is released. */
    if (!(paths = PyList_New(n)))
        goto done;
    if (!(dirs = PyMem_Calloc(n ? (size_t)n : 1, sizeof *dirs))) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *b = NULL;   /* new */
        if (!PyUnicode_FSConverter(PyTuple_GET_ITEM(seq, i), &b))
            goto done;
        PyList_SET_ITEM(paths, i, b);   /* steals b */
        dirs[i] = PyBytes_AS_STRING(b);
    }
    tc_error_init(&err);
    Py_BEGIN_ALLOW_THREADS
    rc = tc_analysis_load_dirs(&a, dirs, (size_t)n, &err);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        tcx_raise(module, &err);
        goto done;
    }
    res = analysis_result(&a, stats);
    tc_analysis_clear(&a);
done:
    PyMem_Free(dirs);
    Py_XDECREF(paths);
    Py_XDECREF(seq);
    return res;
}

static PyMethodDef analysis_methods[] = {
    {"load_experiment", (PyCFunction)(void (*)(void))load_experiment,
     METH_VARARGS | METH_KEYWORDS, load_experiment_doc},
    {"load_trials", (PyCFunction)(void (*)(void))load_trials,
     METH_VARARGS | METH_KEYWORDS, load_trials_doc},
    {NULL, NULL, 0, NULL},
};

int tcx_analysis_exec(PyObject *m)
{
    return PyModule_AddFunctions(m, analysis_methods);
}
