/* test_options.c — the option tables (options.c): every key is read by name
 * and type, an unknown key or a wrong type is an error naming the argument,
 * absent keys get their defaults, and any number of experiments and
 * trainables is accepted. */
#include <stdlib.h>
#include "tc_test.h"
#include "options.h"

/* A valid tune.run with one experiment; %s is spliced into the experiment
 * (EXP) or into the run (RUN) to make each case. */
#define EXP_BASE "\"name\": \"e\", \"exp_dir\": \"/tmp/x/e\", \"trainable_name\": \"f\", " \
    "\"trainable_id\": 0, \"spec\": {}, \"seed\": 7"
#define RUN_BASE "\"capacity\": {\"cpu\": 2, \"gpu\": 0}, \"session_str\": \"s\", " \
    "\"worker_argv\": [\"python\"]"

static json_t *options_with(const char *run_extra, const char *exp_extra)
{
    char text[2048];
    snprintf(text, sizeof text, "{" RUN_BASE "%s%s, \"experiments\": [{" EXP_BASE "%s%s}]}",
             *run_extra ? ", " : "", run_extra, *exp_extra ? ", " : "", exp_extra);
    tc_error err;
    tc_error_init(&err);
    json_t *o = tc_json_loads(text, strlen(text), &err);
    if (!o)
        fprintf(stderr, "bad test JSON: %s\n%s\n", err.text, text);
    return o;
}

/* {run part, experiment part, error code (0: accepted), error text} */
static const struct {
    const char *run, *exp;
    int code;
    const char *text;
} cases[] = {
    {"", "", 0, NULL},
    {"", "\"num_samples\": 3", 0, NULL},
    {"", "\"num_samples\": -1", 0, NULL},
    {"", "\"num_samples\": \"3\"", TC_ERR_TYPE, "tune.run(num_samples=...): expected int, got str"},
    {"", "\"num_samples\": 3.0", TC_ERR_TYPE, "tune.run(num_samples=...): expected int, got float"},
    {"", "\"num_samples\": true", TC_ERR_TYPE, "tune.run(num_samples=...): expected int, got bool"},
    {"", "\"num_samples\": 0", TC_ERR_VALUE, "tune.run(num_samples=...): must be >= 1 (or -1), got 0"},
    {"", "\"num_samples\": -2", TC_ERR_VALUE, "tune.run(num_samples=...): must be >= 1 (or -1), got -2"},
    {"", "\"num_samples\": {\"$pytype\": \"Foo\"}", TC_ERR_TYPE,
     "tune.run(num_samples=...): expected int, got Foo"},
    {"", "\"checkpoint_score_attr\": [\"acc\"]", TC_ERR_TYPE,
     "tune.run(checkpoint_score_attr=...): expected str, got list"},
    {"", "\"checkpoint_score_attr\": \"min-loss\"", 0, NULL},
    {"", "\"checkpoint_score_attr\": null", 0, NULL},
    {"", "\"max_failures\": -1", 0, NULL},
    {"", "\"max_failures\": -3", TC_ERR_VALUE, "tune.run(max_failures=...): must be >= 0 (or -1), got -3"},
    {"", "\"max_failures\": \"2\"", TC_ERR_TYPE, "tune.run(max_failures=...): expected int, got str"},
    {"", "\"keep_checkpoints_num\": 0", TC_ERR_VALUE,
     "tune.run(keep_checkpoints_num=...): must be >= 1, got 0"},
    {"", "\"keep_checkpoints_num\": null", 0, NULL},
    {"", "\"checkpoint_freq\": 1.5", TC_ERR_TYPE, "tune.run(checkpoint_freq=...): expected int, got float"},
    {"", "\"checkpoint_at_end\": 1", TC_ERR_TYPE, "tune.run(checkpoint_at_end=...): expected bool, got int"},
    {"", "\"resources\": [1]", TC_ERR_TYPE, "tune.run(resources_per_trial=...): expected dict, got list"},
    {"", "\"stop\": \"x\"", TC_ERR_TYPE, "tune.run(stop=...): expected dict, got str"},
    {"", "\"restore\": 3", TC_ERR_TYPE, "tune.run(restore=...): expected str, got int"},
    {"", "\"sync_on_checkpoint\": true", TC_ERR_VALUE, "tune.run: unknown option sync_on_checkpoint"},
    {"", "\"log_to_file\": true", 0, NULL},
    {"", "\"log_to_file\": \"all.log\"", 0, NULL},
    {"", "\"log_to_file\": [\"o\", null]", 0, NULL},
    {"", "\"log_to_file\": 1", TC_ERR_TYPE, "tune.run(log_to_file=...): expected a bool, a str "
     "or a (stdout, stderr) pair of str, got int"},
    {"", "\"log_to_file\": [\"o\"]", TC_ERR_VALUE, "tune.run(log_to_file=...): a sequence must "
     "have a length of 2 (for stdout and stderr, respectively), got length 1"},
    {"", "\"log_to_file\": [\"o\", 2]", TC_ERR_TYPE, "tune.run(log_to_file=...): item 1 of the "
     "(stdout, stderr) pair must be a str, got int"},
    {"", "\"trainable_id\": 200", 0, NULL},          /* no 64-trainable limit */
    {"", "\"trainable_id\": -1", TC_ERR_VALUE,
     "tune.run: internal option trainable_id (trainable_id): must be >= 0, got -1"},
    {"\"fail_fast\": true", "", 0, NULL},
    {"\"fail_fast\": \"raise\"", "", TC_ERR_TYPE, "tune.run(fail_fast=...): expected bool, got str"},
    {"\"fail_fast\": true", "\"max_failures\": 2", TC_ERR_VALUE, "max_failures must be 0 if fail_fast=True."},
    {"\"time_budget_s\": 0", "", TC_ERR_VALUE, "tune.run(time_budget_s=...): must be > 0, got 0"},
    {"\"time_budget_s\": 2.5", "", 0, NULL},
    {"\"time_budget_s\": null", "", 0, NULL},
    {"\"time_budget_s\": \"1\"", "", TC_ERR_TYPE, "tune.run(time_budget_s=...): expected number, got str"},
    {"\"max_concurrent\": 0", "", TC_ERR_VALUE, "tune.run(max_concurrent_trials=...): must be >= 1, got 0"},
    {"\"max_concurrent\": 1.5", "", TC_ERR_TYPE,
     "tune.run(max_concurrent_trials=...): expected int, got float"},
    {"\"reuse_actors\": \"yes\"", "", TC_ERR_TYPE, "tune.run(reuse_actors=...): expected bool, got str"},
    {"\"state_period_s\": -1", "", TC_ERR_VALUE,
     "tune.run(global_checkpoint_period=...): must be >= 0, got -1"},
    {"\"queue_trials\": true", "", TC_ERR_VALUE, "tune.run: unknown option queue_trials"},
    {"\"worker_env\": [1]", "", TC_ERR_TYPE, "tune.run: internal option worker_env[0]: expected str, got int"},
    {"\"resume\": {\"records\": {}, \"resume_errored\": 1}", "", TC_ERR_TYPE,
     "tune.run resume(resume_errored=...): expected bool, got int"},
    {"\"scheduler\": {\"spec\": {}, \"extra\": 1}", "", TC_ERR_VALUE,
     "tune.run scheduler: unknown option extra"},
};

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *o = options_with(cases[i].run, cases[i].exp);
        CHECK(o != NULL);
        tc_run_options ro;
        tc_error err;
        tc_error_init(&err);
        int rc = tc_run_options_read(o, &ro, &err);
        if (cases[i].code == 0) {
            if (rc != 0)
                fprintf(stderr, "case %zu: unexpected error: %s\n", i, err.text);
            CHECK_INT(rc, 0);
            tc_run_options_free(&ro);
        } else {
            CHECK_INT(rc, -1);
            CHECK_INT(err.code, cases[i].code);
            CHECK_STR(err.text, cases[i].text);
            CHECK(ro.exps == NULL);
        }
        json_decref(o);
    }
}

