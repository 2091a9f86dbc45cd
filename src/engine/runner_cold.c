/* runner_cold.c — a finished trial kept compactly (issue 12: 100,000 trials
 * in one driver). Once a trial is TERMINATED or ERROR for good its logging
 * state (TensorBoard writer, CSV columns) is never used again, its last
 * result is only read by snapshots, and its metric analysis no longer
 * changes: the writers are freed, the result stays as its text only and the
 * analysis becomes JSON text. Snapshots parse them back when asked
 * (tcp_trial_metrics_json, tc_trial_last_result). The runner calls
 * tcp_trial_compact after every change to a final status. */
#include <stdlib.h>
#include <string.h>
#include "runner_internal.h"

static void store(tc_runner *r, tc_trial *t, tc_buf *sorted);

static int is_final(tc_status s)
{
    return s == TC_TERMINATED || s == TC_ERROR;
}

/* b's text in an allocation of its size (a tc_buf starts at 256 bytes and
 * doubles: most of it would be slack, kept for the life of the run). Takes
 * the buffer. */
char *tcp_fit_text(tc_buf *b)
{
    if (!b->data)
        return NULL;
    char *p = tc_realloc(b->data, b->len + 1);
    return p ? p : b->data;
}
#define fit tcp_fit_text

void tcp_trial_compact(tc_runner *r, tc_trial *t)
{
    (void)r;
    if (!is_final(t->status) || t->json_sink || t->csv_sink || t->tb_sink)
        return;
    /* A final status never goes back to PENDING or PAUSED in this runner;
     * a resume builds fresh trials. */
    tc_tfevents_free((tc_tfevents *)t->tb);
    t->tb = NULL;
    if (t->csv) {
        tc_csv_free(t->csv);
        t->csv = NULL;
    }
    /* the texts spliced into its results (cache_texts rebuilds them at a
     * start, which a finished trial has no more of) */
    tc_free(t->config_text);
    tc_free(t->id_json);
    tc_free(t->tag_json);
    t->config_text = t->id_json = t->tag_json = NULL;
    /* sorted[0], sorted[1]: the last result and the metric analysis as the
     * state file prints them, made now from the trees at hand, so that a
     * snapshot copies them instead of parsing both texts back and dumping
     * them again (tcp_state_entry_cold). Only the first compaction has the
     * trees; a later one (a searcher's end delivered) stores none. */
    tc_buf sorted[2];
    tc_buf_init(&sorted[0]);
    tc_buf_init(&sorted[1]);
    int with_sorted = t->metrics && t->last_result && !t->cold_stored &&
                      tc_json_dump(t->last_result, &sorted[0], TC_DUMP_INDENT2_SORTED) == 0;
    if (t->metrics) {
        json_t *m = tc_metrics_to_json((const tc_metrics *)t->metrics);
        tc_buf b;
        tc_buf_init(&b);
        if (m && tc_json_dump(m, &b, TC_DUMP_COMPACT) == 0 && b.data) {
            tc_free(t->cold_metrics);
            t->cold_metrics = fit(&b);
            tc_metrics_free((tc_metrics *)t->metrics);
            t->metrics = NULL;
            with_sorted = with_sorted &&
                          tc_json_dump(m, &sorted[1], TC_DUMP_INDENT2_SORTED) == 0;
        } else {
            tc_buf_free(&b);              /* out of memory: keep the struct */
            with_sorted = 0;
        }
        json_decref(m);
    }
    tcp_trial_drop_result_tree(t);
    store(r, t, with_sorted && sorted[0].data && sorted[1].data ? sorted : NULL);
    tc_buf_free(&sorted[0]);
    tc_buf_free(&sorted[1]);
}

/* The texts go to the host's cold store, when it has one: last result then
 * metric analysis, one record; then, when given, the two as the state file
 * prints them (sorted[0], sorted[1]). */
static void store(tc_runner *r, tc_trial *t, tc_buf *sorted)
{
    /* A searcher still to hear of its end reads the text (runner_search.c
     * compacts it again once it has). */
    if (!r->host.cold_put || t->cold_stored || !t->last_text || !t->cold_metrics ||
        t->last_result || t->search_end_pending)
        return;
    size_t mlen = strlen(t->cold_metrics);
    size_t n = t->last_text_len + mlen;
    size_t s0 = sorted ? sorted[0].len : 0, s1 = sorted ? sorted[1].len : 0;
    char *all = tc_malloc(n + s0 + s1 + 1);
    if (!all)
        return;
    memcpy(all, t->last_text, t->last_text_len);
    memcpy(all + t->last_text_len, t->cold_metrics, mlen);
    if (sorted) {
        memcpy(all + n, sorted[0].data, s0);
        memcpy(all + n + s0, sorted[1].data, s1);
    }
    all[n + s0 + s1] = '\0';
    long long pos = r->host.cold_put(r->host.ctx, all, n + s0 + s1);
    tc_free(all);
    if (pos < 0)
        return;
    t->cold_stored = 1;
    t->cold_pos = pos;
    t->cold_metrics_len = mlen;
    t->cold_sorted_len[0] = s0;
    t->cold_sorted_len[1] = s1;
    tc_free(t->last_text);
    tc_free(t->cold_metrics);
    t->last_text = t->cold_metrics = NULL;
}

