"""Integers outside the 64-bit range in results (2**63, -2**63-1, 10**30):
Python's json (and so Ray) keeps them exact, and so must every view of a
result: last_result, the callbacks' dicts, the dataframe, the experiment
state a resume reads, the analysis loader. Stop rules and schedulers compare
them as floats. The engine holds them as big-integer markers
(src/engine/jsonx.c). Real workers, real files."""
import json
import os

import numpy as np
import tunec as tune
from tunec.schedulers import ASHAScheduler
from run_helpers import rows, run

BIG = {"x": 2 ** 63, "neg": -2 ** 63 - 1, "huge": 10 ** 30, "nested": {"n": [2 ** 64, 1]}}


def trainable(config):
    for i in range(1, 6):
        # grow passes 10**30 (the stop rule's bound) at its second report
        tune.report(grow=10 ** (28 + i), small=i, u64=np.uint64(2 ** 64 - 1), **BIG)


def check_exact(result, where):
    for key, value in BIG.items():
        assert result[key] == value and type(result[key]) is type(value), (where, key, result)
    assert type(result["nested"]["n"][0]) is int, where


class Recorder(tune.Callback):
    def __init__(self):
        self.results = []

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.results.append(result)


def test_big_ints_reach_every_view_of_a_result(tmp_path):
    recorder = Recorder()
    analysis = run(trainable, tmp_path, name="exp", stop={"grow": 10 ** 30},
                   callbacks=[recorder])
    trial = analysis.trials[0]
    last = trial.last_result
    check_exact(last, "last_result")
    # the stop rule compared 10**30 >= 10**30: two reports, not five
    assert last["training_iteration"] == 2 and last["grow"] == 10 ** 30
    assert last["u64"] == 2 ** 64 - 1   # NumPy's uint64 is written as its int

    assert [r["training_iteration"] for r in recorder.results] == [1, 2]
    for r in recorder.results:
        check_exact(r, "on_trial_result")

    written = rows(trial)
    assert len(written) == 2
    check_exact(written[-1], "result.json")

    df = analysis.dataframe()
    assert int(df["x"].iloc[0]) == 2 ** 63 and int(df["huge"].iloc[0]) == 10 ** 30
    assert int(df["neg"].iloc[0]) == -2 ** 63 - 1

    # the analysis loader reads the files back
    loaded = tune.ExperimentAnalysis(os.path.join(str(tmp_path), "exp"))
    check_exact(loaded.trials[0].last_result, "ExperimentAnalysis")
    assert int(loaded.dataframe()["huge"].iloc[0]) == 10 ** 30

    # the experiment state: a resume of the finished run keeps the values
    resumed = run(trainable, tmp_path, name="exp", stop={"grow": 10 ** 30}, resume=True)
    check_exact(resumed.trials[0].last_result, "resumed last_result")
    assert resumed.trials[0].last_result["training_iteration"] == 2


def test_scheduler_orders_big_int_metrics(tmp_path):
    def scored(config):
        for i in range(1, 4):
            tune.report(score=config["sign"] * 10 ** 30 * i, x=2 ** 63)

    analysis = run(scored, tmp_path, config={"sign": tune.grid_search([-1, 1])},
                   scheduler=ASHAScheduler(metric="score", mode="max", max_t=3,
                                           grace_period=1))
    best = analysis.get_best_trial("score", "max", "last")
    assert best.config["sign"] == 1
    assert best.last_result["score"] == 3 * 10 ** 30 and best.last_result["x"] == 2 ** 63
    for trial in analysis.trials:
        line = json.loads(open(os.path.join(trial.logdir, "result.json")).readline())
        assert line["x"] == 2 ** 63
