"""Issue 15 item 5: one table of distinct bad inputs to tune.run.

Every row is rejected before any trial starts: the exception is the type Ray
raises, its message names the argument or the config path, no trial
directory exists afterwards and no worker process was started. A row that
crashed, hung, started trials or gave an unclear message was a defect; the
fixes live in the engine's option tables (src/engine/options.c), the space
expansion and the Python face, and this table is their regression test."""
import os
import re

import psutil
import pytest

import tunec as tune
from tunec import TuneError, _zygote
from tunec.schedulers import (ASHAScheduler, AsyncHyperBandScheduler, FIFOScheduler,
                              HyperBandScheduler, MedianStoppingRule,
                              PopulationBasedTraining)
from tunec.suggest import ConcurrencyLimiter, Repeater
from tunec.suggest.basic_variant import BasicVariantGenerator
from run_helpers import no_hang

# Rows whose trainable ran would leave this file behind: a second witness
# beside the trial directories, for trainables that never write one.
MARKER_ENV = "TUNEC_MATRIX_MARKER"


def _trainable(config):
    marker = os.environ.get(MARKER_ENV)
    if marker:
        open(marker, "a").close()
    tune.report(acc=1.0)


class _Trainable(tune.Trainable):
    def step(self):
        return {"acc": 1.0}


class _BadResources(tune.Trainable):
    @classmethod
    def default_resource_request(cls, config):
        return {"cpu": 1}

    def step(self):
        return {"acc": 1.0}


def _two_args(config, reporter, extra):
    pass


class _NotAStopper:
    pass


def _path(text):
    return re.escape(text)


