"""MLflow (``ray.tune.integration.mlflow`` / ``ray.air.integrations.mlflow``).

* ``MLflowLoggerCallback`` runs on the driver: one MLflow run per trial with
  the config as params, each result's numbers as metrics at
  ``step=training_iteration``, the run ended FINISHED or FAILED with the trial.
* ``MLFLowLogger`` (0.8's spelling, in ``ray.tune.logger``) is the per-trial
  ``Logger`` form: ``config["mlflow_experiment_id"]`` names the experiment.
* ``mlflow_mixin`` (1.x) and ``setup_mlflow`` (2.x) run in the trial: an
  active MLflow run named after the trial, for ``mlflow.log_*`` calls.
"""
import contextlib
import os

from tunec.logger import Logger
from tunec.integration._logger_callback import (LoggerCallback, NOT_METRICS, flat_config,
                                                numeric_metrics)

__all__ = ["MLFLowLogger", "MLflowLoggerCallback", "mlflow_mixin", "setup_mlflow"]


def _experiment_id(client, experiment_name, experiment_id, create):
    """Ray's order: an explicit id, then the name, then MLFLOW_EXPERIMENT_ID /
    MLFLOW_EXPERIMENT_NAME, then MLflow's default experiment."""
    experiment_id = experiment_id or os.environ.get("MLFLOW_EXPERIMENT_ID")
    if experiment_id is not None:
        if client.get_experiment(experiment_id) is None:
            raise ValueError("MLflow: no experiment with id {!r}".format(experiment_id))
        return experiment_id
    experiment_name = experiment_name or os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if experiment_name is None:
        return "0"
    found = client.get_experiment_by_name(experiment_name)
    if found is not None:
        return found.experiment_id
    if not create:
        raise ValueError("MLflow: no experiment named {!r}".format(experiment_name))
    # Trials start together and each would create the experiment it did not
    # find; MLflow's file store checks the name and then creates, so two
    # processes can both create it (two experiments of one name, the runs
    # split between them). The trials of one machine take turns here; on a
    # cluster, use a tracking server, whose database refuses the second.
    with _creation_lock(client):
        found = client.get_experiment_by_name(experiment_name)
        if found is not None:
            return found.experiment_id
        try:
            return client.create_experiment(experiment_name)
        except Exception:   # noqa: B902 - MlflowException, whatever the store
            found = client.get_experiment_by_name(experiment_name)
            if found is None:
                raise
            return found.experiment_id


