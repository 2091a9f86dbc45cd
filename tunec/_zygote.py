"""The fork server: ``python -m tunec._zygote`` (issue 12, start-up).

A worker started from scratch spends most of its first 100 ms starting an
interpreter and importing tunec. The zygote does that once per driver
process and then forks a worker per request, ready to run in about a
millisecond, with the isolation a fresh process has. Where the driver is
in a state that a fork copies safely (tunec/_zygote_fork.py has the rule),
the zygote is not exec'd but forked from the driver, ready at once; it then
serves the same requests the same way:

* Each worker is its own process and, as with posix_spawn, a child of the
  driver: the zygote forks an intermediate that forks the worker and exits,
  and the driver, a child subreaper for that moment (executor_workers.c),
  adopts it. The driver waits for it, sees how it died, and the worker's
  PR_SET_PDEATHSIG names the driver.
* The zygote imports no CUDA library (nothing beyond tunec's own modules,
  and a forked one only the standard library's besides):
  the worker gets its CUDA_VISIBLE_DEVICES, TUNEC_* variables and
  PYTHONPATH, the driver's current directory and stdin/stdout/stderr, with
  each request, and sets them before it runs any user code.
* The worker keeps only fds 0-3 (3 is its socket to the driver); the zygote
  has no threads, so a fork copies none (the worker's heartbeat thread
  starts after the fork).
* Its objects are frozen out of the cyclic GC (``gc.freeze``) once loaded:
  a worker's collections neither walk them nor copy their pages.
* Trainables still come pickled over the socket: nothing of the driver's
  ``__main__`` is needed here.

The zygote dies with the driver (PR_SET_PDEATHSIG) and leaves when its
socket closes. ``TUNEC_ZYGOTE=exec`` always execs it; ``TUNEC_ZYGOTE=0``
starts workers with posix_spawn. The driver side (``prestart`` / ``ensure``
/ ``stop``) is at the end of this file; the request format is written and
read in executor_workers.c.

Request (one SOCK_SEQPACKET message): NUL-separated ``driver pid``, ``cwd``,
``mask`` (which of fds 0, 1, 2 follow) and the environment's ``KEY=VALUE``
strings, with the worker's socket and the fds of ``mask`` as SCM_RIGHTS.
Reply: ``pid <n>`` or ``error <text>``.
"""
import os
import sys

MAX_REQUEST = 1 << 20


def _preload():
    """What a worker imports before its first trial (tunec/_worker.py)."""
    import json  # noqa: F401
    import pickle  # noqa: F401
    import platform  # noqa: F401
    import signal  # noqa: F401
    import traceback  # noqa: F401
    from tunec import _execute, _tunec, _worker  # noqa: F401
    # The first host-name lookup loads the resolver's libraries (~10 ms):
    # done here once, not in every worker's HELLO.
    _worker._node_ip()
    try:
        import cloudpickle  # noqa: F401  (trainables are cloudpickled)
    except ImportError:
        pass


def serve(fd):
    """The exec'd zygote: ``python -m tunec._zygote 3``."""
    pythonpath = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    # The interpreter's own path (stdlib, site-packages): each worker puts
    # its PYTHONPATH and cwd in front of it.
    return _serve(fd, [p for p in sys.path[1:] if p not in pythonpath])


def _serve(fd, base):
    import gc
    import signal
    import socket
    from tunec import _tunec
    # Ctrl-C reaches the whole process group: the driver handles it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _tunec.die_with_parent()
    sock = socket.socket(fileno=fd)
    _preload()
    gc.freeze()
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(sock, MAX_REQUEST, 4)
        except InterruptedError:
            continue
        except OSError:
            return 0
        if not msg:
            return 0      # the driver closed its end
        try:
            reply = _fork_worker(sock, msg, fds, base)
        except Exception as exc:   # noqa: B902 - the driver falls back to posix_spawn
            reply = "error {}".format(exc)
        finally:
            for f in fds:
                os.close(f)
        sock.send(reply.encode())


