"""tune.run(log_to_file=...) and trial_dirname_creator (Ray 1.x / 2.x), with
real workers: a trial's stdout and stderr land in files of its directory —
Python's print, a raw os.write to fd 1/2 and C stdio alike — a reused worker's
next trial writes to its own files, and the driver's own output is left
alone; trial_dirname_creator names the trial directories."""
import ctypes
import os
import subprocess
import sys
import textwrap

import pytest

import tunec as tune
from run_helpers import HANG_S, run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def chatty(config):
    # Python level, descriptor level and C stdio (buffered: flushed by tunec
    # before the descriptors change back).
    print("py-out", config["x"], os.getpid(), flush=True)
    print("py-err", config["x"], file=sys.stderr, flush=True)
    os.write(1, "fd-out {}\n".format(config["x"]).encode())
    os.write(2, "fd-err {}\n".format(config["x"]).encode())
    ctypes.CDLL(None).printf(("c-out %d\n" % config["x"]).encode())
    tune.report(score=config["x"])


def read(trial, name):
    with open(os.path.join(trial.logdir, name)) as f:
        return f.read()


def by_x(analysis):
    return {t.config["x"]: t for t in analysis.trials}


def test_true_writes_stdout_and_stderr_files(tmp_path):
    analysis = run(chatty, tmp_path, config={"x": tune.grid_search([1, 2])}, log_to_file=True)
    for x, trial in by_x(analysis).items():
        out, err = read(trial, "stdout"), read(trial, "stderr")
        assert "py-out {}".format(x) in out and "fd-out {}\n".format(x) in out
        assert "c-out {}\n".format(x) in out
        assert "py-err {}\n".format(x) in err and "fd-err {}\n".format(x) in err
        assert "err" not in out and "out" not in err
        other = 3 - x                    # each trial has only its own lines
        assert "py-out {} ".format(other) not in out and "fd-out {}".format(other) not in out


def test_a_str_sends_both_streams_to_one_file(tmp_path):
    analysis = run(chatty, tmp_path, config={"x": 7}, log_to_file="combined.log")
    trial = analysis.trials[0]
    text = read(trial, "combined.log")
    for line in ("py-out 7", "py-err 7", "fd-out 7", "fd-err 7", "c-out 7"):
        assert line in text
    # Both streams share one append descriptor: their order is kept.
    assert text.index("py-out 7") < text.index("py-err 7") < text.index("fd-out 7")
    assert not os.path.exists(os.path.join(trial.logdir, "stdout"))


def test_a_pair_names_one_file_per_stream(tmp_path):
    analysis = run(chatty, tmp_path, config={"x": 3}, log_to_file=("o.txt", "e.txt"))
    trial = analysis.trials[0]
    assert "fd-out 3" in read(trial, "o.txt") and "fd-err 3" not in read(trial, "o.txt")
    assert "fd-err 3" in read(trial, "e.txt") and "py-out" not in read(trial, "e.txt")
    # None (or "") for one stream leaves it alone, as Ray's falsy name does.
    analysis = run(chatty, tmp_path, config={"x": 4}, log_to_file=("only_out.txt", None))
    trial = analysis.trials[0]
    assert "fd-out 4" in read(trial, "only_out.txt")
    assert "fd-err 4" not in read(trial, "only_out.txt")


class Talker(tune.Trainable):
    def setup(self, config):
        self.x = config["x"]

    def step(self):
        os.write(1, "step {} pid {}\n".format(self.x, os.getpid()).encode())
        return {"score": self.x, "done": True}

    def reset_config(self, new_config):
        self.x = new_config["x"]
        return True


def test_a_reused_worker_writes_each_trial_to_its_own_files(tmp_path):
    analysis = run(Talker, tmp_path, config={"x": tune.grid_search([1, 2, 3])},
                   log_to_file=True, reuse_actors=True, max_concurrent_trials=1)
    pids = set()
    for x, trial in by_x(analysis).items():
        lines = read(trial, "stdout").splitlines()
        assert len(lines) == 1 and lines[0].startswith("step {} pid ".format(x)), lines
        pids.add(lines[0].split()[-1])
    assert len(pids) == 1       # one worker (and one actor) ran all three


