"""``AsyncHyperBandScheduler`` / ``ASHAScheduler`` (spec §8.2).

Only the arguments live here; the engine (src/engine/sched_asha.c) makes the
decisions from ``_tunec_spec()``.
"""
from tunec.schedulers import _args
from tunec.schedulers.trial_scheduler import _BuiltinScheduler


class AsyncHyperBandScheduler(_BuiltinScheduler):
    """Asynchronous Successive Halving (spec §8.2).

    Like HyperBand, without its stragglers: a trial is stopped at a rung
    (``grace_period * reduction_factor**k``) unless it is in the top
    ``1/reduction_factor`` of the trials that reached that rung before it.
    With several brackets a trial's bracket is drawn with a softmax over the
    brackets' rung counts. See https://openreview.net/forum?id=S1Y7OOlRZ

    Args:
        time_attr (str): the result field that measures progress; it must
            increase monotonically (``training_iteration`` by default).
        reward_attr (str): deprecated (Ray 0.8): sets ``metric`` to it and
            ``mode`` to "max", with a DeprecationWarning.
        metric (str): the result field to optimise. None: ``tune.run``'s
            ``metric``, else "episode_reward_mean".
        mode (str): "min" or "max". None: ``tune.run``'s ``mode``, else "max".
        max_t (float): trials are stopped once ``time_attr`` reaches it.
        grace_period (float): no trial is stopped before this much
            ``time_attr``; the first rung.
        reduction_factor (float): the halving rate (> 1).
        brackets (int): the number of brackets (>= 1).
        stop_last_trials (bool): Ray 1.x; only True (stop at ``max_t``) is
            supported.
    """

    _tunec_kind = "asha"

    def __init__(self, time_attr="training_iteration", reward_attr=None, metric=None,
                 mode=None, max_t=100, grace_period=1, reduction_factor=4, brackets=1,
                 stop_last_trials=True):
        self._time_attr = _args.check_time_attr(time_attr)
        max_t = _args.check_number("max_t", max_t)
        grace_period = _args.check_number("grace_period", grace_period)
        reduction_factor = _args.check_number("reduction_factor", reduction_factor)
        brackets = _args.check_int("brackets", brackets)
        # Ray's assertions (spec §8.2), in Ray's order.
        if max_t <= 0:
            raise ValueError("max_t: must be > 0, got {!r}".format(max_t))
        if grace_period <= 0:
            raise ValueError("grace_period: must be > 0, got {!r}".format(grace_period))
        if grace_period > max_t:
            raise ValueError("grace_period: must be <= max_t, got grace_period={!r} > "
                             "max_t={!r}".format(grace_period, max_t))
        if reduction_factor <= 1:
            raise ValueError("reduction_factor: must be > 1, got {!r}".format(reduction_factor))
        if brackets < 1:
            raise ValueError("brackets: must be >= 1, got {!r}".format(brackets))
        _args.require_default("stop_last_trials", stop_last_trials, True,
                              "trials always stop at max_t")
        self._init_metric(metric, mode, reward_attr)
        self._max_t = max_t
        self._grace_period = grace_period
        self._reduction_factor = reduction_factor
        self._num_brackets = brackets
        self._stop_last_trials = True
        self._num_stopped = 0

    def _tunec_params(self):
        return {"time_attr": self._time_attr, "max_t": self._max_t,
                "grace_period": self._grace_period,
                "reduction_factor": self._reduction_factor, "brackets": self._num_brackets}


ASHAScheduler = AsyncHyperBandScheduler
