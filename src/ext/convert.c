/* convert.c — Python values <-> JSON: the extension's one conversion layer.
 *
 * Three directions, one set of type rules:
 *   tcx_to_json      Python -> json_t, strict. Config and search-space values the
 *                    engine keeps; anything it cannot represent is an error that
 *                    names the value's path (`config["a"][3]: ...`).
 *   tcx_from_json    json_t -> Python (the engine's non-finite markers back to
 *                    float nan/inf).
 *   tcx_encode_json  (encode.c) Python -> compact JSON text, lenient. The per-result hot path
 *                    in worker processes: no json_t in between, and values JSON
 *                    cannot hold fall back to str(value) like Ray's
 *                    _SafeFallbackEncoder (spec §10.2).
 *
 * Accepted values: dict, list/tuple, str, int, float, bool, None (and their
 * subclasses, as Python's json module accepts them), NumPy bool/integer/floating
 * scalars and NumPy arrays (as nested lists; a 0-d array is its element).
 *
 * Invariants:
 *   - NumPy is never imported here. A NumPy object can only exist once numpy is
 *     in sys.modules, so tcx_numpy_ready() is asked only after the builtin types
 *     are ruled out, and the NumPy C API is used only when it answers 1.
 *   - Every container level goes through Py_EnterRecursiveCall plus a hard depth
 *     cap (MAX_DEPTH), so a self-referencing or absurdly deep value raises
 *     RecursionError instead of exhausting the C stack, whatever the user set
 *     sys.setrecursionlimit to.
 *   - The path in an error message is assembled only while an error unwinds
 *     (each level adds its key or index), so the success path pays nothing.
 *   - User code can run in the middle of a walk (str() of a fallback object,
 *     items() of a dict subclass, tolist() of an array subclass) and may mutate
 *     the container being walked: every element is held by a strong reference
 *     while it is converted, and list sizes are re-read on each step.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "convert_internal.h"



/* ------------------------------------------------------------------------- */
/* The walk: state shared by one conversion, and error paths                  */
/* ------------------------------------------------------------------------- */


/* Raises type(message) as this walk's own error. Returns -1. */
int cv_fail(walk *w, PyObject *type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    PyErr_FormatV(type, fmt, ap);
    va_end(ap);
    w->own = 1;
    return -1;
}

int cv_enter(walk *w)
{
    if (w->depth >= MAX_DEPTH)
        return cv_fail(w, PyExc_RecursionError,
                    "nested deeper than %d levels (a self-referencing value?)", MAX_DEPTH);
    if (Py_EnterRecursiveCall(" while converting to JSON")) {
        w->own = 1;   /* RecursionError: worth its path */
        return -1;
    }
    w->depth++;
    return 0;
}

void cv_leave(walk *w)
{
    w->depth--;
    Py_LeaveRecursiveCall();
}

/* The pending exception as one object (new), and back (stolen). */
static PyObject *exc_take(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value && tb)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

static void exc_give(PyObject *exc)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    if (!exc)
        return;
    PyObject *type = (PyObject *)Py_TYPE(exc);
    Py_INCREF(type);
    PyErr_Restore(type, exc, PyException_GetTraceback(exc));
#endif
}

/* Called while an error unwinds through a container: records where it was.
 * seg is stolen (may be NULL). Keeps the pending exception whatever happens. */
static void unwind(walk *w, PyObject *seg)
{
    PyObject *exc = exc_take();
    if (seg) {
        if (!w->path)
            w->path = PyList_New(0);
        if (w->path)
            PyList_Append(w->path, seg);
        Py_DECREF(seg);
    }
    PyErr_Clear();
    exc_give(exc);
}

void cv_unwind_index(walk *w, Py_ssize_t i)
{
    unwind(w, PyLong_FromSsize_t(i));
}

void cv_unwind_key(walk *w, PyObject *key /* borrowed */)
{
    Py_INCREF(key);
    unwind(w, key);
}


