/* executor_zygote.c — asking the fork server (tunec/_zygote.py) for a
 * worker, instead of starting an interpreter with posix_spawn (issue 12):
 * the zygote has tunec imported and forks a worker in about a millisecond.
 *
 * The worker must end up exactly where posix_spawn puts it: a child of this
 * process (so waitpid reports how it died and PR_SET_PDEATHSIG names us),
 * with its socket on fd 3, our stdin/stdout/stderr and current directory,
 * and the environment worker_environ built (CUDA_VISIBLE_DEVICES included).
 * The zygote forks an intermediate that forks the worker and exits; while
 * we wait for the reply we are a child subreaper, so the kernel hands the
 * orphaned worker to us rather than to init. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor_internal.h"

/* The first request waits for the zygote's own start-up (an interpreter and
 * tunec's imports): generous, since a loaded machine is slow, but bounded,
 * since a hung zygote must not hang the run (we fall back to posix_spawn). */
#define ZYGOTE_REPLY_TIMEOUT_MS 60000

/* One request at a time per process: replies carry no request id, and two
 * runs in two threads share the zygote. */
static pthread_mutex_t zygote_lock = PTHREAD_MUTEX_INITIALIZER;

/* A start can fail while the zygote itself is fine: the intermediate or the
 * new worker was killed before it was handed over (a user's `kill`, the OOM
 * killer, the soak's killer). That one worker is then started with
 * posix_spawn and the zygote kept; only this many failed starts in a row
 * (or a zygote that no longer answers) make the run give it up. Counted from
 * each run's use_zygote; read and written with the GIL held (the callers
 * hold it), which serialises it. */
#define ZYGOTE_MAX_FAILED_STARTS 3
static int failed_starts_in_a_row;

const char tcx_use_zygote_doc[] =
    "use_zygote(fd, unheld=None)\n\n"
    "Start this run's workers through the fork server whose socket is fd\n"
    "(tunec/_zygote.py); -1 starts them with posix_spawn. unheld: where some\n"
    "trainables were given as markers of the zygote's (held_blob), a callable\n"
    "returning every trainable's own bytes, for a worker the zygote does not fork.";

PyObject *tcx_run_use_zygote(RunObject *self, PyObject *args)
{
    long fd;
    PyObject *unheld = Py_None;
    if (!PyArg_ParseTuple(args, "l|O:use_zygote", &fd, &unheld))
        return NULL;
    if (unheld != Py_None && !PyCallable_Check(unheld)) {
        PyErr_SetString(PyExc_TypeError, "use_zygote: unheld must be callable or None");
        return NULL;
    }
    self->has_zygote = fd >= 0;
    self->zygote_fd = (int)fd;
    Py_XSETREF(self->unheld, unheld == Py_None ? NULL : Py_NewRef(unheld));
    failed_starts_in_a_row = 0;
    Py_RETURN_NONE;
}

int tcx_zygote_unhold(RunObject *self, tc_error *err)
{
    if (!self->unheld)
        return 0;
    PyObject *fn = self->unheld;   /* ours now: asked once, whatever it answers */
    self->unheld = NULL;
    PyObject *blobs = PyObject_CallNoArgs(fn);
    Py_DECREF(fn);
    if (!blobs)
        return tcx_error_from_python(err);
    int rc = 0;
    if (!PyList_Check(blobs) || PyList_GET_SIZE(blobs) > PyList_GET_SIZE(self->trainables)) {
        rc = tc_error_set(err, TC_ERR_TYPE, "unheld must return a list of at most %zd "
                          "bytes objects", PyList_GET_SIZE(self->trainables));
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(blobs); i++) {
        PyObject *blob = PyList_GET_ITEM(blobs, i);   /* borrowed */
        if (!PyBytes_Check(blob)) {
            rc = tc_error_set(err, TC_ERR_TYPE, "unheld must return bytes objects");
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(blobs); i++)
        PyList_SetItem(self->trainables, i, Py_NewRef(PyList_GET_ITEM(blobs, i)));
done:
    Py_DECREF(blobs);
    return rc;
}

/* The request: "pid\0cwd\0mask\0KEY=VALUE\0..." (see tunec/_zygote.py). */
static int build_request(tc_buf *req, char **env, int mask)
{
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return -1;
    if (tc_buf_printf(req, "%ld", (long)getpid()) < 0 || tc_buf_putc(req, '\0') < 0 ||
        tc_buf_append(req, cwd, strlen(cwd) + 1) < 0 ||
        tc_buf_printf(req, "%d", mask) < 0 || tc_buf_putc(req, '\0') < 0)
        return -1;
    for (char **p = env; *p; p++)
        if (tc_buf_append(req, *p, strlen(*p) + 1) < 0)
            return -1;
    return 0;
}

static int send_request(int sock, const tc_buf *req, const int *fds, int nfds)
{
    struct iovec iov = {.iov_base = req->data, .iov_len = req->len};
    union {
        char buf[CMSG_SPACE(4 * sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int))};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)req->len ? 0 : -1;
}

