"""``ray.tune.trial_executor.TrialExecutor`` (0.8): the interface a
TrialRunner starts, stops and checkpoints trials through.

In tunec the engine's local executor (src/ext/executor_local.c) does that
work: it starts trials in worker processes, saves and restores their
checkpoints and fetches their results itself. This class keeps Ray's names
and signatures; what a Python executor cannot do to the engine's trials
raises NotImplementedError naming the method. ``RayTrialExecutor``
(tunec.ray_trial_executor) is the one TrialRunner uses.
"""
import logging

from tunec.trial import Checkpoint, Trial

logger = logging.getLogger("ray.tune.trial_executor")


def _engine_only(method):
    raise NotImplementedError(
        "TrialExecutor.{}: tunec's engine runs this step itself (workers, checkpoints and "
        "results are handled by the C executor); it cannot be called from Python".format(
            method))


class TrialExecutor:
    """Manages platform-specific details such as resource handling and
    starting/stopping trials."""

    def __init__(self, queue_trials=False):
        self._queue_trials = queue_trials
        self._cached_trial_state = {}
        self._runner = None          # the TrialRunner this executor serves

    def set_status(self, trial, status):
        """Sets the status of a trial object (the engine's own record follows
        its events, not this call)."""
        trial.status = status
        if status in (Trial.TERMINATED, Trial.ERROR):
            self.try_checkpoint_metadata(trial)

    def try_checkpoint_metadata(self, trial):
        if trial._checkpoint is not None and trial._checkpoint.storage == Checkpoint.MEMORY:
            logger.debug("Not saving data for trial w/ memory checkpoint.")
            return
        self._cached_trial_state[trial.trial_id] = dict(trial.__dict__)

    def get_checkpoints(self):
        return self._cached_trial_state.copy()

    def has_resources(self, resources):
        if self._runner is None:
            raise NotImplementedError("TrialExecutor.has_resources: this executor is not "
                                      "attached to a TrialRunner")
        return self._runner.has_resources(resources)

    def get_running_trials(self):
        if self._runner is None:
            return []
        return [t for t in self._runner.get_trials() if t.status == Trial.RUNNING]

    def stop_trial(self, trial, error=False, error_msg=None, stop_logger=True):
        if error or error_msg:
            _engine_only("stop_trial(error=True)")
        if self._runner is None:
            _engine_only("stop_trial")
        self._runner.stop_trial(trial)

    def unpause_trial(self, trial):
        """PAUSED -> PENDING (the scheduler may start it again)."""
        assert trial.status == Trial.PAUSED, trial.status
        index = self._runner._index_of(trial) if self._runner is not None else None
        if index is None:
            _engine_only("unpause_trial")
        self._runner._handle.sched_act(2, index)
        self._runner._update_trials()

    def start_trial(self, trial, checkpoint=None):
        _engine_only("start_trial")

    def continue_training(self, trial):
        """Nothing to do: the engine continues a trial's training itself."""

    def pause_trial(self, trial):
        _engine_only("pause_trial")

    def resume_trial(self, trial):
        _engine_only("resume_trial")

    def reset_trial(self, trial, new_config, new_experiment_tag):
        _engine_only("reset_trial")

    def on_step_begin(self, trial_runner=None):
        """A hook called before running one step of the trial event loop."""

    def on_step_end(self, trial_runner=None):
        """A hook called after running one step of the trial event loop."""

    def on_no_available_trials(self, trial_runner):
        """Called when no trial can start (the engine raises its own error)."""

    def get_next_available_trial(self):
        _engine_only("get_next_available_trial")

    def get_next_failed_trial(self):
        _engine_only("get_next_failed_trial")

    def fetch_result(self, trial):
        _engine_only("fetch_result")

    def debug_string(self):
        return self._runner.debug_string() if self._runner is not None else ""

    def resource_string(self):
        if self._runner is None or self._runner._handle is None:
            return ""
        return self._runner._handle.resources_string()

    def restore(self, trial, checkpoint=None):
        _engine_only("restore")

    def save(self, trial, storage=Checkpoint.PERSISTENT, result=None):
        _engine_only("save")

    def export_trial_if_needed(self, trial):
        _engine_only("export_trial_if_needed")

    def has_gpus(self):
        from tunec import _capacity
        return _capacity.current()["num_gpus"] > 0

    def cleanup(self, trial=None):
        if self._runner is not None:
            self._runner.cleanup_trials()
