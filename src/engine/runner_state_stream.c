/* runner_state_stream.c — experiment_state-<session>.json written one trial
 * at a time (issue 12). The whole state of 100,000 trials is ~400 MB of
 * text and several times that as a JSON tree; streamed, the driver holds
 * one trial's entry at a time. The bytes are those tc_runner_state dumped
 * with TC_DUMP_INDENT2_SORTED: the state without its trials is dumped once,
 * and each entry, dumped alone, is indented to its place in the
 * "checkpoints" list ("checkpoints" sorts first among the state's keys). */
#include <stdlib.h>
#include <string.h>
#include "runner_internal.h"

#define CHUNK (1u << 20)   /* bytes handed to the host per call */

typedef struct state_gen {
    tc_runner *r;
    const char *head, *tail;   /* the dumped state around the empty list */
    size_t head_len;
    int phase;                 /* 0 head, 1 trials, 2 records, 3 tail, 4 done */
    long next;                 /* next trial index */
    size_t rec_pos;            /* next resume record (tc_state_next) */
    long emitted;              /* list entries written so far */
    tc_buf entry;              /* one entry's text */
} state_gen;

/* Appends entry v at list depth: ",\n    " before all but the first, and
 * every line break of its own dump indented four more spaces. */
static int put_entry(state_gen *g, const json_t *v, tc_buf *out)
{
    tc_buf_clear(&g->entry);
    if (tc_json_dump(v, &g->entry, TC_DUMP_INDENT2_SORTED) < 0)
        return -1;
    if (tc_buf_puts(out, g->emitted++ ? ",\n    " : "\n    ") < 0)
        return -1;
    const char *p = g->entry.data, *end = p + g->entry.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (tc_buf_append(out, p, n) < 0 || (nl && tc_buf_puts(out, "\n    ") < 0))
            return -1;
        p += n + (nl != NULL);
    }
    return 0;
}

static int next_piece(void *gp, tc_buf *out, tc_error *err)
{
    state_gen *g = gp;
    tc_runner *r = g->r;
    while (out->len < CHUNK) {
        if (g->phase == 0) {
            if (tc_buf_append(out, g->head, g->head_len) < 0 || tc_buf_putc(out, '[') < 0)
                goto nomem;
            g->phase = 1;
        } else if (g->phase == 1) {
            if (g->next >= r->ntrials) {
                g->phase = 2;
                g->rec_pos = 0;
                continue;
            }
            json_t *snap = tcp_state_entry(r, r->trials[g->next++]);
            int rc = snap ? put_entry(g, snap, out) : -1;
            json_decref(snap);
            if (rc < 0)
                goto nomem;
        } else if (g->phase == 2) {
            const char *id;
            tc_error e;
            tc_error_init(&e);
            json_t *rec = tc_state_next(r->state, &g->rec_pos, &id, &e);
            if (!rec && e.code != TC_OK)
                return tc_error_set(err, e.code, "%s", e.text);
            if (!rec) {
                g->phase = 3;
                continue;
            }
            int rc = put_entry(g, rec, out);
            json_decref(rec);
            if (rc < 0)
                goto nomem;
        } else if (g->phase == 3) {
            if (tc_buf_puts(out, g->emitted ? "\n  ]" : "]") < 0 || tc_buf_puts(out, g->tail) < 0)
                goto nomem;
            g->phase = 4;
        } else {
            return 0;
        }
    }
    return 1;
nomem:
    return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
}

static const char LIST_KEY[] = "\"checkpoints\": []";

int tcp_write_state_streamed(tc_runner *r, double start_time, tc_error *err)
{
    json_t *state = tcp_runner_state(r, start_time, 0);
    tc_buf head;
    tc_buf_init(&head);
    int rc = 0;
    const char *at = NULL;
    if (!state || tc_json_dump(state, &head, TC_DUMP_INDENT2_SORTED) < 0 ||
        !(at = strstr(head.data, LIST_KEY)))
        rc = tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    json_decref(state);
    for (int e = 0; e < r->nexps && rc == 0; e++) {
        int seen = 0;   /* several experiments may share one directory */
        for (int p = 0; p < e; p++)
            seen |= strcmp(r->exps[p].opts.exp_dir, r->exps[e].opts.exp_dir) == 0;
        if (seen)
            continue;
        state_gen g;
        memset(&g, 0, sizeof g);
        g.r = r;
        g.head = head.data;
        g.head_len = (size_t)(at - head.data) + sizeof LIST_KEY - 3;   /* up to the "[" */
        g.tail = at + sizeof LIST_KEY - 1;
        tc_buf_init(&g.entry);
        tc_buf name;
        tc_buf_init(&name);
        tc_buf_printf(&name, "%s/experiment_state-%s.json", r->exps[e].opts.exp_dir,
                      r->session_str);
        rc = name.data ? r->host.write_atomic_stream(r->host.ctx, name.data, next_piece, &g, 1,
                                                     err)
                       : tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        tc_buf_free(&name);
        tc_buf_free(&g.entry);
    }
    tc_buf_free(&head);
    return rc;
}
