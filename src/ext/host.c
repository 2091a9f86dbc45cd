/* host.c — the engine's host services for the local executor: wall clock,
 * trial directories, append-only result sinks and atomic file replacement.
 *
 * Sinks are FILE streams with a large buffer; the executor flushes every
 * open sink once per loop turn (tcx_sinks_flush), so a result reaches the
 * disk within one poll interval without a write() per line. Result files are
 * append-only: a crash can at worst leave a torn last line, which readers
 * skip. Files that must never be torn (params.json, experiment_state) are
 * replaced atomically: temp file, fsync, rename. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <limits.h>
#include <unistd.h>
#include "tcx_host.h"

struct tc_sink {
    FILE *fp;
    tc_sink *prev, *next;   /* in the host's list of open sinks */
};

static double host_now(void *ctx)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

/* mkdtemp with Python's alphabet and length (spec §5.6: 8 characters of
 * [a-z0-9_] glued to the prefix). With `exact` (trial_dirname_creator) the
 * name itself first, then as Ray's create_logdir "_" and 4 hex characters
 * when a directory of that name exists. */
static char *host_make_trial_dir(void *ctx, const char *parent, const char *prefix, int exact,
                                 tc_error *err)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(parent) + strlen(prefix) + 16;
    char *path = malloc(n);
    if (!path) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    /* The experiment directory exists after the first trial: the parents
     * are created only when the first mkdir says they are missing. */
    int parents_made = 0;
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned char rnd[8];
        char suffix[9];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
            for (int i = 0; i < 8; i++)
                rnd[i] = (unsigned char)rand();
        }
        if (exact) {
            suffix[0] = '\0';
            if (attempt > 0) {
                suffix[0] = '_';
                for (int i = 0; i < 4; i++)
                    suffix[1 + i] = hex[rnd[i] % 16];
                suffix[5] = '\0';
            }
        } else {
            for (int i = 0; i < 8; i++)
                suffix[i] = alphabet[rnd[i] % (sizeof alphabet - 1)];
            suffix[8] = '\0';
        }
        snprintf(path, n, "%s/%s%s", parent, prefix, suffix);
        if (mkdir(path, 0777) == 0)
            return path;
        if (errno == ENOENT && !parents_made) {
            parents_made = 1;
            if (tcx_mkdirs(parent, err) < 0) {
                free(path);
                return NULL;
            }
            attempt--;
            continue;
        }
        if (errno != EEXIST)
            break;
    }
    tc_error_set(err, TC_ERR_IO, "cannot create trial directory %s: %s", path, strerror(errno));
    free(path);
    return NULL;
}

