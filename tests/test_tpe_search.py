"""TPESearch: the engine's TPE wired into tune.run (issue 10 item 2).

Real runs with real workers, one trial at a time where the outcome is
compared (max_concurrent_trials=1), so every result is a function of the
seeds, never of timing."""
import glob
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap

import pytest

import tunec as tune
from tunec.suggest import ConcurrencyLimiter, TPESearch
from run_helpers import HANG_S, wait_for


def quadratic(config):
    tune.report(loss=(config["x"] - 1) ** 2 + (config["y"] + 2) ** 2)


SPACE = {"x": tune.uniform(-5, 5), "y": tune.uniform(-5, 5)}


def best(analysis):
    return min(t.last_result["loss"] for t in analysis.trials)


def run_quadratic(tmp_path, name, search_alg, seed, num_samples=30, **kw):
    return tune.run(quadratic, name=name, config=SPACE, num_samples=num_samples,
                    search_alg=search_alg, seed=seed, metric="loss", mode="min",
                    max_concurrent_trials=1, local_dir=str(tmp_path), verbose=0, **kw)


def test_beats_random_search_with_the_same_seed(tmp_path):
    tpe, rnd = [], []
    for seed in range(3):
        tpe.append(best(run_quadratic(tmp_path, "tpe%d" % seed, TPESearch(), seed)))
        rnd.append(best(run_quadratic(tmp_path, "rnd%d" % seed, None, seed)))
    assert all(t < r for t, r in zip(tpe, rnd)), (tpe, rnd)
    assert sum(tpe) < 0.5 * sum(rnd), (tpe, rnd)


def test_same_seed_same_search(tmp_path):
    runs = [run_quadratic(tmp_path, "s%d" % i, TPESearch(seed=5), None, num_samples=15)
            for i in range(2)]
    configs = [[t.config for t in sorted(a.trials, key=lambda t: t.trial_id)] for a in runs]
    assert configs[0] == configs[1]
    assert len({c["x"] for c in configs[0]}) == 15


def test_every_domain_kind_maps_and_nests(tmp_path):
    space = {"u": tune.uniform(0, 1), "lu": tune.loguniform(1e-4, 1e-1),
             "qu": tune.quniform(0, 1, 0.25), "qlu": tune.qloguniform(1, 100, 5),
             "ri": tune.randint(0, 5), "qri": tune.qrandint(0, 20, 5),
             "lri": tune.lograndint(1, 100), "qlri": tune.qlograndint(2, 64, 2),
             "nested": {"c": tune.choice(["a", "b", None])}, "const": 3}

    def score(config):
        tune.report(loss=config["u"] + config["ri"])

    a = tune.run(score, config=space, num_samples=12, metric="loss", mode="min", seed=1,
                 search_alg=TPESearch(n_startup_trials=4), local_dir=str(tmp_path), verbose=0)
    assert len(a.trials) == 12
    for t in a.trials:
        c = t.config
        assert 0 <= c["u"] <= 1 and 1e-4 <= c["lu"] <= 1e-1
        assert c["qu"] in (0, 0.25, 0.5, 0.75, 1.0)
        assert c["qlu"] % 5 == 0 and 5 <= c["qlu"] <= 100
        assert type(c["ri"]) is int and 0 <= c["ri"] < 5
        assert c["qri"] in (0, 5, 10, 15, 20)
        assert type(c["lri"]) is int and 1 <= c["lri"] < 100
        assert c["qlri"] % 2 == 0 and 2 <= c["qlri"] <= 64
        assert c["nested"]["c"] in ("a", "b", None)
        assert c["const"] == 3
        assert "nested/c" in t.evaluated_params


def test_conditional_space_sample_from_reads_the_tpe_value(tmp_path):
    space = {"x": tune.uniform(-5, 5), "y": tune.uniform(-5, 5),
             "double_x": tune.sample_from(lambda spec: spec.config.x * 2)}
    a = tune.run(quadratic, config=space, num_samples=6, metric="loss", mode="min", seed=2,
                 search_alg=TPESearch(n_startup_trials=2), local_dir=str(tmp_path), verbose=0)
    for t in a.trials:
        assert t.config["double_x"] == t.config["x"] * 2