/* One path segment: [3] for an index, ["a"] for a str key, [repr] otherwise. */
static int put_segment(tc_buf *b, PyObject *seg)
{
    if (tc_buf_putc(b, '[') < 0)
        return -1;
    if (PyUnicode_Check(seg)) {
        if (cv_put_pystr(b, seg) < 0)
            return -1;
    } else {
        PyObject *r = PyObject_Repr(seg);   /* new; ints and non-str keys */
        const char *t = r ? PyUnicode_AsUTF8(r) : NULL;
        int rc = t ? tc_buf_puts(b, t) : -1;
        Py_XDECREF(r);
        if (rc < 0)
            return -1;
    }
    return tc_buf_putc(b, ']');
}

/* New str naming the failing value: where + segments, outermost first. */
static PyObject *path_text(walk *w)
{
    tc_buf b;
    tc_buf_init(&b);
    PyObject *res = NULL;
    Py_ssize_t n = w->path ? PyList_GET_SIZE(w->path) : 0;
    if (tc_buf_puts(&b, w->where) < 0)
        goto done;
    for (Py_ssize_t k = n - 1; k >= 0; k--) {
        Py_ssize_t outer = n - 1 - k;   /* 0 = outermost */
        if (n > 2 * PATH_SHOWN && outer == PATH_SHOWN) {
            if (tc_buf_puts(&b, "...") < 0)
                goto done;
            k = PATH_SHOWN - 1;   /* continue with the innermost PATH_SHOWN */
        }
        if (put_segment(&b, PyList_GET_ITEM(w->path, k)) < 0)
            goto done;
    }
    res = PyUnicode_DecodeUTF8(b.data, (Py_ssize_t)b.len, "replace");
done:
    tc_buf_free(&b);
    return res;
}

/* Turns the pending exception into its final form: this file's own errors are
 * re-raised as `<path>: <message>`; an exception from user code (str(), a dict
 * subclass's items()) keeps its type and message and gets a note naming the
 * path (PEP 678, Python 3.11+). */
void cv_finish_error(walk *w)
{
    if (!PyErr_Occurred())
        return;
    PyObject *exc = exc_take();              /* new */
    PyObject *path = path_text(w);           /* new */
    if (!path) {
        PyErr_Clear();
        exc_give(exc);
        return;
    }
    if (w->own) {
        PyObject *msg = PyObject_Str(exc);   /* new */
        if (msg) {
            PyErr_Format((PyObject *)Py_TYPE(exc), "%U: %U", path, msg);
            Py_DECREF(msg);
            Py_DECREF(exc);
        } else {
            PyErr_Clear();
            exc_give(exc);
        }
    } else {
        if (PyObject_HasAttrString(exc, "add_note")) {
            PyObject *r = PyObject_CallMethod(exc, "add_note", "N",
                                              PyUnicode_FromFormat("while converting %U to JSON", path));
            Py_XDECREF(r);
            PyErr_Clear();
        }
        exc_give(exc);
    }
    Py_DECREF(path);
}

/* ------------------------------------------------------------------------- */
/* NumPy numbers                                                              */
/* ------------------------------------------------------------------------- */


/* IEEE half -> double, exact (NumPy's own converter lives in npymath, which the
 * extension does not link). */
static double half_to_double(uint16_t h)
{
    int exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    double v;
    if (exp == 0)
        v = ldexp(mant, -24);
    else if (exp == 31)
        v = mant ? NAN : INFINITY;
    else
        v = ldexp(mant + 1024, exp - 25);
    return (h & 0x8000) ? -v : v;
}

#define READ(T, dst) do { T t_; memcpy(&t_, p, sizeof t_); dst = t_; } while (0)

/* Reads one element of a bool/integer/floating dtype (native byte order; p
 * need not be aligned). Returns 1, or 0 for any other dtype. */
