"""tune.run(callbacks=...) and RunConfig(callbacks=...), LoggerCallback and
0.8 Logger classes (issue 13 items 1-2), with real workers and real files.

The hooks run on the driver's callback thread (tunec/_callbacks.py) from
the engine's event record (src/engine/runner_events.c); these tests check
what a hook sees, never how fast.
"""
import csv
import glob
import json
import os
import threading

import pytest

import tunec as tune
from tunec import _callbacks
from tunec.callback import Callback
from tunec.logger import (CSVLogger, CSVLoggerCallback, JsonLogger, JsonLoggerCallback, Logger,
                          LoggerCallback, TBXLoggerCallback, TFLogger)
from run_helpers import no_hang, rows, run, wait_for


class Recorder(Callback):
    """Records every hook with what it was given."""

    def __init__(self):
        self.calls = []
        self.trial_objects = {}

    def _note(self, hook, iteration, trials, trial=None, **extra):
        assert isinstance(iteration, int) and iteration >= 1
        assert isinstance(trials, list)
        if trial is not None:
            assert trial in trials
            # One Trial object per trial for the whole run, as in Ray.
            assert self.trial_objects.setdefault(trial.trial_id, trial) is trial
            self.calls.append((hook, trial.trial_id, extra))
        else:
            self.calls.append((hook, None, extra))

    def setup(self, stop=None, num_samples=None, total_num_samples=None, **info):
        self.calls.append(("setup", None, {"stop": stop, "num_samples": num_samples,
                                           "total": total_num_samples}))

    def on_step_begin(self, iteration, trials, **info):
        self._note("step_begin", iteration, trials)

    def on_step_end(self, iteration, trials, **info):
        self._note("step_end", iteration, trials)

    def on_trial_start(self, iteration, trials, trial, **info):
        self._note("start", iteration, trials, trial, status=trial.status,
                   logdir=trial.logdir)

    def on_trial_restore(self, iteration, trials, trial, **info):
        self._note("restore", iteration, trials, trial)

    def on_trial_save(self, iteration, trials, trial, **info):
        self._note("save", iteration, trials, trial)

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self._note("result", iteration, trials, trial, it=result["training_iteration"],
                   config=result["config"], trial_id=result["trial_id"])

    def on_trial_complete(self, iteration, trials, trial, **info):
        self._note("complete", iteration, trials, trial, status=trial.status)

    def on_trial_error(self, iteration, trials, trial, **info):
        self._note("error", iteration, trials, trial, error=trial.error_msg)

    def on_trial_recover(self, iteration, trials, trial, **info):
        self._note("recover", iteration, trials, trial)

    def on_checkpoint(self, iteration, trials, trial, checkpoint, **info):
        self._note("checkpoint", iteration, trials, trial, value=checkpoint.value)

    def on_experiment_end(self, trials, **info):
        self.calls.append(("end", None, {"statuses": sorted(t.status for t in trials)}))

    def trial_hooks(self, trial_id):
        return [hook for hook, tid, _ in self.calls if tid == trial_id]


class Saving(tune.Trainable):
    def setup(self, config):
        self.n = 0

    def step(self):
        self.n += 1
        return {"n": self.n}

    def save_checkpoint(self, checkpoint_dir):
        path = os.path.join(checkpoint_dir, "state.json")
        with open(path, "w") as f:
            json.dump({"n": self.n}, f)
        return path

    def load_checkpoint(self, path):
        with open(path) as f:
            self.n = json.load(f)["n"]


