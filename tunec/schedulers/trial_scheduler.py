"""``TrialScheduler`` and ``FIFOScheduler`` (spec §8.1).

The FIFO decisions are made by the C engine (runner.c: first PENDING trial
that fits, CONTINUE on every result); this class is the public face. The
other schedulers come with the scheduler issue.
"""


class TrialScheduler:
    """Interface for trial schedulers."""

    CONTINUE = "CONTINUE"
    PAUSE = "PAUSE"
    STOP = "STOP"
    NOOP = "NOOP"

    _metric = None
    _mode = None

    @property
    def metric(self):
        return self._metric

    def set_search_properties(self, metric, mode):
        if self._metric and metric:
            return False
        if metric:
            self._metric = metric
        if mode:
            self._mode = mode
        return True

    def on_trial_add(self, trial_runner, trial):
        raise NotImplementedError

    def on_trial_error(self, trial_runner, trial):
        raise NotImplementedError

    def on_trial_result(self, trial_runner, trial, result):
        raise NotImplementedError

    def on_trial_complete(self, trial_runner, trial, result):
        raise NotImplementedError

    def on_trial_remove(self, trial_runner, trial):
        raise NotImplementedError

    def choose_trial_to_run(self, trial_runner):
        raise NotImplementedError

    def debug_string(self):
        raise NotImplementedError


class FIFOScheduler(TrialScheduler):
    """Runs trials in submission order; never stops or pauses one."""

    def on_trial_add(self, trial_runner, trial):
        pass

    def on_trial_error(self, trial_runner, trial):
        pass

    def on_trial_result(self, trial_runner, trial, result):
        return TrialScheduler.CONTINUE

    def on_trial_complete(self, trial_runner, trial, result):
        pass

    def on_trial_remove(self, trial_runner, trial):
        pass

    def choose_trial_to_run(self, trial_runner):
        for trial in trial_runner.get_trials():
            if trial.status == trial.PENDING and trial_runner.has_resources(trial.resources):
                return trial
        for trial in trial_runner.get_trials():
            if trial.status == trial.PAUSED and trial_runner.has_resources(trial.resources):
                return trial
        return None

    def debug_string(self):
        return "Using FIFO scheduling algorithm."
