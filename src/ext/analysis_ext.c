/* analysis_ext.c — the analysis loader (src/engine/analysis.c) for Python:
 * _tunec.load_experiment and _tunec.load_trials.
 *
 * C hands back raw data (psutil's split); tunec/analysis builds DataFrames and
 * the friendly objects. One dict per trial:
 *   {"logdir": str, "params": dict | None,
 *    "columns": [names, in order], "data": {name: ndarray},
 *    "int_columns": [names of the int64 columns],
 *    "source": "result.json" | "progress.csv" | None, "rows": int,
 *    "bad_lines": int, "torn_tail": bool}
 * Each column is typed once (tc_column_type): int64 when every row holds an
 * integer, float64 when every cell is a number or missing (NaN), bool when
 * every row is true/false, else object (None where missing, one shared str
 * per distinct string of the trial).
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

/* Python strings of one table's pool, made on first use: a string a
 * trial repeats in every row (hostname, trial_id) becomes one object. */
typedef struct str_cache {
    const tc_strpool *pool;
    PyObject **objs;   /* borrowed by the arrays, owned here; NULL = not made */
} str_cache;

static void str_cache_free(str_cache *sc)
{
    if (sc->objs)
        for (size_t i = 0; i < sc->pool->n; i++)
            Py_XDECREF(sc->objs[i]);
    PyMem_Free(sc->objs);
}

/* New reference: the str of pool id `id` (bytes that are not UTF-8 become
 * U+FFFD: the scanner does not validate strings, jansson did). */
static PyObject *cached_str(str_cache *sc, uint32_t id)
{
    if (!sc->objs && !(sc->objs = PyMem_Calloc(sc->pool->n ? sc->pool->n : 1, sizeof *sc->objs)))
        return PyErr_NoMemory();
    if (!sc->objs[id]) {
        sc->objs[id] = PyUnicode_DecodeUTF8(tc_strpool_get(sc->pool, id),
                                            (Py_ssize_t)sc->pool->len[id], "replace");
        if (!sc->objs[id])
            return NULL;
    }
    Py_INCREF(sc->objs[id]);
    return sc->objs[id];
}

/* New reference: the Python value of one cell of an object column. */
static PyObject *cell_object(const tc_trial_table *t, const tc_column *c, size_t r,
                             str_cache *sc)
{
    switch (c->tag[r]) {
    case TC_CELL_INT: return PyLong_FromLongLong(tc_column_int(c, r));
    case TC_CELL_REAL: return PyFloat_FromDouble(c->num[r]);
    case TC_CELL_TRUE: Py_INCREF(Py_True); return Py_True;
    case TC_CELL_FALSE: Py_INCREF(Py_False); return Py_False;
    case TC_CELL_STRING: return cached_str(sc, c->ref[r]);
    case TC_CELL_LIST: {
        /* Rare (a list-valued metric): parsed here, one new list per cell. */
        json_t *v = tc_column_cell_json(t, c, r);
        PyObject *o = v ? tcx_from_json(v) : NULL;
        json_decref(v);
        if (!o && !PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "a list in result.json could not be read");
        return o;
    }
    default: Py_INCREF(Py_None); return Py_None;
    }
}

/* New reference: the column as a NumPy array typed once (tc_column_type):
 * float64, int64 and bool straight from the C buffers; object arrays hold
 * one value per cell, strings shared through the cache. */
static PyObject *column_values(const tc_trial_table *t, const tc_column *c, str_cache *sc)
{
    npy_intp n = (npy_intp)t->n_rows;
    tc_coltype type = tc_column_type(c, t->n_rows);
    int npy = type == TC_COLTYPE_FLOAT ? NPY_FLOAT64 : type == TC_COLTYPE_INT ? NPY_INT64
              : type == TC_COLTYPE_BOOL ? NPY_BOOL : NPY_OBJECT;
    PyObject *arr = PyArray_SimpleNew(1, &n, npy);   /* new */
    if (!arr || n == 0)
        return arr;
    void *data = PyArray_DATA((PyArrayObject *)arr);
    switch (type) {
    case TC_COLTYPE_FLOAT:
        memcpy(data, c->num, (size_t)n * sizeof(double));
        break;
    case TC_COLTYPE_INT:
        for (npy_intp r = 0; r < n; r++)
            ((npy_int64 *)data)[r] = tc_column_int(c, (size_t)r);
        break;
    case TC_COLTYPE_BOOL:
        for (npy_intp r = 0; r < n; r++)
            ((npy_bool *)data)[r] = c->tag[r] == TC_CELL_TRUE;
        break;
    case TC_COLTYPE_OBJECT:
        /* PyArray_SimpleNew filled it with None references; replaced one by one. */
        for (npy_intp r = 0; r < n; r++) {
            PyObject *item = cell_object(t, c, (size_t)r, sc);   /* new */
            if (!item) {
                Py_DECREF(arr);
                return NULL;
            }
            PyObject **slot = &((PyObject **)data)[r];
            Py_XSETREF(*slot, item);
        }
        break;
    }
    return arr;
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
    str_cache sc = {&t->strings, NULL};
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
        PyObject *values = name ? column_values(t, c, &sc) : NULL;   /* new */
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
    str_cache_free(&sc);
    return d;
error:
    str_cache_free(&sc);
    Py_XDECREF(columns);
    Py_XDECREF(ints);
    Py_XDECREF(data);
    Py_DECREF(d);
    return NULL;
}

/* New reference: the list of trial dicts; fills `stats` (a dict or None).
 * Each trial's C table is released as soon as its arrays exist, so the
 * peak holds the columns about once, not twice. */
static PyObject *analysis_result(tc_analysis *a, PyObject *stats)
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
        tc_trial_table_clear(&a->trials[i]);
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
