/* mem_fs.h — an in-memory file system for the engine tests that drive a
 * runner (test_runner.c, test_runner_sched.c): the host's clock, trial
 * directories, append-only sinks and atomic writes, over named buffers.
 *
 * A test's host struct has a mem_fs as its FIRST member, so the context the
 * runner hands every callback is both the test's host and its mem_fs.
 * Removed files stay in the table marked `gone` (a test may ask what was
 * removed); a path written again becomes a new live entry. */
#ifndef TC_TEST_MEM_FS_H
#define TC_TEST_MEM_FS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tunec.h"
#include "runner.h"

#define MEM_FS_MAX_FILES 1024

struct tc_sink { int file; };

typedef struct {
    char path[512];
    tc_buf data;
    int gone;                 /* removed (remove_tree, or replaced by copy_path) */
} mem_file;

typedef struct mem_fs {
    double clock;             /* what host.now returns */
    int ndirs;                /* trial directories made so far */
    mem_file files[MEM_FS_MAX_FILES];
    int nfiles;
    struct tc_sink sinks[MEM_FS_MAX_FILES];
} mem_fs;

/* The live entry of path, or -1. */
static inline int mem_find_file(mem_fs *fs, const char *path)
{
    for (int i = 0; i < fs->nfiles; i++)
        if (!fs->files[i].gone && strcmp(fs->files[i].path, path) == 0)
            return i;
    return -1;
}

/* The live entry of path, created empty if missing. */
static inline int mem_file_index(mem_fs *fs, const char *path)
{
    int i = mem_find_file(fs, path);
    if (i >= 0)
        return i;
    if (fs->nfiles == MEM_FS_MAX_FILES) {
        fprintf(stderr, "mem_fs: too many files\n");
        abort();
    }
    i = fs->nfiles++;
    snprintf(fs->files[i].path, sizeof fs->files[i].path, "%.511s", path);
    tc_buf_init(&fs->files[i].data);
    return i;
}

/* The text of dir/name, NULL if there is no such file. */
static inline const char *mem_file_text(mem_fs *fs, const char *dir, const char *name)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int i = mem_find_file(fs, path);
    if (i < 0)
        return NULL;
    return fs->files[i].data.data ? fs->files[i].data.data : "";
}

static inline void mem_fs_free(mem_fs *fs)
{
    for (int i = 0; i < fs->nfiles; i++)
        tc_buf_free(&fs->files[i].data);
}

static inline double mem_now(void *ctx) { return ((mem_fs *)ctx)->clock; }

static inline char *mem_name_dir(void *ctx, const char *parent, const char *prefix, int exact,
                              tc_error *err)
{
    mem_fs *fs = ctx;
    /* tc_malloc: the engine owns (and tc_frees) the path */
    char *p = tc_malloc(strlen(parent) + strlen(prefix) + 16);
    if (!p) {
        tc_error_set(err, TC_ERR_NOMEM, "mem_fs: out of memory");
        return NULL;
    }
    if (exact)
        sprintf(p, "%s/%s", parent, prefix);
    else
        sprintf(p, "%s/%sxxxx%04d", parent, prefix, fs->ndirs++);
    return p;
}

static inline tc_sink *mem_open(void *ctx, const char *path, int *existed, tc_error *err)
{
    mem_fs *fs = ctx;
    int i = mem_file_index(fs, path);
    *existed = fs->files[i].data.len > 0;
    fs->sinks[i].file = i;
    return &fs->sinks[i];
}

static inline int mem_write(void *ctx, tc_sink *s, const char *data, size_t len, tc_error *err)
{
    mem_fs *fs = ctx;
    if (tc_buf_append(&fs->files[s->file].data, data, len) < 0)
        return tc_error_set(err, TC_ERR_NOMEM, "mem_fs: out of memory");
    return 0;
}

static inline void mem_close(void *ctx, tc_sink *s) {}

static inline int mem_atomic(void *ctx, const char *path, const char *data, size_t len,
                             int durable, tc_error *err)
{
    mem_fs *fs = ctx;
    int i = mem_file_index(fs, path);
    /* atomic: a failed write leaves the old text, as rename() would */
    tc_buf text;
    tc_buf_init(&text);
    if (tc_buf_append(&text, data, len) < 0) {
        tc_buf_free(&text);
        return tc_error_set(err, TC_ERR_NOMEM, "mem_fs: out of memory");
    }
    tc_buf_free(&fs->files[i].data);
    fs->files[i].data = text;
    return 0;
}

/* host.make_dir: the directories made so far are entries of their own,
 * "<path>/" (never a file's path), so that a test sees which exist. */
static inline int mem_make_dir(void *ctx, const char *path, tc_error *err)
{
    mem_fs *fs = ctx;
    char key[520];
    snprintf(key, sizeof key, "%.510s/", path);
    if (mem_find_file(fs, key) >= 0)
        return 0;
    mem_file_index(fs, key);
    return 1;
}

/* host.read_file: a copy of path's text (tc_malloc: the engine frees it),
 * NULL when there is no such file. Not set by mem_fs_host: a test that
 * wants restarts to read result files back (and cut them) sets it. */
static inline char *mem_read_file(void *ctx, const char *path, size_t *len, tc_error *err)
{
    mem_fs *fs = ctx;
    int i = mem_find_file(fs, path);
    if (i < 0)
        return NULL;
    tc_buf *data = &fs->files[i].data;
    char *copy = tc_malloc(data->len + 1);
    if (!copy) {
        tc_error_set(err, TC_ERR_NOMEM, "mem_fs: out of memory");
        return NULL;
    }
    if (data->len)
        memcpy(copy, data->data, data->len);
    copy[data->len] = '\0';
    *len = data->len;
    return copy;
}

/* A host with ctx and the mem_fs callbacks set, everything else NULL. */
static inline tc_host mem_fs_host(void *ctx)
{
    tc_host host;
    memset(&host, 0, sizeof host);
    host.ctx = ctx;
    host.now = mem_now;
    host.name_trial_dir = mem_name_dir;
    host.make_dir = mem_make_dir;
    host.open_sink = mem_open;
    host.sink_write = mem_write;
    host.sink_close = mem_close;
    host.write_atomic = mem_atomic;
    return host;
}

#endif
