/* executor_workers.c — the local executor's worker processes (DESIGN §3):
 * starting them (forked by the zygote, executor_zygote.c, or spawned as
 * `python -m tunec._worker`) with their socket on fd 3 and their
 * CUDA_VISIBLE_DEVICES, the frames they send and receive, the poll loop,
 * and what happens when one dies, hangs or ignores a stop. Runs with the
 * GIL released, except where a Python stopper is called (executor_local.c). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor_internal.h"

extern char **environ;

/* ------------------------------------------------------------------------ */
/* workers                                                                  */
/* ------------------------------------------------------------------------ */

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Builds the environment of a new worker: ours, the Python-supplied
 * overrides, and CUDA_VISIBLE_DEVICES (set before the worker imports
 * anything, DESIGN §3). */
static char **worker_environ(RunObject *self, const char *gpu_key)
{
    size_t n = 0, m = 0;
    for (char **p = self->worker_env; p && *p; p++)
        m++;
    for (char **p = environ; *p; p++)
        n++;
    char **env = tc_calloc(n + m + 2, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (char **p = environ; *p; p++) {
        if (strncmp(*p, "CUDA_VISIBLE_DEVICES=", 21) == 0)
            continue;
        int overridden = 0;
        const char *eq = strchr(*p, '=');
        size_t keylen = eq ? (size_t)(eq - *p) + 1 : strlen(*p);
        for (char **q = self->worker_env; q && *q; q++)
            overridden |= strncmp(*p, *q, keylen) == 0;
        if (!overridden)
            env[k++] = tc_strdup(*p);
    }
    for (char **q = self->worker_env; q && *q; q++)
        env[k++] = tc_strdup(*q);
    size_t len = strlen(gpu_key) + 32;
    env[k] = tc_malloc(len);
    if (env[k])
        snprintf(env[k++], len, "CUDA_VISIBLE_DEVICES=%s", gpu_key);
    env[k] = NULL;
    return env;
}

/* ---- the local process pool's launcher ---------------------------------- */

/* A worker process on this machine: forked by the zygote (tunec imported
 * already) when the run has one, a new interpreter otherwise, or when the
 * zygote fails. child_fd becomes its fd 3. */
static int local_start(RunObject *self, int child_fd, const char *gpu_key, const tc_trial *t,
                       long *id, tc_error *err)
{
    (void)t;
    char **env = worker_environ(self, gpu_key);
    if (!env)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    pid_t pid = tcx_zygote_spawn(self, child_fd, env);
    int rc = 0;
    if (pid < 0 && tcx_zygote_unhold(self, err) < 0) {
        tcx_free_strv(env);
        return -1;
    }
    if (pid < 0) {
        /* A process group of its own: a terminal's Ctrl-C (SIGINT to the
         * foreground group) is the driver's to handle, and must not reach a
         * worker still starting up, before it can ignore the signal. */
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, child_fd, 3);
        rc = posix_spawn(&pid, self->worker_argv[0], &fa, &attr, self->worker_argv, env);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
    }
    tcx_free_strv(env);
    if (rc != 0)
        return tc_error_set(err, TC_ERR_IO, "cannot start worker %s: %s", self->worker_argv[0],
                            strerror(rc));
    *id = (long)pid;
    return 0;
}

/* Ends it (SIGKILL, or SIGTERM when not hard) and waits for it. */
static void local_kill(RunObject *self, worker *w, int hard)
{
    kill(w->pid, hard ? SIGKILL : SIGTERM);
    waitpid(w->pid, NULL, 0);
}

