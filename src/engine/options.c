/* options.c — the option tables of a tune.run and their one reader (options.h).
 *
 * Each table lists every key its level may hold; the reader walks the JSON
 * object's keys against it (an unknown key is an error, never ignored), then
 * fills every row, the absent ones with their default. The experiments are
 * all read before tc_run_options_read returns, so a bad option in the last
 * experiment stops the run before the first one makes its directory.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "options.h"

#define NONE NAN          /* no bound */
#define BIG 9.007199254740992e15   /* 2^53: the largest count JSON carries exactly */

/* ------------------------------------------------------------------------- */
/* the tables                                                                 */
/* ------------------------------------------------------------------------- */

#define RUN(field) offsetof(tc_run_options, field)
static const tc_option RUN_OPTIONS[] = {
    /* key                   argument                   type            flags                                  min   max   default  where */
    {"experiments",          "experiments",             TC_OPT_ARRAY,   TC_OPT_REQUIRED | TC_OPT_INTERNAL,    NONE, NONE, 0,  RUN(experiments_json)},
    {"capacity",             "capacity",                TC_OPT_OBJECT,  TC_OPT_REQUIRED | TC_OPT_INTERNAL,    NONE, NONE, 0,  RUN(capacity_json)},
    {"scheduler",            "scheduler",               TC_OPT_OBJECT,  TC_OPT_NULLABLE | TC_OPT_INTERNAL,    NONE, NONE, 0,  RUN(scheduler_json)},
    {"resume",               "resume",                  TC_OPT_OBJECT,  TC_OPT_NULLABLE | TC_OPT_INTERNAL,    NONE, NONE, 0,  RUN(resume_json)},
    {"searcher",             "search_alg",              TC_OPT_OBJECT,  TC_OPT_NULLABLE | TC_OPT_INTERNAL,    NONE, NONE, 0,  RUN(searcher_json)},
    {"fail_fast",            "fail_fast",               TC_OPT_BOOL,    0,                                    NONE, NONE, 0,  RUN(runner.fail_fast)},
    {"max_concurrent",       "max_concurrent_trials",   TC_OPT_LONG,    TC_OPT_NULLABLE,                      1,    BIG,  0,  RUN(runner.max_concurrent)},
    {"max_len_identifier",   "MAX_LEN_IDENTIFIER",      TC_OPT_LONG,    TC_OPT_INTERNAL,                      1,    BIG,  130, RUN(runner.max_len_identifier)},
    {"time_budget_s",        "time_budget_s",           TC_OPT_DOUBLE,  TC_OPT_NULLABLE | TC_OPT_POSITIVE,    NONE,    NONE, 0,  RUN(runner.time_budget_s)},
    {"session_str",          "session_str",             TC_OPT_STRING,  TC_OPT_REQUIRED | TC_OPT_INTERNAL,    NONE, NONE, 0,  RUN(runner.session_str)},
    {"worker_argv",          "worker_argv",             TC_OPT_ARRAY,   TC_OPT_REQUIRED | TC_OPT_INTERNAL,    NONE, NONE, 0,  RUN(worker_argv)},
    {"worker_env",           "worker_env",              TC_OPT_ARRAY,   TC_OPT_INTERNAL,                      NONE, NONE, 0,  RUN(worker_env)},
    {"gpu_names",            "gpu_names",               TC_OPT_ARRAY,   TC_OPT_NULLABLE | TC_OPT_INTERNAL,    NONE, NONE, 0,  RUN(gpu_names)},
    {"journal",              "journal",                 TC_OPT_STRING,  TC_OPT_NULLABLE | TC_OPT_INTERNAL,    NONE, NONE, 0,  RUN(journal)},
    {"stop_grace_s",         "TUNEC_STOP_GRACE_S",      TC_OPT_DOUBLE,  TC_OPT_INTERNAL,                      0,    NONE, 10, RUN(stop_grace_s)},
    {"state_period_s",       "global_checkpoint_period", TC_OPT_DOUBLE, 0,                                    0,    NONE, 10, RUN(state_period_s)},
    {"heartbeat_timeout_s",  "TUNEC_HEARTBEAT_TIMEOUT_S", TC_OPT_DOUBLE, TC_OPT_INTERNAL,                     0,    NONE, 30, RUN(heartbeat_timeout_s)},
    {"max_workers",          "max_workers",             TC_OPT_LONG,    TC_OPT_NULLABLE | TC_OPT_INTERNAL,    0,    1e6,  0,  RUN(max_workers)},
    /* Local mode runs one trial at a time in the driver. */
    {"local_mode",           "local_mode",              TC_OPT_BOOL,    TC_OPT_INTERNAL,                      NONE, NONE, 0,  RUN(local_mode)},
    {"reuse_actors",         "reuse_actors",            TC_OPT_BOOL,    0,                                    NONE, NONE, 0,  RUN(reuse_actors)},
};
#undef RUN

