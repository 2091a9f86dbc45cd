/* runner_result.c — the driver's per-result hot path (spec §6.3): scan the
 * worker's text once, apply the stop rules, splice the result.json line,
 * write the CSV row, update the metric analysis; and the registration of the
 * checkpoints a worker saved (spec §2.5). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "runner_internal.h"
#include "sched.h"

/* ------------------------------------------------------------------------ */
/* results                                                                  */
/* ------------------------------------------------------------------------ */

json_t *tc_trial_last_result(tc_trial *t)
{
    if (!t->last_result && t->last_text) {
        t->last_result = tc_json_loads(t->last_text, t->last_text_len, NULL);
        if (t->last_result && !json_is_object(t->last_result)) {
            json_decref(t->last_result);
            t->last_result = NULL;
        }
    }
    return t->last_result;
}

/* One splice of the result text: replace [off, off+len) by text. */
typedef struct edit { size_t off, len; const char *text; size_t text_len; } edit;

static void add_edit(edit *e, int *n, size_t off, size_t len, const char *text)
{
    e[*n].off = off;
    e[*n].len = len;
    e[*n].text = text;
    e[*n].text_len = strlen(text);
    (*n)++;
}

/* Builds the result.json line (without "\n") into r->line from the worker's
 * text: the config placeholder replaced by the trial's config, `done` set to
 * the decision, trial_id/experiment_tag put in place (spec §2.2, §6.3). Keys
 * the worker did not send are added before the closing brace. */
static int build_line(tc_runner *r, tc_trial *t, const char *text, size_t len, int stop)
{
    const tc_scan *s = &r->scan;
    edit edits[6];
    int n = 0;
    const char *done_text = stop ? "true" : "false";
    size_t close = len;
    while (close > 0 && text[close - 1] != '}')
        close--;
    close--;   /* the closing brace */
    tc_buf *tail = &r->scratch;
    tc_buf_clear(tail);
    int empty = s->n == 0 && s->skip_off < 0;
    if (s->skip_off >= 0)
        add_edit(edits, &n, (size_t)s->skip_off, (size_t)s->skip_len, t->config_text);
    else if (tc_buf_printf(tail, "%s\"config\": %s", empty ? "" : ", ", t->config_text) < 0)
        return -1;
    else
        empty = 0;
    if (s->done_index >= 0) {
        const tc_field *f = &s->fields[s->done_index];
        add_edit(edits, &n, f->val_off, f->val_len, done_text);
    } else if (tc_buf_printf(tail, "%s\"done\": %s", empty ? "" : ", ", done_text) < 0) {
        return -1;
    } else {
        empty = 0;
    }
    /* trial_id / experiment_tag: the driver's values, in place if the user
     * sent those keys, else at the end. */
    long id = tc_scan_find(s, "trial_id", 8);
    if (id >= 0)
        add_edit(edits, &n, s->fields[id].val_off, s->fields[id].val_len, t->id_json);
    else if (tc_buf_printf(tail, "%s\"trial_id\": %s", empty ? "" : ", ", t->id_json) < 0)
        return -1;
    if (t->tag_json) {
        long tag = tc_scan_find(s, "experiment_tag", 14);
        if (tag >= 0)
            add_edit(edits, &n, s->fields[tag].val_off, s->fields[tag].val_len, t->tag_json);
        else if (tc_buf_printf(tail, ", \"experiment_tag\": %s", t->tag_json) < 0)
            return -1;
    }
    /* Apply the edits in text order, then the tail before the brace. */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && edits[j].off < edits[j - 1].off; j--) {
            edit tmp = edits[j];
            edits[j] = edits[j - 1];
            edits[j - 1] = tmp;
        }
    tc_buf *line = &r->line;
    tc_buf_clear(line);
    size_t pos = 0;
    for (int i = 0; i < n; i++) {
        if (tc_buf_append(line, text + pos, edits[i].off - pos) < 0 ||
            tc_buf_append(line, edits[i].text, edits[i].text_len) < 0)
            return -1;
        pos = edits[i].off + edits[i].len;
    }
    if (tc_buf_append(line, text + pos, close - pos) < 0 ||
        tc_buf_append(line, tail->data ? tail->data : "", tail->len) < 0 ||
        tc_buf_putc(line, '}') < 0)
        return -1;
    return 0;
}

