/* leak_check.c — lets a process that ends with _exit() still be leak-checked
 * under `make check-asan`, says whether this build is the sanitized one, and
 * how much the cold store holds.
 *
 * Workers and the zygote's children end with os._exit() (tunec/_worker.py,
 * tunec/_zygote.py): the interpreter's teardown would cost more than a short
 * trial. LeakSanitizer checks at exit through an atexit hook, which _exit()
 * skips, so without this the worker side of the extension (worker_session.c)
 * would never be checked. The sanitizer's entry point is a weak symbol: in a
 * plain build (no sanitizer runtime loaded) it is NULL and the call does
 * nothing. */
#include "tcx.h"
#include "tcx_host.h"

int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

PyDoc_STRVAR(leak_check_doc,
"leak_check_before_exit()\n\n"
"Runs LeakSanitizer's check now when the sanitizer runtime is loaded (the\n"
"`make check-asan` build); does nothing otherwise. Called just before\n"
"os._exit(), which skips the check LeakSanitizer makes at exit.");

static PyObject *leak_check_before_exit(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    if (__lsan_do_recoverable_leak_check)
        __lsan_do_recoverable_leak_check();
    Py_RETURN_NONE;
}

PyDoc_STRVAR(cold_store_bytes_doc,
"cold_store_bytes() -> int\n\n"
"Bytes in this process's cold store (host_cold.c): finished trials' texts\n"
"of the runs still alive. 0 once no run holds it (tests/test_leaks.py).");

static PyObject *cold_store_bytes(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyLong_FromLongLong(tcx_cold_size());
}

static PyMethodDef leak_check_functions[] = {
    {"leak_check_before_exit", leak_check_before_exit, METH_NOARGS, leak_check_doc},
    {"cold_store_bytes", cold_store_bytes, METH_NOARGS, cold_store_bytes_doc},
    {NULL, NULL, 0, NULL},
};

/* SANITIZED says whether this copy of the extension was itself built with
 * AddressSanitizer (`make build-asan`): the runtime can be preloaded into a
 * process that imported the plain build, and then nothing of ours is
 * instrumented. tests/test_asan_tree.py checks it under `make check-asan`. */
#if defined(__SANITIZE_ADDRESS__)
#define TCX_SANITIZED 1
#else
#define TCX_SANITIZED 0
#endif

int tcx_leak_check_exec(PyObject *m)
{
    if (PyModule_AddFunctions(m, leak_check_functions) < 0)
        return -1;
    return PyModule_AddIntConstant(m, "SANITIZED", TCX_SANITIZED);
}
