/* encode.c — Python -> compact JSON text, lenient (tcx_encode_json): the
 * per-result hot path in worker processes. No json_t in between; values JSON
 * cannot hold fall back to str(value) like Ray's _SafeFallbackEncoder
 * (spec §10.2). The type rules, the walk and its error paths are convert.c's
 * (see its header comment for the invariants this file keeps too). */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "convert_internal.h"

/* ------------------------------------------------------------------------- */
/* Python -> JSON text (lenient, the worker's result encoder)                 */
/* ------------------------------------------------------------------------- */

/* Room for n more bytes (plus the NUL tc_buf keeps). */
static inline int room(tc_buf *b, size_t n)
{
    if (b->len + n < b->cap)
        return 0;
    if (tc_buf_reserve(b, n) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static inline int put(tc_buf *b, const char *s, size_t n)
{
    if (room(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

#define PUT_LIT(b, lit) put((b), (lit), sizeof(lit) - 1)

static int put_i64(tc_buf *b, long long v)
{
    char tmp[24];
    char *end = tmp + sizeof tmp, *p = end;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return put(b, p, (size_t)(end - p));
}

static int put_u64(tc_buf *b, unsigned long long u)
{
    char tmp[24];
    char *end = tmp + sizeof tmp, *p = end;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    return put(b, p, (size_t)(end - p));
}

/* Python's json writes float.__repr__, and NaN / Infinity / -Infinity as bare
 * tokens (spec §10.2). The digits come from PyOS_double_to_string, the routine
 * float.__repr__ itself calls: exact by definition and, measured on a 10-key
 * result, 3x faster than tc_format_double's snprintf/strtod search (~150-300
 * vs ~500 ns per float). Its small PyMem block is the one allocation besides
 * the output buffer. */
static int put_double(tc_buf *b, double d)
{
    if (!isfinite(d)) {
        if (isnan(d))
            return PUT_LIT(b, "NaN");
        return d > 0 ? PUT_LIT(b, "Infinity") : PUT_LIT(b, "-Infinity");
    }
    /* Integral values (100.0, common in results) need no digit search; repr
     * writes them in fixed notation below 1e16. -0.0 keeps its sign below. */
    if (fabs(d) < 1e15 && d == (double)(long long)d && !(d == 0 && signbit(d)))
        return put_i64(b, (long long)d) < 0 ? -1 : PUT_LIT(b, ".0");
    char *text = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (!text)
        return -1;
    int rc = put(b, text, strlen(text));
    PyMem_Free(text);
    return rc;
}

static int put_num(tc_buf *b, const num *n)
{
    switch (n->kind) {
    case NUM_BOOL: return n->i ? PUT_LIT(b, "true") : PUT_LIT(b, "false");
    case NUM_INT:  return put_i64(b, n->i);
    case NUM_UINT: return put_u64(b, n->u);
    default:       return put_double(b, n->d);
    }
}

/* What follows a backslash for ASCII characters that json escapes; 'u' means
 * \u00XX, 0 means the character is written as is. Non-ASCII is written as
 * UTF-8, as json.dumps(..., ensure_ascii=False) does. */
static const char escape_of[128] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Writes an escape for ASCII c at p (room already made); returns its length. */
static inline size_t write_escape(char *p, unsigned c)
{
    static const char hex[] = "0123456789abcdef";
    char e = escape_of[c];
    p[0] = '\\';
    if (e != 'u') {
        p[1] = e;
        return 2;
    }
    p[1] = 'u';
    p[2] = '0';
    p[3] = '0';
    p[4] = hex[c >> 4];
    p[5] = hex[c & 15];
    return 6;
}

/* Chunk of code points whose worst case (6 bytes each) is reserved at once. */
#define STR_CHUNK 4096

/* Writes str s as a quoted JSON string, straight from its internal form (no
 * UTF-8 copy is made or cached). A lone surrogate, which UTF-8 cannot carry,
 * is written as U+FFFD: a result must not fail over one odd character. */
int cv_put_pystr(tc_buf *b, PyObject *s)
{
    if (STR_READY(s) < 0)
        return -1;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (PyUnicode_IS_ASCII(s)) {
        const unsigned char *d = (const unsigned char *)PyUnicode_DATA(s);
        if (room(b, (size_t)n + 2) < 0)
            return -1;
        b->data[b->len++] = '"';
        Py_ssize_t run = 0;   /* start of the pending run of plain characters */
        for (Py_ssize_t i = 0; i < n; i++) {
            if (!escape_of[d[i]])
                continue;
            if (room(b, (size_t)(i - run) + 6 + (size_t)(n - i) + 1) < 0)
                return -1;
            memcpy(b->data + b->len, d + run, (size_t)(i - run));
            b->len += (size_t)(i - run);
            b->len += write_escape(b->data + b->len, d[i]);
            run = i + 1;
        }
        memcpy(b->data + b->len, d + run, (size_t)(n - run));
        b->len += (size_t)(n - run);
        b->data[b->len++] = '"';
        b->data[b->len] = '\0';
        return 0;
    }
    int kind = PyUnicode_KIND(s);
    const void *d = PyUnicode_DATA(s);
    if (room(b, 1) < 0)
        return -1;
    b->data[b->len++] = '"';
    for (Py_ssize_t start = 0; start < n; start += STR_CHUNK) {
        Py_ssize_t stop = start + STR_CHUNK < n ? start + STR_CHUNK : n;
        if (room(b, (size_t)(stop - start) * 6 + 1) < 0)
            return -1;
        char *p = b->data + b->len;
        for (Py_ssize_t i = start; i < stop; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, d, i);
            if (c < 0x80) {
                if (escape_of[c])
                    p += write_escape(p, c);
                else
                    *p++ = (char)c;
            } else if (c < 0x800) {
                *p++ = (char)(0xc0 | (c >> 6));
                *p++ = (char)(0x80 | (c & 0x3f));
            } else if (c < 0x10000) {
                if (c >= 0xd800 && c <= 0xdfff)
                    c = 0xfffd;
                *p++ = (char)(0xe0 | (c >> 12));
                *p++ = (char)(0x80 | ((c >> 6) & 0x3f));
                *p++ = (char)(0x80 | (c & 0x3f));
            } else {
                *p++ = (char)(0xf0 | (c >> 18));
                *p++ = (char)(0x80 | ((c >> 12) & 0x3f));
                *p++ = (char)(0x80 | ((c >> 6) & 0x3f));
                *p++ = (char)(0x80 | (c & 0x3f));
            }
        }
        b->len = (size_t)(p - b->data);
    }
    b->data[b->len++] = '"';   /* room(…+1) above kept a byte for it */
    b->data[b->len] = '\0';
    return 0;
}

/* int.__repr__, as json writes int subclasses too. */
static int put_pyint(tc_buf *b, PyObject *obj)
{
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (!overflow) {
        if (v == -1 && PyErr_Occurred())
            return -1;
        return put_i64(b, v);
    }
    PyObject *r = PyLong_Type.tp_repr(obj);   /* new; big ints are rare */
    if (!r)
        return -1;
    Py_ssize_t len;
    const char *t = PyUnicode_AsUTF8AndSize(r, &len);
    int rc = t ? put(b, t, (size_t)len) : -1;
    Py_DECREF(r);
    return rc;
}

static int encode(walk *w, PyObject *obj);

/* A dict key as json.dumps writes it: str as is; float, int, True/False/None
 * as their JSON text in quotes. Other keys, which json.dumps rejects, fall back
 * to str(key) like values do. */
static int put_key(walk *w, PyObject *key)
{
    tc_buf *b = w->out;
    if (PyUnicode_Check(key))
        return cv_put_pystr(b, key);
    int rc;
    if (PyFloat_Check(key) || PyLong_Check(key) || key == Py_None) {
        if (PUT_LIT(b, "\"") < 0)
            return -1;
        if (key == Py_True)
            rc = PUT_LIT(b, "true");
        else if (key == Py_False)
            rc = PUT_LIT(b, "false");
        else if (key == Py_None)
            rc = PUT_LIT(b, "null");
        else if (PyFloat_Check(key))
            rc = put_double(b, PyFloat_AS_DOUBLE(key));
        else
            rc = put_pyint(b, key);
        return rc < 0 ? -1 : PUT_LIT(b, "\"");
    }
    PyObject *s = PyObject_Str(key);   /* new */
    if (!s)
        return -1;
    rc = cv_put_pystr(b, s);
    Py_DECREF(s);
    return rc;
}

static int encode_dict(walk *w, PyObject *obj)
{
    tc_buf *b = w->out;
    PyObject *items = NULL;   /* new: a dict subclass's items(), which may reorder */
    PyObject *key = NULL, *value = NULL;
    if (cv_enter(w) < 0)
        return -1;
    if (PUT_LIT(b, "{") < 0)
        goto error;
    Py_ssize_t pos = 0, i = 0, n = 0;
    if (!PyDict_CheckExact(obj)) {
        items = PyMapping_Items(obj);
        if (!items)
            goto error;
        n = PyList_GET_SIZE(items);
    }
    for (int first = 1;; first = 0) {
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
        if ((!first && PUT_LIT(b, ", ") < 0) || put_key(w, key) < 0 || PUT_LIT(b, ": ") < 0)
            goto error;
        if (encode(w, value) < 0) {
            cv_unwind_key(w, key);
            goto error;
        }
        Py_CLEAR(key);
        Py_CLEAR(value);
    }
    if (PUT_LIT(b, "}") < 0)
        goto error;
    Py_XDECREF(items);
    cv_leave(w);
    return 0;
error:
    Py_XDECREF(key);
    Py_XDECREF(value);
    Py_XDECREF(items);
    cv_leave(w);
    return -1;
}

static int encode_seq(walk *w, PyObject *obj)
{
    tc_buf *b = w->out;
    if (cv_enter(w) < 0)
        return -1;
    if (PUT_LIT(b, "[") < 0)
        goto error;
    int is_list = PyList_Check(obj);
    /* The size is re-read each step: str() of a fallback value may shrink a list. */
    for (Py_ssize_t i = 0; i < (is_list ? PyList_GET_SIZE(obj) : PyTuple_GET_SIZE(obj)); i++) {
        PyObject *item = is_list ? PyList_GET_ITEM(obj, i) : PyTuple_GET_ITEM(obj, i);
        if (i && PUT_LIT(b, ", ") < 0)
            goto error;
        Py_INCREF(item);
        int rc = encode(w, item);
        Py_DECREF(item);
        if (rc < 0) {
            cv_unwind_index(w, i);
            goto error;
        }
    }
    if (PUT_LIT(b, "]") < 0)
        goto error;
    cv_leave(w);
    return 0;
error:
    cv_leave(w);
    return -1;
}

static int encode_array_walk(walk *w, PyArrayObject *arr, const char *p, int dim)
{
    tc_buf *b = w->out;
    int type_num = PyArray_TYPE(arr);
    num n;
    if (dim == PyArray_NDIM(arr)) {
        cv_read_num(type_num, p, &n);
        return put_num(b, &n);
    }
    npy_intp len = PyArray_DIM(arr, dim), stride = PyArray_STRIDE(arr, dim);
    if (PUT_LIT(b, "[") < 0)
        return -1;
    if (dim + 1 == PyArray_NDIM(arr)) {
        /* The innermost dimension, where nearly all elements are. */
        for (npy_intp i = 0; i < len; i++, p += stride) {
            cv_read_num(type_num, p, &n);
            if ((i && PUT_LIT(b, ", ") < 0) || put_num(b, &n) < 0)
                return -1;
        }
    } else {
        for (npy_intp i = 0; i < len; i++, p += stride) {
            if (i && PUT_LIT(b, ", ") < 0)
                return -1;
            if (encode_array_walk(w, arr, p, dim + 1) < 0) {
                cv_unwind_index(w, (Py_ssize_t)i);
                return -1;
            }
        }
    }
    return PUT_LIT(b, "]");
}

static int encode_array(walk *w, PyObject *obj)
{
    PyArrayObject *arr = (PyArrayObject *)obj;
    if (cv_array_is_plain(arr))
        return encode_array_walk(w, arr, PyArray_BYTES(arr), 0);
    if (cv_enter(w) < 0)
        return -1;
    PyObject *list = PyObject_CallMethod(obj, "tolist", NULL);   /* new */
    int rc = list ? encode(w, list) : -1;
    Py_XDECREF(list);
    cv_leave(w);
    return rc;
}

/* isinstance(obj, numbers.<name>) when the numbers module is loaded (a class
 * can only be registered with it after that): 1 / 0 / -1. */
static int is_number_abc(PyObject *obj, const char *name)
{
    PyObject *numbers = PyDict_GetItemString(PyImport_GetModuleDict(), "numbers");   /* borrowed */
    if (!numbers)
        return 0;
    PyObject *abc = PyObject_GetAttrString(numbers, name);   /* new */
    if (!abc)
        return -1;
    int r = PyObject_IsInstance(obj, abc);
    Py_DECREF(abc);
    return r;
}

/* An `except Exception` around a conversion attempt, as Ray's encoder has:
 * returns 0 when the pending error was swallowed, -1 when it must propagate. */
static int swallow(void)
{
    if (!PyErr_ExceptionMatches(PyExc_Exception))
        return -1;
    PyErr_Clear();
    return 0;
}

/* Everything json does not know natively: NumPy numbers and arrays, then
 * Ray's _SafeFallbackEncoder.default (spec §10.2): numbers.Integral -> int(v),
 * numbers.Number -> float(v), anything else -> str(v). Deviation: Ray writes a
 * NumPy float32/float16 NaN as the string "null"; we write NaN, as Ray already
 * does for numpy.float64 (a float subclass, which json writes natively). */
static int encode_other(walk *w, PyObject *obj)
{
    tc_buf *b = w->out;
    int np = tcx_numpy_ready();
    if (np < 0)
        return -1;
    if (np) {
        if (PyArray_Check(obj))
            return encode_array(w, obj);
        if (PyArray_IsScalar(obj, Generic)) {
            num n;
            int r = cv_np_scalar(obj, &n);
            if (r < 0)
                return -1;
            if (r)
                return put_num(b, &n);
        }
    }
    int r = is_number_abc(obj, "Integral");
    if (r > 0) {
        PyObject *i = PyNumber_Long(obj);   /* new */
        if (i) {
            int rc = put_pyint(b, i);
            Py_DECREF(i);
            return rc;
        }
    } else if (r == 0) {
        r = is_number_abc(obj, "Number");
        if (r > 0) {
            double d = PyFloat_AsDouble(obj);
            if (!(d == -1.0 && PyErr_Occurred()))
                return put_double(b, d);
        }
    }
    if (r != 0 && PyErr_Occurred() && swallow() < 0)
        return -1;
    PyObject *s = PyObject_Str(obj);   /* new */
    if (!s)
        return -1;
    int rc = cv_put_pystr(b, s);
    Py_DECREF(s);
    return rc;
}

/* Appends obj's JSON text. Exact builtin types first: they are nearly all of a
 * result, and an identity test is the cheapest dispatch. */
static int encode(walk *w, PyObject *obj)
{
    tc_buf *b = w->out;
    PyTypeObject *t = Py_TYPE(obj);
    if (t == &PyUnicode_Type)
        return cv_put_pystr(b, obj);
    if (t == &PyFloat_Type)
        return put_double(b, PyFloat_AS_DOUBLE(obj));
    if (t == &PyLong_Type)
        return put_pyint(b, obj);
    if (obj == Py_True)
        return PUT_LIT(b, "true");
    if (obj == Py_False)
        return PUT_LIT(b, "false");
    if (obj == Py_None)
        return PUT_LIT(b, "null");
    if (t == &PyDict_Type)
        return encode_dict(w, obj);
    if (t == &PyList_Type || t == &PyTuple_Type)
        return encode_seq(w, obj);
    /* Subclasses, in json's order: str, int, float, list/tuple, dict. */
    if (PyUnicode_Check(obj))
        return cv_put_pystr(b, obj);
    if (PyLong_Check(obj))
        return put_pyint(b, obj);
    if (PyFloat_Check(obj))
        return put_double(b, PyFloat_AS_DOUBLE(obj));
    if (PyList_Check(obj) || PyTuple_Check(obj))
        return encode_seq(w, obj);
    if (PyDict_Check(obj))
        return encode_dict(w, obj);
    return encode_other(w, obj);
}

int tcx_encode_json(PyObject *obj, tc_buf *out, const char *where)
{
    walk w = {where ? where : "value", out, NULL, 0, 0};
    size_t start = out->len;
    int rc = encode(&w, obj);
    if (rc < 0) {
        /* Leave out as it was: a half-written value must not reach a reader. */
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
        cv_finish_error(&w);
    }
    Py_XDECREF(w.path);
    return rc;
}

