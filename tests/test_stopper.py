"""Stoppers and the ``stop`` argument (spec §7, §18.14-15)."""
import datetime
import functools

import pytest

from tunec.error import TuneError
from tunec.stopper import (CombinedStopper, EarlyStopping, ExperimentPlateauStopper,
                           FunctionStopper, MaximumIterationStopper, NoopStopper, Stopper,
                           TimeoutStopper, TrialPlateauStopper, make_stopper)


def test_base_stopper_is_abstract():
    with pytest.raises(NotImplementedError):
        Stopper()("t", {})
    with pytest.raises(NotImplementedError):
        Stopper().stop_all()


def test_noop_stopper():
    stopper = NoopStopper()
    assert stopper("t", {"x": 1e9}) is False
    assert stopper.stop_all() is False


# -- FunctionStopper ------------------------------------------------------------------
def two_args(trial_id, result):
    return result["x"] > 2


class CallableObject:
    def __call__(self, trial_id, result):
        return trial_id == "stop-me"


class WithMethod:
    def check(self, trial_id, result):
        return True


@pytest.mark.parametrize("fn", [
    two_args,
    lambda trial_id, result, extra=1: False,
    lambda *args: False,
    lambda trial_id, *rest: False,
    lambda trial_id, result, *, flag=False: False,
    CallableObject(),
    WithMethod().check,
    functools.partial(lambda a, trial_id, result: False, 1),
])
def test_function_stopper_accepts_two_argument_callables(fn):
    stopper = FunctionStopper(fn)
    assert stopper.stop_all() is False


@pytest.mark.parametrize("fn", [
    lambda result: False,
    lambda a, b, c: False,
    lambda: False,
    lambda trial_id, result, *, required: False,
    functools.partial(lambda trial_id, result: False, 1, 2),
])
def test_function_stopper_rejects_other_arities(fn):
    with pytest.raises(TuneError, match=r"exactly two arguments \(trial_id, result\)"):
        FunctionStopper(fn)


def test_function_stopper_error_names_function_and_signature():
    def my_stop(result):
        return False

    with pytest.raises(TuneError, match=r"my_stop.*\(result\)"):
        FunctionStopper(my_stop)


def test_function_stopper_calls_function():
    stopper = FunctionStopper(two_args)
    assert stopper("t", {"x": 3}) is True
    assert stopper("t", {"x": 1}) is False
    assert FunctionStopper(CallableObject())("stop-me", {}) is True


def test_function_stopper_builtin_without_signature_is_trusted():
    FunctionStopper(max)  # no error: builtins may lack a signature


# -- ExperimentPlateauStopper / EarlyStopping --------------------------------------------
@pytest.mark.parametrize("kwargs,message", [
    ({"mode": "avg"}, "The mode parameter can only be either min or max."),
    ({"top": 1}, "Top results to consider must be a positive integer greater than one."),
    ({"top": 2.0}, "Top results to consider must be a positive integer greater than one."),
    ({"patience": -1}, "Patience must be a strictly positive integer."),
    ({"patience": 1.5}, "Patience must be a strictly positive integer."),
    ({"std": 0.0}, "The standard deviation must be a strictly positive float number."),
    ({"std": 1}, "The standard deviation must be a strictly positive float number."),
    ({"std": -0.5}, "The standard deviation must be a strictly positive float number."),
])
@pytest.mark.parametrize("cls", [EarlyStopping, ExperimentPlateauStopper])
def test_plateau_validation(cls, kwargs, message):
    with pytest.raises(ValueError) as info:
        cls("loss", **kwargs)
    assert str(info.value) == message


def test_early_stopping_is_the_plateau_stopper():
    assert EarlyStopping is ExperimentPlateauStopper
    stopper = EarlyStopping(metric="loss", std=0.001, top=10, mode="min", patience=0)
    assert stopper.stop_all() is False


