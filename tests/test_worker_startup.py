"""Workers forked by the zygote (tunec/_zygote.py, issue 12): the same
isolation as a worker started with posix_spawn — its own process, a child
of the driver, its own CUDA_VISIBLE_DEVICES, no fd of the driver's or the
zygote's, and gone when the driver is killed."""
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import tunec as tune
from tunec import _zygote
from run_helpers import HANG_S, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _two_cpus():
    tune.init(num_cpus=2, num_gpus=0)
    yield
    tune.shutdown()


def run(fn, tmp_path, **kw):
    kw.setdefault("verbose", 0)
    return tune.run(fn, local_dir=str(tmp_path), **kw)


def rows(logdir):
    with open(os.path.join(logdir, "result.json")) as f:
        return [json.loads(line) for line in f]


def _whoami():
    """What a trial reports about its own process."""
    with open("/proc/self/cmdline", "rb") as f:
        cmdline = f.read().split(b"\0")
    return {"pid": os.getpid(), "ppid": os.getppid(),
            # a spawned worker runs `python -m tunec._worker`; a forked one
            # has the exec'd zygote's command line, or the driver's
            "forked": b"tunec._worker" not in cmdline,
            "cuda": os.environ.get("CUDA_VISIBLE_DEVICES")}


def test_workers_are_separate_children_of_the_driver(tmp_path):
    """Two trials held until both run: two workers at once, both forked by
    the zygote and adopted by the driver."""
    started = str(tmp_path / "started")
    os.mkdir(started)

    def fn(config):
        import time
        import uuid
        open(os.path.join(started, uuid.uuid4().hex), "w").close()
        deadline = time.monotonic() + 300
        while len(os.listdir(started)) < 2:
            if time.monotonic() > deadline:
                raise RuntimeError("no second trial ran alongside this one")
            time.sleep(0.01)
        tune.report(**_whoami())
    analysis = run(fn, tmp_path / "out", num_samples=2)
    seen = [rows(t.logdir)[0] for t in analysis.trials]
    assert all(s["forked"] for s in seen), seen
    assert len({s["pid"] for s in seen}) == 2
    assert os.getpid() not in {s["pid"] for s in seen}
    assert {s["ppid"] for s in seen} == {os.getpid()}
    assert _zygote.pid() not in {s["pid"] for s in seen}


def test_killed_worker_is_a_trial_error_and_retried(tmp_path):
    marker = str(tmp_path / "killed-once")

    def fn(config):
        tune.report(step=1, **_whoami())
        if not os.path.exists(marker):
            open(marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
        tune.report(step=2)
    analysis = run(fn, tmp_path, max_failures=1)
    trial = analysis.trials[0]
    assert trial.status == "TERMINATED" and trial.num_failures == 1
    assert rows(trial.logdir)[0]["forked"]
    with open(trial.error_file) as f:
        text = f.read()
    assert "signal 9" in text or "SIGKILL" in text


def test_cuda_visible_devices_per_trial(tmp_path):
    tune.init(num_cpus=4, num_gpus=2)

    def fn(config):
        tune.report(**_whoami())
    analysis = run(fn, tmp_path, resources_per_trial={"cpu": 1, "gpu": 1},
                   config={"i": tune.grid_search([0, 1, 2, 3])})
    seen = [rows(t.logdir)[0] for t in analysis.trials]
    assert all(s["forked"] for s in seen)
    assert sorted({s["cuda"] for s in seen}) == ["0", "1"]
    analysis = run(fn, tmp_path, config={"i": 0})
    assert rows(analysis.trials[0].logdir)[0]["cuda"] == ""


def test_environment_and_directory_are_the_drivers_at_start(tmp_path, monkeypatch):
    """Set after the zygote started: the worker still sees them."""
    def fn(config):
        import sibling_module
        tune.report(value=os.environ.get("TUNEC_TEST_LATE"), sibling=sibling_module.VALUE,
                    **_whoami())
    _zygote.ensure()
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "sibling_module.py").write_text("VALUE = 42\n")
    monkeypatch.setenv("TUNEC_TEST_LATE", "late")
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    analysis = run(fn, tmp_path / "out")
    row = rows(analysis.trials[0].logdir)[0]
    assert row["forked"] and row["value"] == "late" and row["sibling"] == 42


