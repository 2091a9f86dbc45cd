/* runner_pbt.c — what Population Based Training does to trials beyond its
 * decisions (spec §8.5): the clone of a donor's checkpoint into a bottom
 * trial (staged when decided, put in place when the trial's worker is
 * released), the log_config files, and PopulationBasedTrainingReplay's
 * reconfigurations. The decisions themselves are sched_pbt.c's; the events
 * reach here through runner_sched.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "runner_sched_internal.h"

static int nomem(tc_error *err)
{
    return tc_error_set(err, TC_ERR_NOMEM, "out of memory in the PBT scheduler");
}

static int append_file(tc_runner *r, const char *dir, const char *name, const char *line,
                       tc_error *err)
{
    char *path = tcp_join_path(dir, name);
    int existed = 0, rc = -1;
    tc_sink *sink = path ? r->host.open_sink(r->host.ctx, path, &existed, err) : NULL;
    if (sink) {
        rc = r->host.sink_write(r->host.ctx, sink, line, strlen(line), err) < 0 ||
                     r->host.sink_write(r->host.ctx, sink, "\n", 1, err) < 0
                 ? -1
                 : 0;
        r->host.sink_close(r->host.ctx, sink);
    }
    tc_free(path);
    return path ? rc : nomem(err);
}

/* The log_config files (spec §8.5): the recipient's policy file starts as a
 * copy of the donor's, then both files get the line. */
static int log_clone(tc_runner *r, tc_trial *t, const tc_trial *donor, const char *line,
                     tc_error *err)
{
    const char *exp_dir = r->exps[t->experiment].opts.exp_dir;
    char name[64], donor_name[64];
    snprintf(name, sizeof name, "pbt_policy_%s.txt", t->trial_id);
    snprintf(donor_name, sizeof donor_name, "pbt_policy_%s.txt", donor->trial_id);
    if (append_file(r, exp_dir, "pbt_global.txt", line, err) < 0)
        return -1;
    if (r->host.copy_path) {
        char *src = tcp_join_path(r->exps[donor->experiment].opts.exp_dir, donor_name);
        char *dst = tcp_join_path(exp_dir, name);
        int rc = src && dst ? r->host.copy_path(r->host.ctx, src, dst, err) : nomem(err);
        tc_free(src);
        tc_free(dst);
        if (rc < 0)
            return -1;
    }
    return append_file(r, exp_dir, name, line, err);
}

/* Deletes t's checkpoints (directories and records) except the one in
 * `keep` (a relative dir, or NULL). */
static void delete_own_checkpoints(tc_runner *r, tc_trial *t, const char *keep)
{
    tc_ckpts kept;
    tc_ckpts_init(&kept);
    for (size_t i = 0; i < t->ckpts.n; i++) {
        const tc_ckpt *k = &t->ckpts.list[i];
        if (keep && strcmp(k->dir, keep) == 0) {
            tc_ckpts_add(&kept, k->dir, k->path, k->iteration, k->rows, k->has_score, k->score,
                         0, NULL, NULL, NULL);
            continue;
        }
        if (!r->host.remove_tree || !t->logdir || k->dir[0] == '/' || strstr(k->dir, ".."))
            continue;
        char *path = tcp_join_path(t->logdir, k->dir);
        if (path)
            r->host.remove_tree(r->host.ctx, path);
        tc_free(path);
    }
    tc_ckpts_clear(&t->ckpts);
    t->ckpts = kept;
}

/* Where a clone's checkpoint waits (in the trial's logdir) until the
 * trial's worker has stopped: a function trainable runs ahead of the
 * driver and may still be writing its own checkpoint directories. */
#define CLONE_STAGE ".pbt_clone"

/* Where a restarting trial's restore source is copied (in its logdir). A
 * function trainable restored from checkpoint_<n> may save checkpoint_<n>
 * again (Ray 0.8.7's pbt_function example does), rewriting in place the
 * very directory a clone of it would copy; Ray never sees this, as it
 * clones from a copy held in memory since the save. */
#define SOURCE_COPY ".pbt_restore_source"

