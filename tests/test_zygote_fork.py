"""The zygote forked from the driver (tunec/_zygote_fork.py, issue 12): used
only when the driver is in a state a fork copies safely, and then with the
isolation of the exec'd zygote — nothing of the driver's ``__main__``,
stdio objects, logging handlers, signal handlers, hooks or user modules
reaches a worker. Each case is a fresh driver script, as a user runs one
(the test runner's own process is never eligible: it has C extensions)."""

import pytest

from run_helpers import run_driver_script as drive


def test_a_fresh_driver_forks_its_zygote(tmp_path):
    """__main__ functions (a closure over a driver global) still travel by
    cloudpickle; the worker's own __main__ is empty, its stdout is fd 1, and
    it is the driver's child."""
    out, stdout = drive(tmp_path, """
        import json, os, sys
        import tunec as tune
        from tunec import _zygote

        OFFSET = 10

        def make(scale):
            def train(config):
                import sys
                main = sys.modules["__main__"]
                print("printed by trial {}".format(config["x"]))
                tune.report(v=scale * config["x"] + OFFSET, ppid=os.getppid(),
                            main_names=sorted(n for n in vars(main) if not n.startswith("__")),
                            stdout=type(sys.stdout).__name__,
                            stdout_fd=sys.stdout.fileno())
            return train

        a = tune.run(make(2), config={"x": tune.grid_search([1, 2])}, verbose=0,
                     local_dir=".")
        rows = [t.last_result for t in a.trials]
        print(json.dumps({"mode": _zygote.mode(), "pid": os.getpid(),
                          "v": sorted(r["v"] for r in rows), "rows": rows}))
    """)
    assert out["mode"] == "fork"
    assert out["v"] == [12, 14]
    for row in out["rows"]:
        assert row["ppid"] == out["pid"]
        assert row["main_names"] == []
        assert row["stdout"] == "TextIOWrapper" and row["stdout_fd"] == 1
    assert "printed by trial 1" in stdout and "printed by trial 2" in stdout


def test_the_drivers_state_does_not_reach_workers(tmp_path):
    """Logging handlers, signal handlers, hooks and atexit handlers stay the
    driver's; a user module is imported afresh in the worker (here changed
    on disk after the driver imported it); an object of the driver's that a
    worker drops does not close the worker's fds."""
    (tmp_path / "usermod.py").write_text("VALUE = 'old'\n")
    out, _ = drive(tmp_path, """
        import sys
        # fd 3, the first the script opens, held only by the sys module: a
        # worker that drops it must not close its own fd 3, its socket.
        sys.driver_file = open("driver-file.txt", "w")
        import atexit, json, logging, os, signal
        import usermod
        import tunec as tune
        from tunec import _zygote

        logging.basicConfig(filename="driver.log", level=logging.INFO)
        signal.signal(signal.SIGTERM, lambda *a: None)
        sys.excepthook = lambda *a: None
        atexit.register(lambda: open("atexit.txt", "a").write("ran\\n"))
        with open("usermod.py", "w") as f:
            f.write("VALUE = 'new'\\n")

        def train(config):
            import logging, signal, sys
            import usermod
            del sys.driver_file
            logging.getLogger("trial").warning("from the trial")
            tune.report(value=usermod.VALUE,
                        sigterm_default=signal.getsignal(signal.SIGTERM) == signal.SIG_DFL,
                        hook_default=sys.excepthook is sys.__excepthook__,
                        handlers=len(logging.getLogger().handlers))

        a = tune.run(train, verbose=0, local_dir=".")
        print(json.dumps({"mode": _zygote.mode(), "row": a.trials[0].last_result}))
    """)
    assert out["mode"] == "fork"
    row = out["row"]
    assert row["value"] == "new"
    assert row["sigterm_default"] and row["hook_default"] and row["handlers"] == 0
    with open(str(tmp_path / "driver.log")) as f:
        assert "from the trial" not in f.read()
    with open(str(tmp_path / "atexit.txt")) as f:
        assert f.read() == "ran\n"     # the driver's exit only


@pytest.mark.parametrize("setup,env", [
    ("import threading; threading.Thread(target=threading.Event().wait, daemon=True).start()",
     None),
    ("import psutil", None),
    ("", {"TUNEC_ZYGOTE": "exec"}),
], ids=["a-thread", "a-c-extension", "TUNEC_ZYGOTE=exec"])
def test_other_drivers_exec_the_zygote(tmp_path, setup, env):
    out, _ = drive(tmp_path, """
        import json
        {}
        import tunec as tune
        from tunec import _zygote

        def train(config):
            tune.report(v=1)

        a = tune.run(train, verbose=0, local_dir=".")
        print(json.dumps({{"mode": _zygote.mode(), "v": a.trials[0].last_result["v"]}}))
    """.format(setup), env=env)
    assert out == {"mode": "exec", "v": 1}


