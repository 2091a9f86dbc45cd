/* analysis.c — the experiment loader behind Analysis and ExperimentAnalysis
 * (spec §10.1, §10.7, §10.8).
 *
 * This is the one engine file that reads files itself (tunec.h says so): an
 * analysis has no running experiment and no host to hand it sinks, and doing
 * the reads here lets the extension release the GIL for the whole load.
 * Plain POSIX file and directory calls only; the parsing is result_table.c's.
 *
 * Per trial dir: params.json, then the rows of result.json when it gives at
 * least one (its values are typed), else those of progress.csv.
 *
 * Invariants:
 *   - bad input never fails a load: an unreadable file is treated as absent,
 *     and a trial dir with no readable rows is kept with source
 *     TC_SOURCE_NONE so its params still count. Only ENOMEM and a top
 *     directory that is not a directory return -1;
 *   - the walk never follows a link to a directory, so it ends on any tree;
 *   - the trial dirs found (or given) are parsed on worker threads, each
 *     into its own slot, so the result is the same whatever the schedule.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tunec.h"

#define RESULT_FILE "result.json"
#define PROGRESS_FILE "progress.csv"
#define PARAMS_FILE "params.json"
/* Ray's experiment dirs are two or three levels deep; a tree deeper than
 * this is not an experiment, and the cap bounds the recursion. */
#define MAX_WALK_DEPTH 64
/* Past a few threads the disk and the allocator, not parsing, set the pace. */
#define MAX_THREADS 8

static int nomem(tc_error *err, const char *what)
{
    return tc_error_set(err, TC_ERR_NOMEM, "out of memory while loading %s", what);
}

/* ------------------------------------------------------------------------- */
/* files                                                                      */
/* ------------------------------------------------------------------------- */

/* "dir/name" without a doubled separator; malloc'd, NULL on ENOMEM. */
static char *path_join(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    int sep = dl > 0 && dir[dl - 1] != '/';
    char *p = tc_malloc(dl + sep + nl + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, dl);
    if (sep)
        p[dl] = '/';
    memcpy(p + dl + sep, name, nl + 1);
    return p;
}

/* Reads the file `name` of the directory open as dir_fd into out (one
 * openat: the logdir's path is walked once per trial, not once per file).
 * 0 = read, 1 = unreadable (absent, a directory, permission, I/O error),
 * -1 = ENOMEM. out is the caller's buffer, reused from trial to trial. */
static int read_file(int dir_fd, const char *name, tc_buf *out)
{
    tc_buf_clear(out);
    if (dir_fd < 0)
        return 1;
    int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 1;
    int rc = 0;
    /* Sized once from fstat, plus one byte so the read that meets the end
     * needs no room; a file that grew meanwhile grows the buffer below. */
    struct stat st;
    size_t first = fstat(fd, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
    if (tc_buf_reserve(out, first) < 0) {
        close(fd);
        return -1;
    }
    for (;;) {
        if (out->cap - out->len - 1 == 0 && tc_buf_reserve(out, 65536) < 0) {
            rc = -1;
            break;
        }
        ssize_t got = read(fd, out->data + out->len, out->cap - out->len - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got < 0)
                rc = 1;
            break;
        }
        out->len += (size_t)got;
    }
    out->data[out->len] = '\0';
    close(fd);
    return rc;
}

/* Forgets the rows and columns of a file that gave none, keeping logdir and
 * params, before the other file is tried. */
static void reset_rows(tc_trial_table *t)
{
    char *logdir = t->logdir;
    json_t *params = t->params;
    t->logdir = NULL;
    t->params = NULL;
    tc_trial_table_clear(t);
    t->logdir = logdir;
    t->params = params;
}

/* A load thread's last parent directory, opened once: the trial dirs of an
 * experiment are siblings, and resolving each one's whole path again was a
 * measurable part of a load (the kernel's lookup of every component). */
typedef struct parent_dir {
    char *path;   /* malloc'd, without the trailing '/' */
    size_t len;
    int fd;       /* O_PATH, or -1 */
} parent_dir;

