"""Logger classes used on their own, pretty_print, Callback and result constants
(spec §4, §10.2-§10.5, §11)."""
import json
import logging
import os
import pickle
import random
import subprocess
import sys

import numpy as np
import pytest

import tunec.logger as tl
from tunec import result as R
from tunec.callback import Callback
from tunec.logger import (DEFAULT_LOGGERS, CSVLogger, CSVLoggerCallback, JsonLogger,
                          JsonLoggerCallback, Logger, LoggerCallback, NoopLogger, TBXLogger,
                          TBXLoggerCallback, UnifiedLogger, pretty_print)
from tunec.trial import Trial


def read(path, mode="r"):
    with open(path, mode, **({} if "b" in mode else {"newline": ""})) as f:
        return f.read()


# -- JsonLogger ---------------------------------------------------------------------
def test_json_logger_writes_params_and_result_lines(tmp_path):
    config = {"lr": 0.1, "b": {"c": [1, 2]}, "name": "x"}
    logger = JsonLogger(config, str(tmp_path))
    assert read(tmp_path / "params.json") == (
        '{\n  "b": {\n    "c": [\n      1,\n      2\n    ]\n  },\n'
        '  "lr": 0.1,\n  "name": "x"\n}')
    with open(tmp_path / "params.pkl", "rb") as f:
        assert pickle.load(f) == config
    logger.on_result({"a": 1, "n": {"x": None}, "nan": float("nan"), "inf": float("inf")})
    logger.on_result({
        "f32nan": np.float32("nan"), "f32": np.float32(0.5), "i64": np.int64(3),
        "arr": np.array([1.5, 2.0]), "b": np.bool_(True), "obj": object,
    })
    # Lines are flushed as they are written.
    assert read(tmp_path / "result.json") == (
        '{"a": 1, "n": {"x": null}, "nan": NaN, "inf": Infinity}\n'
        '{"f32nan": "null", "f32": 0.5, "i64": 3, "arr": [1.5, 2.0], "b": true, '
        '"obj": "<class \'object\'>"}\n')
    logger.close()
    logger.flush()  # after close: no error

    # Reopening appends, and update_config rewrites both params files.
    again = JsonLogger({"lr": 0.2}, str(tmp_path))
    again.on_result({"a": 2})
    again.update_config({"lr": 0.3, "f": lambda x: x + 1})
    again.close()
    assert read(tmp_path / "result.json").count("\n") == 3
    assert json.loads(read(tmp_path / "params.json"))["lr"] == 0.3
    with open(tmp_path / "params.pkl", "rb") as f:
        assert pickle.load(f)["f"](1) == 2  # cloudpickle keeps lambdas


def test_json_logger_creates_logdir(tmp_path):
    logdir = tmp_path / "a" / "b"
    JsonLogger({}, str(logdir)).close()
    assert sorted(os.listdir(logdir)) == ["params.json", "params.pkl", "result.json"]


# -- CSVLogger -------------------------------------------------------------------------
def test_csv_logger_header_is_fixed_by_first_result(tmp_path):
    logger = CSVLogger({}, str(tmp_path))
    logger.on_result({"a": 1, "n": {"x": 2, "y": {"z": 3}}, "config": {"q": 1}, "l": [1, 2],
                      "s": "hi, there", "t": None})
    logger.on_result({"a": 2, "new": 5, "l": []})
    logger.close()
    # Nested keys follow the top-level ones, one level per pass (Ray's
    # flatten_dict); config is dropped; later keys are dropped; \r\n endings.
    assert read(tmp_path / "progress.csv") == (
        'a,l,s,t,n/x,n/y/z\r\n'
        '1,"[1, 2]","hi, there",,2,3\r\n'
        '2,[],,,,\r\n')


def test_csv_logger_continuing_file_gets_no_second_header(tmp_path):
    first = CSVLogger({}, str(tmp_path))
    first.on_result({"a": 1, "b": 2.5})
    first.close()
    second = CSVLogger({}, str(tmp_path))
    second.on_result({"b": 3.5, "a": 2})
    second.close()
    assert read(tmp_path / "progress.csv") == "a,b\r\n1,2.5\r\n2,3.5\r\n"


def test_flatten_dict_order():
    assert list(tl._flatten_dict({"a": {"b": {"c": 1}, "d": 2}, "e": 3, "f": {}})) == [
        "e", "a/d", "a/b/c"]


