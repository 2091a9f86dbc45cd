/* runner_events.c — the runner's event record (runner_events.h).
 *
 * The runner calls tcp_event_* at the few points where a trial's life moves
 * on; each is a no-op unless recording is on. What the host does with the
 * queue (hand it to Python callbacks in batches) is not the engine's
 * business. An event that cannot be recorded for lack of memory is counted
 * and dropped: a callback missing an event must not fail the trials. */
#include <stdlib.h>
#include <string.h>
#include "runner_internal.h"
#include "runner_events.h"

const char *const tc_event_kind_names[TC_EVT_KINDS] = {
    "add", "start", "restore", "result", "save", "checkpoint", "complete", "error", "recover",
    "status",
};

void tc_events_init(tc_events *q)
{
    memset(q, 0, sizeof *q);
    tc_buf_init(&q->text);
}

void tc_events_clear(tc_events *q)
{
    for (long i = 0; i < q->n; i++)
        json_decref(q->ev[i].snapshot);
    q->n = 0;
    tc_buf_clear(&q->text);
}

void tc_events_free(tc_events *q)
{
    tc_events_clear(q);
    tc_free(q->ev);
    tc_buf_free(&q->text);
    memset(q, 0, sizeof *q);
}

size_t tc_events_text_bytes(const tc_events *q)
{
    return q->text.len;
}

const char *tc_event_text(const tc_events *q, const tc_event *e)
{
    return e->text_len ? q->text.data + e->text_off : NULL;
}

static int reserve(tc_events *q, long more, tc_error *err)
{
    if (q->n + more <= q->cap)
        return 0;
    long cap = q->cap ? q->cap : 256;
    while (cap < q->n + more)
        cap *= 2;
    tc_event *grown = tc_realloc(q->ev, (size_t)cap * sizeof *grown);
    if (!grown)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    q->ev = grown;
    q->cap = cap;
    return 0;
}

/* stolen: snapshot */
int tc_events_push_new(tc_events *q, tc_event_kind kind, long trial, int status,
                       const char *text, size_t len, json_t *snapshot, tc_error *err)
{
    if (reserve(q, 1, err) < 0)
        goto fail;
    size_t off = q->text.len;
    if (text && len && (tc_buf_append(&q->text, text, len) < 0 ||
                        tc_buf_putc(&q->text, '\0') < 0)) {
        q->text.len = off;
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        goto fail;
    }
    tc_event *e = &q->ev[q->n++];
    e->kind = kind;
    e->trial = trial;
    e->status = status;
    e->text_off = off;
    e->text_len = text ? len : 0;
    e->snapshot = snapshot;
    return 0;
fail:
    json_decref(snapshot);
    return -1;
}

int tc_events_move_to(tc_events *src, tc_events *dst, tc_error *err)
{
    if (src->n == 0)
        return 0;
    if (dst->n == 0 && dst->text.len == 0) {
        /* The common case: the consumer took everything; swap, no copy. */
        tc_events tmp = *dst;
        *dst = *src;
        *src = tmp;
        return 0;
    }
    size_t base = dst->text.len;
    if (reserve(dst, src->n, err) < 0 || tc_buf_reserve(&dst->text, src->text.len) < 0)
        return err && err->code ? -1 : tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    if (src->text.len)
        tc_buf_append(&dst->text, src->text.data, src->text.len);   /* reserved above */
    for (long i = 0; i < src->n; i++) {
        tc_event e = src->ev[i];
        e.text_off += base;
        dst->ev[dst->n++] = e;
        src->ev[i].snapshot = NULL;   /* now dst's */
    }
    tc_events_clear(src);
    return 0;
}

int tc_runner_record_events(tc_runner *r, int on, tc_error *err)
{
    if (on && !r->events) {
        r->events = tc_malloc(sizeof *r->events);
        if (!r->events)
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        tc_events_init(r->events);
    } else if (!on && r->events) {
        tc_events_free(r->events);
        tc_free(r->events);
        r->events = NULL;
    }
    return 0;
}

tc_events *tc_runner_events(tc_runner *r)
{
    return r->events;
}

/* ---- the runner's hooks (runner_internal.h) ----------------------------- */

static void push(tc_runner *r, tc_event_kind kind, const tc_trial *t, int status,
                 const char *text, size_t len, json_t *snapshot)
{
    if (tc_events_push_new(r->events, kind, t->index, status, text, len, snapshot, NULL) < 0)
        r->events_dropped++;
}

void tcp_event(tc_runner *r, tc_trial *t, tc_event_kind kind, const char *text, size_t len)
{
    if (!r->events)
        return;
    json_t *snapshot = NULL;
    if (kind == TC_EVT_ADD || kind == TC_EVT_START) {
        snapshot = tc_trial_snapshot(r, t);
        if (!snapshot) {
            r->events_dropped++;
            return;
        }
    }
    push(r, kind, t, 0, text, len, snapshot);
}

void tcp_event_status(tc_runner *r, tc_trial *t, int status)
{
    if (r->events)
        push(r, TC_EVT_STATUS, t, status, NULL, 0, NULL);
}

void tcp_event_checkpoint(tc_runner *r, tc_trial *t, const char *dir, const char *path)
{
    if (!r->events || !t->logdir)
        return;
    char *abs_dir = tcp_join_path(t->logdir, dir);
    char *abs_path = tcp_join_path(t->logdir, path);
    if (!abs_dir || !abs_path) {
        r->events_dropped++;
    } else {
        /* Ray calls on_trial_save once the save is processed (the
         * directory), then on_checkpoint with what was saved (the path). */
        push(r, TC_EVT_SAVE, t, 0, abs_dir, strlen(abs_dir), NULL);
        push(r, TC_EVT_CHECKPOINT, t, 0, abs_path, strlen(abs_path), NULL);
    }
    tc_free(abs_dir);
    tc_free(abs_path);
}
