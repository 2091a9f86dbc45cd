/* runner_actions.c — the action queue (runner_actions.h): what the runner
 * decided, in order, for an executor to carry out.
 *
 * The queue is an array of untaken actions [act_head, act_n); taking the
 * last one empties it (both back to 0), and a push into a full array first
 * slides the untaken ones down, so a steady run reuses one allocation. Its
 * length is bounded (act_limit): an executor that stops taking actions
 * gets an error, not a runner that grows without end.
 *
 * Per attempt (token) the runner keeps two flags: ENDED (the executor
 * reported it over: nothing more is sent to it) and END_QUEUED (a STOP,
 * PAUSE or RESTORE is on its way: a second ending action would be a second
 * STOP frame to a worker that may run another attempt by then). */
#include <string.h>
#include "runner_internal.h"

#define DEFAULT_LIMIT ((size_t)1 << 20)

const char *const tc_action_kind_names[TC_ACT_RESTORE + 1] = {
    "?", "START", "STOP", "PAUSE", "SAVE", "RESTORE",
};

void tc_action_clear(tc_action *a)
{
    tc_free(a->config);
    tc_free(a->checkpoint);
    tc_free(a->resources);
    memset(a, 0, sizeof *a);
}

void tc_runner_set_action_limit(tc_runner *r, size_t limit)
{
    r->act_limit = limit;
}

size_t tc_runner_actions_pending(const tc_runner *r)
{
    return r->act_n - r->act_head;
}

static uint8_t *flags_of(const tc_runner *r, tc_token token)
{
    if (token <= 0 || (size_t)token > r->nattempts)
        return NULL;
    return &r->attempt_flags[token];
}

void tc_runner_on_ended(tc_runner *r, tc_token token)
{
    uint8_t *f = flags_of(r, token);
    if (f)
        *f |= TCP_ATTEMPT_ENDED;
}

int tc_runner_attempt_ended(const tc_runner *r, tc_token token)
{
    const uint8_t *f = flags_of(r, token);
    return f && (*f & TCP_ATTEMPT_ENDED);
}

/* A place for one more action at act_n. 0, or -1 + err. */
static int reserve(tc_runner *r, tc_error *err)
{
    size_t limit = r->act_limit ? r->act_limit : DEFAULT_LIMIT;
    if (r->act_n - r->act_head >= limit)
        return tc_error_set(err, TC_ERR_TUNE,
                            "action queue full: %zu actions not taken by the executor",
                            r->act_n - r->act_head);
    if (r->act_n < r->act_cap)
        return 0;
    if (r->act_head > 0) {
        memmove(r->actions, r->actions + r->act_head,
                (r->act_n - r->act_head) * sizeof *r->actions);
        r->act_n -= r->act_head;
        r->act_head = 0;
        return 0;
    }
    size_t cap = r->act_cap ? r->act_cap * 2 : 16;
    tc_action *grown = tc_realloc(r->actions, cap * sizeof *grown);
    if (!grown)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory (action queue)");
    r->actions = grown;
    r->act_cap = cap;
    return 0;
}

static int is_ending(tc_action_kind kind)
{
    return kind == TC_ACT_STOP || kind == TC_ACT_PAUSE || kind == TC_ACT_RESTORE;
}

int tcp_action_push(tc_runner *r, tc_trial *t, tc_action_kind kind, tc_error *err)
{
    uint8_t *f = flags_of(r, t->token);
    /* Nothing to do for an attempt that is over, or already ending. */
    if (!f || (*f & (TCP_ATTEMPT_ENDED | TCP_ATTEMPT_END_QUEUED)))
        return 0;
    if (reserve(r, err) < 0)
        return -1;
    tc_action *a = &r->actions[r->act_n++];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->trial = t->index;
    a->token = t->token;
    a->restore_iteration = -1;
    if (is_ending(kind))
        *f |= TCP_ATTEMPT_END_QUEUED;
    return 0;
}

void tcp_action_push_latched(tc_runner *r, tc_trial *t, tc_action_kind kind)
{
    tc_error err;
    tc_error_init(&err);
    if (tcp_action_push(r, t, kind, &err) < 0 && r->action_err.code == TC_OK)
        tc_error_set(&r->action_err, err.code, "%s", err.text);
}

void tcp_action_left_running(tc_runner *r, tc_trial *t)
{
    if (t->token != r->deciding)
        tcp_action_push_latched(r, t, TC_ACT_STOP);
}

/* v as JSON text (TC_DUMP_COMPACT: non-finite floats as Python writes
 * them), or NULL when out of memory. */
static char *dump_text(const json_t *v)
{
    tc_buf b;
    tc_buf_init(&b);
    if (!v || tc_json_dump(v, &b, TC_DUMP_COMPACT) < 0 || !b.data) {
        tc_buf_free(&b);
        return NULL;
    }
    return tcp_fit_text(&b);
}

int tcp_action_prepare_start(tc_runner *r, tc_trial *t, tc_action *a, tc_error *err)
{
    memset(a, 0, sizeof *a);
    a->kind = TC_ACT_START;
    a->trial = t->index;
    a->token = t->token;
    const char *rel, *abs;
    tc_trial_restore_source(r, t, &rel, &abs, &a->restore_iteration);
    a->config = dump_text(t->config);
    json_t *res = tc_resources_to_json(tc_trial_resources(r, t));
    a->resources = dump_text(res);
    json_decref(res);
    if (rel)
        a->checkpoint = tcp_join_path(t->logdir, rel);
    else if (abs)
        a->checkpoint = tcp_xstrdup(abs);
    if (!a->config || !a->resources || ((rel || abs) && !a->checkpoint)) {
        tc_action_clear(a);
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    }
    if (reserve(r, err) < 0) {
        tc_action_clear(a);
        return -1;
    }
    return 0;
}

void tcp_action_commit_start(tc_runner *r, tc_action *a)
{
    r->actions[r->act_n++] = *a;   /* the place was reserved; the texts move */
    memset(a, 0, sizeof *a);
}

int tc_runner_next_action(tc_runner *r, tc_action *out, tc_error *err)
{
    memset(out, 0, sizeof *out);
    if (r->action_err.code != TC_OK) {
        tc_error_set(err, r->action_err.code, "%s", r->action_err.text);
        tc_error_init(&r->action_err);
        return -1;
    }
    while (r->act_head < r->act_n) {
        tc_action a = r->actions[r->act_head++];
        if (r->act_head == r->act_n)
            r->act_head = r->act_n = 0;
        /* An attempt that ended while its action waited needs it no more. */
        if (a.kind != TC_ACT_START && tc_runner_attempt_ended(r, a.token))
            continue;
        *out = a;
        return 1;
    }
    return 0;
}

long tc_runner_fill(tc_runner *r, long max, tc_error *err)
{
    long started = 0;
    tc_trial *t;
    while ((max < 0 || started < max) && (t = tc_runner_choose(r, err)) != NULL) {
        if (tc_runner_start(r, t, err) < 0)
            return -1;
        started++;
    }
    return err->code == TC_OK ? started : -1;   /* a host scheduler's choice may fail */
}

void tcp_actions_free(tc_runner *r)
{
    for (size_t i = r->act_head; i < r->act_n; i++)
        tc_action_clear(&r->actions[i]);
    tc_free(r->actions);
    r->actions = NULL;
    r->act_head = r->act_n = r->act_cap = 0;
}
