/* analysis_last_ext.c — _tunec.load_last_results: each trial's last result
 * (src/engine/analysis_last.c) as a plain dict, for `tune ls`.
 *
 * No NumPy and no pandas: a listing prints a few hundred cells, and importing
 * either costs more than reading 1,000 trials' tails (tunec/_listing.py).
 * One entry per given dir: (logdir, row, params): row a dict of the
 * flattened last result (config left out, as Analysis does) in file order,
 * or None when the dir has no readable result; params the params.json
 * object, or None.
 */
#include "tcx.h"

/* New reference: the Python value of the only row's cell of c. */
static PyObject *last_cell(const tc_trial_table *t, const tc_column *c)
{
    size_t r = t->n_rows - 1;
    switch (c->tag[r]) {
    case TC_CELL_INT: return PyLong_FromLongLong(tc_column_int(c, r));
    case TC_CELL_REAL: return PyFloat_FromDouble(c->num[r]);
    case TC_CELL_TRUE: Py_RETURN_TRUE;
    case TC_CELL_FALSE: Py_RETURN_FALSE;
    case TC_CELL_STRING:
        return PyUnicode_DecodeUTF8(tc_strpool_get(&t->strings, c->ref[r]),
                                    (Py_ssize_t)t->strings.len[c->ref[r]], "replace");
    case TC_CELL_LIST: {
        json_t *v = tc_column_cell_json(t, c, r);
        PyObject *o = v ? tcx_from_json(v) : NULL;
        json_decref(v);
        if (!o && !PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "a list in result.json could not be read");
        return o;
    }
    default: Py_RETURN_NONE;
    }
}

/* New reference: the row dict of t, or None when it has no row. */
static PyObject *last_row(const tc_trial_table *t)
{
    if (t->n_rows == 0)
        Py_RETURN_NONE;
    PyObject *row = PyDict_New();   /* new */
    for (size_t i = 0; row && i < t->n_cols; i++) {
        const tc_column *c = &t->cols[i];
        PyObject *value = last_cell(t, c);   /* new */
        if (!value || PyDict_SetItemString(row, c->name, value) < 0)
            Py_CLEAR(row);
        Py_XDECREF(value);
    }
    return row;
}

PyDoc_STRVAR(load_last_results_doc,
"load_last_results(logdirs) -> list of (logdir, row | None, params | None)\n\n"
"The last result of each trial dir, in order: the last line of result.json\n"
"that parses (or progress.csv's last row), flattened with '/' without the\n"
"config, and the params.json object. Only the result files' tails are read.");

static PyObject *load_last_results(PyObject *module, PyObject *logdirs)
{
    PyObject *seq = NULL, *paths = NULL, *res = NULL;
    tc_trial_table *tables = NULL;
    Py_ssize_t n = 0, loaded = 0;
    tc_error err;
    int rc = 0;
    /* A tuple copy: a path's __fspath__ may run user code. */
    if (!(seq = PySequence_Tuple(logdirs)))   /* new */
        return NULL;
    n = PyTuple_GET_SIZE(seq);
    if (!(paths = PyList_New(n)))
        goto done;
    if (!(tables = PyMem_Calloc(n ? (size_t)n : 1, sizeof *tables))) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *b = NULL;   /* new */
        if (!PyUnicode_FSConverter(PyTuple_GET_ITEM(seq, i), &b))
            goto done;
        PyList_SET_ITEM(paths, i, b);   /* steals b */
    }
    tc_error_init(&err);
    Py_BEGIN_ALLOW_THREADS
    for (; loaded < n; loaded++) {
        rc = tc_trial_table_load_last(&tables[loaded],
                                      PyBytes_AS_STRING(PyList_GET_ITEM(paths, loaded)), &err);
        if (rc < 0)
            break;
    }
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        tcx_raise(module, &err);
        goto done;
    }
    if (!(res = PyList_New(n)))
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *row = last_row(&tables[i]);   /* new */
        PyObject *params = NULL;                /* new */
        if (row) {
            params = tables[i].params ? tcx_from_json(tables[i].params) : Py_None;
            if (params == Py_None)
                Py_INCREF(params);
        }
        PyObject *item = params ? PyTuple_Pack(3, PyTuple_GET_ITEM(seq, i), row, params) : NULL;
        Py_XDECREF(row);
        Py_XDECREF(params);
        if (!item) {
            Py_CLEAR(res);
            goto done;
        }
        PyList_SET_ITEM(res, i, item);   /* steals item */
    }
done:
    for (Py_ssize_t i = 0; tables && i < loaded; i++)
        tc_trial_table_clear(&tables[i]);
    PyMem_Free(tables);
    Py_XDECREF(paths);
    Py_XDECREF(seq);
    return res;
}

static PyMethodDef analysis_last_methods[] = {
    {"load_last_results", (PyCFunction)load_last_results, METH_O, load_last_results_doc},
    {NULL, NULL, 0, NULL},
};

int tcx_analysis_last_exec(PyObject *m)
{
    return PyModule_AddFunctions(m, analysis_last_methods);
}