static void parent_dir_clear(parent_dir *pd)
{
    if (pd->fd >= 0)
        close(pd->fd);
    tc_free(pd->path);
    pd->path = NULL;
    pd->len = 0;
    pd->fd = -1;
}

/* open(logdir) as a directory, through pd's parent when logdir is
 * "<parent>/<name>" (the same resolution: the parent's path, then the
 * name). Anything unusual -- no parent, a trailing '/', a parent that will
 * not open, a name that will not open under it -- takes the plain open, so
 * the outcome is open()'s. */
static int open_logdir(const char *logdir, parent_dir *pd)
{
    const char *slash = pd ? strrchr(logdir, '/') : NULL;
    if (slash && slash != logdir && slash[1] != '\0') {
        size_t len = (size_t)(slash - logdir);
        if (!pd->path || pd->len != len || memcmp(pd->path, logdir, len) != 0) {
            parent_dir_clear(pd);
            if ((pd->path = tc_malloc(len + 1)) != NULL) {
                memcpy(pd->path, logdir, len);
                pd->path[len] = '\0';
                pd->len = len;
                pd->fd = open(pd->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
            }
        }
        if (pd->fd >= 0) {
            int fd = openat(pd->fd, slash + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd >= 0)
                return fd;
        }
    }
    return open(logdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* tc_trial_table_load with the caller's read buffer and parent directory
 * (a load thread keeps them for all its trials; pd may be NULL). */
static int trial_load(tc_trial_table *t, const char *logdir, tc_buf *buf, parent_dir *pd,
                      tc_error *err)
{
    tc_buf text = *buf;   /* given back at the end, grown */
    int rc = -1, got;
    int dir_fd = open_logdir(logdir, pd);
    tc_trial_table_init(t);
    if (!(t->logdir = tc_strdup(logdir))) {
        nomem(err, logdir);
        goto done;
    }

    if ((got = read_file(dir_fd, PARAMS_FILE, &text)) < 0) {
        nomem(err, logdir);
        goto done;
    }
    if (got == 0) {
        tc_error perr;
        tc_error_init(&perr);
        t->params = tc_json_loads(text.data ? text.data : "", text.len, &perr);
        if (!t->params && perr.code == TC_ERR_NOMEM) {
            nomem(err, logdir);
            goto done;
        }
    }

    if ((got = read_file(dir_fd, RESULT_FILE, &text)) < 0) {
        nomem(err, logdir);
        goto done;
    }
    if (got == 0) {
        if (tc_table_from_json_lines(t, text.data ? text.data : "", text.len, err) < 0)
            goto done;
        if (t->n_rows > 0) {
            rc = 0;
            goto done;
        }
        reset_rows(t);
    }

    if ((got = read_file(dir_fd, PROGRESS_FILE, &text)) < 0) {
        nomem(err, logdir);
        goto done;
    }
    if (got == 0 && tc_table_from_csv(t, text.data ? text.data : "", text.len, err) < 0)
        goto done;
    rc = 0;
done:
    if (dir_fd >= 0)
        close(dir_fd);
    tc_buf_clear(&text);
    *buf = text;
    if (rc < 0)
        tc_trial_table_clear(t);
    return rc;
}

int tc_trial_table_load(tc_trial_table *t, const char *logdir, tc_error *err)
{
    tc_buf text;
    tc_buf_init(&text);
    int rc = trial_load(t, logdir, &text, NULL, err);
    tc_buf_free(&text);
    return rc;
}

/* ------------------------------------------------------------------------- */
/* experiments                                                                */
/* ------------------------------------------------------------------------- */

void tc_analysis_init(tc_analysis *a)
{
    memset(a, 0, sizeof *a);
}

void tc_analysis_clear(tc_analysis *a)
{
    for (size_t i = 0; i < a->n_trials; i++)
        tc_trial_table_clear(&a->trials[i]);
    tc_free(a->trials);
    tc_analysis_init(a);
}

/* The trial dirs a load will read, in order (the walk's result). */
typedef struct dir_list {
    char **dirs;
    size_t n, cap;
} dir_list;

static int dir_list_add(dir_list *l, const char *dir, tc_error *err)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **dirs = tc_realloc(l->dirs, cap * sizeof *dirs);
        if (!dirs)
            return nomem(err, dir);
        l->dirs = dirs;
        l->cap = cap;
    }
    if (!(l->dirs[l->n] = tc_strdup(dir)))
        return nomem(err, dir);
    l->n++;
    return 0;
}

static void dir_list_free(dir_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        tc_free(l->dirs[i]);
    tc_free(l->dirs);
}

/* ------------------------------------------------------------------------- */
/* parallel loading                                                           */
/* ------------------------------------------------------------------------- */

/* Trial dirs are independent: worker threads take the next one until none
 * is left, each parsing into its own slot of a->trials, so the order is the
 * given one whatever the threads do. The first ENOMEM stops the others. */
typedef struct load_job {
    tc_analysis *a;
    const char *const *dirs;
    size_t next;              /* atomically claimed */
    int failed;               /* atomically set */
    pthread_mutex_t err_lock;
    tc_error *err;
} load_job;

static void *load_worker(void *arg)
{
    load_job *job = arg;
    tc_buf text;   /* this thread's read buffer, for all its trials */
    parent_dir pd = {NULL, 0, -1};
    tc_buf_init(&text);
    for (;;) {
        if (__atomic_load_n(&job->failed, __ATOMIC_RELAXED))
            break;
        size_t i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (i >= job->a->n_trials)
            break;
        tc_error err;
        tc_error_init(&err);
        if (trial_load(&job->a->trials[i], job->dirs[i], &text, &pd, &err) < 0) {
            pthread_mutex_lock(&job->err_lock);
            if (!job->failed)
                tc_error_set(job->err, err.code, "%s", err.text);
            __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
            pthread_mutex_unlock(&job->err_lock);
        }
    }
    tc_buf_free(&text);
    parent_dir_clear(&pd);
    return NULL;
}

static size_t thread_count(size_t n_trials)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n = cpus > 0 ? (size_t)cpus : 1;
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    /* A thread costs more than a small trial: a few trials each at least. */
    if (n > n_trials / 4)
        n = n_trials / 4;
    return n ? n : 1;
}

