/* host.c — the engine's host services for the local executor: wall clock,
 * trial directories, append-only result sinks and atomic file replacement.
 *
 * Sinks are FILE streams with a large buffer; the executor flushes every
 * open sink once per loop turn (tcx_sinks_flush), so a result reaches the
 * disk within one poll interval without a write() per line. Result files are
 * append-only: a crash can at worst leave a torn last line, which readers
 * skip. Files that must never be torn (params.json, experiment_state) are
 * replaced atomically: temp file, fsync, rename. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
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
 * [a-z0-9_] glued to the prefix). */
static char *host_make_trial_dir(void *ctx, const char *parent, const char *prefix, tc_error *err)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
    size_t n = strlen(parent) + strlen(prefix) + 16;
    char *path = malloc(n);
    if (!path) {
        tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (tcx_mkdirs(parent, err) < 0) {
        free(path);
        return NULL;
    }
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned char rnd[8];
        char suffix[9];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
            for (int i = 0; i < 8; i++)
                rnd[i] = (unsigned char)rand();
        }
        for (int i = 0; i < 8; i++)
            suffix[i] = alphabet[rnd[i] % (sizeof alphabet - 1)];
        suffix[8] = '\0';
        snprintf(path, n, "%s/%s%s", parent, prefix, suffix);
        if (mkdir(path, 0777) == 0)
            return path;
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

int tcx_write_atomic(const char *path, const char *data, size_t len, tc_error *err)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
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

static int host_write_atomic(void *ctx, const char *path, const char *data, size_t len,
                             tc_error *err)
{
    return tcx_write_atomic(path, data, len, err);
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
}

double tcx_now(void)
{
    return host_now(NULL);
}