@pytest.mark.parametrize("mode,values,expected", [
    # top=3, std=0.1, patience=0: stops once the 3 best values are within std.
    ("min", [5.0, 1.0, 1.05], [False, False, False]),   # best 3: 1, 1.05, 5
    ("min", [5.0, 1.0, 1.05, 1.1], [False, False, False, True]),
    ("max", [1.0, 9.0, 8.95, 9.05], [False, False, False, True]),
    ("max", [9.0, 9.0, 1.0, 1.0], [False, False, False, False]),
])
def test_plateau_rules(mode, values, expected):
    stopper = ExperimentPlateauStopper("m", std=0.1, top=3, mode=mode, patience=0)
    got = [stopper("t{}".format(i), {"m": v}) for i, v in enumerate(values)]
    assert got == expected
    assert stopper.stop_all() is expected[-1]


def test_plateau_patience_counts_plateaued_results():
    stopper = ExperimentPlateauStopper("m", std=0.5, top=2, mode="min", patience=2)
    # Plateaued from the 2nd result on; counter 1, 2, 3 -> stops at >= 2.
    assert [stopper("t", {"m": 1.0}) for _ in range(4)] == [False, False, True, True]


def test_plateau_counter_resets():
    stopper = ExperimentPlateauStopper("m", std=0.5, top=2, mode="max", patience=1)
    assert stopper("t", {"m": 1.0}) is False
    assert stopper("t", {"m": 1.0}) is True     # plateaued, counter 1
    assert stopper("t", {"m": 10.0}) is False   # best two now 1, 10: counter reset
    assert stopper("t", {"m": 10.0}) is True


def test_plateau_missing_metric_is_key_error():
    with pytest.raises(KeyError):
        ExperimentPlateauStopper("m")("t", {"other": 1})


# -- MaximumIterationStopper ---------------------------------------------------------
def test_maximum_iteration_stopper_counts_per_trial():
    stopper = MaximumIterationStopper(max_iter=3)
    assert [stopper("a", {}) for _ in range(3)] == [False, False, True]
    assert stopper("b", {}) is False
    assert stopper("a", {}) is True
    assert stopper.stop_all() is False


def test_maximum_iteration_stopper_validates():
    with pytest.raises(ValueError, match="max_iter"):
        MaximumIterationStopper("10")


# -- TrialPlateauStopper -----------------------------------------------------------------
@pytest.mark.parametrize("kwargs,values,expected", [
    # grace_period=4, num_results=4: first possible stop is the 4th result.
    ({}, [1.0, 1.0, 1.0, 1.0], [False, False, False, True]),
    ({}, [1.0, 2.0, 1.0, 1.0, 1.0, 1.0], [False] * 5 + [True]),
    # std is strict: a deviation of exactly 0.25 does not stop.
    ({"std": 0.25, "num_results": 2, "grace_period": 0}, [1.0, 1.5, 1.5],
     [False, False, True]),
    ({"grace_period": 6}, [1.0] * 6, [False] * 5 + [True]),
    # threshold: only below (min) / above (max) it.
    ({"metric_threshold": 0.5, "mode": "min", "num_results": 2, "grace_period": 2},
     [1.0, 1.0, 0.4, 0.4], [False, False, False, True]),
    ({"metric_threshold": 0.5, "mode": "max", "num_results": 2, "grace_period": 2},
     [0.4, 0.4, 0.6, 0.6], [False, False, False, True]),
    # a missing metric makes the deviation infinite
    ({"num_results": 2, "grace_period": 2}, [1.0, None, 1.0], [False, False, False]),
])
def test_trial_plateau_rules(kwargs, values, expected):
    stopper = TrialPlateauStopper("m", **kwargs)
    got = [stopper("t", {} if v is None else {"m": v}) for v in values]
    assert got == expected
    assert stopper.stop_all() is False


def test_trial_plateau_is_per_trial():
    stopper = TrialPlateauStopper("m", num_results=2, grace_period=2)
    assert stopper("a", {"m": 1.0}) is False
    assert stopper("b", {"m": 1.0}) is False
    assert stopper("a", {"m": 1.0}) is True


def test_trial_plateau_threshold_needs_mode():
    with pytest.raises(ValueError, match=r"`mode` argument has to be one of \[min, max\]. Got: None"):
        TrialPlateauStopper("m", metric_threshold=1.0)