/* Absent keys take the table's defaults; present ones land in their fields. */
static void test_defaults_and_fields(void)
{
    json_t *o = options_with("\"max_concurrent\": 3, \"fail_fast\": true",
                             "\"checkpoint_score_attr\": \"min-loss\", \"num_samples\": 5, "
                             "\"keep_checkpoints_num\": 2, \"log_csv\": false");
    tc_run_options ro;
    tc_error err;
    tc_error_init(&err);
    CHECK_INT(tc_run_options_read(o, &ro, &err), 0);
    CHECK_INT(ro.runner.max_concurrent, 3);
    CHECK_INT(ro.runner.fail_fast, 1);
    CHECK_INT(ro.runner.max_len_identifier, 130);
    CHECK_NEAR(ro.runner.time_budget_s, 0, 0);
    CHECK_NEAR(ro.stop_grace_s, 10, 0);
    CHECK_NEAR(ro.state_period_s, 10, 0);
    CHECK_NEAR(ro.heartbeat_timeout_s, 30, 0);
    CHECK_NEAR(ro.capacity.cpu, 2, 0);
    CHECK_STR(ro.runner.session_str, "s");
    CHECK_INT(ro.has_resume, 0);
    CHECK_INT(ro.has_scheduler, 0);
    CHECK_INT(ro.nexps, 1);
    const tc_exp_options *e = &ro.exps[0];
    CHECK_STR(e->exp.name, "e");
    CHECK_STR(e->exp.exp_dir, "/tmp/x/e");
    CHECK_STR(e->exp.checkpoint_score_attr, "min-loss");
    CHECK_INT(e->num_samples, 5);
    CHECK_INT(e->exp.keep_checkpoints_num, 2);
    CHECK_INT(e->exp.max_failures, 0);
    CHECK_INT(e->exp.seed, 7);
    CHECK_INT(e->exp.log_json, 1);
    CHECK_INT(e->exp.log_csv, 0);
    CHECK_INT(e->exp.log_tbx, 1);
    CHECK(e->exp.stop == NULL && e->exp.restore_path == NULL && e->resources == NULL);
    CHECK(e->exp.stdout_file == NULL && e->exp.stderr_file == NULL);   /* log_to_file off */
    tc_run_options_free(&ro);
    json_decref(o);
}

