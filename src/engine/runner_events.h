/* runner_events.h — the runner's event record for Python callbacks
 * (tune.Callback, LoggerCallback, 0.8 Logger classes: tunec/_callbacks.py).
 *
 * When recording is on (tc_runner_record_events), the runner appends one
 * event per trial lifecycle step it takes: a trial added, started, restored,
 * a result logged, a checkpoint registered, a trial completed or failed, and
 * every status change. Recording is off by default, so a run without Python
 * callbacks pays nothing but a NULL check.
 *
 * The queue is a plain value with no locking: the host moves it to whoever
 * consumes it (tc_events_move_to) at points it chooses. Invariants:
 *   - events are in the order the runner took the steps;
 *   - an event's text (a result.json line, a checkpoint directory) lives in
 *     the queue's arena until the queue is cleared;
 *   - an event's snapshot (ADD, START) is owned by the queue. */
#ifndef TUNEC_RUNNER_EVENTS_H
#define TUNEC_RUNNER_EVENTS_H

#include "runner.h"

typedef enum {
    TC_EVT_ADD = 0,     /* snapshot: the new trial */
    TC_EVT_START,       /* snapshot: the trial as it started (logdir set) */
    TC_EVT_RESTORE,     /* it started from a checkpoint (or restore path) */
    TC_EVT_RESULT,      /* text: the result.json line as logged */
    TC_EVT_SAVE,        /* text: the checkpoint's directory (absolute) */
    TC_EVT_CHECKPOINT,  /* text: its path (absolute); right after SAVE */
    TC_EVT_COMPLETE,    /* a running trial ended without error */
    TC_EVT_ERROR,       /* a running trial failed for good; text: the error */
    TC_EVT_RECOVER,     /* it failed and will be retried; text: the error */
    TC_EVT_STATUS,      /* status: the trial's new status (bookkeeping) */
    TC_EVT_KINDS
} tc_event_kind;

extern const char *const tc_event_kind_names[TC_EVT_KINDS];

typedef struct tc_event {
    tc_event_kind kind;
    long trial;          /* the trial's index */
    int status;          /* TC_EVT_STATUS: the tc_status it moved to */
    size_t text_off;     /* into the queue's arena; text_len 0: none */
    size_t text_len;
    json_t *snapshot;    /* owned; NULL but for ADD and START */
} tc_event;

typedef struct tc_events {
    tc_event *ev;
    long n, cap;
    tc_buf text;         /* the texts of ev, back to back, NUL after each */
} tc_events;

void tc_events_init(tc_events *q);
void tc_events_clear(tc_events *q);     /* drops every event, keeps the memory */
void tc_events_free(tc_events *q);
/* Bytes the queue holds in texts (what bounds a consumer's backlog). */
size_t tc_events_text_bytes(const tc_events *q);
/* The text of event e (borrowed, NUL-terminated), or NULL if it has none. */
const char *tc_event_text(const tc_events *q, const tc_event *e);
/* Appends an event; `text` (may be NULL) is copied, `snapshot` stolen even
 * on failure. Returns 0 / -1 (out of memory: err set). */
int tc_events_push_new(tc_events *q, tc_event_kind kind, long trial, int status,
                       const char *text, size_t len, json_t *snapshot, tc_error *err);
/* Moves every event of src to the end of dst (snapshots change owner);
 * src is left empty. Returns 0 / -1 (out of memory: both unchanged). */
int tc_events_move_to(tc_events *src, tc_events *dst, tc_error *err);

/* Turns recording on or off. Off drops what was not taken. Returns 0 / -1. */
int tc_runner_record_events(tc_runner *r, int on, tc_error *err);
/* The runner's queue (borrowed), or NULL when recording is off. */
tc_events *tc_runner_events(tc_runner *r);

#endif
