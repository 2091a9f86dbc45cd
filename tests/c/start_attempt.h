/* start_attempt.h — what an executor does to start a trial in the runner
 * tests: tc_runner_start issues the attempt and queues its START, the
 * executor takes the queued actions (carrying them out is the test's
 * business: they are dropped here) and reports where the attempt runs
 * (tc_runner_on_started). */
#ifndef TC_TEST_START_ATTEMPT_H
#define TC_TEST_START_ATTEMPT_H
#include "runner.h"
#include "runner_actions.h"

static inline int start_attempt(tc_runner *r, tc_trial *t, long pid, const char *host,
                                tc_error *err)
{
    if (tc_runner_start(r, t, err) < 0)
        return -1;
    tc_action a;
    int got;
    while ((got = tc_runner_next_action(r, &a, err)) > 0)
        tc_action_clear(&a);
    if (got < 0)
        return -1;
    return tc_runner_on_started(r, t->token, pid, host, err);
}
#endif
