"""Many trials in one run (issue 12), checked for what they must keep, not
for speed (the figures are `make bench`'s: benchmarks/scale.py): the
experiment state streamed one trial at a time is the same JSON file, finished
trials compacted in the engine still show everything, and the trials
tune.run returns are made when asked."""
import glob
import json
import os

import pytest

import tunec as tune
from run_helpers import run


def report_once(config):
    tune.report({"score": config["x"], "half": config["x"] / 2})


def fails_sometimes(config):
    if config["x"] > 0.7:
        raise ValueError("x too large")
    tune.report({"score": config["x"]})


def state_file(tmp_path, name):
    paths = glob.glob(os.path.join(str(tmp_path), name, "experiment_state-*.json"))
    assert len(paths) == 1
    return paths[0]


def test_state_file_is_pythons_json_dump(tmp_path):
    """Written in pieces, the state is still exactly json.dumps(indent=2,
    sort_keys=True) of itself, with every trial (errored ones too)."""
    analysis = run(fails_sometimes, tmp_path, name="exp", num_samples=40, seed=3,
                   config={"x": tune.uniform(0, 1)}, raise_on_failed_trial=False)
    text = open(state_file(tmp_path, "exp")).read()
    state = json.loads(text)
    assert text == json.dumps(state, indent=2, sort_keys=True)
    entries = {c["trial_id"]: c for c in state["checkpoints"]}
    assert len(entries) == 40
    for trial in analysis.trials:
        entry = entries[trial.trial_id]
        assert entry["status"] == trial.status
        if trial.status == "TERMINATED":
            assert entry["last_result"]["done"] is True
            assert entry["metric_analysis"]["score"]["last"] == trial.config["x"]
    assert {t.status for t in analysis.trials} == {"TERMINATED", "ERROR"}


def test_finished_trials_keep_results_and_metric_analysis(tmp_path):
    analysis = run(report_once, tmp_path, name="exp", num_samples=12, seed=5,
                   config={"x": tune.uniform(0, 1)})
    for trial in analysis.trials:
        x = trial.config["x"]
        assert trial.status == "TERMINATED"
        assert trial.last_result["score"] == x and trial.last_result["done"] is True
        assert trial.metric_analysis["half"] == {
            "max": x / 2, "min": x / 2, "avg": x / 2, "last": x / 2,
            "last-5-avg": x / 2, "last-10-avg": x / 2}
    df = analysis.dataframe()
    assert len(df) == 12


def test_returned_trials_are_made_when_asked(tmp_path):
    analysis = run(report_once, tmp_path, name="exp", num_samples=8, seed=1,
                   config={"x": tune.uniform(0, 1)})
    trials = analysis.trials
    assert len(trials) == 8
    first = trials[0]
    assert trials[0] is first and trials[-8] is first       # one object while held
    assert [t.trial_id for t in trials[1:3]] == [trials[1].trial_id, trials[2].trial_id]
    assert trials == list(trials) and len(list(trials) + trials) == 16
    assert trials.statuses() == ["TERMINATED"] * 8
    assert first in trials and trials.index(first) == 0
    with pytest.raises(IndexError):
        trials[8]
    ids = [t.trial_id for t in trials]
    assert len(set(ids)) == 8
    best = analysis.get_best_trial("score", "max")
    assert best.last_result["score"] == max(t.last_result["score"] for t in trials)
    # return_trials gives a plain list, as Ray's does
    plain = tune.run(report_once, local_dir=str(tmp_path), name="exp2", num_samples=2,
                     config={"x": 0.5}, verbose=0, return_trials=True)
    assert isinstance(plain, list) and len(plain) == 2