/* Stop rules on the scanned result; the parsed tree is only built for the
 * rare cases the scan cannot answer (a missing key's message, a non-number),
 * so the messages stay those of stopper.c. */
static int check_stop_dict(tc_runner *r, const json_t *criteria, const char *text, size_t len,
                           int *stop, tc_error *err)
{
    const char *key;
    json_t *threshold;
    json_object_foreach((json_t *)criteria, key, threshold) {
        long i = tc_scan_find(&r->scan, key, strlen(key));
        double t;
        const tc_field *f = i >= 0 ? &r->scan.fields[i] : NULL;
        int exact = f && f->is_int && json_is_integer(threshold);
        long long whole = 0;
        if (exact) {   /* int against int: exact, as Python compares them */
            errno = 0;
            whole = strtoll(r->scan.text + f->val_off, NULL, 10);
            exact = errno == 0;
            if (exact && whole >= json_integer_value(threshold)) {
                *stop = 1;
                return 0;
            }
            if (exact)
                continue;
        }
        if (!f || (f->type != TC_F_NUMBER && f->type != TC_F_TRUE && f->type != TC_F_FALSE) ||
            !tc_json_number(threshold, &t) || (f->is_int && json_is_integer(threshold))) {
            json_t *result = tc_json_loads(text, len, err);
            if (!result)
                return -1;
            json_t *one = json_pack("{sO}", key, threshold);
            int rc = tc_stop_check(one, result, stop, err);
            json_decref(one);
            json_decref(result);
            if (rc < 0 || *stop)
                return rc;
            continue;
        }
        if (f->num >= t) {
            *stop = 1;
            return 0;
        }
    }
    return 0;
}

static int log_line(tc_runner *r, tc_trial *t, tc_error *err)
{
    /* r->line must not move: r->line_scan points into it. */
    if (t->json_sink &&
        (r->host.sink_write(r->host.ctx, t->json_sink, r->line.data, r->line.len, err) < 0 ||
         r->host.sink_write(r->host.ctx, t->json_sink, "\n", 1, err) < 0))
        return -1;
    if (t->csv_sink && t->csv) {
        tc_buf_clear(&r->scratch);
        if (tc_csv_row_scan(t->csv, &r->line_scan, &r->scratch, err) < 0)
            return -1;
        if (r->host.sink_write(r->host.ctx, t->csv_sink, r->scratch.data, r->scratch.len, err) < 0)
            return -1;
    }
    if (t->tb_sink && t->tb) {
        tc_buf_clear(&r->scratch);
        if (tc_tfevents_result((tc_tfevents *)t->tb, &r->line_scan, r->host.now(r->host.ctx),
                               &r->scratch, err) < 0 ||
            (r->scratch.len &&
             r->host.sink_write(r->host.ctx, t->tb_sink, r->scratch.data, r->scratch.len, err) < 0))
            return -1;
    }
    return 0;
}

void tc_runner_on_late_result(tc_runner *r, tc_trial *t)
{
    if (t->status != TC_RUNNING)
        t->ran_ahead = 1;
}

/* A stop rule or the result itself failed: the trial's error (a bad result
 * from its trainable), unless it was the driver running out of memory,
 * which is the run's error, not the trial's. */
static int rule_failed(tc_runner *r, tc_trial *t, const tc_error *rule_err, tc_error *err)
{
    if (rule_err->code == TC_ERR_NOMEM)
        return tc_error_set(err, TC_ERR_NOMEM, "%s", rule_err->text);
    return tc_runner_on_error(r, t, rule_err->text, err);
}

