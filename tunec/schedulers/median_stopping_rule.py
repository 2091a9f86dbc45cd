"""``MedianStoppingRule`` (spec §8.4).

Only the arguments live here; the engine (src/engine/sched_median.c) makes
the decisions from ``_tunec_spec()``.
"""
from tunec.schedulers import _args
from tunec.schedulers.trial_scheduler import _BuiltinScheduler


class MedianStoppingRule(_BuiltinScheduler):
    """The median stopping rule of Golovin et al., "Google Vizier" (spec §8.4).

    A trial is stopped at time ``t`` when its best result is worse than the
    median of the other trials' running means up to ``t``.

    Args:
        time_attr (str): the result field that measures progress
            (``time_total_s`` by default).
        reward_attr (str): deprecated (Ray 0.8): sets ``metric`` to it and
            ``mode`` to "max", with a DeprecationWarning.
        metric (str): the result field to optimise. None: ``tune.run``'s
            ``metric``, else "episode_reward_mean".
        mode (str): "min" or "max". None: ``tune.run``'s ``mode``, else "max".
        grace_period (float): no trial is stopped before this much
            ``time_attr`` (>= 0).
        min_samples_required (int): how many other trials must have reached
            ``t`` before the median is taken (>= 1).
        min_time_slice (float): until there are enough samples, a trial runs
            at least this long before it yields to a waiting trial (>= 0).
        hard_stop (bool): False pauses a trial instead of stopping it; paused
            trials resume FIFO once the others are done.
    """

    _tunec_kind = "median"

    def __init__(self, time_attr="time_total_s", reward_attr=None, metric=None, mode=None,
                 grace_period=60.0, min_samples_required=3, min_time_slice=0, hard_stop=True):
        self._time_attr = _args.check_time_attr(time_attr)
        grace_period = _args.check_number("grace_period", grace_period)
        min_samples_required = _args.check_int("min_samples_required", min_samples_required)
        min_time_slice = _args.check_number("min_time_slice", min_time_slice)
        self._hard_stop = _args.check_bool("hard_stop", hard_stop)
        if grace_period < 0:
            raise ValueError("grace_period: must be >= 0, got {!r}".format(grace_period))
        if min_samples_required < 1:
            raise ValueError("min_samples_required: must be >= 1, got {!r}".format(
                min_samples_required))
        if min_time_slice < 0:
            raise ValueError("min_time_slice: must be >= 0, got {!r}".format(min_time_slice))
        self._init_metric(metric, mode, reward_attr)
        self._grace_period = grace_period
        self._min_samples_required = min_samples_required
        self._min_time_slice = min_time_slice

    def _tunec_params(self):
        return {"time_attr": self._time_attr, "grace_period": self._grace_period,
                "min_samples_required": self._min_samples_required,
                "min_time_slice": self._min_time_slice, "hard_stop": self._hard_stop}
