"""Issue 9, items 7 and 8: every tune.run option is checked by name and type
before anything runs (src/engine/options.c), options tunec cannot honour are
errors, and options that were ignored now do what Ray does."""
import os
import re

import pytest

import tunec as tune
from tunec.progress_reporter import CLIReporter
from tunec.schedulers import ASHAScheduler
from run_helpers import run


def _report_acc(config):
    tune.report(acc=config.get("x", 1))


# --------------------------------------------------------------------------
# wrong types: an error naming the argument, before any directory exists
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, text", [
    ({"num_samples": "3"}, "tune.run(num_samples=...): expected int, got str"),
    ({"num_samples": 2.0}, "tune.run(num_samples=...): expected int, got float"),
    ({"num_samples": object()}, "tune.run(num_samples=...): expected int, got object"),
    ({"checkpoint_score_attr": ["acc"]},
     "tune.run(checkpoint_score_attr=...): expected str, got list"),
    ({"max_failures": "2"}, "tune.run(max_failures=...): expected int, got str"),
    ({"checkpoint_freq": 1.5}, "tune.run(checkpoint_freq=...): expected int, got float"),
    ({"reuse_actors": "yes"}, "tune.run(reuse_actors=...): expected bool, got str"),
    ({"time_budget_s": "10"}, "tune.run(time_budget_s=...): expected number, got str"),
    ({"max_concurrent_trials": 1.5},
     "tune.run(max_concurrent_trials=...): expected int, got float"),
])
def test_wrong_type_is_a_type_error_before_anything_runs(kwargs, text, tmp_path):
    local_dir = tmp_path / "results"
    with pytest.raises(TypeError, match=re.escape(text)):
        run(_report_acc, local_dir, **kwargs)
    assert not local_dir.exists()


@pytest.mark.parametrize("kwargs, text", [
    ({"num_samples": 0}, "tune.run(num_samples=...): must be >= 1 (or -1), got 0"),
    ({"keep_checkpoints_num": 0}, "tune.run(keep_checkpoints_num=...): must be >= 1, got 0"),
    ({"max_failures": -2}, "tune.run(max_failures=...): must be >= 0 (or -1), got -2"),
    ({"time_budget_s": 0}, "tune.run(time_budget_s=...): must be > 0, got 0"),
    ({"fail_fast": True, "max_failures": 1}, "max_failures must be 0 if fail_fast=True."),
    ({"fail_fast": "sometimes"}, "tune.run(fail_fast=...): must be a bool or 'raise'"),
])
def test_value_out_of_range_is_a_value_error(kwargs, text, tmp_path):
    local_dir = tmp_path / "results"
    with pytest.raises(ValueError, match=re.escape(text)):
        run(_report_acc, local_dir, **kwargs)
    assert not local_dir.exists()


def test_a_bad_option_in_the_last_experiment_stops_all(tmp_path):
    experiments = [tune.Experiment("good", _report_acc, local_dir=str(tmp_path)),
                   tune.Experiment("bad", _report_acc, local_dir=str(tmp_path),
                                   num_samples="2")]
    with pytest.raises(TypeError, match=re.escape(
            "Experiment 'bad'(num_samples=...): expected int, got str")):
        tune.run_experiments(experiments, verbose=0)
    assert not (tmp_path / "good").exists()


def test_numpy_integers_are_accepted(tmp_path):
    numpy = pytest.importorskip("numpy")
    analysis = run(_report_acc, tmp_path, num_samples=numpy.int64(2))
    assert len(analysis.trials) == 2


# --------------------------------------------------------------------------
# options tunec cannot honour, options that were ignored
# --------------------------------------------------------------------------

@pytest.mark.parametrize("arg, uri, match", [
    ("local_dir", "s3://bucket/x", "tune.run(local_dir='s3://bucket/x'): a directory on this"),
    ("storage_path", "nosuch://bucket/x", "storage_path='nosuch://bucket/x': cannot open"),
    ("upload_dir", "nosuch://bucket/x", "upload_dir='nosuch://bucket/x': cannot open"),
])
def test_an_unusable_uri_is_an_error_not_a_local_folder(arg, uri, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=re.escape(match)):
        tune.run(_report_acc, verbose=0, **{arg: uri})
    assert os.listdir(tmp_path) == []


class TrialFailure(Exception):
    pass


def _fails_at_two(config):
    for i in range(5):
        if i == 2:
            raise TrialFailure("trial broke at step 2")
        tune.report(step=i)


def test_fail_fast_raise_raises_the_trials_own_exception(tmp_path):
    with pytest.raises(TrialFailure, match="trial broke at step 2"):
        run(_fails_at_two, tmp_path, fail_fast="raise")


def test_fail_fast_true_still_raises_tune_error(tmp_path):
    with pytest.raises(tune.TuneError, match="Trials did not complete"):
        run(_fails_at_two, tmp_path, fail_fast=True)


def _reports_x(config):
    tune.report(acc=config["x"])


def test_cli_reporter_sort_by_metric_orders_rows(tmp_path, capsys):
    xs = [3, 1, 4, 5, 2]
    reporter = CLIReporter(sort_by_metric=True, metric_columns=["acc"])
    run(_reports_x, tmp_path, config={"x": tune.grid_search(xs)}, verbose=1,
        progress_reporter=reporter, metric="acc", mode="max")
    out = capsys.readouterr().out
    final = out[out.rindex("== Status =="):]
    rows = [line for line in final.splitlines() if "TERMINATED" in line and "|" in line]
    accs = [int(line.split("|")[-2]) for line in rows]
    assert accs == sorted(xs, reverse=True)


def _reports_acc_as_text(config):
    for _ in range(3):
        tune.report(acc=str(config["x"]))


def test_asha_metric_that_is_not_a_number_fails_the_trial(tmp_path):
    sched = ASHAScheduler(metric="acc", mode="max", grace_period=1, max_t=3)
    analysis = run(_reports_acc_as_text, tmp_path, config={"x": tune.grid_search([1, 2])},
                   scheduler=sched, raise_on_failed_trial=False)
    for trial in analysis.trials:
        assert trial.status == "ERROR"
        assert "AsyncHyperBandScheduler: metric 'acc' of trial" in trial.error_msg
        assert "must be a number, got str" in trial.error_msg


# --------------------------------------------------------------------------
# item 8: any number of experiments, each with its own trainable
# --------------------------------------------------------------------------

def _make_trainable(i):
    def trainable(config):
        tune.report(which=i)
    trainable.__name__ = "trainable_{}".format(i)
    return trainable


def test_200_experiments_with_their_own_trainables(tmp_path):
    experiments = [tune.Experiment("exp_{}".format(i), _make_trainable(i),
                                   local_dir=str(tmp_path)) for i in range(200)]
    trials = tune.run_experiments(experiments, verbose=0)
    assert len(trials) == 200
    assert sorted(t.last_result["which"] for t in trials) == list(range(200))
    for t in trials:
        assert t.status == "TERMINATED"
        assert t.last_result["which"] == int(t.trainable_name.split("_")[1])
