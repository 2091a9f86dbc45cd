"""Analysis / ExperimentAnalysis over a Ray Tune 0.8 experiment directory
(spec §10, §18.27, §18.28).

tests/fixtures/ray08_experiment is in Ray 0.8.5's format (written by
tests/fixtures/make_ray08_experiment.py from the spec); its logdirs were
recorded under /home/ray/ray_results/my_exp, so ExperimentAnalysis must find
them next to the state file.  Damaged variants are made in tmp_path copies.
"""
import collections
import json
import logging
import math
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from tunec.analysis import Analysis, ExperimentAnalysis
from tunec.error import TuneError
from tunec.trial import Trial

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "ray08_experiment")
STATE_FILE = os.path.join(FIXTURE, "experiment_state-2020-05-01_12-00-00.json")
NAMES = [
    "train_func_0_lr=0.01_2020-05-01_12-00-00kdp0y3_9",
    "train_func_1_lr=0.1_2020-05-01_12-00-00w1b7x_2q",
    "train_func_2_lr=1.0_2020-05-01_12-00-01a8f3k2zz",
]
LOGDIRS = [os.path.join(FIXTURE, n) for n in NAMES]
LRS = [0.01, 0.1, 1.0]
CSV_COLUMNS = [
    "mean_accuracy", "mean_loss", "time_this_iter_s", "done", "timesteps_total",
    "episodes_total", "training_iteration", "neg_mean_loss", "experiment_id", "date",
    "timestamp", "time_total_s", "pid", "hostname", "node_ip", "time_since_restore",
    "timesteps_since_restore", "iterations_since_restore", "trial_id", "experiment_tag",
    "info/grad_norm",
]
CONFIG_COLUMNS = ["config/lr", "config/model", "config/momentum"]
MODEL = {"act": "relu", "layers": 2}


def config(i):
    return {"lr": LRS[i], "model": MODEL, "momentum": 0.9}


@pytest.fixture
def exp_copy(tmp_path):
    """A writable copy of the fixture."""
    dst = tmp_path / "my_exp"
    shutil.copytree(FIXTURE, dst)
    return str(dst)


def nan_eq(a, b):
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a)
                      and math.isnan(b))