@contextlib.contextmanager
def _creation_lock(client):
    """An exclusive lock per tracking store, shared by this machine's
    processes: a file in the temp dir named after the store's URI."""
    import fcntl
    import hashlib
    import tempfile
    uri = str(getattr(client, "tracking_uri", None) or getattr(client, "_tracking_uri", ""))
    name = "tunec-mlflow-{}.lock".format(hashlib.sha1(uri.encode()).hexdigest()[:16])
    with open(os.path.join(tempfile.gettempdir(), name), "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class MLflowLoggerCallback(LoggerCallback):
    """``MLflowLoggerCallback(tracking_uri=None, registry_uri=None,
    experiment_name=None, tags=None, tracking_token=None, save_artifact=False)``."""

    def __init__(self, tracking_uri=None, *, registry_uri=None, experiment_name=None,
                 tags=None, tracking_token=None, save_artifact=False):
        if tags is not None and not isinstance(tags, dict):
            raise TypeError("MLflowLoggerCallback(tags=...): expected a dict, got {!r}".format(
                tags))
        self.tracking_uri = tracking_uri
        self.registry_uri = registry_uri
        self.experiment_name = experiment_name
        self.tags = dict(tags or {})
        self.tracking_token = tracking_token
        self.save_artifact = save_artifact
        self._client = None
        self.experiment_id = None
        self._runs = {}          # trial id -> MLflow run id

    def setup(self, *args, **info):
        from mlflow.tracking import MlflowClient
        if self.tracking_token is not None:
            os.environ["MLFLOW_TRACKING_TOKEN"] = self.tracking_token
        self._client = MlflowClient(tracking_uri=self.tracking_uri,
                                    registry_uri=self.registry_uri)
        self.experiment_id = _experiment_id(self._client, self.experiment_name, None,
                                            create=True)

    def _ensure_setup(self):
        if self._client is None:
            self.setup()

    def log_trial_start(self, trial):
        self._ensure_setup()
        if trial.trial_id in self._runs:
            return                     # restarted: keep logging into the same run
        tags = dict(self.tags, trial_name=str(trial))
        run = self._client.create_run(experiment_id=self.experiment_id, tags=tags,
                                      run_name=str(trial))
        self._runs[trial.trial_id] = run.info.run_id
        for key, value in flat_config(trial.config).items():
            self._client.log_param(run.info.run_id, key, value)

    def log_trial_result(self, iteration, trial, result):
        if trial.trial_id not in self._runs:
            self.log_trial_start(trial)
        run_id = self._runs[trial.trial_id]
        step = result.get("training_iteration") or iteration
        for key, value in numeric_metrics(result, NOT_METRICS).items():
            self._client.log_metric(run_id, key, value, step=step)

    def log_trial_end(self, trial, failed=False):
        run_id = self._runs.get(trial.trial_id)
        if run_id is None:
            return
        if self.save_artifact and trial.logdir and os.path.isdir(trial.logdir):
            self._client.log_artifacts(run_id, trial.logdir)
        self._client.set_terminated(run_id, status="FAILED" if failed else "FINISHED")


class MLFLowLogger(Logger):
    """Ray 0.8's per-trial MLflow ``Logger`` (``loggers=DEFAULT_LOGGERS +
    (MLFLowLogger,)``): one run in ``config["mlflow_experiment_id"]`` (MLflow's
    default experiment without it), the config's top-level entries as params,
    the float entries of each result as metrics at ``training_iteration``,
    the run ended at ``close``. Runs on the driver, like every Logger."""

    def _init(self):
        from mlflow.tracking import MlflowClient
        self.client = MlflowClient()
        experiment_id = self.config.get("mlflow_experiment_id")
        if experiment_id is not None and not self._experiment_exists(str(experiment_id)):
            raise ValueError("MLFLowLogger: config['mlflow_experiment_id'] = {!r} is no MLflow "
                             "experiment".format(experiment_id))
        run = self.client.create_run(experiment_id if experiment_id is not None else "0",
                                     run_name=str(self.trial) if self.trial else None)
        self._run_id = run.info.run_id
        for key, value in self.config.items():
            self.client.log_param(self._run_id, key, value)

    def _experiment_exists(self, experiment_id):
        from mlflow.exceptions import MlflowException
        try:
            return self.client.get_experiment(experiment_id) is not None
        except MlflowException:
            return False

    def on_result(self, result):
        step = result.get("training_iteration")
        for key, value in result.items():
            # Ray 0.8 logs floats only (an int metric such as `iterations` is not logged).
            if isinstance(value, float):
                self.client.log_metric(self._run_id, key, value, step=step)

    def close(self):
        self.client.set_terminated(self._run_id)


def setup_mlflow(config=None, tracking_uri=None, registry_uri=None, experiment_id=None,
                 experiment_name=None, tracking_token=None, create_experiment_if_not_exists=False,
                 tags=None, rank_zero_only=True):
    """In a trial: set MLflow up and start a run named after the trial (Ray
    2.x). ``config["mlflow"]`` may carry these arguments (1.x's mixin form).
    Returns the ``mlflow`` module, for ``mlflow.log_metric`` and friends."""
    import mlflow
    from mlflow.tracking import MlflowClient
    from tunec import session
    settings = dict((config or {}).get("mlflow") or {})
    tracking_uri = tracking_uri or settings.get("tracking_uri")
    registry_uri = registry_uri or settings.get("registry_uri")
    if tracking_token or settings.get("token"):
        os.environ["MLFLOW_TRACKING_TOKEN"] = tracking_token or settings["token"]
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    if registry_uri:
        mlflow.set_registry_uri(registry_uri)
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)
    exp_id = _experiment_id(client, experiment_name or settings.get("experiment_name"),
                            experiment_id or settings.get("experiment_id"),
                            create=create_experiment_if_not_exists)
    if mlflow.active_run() is not None:
        mlflow.end_run()
    name = session.get_trial_name() if session.is_session_enabled() else None
    mlflow.start_run(experiment_id=exp_id, run_name=name, tags=tags)
    params = {k: v for k, v in flat_config(config).items() if not k.startswith("mlflow/")}
    if params:
        mlflow.log_params(params)
    return mlflow


def mlflow_mixin(func):
    """Ray 1.x decorator for a function trainable: ``config["mlflow"]`` holds
    ``experiment_id`` or ``experiment_name`` and ``tracking_uri``; the
    function runs inside an active MLflow run named after the trial."""
    import functools
    import inspect

    @functools.wraps(func)
    def wrapped(config, *args, **kwargs):
        if "mlflow" not in (config or {}):
            raise ValueError("mlflow_mixin: config['mlflow'] with experiment_id or "
                             "experiment_name (and tracking_uri) is needed")
        mlflow = setup_mlflow(config, create_experiment_if_not_exists=True)
        try:
            return func(config, *args, **kwargs)
        finally:
            mlflow.end_run()

    wrapped.__signature__ = inspect.signature(func)
    return wrapped
