"""Objects in Ray's object store for trials on a Ray cluster
(docs/ray-cluster.md): what ``tune.utils.pin_in_object_store`` and
``tune.with_parameters`` use there instead of their files.

The driver puts each object once (``put``) and hands the trials a *token*:
the ObjectRef serialized by Ray itself (``ray.cloudpickle``), which carries
the owner's address, so another worker of the job can ``ray.get`` it. The
trial runs in the ordinary worker process, a child of its Ray actor
(tunec/_ray_actor.py), and that process is not a Ray worker: it asks its
actor, over a socketpair the actor made for this (fd in
``TUNEC_RAY_OBJECTS_FD``), and the actor ``ray.get``s the object -- Ray
moves it to the actor's node once, however many actors there read it -- and
sends it to its worker pickled with protocol 5, a NumPy array's buffer out of
band (no pickling copy). A worker asks once per object (``get`` caches).

Wire, one request at a time: the worker sends ``u32 length + token``; the
actor answers ``u8 status, u32 buffer count, u64 length + pickle``, then
``u64 length + bytes`` per buffer; status 1 carries an error message instead
of the pickle.
"""
import os
import pickle
import socket
import struct
import threading

ENV_FD = "TUNEC_RAY_OBJECTS_FD"

_cache = {}             # worker side: {token: object}
_lock = threading.Lock()
_channel = None


def put(ray, obj):
    """Driver side: (ObjectRef, token). The caller keeps the ref: the object
    lives while it does (a serialized ref is also pinned by Ray for the job)."""
    ref = ray.put(obj)
    from ray import cloudpickle
    return ref, cloudpickle.dumps(ref)


def available():
    """True in a worker that runs under a Ray actor."""
    return bool(os.environ.get(ENV_FD))


def get(token):
    """Worker side: the object behind a token, fetched through the actor
    once per process; read-only, as Ray's zero-copy arrays are."""
    with _lock:
        if token in _cache:
            return _cache[token]
        if not available():
            raise RuntimeError("this object is in Ray's object store, and this process is "
                               "not a trial of a Ray cluster run (no {})".format(ENV_FD))
        global _channel
        if _channel is None:
            _channel = socket.socket(fileno=int(os.environ[ENV_FD]))
        _channel.sendall(struct.pack("<I", len(token)) + token)
        status, nbuf, size = struct.unpack("<BIQ", _recv_exact(_channel, 13))
        data = _recv_exact(_channel, size)
        if status != 0:
            raise RuntimeError("Ray could not get the object: " + data.decode("utf-8", "replace"))
        buffers = []
        for _ in range(nbuf):
            (length,) = struct.unpack("<Q", _recv_exact(_channel, 8))
            buffers.append(_recv_exact(_channel, length))
        value = pickle.loads(data, buffers=buffers)
        _read_only(value)
        _cache[token] = value
        return value


def _read_only(value):
    numpy = __import__("sys").modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.ndarray):
        value.flags.writeable = False


def _recv_exact(sock, n):
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            raise RuntimeError("the Ray actor closed its object channel")
        got += k
    return buf


class Server:
    """Actor side: answers its worker's requests on `sock` in a thread, with
    the objects it gets from Ray (kept while the actor lives, so a reused
    actor does not fetch an object again)."""

    def __init__(self, sock):
        self._sock = sock
        self._objects = {}
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name="tunec-ray-objects")
        self._thread.start()

    def _serve(self):
        try:
            while True:
                head = self._sock.recv(4, socket.MSG_WAITALL)
                if len(head) < 4:
                    return
                (n,) = struct.unpack("<I", head)
                token = bytes(_recv_exact(self._sock, n))
                self._answer(token)
        except (OSError, RuntimeError):
            return      # the worker is gone

    def _answer(self, token):
        buffers = []
        try:
            if token not in self._objects:
                import ray
                from ray import cloudpickle
                self._objects[token] = ray.get(cloudpickle.loads(token))
            data = pickle.dumps(self._objects[token], protocol=5,
                                buffer_callback=buffers.append)
            status = 0
        except Exception as exc:   # noqa: BLE001 - told to the worker, which raises it
            data, status, buffers = repr(exc).encode("utf-8"), 1, []
        raws = [b.raw() for b in buffers]
        self._sock.sendall(struct.pack("<BIQ", status, len(raws), len(data)))
        self._sock.sendall(data)
        for raw in raws:
            self._sock.sendall(struct.pack("<Q", raw.nbytes))
            self._sock.sendall(raw)