static int runner_on_result_impl(tc_runner *r, tc_trial *t, const char *text, size_t len,
                        tc_decision *decision, tc_error *err);

/* The journal events it wrote are checked once, at the end: a lost one
 * fails the call (runner.c tcp_journal). */
/* The action a decision asks of the attempt (0: none). */
static tc_action_kind action_of(tc_decision d)
{
    switch (d) {
    case TC_STOP: return TC_ACT_STOP;
    case TC_PAUSE: return TC_ACT_PAUSE;
    case TC_RESTART: return TC_ACT_RESTORE;   /* a PBT exploit: restarts from the donor's copy */
    case TC_SAVE: return TC_ACT_SAVE;
    default: return (tc_action_kind)0;
    }
}

int tc_runner_on_result(tc_runner *r, tc_trial *t, const char *text, size_t len,
                        tc_decision *decision, tc_error *err)
{
    /* The attempt's own decision is queued below, with its kind (a pause
     * saves first); what this result does to other trials is queued as it
     * happens. */
    tc_token token = t->token;
    r->deciding = token;
    int rc = runner_on_result_impl(r, t, text, len, decision, err);
    r->deciding = 0;
    tc_action_kind kind = action_of(*decision);
    if (rc == 0 && t->token == token && kind && tcp_action_push(r, t, kind, err) < 0)
        rc = -1;
    /* A host scheduler that stopped the trial itself (stop_trial) while
     * deciding CONTINUE: its worker stops all the same. */
    if (rc == 0 && t->token == token && t->status != TC_RUNNING &&
        tcp_action_push(r, t, TC_ACT_STOP, err) < 0)
        rc = -1;
    return tcp_journal_check(r, rc, err);
}

