/* result_decode.h — a result.json line straight to a Python dict, for the
 * Python callbacks' hot path (executor_events.c hands each on_trial_result
 * hook a dict; json.loads cost 4 µs of the driver's ~10 µs per result).
 *
 * Same value as json.loads(text) for the text the engine writes: dicts,
 * lists, str, int (any size), float (correctly rounded, NaN/Infinity/
 * -Infinity tokens), bool, None; duplicate keys keep the first position and
 * the last value. Anything else it does not handle (a backslash escape, a
 * control character, invalid UTF-8, malformed text, deep nesting) is left
 * to json.loads by the caller, so errors and odd inputs behave exactly as
 * json.loads does.
 *
 * Keys repeat from one result to the next: a decoder keeps a small table of
 * interned key strings, and each key's last short string value, so a line
 * of known keys creates no key objects. The table is owned by one decoder
 * and touched only with the GIL held. */
#ifndef TCX_RESULT_DECODE_H
#define TCX_RESULT_DECODE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct tcx_decoder tcx_decoder;

/* NULL when out of memory (no Python error set). */
tcx_decoder *tcx_decoder_new(void);
/* Drops the cached strings (needs the GIL). NULL is fine. */
void tcx_decoder_free(tcx_decoder *d);
/* The value of text[0..n) as a new reference. NULL with no exception set:
 * the text is outside the handled subset (the caller uses json.loads);
 * NULL with an exception set: out of memory. */
PyObject *tcx_decode_json(tcx_decoder *d, const char *text, size_t n);

#endif