/* Its socket closed: waits for it and says how it ended. */
static void local_reap(RunObject *self, worker *w, char *why, size_t n)
{
    int status = 0;
    pid_t pid = w->pid;
    pid_t got = waitpid(pid, &status, 0);
    if (got == pid && WIFSIGNALED(status))
        snprintf(why, n, "Worker process %ld died: killed by signal %d (%s)", (long)pid,
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (got == pid && WIFEXITED(status))
        snprintf(why, n, "Worker process %ld died: exited with code %d", (long)pid,
                 WEXITSTATUS(status));
    else
        snprintf(why, n, "Worker process %ld died", (long)pid);
}

static int local_ended(RunObject *self, worker *w)
{
    pid_t got = waitpid(w->pid, NULL, WNOHANG);
    return got == w->pid || got < 0;
}

const tcx_launcher tcx_local_launcher = {
    .start = local_start, .kill = local_kill, .reap = local_reap, .ended = local_ended,
    .key_of = NULL, .tick = NULL, .waits_for_placement = 0,
};

/* ---- workers, whatever launched them -------------------------------------- */

/* Starts a worker through the run's launcher; returns its slot or -1 with
 * err set. */
int tcx_spawn_worker(RunObject *self, const tc_trial *t, const char *gpu_key, tc_error *err)
{
    int sv[2] = {-1, -1};
    /* The slot first: nothing to undo once the process runs. */
    if (self->nworkers == self->cap_workers) {
        int cap = self->cap_workers ? self->cap_workers * 2 : 8;
        worker *grown = tc_realloc(self->workers, (size_t)cap * sizeof *grown);
        if (!grown)
            return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
        self->workers = grown;
        self->cap_workers = cap;
    }
    worker *w = &self->workers[self->nworkers];
    memset(w, 0, sizeof *w);
    w->fd = -1;
    w->state = W_DEAD;
    /* One bit per trainable, as many as the run has. */
    w->trainables_sent = tc_calloc((size_t)PyList_GET_SIZE(self->trainables) / 8 + 1, 1);
    if (!w->trainables_sent)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        tcx_worker_bury(w);
        return tc_error_set(err, TC_ERR_IO, "socketpair: %s", strerror(errno));
    }
    /* The child's end becomes fd 3; keep it away from 3 first so dup2 is a
     * real duplication (which clears close-on-exec). */
    int child_fd = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
    close(sv[1]);
    if (child_fd < 0) {
        close(sv[0]);
        tcx_worker_bury(w);
        return tc_error_set(err, TC_ERR_IO, "dup: %s", strerror(errno));
    }
    long id = 0;
    int rc = self->launcher->start(self, child_fd, gpu_key, t, &id, err);
    close(child_fd);
    if (rc < 0) {
        close(sv[0]);
        tcx_worker_bury(w);
        return -1;
    }
    set_nonblock(sv[0]);
    w->pid = (pid_t)id;
    w->fd = sv[0];
    w->state = W_STARTING;
    w->token = 0;
    w->last_seen = tcx_now();
    snprintf(w->gpu_key, sizeof w->gpu_key, "%s", gpu_key);
    tc_buf_init(&w->in);
    tc_buf_init(&w->out);
    return self->nworkers++;
}

int tcx_live_workers(RunObject *self)
{
    int n = 0;
    for (int i = 0; i < self->nworkers; i++)
        n += self->workers[i].state != W_DEAD;
    return n;
}

void tcx_worker_send(worker *w, uint16_t type, int32_t trial, const void *data, size_t len)
{
    if (w->state != W_DEAD)
        tc_frame_append(&w->out, type, trial, data, len);
}

/* Closes a dead worker's resources (the slot stays, marked DEAD). */
void tcx_worker_bury(worker *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    w->state = W_DEAD;
    tc_free(w->trainables_sent);
    w->trainables_sent = NULL;
    tc_buf_free(&w->in);
    tc_buf_free(&w->out);
}

/* ------------------------------------------------------------------------ */
/* frames from workers                                                      */
/* ------------------------------------------------------------------------ */

void tcx_request_stop(worker *w)
{
    tcx_request_stop_flags(w, 0);
}

void tcx_request_stop_flags(worker *w, uint16_t flags)
{
    if (w->state == W_BUSY) {
        if (w->state != W_DEAD)
            tc_frame_append_flags(&w->out, TC_MSG_STOP, flags, w->token, NULL, 0);
        w->state = W_STOPPING;
        w->stop_sent_at = tcx_now();
    }
}