def test_points_to_evaluate_run_first(tmp_path):
    alg = TPESearch(points_to_evaluate=[{"x": 1.0, "y": -2.0}, {"x": 4.0}])
    a = run_quadratic(tmp_path, "p", alg, 3, num_samples=4)
    trials = sorted(a.trials, key=lambda t: t.trial_id)
    assert (trials[0].config["x"], trials[0].config["y"]) == (1.0, -2.0)
    assert trials[1].config["x"] == 4.0 and -5 <= trials[1].config["y"] <= 5
    assert best(a) == 0


def test_evaluated_rewards_are_observed_not_run(tmp_path):
    points = [{"x": float(x), "y": -2.0} for x in (-4, -2, 0, 2, 4)]
    rewards = [(p["x"] - 1) ** 2 for p in points]
    alg = TPESearch(points_to_evaluate=points, evaluated_rewards=rewards, n_startup_trials=5,
                    gamma=0.4)
    a = run_quadratic(tmp_path, "r", alg, 4, num_samples=10)
    xs = [t.config["x"] for t in a.trials]
    assert len(xs) == 10 and not set(xs) & {p["x"] for p in points}
    # The known points count: the search starts at once, near x = 1 (the
    # mean distance of uniform draws on [-5, 5] would be 2.6).
    assert sum(abs(x - 1) for x in xs) / len(xs) < 1.6, xs


@pytest.mark.parametrize("config, needle", [
    ({"a": {"b": tune.grid_search([1, 2])}, "x": tune.uniform(0, 1)}, 'config["a"]["b"]'),
    ({"w": tune.randn(0, 1)}, 'config["w"]: TPESearch cannot model randn'),
    ({"l": [tune.uniform(0, 1)]}, 'config["l"][0]'),
])
def test_what_tpe_cannot_model_names_the_path(tmp_path, config, needle):
    with pytest.raises(Exception, match=needle.replace("[", r"\[").replace("]", r"\]")):
        tune.run(quadratic, config=config, num_samples=2, metric="loss", mode="min",
                 search_alg=TPESearch(), local_dir=str(tmp_path), verbose=0)
    assert not glob.glob(str(tmp_path / "*" / "*" / "result.json"))


def test_needs_metric_and_mode(tmp_path):
    with pytest.raises(ValueError, match="metric and a mode"):
        tune.run(quadratic, config=SPACE, num_samples=2, search_alg=TPESearch(),
                 local_dir=str(tmp_path), verbose=0)


def test_bad_arguments_name_them():
    with pytest.raises(ValueError, match="n_startup_trials"):
        TPESearch(n_startup_trials=-1)
    with pytest.raises(ValueError, match="gamma"):
        TPESearch(gamma=lambda n: 3)
    with pytest.raises(ValueError, match="evaluated_rewards"):
        TPESearch(points_to_evaluate=[{"x": 1}], evaluated_rewards=[1, 2])
    with pytest.raises(ValueError, match="ei_budget"):
        TPESearch(ei_budget=-5)
    with pytest.raises(ValueError, match="ei_budget"):
        TPESearch(ei_budget=2.5)


def test_own_space_and_module_paths(tmp_path):
    from tunec.search.tpe import TPESearch as TPE2
    from tunec.suggest.tpe import TPESearch as TPE1
    assert TPE1 is TPE2 is TPESearch
    alg = TPESearch(space=SPACE, metric="loss", mode="min", seed=0)
    a = tune.run(quadratic, num_samples=5, search_alg=alg, local_dir=str(tmp_path), verbose=0)
    assert len(a.trials) == 5 and all(-5 <= t.config["x"] <= 5 for t in a.trials)