def test_a_crashing_trial_leaves_a_forked_zygote_and_the_driver(tmp_path):
    out, _ = drive(tmp_path, """
        import json, os, signal
        import tunec as tune
        from tunec import _zygote

        def train(config):
            if config["crash"]:
                os.kill(os.getpid(), signal.SIGSEGV)
            tune.report(v=1)

        a = tune.run(train, config={"crash": tune.grid_search([True, False])}, verbose=0,
                     local_dir=".", raise_on_failed_trial=False)
        first = _zygote.pid()
        b = tune.run(train, config={"crash": False}, verbose=0, local_dir=".")
        print(json.dumps({"mode": _zygote.mode(), "statuses": [t.status for t in a.trials],
                          "again": b.trials[0].status, "same_zygote": first == _zygote.pid()}))
    """)
    assert out == {"mode": "fork", "statuses": ["ERROR", "TERMINATED"], "again": "TERMINATED",
                   "same_zygote": True}


def test_cuda_visible_devices_per_trial_from_a_forked_zygote(tmp_path):
    out, _ = drive(tmp_path, """
        import json, os
        import tunec as tune
        from tunec import _zygote

        tune.init(num_cpus=2, num_gpus=2)

        def train(config):
            tune.report(cuda=os.environ.get("CUDA_VISIBLE_DEVICES"))

        a = tune.run(train, config={"i": tune.grid_search([0, 1, 2, 3])}, verbose=0,
                     local_dir=".", resources_per_trial={"cpu": 1, "gpu": 1})
        print(json.dumps({"mode": _zygote.mode(),
                          "cuda": sorted({t.last_result["cuda"] for t in a.trials})}))
    """)
    assert out == {"mode": "fork", "cuda": ["0", "1"]}


def test_a_worker_the_zygote_does_not_fork_gets_the_trainable_itself(tmp_path):
    """The zygote forked at the top of tune.run holds that call's __main__
    trainable, so the workers it forks get a marker instead of cloudpickle
    bytes; a worker it fails to fork (posix_spawn takes over) gets the
    trainable's own bytes."""
    started = tmp_path / "started"
    started.mkdir()
    out, _ = drive(tmp_path, """
        import json, os, time
        import tunec as tune
        from tunec import _zygote

        # The zygote is a copy of this driver, so this reaches it: the first
        # worker is forked, the second refused, as when a zygote's
        # intermediate process is killed.
        real, served = _zygote._fork_worker, []
        def refuse_after_one(*args):
            served.append(1)
            return real(*args) if len(served) == 1 else "error refused by the test"
        _zygote._fork_worker = refuse_after_one

        OFFSET = 10

        def train(config):
            # Both trials run at once, so that the run needs two workers.
            open(os.path.join("{started}", str(config["x"])), "w").close()
            deadline = time.monotonic() + 300
            while len(os.listdir("{started}")) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            with open("/proc/self/cmdline", "rb") as f:
                forked = b"tunec._worker" not in f.read()
            tune.report(v=config["x"] + OFFSET, forked=forked)

        # fail_fast: a trial that fails ends the other's wait at once.
        a = tune.run(train, config={{"x": tune.grid_search([1, 2])}}, verbose=0, local_dir=".",
                     resources_per_trial={{"cpu": 0.5}}, fail_fast=True)
        rows = [t.last_result for t in a.trials]
        print(json.dumps({{"mode": _zygote.mode(), "v": sorted(r["v"] for r in rows),
                          "forked": sorted(r["forked"] for r in rows)}}))
    """.format(started=started))
    assert out == {"mode": "fork", "v": [11, 12], "forked": [False, True]}


def test_a_later_run_sees_the_drivers_globals_as_they_are_then(tmp_path):
    """A zygote holds the trainable of the tune.run that forked it, as the
    driver had it then; the next tune.run sends what the function reads as
    it is at that call (cloudpickle), as before."""
    out, _ = drive(tmp_path, """
        import json
        import tunec as tune
        from tunec import _zygote

        SCALE = 1

        def train(config):
            tune.report(v=SCALE)

        a = tune.run(train, verbose=0, local_dir=".")
        SCALE = 2
        b = tune.run(train, verbose=0, local_dir=".")
        print(json.dumps({"mode": _zygote.mode(), "v": [a.trials[0].last_result["v"],
                                                        b.trials[0].last_result["v"]]}))
    """)
    assert out == {"mode": "fork", "v": [1, 2]}


def test_tune_init_leaves_the_fork_to_tune_run(tmp_path):
    """tune.init forks nothing in a driver it could fork: the zygote forked
    at the top of tune.run holds the run's trainable, which then travels
    without cloudpickle (not even imported by the driver)."""
    out, _ = drive(tmp_path, """
        import json, sys
        import tunec as tune
        from tunec import _zygote

        tune.init(num_cpus=2)
        before = _zygote.pid()

        def train(config):
            tune.report(v=1)

        a = tune.run(train, verbose=0, local_dir=".")
        print(json.dumps({"before": before, "mode": _zygote.mode(),
                          "v": a.trials[0].last_result["v"],
                          "cloudpickle": "cloudpickle" in sys.modules}))
    """)
    assert out == {"before": None, "mode": "fork", "v": 1, "cloudpickle": False}