def test_hooks_order_and_arguments(tmp_path):
    rec = Recorder()
    run(Saving, tmp_path, config={"lr": tune.grid_search([0.1, 0.2])},
        stop={"training_iteration": 2}, checkpoint_freq=1, callbacks=[rec])
    assert rec.calls[0] == ("setup", None, {"stop": {"training_iteration": 2},
                                            "num_samples": 1, "total": 1})
    assert rec.calls[-1] == ("end", None, {"statuses": ["TERMINATED", "TERMINATED"]})
    for trial_id, lr in (("00000", 0.1), ("00001", 0.2)):
        # The result that ends the trial completes it before its checkpoint
        # is processed, as in Ray's _process_trial_result.
        assert rec.trial_hooks(trial_id) == [
            "start", "result", "save", "checkpoint", "result", "complete", "save",
            "checkpoint"], rec.calls
        extras = [e for h, tid, e in rec.calls if tid == trial_id]
        assert extras[0]["status"] == "RUNNING" and os.path.isdir(extras[0]["logdir"])
        assert [e["it"] for e in extras if "it" in e] == [1, 2]
        assert all(e["config"] == {"lr": lr} and e["trial_id"] == trial_id
                   for e in extras if "it" in e)
        values = [e["value"] for e in extras if "value" in e]
        assert len(values) == 2 and all(v.startswith(extras[0]["logdir"]) for v in values)
        assert extras[-3]["status"] == "TERMINATED"
    # Each batch of events is one step, begun and ended around its hooks.
    steps = [h for h, _, _ in rec.calls if h.startswith("step")]
    assert steps and steps == ["step_begin", "step_end"] * (len(steps) // 2)


def flaky(config, checkpoint_dir=None):
    """Fails once after a checkpoint (max_failures=1 retries it), then ends;
    with config["always"] it fails every time."""
    start = 0
    if checkpoint_dir:
        with open(os.path.join(checkpoint_dir, "n")) as f:
            start = int(f.read())
    for i in range(start, 3):
        with tune.checkpoint_dir(step=i) as d:
            with open(os.path.join(d, "n"), "w") as f:
                f.write(str(i + 1))
        tune.report(i=i)
        if i == start and (config["always"] or start == 0):
            raise ValueError("planned failure")


def test_recover_restore_and_error_hooks(tmp_path):
    rec = Recorder()
    analysis = run(flaky, tmp_path, config={"always": tune.grid_search([False, True])},
                   max_failures=1, callbacks=[rec], raise_on_failed_trial=False)
    statuses = {t.trial_id: t.status for t in analysis.trials}
    assert statuses == {"00000": "TERMINATED", "00001": "ERROR"}
    hooks = rec.trial_hooks("00000")
    assert hooks[:3] == ["start", "result", "save"] or hooks[:3] == ["start", "save",
                                                                    "checkpoint"], hooks
    assert "recover" in hooks and hooks.index("recover") < hooks.index("restore")
    assert hooks[hooks.index("recover") + 1:hooks.index("recover") + 3] == ["start", "restore"]
    assert hooks[-1] == "complete" and "error" not in hooks
    failing = rec.trial_hooks("00001")
    assert failing.count("recover") == 1 and failing[-1] == "error", failing
    (error,) = [e["error"] for h, tid, e in rec.calls if h == "error"]
    assert "planned failure" in error
    assert rec.calls[-1][2] == {"statuses": ["ERROR", "TERMINATED"]}


class FileLogger(LoggerCallback):
    """A 1.x LoggerCallback writing a file of its own per trial."""

    def __init__(self):
        self.ended = []

    def log_trial_start(self, trial):
        with open(os.path.join(trial.logdir, "mine.txt"), "a") as f:
            f.write("start {}\n".format(trial.config["x"]))

    def log_trial_result(self, iteration, trial, result):
        with open(os.path.join(trial.logdir, "mine.txt"), "a") as f:
            f.write("result {}\n".format(result["score"]))

    def log_trial_end(self, trial, failed=False):
        self.ended.append((trial.trial_id, failed))


def scores(config):
    for i in range(3):
        tune.report(score=config["x"] * 10 + i)


def test_logger_callback_subclass_writes_files(tmp_path):
    cb = FileLogger()
    analysis = run(scores, tmp_path, config={"x": tune.grid_search([1, 2])}, callbacks=[cb])
    for trial in analysis.trials:
        x = trial.config["x"]
        with open(os.path.join(trial.logdir, "mine.txt")) as f:
            assert f.read() == "start {}\n".format(x) + "".join(
                "result {}\n".format(x * 10 + i) for i in range(3))
        assert len(rows(trial)) == 3          # the engine's files are there too
    assert sorted(cb.ended) == [("00000", False), ("00001", False)]


def test_builtin_logger_callbacks_are_the_native_writers(tmp_path):
    assert _callbacks.split_callbacks([JsonLoggerCallback(), CSVLoggerCallback(),
                                       TBXLoggerCallback()]) == ([], set())
    plain = run(scores, tmp_path / "plain", config={"x": 1}, name="e")
    given = run(scores, tmp_path / "given", config={"x": 1}, name="e",
                callbacks=[JsonLoggerCallback(), CSVLoggerCallback(), TBXLoggerCallback()])
    (a,), (b,) = plain.trials, given.trials
    def files(trial):
        return sorted(n.split(".")[2] if n.startswith("events.out") else n
                      for n in os.listdir(trial.logdir))
    assert files(a) == files(b) == ["params.json", "params.pkl", "progress.csv",
                                    "result.json", "tfevents"]
    strip = ("experiment_id", "time_this_iter_s", "time_total_s", "timestamp", "date", "pid", "hostname",
             "node_ip", "time_since_restore", "logdir")
    assert [{k: v for k, v in r.items() if k not in strip} for r in rows(a)] == \
        [{k: v for k, v in r.items() if k not in strip} for r in rows(b)]
    with open(os.path.join(b.logdir, "progress.csv")) as f:
        assert len(list(csv.reader(f))) == 4


class MyJson(JsonLoggerCallback):
    """A subclass replaces the engine's result.json writer (Ray adds the
    default one only when no callback is a JsonLoggerCallback)."""


def test_builtin_subclass_replaces_the_native_file(tmp_path):
    assert _callbacks.split_callbacks([MyJson()])[1] == {"json"}
    analysis = run(scores, tmp_path, config={"x": 3}, callbacks=[MyJson()])
    (trial,) = analysis.trials
    # Written once, by the Python JsonLogger: not doubled.
    assert [r["score"] for r in rows(trial)] == [30, 31, 32]
    assert os.path.exists(os.path.join(trial.logdir, "progress.csv"))


class ResultFile(Logger):
    """A 0.8 custom Logger: every method of the interface leaves a trace."""

    def _init(self):
        self.out = open(os.path.join(self.logdir, "custom.txt"), "a")
        self.out.write("init {}\n".format(self.config["x"]))

    def on_result(self, result):
        self.out.write("result {}\n".format(result["score"]))

    def flush(self):
        self.out.flush()

    def close(self):
        self.out.write("close\n")
        self.out.close()


def test_custom_loggers_mixed_with_builtins(tmp_path):
    analysis = run(scores, tmp_path, config={"x": tune.grid_search([1, 2])},
                   loggers=[ResultFile, CSVLogger])
    for trial in analysis.trials:
        x = trial.config["x"]
        with open(os.path.join(trial.logdir, "custom.txt")) as f:
            assert f.read() == "init {}\n".format(x) + "".join(
                "result {}\n".format(x * 10 + i) for i in range(3)) + "close\n"
        files = os.listdir(trial.logdir)
        # Only what the list names: the engine's CSV, no result.json.
        assert "progress.csv" in files and "result.json" not in files


def test_tf_logger_name_is_the_native_tensorboard_writer(tmp_path):
    analysis = run(scores, tmp_path, config={"x": 1}, loggers=[TFLogger, JsonLogger])
    (trial,) = analysis.trials
    assert glob.glob(os.path.join(trial.logdir, "events.out.tfevents.*"))
    assert len(rows(trial)) == 3


def test_bad_callbacks_are_refused_before_any_trial(tmp_path):
    with pytest.raises(TypeError, match="callbacks: pass an instance"):
        run(scores, tmp_path, callbacks=[Recorder])
    with pytest.raises(TypeError, match="is not a tune.Callback"):
        run(scores, tmp_path, callbacks=[object()])
    with pytest.raises(TypeError, match="callbacks must be a list"):
        run(scores, tmp_path, callbacks=Recorder())
    assert not os.listdir(tmp_path)


class Failing(Callback):
    def __init__(self):
        self.ended = False

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if result["training_iteration"] == 2:
            raise KeyError("hook bug")

    def on_experiment_end(self, trials, **info):
        self.ended = True


def endless(config):
    i = 0
    while True:            # only the failed hook can end this run
        tune.report(score=i)
        i += 1


def test_hook_exception_fails_the_run_clearly(tmp_path):
    cb = Failing()
    with no_hang("a run whose hook failed"), pytest.raises(
            _callbacks.CallbackError,
            match=r"Failing.on_trial_result raised KeyError: 'hook bug'") as info:
        run(endless, tmp_path, callbacks=[cb])
    assert isinstance(info.value.__cause__, KeyError)
    assert cb.ended                       # on_experiment_end still ran
    # The trial was stopped and stays resumable in the experiment state.
    (state,) = glob.glob(str(tmp_path / "*" / "experiment_state-*.json"))
    with open(state) as f:
        text = f.read()
    assert '"PENDING"' in text


class Blocking(Callback):
    """Holds its first result until the trial has finished reporting (the
    trial writes a marker after its last report): the trial must not wait for
    the hook."""

    def __init__(self, marker):
        self.marker = marker
        self.results = 0
        self.saw_marker = None

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if self.results == 0:
            self.saw_marker = wait_for(lambda: os.path.exists(self.marker),
                                       "the trial's end while the hook blocks")
        self.results += 1


def report_then_mark(config):
    for i in range(config["n"]):
        tune.report(i=i)
    open(config["marker"], "w").close()


def test_slow_callback_does_not_slow_trials(tmp_path):
    marker = str(tmp_path / "reported-all")
    cb = Blocking(marker)
    analysis = run(report_then_mark, tmp_path / "run",
                   config={"n": 2000, "marker": marker}, callbacks=[cb])
    assert cb.saw_marker
    assert cb.results == 2000
    (trial,) = analysis.trials
    assert trial.last_result["training_iteration"] == 2000


class Batches(Callback):
    """Counts the results of each step (one batch of events), slowly."""

    def __init__(self):
        self.per_step = []
        self.current = 0

    def on_step_begin(self, iteration, trials, **info):
        self.current = 0

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.current += 1
        threading.Event().wait(0.002)     # a hook far slower than the trial

    def on_step_end(self, iteration, trials, **info):
        self.per_step.append(self.current)


def big_results(config):
    payload = "x" * (64 << 10)
    for i in range(400):
        tune.report(i=i, payload=payload)


def test_backlog_is_bounded(tmp_path, monkeypatch):
    # 1 MB of backlog, plus what one poll round reads from the worker's
    # socket before it sees the bound (one 64 KB read) and the socket's own
    # buffer (a few hundred KB): far fewer than 140 of these results.
    monkeypatch.setattr(_callbacks, "MAX_BYTES", 1 << 20)
    cb = Batches()
    run(big_results, tmp_path, callbacks=[cb], loggers=[CSVLogger])
    assert sum(cb.per_step) == 400
    assert max(cb.per_step) <= 16 + 140, cb.per_step


def test_run_config_callbacks_through_tuner(tmp_path):
    rec = Recorder()
    tuner = tune.Tuner(scores, param_space={"x": tune.grid_search([1, 2])},
                       run_config=tune.RunConfig(storage_path=str(tmp_path), callbacks=[rec],
                                                 verbose=0))
    results = tuner.fit()
    assert len(results) == 2
    assert sorted(e["it"] for h, _, e in rec.calls if h == "result") == [1, 1, 2, 2, 3, 3]
    assert rec.calls[-1] == ("end", None, {"statuses": ["TERMINATED", "TERMINATED"]})


def test_local_mode_calls_the_hooks_too(tmp_path):
    tune.init(local_mode=True)
    try:
        rec = Recorder()
        run(scores, tmp_path, config={"x": 1}, callbacks=[rec])
    finally:
        tune.shutdown()
    assert rec.trial_hooks("00000") == ["start", "result", "result", "result", "complete"]



def test_hand_stepped_trial_runner_calls_hooks_within_step(tmp_path):
    from tunec.trial import Trial
    from tunec.trial_runner import TrialRunner
    tune.register_trainable("cb_scores", scores)
    rec = Recorder()
    runner = TrialRunner(callbacks=[rec])
    trial = Trial("cb_scores", config={"x": 4}, local_dir=str(tmp_path))
    runner.add_trial(trial)
    with no_hang("a hand-stepped TrialRunner"):
        while not runner.is_finished():
            runner.step()
    # The hooks got the Trial object handed in, and ran before step() returned.
    assert rec.trial_objects == {trial.trial_id: trial}
    assert rec.trial_hooks(trial.trial_id) == ["start", "result", "result", "result",
                                               "complete"]
    assert rec.calls[-1] == ("end", None, {"statuses": ["TERMINATED"]})


def test_legacy_logger_callback_with_rays_signature(tmp_path):
    from tunec.logger import LegacyLoggerCallback
    cb = LegacyLoggerCallback([JsonLogger, ResultFile])
    assert _callbacks.split_callbacks([cb]) == ([cb], {"json"})
    analysis = run(scores, tmp_path, config={"x": 5}, callbacks=[cb])
    (trial,) = analysis.trials
    # result.json written once, by the Python JsonLogger it names; the
    # engine still writes progress.csv.
    assert [r["score"] for r in rows(trial)] == [50, 51, 52]
    with open(os.path.join(trial.logdir, "custom.txt")) as f:
        assert f.read().splitlines() == ["init 5", "result 50", "result 51", "result 52",
                                         "close"]
    assert os.path.exists(os.path.join(trial.logdir, "progress.csv"))