int cv_read_num(int type_num, const char *p, num *n)
{
    switch (type_num) {
    case NPY_BOOL:      n->kind = NUM_BOOL; n->i = *(const unsigned char *)p != 0; return 1;
    case NPY_BYTE:      n->kind = NUM_INT;  READ(signed char, n->i); return 1;
    case NPY_SHORT:     n->kind = NUM_INT;  READ(short, n->i); return 1;
    case NPY_INT:       n->kind = NUM_INT;  READ(int, n->i); return 1;
    case NPY_LONG:      n->kind = NUM_INT;  READ(long, n->i); return 1;
    case NPY_LONGLONG:  n->kind = NUM_INT;  READ(long long, n->i); return 1;
    case NPY_UBYTE:     n->kind = NUM_UINT; READ(unsigned char, n->u); return 1;
    case NPY_USHORT:    n->kind = NUM_UINT; READ(unsigned short, n->u); return 1;
    case NPY_UINT:      n->kind = NUM_UINT; READ(unsigned int, n->u); return 1;
    case NPY_ULONG:     n->kind = NUM_UINT; READ(unsigned long, n->u); return 1;
    case NPY_ULONGLONG: n->kind = NUM_UINT; READ(unsigned long long, n->u); return 1;
    case NPY_HALF: {
        uint16_t h;
        memcpy(&h, p, sizeof h);
        n->kind = NUM_REAL;
        n->d = half_to_double(h);
        return 1;
    }
    case NPY_FLOAT:      n->kind = NUM_REAL; READ(float, n->d); return 1;
    case NPY_DOUBLE:     n->kind = NUM_REAL; READ(double, n->d); return 1;
    case NPY_LONGDOUBLE: n->kind = NUM_REAL; READ(long double, n->d); return 1;
    default:
        return 0;
    }
}

/* A NumPy bool/integer/floating scalar into n: 1, 0 for anything else
 * (complex, datetime, str_, void ...). Needs the C API loaded. */
int cv_np_scalar(PyObject *obj, num *n)
{
    if (!PyArray_IsScalar(obj, Number) && !PyArray_IsScalar(obj, Bool))
        return 0;
    PyArray_Descr *descr = PyArray_DescrFromScalar(obj);   /* new */
    if (!descr)
        return -1;
    union { long double ld; char bytes[32]; } val = {0};    /* aligned, big enough for
                                                               every dtype read_num takes */
    /* Asked on zeros first: only a dtype read_num knows is copied out. */
    int rc = cv_read_num(descr->type_num, val.bytes, n);
    if (rc) {
        PyArray_ScalarAsCtype(obj, &val);
        cv_read_num(descr->type_num, val.bytes, n);
    }
    Py_DECREF(descr);
    return rc;
}

/* Whether the array walk can read arr's elements itself; the rest goes through
 * tolist() (object, str, complex, datetime dtypes, byte-swapped data,
 * ndarray subclasses whose tolist may differ). */
int cv_array_is_plain(PyArrayObject *arr)
{
    num n;
    char zero[32] = {0};
    return PyArray_CheckExact((PyObject *)arr) && !PyArray_ISBYTESWAPPED(arr) &&
           PyArray_ITEMSIZE(arr) <= (npy_intp)sizeof zero &&
           cv_read_num(PyArray_TYPE(arr), zero, &n);
}

/* ------------------------------------------------------------------------- */
/* Python -> json_t (strict)                                                  */
/* ------------------------------------------------------------------------- */

static json_t *to_json(walk *w, PyObject *obj);

static json_t *nomem(void)
{
    PyErr_NoMemory();
    return NULL;
}

/* New json string, or NULL: a lone surrogate cannot be UTF-8. */
static json_t *str_to_json(walk *w, PyObject *obj)
{
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(obj, &len);
    if (!s) {
        if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
            PyErr_Clear();
            cv_fail(w, PyExc_ValueError, "str %.60R contains a lone surrogate, which JSON text "
                 "(UTF-8) cannot hold", obj);
        }
        return NULL;
    }
    json_t *v = json_stringn_nocheck(s, (size_t)len);   /* new; the UTF-8 is valid */
    if (!v)
        return nomem();
    /* The engine reads "\x1fNaN" and friends as floats: a user string spelling
     * one would come back as a float. */
    if (len && s[0] == TC_NONFINITE_MARK[0] && tc_json_is_number_marker(v)) {
        json_decref(v);
        cv_fail(w, PyExc_ValueError, "str %R is reserved for non-finite floats and big ints", obj);
        return NULL;
    }
    return v;
}