# -- TimeoutStopper ------------------------------------------------------------------
class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize("timeout", [10, 10.0, datetime.timedelta(seconds=10)])
def test_timeout_stopper(timeout):
    stopper = TimeoutStopper(timeout)
    stopper._clock = clock = FakeClock()
    clock.now = 500.0
    assert stopper.stop_all() is False        # the clock starts here
    clock.now = 509.9
    assert stopper.stop_all() is False
    assert stopper("t", {}) is False
    clock.now = 510.0
    assert stopper.stop_all() is True


def test_timeout_stopper_validates():
    with pytest.raises(ValueError, match="`timeout` parameter has to be either a number"):
        TimeoutStopper("10")


# -- CombinedStopper ---------------------------------------------------------------------
class Recorder(Stopper):
    def __init__(self, stop, stop_all=False):
        self.calls = 0
        self._stop = stop
        self._stop_all = stop_all

    def __call__(self, trial_id, result):
        self.calls += 1
        return self._stop

    def stop_all(self):
        return self._stop_all


def test_combined_stopper_is_or_and_calls_all():
    first, second = Recorder(True), Recorder(False)
    combined = CombinedStopper(first, second)
    assert combined("t", {}) is True
    assert (first.calls, second.calls) == (1, 1)
    assert combined.stop_all() is False
    assert CombinedStopper(Recorder(False), Recorder(False, stop_all=True)).stop_all() is True
    assert CombinedStopper(Recorder(False), Recorder(False))("t", {}) is False


def test_combined_stopper_validates():
    with pytest.raises(ValueError, match="argument 1 must be a Stopper"):
        CombinedStopper(NoopStopper(), lambda t, r: True)


# -- make_stopper ---------------------------------------------------------------------------
def test_make_stopper_none_and_dicts():
    assert make_stopper(None) == (None, {})
    assert make_stopper({}) == (None, {})
    stopper, criteria = make_stopper({"training_iteration": 5, "a/b": 0.5, "done": True})
    assert stopper is None
    assert criteria == {"training_iteration": 5, "a/b": 0.5, "done": True}


def test_make_stopper_nested_dict_message():
    with pytest.raises(ValueError) as info:
        make_stopper({"a": {"b": 1}})
    assert str(info.value) == ("Stopping criteria is now flattened by default. Use forward "
                               "slashes to nest values `key1/key2/key3`.")


@pytest.mark.parametrize("stop,match", [
    ({"mean_accuracy": "0.9"}, "'mean_accuracy' must be a number"),
    ({"x": None}, "'x' must be a number"),
    ({1: 2}, "keys must be strings"),
])
def test_make_stopper_bad_dict_values(stop, match):
    with pytest.raises(ValueError, match=match):
        make_stopper(stop)


def test_make_stopper_objects():
    noop = NoopStopper()
    assert make_stopper(noop) == (noop, {})
    stopper, criteria = make_stopper(two_args)
    assert isinstance(stopper, FunctionStopper) and criteria == {}
    assert stopper("t", {"x": 5}) is True
    combined, _ = make_stopper([NoopStopper(), MaximumIterationStopper(1)])
    assert isinstance(combined, CombinedStopper) and combined("t", {}) is True


def test_make_stopper_function_arity_is_tune_error():
    with pytest.raises(TuneError):
        make_stopper(lambda result: True)


def test_make_stopper_stop_all_lookalike():
    class LooksLikeStopper:
        def __call__(self, trial_id, result):
            return False

        def stop_all(self):
            return False

    with pytest.raises(ValueError) as info:
        make_stopper(LooksLikeStopper())
    assert str(info.value) == ("Stop object must be ray.tune.Stopper subclass to be "
                               "detected correctly.")


@pytest.mark.parametrize("stop", ["iterations", 5, 3.5, ("a", 1)])
def test_make_stopper_invalid(stop):
    with pytest.raises(ValueError, match=r"Invalid stop criteria: .*\. Must be a callable or dict"):
        make_stopper(stop)


def test_make_stopper_list_of_non_stoppers():
    with pytest.raises(ValueError, match="each element must be an instance"):
        make_stopper([NoopStopper(), two_args])


def test_make_stopper_stopper_class_instead_of_instance():
    with pytest.raises(ValueError, match=r"pass NoopStopper\(\.\.\.\) instead"):
        make_stopper(NoopStopper)
