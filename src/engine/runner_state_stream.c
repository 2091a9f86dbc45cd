/* runner_state_stream.c — experiment_state-<session>.json written one trial
 * at a time (issue 12). The whole state of 100,000 trials is ~400 MB of
 * text and several times that as a JSON tree; streamed, the driver holds
 * one trial's entry at a time. The bytes are those tc_runner_state dumped
 * with TC_DUMP_INDENT2_SORTED: the state without its trials is dumped once,
 * and each entry, dumped alone, is indented to its place in the
 * "checkpoints" list ("checkpoints" sorts first among the state's keys). */
#include <stdio.h>
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
    tc_buf marks[2];           /* the marked keys' lines as an entry's dump has them */
    size_t mark_prefix[2];     /* the bytes of each before its value */
} state_gen;

/* text[0..n) with every line break followed by `indent` more spaces. */
static int put_indented(tc_buf *out, const char *p, size_t n, const char *indent)
{
    const char *end = p + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t k = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (tc_buf_append(out, p, k) < 0 || (nl && (tc_buf_putc(out, '\n') < 0 ||
                                                     tc_buf_puts(out, indent) < 0)))
            return -1;
        p += k + (nl != NULL);
    }
    return 0;
}

/* "\n  \"<key>\": <the marker string, dumped>": how a marked key's line
 * starts in an entry's dump. Its indent is depth 1's: a config holding the
 * same key and string is deeper, so it cannot be taken for it. */
static int mark_line(tc_buf *b, size_t *prefix, const char *key)
{
    char text[64];
    snprintf(text, sizeof text, "%s%s", TCP_COLD_MARK, key);
    json_t *mark = json_string(text);
    int rc = mark && tc_buf_printf(b, "\n  \"%s\": ", key) == 0 ? 0 : -1;
    *prefix = b->len;
    if (rc == 0 && (tc_json_dump(mark, b, TC_DUMP_COMPACT) < 0 || b->failed))
        rc = -1;
    json_decref(mark);
    return rc;
}

/* Appends entry v at list depth: ",\n    " before all but the first, and
 * every line break of its own dump indented four more spaces. With sorted
 * (tcp_state_entry_cold), the last_result and metric_analysis markers are
 * replaced by the texts it holds, indented to their depth: the bytes are
 * those of the entry dumped with the values themselves. */
static int put_entry(state_gen *g, const json_t *v, const char *sorted, size_t len0,
                     size_t len1, tc_buf *out)
{
    tc_buf_clear(&g->entry);
    if (tc_json_dump(v, &g->entry, TC_DUMP_INDENT2_SORTED) < 0)
        return -1;
    if (tc_buf_puts(out, g->emitted++ ? ",\n    " : "\n    ") < 0)
        return -1;
    const char *p = g->entry.data, *end = p + g->entry.len;
    if (sorted) {
        /* "last_result" sorts before "metric_analysis": the texts in order */
        const char *texts[2] = {sorted, sorted + len0};
        size_t lens[2] = {len0, len1};
        for (int k = 0; k < 2; k++) {
            const tc_buf *m = &g->marks[k];
            const char *at = memmem(p, (size_t)(end - p), m->data, m->len);
            if (!at)
                return -1;
            /* up to the value (its key's line included), then the value */
            size_t upto = (size_t)(at - p) + g->mark_prefix[k];
            if (put_indented(out, p, upto, "    ") < 0 ||
                put_indented(out, texts[k], lens[k], "      ") < 0)
                return -1;
            p = at + m->len;
        }
    }
    return put_indented(out, p, (size_t)(end - p), "    ");
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
            char *sorted = NULL;
            size_t len0 = 0, len1 = 0;
            json_t *snap = tcp_state_entry_cold(r, r->trials[g->next++], &sorted, &len0, &len1);
            int rc = snap ? put_entry(g, snap, sorted, len0, len1, out) : -1;
            json_decref(snap);
            tc_free(sorted);
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
            int rc = put_entry(g, rec, NULL, 0, 0, out);
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
        tc_buf_init(&g.marks[0]);
        tc_buf_init(&g.marks[1]);
        if (mark_line(&g.marks[0], &g.mark_prefix[0], "last_result") < 0 ||
            mark_line(&g.marks[1], &g.mark_prefix[1], "metric_analysis") < 0)
            rc = tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        tc_buf name;
        tc_buf_init(&name);
        tc_buf_printf(&name, "%s/experiment_state-%s.json", r->exps[e].opts.exp_dir,
                      r->session_str);
        if (rc == 0)
            rc = name.data ? r->host.write_atomic_stream(r->host.ctx, name.data, next_piece, &g,
                                                         1, err)
                           : tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        tc_buf_free(&name);
        tc_buf_free(&g.entry);
        tc_buf_free(&g.marks[0]);
        tc_buf_free(&g.marks[1]);
    }
    tc_buf_free(&head);
    return rc;
}
