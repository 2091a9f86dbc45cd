"""Arguments of the built-in schedulers (spec §8.2-§8.5): defaults, Ray 0.8's
positional order, 1.x/2.x keywords, validation, and PBT replay's policy
parsing. The decisions themselves are the engine's (tests/test_sched_*)."""
import fractions
import json
import os
import subprocess
import sys
import warnings

import pytest

import tunec.schedulers as S
from tunec import sample as tune_sample
from tunec.error import TuneError
from tunec.schedulers.pbt import PBTConfigError

ASHA = S.AsyncHyperBandScheduler
HB = S.HyperBandScheduler
BOHB = S.HyperBandForBOHB
MSR = S.MedianStoppingRule
PBT = S.PopulationBasedTraining
REPLAY = S.PopulationBasedTrainingReplay

MUT = {"lr": [0.1, 0.01]}   # the least PBT needs


def _explore(config):
    return config


# ---------------------------------------------------------------------------
# defaults and spellings

BASE = {"metric": "episode_reward_mean", "mode": "max"}

DEFAULT_CASES = [
    (ASHA, {}, dict(BASE, kind="asha", time_attr="training_iteration", max_t=100,
                    grace_period=1, reduction_factor=4, brackets=1)),
    (HB, {}, dict(BASE, kind="hyperband", time_attr="training_iteration", max_t=81,
                  reduction_factor=3, stop_last_trials=True)),
    (BOHB, {}, dict(BASE, kind="hyperband", time_attr="training_iteration", max_t=81,
                    reduction_factor=3, stop_last_trials=True, bohb=True)),
    (MSR, {}, dict(BASE, kind="median", time_attr="time_total_s", grace_period=60.0,
                   min_samples_required=3, min_time_slice=0, hard_stop=True)),
    (PBT, {"hyperparam_mutations": MUT},
     dict(BASE, kind="pbt", time_attr="time_total_s", perturbation_interval=60.0,
          hyperparam_mutations=MUT, quantile_fraction=0.25, resample_probability=0.25,
          log_config=True, require_attrs=False, custom_explore_fn=None)),
]


