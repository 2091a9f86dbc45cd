/* host_cold.c — the cold store of tc_host (cold_put / cold_get): finished
 * trials' texts (runner_cold.c) in one unlinked temporary file per driver
 * process, so that a run of 100,000 trials keeps them on disk, not in
 * memory. Append-only; positions are offsets. The file vanishes with the
 * process (it never had a name, or lost it at once). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tcx_host.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int store_fd = -2;          /* -2: not opened yet, -1: unavailable */
static long long store_end;
static long holders;               /* tcx_cold_hold minus tcx_cold_release */

static int open_store(void)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/tunec-cold-XXXXXX", dir);
        fd = mkostemp(path, O_CLOEXEC);
        if (fd >= 0)
            unlink(path);
    }
    return fd;
}

long long tcx_cold_put(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    pthread_mutex_lock(&lock);
    if (store_fd == -2)
        store_fd = open_store();
    long long pos = -1;
    if (store_fd >= 0) {
        size_t done = 0;
        while (done < len) {
            ssize_t n = pwrite(store_fd, data + done, len - done, (off_t)(store_end + done));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            done += (size_t)n;
        }
        if (done == len) {
            pos = store_end;
            store_end += (long long)len;
        }
    }
    pthread_mutex_unlock(&lock);
    return pos;
}

char *tcx_cold_get(void *ctx, long long pos, size_t len)
{
    (void)ctx;
    char *out = tc_malloc(len + 1);
    if (!out || store_fd < 0)
        goto fail;
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(store_fd, out + done, len - done, (off_t)(pos + (long long)done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        done += (size_t)n;
    }
    out[len] = '\0';
    return out;
fail:
    tc_free(out);
    return NULL;
}

void tcx_cold_hold(void)
{
    pthread_mutex_lock(&lock);
    holders++;
    pthread_mutex_unlock(&lock);
}

/* The last holder gone, no position is live: the file is emptied (its
 * descriptor kept for the next run). */
void tcx_cold_release(void)
{
    pthread_mutex_lock(&lock);
    if (holders > 0 && --holders == 0 && store_fd >= 0 && store_end > 0 &&
        ftruncate(store_fd, 0) == 0)
        store_end = 0;
    pthread_mutex_unlock(&lock);
}

long long tcx_cold_size(void)
{
    pthread_mutex_lock(&lock);
    long long n = store_end;
    pthread_mutex_unlock(&lock);
    return n;
}