static json_t *int_to_json(walk *w, PyObject *obj)
{
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow && w->big_ints) {
        /* new: the digits json.dumps writes (int's own repr, whatever a subclass says) */
        PyObject *text = PyLong_Type.tp_repr(obj);
        Py_ssize_t n;
        const char *digits = text ? PyUnicode_AsUTF8AndSize(text, &n) : NULL;
        json_t *j = digits ? tc_json_bigint(digits, (size_t)n) : NULL;   /* new */
        if (digits && !j)
            PyErr_NoMemory();
        Py_XDECREF(text);
        return j;
    }
    if (overflow) {
        /* An int beyond json_int_t stays an error rather than silently becoming
         * a float: a seed or a count that changes type is worse than a message. */
        PyObject *nbits = PyObject_CallMethod((PyObject *)&PyLong_Type, "bit_length", "O", obj);
        long long bits = nbits ? PyLong_AsLongLong(nbits) : -1;   /* a huge one is not printed */
        Py_XDECREF(nbits);
        if (bits < 0)
            return NULL;
        if (bits <= 256)
            cv_fail(w, PyExc_OverflowError, "int %R does not fit the engine's 64-bit JSON "
                 "integers (-2**63 .. 2**63-1)", obj);
        else
            cv_fail(w, PyExc_OverflowError, "int of %lld bits does not fit the engine's 64-bit "
                 "JSON integers (-2**63 .. 2**63-1)", bits);
        return NULL;
    }
    if (v == -1 && PyErr_Occurred())
        return NULL;
    json_t *j = json_integer((json_int_t)v);   /* new */
    return j ? j : nomem();
}

static json_t *real_to_json(double d)
{
    json_t *j = tc_json_real(d);   /* new; a marker string when not finite */
    return j ? j : nomem();
}

static json_t *num_to_json(walk *w, const num *n)
{
    json_t *j;
    switch (n->kind) {
    case NUM_BOOL:
        return json_boolean(n->i);
    case NUM_INT:
        j = json_integer((json_int_t)n->i);
        break;
    case NUM_UINT:
        if (n->u > (unsigned long long)INT64_MAX) {
            cv_fail(w, PyExc_OverflowError, "unsigned integer %llu does not fit the engine's "
                 "64-bit JSON integers (at most 2**63-1)", n->u);
            return NULL;
        }
        j = json_integer((json_int_t)n->u);
        break;
    default:
        return real_to_json(n->d);
    }
    return j ? j : nomem();
}

/* New json object. Keys must be str (the engine's paths are strings). */
static json_t *dict_to_json(walk *w, PyObject *obj)
{
    json_t *res = NULL;
    PyObject *items = NULL;   /* new: a dict subclass's items(), which may reorder */
    PyObject *key = NULL, *value = NULL;
    if (cv_enter(w) < 0)
        return NULL;
    res = json_object();
    if (!res) {
        nomem();
        goto error;
    }
    Py_ssize_t pos = 0, i = 0, n = 0;
    if (!PyDict_CheckExact(obj)) {
        items = PyMapping_Items(obj);
        if (!items)
            goto error;
        n = PyList_GET_SIZE(items);
    }
    for (;;) {
        if (items) {
            if (i >= n)
                break;
            PyObject *pair = PyList_GET_ITEM(items, i++);
            if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
                cv_fail(w, PyExc_TypeError, "items() of %s must give (key, value) pairs",
                     Py_TYPE(obj)->tp_name);
                goto error;
            }
            key = PyTuple_GET_ITEM(pair, 0);
            value = PyTuple_GET_ITEM(pair, 1);
        } else if (!PyDict_Next(obj, &pos, &key, &value)) {
            break;
        }
        Py_INCREF(key);
        Py_INCREF(value);
        if (!PyUnicode_Check(key)) {
            cv_fail(w, PyExc_TypeError, "dict keys must be str, got %s", Py_TYPE(key)->tp_name);
            goto error;
        }
        Py_ssize_t klen;
        const char *k = PyUnicode_AsUTF8AndSize(key, &klen);
        if (!k) {
            if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
                PyErr_Clear();
                cv_fail(w, PyExc_ValueError, "dict key %.60R contains a lone surrogate, which "
                     "JSON text (UTF-8) cannot hold", key);
            }
            goto error;
        }
        json_t *child = to_json(w, value);   /* new */
        if (!child) {
            cv_unwind_key(w, key);
            goto error;
        }
        if (json_object_setn_new_nocheck(res, k, (size_t)klen, child) < 0) {
            nomem();
            goto error;
        }
        Py_CLEAR(key);
        Py_CLEAR(value);
    }
    Py_XDECREF(items);
    cv_leave(w);
    return res;
