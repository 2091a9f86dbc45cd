/* wire_ext.c — the engine's wire codes (src/engine/wire.h) as module
 * constants of tunec._tunec: `_tunec.MSG_RESULT`, `_tunec.DECISION_STOP`,
 * `_tunec.EVENT_RESULT` ... The Python side (the worker, local mode, the
 * scheduler and searcher bridges, any executor) reads these rather than
 * repeating numbers; `_tunec.WIRE_CODES` maps every name to its value for
 * tests/test_wire_codes.py. */
#include "tcx.h"
#include "wire.h"

#define TCX_WIRE_ROW(cname, pyname, value) {pyname, value},

static const struct { const char *name; int value; } wire_codes[] = {
    TC_WIRE_ALL(TCX_WIRE_ROW)
};

int tcx_wire_exec(PyObject *m)
{
    PyObject *table = PyDict_New();
    if (!table)
        return -1;
    for (size_t i = 0; i < sizeof wire_codes / sizeof wire_codes[0]; i++) {
        PyObject *v = PyLong_FromLong(wire_codes[i].value);
        int rc = v ? PyDict_SetItemString(table, wire_codes[i].name, v) : -1;
        Py_XDECREF(v);
        if (rc < 0 || PyModule_AddIntConstant(m, wire_codes[i].name, wire_codes[i].value) < 0) {
            Py_DECREF(table);
            return -1;
        }
    }
    if (PyModule_AddObject(m, "WIRE_CODES", table) < 0) {   /* steals table on success */
        Py_DECREF(table);
        return -1;
    }
    return 0;
}
