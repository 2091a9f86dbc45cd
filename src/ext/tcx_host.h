/* tcx_host.h — host services the local executor hands to the engine (host.c). */
#ifndef TCX_HOST_H
#define TCX_HOST_H
#include "tunec.h"
#include <sys/types.h>
#include "runner.h"

typedef struct tcx_host_ctx {
    tc_sink *sinks;          /* open sinks, flushed once per loop turn */
    int journal_fd;          /* the experiment's journal, -1 if none */
    char *journal_path;      /* its name, for errors (owned) */
    off_t journal_good;      /* its size after the last whole line */
    int failed;              /* a write of the experiment's files failed: */
    tc_error io_err;         /* the first such failure, naming the file */
    int holds_cold;          /* holds the cold store (tcx_cold_hold) */
    int dir_fd;              /* the trial directory made last (O_PATH), -1 if none: */
    char *dir_path;          /* its path (owned); files in it are opened relative to it */
    size_t dir_len;
} tcx_host_ctx;

/* Fills host with the functions of host.c; h must outlive the runner (its
 * journal_fd and dir_fd start at -1).
 * Callers may then override host->stopper. It holds the cold store until
 * tcx_host_done, which the runner's owner calls once the runner is freed. */
void tcx_host_init(tc_host *host, tcx_host_ctx *h);
void tcx_host_done(tcx_host_ctx *h);
void tcx_sinks_flush(tcx_host_ctx *h);
/* 1 (err filled) once any write of the experiment's files (sinks, journal)
 * has failed: the run must stop with that TuneError. */
int tcx_host_failed(tcx_host_ctx *h, tc_error *err);
int tcx_mkdirs(const char *path, tc_error *err);
/* host_cold.c: tc_host's cold store (an unlinked temporary file), one per
 * process. Whoever keeps positions in it holds it; when the last holder
 * lets go it is emptied, so a notebook's hundredth run does not keep the
 * texts of the ninety-nine before it on disk. */
long long tcx_cold_put(void *ctx, const char *data, size_t len);
char *tcx_cold_get(void *ctx, long long pos, size_t len);
void tcx_cold_hold(void);
void tcx_cold_release(void);
long long tcx_cold_size(void);   /* bytes in the store (tests) */
int tcx_write_atomic(const char *path, const char *data, size_t len, int durable,
                     tc_error *err);
double tcx_now(void);
/* Opens (appending) the journal the runner writes events to. */
int tcx_open_journal(tcx_host_ctx *h, const char *path, tc_error *err);
void tcx_close_journal(tcx_host_ctx *h);
/* Removes a file or directory tree (missing is fine). */
void tcx_remove_tree(const char *path);
/* tc_host.copy_path (host_copy.c): 1 copied, 0 src missing, -1 + err. */
int tcx_copy_path(void *ctx, const char *src, const char *dst, tc_error *err);

#endif