def _fork_worker(sock, msg, fds, base):
    parts = msg.split(b"\0")
    driver, cwd, mask = int(parts[0]), parts[1], int(parts[2])
    env = [p for p in parts[3:] if p]
    if len(fds) != 1 + bin(mask).count("1"):
        return "error expected {} fds, got {}".format(1 + bin(mask).count("1"), len(fds))
    r, w = os.pipe()
    middle = os.fork()
    if middle == 0:
        try:
            os.close(r)
            me = os.getpid()
            worker = os.fork()
            if worker == 0:
                os.close(w)
                _become_worker(sock, me, driver, cwd, mask, env, fds, base)
            os.write(w, str(worker).encode())
        finally:
            os._exit(0)
    os.close(w)
    out = b""
    while True:
        chunk = os.read(r, 64)
        if not chunk:
            break
        out += chunk
    os.close(r)
    # Once the intermediate is reaped, the worker has been reparented.
    os.waitpid(middle, 0)
    return "pid " + out.decode() if out else "error the intermediate process failed"


def _become_worker(sock, middle, driver, cwd, mask, env, fds, base):
    """In the new worker: wait to be the driver's child, take the request's
    fds, directory and environment, and run tunec._worker. Never returns."""
    code = 1
    try:
        import fcntl
        import importlib
        import time
        while os.getppid() == middle:
            time.sleep(0.0001)   # the intermediate exits right after the fork
        if os.getppid() != driver:
            os._exit(1)          # the driver is gone (or was no subreaper)
        from tunec import _tunec
        _tunec.die_with_parent()  # now the driver is the parent it names
        # Every fd other than 0-3 is closed: first lift the received ones out
        # of the way, since they may sit on 0-3 themselves.
        sock.detach()
        high = [fcntl.fcntl(f, fcntl.F_DUPFD, 16) for f in fds]
        targets = [3] + [i for i in range(3) if mask & (1 << i)]
        for src, dst in zip(high, targets):
            os.dup2(src, dst)
        for i in range(3):
            if not mask & (1 << i):
                try:
                    os.close(i)
                except OSError:
                    pass
        os.closerange(4, _max_fd())
        os.chdir(cwd)
        environ = os.environb
        environ.clear()
        for item in env:
            key, _, value = item.partition(b"=")
            environ[key] = value
        pythonpath = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        sys.path[:] = [os.getcwd()] + pythonpath + [p for p in base if p not in pythonpath]
        importlib.invalidate_caches()
        from tunec import _worker
        sys.argv[:] = [_worker.__file__, "3"]
        _worker.main(["", "3"])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:   # noqa: B902 - reported on the worker's stderr
        import traceback
        traceback.print_exc()
    finally:
        os._exit(code)


def _max_fd():
    try:
        return os.sysconf("SC_OPEN_MAX")
    except (ValueError, OSError):
        return 65536


# --------------------------------------------------------------------------
# the driver side
# --------------------------------------------------------------------------

_zygote = {"pid": None, "sock": None, "owner": None}


def enabled():
    return os.environ.get("TUNEC_ZYGOTE", "1") != "0"


def mode():
    """How this process's zygote was started: "fork", "exec", or None."""
    return _zygote.get("mode") if pid() is not None else None


def ensure():
    """Starts this process's zygote unless one is running — forked from
    this driver when tunec/_zygote_fork.py allows it, else exec'd — and does
    not wait for it to be ready (the first request waits). Returns the
    driver end's fd, or -1 when workers are to be started without it."""
    if not enabled():
        return -1
    if _zygote["owner"] != os.getpid():
        # A fork of the driver has its parent's socket: not its zygote.
        _zygote.update(pid=None, sock=None, owner=None)
    if _zygote["sock"] is not None and _alive():
        return _zygote["sock"].fileno()
    stop()
    try:
        if os.environ.get("TUNEC_ZYGOTE") != "exec":
            from tunec import _zygote_fork
            if _zygote_fork.eligible() is None:
                return _fork()
        return _start()
    except OSError:
        return -1


