/* runner_resources.c — what each trial reserves. A trial takes its
 * experiment's request unless the host computes one from its config
 * (tune.with_resources with a callable, host.trial_resources): that request
 * is asked for once, when the trial is added, checked like
 * resources_per_trial, and kept on the trial. */
#include "runner_internal.h"

const tc_resources *tc_trial_resources(const tc_runner *r, const tc_trial *t)
{
    return t->has_own_resources ? t->resources : &r->exps[t->experiment].opts.resources;
}

/* The error of a bad request, naming the trial (its tag shows the config
 * the request was computed from) and where the request came from. */
static int request_error(const tc_trial *t, const tc_error *why, tc_error *err)
{
    return tc_error_set(err, why->code, "with_resources: trial %s (%s): %s",
                        t->name, t->tag ? t->tag : "", why->text);
}

int tcp_trial_ask_resources(tc_runner *r, tc_trial *t, tc_error *err)
{
    if (!r->host.trial_resources)
        return 0;
    json_t *request = NULL;
    int rc = r->host.trial_resources(r->host.ctx, t->experiment, t->config, &request, err);
    if (rc <= 0)
        return rc;
    tc_error why;
    tc_error_init(&why);
    if (!t->resources && !(t->resources = tc_calloc(1, sizeof *t->resources))) {
        json_decref(request);
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    }
    /* A request that can never fit fails the run when the trial is made
     * (before any trial starts, for a space generated up front): Ray
     * would leave it PENDING for ever. */
    rc = tc_resources_parse(request, t->resources, "resources", &why);
    if (rc == 0 && !tc_capacity_can_ever_fit(&r->capacity, t->resources, &why))
        rc = -1;
    json_decref(request);
    if (rc < 0)
        return request_error(t, &why, err);
    t->has_own_resources = 1;
    return 0;
}
