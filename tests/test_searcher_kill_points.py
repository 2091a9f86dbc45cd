"""More moments to SIGKILL a driver mid-search (spec §9.4, §15.4): inside
the searcher's suggest (before the bridge records the suggestion), and right
after a suggestion whose trial has started but reported nothing. The resume
continues the search: no suggestion repeated, none lost, each end heard
once. One case resumes under the same session name as the killed run (a
resume within the same second): the engine appends to the journal it reads
and the searcher state is read before it is rewritten."""
import glob
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap

import pytest

from run_helpers import HANG_S, wait_for

SCRIPT = textwrap.dedent('''
    import os, pickle, signal, sys, time
    import tunec as tune
    import tunec._run
    from tunec.suggest import Searcher

    root, resume, kill_point, same = sys.argv[1], sys.argv[2] == "resume", sys.argv[3], \\
        sys.argv[4] == "same"
    if same:   # every session of this experiment has one name
        tunec._run._session_str = lambda: "2020-01-01_00-00-00"
    events = os.path.join(root, "events")

    def log(line):
        with open(events, "a") as f:
            f.write(line + "\\n")

    class Counting(Searcher):
        def __init__(self):
            super().__init__(metric="score", mode="max")
            self.n, self.done = 0, []

        def suggest(self, trial_id):
            self.n += 1
            if kill_point == "in_suggest" and self.n == 4 and not resume:
                log("killing")
                os.kill(os.getpid(), signal.SIGKILL)
            return {"x": self.n}

        def on_trial_complete(self, trial_id, result=None, error=False):
            self.done.append((trial_id, result["score"]))

        def save(self, path):
            with open(path, "wb") as f:
                pickle.dump((self.n, self.done), f)

        def restore(self, path):
            with open(path, "rb") as f:
                self.n, self.done = pickle.load(f)

    def trainable(config):
        log("start %d" % config["x"])
        while config["x"] == 4 and os.path.exists(os.path.join(root, "gate")):
            time.sleep(0.02)
        tune.report(score=config["x"] + 0.5)

    searcher = Counting()
    tune.run(trainable, name="exp", local_dir=root, num_samples=6, resume=resume, verbose=0,
             search_alg=searcher, resources_per_trial={"cpu": 2})
    with open(os.path.join(root, "final.pkl"), "wb") as f:
        pickle.dump((searcher.n, searcher.done), f)
''')


def lines(root):
    path = os.path.join(root, "events")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().splitlines()


@pytest.mark.parametrize("kill_point,session", [("in_suggest", "new"),
                                                ("before_first_result", "same")])
def test_sigkill_then_resume(tmp_path, kill_point, session):
    root = str(tmp_path / "res")
    os.makedirs(root)
    script = tmp_path / "driver.py"
    script.write_text(SCRIPT)
    open(os.path.join(root, "gate"), "w").close()
    proc = subprocess.Popen([sys.executable, str(script), root, "fresh", kill_point, session],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if kill_point == "in_suggest":
        proc.wait(timeout=HANG_S)     # it kills itself inside suggest
        assert "killing" in lines(root)
    else:
        wait_for(lambda: "start 4" in lines(root), "trial x=4 starts", proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    os.remove(os.path.join(root, "gate"))
    done = subprocess.run([sys.executable, str(script), root, "resume", kill_point, session],
                          capture_output=True, text=True, timeout=HANG_S)
    assert done.returncode == 0, done.stderr
    with open(os.path.join(root, "final.pkl"), "rb") as f:
        n, ended = pickle.load(f)
    configs = []
    for path in glob.glob(os.path.join(root, "exp", "*", "params.json")):
        with open(path) as f:
            configs.append(json.load(f)["x"])
    # Every suggestion became exactly one trial: x = 1..6, none twice, none missing.
    assert sorted(configs) == list(range(1, 7)) and n == 6
    ids = [trial_id for trial_id, _ in ended]
    assert len(ids) == len(set(ids)) == 6
    # The trials finished before the kill were not rerun.
    starts = [line for line in lines(root) if line.startswith("start")]
    assert starts.count("start 1") == starts.count("start 2") == 1
    if session == "same":
        assert len(glob.glob(os.path.join(root, "exp", "experiment_state-*.journal"))) == 1
