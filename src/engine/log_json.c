/* log_json.c — one result.json line (spec §10.2): the whole nested result as
 * json.dumps writes it (compact separators ", " / ": ", Python float text,
 * bare NaN/Infinity), then "\n". Appending to the file and flushing is the
 * host's sink; the line is built here so the engine decides the bytes.
 * Invariant: on failure out is left as it was (no torn line). */
#include "tunec.h"

/* result borrowed */
int tc_log_json_line(const json_t *result, tc_buf *out)
{
    size_t mark = out->len;
    if (tc_json_dump(result, out, TC_DUMP_COMPACT) < 0 || tc_buf_putc(out, '\n') < 0) {
        out->len = mark;
        out->failed = 0;   /* back to the complete text it held */
        if (out->data)
            out->data[mark] = '\0';
        return -1;
    }
    return 0;
}
