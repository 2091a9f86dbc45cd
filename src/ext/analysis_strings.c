/* analysis_strings.c — the loader's string columns as offsets and bytes
 * (analysis_groups.c), and _tunec.strings_to_objects.
 *
 * A column whose every cell is a string is what pandas 3 keeps as a `str`
 * column: an Arrow large_string array, int64 offsets and UTF-8 bytes, no
 * Python object per cell. analysis_groups.c hands such a column over in
 * exactly that shape -- offsets (rows + 1, int64) and bytes (uint8), filled
 * on the load threads without the GIL -- and tunec/analysis/_columns.py
 * wraps them as pandas' own str array without a copy. Where pandas keeps
 * strings as objects (before 3, or without pyarrow), strings_to_objects
 * makes the object column the loader used to make.
 *
 * Eligible: every cell of the column, in every trial of the layout, is a
 * string (no missing cell, no other type), and the trial's strings are
 * valid UTF-8 (Arrow's requirement; other bytes are decoded with
 * "replace" on the object path, as before).
 */
#include "tcx.h"
#include "tcx_numpy.h"

/* Whether s[0..n) is valid UTF-8 under Python's strict decoder (no
 * overlong forms, no surrogates, nothing past U+10FFFF). NUL bytes (the
 * pool's separators) are valid. */
static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
        else return 0;
        if (len > n - i)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

void tcx_str_measure(const tc_trial_table *t, size_t *bytes)
{
    const tc_strpool *p = &t->strings;
    int utf8 = valid_utf8((const unsigned char *)(p->text.data ? p->text.data : ""), p->text.len);
    for (size_t c = 0; c < t->n_cols; c++) {
        const tc_column *col = &t->cols[c];
        bytes[c] = TCX_NOT_STR;
        if (!utf8 || t->n_rows == 0 || col->kinds != TC_CELL_BIT(TC_CELL_STRING))
            continue;
        size_t sum = 0;
        for (size_t r = 0; r < t->n_rows; r++)
            sum += p->len[col->ref[r]];
        bytes[c] = sum;
    }
}

void tcx_str_fill(const tc_trial_table *t, const tc_column *c, int64_t *offsets, char *data,
                  size_t base)
{
    const tc_strpool *p = &t->strings;
    size_t pos = base;
    for (size_t r = 0; r < t->n_rows; r++) {
        uint32_t id = c->ref[r];
        size_t n = p->len[id];
        memcpy(data + pos, tc_strpool_get(p, id), n);
        pos += n;
        offsets[r + 1] = (int64_t)pos;
    }
}

/* ------------------------------------------------------------------------- */
/* strings_to_objects                                                         */
/* ------------------------------------------------------------------------- */

PyDoc_STRVAR(strings_to_objects_doc,
"strings_to_objects(offsets, data) -> ndarray\n\n"
"An object array of str: cell i is data[offsets[i]:offsets[i + 1]] decoded\n"
"as UTF-8 (bad bytes replaced). A cell equal to the one before it is the\n"
"same object, as the loader shares a trial's repeated strings. offsets:\n"
"int64, non-decreasing, within data; data: uint8.");

static PyObject *strings_to_objects(PyObject *module, PyObject *args)
{
    PyObject *offsets_obj, *data_obj;
    if (!PyArg_ParseTuple(args, "OO:strings_to_objects", &offsets_obj, &data_obj))
        return NULL;
    if (tcx_numpy_ready() != 1) {
        PyErr_SetString(PyExc_ImportError, "numpy could not be loaded");
        return NULL;
    }
    PyArrayObject *offsets = (PyArrayObject *)PyArray_FROMANY(offsets_obj, NPY_INT64, 1, 1,
                                                             NPY_ARRAY_IN_ARRAY);
    if (!offsets)
        return NULL;
    PyArrayObject *data = (PyArrayObject *)PyArray_FROMANY(data_obj, NPY_UINT8, 1, 1,
                                                          NPY_ARRAY_IN_ARRAY);
    PyArrayObject *out = NULL;
    if (!data)
        goto done;
    npy_intp n_off = PyArray_DIM(offsets, 0), size = PyArray_DIM(data, 0);
    const int64_t *off = PyArray_DATA(offsets);
    const char *bytes = PyArray_DATA(data);
    if (n_off < 1 || off[0] < 0) {
        PyErr_SetString(PyExc_ValueError, "offsets must start with an offset >= 0");
        goto done;
    }
    for (npy_intp i = 1; i < n_off; i++)
        if (off[i] < off[i - 1] || off[i] > (int64_t)size) {
            PyErr_SetString(PyExc_ValueError,
                            "offsets must be non-decreasing and within data");
            goto done;
        }
    npy_intp n = n_off - 1;
    if (!(out = (PyArrayObject *)PyArray_SimpleNew(1, &n, NPY_OBJECT)))
        goto done;
    PyObject **cells = PyArray_DATA(out);   /* None until set */
    PyObject *prev = NULL;                  /* borrowed: cells[i - 1] */
    for (npy_intp i = 0; i < n; i++) {
        const char *s = bytes + off[i];
        Py_ssize_t len = (Py_ssize_t)(off[i + 1] - off[i]);
        PyObject *item;
        if (prev && PyUnicode_IS_ASCII(prev) && PyUnicode_GET_LENGTH(prev) == len &&
            memcmp(PyUnicode_DATA(prev), s, (size_t)len) == 0) {
            Py_INCREF(prev);
            item = prev;
        } else if (!(item = PyUnicode_DecodeUTF8(s, len, "replace"))) {
            Py_CLEAR(out);
            goto done;
        }
        Py_XSETREF(cells[i], item);   /* the array starts with None or NULL */
        prev = item;
    }
done:
    Py_XDECREF(offsets);
    Py_XDECREF(data);
    return (PyObject *)out;
}

static PyMethodDef strings_methods[] = {
    {"strings_to_objects", strings_to_objects, METH_VARARGS, strings_to_objects_doc},
    {NULL, NULL, 0, NULL},
};

int tcx_analysis_strings_exec(PyObject *m)
{
    return PyModule_AddFunctions(m, strings_methods);
}
