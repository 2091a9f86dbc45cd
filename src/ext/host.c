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

/* An append-only file with its own buffer (not stdio: on a failed flush
 * the file is cut back to `good`, its size after the last whole flush, so
 * a full or read-only disk never leaves a torn line behind). */
struct tc_sink {
    int fd;
    char *path;
    char *buf;
    size_t len, cap;
    off_t good;              /* bytes on disk known to end on a record */
    tc_sink *prev, *next;    /* in the host's list of open sinks */
};

#define SINK_BUFFER (1 << 16)

static int write_all(int fd, const char *data, size_t len);

/* The first storage failure of the run (first error wins). Failures the
 * engine cannot be told of directly (the journal, a sink flushed between
 * events) land here; the executor checks it every loop turn and stops the
 * run with it (tcx_host_failed). */
static void host_fail(tcx_host_ctx *h, tc_error *err, const char *fmt, const char *path)
{
    int saved = errno;
    if (!h->failed) {
        h->failed = 1;
        tc_error_set(&h->io_err, TC_ERR_TUNE, fmt, path, strerror(saved));
    }
    if (err)
        tc_error_set(err, TC_ERR_TUNE, fmt, path, strerror(saved));
}

static double host_now(void *ctx)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

/* mkdtemp's names with Python's alphabet and length (spec §5.6: 8
 * characters of [a-z0-9_] glued to the prefix), without the mkdir: the
 * runner journals the name first (tc_host.name_trial_dir) and then calls
 * host_make_dir. With `exact` (trial_dirname_creator) the name itself first,
 * then as Ray's create_logdir "_" and 4 hex characters when a file of that
 * name exists. The runner names and makes one directory at a time, so a
 * name found free here is still free when it is made (two drivers writing
 * one experiment directory are not supported). */
static char *host_name_trial_dir(void *ctx, const char *parent, const char *prefix, int exact,
                                 tc_error *err)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(parent) + strlen(prefix) + 16;
    char *path = tc_malloc(n);
    if (!path) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    int failure = EEXIST;
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
        struct stat st;
        if (lstat(path, &st) == 0) {
            failure = EEXIST;
            continue;       /* taken: another name */
        }
        if (errno == ENOENT)
            return path;    /* free (a missing parent is made with it) */
        failure = errno;
        break;
    }
    tc_error_set(err, TC_ERR_IO, "cannot create trial directory %s: %s", path,
                 strerror(failure));
    tc_free(path);
    return NULL;
}

/* The trial directory just made is kept open (O_PATH): the files a start
 * then creates in it (params.json, result.json, progress.csv, the events
 * file) are opened relative to it, which spares the kernel a walk of their
 * whole path each (trivial trials: a few percent of the driver). */
