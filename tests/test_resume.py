"""Crash safety and resume, with real processes: the driver is SIGKILLed at
random moments and resumed each time; Ctrl-C; resume choices; extending and
changing a resumed experiment."""
import glob
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from run_helpers import HANG_S, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent('''
    import json, os, sys, time
    import tunec as tune

    def held(trial_id, iteration):
        """Iteration HOLD_AT and later of trial GATE_TRIAL (of every trial when
        GATE_TRIAL is unset) wait until the test creates the file GATE: the
        experiment cannot finish before the test lets it, however fast."""
        hold = os.environ.get("HOLD_AT")
        if not hold or iteration < int(hold):
            return
        if os.environ.get("GATE_TRIAL", trial_id) != trial_id:
            return
        while not os.path.exists(os.environ["GATE"]):
            time.sleep(0.01)

    class Counter(tune.Trainable):
        def setup(self, config):
            self.n = 0
        def step(self):
            held(self.trial_id, self.n + 1)
            time.sleep(float(os.environ.get("STEP_SLEEP", "0.01")))
            self.n += 1
            return {"n": self.n, "x": self.config["x"]}
        def save_checkpoint(self, d):
            return {"n": self.n}
        def load_checkpoint(self, c):
            self.n = c["n"]

    def fn(config, checkpoint_dir=None):
        start = 0
        if checkpoint_dir:
            with open(os.path.join(checkpoint_dir, "s.json")) as f:
                start = json.load(f)["i"]
        for i in range(start + 1, ITERS + 1):
            held(tune.get_trial_id(), i)
            time.sleep(0.01)
            if i % 3 == 0:
                with tune.checkpoint_dir(step=i) as d:
                    with open(os.path.join(d, "s.json"), "w") as f:
                        json.dump({"i": i}, f)
            marker = "../failed_once_%s" % config["x"]
            if config.get("fail") and i == 7 and not os.path.exists(marker):
                open(marker, "w").close()          # the worker dies once, mid-trial
                os.kill(os.getpid(), 9)
            tune.report(i=i, x=config["x"])

    ITERS = int(os.environ.get("ITERS", "20"))

    if __name__ == "__main__":
        kind, resume = sys.argv[1], sys.argv[2]
        samples = int(os.environ.get("SAMPLES", "1"))
        grid = list(range(int(os.environ.get("GRID", "20"))))
        tune.init(num_cpus=2)
        trainable = Counter if kind == "class" else fn
        config = {"x": tune.grid_search(grid)}
        if os.environ.get("FAIL"):
            config["fail"] = True
        scheduler = None
        if os.environ.get("SCHED") == "hyperband":
            from tunec.schedulers import HyperBandScheduler
            scheduler = HyperBandScheduler(metric="n", mode="max", max_t=ITERS)
        elif os.environ.get("SCHED") == "pbt":
            from tunec.schedulers import PopulationBasedTraining
            scheduler = PopulationBasedTraining(
                time_attr="training_iteration", metric="x", mode="max",
                perturbation_interval=3, hyperparam_mutations={"x": grid})
        try:
            a = tune.run(trainable, name="exp", local_dir=sys.argv[3], config=config,
                         scheduler=scheduler,
                         num_samples=samples, stop={"training_iteration": ITERS},
                         checkpoint_freq=3 if kind == "class" else 0,
                         max_failures=int(os.environ.get("MAX_FAILURES", "0")),
                         raise_on_failed_trial=False, verbose=0,
                         resume={"fresh": False, "resume": True}.get(resume, resume))
        except KeyboardInterrupt:
            print("INTERRUPTED")
            sys.exit(3)
        print("STATUS", json.dumps(sorted(t.status for t in a.trials)))
''')


def launch(tmp_path, kind, resume, stderr=subprocess.PIPE, **env):
    script = tmp_path / "exp.py"
    script.write_text(SCRIPT)
    full_env = dict(os.environ, PYTHONPATH=ROOT, **{k: str(v) for k, v in env.items()})
    return subprocess.Popen([sys.executable, str(script), kind, resume, str(tmp_path / "res")],
                            stdout=subprocess.PIPE, stderr=stderr, text=True,
                            env=full_env, cwd=str(tmp_path), start_new_session=True)