error:
    Py_XDECREF(key);
    Py_XDECREF(value);
    Py_XDECREF(items);
    json_decref(res);
    cv_leave(w);
    return NULL;
}

/* New json array from a list or tuple. */
static json_t *seq_to_json(walk *w, PyObject *obj)
{
    if (cv_enter(w) < 0)
        return NULL;
    json_t *res = json_array();
    if (!res) {
        nomem();
        goto error;
    }
    int is_list = PyList_Check(obj);
    /* The size is re-read each step: user code run below may shrink a list. */
    for (Py_ssize_t i = 0; i < (is_list ? PyList_GET_SIZE(obj) : PyTuple_GET_SIZE(obj)); i++) {
        PyObject *item = is_list ? PyList_GET_ITEM(obj, i) : PyTuple_GET_ITEM(obj, i);
        Py_INCREF(item);
        json_t *child = to_json(w, item);   /* new */
        Py_DECREF(item);
        if (!child) {
            cv_unwind_index(w, i);
            goto error;
        }
        if (json_array_append_new(res, child) < 0) {
            nomem();
            goto error;
        }
    }
    cv_leave(w);
    return res;
error:
    json_decref(res);
    cv_leave(w);
    return NULL;
}

/* Nested json arrays of a plain array's elements from dimension dim on. */
static json_t *array_walk_to_json(walk *w, PyArrayObject *arr, const char *p, int dim)
{
    int type_num = PyArray_TYPE(arr);
    if (dim == PyArray_NDIM(arr)) {
        num n;
        cv_read_num(type_num, p, &n);
        return num_to_json(w, &n);
    }
    json_t *res = json_array();
    if (!res)
        return nomem();
    npy_intp len = PyArray_DIM(arr, dim), stride = PyArray_STRIDE(arr, dim);
    for (npy_intp i = 0; i < len; i++, p += stride) {
        json_t *child = array_walk_to_json(w, arr, p, dim + 1);   /* new */
        if (!child) {
            cv_unwind_index(w, (Py_ssize_t)i);
            goto error;
        }
        if (json_array_append_new(res, child) < 0) {
            nomem();
            goto error;
        }
    }
    return res;
error:
    json_decref(res);
    return NULL;
}

static json_t *array_to_json(walk *w, PyObject *obj)
{
    PyArrayObject *arr = (PyArrayObject *)obj;
    if (cv_array_is_plain(arr))
        return array_walk_to_json(w, arr, PyArray_BYTES(arr), 0);
    /* Object, str and other dtypes: tolist() gives Python values with the same
     * nesting, so the indices recorded on an error stay right. */
    if (cv_enter(w) < 0)
        return NULL;
    PyObject *list = PyObject_CallMethod(obj, "tolist", NULL);   /* new */
    json_t *res = list ? to_json(w, list) : NULL;
    Py_XDECREF(list);
    cv_leave(w);
    return res;
}

static json_t *numpy_to_json(walk *w, PyObject *obj)
{
    if (PyArray_Check(obj))
        return array_to_json(w, obj);
    num n;
    int r = cv_np_scalar(obj, &n);
    if (r < 0)
        return NULL;
    if (r)
        return num_to_json(w, &n);
    cv_fail(w, PyExc_TypeError, "cannot convert %s to JSON (of NumPy values, bool, integer and "
         "floating scalars and arrays are supported)", Py_TYPE(obj)->tp_name);
    return NULL;
}

/* New json_t for obj (borrowed). */
static json_t *to_json(walk *w, PyObject *obj)
{
    if (PyUnicode_Check(obj))
        return str_to_json(w, obj);
    if (obj == Py_None)
        return json_null();
    if (obj == Py_True)
        return json_true();
    if (obj == Py_False)
        return json_false();
    if (PyLong_Check(obj))
        return int_to_json(w, obj);
    if (PyFloat_Check(obj))   /* numpy.float64 too: a float subclass */
        return real_to_json(PyFloat_AS_DOUBLE(obj));
    if (PyDict_Check(obj))
        return dict_to_json(w, obj);
    if (PyList_Check(obj) || PyTuple_Check(obj))
        return seq_to_json(w, obj);
    int np = tcx_numpy_ready();
    if (np < 0)
        return NULL;
    if (np && (PyArray_Check(obj) || PyArray_IsScalar(obj, Generic)))
        return numpy_to_json(w, obj);
    cv_fail(w, PyExc_TypeError, "cannot convert %s to JSON (supported: dict with str keys, "
         "list, tuple, str, int, float, bool, None, NumPy numbers and arrays)",
         Py_TYPE(obj)->tp_name);
    return NULL;
}