def test_inside_concurrency_limiter_through_the_bridge(tmp_path):
    alg = ConcurrencyLimiter(TPESearch(n_startup_trials=3, seed=1), max_concurrent=2)
    a = tune.run(quadratic, config=SPACE, num_samples=8, metric="loss", mode="min",
                 search_alg=alg, local_dir=str(tmp_path), verbose=0)
    assert len(a.trials) == 8
    assert len({t.config["x"] for t in a.trials}) == 8


def test_standalone_save_restore_continues_alike(tmp_path):
    def drive(searcher, start, stop):
        out = []
        for i in range(start, stop):
            config = searcher.suggest(str(i))
            out.append(config)
            searcher.on_trial_complete(str(i), {"loss": (config["x"] - 1) ** 2 + config["y"]})
        return out

    def fresh():
        return TPESearch(space=SPACE, metric="loss", mode="min", seed=9, n_startup_trials=3)

    whole = drive(fresh(), 0, 10)
    first = fresh()
    drive(first, 0, 6)
    first.save(str(tmp_path / "tpe.pkl"))
    second = fresh()
    second.restore(str(tmp_path / "tpe.pkl"))
    assert drive(second, 6, 10) == whole[6:]


RESUME = textwrap.dedent('''
    import os, sys, time
    import tunec as tune
    from tunec.suggest import TPESearch

    root, resume = sys.argv[1], sys.argv[2] == "resume"
    done = os.path.join(root, "done")
    os.makedirs(done, exist_ok=True)

    def held(config):
        tune.report(loss=(config["x"] - 1) ** 2)
        # After three trials finished, the next ones hold at the gate.
        while os.path.exists(os.path.join(root, "gate")) and len(os.listdir(done)) >= 3:
            time.sleep(0.02)
        open(os.path.join(done, str(config["x"])), "w").close()

    tune.run(held, name="exp", local_dir=root, num_samples=8, resume=resume, verbose=0,
             config={"x": tune.uniform(-5, 5)}, metric="loss", mode="min",
             max_concurrent_trials=1, search_alg=TPESearch(seed=3, n_startup_trials=3))
''')


def params_by_trial(root):
    out = {}
    for path in glob.glob(os.path.join(root, "exp", "*", "params.json")):
        with open(path) as f:
            out[os.path.basename(os.path.dirname(path))] = json.load(f)["x"]
    return out


def result_rows(root):
    n = 0
    for path in glob.glob(os.path.join(root, "exp", "*", "result.json")):
        with open(path) as f:
            n += sum(1 for line in f if line.strip())
    return n


def xs_by_tag(root):
    return [x for _, x in sorted((int(name.split("_")[1]), x)      # held_<n>_x=...
                                 for name, x in params_by_trial(root).items())]


def test_sigkill_mid_search_then_resume(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(RESUME)
    # The reference: the same search, never killed (one trial at a time, so
    # it is a function of the seed).
    ref = str(tmp_path / "ref")
    os.makedirs(ref)
    done = subprocess.run([sys.executable, str(script), ref, "fresh"], capture_output=True,
                          text=True, timeout=HANG_S)
    assert done.returncode == 0, done.stderr
    root = str(tmp_path / "res")
    os.makedirs(root)
    open(os.path.join(root, "gate"), "w").close()
    proc = subprocess.Popen([sys.executable, str(script), root, "fresh"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Three trials done, the fourth holding after its result: mid-search.
    wait_for(lambda: result_rows(root) >= 4, "four result rows", proc)
    before = xs_by_tag(root)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    os.remove(os.path.join(root, "gate"))
    done = subprocess.run([sys.executable, str(script), root, "resume"], capture_output=True,
                          text=True, timeout=HANG_S)
    assert done.returncode == 0, done.stderr
    after = xs_by_tag(root)
    # None lost, none repeated, the ones made before the kill unchanged, and
    # the rebuilt TPE suggests what the unkilled search suggested.
    assert len(before) == 4 and after[:4] == before
    assert len(set(after)) == 8
    assert after == xs_by_tag(ref)