def finish(tmp_path, kind, resume="resume", **env):
    proc = launch(tmp_path, kind, resume, **env)
    out, err = proc.communicate(timeout=HANG_S)
    assert proc.returncode == 0, err
    return json.loads(out.split("STATUS", 1)[1])


def trial_rows(tmp_path):
    rows = {}
    for d in glob.glob(os.path.join(str(tmp_path / "res" / "exp"), "*", "")):
        with open(os.path.join(d, "result.json")) as f:
            rows[d] = [json.loads(line) for line in f]
    return rows


def row_counts(tmp_path):
    """Whole rows in each trial's result.json so far (read while it runs)."""
    counts = []
    for path in glob.glob(str(tmp_path / "res" / "exp" / "*" / "result.json")):
        with open(path) as f:
            counts.append(f.read().count("\n"))
    return counts


def journal_count(tmp_path, text):
    """How often text occurs in the experiment's journals (every session)."""
    return sum(open(p).read().count(text)
               for p in glob.glob(str(tmp_path / "res" / "exp" / "*.journal")))


def gate(tmp_path):
    """The file that lets held trials go on (see `held` in SCRIPT)."""
    return str(tmp_path / "release")


def release(tmp_path):
    open(gate(tmp_path), "w").close()


def workers_of(proc):
    import psutil
    try:
        return [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def all_gone(pids, timeout=60.0):
    """The given worker pids have exited (zombies reaped by init count too);
    False only if some are still alive after a deadline no exit needs."""
    import psutil

    def gone(p):
        try:
            return psutil.Process(p).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True
    try:
        return wait_for(lambda: all(gone(p) for p in pids), "exit of the workers",
                        deadline_s=timeout)
    except AssertionError:
        return False


def kill_and_resume(tmp_path, proc, kind, env):
    """SIGKILLs the driver (its workers die with it) and resumes."""
    workers = workers_of(proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert all_gone(workers)           # workers die with their driver
    return launch(tmp_path, kind, "resume", **env)


def let_finish(tmp_path, proc):
    release(tmp_path)
    workers = workers_of(proc)
    out, err = proc.communicate(timeout=HANG_S)
    assert proc.returncode == 0, err
    assert all_gone(workers)


@pytest.mark.parametrize("kind", ["class", "function"])
def test_sigkill_driver_at_random_points_and_resume(tmp_path, kind):
    """The driver dies at four random points of the experiment's progress
    (counted in result rows, not seconds) and is resumed each time. The last
    trial holds its last step until the test is done killing, so the
    experiment is still running at every kill, however fast this machine."""
    rng = random.Random(1234 if kind == "class" else 4321)
    env = {"HOLD_AT": 20, "GATE_TRIAL": "00019", "GATE": gate(tmp_path)}
    reachable = 20 * 20 - 1                # every row but the held one
    proc = launch(tmp_path, kind, "fresh", **env)
    for target in sorted(rng.sample(range(1, reachable + 1), 4)):
        wait_for(lambda: sum(row_counts(tmp_path)) >= target,
                 "{} result rows".format(target), proc)
        proc = kill_and_resume(tmp_path, proc, kind, env)
    let_finish(tmp_path, proc)
    statuses = finish(tmp_path, kind)      # a last resume finds nothing left to run
    assert statuses == ["TERMINATED"] * 20
    rows = trial_rows(tmp_path)
    assert len(rows) == 20                 # every trial exactly once, in one directory
    for logdir, data in rows.items():
        assert [r["training_iteration"] for r in data] == list(range(1, 21)), logdir
        with open(os.path.join(logdir, "progress.csv")) as f:
            assert f.read().count("\n") == 21


def test_sigkill_driver_during_hyperband_pauses_and_resume(tmp_path):
    """Trials paused to a checkpoint by HyperBand when the driver dies come
    back (the resumed scheduler starts afresh) and finish with whole rows.
    HyperBand(max_t=27) puts trials 4-9 in a bracket with milestone 9 and
    trials 10-11 in one with milestone 3; trial 11 holds its first step, so
    exactly six pauses come (five in the first of those brackets, trial 10 in
    the second) and the run cannot end: the driver is killed after a random
    number of them."""
    rng = random.Random(99)
    env = {"SCHED": "hyperband", "GRID": 12, "ITERS": 27, "STEP_SLEEP": 0.03,
           "HOLD_AT": 1, "GATE_TRIAL": "00011", "GATE": gate(tmp_path)}
    proc = launch(tmp_path, "class", "fresh", **env)
    pauses = rng.randint(1, 6)
    wait_for(lambda: journal_count(tmp_path, '"PAUSED"') >= pauses,
             "{} trials paused".format(pauses), proc)
    proc = kill_and_resume(tmp_path, proc, "class", env)
    let_finish(tmp_path, proc)
    statuses = finish(tmp_path, "class", **env)
    assert statuses == ["TERMINATED"] * 12
    rows = trial_rows(tmp_path)
    assert len(rows) == 12
    for logdir, data in rows.items():
        its = [r["training_iteration"] for r in data]
        assert its == list(range(1, len(its) + 1)), logdir
        assert 1 <= len(its) <= 27


def journal_tail(tmp_path):
    text = "".join(open(p).read() for p in
                   sorted(glob.glob(str(tmp_path / "res" / "exp" / "*.journal"))))
    return text[-3000:]


def test_sigkill_driver_during_pbt_and_resume(tmp_path):
    """Trials PBT cloned (new config and tag) resume with them: the resume
    matches them by their generated config, and they finish. The driver is
    killed once the journal holds a clone; the last trial holds its last
    step, so the experiment cannot have ended by then."""
    env = {"SCHED": "pbt", "GRID": 8, "ITERS": 30, "STEP_SLEEP": 0.02,
           "HOLD_AT": 30, "GATE_TRIAL": "00007", "GATE": gate(tmp_path)}
    proc = launch(tmp_path, "class", "fresh", **env)
    wait_for(lambda: journal_count(tmp_path, '"reconfig"'), "trial cloned by PBT", proc)
    workers = workers_of(proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert all_gone(workers)
    release(tmp_path)
    statuses = finish(tmp_path, "class", **env)
    assert statuses == ["TERMINATED"] * 8, (statuses, journal_tail(tmp_path))
    rows = trial_rows(tmp_path)
    assert len(rows) == 8
    for logdir, data in rows.items():
        assert data[-1]["training_iteration"] == 30, logdir
    states = glob.glob(str(tmp_path / "res" / "exp" / "experiment_state-*.json"))
    with open(max(states, key=os.path.getmtime)) as f:
        state = json.load(f)
    tags = [t["experiment_tag"] for t in state["checkpoints"]]
    assert any("@perturbed[x=" in tag for tag in tags)


def test_sigkill_worker_mid_trial_retries_from_checkpoint(tmp_path):
    statuses = finish(tmp_path, "function", "fresh", FAIL=1, MAX_FAILURES=1, GRID=4)
    assert statuses == ["TERMINATED"] * 4
    for logdir, data in trial_rows(tmp_path).items():
        assert [r["training_iteration"] for r in data] == list(range(1, 21)), logdir


def test_ctrl_c_stops_gracefully_then_resumes(tmp_path):
    """Ctrl-C while trials are mid-step: they finish the step, save, and the
    driver exits with the resume hint; resume finishes them. Every trial holds
    its 5th step until the driver has said it is stopping, so the experiment
    is running when the signal comes and cannot end before it is handled."""
    env = {"GRID": 6, "ITERS": 20, "HOLD_AT": 5, "GATE": gate(tmp_path)}
    err_path = tmp_path / "driver.err"
    with open(str(err_path), "w") as err_file:
        proc = launch(tmp_path, "class", "fresh", stderr=err_file, **env)
    wait_for(lambda: sorted(row_counts(tmp_path))[-2:] == [4, 4],
             "two trials holding their 5th step", proc)
    workers = workers_of(proc)
    os.killpg(proc.pid, signal.SIGINT)       # as a terminal's Ctrl-C: the whole group
    wait_for(lambda: "stopping the experiment" in err_path.read_text(),
             "the driver's answer to Ctrl-C", proc)
    release(tmp_path)
    out, _ = proc.communicate(timeout=HANG_S)
    err = err_path.read_text()
    assert proc.returncode == 3, (out, err)
    assert "resume=True" in err
    assert all_gone(workers)
    statuses = finish(tmp_path, "class", **env)
    assert statuses == ["TERMINATED"] * 6
    for logdir, data in trial_rows(tmp_path).items():
        assert [r["training_iteration"] for r in data] == list(range(1, 21)), logdir


def test_resume_extends_num_samples_and_refuses_changed_space(tmp_path):
    assert finish(tmp_path, "class", "fresh", GRID=3, ITERS=3) == ["TERMINATED"] * 3
    statuses = finish(tmp_path, "class", GRID=3, ITERS=3, SAMPLES=2)
    assert statuses == ["TERMINATED"] * 6
    assert len(trial_rows(tmp_path)) == 6
    proc = launch(tmp_path, "class", "resume", GRID=4, ITERS=3)
    out, err = proc.communicate(timeout=HANG_S)
    assert proc.returncode != 0 and "search space changed" in err


def test_resume_without_state_and_errored_only(tmp_path):
    proc = launch(tmp_path, "class", "resume", GRID=2, ITERS=2)
    out, err = proc.communicate(timeout=HANG_S)
    assert "Called resume when no checkpoint exists in local directory." in err
    statuses = finish(tmp_path, "function", "fresh", FAIL=1, GRID=2, ITERS=10)
    assert statuses == ["ERROR", "ERROR"]
    statuses = finish(tmp_path, "function", "ERRORED_ONLY", FAIL=1, GRID=2, ITERS=10)
    assert statuses == ["TERMINATED", "TERMINATED"]
    for logdir, data in trial_rows(tmp_path).items():
        assert [r["training_iteration"] for r in data] == list(range(1, 11)), logdir


def test_moved_experiment_resumes(tmp_path):
    """An experiment killed mid-run (two trials holding their 5th step, after
    a checkpoint at 3) and moved elsewhere resumes there."""
    import shutil
    env = {"GRID": 4, "ITERS": 30, "HOLD_AT": 5, "GATE": gate(tmp_path)}
    proc = launch(tmp_path, "class", "fresh", **env)
    wait_for(lambda: sorted(row_counts(tmp_path))[-2:] == [4, 4],
             "two trials holding their 5th step", proc)
    workers = workers_of(proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert all_gone(workers)                 # nothing writes while it moves
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.move(str(tmp_path / "res"), str(moved / "res"))
    release(tmp_path)
    statuses = finish(moved, "class", **env)
    assert statuses == ["TERMINATED"] * 4
    rows = trial_rows(moved)
    assert len(rows) == 4
    for logdir, data in rows.items():
        assert [r["training_iteration"] for r in data] == list(range(1, 31)), logdir


@pytest.mark.parametrize("value, expected", [
    (False, (False, True, False, False)),
    (True, (True, True, False, False)),
    ("LOCAL", (True, True, False, False)),
    ("AUTO", (True, True, False, False)),
    ("ERRORED_ONLY", (True, False, False, True)),
    ("LOCAL+RESTART_ERRORED", (True, True, False, True)),
    ("LOCAL+RESTART_ERRORED_ONLY", (True, False, False, True)),
    ("LOCAL+RESUME_ERRORED", (True, True, True, False)),
])
def test_resume_spellings(value, expected):
    from tunec import _resume
    assert _resume.mode(value, True, False, False) == expected


def test_bad_resume_values():
    from tunec import _resume
    with pytest.raises(ValueError, match="resume_type"):
        _resume.mode("SOMETIMES", True, False, False)
    with pytest.raises(ValueError, match="unknown option"):
        _resume.mode("LOCAL+MAYBE", True, False, False)
