"""The zygote as a fork of the driver itself (issue 12, start-up).

``python -m tunec._zygote`` costs a new interpreter and tunec's imports
(40-100 ms of CPU) before it can fork the first worker. When the driver is
in a state a fork copies safely, the zygote is instead ``os.fork()`` of the
driver, taken first thing in tune.run: it imports what a worker needs (about
10 ms of CPU) while the driver sets the run up, and holds the run's
trainable (``_zygote.held_blob``). Everything else is as for the exec'd zygote: the
same request loop (``_zygote._serve``), the same workers (the driver's
children, fds 0-3 only, the request's environment and directory).

The rule (``eligible``): the driver may be forked only when

* it has one thread (``/proc/self/task``): no other thread can hold a lock
  (malloc's, a logging handler's, a C library's) that the copy would find
  locked forever. This rules out notebooks (ipykernel's threads), drivers
  that imported NumPy/OpenBLAS or PyTorch (their thread pools) and any
  driver that started a thread;
* no module outside the standard library, tunec and cloudpickle is a C
  extension: third-party C state (GPU contexts, connections, thread pools)
  is never copied. Pure-Python modules of the user are dropped from the
  copy's ``sys.modules`` (``scrub``), so a worker imports them afresh from
  disk, as a worker of the exec'd zygote does;
* no GPU runtime is mapped (libcuda & co, loadable through ctypes): a CUDA
  context does not survive a fork;
* its resident memory is at most ``MAX_RSS`` (the copy shares the driver's
  pages; a small bound keeps the fork itself cheap and what the zygote pins
  for the driver's lifetime small).

Otherwise — and with ``TUNEC_ZYGOTE=exec`` — the zygote is exec'd as before.
In the copy, ``scrub`` makes it look like a fresh interpreter where it could
matter to a trial: a fresh ``__main__``, stdio objects over fds 0-2, default
signal handlers, no logging handlers, tracers or exception hooks of the
driver, faulthandler on stderr — and no object of the driver's is ever
freed in it, so none can close an fd number it reuses.

What it does not undo: changes the driver made to the standard library's or
tunec's own modules before the fork (a monkeypatch, a module-level setting
such as ``socket.setdefaulttimeout``, a warnings filter) are what its
workers see, and handlers the driver gave ``os.register_at_fork`` run at
each fork (``random`` reseeds each worker that way), as with
multiprocessing's "fork" start method.
``TUNEC_ZYGOTE=exec`` gives workers a pristine interpreter.
"""
import os
import sys

MAX_RSS = 256 << 20

# Modules a copy keeps besides the standard library: tunec's, what workers
# unpickle with, and what the interpreter imported at start-up from .pth files.
_KEEP = ("tunec", "cloudpickle", "_distutils_hack", "_virtualenv", "sitecustomize",
         "usercustomize")
_pinned = []   # every object the driver had, kept alive in the copy (scrub)
_GPU_LIBS = (b"libcuda.", b"libnvidia-ml", b"libcudart", b"libamdhip", b"libhsa-runtime",
             b"libtpu", b"libze_loader")


def _kept(name):
    top = name.partition(".")[0]
    return (top in sys.stdlib_module_names or top in _KEEP or top.startswith("__editable__")
            or name == "__main__")


def _is_extension(module):
    path = getattr(module, "__file__", None)
    if not isinstance(path, str):
        return False
    import importlib.machinery
    return path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def eligible():
    """None when the driver may be forked, else why not (a short text)."""
    if not sys.platform.startswith("linux") or not hasattr(sys, "stdlib_module_names"):
        return "not Linux / Python < 3.10"
    try:
        if len(os.listdir("/proc/self/task")) != 1:
            return "the driver has threads"
        with open("/proc/self/statm", "rb") as f:
            rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        if rss > MAX_RSS:
            return "the driver's memory is over {} MB".format(MAX_RSS >> 20)
        with open("/proc/self/maps", "rb") as f:
            maps = f.read()
    except (OSError, ValueError):
        return "/proc is not readable"
    if any(lib in maps for lib in _GPU_LIBS):
        return "a GPU runtime is loaded"
    for name, module in list(sys.modules.items()):
        if not _kept(name) and _is_extension(module):
            return "a C extension is loaded ({})".format(name)
    return None