static int runner_on_result_impl(tc_runner *r, tc_trial *t, const char *text, size_t len,
                        tc_decision *decision, tc_error *err)
{
    tc_error rule_err;
    int stop = 0, stop_all = 0;
    *decision = TC_STOP;
    if (t->status != TC_RUNNING) {
        tc_runner_on_late_result(r, t);   /* the worker ran ahead of a stop decision */
        return 0;
    }
    if (r->stopping) {
        /* The experiment is being stopped (stop_all, fail_fast): a result
         * that raced with that decision is not processed, and its trial
         * stops with the others, as Ray stops every trial after the step. */
        *decision = tcp_sched_apply(r, t, TC_SCHED_STOP);
        return 0;
    }

    tc_error_init(&rule_err);
    if (tc_scan_result(&r->scan, text, len, "config", &rule_err) < 0)
        return rule_failed(r, t, &rule_err, err);
    const experiment *ex = &r->exps[t->experiment];
    if (r->scan.done_index >= 0)
        stop = tc_field_truthy(&r->scan, &r->scan.fields[r->scan.done_index]);
    if (!stop && ex->stop && check_stop_dict(r, ex->stop, text, len, &stop, &rule_err) < 0)
        return rule_failed(r, t, &rule_err, err);
    /* A scheduler's metric that is not a number fails the trial, as the
     * scheduler's arithmetic fails it in Ray. */
    if (tcp_sched_check_result(r, t, &rule_err) < 0)
        return rule_failed(r, t, &rule_err, err);
    if (build_line(r, t, text, len, 0) < 0)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    if (r->host.stopper) {
        /* A Python Stopper sees every result (Ray calls it before the stop
         * dict, whatever that decides) as the loggers will (done False). */
        int user_stop = 0;
        json_t *result = tc_json_loads(r->line.data, r->line.len, &rule_err);
        int rc = result ? r->host.stopper(r->host.ctx, t->index, result, &user_stop, &stop_all,
                                          &rule_err)
                        : -1;
        json_decref(result);
        stop = stop || user_stop;
        if (rc < 0) {
            if (rule_err.code == TC_ERR_CALLBACK)   /* a Python exception: not a trial error */
                return tc_error_set(err, rule_err.code, "%s", rule_err.text);
            return rule_failed(r, t, &rule_err, err);
        }
    }
    /* The scheduler (spec §8): told of a trial its stop rule ended, asked
     * about any other result. It reads the line as built so far (done
     * false), before it is logged, as Ray's scheduler sees flat_result. */
    int sched_decision = TC_SCHED_CONTINUE;
    if (stop ? tcp_sched_on_complete(r, t, r->line.data, r->line.len, err) < 0
             : tcp_sched_on_result(r, t, &sched_decision, err) < 0)
        return -1;
    if (sched_decision == TC_SCHED_STOP)
        stop = 1;
    /* `done` in files means "this result ended the trial" (spec §17.1). */
    if (stop && build_line(r, t, text, len, 1) < 0)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    if (tc_scan_result(&r->line_scan, r->line.data, r->line.len, "config", err) < 0 ||
        log_line(r, t, err) < 0 ||
        (tc_metrics_update_scan((tc_metrics *)t->metrics, &r->line_scan) < 0 &&
         tc_error_set(err, TC_ERR_NOMEM, "out of memory") < 0) ||
        tcp_search_on_result(r, t, r->line.data, r->line.len, err) < 0)
        return -1;
    /* Keep the line as the trial's last result; parse it only when asked. */
    char *keep = tc_realloc(t->last_text, r->line.len + 1);
    if (!keep)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    memcpy(keep, r->line.data, r->line.len + 1);
    t->last_text = keep;
    t->last_text_len = r->line.len;
    json_decref(t->last_result);
    t->last_result = NULL;
    t->last_update_time = r->host.now(r->host.ctx);
    t->n_results++;
    r->total_results++;
    long it = tc_scan_find(&r->line_scan, "training_iteration", 18);
    if (it >= 0 && r->line_scan.fields[it].type == TC_F_NUMBER)
        t->last_iteration = (long)r->line_scan.fields[it].num;
    tcp_event(r, t, TC_EVT_RESULT, t->last_text, t->last_text_len);
    /* Every way out of RUNNING goes through the scheduler's side, so a stop
     * also drops what a scheduler staged for this trial (a PBT clone). */
    *decision = tcp_sched_apply(r, t, stop || stop_all ? TC_SCHED_STOP : sched_decision);
    if (stop_all) {
        /* Ray's _stop_experiment_if_needed after this result: no trial
         * starts any more, and the running ones stop (the host stops their
         * workers; their results from now on are not processed). */
        tc_runner_stop_all(r);
    }
    return 0;
}

static void delete_checkpoint_dir(void *ctx, const char *dir)
{
    void **pair = ctx;
    tc_runner *r = pair[0];
    tc_trial *t = pair[1];
    if (!r->host.remove_tree || !t->logdir || strstr(dir, "..") || dir[0] == '/')
        return;   /* never anything outside the trial's directory */
    /* No allocation on the way (the retention rule cannot report one): a
     * path that fits PATH_MAX fits here. */
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", t->logdir, dir);
    if (n > 0 && (size_t)n < sizeof path)
        r->host.remove_tree(r->host.ctx, path);
}

static int runner_on_checkpoint_impl(tc_runner *r, tc_trial *t, const char *dir, const char *path,
                            long iteration, long run_reports, int transient, tc_error *err);

/* The journal events it wrote are checked once, at the end: a lost one
 * fails the call (runner.c tcp_journal). */
int tc_runner_on_checkpoint(tc_runner *r, tc_trial *t, const char *dir, const char *path,
                            long iteration, long run_reports, int transient, tc_error *err)
{
    return tcp_journal_check(r, runner_on_checkpoint_impl(r, t, dir, path, iteration, run_reports, transient, err), err);
}

