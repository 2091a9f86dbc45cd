/* test_sched_pbt.c — the PBT core (spec §8.5, §18.23, §18.24): argument
 * checks, the perturbation interval, quantiles (ceil, the n/2 cap, k = 0),
 * checkpoints of top trials, exploit (donor choice, skip without a
 * checkpoint, config, tag, log line, time transfer), explore's rules (1.2 /
 * 0.8 with ints kept, list neighbours, resampling, nesting, custom hook,
 * errors), choose_trial_to_run and the debug string. */
#include <stdlib.h>
#include "tc_test.h"
#include "sched.h"

enum { C = TC_SCHED_CONTINUE, P = TC_SCHED_PAUSE };

static int st[64], av[64];
static int view_status(void *ctx, long t) { (void)ctx; return st[t]; }
static int view_avail(void *ctx, long t) { (void)ctx; return av[t]; }
static const tc_sched_view VIEW = {NULL, view_status, view_avail};

static void reset_view(int status)
{
    for (int i = 0; i < 64; i++) {
        st[i] = status;
        av[i] = 1;
    }
}

/* "fn" mutations resample to id + 0.75; id 99 gives NaN */
static json_t *sample(void *ctx, json_int_t id, tc_error *err)
{
    (void)ctx;
    (void)err;
    return tc_json_real(id == 99 ? NAN : (double)id + 0.75);
}

static int custom_calls;
static json_t *custom(void *ctx, const json_t *config, tc_error *err)
{
    json_t *c;
    (void)err;
    custom_calls++;
    if (ctx)
        return json_null();
    c = json_deep_copy(config);
    json_object_set_new(c, "custom", json_integer(custom_calls));
    return c;
}

static json_t *J(const char *text)
{
    tc_error e;
    json_t *v;
    tc_error_init(&e);
    v = tc_json_loads(text, strlen(text), &e);
    if (!v)
        fprintf(stderr, "bad test JSON %s: %s\n", text, e.text);
    return v;
}

static char *dump(const json_t *v)
{
    tc_buf b;
    tc_buf_init(&b);
    tc_json_dump(v, &b, TC_DUMP_COMPACT);
    return b.data;
}

static tc_pbt *make(const char *mutations, double qf, double p, int custom_fn, tc_error *err)
{
    tc_pbt_opts o = {0};
    json_t *m = mutations ? J(mutations) : NULL;
    tc_pbt *pbt;
    o.perturbation_interval = 1;
    o.mutations = m;
    o.quantile_fraction = qf;
    o.resample_probability = p;
    o.mode_max = 1;
    o.log_config = 1;
    o.seed = 42;
    o.custom_explore = custom_fn ? custom : NULL;
    o.custom_ctx = custom_fn == 2 ? (void *)1 : NULL;
    o.sample_fn = sample;
    pbt = tc_pbt_new(&o, err);
    json_decref(m);
    return pbt;
}

