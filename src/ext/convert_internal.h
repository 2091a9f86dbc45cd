/* convert_internal.h — what convert.c (the walk, NumPy numbers, Python <->
 * json_t) and encode.c (Python -> JSON text, the worker's result encoder)
 * share. Not installed. */
#ifndef TCX_CONVERT_INTERNAL_H
#define TCX_CONVERT_INTERNAL_H

#include "tcx.h"
#include "tcx_numpy.h"

/* Deeper than any real config or result; shallow enough that the C stack
 * (a few hundred bytes per level) is never at risk, even on a thread. */
#define MAX_DEPTH 3000
/* An error path longer than this many segments shows its outer and inner ends. */
#define PATH_SHOWN 10

#if PY_VERSION_HEX < 0x030C0000
#define STR_READY(s) PyUnicode_READY(s)
#else
#define STR_READY(s) 0
#endif

/* The walk: state shared by one conversion, and error paths. */
typedef struct walk {
    const char *where;   /* borrowed: the root's name in messages ("config") */
    tc_buf *out;         /* borrowed: the encoder's output; NULL for to_json */
    PyObject *path;      /* new list of segments, innermost first; NULL until
                            an error unwinds. An int is a list index, anything
                            else a dict key. */
    int own;             /* the pending exception was raised by this file and is
                            re-raised with the path in front of its message */
    int depth;
    int big_ints;        /* ints past 64 bits become the engine's exact big-int
                            marker (results, resume records) instead of an error */
} walk;

/* A NumPy number, read without the NumPy C API's conversion helpers. */
enum { NUM_BOOL, NUM_INT, NUM_UINT, NUM_REAL };

typedef struct num {
    int kind;
    long long i;           /* NUM_BOOL (0/1), NUM_INT */
    unsigned long long u;  /* NUM_UINT */
    double d;              /* NUM_REAL */
} num;

/* convert.c: the walk's levels and error paths (see there), NumPy numbers;
 * encode.c: a str as JSON text. */
int cv_fail(walk *w, PyObject *type, const char *fmt, ...);
int cv_enter(walk *w);
void cv_leave(walk *w);
void cv_unwind_index(walk *w, Py_ssize_t i);
void cv_unwind_key(walk *w, PyObject *key /* borrowed */);
void cv_finish_error(walk *w);
int cv_read_num(int type_num, const char *p, num *n);
int cv_np_scalar(PyObject *obj, num *n);
int cv_array_is_plain(PyArrayObject *arr);
int cv_put_pystr(tc_buf *b, PyObject *s);

#endif
