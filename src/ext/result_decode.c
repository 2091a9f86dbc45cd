/* result_decode.c — JSON text to Python values for the callbacks' results
 * (result_decode.h says what is handled and what is left to json.loads).
 *
 * A recursive descent over the text. Every helper returns a new reference,
 * or NULL: with a Python exception set when out of memory, without one when
 * the text is outside the handled subset ("not mine": json.loads decides).
 * Numbers use the engine's tc_fastnum (exactly strtod's rounding, which is
 * CPython's float() for decimal text). */
#include <stdint.h>
#include <string.h>
#include "tunec.h"
#include "alloc.h"
#include "result_decode.h"

enum {
    SLOTS = 512,          /* a power of two */
    SLOTS_USED_MAX = 384, /* past this, new keys are made, not cached */
    KEY_MAX = 48,         /* longer keys / values are made each time */
    VALUE_MAX = 48,
    DEPTH_MAX = 64,       /* deeper nesting: json.loads */
};

typedef struct slot {
    uint32_t hash;
    uint16_t len, value_len;
    PyObject *key;                 /* interned str; NULL: free slot */
    PyObject *value;               /* this key's last short str value, or NULL */
    char text[KEY_MAX];
    char value_text[VALUE_MAX];
} slot;

struct tcx_decoder {
    slot slots[SLOTS];
    int used;
};

tcx_decoder *tcx_decoder_new(void)
{
    return tc_calloc(1, sizeof(tcx_decoder));
}

void tcx_decoder_free(tcx_decoder *d)
{
    if (!d)
        return;
    for (int i = 0; i < SLOTS; i++) {
        Py_XDECREF(d->slots[i].key);
        Py_XDECREF(d->slots[i].value);
    }
    tc_free(d);
}

typedef struct parse {
    tcx_decoder *d;
    const char *p, *end;
    int depth;
} parse;

static void skip_ws(parse *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' ||
                               *ps->p == '\t'))
        ps->p++;
}

/* The raw span of the string at ps->p (just past its opening quote), moving
 * ps->p past the closing quote. 0, or -1 for what json.loads must judge
 * (an escape, a control character, no closing quote). */
static int string_span(parse *ps, const char **start, size_t *len, int *ascii)
{
    const char *s = ps->p;
    unsigned char high = 0;
    const char *q = s;
    for (; q < ps->end; q++) {
        unsigned char c = (unsigned char)*q;
        if (c == '"')
            break;
        if (c == '\\' || c < 0x20)
            return -1;
        high |= c;
    }
    if (q >= ps->end)
        return -1;
    *start = s;
    *len = (size_t)(q - s);
    *ascii = high < 0x80;
    ps->p = q + 1;
    return 0;
}

static PyObject *make_str(const char *s, size_t len, int ascii)
{
    if (ascii)
        return PyUnicode_DecodeASCII(s, (Py_ssize_t)len, NULL);
    PyObject *str = PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, NULL);
    if (!str && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError))
        PyErr_Clear();   /* invalid UTF-8: json.loads of the replaced text decides */
    return str;
}

static uint32_t hash_bytes(const char *s, size_t len)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* The slot of key text s, found or newly filled; NULL when the key is too
 * long or the table is full (the caller makes the key itself). */
static slot *key_slot(tcx_decoder *d, const char *s, size_t len, int ascii, int *nomem)
{
    if (len > KEY_MAX)
        return NULL;
    uint32_t h = hash_bytes(s, len);
    for (unsigned i = h & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
        slot *sl = &d->slots[i];
        if (!sl->key) {
            if (d->used >= SLOTS_USED_MAX)
                return NULL;
            PyObject *key = make_str(s, len, ascii);
            if (!key) {
                *nomem = PyErr_Occurred() != NULL;
                return NULL;
            }
            PyUnicode_InternInPlace(&key);
            sl->key = key;
            sl->hash = h;
            sl->len = (uint16_t)len;
            memcpy(sl->text, s, len);
            d->used++;
            return sl;
        }
        if (sl->hash == h && sl->len == len && memcmp(sl->text, s, len) == 0)
            return sl;
    }
}

static PyObject *value(parse *ps);

/* A str value, reusing the key's last one when the text is the same. */
static PyObject *string_value(parse *ps, slot *sl)
{
    const char *s;
    size_t len;
    int ascii;
    if (string_span(ps, &s, &len, &ascii) < 0)
        return NULL;
    if (!sl || len > VALUE_MAX)
        return make_str(s, len, ascii);
    if (sl->value && sl->value_len == len && memcmp(sl->value_text, s, len) == 0) {
        Py_INCREF(sl->value);
        return sl->value;
    }
    PyObject *str = make_str(s, len, ascii);
    if (!str)
        return NULL;
    Py_INCREF(str);
    Py_XDECREF(sl->value);
    sl->value = str;
    sl->value_len = (uint16_t)len;
    memcpy(sl->value_text, s, len);
    return str;
}

/* After an object member or array element: 1 when a ',' follows (another
 * comes), 0 when the closing bracket does (consumed), -1 otherwise. */
static int after_member(parse *ps, char close)
{
    skip_ws(ps);
    if (ps->p < ps->end && (*ps->p == ',' || *ps->p == close))
        return *ps->p++ == ',';
    return -1;
}

