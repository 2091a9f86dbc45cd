/* analysis_last.c — a trial's last result only, for listings (`tune ls`,
 * spec §14): the tail of result.json, or the header and last row of
 * progress.csv, parsed by result_table.c into a one-row table.
 *
 * analysis.c reads whole files because an Analysis needs every row; a
 * listing of 1,000 trials needs one row each, and reading only the tail keeps
 * its cost independent of how long the trials ran.
 *
 * Invariants (as analysis.c's):
 *   - bad input never fails a load: an unreadable or invalid file is absent;
 *     -1 only on ENOMEM;
 *   - the last line may be a write in progress: when it does not parse, the
 *     line before it is the trial's last result.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tunec.h"

#define RESULT_FILE "result.json"
#define PROGRESS_FILE "progress.csv"
#define PARAMS_FILE "params.json"
/* A result line is usually well under 4 KiB; the window doubles until it
 * holds the lines asked for, or the whole file. */
#define FIRST_WINDOW 16384
/* Lines tried from the end of result.json: the last may be torn, and a
 * torn write is never more than one line. */
#define MAX_TRIES 2

/* open(dir/name); -1 when absent or unreadable (ENOMEM counts as absent:
 * the path is a few hundred bytes on the stack). */
static int open_in(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    char path[4096];
    if (dl + nl + 2 > sizeof path)
        return -1;
    memcpy(path, dir, dl);
    if (dl > 0 && dir[dl - 1] != '/')
        path[dl++] = '/';
    memcpy(path + dl, name, nl + 1);
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* Reads bytes [from, to) of fd into out. 0 = read, 1 = I/O error, -1 = ENOMEM. */
static int read_range(int fd, off_t from, off_t to, tc_buf *out)
{
    tc_buf_clear(out);
    size_t want = (size_t)(to - from);
    if (tc_buf_reserve(out, want + 1) < 0)
        return -1;
    while (out->len < want) {
        ssize_t got = pread(fd, out->data + out->len, want - out->len,
                            from + (off_t)out->len);
        if (got <= 0)
            return 1;
        out->len += (size_t)got;
    }
    out->data[out->len] = '\0';
    return 0;
}

/* Start of the line that ends at `end` (exclusive) in text[0, end): the byte
 * after the previous '\n', or SIZE_MAX when the window holds no '\n' before
 * it and does not start at the file's beginning (the line is cut). */
static size_t line_start(const char *text, size_t end, int window_is_file_start)
{
    size_t i = end;
    while (i > 0 && text[i - 1] != '\n')
        i--;
    if (i == 0 && !window_is_file_start)
        return (size_t)-1;
    return i;
}

/* The end of the text without trailing blank bytes. */
static size_t trim_end(const char *text, size_t end)
{
    while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r' ||
                       text[end - 1] == ' ' || text[end - 1] == '\t'))
        end--;
    return end;
}

/* Forgets what a failed try parsed, keeping logdir. */
static void reset_table(tc_trial_table *t)
{
    char *logdir = t->logdir;
    t->logdir = NULL;
    tc_trial_table_clear(t);
    tc_trial_table_init(t);
    t->logdir = logdir;
}

/* The last result.json line that parses. 0 = a row (or none found), -1 = ENOMEM. */
static int load_json_tail(tc_trial_table *t, int fd, off_t size, tc_buf *text, tc_error *err)
{
    off_t window = FIRST_WINDOW;
    for (;;) {
        off_t from = size > window ? size - window : 0;
        int got = read_range(fd, from, size, text);
        if (got < 0)
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory while loading %s", t->logdir);
        if (got > 0)
            return 0;
        size_t end = trim_end(text->data, text->len);
        int cut = 0;
        for (int try = 0; try < MAX_TRIES && end > 0; try++) {
            size_t start = line_start(text->data, end, from == 0);
            if (start == (size_t)-1) {
                cut = 1;
                break;
            }
            if (tc_table_from_json_lines(t, text->data + start, end - start, err) < 0)
                return -1;
            if (t->n_rows > 0)
                return 0;
            reset_table(t);
            end = trim_end(text->data, start);
        }
        if (!cut || from == 0)
            return 0;
        window *= 2;
    }
}

