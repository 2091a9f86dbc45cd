"""A worker process: ``python -m tunec._worker [fd]``.

Started by the driver's local executor with its end of a socketpair on fd 3
(DESIGN §3). It sends HELLO, then runs the trials the driver starts, one at a
time, until EXIT or until the driver goes away — it never outlives the driver:
the kernel kills it when the driver dies (PR_SET_PDEATHSIG) and a closed
socket ends it too.
"""
import os
import sys

_node = []   # [(host name, IP)], looked up once: a zygote's workers inherit it


def node():
    """(host name, IP address) of this machine, for HELLO and results.
    ``_socket`` with the name as bytes: ``socket`` builds its enums and a
    str name loads the IDNA codec, ~10 ms of a worker's start on a busy
    machine, for a name that is ASCII."""
    if not _node:
        import _socket
        name = os.uname().nodename
        try:
            try:
                ip = _socket.gethostbyname(name.encode("ascii"))
            except UnicodeEncodeError:
                ip = _socket.gethostbyname(name)
        except OSError:
            ip = "127.0.0.1"
        _node.append((name, ip))
    return _node[0]


def main(argv=None):
    argv = sys.argv if argv is None else argv
    fd = int(argv[1]) if len(argv) > 1 else 3
    import _signal as signal   # signal's enums are not needed here
    from tunec import _tunec
    # Under `tunec run`, a user module the trainable imports may say
    # `from ray import tune`: the worker gets the driver's Ray aliases.
    if os.environ.get("TUNEC_RAY"):
        from tunec.compat import install_from_environment
        install_from_environment()
    # Ctrl-C in a terminal reaches the whole process group; the driver
    # handles it (stopping trials gracefully), so workers ignore it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _tunec.die_with_parent()
    hostname, node_ip = node()
    session = _tunec.Session(fd, hostname, node_ip)
    hello = {"pid": os.getpid(), "hostname": hostname, "node_ip": node_ip}
    session.send(_tunec.MSG_HELLO, -1, _tunec.dumps(hello))
    blobs, trainables, objects = {}, {}, {}
    from tunec._execute import run_trial, shutdown
    session.start_heartbeat()
    try:
        _serve(session, blobs, trainables, objects, run_trial)
    finally:
        shutdown()
    # Nothing is left to clean up: skip the interpreter's teardown, which
    # takes longer than everything the worker did for a short trial.
    sys.stdout.flush()
    sys.stderr.flush()
    _tunec.leak_check_before_exit()   # make check-asan: _exit skips LSan's own
    os._exit(0)


def _serve(session, blobs, trainables, objects, run_trial):
    import _pickle as pickle   # pickle.py's loads, without its re and struct
    from tunec import _tunec
    from tunec._zygote import load_trainable
    while True:
        frame = session.recv()
        if frame is None:
            return 0
        # token: the attempt a trial's frame is about (TRAINABLE: the trainable id)
        kind, token, payload = frame
        if kind == _tunec.MSG_TRAINABLE:
            blobs[token] = payload
            trainables.pop(token, None)
        elif kind == _tunec.MSG_OBJECTS:
            objects.update(pickle.loads(payload))
        elif kind == _tunec.MSG_START:
            start = _tunec.loads(payload)   # the engine's text, its parser
            tid = start["trainable"]
            if tid not in trainables:
                trainables[tid] = load_trainable(blobs[tid])
            run_trial(session, start, trainables[tid], objects)
            session.send(_tunec.MSG_READY, token)
            if session.exit_requested:
                return 0
        elif kind == _tunec.MSG_EXIT:
            return 0
        # a STOP for a trial that already ended needs nothing


if __name__ == "__main__":
    sys.exit(main())
