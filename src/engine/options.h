/* options.h — the options of one tune.run, as they cross from the host.
 *
 * The host (tunec/_run.py) sends every option as one JSON object. It is read
 * here, once, against one table per level (run, experiment, and the small
 * nested objects): each row names the key, the tune.run argument it comes
 * from, its type, its range, its default and the field it fills. An unknown
 * key, a wrong type or a value out of range is an error naming the argument
 * ("tune.run(num_samples=...): expected int, got str") before anything runs:
 * no directory is made and no trial exists until every experiment's options
 * have been read. Nothing falls back to a default when a value is present but
 * wrong.
 *
 * Strings and JSON values in the results are borrowed from the options
 * object: it must outlive the tc_run_options filled from it.
 */
#ifndef TUNEC_OPTIONS_H
#define TUNEC_OPTIONS_H

#include "runner.h"

/* How a value is checked, and the C type of the field it fills. */
typedef enum {
    TC_OPT_INT,      /* JSON integer            -> int        */
    TC_OPT_LONG,     /* JSON integer            -> long       */
    TC_OPT_U64,      /* JSON integer >= 0       -> uint64_t   */
    TC_OPT_DOUBLE,   /* JSON integer or real    -> double     */
    TC_OPT_BOOL,     /* JSON true / false       -> int        */
    TC_OPT_STRING,   /* JSON string             -> const char * (borrowed) */
    TC_OPT_OBJECT,   /* JSON object             -> const json_t * (borrowed) */
    TC_OPT_ARRAY,    /* JSON array              -> const json_t * (borrowed) */
    TC_OPT_ANY       /* any JSON value but null -> const json_t * (borrowed) */
} tc_opt_type;

enum {
    TC_OPT_NULLABLE = 1 << 0,   /* null (Python None) means "the default" */
    TC_OPT_REQUIRED = 1 << 1,   /* the key must be there */
    TC_OPT_MINUS1   = 1 << 2,   /* -1 ("unlimited") is allowed below min */
    TC_OPT_INTERNAL = 1 << 3,   /* set by tunec itself, not a user argument */
    TC_OPT_POSITIVE = 1 << 4    /* numbers: must be > 0 */
};

/* One row of an option table. Numbers are checked against [min, max]; a
 * missing (or null, when NULLABLE) value gets dflt (numbers and bools) or
 * NULL (strings and JSON values). */
typedef struct tc_option {
    const char *key;      /* key in the options JSON */
    const char *arg;      /* the argument the user wrote (errors name it) */
    tc_opt_type type;
    unsigned flags;
    double min, max;
    double dflt;
    size_t offset;        /* of the field it fills in the destination struct */
} tc_option;

/* Reads obj against table[0..n): fills dest, or fails naming the argument
 * (TC_ERR_TYPE for a wrong type, TC_ERR_VALUE for a missing key, a value out
 * of range or an unknown key). where prefixes the message: "tune.run". */
int tc_options_read(const tc_option *table, size_t n, const json_t *obj, void *dest,
                    const char *where, tc_error *err);

/* Python's name for a JSON value's type ("int", "float", "str", "bool",
 * "None", "list", "dict"); an object {"$pytype": "T"} — what the host sends
 * for a value JSON cannot hold — is called "T". */
const char *tc_option_type_name(const json_t *v);

/* The "capacity" object: the CPUs, GPUs and custom resources trials share. */
typedef struct tc_capacity_options {
    double cpu;
    int gpu;
    const json_t *custom;         /* {name: amount} or NULL */
} tc_capacity_options;

/* The "resume" object: an earlier session's trials and what to do with them
 * (tc_runner_set_resume). */
typedef struct tc_resume_options {
    const json_t *records;        /* {trial_id: record} */
    int resume_unfinished, resume_errored, restart_errored;
} tc_resume_options;

/* The "scheduler" object (tc_runner_set_scheduler). */
typedef struct tc_scheduler_options {
    const json_t *spec;
    int host_driven;              /* a Python scheduler takes every event */
} tc_scheduler_options;

/* One experiment. */
typedef struct tc_exp_options {
    tc_experiment_opts exp;       /* what tc_runner_add_experiment takes; exp.resources is
                                     still to be parsed from `resources` */
    long num_samples;             /* -1: endless */
    const json_t *spec;           /* the encoded search space (config) */
    const json_t *resources;      /* resources_per_trial, parsed by tc_resources_parse */
    const json_t *log_to_file;    /* as given; read into exp.stdout_file / stderr_file */
} tc_exp_options;

/* A whole tune.run. */
typedef struct tc_run_options {
    tc_runner_opts runner;        /* hostname is left for the host to set */
    /* the nested objects, as given (read into the fields below) */
    const json_t *experiments_json, *capacity_json, *resume_json, *scheduler_json;
    const json_t *searcher_json;  /* an engine searcher ({"type": "tpe", ...}) or NULL */
    tc_capacity_options capacity;
    int has_resume, has_scheduler;
    tc_resume_options resume;
    tc_scheduler_options scheduler;
    tc_exp_options *exps;         /* owned array (tc_run_options_free) */
    size_t nexps;
    /* the local executor's settings */
    const json_t *worker_argv, *worker_env, *gpu_names;   /* arrays of strings */
    const char *journal;          /* experiment_state-<session>.journal or NULL */
    double stop_grace_s;          /* how long a worker may ignore STOP */
    double state_period_s;        /* global_checkpoint_period */
    double heartbeat_timeout_s;
    long max_workers;             /* 0: from the capacity */
    int reuse_actors;
    int local_mode;               /* trials run in the driver, one at a time */
} tc_run_options;

/* Reads and checks every option of a tune.run, each experiment's included.
 * On failure nothing is left to free. */
int tc_run_options_read(const json_t *opts, tc_run_options *out, tc_error *err);
void tc_run_options_free(tc_run_options *o);
/* Reads and checks one experiment's options (what tc_run_options_read does
 * for each; also for an experiment added to a running Run). where prefixes
 * errors ("tune.run"). */
int tc_experiment_options_read(const json_t *obj, tc_exp_options *out, const char *where,
                               tc_error *err);

#endif
