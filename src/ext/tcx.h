/* tcx.h — shared declarations of the tunec._tunec extension (src/ext).
 *
 * The module uses multi-phase init and keeps what it needs in module state
 * (no C globals holding Python objects). Each ext file adds its functions and
 * types from an exec hook listed in module.c. */
#ifndef TCX_H
#define TCX_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "tunec.h"

typedef struct tcx_state {
    PyObject *TuneError;        /* tunec.error.TuneError (strong) */
    PyObject *RecursiveDependencyError; /* tunec.error.RecursiveDependencyError */
    PyTypeObject *RunType;      /* executor_local.c */
    PyTypeObject *SessionType;  /* worker_session.c */
    PyTypeObject *EventBatchType; /* event_batch.c */
} tcx_state;

/* Borrowed state of the module object. */
tcx_state *tcx_get_state(PyObject *module);

/* errors.c — the one place that turns engine errors into Python exceptions.
 * Always returns NULL (for `return tcx_raise(...)`). If err->code is
 * TC_ERR_CALLBACK the Python exception is already set and kept. */
PyObject *tcx_raise(PyObject *module, const tc_error *err);
/* Turns the current Python exception into err (code TC_ERR_CALLBACK, the
 * exception stays set). Returns -1. */
int tcx_error_from_python(tc_error *err);

/* convert.c — Python <-> jansson. */
/* New json_t for a Python value: dict (str keys), list/tuple, str, int, float,
 * bool, None, NumPy scalars and arrays (as nested lists). NaN/inf use the
 * engine's non-finite markers. `where` names the value in error messages
 * (e.g. "config"); an unsupported object is TypeError naming its path. */
json_t *tcx_to_json(PyObject *obj, const char *where);
/* The same, but an int past 64 bits is kept exact (the engine's big-int
 * marker, tc_json_bigint) as in a result line: for values that carry results,
 * such as resume records. */
json_t *tcx_to_json_exact(PyObject *obj, const char *where);
/* New Python object for a json_t (markers back to float nan/inf). */
PyObject *tcx_from_json(const json_t *v);
/* Appends the compact JSON text of obj to out: the worker's result encoder
 * (no json_t in between). Same types as tcx_to_json, but written the way
 * Python's json does (NaN/Infinity/-Infinity as bare tokens, floats as repr,
 * UTF-8 strings), and an unsupported value falls back to str(value) (spec
 * §10.2) instead of failing. On error out is left as it was and a Python
 * exception naming the path from `where` is set. Returns 0 / -1. */
int tcx_encode_json(PyObject *obj, tc_buf *out, const char *where);

/* space_ext.c — the engine's tc_eval_fn for Python resolvers. ctx is a
 * borrowed resolver callable, resolver(id: int, path: list, spec: dict) ->
 * value (already encoded into markers); the GIL is held by the caller. A
 * tunec.error.RecursiveDependencyError becomes TC_ERR_DEPENDENCY with its
 * message (the exception is cleared); any other exception TC_ERR_CALLBACK with
 * the exception left set. Returns a new reference or NULL. */
json_t *tcx_eval_fn(void *ctx, json_int_t id, const json_t *path, const json_t *spec,
                    tc_error *err);

/* numpy.c — the NumPy C API, loaded on first need. `import tunec` must not
 * import NumPy (import-time budget), and a NumPy object can only exist once
 * NumPy is imported, so loading on first sight of one is enough. Returns 1
 * when the API is loaded, 0 when NumPy is not imported, -1 on error. */
int tcx_numpy_ready(void);

/* analysis_strings.c — string columns as Arrow's offsets and bytes (no
 * GIL needed for either). tcx_str_measure: per column of t, the bytes of
 * its strings, or TCX_NOT_STR when the column is not all strings of valid
 * UTF-8. tcx_str_fill: column c's strings into data from byte `base`, and
 * their ends into offsets[1..n_rows] (offsets[0], the start, is the
 * caller's). */
#define TCX_NOT_STR ((size_t)-1)
void tcx_str_measure(const tc_trial_table *t, size_t *bytes);
void tcx_str_fill(const tc_trial_table *t, const tc_column *c, int64_t *offsets, char *data,
                  size_t base);

/* Exec hooks, one per file; each returns 0 / -1. */
int tcx_convert_exec(PyObject *m);
int tcx_space_exec(PyObject *m);
int tcx_analysis_exec(PyObject *m);
int tcx_analysis_last_exec(PyObject *m);
int tcx_analysis_groups_exec(PyObject *m);
int tcx_analysis_codes_exec(PyObject *m);
int tcx_analysis_strings_exec(PyObject *m);
int tcx_analysis_stat_exec(PyObject *m);
int tcx_analysis_state_exec(PyObject *m);
int tcx_run_exec(PyObject *m);
int tcx_worker_exec(PyObject *m);
int tcx_wire_exec(PyObject *m);      /* wire_ext.c */
int tcx_checkpoint_exec(PyObject *m);
int tcx_tpe_exec(PyObject *m);
int tcx_leak_check_exec(PyObject *m);
int tcx_state_exec(PyObject *m);      /* state_ext.c */
/* state_ext.c: the engine state inside read_state's object, taken from it
 * (the object is then empty); NULL with a Python exception. */
struct tc_state;
struct tc_state *tcx_take_resume_state(PyObject *obj);

#endif
