"""Whatever a trainable does, the run ends, the files stay readable and the
interpreter survives: bad results, swallowed stops, hangs, exits, odd configs."""
import json
import os
import time

import pytest

import tunec as tune
from tunec import TuneError
from run_helpers import no_hang


@pytest.fixture(autouse=True)
def _setup(monkeypatch):
    # A worker that ignores a STOP is killed after 1 s. A worker that obeys
    # it late loses nothing a test here checks: its trial is over already.
    monkeypatch.setenv("TUNEC_STOP_GRACE_S", "1")
    tune.init(num_cpus=2)
    yield
    tune.shutdown()


def run(fn, tmp_path, **kw):
    kw.setdefault("verbose", 0)
    kw.setdefault("raise_on_failed_trial", False)
    return tune.run(fn, local_dir=str(tmp_path), **kw)


def lines(trial):
    with open(os.path.join(trial.logdir, "result.json")) as f:
        return [json.loads(line) for line in f]


def test_report_outside_a_trial():
    with pytest.raises(ValueError, match="Session not detected"):
        tune.report(x=1)
    with pytest.raises(ValueError, match="Session not detected"):
        tune.track.log(x=1)


def test_report_with_bad_arguments_is_trial_error(tmp_path):
    def fn(config):
        tune.report({"a": 1}, {"b": 2})
    tune.register_trainable("two_dicts", fn)
    trial = run("two_dicts", tmp_path).trials[0]
    assert trial.status == "ERROR" and "at most one positional" in trial.error_msg


def test_unserializable_values_fall_back_to_str(tmp_path):
    class Thing:
        def __str__(self):
            return "a thing"

    def fn(config):
        tune.report(obj=Thing(), s={1, 2} and "set", t=(1, 2))
    tune.register_trainable("odd_values", fn)
    trial = run("odd_values", tmp_path).trials[0]
    row = lines(trial)[0]
    assert row["obj"] == "a thing" and row["t"] == [1, 2]


def test_class_step_must_return_dict(tmp_path):
    class Bad(tune.Trainable):
        def step(self):
            return 42
    trial = run(Bad, tmp_path).trials[0]
    assert trial.status == "ERROR" and "must return a dict" in trial.error_msg


def test_swallowed_stop_does_not_hang(tmp_path):
    def fn(config):
        i = 0
        while True:
            i += 1
            try:
                tune.report(i=i)
            except BaseException:
                pass
    tune.register_trainable("swallower", fn)
    with no_hang("a trial that swallows its STOP"):
        analysis = run("swallower", tmp_path, stop={"i": 5})
    trial = analysis.trials[0]
    assert trial.status == "TERMINATED"
    assert [r["i"] for r in lines(trial)] == [1, 2, 3, 4, 5]


def test_hanging_trial_and_time_budget(tmp_path):
    def fn(config):
        tune.report(x=1)
        time.sleep(1000)
    tune.register_trainable("hangs", fn)
    with no_hang("a run of hanging trials with time_budget_s=1"):
        analysis = run("hangs", tmp_path, time_budget_s=1, num_samples=2)
    assert all(t.status == "TERMINATED" for t in analysis.trials)


@pytest.mark.parametrize("how, expect", [
    ("sys.exit(3)", "SystemExit"),
    ("os._exit(3)", "exited with code 3"),
    ("os.abort()", "signal 6"),
    ("raise MemoryError('fake')", "MemoryError"),
])
def test_worker_exits_are_trial_errors(tmp_path, how, expect):
    src = "def fn(config):\n    import os, sys\n    tune.report(a=1)\n    {}\n".format(how)
    namespace = {"tune": tune}
    exec(src, namespace)
    tune.register_trainable("exits", namespace["fn"])
    analysis = run("exits", tmp_path, num_samples=2)
    for trial in analysis.trials:
        assert trial.status == "ERROR"
        assert expect in trial.error_msg
        assert len(lines(trial)) == 1        # the result before the failure is kept


def test_opaque_config_values_reach_the_trial(tmp_path):
    class Model:
        scale = 3

    def fn(config):
        tune.report(v=config["model"].scale * config["f"](2), name=config["model"].__name__)
    tune.register_trainable("opaque", fn)
    trial = run("opaque", tmp_path, config={"model": Model, "f": lambda x: x + 1}).trials[0]
    row = lines(trial)[0]
    assert row["v"] == 9 and row["name"] == "Model"
    with open(os.path.join(trial.logdir, "params.json")) as f:
        params = json.load(f)
    assert "Model" in params["model"]           # written as str(obj), as Ray's fallback


def test_big_results(tmp_path):
    def fn(config):
        tune.report(blob="x" * 5_000_000, n=1)
        tune.report(blob="y", n=2)
    tune.register_trainable("big", fn)
    trial = run("big", tmp_path).trials[0]
    assert [r["n"] for r in lines(trial)] == [1, 2]


def test_bad_arguments_before_any_trial(tmp_path):
    calls = []

    def fn(config):
        calls.append(1)
    cases = [
        (dict(num_samples=0), ValueError, "num_samples"),
        (dict(config=[1]), TuneError, "config"),
        (dict(resources_per_trial={"gpu": 1.5}), TuneError, "gpu"),
        (dict(resources_per_trial={"cpu": -1}), TuneError, "cpu"),
        (dict(mode="maximum"), ValueError, "mode"),
        (dict(verbose=7), ValueError, "verbose"),
        (dict(max_failures=-3), ValueError, "max_failures"),
        (dict(time_budget_s=-1), ValueError, "time_budget_s"),
        (dict(seed="x"), TypeError, "seed"),
        (dict(resume="SOMETIMES"), ValueError, "resume"),
        (dict(export_formats=["pdf"]), TuneError, "Unsupported"),
        (dict(keep_checkpoints_num=0), ValueError, "keep_checkpoints_num"),
        (dict(scheduler=object()), TypeError, "scheduler"),
        (dict(trial_name_creator="name"), TypeError, "trial_name_creator"),
        (dict(checkpoint_freq=-1), ValueError, "checkpoint_freq"),
        (dict(restore="/nonexistent/ckpt"), ValueError, "restore"),
    ]
    for kwargs, exc, text in cases:
        with pytest.raises(exc, match=text):
            run(fn, tmp_path, **kwargs)
    with pytest.raises(ValueError, match="loguniform: lower bound must be > 0"):
        run(fn, tmp_path, config={"lr": tune.loguniform(0, 1)})
    with pytest.raises(TuneError, match="Grid search expected list"):
        run(fn, tmp_path, config={"a": {"grid_search": 3}})
    assert not os.listdir(str(tmp_path)) or not any(
        name.startswith("fn_") for _, dirs, _ in os.walk(str(tmp_path)) for name in dirs)


def test_run_is_reentrant_after_errors(tmp_path):
    with pytest.raises(TuneError):
        run(lambda c: None, tmp_path, resources_per_trial={"cpu": 64})
    tune.register_trainable("after", lambda config: tune.report(ok=1))
    assert run("after", tmp_path).trials[0].status == "TERMINATED"