static const struct { const char *muts; int custom; double qf; int code; const char *text; }
validate_cases[] = {
    {"{\"lr\": [1, 2]}", 0, 0.25, 0, NULL},
    {"{\"lr\": {\"$tunec\": \"domain\", \"kind\": \"uniform\", \"lower\": 0, \"upper\": 1}}", 0,
     0.5, 0, NULL},
    {"{\"opt\": {\"lr\": {\"$tunec\": \"fn\", \"id\": 3}, \"m\": [0.9]}}", 0, 0, 0, NULL},
    {"{}", 1, 0.25, 0, NULL},
    {NULL, 1, 0.25, 0, NULL},
    {"{}", 0, 0.25, TC_ERR_TUNE, "You must specify at least one of `hyperparam_mutations` or "
     "`custom_explore_fn` to use PBT."},
    {"[1, 2]", 0, 0.25, TC_ERR_VALUE, "hyperparam_mutations must be a dict"},
    {"{\"lr\": 0.1}", 0, 0.25, TC_ERR_VALUE, "hyperparam_mutations[\"lr\"]: `hyperparam_mutation` "
     "values must be either a List, Dict, or callable."},
    {"{\"lr\": \"uniform\"}", 0, 0.25, TC_ERR_VALUE, "hyperparam_mutations[\"lr\"]: `hyperparam"},
    {"{\"lr\": true}", 0, 0.25, TC_ERR_VALUE, "hyperparam_mutations[\"lr\"]: `hyperparam"},
    {"{\"lr\": {\"$tunec\": \"obj\", \"id\": 1, \"repr\": \"x\"}}", 0, 0.25, TC_ERR_VALUE,
     "hyperparam_mutations[\"lr\"]: `hyperparam"},
    {"{\"opt\": {\"lr\": null}}", 0, 0.25, TC_ERR_VALUE,
     "hyperparam_mutations[\"opt\"][\"lr\"]: `hyperparam"},
    {"{\"lr\": []}", 0, 0.25, TC_ERR_VALUE,
     "hyperparam_mutations[\"lr\"]: a hyperparam_mutations list needs at least one value"},
    {"{\"lr\": {\"$tunec\": \"domain\", \"kind\": \"uniform\", \"lower\": 2, \"upper\": 1}}", 0,
     0.25, TC_ERR_VALUE, NULL},
    {"{\"lr\": [1]}", 0, 0.6, TC_ERR_VALUE, "You must set `quantile_fraction` to a value between 0 "
     "and 0.5. Current value: '0.6'"},
    {"{\"lr\": [1]}", 0, -0.1, TC_ERR_VALUE, "You must set `quantile_fraction`"},
    {"{\"lr\": [1]}", 0, NAN, TC_ERR_VALUE, "You must set `quantile_fraction`"},
};

static void test_validation(void)
{
    for (size_t i = 0; i < sizeof validate_cases / sizeof *validate_cases; i++) {
        tc_error err;
        tc_error_init(&err);
        tc_pbt *p = make(validate_cases[i].muts, validate_cases[i].qf, 0.25,
                         validate_cases[i].custom, &err);
        CHECK_INT(err.code, validate_cases[i].code);
        CHECK_INT(p == NULL, validate_cases[i].code != 0);
        if (validate_cases[i].text &&
            strncmp(err.text, validate_cases[i].text, strlen(validate_cases[i].text)) != 0)
            CHECK_STR(err.text, validate_cases[i].text);
        tc_pbt_free(p);
    }
}

/* Trials 0..n-1 report once each, in order, at t = 1 with these scores.
 * want[i]: 'C' the reporter checkpoints (upper quantile), 'L' it is in the
 * lower quantile (it draws a donor), '-' neither. */
