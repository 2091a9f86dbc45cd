/* analysis_groups.c — the analysis loader's columnar hand-over:
 * _tunec.load_experiment_grouped and _tunec.load_trials_grouped.
 *
 * analysis_ext.c hands Python one dict of arrays per trial: 1,000 trials of
 * 25 columns are 25,000 NumPy arrays and 1,000 pandas constructions later.
 * Here trials whose columns have the same names, order and types (a "layout":
 * nearly always one per experiment) share one array per column, every trial
 * a run of rows in it, so Python builds one DataFrame per layout and cuts each
 * trial's frame out of it (tunec/analysis/_columns.py).
 *
 * Returns (trials, groups):
 *   trials: [{"logdir", "params", "source", "rows", "bad_lines", "torn_tail",
 *             "group": index into groups or None (no readable rows),
 *             "start": the trial's first row in its group}]
 *   groups: [{"columns": [names], "int_columns": [names], "rows": int,
 *             "data": {name: ndarray},
 *             "blocks": [(2-D ndarray, [column positions])],
 *             "str_columns": {name: (offsets, bytes)}}]
 *   (the float64, int64 and bool columns of "data" are rows of "blocks":
 *   see new_group; a column of nothing but strings is in "str_columns"
 *   instead of "data", as Arrow's offsets and bytes: analysis_strings.c)
 * Column typing is the per-trial one (tc_column_type); the layout includes
 * the types, so a trial's rows are typed exactly as analysis_ext.c types them.
 *
 * Each trial's C table is released as soon as its rows are copied, so the
 * peak holds the columns about once.
 */
#include "tcx.h"
#include "tcx_numpy.h"
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* ------------------------------------------------------------------------- */
/* layouts                                                                    */
/* ------------------------------------------------------------------------- */

static uint64_t layout_hash(const tc_trial_table *t)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a over names and types */
    for (size_t i = 0; i < t->n_cols; i++) {
        for (const char *p = t->cols[i].name; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
        h = (h ^ (0x100u + (unsigned)tc_column_type(&t->cols[i], t->n_rows))) * 1099511628211ull;
    }
    return h ^ t->n_cols;
}

static int same_layout(const tc_trial_table *a, const tc_trial_table *b)
{
    if (a->n_cols != b->n_cols)
        return 0;
    for (size_t i = 0; i < a->n_cols; i++)
        if (tc_column_type(&a->cols[i], a->n_rows) != tc_column_type(&b->cols[i], b->n_rows) ||
            strcmp(a->cols[i].name, b->cols[i].name) != 0)
            return 0;
    return 1;
}

/* Which group each trial joins, and where its rows start. */
typedef struct grouping {
    long *group;        /* per trial, -1 = none */
    size_t *start;      /* per trial */
    size_t *rep;        /* per group: its first trial (the layout's owner) */
    size_t *rows;       /* per group */
    size_t n_groups;
} grouping;

static void grouping_free(grouping *g)
{
    PyMem_Free(g->group);
    PyMem_Free(g->start);
    PyMem_Free(g->rep);
    PyMem_Free(g->rows);
}

/* Assigns layouts with an open-addressing table of group ids. -1 on ENOMEM
 * (Python exception set). */
