/* module.c — tunec._tunec: multi-phase init and module state (CPython's
 * xxlimited.c shape). Each concept's file contributes functions and types
 * through an exec hook. */
#include "tcx.h"

tcx_state *tcx_get_state(PyObject *module)
{
    return (tcx_state *)PyModule_GetState(module);
}

static int load_exceptions(tcx_state *st)
{
    PyObject *mod = PyImport_ImportModule("tunec.error");   /* new */
    if (!mod)
        return -1;
    st->TuneError = PyObject_GetAttrString(mod, "TuneError");
    st->RecursiveDependencyError = PyObject_GetAttrString(mod, "RecursiveDependencyError");
    Py_DECREF(mod);
    return (st->TuneError && st->RecursiveDependencyError) ? 0 : -1;
}

static int module_exec(PyObject *m)
{
    if (load_exceptions(tcx_get_state(m)) < 0)
        return -1;
    if (tcx_convert_exec(m) < 0 || tcx_space_exec(m) < 0 || tcx_analysis_exec(m) < 0 ||
        tcx_analysis_last_exec(m) < 0 ||
        tcx_run_exec(m) < 0 || tcx_worker_exec(m) < 0 || tcx_wire_exec(m) < 0 || tcx_checkpoint_exec(m) < 0 ||
        tcx_tpe_exec(m) < 0 || tcx_analysis_groups_exec(m) < 0 ||
        tcx_analysis_state_exec(m) < 0 || tcx_analysis_codes_exec(m) < 0 ||
        tcx_analysis_strings_exec(m) < 0 ||
        tcx_analysis_stat_exec(m) < 0 || tcx_leak_check_exec(m) < 0 ||
        tcx_state_exec(m) < 0)
        return -1;
    return 0;
}

static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
    tcx_state *st = tcx_get_state(m);
    Py_VISIT(st->TuneError);
    Py_VISIT(st->RecursiveDependencyError);
    Py_VISIT(st->RunType);
    Py_VISIT(st->SessionType);
    Py_VISIT(st->EventBatchType);
    return 0;
}

static int module_clear(PyObject *m)
{
    tcx_state *st = tcx_get_state(m);
    Py_CLEAR(st->TuneError);
    Py_CLEAR(st->RecursiveDependencyError);
    Py_CLEAR(st->RunType);
    Py_CLEAR(st->SessionType);
    Py_CLEAR(st->EventBatchType);
    return 0;
}

static void module_free(void *m)
{
    module_clear((PyObject *)m);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tunec._tunec",
    .m_doc = "The tunec engine (C) and its CPython bindings.",
    .m_size = sizeof(tcx_state),
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__tunec(void)
{
    return PyModuleDef_Init(&module_def);
}
