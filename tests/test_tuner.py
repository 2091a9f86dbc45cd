"""The 2.x Tuner API end to end, with real worker processes: fit and the
ResultGrid, restore after the driver was SIGKILLed, with_parameters,
with_resources, get_context, checkpoints, and options refused by name."""
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tunec as tune
from tunec import train
from run_helpers import HANG_S, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def scored(config):
    """Three results; x=3 fails after its first; each result has a checkpoint."""
    ctx = tune.get_context()
    start = train.get_checkpoint()
    for i in range(1, 4):
        if config["x"] == 3 and i == 2:
            raise ValueError("x=3 is bad")
        d = os.path.join(ctx.get_trial_dir(), "tmp_ckpt")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "state.json"), "w") as f:
            json.dump({"i": i, "x": config["x"]}, f)
        train.report({"score": config["x"] * i, "loss": 10 - config["x"] - i,
                      "trial_id": ctx.get_trial_id(), "trial_name": ctx.get_trial_name(),
                      "trial_dir": ctx.get_trial_dir(), "exp": ctx.get_experiment_name(),
                      "cpus": ctx.get_trial_resources().required_resources["CPU"],
                      "restored": start is not None},
                     checkpoint=tune.Checkpoint.from_directory(d))


def test_fit_result_grid_and_checkpoints(tmp_path):
    tuner = tune.Tuner(
        scored, param_space={"x": tune.grid_search([1, 2, 3])},
        tune_config=tune.TuneConfig(metric="score", mode="max"),
        run_config=tune.RunConfig(name="grid", storage_path=str(tmp_path), verbose=0,
                                  checkpoint_config=tune.CheckpointConfig(num_to_keep=2)))
    grid = tuner.fit()                       # a failed trial does not raise

    assert isinstance(grid, tune.ResultGrid)
    assert len(grid) == 3 and grid.num_terminated == 2 and grid.num_errors == 1
    assert grid.experiment_path == str(tmp_path / "grid")
    assert [r.config["x"] for r in grid] == [1, 2, 3]          # creation order
    assert grid[2].error is not None and "x=3 is bad" in str(grid[2].error)
    assert isinstance(grid.errors[0], ValueError)
    assert grid[0].error is None

    best = grid.get_best_result()                              # TuneConfig's metric/mode
    assert best.config == {"x": 2} and best.metrics["score"] == 6
    assert grid.get_best_result("loss", "min").config == {"x": 2}
    assert grid.get_best_result("score", "min", scope="all").config["x"] in (1, 3)
    assert grid.get_best_result("score", "max", scope="avg").config == {"x": 2}

    # the context seen inside the trial
    assert best.metrics["exp"] == "grid" and best.metrics["cpus"] == 1
    assert best.metrics["trial_dir"] == best.path and os.path.isdir(best.path)
    assert best.metrics["trial_name"].endswith(best.metrics["trial_id"])
    assert best.metrics["restored"] is False

    # checkpoints: the newest is a tune.Checkpoint holding the last state;
    # num_to_keep=2 kept two, each with the result of its iteration
    with best.checkpoint.as_directory() as d:
        with open(os.path.join(d, "state.json")) as f:
            assert json.load(f) == {"i": 3, "x": 2}
    copy = best.checkpoint.to_directory(str(tmp_path / "copy"))
    assert json.load(open(os.path.join(copy, "state.json")))["i"] == 3
    assert [m["training_iteration"] for _, m in best.best_checkpoints] == [2, 3]

    assert list(best.metrics_dataframe["score"]) == [2, 4, 6]
    frame = grid.get_dataframe()
    assert sorted(frame["config/x"]) == [1, 2, 3]
    assert sorted(grid.get_dataframe("score", "min")["score"]) == [1, 2, 3]
    assert "Result(" in repr(grid)


def quick(config):
    train.report({"v": config["x"]})


def test_defaults_and_best_result_errors(tmp_path):
    grid = tune.Tuner(quick, param_space={"x": tune.grid_search([1, 2])},
                      run_config=tune.RunConfig(storage_path=str(tmp_path), verbose=0)).fit()
    # Ray 2.x's default name: <trainable>_<date>
    assert os.path.basename(grid.experiment_path).startswith("quick_2")
    with pytest.raises(ValueError, match="No metric"):
        grid.get_best_result()
    with pytest.raises(ValueError, match="No mode"):
        grid.get_best_result("v")
    with pytest.raises(RuntimeError, match="No best trial found for the given metric: nope"):
        grid.get_best_result("nope", "max")
    assert grid.get_best_result("v", "max").config == {"x": 2}
    single = tune.Tuner(quick, param_space={"x": 5},
                        run_config=tune.RunConfig(storage_path=str(tmp_path), name="one",
                                                  verbose=0)).fit()
    assert single.get_best_result().metrics["v"] == 5       # one trial: no metric needed