static int group_trials(const tc_analysis *a, grouping *g)
{
    size_t n = a->n_trials, n_slots = 16;
    while (n_slots < 2 * n)
        n_slots *= 2;
    long *slots = PyMem_Malloc(n_slots * sizeof *slots);
    g->group = PyMem_Malloc((n ? n : 1) * sizeof *g->group);
    g->start = PyMem_Malloc((n ? n : 1) * sizeof *g->start);
    g->rep = PyMem_Malloc((n ? n : 1) * sizeof *g->rep);
    g->rows = PyMem_Malloc((n ? n : 1) * sizeof *g->rows);
    g->n_groups = 0;
    if (!slots || !g->group || !g->start || !g->rep || !g->rows) {
        PyMem_Free(slots);
        PyErr_NoMemory();
        return -1;
    }
    for (size_t s = 0; s < n_slots; s++)
        slots[s] = -1;
    for (size_t i = 0; i < n; i++) {
        const tc_trial_table *t = &a->trials[i];
        g->group[i] = -1;
        g->start[i] = 0;
        if (t->source == TC_SOURCE_NONE)
            continue;
        size_t s = (size_t)layout_hash(t) & (n_slots - 1);
        while (slots[s] >= 0 && !same_layout(&a->trials[g->rep[slots[s]]], t))
            s = (s + 1) & (n_slots - 1);
        if (slots[s] < 0) {
            slots[s] = (long)g->n_groups;
            g->rep[g->n_groups] = i;
            g->rows[g->n_groups] = 0;
            g->n_groups++;
        }
        long k = slots[s];
        g->group[i] = k;
        g->start[i] = g->rows[k];
        g->rows[k] += t->n_rows;
    }
    PyMem_Free(slots);
    return 0;
}

/* ------------------------------------------------------------------------- */
/* cells                                                                      */
/* ------------------------------------------------------------------------- */

/* Python strings of one table's pool, made on first use (a value a trial
 * repeats in every row becomes one object). */
typedef struct str_cache {
    const tc_strpool *pool;
    PyObject **objs;
} str_cache;

static void str_cache_free(str_cache *sc)
{
    if (sc->objs)
        for (size_t i = 0; i < sc->pool->n; i++)
            Py_XDECREF(sc->objs[i]);
    PyMem_Free(sc->objs);
    sc->objs = NULL;
}

static PyObject *cached_str(str_cache *sc, uint32_t id)
{
    if (!sc->objs && !(sc->objs = PyMem_Calloc(sc->pool->n ? sc->pool->n : 1, sizeof *sc->objs)))
        return PyErr_NoMemory();
    if (!sc->objs[id] &&
        !(sc->objs[id] = PyUnicode_DecodeUTF8(tc_strpool_get(sc->pool, id),
                                              (Py_ssize_t)sc->pool->len[id], "replace")))
        return NULL;
    Py_INCREF(sc->objs[id]);
    return sc->objs[id];
}

/* New reference: one cell of an object column (as analysis_ext.c makes it). */
static PyObject *cell_object(const tc_trial_table *t, const tc_column *c, size_t r,
                             str_cache *sc)
{
    switch (c->tag[r]) {
    case TC_CELL_INT: return PyLong_FromLongLong(tc_column_int(c, r));
    case TC_CELL_REAL: return PyFloat_FromDouble(c->num[r]);
    case TC_CELL_TRUE: Py_INCREF(Py_True); return Py_True;
    case TC_CELL_FALSE: Py_INCREF(Py_False); return Py_False;
    case TC_CELL_STRING: return cached_str(sc, c->ref[r]);
    case TC_CELL_LIST: {
        json_t *v = tc_column_cell_json(t, c, r);
        PyObject *o = v ? tcx_from_json(v) : NULL;
        json_decref(v);
        if (!o && !PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "a list in result.json could not be read");
        return o;
    }
    default: Py_INCREF(Py_None); return Py_None;
    }
}

/* Copies trial t's float64, int64 or bool column c into
 * arr[start:start+n_rows]: plain memory, no Python object, so without the
 * GIL (fill_numbers). */
static void fill_numeric(const tc_trial_table *t, const tc_column *c, tc_coltype type,
                         PyArrayObject *arr, size_t start)
{
    size_t n = t->n_rows;
    switch (type) {
    case TC_COLTYPE_FLOAT:
        memcpy((double *)PyArray_DATA(arr) + start, c->num, n * sizeof(double));
        break;
    case TC_COLTYPE_INT: {
        npy_int64 *out = (npy_int64 *)PyArray_DATA(arr) + start;
        if (c->ival)
            memcpy(out, c->ival, n * sizeof *out);
        else
            for (size_t r = 0; r < n; r++)
                out[r] = (npy_int64)c->num[r];
        break;
    }
    case TC_COLTYPE_BOOL: {
        npy_bool *out = (npy_bool *)PyArray_DATA(arr) + start;
        for (size_t r = 0; r < n; r++)
            out[r] = c->tag[r] == TC_CELL_TRUE;
        break;
    }
    case TC_COLTYPE_OBJECT:
        break;
    }
}