int tcp_pbt_copy_restore_source(tc_runner *r, tc_trial *t, const tc_ckpt *k, tc_error *err)
{
    tcp_pbt_forget_restore_source(r, t);
    if (!r->sched || r->sched->kind != K_PBT || !r->host.copy_path || !t->logdir)
        return 0;
    char *src = tcp_join_path(t->logdir, k->dir);
    char *dst = tcp_join_path(t->logdir, SOURCE_COPY);
    char *dir = tcp_xstrdup(k->dir);
    int rc = src && dst && dir ? r->host.copy_path(r->host.ctx, src, dst, err) : nomem(err);
    tc_free(src);
    tc_free(dst);
    if (rc > 0) {
        t->source_copy_dir = dir;
        return 0;
    }
    tc_free(dir);
    return rc < 0 ? -1 : 0;   /* 0: the checkpoint is gone; the restore will say so */
}

void tcp_pbt_forget_restore_source(tc_runner *r, tc_trial *t)
{
    if (!t->source_copy_dir)
        return;
    char *path = t->logdir ? tcp_join_path(t->logdir, SOURCE_COPY) : NULL;
    if (path && r->host.remove_tree)
        r->host.remove_tree(r->host.ctx, path);
    tc_free(path);
    tc_free(t->source_copy_dir);
    t->source_copy_dir = NULL;
}

/* PBT exploit (spec §8.5): t restarts from a copy of the donor's newest
 * checkpoint with the new config and tag (stolen from step). The copy is
 * taken now (the donor may replace that checkpoint soon; one it restored
 * from and may be rewriting is read from its copy) into a staging
 * directory and put in place by finish_clone once t's worker is released.
 * A donor whose checkpoint has not reached the driver yet (or a function
 * trainable that never saved one) is skipped, as Ray skips a donor without
 * one. The new config is journaled now, the copied checkpoint only once in
 * place: a driver killed in between resumes the trial from its own newest
 * checkpoint with the new config — never from a missing directory. */
int tcp_pbt_clone_into(tc_runner *r, tc_trial *t, tc_trial *donor, tc_pbt_step *step,
                       tc_error *err)
{
    const tc_ckpt *k = tc_ckpts_newest(&donor->ckpts);
    if (!k || !donor->logdir || !t->logdir || !r->host.copy_path)
        return 0;
    int from_copy = donor->source_copy_dir && strcmp(donor->source_copy_dir, k->dir) == 0;
    char *src = tcp_join_path(donor->logdir, from_copy ? SOURCE_COPY : k->dir);
    char *stage = tcp_join_path(t->logdir, CLONE_STAGE);
    tc_free(t->clone_dir);
    tc_free(t->clone_path);
    t->clone_dir = tcp_xstrdup(k->dir);
    t->clone_path = tcp_xstrdup(k->path);
    t->clone_iteration = k->iteration;
    int rc = src && stage && t->clone_dir && t->clone_path ? 0 : nomem(err);
    if (rc == 0) {
        rc = r->host.copy_path(r->host.ctx, src, stage, err);
        if (rc == 0)
            rc = tc_error_set(err, TC_ERR_IO, "PBT: checkpoint %s of trial %s vanished", src,
                              donor->trial_id);
    }
    tc_free(src);
    tc_free(stage);
    if (rc < 0)
        return -1;
    tcp_reconfigure(r, t, step->new_config, step->new_tag);
    step->new_config = NULL;
    step->new_tag = NULL;
    t->restart_first = 1;
    r->any_restart_first = 1;
    t->restart_keep_files = 1;
    if (r->sched->log_config && step->log_line && log_clone(r, t, donor, step->log_line, err) < 0)
        return -1;
    return 0;
}

/* PopulationBasedTrainingReplay at a result: the next change point reached
 * gives t its config; t saves and restarts from that checkpoint at once. */
