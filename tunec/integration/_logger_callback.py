"""The LoggerCallback interface the integration callbacks implement (Ray
1.x ``ray.tune.logger.LoggerCallback``): ``log_trial_start``,
``log_trial_result``, ``log_trial_end`` ... called from the ``Callback``
hooks. ``tunec.logger.LoggerCallback`` is used when it exists (the callbacks
work owns it); this fallback keeps the integrations usable and testable
without it."""
from tunec.callback import Callback

try:
    from tunec.logger import LoggerCallback
except ImportError:
    class LoggerCallback(Callback):
        """Ray's LoggerCallback: the trial hooks turned into log_* calls."""

        def log_trial_start(self, trial):
            pass

        def log_trial_restore(self, trial):
            pass

        def log_trial_save(self, trial):
            pass

        def log_trial_result(self, iteration, trial, result):
            pass

        def log_trial_end(self, trial, failed=False):
            pass

        def on_trial_start(self, iteration, trials, trial, **info):
            self.log_trial_start(trial)

        def on_trial_restore(self, iteration, trials, trial, **info):
            self.log_trial_restore(trial)

        def on_trial_save(self, iteration, trials, trial, **info):
            self.log_trial_save(trial)

        def on_trial_result(self, iteration, trials, trial, result, **info):
            self.log_trial_result(iteration, trial, result)

        def on_trial_complete(self, iteration, trials, trial, **info):
            self.log_trial_end(trial, failed=False)

        def on_trial_error(self, iteration, trials, trial, **info):
            self.log_trial_end(trial, failed=True)


def numeric_metrics(result, exclude=()):
    """The flattened (``a/b``) int/float entries of a result, bools and the
    bookkeeping in ``exclude`` left out: what a tracker can plot."""
    import numbers
    from tunec.logger import _flatten_dict
    metrics = {}
    for key, value in _flatten_dict(result).items():
        if key.split("/", 1)[0] in exclude or isinstance(value, bool):
            continue
        if isinstance(value, numbers.Number) and not isinstance(value, complex):
            metrics[key] = float(value)
    return metrics


def flat_config(config):
    from tunec.logger import _flatten_dict
    return _flatten_dict(dict(config or {}))


# Result fields that are bookkeeping, not metrics (Ray's excludes).
NOT_METRICS = ("done", "should_checkpoint", "trial_id", "experiment_id", "date", "timestamp",
               "pid", "hostname", "node_ip", "config", "experiment_tag", "training_iteration")