int tcx_handle_frame(RunObject *self, worker *w, const tc_frame *f, tc_error *err)
{
    /* The trial whose current attempt the frame is about: NULL for a stale
     * attempt (killed and replaced, e.g. retried on another worker while
     * this one still reports on its old run). mine: it is also the attempt
     * this worker runs now (not one it finished before a queued START). */
    tc_trial *t = tc_runner_attempt(self->runner, f->token);
    int mine = t && w->token == f->token;
    w->last_seen = tcx_now();
    switch (f->type) {
    case TC_MSG_HEARTBEAT:
        return 0;
    case TC_MSG_CHECKPOINT: {
        /* Registered even after the trial stopped: checkpoint_at_end and
         * Ctrl-C checkpoints arrive after the STOP. */
        if (!t)
            return 0;
        json_t *c = tc_json_loads(f->payload, f->len, NULL);
        const char *dir = c ? json_string_value(json_object_get(c, "dir")) : NULL;
        const char *path = c ? json_string_value(json_object_get(c, "path")) : NULL;
        long it = c ? (long)json_integer_value(json_object_get(c, "iteration")) : 0;
        const json_t *reports = c ? json_object_get(c, "run_reports") : NULL;
        int transient = c && json_is_true(json_object_get(c, "transient"));
        int rc = tc_runner_on_checkpoint(self->runner, t, dir, path, it,
                                         json_is_integer(reports) ?
                                             (long)json_integer_value(reports) : -1,
                                         transient, err);
        json_decref(c);
        return rc;
    }
    case TC_MSG_HELLO: {
        json_t *hello = tc_json_loads(f->payload, f->len, NULL);
        const char *host = hello ? json_string_value(json_object_get(hello, "hostname")) : NULL;
        snprintf(w->hostname, sizeof w->hostname, "%s", host ? host : "");
        json_decref(hello);
        if (w->token > 0 && tc_runner_on_started(self->runner, w->token, (long)w->pid,
                                                 w->hostname, err) < 0)
            return -1;
        if (w->state == W_STARTING)
            w->state = w->token > 0 ? W_BUSY : W_IDLE;
        return 0;
    }
    case TC_MSG_RESULT: {
        int wants_answer = f->flags & TC_FLAG_RESULT_ANSWER;   /* a class trainable waits for it */
        if (mine && t->status != TC_RUNNING)
            tc_runner_on_late_result(self->runner, t);   /* ran ahead of a stop or pause */
        if (!mine || t->status != TC_RUNNING) {
            if (wants_answer)
                tc_frame_append(&w->out, TC_MSG_STOP, f->token, NULL, 0);
            return 0;
        }
        tc_decision d;
        if (tc_runner_on_result(self->runner, t, f->payload, f->len, &d, err) < 0)
            return -1;
        if ((d == TC_SAVE || d == TC_PAUSE) && wants_answer)
            tc_runner_expect_checkpoint(self->runner, t);   /* a class trainable saves */
        /* What this worker does next is the engine's action for the attempt
         * (STOP, PAUSE, RESTORE, SAVE), carried out now, in this turn, as a
         * class trainable waits for it; with none, it goes on. */
        w->awaits_answer = wants_answer ? f->token : 0;
        if (tcx_run_actions(self, 0, err) < 0)
            return -1;
        if (w->awaits_answer) {
            /* No action: CONTINUE — or STOP when the attempt had its one
             * ending action before this result (the worker is stopping). */
            int going_on = w->state == W_BUSY;
            uint16_t flags = !going_on && d == TC_PAUSE ? TC_FLAG_STOP_SAVE : 0;
            tc_frame_append_flags(&w->out, going_on ? TC_MSG_CONTINUE : TC_MSG_STOP, flags,
                                  f->token, NULL, 0);
            if (!going_on)
                w->finishing = 1;
            w->awaits_answer = 0;
        }
        return 0;
    }
    case TC_MSG_DONE:
        tc_runner_on_ended(self->runner, f->token);   /* its trainable returned */
        if (mine && tc_runner_on_complete(self->runner, t, err) < 0)
            return -1;
        if (mine && t->saving &&
            tc_runner_on_released(self->runner, t, 1, err) < 0)   /* returned while paused */
            return -1;
        if (mine && (w->state == W_BUSY || w->state == W_STOPPING)) {
            if (w->state == W_BUSY)
                w->stop_sent_at = tcx_now();
            w->state = W_STOPPING;
            w->finishing = 1;
        }
        return 0;
    case TC_MSG_ERROR: {
        if (!mine)
            return 0;
        tc_runner_on_ended(self->runner, f->token);   /* failed: nothing more to stop */
        char *text = tc_strndup(f->payload, f->len);
        int rc = tc_runner_on_error(self->runner, t, text ? text : "error", err);
        tc_free(text);
        if (w->state == W_BUSY)
            w->stop_sent_at = tcx_now();
        w->state = W_STOPPING;
        w->finishing = 1;
        return rc;
    }
    case TC_MSG_READY:
        /* A paused trial's worker is done with it (its checkpoint came
         * first); the worker may already hold the START of another trial. */
        tc_runner_on_ended(self->runner, f->token);   /* the worker is done with it */
        if (t && tc_runner_on_released(self->runner, t, 0, err) < 0)
            return -1;
        if (w->starts_pending > 0)
            w->starts_pending--;
        if (w->starts_pending > 0)
            return 0;    /* READY for an earlier run; a queued START follows */
        if (mine && t->status == TC_RUNNING) {
            /* The trainable ended without DONE (a class trainable that was
             * stopped from outside): the trial is over. */
            tc_runner_on_stopped(self->runner, t, err);
        }
        w->state = W_IDLE;
        w->token = 0;
        w->finishing = 0;
        return 0;
    default:
        return tc_error_set(err, TC_ERR_TUNE, "worker %ld sent an unknown frame type %d",
                            (long)w->pid, f->type);
    }
}

