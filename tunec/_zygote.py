"""The fork server: ``python -m tunec._zygote`` (issue 12, start-up).

A worker started from scratch spends most of its first 100 ms starting an
interpreter and importing tunec. The zygote does that once per driver
process and then forks a worker per request, ready to run in about a
millisecond, with the isolation a fresh process has. Where the driver is
in a state that a fork copies safely (tunec/_zygote_fork.py has the rule),
the zygote is not exec'd but forked from the driver at the top of tune.run,
with no interpreter to start; it then serves the same requests the same way:

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
* Trainables come pickled over the socket (nothing of the driver's
  ``__main__`` is needed here), except those a zygote forked at the top of a
  tune.run holds from that call (``held_blob``): its workers find them in
  its memory, as the driver had them when tune.run was called.

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
    import fcntl  # noqa: F401  (_become_worker)
    import _pickle  # noqa: F401  (params.pkl, OBJECTS; pickle.py adds re and struct)
    from tunec import _execute, _tunec, _worker  # noqa: F401
    # The first host-name lookup loads the resolver's libraries: done here
    # once, not in every worker's HELLO.
    _worker.node()


def _preload_later():
    """What a worker may need later and the first trial does not (a
    cloudpickled trainable or config, an error's traceback): imported once
    the zygote has had no request for a moment, so that the first worker
    does not wait for it and later ones need not import it themselves."""
    import traceback  # noqa: F401
    try:
        import cloudpickle  # noqa: F401
    except ImportError:
        pass


# How long the zygote waits for a next request before _preload_later: the
# workers a run starts at once are asked for within a few ms of each other.
_IDLE_S = 0.05
# Sent by the driver (expect_pickles) before the requests of a run whose
# trainables come as cloudpickle bytes: _preload_later now, so that its
# workers do not each import cloudpickle. Answered with nothing.
PRELOAD = b"\0preload"


def serve(fd):
    """The exec'd zygote: ``python -m tunec._zygote 3``."""
    pythonpath = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    # The interpreter's own path (stdlib, site-packages): each worker puts
    # its PYTHONPATH and cwd in front of it.
    return _serve(fd, [p for p in sys.path[1:] if p not in pythonpath])


def _serve(fd, base):
    import _signal as signal   # not signal, nor socket: building their enums is
    import _socket             # ~5 ms of a busy CPU
    import gc
    from tunec import _tunec
    # Ctrl-C reaches the whole process group: the driver handles it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _tunec.die_with_parent()
    sock = _socket.socket(fileno=fd)
    _preload()
    gc.freeze()
    later = True
    while True:
        try:
            if later and not _wait_readable(fd, _IDLE_S):
                _preload_later()
                gc.freeze()
                later = False
            msg, fds = _recv_fds(sock)
        except InterruptedError:
            continue
        except OSError:
            return 0
        if not msg:
            return 0      # the driver closed its end
        if msg == PRELOAD:    # a hint, not a request: no reply
            if later:
                _preload_later()
                gc.freeze()
                later = False
            continue
        try:
            reply = _fork_worker(sock, msg, fds, base)
        except Exception as exc:   # noqa: B902 - the driver falls back to posix_spawn
            reply = "error {}".format(exc)
        finally:
            for f in fds:
                os.close(f)
        sock.send(reply.encode())


def _wait_readable(fd, timeout_s):
    import select
    p = select.poll()
    p.register(fd, select.POLLIN)
    return bool(p.poll(timeout_s * 1000))


def _recv_fds(sock, maxfds=4):
    """One request and the fds that came with it (``socket.recv_fds``
    without the socket module)."""
    import _socket
    msg, ancdata, _flags, _addr = sock.recvmsg(MAX_REQUEST, _socket.CMSG_SPACE(maxfds * 4))
    fds = []
    for level, kind, data in ancdata:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            fds += [int.from_bytes(data[i:i + 4], sys.byteorder, signed=True)
                    for i in range(0, len(data) - len(data) % 4, 4)]
    return msg, fds


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

_zygote = {"pid": None, "sock": None, "owner": None, "held": ()}

# A trainable the zygote holds (below) travels as this marker and its index.
HELD = b"\0tunec-held "
_FUNCTION = type(lambda: None)


def enabled():
    return os.environ.get("TUNEC_ZYGOTE", "1") != "0"


def mode():
    """How this process's zygote was started: "fork", "exec", or None."""
    return _zygote.get("mode") if pid() is not None else None


def ensure(held=None):
    """Starts this process's zygote unless one is running — forked from
    this driver when tunec/_zygote_fork.py allows it, else exec'd — and does
    not wait for it to be ready (the first request waits). Returns the
    driver end's fd, or -1 when workers are to be started without it.
    ``held``: the trainables a forked zygote is to hold (``prestart``);
    by default those the zygote it replaces held."""
    if not enabled():
        return -1
    if _zygote["owner"] != os.getpid():
        # A fork of the driver has its parent's socket: not its zygote.
        _zygote.update(pid=None, sock=None, owner=None, held=())
    if _zygote["sock"] is not None and _alive():
        return _zygote["sock"].fileno()
    held = _zygote["held"] if held is None else tuple(held)
    stop()
    try:
        if os.environ.get("TUNEC_ZYGOTE") != "exec":
            from tunec import _zygote_fork
            if _zygote_fork.eligible() is None:
                return _fork(held)
        return _start()
    except OSError:
        return -1


def prestart(held=(), fork=True):
    """Starts the zygote ahead of the run, whichever kind it is: it gets
    ready (a forked one scrubs itself and imports what a worker runs; an
    exec'd one starts its interpreter) while the driver checks the options
    and sets the run up, on the machine's other CPU.

    ``held``: the trainables of the tune.run calling (at its very top). A
    zygote forked now has them in memory as the driver has them at this
    moment, so that this run need not cloudpickle them (``held_blob``). A
    zygote already running holds nothing for this run: the driver may have
    changed what a trainable reads since that zygote was forked.

    ``fork=False`` (tune.init): only an exec'd zygote starts now, its
    interpreter being the long part; one the driver may fork is left to the
    top of tune.run, where it holds the run's trainable — a fork now would
    hold nothing, and the run would import cloudpickle to send it."""
    _zygote["held"] = ()
    if not enabled() or (_zygote["sock"] is not None and _zygote["owner"] == os.getpid()
                         and _alive()):
        return
    if not fork and os.environ.get("TUNEC_ZYGOTE") != "exec":
        from tunec import _zygote_fork
        if _zygote_fork.eligible() is None:
            return
    ensure(held)


def held_blob(obj):
    """What to send a worker for the trainable ``obj`` instead of its
    cloudpickle bytes: a marker naming it, when this process's zygote is a
    fork that holds it (``prestart``) and cloudpickle would send its code
    by value (a function or class of ``__main__``, a closure). None
    otherwise: an importable one is pickled by name as before, so that the
    worker imports its module afresh."""
    if mode() != "fork":
        return None
    for i, held in enumerate(_zygote["held"]):
        if held is obj and _by_value(obj):
            return HELD + str(i).encode()
    return None


def _by_value(obj):
    """True when cloudpickle would pickle this function or class by value:
    its module is ``__main__`` or not imported, or its qualified name does
    not lead back to it (cloudpickle's ``_lookup_module_and_qualname``)."""
    if not isinstance(obj, type) and type(obj) is not _FUNCTION:
        return False     # an instance, a partial...: cloudpickle as before
    module = sys.modules.get(getattr(obj, "__module__", None) or "__main__")
    if module is None or module.__name__ == "__main__":
        return True
    target = module
    for part in getattr(obj, "__qualname__", "<locals>").split("."):
        target = getattr(target, part, None)
    return target is not obj


def expect_pickles():
    """Tells this process's zygote that the coming workers unpickle their
    trainables (a tune.run after the one that forked it): it imports
    cloudpickle once, before it forks them, rather than each worker."""
    if _zygote["sock"] is None or _zygote["owner"] != os.getpid():
        return
    try:
        _zygote["sock"].send(PRELOAD)
    except OSError:
        pass           # gone: ensure() starts another


def load_trainable(blob):
    """In a worker: the trainable a TRAINABLE frame names."""
    if blob.startswith(HELD):
        return _zygote["held"][int(blob[len(HELD):])]
    import _pickle   # pickle.loads itself, without pickle.py's re and struct
    return _pickle.loads(blob)


def pid():
    """The zygote's pid, or None."""
    return _zygote["pid"] if _zygote["owner"] == os.getpid() else None


def stop():
    """Ends the zygote (tune.shutdown, interpreter exit)."""
    sock, zpid = _zygote["sock"], _zygote["pid"]
    _zygote.update(pid=None, sock=None, owner=None, held=())
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
    if zpid is None:
        return False     # an earlier call saw it exit
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


def _fork(held=()):
    """The zygote as a copy of this driver (tunec/_zygote_fork.py), holding
    ``held`` (the copy and its workers find them in ``_zygote["held"]``)."""
    _zygote["held"] = held
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