static int runner_on_checkpoint_impl(tc_runner *r, tc_trial *t, const char *dir, const char *path,
                            long iteration, long run_reports, int transient, tc_error *err)
{
    const experiment *ex = &r->exps[t->experiment];
    /* A function runs ahead of the driver by a report or two: a checkpoint
     * after a result that was never logged (the trial had already been
     * stopped) would resume into missing rows, so it is not registered.
     * Its place among the rows comes from the run's report count, not from
     * training_iteration, which a function may report itself (from 0, in
     * steps of 10, ...). */
    long rows = run_reports >= 0 ? t->run_rows_base + run_reports : -1;
    if (rows >= 0 ? rows > t->n_results : iteration > t->last_iteration)
        return 0;
    if (t->save_wait_rows >= 0 && rows >= t->save_wait_rows)
        t->save_wait_rows = -1;   /* the checkpoint PBT asked for (runner_sched.c) */
    if (!t->logdir || !dir || !path || dir[0] == '/' || strstr(dir, ".."))
        return tc_error_set(err, TC_ERR_VALUE, "trial %s: bad checkpoint location %s",
                            t->trial_id, dir ? dir : "(none)");
    /* Score: the checkpoint_score_attr of the result it follows (§2.5). */
    const char *attr = ex->opts.checkpoint_score_attr ? ex->opts.checkpoint_score_attr
                                                      : "training_iteration";
    int negate = strncmp(attr, "min-", 4) == 0;
    if (negate)
        attr += 4;
    int has_score = 0;
    double score = 0;
    size_t cold_len = 0;
    char *cold = t->cold_stored ? tcp_trial_cold_text(r, t, &cold_len) : NULL;  /* ended */
    const char *last = cold ? cold : t->last_text;
    size_t last_len = cold ? cold_len : t->last_text_len;
    if (last && tc_scan_result(&r->scan, last, last_len, "config", NULL) == 0) {
        long i = tc_scan_find(&r->scan, attr, strlen(attr));
        if (i >= 0 && r->scan.fields[i].type == TC_F_NUMBER) {
            score = negate ? -r->scan.fields[i].num : r->scan.fields[i].num;
            has_score = score == score;
        }
    }
    tc_free(cold);
    void *pair[2] = {r, t};
    if (tc_ckpts_add(&t->ckpts, dir, path, iteration, rows, has_score, score,
                     ex->opts.keep_checkpoints_num, delete_checkpoint_dir, pair, err) < 0)
        return -1;
    /* A checkpoint saved only because a scheduler asked (a pause, PBT's
     * exploit source) is Ray's in-memory one: it lives while it is the
     * newest. */
    if (t->transient_dir && strcmp(t->transient_dir, dir) != 0 &&
        tc_ckpts_remove(&t->ckpts, t->transient_dir))
        delete_checkpoint_dir(pair, t->transient_dir);
    tc_free(t->transient_dir);
    t->transient_dir = transient ? tcp_xstrdup(dir) : NULL;
    /* The copy of the checkpoint this run restored from is needed only
     * while that checkpoint is the newest and may still be rewritten: a
     * save of that same directory has now ended. */
    if (t->source_copy_dir) {
        const tc_ckpt *newest = tc_ckpts_newest(&t->ckpts);
        if (strcmp(t->source_copy_dir, dir) == 0 || !newest ||
            strcmp(newest->dir, t->source_copy_dir) != 0)
            tcp_pbt_forget_restore_source(r, t);
    }
    tcp_journal(r, json_pack("{s:s,s:s,s:o}", "event", "checkpoint", "trial_id", t->trial_id,
                         "checkpoints", tc_ckpts_to_json(&t->ckpts)));
    tcp_event_checkpoint(r, t, dir, path);
    return 0;
}

void tc_trial_restore_source(const tc_runner *r, const tc_trial *t, const char **rel,
                             const char **abs, long *iteration)
{
    const tc_ckpt *k = tc_ckpts_newest(&t->ckpts);
    *rel = k ? k->path : NULL;
    *abs = !k ? r->exps[t->experiment].opts.restore_path : NULL;
    *iteration = k ? k->iteration : -1;
}