static void keep_dir(tcx_host_ctx *h, const char *path)
{
    if (h->dir_fd >= 0)
        close(h->dir_fd);
    tc_free(h->dir_path);
    h->dir_path = tc_strdup(path);
    h->dir_fd = h->dir_path ? open(path, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
    h->dir_len = h->dir_path ? strlen(path) : 0;
}

static void drop_dir(tcx_host_ctx *h)
{
    if (h->dir_fd >= 0)
        close(h->dir_fd);
    h->dir_fd = -1;
    tc_free(h->dir_path);
    h->dir_path = NULL;
}

/* path's name inside the kept directory, or NULL when it is elsewhere. */
static const char *in_kept_dir(const tcx_host_ctx *h, const char *path)
{
    if (!h || h->dir_fd < 0 || strncmp(path, h->dir_path, h->dir_len) != 0 ||
        path[h->dir_len] != '/' || strchr(path + h->dir_len + 1, '/'))
        return NULL;
    return path + h->dir_len + 1;
}

static int open_at(const tcx_host_ctx *h, const char *path, int flags)
{
    const char *name = in_kept_dir(h, path);
    return name ? openat(h->dir_fd, name, flags, 0666) : open(path, flags, 0666);
}

static int host_make_dir(void *ctx, const char *path, tc_error *err)
{
    tcx_host_ctx *h = ctx;
    struct stat st;
    int rc;
    if (mkdir(path, 0777) == 0) {
        rc = 1;
    } else if (errno == EEXIST) {
        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
            return tc_error_set(err, TC_ERR_IO, "cannot create trial directory %s: %s", path,
                                "a file of that name is in the way");
        rc = 0;
    } else if (errno != ENOENT) {
        return tc_error_set(err, TC_ERR_IO, "cannot create trial directory %s: %s", path,
                            strerror(errno));
    } else {
        /* The experiment directory exists after the first trial: the parents
         * are made only when the first mkdir says they are missing. */
        if (tcx_mkdirs(path, err) < 0)
            return -1;
        rc = 1;
    }
    keep_dir(h, path);
    return rc;
}

static tc_sink *host_open_sink(void *ctx, const char *path, int *existed, tc_error *err)
{
    tcx_host_ctx *h = ctx;
    struct stat st;
    /* A new file first (a trial's start makes its files): then its size is
     * known to be 0 without an fstat. */
    int fd = open_at(h, path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC);
    st.st_size = 0;
    if (fd < 0 && errno == EEXIST) {
        fd = open_at(h, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC);
        if (fd >= 0 && fstat(fd, &st) < 0) {
            int saved = errno;
            close(fd);
            fd = -1;
            errno = saved;
        }
    }
    if (fd < 0) {
        host_fail(h, err, "cannot open %s: %s", path);
        return NULL;
    }
    *existed = st.st_size > 0;
    tc_sink *s = tc_calloc(1, sizeof *s);
    if (!s || !(s->path = tc_strdup(path)) || !(s->buf = tc_malloc(SINK_BUFFER))) {
        close(fd);
        if (s)
            tc_free(s->path);
        tc_free(s);
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->fd = fd;
    s->cap = SINK_BUFFER;
    s->good = st.st_size;
    s->next = h->sinks;
    if (h->sinks)
        h->sinks->prev = s;
    h->sinks = s;
    return s;
}

/* Writes the buffer out. On failure the file is cut back to its last good
 * size and the buffer dropped: the rows in it are lost, the file stays
 * whole, and the run stops with the error. */
static int sink_flush(tcx_host_ctx *h, tc_sink *s, tc_error *err)
{
    if (s->len == 0)
        return 0;
    if (write_all(s->fd, s->buf, s->len) < 0) {
        host_fail(h, err, "cannot write %s: %s", s->path);
        if (ftruncate(s->fd, s->good) < 0) {
            /* Read-only: nothing new reached the file, there is nothing to cut. */
        }
        s->len = 0;
        return -1;
    }
    s->good += (off_t)s->len;
    s->len = 0;
    return 0;
}

static int host_sink_write(void *ctx, tc_sink *s, const char *data, size_t len, tc_error *err)
{
    tcx_host_ctx *h = ctx;
    if (h->failed) {
        if (err)
            tc_error_set(err, h->io_err.code, "%s", h->io_err.text);
        return -1;
    }
    if (s->len + len > s->cap && sink_flush(h, s, err) < 0)
        return -1;
    if (len > s->cap) {                 /* bigger than the buffer: straight out */
        if (write_all(s->fd, data, len) < 0) {
            host_fail(h, err, "cannot write %s: %s", s->path);
            if (ftruncate(s->fd, s->good) < 0) {
                /* as in sink_flush */
            }
            return -1;
        }
        s->good += (off_t)len;
        return 0;
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
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
    sink_flush(h, s, NULL);
    if (close(s->fd) < 0)
        host_fail(h, NULL, "cannot close %s: %s", s->path);
    tc_free(s->buf);
    tc_free(s->path);
    tc_free(s);
}

/* Every byte, or -1 with errno (a short write of a full disk sets ENOSPC
 * on the next call). */
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

/* write_atomic with the data from next() in pieces (tc_host.write_atomic_stream).
 * A storage failure is the experiment's, so a TuneError naming the file;
 * the old file stays as it was (the temp file is removed). */
static int write_atomic_stream(const tcx_host_ctx *h, const char *path,
                               int (*next)(void *gen, tc_buf *out, tc_error *err), void *gen,
                               int durable, tc_error *err)
{
    size_t n = strlen(path) + 32;
    char *tmp = tc_malloc(n);
    if (!tmp)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    int fd = open_at(h, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
    int rc = fd < 0 ? tc_error_set(err, TC_ERR_TUNE, "cannot write %s: %s", path, strerror(errno))
                    : 1;
    tc_buf b;
    tc_buf_init(&b);
    while (rc == 1) {
        tc_buf_clear(&b);
        rc = next(gen, &b, err);
        if (rc >= 0 && b.len && write_all(fd, b.data, b.len) < 0)
            rc = tc_error_set(err, TC_ERR_TUNE, "cannot write %s: %s", path, strerror(errno));
    }
    tc_buf_free(&b);
    if (rc == 0 && durable && fsync(fd) < 0)
        rc = tc_error_set(err, TC_ERR_TUNE, "cannot write %s: %s", path, strerror(errno));
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = tc_error_set(err, TC_ERR_TUNE, "cannot write %s: %s", path, strerror(errno));
    const char *tmp_name = in_kept_dir(h, tmp), *name = in_kept_dir(h, path);
    if (rc == 0 && (tmp_name && name ? renameat(h->dir_fd, tmp_name, h->dir_fd, name)
                                     : rename(tmp, path)) < 0)
        rc = tc_error_set(err, TC_ERR_TUNE, "cannot replace %s: %s", path, strerror(errno));
    if (rc < 0)
        unlink(tmp);
    tc_free(tmp);
    return rc;
}

/* The whole text as one piece, for tcx_write_atomic. */
struct one_piece {
    const char *data;
    size_t len;
};

static int next_piece(void *gen, tc_buf *out, tc_error *err)
{
    struct one_piece *p = gen;
    if (!p->data)
        return 0;
    int rc = tc_buf_append(out, p->data, p->len) < 0
                 ? tc_error_set(err, TC_ERR_NOMEM, "out of memory") : 1;
    p->data = NULL;
    return rc;
}

int tcx_write_atomic(const char *path, const char *data, size_t len, int durable,
                     tc_error *err)
{
    struct one_piece piece = {data ? data : "", len};
    return write_atomic_stream(NULL, path, next_piece, &piece, durable, err);
}

static int host_write_atomic_stream(void *ctx, const char *path,
                                    int (*next)(void *gen, tc_buf *out, tc_error *err),
                                    void *gen, int durable, tc_error *err)
{
    return write_atomic_stream(ctx, path, next, gen, durable, err);
}

static int host_write_atomic(void *ctx, const char *path, const char *data, size_t len,
                             int durable, tc_error *err)
{
    struct one_piece piece = {data ? data : "", len};
    return write_atomic_stream(ctx, path, next_piece, &piece, durable, err);
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
        sink_flush(h, s, NULL);
    /* The executor flushes after each round of starts and before a step
     * returns: the kept directory has served its start, and no file of an
     * experiment stays open once a run is over. */
    drop_dir(h);
}

int tcx_host_failed(tcx_host_ctx *h, tc_error *err)
{
    if (!h->failed)
        return 0;
    tc_error_set(err, h->io_err.code, "%s", h->io_err.text);
    return 1;
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
    struct stat st;
    h->journal_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (h->journal_fd < 0 || fstat(h->journal_fd, &st) < 0) {
        host_fail(h, err, "cannot open %s: %s", path);
        return -1;
    }
    tc_free(h->journal_path);
    if (!(h->journal_path = tc_strdup(path)))
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    h->journal_good = st.st_size;
    return 0;
}

void tcx_close_journal(tcx_host_ctx *h)
{
    if (h->journal_fd >= 0 && close(h->journal_fd) < 0)
        host_fail(h, NULL, "cannot close %s: %s", h->journal_path);
    h->journal_fd = -1;
    tc_free(h->journal_path);
    h->journal_path = NULL;
}

/* One write() per event: the kernel has the line as soon as the call
 * returns, so a SIGKILLed driver loses nothing it journaled. A failed write
 * is cut back off (no torn line) and stops the run through host_fail: the
 * runner does not wait for the journal's answer. */
static int host_journal(void *ctx, const char *line, size_t len, tc_error *err)
{
    tcx_host_ctx *h = ctx;
    if (h->journal_fd < 0 || h->failed)
        return 0;
    if (write_all(h->journal_fd, line, len) < 0) {
        host_fail(h, err, "cannot write %s: %s", h->journal_path);
        if (ftruncate(h->journal_fd, h->journal_good) < 0) {
            /* read-only: nothing reached the file */
        }
        return -1;
    }
    h->journal_good += (off_t)len;
    return 0;
}

/* The whole of path (tc_host.read_file): NULL without an error when it
 * does not exist. */
static char *host_read_file(void *ctx, const char *path, size_t *len, tc_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        if (errno != ENOENT)
            tc_error_set(err, TC_ERR_IO, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    tc_buf b;
    tc_buf_init(&b);
    char chunk[65536];
    size_t n;
    int failed = 0;
    while (!failed && (n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        failed = tc_buf_append(&b, chunk, n) < 0;
    if (!failed && ferror(fp)) {
        tc_error_set(err, TC_ERR_IO, "cannot read %s", path);
        fclose(fp);
        tc_buf_free(&b);
        return NULL;
    }
    fclose(fp);
    if (failed || (!b.data && tc_buf_puts(&b, "") < 0)) {
        tc_buf_free(&b);
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    *len = b.len;
    return b.data;
}

void tcx_host_init(tc_host *host, tcx_host_ctx *h)
{
    memset(host, 0, sizeof *host);
    host->ctx = h;
    host->now = host_now;
    host->name_trial_dir = host_name_trial_dir;
    host->make_dir = host_make_dir;
    host->open_sink = host_open_sink;
    host->sink_write = host_sink_write;
    host->sink_close = host_sink_close;
    host->write_atomic = host_write_atomic;
    host->write_atomic_stream = host_write_atomic_stream;
    host->cold_put = tcx_cold_put;
    host->cold_get = tcx_cold_get;
    host->remove_tree = host_remove_tree;
    host->journal = host_journal;
    host->read_file = host_read_file;
    host->copy_path = tcx_copy_path;
    h->journal_fd = -1;
    if (!h->holds_cold) {
        tcx_cold_hold();
        h->holds_cold = 1;
    }
}

void tcx_host_done(tcx_host_ctx *h)
{
    tcx_close_journal(h);
    drop_dir(h);
    if (h->holds_cold) {
        tcx_cold_release();
        h->holds_cold = 0;
    }
}

double tcx_now(void)
{
    return host_now(NULL);
}
