/* space_ext.c — search-space expansion (src/engine/space.c) for Python:
 * tcx_eval_fn, the engine's callback into a Python resolver for fn nodes, and
 * _tunec.generate_variants.
 *
 * The resolver is tunec.sample's: resolver(id, path, spec) -> value, where
 * spec is the partially resolved spec as plain Python data (markers included)
 * and value comes back already encoded into markers. A RecursiveDependencyError
 * from it means "ask me again next pass" (TC_ERR_DEPENDENCY, the exception is
 * consumed); any other exception ends the expansion and stays set.
 *
 * The GIL is held throughout: every grid point may call back into Python, and
 * the engine's own work per variant is small next to one Python call.
 */
#include "tcx.h"

/* 1 if the current exception is tunec.error.RecursiveDependencyError. The
 * class is looked up only when an exception is pending (sys.modules hit). */
static int pending_is_dependency(void)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);   /* new references, restored below */
    int match = 0;
    PyObject *mod = PyImport_ImportModule("tunec.error");   /* new */
    PyObject *cls = mod ? PyObject_GetAttrString(mod, "RecursiveDependencyError") : NULL;  /* new */
    if (cls && type)
        match = PyErr_GivenExceptionMatches(type, cls);
    PyErr_Clear();   /* a failed lookup is not the user's error */
    Py_XDECREF(cls);
    Py_XDECREF(mod);
    PyErr_Restore(type, value, tb);   /* steals all three */
    return match;
}

/* Moves the pending RecursiveDependencyError into err (its str() is Ray's
 * "`<key>` recursively depends on <value>") and clears it. */
static void take_dependency(tc_error *err)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *s = value ? PyObject_Str(value) : NULL;   /* new */
    const char *text = s ? PyUnicode_AsUTF8(s) : NULL;
    tc_error_set(err, TC_ERR_DEPENDENCY, "%s", text ? text : "recursive dependency");
    PyErr_Clear();
    Py_XDECREF(s);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

json_t *tcx_eval_fn(void *ctx, json_int_t id, const json_t *path, const json_t *spec,
                    tc_error *err)
{
    PyObject *resolver = ctx;   /* borrowed */
    json_t *out = NULL;
    if (!resolver) {   /* a caller passing this function without a resolver */
        tc_error_set(err, TC_ERR_VALUE, "the search space has sample_from nodes but no resolver");
        return NULL;
    }
    PyObject *py_id = PyLong_FromLongLong((long long)id);          /* new */
    PyObject *py_path = py_id ? tcx_from_json(path) : NULL;        /* new */
    PyObject *py_spec = py_path ? tcx_from_json(spec) : NULL;      /* new */
    PyObject *res = NULL;
    if (!py_spec)
        goto error;
    res = PyObject_CallFunctionObjArgs(resolver, py_id, py_path, py_spec, NULL);   /* new */
    if (!res) {
        if (pending_is_dependency()) {
            take_dependency(err);
            goto done;
        }
        goto error;
    }
    out = tcx_to_json(res, "sample_from result");   /* new */
    if (!out)
        goto error;
    goto done;
error:
    tcx_error_from_python(err);
done:
    Py_XDECREF(res);
    Py_XDECREF(py_spec);
    Py_XDECREF(py_path);
    Py_XDECREF(py_id);
    return out;
}

/* (tuple(path), value) pairs of resolved_vars as a dict keyed by path tuples,
 * Ray's shape. New reference. */
static PyObject *resolved_dict(const json_t *vars)
{
    PyObject *d = PyDict_New();
    size_t i;
    json_t *pair;
    json_array_foreach(vars, i, pair) {
        if (!d)
            break;
        PyObject *plist = tcx_from_json(json_array_get(pair, 0));   /* new */
        PyObject *ptuple = plist ? PyList_AsTuple(plist) : NULL;     /* new */
        PyObject *value = ptuple ? tcx_from_json(json_array_get(pair, 1)) : NULL;  /* new */
        if (!value || PyDict_SetItem(d, ptuple, value) < 0)
            Py_CLEAR(d);
        Py_XDECREF(value);
        Py_XDECREF(ptuple);
        Py_XDECREF(plist);
    }
    return d;
}

/* (config, resolved_vars, evaluated_params, tag[, spec]). New reference. */
static PyObject *variant_tuple(const tc_variant *v, int with_spec)
{
    PyObject *config = tcx_from_json(v->config);                        /* new */
    PyObject *vars = config ? resolved_dict(v->resolved_vars) : NULL;   /* new */
    PyObject *params = vars ? tcx_from_json(v->evaluated_params) : NULL;  /* new */
    PyObject *tag = params ? PyUnicode_FromString(v->tag) : NULL;       /* new */
    PyObject *spec = tag && with_spec ? tcx_from_json(v->spec) : NULL;   /* new */
    PyObject *res = NULL;
    if (tag && !with_spec)
        res = PyTuple_Pack(4, config, vars, params, tag);
    else if (spec)
        res = PyTuple_Pack(5, config, vars, params, tag, spec);
    Py_XDECREF(spec);
    Py_XDECREF(tag);
    Py_XDECREF(params);
    Py_XDECREF(vars);
    Py_XDECREF(config);
    return res;
}

