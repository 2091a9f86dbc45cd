/* stub_hooks.c — placeholder exec hooks; each is removed when its file lands. */
#include "tcx.h"
int tcx_convert_exec(PyObject *m) { return 0; }
int tcx_space_exec(PyObject *m) { return 0; }
int tcx_analysis_exec(PyObject *m) { return 0; }
int tcx_run_exec(PyObject *m) { return 0; }
int tcx_worker_exec(PyObject *m) { return 0; }
