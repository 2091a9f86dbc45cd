"""``log_to_file``: a trial's stdout and stderr in files of its logdir.

The engine reads the option (src/engine/options.c: True -> "stdout" and
"stderr", a str -> one file for both, a pair -> one file each) and sends
the two names with the trial's START. In a worker process the redirection
is of file descriptors 1 and 2 (``os.dup2``), so that output written below
Python — ``os.write(1, ...)``, a C extension's ``printf``, a subprocess the
trial starts — lands in the file too. The files are opened for appending
(a restarted trial continues them, as Ray's "a+" does), and the worker's
own descriptors come back when the trial ends, so the next trial a reused
worker runs writes to its own files.

In local mode the trial runs inside the driver, whose descriptors also
carry the progress table: there, as in Ray, Python's ``sys.stdout`` and
``sys.stderr`` are teed to the files instead.
"""
import contextlib
import os
import sys

__all__ = ["redirected"]


def _paths(start):
    """{fd: path} for the streams this trial's START names."""
    logdir = start["logdir"]
    paths = {}
    for fd, key in ((1, "stdout_file"), (2, "stderr_file")):
        name = start.get(key)
        if name:
            # Ray: os.path.expanduser(os.path.join(logdir, name)); an
            # absolute name stays where it points.
            paths[fd] = os.path.expanduser(os.path.join(logdir, name))
    return paths


def _flush_all():
    """Python's buffers and C stdio's, before a descriptor changes hands:
    what was written belongs to the file that was current when written."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    try:
        import ctypes
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass


def _open_files(paths):
    """{fd: open descriptor}; one descriptor per distinct path, so that a
    single file for both streams keeps their order."""
    by_path, fds = {}, {}
    for fd, path in paths.items():
        if path not in by_path:
            by_path[path] = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
        fds[fd] = by_path[path]
    return fds, list(by_path.values())


@contextlib.contextmanager
def _descriptors(paths):
    _flush_all()
    fds, opened = _open_files(paths)
    saved = {}
    try:
        for fd, target in fds.items():
            saved[fd] = os.dup(fd)
            os.dup2(target, fd)
    finally:
        for target in opened:
            os.close(target)
    try:
        yield
    finally:
        _flush_all()
        for fd, old in saved.items():
            os.dup2(old, fd)
            os.close(old)


class _Tee:
    """Writes to the driver's stream and the trial's file (Ray's Tee)."""

    def __init__(self, stream, file):
        self._stream, self._file = stream, file

    def write(self, text):
        self._file.write(text)
        return self._stream.write(text)

    def flush(self):
        self._file.flush()
        self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def _python_streams(paths):
    files, opened = {}, {}
    for fd, path in paths.items():
        if path not in opened:
            opened[path] = open(path, "a", buffering=1)
        files[fd] = opened[path]
    old = sys.stdout, sys.stderr
    if 1 in files:
        sys.stdout = _Tee(old[0], files[1])
    if 2 in files:
        sys.stderr = _Tee(old[1], files[2])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = old
        for f in opened.values():
            f.close()


def redirected(start, local=False):
    """A context manager that sends the trial's output where its START's
    log_to_file names say (nothing when they name no file)."""
    paths = _paths(start)
    if not paths:
        return contextlib.nullcontext()
    return _python_streams(paths) if local else _descriptors(paths)