#define EXP(field) offsetof(tc_exp_options, field)
static const tc_option EXPERIMENT_OPTIONS[] = {
    {"name",                 "name",                    TC_OPT_STRING,  TC_OPT_REQUIRED,                      NONE, NONE, 0,  EXP(exp.name)},
    {"exp_dir",              "local_dir",               TC_OPT_STRING,  TC_OPT_REQUIRED | TC_OPT_INTERNAL,    NONE, NONE, 0,  EXP(exp.exp_dir)},
    {"trainable_name",       "run",                     TC_OPT_STRING,  TC_OPT_REQUIRED | TC_OPT_INTERNAL,    NONE, NONE, 0,  EXP(exp.trainable_name)},
    /* The host's handle for the trainable: any number of them (no bitmask). */
    {"trainable_id",         "trainable_id",            TC_OPT_INT,     TC_OPT_REQUIRED | TC_OPT_INTERNAL,    0,    2147483647.0, 0, EXP(exp.trainable_id)},
    {"stop",                 "stop",                    TC_OPT_OBJECT,  TC_OPT_NULLABLE,                      NONE, NONE, 0,  EXP(exp.stop)},
    {"resources",            "resources_per_trial",     TC_OPT_OBJECT,  TC_OPT_NULLABLE,                      NONE, NONE, 0,  EXP(resources)},
    {"num_samples",          "num_samples",             TC_OPT_LONG,    TC_OPT_MINUS1,                        1,    BIG,  1,  EXP(num_samples)},
    {"spec",                 "config",                  TC_OPT_OBJECT,  TC_OPT_REQUIRED | TC_OPT_INTERNAL,    NONE, NONE, 0,  EXP(spec)},
    {"seed",                 "seed",                    TC_OPT_U64,     TC_OPT_REQUIRED | TC_OPT_INTERNAL,    0,    NONE, 0,  EXP(exp.seed)},
    {"max_failures",         "max_failures",            TC_OPT_INT,     TC_OPT_MINUS1,                        0,    2147483647.0, 0, EXP(exp.max_failures)},
    {"checkpoint_freq",      "checkpoint_freq",         TC_OPT_LONG,    0,                                    0,    BIG,  0,  EXP(exp.checkpoint_freq)},
    {"checkpoint_at_end",    "checkpoint_at_end",       TC_OPT_BOOL,    0,                                    NONE, NONE, 0,  EXP(exp.checkpoint_at_end)},
    /* None keeps every checkpoint (0 inside the engine); 0 itself is Ray's error. */
    {"keep_checkpoints_num", "keep_checkpoints_num",    TC_OPT_LONG,    TC_OPT_NULLABLE,                      1,    BIG,  0,  EXP(exp.keep_checkpoints_num)},
    /* A result key, "min-" in front when lower is better (checkpoint.c). */
    {"checkpoint_score_attr", "checkpoint_score_attr",  TC_OPT_STRING,  TC_OPT_NULLABLE,                      NONE, NONE, 0,  EXP(exp.checkpoint_score_attr)},
    {"restore",              "restore",                 TC_OPT_STRING,  TC_OPT_NULLABLE,                      NONE, NONE, 0,  EXP(exp.restore_path)},
    {"log_json",             "loggers",                 TC_OPT_BOOL,    TC_OPT_INTERNAL,                      NONE, NONE, 1,  EXP(exp.log_json)},
    {"log_csv",              "loggers",                 TC_OPT_BOOL,    TC_OPT_INTERNAL,                      NONE, NONE, 1,  EXP(exp.log_csv)},
    {"log_tbx",              "loggers",                 TC_OPT_BOOL,    TC_OPT_INTERNAL,                      NONE, NONE, 1,  EXP(exp.log_tbx)},
    /* A Trial handed to a TrialRunner keeps its own trial_id. */
    {"trial_id",             "trial_id",                TC_OPT_STRING,  TC_OPT_NULLABLE,                      NONE, NONE, 0,  EXP(exp.trial_id)},
    /* False, True, a file name or (stdout, stderr): read_log_to_file. */
    {"log_to_file",          "log_to_file",             TC_OPT_ANY,     TC_OPT_NULLABLE,                      NONE, NONE, 0,  EXP(log_to_file)},
};
#undef EXP

