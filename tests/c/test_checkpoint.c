/* test_checkpoint.c — retention of persistent checkpoints (spec §2.5):
 * best keep_num by score plus the newest, unscored ones only while newest,
 * ties keep the newer, re-registering a directory replaces it, JSON round
 * trip. One row per history. */
#include <string.h>
#include "tc_test.h"
#include "tunec.h"

static char deleted[512];

static void on_delete(void *ctx, const char *dir)
{
    strcat(deleted, dir);
    strcat(deleted, " ");
}

static void kept(const tc_ckpts *c, char *out)
{
    out[0] = '\0';
    for (size_t i = 0; i < c->n; i++) {
        strcat(out, c->list[i].dir);
        strcat(out, " ");
    }
}

typedef struct { const char *scores; long keep; const char *kept; const char *deleted; } row;

/* scores: one char per checkpoint, '0'..'9' = score, '-' = no score */
static const row rows[] = {
    {"12345", 0, "c0 c1 c2 c3 c4 ", ""},
    {"12345", 1, "c4 ", "c0 c1 c2 c3 "},
    {"12345", 2, "c3 c4 ", "c0 c1 c2 "},
    {"54321", 2, "c0 c1 c4 ", "c2 c3 "},
    {"51515", 1, "c4 ", "c0 c1 c2 c3 "},       /* equal best: the newest */
    {"33333", 2, "c3 c4 ", "c0 c1 c2 "},      /* ties: the newer ones stay */
    {"9----", 1, "c0 c4 ", "c1 c2 c3 "},      /* unscored: only while newest */
    {"-----", 3, "c4 ", "c0 c1 c2 c3 "},
    {"19191", 2, "c1 c3 c4 ", "c0 c2 "},
};

int main(void)
{
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        tc_ckpts c;
        tc_ckpts_init(&c);
        deleted[0] = '\0';
        tc_error err;
        tc_error_init(&err);
        for (size_t i = 0; rows[r].scores[i]; i++) {
            char dir[16], path[32];
            snprintf(dir, sizeof dir, "c%zu", i);
            snprintf(path, sizeof path, "c%zu/checkpoint", i);
            char s = rows[r].scores[i];
            CHECK_INT(tc_ckpts_add(&c, dir, path, (long)i + 1, (long)i % 2 ? (long)i : -1,
                                   s != '-', s - '0', rows[r].keep, on_delete, NULL, &err), 0);
        }
        char got[512];
        kept(&c, got);
        CHECK_STR(got, rows[r].kept);
        CHECK_STR(deleted, rows[r].deleted);
        CHECK_STR(tc_ckpts_newest(&c)->path, "c4/checkpoint");
        /* JSON round trip keeps everything, in order */
        json_t *j = tc_ckpts_to_json(&c);
        tc_ckpts back;
        tc_ckpts_init(&back);
        CHECK_INT(tc_ckpts_from_json(&back, j, &err), 0);
        char again[512];
        kept(&back, again);
        CHECK_STR(again, got);
        for (size_t i = 0; i < c.n; i++)        /* rows, known (odd) or not (-1) */
            CHECK_INT(back.list[i].rows, c.list[i].rows);
        json_decref(j);
        tc_ckpts_clear(&back);
        tc_ckpts_clear(&c);
    }
    /* the same directory registered again replaces its record */
    tc_ckpts c;
    tc_ckpts_init(&c);
    tc_error err;
    tc_error_init(&err);
    tc_ckpts_add(&c, "checkpoint_3", "checkpoint_3/a", 3, 3, 1, 1.0, 0, NULL, NULL, &err);
    tc_ckpts_add(&c, "checkpoint_4", "checkpoint_4/a", 4, 4, 1, 1.0, 0, NULL, NULL, &err);
    tc_ckpts_add(&c, "checkpoint_3", "checkpoint_3/b", 3, 3, 1, 2.0, 0, NULL, NULL, &err);
    CHECK_INT(c.n, 2);
    CHECK_STR(tc_ckpts_newest(&c)->path, "checkpoint_3/b");
    tc_ckpts_clear(&c);
    /* malformed records are refused */
    json_t *bad = json_loads("[{\"dir\": 1}]", 0, NULL);
    tc_ckpts_init(&c);
    CHECK_INT(tc_ckpts_from_json(&c, bad, &err), -1);
    json_decref(bad);
    tc_ckpts_clear(&c);
    TEST_MAIN_END();
}