# (id, tune.run keyword arguments (a callable makes them lazily, for rows
#  whose construction must itself happen inside pytest.raises), exception,
#  pattern the message must match: the argument or config path it names)
CASES = [
    # --- plain arguments: type -------------------------------------------
    ("num_samples-str", {"num_samples": "3"}, TypeError, _path("num_samples")),
    ("num_samples-float", {"num_samples": 2.5}, TypeError, _path("num_samples")),
    ("num_samples-bool", {"num_samples": True}, TypeError, _path("num_samples")),
    ("max_failures-str", {"max_failures": "1"}, TypeError, _path("max_failures")),
    ("checkpoint_freq-float", {"checkpoint_freq": 0.5}, TypeError, _path("checkpoint_freq")),
    ("checkpoint_at_end-str", {"checkpoint_at_end": "yes"}, TypeError,
     _path("checkpoint_at_end")),
    ("keep_checkpoints_num-str", {"keep_checkpoints_num": "2"}, TypeError,
     _path("keep_checkpoints_num")),
    ("checkpoint_score_attr-int", {"checkpoint_score_attr": 3}, TypeError,
     _path("checkpoint_score_attr")),
    ("reuse_actors-int", {"reuse_actors": 2}, TypeError, _path("reuse_actors")),
    ("time_budget_s-list", {"time_budget_s": [1]}, TypeError, _path("time_budget_s")),
    ("max_concurrent_trials-str", {"max_concurrent_trials": "2"}, TypeError,
     _path("max_concurrent_trials")),
    ("name-int", {"name": 5}, TypeError, _path("name")),
    ("local_dir-int", {"local_dir": 5}, TypeError, _path("local_dir")),
    ("metric-int", {"metric": 5, "mode": "max"}, TypeError, _path("metric")),
    ("mode-int", {"metric": "acc", "mode": 1}, (TypeError, ValueError), _path("mode")),
    ("config-list", {"config": [1, 2]}, TuneError, "config must be a dict, got list"),
    ("config-str", {"config": "x=1"}, TuneError, "config must be a dict, got str"),
    ("verbose-str", {"verbose": "loud"}, (TypeError, ValueError), _path("verbose")),
    ("raise_on_failed_trial-str", {"raise_on_failed_trial": "no"}, TypeError,
     _path("raise_on_failed_trial")),
    ("trial_name_creator-str", {"trial_name_creator": "name"}, (TypeError, ValueError),
     _path("trial_name_creator")),
    ("trial_dirname_creator-int", {"trial_dirname_creator": 1}, (TypeError, ValueError),
     _path("trial_dirname_creator")),
    ("loggers-str", {"loggers": "json"}, TuneError, _path("loggers")),
    ("return_trials-str", {"return_trials": "yes"}, TypeError, _path("return_trials")),
    ("export_formats-unknown", {"export_formats": ["pdf"]}, TuneError,
     "Unsupported import/export format"),
    # --- plain arguments: range -------------------------------------------
    ("num_samples-zero", {"num_samples": 0}, ValueError, _path("num_samples")),
    ("num_samples-neg", {"num_samples": -5}, ValueError, _path("num_samples")),
    ("max_failures-neg", {"max_failures": -3}, ValueError, _path("max_failures")),
    ("checkpoint_freq-neg", {"checkpoint_freq": -1}, ValueError, _path("checkpoint_freq")),
    ("keep_checkpoints_num-zero", {"keep_checkpoints_num": 0}, ValueError,
     _path("keep_checkpoints_num")),
    ("time_budget_s-neg", {"time_budget_s": -1.0}, ValueError, _path("time_budget_s")),
    ("time_budget_s-nan", {"time_budget_s": float("nan")}, ValueError,
     _path("time_budget_s")),
    ("max_concurrent_trials-zero", {"max_concurrent_trials": 0}, ValueError,
     _path("max_concurrent_trials")),
    ("fail_fast-with-retries", {"fail_fast": True, "max_failures": 2}, ValueError,
     "max_failures must be 0 if fail_fast=True"),
    ("mode-unknown", {"metric": "acc", "mode": "maximize"}, ValueError, _path("mode")),
    ("resume-unknown", {"resume": "SOMETIMES"}, ValueError, _path("resume")),
    ("unknown-keyword", {"num_sample": 2}, TypeError, _path("num_sample")),
    ("local_dir-uri", {"local_dir": "s3://bucket/x"}, ValueError, _path("local_dir")),
    # --- the trainable ----------------------------------------------------
    ("run-none", {"run_or_experiment": None}, TuneError, "run"),
    ("run-int", {"run_or_experiment": 42}, TuneError, "run"),
    ("run-unknown-name", {"run_or_experiment": "no_such_trainable_xyz"}, TuneError,
     _path("no_such_trainable_xyz")),
    ("run-bad-signature", {"run_or_experiment": _two_args}, ValueError, "argument"),
    ("run-instance", {"run_or_experiment": _Trainable()}, TuneError, "run"),
    # --- resources --------------------------------------------------------
    # Ray parsed resources_per_trial with argparse, whose failure became a
    # TuneError; tunec's messages name the field instead of "see above".
    ("resources-list", {"resources_per_trial": [1]}, TuneError,
     _path("resources_per_trial must be a dict")),
    ("resources-unknown-key", {"resources_per_trial": {"cpus": 1}}, TuneError,
     _path("resources_per_trial: Unknown resource field cpus")),
    ("resources-neg-cpu", {"resources_per_trial": {"cpu": -1}}, TuneError,
     _path("resources_per_trial: resource cpu must be >= 0")),
    ("resources-str-cpu", {"resources_per_trial": {"cpu": "one"}}, TuneError,
     _path("resources_per_trial: resource cpu must be a number")),
    ("resources-nan-gpu", {"resources_per_trial": {"gpu": float("nan")}}, TuneError,
     _path("resources_per_trial: resource gpu")),
    ("resources-too-many-cpus", {"resources_per_trial": {"cpu": 10 ** 6}}, TuneError,
     "Insufficient cluster resources"),
    ("resources-custom-not-dict", {"resources_per_trial": {"cpu": 1, "custom_resources": 3}},
     TuneError, _path("resources_per_trial: custom_resources")),
    ("resources-and-default-request", {"run_or_experiment": _BadResources,
                                       "resources_per_trial": {"cpu": 1}}, ValueError,
     "resources_per_trial"),
    # --- stop criteria ----------------------------------------------------
    ("stop-int", {"stop": 5}, ValueError, "Invalid stop criteria"),
    ("stop-str", {"stop": "acc"}, ValueError, "Invalid stop criteria"),
    ("stop-class-not-stopper", {"stop": _NotAStopper()}, ValueError, "Invalid stop criteria"),
    ("stop-stopper-class", {"stop": tune.stopper.MaximumIterationStopper}, ValueError,
     "Stopper"),
    ("stop-value-str", {"stop": {"training_iteration": "5"}}, (TypeError, ValueError),
     _path("training_iteration")),
    ("stop-value-list", {"stop": {"acc": [1]}}, (TypeError, ValueError), _path("acc")),
    ("stop-nested-dict", {"stop": {"a": {"b": 1}}}, ValueError, "flattened"),
    # --- config / search space --------------------------------------------
    ("grid-not-list", {"config": {"x": {"grid_search": 3}}}, TuneError, "Grid search"),
    # A domain checks its bounds when it is made, before it has a config path.
    ("uniform-reversed", lambda: {"config": {"lr": tune.uniform(1.0, 0.0)}}, ValueError,
     "uniform: lower bound must be < upper bound"),
    ("loguniform-zero", lambda: {"config": {"lr": tune.loguniform(0.0, 1.0)}}, ValueError,
     "loguniform: lower bound must be > 0"),
    ("randint-empty", lambda: {"config": {"n": tune.randint(5, 5)}}, ValueError, _path("n")),
    ("choice-empty", lambda: {"config": {"c": tune.choice([])}}, ValueError, _path("c")),
    ("quniform-zero-q", lambda: {"config": {"q": tune.quniform(0.0, 1.0, 0.0)}}, ValueError,
     _path("q")),
    ("nested-grid-not-list", {"config": {"opt": {"lr": {"grid_search": "abc"}}}}, TuneError,
     "Grid search"),
    ("sample_from-raises", lambda: {"config": {"s": tune.sample_from(lambda spec: 1 / 0)}},
     ValueError, _path("Failed to evaluate expression: ('config', 's')")),
    ("config-non-str-key", {"config": {1: 2}}, (TypeError, ValueError), "1"),
    # --- schedulers -------------------------------------------------------
    ("scheduler-not-scheduler", {"scheduler": object()}, (TypeError, ValueError),
     _path("scheduler")),
    ("scheduler-name", {"scheduler": "no_such_sched"}, TypeError,
     "scheduler must be a TrialScheduler"),
    ("asha-grace-zero", lambda: {"scheduler": ASHAScheduler(metric="acc", mode="max",
                                                           grace_period=0)},
     ValueError, _path("grace_period")),
    ("asha-rf-one", lambda: {"scheduler": ASHAScheduler(metric="acc", mode="max",
                                                       reduction_factor=1)},
     ValueError, _path("reduction_factor")),
    ("asha-mode-bad", lambda: {"scheduler": AsyncHyperBandScheduler(metric="acc",
                                                                    mode="up")},
     ValueError, _path("mode")),
    ("hyperband-max_t-zero", lambda: {"scheduler": HyperBandScheduler(metric="acc",
                                                                      mode="max", max_t=0)},
     ValueError, _path("max_t")),
    ("median-min-samples-neg", lambda: {"scheduler": MedianStoppingRule(
        metric="acc", mode="max", min_samples_required=-1)}, ValueError,
     _path("min_samples_required")),
    ("pbt-quantile", lambda: {"scheduler": PopulationBasedTraining(
        metric="acc", mode="max", quantile_fraction=0.9,
        hyperparam_mutations={"lr": [1, 2]})}, TuneError, _path("quantile_fraction")),
    ("pbt-no-mutations", lambda: {"scheduler": PopulationBasedTraining(
        metric="acc", mode="max")}, TuneError, "hyperparam_mutations"),
    ("pbt-mutation-bad-type", lambda: {"scheduler": PopulationBasedTraining(
        metric="acc", mode="max", hyperparam_mutations={"lr": 3})}, TypeError, _path("lr")),
    ("scheduler-metric-conflict", lambda: {"scheduler": ASHAScheduler(metric="acc",
                                                                     mode="max"),
                                           "metric": "loss", "mode": "min"},
     ValueError, "metric"),
    # --- searchers --------------------------------------------------------
    ("search_alg-not-searcher", {"search_alg": object()}, (TypeError, ValueError),
     _path("search_alg")),
    ("search_alg-name", {"search_alg": "no_such_search"}, TypeError,
     "search_alg must be a Searcher"),
    ("limiter-zero", lambda: {"search_alg": ConcurrencyLimiter(BasicVariantGenerator(),
                                                               max_concurrent=0)},
     ValueError, _path("max_concurrent")),
    ("repeater-not-searcher", lambda: {"search_alg": Repeater(BasicVariantGenerator())},
     TypeError, "Repeater requires a Searcher"),
    ("basic-points-not-list", lambda: {"search_alg": BasicVariantGenerator(
        points_to_evaluate={"x": 1})}, (TypeError, ValueError), _path("points_to_evaluate")),
]
CASES = [c for c in CASES if c[2] is not None]


