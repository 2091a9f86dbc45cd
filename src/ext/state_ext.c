/* state_ext.c — _tunec.read_state: an experiment's state read back for
 * resume by the engine's reader (src/engine/state_read.c), without the GIL
 * and without a Python object per trial. The files are mapped for the scan,
 * and the pages the reader has passed are dropped as it goes, so that a
 * 100,000-trial state (a few hundred MB of text) never sits in the driver's
 * memory; the files stay open, and a trial's pieces are read back from them
 * (pread) when the runner takes its record. An open descriptor keeps the
 * text even when the new session replaces or removes the file. The result
 * is an opaque state that tune.run hands to Run (callbacks["resume_state"]),
 * which gives it to the runner. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "state_read.h"
#include "tcx.h"

#define CAPSULE "tunec.resume_state"
#define DROP_EVERY (16u << 20)   /* bytes passed before their pages are dropped */

typedef struct mapped {
    const char *base;
    size_t len, dropped;
    int fd;             /* -1: absent */
} mapped;

typedef struct read_ctx {
    mapped files[2];    /* TC_STATE_SNAPSHOT, TC_STATE_JOURNAL */
} read_ctx;

/* A file mapped read-only and kept open: 0 (absent: base NULL), -1 with err
 * set. */
static int map_file(const char *path, mapped *m, tc_error *err)
{
    memset(m, 0, sizeof *m);
    m->fd = -1;
    if (!path)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : tc_error_set(err, TC_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    int rc = 0;
    if (fstat(fd, &sb) < 0) {
        rc = tc_error_set(err, TC_ERR_IO, "%s: %s", path, strerror(errno));
    } else if (sb.st_size == 0) {
        m->base = "";   /* an empty file: present, no text */
    } else {
        void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            rc = tc_error_set(err, TC_ERR_IO, "%s: %s", path, strerror(errno));
        } else {
            madvise(p, (size_t)sb.st_size, MADV_SEQUENTIAL);
            m->base = p;
            m->len = (size_t)sb.st_size;
        }
    }
    if (rc == 0)
        m->fd = fd;
    else
        close(fd);
    return rc;
}

static void unmap_file(mapped *m)
{
    if (m->len)
        munmap((void *)m->base, m->len);
    m->base = NULL;
}

