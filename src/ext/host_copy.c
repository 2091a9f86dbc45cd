/* host_copy.c — the host's copy of a file or directory tree (tc_host
 * copy_path): a PBT clone copies the donor's checkpoint into the cloned
 * trial's directory, and the donor's pbt_policy file (spec §8.5).
 *
 * The copy is built beside the destination ("<dst>.copy.<pid>") and renamed
 * over it, so a crash leaves the old destination or the whole copy, never a
 * half-copied checkpoint that a resume would try to restore. Symbolic links
 * are copied as links; other special files are skipped. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tcx_host.h"

static int copy_file(const char *src, const char *dst, mode_t mode, tc_error *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return tc_error_set(err, TC_ERR_IO, "cannot read %s: %s", src, strerror(errno));
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 0777);
    if (out < 0) {
        close(in);
        return tc_error_set(err, TC_ERR_IO, "cannot create %s: %s", dst, strerror(errno));
    }
    char buf[1 << 16];
    int rc = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = tc_error_set(err, TC_ERR_IO, "cannot read %s: %s", src, strerror(errno));
            break;
        }
        for (ssize_t off = 0; off < n && rc == 0;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno != EINTR)
                rc = tc_error_set(err, TC_ERR_IO, "cannot write %s: %s", dst, strerror(errno));
            else if (w > 0)
                off += w;
        }
        if (rc < 0)
            break;
    }
    close(in);
    if (close(out) < 0 && rc == 0)
        rc = tc_error_set(err, TC_ERR_IO, "cannot write %s: %s", dst, strerror(errno));
    return rc;
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = tc_malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

/* Copies src (which exists, described by st) to the new path dst. */
static int copy_entry(const char *src, const struct stat *st, const char *dst, int depth,
                      tc_error *err)
{
    if (S_ISREG(st->st_mode))
        return copy_file(src, dst, st->st_mode, err);
    if (S_ISLNK(st->st_mode)) {
        char target[4096];
        ssize_t n = readlink(src, target, sizeof target - 1);
        if (n < 0)
            return tc_error_set(err, TC_ERR_IO, "cannot read link %s: %s", src, strerror(errno));
        target[n] = '\0';
        return symlink(target, dst) < 0
                   ? tc_error_set(err, TC_ERR_IO, "cannot link %s: %s", dst, strerror(errno))
                   : 0;
    }
    if (!S_ISDIR(st->st_mode))
        return 0;
    if (depth > 64)
        return tc_error_set(err, TC_ERR_IO, "%s: directories nested too deep", src);
    if (mkdir(dst, (st->st_mode & 0777) | 0700) < 0)
        return tc_error_set(err, TC_ERR_IO, "cannot create %s: %s", dst, strerror(errno));
    DIR *d = opendir(src);
    if (!d)
        return tc_error_set(err, TC_ERR_IO, "cannot list %s: %s", src, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *from = join(src, e->d_name), *to = join(dst, e->d_name);
        struct stat est;
        if (!from || !to)
            rc = tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        else if (lstat(from, &est) == 0)
            rc = copy_entry(from, &est, to, depth + 1, err);
        tc_free(from);
        tc_free(to);
    }
    closedir(d);
    return rc;
}

int tcx_copy_path(void *ctx, const char *src, const char *dst, tc_error *err)
{
    struct stat st;
    if (lstat(src, &st) < 0)
        return errno == ENOENT ? 0 : tc_error_set(err, TC_ERR_IO, "cannot read %s: %s", src,
                                                  strerror(errno));
    size_t n = strlen(dst) + 32;
    char *tmp = tc_malloc(n);
    if (!tmp)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    snprintf(tmp, n, "%s.copy.%ld", dst, (long)getpid());
    tcx_remove_tree(tmp);
    int rc = copy_entry(src, &st, tmp, 0, err);
    if (rc == 0) {
        tcx_remove_tree(dst);   /* rename cannot replace a non-empty directory */
        if (rename(tmp, dst) < 0)
            rc = tc_error_set(err, TC_ERR_IO, "cannot rename %s: %s", tmp, strerror(errno));
    }
    if (rc < 0)
        tcx_remove_tree(tmp);
    tc_free(tmp);
    return rc < 0 ? -1 : 1;
}
