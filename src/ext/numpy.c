/* numpy.c — loads the NumPy C API lazily (see tcx.h for why). */
#define TCX_NUMPY_IMPORT
#include "tcx.h"
#include "tcx_numpy.h"

static int numpy_loaded = 0;   /* process-wide: the API table is per process */

static int load(void)
{
    import_array1(-1);
    return 0;
}

int tcx_numpy_ready(void)
{
    if (numpy_loaded)
        return 1;
    PyObject *modules = PyImport_GetModuleDict();   /* borrowed */
    PyObject *np = PyDict_GetItemString(modules, "numpy");  /* borrowed */
    if (np == NULL)
        return 0;
    if (load() < 0)
        return -1;
    numpy_loaded = 1;
    return 1;
}