static const struct { double qf; int mode_max, n; double score[10]; const char *want; }
quantile_cases[] = {
    {0.25, 1, 4, {1, 2, 3, 4}, "-CCC"},
    {0.25, 1, 4, {4, 3, 2, 1}, "-LLL"},
    {0.25, 1, 4, {2, 1, 3, 0}, "-LCL"},
    {0.0, 1, 3, {1, 2, 3}, "-CC"},                   /* k = 0: trials[-0:] is everyone */
    {0.0, 1, 3, {3, 2, 1}, "-CC"},
    {0.5, 1, 3, {1, 2, 3}, "-CC"},                   /* ceil(1.5) = 2 > 1.5: floor to 1 */
    {0.5, 1, 3, {1, 3, 2}, "-C-"},
    {0.5, 1, 4, {1, 3, 2, 0}, "-C-L"},
    {0.25, 1, 10, {10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, "-LLLLLLLLL"},
    {0.1, 1, 10, {1, 2, 3, 4, 5, 6, 7, 8, 9, 0}, "-CCCCCCCCL"},
    {0.25, 1, 2, {1, NAN}, "-L"},                    /* NaN ranks lowest */
    {0.25, 1, 3, {NAN, 1, NAN}, "-C-"},              /* stable: the first NaN is lowest */
    {0.25, 0, 2, {1, 2}, "-L"},                      /* mode min: 2 is worse */
    {0.25, 0, 2, {2, 1}, "-C"},
};

static void test_quantiles(void)
{
    for (size_t i = 0; i < sizeof quantile_cases / sizeof *quantile_cases; i++) {
        tc_error err;
        tc_pbt_opts o = {0};
        tc_pbt_step step;
        json_t *m = J("{\"x\": [1]}"), *cfg = J("{\"x\": 1}");
        char got[16] = {0};
        tc_error_init(&err);
        tc_pbt_step_init(&step);
        reset_view(TC_SCHED_ST_RUNNING);
        o.perturbation_interval = 1;
        o.mutations = m;
        o.quantile_fraction = quantile_cases[i].qf;
        o.mode_max = quantile_cases[i].mode_max;
        tc_pbt *p = tc_pbt_new(&o, &err);
        for (int t = 0; t < quantile_cases[i].n; t++)
            tc_pbt_on_add(p, t, "tag", cfg, &err);
        for (int t = 0; t < quantile_cases[i].n; t++) {
            tc_pbt_result r = {1, 1.0, quantile_cases[i].score[t], NULL};
            CHECK_INT(tc_pbt_on_result(p, t, &r, &VIEW, &step, &err), 0);
            got[t] = step.checkpoint ? 'C' : (step.clone_from >= 0 || step.skipped_donor >= 0)
                                                 ? 'L' : '-';
        }
        if (strcmp(got, quantile_cases[i].want))
            fprintf(stderr, "quantile case %zu\n", i);
        CHECK_STR(got, quantile_cases[i].want);
        tc_pbt_step_clear(&step);
        tc_pbt_free(p);
        json_decref(m);
        json_decref(cfg);
    }
}

static void test_exploit(void)
{
    tc_error err;
    tc_pbt_step step;
    tc_buf b;
    char tag[32], *s;
    double score;
    tc_error_init(&err);
    tc_pbt_step_init(&step);
    tc_buf_init(&b);
    reset_view(TC_SCHED_ST_RUNNING);
    st[4] = TC_SCHED_ST_PENDING;                   /* a fifth trial waits */
    tc_pbt *p = make("{\"lr\": [0.5]}", 0.25, 0, 0, &err);
    for (int t = 0; t < 5; t++) {
        json_t *cfg = json_pack("{sfsi}", "lr", 0.5, "c", t);
        snprintf(tag, sizeof tag, "%d_t=%d", t, t);
        CHECK_INT(tc_pbt_on_add(p, t, tag, cfg, &err), 0);
        json_decref(cfg);
    }
    for (int t = 0; t < 4; t++) {
        json_t *it = json_integer(1);
        tc_pbt_result r = {1, 1.0, (double)t + 1, it};
        CHECK_INT(tc_pbt_on_result(p, t, &r, &VIEW, &step, &err), 0);
        CHECK_INT(step.decision, P);               /* trial 4 is PENDING */
        json_decref(it);
    }
    /* not yet time: CONTINUE without a decision, even with trial 4 waiting */
    {
        tc_pbt_result r = {1, 1.5, -100, NULL};
        CHECK_INT(tc_pbt_on_result(p, 0, &r, &VIEW, &step, &err), 0);
        CHECK_INT(step.decision, C);
        CHECK_INT(step.clone_from, -1);
        tc_pbt_result none = {0, 0, 0, NULL};
        CHECK_INT(tc_pbt_on_result(p, 0, &none, &VIEW, &step, &err), 0);
        CHECK_INT(step.decision, C);
    }
    /* trial 0 (the worst) clones trial 3, the only top trial */
    {
        json_t *it = json_integer(2);
        tc_pbt_result r = {1, 2.0, 0.5, it};
        CHECK_INT(tc_pbt_on_result(p, 0, &r, &VIEW, &step, &err), 0);
        json_decref(it);
    }
    CHECK_INT(step.clone_from, 3);
    CHECK_INT(step.checkpoint, 0);
    CHECK_INT(step.decision, P);
    CHECK_STR(step.new_tag, "0_t=0@perturbed[lr=0.5]");
    /* target_iter is the trial's previous result (Ray reads last_result
     * before the runner updates it), the result with "lr" missing gave 0 */
    CHECK_STR(step.log_line, "[\"0_t=0\", \"3_t=3\", 0, 1, {\"lr\": 0.5, \"c\": 3}, "
                             "{\"lr\": 0.5, \"c\": 3}]");
    s = dump(tc_pbt_config(p, 0));
    CHECK_STR(s, "{\"lr\": 0.5, \"c\": 3}");
    free(s);
    s = dump(step.new_config);
    CHECK_STR(s, "{\"lr\": 0.5, \"c\": 3}");
    free(s);
    CHECK_INT(tc_pbt_num_perturbations(p), 1);
    CHECK_INT(tc_pbt_num_checkpoints(p), 3);
    /* the clone took the donor's last perturbation time (1): ready again at 2 */
    {
        tc_pbt_result r = {1, 2.0, 0.1, NULL};
        CHECK_INT(tc_pbt_on_result(p, 0, &r, &VIEW, &step, &err), 0);
        CHECK_INT(step.clone_from, 3);
    }
    CHECK(tc_pbt_last_score(p, 0, &score) && score == 0.1);
    /* a donor without a checkpoint: skipped. Trial 3 reports a score that
     * puts it in the middle: it loses its checkpoint. */
    {
        tc_pbt_result r = {1, 2.0, 2.5, NULL};
        CHECK_INT(tc_pbt_on_result(p, 3, &r, &VIEW, &step, &err), 0);
        CHECK_INT(step.checkpoint, 0);
        st[2] = TC_SCHED_ST_TERMINATED;            /* finished trials leave the ranking */
        tc_pbt_result r0 = {1, 3.0, 0, NULL};
        CHECK_INT(tc_pbt_on_result(p, 0, &r0, &VIEW, &step, &err), 0);
        /* ranking 0 (0), 1 (2), 3 (2.5): upper is [3], which has no checkpoint */
        CHECK_INT(step.skipped_donor, 3);
        CHECK_INT(step.clone_from, -1);
    }
    tc_pbt_debug_string(p, &b);
    CHECK_STR(b.data, "PopulationBasedTraining: 3 checkpoints, 2 perturbs");
    tc_pbt_reset_stats(p);
    tc_buf_clear(&b);
    tc_pbt_debug_string(p, &b);
    CHECK_STR(b.data, "PopulationBasedTraining: 0 checkpoints, 0 perturbs");
    CHECK_INT(err.code, 0);
    CHECK_INT(tc_pbt_on_result(p, 9, &(tc_pbt_result){1, 1, 1, NULL}, &VIEW, &step, &err), -1);
    CHECK_STR(err.text, "trial 9 was not added to PBT");
    tc_pbt_step_clear(&step);
    tc_buf_free(&b);
    tc_pbt_free(p);
}

/* {mutations, config, resample p, the set of results explore may give (as
 * JSON texts) — every listed result must appear in 200 draws, and nothing
 * else} */
static const struct { const char *muts, *config; double p; const char *outcomes[6]; }
explore_cases[] = {
    {"{\"x\": {\"$tunec\": \"fn\", \"id\": 1}}", "{\"x\": 1.0}", 0,
     {"{\"x\": 1.2}", "{\"x\": 0.8}"}},
    {"{\"x\": {\"$tunec\": \"fn\", \"id\": 1}}", "{\"x\": 5}", 0, {"{\"x\": 6}", "{\"x\": 4}"}},
    {"{\"x\": {\"$tunec\": \"fn\", \"id\": 1}}", "{\"x\": 3}", 0, {"{\"x\": 3}", "{\"x\": 2}"}},
    {"{\"x\": {\"$tunec\": \"fn\", \"id\": 1}}", "{\"x\": -5}", 0, {"{\"x\": -6}", "{\"x\": -4}"}},
    {"{\"x\": {\"$tunec\": \"fn\", \"id\": 1}}", "{\"x\": true}", 0,
     {"{\"x\": 1.2}", "{\"x\": 0.8}"}},                      /* bool is not int: a float */
    {"{\"x\": {\"$tunec\": \"fn\", \"id\": 1}}", "{\"x\": NaN}", 0, {"{\"x\": NaN}"}},
    {"{\"x\": {\"$tunec\": \"fn\", \"id\": 2}}", "{\"x\": 7.0}", 1, {"{\"x\": 2.75}"}},
    {"{\"x\": {\"$tunec\": \"fn\", \"id\": 2}}", "{\"x\": 7}", 1, {"{\"x\": 2}"}},   /* int() */
    {"{\"x\": {\"$tunec\": \"domain\", \"kind\": \"randint\", \"lower\": 0, \"upper\": 2}}",
     "{\"x\": 9}", 1, {"{\"x\": 0}", "{\"x\": 1}"}},
    {"{\"x\": [\"a\", \"b\", \"c\", \"d\"]}", "{\"x\": \"b\"}", 0, {"{\"x\": \"a\"}",
     "{\"x\": \"c\"}"}},
    {"{\"x\": [\"a\", \"b\", \"c\", \"d\"]}", "{\"x\": \"a\"}", 0, {"{\"x\": \"a\"}",
     "{\"x\": \"b\"}"}},                                    /* clamped at the ends */
    {"{\"x\": [\"a\", \"b\", \"c\", \"d\"]}", "{\"x\": \"d\"}", 0, {"{\"x\": \"c\"}",
     "{\"x\": \"d\"}"}},
    {"{\"x\": [\"a\", \"b\", \"c\"]}", "{\"x\": \"zz\"}", 0, {"{\"x\": \"a\"}", "{\"x\": \"b\"}",
     "{\"x\": \"c\"}"}},                                    /* not in the list: resampled */
    {"{\"x\": [\"a\", \"b\", \"c\"]}", "{\"x\": \"a\"}", 1, {"{\"x\": \"a\"}", "{\"x\": \"b\"}",
     "{\"x\": \"c\"}"}},
    {"{\"x\": [1.0, 2.0, 3.0]}", "{\"x\": 2}", 0, {"{\"x\": 1.0}", "{\"x\": 3.0}"}},  /* 2 == 2.0 */
    {"{\"x\": [0, 1, 2]}", "{\"x\": true}", 0, {"{\"x\": 0}", "{\"x\": 2}"}},         /* True == 1 */
    {"{\"x\": [NaN, 1]}", "{\"x\": NaN}", 0, {"{\"x\": NaN}", "{\"x\": 1}"}},  /* NaN not found */
    {"{\"o\": {\"lr\": {\"$tunec\": \"fn\", \"id\": 1}}}", "{\"a\": 0, \"o\": {\"m\": 2, \"lr\": "
     "1.0}, \"z\": [1]}", 0, {"{\"a\": 0, \"o\": {\"m\": 2, \"lr\": 1.2}, \"z\": [1]}",
                              "{\"a\": 0, \"o\": {\"m\": 2, \"lr\": 0.8}, \"z\": [1]}"}},
    {"{\"x\": [1]}", "{\"y\": 1}", 1, {"{\"y\": 1, \"x\": 1}"}},  /* resampling never reads x */
};

static void test_explore(void)
{
    for (size_t i = 0; i < sizeof explore_cases / sizeof *explore_cases; i++) {
        tc_error err;
        int seen[6] = {0}, other = 0, n = 0;
        json_t *cfg = J(explore_cases[i].config);
        tc_error_init(&err);
        tc_pbt *p = make(explore_cases[i].muts, 0.25, explore_cases[i].p, 0, &err);
        while (n < 6 && explore_cases[i].outcomes[n])
            n++;
        for (int k = 0; k < 200; k++) {
            json_t *out = tc_pbt_explore(p, cfg, &err);
            char *s = out ? dump(out) : NULL;
            int hit = 0;
            for (int j = 0; s && j < n; j++)
                if (!strcmp(s, explore_cases[i].outcomes[j]))
                    seen[j] = hit = 1;
            if (!hit) {
                other++;
                if (other == 1)
                    fprintf(stderr, "explore case %zu gave %s (%s)\n", i, s ? s : "error",
                            err.text);
            }
            free(s);
            json_decref(out);
        }
        CHECK_INT(other, 0);
        for (int j = 0; j < n; j++)
            CHECK(seen[j]);
        json_decref(cfg);
        tc_pbt_free(p);
    }
}

/* {mutations, config, resample p, custom (2 = returns None), code, message start} */
static const struct { const char *muts, *config; double p; int custom, code; const char *text; }
explore_errors[] = {
    {"{\"x\": {\"$tunec\": \"fn\", \"id\": 1}}", "{\"y\": 1}", 0, 0, TC_ERR_VALUE,
     "config[\"x\"]: the key of hyperparam_mutations is not in the config"},
    {"{\"x\": [1, 2]}", "{\"y\": 1}", 0, 0, TC_ERR_VALUE, "config[\"x\"]: the key"},
    {"{\"x\": {\"$tunec\": \"fn\", \"id\": 1}}", "{\"x\": \"abc\"}", 0, 0, TC_ERR_TYPE,
     "config[\"x\"]: cannot perturb a value of type str"},
    {"{\"x\": {\"$tunec\": \"fn\", \"id\": 1}}", "{\"x\": null}", 0, 0, TC_ERR_TYPE,
     "config[\"x\"]: cannot perturb a value of type NoneType"},
    {"{\"o\": {\"x\": [1]}}", "{\"o\": 3}", 0, 0, TC_ERR_TYPE,
     "config[\"o\"] must be a dict to apply nested hyperparam_mutations"},
    {"{\"o\": {\"x\": {\"$tunec\": \"fn\", \"id\": 1}}}", "{\"o\": {\"x\": [1]}}", 0, 0,
     TC_ERR_TYPE, "config[\"o\"][\"x\"]: cannot perturb a value of type list"},
    {"{\"x\": {\"$tunec\": \"fn\", \"id\": 99}}", "{\"x\": 1}", 1, 0, TC_ERR_VALUE,
     "config[\"x\"]: cannot convert float NaN to integer (the original value was an int)"},
    {"{\"x\": [1]}", "{\"x\": 1}", 0, 2, TC_ERR_TUNE,
     "Custom explore fn failed to return new config"},
};

static void test_explore_errors_and_custom(void)
{
    tc_error err;
    tc_buf b;
    for (size_t i = 0; i < sizeof explore_errors / sizeof *explore_errors; i++) {
        json_t *cfg = J(explore_errors[i].config), *out;
        tc_error_init(&err);
        tc_pbt *p = make(explore_errors[i].muts, 0.25, explore_errors[i].p,
                         explore_errors[i].custom, &err);
        out = tc_pbt_explore(p, cfg, &err);
        CHECK(out == NULL);
        CHECK_INT(err.code, explore_errors[i].code);
        if (strncmp(err.text, explore_errors[i].text, strlen(explore_errors[i].text)) != 0)
            CHECK_STR(err.text, explore_errors[i].text);
        json_decref(out);
        json_decref(cfg);
        tc_pbt_free(p);
    }
    /* the custom function runs after the built-in mutations */
    json_t *cfg = J("{\"x\": 1}"), *out;
    char *s;
    tc_error_init(&err);
    custom_calls = 0;
    tc_pbt *p = make("{\"x\": [1]}", 0.25, 0, 1, &err);
    out = tc_pbt_explore(p, cfg, &err);
    s = dump(out);
    CHECK_STR(s, "{\"x\": 1, \"custom\": 1}");
    free(s);
    json_decref(out);
    tc_pbt_free(p);
    /* with only a custom function there are no mutated keys in the tag */
    p = make(NULL, 0.25, 0, 1, &err);
    tc_buf_init(&b);
    CHECK_INT(tc_pbt_make_tag(p, "3", cfg, &b, &err), 0);
    CHECK_STR(b.data, "3@perturbed[]");
    tc_buf_free(&b);
    json_decref(cfg);
    tc_pbt_free(p);
}

static void test_tag_and_log_line(void)
{
    tc_error err;
    tc_buf b;
    json_t *cfg = J("{\"n\": 3, \"opt\": \"a/b\", \"lr\": 0.123456789, \"b\": {\"x\": 1}}");
    json_t *it = json_integer(7), *old = J("{\"a\": 2}"), *new = J("{\"a\": 2.4, \"s\": NaN}");
    tc_error_init(&err);
    tc_buf_init(&b);
    tc_pbt *p = make("{\"lr\": [1], \"opt\": [\"x\"], \"b\": {\"x\": [1]}}", 0.25, 0, 0, &err);
    CHECK_INT(tc_pbt_make_tag(p, "2_lr=0.1", cfg, &b, &err), 0);
    CHECK_STR(b.data, "2_lr=0.1@perturbed[b={'x': 1},lr=0.12346,opt=a_b]");
    tc_buf_clear(&b);
    json_object_del(cfg, "opt");
    CHECK_INT(tc_pbt_make_tag(p, "2", cfg, &b, &err), -1);
    CHECK_STR(err.text, "config[\"opt\"]: a mutated key is missing from the explored config");
    tc_buf_clear(&b);
    CHECK_INT(tc_pbt_log_line("0_a=1", "1_a=2", it, NULL, old, new, &b), 0);
    CHECK_STR(b.data, "[\"0_a=1\", \"1_a=2\", 7, 0, {\"a\": 2}, {\"a\": 2.4, \"s\": NaN}]");
    tc_buf_free(&b);
    json_decref(cfg);
    json_decref(it);
    json_decref(old);
    json_decref(new);
    tc_pbt_free(p);
}

static void test_choose(void)
{
    tc_error err;
    tc_pbt_step step;
    json_t *cfg = J("{\"x\": 1}");
    tc_error_init(&err);
    tc_pbt_step_init(&step);
    reset_view(TC_SCHED_ST_RUNNING);
    tc_pbt *p = make("{\"x\": [1]}", 0.25, 0, 0, &err);
    CHECK_INT(tc_pbt_choose(p, &VIEW), -1);
    for (int t = 0; t < 4; t++)
        tc_pbt_on_add(p, t, "t", cfg, &err);
    /* last_perturbation_time: 0 -> 3, 1 -> 2, 2 -> 2, 3 -> 0 */
    tc_pbt_on_result(p, 0, &(tc_pbt_result){1, 3, 1, NULL}, &VIEW, &step, &err);
    tc_pbt_on_result(p, 1, &(tc_pbt_result){1, 2, 1, NULL}, &VIEW, &step, &err);
    tc_pbt_on_result(p, 2, &(tc_pbt_result){1, 2, 1, NULL}, &VIEW, &step, &err);
    CHECK_INT(tc_pbt_choose(p, &VIEW), -1);              /* everyone runs */
    st[0] = st[1] = st[2] = TC_SCHED_ST_PAUSED;
    CHECK_INT(tc_pbt_choose(p, &VIEW), 1);               /* smallest time, first of a tie */
    av[1] = 0;
    CHECK_INT(tc_pbt_choose(p, &VIEW), 2);
    st[3] = TC_SCHED_ST_PENDING;
    CHECK_INT(tc_pbt_choose(p, &VIEW), 3);
    st[3] = TC_SCHED_ST_TERMINATED;
    st[2] = TC_SCHED_ST_ERROR;
    CHECK_INT(tc_pbt_choose(p, &VIEW), 0);
    tc_pbt_step_clear(&step);
    json_decref(cfg);
    tc_pbt_free(p);
}

int main(void)
{
    test_validation();
    test_quantiles();
    test_exploit();
    test_explore();
    test_explore_errors_and_custom();
    test_tag_and_log_line();
    test_choose();
    TEST_MAIN_END();
}
