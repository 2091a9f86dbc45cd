"""A searcher's state survives a SIGKILLed driver (spec §9.4, §15.4): the
resumed run continues the search — no suggestion is repeated, none is lost,
and each trial's end reaches the searcher exactly once."""
import glob
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap

from run_helpers import HANG_S, wait_for

SCRIPT = textwrap.dedent('''
    import os, pickle, sys, time
    import tunec as tune
    from tunec.suggest import ConcurrencyLimiter, Searcher

    root, resume = sys.argv[1], sys.argv[2] == "resume"

    class Counting(Searcher):
        def __init__(self):
            super().__init__(metric="score", mode="max")
            self.n, self.done = 0, []

        def suggest(self, trial_id):
            self.n += 1
            return {"x": self.n}

        def on_trial_complete(self, trial_id, result=None, error=False):
            self.done.append((trial_id, result["score"]))

        def save(self, path):
            with open(path, "wb") as f:
                pickle.dump((self.n, self.done), f)

        def restore(self, path):
            with open(path, "rb") as f:
                self.n, self.done = pickle.load(f)

    def held(config):
        tune.report(score=config["x"])
        while os.path.exists(os.path.join(root, "gate")):
            time.sleep(0.02)
        tune.report(score=config["x"] + 0.5)

    searcher = Counting()
    tune.run(held, name="exp", local_dir=root, num_samples=7, resume=resume, verbose=0,
             search_alg=ConcurrencyLimiter(searcher, max_concurrent=2))
    with open(os.path.join(root, "final.pkl"), "wb") as f:
        pickle.dump((searcher.n, searcher.done), f)
''')


def result_rows(root):
    n = 0
    for path in glob.glob(os.path.join(root, "exp", "*", "result.json")):
        with open(path) as f:
            n += sum(1 for line in f if line.strip())
    return n


def test_sigkill_mid_search_then_resume(tmp_path):
    root = str(tmp_path / "res")
    os.makedirs(root)
    script = tmp_path / "driver.py"
    script.write_text(SCRIPT)
    open(os.path.join(root, "gate"), "w").close()
    proc = subprocess.Popen([sys.executable, str(script), root, "fresh"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Two trials hold after their first result: the search is mid-way.
    wait_for(lambda: result_rows(root) >= 2, "two result rows", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    os.remove(os.path.join(root, "gate"))
    done = subprocess.run([sys.executable, str(script), root, "resume"], capture_output=True,
                          text=True, timeout=HANG_S)
    assert done.returncode == 0, done.stderr
    with open(os.path.join(root, "final.pkl"), "rb") as f:
        n, ended = pickle.load(f)
    configs = []
    for path in glob.glob(os.path.join(root, "exp", "*", "params.json")):
        with open(path) as f:
            configs.append(json.load(f)["x"])
    # Every suggestion became exactly one trial: x = 1..7, none twice, none missing.
    assert sorted(configs) == list(range(1, 8)) and n == 7
    # Each trial's end reached the searcher once, with its final result.
    ids = [trial_id for trial_id, _ in ended]
    assert len(ids) == len(set(ids)) == 7
    assert all(score % 1 == 0.5 for _, score in ended)
