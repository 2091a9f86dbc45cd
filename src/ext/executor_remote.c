/* executor_remote.c — the launcher of workers that run elsewhere: Ray
 * actors on a cluster (docs/ray-cluster.md). It fills the same
 * tcx_launcher table as the local process pool (executor_workers.c), so the
 * executor's contract with a worker stays its socket: tcx_spawn_worker makes
 * the socketpair and keeps one end as the worker's fd, and start() hands a
 * copy of the other end to the Run's Python launcher_fn
 * (tunec/_ray_executor.py), whose relay moves the bytes to and from an actor
 * running the ordinary worker loop. The engine sees the same frames, attempt
 * tokens included, and keeps every decision; only these differ:
 *   - a remote worker's id (its `pid`) is a negative number of ours (-2,
 *     -3, ...), unique in this driver; it names the trial's run as a pid
 *     does and is never signalled or waited for;
 *   - killing one shuts its socket down: the relay sees the end of the
 *     stream and ends the actor (ray.kill); an actor that dies (its node
 *     lost) closes the relay's end, which the poll loop reads as a lost
 *     worker, so its trial errs and the engine's max_failures retries it;
 *   - workers are reused only for the same resource request (key_of);
 *   - a worker waits any time for Ray to place it (waits_for_placement);
 *   - while one waits, idle workers are ended (tick), as their actors hold
 *     cluster resources the engine's capacity does not see. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "executor_internal.h"

/* Trial t's resource request as compact JSON text in self->scratch; -1
 * when out of memory. */
static int request_text(RunObject *self, const tc_trial *t)
{
    json_t *req = tc_resources_to_json(tc_trial_resources(self->runner, t));
    tc_buf_clear(&self->scratch);
    int rc = req && tc_json_dump(req, &self->scratch, TC_DUMP_COMPACT) == 0 &&
                     tc_buf_append(&self->scratch, "", 1) == 0 ? 0 : -1;
    json_decref(req);
    return rc;
}

/* The key is the request: an actor holds exactly its resources on the
 * cluster, so it may run only a trial asking for the same. */
static void remote_key_of(RunObject *self, const tc_trial *t, char *out, size_t n)
{
    if (request_text(self, t) < 0) {
        snprintf(out, n, "ray:?");
        return;
    }
    const char *text = self->scratch.data;
    if (strlen(text) + 5 < n) {
        snprintf(out, n, "ray:%s", text);
        return;
    }
    /* A long custom-resource list: its FNV-1a hash stands for it. */
    unsigned long long h = 1469598103934665603ULL;
    for (const char *p = text; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    snprintf(out, n, "ray#%016llx", h);
}

/* Calls launcher_fn(fd, request_json) with its own copy of child_fd, which
 * the launcher owns from then on, also when it raises. */
static int remote_start(RunObject *self, int child_fd, const char *key, const tc_trial *t,
                        long *id, tc_error *err)
{
    (void)key;
    if (request_text(self, t) < 0)
        return tc_error_set(err, TC_ERR_NOMEM, "out of memory");
    int fd = fcntl(child_fd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return tc_error_set(err, TC_ERR_IO, "dup: %s", strerror(errno));
    PyObject *ret = PyObject_CallFunction(self->launcher_fn, "is", fd, self->scratch.data);
    if (!ret)
        return tcx_error_from_python(err);
    Py_DECREF(ret);
    *id = -2 - self->remote_seq++;
    return 0;
}

/* Shut down, the socket tells the relay to end the actor; nothing here
 * waits for it (RayLauncher.close joins the relays when the run ends). */
static void remote_kill(RunObject *self, worker *w, int hard)
{
    (void)self;
    (void)hard;
    if (w->fd >= 0)
        shutdown(w->fd, SHUT_RDWR);
}

/* The relay closed the socket: the actor is gone. */
static void remote_reap(RunObject *self, worker *w, char *why, size_t n)
{
    (void)self;
    snprintf(why, n, "Worker on Ray node %.64s was lost: its actor died, its node was removed, "
             "or Ray could not start it", w->hostname[0] ? w->hostname : "(not placed)");
}

/* Burying the worker (closing its socket) ends its actor: nothing to wait
 * for here. */
static int remote_ended(RunObject *self, worker *w)
{
    (void)self;
    (void)w;
    return 1;
}

/* Idle remote workers hold their actors' resources on the cluster, which
 * the engine's capacity (the cluster's total, read once) does not see: a
 * trial whose new actor waits for Ray to place it could wait for them
 * forever (e.g. a node was lost, so the cluster is smaller than the engine
 * thinks). While any worker waits to be placed, idle ones are ended, as Ray
 * Tune stops the actors of finished trials. No Python runs here. */
static void remote_tick(RunObject *self)
{
    int placing = 0;
    for (int i = 0; i < self->nworkers && !placing; i++) {
        worker *w = &self->workers[i];
        placing = w->state != W_DEAD && !w->hostname[0];
    }
    if (!placing)
        return;
    for (int i = 0; i < self->nworkers; i++) {
        worker *w = &self->workers[i];
        if (w->state == W_IDLE) {
            tcx_worker_send(w, TC_MSG_EXIT, -1, NULL, 0);
            if (w->out.len) {
                ssize_t m = write(w->fd, w->out.data, w->out.len);
                (void)m;
            }
            tcx_worker_bury(w);
        }
    }
}

const tcx_launcher tcx_remote_launcher = {
    .start = remote_start, .kill = remote_kill, .reap = remote_reap, .ended = remote_ended,
    .key_of = remote_key_of, .tick = remote_tick, .waits_for_placement = 1,
};