/* Copies trial t's object column c into arr[start:start+n_rows] (GIL). */
static int fill_objects(const tc_trial_table *t, const tc_column *c, PyArrayObject *arr,
                        size_t start, str_cache *sc)
{
    PyObject **out = (PyObject **)PyArray_DATA(arr) + start;
    for (size_t r = 0; r < t->n_rows; r++) {
        PyObject *item = cell_object(t, c, r, sc);   /* new */
        if (!item)
            return -1;
        Py_XSETREF(out[r], item);
    }
    return 0;
}

/* The numeric columns of every trial, copied on the loader's threads with
 * the GIL released (one parallel pass: a join per batch would wait for a
 * thread the scheduler has not run yet, on a busy machine); each column's
 * buffers are freed once copied, so the tables shrink as the arrays fill. */
/* A group's string column (analysis_strings.c), borrowed from its dict. */
typedef struct str_column {
    PyArrayObject *offsets, *data;   /* NULL: not a string column */
} str_column;

typedef struct fill_batch {
    tc_analysis *a;
    const long *group;        /* per trial */
    const size_t *start;      /* per trial */
    PyArrayObject ***arrays;  /* per group */
    str_column **strs;        /* per group, per column */
    const size_t *str_base;   /* per trial and column (at col_at[trial]): its first byte */
    const size_t *col_at;     /* per trial */
    size_t done;              /* trials copied (atomic): a trim every BATCH */
} fill_batch;

static void release_freed(void);
#define BATCH 128

static void fill_numbers(void *ctx, size_t i)
{
    fill_batch *fb = ctx;
    tc_trial_table *t = &fb->a->trials[i];
    long grp = fb->group[i];
    if (grp < 0)
        return;
    for (size_t c = 0; c < t->n_cols; c++) {
        tc_column *col = &t->cols[c];
        tc_coltype type = tc_column_type(col, t->n_rows);
        const str_column *sc = &fb->strs[grp][c];
        if (type == TC_COLTYPE_OBJECT && !sc->offsets)
            continue;
        if (sc->offsets)
            tcx_str_fill(t, col, (int64_t *)PyArray_DATA(sc->offsets) + fb->start[i],
                         PyArray_DATA(sc->data), fb->str_base[fb->col_at[i] + c]);
        else if (t->n_rows)
            fill_numeric(t, col, type, fb->arrays[grp][c], fb->start[i]);
        tc_free(col->num);   /* tag[] with it */
        tc_free(col->ref);
        tc_free(col->ival);
        col->num = NULL;
        col->tag = NULL;
        col->ref = NULL;
        col->ival = NULL;
    }
    if (__atomic_add_fetch(&fb->done, 1, __ATOMIC_RELAXED) % BATCH == 0)
        release_freed();
}

/* ------------------------------------------------------------------------- */
/* memory                                                                     */
/* ------------------------------------------------------------------------- */

/* The C tables are freed trial by trial as the arrays fill, but the heap
 * keeps what they held (small blocks, in the load threads' arenas too):
 * without handing it back, the peak holds every table and every array at
 * once. After every BATCH trials the free pages go back to the system, so
 * the tables' memory is reused for the arrays' pages. */