#define CAP(field) offsetof(tc_capacity_options, field)
static const tc_option CAPACITY_OPTIONS[] = {
    {"cpu",    "num_cpus",  TC_OPT_DOUBLE, TC_OPT_INTERNAL,                   0, NONE, 1, CAP(cpu)},
    {"gpu",    "num_gpus",  TC_OPT_INT,    TC_OPT_INTERNAL,                   0, 1e6,  0, CAP(gpu)},
    {"custom", "resources", TC_OPT_OBJECT, TC_OPT_NULLABLE | TC_OPT_INTERNAL, NONE, NONE, 0, CAP(custom)},
};
#undef CAP

#define RES(field) offsetof(tc_resume_options, field)
static const tc_option RESUME_OPTIONS[] = {
    {"records",           "resume",            TC_OPT_OBJECT, TC_OPT_REQUIRED | TC_OPT_INTERNAL, NONE, NONE, 0, RES(records)},
    {"resume_unfinished", "resume_unfinished", TC_OPT_BOOL,   0,                                 NONE, NONE, 1, RES(resume_unfinished)},
    {"resume_errored",    "resume_errored",    TC_OPT_BOOL,   0,                                 NONE, NONE, 0, RES(resume_errored)},
    {"restart_errored",   "restart_errored",   TC_OPT_BOOL,   0,                                 NONE, NONE, 0, RES(restart_errored)},
};
#undef RES

#define SCH(field) offsetof(tc_scheduler_options, field)
static const tc_option SCHEDULER_OPTIONS[] = {
    {"spec",        "scheduler", TC_OPT_OBJECT, TC_OPT_REQUIRED | TC_OPT_INTERNAL, NONE, NONE, 0, SCH(spec)},
    {"host_driven", "scheduler", TC_OPT_BOOL,   TC_OPT_INTERNAL,                   NONE, NONE, 0, SCH(host_driven)},
};
#undef SCH

#define COUNT(t) (sizeof(t) / sizeof((t)[0]))

/* ------------------------------------------------------------------------- */
/* the reader                                                                 */
/* ------------------------------------------------------------------------- */

const char *tc_option_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_INTEGER: return "int";
    case JSON_REAL: return "float";
    case JSON_TRUE: case JSON_FALSE: return "bool";
    case JSON_NULL: return "None";
    case JSON_ARRAY: return "list";
    case JSON_STRING: return tc_json_is_bigint(v) ? "int" : tc_json_is_nonfinite(v) ? "float" : "str";
    case JSON_OBJECT: {
        const char *t = json_string_value(json_object_get(v, "$pytype"));
        return t ? t : "dict";
    }
    }
    return "?";
}

static const char *expected_name(tc_opt_type type)
{
    static const char *const NAMES[] = {
        [TC_OPT_INT] = "int", [TC_OPT_LONG] = "int", [TC_OPT_U64] = "int",
        [TC_OPT_DOUBLE] = "number", [TC_OPT_BOOL] = "bool", [TC_OPT_STRING] = "str",
        [TC_OPT_OBJECT] = "dict", [TC_OPT_ARRAY] = "list", [TC_OPT_ANY] = "a value",
    };
    return NAMES[type];
}