/* tc_analysis_parallel's shared state: the next index to take. */
typedef struct each_job {
    size_t n;
    size_t next;   /* atomically claimed */
    void (*fn)(void *ctx, size_t i);
    void *ctx;
} each_job;

static void *each_worker(void *arg)
{
    each_job *job = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (i >= job->n)
            break;
        job->fn(job->ctx, i);
    }
    return NULL;
}

void tc_analysis_parallel(size_t n, void (*fn)(void *ctx, size_t i), void *ctx)
{
    each_job job = {n, 0, fn, ctx};
    pthread_t threads[MAX_THREADS];
    size_t n_threads = thread_count(n), started = 0;
    while (started + 1 < n_threads &&
           pthread_create(&threads[started], NULL, each_worker, &job) == 0)
        started++;
    each_worker(&job);
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
}

static int load_all(tc_analysis *a, const char *const *dirs, size_t n, tc_error *err)
{
    if (!(a->trials = tc_calloc(n ? n : 1, sizeof *a->trials)))
        return nomem(err, "the trial list");
    a->cap = a->n_trials = n;
    for (size_t i = 0; i < n; i++)
        tc_trial_table_init(&a->trials[i]);
    load_job job = {a, dirs, 0, 0, PTHREAD_MUTEX_INITIALIZER, err};
    pthread_t threads[MAX_THREADS];
    size_t n_threads = thread_count(n), started = 0;
    /* The calling thread works too; a thread that cannot start is not needed. */
    while (started + 1 < n_threads &&
           pthread_create(&threads[started], NULL, load_worker, &job) == 0)
        started++;
    load_worker(&job);
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&job.err_lock);
    if (job.failed)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (a->trials[i].source == TC_SOURCE_NONE)
            a->n_skipped++;
        a->n_bad_lines += a->trials[i].n_bad_lines;
    }
    return 0;
}

