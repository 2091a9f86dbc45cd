/* tunec.h — the public API of the tunec engine.
 *
 * Plain C11 + jansson. No Python.h, no clock reads, no direct file I/O in the
 * state machine: the host (the CPython extension, or a C test) hands in the
 * clock, the random seed, directory creation and output sinks. The analysis
 * loader (analysis.c) is the one reader of files and says so.
 *
 * Ownership words used below (jansson's convention):
 *   new      — the caller receives a reference it must release;
 *   borrowed — the caller must not release it, valid until the owner changes;
 *   stolen   — the callee takes the caller's reference, even on failure.
 *
 * Errors: functions return 0 / -1 (or NULL) and fill a caller-owned tc_error;
 * the first error set wins (error.c).
 */
#ifndef TUNEC_H
#define TUNEC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "alloc.h"   /* tc_malloc and friends: every engine allocation */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------- */
/* error.c — caller-owned error record, first error wins                      */
/* ------------------------------------------------------------------------- */

typedef enum {
    TC_OK = 0,
    TC_ERR_VALUE,      /* -> ValueError */
    TC_ERR_TUNE,       /* -> TuneError */
    TC_ERR_TYPE,       /* -> TypeError */
    TC_ERR_NOMEM,      /* -> MemoryError */
    TC_ERR_IO,         /* -> OSError */
    TC_ERR_CALLBACK,   /* a host callback failed; the host holds the details
                          (a Python exception is already set) */
    TC_ERR_DEPENDENCY  /* sample_from touched an unresolved value: retry later */
} tc_errcode;

typedef struct tc_error {
    int code;          /* tc_errcode; TC_OK when nothing happened */
    char text[1024];
} tc_error;

void tc_error_init(tc_error *err);
/* Sets the error unless one is already set. Always returns -1 so callers can
 * `return tc_error_set(...)`. */