static void release_freed(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

/* ------------------------------------------------------------------------- */
/* Python objects                                                             */
/* ------------------------------------------------------------------------- */

static int set_new(PyObject *d, const char *key, PyObject *value)
{
    if (!value)
        return -1;
    int rc = PyDict_SetItemString(d, key, value);
    Py_DECREF(value);
    return rc;
}

static PyObject *column_name(const tc_column *c)
{
    /* A CSV header is bytes from disk: never fail on them. */
    return PyUnicode_DecodeUTF8(c->name, (Py_ssize_t)strlen(c->name), "replace");
}

static int npy_type(tc_coltype type)
{
    return type == TC_COLTYPE_FLOAT ? NPY_FLOAT64 : type == TC_COLTYPE_INT ? NPY_INT64
           : type == TC_COLTYPE_BOOL ? NPY_BOOL : NPY_OBJECT;
}

/* New reference: the group dict of layout owner t, its arrays allocated
 * (object arrays hold None) for `rows` rows; the arrays, in column order,
 * are also put in arrays[] (borrowed).
 *
 * The float64, int64 and bool columns are rows of one 2-D array per dtype,
 * the shape of a pandas block ((columns, rows), C order): "blocks" lists
 * them as (array, [column positions]) and "data" holds the row views, so
 * Python makes the group's DataFrame from the blocks as they are
 * (_columns.py) instead of pandas copying every column into new ones. */
static PyObject *new_group(const tc_trial_table *t, size_t rows, PyArrayObject **arrays,
                           const size_t *str_bytes, str_column *strs)
{
    static const tc_coltype block_types[] = {TC_COLTYPE_FLOAT, TC_COLTYPE_INT, TC_COLTYPE_BOOL};
    PyObject *g = PyDict_New(), *names = PyList_New(0), *ints = PyList_New(0);
    PyObject *data = PyDict_New(), *blocks = PyList_New(0), *str_columns = PyDict_New();
    size_t owned_from = 0;   /* arrays[i >= this] of the blocks are owned views */
    if (!g || !names || !ints || !data || !blocks || !str_columns)
        goto error;
    npy_intp n = (npy_intp)rows;
    for (size_t k = 0; k < sizeof block_types / sizeof *block_types; k++) {
        PyObject *locs = PyList_New(0), *block = NULL, *pair = NULL;
        for (size_t i = 0; locs && i < t->n_cols; i++) {
            if (tc_column_type(&t->cols[i], t->n_rows) != block_types[k])
                continue;
            PyObject *pos = PyLong_FromSize_t(i);
            int bad = !pos || PyList_Append(locs, pos) < 0;
            Py_XDECREF(pos);
            if (bad)
                Py_CLEAR(locs);
        }
        if (!locs)
            goto error;
        npy_intp dims[2] = {PyList_GET_SIZE(locs), n};
        if (dims[0] == 0) {
            Py_DECREF(locs);
            continue;
        }
        block = PyArray_SimpleNew(2, dims, npy_type(block_types[k]));   /* new */
        pair = block ? PyTuple_Pack(2, block, locs) : NULL;
        int rc = pair ? PyList_Append(blocks, pair) : -1;
        for (Py_ssize_t j = 0; rc == 0 && j < dims[0]; j++) {
            size_t i = PyLong_AsSize_t(PyList_GET_ITEM(locs, j));
            PyObject *row = PySequence_GetItem(block, j);   /* new: a view */
            if (!row)
                rc = -1;
            else
                arrays[i] = (PyArrayObject *)row;   /* owned until data holds it */
        }
        Py_XDECREF(pair);
        Py_XDECREF(block);
        Py_DECREF(locs);
        if (rc < 0)
            goto error;
    }
    for (size_t i = 0; i < t->n_cols; i++) {
        const tc_column *c = &t->cols[i];
        tc_coltype type = tc_column_type(c, t->n_rows);
        PyObject *name = column_name(c);
        PyObject *arr = NULL;   /* new */
        if (type == TC_COLTYPE_OBJECT && str_bytes[i] != TCX_NOT_STR) {
            /* Arrow's shape: rows + 1 offsets from 0, and the bytes. */
            npy_intp n_off = n + 1, n_bytes = (npy_intp)str_bytes[i];
            PyObject *off = PyArray_SimpleNew(1, &n_off, NPY_INT64);
            PyObject *bytes = off ? PyArray_SimpleNew(1, &n_bytes, NPY_UINT8) : NULL;
            PyObject *pair = bytes ? PyTuple_Pack(2, off, bytes) : NULL;
            int rc = name && pair ? PyDict_SetItem(str_columns, name, pair) : -1;
            if (rc == 0) {
                ((int64_t *)PyArray_DATA((PyArrayObject *)off))[0] = 0;
                strs[i].offsets = (PyArrayObject *)off;   /* str_columns holds them */
                strs[i].data = (PyArrayObject *)bytes;
                rc = PyList_Append(names, name);
            }
            arrays[i] = NULL;
            owned_from = i + 1;
            Py_XDECREF(off);
            Py_XDECREF(bytes);
            Py_XDECREF(pair);
            Py_XDECREF(name);
            if (rc < 0)
                goto error;
            continue;
        }
        if (type != TC_COLTYPE_OBJECT)
            arr = (PyObject *)arrays[i];   /* the block's row, taken over */
        else if (name)
            arr = PyArray_SimpleNew(1, &n, NPY_OBJECT);
        arrays[i] = NULL;
        int rc = name && arr ? PyDict_SetItem(data, name, arr) : -1;
        if (rc == 0)
            rc = PyList_Append(names, name);
        if (rc == 0 && c->is_int)
            rc = PyList_Append(ints, name);
        if (rc == 0)
            arrays[i] = (PyArrayObject *)arr;   /* data holds it */
        owned_from = i + 1;
        Py_XDECREF(name);
        Py_XDECREF(arr);
        if (rc < 0)
            goto error;
    }
    if (PyDict_SetItemString(g, "columns", names) < 0 ||
        PyDict_SetItemString(g, "int_columns", ints) < 0 ||
        PyDict_SetItemString(g, "data", data) < 0 ||
        PyDict_SetItemString(g, "blocks", blocks) < 0 ||
        PyDict_SetItemString(g, "str_columns", str_columns) < 0 ||
        set_new(g, "rows", PyLong_FromSize_t(rows)) < 0)
        goto error;
    Py_DECREF(names);
    Py_DECREF(ints);
    Py_DECREF(data);
    Py_DECREF(blocks);
    Py_DECREF(str_columns);
    return g;
error:
    for (size_t j = owned_from; j < t->n_cols; j++)
        if (tc_column_type(&t->cols[j], t->n_rows) != TC_COLTYPE_OBJECT)
            Py_CLEAR(arrays[j]);
    Py_XDECREF(names);
    Py_XDECREF(ints);
    Py_XDECREF(data);
    Py_XDECREF(blocks);
    Py_XDECREF(str_columns);
    Py_XDECREF(g);
    return NULL;
}

static PyObject *new_none(void)
{
    Py_INCREF(Py_None);
    return Py_None;
}

/* New reference: the per-trial dict (see the header comment). */
static PyObject *trial_info(const tc_trial_table *t, long group, size_t start)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    const char *src = t->source == TC_SOURCE_RESULT_JSON ? "result.json"
                      : t->source == TC_SOURCE_PROGRESS_CSV ? "progress.csv" : NULL;
    if (set_new(d, "logdir", PyUnicode_DecodeFSDefault(t->logdir)) < 0 ||
        set_new(d, "params", t->params ? tcx_from_json(t->params) : new_none()) < 0 ||
        set_new(d, "source", src ? PyUnicode_FromString(src) : new_none()) < 0 ||
        set_new(d, "rows", PyLong_FromSize_t(t->n_rows)) < 0 ||
        set_new(d, "bad_lines", PyLong_FromSize_t(t->n_bad_lines)) < 0 ||
        set_new(d, "torn_tail", PyBool_FromLong(t->torn_tail)) < 0 ||
        set_new(d, "group", group >= 0 ? PyLong_FromLong(group) : new_none()) < 0 ||
        set_new(d, "start", PyLong_FromSize_t(start)) < 0) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

/* tcx_str_measure over every trial, on the load threads. */
typedef struct measure_job {
    const tc_analysis *a;
    const long *group;
    const size_t *col_at;
    size_t *bytes;
} measure_job;

static void measure_strings(void *ctx, size_t i)
{
    measure_job *mj = ctx;
    if (mj->group[i] >= 0)
        tcx_str_measure(&mj->a->trials[i], mj->bytes + mj->col_at[i]);
}

/* Which object columns of each group are string columns, and where each
 * trial's strings start in them: per group, per column, the total bytes
 * (TCX_NOT_STR: not one); bytes[] (per trial and column, tcx_str_measure's)
 * becomes each trial's first byte. Trials take their rows in index order
 * (group_trials), so they take their bytes in the same order. */
static void plan_strings(const tc_analysis *a, const grouping *g, const size_t *col_at,
                         size_t *bytes, size_t **totals)
{
    for (size_t k = 0; k < g->n_groups; k++) {
        const tc_trial_table *rep = &a->trials[g->rep[k]];
        for (size_t c = 0; c < rep->n_cols; c++)
            totals[k][c] = tc_column_type(&rep->cols[c], rep->n_rows) == TC_COLTYPE_OBJECT
                           ? 0 : TCX_NOT_STR;
    }
    for (size_t i = 0; i < a->n_trials; i++) {
        if (g->group[i] < 0)
            continue;
        size_t *total = totals[g->group[i]], *b = bytes + col_at[i];
        for (size_t c = 0; c < a->trials[i].n_cols; c++) {
            if (total[c] == TCX_NOT_STR)
                continue;
            if (b[c] == TCX_NOT_STR) {
                total[c] = TCX_NOT_STR;
                continue;
            }
            size_t n = b[c];
            b[c] = total[c];
            total[c] += n;
        }
    }
}

/* New reference: (trials, groups), releasing each trial's table once its
 * rows are copied. Fills `stats` (a dict or None). */
static PyObject *grouped_result(tc_analysis *a, PyObject *stats)
{
    grouping g = {0};
    PyObject *trials = NULL, *groups = NULL, *res = NULL;
    PyArrayObject ***arrays = NULL;   /* per group: its column arrays (borrowed) */
    str_column **strs = NULL;         /* per group: its string columns (borrowed) */
    size_t **totals = NULL;           /* per group: plan_strings' */
    size_t *col_at = NULL, *str_bytes = NULL;   /* per trial: see plan_strings */
    if (stats != Py_None &&
        (set_new(stats, "trials", PyLong_FromSize_t(a->n_trials)) < 0 ||
         set_new(stats, "skipped", PyLong_FromSize_t(a->n_skipped)) < 0 ||
         set_new(stats, "bad_lines", PyLong_FromSize_t(a->n_bad_lines)) < 0))
        return NULL;
    if (group_trials(a, &g) < 0)
        return NULL;
    if (!(groups = PyList_New((Py_ssize_t)g.n_groups)) ||
        !(trials = PyList_New((Py_ssize_t)a->n_trials)))
        goto done;
    size_t n_cells = 0;
    if (!(arrays = PyMem_Calloc(g.n_groups ? g.n_groups : 1, sizeof *arrays)) ||
        !(strs = PyMem_Calloc(g.n_groups ? g.n_groups : 1, sizeof *strs)) ||
        !(totals = PyMem_Calloc(g.n_groups ? g.n_groups : 1, sizeof *totals)) ||
        !(col_at = PyMem_Calloc(a->n_trials ? a->n_trials : 1, sizeof *col_at))) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t i = 0; i < a->n_trials; i++) {
        col_at[i] = n_cells;
        n_cells += a->trials[i].n_cols;
    }
    if (!(str_bytes = PyMem_Calloc(n_cells ? n_cells : 1, sizeof *str_bytes))) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t k = 0; k < g.n_groups; k++) {
        size_t n_cols = a->trials[g.rep[k]].n_cols;
        if (!(totals[k] = PyMem_Calloc(n_cols ? n_cols : 1, sizeof **totals))) {
            PyErr_NoMemory();
            goto done;
        }
    }
    measure_job mj = {a, g.group, col_at, str_bytes};
    Py_BEGIN_ALLOW_THREADS
    tc_analysis_parallel(a->n_trials, measure_strings, &mj);
    Py_END_ALLOW_THREADS
    plan_strings(a, &g, col_at, str_bytes, totals);
    for (size_t k = 0; k < g.n_groups; k++) {
        const tc_trial_table *rep = &a->trials[g.rep[k]];
        if (!(arrays[k] = PyMem_Calloc(rep->n_cols ? rep->n_cols : 1, sizeof **arrays)) ||
            !(strs[k] = PyMem_Calloc(rep->n_cols ? rep->n_cols : 1, sizeof **strs))) {
            PyErr_NoMemory();
            goto done;
        }
        PyObject *group = new_group(rep, g.rows[k], arrays[k], totals[k], strs[k]);
        if (!group)
            goto done;
        PyList_SET_ITEM(groups, (Py_ssize_t)k, group);   /* steals */
    }
    /* The numbers without the GIL, on every load thread; then the object
     * cells and the trial dicts with it. */
    fill_batch fb = {a, g.group, g.start, arrays, strs, str_bytes, col_at, 0};
    Py_BEGIN_ALLOW_THREADS
    tc_analysis_parallel(a->n_trials, fill_numbers, &fb);
    release_freed();
    Py_END_ALLOW_THREADS
    for (size_t i = 0; i < a->n_trials; i++) {
        tc_trial_table *t = &a->trials[i];
        long k = g.group[i];
        if (k >= 0) {
            str_cache sc = {&t->strings, NULL};
            for (size_t c = 0; c < t->n_cols; c++)
                if (tc_column_type(&t->cols[c], t->n_rows) == TC_COLTYPE_OBJECT &&
                    !strs[k][c].offsets &&
                    fill_objects(t, &t->cols[c], arrays[k][c], g.start[i], &sc) < 0) {
                    str_cache_free(&sc);
                    goto done;
                }
            str_cache_free(&sc);
        }
        PyObject *info = trial_info(t, k, g.start[i]);
        tc_trial_table_clear(t);
        if (!info)
            goto done;
        PyList_SET_ITEM(trials, (Py_ssize_t)i, info);   /* steals */
        if ((i + 1) % BATCH == 0 || i + 1 == a->n_trials) {
            Py_BEGIN_ALLOW_THREADS
            release_freed();
            Py_END_ALLOW_THREADS
        }
    }
    res = PyTuple_Pack(2, trials, groups);