static json_t *to_json_root(PyObject *obj, const char *where, int big_ints)
{
    walk w = {where ? where : "value", NULL, NULL, 0, 0, big_ints};
    json_t *res = to_json(&w, obj);   /* new */
    if (!res)
        cv_finish_error(&w);
    Py_XDECREF(w.path);
    return res;
}

json_t *tcx_to_json(PyObject *obj, const char *where)
{
    return to_json_root(obj, where, 0);
}

json_t *tcx_to_json_exact(PyObject *obj, const char *where)
{
    return to_json_root(obj, where, 1);
}

/* ------------------------------------------------------------------------- */
/* json_t -> Python                                                           */
/* ------------------------------------------------------------------------- */

static PyObject *from_json(walk *w, const json_t *v)
{
    PyObject *res = NULL;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (cv_enter(w) < 0)
            return NULL;
        res = PyDict_New();
        const char *key;
        size_t klen;
        json_t *child;
        json_object_keylen_foreach((json_t *)v, key, klen, child) {
            if (!res)
                break;
            PyObject *k = PyUnicode_DecodeUTF8(key, (Py_ssize_t)klen, NULL);   /* new */
            PyObject *val = k ? from_json(w, child) : NULL;                     /* new */
            /* Result keys repeat on every report: interned, they are shared. */
            if (k)
                PyUnicode_InternInPlace(&k);
            if (!val || PyDict_SetItem(res, k, val) < 0)
                Py_CLEAR(res);
            Py_XDECREF(k);
            Py_XDECREF(val);
        }
        cv_leave(w);
        return res;
    }
    case JSON_ARRAY: {
        if (cv_enter(w) < 0)
            return NULL;
        size_t n = json_array_size(v);
        res = PyList_New((Py_ssize_t)n);
        for (size_t i = 0; res && i < n; i++) {
            PyObject *item = from_json(w, json_array_get(v, i));   /* new */
            if (!item)
                Py_CLEAR(res);
            else
                PyList_SET_ITEM(res, (Py_ssize_t)i, item);         /* steals item */
        }
        cv_leave(w);
        return res;
    }
    case JSON_STRING: {
        const char *s = json_string_value(v);
        double d;
        if (s[0] == TC_NONFINITE_MARK[0] && tc_json_is_bigint(v))
            return PyLong_FromString(s + 1, NULL, 10);   /* exact, as json.loads keeps it */
        if (s[0] == TC_NONFINITE_MARK[0] && tc_json_is_nonfinite(v) && tc_json_number(v, &d))
            return PyFloat_FromDouble(d);
        return PyUnicode_DecodeUTF8(s, (Py_ssize_t)json_string_length(v), NULL);
    }
    case JSON_INTEGER:
        return PyLong_FromLongLong((long long)json_integer_value(v));
    case JSON_REAL:
        return PyFloat_FromDouble(json_real_value(v));
    case JSON_TRUE:
        Py_RETURN_TRUE;
    case JSON_FALSE:
        Py_RETURN_FALSE;
    default:
        Py_RETURN_NONE;
    }
}

PyObject *tcx_from_json(const json_t *v)
{
    if (!v) {
        PyErr_SetString(PyExc_SystemError, "tcx_from_json: NULL value");
        return NULL;
    }
    walk w = {"json", NULL, NULL, 0, 0};
    PyObject *res = from_json(&w, v);   /* new */
    Py_XDECREF(w.path);
    return res;
}

/* ------------------------------------------------------------------------- */
/* Python-facing helpers (tests and the Python layer)                         */
/* ------------------------------------------------------------------------- */