/* Waits for the reply; its text in out (NUL-terminated). */
static int read_reply(int sock, char *out, size_t n, char *why, size_t whylen)
{
    struct pollfd p = {.fd = sock, .events = POLLIN};
    int ready;
    do
        ready = poll(&p, 1, ZYGOTE_REPLY_TIMEOUT_MS);
    while (ready < 0 && errno == EINTR);
    if (ready <= 0) {
        if (ready == 0)
            snprintf(why, whylen, "no answer in %d s", ZYGOTE_REPLY_TIMEOUT_MS / 1000);
        else
            snprintf(why, whylen, "poll: %s", strerror(errno));
        return -1;
    }
    ssize_t got;
    do
        got = recv(sock, out, n - 1, 0);
    while (got < 0 && errno == EINTR);
    if (got <= 0) {
        snprintf(why, whylen, "%s", got == 0 ? "it exited" : strerror(errno));
        return -1;
    }
    out[got] = '\0';
    return 0;
}

/* Asks the zygote for a worker with child_fd as its fd 3 and env as its
 * environment. Returns its pid (our child), or -1 with why set and
 * *server_failed 1 when the zygote itself did not answer (0 when it answered
 * but this start failed). */
static pid_t zygote_fork(int sock, int child_fd, char **env, char *why, size_t whylen,
                         int *server_failed)
{
    *server_failed = 1;
    int fds[4] = {child_fd}, nfds = 1, mask = 0;
    for (int i = 0; i < 3; i++) {
        if (fcntl(i, F_GETFD) >= 0) {   /* a closed stdin stays closed in the worker */
            fds[nfds++] = i;
            mask |= 1 << i;
        }
    }
    tc_buf req;
    tc_buf_init(&req);
    if (build_request(&req, env, mask) < 0) {
        tc_buf_free(&req);
        snprintf(why, whylen, "cannot build the request: %s", strerror(errno));
        return -1;
    }
    char reply[512];
    pid_t pid = -1;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&zygote_lock);
    int was_subreaper = 0;
    prctl(PR_GET_CHILD_SUBREAPER, &was_subreaper);
    if (!was_subreaper)
        prctl(PR_SET_CHILD_SUBREAPER, 1);
    rc = send_request(sock, &req, fds, nfds);
    if (rc < 0)
        snprintf(why, whylen, "cannot send the request: %s", strerror(errno));
    else
        rc = read_reply(sock, reply, sizeof reply, why, whylen);
    /* The worker was adopted before the zygote answered (it reaps the
     * intermediate first): other orphans need not come to us any more. */
    if (!was_subreaper)
        prctl(PR_SET_CHILD_SUBREAPER, 0);
    pthread_mutex_unlock(&zygote_lock);
    Py_END_ALLOW_THREADS
    tc_buf_free(&req);
    if (rc < 0)
        return -1;
    *server_failed = 0;
    if (strncmp(reply, "pid ", 4) != 0) {
        snprintf(why, whylen, "%.300s", reply);
        return -1;
    }
    pid = (pid_t)strtol(reply + 4, NULL, 10);
    /* Ours and alive, or not a worker we can use (it exits by itself when
     * it finds another parent). */
    int status;
    pid_t got = pid > 0 ? waitpid(pid, &status, WNOHANG) : -1;
    if (got != 0) {
        snprintf(why, whylen, got == pid ? "the worker exited during its start-up"
                                         : "the worker did not become our child");
        return -1;
    }
    return pid;
}

pid_t tcx_zygote_spawn(RunObject *self, int child_fd, char **env)
{
    if (!self->has_zygote)
        return -1;
    char why[400];
    int server_failed;
    pid_t pid = zygote_fork(self->zygote_fd, child_fd, env, why, sizeof why, &server_failed);
    if (pid > 0) {
        failed_starts_in_a_row = 0;
        return pid;
    }
    if (!server_failed && ++failed_starts_in_a_row < ZYGOTE_MAX_FAILED_STARTS)
        return -1;          /* this worker only: posix_spawn it, keep the zygote */
    failed_starts_in_a_row = 0;
    /* Not again for this run; tunec._zygote sees the shut socket and starts
     * a new zygote for the next one (and reaps this one when the run ends). */
    shutdown(self->zygote_fd, SHUT_RDWR);
    self->has_zygote = 0;
    if (PyErr_WarnFormat(PyExc_RuntimeWarning, 1,
                         "tunec: the worker fork server failed (%s); starting workers "
                         "with posix_spawn", why) < 0)
        PyErr_Clear();
    return -1;
}