def _trial_dirs(local_dir):
    found = []
    for root, dirs, files in os.walk(local_dir):
        if "params.json" in files or "result.json" in files:
            found.append(root)
    return found


@pytest.mark.parametrize("kwargs, exc, pattern", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_is_rejected_before_any_trial(kwargs, exc, pattern, tmp_path, monkeypatch):
    local_dir = tmp_path / "results"
    marker = tmp_path / "trainable_ran"
    monkeypatch.setenv(MARKER_ENV, str(marker))
    monkeypatch.chdir(tmp_path)
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    with no_hang("a bad-input run", deadline_s=120):
        with pytest.raises(exc) as info:
            args = kwargs() if callable(kwargs) else dict(kwargs)
            args.setdefault("run_or_experiment", _trainable)
            args.setdefault("local_dir", str(local_dir))
            args.setdefault("verbose", 0)
            tune.run(**args)
    assert re.search(pattern, str(info.value)), str(info.value)
    assert not marker.exists(), "the trainable ran"
    assert _trial_dirs(tmp_path) == [], "a trial directory was made"
    started = {p.pid for p in me.children(recursive=True)} - before
    workers = [p for p in started if _is_worker(p)]
    assert workers == [], "a worker was started"


def _is_worker(pid):
    # Workers are forked by the zygote and keep its command line: only its
    # pid tells them apart.
    return pid != _zygote.pid()


def test_the_table_is_large_and_distinct():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(CASES) >= 60
