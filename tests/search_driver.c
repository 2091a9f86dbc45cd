/* search_driver.c — drives the TPE core (src/engine/search.h) from JSON lines
 * on stdin and writes one JSON line per command on stdout, so that
 * tests/test_tpe_reference.py can compare the C suggestions and densities
 * with the Python reference (tests/tpe_reference.py) on random histories.
 *
 * Commands (a JSON array each; the first element names it):
 *   ["new", [param, ...], opts]   param: {"name", "kind" (0 float, 1 int,
 *       2 categorical), "low", "high", "step", "log", "n_choices"}; opts: the
 *       tc_tpe_opts fields by name (missing: Optuna's default)
 *   ["add", values]               values: one number or null (absent) each
 *   ["complete", trial, objective] ["fail", trial] ["observe", values, objective]
 *   ["suggest"]
 * Replies: {"r": value} — for "suggest" also "random" and "trace": per
 * parameter null (random or constant) or {"values", "ll", "lg", "chosen",
 * "joint"} — or {"err": code, "msg": text}.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "search.h"

static tc_tpe *tpe;

static double num(const json_t *v, double dflt)
{
    double d;
    return tc_json_number(v, &d) ? d : dflt;
}

static double *values_of(const json_t *arr)
{
    size_t n = tpe ? tc_tpe_num_params(tpe) : 0;
    double *v = calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        const json_t *x = json_array_get(arr, i);
        v[i] = json_is_null(x) || !x ? NAN : num(x, NAN);
    }
    return v;
}

static json_t *reals(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, tc_json_real(v[i]));
    return a;
}

static json_t *cmd_new(const json_t *cmd, tc_error *err)
{
    const json_t *ps = json_array_get(cmd, 1), *o = json_array_get(cmd, 2);
    size_t n = json_array_size(ps);
    tc_tpe_param *p = calloc(n ? n : 1, sizeof *p);
    tc_tpe_opts opts;
    tc_tpe_opts_default(&opts);
    for (size_t i = 0; i < n; i++) {
        const json_t *q = json_array_get(ps, i);
        p[i].name = json_string_value(json_object_get(q, "name"));
        p[i].kind = (int)num(json_object_get(q, "kind"), 0);
        p[i].low = num(json_object_get(q, "low"), 0);
        p[i].high = num(json_object_get(q, "high"), 0);
        p[i].step = num(json_object_get(q, "step"), 0);
        p[i].log = json_is_true(json_object_get(q, "log"));
        p[i].n_choices = (long)num(json_object_get(q, "n_choices"), 0);
    }
    opts.n_startup_trials = (long)num(json_object_get(o, "n_startup_trials"), 10);
    opts.n_ei_candidates = (long)num(json_object_get(o, "n_ei_candidates"), 24);
    opts.ei_budget = (long)num(json_object_get(o, "ei_budget"), 0);
    opts.gamma_fraction = num(json_object_get(o, "gamma_fraction"), 0.1);
    opts.gamma_max = (long)num(json_object_get(o, "gamma_max"), 25);
    opts.prior_weight = num(json_object_get(o, "prior_weight"), 1.0);
    opts.consider_prior = (int)num(json_object_get(o, "consider_prior"), 1);
    opts.consider_magic_clip = (int)num(json_object_get(o, "consider_magic_clip"), 1);
    opts.consider_endpoints = (int)num(json_object_get(o, "consider_endpoints"), 0);
    opts.multivariate = (int)num(json_object_get(o, "multivariate"), opts.multivariate);
    opts.constant_liar = (int)num(json_object_get(o, "constant_liar"), 0);
    opts.mode_max = (int)num(json_object_get(o, "mode_max"), 0);
    opts.seed = (uint64_t)json_integer_value(json_object_get(o, "seed"));
    tc_tpe_free(tpe);
    tpe = tc_tpe_new(p, n, &opts, err);
    free(p);
    return tpe ? json_pack("{si}", "r", 0) : NULL;
}

static json_t *cmd_suggest(tc_error *err)
{
    size_t n = tc_tpe_num_params(tpe);
    double *out = calloc(n, sizeof *out);
    json_t *trace = json_array(), *reply = NULL;
    if (tc_tpe_suggest(tpe, out, err) == 0) {
        for (size_t i = 0; i < n; i++) {
            const double *v, *ll, *lg;
            long chosen, ne = tc_tpe_trace(tpe, i, &v, &ll, &lg, &chosen);
            if (!ne) {
                json_array_append_new(trace, json_null());
                continue;
            }
            json_array_append_new(trace, json_pack("{sosososIsb}", "values", reals(v, (size_t)ne),
                                                   "ll", reals(ll, (size_t)ne), "lg",
                                                   reals(lg, (size_t)ne), "chosen",
                                                   (json_int_t)chosen, "joint",
                                                   tc_tpe_in_joint_group(tpe, i)));
        }
        reply = json_pack("{sosbsO}", "r", reals(out, n), "random", tc_tpe_last_was_random(tpe),
                          "trace", trace);
    }
    json_decref(trace);
    free(out);
    return reply;
}

/* Runs one command; returns the reply (new) or NULL with err set. */
static json_t *run(const json_t *cmd, tc_error *err)
{
    const char *op = json_string_value(json_array_get(cmd, 0));
    long r = 0;
    double *v;
    if (!op)
        op = "";
    if (!strcmp(op, "new"))
        return cmd_new(cmd, err);
    if (!tpe) {
        tc_error_set(err, TC_ERR_VALUE, "no searcher");
        return NULL;
    }
    if (!strcmp(op, "suggest"))
        return cmd_suggest(err);
    if (!strcmp(op, "add") || !strcmp(op, "observe")) {
        v = values_of(json_array_get(cmd, 1));
        r = !strcmp(op, "add") ? tc_tpe_add_running(tpe, v, err)
                               : tc_tpe_observe(tpe, v, num(json_array_get(cmd, 2), NAN), err);
        free(v);
    } else if (!strcmp(op, "complete")) {
        r = tc_tpe_complete(tpe, (long)num(json_array_get(cmd, 1), -1),
                            num(json_array_get(cmd, 2), NAN), err);
    } else if (!strcmp(op, "fail")) {
        r = tc_tpe_fail(tpe, (long)num(json_array_get(cmd, 1), -1), err);
    } else {
        tc_error_set(err, TC_ERR_VALUE, "unknown command %s", op);
        return NULL;
    }
    return r < 0 ? NULL : json_pack("{sI}", "r", (json_int_t)r);
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    tc_buf out;
    tc_buf_init(&out);
    while ((len = getline(&line, &cap, stdin)) > 0) {
        tc_error err;
        json_t *cmd, *reply;
        tc_error_init(&err);
        cmd = tc_json_loads(line, (size_t)len, &err);
        reply = cmd ? run(cmd, &err) : NULL;
        if (!reply && err.code == TC_OK)
            tc_error_set(&err, TC_ERR_NOMEM, "the driver could not build its reply");
        if (!reply)
            reply = json_pack("{siss}", "err", err.code, "msg", err.text);
        tc_buf_clear(&out);
        tc_json_dump(reply, &out, TC_DUMP_COMPACT);
        fputs(out.data ? out.data : "null", stdout);
        fputc('\n', stdout);
        fflush(stdout);
        json_decref(cmd);
        json_decref(reply);
    }
    free(line);
    tc_buf_free(&out);
    tc_tpe_free(tpe);
    return 0;
}