static int drain_frames(RunObject *self, worker *w, tc_error *err)
{
    size_t off = 0;
    while (off < w->in.len && w->state != W_DEAD) {
        tc_frame f;
        long used = tc_frame_parse(w->in.data + off, w->in.len - off, &f);
        if (used == 0)
            break;
        if (used < 0) {
            self->launcher->kill(self, w, 1);
            return tc_error_set(err, TC_ERR_TUNE, "corrupt frame from worker %ld", (long)w->pid);
        }
        if (tcx_handle_frame(self, w, &f, err) < 0)
            return -1;
        off += (size_t)used;
    }
    if (off > 0 && w->state != W_DEAD) {
        memmove(w->in.data, w->in.data + off, w->in.len - off);
        w->in.len -= off;
    }
    return 0;
}

/* The worker's socket closed: its trial (if any) failed. */
int tcx_worker_lost(RunObject *self, worker *w, tc_error *err)
{
    char msg[256];
    self->launcher->reap(self, w, msg, sizeof msg);
    tcx_worker_bury(w);
    tc_runner_on_ended(self->runner, w->token);   /* its worker is gone */
    tc_trial *t = tc_runner_attempt(self->runner, w->token);   /* NULL: moved on */
    if (t && tc_runner_on_released(self->runner, t, 0, err) < 0)
        return -1;
    if (t && t->status == TC_RUNNING)
        return tc_runner_on_error(self->runner, t, msg, err);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* the poll loop                                                            */
/* ------------------------------------------------------------------------ */

/* One poll round over all workers (GIL released by the caller). */
int tcx_poll_once(RunObject *self, int timeout_ms, tc_error *err)
{
    struct pollfd fds[self->nworkers + 1];
    int map[self->nworkers + 1];
    int n = 0;
    for (int i = 0; i < self->nworkers; i++) {
        worker *w = &self->workers[i];
        if (w->state == W_DEAD)
            continue;
        fds[n].fd = w->fd;
        fds[n].events = POLLIN | (w->out.len ? POLLOUT : 0);
        fds[n].revents = 0;
        map[n++] = i;
    }
    if (n == 0) {
        if (timeout_ms > 0)
            usleep((useconds_t)timeout_ms * 1000);
        return 0;
    }
    int ready = poll(fds, (nfds_t)n, timeout_ms);
    if (ready < 0)
        return errno == EINTR ? 0 : tc_error_set(err, TC_ERR_IO, "poll: %s", strerror(errno));
    for (int k = 0; k < n; k++) {
        worker *w = &self->workers[map[k]];
        if (fds[k].revents & POLLOUT && w->out.len) {
            ssize_t m = write(w->fd, w->out.data, w->out.len);
            if (m > 0) {
                memmove(w->out.data, w->out.data + m, w->out.len - (size_t)m);
                w->out.len -= (size_t)m;
            }
        }
        if (fds[k].revents & (POLLIN | POLLHUP | POLLERR)) {
            int closed = 0;
            for (;;) {
                if (tc_buf_reserve(&w->in, 1 << 16) < 0)
                    return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
                ssize_t m = read(w->fd, w->in.data + w->in.len, w->in.cap - w->in.len - 1);
                if (m > 0) {
                    w->in.len += (size_t)m;
                    if (drain_frames(self, w, err) < 0)
                        return -1;
                    if ((size_t)m < (size_t)(1 << 16) || tcx_events_full(self))
                        break;   /* the rest waits (Python callbacks behind) */
                    continue;
                }
                if (m == 0)
                    closed = 1;
                else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                    closed = 1;
                break;
            }
            if (closed && w->state != W_DEAD && tcx_worker_lost(self, w, err) < 0)
                return -1;
        }
    }
    /* Frames queued while handling input go out now rather than next turn. */
    for (int i = 0; i < self->nworkers; i++) {
        worker *w = &self->workers[i];
        if (w->state != W_DEAD && w->out.len) {
            ssize_t m = write(w->fd, w->out.data, w->out.len);
            if (m > 0) {
                memmove(w->out.data, w->out.data + m, w->out.len - (size_t)m);
                w->out.len -= (size_t)m;
            }
        }
    }
    return ready;
}

/* Workers that ignore a STOP for too long (a function blocked after
 * reporting done, spec §18.13) are killed; their trial is already over. */

void tcx_reap_stuck(RunObject *self, tc_error *err)
{
    double now = tcx_now();
    if (self->launcher->tick)
        self->launcher->tick(self);
    for (int i = 0; i < self->nworkers; i++) {
        worker *w = &self->workers[i];
        /* A busy worker that sends nothing, not even the heartbeat its C
         * thread writes every second, is hung (stopped, deadlocked in C). */
        /* A remote worker before its HELLO waits for the cluster to place
         * it (resources busy), which may take any time, as in Ray Tune. */
        int placing = self->launcher->waits_for_placement && !w->hostname[0];
        if ((w->state == W_BUSY || w->state == W_STARTING) && w->token > 0 && !placing &&
            self->heartbeat_timeout_s > 0 && now - w->last_seen > self->heartbeat_timeout_s) {
            tc_trial *t = tc_runner_attempt(self->runner, w->token);
            char msg[200];
            snprintf(msg, sizeof msg, "Worker process %ld stopped answering (nothing for %.0f s); "
                     "killed", (long)w->pid, now - w->last_seen);
            self->launcher->kill(self, w, 1);
            tcx_worker_bury(w);
            tc_runner_on_ended(self->runner, w->token);
            if (t && t->status == TC_RUNNING)
                tc_runner_on_error(self->runner, t, msg, err);
            continue;
        }
        if (w->state == W_STOPPING && now - w->stop_sent_at > self->stop_grace_s) {
            self->launcher->kill(self, w, 1);
            tcx_worker_bury(w);
            tc_runner_on_ended(self->runner, w->token);
            tc_trial *t = tc_runner_attempt(self->runner, w->token);   /* NULL: moved on */
            if (t)
                tc_runner_on_released(self->runner, t, 0, err);
            if (t && t->status == TC_RUNNING)
                tc_runner_on_stopped(self->runner, t, NULL);
        }
    }
}

/* Ends every worker: EXIT, a short grace, then SIGKILL. */
void tcx_shutdown_workers(RunObject *self, double grace_s)
{
    for (int i = 0; i < self->nworkers; i++) {
        worker *w = &self->workers[i];
        if (w->state == W_DEAD)
            continue;
        tcx_worker_send(w, TC_MSG_EXIT, -1, NULL, 0);
        if (w->out.len) {
            ssize_t m = write(w->fd, w->out.data, w->out.len);
            (void)m;
        }
        shutdown(w->fd, SHUT_WR);
    }
    double deadline = tcx_now() + grace_s;
    for (int i = 0; i < self->nworkers; i++) {
        worker *w = &self->workers[i];
        if (w->state == W_DEAD)
            continue;
        int closed = 0;   /* its socket's end came: the process is exiting */
        for (;;) {
            if (self->launcher->ended(self, w))
                break;
            if (tcx_now() > deadline) {
                self->launcher->kill(self, w, 1);
                break;
            }
            /* Wait for the socket's end (a worker closes it as it exits)
             * rather than sleeping 2 ms steps: tune.run returns that much
             * sooner. What the worker still sends is dropped. */
            struct pollfd p = {.fd = w->fd, .events = POLLIN};
            if (closed || poll(&p, 1, 2) <= 0) {
                usleep(closed ? 100 : 0);
                continue;
            }
            char sink[4096];
            ssize_t m = read(w->fd, sink, sizeof sink);
            closed = m == 0 || (m < 0 && errno != EAGAIN && errno != EINTR);
        }
        tcx_worker_bury(w);
    }
}