def _same(a, b):
    """Equal, with the same types all the way down (60 is not 60.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@pytest.mark.parametrize("cls,kwargs,expected", DEFAULT_CASES,
                         ids=[c[0].__name__ for c in DEFAULT_CASES])
def test_defaults(cls, kwargs, expected):
    spec = cls(**kwargs)._tunec_spec()
    assert _same(spec, expected), spec
    if cls is not PBT:
        assert json.loads(json.dumps(spec)) == spec


POSITIONAL_CASES = [
    # Ray 0.8's order: time_attr, reward_attr, metric, mode, then the class's own.
    (ASHA, ("it", None, "loss", "min", 50, 2, 3, 2, True),
     dict(kind="asha", metric="loss", mode="min", time_attr="it", max_t=50, grace_period=2,
          reduction_factor=3, brackets=2)),
    (HB, ("it", None, "loss", "min", 27, 2.5, True),
     dict(kind="hyperband", metric="loss", mode="min", time_attr="it", max_t=27,
          reduction_factor=2.5, stop_last_trials=True)),
    (MSR, ("it", None, "loss", "min", 5, 2, 1.5, False),
     dict(kind="median", metric="loss", mode="min", time_attr="it", grace_period=5,
          min_samples_required=2, min_time_slice=1.5, hard_stop=False)),
    (PBT, ("it", None, "loss", "min", 4, MUT, 0.5, 0.0, _explore, False, False, False),
     dict(kind="pbt", metric="loss", mode="min", time_attr="it", perturbation_interval=4,
          hyperparam_mutations=MUT, quantile_fraction=0.5, resample_probability=0.0,
          log_config=False, require_attrs=False, custom_explore_fn=_explore)),
]


@pytest.mark.parametrize("cls,args,expected", POSITIONAL_CASES,
                         ids=[c[0].__name__ for c in POSITIONAL_CASES])
def test_positional_order_of_ray_08(cls, args, expected):
    assert _same(cls(*args)._tunec_spec(), expected)


@pytest.mark.parametrize("cls,kwargs", [
    (ASHA, {"metric": "acc", "mode": "max", "stop_last_trials": True}),
    (HB, {"metric": "acc", "mode": "max", "max_t": 9, "reduction_factor": 3,
          "stop_last_trials": True}),
    (BOHB, {"metric": "acc", "mode": "max", "stop_last_trials": True}),
    (MSR, {"metric": "acc", "mode": "max"}),
    (PBT, {"metric": "acc", "mode": "max", "hyperparam_mutations": MUT, "require_attrs": False,
           "synch": False, "burn_in_period": 0, "perturbation_factors": [1.2, 0.8]}),
    (PBT, {"metric": "acc", "mode": "max", "hyperparam_mutations": None,
           "custom_explore_fn": _explore}),
], ids=["ASHA", "HyperBand", "BOHB", "Median", "PBT", "PBT-explore-fn-only"])
def test_modern_keywords_at_their_defaults_are_accepted(cls, kwargs):
    spec = cls(**kwargs)._tunec_spec()
    assert (spec["metric"], spec["mode"]) == ("acc", "max")


def test_pbt_require_attrs_is_stored():
    # Left out: Ray 0.8's behaviour (a result without the attributes goes on).
    assert PBT(hyperparam_mutations=MUT)._require_attrs is None
    assert PBT(hyperparam_mutations=MUT)._tunec_spec()["require_attrs"] is False
    assert PBT(hyperparam_mutations=MUT, require_attrs=True)._tunec_spec()["require_attrs"]
    assert PBT(hyperparam_mutations=MUT, require_attrs=False)._require_attrs is False


def test_asha_alias():
    assert S.ASHAScheduler is S.AsyncHyperBandScheduler


def test_bohb_is_a_hyperband():
    assert issubclass(BOHB, HB) and BOHB._tunec_kind == HB._tunec_kind


ALL_CLASSES = [ASHA, HB, BOHB, MSR, PBT, REPLAY]


def test_exports():
    assert set(S.__all__) == {
        "TrialScheduler", "FIFOScheduler", "AsyncHyperBandScheduler", "ASHAScheduler",
        "HyperBandScheduler", "HyperBandForBOHB", "MedianStoppingRule",
        "PopulationBasedTraining", "PopulationBasedTrainingReplay"}
    for name in S.__all__:
        assert getattr(S, name).__name__ in (name, "AsyncHyperBandScheduler")


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_event_methods_and_debug_string_come_from_the_base(cls):
    from tunec.schedulers.trial_scheduler import _BuiltinScheduler
    assert issubclass(cls, _BuiltinScheduler)
    for name in ("on_trial_add", "on_trial_error", "on_trial_result", "on_trial_complete",
                 "on_trial_remove", "choose_trial_to_run", "debug_string"):
        assert getattr(cls, name) is getattr(_BuiltinScheduler, name), name
    assert "§8" in cls.__doc__


def test_importing_schedulers_does_not_import_numpy():
    code = ("import sys, tunec.schedulers; "
            "sys.exit(1 if 'numpy' in sys.modules else 0)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))


def test_ray_attributes():
    a = ASHA(max_t=10, reduction_factor=2)
    assert (a._max_t, a._reduction_factor, a._time_attr) == (10, 2, "training_iteration")
    p = PBT(metric="m", mode="min", perturbation_interval=3, hyperparam_mutations=MUT,
            quantile_fraction=0.1, custom_explore_fn=_explore, log_config=False)
    assert p._hyperparam_mutations is MUT
    assert (p._quantile_fraction, p._perturbation_interval, p._custom_explore_fn,
            p._log_config, p._time_attr, p._metric, p._mode) == (
        0.1, 3, _explore, False, "time_total_s", "m", "min")


# ---------------------------------------------------------------------------
# metric / mode

METRIC_CASES = [(ASHA, {}), (HB, {}), (BOHB, {}), (MSR, {}),
                (PBT, {"hyperparam_mutations": MUT})]


@pytest.mark.parametrize("cls,kwargs", METRIC_CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_reward_attr_is_deprecated_and_sets_metric_max(cls, kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sched = cls(reward_attr="score", mode="min", **kwargs)
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(deprecations) == 1
    assert "reward_attr" in str(deprecations[0].message)
    assert deprecations[0].filename == __file__   # points at the user's call
    assert (sched._metric, sched._mode) == ("score", "max")
    spec = sched._tunec_spec()
    assert (spec["metric"], spec["mode"]) == ("score", "max")


@pytest.mark.parametrize("cls,kwargs", METRIC_CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_metric_from_tune_run_fills_in_none(cls, kwargs):
    sched = cls(**kwargs)
    assert sched.set_search_properties("loss", "min")
    assert (sched._tunec_spec()["metric"], sched._tunec_spec()["mode"]) == ("loss", "min")
    fixed = cls(metric="acc", mode="max", **kwargs)
    assert not fixed.set_search_properties("loss", "min")
    assert fixed._tunec_spec()["metric"] == "acc"


# ---------------------------------------------------------------------------
# bad arguments: (class, kwargs, exception classes it must be, name in message)

V, T, NI = ValueError, TypeError, NotImplementedError
VT = (ValueError, TypeError)          # both, so that either except clause works
VTE = (ValueError, TuneError)         # Ray raised TuneError
NAN, INF = float("nan"), float("inf")

BAD_CASES = [
    # AsyncHyperBandScheduler
    (ASHA, {"mode": "avg"}, V, "mode"),
    (ASHA, {"metric": 3}, V, "metric"),
    (ASHA, {"time_attr": 3}, VT, "time_attr"),
    (ASHA, {"time_attr": ""}, V, "time_attr"),
    (ASHA, {"max_t": 0}, V, "max_t"),
    (ASHA, {"max_t": -5}, V, "max_t"),
    (ASHA, {"max_t": NAN}, V, "max_t"),
    (ASHA, {"max_t": INF}, V, "max_t"),
    (ASHA, {"max_t": "100"}, VT, "max_t"),
    (ASHA, {"max_t": None}, VT, "max_t"),
    (ASHA, {"max_t": True}, VT, "max_t"),
    (ASHA, {"grace_period": 0}, V, "grace_period"),
    (ASHA, {"grace_period": -1}, V, "grace_period"),
    (ASHA, {"grace_period": 101}, V, "grace_period"),
    (ASHA, {"grace_period": NAN}, V, "grace_period"),
    (ASHA, {"grace_period": [1]}, VT, "grace_period"),
    (ASHA, {"reduction_factor": 1}, V, "reduction_factor"),
    (ASHA, {"reduction_factor": 0.5}, V, "reduction_factor"),
    (ASHA, {"reduction_factor": INF}, V, "reduction_factor"),
    (ASHA, {"reduction_factor": False}, VT, "reduction_factor"),
    (ASHA, {"brackets": 0}, V, "brackets"),
    (ASHA, {"brackets": -1}, V, "brackets"),
    (ASHA, {"brackets": 1.0}, VT, "brackets"),
    (ASHA, {"brackets": True}, VT, "brackets"),
    (ASHA, {"stop_last_trials": False}, NI, "stop_last_trials"),
    # HyperBandScheduler (and BOHB, same constructor)
    (HB, {"mode": "MAX"}, V, "mode"),
    (HB, {"time_attr": None}, VT, "time_attr"),
    (HB, {"max_t": 0}, V, "max_t"),
    (HB, {"max_t": 0.5}, V, "max_t"),
    (HB, {"max_t": INF}, V, "max_t"),
    (HB, {"max_t": "81"}, VT, "max_t"),
    (HB, {"reduction_factor": 1}, V, "reduction_factor"),
    (HB, {"reduction_factor": NAN}, V, "reduction_factor"),
    (HB, {"stop_last_trials": "no"}, VT, "stop_last_trials"),
    (BOHB, {"max_t": 0}, V, "max_t"),
    (BOHB, {"reduction_factor": 0}, V, "reduction_factor"),
    # MedianStoppingRule
    (MSR, {"mode": "median"}, V, "mode"),
    (MSR, {"time_attr": b"t"}, VT, "time_attr"),
    (MSR, {"grace_period": -1}, V, "grace_period"),
    (MSR, {"grace_period": NAN}, V, "grace_period"),
    (MSR, {"grace_period": "60"}, VT, "grace_period"),
    (MSR, {"min_samples_required": 0}, V, "min_samples_required"),
    (MSR, {"min_samples_required": 2.0}, VT, "min_samples_required"),
    (MSR, {"min_samples_required": True}, VT, "min_samples_required"),
    (MSR, {"min_time_slice": -0.5}, V, "min_time_slice"),
    (MSR, {"min_time_slice": INF}, V, "min_time_slice"),
    (MSR, {"hard_stop": 1}, VT, "hard_stop"),
    (MSR, {"hard_stop": "yes"}, VT, "hard_stop"),
    # PopulationBasedTraining
    (PBT, {"mode": "avg", "hyperparam_mutations": MUT}, V, "mode"),
    (PBT, {"time_attr": 1, "hyperparam_mutations": MUT}, VT, "time_attr"),
    (PBT, {"perturbation_interval": 0, "hyperparam_mutations": MUT}, V, "perturbation_interval"),
    (PBT, {"perturbation_interval": -1, "hyperparam_mutations": MUT}, V,
     "perturbation_interval"),
    (PBT, {"perturbation_interval": NAN, "hyperparam_mutations": MUT}, V,
     "perturbation_interval"),
    (PBT, {"quantile_fraction": 0.6, "hyperparam_mutations": MUT}, VTE, "quantile_fraction"),
    (PBT, {"quantile_fraction": -0.1, "hyperparam_mutations": MUT}, VTE, "quantile_fraction"),
    (PBT, {"quantile_fraction": "0.2", "hyperparam_mutations": MUT}, VT, "quantile_fraction"),
    (PBT, {"resample_probability": 1.5, "hyperparam_mutations": MUT}, V,
     "resample_probability"),
    (PBT, {"resample_probability": -0.01, "hyperparam_mutations": MUT}, V,
     "resample_probability"),
    (PBT, {"resample_probability": NAN, "hyperparam_mutations": MUT}, V,
     "resample_probability"),
    (PBT, {"hyperparam_mutations": [("lr", [1, 2])]}, VT, "hyperparam_mutations"),
    (PBT, {"hyperparam_mutations": {"lr": 3}}, VT, 'hyperparam_mutations["lr"]'),
    (PBT, {"hyperparam_mutations": {"lr": "0.1"}}, VT, 'hyperparam_mutations["lr"]'),
    (PBT, {"hyperparam_mutations": {"opt": {"lr": None}}}, VT,
     'hyperparam_mutations["opt"]["lr"]'),
    (PBT, {"hyperparam_mutations": {"opt": {"sub": {"lr": {1, 2}}}}}, VT,
     'hyperparam_mutations["opt"]["sub"]["lr"]'),
    (PBT, {"hyperparam_mutations": {"lr": tune_sample.sample_from(lambda s: 1)}}, VT,
     'hyperparam_mutations["lr"]'),
    (PBT, {"hyperparam_mutations": {"lr": []}}, V, 'hyperparam_mutations["lr"]'),
    (PBT, {"hyperparam_mutations": {"opt": {"lr": ()}}}, V,
     'hyperparam_mutations["opt"]["lr"]'),
    (PBT, {}, VTE, "hyperparam_mutations"),
    (PBT, {"hyperparam_mutations": {}}, VTE, "custom_explore_fn"),
    (PBT, {"hyperparam_mutations": MUT, "custom_explore_fn": 3}, T, "custom_explore_fn"),
    (PBT, {"custom_explore_fn": "explore"}, T, "custom_explore_fn"),
    (PBT, {"hyperparam_mutations": MUT, "log_config": "yes"}, VT, "log_config"),
    (PBT, {"hyperparam_mutations": MUT, "log_config": None}, VT, "log_config"),
    (PBT, {"hyperparam_mutations": MUT, "synch": True}, NI, "synch"),
    (PBT, {"hyperparam_mutations": MUT, "burn_in_period": 5}, NI, "burn_in_period"),
    (PBT, {"hyperparam_mutations": MUT, "perturbation_factors": (1.5, 0.5)}, NI,
     "perturbation_factors"),
    (PBT, {"hyperparam_mutations": MUT, "perturbation_factors": 1.2}, NI,
     "perturbation_factors"),
    # PopulationBasedTrainingReplay
    (REPLAY, {"policy_file": None}, VT, "policy_file"),
    (REPLAY, {"policy_file": 3}, VT, "policy_file"),
]


def _bad_id(case):
    cls, kwargs, _, name = case
    return "{}-{}={!r}".format(cls.__name__, name.split("[")[0], kwargs.get(name.split("[")[0]))


@pytest.mark.parametrize("cls,kwargs,exc,name", BAD_CASES, ids=[_bad_id(c) for c in BAD_CASES])
def test_bad_argument(cls, kwargs, exc, name):
    with pytest.raises(Exception) as info:
        cls(**kwargs)
    for wanted in (exc if isinstance(exc, tuple) else (exc,)):
        assert isinstance(info.value, wanted), (type(info.value), wanted)
    assert name in str(info.value), str(info.value)


@pytest.mark.parametrize("mutations", [{"lr": []}, {"opt": {"lr": ()}}])
def test_empty_mutation_list_is_a_value_not_a_type_error(mutations):
    with pytest.raises(ValueError) as info:
        PBT(hyperparam_mutations=mutations)
    assert not isinstance(info.value, TypeError)
    assert "empty" in str(info.value)


def test_missing_mutations_is_the_tune_error_ray_raised():
    with pytest.raises(TuneError):
        PBT()
    assert issubclass(PBTConfigError, ValueError) and issubclass(PBTConfigError, TuneError)


# ---------------------------------------------------------------------------
# accepted edge values

def test_asha_edges():
    spec = ASHA(max_t=5, grace_period=5, reduction_factor=1.5, brackets=3)._tunec_spec()
    assert (spec["grace_period"], spec["max_t"], spec["brackets"]) == (5, 5, 3)


def test_median_zero_grace_period_and_slice():
    spec = MSR(grace_period=0, min_time_slice=0.0, min_samples_required=1)._tunec_spec()
    assert (spec["grace_period"], spec["min_time_slice"], spec["min_samples_required"]) == (
        0, 0.0, 1)


def test_hyperband_max_t_one():
    assert HB(max_t=1)._tunec_spec()["max_t"] == 1


@pytest.mark.parametrize("qf,rp", [(0, 0), (0.5, 1), (0.0, 1.0)])
def test_pbt_range_ends(qf, rp):
    spec = PBT(quantile_fraction=qf, resample_probability=rp,
               hyperparam_mutations=MUT)._tunec_spec()
    assert (spec["quantile_fraction"], spec["resample_probability"]) == (qf, rp)


def test_pbt_mutation_kinds_are_accepted_unencoded():
    dom = tune_sample.uniform(0.0, 1.0)
    mutations = {"a": [1, 2], "b": (3, 4), "c": lambda: 0.5, "d": dom,
                 "e": {"f": [1], "g": {"h": tune_sample.choice([1, 2])}}, "i": {}, "j": int}
    spec = PBT(hyperparam_mutations=mutations)._tunec_spec()
    assert spec["hyperparam_mutations"] is mutations
    assert spec["hyperparam_mutations"]["d"] is dom


def test_numbers_are_normalised_for_json():
    np = pytest.importorskip("numpy")
    spec = ASHA(max_t=np.int64(50), grace_period=np.float32(2.5),
                reduction_factor=fractions.Fraction(7, 2), brackets=np.int16(2))._tunec_spec()
    assert _same([spec["max_t"], spec["grace_period"], spec["reduction_factor"],
                  spec["brackets"]], [50, 2.5, 3.5, 2])
    json.dumps(spec)
    spec = MSR(min_samples_required=np.int32(4), grace_period=np.float64(1.0))._tunec_spec()
    assert _same([spec["min_samples_required"], spec["grace_period"]], [4, 1.0])


# ---------------------------------------------------------------------------
# PopulationBasedTrainingReplay

def _write_policy(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def _chain_rule(rows):
    """The rule, restated: the longest suffix of rows in which each row's
    old_tag (target) is the new_tag (donor) of the row after it."""
    start = len(rows) - 1
    while start > 0 and rows[start - 1][0] == rows[start][1]:
        start -= 1
    suffix = rows[start:] if rows else []
    initial = suffix[0][4] if suffix else None
    return initial, [[r[3], r[5]] for r in suffix]


REPLAY_CASES = [
    ("empty", [], None, []),
    ("one-exploit", [["T", "D", 3, 5, {"lr": 1}, {"lr": 2}]], {"lr": 1}, [[5, {"lr": 2}]]),
    # T's own line is overwritten: D had no policy file when T cloned it, so
    # T's earlier [T, X] line stays in front of [T, D]; the chain breaks there.
    ("overwritten-branch",
     [["T", "X", 2, 2, {"lr": 9}, {"lr": 8}],
      ["D", "E", 4, 4, {"lr": 1}, {"lr": 2}],
      ["T", "D", 6, 7, {"lr": 2}, {"lr": 3}]],
     {"lr": 1}, [[4, {"lr": 2}], [7, {"lr": 3}]]),
    ("whole-chain",
     [["C", "B", 1, 1, {"x": 0}, {"x": 1}],
      ["D", "C", 2, 3, {"x": 1}, {"x": 2}],
      ["T", "D", 4, 5, {"x": 2}, {"x": 3, "y": {"z": [1]}}]],
     {"x": 0}, [[1, {"x": 1}], [3, {"x": 2}], [5, {"x": 3, "y": {"z": [1]}}]]),
    ("break-at-last-but-one",
     [["A", "B", 1, 1, {"x": 0}, {"x": 1}],
      ["T", "Q", 2, 2, {"x": 5}, {"x": 6}]],
     {"x": 5}, [[2, {"x": 6}]]),
]


@pytest.mark.parametrize("name,rows,initial,policy", REPLAY_CASES,
                         ids=[c[0] for c in REPLAY_CASES])
def test_replay_parses_the_last_tag_chain(tmp_path, name, rows, initial, policy):
    path = _write_policy(tmp_path / "pbt_policy_abc_00001.txt", rows)
    replay = REPLAY(path)
    assert (initial, policy) == _chain_rule(rows)   # the table agrees with the rule
    spec = replay._tunec_spec()
    assert spec["kind"] == "pbt_replay"
    assert spec["initial_config"] == initial
    assert spec["policy"] == policy
    assert spec["experiment_tag"] == "replay_pbt_policy_abc_00001.txt"
    assert json.loads(json.dumps(spec)) == spec
    assert replay.policy_file == path
    assert replay.config == initial
    assert replay.experiment_tag == spec["experiment_tag"]
    assert [list(p) for p in replay._policy] == policy


def test_replay_expands_user_and_takes_pathlike(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    _write_policy(tmp_path / "p.txt", [["T", "D", 1, 1, {}, {"a": 1}]])
    assert REPLAY("~/p.txt").policy_file == str(tmp_path / "p.txt")
    assert REPLAY(tmp_path / "p.txt")._tunec_spec()["policy"] == [[1, {"a": 1}]]


def test_replay_missing_file(tmp_path):
    missing = str(tmp_path / "nope.txt")
    with pytest.raises(ValueError, match="Policy file not found: " + missing):
        REPLAY(missing)


@pytest.mark.parametrize("text", [
    "not json\n",
    '["T", "D", 1, 1, {}, {}]\n{broken\n',
    "\n",
    '["T", "D", 1, 1, {}]\n',
    '{"old_tag": "T"}\n',
    '["T", "D", 1, 1, {}, [1]]\n',
    '["T", "D", "1", 1, {}, {}]\n',
], ids=["not-json", "second-line-broken", "blank-line", "five-fields", "object", "config-list",
        "step-string"])
def test_replay_unreadable_file(tmp_path, text):
    path = tmp_path / "p.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match="Could not read PBT policy file"):
        REPLAY(str(path))


def test_replay_directory_is_unreadable(tmp_path):
    with pytest.raises(ValueError, match="Could not read PBT policy file"):
        REPLAY(str(tmp_path))
