/* result_cut.c — the restart cut rule (result_cut.h). */
#include <limits.h>
#include <string.h>
#include "result_cut.h"

/* End of the CSV record starting at p: after its "\n" (or "\r\n"), quotes
 * respected; NULL for a torn last record. */
static const char *csv_record_end(const char *p, const char *end)
{
    int quoted = 0;
    for (; p < end; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '\n' && !quoted)
            return p + 1;
    }
    return NULL;
}

/* The result.json part: the kept lines and their bytes. */
static int cut_json(const char *json, size_t len, long max_iteration, long max_rows,
                    int (*keep)(void *, const char *, size_t), void *kctx,
                    tc_result_cut *out, tc_error *err)
{
    tc_scan scan;
    tc_scan_init(&scan);
    const char *p = json, *end = json + len;
    int rc = 0;
    while (p < end && max_iteration >= 0 && (max_rows < 0 || out->rows < max_rows)) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;                                   /* torn */
        tc_error e;
        tc_error_init(&e);
        if (tc_scan_result(&scan, p, (size_t)(nl - p), "config", &e) < 0) {
            if (e.code == TC_ERR_NOMEM)
                rc = tc_error_set(err, TC_ERR_NOMEM, "out of memory");
            break;                                   /* else unreadable */
        }
        long it = LONG_MIN;
        long i = tc_scan_find(&scan, "training_iteration", 18);
        if (i >= 0 && scan.fields[i].type == TC_F_NUMBER)
            it = (long)scan.fields[i].num;
        if (it > max_iteration)
            break;
        if (keep && keep(kctx, p, (size_t)(nl - p)) < 0) {
            rc = tc_error_set(err, TC_ERR_NOMEM, "out of memory");
            break;
        }
        out->rows++;
        p = nl + 1;
    }
    out->json_bytes = (size_t)(p - json);
    tc_scan_free(&scan);
    return rc;
}

/* The progress.csv part: header and out->rows records. */
static void cut_csv(const char *csv, size_t len, tc_result_cut *out)
{
    const char *p = csv, *end = csv + len;
    const char *hdr_end = csv_record_end(p, end);
    if (!hdr_end || out->rows == 0) {
        out->csv_bytes = 0;                          /* the header comes anew */
        return;
    }
    size_t hl = (size_t)(hdr_end - p);
    while (hl > 0 && (p[hl - 1] == '\n' || p[hl - 1] == '\r'))
        hl--;
    out->header_len = hl;
    p = hdr_end;
    for (long row = 0; row < out->rows && p < end; row++) {
        const char *next = csv_record_end(p, end);
        if (!next)
            break;                                   /* torn: dropped */
        p = next;
    }
    out->csv_bytes = (size_t)(p - csv);
}

int tc_result_cut_plan(const char *json, size_t json_len, const char *csv, size_t csv_len,
                       long max_iteration, long max_rows,
                       int (*keep)(void *kctx, const char *line, size_t len), void *kctx,
                       tc_result_cut *out, tc_error *err)
{
    memset(out, 0, sizeof *out);
    if (json && cut_json(json, json_len, max_iteration, max_rows, keep, kctx, out, err) < 0)
        return -1;
    if (csv)
        cut_csv(csv, csv_len, out);
    return 0;
}
