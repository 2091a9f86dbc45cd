"""Resuming a killed experiment of many trials (issue 12, item 4), small: the
driver is SIGKILLed with half its trials finished; the resumed run runs every
other trial exactly once and leaves the finished ones untouched. A finished
trial's last result and metric analysis come back from the experiment state
(its snapshot entry, or its final journal event), not from its files."""
import glob
import json
import os
import signal
import subprocess
import sys
import textwrap

from run_helpers import HANG_S, wait_for

N = 40
HALF = N // 2

SCRIPT = textwrap.dedent('''
    import os, sys, time
    import tunec as tune

    def trainable(config):
        # the second half waits for the gate: the driver is killed first
        while config["i"] >= {half} and not os.path.exists(os.environ["GATE"]):
            time.sleep(0.01)
        tune.report({{"score": config["i"] * 1.5, "i": config["i"]}})

    tune.init(num_cpus=2)
    tune.run(trainable, name="exp", config={{"i": tune.grid_search(list(range({n})))}},
             storage_path=sys.argv[1], verbose=0, resume=sys.argv[2] == "resume",
             resources_per_trial={{"cpu": 1}})
''').format(n=N, half=HALF)


def ended(exp_dir):
    """Trials the journals say ended, by id."""
    done = set()
    for path in glob.glob(os.path.join(exp_dir, "experiment_state-*.journal")):
        with open(path) as f:
            for line in f:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue    # the line being written
                if event.get("event") == "status" and event.get("status") == "TERMINATED":
                    done.add(event["trial_id"])
    return done


def launch(tmp_path, mode):
    env = dict(os.environ, GATE=str(tmp_path / "gate"))
    return subprocess.Popen([sys.executable, str(tmp_path / "script.py"), str(tmp_path / "res"),
                             mode], env=env, stderr=subprocess.PIPE, start_new_session=True)


def files_of(exp_dir):
    """{trial dir: (result.json bytes, progress.csv bytes, their mtimes)}."""
    out = {}
    for d in glob.glob(os.path.join(exp_dir, "trainable_*")):
        paths = [os.path.join(d, "result.json"), os.path.join(d, "progress.csv")]
        out[d] = tuple(open(p, "rb").read() for p in paths) + tuple(
            os.stat(p).st_mtime_ns for p in paths)
    return out


def test_killed_run_resumes_every_trial_once_and_keeps_finished_ones(tmp_path):
    (tmp_path / "script.py").write_text(SCRIPT)
    exp_dir = str(tmp_path / "res" / "exp")
    proc = launch(tmp_path, "fresh")
    wait_for(lambda: os.path.isdir(exp_dir) and len(ended(exp_dir)) >= HALF,
             "{} finished trials".format(HALF), proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=HANG_S)
    finished = files_of(exp_dir)
    finished = {d: f for d, f in finished.items() if f[0].count(b"\n") == 1}
    assert len(finished) == HALF
    (tmp_path / "gate").write_text("")
    proc = launch(tmp_path, "resume")
    _, err = proc.communicate(timeout=HANG_S)
    assert proc.returncode == 0, err.decode()
    after = files_of(exp_dir)
    assert len(after) == N                      # every trial once, in one directory
    for d, files in after.items():
        rows = [json.loads(line) for line in files[0].decode().splitlines()]
        assert len(rows) == 1 and rows[0]["score"] == rows[0]["i"] * 1.5, d
        assert files[1].count(b"\n") == 2, d    # header and one row
    for d, files in finished.items():
        assert after[d] == files, d             # same bytes, never rewritten
    # the resumed session's state has the finished trials' results
    from tunec import _resume
    records, _ = _resume.load(exp_dir)
    assert len(records) == N
    for rec in records.values():
        assert rec["status"] == "TERMINATED"
        i = rec["config"]["i"]
        assert rec["last_result"]["score"] == i * 1.5 and rec["last_result"]["done"] is True
        assert rec["metric_analysis"]["score"]["max"] == i * 1.5
