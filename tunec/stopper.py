"""Stoppers: when to end one trial or the whole experiment (spec §7.2).

``Stopper.__call__(trial_id, result)`` ends one trial; ``stop_all()`` ends the
experiment and is checked after every step.  The classes are Ray Tune 0.8's
(``NoopStopper``, ``FunctionStopper``, ``EarlyStopping``) and 1.x's
(``ExperimentPlateauStopper``, ``MaximumIterationStopper``,
``TrialPlateauStopper``, ``TimeoutStopper``, ``CombinedStopper``), with Ray's
validation messages.  ``make_stopper`` turns ``tune.run``'s ``stop`` argument
into (stopper object or None, stop dict).

The built-in stop *dict* is checked by the C engine; a Stopper object is
Python: after every result the engine calls ``stopper(trial_id, result)``
and then ``stopper.stop_all()`` through one callback, as Ray's trial runner
does. Once ``stop_all()`` returns True no trial starts any more and the
running ones stop.
"""
import math
import numbers
import time
from collections import defaultdict, deque

from tunec import _lazylog
from tunec.error import TuneError

__all__ = [
    "Stopper", "NoopStopper", "FunctionStopper", "EarlyStopping",
    "ExperimentPlateauStopper", "MaximumIterationStopper", "TrialPlateauStopper",
    "TimeoutStopper", "CombinedStopper", "make_stopper",
]

# Ray logs stopper messages on the "ray.tune" hierarchy (spec §18.20).
logger = _lazylog.getLogger("ray.tune.stopper")


def _std(values):
    """Population standard deviation (``np.std``) without importing numpy."""
    values = list(values)
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))


class Stopper:
    """Base class for experiment stoppers (``ray.tune.Stopper``).

    Subclasses implement ``__call__(trial_id, result) -> bool`` (stop this
    trial) and ``stop_all() -> bool`` (stop the experiment).
    """

    def __call__(self, trial_id, result):
        """Returns True if the trial should be terminated given the result."""
        raise NotImplementedError

    def stop_all(self):
        """Returns True if the experiment should be terminated."""
        raise NotImplementedError


class NoopStopper(Stopper):
    """Never stops anything."""

    def __call__(self, trial_id, result):
        return False

    def stop_all(self):
        return False


class FunctionStopper(Stopper):
    """Wraps ``function(trial_id, result) -> bool``; ``stop_all`` is always False.

    The function must accept exactly two positional arguments (spec §18.15);
    anything else is a TuneError here, before any trial starts.
    """

    def __init__(self, function):
        if not callable(function):
            raise TuneError("stop function must be callable, got {!r}".format(function))
        import inspect
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError):
            signature = None  # some builtins have no signature: trust them
        if signature is not None:
            try:
                signature.bind("trial_id", {})
            except TypeError as exc:
                raise TuneError(
                    "stop function {} must accept exactly two arguments "
                    "(trial_id, result); its signature is {}: {}".format(
                        getattr(function, "__name__", repr(function)), signature, exc)
                ) from None
        self._fn = function

    def __call__(self, trial_id, result):
        return self._fn(trial_id, result)

    def stop_all(self):
        return False

    @classmethod
    def is_valid_function(cls, fn):
        """True for a plain callable; ValueError for a Stopper look-alike."""
        is_function = callable(fn) and not isinstance(fn, Stopper)
        if is_function and hasattr(fn, "stop_all"):
            raise ValueError(
                "Stop object must be ray.tune.Stopper subclass to be detected "
                "correctly.")
        return is_function


class EarlyStopping(Stopper):
    """Stops the experiment once the best ``top`` values of ``metric`` plateau.

    Ray 1.x renamed it ``ExperimentPlateauStopper``; both names are this class.

    Keeps the ``top`` best values seen across all results (lowest for "min",
    highest for "max").  The experiment has plateaued when ``top`` values are
    collected and their standard deviation is at most ``std``; ``stop_all``
    (and ``__call__``) return True once that held for ``patience`` results.
    """

    def __init__(self, metric, std=0.001, top=10, mode="min", patience=0):
        if mode not in ("min", "max"):
            raise ValueError("The mode parameter can only be either min or max.")
        if not isinstance(top, int) or isinstance(top, bool) or top <= 1:
            raise ValueError("Top results to consider must be"
                             " a positive integer greater than one.")
        if not isinstance(patience, int) or isinstance(patience, bool) or patience < 0:
            raise ValueError("Patience must be a strictly positive integer.")
        if not isinstance(std, float) or std <= 0:
            raise ValueError("The standard deviation must be"
                             " a strictly positive float number.")
        self._mode = mode
        self._metric = metric
        self._patience = patience
        self._iterations = 0
        self._std = std
        self._top = top
        self._top_values = []

    def __call__(self, trial_id, result):
        self._top_values.append(result[self._metric])
        if self._mode == "min":
            self._top_values = sorted(self._top_values)[:self._top]
        else:
            self._top_values = sorted(self._top_values)[-self._top:]
        # Count consecutive plateaued results; any other result resets.
        if self.has_plateaued():
            self._iterations += 1
        else:
            self._iterations = 0
        return self.stop_all()

    def has_plateaued(self):
        return (len(self._top_values) == self._top
                and _std(self._top_values) <= self._std)

    def stop_all(self):
        return self.has_plateaued() and self._iterations >= self._patience


ExperimentPlateauStopper = EarlyStopping


class MaximumIterationStopper(Stopper):
    """Stops each trial after ``max_iter`` results."""

    def __init__(self, max_iter):
        if not isinstance(max_iter, numbers.Real) or isinstance(max_iter, bool):
            raise ValueError("`max_iter` must be a number, got {!r}".format(max_iter))
        self._max_iter = max_iter
        self._iter = defaultdict(int)

    def __call__(self, trial_id, result):
        self._iter[trial_id] += 1
        return self._iter[trial_id] >= self._max_iter

    def stop_all(self):
        return False