static char *read_at(void *ctx, int src, long long pos, size_t len)
{
    read_ctx *rc = ctx;
    int fd = rc->files[src == TC_STATE_JOURNAL].fd;
    char *out = tc_malloc(len + 1);
    size_t done = 0;
    while (out && done < len) {
        ssize_t n = pread(fd, out + done, len - done, (off_t)(pos + (long long)done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            tc_free(out);
            return NULL;
        }
        done += (size_t)n;
    }
    if (out)
        out[len] = '\0';
    return out;
}

static void release(void *ctx)
{
    read_ctx *rc = ctx;
    for (int i = 0; i < 2; i++) {
        unmap_file(&rc->files[i]);
        if (rc->files[i].fd >= 0)
            close(rc->files[i].fd);
    }
    tc_free(rc);
}

/* The reader passed `upto`: the whole pages before it are dropped from the
 * driver's resident memory (they stay in the page cache). */
static void consumed(void *ctx, const char *base, const char *upto)
{
    read_ctx *rc = ctx;
    for (int i = 0; i < 2; i++) {
        mapped *m = &rc->files[i];
        if (m->base != base || !m->len)
            continue;
        size_t page = (size_t)sysconf(_SC_PAGESIZE), at = (size_t)(upto - base) / page * page;
        if (at >= m->dropped + DROP_EVERY) {
            madvise((char *)base + m->dropped, at - m->dropped, MADV_DONTNEED);
            m->dropped = at;
        }
    }
}

static int is_dir(void *ctx, const char *path)
{
    (void)ctx;
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static void capsule_free(PyObject *capsule)
{
    tc_state **box = PyCapsule_GetPointer(capsule, CAPSULE);
    if (box) {
        tc_state_free(*box);
        tc_free(box);
    }
}

/* The state in a capsule made by read_state (NULL with TypeError). */
static tc_state **state_box(PyObject *obj)
{
    tc_state **box = PyCapsule_IsValid(obj, CAPSULE) ? PyCapsule_GetPointer(obj, CAPSULE) : NULL;
    if (!box)
        PyErr_SetString(PyExc_TypeError, "resume state: expected the object read_state returns");
    return box;
}

tc_state *tcx_take_resume_state(PyObject *obj)
{
    tc_state **box = state_box(obj);
    if (!box)
        return NULL;
    tc_state *st = *box;
    *box = NULL;
    if (!st)
        PyErr_SetString(PyExc_ValueError, "resume state: already handed to a run");
    return st;
}

PyDoc_STRVAR(read_state_doc,
"read_state(snapshot, journal, exp_dir) -> (state, runner_data, warnings)\n\n"
"Reads an experiment's snapshot and journal (paths; None or a missing file:\n"
"absent) for resume. state is opaque (for Run's callbacks['resume_state']),\n"
"runner_data the snapshot's dict, warnings the texts of damaged lines\n"
"skipped. TuneError names a corrupt snapshot.");

static PyObject *read_state(PyObject *module, PyObject *args)
{
    PyObject *snap_obj, *journal_obj, *dir_obj = NULL, *res = NULL;
    if (!PyArg_ParseTuple(args, "OOO&:read_state", &snap_obj, &journal_obj,
                          PyUnicode_FSConverter, &dir_obj))
        return NULL;
    PyObject *snap_b = NULL, *journal_b = NULL;
    if ((snap_obj != Py_None && !PyUnicode_FSConverter(snap_obj, &snap_b)) ||
        (journal_obj != Py_None && !PyUnicode_FSConverter(journal_obj, &journal_b))) {
        Py_XDECREF(snap_b);
        Py_DECREF(dir_obj);
        return NULL;
    }
    const char *snap = snap_b ? PyBytes_AS_STRING(snap_b) : NULL;
    const char *journal = journal_b ? PyBytes_AS_STRING(journal_b) : NULL;
    const char *dir = PyBytes_AS_STRING(dir_obj);
    tc_error err;
    tc_error_init(&err);
    tc_state *st = NULL;
    read_ctx *ctx = tc_calloc(1, sizeof *ctx);
    if (!ctx) {
        Py_XDECREF(snap_b);
        Py_XDECREF(journal_b);
        Py_DECREF(dir_obj);
        return PyErr_NoMemory();
    }
    ctx->files[0].fd = ctx->files[1].fd = -1;
    tc_state_host host = {ctx, read_at, consumed, is_dir, release};
    Py_BEGIN_ALLOW_THREADS
    mapped *f = ctx->files;
    if (map_file(snap, &f[TC_STATE_SNAPSHOT], &err) == 0 &&
        map_file(journal, &f[TC_STATE_JOURNAL], &err) == 0) {
        st = tc_state_read(f[0].base, f[0].len, snap, f[1].base, f[1].len, journal, dir, &host,
                           &err);   /* owns ctx from here, on failure too */
        ctx = NULL;
    }
    if (st) {   /* the scan is over: only the descriptors stay */
        unmap_file(&f[0]);
        unmap_file(&f[1]);
    }
    if (ctx)
        release(ctx);
    Py_END_ALLOW_THREADS
    Py_XDECREF(snap_b);
    Py_XDECREF(journal_b);
    Py_DECREF(dir_obj);
    if (!st)
        return tcx_raise(module, &err);
    tc_state **box = tc_malloc(sizeof *box);
    PyObject *capsule = box ? PyCapsule_New(box, CAPSULE, capsule_free) : NULL;
    if (!capsule) {
        tc_free(box);
        tc_state_free(st);
        return box ? NULL : PyErr_NoMemory();
    }
    *box = st;
    PyObject *runner_data = tcx_from_json(tc_state_runner_data(st));
    PyObject *warnings = PyList_New(0);
    for (size_t i = 0; warnings && i < tc_state_nwarnings(st); i++) {
        PyObject *w = PyUnicode_DecodeUTF8(tc_state_warning(st, i),
                                           (Py_ssize_t)strlen(tc_state_warning(st, i)), "replace");
        if (!w || PyList_Append(warnings, w) < 0)
            Py_CLEAR(warnings);
        Py_XDECREF(w);
    }
    if (runner_data && warnings)
        res = PyTuple_Pack(3, capsule, runner_data, warnings);
    Py_DECREF(capsule);
    Py_XDECREF(runner_data);
    Py_XDECREF(warnings);
    return res;
}

PyDoc_STRVAR(state_count_doc, "state_count(state) -> the number of trials it holds.");

static PyObject *state_count(PyObject *module, PyObject *obj)
{
    tc_state **box = state_box(obj);
    return box ? PyLong_FromSize_t(tc_state_count(*box)) : NULL;
}

PyDoc_STRVAR(state_records_doc,
"state_records(state) -> {trial_id: record}: every record built (for tests and\n"
"tools; a run parses them one at a time). The state keeps them.");

static PyObject *state_records(PyObject *module, PyObject *obj)
{
    tc_state **box = state_box(obj);
    if (!box)
        return NULL;
    PyObject *out = PyDict_New();
    size_t pos = 0;
    const char *id;
    json_t *rec;
    tc_error err;
    tc_error_init(&err);
    while (out && (rec = tc_state_next(*box, &pos, &id, &err)) != NULL) {
        PyObject *v = tcx_from_json(rec);
        json_decref(rec);
        if (!v || PyDict_SetItemString(out, id, v) < 0)
            Py_CLEAR(out);
        Py_XDECREF(v);
    }
    if (out && err.code != TC_OK) {
        Py_CLEAR(out);
        tcx_raise(module, &err);
    }
    return out;
}

static PyMethodDef state_methods[] = {
    {"read_state", read_state, METH_VARARGS, read_state_doc},
    {"state_count", state_count, METH_O, state_count_doc},
    {"state_records", state_records, METH_O, state_records_doc},
    {NULL, NULL, 0, NULL},
};

int tcx_state_exec(PyObject *m)
{
    return PyModule_AddFunctions(m, state_methods);
}