def test_refused_options_name_themselves(tmp_path):
    from tunec.callback import Callback

    def tuner(**run):
        return tune.Tuner(quick, param_space={"x": 1},
                          run_config=tune.RunConfig(name="bad", storage_path=str(tmp_path),
                                                    verbose=0, **run))

    with pytest.raises(NotImplementedError, match=r"RunConfig\(callbacks=\.\.\.\)"):
        tuner(callbacks=[Callback()]).fit()
    with pytest.raises(ValueError, match="storage_path"):
        tune.Tuner(quick, run_config=tune.RunConfig(storage_path="nosuch://bucket/x")).fit()
    assert not os.path.exists(tmp_path / "bad")       # nothing ran, nothing left behind
    with pytest.raises(ValueError, match="param_space"):
        tune.Tuner(quick, param_space=[1])
    with pytest.raises(TypeError, match="tune_config"):
        tune.Tuner(quick, tune_config={"metric": "v"})
    with pytest.raises(ValueError, match="mode"):
        tune.TuneConfig(mode="maximum")
    with pytest.raises(ValueError, match="fail_fast"):
        tune.FailureConfig(fail_fast="sometimes")


def test_failure_config_retries(tmp_path):
    """max_failures reaches the engine: a trial that dies once is retried."""
    def flaky(config):
        marker = os.path.join(str(tmp_path), "failed_once")
        if not os.path.exists(marker):
            open(marker, "w").close()
            raise RuntimeError("first attempt fails")
        train.report({"ok": 1})

    grid = tune.Tuner(flaky, run_config=tune.RunConfig(
        name="retry", storage_path=str(tmp_path), verbose=0,
        failure_config=tune.FailureConfig(max_failures=1))).fit()
    assert grid.num_errors == 0 and grid[0].metrics["ok"] == 1


# -- with_parameters ------------------------------------------------------------

def uses_data(config, data=None, table=None):
    train.report({"total": float(data[:10].sum()), "mapped": isinstance(data, np.memmap),
                  "writeable": bool(data.flags.writeable), "file": data.filename,
                  "table": table["k"], "x": config["x"]})


class UsesData(tune.Trainable):
    def setup(self, config, data=None):
        self.size = data.size

    def step(self):
        return {"size": self.size, "done": True}