/* "tune.run(num_samples=...)", or for what tunec sets itself
 * "tune.run: internal option trainable_id". */
static void option_label(const tc_option *o, const char *where, char *out, size_t n)
{
    if (o->flags & TC_OPT_INTERNAL)
        snprintf(out, n, "%s: internal option %s (%s)", where, o->key, o->arg);
    else
        snprintf(out, n, "%s(%s=...)", where, o->arg);
}

static int type_matches(const tc_option *o, const json_t *v)
{
    switch (o->type) {
    case TC_OPT_INT: case TC_OPT_LONG: case TC_OPT_U64: return json_is_integer(v);
    case TC_OPT_DOUBLE: return json_is_number(v) || tc_json_is_number_marker(v);
    case TC_OPT_BOOL: return json_is_boolean(v);
    case TC_OPT_STRING: return json_is_string(v) && !tc_json_is_number_marker(v);
    case TC_OPT_OBJECT: return json_is_object(v) && !json_object_get(v, "$pytype");
    case TC_OPT_ARRAY: return json_is_array(v);
    case TC_OPT_ANY: return !json_is_null(v) && !(json_is_object(v) && json_object_get(v, "$pytype"));
    }
    return 0;
}

static int check_range(const tc_option *o, const json_t *v, double d, const char *label,
                       tc_error *err)
{
    char text[64];
    tc_buf repr;
    if (isnan(d) || isinf(d)) {
        if (!isnan(o->max) || !isinf(d) || d < 0)
            return tc_error_set(err, TC_ERR_VALUE, "%s: must be a finite number, got %s", label,
                                isnan(d) ? "nan" : d < 0 ? "-inf" : "inf");
        return 0;   /* +inf where no upper bound: "forever" */
    }
    if (d == -1 && (o->flags & TC_OPT_MINUS1))
        return 0;
    if (d <= 0 && (o->flags & TC_OPT_POSITIVE)) {
        tc_buf_init(&repr);
        tc_py_repr(v, &repr);
        tc_error_set(err, TC_ERR_VALUE, "%s: must be > 0, got %s", label,
                     repr.data ? repr.data : "?");
        tc_buf_free(&repr);
        return -1;
    }
    int low = !isnan(o->min) && d < o->min;
    int high = !isnan(o->max) && d > o->max;
    if (!low && !high)
        return 0;
    tc_buf_init(&repr);
    tc_py_repr(v, &repr);
    if (low)
        snprintf(text, sizeof text, ">= %.17g%s", o->min,
                 (o->flags & TC_OPT_MINUS1) ? " (or -1)" : "");
    else
        snprintf(text, sizeof text, "<= %.17g", o->max);
    tc_error_set(err, TC_ERR_VALUE, "%s: must be %s, got %s", label, text,
                 repr.data ? repr.data : "?");
    tc_buf_free(&repr);
    return -1;
}

static void store_default(const tc_option *o, char *field)
{
    switch (o->type) {
    case TC_OPT_INT: case TC_OPT_BOOL: *(int *)field = (int)o->dflt; break;
    case TC_OPT_LONG: *(long *)field = (long)o->dflt; break;
    case TC_OPT_U64: *(uint64_t *)field = (uint64_t)o->dflt; break;
    case TC_OPT_DOUBLE: *(double *)field = o->dflt; break;
    case TC_OPT_STRING: *(const char **)field = NULL; break;
    default: *(const json_t **)field = NULL; break;
    }
}

