/* result_cut.h — the restart cut rule: when a trial runs again (a retry
 * from its checkpoint, a resumed session), its result files are cut back
 * to the rows the restored checkpoint had seen, so no result is logged
 * twice (DESIGN §4: append-only files, a reader tolerates a torn line).
 *
 * The rule is pure: it reads the two files' text and says how many bytes of
 * each to keep; the runner (runner_resume.c) reads and rewrites the files
 * through its host. Rules:
 *   - result.json keeps its leading whole lines whose training_iteration is
 *     <= max_iteration (a line without one counts as older than any), at
 *     most max_rows of them (max_rows < 0: no such limit); max_iteration
 *     < 0 keeps none. The first line that is torn (no newline), unreadable
 *     or past the limit ends the kept part: everything after it goes too.
 *   - progress.csv keeps its header and as many whole records as
 *     result.json kept (a quoted cell may hold line breaks); it may be
 *     shorter than result.json (a crash between the two writes): then all
 *     its whole records stay. When no row is kept it is emptied, and the
 *     header is written anew with the next row. */
#ifndef TUNEC_RESULT_CUT_H
#define TUNEC_RESULT_CUT_H

#include <stddef.h>
#include "tunec.h"

typedef struct tc_result_cut {
    long rows;            /* result.json lines kept */
    size_t json_bytes;    /* bytes of result.json kept */
    size_t csv_bytes;     /* bytes of progress.csv kept */
    size_t header_len;    /* progress.csv's header line without its line break,
                             0 when no row is kept or there is none */
} tc_result_cut;

/* Plans the cut of json (result.json's text, NULL: no file) and csv
 * (progress.csv's, NULL: none). Each kept result.json line (without its
 * newline) goes to keep(kctx, line, len) in order, which returns 0 or -1
 * (out of memory). 0, or -1 with err (TC_ERR_NOMEM). */
int tc_result_cut_plan(const char *json, size_t json_len, const char *csv, size_t csv_len,
                       long max_iteration, long max_rows,
                       int (*keep)(void *kctx, const char *line, size_t len), void *kctx,
                       tc_result_cut *out, tc_error *err);

#endif