def test_with_parameters_stores_a_large_array_once(tmp_path):
    import cloudpickle
    data = np.arange(50 * 2 ** 20 // 8, dtype=np.float64)        # 50 MB
    wrapped = tune.with_parameters(uses_data, data=data, table={"k": "v"})
    blob = cloudpickle.dumps(wrapped)
    # What the workers receive is a path, not the array (it would be 50 MB)
    assert len(blob) < 100_000
    assert len(cloudpickle.dumps(wrapped)) == len(blob)   # stored once, not again

    grid = tune.Tuner(wrapped, param_space={"x": tune.grid_search([1, 2, 3])},
                      run_config=tune.RunConfig(name="wp", storage_path=str(tmp_path),
                                                verbose=0)).fit()
    assert grid.num_terminated == 3, grid.errors
    files = {r.metrics["file"] for r in grid}
    assert len(files) == 1                         # every trial mapped the same file
    path = files.pop()
    assert os.path.getsize(path) >= data.nbytes
    assert len(os.listdir(os.path.dirname(path))) == 2        # the array and the dict
    for r in grid:
        assert r.metrics["total"] == 45.0 and r.metrics["mapped"] is True
        assert r.metrics["writeable"] is False and r.metrics["table"] == "v"

    klass = tune.with_parameters(UsesData, data=data)
    grid = tune.Tuner(klass, run_config=tune.RunConfig(name="wpc", storage_path=str(tmp_path),
                                                       verbose=0)).fit()
    assert grid[0].metrics["size"] == data.size


def test_with_parameters_refuses_a_non_trainable():
    with pytest.raises(ValueError, match="with_parameters"):
        tune.with_parameters("not a trainable", data=1)


# -- with_resources -------------------------------------------------------------

def reports_resources(config):
    pgf = tune.get_context().get_trial_resources()
    train.report({"bundles": pgf.bundles})


def test_with_resources_forms(tmp_path):
    tune.init(num_cpus=4)
    try:
        def fit(trainable, name, space=None):
            return tune.Tuner(trainable, param_space=space or {},
                              run_config=tune.RunConfig(name=name, storage_path=str(tmp_path),
                                                        verbose=0)).fit()[0].metrics["bundles"]

        assert fit(tune.with_resources(reports_resources, {"cpu": 2}), "d") == \
            [{"CPU": 2, "GPU": 0}]
        pgf = tune.PlacementGroupFactory([{"CPU": 1}, {"CPU": 2}])
        assert fit(tune.with_resources(reports_resources, pgf), "p") == \
            [{"CPU": 1, "GPU": 0}, {"CPU": 2, "GPU": 0}]
        assert fit(tune.with_resources(reports_resources, lambda c: {"cpu": c["n"]}), "c",
                   {"n": 3}) == [{"CPU": 3, "GPU": 0}]
        grid = tune.Tuner(tune.with_resources(reports_resources, lambda c: {"cpu": c["n"]}),
                          param_space={"n": tune.grid_search([1, 2])},
                          run_config=tune.RunConfig(name="g", storage_path=str(tmp_path),
                                                    verbose=0)).fit()
        assert sorted(r.metrics["bundles"][0]["CPU"] for r in grid) == [1, 2]
        with pytest.raises(Exception, match="cpu|CPU|resources"):
            fit(tune.with_resources(reports_resources, {"cpu": 8}), "big")
    finally:
        tune.shutdown()


# -- restore after the driver was killed ------------------------------------------

SCRIPT = textwrap.dedent('''
    import json, os, sys, time
    import tunec as tune
    from tunec import train

    def fn(config):
        start = 0
        checkpoint = train.get_checkpoint()
        if checkpoint:
            with checkpoint.as_directory() as d:
                start = json.load(open(os.path.join(d, "s.json")))["i"]
        for i in range(start + 1, 7):
            # Iteration 4 and later wait for the test's gate file: the run
            # cannot end before the test has killed it, however fast it is.
            while i >= 4 and not os.path.exists(os.environ["GATE"]):
                time.sleep(0.01)
            d = os.path.join(tune.get_context().get_trial_dir(), "scratch")
            os.makedirs(d, exist_ok=True)
            json.dump({"i": i}, open(os.path.join(d, "s.json"), "w"))
            train.report({"i": i, "resumed_from": start},
                         checkpoint=train.Checkpoint.from_directory(d))

    if __name__ == "__main__":
        tune.init(num_cpus=2)
        path = os.path.join(sys.argv[2], "exp")
        if sys.argv[1] == "fit":
            tuner = tune.Tuner(fn, param_space={"x": tune.grid_search([1, 2])},
                               tune_config=tune.TuneConfig(metric="i", mode="max"),
                               run_config=tune.RunConfig(name="exp", storage_path=sys.argv[2],
                                                         verbose=0))
        else:
            assert tune.Tuner.can_restore(path)
            tuner = tune.Tuner.restore(path, trainable=fn)
        grid = tuner.fit()
        print("RESULT", json.dumps([[r.config["x"], r.metrics["i"], r.metrics["resumed_from"]]
                                    for r in grid] + [grid.get_best_result().metrics["i"]]))
''')


def _rows(tmp_path):
    import glob
    return [open(p).read().count("\n") for p in
            glob.glob(str(tmp_path / "res" / "exp" / "*" / "result.json"))]


def _launch(tmp_path, mode):
    script = tmp_path / "exp.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONPATH=ROOT, GATE=str(tmp_path / "release"))
    return subprocess.Popen([sys.executable, str(script), mode, str(tmp_path / "res")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=str(tmp_path), start_new_session=True)


def test_restore_after_driver_sigkill(tmp_path):
    assert not tune.Tuner.can_restore(str(tmp_path))
    proc = _launch(tmp_path, "fit")

    def three_rows_each():
        rows = _rows(tmp_path)
        return len(rows) == 2 and all(n == 3 for n in rows)
    wait_for(three_rows_each, "three results of each trial", proc=proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()

    path = str(tmp_path / "res" / "exp")
    assert tune.Tuner.can_restore(path)
    open(tmp_path / "release", "w").close()
    proc = _launch(tmp_path, "restore")
    out, err = proc.communicate(timeout=HANG_S)
    assert proc.returncode == 0, err
    result = json.loads(out.split("RESULT", 1)[1])
    # both trials continued from their iteration-3 checkpoint to the end
    assert result == [[1, 6, 3], [2, 6, 3], 6]
    for n in _rows(tmp_path):
        assert n == 6                     # no row lost or repeated

    with pytest.raises(ValueError, match="not an experiment directory"):
        tune.Tuner.restore(str(tmp_path), trainable=quick)


# -- the 2.x spellings of reporting -----------------------------------------------

def air_style(config):
    from tunec.air import session
    session.report({"rank": session.get_world_rank(), "name": session.get_trial_name()})


def test_air_session_spelling(tmp_path):
    from tunec.air import RunConfig
    grid = tune.Tuner(air_style, run_config=RunConfig(name="air", storage_path=str(tmp_path),
                                                      verbose=0)).fit()
    assert grid[0].metrics["rank"] == 0 and grid[0].metrics["name"]
    assert train.RunConfig is tune.RunConfig and train.Checkpoint is tune.Checkpoint


# -- the 2.x examples ---------------------------------------------------------------

def _example(name, results_dir):
    env = dict(os.environ, PYTHONPATH=ROOT, TUNE_RESULT_DIR=str(results_dir))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name), "--smoke-test"],
                          capture_output=True, text=True, env=env, timeout=HANG_S)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_examples_run_with_smoke_test(tmp_path):
    assert "Best config:" in _example("tuner_quickstart.py", tmp_path)
    assert "Best alpha:" in _example("tuner_with_parameters.py", tmp_path)
    out = _example("tuner_checkpoints.py", tmp_path)
    assert "Kept checkpoints: [2, 3]" in out and "Restoring" not in out
    out = _example("tuner_checkpoints.py", tmp_path)        # the second run restores
    assert "Restoring" in out and "value: 6.0" in out
