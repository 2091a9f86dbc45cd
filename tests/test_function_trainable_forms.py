"""Function trainables in every form Ray runs them (issue 9, items 2-3):
values a function returns or yields are results (Ray 1.x/2.x
``handle_output``), and a function retried after a failure starts from its
newest checkpoint, whichever checkpoint API it uses."""
import json
import os

import pytest

import tunec as tune
from run_helpers import rows, run


# -- returned and yielded values (item 2) --------------------------------------

def returns_dict(config):
    return {"score": config["x"] * 2}


def yields_dicts(config):
    for i in range(3):
        yield {"score": config["x"] + i}


def reports_then_returns(config):
    tune.report(score=-1)
    return {"score": config["x"]}


def returns_number(config):
    return config["x"] / 10


def yields_numbers(config):
    for i in range(1, 4):
        yield config["x"] * i


def returns_nothing_worth_reporting(config):
    tune.report(score=config["x"])
    return {}


def test_returned_dict_is_the_final_result(tmp_path):
    analysis = run(returns_dict, tmp_path, config={"x": tune.grid_search([1, 3, 2])},
                   metric="score", mode="max")
    assert analysis.best_config == {"x": 3}
    for trial in analysis.trials:
        assert trial.status == "TERMINATED"
        [row] = rows(trial)
        assert row["score"] == trial.config["x"] * 2
        assert row["training_iteration"] == 1
        assert trial.last_result["done"] is True


def test_each_yielded_dict_is_one_result(tmp_path):
    analysis = run(yields_dicts, tmp_path, config={"x": tune.grid_search([10, 20])},
                   metric="score", mode="max")
    assert analysis.best_config == {"x": 20}
    for trial in analysis.trials:
        got = rows(trial)
        assert [r["score"] for r in got] == [trial.config["x"] + i for i in range(3)]
        assert [r["training_iteration"] for r in got] == [1, 2, 3]


def test_returned_dict_after_reports_is_one_more_result(tmp_path):
    trial = run(reports_then_returns, tmp_path, config={"x": 7}).trials[0]
    assert [r["score"] for r in rows(trial)] == [-1, 7]
    assert trial.last_result["score"] == 7


def test_numbers_are_reported_as_metric(tmp_path):
    trial = run(returns_number, tmp_path, config={"x": 5}).trials[0]
    assert [r["_metric"] for r in rows(trial)] == [0.5]
    trial = run(yields_numbers, tmp_path, config={"x": 2}).trials[0]
    assert [r["_metric"] for r in rows(trial)] == [2, 4, 6]


def test_falsy_return_reports_nothing_more_as_in_ray(tmp_path):
    trial = run(returns_nothing_worth_reporting, tmp_path, config={"x": 4}).trials[0]
    assert [r["score"] for r in rows(trial)] == [4]


@pytest.mark.parametrize("value", ["text", [1, 2], object])
def test_other_returned_values_are_a_trial_error(tmp_path, value):
    def returns_other(config):
        return value

    def yields_other(config):
        yield {"score": 1}
        yield value
    for fn in (returns_other, yields_other):
        tune.register_trainable("other", fn)
        analysis = run("other", tmp_path, raise_on_failed_trial=False)
        trial = analysis.trials[0]
        assert trial.status == "ERROR"
        with open(trial.error_file) as f:
            assert "Invalid return or yield value" in f.read()
