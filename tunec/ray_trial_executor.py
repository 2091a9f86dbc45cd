"""``ray.tune.ray_trial_executor.RayTrialExecutor`` (0.8): the executor a
TrialRunner uses. In tunec it names the engine's local executor (worker
processes on this machine); ``reuse_actors`` is passed on to it. See
tunec.trial_executor for what it can and cannot do from Python."""
from tunec.trial_executor import TrialExecutor


class RayTrialExecutor(TrialExecutor):
    """An implementation of TrialExecutor on tunec's local executor."""

    def __init__(self, queue_trials=False, reuse_actors=False, ray_auto_init=None,
                 refresh_period=0.5, result_buffer_length=None):
        super().__init__(queue_trials)
        self._reuse_actors = reuse_actors
        self._refresh_period = refresh_period