# -- import cost ------------------------------------------------------------------
def test_import_does_not_load_numpy_or_pandas():
    code = ("import sys, tunec.analysis; "
            "print(sorted(m for m in ('numpy', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


# -- Analysis ---------------------------------------------------------------------
def test_trial_dataframes_keys_and_columns():
    analysis = Analysis(FIXTURE)
    frames = analysis.trial_dataframes
    assert list(frames) == LOGDIRS
    for logdir in LOGDIRS:
        assert list(frames[logdir].columns) == CSV_COLUMNS
    assert [len(frames[d]) for d in LOGDIRS] == [3, 3, 2]


def read_csv_like_ray(logdir):
    """What Ray 0.8's Analysis holds: pd.read_csv(progress.csv)."""
    return pd.read_csv(os.path.join(logdir, "progress.csv"))


@pytest.mark.parametrize("index", [0, 1, 2])
def test_trial_dataframe_matches_pandas_read_csv(index):
    ours = Analysis(FIXTURE).trial_dataframes[LOGDIRS[index]]
    ref = read_csv_like_ray(LOGDIRS[index])
    # pandas reads the zero-padded trial id "00001" as the number 1; tunec
    # keeps the string the result had.
    assert list(ours["trial_id"]) == ["%05d" % index] * len(ref)
    assert list(ref["trial_id"]) == [index] * len(ref)
    pd.testing.assert_frame_equal(ours.drop(columns=["trial_id"]),
                                  ref.drop(columns=["trial_id"]))


def test_csv_fallback_gives_the_same_frames(exp_copy):
    from_json = Analysis(exp_copy).trial_dataframes
    for name in NAMES:
        os.remove(os.path.join(exp_copy, name, "result.json"))
    from_csv = Analysis(exp_copy).trial_dataframes
    assert list(from_csv) == list(from_json)
    for logdir in from_json:
        pd.testing.assert_frame_equal(from_csv[logdir], from_json[logdir])


def test_dataframe_last_rows_exactly():
    df = Analysis(FIXTURE).dataframe()
    assert list(df.columns) == CSV_COLUMNS + CONFIG_COLUMNS + ["logdir"]
    assert list(df["logdir"]) == LOGDIRS
    assert list(df["training_iteration"]) == [3, 3, 2]
    assert list(df["mean_accuracy"]) == [0.7, 0.9, 0.1]
    assert list(df["done"]) == [True, True, False]
    assert list(df["trial_id"]) == ["00000", "00001", "00002"]
    assert list(df["experiment_tag"]) == ["0_lr=0.01", "1_lr=0.1", "2_lr=1.0"]
    assert list(df["info/grad_norm"]) == [0.1, 0.05, 9.5]
    assert df["timesteps_total"].isna().all()
    assert list(df["config/lr"]) == LRS
    assert list(df["config/momentum"]) == [0.9] * 3
    # 0.8 keeps nested config values as dicts (spec §10.7)
    assert list(df["config/model"]) == [MODEL] * 3


@pytest.mark.parametrize("mode, accuracy, iteration", [
    ("max", [0.7, 0.9, 0.2], [3, 3, 1]),    # trial 1's NaN row is passed over
    ("min", [0.5, 0.55, 0.1], [1, 1, 2]),
])
def test_dataframe_metric_mode(mode, accuracy, iteration):
    df = Analysis(FIXTURE).dataframe(metric="mean_accuracy", mode=mode)
    assert list(df["mean_accuracy"]) == accuracy
    assert list(df["training_iteration"]) == iteration
    assert list(df["logdir"]) == LOGDIRS


@pytest.mark.parametrize("metric, mode, best", [
    ("mean_accuracy", "max", 1),
    ("mean_accuracy", "min", 2),
    ("mean_loss", "min", 1),
    ("mean_loss", "max", 2),
    ("info/grad_norm", "max", 2),
    ("neg_mean_loss", None, 1),     # mode defaults to "max" (0.8)
])
def test_analysis_best_config_and_logdir(metric, mode, best):
    analysis = Analysis(FIXTURE)
    kwargs = {"mode": mode} if mode else {}
    assert analysis.get_best_config(metric, **kwargs) == config(best)
    assert analysis.get_best_logdir(metric, **kwargs) == LOGDIRS[best]


def test_get_all_configs():
    analysis = Analysis(FIXTURE)
    assert analysis.get_all_configs() == {d: config(i) for i, d in enumerate(LOGDIRS)}
    prefixed = analysis.get_all_configs(prefix=True)
    assert prefixed == {d: {"config/lr": LRS[i], "config/model": MODEL, "config/momentum": 0.9}
                        for i, d in enumerate(LOGDIRS)}
    prefixed[LOGDIRS[0]]["config/lr"] = 5   # a copy: the analysis is unchanged
    assert analysis.get_all_configs(prefix=True)[LOGDIRS[0]]["config/lr"] == 0.01


def write_trial(root, name, rows, params=None):
    logdir = os.path.join(root, name)
    os.makedirs(logdir)
    with open(os.path.join(logdir, "result.json"), "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    if params is not None:
        with open(os.path.join(logdir, "params.json"), "w") as f:
            json.dump(params, f)
    return logdir


def test_nan_metric_rows_are_skipped(tmp_path, caplog):
    root = str(tmp_path)
    a = write_trial(root, "a", [{"acc": 0.5}, {"acc": 0.7}], {"x": 1})
    b = write_trial(root, "b", [{"acc": float("nan")}, {"acc": float("nan")}], {"x": 2})
    analysis = Analysis(root)
    with caplog.at_level(logging.WARNING):
        df = analysis.dataframe("acc", "max")
    assert list(df["logdir"]) == [a]
    assert "Non-numerical value(s) encountered for " + b in caplog.text
    assert analysis.get_best_config("acc", "min") == {"x": 1}
    # without a mode, the last row of every trial, NaN or not
    df = analysis.dataframe()
    assert list(df["logdir"]) == [a, b] and math.isnan(df["acc"][1])


def test_all_nan_metric(tmp_path, caplog):
    root = str(tmp_path)
    write_trial(root, "a", [{"acc": float("nan")}], {"x": 1})
    analysis = Analysis(root)
    with caplog.at_level(logging.WARNING):
        assert analysis.get_best_config("acc") == {}
    assert "only nans encountered" in caplog.text
    assert analysis.get_best_logdir("acc", "min") is None
    assert analysis.dataframe("acc", "max").empty


def test_unknown_metric_is_a_key_error():
    with pytest.raises(KeyError):
        Analysis(FIXTURE).get_best_config("no_such_metric")


def test_torn_last_line_is_tolerated(exp_copy):
    path = os.path.join(exp_copy, NAMES[0], "result.json")
    with open(path, "a") as f:
        f.write('{"mean_accuracy": 0.99, "mean_loss": 0.0, "inf')
    analysis = Analysis(exp_copy)
    frame = analysis.trial_dataframes[os.path.join(exp_copy, NAMES[0])]
    assert list(frame["training_iteration"]) == [1, 2, 3]
    assert analysis.get_best_config("mean_accuracy") == config(1)


def test_unreadable_csv_is_skipped(exp_copy, caplog):
    broken = os.path.join(exp_copy, "train_func_3_lr=5.0_2020-05-01_12-00-02zzzzzzzz")
    os.makedirs(broken)
    os.symlink(os.path.join(broken, "gone.csv"), os.path.join(broken, "progress.csv"))
    empty = os.path.join(exp_copy, "train_func_4_lr=9.0_2020-05-01_12-00-02yyyyyyyy")
    os.makedirs(empty)
    open(os.path.join(empty, "progress.csv"), "w").close()
    with caplog.at_level(logging.DEBUG, logger="ray.tune.analysis.experiment_analysis"):
        analysis = Analysis(exp_copy)
    assert "Couldn't read results from 2 paths" in caplog.text
    assert list(analysis.trial_dataframes) == [os.path.join(exp_copy, n) for n in NAMES]
    assert len(analysis.dataframe()) == 3


def test_walk_is_recursive_and_skips_checkpoint_dirs(tmp_path):
    root = str(tmp_path)
    shutil.copytree(FIXTURE, os.path.join(root, "exp_a"))
    nested = write_trial(os.path.join(root, "exp_b", "sub"), "t", [{"acc": 1}], {"x": 1})
    cp = os.path.join(nested, "checkpoint_1")
    os.makedirs(cp)
    shutil.copy(os.path.join(nested, "result.json"), os.path.join(cp, "progress.csv"))
    analysis = Analysis(root)
    assert list(analysis.trial_dataframes) == (
        [os.path.join(root, "exp_a", n) for n in NAMES] + [nested])


def test_no_trials_found(tmp_path):
    with pytest.raises(TuneError, match=r"^No trials found in {}\.$".format(tmp_path)):
        Analysis(str(tmp_path))


@pytest.mark.parametrize("what", ["file", "missing"])
def test_not_a_directory(tmp_path, what):
    path = tmp_path / "x"
    if what == "file":
        path.write_text("x")
    with pytest.raises(ValueError, match=r"^{} is not a valid directory\.$".format(path)):
        Analysis(str(path))


def test_analysis_argument_errors():
    analysis = Analysis(FIXTURE)
    with pytest.raises(ValueError, match="mode"):
        analysis.dataframe("mean_accuracy", "best")
    with pytest.raises(ValueError, match="metric"):
        analysis.dataframe(mode="max")
    with pytest.raises(ValueError, match="mode"):
        analysis.get_best_config("mean_accuracy", "best")
    with pytest.raises(ValueError, match="metric"):
        analysis.get_best_logdir()
    with pytest.raises(ValueError, match="default_mode"):
        Analysis(FIXTURE, default_mode="best")


def test_analysis_default_metric_and_mode():
    analysis = Analysis(FIXTURE, default_metric="mean_accuracy", default_mode="min")
    assert analysis.get_best_logdir() == LOGDIRS[2]
    assert analysis.get_best_config(mode="max") == config(1)


# -- ExperimentAnalysis -------------------------------------------------------------
@pytest.mark.parametrize("path", [STATE_FILE, FIXTURE])
def test_experiment_analysis_file_and_dir(path, caplog):
    with caplog.at_level(logging.WARNING):
        ea = ExperimentAnalysis(path)
    assert "Drawing logdirs from checkpoint file" in caplog.text
    assert [t.trial_id for t in ea.trials] == ["00000", "00001", "00002"]
    # recorded under /home/ray/ray_results/my_exp, found next to the state file
    assert [t.logdir for t in ea.trials] == LOGDIRS
    assert list(ea.trial_dataframes) == LOGDIRS
    assert [t.status for t in ea.trials] == ["TERMINATED", "TERMINATED", "ERROR"]
    assert ea.trials[2].num_failures == 1
    assert ea.trials[2].error_msg.endswith("ValueError: loss diverged\n")
    assert [t.config for t in ea.trials] == [config(i) for i in range(3)]
    assert ea.trials[0].evaluated_params == {"lr": 0.01}
    assert ea.trials[1].last_result["training_iteration"] == 3
    assert str(ea.trials[0]) == "train_func_00000"
    # cloudpickle-fallback values are decoded: bare hex (_nonjson_fields) and
    # {"_type": "CLOUDPICKLE_FALLBACK"} objects
    assert ea.trials[0].loggers is None and ea.trials[0].checkpoint_manager is None
    n_steps = ea.trials[0].metric_n_steps["mean_accuracy"]["5"]
    assert isinstance(n_steps, collections.deque) and list(n_steps) == [0.5, 0.6, 0.7]
    assert ea.stats() == {"start_time": 1588334400.0, "timestamp": 1588334406.5}
    runner = ea.runner_data()
    assert runner["_session_str"] == "2020-05-01_12-00-00"
    assert runner["_stopper"] is None and runner["_global_time_limit"] == math.inf
    pd.testing.assert_frame_equal(ea.dataframe(), Analysis(FIXTURE).dataframe())


@pytest.mark.parametrize("metric, mode, scope, best", [
    ("mean_accuracy", "max", "all", 1),
    ("mean_accuracy", "min", "all", 2),
    ("mean_accuracy", "max", "last", 1),
    ("mean_accuracy", "min", "last", 2),
    ("mean_accuracy", "max", "avg", 0),         # trial 1's avg is NaN: filtered
    ("mean_accuracy", "min", "avg", 2),
    ("mean_accuracy", "max", "last-5-avg", 0),
    ("mean_accuracy", "min", "last-10-avg", 2),
    ("mean_loss", "min", "all", 1),
    ("training_iteration", "min", "last", 2),
    ("no_such_metric", "max", "all", None),
])
def test_get_best_trial_scopes(metric, mode, scope, best):
    ea = ExperimentAnalysis(STATE_FILE)
    trial = ea.get_best_trial(metric, mode, scope)
    if best is None:
        assert trial is None
        assert ea.get_best_config(metric, mode, scope) is None
        assert ea.get_best_logdir(metric, mode, scope) is None
        return
    assert trial is ea.trials[best]
    assert ea.get_best_config(metric, mode, scope) == config(best)
    assert ea.get_best_logdir(metric, mode, scope) == LOGDIRS[best]


def test_get_best_trial_all_nan_is_none(exp_copy):
    with open(os.path.join(exp_copy, os.path.basename(STATE_FILE))) as f:
        state = json.load(f)
    for entry in state["checkpoints"]:
        entry["metric_analysis"]["mean_accuracy"]["last"] = float("nan")
    with open(os.path.join(exp_copy, os.path.basename(STATE_FILE)), "w") as f:
        json.dump(state, f)
    ea = ExperimentAnalysis(exp_copy)
    assert ea.get_best_trial("mean_accuracy", "max", "last") is None
    # without the filter, the first trial wins (NaN never compares greater)
    assert ea.get_best_trial("mean_accuracy", "max", "last", filter_nan_and_inf=False) \
        is ea.trials[0]


@pytest.mark.parametrize("kwargs, match", [
    ({"mode": "best"}, r"for mode best not in \[\"max\", \"min\"\]"),
    ({"scope": "first"}, r"for scope first not in \[\"all\", \"last\""),
])
def test_get_best_trial_bad_mode_or_scope(kwargs, match):
    ea = ExperimentAnalysis(STATE_FILE)
    with pytest.raises(ValueError, match=match):
        ea.get_best_trial("mean_accuracy", **kwargs)
    with pytest.raises(ValueError):
        ea.get_best_config("mean_accuracy", **kwargs)
    with pytest.raises(ValueError):
        ea.get_best_logdir("mean_accuracy", **kwargs)


def test_experiment_analysis_with_trials(caplog):
    trials = []
    for i in (2, 0):
        trial = Trial("train_func", config=config(i), trial_id="%05d" % i)
        trial.logdir = LOGDIRS[i]
        trial.metric_analysis = {"acc": {"max": i, "min": -i, "last": i, "avg": i,
                                         "last-5-avg": i, "last-10-avg": i}}
        trials.append(trial)
    with caplog.at_level(logging.WARNING):
        ea = ExperimentAnalysis(STATE_FILE, trials=trials)
    assert "Drawing logdirs" not in caplog.text
    assert ea.trials == trials
    assert list(ea.trial_dataframes) == [LOGDIRS[2], LOGDIRS[0]]
    assert ea.get_best_trial("acc") is trials[0]
    assert ea.get_best_trial("acc", "min") is trials[0]
    assert ea.get_best_logdir("acc", "max", "last") == LOGDIRS[2]
    assert list(ea.dataframe()["logdir"]) == [LOGDIRS[2], LOGDIRS[0]]


def test_experiment_analysis_1x_properties():
    ea = ExperimentAnalysis(STATE_FILE, default_metric="mean_accuracy", default_mode="max")
    assert ea.best_trial is ea.trials[1]
    assert ea.best_config == config(1)
    assert ea.best_logdir == LOGDIRS[1]
    assert ea.best_result["mean_accuracy"] == 0.9
    assert list(ea.best_dataframe["mean_accuracy"][[0, 2]]) == [0.55, 0.9]
    assert ea.best_result_df.index.tolist() == ["00001"]
    assert set(ea.results) == {"00000", "00001", "00002"}
    assert ea.results["00002"]["training_iteration"] == 2
    df = ea.results_df
    assert df.index.tolist() == ["00000", "00001", "00002"]
    assert list(df["config/lr"]) == LRS and list(df["info/grad_norm"]) == [0.1, 0.05, 9.5]
    # default_mode picks the direction; "last" is the 1.x scope of best_trial
    ea_min = ExperimentAnalysis(STATE_FILE, default_metric="mean_accuracy", default_mode="min")
    assert ea_min.best_trial is ea_min.trials[2]
    assert ea_min.get_best_trial() is ea_min.trials[2]


@pytest.mark.parametrize("prop", ["best_trial", "best_config", "best_logdir", "best_result",
                                  "best_dataframe", "best_checkpoint", "best_result_df"])
def test_best_properties_need_metric_and_mode(prop):
    ea = ExperimentAnalysis(STATE_FILE, default_metric="mean_accuracy")
    with pytest.raises(ValueError, match="pass a `metric` and `mode`"):
        getattr(ea, prop)


def test_experiment_state_1x_json_string_entries(tmp_path):
    exp = tmp_path / "exp"
    shutil.copytree(FIXTURE, exp)
    state_path = exp / os.path.basename(STATE_FILE)
    state = json.loads(state_path.read_text())
    state["checkpoints"] = [json.dumps(c) for c in state["checkpoints"]]
    state_path.write_text(json.dumps(state, indent=2))
    ea = ExperimentAnalysis(str(state_path))
    assert [t.trial_id for t in ea.trials] == ["00000", "00001", "00002"]
    assert ea.trials[0].loggers is None
    assert ea.get_best_trial("mean_accuracy") is ea.trials[1]


def test_undecodable_fallback_is_left_as_is(tmp_path):
    exp = tmp_path / "exp"
    shutil.copytree(FIXTURE, exp)
    state_path = exp / os.path.basename(STATE_FILE)
    state = json.loads(state_path.read_text())
    bad = {"_type": "CLOUDPICKLE_FALLBACK", "value": "not hex"}
    state["runner_data"]["_stopper"] = bad
    state_path.write_text(json.dumps(state))
    assert ExperimentAnalysis(str(state_path)).runner_data()["_stopper"] == bad


def test_newest_state_file_is_used(exp_copy):
    older = os.path.join(exp_copy, "experiment_state-2020-04-30_00-00-00.json")
    with open(older, "w") as f:
        json.dump({"checkpoints": [], "runner_data": {}, "stats": {}}, f)
    assert len(ExperimentAnalysis(exp_copy).trials) == 3


def test_experiment_state_errors(tmp_path):
    with pytest.raises(ValueError, match="does not contain a Ray Tune experiment checkpoint"):
        ExperimentAnalysis(str(tmp_path))
    with pytest.raises(ValueError, match="is not a valid file or directory"):
        ExperimentAnalysis(str(tmp_path / "missing.json"))
    bad = tmp_path / "experiment_state-x.json"
    bad.write_text(json.dumps({"runner_data": {}}))
    with pytest.raises(TuneError, match=r"^Experiment state invalid; no checkpoints found\.$"):
        ExperimentAnalysis(str(bad))
    bad.write_text(json.dumps({"checkpoints": [], "runner_data": {}, "stats": {}}))
    with pytest.raises(TuneError, match=r"^No trials found\.$"):
        ExperimentAnalysis(str(bad))


# -- checkpoints ----------------------------------------------------------------------
def add_checkpoint(logdir, iteration, files=("checkpoint", "checkpoint.tune_metadata")):
    cp = os.path.join(logdir, "checkpoint_{}".format(iteration))
    os.makedirs(cp)
    for name in (".is_checkpoint",) + tuple(files):
        open(os.path.join(cp, name), "w").close()
    return cp


def test_get_trial_checkpoints_paths(exp_copy):
    logdir = os.path.join(exp_copy, NAMES[0])
    cp3 = add_checkpoint(logdir, 3)
    cp1 = add_checkpoint(logdir, 1)
    add_checkpoint(logdir, 7)          # no such row: dropped by the inner join
    analysis = Analysis(exp_copy)
    assert analysis.get_trial_checkpoints_paths(logdir) == [
        [os.path.join(cp1, "checkpoint"), 1], [os.path.join(cp3, "checkpoint"), 3]]
    assert analysis.get_trial_checkpoints_paths(logdir, "mean_accuracy") == [
        [os.path.join(cp1, "checkpoint"), 0.5], [os.path.join(cp3, "checkpoint"), 0.7]]
    assert analysis.get_best_checkpoint(logdir, "mean_accuracy", "min") == \
        os.path.join(cp1, "checkpoint")
    # the Trial form reads the trial's logdir the same way
    ea = ExperimentAnalysis(exp_copy)
    assert ea.get_trial_checkpoints_paths(ea.trials[0], "mean_accuracy") == \
        analysis.get_trial_checkpoints_paths(logdir, "mean_accuracy")
    ea = ExperimentAnalysis(exp_copy, default_metric="mean_accuracy", default_mode="max")
    assert ea.get_last_checkpoint(ea.trials[0]) == os.path.join(cp3, "checkpoint")
    assert ea.get_trial_checkpoints_paths(ea.trials[1]) == []
    with pytest.raises(ValueError, match="trial should be a string or a Trial instance"):
        analysis.get_trial_checkpoints_paths(3)


def test_checkpoint_dir_form_and_bad_metadata(exp_copy):
    logdir = os.path.join(exp_copy, NAMES[1])
    cp = add_checkpoint(logdir, 2, files=(".tune_metadata", "model.bin"))
    analysis = Analysis(exp_copy)
    assert analysis.get_trial_checkpoints_paths(logdir) == [[cp + os.sep, 2]]
    add_checkpoint(logdir, 3, files=("a.tune_metadata", "b.tune_metadata"))
    with pytest.raises(ValueError, match="has zero or more than one tune_metadata"):
        analysis.get_trial_checkpoints_paths(logdir)