def test_no_fd_leaks_into_workers(tmp_path):
    """A trial's process holds stdin, stdout, stderr, its socket (3) and
    whatever tunec opened for the trial: nothing the driver or the zygote
    had open."""
    leak = open(os.path.join(str(tmp_path), "driver-file"), "w")   # noqa: SIM115

    def fn(config):
        fds = {}
        for name in os.listdir("/proc/self/fd"):
            try:
                fds[name] = os.readlink("/proc/self/fd/" + name)
            except OSError:
                pass   # the directory listing's own fd
        tune.report(fds=fds, **_whoami())
    try:
        forked = rows(run(fn, tmp_path / "a").trials[0].logdir)[0]
    finally:
        leak.close()
    assert forked["forked"]
    targets = set(forked["fds"].values())
    assert not any("driver-file" in t for t in targets), targets
    assert {"0", "1", "2", "3"} <= set(forked["fds"])
    assert all(int(fd) <= 3 or "/proc/" in t or str(tmp_path / "a") in t
               for fd, t in forked["fds"].items()), forked["fds"]


def _script(tmp_path, body):
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(body))
    env = dict(os.environ, PYTHONPATH=ROOT)
    return env, path


def test_main_module_code_runs_in_forked_workers(tmp_path):
    env, path = _script(tmp_path, """
        import os
        import tunec as tune

        OFFSET = 10

        def train(config):
            with open("/proc/self/cmdline", "rb") as f:
                forked = b"tunec._worker" not in f.read()
            tune.report(v=config["x"] + OFFSET, forked=forked)

        class Model(tune.Trainable):
            def step(self):
                return {"v": 1, "done": True}

        if __name__ == "__main__":
            a = tune.run(train, config={"x": tune.grid_search([1, 2])}, verbose=0,
                         local_dir=".")
            print(sorted(t.last_result["v"] for t in a.trials),
                  all(t.last_result["forked"] for t in a.trials))
            b = tune.run(Model, verbose=0, local_dir=".")
            print(b.trials[0].status)
    """)
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env,
                          timeout=HANG_S, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["[11,", "12]", "True", "TERMINATED"]