class TrialPlateauStopper(Stopper):
    """Stops a trial when its last ``num_results`` values of ``metric`` plateau.

    Not before ``grace_period`` results; with ``metric_threshold`` only once
    the value is at or below it ("min") or at or above it ("max").  Plateau
    means a standard deviation strictly below ``std``.
    """

    def __init__(self, metric, std=0.01, num_results=4, grace_period=4,
                 metric_threshold=None, mode=None):
        self._metric = metric
        self._mode = mode
        self._std = std
        self._num_results = num_results
        self._grace_period = grace_period
        self._metric_threshold = metric_threshold
        if self._metric_threshold:
            if mode not in ["min", "max"]:
                raise ValueError(
                    "When specifying a `metric_threshold`, the `mode` "
                    "argument has to be one of [min, max]. "
                    "Got: {}".format(mode))
        self._iter = defaultdict(int)
        self._trial_results = defaultdict(lambda: deque(maxlen=self._num_results))

    def __call__(self, trial_id, result):
        metric_result = result.get(self._metric)
        self._trial_results[trial_id].append(metric_result)
        self._iter[trial_id] += 1
        if self._iter[trial_id] < self._grace_period:
            return False
        if len(self._trial_results[trial_id]) < self._num_results:
            return False
        if self._metric_threshold is not None:
            if self._mode == "min" and metric_result > self._metric_threshold:
                return False
            if self._mode == "max" and metric_result < self._metric_threshold:
                return False
        try:
            current_std = _std(float(v) for v in self._trial_results[trial_id])
        except (TypeError, ValueError):  # a missing (None) or non-numeric value
            current_std = float("inf")
        return current_std < self._std

    def stop_all(self):
        return False


class TimeoutStopper(Stopper):
    """Stops the experiment ``timeout`` seconds after the first ``stop_all`` check.

    ``timeout`` is a number of seconds or a ``datetime.timedelta``.  The clock
    starts at the first ``stop_all()`` call (so setup time is not counted, as
    in Ray) and is ``time.monotonic``, unaffected by wall-clock changes.
    """

    _clock = staticmethod(time.monotonic)

    def __init__(self, timeout):
        import datetime
        if isinstance(timeout, datetime.timedelta):
            self._timeout_seconds = timeout.total_seconds()
        elif isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
            self._timeout_seconds = timeout
        else:
            raise ValueError(
                "`timeout` parameter has to be either a number or a "
                "`datetime.timedelta` object. Found: {}".format(type(timeout)))
        self._start = None

    def __call__(self, trial_id, result):
        return False

    def stop_all(self):
        now = self._clock()
        if self._start is None:
            self._start = now
            return False
        if now - self._start >= self._timeout_seconds:
            logger.info("Reached timeout of %s seconds. Stopping all trials.",
                        self._timeout_seconds)
            return True
        return False


class CombinedStopper(Stopper):
    """Stops when any of ``stoppers`` does (logical OR).

    Every stopper sees every result, so stateful stoppers keep counting even
    when an earlier one already decided to stop.
    """

    def __init__(self, *stoppers):
        for index, stopper in enumerate(stoppers):
            if not isinstance(stopper, Stopper):
                raise ValueError(
                    "CombinedStopper argument {} must be a Stopper, got {!r}".format(
                        index, stopper))
        self._stoppers = stoppers

    def __call__(self, trial_id, result):
        return any([s(trial_id, result) for s in self._stoppers])

    def stop_all(self):
        return any([s.stop_all() for s in self._stoppers])


def _validate_stop_dict(stop):
    """Checks a stop dict (spec §7.1); returns a plain dict copy."""
    criteria = {}
    for key, value in stop.items():
        if not isinstance(key, str):
            raise ValueError("Stopping criteria keys must be strings, got {!r}".format(key))
        if isinstance(value, dict):
            raise ValueError(
                "Stopping criteria is now flattened by default. "
                "Use forward slashes to nest values `key1/key2/key3`.")
        if not isinstance(value, numbers.Real):
            raise ValueError(
                "Stopping criteria {!r} must be a number, got {!r}".format(key, value))
        criteria[key] = value
    return criteria


def make_stopper(stop):
    """Maps ``tune.run(stop=...)`` to ``(stopper or None, stop dict)``.

    * None or an empty dict: ``(None, {})``;
    * a dict of ``key -> number``: ``(None, dict)``;
    * a :class:`Stopper`: ``(stopper, {})``;
    * a list of Stoppers (1.x): ``(CombinedStopper(*stop), {})``;
    * a plain callable ``f(trial_id, result)``: ``(FunctionStopper(f), {})``.
    """
    if stop is None:
        return None, {}
    if isinstance(stop, dict):
        return None, _validate_stop_dict(stop)
    if isinstance(stop, Stopper):
        return stop, {}
    if isinstance(stop, list):
        if not all(isinstance(s, Stopper) for s in stop):
            raise ValueError(
                "If you pass a list as the `stop` argument to `tune.run()`, "
                "each element must be an instance of `tune.stopper.Stopper`.")
        return CombinedStopper(*stop), {}
    if isinstance(stop, type) and issubclass(stop, Stopper):
        raise ValueError("stop must be a Stopper instance, got the class {0}; "
                         "pass {0}(...) instead".format(stop.__name__))
    if callable(stop) and FunctionStopper.is_valid_function(stop):
        return FunctionStopper(stop), {}
    raise ValueError("Invalid stop criteria: {}. Must be a callable or dict".format(stop))
