"""BasicVariantGenerator's options, carried out by the engine's space
expansion (src/engine/space.c): points_to_evaluate first (each merged over
the config, one of num_samples each, as Ray 1.x), a seeded shuffle that a
resumed run regenerates, and max_concurrent shown by events trials write."""
import glob
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import tunec as tune
from tunec.suggest import BasicVariantGenerator
from run_helpers import HANG_S, no_hang, run, wait_for


def noop(config):
    tune.report(score=1)


def by_id(trials):
    return sorted(trials, key=lambda t: t.trial_id)


def test_points_to_evaluate_come_first_merged_over_the_config(tmp_path):
    config = {"a": tune.grid_search([1, 2]), "opt": {"lr": tune.uniform(0, 1), "mom": 0.9}}
    points = [{"a": 7, "opt": {"lr": 0.5}}, {"opt": {"lr": 0.25}}]
    with no_hang("tune.run"):
        trials = run(noop, tmp_path, config=config, num_samples=3, return_trials=True,
                     search_alg=BasicVariantGenerator(points_to_evaluate=points))
    trials = by_id(trials)
    configs = [t.config for t in trials]
    # point 1 fixes everything; point 2 leaves a's grid open; then one
    # generated repetition (3 samples - 2 points).
    assert configs[0] == {"a": 7, "opt": {"lr": 0.5, "mom": 0.9}}
    assert [c["a"] for c in configs[1:3]] == [1, 2]
    assert all(c["opt"]["lr"] == 0.25 for c in configs[1:3])
    assert len(configs) == 5 and all(c["opt"]["lr"] not in (0.25, 0.5) for c in configs[3:])
    assert [t.experiment_tag.split("_")[0] for t in trials] == ["0", "1", "2", "3", "4"]


def test_points_to_evaluate_unknown_key_is_an_error_before_any_trial(tmp_path):
    with pytest.raises(ValueError, match=r"points_to_evaluate\[0\].*config\[\"b\"\]"):
        run(noop, tmp_path, name="bad", config={"a": tune.uniform(0, 1)},
            search_alg=BasicVariantGenerator(points_to_evaluate=[{"b": 1}]))
    assert not os.path.exists(tmp_path / "bad")


def shuffled_configs(tmp_path, name, seed, shuffle=True):
    trials = run(noop, tmp_path, name=name, config={"a": tune.grid_search(list(range(8)))},
                 num_samples=1, seed=seed, return_trials=True,
                 search_alg=BasicVariantGenerator(shuffle=shuffle))
    return [(t.experiment_tag, t.config["a"]) for t in by_id(trials)]


def test_shuffle_is_a_seeded_permutation(tmp_path):
    with no_hang("tune.run"):
        first = shuffled_configs(tmp_path, "s1", seed=3)
        again = shuffled_configs(tmp_path, "s2", seed=3)
        plain = shuffled_configs(tmp_path, "s3", seed=3, shuffle=False)
    assert first == again                       # same seed, same order
    assert sorted(first, key=lambda p: p[1]) == plain   # same variants, tags kept
    assert first != plain                       # 8! orders: not the identity for this seed


SHUFFLED_DRIVER = textwrap.dedent('''
    import os, sys, time
    import tunec as tune
    from tunec.suggest import BasicVariantGenerator

    root, resume = sys.argv[1], sys.argv[2] == "resume"
    log = os.path.join(root, "started")

    def held(config):
        with open(log, "a") as f:
            f.write("%d\\n" % config["a"])
        with open(log) as f:
            third = len(f.read().split()) >= 3
        while third and os.path.exists(os.path.join(root, "gate")):
            time.sleep(0.02)
        tune.report(score=1)

    tune.run(held, name="exp", local_dir=root, config={"a": tune.grid_search(list(range(6)))},
             search_alg=BasicVariantGenerator(shuffle=True), resume=resume, verbose=0,
             resources_per_trial={"cpu": 2}, return_trials=True)
''')


def test_shuffled_run_resumes_with_the_same_order(tmp_path):
    """SIGKILL while the third trial runs; the resume (no seed given: the
    recorded one) regenerates the same permutation: the two finished trials
    keep their ids and configs, and each variant runs once."""
    root = str(tmp_path / "res")
    os.makedirs(root)
    script = tmp_path / "driver.py"
    script.write_text(SHUFFLED_DRIVER)
    open(os.path.join(root, "gate"), "w").close()
    proc = subprocess.Popen([sys.executable, str(script), root, "fresh"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = os.path.join(root, "started")

    def three():
        return os.path.exists(started) and len(open(started).read().split()) >= 3
    wait_for(three, "the third trial", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first_two = [int(a) for a in open(started).read().split()[:2]]
    os.remove(os.path.join(root, "gate"))
    done = subprocess.run([sys.executable, str(script), root, "resume"], capture_output=True,
                          text=True, timeout=HANG_S)
    assert done.returncode == 0, done.stderr
    with open(sorted(glob.glob(os.path.join(root, "exp", "experiment_state-*.json")))[-1]) as f:
        state = json.load(f)
    configs = {t["trial_id"]: t["config"]["a"] for t in state["checkpoints"]}
    assert all(t["status"] == "TERMINATED" for t in state["checkpoints"])
    assert sorted(configs.values()) == list(range(6))
    assert len(glob.glob(os.path.join(root, "exp", "*", "params.json"))) == 6
    assert [configs["00000"], configs["00001"]] == first_two
    assert first_two != [0, 1] or configs != dict(zip(sorted(configs), range(6)))


def test_max_concurrent_caps_running_trials(tmp_path):
    """Each trial logs its start, then waits until two run at once (or all
    have started), then logs its end: the overlap in the log is what ran at
    once. Without the cap all six would overlap."""
    events = str(tmp_path / "events")
    total, cap = 6, 2

    def counts():
        with open(events) as f:
            lines = f.read().split()
        return lines.count("start"), lines.count("end")

    def logged(config):
        with open(events, "a") as f:
            f.write("start\n")
        end = time.monotonic() + HANG_S
        while time.monotonic() < end:
            started, ended = counts()
            if started - ended >= cap or started == total:
                break
            time.sleep(0.01)
        tune.report(score=1)
        with open(events, "a") as f:
            f.write("end\n")

    with no_hang("tune.run"):
        run(logged, tmp_path, config={"x": tune.grid_search(list(range(total)))},
            search_alg=BasicVariantGenerator(max_concurrent=cap),
            resources_per_trial={"cpu": 0.1})
    live = peak = 0
    with open(events) as f:
        for line in f:
            live += 1 if line.strip() == "start" else -1
            peak = max(peak, live)
    assert peak == cap