static int read_one(const tc_option *o, const json_t *v, char *field, const char *where,
                    tc_error *err)
{
    char label[160];
    option_label(o, where, label, sizeof label);
    if (!v || (json_is_null(v) && (o->flags & TC_OPT_NULLABLE))) {
        if (!v && (o->flags & TC_OPT_REQUIRED))
            return tc_error_set(err, TC_ERR_VALUE, "%s: missing", label);
        store_default(o, field);
        return 0;
    }
    if (!type_matches(o, v))
        return tc_error_set(err, TC_ERR_TYPE, "%s: expected %s, got %s", label,
                            expected_name(o->type), tc_option_type_name(v));
    double d = 0;
    switch (o->type) {
    case TC_OPT_INT: case TC_OPT_LONG: case TC_OPT_U64: {
        json_int_t i = json_integer_value(v);
        if (check_range(o, v, (double)i, label, err) < 0)
            return -1;
        if (o->type == TC_OPT_INT)
            *(int *)field = (int)i;
        else if (o->type == TC_OPT_LONG)
            *(long *)field = (long)i;
        else
            *(uint64_t *)field = (uint64_t)i;
        return 0;
    }
    case TC_OPT_DOUBLE:
        tc_json_number(v, &d);
        if (check_range(o, v, d, label, err) < 0)
            return -1;
        *(double *)field = d;
        return 0;
    case TC_OPT_BOOL:
        *(int *)field = json_is_true(v);
        return 0;
    case TC_OPT_STRING:
        *(const char **)field = json_string_value(v);
        return 0;
    default:
        *(const json_t **)field = v;
        return 0;
    }
}

int tc_options_read(const tc_option *table, size_t n, const json_t *obj, void *dest,
                    const char *where, tc_error *err)
{
    if (!json_is_object(obj))
        return tc_error_set(err, TC_ERR_TYPE, "%s: options must be a dict, got %s", where,
                            tc_option_type_name(obj));
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)obj, key, value) {
        size_t i = 0;
        while (i < n && strcmp(table[i].key, key) != 0)
            i++;
        if (i == n)
            return tc_error_set(err, TC_ERR_VALUE, "%s: unknown option %s", where, key);
    }
    for (size_t i = 0; i < n; i++) {
        if (read_one(&table[i], json_object_get(obj, table[i].key),
                     (char *)dest + table[i].offset, where, err) < 0)
            return -1;
    }
    return 0;
}

void tc_run_options_free(tc_run_options *o)
{
    tc_free(o->exps);
    o->exps = NULL;
    o->nexps = 0;
}

/* Every string of a worker_argv / worker_env / gpu_names array. */
static int check_strings(const json_t *arr, const char *key, tc_error *err)
{
    size_t i;
    const json_t *s;
    json_array_foreach(arr, i, s) {
        if (!json_is_string(s))
            return tc_error_set(err, TC_ERR_TYPE, "tune.run: internal option %s[%zu]: expected "
                                "str, got %s", key, i, tc_option_type_name(s));
    }
    return 0;
}

static int read_experiments(const json_t *list, tc_run_options *out, tc_error *err)
{
    size_t n = json_array_size(list);
    if (n == 0)
        return tc_error_set(err, TC_ERR_VALUE, "tune.run: no experiment to run");
    out->exps = tc_calloc(n, sizeof *out->exps);
    if (!out->exps)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    out->nexps = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(list, i);
        /* One experiment: tune.run's own arguments. Several: say which. */
        char where[200] = "tune.run";
        const char *name = json_string_value(json_object_get(e, "name"));
        if (n > 1)
            snprintf(where, sizeof where, "Experiment '%s'", name ? name : "?");
        if (tc_experiment_options_read(e, &out->exps[i], where, err) < 0)
            return -1;
    }
    return 0;
}

/* One stream's file of a (stdout, stderr) pair: a name, or None / "" to
 * leave that stream alone (Ray opens only the names that are truthy). */
static int log_file_item(const json_t *v, size_t i, const char **out, const char *where,
                         tc_error *err)
{
    if (json_is_null(v))
        return 0;
    if (!json_is_string(v) || tc_json_is_number_marker(v))
        return tc_error_set(err, TC_ERR_TYPE, "%s(log_to_file=...): item %zu of the (stdout, "
                            "stderr) pair must be a str, got %s", where, i,
                            tc_option_type_name(v));
    if (json_string_length(v) > 0)
        *out = json_string_value(v);
    return 0;
}

/* Ray's _validate_log_to_file: True -> "stdout" and "stderr"; a str -> both
 * streams to that file; a pair -> one file each; False -> neither. The
 * names are relative to the trial's logdir. */
