/* tcx_numpy.h — the one way src/ext includes NumPy: a shared unique symbol for
 * the C API table, imported in numpy.c only (see tcx_numpy_ready). */
#ifndef TCX_NUMPY_H
#define TCX_NUMPY_H
#define PY_ARRAY_UNIQUE_SYMBOL tunec_ARRAY_API
#ifndef TCX_NUMPY_IMPORT
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>
#endif