# -- TBXLogger -----------------------------------------------------------------------
def _tensorboard_available():
    return tl._summary_writer_class() is not None


@pytest.mark.skipif(_tensorboard_available(), reason="a TensorBoard writer is installed")
def test_tbx_logger_without_tensorboard_does_nothing_and_says_so_once(tmp_path, caplog):
    tl._logged_once.discard("tbx_missing")
    trial = Trial("t", trial_id="1", evaluated_params={"lr": 0.1})
    with caplog.at_level(logging.INFO, logger="ray.tune.logger"):
        for _ in range(2):
            logger = TBXLogger({}, str(tmp_path), trial)
            logger.on_result({"training_iteration": 1, "x": 1.0})
            logger.flush()
            logger.close()
    records = [r for r in caplog.records if r.name == "ray.tune.logger"]
    assert len(records) == 1
    assert records[0].levelno == logging.INFO
    assert "tensorboardX" in records[0].getMessage()
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("value,expected", [
    (1, True), (1.5, True), (np.float32(1), True), (np.float64(1), True), (np.int32(1), True),
    (np.int64(1), True), (True, False), ("1", False), (None, False), (np.int8(1), False),
])
def test_tbx_scalar_types(value, expected):
    assert tl._is_tbx_scalar(value) is expected


# -- UnifiedLogger ---------------------------------------------------------------------
def test_unified_logger_fans_out(tmp_path):
    logger = UnifiedLogger({"lr": 1}, str(tmp_path))
    logger.on_result({"training_iteration": 1, "acc": 0.5})
    logger.update_config({"lr": 2})
    logger.flush()
    logger.close()
    assert {"params.json", "params.pkl", "result.json", "progress.csv"} <= set(
        os.listdir(tmp_path))
    assert read(tmp_path / "progress.csv") == "training_iteration,acc\r\n1,0.5\r\n"
    assert json.loads(read(tmp_path / "params.json")) == {"lr": 2}


class BrokenLogger(Logger):
    def _init(self):
        raise RuntimeError("no disk")


class Collecting(Logger):
    def _init(self):
        self.results = []

    def on_result(self, result):
        self.results.append(result)


def test_unified_logger_warnings(tmp_path, caplog):
    tl._logged_once.discard("JsonLogger")
    with caplog.at_level(logging.WARNING, logger="ray.tune.logger"):
        logger = UnifiedLogger({}, str(tmp_path), loggers=[BrokenLogger, Collecting])
    messages = [r.getMessage() for r in caplog.records if r.name == "ray.tune.logger"]
    assert "JsonLogger not provided. The ExperimentAnalysis tool is disabled." in messages
    assert "Could not instantiate BrokenLogger: no disk." in messages
    logger.on_result({"x": 1})
    assert [type(l) for l in logger._loggers] == [Collecting]
    assert logger._loggers[0].results == [{"x": 1}]


def test_noop_and_base_logger(tmp_path):
    NoopLogger({}, str(tmp_path)).on_result({"x": 1})
    with pytest.raises(NotImplementedError):
        Logger({}, str(tmp_path)).on_result({})
    assert os.listdir(tmp_path) == []


# -- builtin markers -----------------------------------------------------------------
class MyJson(JsonLogger):
    pass


@pytest.mark.parametrize("obj,kind", [
    (JsonLogger, "json"), (CSVLogger, "csv"), (TBXLogger, "tbx"),
    (JsonLoggerCallback, "json"), (CSVLoggerCallback(), "csv"), (TBXLoggerCallback, "tbx"),
    (MyJson, None), (NoopLogger, None), (UnifiedLogger, None), (LoggerCallback(), None),
])
def test_builtin_kind(obj, kind):
    assert tl._builtin_kind(obj) == kind


def test_default_loggers():
    assert DEFAULT_LOGGERS == (JsonLogger, CSVLogger, TBXLogger)