static int read_log_to_file(const json_t *v, tc_experiment_opts *exp, const char *where,
                            tc_error *err)
{
    exp->stdout_file = exp->stderr_file = NULL;
    if (!v || json_is_false(v))
        return 0;
    if (json_is_true(v)) {
        exp->stdout_file = "stdout";
        exp->stderr_file = "stderr";
        return 0;
    }
    if (json_is_string(v) && !tc_json_is_number_marker(v)) {
        if (json_string_length(v) > 0)
            exp->stdout_file = exp->stderr_file = json_string_value(v);
        return 0;
    }
    if (json_is_array(v)) {
        if (json_array_size(v) != 2)
            return tc_error_set(err, TC_ERR_VALUE, "%s(log_to_file=...): a sequence must have "
                                "a length of 2 (for stdout and stderr, respectively), got "
                                "length %zu", where, json_array_size(v));
        if (log_file_item(json_array_get(v, 0), 0, &exp->stdout_file, where, err) < 0 ||
            log_file_item(json_array_get(v, 1), 1, &exp->stderr_file, where, err) < 0)
            return -1;
        return 0;
    }
    return tc_error_set(err, TC_ERR_TYPE, "%s(log_to_file=...): expected a bool, a str or a "
                        "(stdout, stderr) pair of str, got %s", where, tc_option_type_name(v));
}

int tc_experiment_options_read(const json_t *obj, tc_exp_options *out, const char *where,
                               tc_error *err)
{
    memset(out, 0, sizeof *out);
    if (tc_options_read(EXPERIMENT_OPTIONS, COUNT(EXPERIMENT_OPTIONS), obj, out, where, err) < 0)
        return -1;
    /* The id names the trial's directory and its journal records. */
    const char *id = out->exp.trial_id;
    if (id && (id[0] == '\0' || strlen(id) >= sizeof ((tc_trial *)0)->trial_id ||
               strchr(id, '/') || strchr(id, '"') || strchr(id, '\\')))
        return tc_error_set(err, TC_ERR_VALUE, "%s(trial_id=...): expected 1 to 31 characters "
                            "without '/', '\"' or '\\', got \"%s\"", where, id);
    return read_log_to_file(out->log_to_file, &out->exp, where, err);
}

int tc_run_options_read(const json_t *opts, tc_run_options *out, tc_error *err)
{
    memset(out, 0, sizeof *out);
    if (tc_options_read(RUN_OPTIONS, COUNT(RUN_OPTIONS), opts, out, "tune.run", err) < 0)
        goto fail;
    const json_t *experiments = out->experiments_json, *capacity = out->capacity_json,
                 *resume = out->resume_json, *scheduler = out->scheduler_json;
    if (tc_options_read(CAPACITY_OPTIONS, COUNT(CAPACITY_OPTIONS), capacity, &out->capacity,
                        "tune.run capacity", err) < 0)
        goto fail;
    out->has_resume = resume && !json_is_null(resume);
    if (out->has_resume && tc_options_read(RESUME_OPTIONS, COUNT(RESUME_OPTIONS), resume,
                                           &out->resume, "tune.run resume", err) < 0)
        goto fail;
    out->has_scheduler = scheduler && !json_is_null(scheduler);
    if (out->has_scheduler && tc_options_read(SCHEDULER_OPTIONS, COUNT(SCHEDULER_OPTIONS),
                                              scheduler, &out->scheduler, "tune.run scheduler",
                                              err) < 0)
        goto fail;
    if (json_array_size(out->worker_argv) == 0)
        return tc_error_set(err, TC_ERR_VALUE,
                            "tune.run: internal option worker_argv must name the Python "
                            "executable");
    if (check_strings(out->worker_argv, "worker_argv", err) < 0 ||
        check_strings(out->worker_env, "worker_env", err) < 0 ||
        check_strings(out->gpu_names, "gpu_names", err) < 0)
        goto fail;
    if (read_experiments(experiments, out, err) < 0)
        goto fail;
    for (size_t i = 0; out->runner.fail_fast && i < out->nexps; i++) {
        if (out->exps[i].exp.max_failures != 0) {
            tc_error_set(err, TC_ERR_VALUE, "max_failures must be 0 if fail_fast=True.");
            goto fail;
        }
    }
    return 0;
fail:
    tc_run_options_free(out);
    return -1;
}
