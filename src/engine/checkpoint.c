/* checkpoint.c — a trial's persistent checkpoints and which to keep
 * (spec §2.5, CheckpointManager).
 *
 * Paths are relative to the trial's logdir, so a moved or copied experiment
 * still resumes. Retention: with keep_num = N (0 = keep all), the N best by
 * score are kept, and the newest is always kept until a newer one replaces
 * it; everything else is deleted (the host removes the directory). A
 * checkpoint whose result lacked the score attribute is never "best": it
 * lives only while it is the newest. Ties in score keep the newer one.
 *
 * Invariant: list[] is in registration order; list[n-1] is the newest. */
#include <stdlib.h>
#include <string.h>
#include "tunec.h"

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = tc_malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void tc_ckpts_init(tc_ckpts *c)
{
    memset(c, 0, sizeof *c);
}

void tc_ckpts_clear(tc_ckpts *c)
{
    for (size_t i = 0; i < c->n; i++) {
        tc_free(c->list[i].dir);
        tc_free(c->list[i].path);
    }
    tc_free(c->list);
    memset(c, 0, sizeof *c);
}

const tc_ckpt *tc_ckpts_newest(const tc_ckpts *c)
{
    return c->n ? &c->list[c->n - 1] : NULL;
}

/* 1 when a ranks above b (higher score, or equal and newer). */
static int better(const tc_ckpt *a, size_t ia, const tc_ckpt *b, size_t ib)
{
    if (a->score != b->score)
        return a->score > b->score;
    return ia > ib;
}

int tc_ckpts_add(tc_ckpts *c, const char *dir, const char *path, long iteration, long rows,
                 int has_score, double score, long keep_num, tc_ckpt_delete_fn on_delete,
                 void *ctx, tc_error *err)
{
    /* Re-registering the same directory (a save at the same iteration after
     * a restore) replaces the old record. */
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->list[i].dir, dir) == 0) {
            tc_free(c->list[i].dir);
            tc_free(c->list[i].path);
            memmove(&c->list[i], &c->list[i + 1], (c->n - i - 1) * sizeof *c->list);
            c->n--;
            break;
        }
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        tc_ckpt *grown = tc_realloc(c->list, cap * sizeof *grown);
        if (!grown)
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        c->list = grown;
        c->cap = cap;
    }
    tc_ckpt *k = &c->list[c->n];
    k->dir = dup_str(dir);
    k->path = dup_str(path);
    if (!k->dir || !k->path) {
        tc_free(k->dir);
        tc_free(k->path);
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    }
    k->iteration = iteration;
    k->rows = rows;
    k->has_score = has_score;
    k->score = score;
    c->n++;
    if (keep_num <= 0)
        return 0;
    /* Keep: the newest, and the keep_num best scored ones. */
    size_t w = 0;
    for (size_t i = 0; i < c->n; i++) {
        int keep = i == c->n - 1;
        if (!keep && c->list[i].has_score) {
            long above = 0;
            for (size_t j = 0; j < c->n; j++)
                if (j != i && c->list[j].has_score && better(&c->list[j], j, &c->list[i], i))
                    above++;
            keep = above < keep_num;
        }
        if (keep) {
            c->list[w++] = c->list[i];
        } else {
            if (on_delete)
                on_delete(ctx, c->list[i].dir);
            tc_free(c->list[i].dir);
            tc_free(c->list[i].path);
        }
    }
    c->n = w;
    return 0;
}

int tc_ckpts_remove(tc_ckpts *c, const char *dir)
{
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->list[i].dir, dir) == 0) {
            tc_free(c->list[i].dir);
            tc_free(c->list[i].path);
            memmove(&c->list[i], &c->list[i + 1], (c->n - i - 1) * sizeof *c->list);
            c->n--;
            return 1;
        }
    }
    return 0;
}

json_t *tc_ckpts_to_json(const tc_ckpts *c)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < c->n; i++) {
        const tc_ckpt *k = &c->list[i];
        json_t *o = json_pack("{s:s,s:s,s:I,s:o}", "dir", k->dir, "path", k->path, "iteration",
                              (json_int_t)k->iteration, "score",
                              k->has_score ? tc_json_real(k->score) : json_null());
        /* any failure fails the list: a checkpoint missing from the state
         * or journal would be lost on resume */
        if (!o)
            goto fail;
        if (k->rows >= 0 && json_object_set_new(o, "rows", json_integer(k->rows)) < 0) {
            json_decref(o);
            goto fail;
        }
        if (json_array_append_new(arr, o) < 0)   /* steals o, even on failure */
            goto fail;
    }
    return arr;
fail:
    json_decref(arr);
    return NULL;
}

int tc_ckpts_from_json(tc_ckpts *c, const json_t *arr, tc_error *err)
{
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item) {
        const char *dir = json_string_value(json_object_get(item, "dir"));
        const char *path = json_string_value(json_object_get(item, "path"));
        json_t *it = json_object_get(item, "iteration");
        json_t *rows = json_object_get(item, "rows");   /* absent in older records */
        double score = 0;
        const json_t *sv = json_object_get(item, "score");
        int has_score = sv && tc_json_number(sv, &score);
        if (!dir || !path || !json_is_integer(it))
            return tc_error_set(err, TC_ERR_VALUE, "malformed checkpoint record %zu", i);
        if (tc_ckpts_add(c, dir, path, (long)json_integer_value(it),
                         json_is_integer(rows) ? (long)json_integer_value(rows) : -1, has_score,
                         score, 0, NULL, NULL, err) < 0)
            return -1;
    }
    return 0;
}