PyDoc_STRVAR(generate_variants_doc,
"generate_variants(spec_json, num_samples, seed, resolver, start_index=0, limit=-1,\n"
"                  with_spec=False)\n--\n\n"
"Expands a search space (spec section 5): the grid repeated num_samples times\n"
"(num_samples < 0: unbounded, which needs limit >= 0), sampled values drawn\n"
"from one stream seeded with `seed`, fn nodes resolved through\n"
"resolver(id, path, spec) (may be None when there are none). Variants are\n"
"numbered from start_index; at most `limit` are returned (limit < 0: all).\n"
"Returns a list of (config, resolved_vars, evaluated_params, tag) with\n"
"resolved_vars a dict {path tuple: value}; with_spec=True appends the whole\n"
"resolved spec (Ray's generate_variants yields it). Markers in the values are\n"
"left for the caller (tunec.sample.decode_value).");

static PyObject *generate_variants(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"spec_json", "num_samples", "seed", "resolver", "start_index",
                             "limit", "with_spec", NULL};
    int with_spec = 0;
    const char *text;
    Py_ssize_t len;
    long num_samples, start_index = 0, limit = -1;
    PyObject *seed_obj, *resolver, *out = NULL;
    json_t *spec = NULL;
    tc_space *s = NULL;
    tc_error err;
    tc_variant v;
    tc_error_init(&err);
    memset(&v, 0, sizeof v);
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s#lOO|llp:generate_variants", kwlist, &text,
                                     &len, &num_samples, &seed_obj, &resolver, &start_index,
                                     &limit, &with_spec))
        return NULL;
    if (!PyLong_Check(seed_obj))
        return PyErr_Format(PyExc_TypeError, "generate_variants: seed must be an int, got %s",
                            Py_TYPE(seed_obj)->tp_name);
    /* any int is a seed: reduced modulo 2^64, negatives included */
    unsigned long long seed = PyLong_AsUnsignedLongLongMask(seed_obj);
    if (seed == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    if (resolver != Py_None && !PyCallable_Check(resolver))
        return PyErr_Format(PyExc_TypeError,
                            "generate_variants: resolver must be callable or None, got %s",
                            Py_TYPE(resolver)->tp_name);
    if (num_samples < 0 && limit < 0)
        return PyErr_Format(PyExc_ValueError,
                            "generate_variants: num_samples=%ld is unbounded, give a limit",
                            num_samples);

    spec = tc_json_loads(text, (size_t)len, &err);
    if (!spec || !(s = tc_space_new(spec, num_samples, (uint64_t)seed, &err))) {
        tcx_raise(module, &err);
        goto done;
    }
    tc_space_set_next_index(s, start_index);
    out = PyList_New(0);
    for (long n = 0; out && (limit < 0 || n < limit); n++) {
        int r = tc_space_next(s, resolver == Py_None ? NULL : tcx_eval_fn, resolver, &v, &err);
        if (r < 0) {
            Py_CLEAR(out);
            tcx_raise(module, &err);
            break;
        }
        if (r == 0)
            break;
        PyObject *item = variant_tuple(&v, with_spec);   /* new */
        tc_variant_clear(&v);
        if (!item || PyList_Append(out, item) < 0)
            Py_CLEAR(out);
        Py_XDECREF(item);
        /* a huge expansion stays interruptible with Ctrl-C */
        if (out && (n & 1023) == 1023 && PyErr_CheckSignals() < 0)
            Py_CLEAR(out);
    }
done:
    tc_variant_clear(&v);
    tc_space_free(s);
    json_decref(spec);
    return out;
}

PyDoc_STRVAR(format_vars_doc,
"format_vars(pairs_json) -> str\n--\n\n"
"Ray's format_vars over [[path, value], ...] (JSON text): the engine's tag\n"
"text, \"alpha=0.5,beta=2\" (paths sorted; run/env/resources_per_trial\n"
"skipped).");

static PyObject *format_vars(PyObject *module, PyObject *arg)
{
    Py_ssize_t len;
    const char *text = PyUnicode_AsUTF8AndSize(arg, &len);
    if (!text)
        return NULL;
    tc_error err;
    tc_error_init(&err);
    json_t *pairs = tc_json_loads(text, (size_t)len, &err);
    if (!pairs)
        return tcx_raise(module, &err);
    if (!json_is_array(pairs)) {
        json_decref(pairs);
        return PyErr_Format(PyExc_TypeError, "format_vars: expected a JSON array of pairs");
    }
    tc_buf b;
    tc_buf_init(&b);
    int rc = tc_format_vars(pairs, &b);
    json_decref(pairs);
    PyObject *out = rc < 0 ? PyErr_NoMemory() : PyUnicode_FromString(b.data ? b.data : "");
    tc_buf_free(&b);
    return out;
}

static PyMethodDef space_methods[] = {
    {"format_vars", (PyCFunction)format_vars, METH_O, format_vars_doc},
    {"generate_variants", (PyCFunction)(void (*)(void))generate_variants,
     METH_VARARGS | METH_KEYWORDS, generate_variants_doc},
    {NULL, NULL, 0, NULL},
};

int tcx_space_exec(PyObject *m)
{
    return PyModule_AddFunctions(m, space_methods);
}
