"""``HyperBandScheduler``, synchronous HyperBand (spec §8.3).

Only the arguments live here; the engine (src/engine/sched_hyperband.c) makes
the decisions from ``_tunec_spec()``.
"""
from tunec.schedulers import _args
from tunec.schedulers.trial_scheduler import _BuiltinScheduler


class HyperBandScheduler(_BuiltinScheduler):
    """Synchronous HyperBand (spec §8.3).

    Trials fill brackets of successive halving: a bracket's trials run to its
    milestone and pause there; when all have arrived the best
    ``1/reduction_factor`` go on and the rest stop. Trials must be pausable
    (checkpointable class trainables).
    See https://people.eecs.berkeley.edu/~kjamieson/hyperband.html

    Args:
        time_attr (str): the result field that measures progress; it must
            increase monotonically (``training_iteration`` by default).
        reward_attr (str): deprecated (Ray 0.8): sets ``metric`` to it and
            ``mode`` to "max", with a DeprecationWarning.
        metric (str): the result field to optimise. None: ``tune.run``'s
            ``metric``, else "episode_reward_mean".
        mode (str): "min" or "max". None: ``tune.run``'s ``mode``, else "max".
        max_t (float): the most ``time_attr`` a trial gets (>= 1); the
            number of brackets follows from it.
        reduction_factor (float): ``eta`` of the paper (> 1).
        stop_last_trials (bool): Ray 1.x. True: trials stop at ``max_t``.
            False: the trials left after a bracket's last halving are not
            stopped by the scheduler and run on past ``max_t`` until their
            own stop condition.
    """

    _tunec_kind = "hyperband"

    def __init__(self, time_attr="training_iteration", reward_attr=None, metric=None,
                 mode=None, max_t=81, reduction_factor=3, stop_last_trials=True):
        self._time_attr = _args.check_time_attr(time_attr)
        max_t = _args.check_number("max_t", max_t)
        reduction_factor = _args.check_number("reduction_factor", reduction_factor)
        # Below 1, log(max_t) < 0 and the bracket count s_max_1 is < 1.
        if max_t < 1:
            raise ValueError("max_t: must be >= 1, got {!r}".format(max_t))
        if reduction_factor <= 1:
            raise ValueError("reduction_factor: must be > 1, got {!r}".format(reduction_factor))
        _args.check_bool("stop_last_trials", stop_last_trials)
        self._init_metric(metric, mode, reward_attr)
        self._max_t_attr = max_t
        self._eta = reduction_factor
        self._stop_last_trials = stop_last_trials
        self._num_stopped = 0

    def _tunec_params(self):
        return {"time_attr": self._time_attr, "max_t": self._max_t_attr,
                "reduction_factor": self._eta, "stop_last_trials": self._stop_last_trials}
