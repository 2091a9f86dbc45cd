"""The Ray actor behind a remote worker (docs/ray-cluster.md).

It starts the ordinary worker, ``python -m tunec._worker FD``, as its child
on its end of a socketpair, and moves bytes: ``push`` writes the driver's
commands to the worker, ``pull`` waits for and returns what the worker sent.
A second socketpair serves the worker the objects of Ray's object store
that its trials read (tunec/_ray_objects.py).
The actor never reads the frames: the driver's engine does. The worker dies
with the actor (PR_SET_PDEATHSIG, tunec/_worker.py), so a lost node or a
``ray.kill`` ends both. The driver wraps the class with ``ray.remote``
(tunec/_ray_executor.py).
"""
import os
import select
import socket
import subprocess
import sys

from tunec import _ray_objects

# The most one pull returns: enough for thousands of results per call, small
# enough for one object transfer.
_PULL_MAX = 8 << 20


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
        self._eof = False

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
        if self._eof:
            return None
        ready, _, _ = select.select([self._sock], [], [], wait_s)
        if not ready:
            return b""
        chunks, size = [], 0
        self._sock.setblocking(False)
        try:
            while size < _PULL_MAX:
                try:
                    data = self._sock.recv(1 << 20)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    data = b""
                if not data:
                    self._eof = True
                    break
                chunks.append(data)
                size += len(data)
        finally:
            self._sock.setblocking(True)
        if not chunks and self._eof:
            return None
        return b"".join(chunks)

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
