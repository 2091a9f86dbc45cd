/* fuzz_state.c — the resume state reader (state_read.c, state_scan.c,
 * state_merge.c) over any bytes.
 *
 * The input is a snapshot and a journal, split at the first NUL byte (none:
 * the whole input is the journal and there is no snapshot). The reader
 * either fails with an error set, or gives a state whose every record,
 * built one by one (tc_state_next) and then taken (tc_state_take), is a
 * JSON object — or an error set; never a crash, a leak or a record of a
 * trial it did not count. The scanner alone must also agree with the
 * parser on what it accepts as one whole value: a text tc_scan_value
 * passes is one tc_json_loads reads, so a validated piece never fails to
 * parse for a reason the scan could have seen (a real past a double's
 * range aside: the scan reads no values). */
#include "fuzz_common.h"
#include "state_read.h"
#include "state_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data, *nul = memchr(text, '\0', size);
    const char *snap = nul ? text : NULL, *journal = nul ? nul + 1 : text;
    size_t snap_len = nul ? (size_t)(nul - text) : 0;
    size_t journal_len = size - (size_t)(journal - text);
    tc_error err;
    tc_error_init(&err);
    tc_state *st = tc_state_read(snap, snap_len, "s.json", journal, journal_len, "s.journal",
                                 "/exp", NULL, &err);
    if (!st) {
        FUZZ_ERROR_SET(&err);
    } else {
        size_t n = tc_state_count(st), seen = 0, pos = 0;
        const char *id;
        json_t *rec;
        while ((rec = tc_state_next(st, &pos, &id, &err)) != NULL) {
            FUZZ_ASSERT(json_is_object(rec));
            json_decref(rec);
            seen++;
        }
        if (err.code == TC_OK)
            FUZZ_ASSERT(seen == n);
        tc_error_init(&err);
        pos = 0;
        while ((id = tc_state_next_id(st, &pos)) != NULL) {
            tc_error e;
            tc_error_init(&e);
            rec = tc_state_take(st, id, &e);
            FUZZ_ASSERT(rec ? json_is_object(rec) : e.code != TC_OK);
            json_decref(rec);
        }
        tc_state_free(st);
    }
    /* the scanner's verdict on the whole input as one value */
    const char *end = text + size, *ve = tc_scan_value(text, end, 0);
    if (ve && tc_scan_ws(ve, end) == end && !memchr(text, '\0', size) &&
        !memmem(text, size, "\\ud", 3) && !memmem(text, size, "\\uD", 3)) {
        tc_error e;
        tc_error_init(&e);
        json_t *v = tc_json_loads(text, size, &e);
        /* Reals past a double's range are refused by the parser (jansson's
         * rule) and left to it: the scanner reads no values, and taking
         * such a record fails with that error (test_state_read.c). */
        FUZZ_ASSERT(v != NULL || e.code == TC_ERR_NOMEM || strstr(e.text, "real number overflow"));
        json_decref(v);
    }
    return 0;
}