static int cmp_names(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Top-down walk in name order (os.walk order, made deterministic). A dir
 * that holds a result.json or progress.csv (any non-directory entry of that
 * name, so a broken link still marks the trial) is a trial dir. Links to
 * directories are not followed, as os.walk does not, and checkpoint_* dirs
 * are not entered: they hold a trainable's files, not results. Unreadable
 * directories are skipped. */
static int walk(dir_list *found, const char *dir, int depth, tc_error *err)
{
    char **names = NULL, **subdirs = NULL;
    size_t n = 0, cap = 0, nsub = 0;
    int rc = -1, is_trial = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char **p = tc_realloc(names, ncap * sizeof *p);
            if (!p)
                goto nomem;
            names = p;
            cap = ncap;
        }
        if (!(names[n] = tc_strdup(e->d_name)))
            goto nomem;
        n++;
    }
    closedir(d);
    d = NULL;
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    if (!(subdirs = tc_calloc(n ? n : 1, sizeof *subdirs)))
        goto nomem;
    for (size_t i = 0; i < n; i++) {
        char *path = path_join(dir, names[i]);
        struct stat st;
        if (!path)
            goto nomem;
        int is_dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        int is_link = lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
        if (!is_dir) {
            if (!strcmp(names[i], RESULT_FILE) || !strcmp(names[i], PROGRESS_FILE))
                is_trial = 1;
            tc_free(path);
        } else if (is_link || strncmp(names[i], "checkpoint_", 11) == 0 ||
                   depth >= MAX_WALK_DEPTH) {
            tc_free(path);
        } else {
            subdirs[nsub++] = path;
        }
    }
    if (is_trial && dir_list_add(found, dir, err) < 0)
        goto done;
    for (size_t i = 0; i < nsub; i++)
        if (walk(found, subdirs[i], depth + 1, err) < 0)
            goto done;
    rc = 0;
    goto done;
nomem:
    nomem(err, dir);
done:
    if (d)
        closedir(d);
    for (size_t i = 0; i < n; i++)
        tc_free(names[i]);
    tc_free(names);
    for (size_t i = 0; i < nsub; i++)
        tc_free(subdirs[i]);
    tc_free(subdirs);
    return rc;
}

int tc_analysis_load(tc_analysis *a, const char *dir, tc_error *err)
{
    struct stat st;
    dir_list found = {0};
    tc_analysis_init(a);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return tc_error_set(err, TC_ERR_VALUE, "%s is not a valid directory.", dir);
    int rc = walk(&found, dir, 0, err);
    if (rc == 0)
        rc = load_all(a, (const char *const *)found.dirs, found.n, err);
    dir_list_free(&found);
    if (rc < 0)
        tc_analysis_clear(a);
    return rc;
}

int tc_analysis_find(const char *dir, char ***dirs, size_t *n, tc_error *err)
{
    struct stat st;
    dir_list found = {0};
    *dirs = NULL;
    *n = 0;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return tc_error_set(err, TC_ERR_VALUE, "%s is not a valid directory.", dir);
    if (walk(&found, dir, 0, err) < 0) {
        dir_list_free(&found);
        return -1;
    }
    *dirs = found.dirs;
    *n = found.n;
    return 0;
}

void tc_analysis_dirs_free(char **dirs, size_t n)
{
    dir_list l = {dirs, n, n};
    dir_list_free(&l);
}

int tc_analysis_load_dirs(tc_analysis *a, const char *const *logdirs, size_t n, tc_error *err)
{
    tc_analysis_init(a);
    if (load_all(a, logdirs, n, err) < 0) {
        tc_analysis_clear(a);
        return -1;
    }
    return 0;
}