def test_the_driver_output_stays_on_the_driver(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent("""
        import os, sys
        import tunec as tune

        def trial(config):
            os.write(1, b"TRIAL-LINE\\n")
            tune.report(score=1)

        tune.run(trial, local_dir=sys.argv[1], verbose=0, log_to_file=sys.argv[2] == "1")
        print("DRIVER-AFTER", flush=True)
    """))
    env = dict(os.environ, PYTHONPATH=ROOT)

    def driver(log_to_file):
        return subprocess.run([sys.executable, str(script), str(tmp_path / log_to_file),
                               log_to_file], capture_output=True, text=True, env=env,
                              timeout=HANG_S)

    plain = driver("0")
    assert plain.returncode == 0, plain.stderr
    assert "TRIAL-LINE" in plain.stdout              # without the option: the console
    logged = driver("1")
    assert logged.returncode == 0, logged.stderr
    assert "TRIAL-LINE" not in logged.stdout and "DRIVER-AFTER" in logged.stdout
    found = [os.path.join(d, "stdout") for d, _, files in os.walk(tmp_path / "1")
             if "stdout" in files]
    assert len(found) == 1 and open(found[0]).read() == "TRIAL-LINE\n"


def test_local_mode_tees_python_output(tmp_path, capsys):
    def local(config):
        print("local-out")
        tune.report(score=1)

    tune.init(num_cpus=1, local_mode=True)
    try:
        analysis = run(local, tmp_path, log_to_file=True)
    finally:
        tune.shutdown()
    assert "local-out" in read(analysis.trials[0], "stdout")
    assert "local-out" in capsys.readouterr().out     # teed, as Ray's Tee does


@pytest.mark.parametrize("value, error, match", [
    (1, TypeError, r"tune.run\(log_to_file=...\): expected a bool, a str or a \(stdout, "
                   r"stderr\) pair of str, got int"),
    (("a", "b", "c"), ValueError, r"log_to_file=...\): a sequence must have a length of 2"),
    (("a", 2), TypeError, r"log_to_file=...\): item 1 of the \(stdout, stderr\) pair must "
                          r"be a str, got int"),
])
def test_bad_log_to_file_fails_before_any_trial(tmp_path, value, error, match):
    with pytest.raises(error, match=match):
        run(chatty, tmp_path, name="bad", config={"x": 1}, log_to_file=value)
    assert not os.path.exists(tmp_path / "bad")


# -- trial_dirname_creator -------------------------------------------------------

def test_trial_dirname_creator_names_the_directories(tmp_path):
    analysis = run(chatty, tmp_path, name="named", config={"x": tune.grid_search([1, 2])},
                   trial_name_creator=lambda t: "n{}".format(t.config["x"]),
                   trial_dirname_creator=lambda t: "dir_{}_{}".format(t, t.config["x"]))
    for x, trial in by_x(analysis).items():
        assert trial.logdir == str(tmp_path / "named" / "dir_n{}_{}".format(x, x))
        assert str(trial) == "n{}".format(x)         # the name is still the name's
        assert os.path.exists(os.path.join(trial.logdir, "result.json"))


def test_a_taken_dirname_gets_rays_suffix(tmp_path):
    # Ray's create_logdir: an existing directory gets "_" and 4 hex digits.
    # "/", "(" and ")" become "_" (Ray: the path rsync uses).
    analysis = run(chatty, tmp_path, name="same", config={"x": tune.grid_search([1, 2])},
                   trial_dirname_creator=lambda t: "a/b(c)")
    names = sorted(os.path.basename(t.logdir) for t in analysis.trials)
    assert names[0] == "a_b_c_"
    assert len(names[1]) == len("a_b_c__1234") and names[1].startswith("a_b_c__")
    assert all(c in "0123456789abcdef" for c in names[1][-4:])


@pytest.mark.parametrize("creator, error, match", [
    (lambda t: 5, TypeError, "trial_dirname_creator must return a str, got int"),
    (lambda t: "", ValueError, "trial_dirname_creator: a trial directory needs a name"),
    (lambda t: "..", ValueError, "trial_dirname_creator: .*got '..'"),
    ("dir", TypeError, "trial_dirname_creator must be callable"),
])
def test_bad_trial_dirname_creator_fails_before_any_trial(tmp_path, creator, error, match):
    with pytest.raises(error, match=match):
        run(chatty, tmp_path, name="bad", config={"x": 1}, trial_dirname_creator=creator)
    exp_dir = tmp_path / "bad"
    assert not exp_dir.exists() or not [d for d in exp_dir.iterdir() if d.is_dir()]


# -- the 2.x spellings -----------------------------------------------------------

def test_tuner_spellings(tmp_path):
    grid = tune.Tuner(
        chatty, param_space={"x": 9},
        tune_config=tune.TuneConfig(trial_dirname_creator=lambda t: "mine"),
        run_config=tune.RunConfig(name="tuned", storage_path=str(tmp_path), verbose=0,
                                  log_to_file=("out", "err"))).fit()
    result = grid[0]
    assert result.error is None
    assert os.path.basename(result.path) == "mine"
    with open(os.path.join(result.path, "out")) as f:
        assert "fd-out 9" in f.read()
    with open(os.path.join(result.path, "err")) as f:
        assert "fd-err 9" in f.read()
