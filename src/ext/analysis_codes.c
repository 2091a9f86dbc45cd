/* analysis_codes.c — _tunec.object_codes: an object column as codes into a
 * list of its distinct objects, for the parsed-column cache
 * (tunec/analysis/_cache.py).
 *
 * The loader makes one Python object per distinct string of a layout
 * (analysis_groups.c's string cache), so a 100,000-row column of run ids,
 * dates and hostnames holds a few hundred objects, each referenced many
 * times. Pickling such a column writes a memo reference per cell and
 * unpickling it costs ~0.1 us a cell; codes (an int32 array) and the few
 * distinct objects cost a fraction of that, and `uniques.take(codes)` gives
 * back the same column: the same objects in the same cells, shared as
 * before.
 *
 * Distinct means distinct by identity (one table of pointers), never by
 * value: equal-looking cells that were different objects (two lists, two
 * NaN floats) stay different objects, and nothing user-defined (__eq__,
 * __hash__) runs.
 */
#include "tcx.h"
#include "tcx_numpy.h"

/* Open addressing over object pointers; the table holds indices + 1 into
 * the uniques list (0 = empty). */
typedef struct ptr_table {
    PyObject **keys;
    int32_t *codes;
    size_t mask;
} ptr_table;

static size_t ptr_hash(const PyObject *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)x;
}

static int ptr_table_init(ptr_table *t, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    t->keys = PyMem_Calloc(cap, sizeof *t->keys);
    t->codes = PyMem_Calloc(cap, sizeof *t->codes);
    t->mask = cap - 1;
    return t->keys && t->codes ? 0 : -1;
}

static void ptr_table_free(ptr_table *t)
{
    PyMem_Free(t->keys);
    PyMem_Free(t->codes);
}

PyDoc_STRVAR(object_codes_doc,
"object_codes(column) -> (codes, uniques)\n\n"
"A 1-d object ndarray as an int32 ndarray of codes and the list of its\n"
"distinct objects (by identity, in first-seen order), so that\n"
"numpy.array(uniques, dtype=object)[codes] holds the same objects.");

static PyObject *object_codes(PyObject *module, PyObject *arg)
{
    (void)module;
    int ready = tcx_numpy_ready();
    if (ready <= 0) {
        if (ready == 0)
            PyErr_SetString(PyExc_ImportError, "numpy is not loaded");
        return NULL;
    }
    if (!PyArray_Check(arg) || PyArray_TYPE((PyArrayObject *)arg) != NPY_OBJECT ||
        PyArray_NDIM((PyArrayObject *)arg) != 1) {
        PyErr_SetString(PyExc_TypeError, "object_codes: column must be a 1-d object ndarray");
        return NULL;
    }
    PyArrayObject *col = (PyArrayObject *)arg;
    npy_intp n = PyArray_DIM(col, 0);
    npy_intp stride = PyArray_STRIDE(col, 0);
    const char *base = PyArray_BYTES(col);
    PyObject *uniques = PyList_New(0), *codes = NULL;
    ptr_table t = {0};
    if (!uniques)
        return NULL;
    if (ptr_table_init(&t, (size_t)n) < 0) {
        PyErr_NoMemory();
        goto fail;
    }
    codes = PyArray_SimpleNew(1, &n, NPY_INT32);
    if (!codes)
        goto fail;
    int32_t *out = (int32_t *)PyArray_DATA((PyArrayObject *)codes);
    for (npy_intp i = 0; i < n; i++) {
        PyObject *item;
        memcpy(&item, base + i * stride, sizeof item);
        if (!item)
            item = Py_None;   /* a cell numpy left unset reads as None */
        size_t h = ptr_hash(item) & t.mask;
        while (t.keys[h] && t.keys[h] != item)
            h = (h + 1) & t.mask;
        if (!t.keys[h]) {
            if (PyList_GET_SIZE(uniques) >= INT32_MAX) {
                PyErr_SetString(PyExc_OverflowError, "object_codes: too many distinct objects");
                goto fail;
            }
            t.keys[h] = item;
            t.codes[h] = (int32_t)PyList_GET_SIZE(uniques);
            if (PyList_Append(uniques, item) < 0)
                goto fail;
        }
        out[i] = t.codes[h];
    }
    ptr_table_free(&t);
    PyObject *res = PyTuple_Pack(2, codes, uniques);
    Py_DECREF(codes);
    Py_DECREF(uniques);
    return res;
fail:
    ptr_table_free(&t);
    Py_XDECREF(codes);
    Py_DECREF(uniques);
    return NULL;
}

static PyMethodDef codes_methods[] = {
    {"object_codes", (PyCFunction)object_codes, METH_O, object_codes_doc},
    {NULL, NULL, 0, NULL},
};

int tcx_analysis_codes_exec(PyObject *m)
{
    return PyModule_AddFunctions(m, codes_methods);
}