done:
    for (size_t k = 0; k < g.n_groups; k++) {
        if (arrays)
            PyMem_Free(arrays[k]);
        if (strs)
            PyMem_Free(strs[k]);
        if (totals)
            PyMem_Free(totals[k]);
    }
    PyMem_Free(arrays);
    PyMem_Free(strs);
    PyMem_Free(totals);
    PyMem_Free(col_at);
    PyMem_Free(str_bytes);
    grouping_free(&g);
    Py_XDECREF(trials);
    Py_XDECREF(groups);
    return res;
}

/* ------------------------------------------------------------------------- */
/* entry points                                                               */
/* ------------------------------------------------------------------------- */

static int prepare(PyObject *stats)
{
    if (stats != Py_None && !PyDict_Check(stats)) {
        PyErr_Format(PyExc_TypeError, "stats must be a dict or None, not %.100s",
                     Py_TYPE(stats)->tp_name);
        return -1;
    }
    PyObject *np = PyImport_ImportModule("numpy");   /* new */
    if (!np)
        return -1;
    Py_DECREF(np);
    int ready = tcx_numpy_ready();
    if (ready == 0)
        PyErr_SetString(PyExc_ImportError, "numpy could not be loaded");
    return ready == 1 ? 0 : -1;
}

PyDoc_STRVAR(load_experiment_grouped_doc,
"load_experiment_grouped(path, stats=None) -> (trials, groups)\n\n"
"load_experiment's walk and parse, handed over by layout: trials with the\n"
"same column names, order and types share one array per column (see\n"
"src/ext/analysis_groups.c).");

