/* state_read.h — an experiment's state read back for resume (issue 12,
 * item 4), without a JSON tree of the whole state.
 *
 * The snapshot (experiment_state-<session>.json) and the journal
 * (experiment_state-<session>.journal) are scanned once: each trial's pieces
 * (its snapshot entry, its journal events in order) are validated and
 * indexed by trial id as byte ranges of the files, which the host reads back
 * when the record is needed (so a 100,000-trial state does not stay in
 * memory, and nothing is copied). A trial's record — the dict
 * tunec/_resume.py used to build — is parsed from its pieces only when it is
 * asked for (tc_state_take), one trial at a time. The merge rules are those
 * of spec §15.4 as tunec wrote them:
 *   - a later snapshot entry of the same id replaces the earlier one;
 *   - a "start" event's record is merged over the entry, keeping the entry's
 *     final fields (last_result, metric_analysis, n_results,
 *     last_update_time);
 *   - "status", "checkpoint", "reconfig" events of a known trial overwrite
 *     their keys; a final status with a last result and metric analysis
 *     brings the final fields;
 *   - a torn last journal line is dropped quietly, a damaged line before it
 *     is skipped with a warning, as are damaged checkpoint records.
 * A snapshot that is not tunec's JSON object is an error naming the file. */
#ifndef TUNEC_STATE_READ_H
#define TUNEC_STATE_READ_H

#include <stddef.h>
#include "tunec.h"

typedef struct tc_state tc_state;

typedef struct tc_state_host {
    void *ctx;
    /* Optional: len bytes at pos of the snapshot (src TC_STATE_SNAPSHOT) or
     * the journal (TC_STATE_JOURNAL) as they were read, tc_malloc'd and
     * NUL-terminated (NULL: failed). Without it the reader copies each
     * piece's text into memory. */
    char *(*read_at)(void *ctx, int src, long long pos, size_t len);
    /* Optional: the text before `upto` is no longer read (the host may drop
     * the pages of a mapped file: they would count as the driver's memory). */
    void (*consumed)(void *ctx, const char *base, const char *upto);
    /* Optional: is path a directory (a moved experiment's trial dirs)? */
    int (*is_dir)(void *ctx, const char *path);
    /* Optional: called once by tc_state_free (ctx is no longer used). */
    void (*release)(void *ctx);
} tc_state_host;

enum { TC_STATE_SNAPSHOT = 0, TC_STATE_JOURNAL = 1 };

/* Reads the state. snapshot / journal may be NULL (absent file); their
 * names are for messages. exp_dir: the directory the trials are found in
 * now (records get "local_dir" and, if moved, their "logdir" relocated).
 * NULL with err set: TC_ERR_TUNE "Cannot resume: the experiment state <file>
 * is corrupt (<why>)." for a bad snapshot, TC_ERR_NOMEM. The state owns
 * host->ctx from then on (release), on failure too. */
tc_state *tc_state_read(const char *snapshot, size_t snapshot_len, const char *snapshot_name,
                        const char *journal, size_t journal_len, const char *journal_name,
                        const char *exp_dir, const tc_state_host *host, tc_error *err);
/* A state from records already built ({trial_id: record}, borrowed): each
 * record's text goes to the store as a snapshot entry would, nothing is
 * relocated. NULL with err set (TC_ERR_VALUE: not an object of objects). */
tc_state *tc_state_from_records(const json_t *records, const tc_state_host *host,
                                tc_error *err);
void tc_state_free(tc_state *st);

/* The snapshot's runner_data (an object, {} when absent); borrowed. */
const json_t *tc_state_runner_data(const tc_state *st);
/* Trials not taken yet. */
size_t tc_state_count(const tc_state *st);
/* Warnings of the read ("Experiment journal <file>: skipped damaged line
 * 3"), in order; n of them. */
const char *tc_state_warning(const tc_state *st, size_t i);
size_t tc_state_nwarnings(const tc_state *st);

/* The record of trial_id, removed from the state: a new reference, or NULL
 * (err untouched when there is no such trial; set when parsing it failed). */
json_t *tc_state_take(tc_state *st, const char *trial_id, tc_error *err);
/* The record at iteration position *pos (start at 0) without removing it:
 * a new reference and *pos advanced past it; NULL at the end (err
 * untouched) or on failure (err set). *id: the trial id (borrowed). */
json_t *tc_state_next(const tc_state *st, size_t *pos, const char **id, tc_error *err);
/* The same without building the record: the next id, or NULL at the end. */
const char *tc_state_next_id(const tc_state *st, size_t *pos);

#endif
