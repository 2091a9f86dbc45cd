/* sched_driver.c — drives one scheduler core (src/engine/sched.h) from JSON
 * lines on stdin and writes one JSON line per command on stdout, so that
 * tests/test_sched_reference.py can compare the C decisions with the Python
 * reference (tests/sched_reference.py) on random histories.
 *
 * Commands (a JSON array each; the first element names it):
 *   ["asha", max_t, grace, rf, brackets, mode_max, seed]
 *   ["hyperband", max_t, eta, mode_max, accumulate]
 *   ["median", grace, min_samples, min_time_slice, hard_stop, mode_max]
 *   ["pbt", {"interval", "mutations", "qf", "p", "mode_max", "log_config",
 *            "seed", "custom"}]
 *   ["status", [st0, st1, ...]]  ["avail", [0|1, ...]]   the runner view
 *   ["add", trial] (ASHA, HyperBand)   ["add", trial, tag, config] (PBT)
 *   ["result", trial, time, metric]                       ASHA, HyperBand
 *   ["result", trial, time, metric, any_waiting]          median
 *   ["result", trial, has_value, time, metric, iteration] PBT
 *   ["complete", trial, time, metric] / ["complete", trial, iteration] (PBT)
 *   ["remove", trial]  ["choose"]  ["debug"]  ["explore", config] (PBT)
 * Replies: {"r": value, ...} or {"err": code, "msg": text}. The "fn"
 * mutations of PBT resample to id * 0.5 + 0.25; the custom explore function
 * (when "custom" is true) sets "explored": true.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sched.h"

static tc_asha *asha;
static tc_hyperband *hb;
static tc_median *med;
static tc_pbt *pbt;
static int *status_v, *avail_v;
static size_t nview;

static int view_status(void *ctx, long t)
{
    (void)ctx;
    return (size_t)t < nview ? status_v[t] : TC_SCHED_ST_TERMINATED;
}

static int view_avail(void *ctx, long t)
{
    (void)ctx;
    return (size_t)t < nview ? avail_v[t] : 0;
}

static json_t *sample_fn(void *ctx, json_int_t id, tc_error *err)
{
    (void)ctx;
    (void)err;
    return json_real((double)id * 0.5 + 0.25);
}

static json_t *custom_fn(void *ctx, const json_t *config, tc_error *err)
{
    json_t *c = json_deep_copy(config);
    (void)ctx;
    (void)err;
    json_object_set_new(c, "explored", json_true());
    return c;
}

static void set_view(json_t *arr, int which)
{
    size_t n = json_array_size(arr);
    if (n > nview) {
        status_v = realloc(status_v, n * sizeof *status_v);
        avail_v = realloc(avail_v, n * sizeof *avail_v);
        for (size_t i = nview; i < n; i++)
            status_v[i] = avail_v[i] = 0;
        nview = n;
    }
    for (size_t i = 0; i < n; i++)
        (which ? avail_v : status_v)[i] = (int)json_integer_value(json_array_get(arr, i));
}

static double num(json_t *cmd, size_t i)
{
    double d = 0;
    tc_json_number(json_array_get(cmd, i), &d);
    return d;
}

static long lng(json_t *cmd, size_t i)
{
    return (long)json_integer_value(json_array_get(cmd, i));
}

static json_t *acts_json(const tc_sched_actions *a)
{
    json_t *out = json_array();
    for (size_t i = 0; i < a->n; i++)
        json_array_append_new(out, json_pack("[Ii]", (json_int_t)a->v[i].trial, a->v[i].kind));
    return out;
}

static void free_all(void)
{
    tc_asha_free(asha);
    tc_hyperband_free(hb);
    tc_median_free(med);
    tc_pbt_free(pbt);
    asha = NULL;
    hb = NULL;
    med = NULL;
    pbt = NULL;
}

/* Runs one command; returns the reply (new) or NULL with err set. */
static json_t *run(json_t *cmd, tc_error *err)
{
    const char *op = json_string_value(json_array_get(cmd, 0));
    tc_sched_view view = {NULL, view_status, view_avail};
    static tc_sched_actions acts;
    long r;
    if (!op)
        op = "";
    if (!strcmp(op, "asha")) {
        free_all();
        asha = tc_asha_new(num(cmd, 1), num(cmd, 2), num(cmd, 3), lng(cmd, 4), (int)lng(cmd, 5),
                           (uint64_t)json_integer_value(json_array_get(cmd, 6)), err);
        return asha ? json_pack("{si}", "r", 0) : NULL;
    }
    if (!strcmp(op, "hyperband")) {
        free_all();
        hb = tc_hyperband_new(num(cmd, 1), num(cmd, 2), (int)lng(cmd, 3), (int)lng(cmd, 4), err);
        return hb ? json_pack("{si}", "r", 0) : NULL;
    }
    if (!strcmp(op, "median")) {
        free_all();
        med = tc_median_new(num(cmd, 1), lng(cmd, 2), num(cmd, 3), (int)lng(cmd, 4),
                            (int)lng(cmd, 5), err);
        return med ? json_pack("{si}", "r", 0) : NULL;
    }
    if (!strcmp(op, "pbt")) {
        json_t *o = json_array_get(cmd, 1);
        tc_pbt_opts opts = {0};
        free_all();
        tc_json_number(json_object_get(o, "interval"), &opts.perturbation_interval);
        opts.mutations = json_object_get(o, "mutations");
        tc_json_number(json_object_get(o, "qf"), &opts.quantile_fraction);
        tc_json_number(json_object_get(o, "p"), &opts.resample_probability);
        opts.mode_max = json_is_true(json_object_get(o, "mode_max"));
        opts.log_config = json_is_true(json_object_get(o, "log_config"));
        opts.seed = (uint64_t)json_integer_value(json_object_get(o, "seed"));
        if (json_is_true(json_object_get(o, "custom")))
            opts.custom_explore = custom_fn;
        opts.sample_fn = sample_fn;
        pbt = tc_pbt_new(&opts, err);
        return pbt ? json_pack("{si}", "r", 0) : NULL;
    }
    if (!asha && !hb && !med && !pbt && strcmp(op, "status") && strcmp(op, "avail")) {
        tc_error_set(err, TC_ERR_VALUE, "no scheduler");
        return NULL;
    }
    if (!strcmp(op, "status") || !strcmp(op, "avail")) {
        set_view(json_array_get(cmd, 1), !strcmp(op, "avail"));
        return json_pack("{si}", "r", 0);
    }
    if (!strcmp(op, "add")) {
        if (asha)
            r = tc_asha_on_add(asha, lng(cmd, 1), err);
        else if (hb)
            r = tc_hyperband_on_add(hb, lng(cmd, 1), err);
        else if (pbt)
            r = tc_pbt_on_add(pbt, lng(cmd, 1), json_string_value(json_array_get(cmd, 2)),
                              json_array_get(cmd, 3), err);
        else
            r = 0;
        return r < 0 ? NULL : json_pack("{sI}", "r", (json_int_t)r);
    }
    if (!strcmp(op, "result")) {
        if (asha)
            r = tc_asha_on_result(asha, lng(cmd, 1), num(cmd, 2), num(cmd, 3), err);
        else if (med)
            r = tc_median_on_result(med, lng(cmd, 1), num(cmd, 2), num(cmd, 3), (int)lng(cmd, 4),
                                    err);
        else if (hb) {
            r = tc_hyperband_on_result(hb, lng(cmd, 1), num(cmd, 2), num(cmd, 3), &view, &acts,
                                       err);
            return r < 0 ? NULL : json_pack("{sIso}", "r", (json_int_t)r, "acts", acts_json(&acts));
        } else {
            tc_pbt_result res = {json_is_true(json_array_get(cmd, 2)), num(cmd, 3), num(cmd, 4),
                                 json_array_get(cmd, 5)};
            tc_pbt_step step;
            json_t *out;
            if (json_is_null(res.iteration))
                res.iteration = NULL;
            tc_pbt_step_init(&step);
            if (tc_pbt_on_result(pbt, lng(cmd, 1), &res, &view, &step, err) < 0)
                return NULL;
            out = json_pack("{sisbsIsIsOss?ss?}", "r", step.decision, "checkpoint", step.checkpoint,
                            "clone_from", (json_int_t)step.clone_from, "skipped",
                            (json_int_t)step.skipped_donor, "config",
                            step.new_config ? step.new_config : json_null(), "tag", step.new_tag,
                            "log", step.log_line);
            tc_pbt_step_clear(&step);
            return out;
        }
        return r < 0 ? NULL : json_pack("{sI}", "r", (json_int_t)r);
    }
    if (!strcmp(op, "complete") || !strcmp(op, "remove")) {
        int complete = !strcmp(op, "complete");
        if (asha)
            r = complete ? tc_asha_on_complete(asha, lng(cmd, 1), num(cmd, 2), num(cmd, 3), err)
                         : tc_asha_on_remove(asha, lng(cmd, 1), err);
        else if (med)
            r = tc_median_on_complete(med, lng(cmd, 1), num(cmd, 2), num(cmd, 3), err);
        else if (hb) {
            r = tc_hyperband_on_remove(hb, lng(cmd, 1), &view, &acts, err);
            return r < 0 ? NULL : json_pack("{sIso}", "r", (json_int_t)r, "acts", acts_json(&acts));
        } else {
            json_t *it = json_array_get(cmd, 2);
            r = tc_pbt_on_complete(pbt, lng(cmd, 1), json_is_null(it) ? NULL : it, err);
        }
        return r < 0 ? NULL : json_pack("{sI}", "r", (json_int_t)r);
    }
    if (!strcmp(op, "choose")) {
        r = hb ? tc_hyperband_choose(hb, &view) : tc_pbt_choose(pbt, &view);
        return json_pack("{sI}", "r", (json_int_t)r);
    }
    if (!strcmp(op, "explore")) {
        json_t *c = tc_pbt_explore(pbt, json_array_get(cmd, 1), err);
        return c ? json_pack("{so}", "r", c) : NULL;
    }
    if (!strcmp(op, "debug")) {
        tc_buf b;
        json_t *out;
        int rc;
        tc_buf_init(&b);
        if (asha)
            rc = tc_asha_debug_string(asha, &b);
        else if (hb)
            rc = tc_hyperband_debug_string(hb, &view, &b);
        else if (med)
            rc = tc_median_debug_string(med, &b);
        else
            rc = tc_pbt_debug_string(pbt, &b);
        out = rc < 0 ? NULL : json_pack("{ss}", "r", b.data ? b.data : "");
        tc_buf_free(&b);
        return out;
    }
    tc_error_set(err, TC_ERR_VALUE, "unknown command %s", op);
    return NULL;
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
        json_decref(cmd);
        json_decref(reply);
    }
    free(line);
    tc_buf_free(&out);
    free_all();
    free(status_v);
    free(avail_v);
    return 0;
}