int tc_error_set(tc_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Forgets a previous error (used when a retry makes it moot). */
void tc_error_clear(tc_error *err);

/* ------------------------------------------------------------------------- */
/* buf.c — growable byte buffer                                               */
/* ------------------------------------------------------------------------- */

typedef struct tc_buf {
    char *data;        /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    int failed;        /* sticky: an append failed (ENOMEM) since the last init or
                          clear, so the text is incomplete; later appends fail too.
                          A builder may append without checking each call and
                          check this once at the end. */
} tc_buf;

void tc_buf_init(tc_buf *b);
void tc_buf_free(tc_buf *b);
void tc_buf_clear(tc_buf *b);                 /* len = 0, keeps the memory, failed = 0 */
int tc_buf_reserve(tc_buf *b, size_t extra);  /* 0 / -1 on ENOMEM */
int tc_buf_append(tc_buf *b, const char *data, size_t len);
int tc_buf_puts(tc_buf *b, const char *s);
int tc_buf_putc(tc_buf *b, char c);
int tc_buf_printf(tc_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* FNV-1a hash of n bytes (the engine's hash tables). */
uint64_t tc_hash_bytes(const char *s, size_t n);

/* ------------------------------------------------------------------------- */
/* jsonx.c — JSON the way Python's json module writes it                      */
/* ------------------------------------------------------------------------- */

/* jansson cannot hold NaN or ±Infinity, which Ray writes as the bare tokens
 * NaN / Infinity / -Infinity. Inside the engine such a value is a JSON string
 * made of TC_NONFINITE_MARK followed by "NaN", "Infinity" or "-Infinity";
 * tc_json_dump writes it back as the bare token. */
#define TC_NONFINITE_MARK "\x1f"

json_t *tc_json_real(double v);                     /* new; finite -> json_real, else marker string */
int tc_json_number(const json_t *v, double *out);   /* 1 if integer, real or marker; 0 otherwise (NULL too) */
int tc_json_truthy(const json_t *v);               /* Python's bool() of the value; NULL: 0 */
int tc_json_is_nonfinite(const json_t *v);         /* NaN / ±Infinity marker */
/* An integer outside json_int_t (2**63, 10**30) is a string of
 * TC_NONFINITE_MARK + its decimal digits ("-" first when negative); the
 * writers print the digits, tc_json_number gives the nearest double. */
json_t *tc_json_bigint(const char *digits, size_t n); /* new; digits as json.dumps writes them */
int tc_json_is_bigint(const json_t *v);
int tc_json_is_number_marker(const json_t *v);      /* non-finite or big-integer marker */

/* Parse one JSON text; accepts NaN, Infinity, -Infinity outside strings. New
 * reference, or NULL with err set (TC_ERR_VALUE, message names line/column). */
json_t *tc_json_loads(const char *text, size_t len, tc_error *err);
/* The same reader through jansson alone (bare tokens rewritten to markers
 * first): slower, and what tc_json_loads falls back to for errors. Kept
 * public as the reference the fast reader is tested against. */
json_t *tc_json_loads_jansson(const char *text, size_t len, tc_error *err);

enum {
    TC_DUMP_COMPACT = 0,     /* {"a": 1, "b": [1, 2]} — json.dumps default separators */
    TC_DUMP_INDENT2_SORTED = 1 /* params.json: indent=2, sort_keys=True */
};
/* Appends the JSON text of v to out. Floats use the shortest text that reads
 * back to the same double, with a ".0" when Python would print one. Returns
 * 0 / -1 (ENOMEM). */
int tc_json_dump(const json_t *v, tc_buf *out, int mode);

/* Python repr of a double ("0.1", "1.0", "1e+16", "nan", "inf"), NUL-terminated
 * into buf (at least 32 bytes). Returns the length. */
int tc_format_double(double v, char *buf);
/* Python's format(v, ".5"): five significant digits, used in experiment tags.
 * Like %.5g with ".0" on whole numbers, and exponent form from 1e4 on:
 * 1.0 -> "1.0", 1234.0 -> "1234.0", 12345.0 -> "1.2345e+04" (CPython's
 * Py_DTSF_ADD_DOT_0 rule). buf: at least 32 bytes; returns the length. */
int tc_format_double_5(double v, char *buf);
/* Decimal text of v into buf (at least 24 bytes); returns the length. */
int tc_format_int(long long v, char *buf);

/* Appends Python's str(value) of the JSON value: strings bare at top level,
 * quoted inside containers, True/False/None, lists as "[1, 2]", dicts as
 * "{'a': 1}". Used for CSV cells and tags. */
int tc_py_str(const json_t *v, tc_buf *out);
/* Appends Python's repr(value): like tc_py_str, but a top-level string is
 * quoted too ("'abc'"). Used in error messages. */
int tc_py_repr(const json_t *v, tc_buf *out);

/* ------------------------------------------------------------------------- */
/* flatten.c — "/"-joined views of nested results                             */
/* ------------------------------------------------------------------------- */

/* New object with nested dicts flattened, keys joined by delim. Lists are kept
 * as values. A top-level key equal to skip_key (may be NULL) is left out.
 * Values are borrowed into the new object (incref'd). */
json_t *tc_flatten(const json_t *obj, const char *delim, const char *skip_key);
/* One flattened (key, value) pair; key is NUL-terminated (key_len bytes),
 * value borrowed. Return 0 to go on, -1 to stop the walk. */
typedef int (*tc_flatten_fn)(void *ctx, const char *key, size_t key_len, json_t *value);
/* Visits what tc_flatten would hold, in the same order (Ray's flatten_dict:
 * breadth first), without building an object. keybuf is caller-owned scratch
 * reused across calls. Returns 0, or -1 (obj not an object, ENOMEM, fn). */
int tc_flatten_walk(const json_t *obj, const char *delim, const char *skip_key, tc_buf *keybuf,
                    tc_flatten_fn fn, void *ctx);
/* Borrowed value at a "/"-separated path ("a/b/c") in a nested object: first
 * the literal key, then the nested walk. NULL if absent. */
json_t *tc_json_path_get(const json_t *obj, const char *path);

/* ------------------------------------------------------------------------- */
/* log_json.c / log_csv.c — result.json lines and progress.csv rows           */
/* ------------------------------------------------------------------------- */

/* Appends one result.json line (compact JSON + "\n"). */
int tc_log_json_line(const json_t *result, tc_buf *out);

/* progress.csv: the header is fixed by the first row's keys (the result with
 * "config" dropped and dicts flattened with "/"); later keys are dropped,
 * missing ones are empty cells; rows end in "\r\n" like csv.DictWriter. */
typedef struct tc_csv tc_csv;
/* existing_header: the header line of a file that already exists (resume),
 * or NULL for a new file. New object. */
tc_csv *tc_csv_new(const char *existing_header);
void tc_csv_free(tc_csv *csv);
/* Appends the header (first call on a new file) and one row. */
int tc_csv_row(tc_csv *csv, const json_t *result, tc_buf *out);

/* ------------------------------------------------------------------------- */
/* rng.c — xoshiro256**, seeded with splitmix64                               */
/* ------------------------------------------------------------------------- */

typedef struct tc_rng { uint64_t s[4]; } tc_rng;

void tc_rng_seed(tc_rng *r, uint64_t seed);
uint64_t tc_rng_next(tc_rng *r);
double tc_rng_uniform(tc_rng *r);             /* [0, 1) */
double tc_rng_normal(tc_rng *r);              /* mean 0, sd 1 */
uint64_t tc_rng_below(tc_rng *r, uint64_t n); /* [0, n), unbiased; n > 0 */

/* ------------------------------------------------------------------------- */
/* space.c — search-space expansion (spec §5)                                 */
/* ------------------------------------------------------------------------- */

/* The search space is the experiment spec as JSON, {"config": {...}}, where
 * these nodes are unresolved (everything else is a constant):
 *   {"grid_search": [v0, v1, ...]}                       grid variable
 *   {"$tunec": "fn", "id": N}                            Python sample_from / eval,
 *                                                        resolved through tc_eval_fn
 *   {"$tunec": "domain", "kind": K, ...}                 sampled in C, kinds:
 *        "uniform"     lower, upper                  float in [lower, upper)
 *        "quniform"    lower, upper, q               round(u / q) * q
 *        "loguniform"  lower, upper, base            base ** U(log lower, log upper)
 *        "qloguniform" lower, upper, q, base
 *        "randint"     lower, upper                  int in [lower, upper)
 *        "qrandint"    lower, upper, q               int, multiple of q, upper inclusive
 *        "lograndint"  lower, upper, base            int, log-uniform, upper exclusive
 *        "qlograndint" lower, upper, q, base         upper inclusive
 *        "randn"       mean, sd, [q], [shape]        normal; shape (a list) gives nested lists
 *        "choice"      categories                    one of the list's values
 *      ("base" defaults to 10, randn's mean/sd to 0/1; "int": true on quniform,
 *       qloguniform and randn emits integers; domain.c documents each kind)
 *   {"$tunec": "obj", "id": N, "repr": "..."}            opaque Python constant
 * Paths are JSON arrays of keys (strings) and list indices (integers). */

/* Host callback resolving {"$tunec": "fn"} node `id` at `path`, given the
 * partially resolved spec (borrowed). Returns a new reference. On a reference
 * to a still-unresolved value, set err->code = TC_ERR_DEPENDENCY (retried in the
 * next pass); other failures set another code and abort. */
typedef json_t *(*tc_eval_fn)(void *ctx, json_int_t id, const json_t *path,
                              const json_t *spec, tc_error *err);

typedef struct tc_variant {
    long index;              /* running counter, 0-based (the tag's prefix) */
    json_t *config;          /* new: fully resolved config */
    json_t *resolved_vars;   /* new: [[path, value], ...] sorted by path */
    json_t *evaluated_params;/* new: {"a/b": value} for grid and sampled paths */
    char *tag;               /* malloc'd: "3_alpha=0.5,beta=2" */
    json_t *spec;            /* new: the whole resolved spec (config included) */
} tc_variant;

typedef struct tc_space tc_space;

/* Validates the spec (bad domains name their config path: TC_ERR_VALUE) and
 * prepares num_samples repetitions of the grid (num_samples < 0: unbounded).
 * Optional keys beside "config": "points_to_evaluate" (partial configs, each
 * merged over the config and expanded first, one repetition each) and
 * "shuffle": true (every variant made, then yielded in a seeded order; needs
 * num_samples >= 0).
 * spec is borrowed (deep-copied). Variants are drawn from one stream seeded
 * with `seed`, so the same seed gives the same configs, in order. */
tc_space *tc_space_new(const json_t *spec, long num_samples, uint64_t seed, tc_error *err);
void tc_space_free(tc_space *s);
/* 1 = *out filled (caller clears it with tc_variant_clear), 0 = exhausted,
 * -1 = error. fn may be NULL when the spec has no "fn" nodes. */
int tc_space_next(tc_space *s, tc_eval_fn fn, void *ctx, tc_variant *out, tc_error *err);
/* Grid points per repetition (product of grid sizes found before sampling). */
long tc_space_grid_size(const tc_space *s);
/* Continue numbering variants from `next_index` (several experiments share
 * one counter, spec §5.4). */
void tc_space_set_next_index(tc_space *s, long next_index);
long tc_space_next_index(const tc_space *s);
void tc_variant_clear(tc_variant *v);

/* format_vars of spec §5.5 over [[path, value], ...]: "alpha=0.5,beta=2".
 * Appends to out. */
int tc_format_vars(const json_t *resolved_vars, tc_buf *out);

/* ------------------------------------------------------------------------- */
/* resources.c — trial resource requests and the capacity they draw on        */
/* ------------------------------------------------------------------------- */

#define TC_MAX_CUSTOM 16
#define TC_MAX_GPUS 64

typedef struct tc_custom_res { char name[64]; double amount; } tc_custom_res;

typedef struct tc_resources {
    double cpu, gpu, extra_cpu, extra_gpu;
    int ncustom;
    tc_custom_res custom[TC_MAX_CUSTOM];   /* custom + extra_custom, summed */
} tc_resources;

typedef struct tc_capacity {
    tc_resources total;
    tc_resources used;
    int ngpus;                       /* whole devices, ids 0..ngpus-1 */
    double gpu_free[TC_MAX_GPUS];    /* free fraction per device */
} tc_capacity;

/* Parses {"cpu": 1, "gpu": 0.5, "extra_cpu": ..., "custom_resources": {...},
 * "extra_custom_resources": {...}, "memory": ..} into r. Unknown keys and
 * negative amounts are TC_ERR_TUNE naming `where` and the key. */
int tc_resources_parse(const json_t *obj, tc_resources *r, const char *where, tc_error *err);
void tc_capacity_init(tc_capacity *c, double cpus, int gpus, const json_t *custom /* may be NULL */);
/* 1 if the request could ever fit the total capacity; else 0 and err explains. */
int tc_capacity_can_ever_fit(const tc_capacity *c, const tc_resources *r, tc_error *err);
/* 1 if it fits now. */
int tc_capacity_fits(const tc_capacity *c, const tc_resources *r);
/* Takes the resources; fills gpu_ids (at most TC_MAX_GPUS) with the devices
 * assigned, *ngpu_ids with their count. Requires tc_capacity_fits. */
void tc_capacity_acquire(tc_capacity *c, const tc_resources *r, int *gpu_ids, int *ngpu_ids);
void tc_capacity_release(tc_capacity *c, const tc_resources *r, const int *gpu_ids, int ngpu_ids);
/* "Resources requested: 2/2 CPUs, 0/0 GPUs, 0.0/0.0 GiB heap, 0.0/0.0 GiB objects" */
int tc_capacity_debug_string(const tc_capacity *c, tc_buf *out);
/* {"cpu": 1, "gpu": 0, ...} new object */
json_t *tc_resources_to_json(const tc_resources *r);

/* ------------------------------------------------------------------------- */
/* stopper.c — the stop dict (spec §7.1)                                      */
/* ------------------------------------------------------------------------- */

/* Validates a stop dict before any trial starts: values must be numbers; a
 * dict value is TC_ERR_VALUE ("Stopping criteria is now flattened ..."). */
int tc_stop_validate(const json_t *criteria, tc_error *err);
/* Sets *stop to 1 if result["done"] is truthy or any result[key] >= value.
 * A key missing from the result is TC_ERR_TUNE ("Stopping criteria k not
 * provided in result ..."). result is the nested result; keys may use "/". */
int tc_stop_check(const json_t *criteria, const json_t *result, int *stop, tc_error *err);

/* ------------------------------------------------------------------------- */
/* analysis.c, result_table.c — the experiment loader (spec §10.1–10.7)       */
/* ------------------------------------------------------------------------- */

/* analysis.c is the one engine file that reads files itself (plain stdio);
 * result_table.c parses the text. A trial table has the columns progress.csv
 * would have (§10.4: result minus "config", dicts flattened with "/", column
 * set and order fixed by the first row), read from result.json when it gives
 * a row, else from progress.csv. */

typedef enum {
    TC_SOURCE_NONE = 0,      /* no readable row: the trial is skipped */
    TC_SOURCE_RESULT_JSON,
    TC_SOURCE_PROGRESS_CSV
} tc_table_source;

/* A cell's type, one byte per row. Numbers live in num[]; strings and lists
 * in the table's string pool (lists as their raw JSON text). */
enum {
    TC_CELL_MISSING = 0,   /* the row has no such key */
    TC_CELL_NULL,
    TC_CELL_INT,           /* a number written as an integer */
    TC_CELL_REAL,          /* any other number, NaN and ±Infinity included */
    TC_CELL_TRUE,
    TC_CELL_FALSE,
    TC_CELL_STRING,        /* ref: the decoded UTF-8 text (interned per table) */
    TC_CELL_LIST           /* ref: the raw JSON text of a list */
};
#define TC_CELL_BIT(tag) (1u << (tag))
#define TC_KINDS_NUMERIC (TC_CELL_BIT(TC_CELL_MISSING) | TC_CELL_BIT(TC_CELL_NULL) | \
                          TC_CELL_BIT(TC_CELL_INT) | TC_CELL_BIT(TC_CELL_REAL))
#define TC_KINDS_BOOL (TC_CELL_BIT(TC_CELL_TRUE) | TC_CELL_BIT(TC_CELL_FALSE))

typedef struct tc_column {
    char *name;      /* "/"-flattened result key, in the table's col_names */
    double *num;     /* n_rows numbers; NaN where the cell is not a number
                        (NULL when n_rows is 0); malloc'd with tag[] */
    unsigned char *tag;   /* n_rows TC_CELL_* (NULL when n_rows is 0), in
                             num's allocation: freeing num frees it */
    uint32_t *ref;   /* n_rows string-pool ids for STRING/LIST cells; NULL
                        until the column holds one */
    int64_t *ival;   /* n_rows exact values of the INT cells; NULL until the
                        column holds one past 2**53, where num[] rounds
                        (read them with tc_column_int) */
    unsigned kinds;  /* TC_CELL_BIT of every tag present */
    int is_int;      /* every row holds an integer (pandas would read int64) */
} tc_column;

/* A column typed once: what the loader hands to NumPy. */
typedef enum {
    TC_COLTYPE_FLOAT,   /* numbers and missing cells: float64 */
    TC_COLTYPE_INT,     /* integers in every row: int64 */
    TC_COLTYPE_BOOL,    /* true/false in every row: bool */
    TC_COLTYPE_OBJECT   /* anything else: one value per cell */
} tc_coltype;
tc_coltype tc_column_type(const tc_column *c, size_t n_rows);
/* The exact value of the INT cell at row r. */
static inline int64_t tc_column_int(const tc_column *c, size_t r)
{
    return c->ival ? c->ival[r] : (int64_t)c->num[r];
}

/* The strings of one table, each stored once (cells refer to them by id). */
typedef struct tc_strpool {
    tc_buf text;          /* the strings, each NUL-terminated */
    size_t *off, *len;    /* per id */
    size_t n, cap;
    uint32_t *slots;      /* open-addressing index: id + 1, 0 = free */
    size_t n_slots;
} tc_strpool;
#define tc_strpool_get(p, id) ((p)->text.data + (p)->off[id])

typedef struct tc_trial_table {
    char *logdir;       /* malloc'd, as found (walk) or as given */
    json_t *params;     /* new: params.json, NULL if absent or unreadable */
    int source;         /* tc_table_source */
    size_t n_rows, n_cols;
    tc_column *cols;
    char *col_names;    /* malloc'd: every column's name, NUL-terminated */
    tc_strpool strings; /* the STRING and LIST cells' texts */
    size_t n_bad_lines; /* invalid lines skipped, the last line not counted */
    int torn_tail;      /* the last line was invalid (a write in progress) */
} tc_trial_table;

/* New JSON value of a cell (json null where missing); NULL on ENOMEM or a
 * list whose text no longer parses. For tests and slow paths only. */
json_t *tc_column_cell_json(const tc_trial_table *t, const tc_column *c, size_t row);

typedef struct tc_analysis {
    tc_trial_table *trials;  /* every trial dir found or given, in order */
    size_t n_trials, cap;
    size_t n_skipped;        /* trials with source TC_SOURCE_NONE */
    size_t n_bad_lines;      /* sum over the trials */
} tc_analysis;

void tc_trial_table_init(tc_trial_table *t);
void tc_trial_table_clear(tc_trial_table *t);
/* analysis.c: reads params.json, then result.json or progress.csv, of one
 * trial dir. Unreadable or invalid files are treated as absent; -1 only on
 * ENOMEM. */
int tc_trial_table_load(tc_trial_table *t, const char *logdir, tc_error *err);
/* result_table.c: the parsers, on text in memory; t must have no columns
 * yet. An empty CSV leaves source TC_SOURCE_NONE. -1 only on ENOMEM. */
int tc_table_from_json_lines(tc_trial_table *t, const char *text, size_t len, tc_error *err);
int tc_table_from_csv(tc_trial_table *t, const char *text, size_t len, tc_error *err);
/* Borrowed column by name, NULL if absent. */
const tc_column *tc_trial_table_find(const tc_trial_table *t, const char *name);

void tc_analysis_init(tc_analysis *a);
void tc_analysis_clear(tc_analysis *a);
/* Walks dir (recursively, names sorted, parents first, checkpoint_* dirs and
 * links to dirs not entered) and loads every dir holding a result.json or
 * progress.csv. TC_ERR_VALUE "<dir> is not a valid directory." if dir is not
 * one; -1 + TC_ERR_NOMEM otherwise. */
int tc_analysis_load(tc_analysis *a, const char *dir, tc_error *err);
/* Loads the given trial dirs, in order (ExperimentAnalysis's trial logdirs).
 * Both loaders parse the trial dirs on one thread per online CPU (at most 8). */
int tc_analysis_load_dirs(tc_analysis *a, const char *const *logdirs, size_t n, tc_error *err);
/* The trial dirs tc_analysis_load would read under dir, in its order:
 * *dirs (n strings) is the caller's to free with tc_analysis_dirs_free.
 * -1 on ENOMEM or when dir is not a directory. */
int tc_analysis_find(const char *dir, char ***dirs, size_t *n, tc_error *err);
void tc_analysis_dirs_free(char **dirs, size_t n);
/* Runs fn(ctx, i) for every i < n on the loader's threads (the caller's
 * among them), each i once, in no set order; returns when all are done.
 * For the extension's copies of loaded tables into arrays (no GIL). */
void tc_analysis_parallel(size_t n, void (*fn)(void *ctx, size_t i), void *ctx);
/* analysis_last.c: only the last result of the trial in logdir (the tail of
 * result.json, else progress.csv's header and last row): one row or none;
 * params is not read. -1 only on ENOMEM. For listings (`tune ls`). */
int tc_trial_table_load_last(tc_trial_table *t, const char *logdir, tc_error *err);

/* state_logdirs.c: the trial logdirs of an experiment_state file's text,
 * without its tree. One entry per "checkpoints" item that is (or, as a JSON
 * string, holds) an object, in order; NULL where it has no string "logdir".
 * found = the file has a "checkpoints" list; not_object = the text is valid
 * JSON but not an object. TC_ERR_VALUE when the text is not valid JSON. */
typedef struct tc_state_logdirs {
    char **logdirs;   /* malloc'd, each malloc'd or NULL */
    size_t n, cap;
    int found, not_object;
} tc_state_logdirs;
int tc_state_logdirs_read(tc_state_logdirs *out, const char *text, size_t len, tc_error *err);
void tc_state_logdirs_free(tc_state_logdirs *out);

/* ------------------------------------------------------------------------- */
/* metrics.c — a trial's metric_analysis (spec §6.3)                          */
/* ------------------------------------------------------------------------- */

/* Per numeric key of the flattened results: max, min, avg, last,
 * last-5-avg, last-10-avg, updated as Ray's Trial.update_last_result does. */
typedef struct tc_metrics tc_metrics;
tc_metrics *tc_metrics_new(void);               /* new, NULL on ENOMEM */
void tc_metrics_free(tc_metrics *m);
/* Folds in one flattened result (borrowed). Integers, reals and non-finite
 * markers count; booleans do not. Returns 0 / -1 (ENOMEM, not an object). */
int tc_metrics_update(tc_metrics *m, const json_t *flat_result);
/* New {"key": {"max": .., "min": .., "avg": .., "last": .., "last-5-avg": ..,
 * "last-10-avg": ..}, ...} in first-seen key order; non-finite values as
 * markers. */
json_t *tc_metrics_to_json(const tc_metrics *m);
/* 1 and *out filled if key has stat ("max", "min", "avg", "last",
 * "last-5-avg", "last-10-avg"); else 0. */
int tc_metrics_get(const tc_metrics *m, const char *key, const char *stat, double *out);


/* fastnum.c: the JSON number text s[0..n) ([-]digits[.digits][(e|E)[+-]digits])
 * as strtod rounds it (exactly), and whether it is written as an integer.
 * -1 when the text is not such a number. */
int tc_fastnum(const char *s, size_t n, double *out, int *is_int);
/* The same for the longest number at the start of s[0..n): *used is its
 * length (the caller checks what follows). -1 when s does not start with
 * one (or its text breaks off: "1.", "1e"). */
int tc_fastnum_prefix(const char *s, size_t n, double *out, int *is_int, size_t *used);

/* ------------------------------------------------------------------------- */
/* result_scan.c — one pass over a result's JSON text (the driver hot path)   */
/* ------------------------------------------------------------------------- */

enum { TC_F_NUMBER, TC_F_STRING, TC_F_TRUE, TC_F_FALSE, TC_F_NULL, TC_F_LIST };

typedef struct tc_field {
    size_t key_off, key_len;   /* flattened key ("a/b") in s->keys_store */
    size_t val_off, val_len;   /* raw value text in the scanned text */
    int type;                  /* TC_F_* */
    int is_int;                /* a number written without '.' or exponent */
    double num;                /* numbers (NaN/Infinity too); 1/0 for true/false */
} tc_field;

typedef struct tc_scan {
    const char *text;          /* borrowed: the scanned text */
    size_t len;
    tc_field *fields;          /* leaves of the flattened result, in text order */
    size_t n, cap;
    tc_buf keys;               /* scratch for building prefixed keys */
    tc_buf keys_store;         /* the fields' keys */
    long skip_off, skip_len;   /* span of the skipped top-level key's value, or -1 */
    long done_index;           /* field index of top-level "done", or -1 */
} tc_scan;

void tc_scan_init(tc_scan *s);
void tc_scan_free(tc_scan *s);
/* Scans a result object. Nested dicts are flattened with "/" (an empty dict
 * leaves nothing), lists are leaves, the top-level `skip_key` (may be NULL)
 * is only located. TC_ERR_TUNE if the text is not an object, TC_ERR_VALUE
 * for malformed JSON. The scan borrows `text`. */
int tc_scan_result(tc_scan *s, const char *text, size_t len, const char *skip_key, tc_error *err);
/* Skips one JSON value at p (after blanks), as the scan skips a list or the
 * skip_key's value, at nesting `depth`: the byte after it, or NULL when the
 * text there is not a value. */
const char *tc_scan_skip_value(const char *p, const char *end, int depth);
#define tc_scan_key(s, f) ((s)->keys_store.data + (f)->key_off)
/* Index of the field with this flattened key, or -1. */
long tc_scan_find(const tc_scan *s, const char *key, size_t key_len);
int tc_field_truthy(const tc_scan *s, const tc_field *f);
/* Appends Python's str() of the field's value (CSV cells). */
int tc_field_py_str(const tc_scan *s, const tc_field *f, tc_buf *out, tc_error *err);
/* The hot-path forms of tc_csv_row and tc_metrics_update (log_csv.c,
 * metrics.c), reading a scanned result instead of a tree. */
typedef struct tc_metrics tc_metrics;
int tc_csv_row_scan(tc_csv *csv, const tc_scan *s, tc_buf *out, tc_error *err);
int tc_metrics_update_scan(tc_metrics *m, const tc_scan *s);


/* ------------------------------------------------------------------------- */
/* checkpoint.c — a trial's persistent checkpoints and their retention        */
/* ------------------------------------------------------------------------- */

typedef struct tc_ckpt {
    char *dir;         /* top directory, relative to the trial logdir ("checkpoint_3") */
    char *path;        /* what restore() is given, relative ("checkpoint_3/checkpoint") */
    long iteration;    /* the trainable's own count of results when it was taken */
    long rows;         /* result rows in the trial's files up to the result it follows
                          (what a restart from it keeps); -1: unknown (an older record) */
    int has_score;
    double score;      /* higher is better (a "min-" attribute is negated) */
} tc_ckpt;

typedef struct tc_ckpts {
    tc_ckpt *list;     /* registration order; the last is the newest */
    size_t n, cap;
} tc_ckpts;

/* Called with a checkpoint directory (relative) the retention rule drops. */
typedef void (*tc_ckpt_delete_fn)(void *ctx, const char *dir);

void tc_ckpts_init(tc_ckpts *c);
void tc_ckpts_clear(tc_ckpts *c);
const tc_ckpt *tc_ckpts_newest(const tc_ckpts *c);   /* borrowed or NULL */
/* Registers a checkpoint (strings copied) and applies keep_num (0 = keep
 * all), calling on_delete for each dropped directory. */
int tc_ckpts_add(tc_ckpts *c, const char *dir, const char *path, long iteration, long rows,
                 int has_score, double score, long keep_num, tc_ckpt_delete_fn on_delete,
                 void *ctx, tc_error *err);
/* Forgets the checkpoint in dir (a scheduler's pause checkpoint that a newer
 * one made useless); 1 if it was listed, else 0. The caller deletes it. */
int tc_ckpts_remove(tc_ckpts *c, const char *dir);
json_t *tc_ckpts_to_json(const tc_ckpts *c);          /* new */
int tc_ckpts_from_json(tc_ckpts *c, const json_t *arr, tc_error *err);

/* ------------------------------------------------------------------------- */
/* log_tfevents.c — TensorBoard event files (spec §10.5, §11.3)               */
/* ------------------------------------------------------------------------- */

/* The bytes of tensorboardX's events.out.tfevents.* files: TFRecords holding
 * hand-encoded tensorboard.Event protos. Nothing here does I/O: each call
 * appends whole records to `out` (left as it was on failure) for the host to
 * write. */

/* CRC32C (Castagnoli), continuing `crc` (0 to start); tc_crc32c uses the CPU
 * instruction where there is one, tc_crc32c_sw is the table-driven form. */
uint32_t tc_crc32c(uint32_t crc, const void *data, size_t len);
uint32_t tc_crc32c_sw(uint32_t crc, const void *data, size_t len);
/* TFRecord's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8. */
uint32_t tc_crc32c_masked(const void *data, size_t len);
/* Appends one TFRecord framing data. 0 / -1 (ENOMEM). */
int tc_tfevents_record(tc_buf *out, const char *data, size_t len);
/* The first record of a file: Event { wall_time, file_version "brain.Event:2" }. */
int tc_tfevents_header(tc_buf *out, double wall_time);
/* Appends the file name tensorboardX gives it:
 * "events.out.tfevents.<whole seconds, 10 digits>.<hostname>". */
int tc_tfevents_filename(double wall_time, const char *hostname, tc_buf *out);

/* One trial's writer: scratch buffers and what hparams need of the last
 * result. one_event_per_value: write an Event per value as tensorboardX does;
 * 0: one Event per result holding every value (fewer bytes, same reading). */
typedef struct tc_tfevents tc_tfevents;
tc_tfevents *tc_tfevents_new(int one_event_per_value);   /* new, NULL on ENOMEM */
void tc_tfevents_free(tc_tfevents *w);
/* Appends the event(s) of one scanned result (scan it with skip_key
 * "config"): numbers (not NaN, not booleans) as scalars and non-empty
 * numeric lists as histograms, tagged "ray/tune/<key>", at step
 * timesteps_total if truthy else training_iteration. Appends nothing when no
 * value qualifies. -1 only on ENOMEM. */
int tc_tfevents_result(tc_tfevents *w, const tc_scan *s, double wall_time, tc_buf *out,
                       tc_error *err);
/* At close: the three hparams-plugin events (experiment, session start,
 * session end) for the trial's evaluated params (borrowed; flattened with
 * "/"), with the last result's scalars as metrics. Appends nothing unless
 * the params are a non-empty object and the last result logged a value.
 * *removed (optional) gets a new object of the params dropped (None and
 * other non-hparam values; Ray logs them at INFO), or NULL. */
int tc_tfevents_hparams(tc_tfevents *w, const json_t *evaluated_params, double wall_time,
                        tc_buf *out, json_t **removed, tc_error *err);

#ifdef __cplusplus
}
#endif
#endif /* TUNEC_H */