def scrub(sock_fd):
    """In the new copy, before it imports or serves anything: the state of a
    fresh ``python -m tunec._zygote``. sock_fd is its socket to the driver;
    returns the socket's fd in the copy (3, as the exec'd zygote has it).

    No object of the driver's is ever freed here or in a worker: each is
    referenced from ``_pinned`` (and frozen out of the cyclic GC, so its
    garbage is never finalized either). A file, socket or event loop freed
    in a worker would close its fd number, which by then may be the
    worker's socket or one of its files; a worker's user code can reach
    such objects through the standard library's module state. (Taking the
    references writes to every object once, a few ms for a small driver.)
    Their atexit handlers never run: the zygote and its workers leave with
    os._exit."""
    import _signal as signal   # signal's enums: ~5 ms of a busy CPU, nothing needed here
    import gc
    _pinned.append(gc.get_objects())
    gc.freeze()
    os.setpgid(0, 0)   # as the exec'd zygote: Ctrl-C is the driver's to handle
    _fresh_stdio()
    # Signals: no handler of the driver's runs here.
    signal.set_wakeup_fd(-1)
    for sig in signal.valid_signals():
        try:
            if callable(signal.getsignal(sig)):
                signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError, TypeError):
            pass
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)    # as Python's start-up sets it
    faulthandler = sys.modules.get("faulthandler")
    if faulthandler is not None and faulthandler.is_enabled():
        faulthandler.enable(file=sys.stderr)   # its file may be a number closed below
    sys.settrace(None)
    sys.setprofile(None)
    for hook in ("excepthook", "displayhook", "unraisablehook", "breakpointhook"):
        setattr(sys, hook, getattr(sys, "__{}__".format(hook)))
    threading = sys.modules.get("threading")
    if threading is not None:
        threading.settrace(None)
        threading.setprofile(None)
        threading.excepthook = threading.__excepthook__
    sys.setswitchinterval(0.005)
    _reset_logging()
    # The user's modules are imported afresh by the workers that need them;
    # the copy's __main__ is empty, as the exec'd zygote's is.
    for name in [n for n in sys.modules if not _kept(n)]:
        del sys.modules[name]
    main = type(sys)("__main__")
    main.__builtins__ = __builtins__
    sys.modules["__main__"] = main
    sys.path_importer_cache.clear()
    # fds: only 0-3, 3 the socket; stdin and stdout are /dev/null, stderr
    # stays the driver's (a worker gets the request's own 0-2).
    if sock_fd != 3:
        os.dup2(sock_fd, 3, inheritable=False)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.closerange(4, _max_fd())
    gc.enable()
    return 3


def _fresh_stdio():
    """sys.std* as a fresh interpreter with PYTHONUNBUFFERED=1 has them: the
    driver's may be a notebook's or a test runner's objects. The encoding is
    the one this interpreter chose at its start (PYTHONIOENCODING, UTF-8 mode)."""
    import io

    def stream(fd, mode, original, errors):
        encoding = getattr(original, "encoding", None) or "locale"
        errors = getattr(original, "errors", None) or errors
        raw = io.FileIO(fd, mode, closefd=False)
        if mode == "rb":
            return io.TextIOWrapper(io.BufferedReader(raw), encoding=encoding, errors=errors)
        return io.TextIOWrapper(raw, encoding=encoding, errors=errors, write_through=True)
    sys.stdin = sys.__stdin__ = stream(0, "rb", sys.__stdin__, "strict")
    sys.stdout = sys.__stdout__ = stream(1, "wb", sys.__stdout__, "strict")
    sys.stderr = sys.__stderr__ = stream(2, "wb", sys.__stderr__, "backslashreplace")


def _reset_logging():
    """No handler of the driver's: its file may be an fd number a worker
    reuses. Loggers go back to the defaults of an unconfigured process."""
    logging = sys.modules.get("logging")
    if logging is None:
        return
    logging.disable(logging.NOTSET)
    logging.root.handlers[:] = []
    logging.root.setLevel(logging.WARNING)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            logger.handlers[:] = []
            logger.setLevel(logging.NOTSET)
            logger.propagate = True
            logger.disabled = False


def _max_fd():
    try:
        return os.sysconf("SC_OPEN_MAX")
    except (ValueError, OSError):
        return 65536