# -- logger callbacks (1.x) --------------------------------------------------------------
def test_logger_callbacks_write_per_trial_files(tmp_path):
    trials = []
    for i in range(2):
        trial = Trial("train", config={"i": i}, trial_id=str(i))
        trial.logdir = str(tmp_path / "trial_{}".format(i))
        trials.append(trial)
    callbacks = [JsonLoggerCallback(), CSVLoggerCallback()]
    for cb in callbacks:
        for trial in trials:
            cb.on_trial_start(iteration=0, trials=trials, trial=trial)
        for step in range(2):
            for trial in trials:
                cb.on_trial_result(iteration=step, trials=trials, trial=trial,
                                   result={"training_iteration": step + 1, "i": trial.config["i"]})
        cb.on_trial_complete(iteration=3, trials=trials, trial=trials[0])
        cb.on_trial_error(iteration=3, trials=trials, trial=trials[1])
    for i in range(2):
        logdir = tmp_path / "trial_{}".format(i)
        assert json.loads(read(logdir / "params.json")) == {"i": i}
        lines = read(logdir / "result.json").splitlines()
        assert [json.loads(l) for l in lines] == [
            {"training_iteration": 1, "i": i}, {"training_iteration": 2, "i": i}]
        assert read(logdir / "progress.csv") == "training_iteration,i\r\n1,{0}\r\n2,{0}\r\n".format(i)
    assert callbacks[0]._trial_loggers == {}


def test_logger_callback_dispatch():
    calls = []

    class Recording(LoggerCallback):
        def log_trial_start(self, trial):
            calls.append(("start", trial))

        def log_trial_result(self, iteration, trial, result):
            calls.append(("result", iteration, trial, result))

        def log_trial_end(self, trial, failed=False):
            calls.append(("end", trial, failed))

    cb = Recording()
    cb.on_trial_start(1, [], "T")
    cb.on_trial_result(2, [], "T", {"x": 1})
    cb.on_trial_complete(3, [], "T")
    cb.on_trial_error(4, [], "T")
    cb.on_trial_save(5, [], "T")
    cb.on_trial_restore(6, [], "T")
    assert calls == [("start", "T"), ("result", 2, "T", {"x": 1}), ("end", "T", False),
                     ("end", "T", True)]


def test_callback_hooks_accept_1x_signatures():
    cb = Callback()
    assert cb.setup(stop=None, num_samples=1, total_num_samples=1) is None
    assert cb.on_step_begin(0, []) is None
    assert cb.on_step_end(iteration=0, trials=[], extra=1) is None
    for hook in ("on_trial_start", "on_trial_restore", "on_trial_save", "on_trial_complete",
                 "on_trial_error"):
        assert getattr(cb, hook)(0, [], "trial") is None
    assert cb.on_trial_result(0, [], "trial", {"x": 1}) is None
    assert cb.on_checkpoint(0, [], "trial", "ckpt") is None
    assert cb.on_experiment_end([]) is None


# -- pretty_print -----------------------------------------------------------------------
def test_pretty_print_golden():
    result = {
        "training_iteration": 3, "mean_accuracy": 0.5, "done": False, "config": {"lr": 1},
        "hist_stats": {"x": [1]}, "timesteps_total": None, "date": "2020-05-01_10-00-00",
        "info": {"b": [1, {"c": None}], "a": {}}, "empty": [], "tag": "1_lr=0.1",
        "f32": np.float32(0.25), "nan": float("nan"), "small": 1e-7, "yes": "yes", "e": "",
    }
    assert pretty_print(result) == (
        "date: 2020-05-01_10-00-00\n"
        "done: false\n"
        "e: ''\n"
        "empty: []\n"
        "f32: 0.25\n"
        "info:\n"
        "  a: {}\n"
        "  b:\n"
        "  - 1\n"
        "  - c: null\n"
        "mean_accuracy: 0.5\n"
        "nan: .nan\n"
        "small: 1.0e-07\n"
        "tag: 1_lr=0.1\n"
        "training_iteration: 3\n"
        "'yes': 'yes'\n")


def test_pretty_print_empty_and_odd_keys():
    assert pretty_print({"config": {"a": 1}, "x": None}) == "{}\n"
    # Keys json cannot encode are stringified; int keys become strings.
    assert pretty_print({(1, 2): 3, 4: "four"}) == "(1, 2): 3\n'4': four\n"