static PyObject *object(parse *ps)
{
    PyObject *dict = PyDict_New();
    if (!dict)
        return NULL;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return dict;
    }
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != '"')
            goto fail;
        ps->p++;
        const char *s;
        size_t len;
        int ascii, nomem = 0;
        if (string_span(ps, &s, &len, &ascii) < 0)
            goto fail;
        slot *sl = key_slot(ps->d, s, len, ascii, &nomem);
        PyObject *key;
        if (sl) {
            key = sl->key;
            Py_INCREF(key);
        } else if (nomem || !(key = make_str(s, len, ascii))) {
            goto fail;
        }
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') {
            Py_DECREF(key);
            goto fail;
        }
        ps->p++;
        skip_ws(ps);
        PyObject *v;
        if (ps->p < ps->end && *ps->p == '"') {
            ps->p++;
            v = string_value(ps, sl);
        } else {
            v = value(ps);
        }
        if (!v) {
            Py_DECREF(key);
            goto fail;
        }
        int rc = PyDict_SetItem(dict, key, v);
        Py_DECREF(key);
        Py_DECREF(v);
        if (rc < 0)
            goto fail;
        int more = after_member(ps, '}');
        if (more < 0)
            goto fail;
        if (!more)
            return dict;
    }
fail:
    Py_DECREF(dict);
    return NULL;
}

static PyObject *array(parse *ps)
{
    PyObject *list = PyList_New(0);
    if (!list)
        return NULL;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return list;
    }
    for (;;) {
        skip_ws(ps);
        PyObject *v = value(ps);
        if (!v)
            goto fail;
        int rc = PyList_Append(list, v);
        Py_DECREF(v);
        if (rc < 0)
            goto fail;
        int more = after_member(ps, ']');
        if (more < 0)
            goto fail;
        if (!more)
            return list;
    }
fail:
    Py_DECREF(list);
    return NULL;
}

static int digits(parse *ps)
{
    const char *s = ps->p;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
        ps->p++;
    return (int)(ps->p - s);
}

/* json's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? */
static PyObject *number(parse *ps)
{
    const char *s = ps->p;
    if (*ps->p == '-')
        ps->p++;
    const char *int_start = ps->p;
    int n = digits(ps);
    if (n == 0 || (n > 1 && *int_start == '0'))
        return NULL;
    int is_float = 0;
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (digits(ps) == 0)
            return NULL;
        is_float = 1;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (digits(ps) == 0)
            return NULL;
        is_float = 1;
    }
    size_t len = (size_t)(ps->p - s);
    if (!is_float && n <= 18) {
        long long v = 0;
        for (const char *q = int_start; q < int_start + n; q++)
            v = v * 10 + (*q - '0');
        return PyLong_FromLongLong(*s == '-' ? -v : v);
    }
    if (!is_float) {
        char buf[64];
        char *text = len < sizeof buf ? buf : tc_malloc(len + 1);
        if (!text)
            return PyErr_NoMemory();
        memcpy(text, s, len);
        text[len] = '\0';
        PyObject *v = PyLong_FromString(text, NULL, 10);
        if (text != buf)
            tc_free(text);
        return v;
    }
    double d;
    int is_int;
    if (tc_fastnum(s, len, &d, &is_int) < 0)
        return NULL;
    return PyFloat_FromDouble(d);
}

static int word(parse *ps, const char *w, size_t n)
{
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n) != 0)
        return 0;
    ps->p += n;
    return 1;
}

/* A new reference to a singleton (Py_NewRef is 3.10+; tunec supports 3.9). */
static PyObject *new_ref(PyObject *o)
{
    Py_INCREF(o);
    return o;
}

static PyObject *value(parse *ps)
{
    if (ps->p >= ps->end)
        return NULL;
    PyObject *v = NULL;
    switch (*ps->p) {
    case '{':
    case '[':
        if (ps->depth >= DEPTH_MAX)
            return NULL;
        ps->depth++;
        ps->p++;
        v = ps->p[-1] == '{' ? object(ps) : array(ps);
        ps->depth--;
        return v;
    case '"':
        ps->p++;
        return string_value(ps, NULL);
    case 't':
        return word(ps, "true", 4) ? new_ref(Py_True) : NULL;
    case 'f':
        return word(ps, "false", 5) ? new_ref(Py_False) : NULL;
    case 'n':
        return word(ps, "null", 4) ? new_ref(Py_None) : NULL;
    case 'N':
        return word(ps, "NaN", 3) ? PyFloat_FromDouble(Py_NAN) : NULL;
    case 'I':
        return word(ps, "Infinity", 8) ? PyFloat_FromDouble(Py_HUGE_VAL) : NULL;
    case '-':
        if (word(ps, "-Infinity", 9))
            return PyFloat_FromDouble(-Py_HUGE_VAL);
        return number(ps);
    default:
        return *ps->p >= '0' && *ps->p <= '9' ? number(ps) : NULL;
    }
}

PyObject *tcx_decode_json(tcx_decoder *d, const char *text, size_t n)
{
    parse ps = {d, text, text + n, 0};
    skip_ws(&ps);
    PyObject *v = value(&ps);
    if (!v)
        return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        Py_DECREF(v);
        return NULL;   /* extra data: json.loads says so */
    }
    return v;
}