static PyObject *load_experiment_grouped(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"path", "stats", NULL};
    PyObject *path = NULL, *stats = Py_None, *res = NULL;
    tc_analysis a;
    tc_error err;
    int rc;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&|O:load_experiment_grouped", kwlist,
                                     PyUnicode_FSConverter, &path, &stats))
        return NULL;
    if (prepare(stats) < 0)
        goto done;
    tc_error_init(&err);
    const char *dir = PyBytes_AS_STRING(path);
    Py_BEGIN_ALLOW_THREADS
    rc = tc_analysis_load(&a, dir, &err);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        tcx_raise(module, &err);
        goto done;
    }
    res = grouped_result(&a, stats);
    tc_analysis_clear(&a);
done:
    Py_XDECREF(path);
    return res;
}

PyDoc_STRVAR(load_trials_grouped_doc,
"load_trials_grouped(logdirs, stats=None) -> (trials, groups)\n\n"
"load_trials, handed over by layout as load_experiment_grouped does.");

static PyObject *load_trials_grouped(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"logdirs", "stats", NULL};
    PyObject *logdirs = NULL, *stats = Py_None, *seq = NULL, *paths = NULL, *res = NULL;
    const char **dirs = NULL;
    tc_analysis a;
    tc_error err;
    int rc;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:load_trials_grouped", kwlist,
                                     &logdirs, &stats))
        return NULL;
    if (prepare(stats) < 0)
        return NULL;
    if (PyUnicode_Check(logdirs) || PyBytes_Check(logdirs)) {
        PyErr_SetString(PyExc_TypeError, "logdirs must be a sequence of paths, not a single path");
        return NULL;
    }
    /* A tuple copy: a path's __fspath__ runs user code, which must not be
     * able to resize what is being walked. */
    if (!(seq = PySequence_Tuple(logdirs)))
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(seq);
    if (!(paths = PyList_New(n)))
        goto done;
    if (!(dirs = PyMem_Calloc(n ? (size_t)n : 1, sizeof *dirs))) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *b = NULL;
        if (!PyUnicode_FSConverter(PyTuple_GET_ITEM(seq, i), &b))
            goto done;
        PyList_SET_ITEM(paths, i, b);   /* steals b; keeps the bytes alive */
        dirs[i] = PyBytes_AS_STRING(b);
    }
    tc_error_init(&err);
    Py_BEGIN_ALLOW_THREADS
    rc = tc_analysis_load_dirs(&a, dirs, (size_t)n, &err);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        tcx_raise(module, &err);
        goto done;
    }
    res = grouped_result(&a, stats);
    tc_analysis_clear(&a);
