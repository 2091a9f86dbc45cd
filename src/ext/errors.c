/* errors.c — maps engine error codes onto Python exceptions (psutil's
 * one-place rule). The Python layer raises TuneError subclasses from here only. */
#include "tcx.h"

PyObject *tcx_raise(PyObject *module, const tc_error *err)
{
    if (err->code == TC_ERR_CALLBACK && PyErr_Occurred())
        return NULL;
    PyObject *type;
    switch (err->code) {
    case TC_ERR_VALUE: type = PyExc_ValueError; break;
    case TC_ERR_TYPE: type = PyExc_TypeError; break;
    case TC_ERR_NOMEM: type = PyExc_MemoryError; break;
    case TC_ERR_IO: type = PyExc_OSError; break;
    case TC_ERR_DEPENDENCY:
        type = module ? tcx_get_state(module)->RecursiveDependencyError : PyExc_RuntimeError;
        break;
    case TC_ERR_TUNE:
    default:
        type = module ? tcx_get_state(module)->TuneError : PyExc_RuntimeError;
        break;
    }
    PyErr_SetString(type, err->text[0] ? err->text : "tunec engine error");
    return NULL;
}

int tcx_error_from_python(tc_error *err)
{
    PyObject *type, *value, *tb;   /* new references, handed back below */
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *s = value ? PyObject_Str(value) : NULL;
    const char *text = s ? PyUnicode_AsUTF8(s) : NULL;
    tc_error_set(err, TC_ERR_CALLBACK, "%s: %s",
                 type ? ((PyTypeObject *)type)->tp_name : "error", text ? text : "?");
    Py_XDECREF(s);
    PyErr_Clear();
    PyErr_Restore(type, value, tb);   /* steals all three */
    return -1;
}