def prestart():
    """Starts the zygote ahead of the run (tune.init, the top of tune.run)
    when it is to be exec'd: its interpreter then starts while the driver
    sets the run up. A zygote forked from the driver is left to ``ensure``
    at the run's first worker: the copy then has the driver's imports and
    serves at once, with no import done twice on a busy machine."""
    if not enabled() or (_zygote["sock"] is not None and _zygote["owner"] == os.getpid()):
        return
    if os.environ.get("TUNEC_ZYGOTE") != "exec":
        from tunec import _zygote_fork
        if _zygote_fork.eligible() is None:
            return
    ensure()


def pid():
    """The zygote's pid, or None."""
    return _zygote["pid"] if _zygote["owner"] == os.getpid() else None


def stop():
    """Ends the zygote (tune.shutdown, interpreter exit)."""
    sock, zpid = _zygote["sock"], _zygote["pid"]
    _zygote.update(pid=None, sock=None, owner=None)
    if sock is not None:
        sock.close()          # the zygote sees EOF and leaves
    if zpid is not None:
        try:
            os.kill(zpid, 9)
            os.waitpid(zpid, 0)
        except (OSError, ChildProcessError):
            pass


def reap():
    """Collects a zygote that the run just ended gave up (executor_zygote.c
    shuts its socket after repeated failures): it has exited, and without a
    wait it would stay a zombie child until the next run or the driver's end."""
    if _zygote["sock"] is not None and _zygote["owner"] == os.getpid() and not _alive():
        stop()


def _alive():
    """False when the zygote exited, or a failed request shut its socket."""
    import select
    zpid = _zygote["pid"]
    try:
        if os.waitpid(zpid, os.WNOHANG)[0] == zpid:
            _zygote["pid"] = None
            return False
    except ChildProcessError:
        _zygote["pid"] = None
        return False
    p = select.poll()
    p.register(_zygote["sock"], select.POLLIN)
    return not p.poll(0)     # it never speaks unasked: anything is a hang-up


def _socketpair():
    import _socket   # not socket: its enums cost the driver's first tune.run ~5 ms
    return _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)


def _fork():
    """The zygote as a copy of this driver (tunec/_zygote_fork.py)."""
    ours, theirs = _socketpair()
    # Where the workers import from: this process's path, made absolute (the
    # exec'd zygote gets it as PYTHONPATH); each request's PYTHONPATH and
    # cwd go in front of it.
    base = []
    for p in sys.path:
        p = os.path.abspath(p) if p else os.getcwd()
        if p not in base:
            base.append(p)
    try:
        zpid = os.fork()
    except BaseException:
        ours.close()
        theirs.close()
        raise
    if zpid == 0:
        code = 1
        try:
            from tunec import _zygote_fork
            ours.close()
            fd = _zygote_fork.scrub(theirs.detach())   # the object no longer owns it
            code = _serve(fd, base)
        except BaseException:   # noqa: B902 - on the driver's stderr; the driver falls back
            import traceback
            traceback.print_exc()
        finally:
            os._exit(code)   # never the driver's atexit handlers or finally blocks
    theirs.close()
    _started(zpid, ours, "fork")
    return ours.fileno()


def _started(zpid, ours, how):
    import atexit
    if _zygote["owner"] is None and not _zygote.get("atexit"):
        atexit.register(stop)
        _zygote["atexit"] = True
    _zygote.update(pid=zpid, sock=ours, owner=os.getpid(), mode=how)


def _start():
    ours, theirs = _socketpair()
    try:
        env = dict(os.environ)
        path = [os.path.abspath(p) if p else os.getcwd() for p in sys.path]
        env["PYTHONPATH"] = os.pathsep.join(path)
        env["PYTHONUNBUFFERED"] = "1"
        actions = [(os.POSIX_SPAWN_DUP2, theirs.fileno(), 3),
                   (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]
        # Its own process group, which the workers it forks inherit: a
        # terminal's Ctrl-C is the driver's to handle (it stops trials
        # gracefully) and must not reach a process still starting up.
        zpid = os.posix_spawn(sys.executable, [sys.executable, "-m", "tunec._zygote", "3"],
                              env, file_actions=actions, setpgroup=0)
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    _started(zpid, ours, "exec")
    return ours.fileno()


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