/* part 0: the last result, 1: the metric analysis; malloc'd, or NULL. */
static char *fetch(const tc_runner *r, const tc_trial *t, int part)
{
    if (!t->cold_stored || !r->host.cold_get)
        return NULL;
    return part == 0 ? r->host.cold_get(r->host.ctx, t->cold_pos, t->last_text_len)
                     : r->host.cold_get(r->host.ctx, t->cold_pos + (long long)t->last_text_len,
                                        t->cold_metrics_len);
}

char *tcp_trial_cold_text(const tc_runner *r, const tc_trial *t, size_t *len)
{
    *len = t->last_text_len;
    return fetch(r, t, 0);
}

char *tcp_trial_cold_sorted(const tc_runner *r, const tc_trial *t, size_t *len0,
                            size_t *len1)
{
    if (!t->cold_stored || !r->host.cold_get || !t->cold_sorted_len[0] ||
        !t->cold_sorted_len[1])
        return NULL;
    *len0 = t->cold_sorted_len[0];
    *len1 = t->cold_sorted_len[1];
    return r->host.cold_get(r->host.ctx,
                            t->cold_pos + (long long)(t->last_text_len + t->cold_metrics_len),
                            *len0 + *len1);
}

void tcp_trial_drop_result_tree(tc_trial *t)
{
    if (!is_final(t->status) || !t->last_result)
        return;
    if (t->cold_stored) {
        json_decref(t->last_result);   /* the text is in the cold store */
        t->last_result = NULL;
        return;
    }
    if (!t->last_text) {
        /* on_complete's done=True lives only in the tree: keep it as text */
        tc_buf b;
        tc_buf_init(&b);
        if (tc_json_dump(t->last_result, &b, TC_DUMP_COMPACT) < 0 || !b.data) {
            tc_buf_free(&b);
            return;
        }
        t->last_text_len = b.len;
        t->last_text = fit(&b);
    }
    json_decref(t->last_result);
    t->last_result = NULL;
}

json_t *tcp_trial_metrics_json(const tc_runner *r, const tc_trial *t)
{
    if (t->metrics)
        return tc_metrics_to_json((const tc_metrics *)t->metrics);
    json_t *m = NULL;
    if (t->cold_metrics) {
        m = tc_json_loads(t->cold_metrics, strlen(t->cold_metrics), NULL);
    } else {
        char *text = fetch(r, t, 1);
        m = text ? tc_json_loads(text, t->cold_metrics_len, NULL) : NULL;
        tc_free(text);
    }
    return m ? m : json_object();
}

int tcp_trial_final_fields(const tc_runner *r, const tc_trial *t, tc_buf *out)
{
    /* from memory, or from the cold store; a text the store cannot give
     * back is left out (the resume reads that trial's files instead) */
    char *result = NULL, *metrics = NULL;
    if (t->cold_stored && !t->last_text && !t->cold_metrics && !t->metrics &&
        r->host.cold_get) {
        /* both from the store in one read: they are one record */
        result = r->host.cold_get(r->host.ctx, t->cold_pos,
                                  t->last_text_len + t->cold_metrics_len);
        if (result && !(metrics = tc_strndup(result + t->last_text_len, t->cold_metrics_len))) {
            tc_free(result);
            result = NULL;
        }
    } else {
        result = t->last_text ? NULL : fetch(r, t, 0);
        metrics = t->cold_metrics || t->metrics ? NULL : fetch(r, t, 1);
    }
    const char *result_text = t->last_text ? t->last_text : result;
    const char *metrics_text = t->cold_metrics ? t->cold_metrics : metrics;
    json_t *live = NULL, *update = NULL;
    int rc = 0;
    if (!result_text || !t->last_text_len || (!metrics_text && !t->metrics))
        goto done;
    if (!metrics_text && !(live = tc_metrics_to_json((const tc_metrics *)t->metrics))) {
        rc = -1;
        goto done;
    }
    if (!(update = tc_json_real(t->last_update_time)) ||
        tc_buf_puts(out, ", \"last_result\": ") < 0 ||
        tc_buf_append(out, result_text, t->last_text_len) < 0 ||
        tc_buf_puts(out, ", \"metric_analysis\": ") < 0 ||
        (metrics_text ? tc_buf_puts(out, metrics_text) : tc_json_dump(live, out,
                                                                     TC_DUMP_COMPACT)) < 0 ||
        tc_buf_printf(out, ", \"n_results\": %ld, \"last_update_time\": ", t->n_results) < 0 ||
        tc_json_dump(update, out, TC_DUMP_COMPACT) < 0)
        rc = -1;
done:
    json_decref(live);
    json_decref(update);
    tc_free(result);
    tc_free(metrics);
    return rc;
}

int tc_trial_set_hostname(tc_trial *t, const char *hostname)
{
    if (!hostname)
        hostname = "";
    if (t->hostname && strcmp(t->hostname, hostname) == 0)
        return 0;   /* the usual case: the same host every start */
    char *copy = tcp_xstrdup(hostname);
    if (!copy)
        return -1;  /* out of memory: the old name stays */
    tc_free(t->hostname);
    t->hostname = copy;
    return 0;
}
