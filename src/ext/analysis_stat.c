/* analysis_stat.c — what the parsed-column cache (tunec/analysis/_cache.py)
 * checks: _tunec.files_signature, the (size, mtime) of a set of files in
 * each of many directories, and _tunec.trial_dirs, the trial dirs a load of
 * a directory reads (analysis.c's walk, without the parse).
 *
 * 1,000 trial dirs x 3 files are 3,000 stat calls; from Python, with a path
 * join and a tuple each, they cost a third of what the cache saves. Here
 * they run without the GIL and come back as one bytes object that compares
 * with the recorded one in a memcmp.
 */
#include <sys/stat.h>
#include "tcx.h"

PyDoc_STRVAR(files_signature_doc,
"files_signature(dirs, names) -> bytes\n\n"
"For each dir, for each name: the file's size and mtime in nanoseconds as\n"
"two native int64 (-1, -1 when it cannot be stat'ed), in that order.");

/* The paths as FS bytes, kept alive in `keep` (a list). */
static const char **fs_paths(PyObject *seq, PyObject *keep, Py_ssize_t *n)
{
    *n = PyTuple_GET_SIZE(seq);
    const char **out = PyMem_Calloc(*n ? (size_t)*n : 1, sizeof *out);
    if (!out) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < *n; i++) {
        PyObject *b = NULL;
        if (!PyUnicode_FSConverter(PyTuple_GET_ITEM(seq, i), &b) || PyList_Append(keep, b) < 0) {
            Py_XDECREF(b);
            PyMem_Free(out);
            return NULL;
        }
        Py_DECREF(b);   /* keep holds it */
        out[i] = PyBytes_AS_STRING(b);
    }
    return out;
}

static PyObject *files_signature(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *dirs_arg, *names_arg, *dirs = NULL, *names = NULL, *keep = NULL, *res = NULL;
    const char **d = NULL, **f = NULL;
    Py_ssize_t nd = 0, nf = 0;
    if (!PyArg_ParseTuple(args, "OO:files_signature", &dirs_arg, &names_arg))
        return NULL;
    if (PyUnicode_Check(dirs_arg) || PyUnicode_Check(names_arg)) {
        PyErr_SetString(PyExc_TypeError, "files_signature: dirs and names must be sequences");
        return NULL;
    }
    if (!(dirs = PySequence_Tuple(dirs_arg)) || !(names = PySequence_Tuple(names_arg)) ||
        !(keep = PyList_New(0)) || !(d = fs_paths(dirs, keep, &nd)) ||
        !(f = fs_paths(names, keep, &nf)))
        goto done;
    if (nf > 0 && (size_t)nd > PY_SSIZE_T_MAX / 16 / (size_t)nf) {
        PyErr_NoMemory();
        goto done;
    }
    if (!(res = PyBytes_FromStringAndSize(NULL, nd * nf * 16)))
        goto done;
    int64_t *out = (int64_t *)(void *)PyBytes_AS_STRING(res);
    int nomem = 0;
    Py_BEGIN_ALLOW_THREADS
    tc_buf path;
    tc_buf_init(&path);
    for (Py_ssize_t i = 0; i < nd && !nomem; i++) {
        for (Py_ssize_t j = 0; j < nf; j++) {
            struct stat st;
            int64_t *slot = out + 2 * (i * nf + j);
            tc_buf_clear(&path);
            if (tc_buf_append(&path, d[i], strlen(d[i])) < 0 || tc_buf_putc(&path, '/') < 0 ||
                tc_buf_append(&path, f[j], strlen(f[j])) < 0) {
                nomem = 1;
                break;
            }
            if (stat(path.data, &st) == 0) {
                slot[0] = (int64_t)st.st_size;
                slot[1] = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
            } else {
                slot[0] = slot[1] = -1;
            }
        }
    }
    tc_buf_free(&path);
    Py_END_ALLOW_THREADS
    if (nomem) {
        Py_CLEAR(res);
        PyErr_NoMemory();
    }
done:
    PyMem_Free(d);
    PyMem_Free(f);
    Py_XDECREF(keep);
    Py_XDECREF(names);
    Py_XDECREF(dirs);
    return res;
}

PyDoc_STRVAR(trial_dirs_doc,
"trial_dirs(path) -> [str]\n\n"
"The trial dirs load_experiment(path) reads, in its order (the same strings\n"
"as its trials' logdirs). ValueError if path is not a directory.");

static PyObject *trial_dirs(PyObject *module, PyObject *arg)
{
    PyObject *path = NULL, *res = NULL;
    char **dirs = NULL;
    size_t n = 0;
    tc_error err;
    int rc;
    if (!PyUnicode_FSConverter(arg, &path))
        return NULL;
    tc_error_init(&err);
    Py_BEGIN_ALLOW_THREADS
    rc = tc_analysis_find(PyBytes_AS_STRING(path), &dirs, &n, &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (rc < 0) {
        tcx_raise(module, &err);
        return NULL;
    }
    if ((res = PyList_New((Py_ssize_t)n)) != NULL) {
        for (size_t i = 0; i < n; i++) {
            PyObject *s = PyUnicode_DecodeFSDefault(dirs[i]);
            if (!s) {
                Py_CLEAR(res);
                break;
            }
            PyList_SET_ITEM(res, (Py_ssize_t)i, s);
        }
    }
    tc_analysis_dirs_free(dirs, n);
    return res;
}

static PyMethodDef stat_methods[] = {
    {"files_signature", files_signature, METH_VARARGS, files_signature_doc},
    {"trial_dirs", trial_dirs, METH_O, trial_dirs_doc},
    {NULL, NULL, 0, NULL},
};

int tcx_analysis_stat_exec(PyObject *m)
{
    return PyModule_AddFunctions(m, stat_methods);
}