/* log_to_file's three forms, as the worker gets them. */
static void test_log_to_file_forms(void)
{
    static const struct { const char *exp, *out, *err; } forms[] = {
        {"\"log_to_file\": false", NULL, NULL},
        {"\"log_to_file\": true", "stdout", "stderr"},
        {"\"log_to_file\": \"all.log\"", "all.log", "all.log"},
        {"\"log_to_file\": [\"o.txt\", \"e.txt\"]", "o.txt", "e.txt"},
        {"\"log_to_file\": [\"\", \"e.txt\"]", NULL, "e.txt"},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        json_t *o = options_with("", forms[i].exp);
        tc_run_options ro;
        tc_error err;
        tc_error_init(&err);
        CHECK_INT(tc_run_options_read(o, &ro, &err), 0);
        const tc_experiment_opts *ex = &ro.exps[0].exp;
        CHECK(forms[i].out ? ex->stdout_file && strcmp(ex->stdout_file, forms[i].out) == 0
                           : ex->stdout_file == NULL);
        CHECK(forms[i].err ? ex->stderr_file && strcmp(ex->stderr_file, forms[i].err) == 0
                           : ex->stderr_file == NULL);
        tc_run_options_free(&ro);
        json_decref(o);
    }
}

/* 200 experiments, each with its own trainable: all read; a bad option in
 * the last one names that experiment. */
static void test_many_experiments(void)
{
    tc_buf b;
    tc_buf_init(&b);
    tc_buf_printf(&b, "{" RUN_BASE ", \"experiments\": [");
    for (int i = 0; i < 200; i++)
        tc_buf_printf(&b, "%s{\"name\": \"e%d\", \"exp_dir\": \"/tmp/x/e%d\", \"trainable_name\": "
                      "\"f%d\", \"trainable_id\": %d, \"spec\": {}, \"seed\": %d%s}",
                      i ? ", " : "", i, i, i, i, i, i == 199 ? ", \"num_samples\": \"2\"" : "");
    tc_buf_puts(&b, "]}");
    tc_error err;
    tc_error_init(&err);
    json_t *o = tc_json_loads(b.data, b.len, &err);
    tc_run_options ro;
    CHECK_INT(tc_run_options_read(o, &ro, &err), -1);
    CHECK_STR(err.text, "Experiment 'e199'(num_samples=...): expected int, got str");
    json_object_del(json_array_get(json_object_get(o, "experiments"), 199), "num_samples");
    tc_error_init(&err);
    CHECK_INT(tc_run_options_read(o, &ro, &err), 0);
    CHECK_INT(ro.nexps, 200);
    CHECK_INT(ro.exps[199].exp.trainable_id, 199);
    tc_run_options_free(&ro);
    json_decref(o);
    tc_buf_free(&b);
}

/* The generic reader on its own table: unknown keys, required keys, nulls. */
typedef struct { long n; const char *s; } little;
static const tc_option LITTLE[] = {
    {"n", "n", TC_OPT_LONG, TC_OPT_REQUIRED, 0, 10, 0, offsetof(little, n)},
    {"s", "s", TC_OPT_STRING, TC_OPT_NULLABLE, NAN, NAN, 0, offsetof(little, s)},
};

static void test_reader(void)
{
    static const struct { const char *json; int code; const char *text; } rows[] = {
        {"{\"n\": 3}", 0, NULL},
        {"{\"n\": 3, \"s\": null}", 0, NULL},
        {"{}", TC_ERR_VALUE, "f(n=...): missing"},
        {"{\"n\": null}", TC_ERR_TYPE, "f(n=...): expected int, got None"},
        {"{\"n\": 11}", TC_ERR_VALUE, "f(n=...): must be <= 10, got 11"},
        {"{\"n\": 1, \"z\": 1}", TC_ERR_VALUE, "f: unknown option z"},
        {"[1]", TC_ERR_TYPE, "f: options must be a dict, got list"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tc_error err;
        tc_error_init(&err);
        json_t *o = tc_json_loads(rows[i].json, strlen(rows[i].json), &err);
        little l = {-5, "x"};
        int rc = tc_options_read(LITTLE, 2, o, &l, "f", &err);
        if (rows[i].code == 0) {
            CHECK_INT(rc, 0);
            CHECK(l.s == NULL);
        } else {
            CHECK_INT(err.code, rows[i].code);
            CHECK_STR(err.text, rows[i].text);
        }
        json_decref(o);
    }
    CHECK_STR(tc_option_type_name(json_null()), "None");
}

int main(void)
{
    test_cases();
    test_defaults_and_fields();
    test_log_to_file_forms();
    test_many_experiments();
    test_reader();
    TEST_MAIN_END();
}
