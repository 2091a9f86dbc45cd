"""``ResultGrid``: what ``Tuner.fit`` returns (Ray 2.x ``ray.tune.ResultGrid``).

A view over the ``ExperimentAnalysis`` that ``tune.run`` returned: one
``Result`` per trial, in the order the trials were created (Ray's order);
the best-result and dataframe methods are the analysis' own.
"""
import os

from tunec.air.result import Result, _checkpoints, _error, checkpoint_dir
from tunec.checkpoint import Checkpoint

__all__ = ["ResultGrid"]


class ResultGrid:
    """The results of every trial of an experiment, errored ones included.

    The constructor is private: a ResultGrid comes from ``Tuner.fit()`` or
    ``Tuner.get_results()``.
    """

    def __init__(self, experiment_analysis):
        self._experiment_analysis = experiment_analysis
        self._results = [self._trial_to_result(trial) for trial in experiment_analysis.trials]

    @property
    def experiment_path(self):
        """The experiment directory (``<storage_path>/<name>``)."""
        return self._experiment_analysis._experiment_dir

    @property
    def filesystem(self):
        return None        # always the local file system

    def get_best_result(self, metric=None, mode=None, scope="last", filter_nan_and_inf=True):
        """The Result of the best trial: by each trial's last value of
        ``metric`` (``scope="last"``), its best (``"all"``) or an average
        (``"avg"``, ``"last-5-avg"``, ``"last-10-avg"``). ``metric`` and
        ``mode`` default to the TuneConfig's; a single trial is the best one
        whatever they are, as in Ray."""
        analysis = self._experiment_analysis
        if len(analysis.trials) == 1:
            return self._results[0]
        if not metric and not analysis.default_metric:
            raise ValueError("No metric is provided. Either pass in a `metric` arg to "
                             "`get_best_result` or specify a metric in the `TuneConfig` of "
                             "your `Tuner`.")
        if not mode and not analysis.default_mode:
            raise ValueError("No mode is provided. Either pass in a `mode` arg to "
                             "`get_best_result` or specify a mode in the `TuneConfig` of "
                             "your `Tuner`.")
        best = analysis.get_best_trial(metric=metric, mode=mode, scope=scope,
                                       filter_nan_and_inf=filter_nan_and_inf)
        if best is None:
            message = ("No best trial found for the given metric: {}. This means that no trial "
                       "has reported this metric".format(metric or analysis.default_metric))
            message += (", or all values reported for this metric are NaN. To not ignore NaN "
                        "values, you can set the `filter_nan_and_inf` arg to False."
                        if filter_nan_and_inf else ".")
            raise RuntimeError(message)
        return self._results[analysis.trials.index(best)]

    def get_dataframe(self, filter_metric=None, filter_mode=None):
        """One row per trial: its last result, or with ``filter_metric`` and
        ``filter_mode`` the row where that metric is best; config columns
        ``config/<key>`` and ``logdir``."""
        return self._experiment_analysis.dataframe(metric=filter_metric, mode=filter_mode)

    def __len__(self):
        return len(self._results)

    def __getitem__(self, i):
        return self._results[i]

    def __iter__(self):
        return iter(self._results)

    @property
    def errors(self):
        """The exceptions of the trials that ended in error."""
        return [result.error for result in self._results if result.error]

    @property
    def num_errors(self):
        return sum(t.status == "ERROR" for t in self._experiment_analysis.trials)

    @property
    def num_terminated(self):
        """Trials that ended without an error."""
        return sum(t.status == "TERMINATED" for t in self._experiment_analysis.trials)

    def __repr__(self):
        inner = ",\n".join("  " + repr(r).replace("\n", "\n  ") for r in self._results)
        return "ResultGrid<[\n{}\n]>".format(inner)

    def _frames(self):
        """{logdir: DataFrame} of the trials with results; {} when none has,
        or without pandas (an optional dependency of tunec: then each
        Result's metrics_dataframe is None rather than fit() failing)."""
        from tunec.error import TuneError
        try:
            return self._experiment_analysis.trial_dataframes
        except (TuneError, ImportError):
            return {}

    def _trial_to_result(self, trial):
        logdir = trial.logdir
        checkpoint = None
        if trial.checkpoint.value and logdir:
            checkpoint = Checkpoint(checkpoint_dir(logdir, trial.checkpoint.value))
        frames = self._frames() if logdir else {}
        return Result(metrics=dict(trial.last_result or {}), checkpoint=checkpoint,
                      error=_error(logdir, trial.status, trial.error_file) if logdir else None,
                      path=logdir, metrics_dataframe=frames.get(logdir),
                      best_checkpoints=_checkpoints(logdir, trial.checkpoint_score_attr)
                      if logdir and os.path.isdir(logdir)
                      else [],
                      _config=trial.config)