done:
    PyMem_Free(dirs);
    Py_XDECREF(paths);
    Py_XDECREF(seq);
    return res;
}

PyDoc_STRVAR(release_free_memory_doc,
"release_free_memory() -> None\n\n"
"Hands the heap's free pages back to the system (glibc's malloc_trim): the\n"
"analysis loader calls it once the separate column arrays a DataFrame has\n"
"copied into its blocks are freed, so the process does not keep both.");

static PyObject *release_free_memory(PyObject *module, PyObject *unused)
{
#ifdef __GLIBC__
    Py_BEGIN_ALLOW_THREADS
    malloc_trim(0);
    Py_END_ALLOW_THREADS
#endif
    Py_RETURN_NONE;
}

static PyMethodDef groups_methods[] = {
    {"release_free_memory", release_free_memory, METH_NOARGS, release_free_memory_doc},
    {"load_experiment_grouped", (PyCFunction)(void (*)(void))load_experiment_grouped,
     METH_VARARGS | METH_KEYWORDS, load_experiment_grouped_doc},
    {"load_trials_grouped", (PyCFunction)(void (*)(void))load_trials_grouped,
     METH_VARARGS | METH_KEYWORDS, load_trials_grouped_doc},
    {NULL, NULL, 0, NULL},
};

int tcx_analysis_groups_exec(PyObject *m)
{
    return PyModule_AddFunctions(m, groups_methods);
}
