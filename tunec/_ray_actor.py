"""The Ray actor behind a remote worker (docs/ray-cluster.md).

It starts the ordinary worker, ``python -m tunec._worker FD``, as its child
on its end of a socketpair, and moves bytes: ``push`` writes the driver's
commands to the worker, ``pull`` waits for and returns what the worker sent.
A second socketpair serves the worker the objects of Ray's object store
that its trials read (tunec/_ray_objects.py).
A thread of the actor reads the worker's bytes as they come (``_Inbox``),
so the worker never waits for the driver's next ``pull``, which crosses Ray
twice: a trial reporting in a tight loop went at the pace of those round
trips (7,580 results/s on a 2-node local cluster) when the socket buffer
was all that held its results between pulls.
The actor never reads the frames: the driver's engine does. The worker dies
with the actor (PR_SET_PDEATHSIG, tunec/_worker.py), so a lost node or a
``ray.kill`` ends both. The driver wraps the class with ``ray.remote``
(tunec/_ray_executor.py).
"""
import collections
import os
import socket
import subprocess
import sys
import threading

from tunec import _ray_objects

# The most one pull returns: enough for thousands of results per call, small
# enough for one object transfer.
_PULL_MAX = 8 << 20
# The most the inbox holds before it stops reading (the worker then waits on
# its socket, as it would for a slow driver on one machine).
_INBOX_MAX = 64 << 20


def _node_id():
    try:
        import ray
        return ray.get_runtime_context().get_node_id()
    except Exception:   # noqa: BLE001 - not inside Ray
        return ""


class WorkerActor:
    def __init__(self, env, cwd):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        # The worker's second channel: objects of Ray's object store that it
        # asks this actor for (tunec/_ray_objects.py).
        objects_ours, objects_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        child_env = dict(os.environ)
        child_env.update(env)
        # The trainable can tell which node it runs on (Ray's node id).
        child_env["TUNEC_RAY_NODE_ID"] = _node_id()
        child_env[_ray_objects.ENV_FD] = str(objects_theirs.fileno())
        if not os.path.isdir(cwd or ""):
            cwd = None
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tunec._worker", str(theirs.fileno())],
            pass_fds=(theirs.fileno(), objects_theirs.fileno()), env=child_env, cwd=cwd)
        theirs.close()
        objects_theirs.close()
        self._objects = _ray_objects.Server(objects_ours)
        self._sock = ours
        self._inbox = _Inbox(ours)

    def push(self, data):
        """Writes the driver's bytes to the worker; False once it is gone."""
        try:
            self._sock.sendall(data)
            return True
        except OSError:
            return False

    def pull(self, wait_s=0.5):
        """The worker's bytes, waiting up to wait_s for the first; b"" when
        none came, None once the worker closed its socket (it exited)."""
        return self._inbox.take(wait_s, _PULL_MAX)

    def finish(self, wait_s=2.0):
        """The driver closed its side: end the worker's input, give it
        wait_s to exit, then kill it."""
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        try:
            self._proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        return self._proc.returncode

    def worker_pid(self):
        return self._proc.pid


class _Inbox:
    """The worker's bytes, read by a thread as they come and handed out by
    ``take`` in order (whole chunks, at most `limit` bytes but at least one
    chunk)."""

    def __init__(self, sock):
        self._sock = sock
        self._cond = threading.Condition()
        self._chunks = collections.deque()
        self._size = 0
        self._eof = False
        threading.Thread(target=self._read, daemon=True, name="tunec-ray-inbox").start()

    def _read(self):
        while True:
            with self._cond:
                while self._size >= _INBOX_MAX:
                    self._cond.wait()
            try:
                data = self._sock.recv(1 << 20)
            except OSError:
                data = b""
            with self._cond:
                if data:
                    self._chunks.append(data)
                    self._size += len(data)
                else:
                    self._eof = True
                self._cond.notify_all()
            if not data:
                return

    def take(self, wait_s, limit):
        with self._cond:
            if not self._chunks and not self._eof:
                self._cond.wait(wait_s)
            if not self._chunks:
                return None if self._eof else b""
            out, size = [], 0
            while self._chunks and (not out or size + len(self._chunks[0]) <= limit):
                chunk = self._chunks.popleft()
                out.append(chunk)
                size += len(chunk)
            self._size -= size
            self._cond.notify_all()
            return b"".join(out)