_WORDS = ["a", "b", "null", "yes", "No", "1.5", "12", "0x1F", "2020-01-01", "~", "", " lead",
          "trail ", "a: b", "a #c", "#x", "- x", "-x", "?", ":", "it's", 'q"uote', "multi\nline",
          "tab\there", "é", "日本", "---", "...x", "=", "<<", "a,b", "[x]", "{y}", "&a", "*b",
          "!t", "%p", "@a", "`b", "x" * 130, "long " * 30, "longword" * 15 + " tail",
          "word " * 10 + "é " * 10, "a\n\nb", " \n", "line\n", "\x85", "1e5", ".inf", "NaN",
          "on", "Off", "1_000", "0b11", "07", "08", "k" * 122, "k" * 123]


def _random_value(rng, depth):
    roll = rng.random()
    if depth < 3 and roll < 0.15:
        return {rng.choice(_WORDS): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    if depth < 3 and roll < 0.3:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if roll < 0.55:
        return rng.choice(_WORDS) * rng.randint(1, 2)
    if roll < 0.7:
        return rng.randint(-10 ** 12, 10 ** 12)
    if roll < 0.85:
        return rng.choice([0.1, 1e-5, 1e20, 1e16, 123456789.123, -0.0, float("inf"),
                           -float("inf"), 1 / 3])
    return rng.choice([True, False, None])


@pytest.mark.parametrize("seed", range(3))
def test_yaml_subset_matches_pyyaml(seed):
    yaml = pytest.importorskip("yaml")
    from tunec._yaml import safe_dump
    rng = random.Random(seed)
    for _ in range(1500):
        data = {rng.choice(_WORDS + ["k0", "k1"]): _random_value(rng, 0)
                for _ in range(rng.randint(0, 6))}
        assert safe_dump(data) == yaml.safe_dump(data, default_flow_style=False), data


def test_pretty_print_matches_pyyaml_on_results():
    yaml = pytest.importorskip("yaml")
    result = {"episode_reward_mean": -12.5, "info": {"learner": {"loss": 0.25, "lr": 1e-4}},
              "hostname": "node-1", "node_ip": "10.0.0.1", "pid": 4242,
              "experiment_id": "0123456789abcdef", "custom": [1, 2.5, "x"]}
    assert pretty_print(result) == yaml.safe_dump(result, default_flow_style=False)


# -- result constants ---------------------------------------------------------------
def test_result_constants():
    assert (R.DONE, R.TRAINING_ITERATION, R.TIME_TOTAL_S, R.TIMESTEPS_TOTAL) == (
        "done", "training_iteration", "time_total_s", "timesteps_total")
    assert R.DEFAULT_RESULT_KEYS == ("training_iteration", "time_total_s", "timesteps_total",
                                     "mean_accuracy", "mean_loss")
    assert R.DEFAULT_EXPERIMENT_INFO_KEYS == ("trainable_name", "experiment_tag", "trial_id")
    assert (R.EXPR_PARAM_FILE, R.EXPR_PARAM_PICKLE_FILE, R.EXPR_PROGRESS_FILE,
            R.EXPR_RESULT_FILE) == ("params.json", "params.pkl", "progress.csv", "result.json")
    assert (R.CONFIG_PREFIX, R.DEFAULT_METRIC, R.RESULT_DUPLICATE, R.TRIAL_INFO) == (
        "config/", "_metric", "__duplicate__", "__trial_info__")
    assert (R.NEG_MEAN_LOSS, R.EPISODE_REWARD_MEAN, R.SHOULD_CHECKPOINT) == (
        "neg_mean_loss", "episode_reward_mean", "should_checkpoint")


@pytest.mark.parametrize("env,expected", [
    ({"TEST_TMPDIR": "/t1", "TUNE_RESULT_DIR": "/t2"}, "/t1"),
    ({"TUNE_RESULT_DIR": "/t2"}, "/t2"),
    ({"TUNE_RESULT_DIR": "~/r"}, "{home}/r"),
    ({}, "{home}/ray_results"),
])
def test_default_results_dir(env, expected, tmp_path):
    base = {k: v for k, v in os.environ.items() if k not in ("TEST_TMPDIR", "TUNE_RESULT_DIR")}
    base["HOME"] = str(tmp_path)
    base.update(env)
    out = subprocess.run(
        [sys.executable, "-c", "from tunec.result import DEFAULT_RESULTS_DIR as d; print(d)"],
        env=base, capture_output=True, text=True, check=True).stdout.strip()
    assert out == expected.format(home=tmp_path)