def test_zygote_and_workers_die_with_the_driver(tmp_path):
    import psutil
    env, path = _script(tmp_path, """
        import os, sys, time
        import tunec as tune
        from tunec import _zygote

        GATE = sys.argv[1]

        def hold(config):
            with open(os.path.join(GATE, "worker-%d" % os.getpid()), "w"):
                pass
            while True:
                time.sleep(0.05)

        if __name__ == "__main__":
            tune.init(num_cpus=2)
            _zygote.ensure()
            with open(os.path.join(GATE, "zygote-%d" % _zygote.pid()), "w"):
                pass
            tune.run(hold, num_samples=2, verbose=0, local_dir=GATE)
    """)
    gate = tmp_path / "gate"
    gate.mkdir()
    proc = subprocess.Popen([sys.executable, str(path), str(gate)], env=env,
                            cwd=str(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        def pids():
            names = os.listdir(str(gate))
            zyg = [int(n.split("-")[1]) for n in names if n.startswith("zygote-")]
            work = [int(n.split("-")[1]) for n in names if n.startswith("worker-")]
            return (zyg, work) if zyg and len(work) == 2 else None
        zygote, workers = wait_for(pids, "the zygote and two workers", proc=proc)
        children = {p.pid for p in psutil.Process(proc.pid).children()}
        assert set(workers) <= children and zygote[0] in children
        proc.kill()
        proc.wait()

        def gone(pid):
            try:
                return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                return True
        assert wait_for(lambda: all(gone(p) for p in zygote + workers),
                        "the zygote and the workers to exit", deadline_s=HANG_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_dead_zygote_is_replaced(tmp_path):
    def fn(config):
        tune.report(**_whoami())
    _zygote.ensure()
    first = _zygote.pid()
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: not _alive(first), "the zygote's exit")
    analysis = run(fn, tmp_path)
    assert rows(analysis.trials[0].logdir)[0]["forked"]
    assert _zygote.pid() not in (None, first)


def _alive(pid):
    import psutil
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_without_the_zygote_workers_are_spawned(tmp_path, monkeypatch):
    monkeypatch.setenv("TUNEC_ZYGOTE", "0")

    def fn(config):
        tune.report(**_whoami())
    analysis = run(fn, tmp_path)
    row = rows(analysis.trials[0].logdir)[0]
    assert not row["forked"] and row["ppid"] == os.getpid()


@pytest.mark.parametrize("zygote", ["1", "0"])
def test_ctrl_c_reaches_the_driver_only(tmp_path, monkeypatch, zygote):
    """Workers (forked by the zygote or spawned) are in a process group of
    their own: a terminal's Ctrl-C, sent to the driver's group, cannot kill
    one that is still starting up, before it could ignore SIGINT."""
    monkeypatch.setenv("TUNEC_ZYGOTE", zygote)

    def fn(config):
        tune.report(pgid=os.getpgrp(), pid=os.getpid())

    analysis = run(fn, tmp_path, num_samples=2)
    for trial in analysis.trials:
        result = trial.last_result
        assert result["pgid"] != os.getpgrp(), result


class _RefusingZygote:
    """Stands in for the fork server and answers every request with a failed
    start, as the real one does when its intermediate process is killed
    before it hands the worker over (that cannot be timed from a test)."""

    def __init__(self):
        import socket
        import threading
        self.ours, self.theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.requests = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        import socket
        while True:
            try:
                msg, fds, _flags, _addr = socket.recv_fds(self.theirs, 1 << 20, 4)
            except OSError:
                return
            for fd in fds:
                os.close(fd)
            if not msg:
                return       # the run gave the zygote up: its end is shut
            self.requests += 1
            self.theirs.send(b"error the intermediate process failed")

    def close(self):
        self.ours.close()
        self.thread.join(HANG_S)
        self.theirs.close()


@pytest.mark.parametrize("workers, gives_up", [(2, False), (3, True)])
def test_a_failed_start_keeps_the_zygote(tmp_path, monkeypatch, workers, gives_up):
    """One failed start (a worker or its intermediate killed while starting)
    costs only that worker the fork: it is started with posix_spawn and the
    next one is asked of the zygote again. Three failures in a row give the
    zygote up for the run, with a warning."""
    import warnings
    tune.shutdown()
    tune.init(num_cpus=workers, num_gpus=0)
    fake = _RefusingZygote()
    monkeypatch.setattr(_zygote, "ensure", lambda: fake.ours.fileno())
    started = str(tmp_path / "started")
    os.mkdir(started)

    def fn(config):
        import time
        import uuid
        open(os.path.join(started, uuid.uuid4().hex), "w").close()
        deadline = time.monotonic() + 300
        while len(os.listdir(started)) < config["n"]:
            if time.monotonic() > deadline:
                raise RuntimeError("the trials did not all run at once")
            time.sleep(0.01)
        tune.report(**_whoami())
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            analysis = run(fn, tmp_path / "out", num_samples=workers,
                           config={"n": workers})
    finally:
        fake.close()
    assert [t.status for t in analysis.trials] == ["TERMINATED"] * workers
    assert not any(rows(t.logdir)[0]["forked"] for t in analysis.trials)
    assert fake.requests == workers
    gave_up = [w for w in caught if "fork server failed" in str(w.message)]
    assert len(gave_up) == (1 if gives_up else 0), [str(w.message) for w in caught]


def test_params_pkl_holds_plain_values_and_code(tmp_path):
    """The worker writes params.pkl with pickle where it can (the bytes
    cloudpickle writes for plain values) and with cloudpickle where the
    config holds code; both load as the trial's config."""
    import pickle
    import cloudpickle

    def fn(config):
        tune.report(v=1)
    analysis = run(fn, tmp_path, config={"lr": tune.grid_search([0.1, 0.2]), "b": [1, "s"],
                                         "f": lambda x: x + 1})
    plain = run(fn, tmp_path / "plain", config={"lr": 0.5, "b": {"c": [1, 2]}})
    for trial in analysis.trials:
        with open(os.path.join(trial.logdir, "params.pkl"), "rb") as f:
            config = pickle.load(f)
        assert config["f"](1) == 2 and config["b"] == [1, "s"]
        assert config["lr"] == trial.config["lr"]
    with open(os.path.join(plain.trials[0].logdir, "params.pkl"), "rb") as f:
        data = f.read()
    assert data == cloudpickle.dumps({"lr": 0.5, "b": {"c": [1, 2]}})
