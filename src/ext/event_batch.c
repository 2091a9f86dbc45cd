/* event_batch.c — what Run.take_events hands the callbacks' thread: one
 * object per take that owns the taken events (a tc_events queue) and makes
 * each (kind, trial_index, payload) tuple only when the loop reaches it.
 *
 * Why not a list: a list of a few thousand result dicts is alive all at
 * once, so the cyclic GC traverses it again and again and promotes it to
 * the old generations; made one at a time, a result a hook does not keep
 * dies young. Kind names are interned strings (shared, compared by
 * identity in tunec/_callbacks.py's loop).
 *
 * The batch holds a strong reference to its Run, which owns the decoder
 * and the kind names (executor_events.c); both live as long as the Run. */
#include "executor_internal.h"
#include "runner_events.h"
#include "result_decode.h"

typedef struct {
    PyObject_HEAD
    PyObject *run;                 /* strong: keeps decoder and kinds alive */
    tc_events events;              /* owned */
    long next;                     /* the next event to hand out */
    tcx_decoder *decoder;          /* borrowed from the Run; NULL: results as text */
    PyObject *const *kinds;        /* borrowed from the Run: TC_EVT_KINDS names */
} EventBatchObject;

/* One event's payload: a snapshot dict (add, start), a result's dict
 * (decoded) or text, the text of the others (checkpoint directory, error
 * message), the new status name (status), else None. New reference. */
static PyObject *payload_of(EventBatchObject *b, const tc_event *e)
{
    const char *text = tc_event_text(&b->events, e);
    if (b->decoder && e->kind == TC_EVT_RESULT && text) {
        PyObject *dict = tcx_decode_json(b->decoder, text, e->text_len);
        if (dict || PyErr_Occurred())
            return dict;
        /* else the text, for json.loads */
    }
    if (e->snapshot)
        return tcx_from_json(e->snapshot);
    if (e->kind == TC_EVT_STATUS)
        return PyUnicode_InternFromString(tc_status_names[e->status]);
    if (text)
        return PyUnicode_DecodeUTF8(text, (Py_ssize_t)e->text_len, "replace");
    Py_RETURN_NONE;
}

static PyObject *EventBatch_next(EventBatchObject *b)
{
    if (b->next >= b->events.n)
        return NULL;   /* StopIteration */
    const tc_event *e = &b->events.ev[b->next++];
    PyObject *payload = payload_of(b, e);
    PyObject *index = payload ? PyLong_FromLong(e->trial) : NULL;
    PyObject *item = index ? PyTuple_New(3) : NULL;
    if (!item) {
        Py_XDECREF(payload);
        Py_XDECREF(index);
        return NULL;
    }
    Py_INCREF(b->kinds[e->kind]);
    PyTuple_SET_ITEM(item, 0, b->kinds[e->kind]);
    PyTuple_SET_ITEM(item, 1, index);
    PyTuple_SET_ITEM(item, 2, payload);
    return item;
}

/* Events not yet handed out (`if not batch` in Python). */
static Py_ssize_t EventBatch_len(EventBatchObject *b)
{
    return (Py_ssize_t)(b->events.n - b->next);
}

static void EventBatch_dealloc(EventBatchObject *b)
{
    PyTypeObject *tp = Py_TYPE(b);
    tc_events_free(&b->events);
    Py_XDECREF(b->run);
    tp->tp_free((PyObject *)b);
    Py_DECREF(tp);
}

static PyType_Slot EventBatch_slots[] = {
    {Py_tp_doc, "The events of one Run.take_events, oldest first: iterate for "
                "(kind, trial_index, payload) tuples, each made when reached."},
    {Py_tp_dealloc, EventBatch_dealloc},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, EventBatch_next},
    {Py_sq_length, EventBatch_len},
    {0, NULL},
};

static PyType_Spec EventBatch_spec = {
    .name = "tunec._tunec.EventBatch",
    .basicsize = sizeof(EventBatchObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = EventBatch_slots,
};

int tcx_event_batch_exec(PyObject *m)
{
    PyObject *type = PyType_FromModuleAndSpec(m, &EventBatch_spec, NULL);
    if (!type)
        return -1;
    tcx_get_state(m)->EventBatchType = (PyTypeObject *)type;
    return 0;
}

PyObject *tcx_event_batch_new(RunObject *run, tc_events *events, tcx_decoder *decoder,
                              PyObject *const *kinds)
{
    PyTypeObject *tp = tcx_get_state(run->module)->EventBatchType;
    EventBatchObject *b = PyObject_New(EventBatchObject, tp);
    if (!b) {
        tc_events_free(events);
        return NULL;
    }
    /* PyObject_New of a heap type took a reference to it (dealloc drops it). */
    b->events = *events;
    tc_events_init(events);
    b->next = 0;
    b->decoder = decoder;
    b->kinds = kinds;
    Py_INCREF(run);
    b->run = (PyObject *)run;
    return (PyObject *)b;
}