int tcp_replay_result(tc_runner *r, tc_trial *t, const sched_input *in, tc_error *err)
{
    struct runner_sched *s = r->sched;
    double it;
    if (!in->iteration || !tc_json_number(in->iteration, &it))
        return 0;
    if (s->replay_next >= json_array_size(s->replay_policy))
        return 0;
    const json_t *change = json_array_get(s->replay_policy, s->replay_next);
    double at;
    if (!tc_json_number(json_array_get(change, 0), &at) || it < at)
        return 0;
    /* Ray: make_experiment_tag(experiment_tag, new_config, new_config). */
    const json_t *config = json_array_get(change, 1);
    json_t *vars = json_array();
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)config, key, value) {
        json_array_append_new(vars, json_pack("[[ss]O]", "config", key, value));
    }
    tc_buf tag;
    tc_buf_init(&tag);
    tc_buf_printf(&tag, "%s@perturbed[", s->replay_tag ? s->replay_tag : "replay");
    int rc = tc_format_vars(vars, &tag) | tc_buf_putc(&tag, ']');
    json_decref(vars);
    if (rc < 0 || !tag.data) {
        tc_buf_free(&tag);
        return nomem(err);
    }
    json_t *copy = json_deep_copy(config);
    if (!copy) {
        tc_buf_free(&tag);
        return nomem(err);
    }
    tcp_reconfigure(r, t, copy, tag.data);   /* takes the buffer */
    t->restart_first = 1;
    r->any_restart_first = 1;
    s->replay_next++;
    return 0;
}

/* A clone's worker has stopped: t's own checkpoints give way to the
 * staged copy of the donor's, which becomes its only (and newest) one. */
int tcp_pbt_finish_clone(tc_runner *r, tc_trial *t, tc_error *err)
{
    char *stage = tcp_join_path(t->logdir, CLONE_STAGE);
    char *dst = tcp_join_path(t->logdir, t->clone_dir);
    int rc = stage && dst ? 0 : nomem(err);
    /* Crash safety: the copy is in place and journaled before the trial's
     * own checkpoints go, so a driver killed at any point leaves a journal
     * whose checkpoints all exist. (A copy that replaces an own directory of
     * the same name replaces it whole: copy_path renames.) */
    if (rc == 0) {
        rc = r->host.copy_path(r->host.ctx, stage, dst, err);
        if (rc == 0)
            rc = tc_error_set(err, TC_ERR_IO, "PBT: staged checkpoint %s vanished", stage);
        if (r->host.remove_tree)
            r->host.remove_tree(r->host.ctx, stage);
    }
    /* Its row count is the rows t has logged by now (none since it left
     * RUNNING): its files are kept and continue (as in Ray), so a later
     * restart from this copy (a retry, a resume) keeps every row t
     * reported before the clone. Its training_iteration is the donor's and
     * may be below those rows', so the cut is by rows, never by it. */
    if (rc > 0)
        rc = tc_ckpts_add(&t->ckpts, t->clone_dir, t->clone_path, t->clone_iteration,
                          t->n_results, 0, 0, 0, NULL, NULL, err);
    if (rc >= 0) {
        tcp_journal(r, json_pack("{s:s,s:s,s:o}", "event", "checkpoint", "trial_id",
                                 t->trial_id, "checkpoints", tc_ckpts_to_json(&t->ckpts)));
        delete_own_checkpoints(r, t, t->clone_dir);
        tcp_journal(r, json_pack("{s:s,s:s,s:o}", "event", "checkpoint", "trial_id",
                                 t->trial_id, "checkpoints", tc_ckpts_to_json(&t->ckpts)));
    }
    tc_free(stage);
    tc_free(dst);
    tc_free(t->clone_dir);
    tc_free(t->clone_path);
    t->clone_dir = t->clone_path = NULL;
    tc_free(t->transient_dir);
    t->transient_dir = NULL;
    return rc < 0 ? -1 : 0;
}

void tcp_pbt_drop_clone(tc_runner *r, tc_trial *t)
{
    if (!t->clone_dir)
        return;
    char *stage = tcp_join_path(t->logdir, CLONE_STAGE);
    if (stage && r->host.remove_tree)
        r->host.remove_tree(r->host.ctx, stage);
    tc_free(stage);
    tc_free(t->clone_dir);
    tc_free(t->clone_path);
    t->clone_dir = t->clone_path = NULL;
}