/* progress.csv's header and last row. 0 = done, -1 = ENOMEM. */
static int load_csv_tail(tc_trial_table *t, int fd, off_t size, tc_buf *text, tc_error *err)
{
    tc_buf both;
    int rc = 0;
    tc_buf_init(&both);
    off_t window = FIRST_WINDOW;
    for (;;) {
        /* The header: the first line. */
        off_t head_to = size > window ? window : size;
        int got = read_range(fd, 0, head_to, text);
        if (got != 0) {
            rc = got < 0 ? -1 : 0;
            goto done;
        }
        const char *nl = memchr(text->data, '\n', text->len);
        if (!nl && head_to < size) {
            window *= 2;
            continue;
        }
        size_t head_len = nl ? (size_t)(nl - text->data) + 1 : text->len;
        if (tc_buf_append(&both, text->data, head_len) < 0 ||
            (!nl && tc_buf_putc(&both, '\n') < 0)) {
            rc = -1;
            goto done;
        }
        if ((off_t)head_len >= size)
            break;     /* a header only */
        /* The last non-blank line after the header. */
        off_t from = size > window ? size - window : 0;
        if (from < (off_t)head_len)
            from = (off_t)head_len;
        if ((got = read_range(fd, from, size, text)) != 0) {
            rc = got < 0 ? -1 : 0;
            goto done;
        }
        size_t end = trim_end(text->data, text->len);
        size_t start = line_start(text->data, end, from == (off_t)head_len);
        if (start == (size_t)-1) {
            tc_buf_clear(&both);
            window *= 2;
            continue;
        }
        if (tc_buf_append(&both, text->data + start, end - start) < 0 ||
            tc_buf_putc(&both, '\n') < 0)
            rc = -1;
        break;
    }
    if (rc == 0 && tc_table_from_csv(t, both.data ? both.data : "", both.len, err) < 0)
        rc = -2;
done:
    tc_buf_free(&both);
    if (rc == -1)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory while loading %s", t->logdir);
    return rc < 0 ? -1 : 0;
}

/* Runs `load` on dir/name when it opens. 0 / -1 on ENOMEM. */
static int load_file(tc_trial_table *t, const char *name, tc_buf *text, tc_error *err,
                     int (*load)(tc_trial_table *, int, off_t, tc_buf *, tc_error *))
{
    int fd = open_in(t->logdir, name);
    if (fd < 0)
        return 0;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        rc = load(t, fd, st.st_size, text, err);
    close(fd);
    return rc;
}

/* params.json, whole (it is small); t->params stays NULL when it is absent
 * or invalid. 0 / -1 on ENOMEM. */
static int load_params(tc_trial_table *t, int fd, off_t size, tc_buf *text, tc_error *err)
{
    int got = read_range(fd, 0, size, text);
    if (got < 0)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory while loading %s", t->logdir);
    if (got > 0)
        return 0;
    tc_error perr;
    tc_error_init(&perr);
    t->params = tc_json_loads(text->data, text->len, &perr);
    if (!t->params && perr.code == TC_ERR_NOMEM)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory while loading %s", t->logdir);
    return 0;
}

/* Loads the last result of the trial in `logdir` into t (one row, or none:
 * source TC_SOURCE_NONE) and its params.json. -1 only on ENOMEM. */
int tc_trial_table_load_last(tc_trial_table *t, const char *logdir, tc_error *err)
{
    tc_buf text;
    int rc = -1;
    tc_buf_init(&text);
    tc_trial_table_init(t);
    if (!(t->logdir = strdup(logdir))) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory while loading %s", logdir);
        goto done;
    }
    if (load_file(t, RESULT_FILE, &text, err, load_json_tail) < 0)
        goto done;
    if (t->n_rows == 0) {
        reset_table(t);
        if (load_file(t, PROGRESS_FILE, &text, err, load_csv_tail) < 0)
            goto done;
    }
    if (load_file(t, PARAMS_FILE, &text, err, load_params) < 0)
        goto done;
    rc = 0;
done:
    tc_buf_free(&text);
    if (rc < 0)
        tc_trial_table_clear(t);
    return rc;
}
