/* runner_attempt.c — attempt tokens: every start of a trial is an attempt,
 * named by a token the runner issues (tc_runner_start). An executor keeps
 * token -> worker and tags every frame of the attempt with it; the runner
 * maps token -> trial, and only a trial's current (or last) attempt is
 * found, so the frames of an attempt that was killed and replaced (a
 * retry, a restart on another worker) are ignored by token rather than by
 * comparing process ids.
 *
 * Invariants: tokens are > 0 and strictly increase within a runner (they
 * are not persisted: a resumed session issues its own); attempt_trial[k]
 * is the index of the trial token k started; t->token is the newest token
 * issued to t (0 before its first start), t->attempts how many it got. */
#include <string.h>
#include "runner_internal.h"

/* Issues t's next token. 0, or -1 + err (out of memory, or tokens used up). */
int tcp_attempt_issue(tc_runner *r, tc_trial *t, tc_error *err)
{
    if (r->nattempts >= INT32_MAX - 1)
        return tc_error_set(err, TC_ERR_TUNE, "too many trial starts in one run");
    size_t next = r->nattempts + 1;            /* slot 0 is never a token */
    if (next >= r->cap_attempts) {
        size_t cap = r->cap_attempts ? r->cap_attempts * 2 : 64;
        int32_t *grown = tc_realloc(r->attempt_trial, cap * sizeof *grown);
        if (!grown)
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        r->attempt_trial = grown;
        /* The capacity counts only once both arrays have it. */
        uint8_t *flags = tc_realloc(r->attempt_flags, cap * sizeof *flags);
        if (!flags)
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        r->attempt_flags = flags;
        r->cap_attempts = cap;
    }
    r->attempt_trial[next] = (int32_t)t->index;
    r->attempt_flags[next] = 0;
    r->nattempts = next;
    t->token = (tc_token)next;
    t->attempts++;
    /* Where the new attempt runs is the executor's to report. */
    t->pid = 0;
    return 0;
}

tc_trial *tc_runner_attempt(const tc_runner *r, tc_token token)
{
    if (token <= 0 || (size_t)token > r->nattempts)
        return NULL;
    tc_trial *t = r->trials[r->attempt_trial[token]];
    return t->token == token ? t : NULL;
}

int tc_runner_on_started(tc_runner *r, tc_token token, long pid, const char *hostname,
                         tc_error *err)
{
    tc_trial *t = tc_runner_attempt(r, token);
    if (!t)
        return 0;                              /* a stale attempt: nothing to record */
    if (pid > 0)
        t->pid = pid;
    if (hostname && tc_trial_set_hostname(t, hostname) < 0)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    return 0;
}

void tcp_attempts_free(tc_runner *r)
{
    tc_free(r->attempt_trial);
    tc_free(r->attempt_flags);
    r->attempt_trial = NULL;
    r->attempt_flags = NULL;
    r->nattempts = r->cap_attempts = 0;
}