PyDoc_STRVAR(dumps_doc,
"dumps(obj, /) -> bytes\n--\n\n"
"Compact JSON text (UTF-8) of obj, the way the worker encodes results: like\n"
"json.dumps(obj, ensure_ascii=False) for plain data (NaN, Infinity, -Infinity\n"
"as bare tokens; non-str dict keys as json writes them), NumPy scalars and\n"
"arrays as numbers and lists, and str(value) for anything else (spec 10.2).\n"
"A lone surrogate in a str is written as U+FFFD.");

static PyObject *py_dumps(PyObject *module, PyObject *obj)
{
    tc_buf b;
    tc_buf_init(&b);
    PyObject *res = NULL;
    if (tc_buf_reserve(&b, 256) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    if (tcx_encode_json(obj, &b, "value") == 0)
        res = PyBytes_FromStringAndSize(b.data, (Py_ssize_t)b.len);
done:
    tc_buf_free(&b);
    return res;
}

PyDoc_STRVAR(loads_doc,
"loads(data, /) -> object\n--\n\n"
"Parses one JSON text (bytes-like or str) with the engine's parser, which\n"
"accepts NaN, Infinity and -Infinity. Invalid text raises ValueError.");

/* Texts this large are parsed without the GIL. */
#define LOADS_NOGIL_BYTES (64 * 1024)

static PyObject *py_loads(PyObject *module, PyObject *arg)
{
    Py_buffer view;
    int have_view = 0;
    const char *text;
    Py_ssize_t len;
    if (PyUnicode_Check(arg)) {
        text = PyUnicode_AsUTF8AndSize(arg, &len);
        if (!text)
            return NULL;
    } else {
        if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
            PyErr_Format(PyExc_TypeError, "loads() takes bytes or str, got %s",
                         Py_TYPE(arg)->tp_name);
            return NULL;
        }
        have_view = 1;
        text = view.buf;
        len = view.len;
    }
    tc_error err;
    tc_error_init(&err);
    json_t *v;
    if (len >= LOADS_NOGIL_BYTES) {
        /* arg stays alive and, exported through the view, unresizable. */
        Py_BEGIN_ALLOW_THREADS
        v = tc_json_loads(text, (size_t)len, &err);
        Py_END_ALLOW_THREADS
    } else {
        v = tc_json_loads(text, (size_t)len, &err);
    }
    if (have_view)
        PyBuffer_Release(&view);
    if (!v)
        return tcx_raise(module, &err);
    PyObject *res = tcx_from_json(v);   /* new */
    json_decref(v);
    return res;
}

PyDoc_STRVAR(to_json_text_doc,
"to_json_text(obj, sort_indent=False, *, where='value') -> str\n--\n\n"
"JSON text of obj through the engine's strict conversion (the rules config\n"
"values follow): unsupported values raise TypeError naming their path from\n"
"`where`. sort_indent=True writes params.json's format (indent=2, sorted keys).");

static PyObject *py_to_json_text(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"obj", "sort_indent", "where", NULL};
    PyObject *obj;
    int sort_indent = 0;
    const char *where = "value";
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|p$s:to_json_text", kwlist,
                                     &obj, &sort_indent, &where))
        return NULL;
    json_t *v = tcx_to_json(obj, where);   /* new */
    if (!v)
        return NULL;
    tc_buf b;
    tc_buf_init(&b);
    PyObject *res = NULL;
    if (tc_json_dump(v, &b, sort_indent ? TC_DUMP_INDENT2_SORTED : TC_DUMP_COMPACT) < 0)
        PyErr_NoMemory();
    else
        res = PyUnicode_DecodeUTF8(b.data ? b.data : "", (Py_ssize_t)b.len, NULL);
    tc_buf_free(&b);
    json_decref(v);
    return res;
}

static PyMethodDef convert_methods[] = {
    {"dumps", py_dumps, METH_O, dumps_doc},
    {"loads", py_loads, METH_O, loads_doc},
    {"to_json_text", (PyCFunction)(void (*)(void))py_to_json_text,
     METH_VARARGS | METH_KEYWORDS, to_json_text_doc},
    {NULL, NULL, 0, NULL},
};

int tcx_convert_exec(PyObject *m)
{
    return PyModule_AddFunctions(m, convert_methods);
}