static tc_sink *host_open_sink(void *ctx, const char *path, int *existed, tc_error *err)
{
    tcx_host_ctx *h = ctx;
    struct stat st;
    *existed = stat(path, &st) == 0 && st.st_size > 0;
    FILE *fp = fopen(path, "ab");
    if (!fp) {
        tc_error_set(err, TC_ERR_IO, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    setvbuf(fp, NULL, _IOFBF, 1 << 16);
    tc_sink *s = calloc(1, sizeof *s);
    if (!s) {
        fclose(fp);
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->fp = fp;
    s->next = h->sinks;
    if (h->sinks)
        h->sinks->prev = s;
    h->sinks = s;
    return s;
}

static int host_sink_write(void *ctx, tc_sink *s, const char *data, size_t len, tc_error *err)
{
    if (fwrite(data, 1, len, s->fp) != len)
        return tc_error_set(err, TC_ERR_IO, "write failed: %s", strerror(errno));
    return 0;
}

static void host_sink_close(void *ctx, tc_sink *s)
{
    tcx_host_ctx *h = ctx;
    if (s->prev)
        s->prev->next = s->next;
    else
        h->sinks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    fclose(s->fp);
    free(s);
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int tcx_write_atomic(const char *path, const char *data, size_t len, int durable,
                     tc_error *err)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0 || write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
        tc_error_set(err, TC_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        free(tmp);
        return -1;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        tc_error_set(err, TC_ERR_IO, "cannot replace %s: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

/* write_atomic with the data from next() in pieces (tc_host.write_atomic_stream). */
int tcx_write_atomic_stream(const char *path, int (*next)(void *gen, tc_buf *out, tc_error *err),
                            void *gen, int durable, tc_error *err)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    int rc = fd < 0 ? tc_error_set(err, TC_ERR_IO, "cannot write %s: %s", path, strerror(errno))
                    : 1;
    tc_buf b;
    tc_buf_init(&b);
    while (rc == 1) {
        tc_buf_clear(&b);
        rc = next(gen, &b, err);
        if (rc >= 0 && b.len && write_all(fd, b.data, b.len) < 0)
            rc = tc_error_set(err, TC_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    tc_buf_free(&b);
    if (rc == 0 && durable && fsync(fd) < 0)
        rc = tc_error_set(err, TC_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = tc_error_set(err, TC_ERR_IO, "cannot replace %s: %s", path, strerror(errno));
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int host_write_atomic_stream(void *ctx, const char *path,
                                    int (*next)(void *gen, tc_buf *out, tc_error *err),
                                    void *gen, int durable, tc_error *err)
{
    (void)ctx;
    return tcx_write_atomic_stream(path, next, gen, durable, err);
}

static int host_write_atomic(void *ctx, const char *path, const char *data, size_t len,
                             int durable, tc_error *err)
{
    return tcx_write_atomic(path, data, len, durable, err);
}

int tcx_mkdirs(const char *path, tc_error *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return tc_error_set(err, TC_ERR_IO, "bad directory path %s", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) < 0 && errno != EEXIST)
                return tc_error_set(err, TC_ERR_IO, "cannot create %s: %s", buf, strerror(errno));
            buf[i] = c;
        }
    }
    return 0;
}

void tcx_sinks_flush(tcx_host_ctx *h)
{
    for (tc_sink *s = h->sinks; s; s = s->next)
        fflush(s->fp);
}

/* ---- checkpoints, journal, restarts ------------------------------------ */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

void tcx_remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void host_remove_tree(void *ctx, const char *path)
{
    tcx_remove_tree(path);
}

int tcx_open_journal(tcx_host_ctx *h, const char *path, tc_error *err)
{
    h->journal_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (h->journal_fd < 0)
        return tc_error_set(err, TC_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    return 0;
}

void tcx_close_journal(tcx_host_ctx *h)
{
    if (h->journal_fd >= 0)
        close(h->journal_fd);
    h->journal_fd = -1;
}

/* One write() per event: the kernel has the line as soon as the call
 * returns, so a SIGKILLed driver loses nothing it journaled. */
static int host_journal(void *ctx, const char *line, size_t len, tc_error *err)
{
    tcx_host_ctx *h = ctx;
    if (h->journal_fd < 0)
        return 0;
    if (write_all(h->journal_fd, line, len) < 0)
        return tc_error_set(err, TC_ERR_IO, "journal write failed: %s", strerror(errno));
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    tc_buf b;
    tc_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        if (tc_buf_append(&b, chunk, n) < 0)
            break;
    fclose(fp);
    if (!b.data)
        tc_buf_puts(&b, "");
    *len = b.len;
    return b.data;
}

/* End of the CSV record starting at p: after its "\r\n" or "\n", quotes
 * respected (a quoted cell may hold line breaks). */
static const char *csv_record_end(const char *p, const char *end)
{
    int quoted = 0;
    for (; p < end; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '\n' && !quoted)
            return p + 1;
    }
    return NULL;   /* a torn last record */
}

static int host_cut_results(void *ctx, const char *logdir, long max_iteration, long max_rows,
                            int (*keep)(void *, const char *, size_t), void *kctx,
                            char **csv_header, tc_error *err)
{
    char path[4096], csv_path[4096];
    size_t len = 0, kept = 0, keep_bytes = 0;
    *csv_header = NULL;
    snprintf(path, sizeof path, "%s/result.json", logdir);
    snprintf(csv_path, sizeof csv_path, "%s/progress.csv", logdir);
    char *text = read_file(path, &len);
    tc_scan scan;
    tc_scan_init(&scan);
    int rc = 0;
    if (text) {
        const char *p = text, *end = text + len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl)
                break;   /* torn: dropped */
            long it = LONG_MIN;
            if (tc_scan_result(&scan, p, (size_t)(nl - p), "config", NULL) == 0) {
                long i = tc_scan_find(&scan, "training_iteration", 18);
                if (i >= 0 && scan.fields[i].type == TC_F_NUMBER)
                    it = (long)scan.fields[i].num;
            } else {
                break;   /* unreadable: drop it and what follows */
            }
            if (max_iteration < 0 || it > max_iteration ||
                (max_rows >= 0 && (long)kept >= max_rows))
                break;
            if (keep(kctx, p, (size_t)(nl - p)) < 0) {
                rc = tc_error_set(err, TC_ERR_NOMEM, "out of memory");
                break;
            }
            kept++;
            p = nl + 1;
        }
        keep_bytes = (size_t)(p - text);
        if (rc == 0 && keep_bytes != len)
            rc = tcx_write_atomic(path, text, keep_bytes, 1, err);
    }
    size_t clen = 0;
    char *csv = rc == 0 ? read_file(csv_path, &clen) : NULL;
    if (csv) {
        const char *p = csv, *end = csv + clen;
        const char *hdr_end = csv_record_end(p, end);
        if (hdr_end && kept > 0) {
            size_t hl = (size_t)(hdr_end - p);
            while (hl > 0 && (p[hl - 1] == '\n' || p[hl - 1] == '\r'))
                hl--;
            *csv_header = strndup(p, hl);
            p = hdr_end;
            for (size_t row = 0; row < kept && p < end; row++) {
                const char *next = csv_record_end(p, end);
                if (!next)
                    break;
                p = next;
            }
        } else {
            p = csv;   /* nothing kept: an empty file, the header comes anew */
        }
        size_t cbytes = (size_t)(p - csv);
        if (cbytes != clen)
            rc = tcx_write_atomic(csv_path, csv, cbytes, 1, err);
    }
    free(text);
    free(csv);
    tc_scan_free(&scan);
    return rc;
}

void tcx_host_init(tc_host *host, tcx_host_ctx *h)
{
    memset(host, 0, sizeof *host);
    host->ctx = h;
    host->now = host_now;
    host->make_trial_dir = host_make_trial_dir;
    host->open_sink = host_open_sink;
    host->sink_write = host_sink_write;
    host->sink_close = host_sink_close;
    host->write_atomic = host_write_atomic;
    host->write_atomic_stream = host_write_atomic_stream;
    host->cold_put = tcx_cold_put;
    host->cold_get = tcx_cold_get;
    host->remove_tree = host_remove_tree;
    host->journal = host_journal;
    host->cut_results = host_cut_results;
    host->copy_path = tcx_copy_path;
    h->journal_fd = -1;
}

double tcx_now(void)
{
    return host_now(NULL);
}
