"""Weights & Biases (``ray.tune.integration.wandb`` /
``ray.air.integrations.wandb``).

* ``WandbLoggerCallback`` runs on the driver: one W&B run per trial (id =
  the trial id, name = the trial name, group = the experiment), the config
  as the run config, each result's numbers logged, the run finished with
  the trial (exit code 1 when it failed).
* ``wandb_mixin`` (1.x) and ``setup_wandb`` (2.x) run in the trial and
  return the trial's own W&B run.

``mode="offline"`` (or ``WANDB_MODE=offline``) needs no account or
network: the runs are written under ``<dir>/wandb/offline-run-*``.
"""
import os

from tunec.integration._logger_callback import (LoggerCallback, NOT_METRICS, flat_config,
                                                numeric_metrics)

__all__ = ["WandbLoggerCallback", "wandb_mixin", "setup_wandb"]


def _api_key(api_key_file, api_key):
    if api_key_file:
        if api_key:
            raise ValueError("WandbLoggerCallback: give api_key or api_key_file, not both")
        with open(os.path.expanduser(api_key_file)) as f:
            api_key = f.readline().strip()
    if api_key:
        os.environ["WANDB_API_KEY"] = api_key


class WandbLoggerCallback(LoggerCallback):
    """``WandbLoggerCallback(project=None, group=None, api_key_file=None,
    api_key=None, excludes=None, log_config=False, save_checkpoints=False,
    **kwargs)``; ``kwargs`` go to ``wandb.init`` (``mode``, ``entity``,
    ``dir``, ``tags``...)."""

    def __init__(self, project=None, group=None, api_key_file=None, api_key=None,
                 excludes=None, log_config=False, save_checkpoints=False, **kwargs):
        if excludes is not None and not isinstance(excludes, (list, tuple, set)):
            raise TypeError("WandbLoggerCallback(excludes=...): expected a list of result "
                            "keys, got {!r}".format(excludes))
        self.project = project
        self.group = group
        self.api_key_file = api_key_file
        self.api_key = api_key
        self.excludes = tuple(excludes or ())
        self.log_config = log_config
        self.save_checkpoints = save_checkpoints
        self.kwargs = kwargs
        self._runs = {}            # trial id -> wandb Run
        self._setup_done = False

    def setup(self, *args, **info):
        _api_key(self.api_key_file, self.api_key)
        self._setup_done = True

    def log_trial_start(self, trial):
        import wandb
        if not self._setup_done:
            self.setup()
        if trial.trial_id in self._runs:
            return
        config = {k: v for k, v in flat_config(trial.config).items()
                  if k.split("/", 1)[0] not in self.excludes}
        init = dict(id=trial.trial_id, name=str(trial), resume="allow", reinit="create_new",
                    project=self.project or os.environ.get("WANDB_PROJECT"),
                    group=self.group or trial.trainable_name,
                    config=config, allow_val_change=True)
        if trial.logdir and "dir" not in self.kwargs:
            init["dir"] = trial.logdir
        init.update(self.kwargs)
        self._runs[trial.trial_id] = wandb.init(**init)

    def log_trial_result(self, iteration, trial, result):
        if trial.trial_id not in self._runs:
            self.log_trial_start(trial)
        run = self._runs[trial.trial_id]
        metrics = numeric_metrics(result, NOT_METRICS + self.excludes)
        metrics["training_iteration"] = result.get("training_iteration", iteration)
        if self.log_config and "config" in result:
            run.config.update(flat_config(result["config"]), allow_val_change=True)
        run.log(metrics)

    def log_trial_save(self, trial):
        run = self._runs.get(trial.trial_id)
        if not self.save_checkpoints or run is None:
            return
        checkpoint = getattr(trial, "checkpoint", None)
        path = getattr(checkpoint, "value", None) or getattr(checkpoint, "path", None)
        if path and os.path.exists(path):
            import wandb
            artifact = wandb.Artifact("checkpoint_{}".format(trial.trial_id), type="model")
            if os.path.isdir(path):
                artifact.add_dir(path)
            else:
                artifact.add_file(path)
            run.log_artifact(artifact)

    def log_trial_end(self, trial, failed=False):
        run = self._runs.pop(trial.trial_id, None)
        if run is not None:
            run.finish(exit_code=1 if failed else 0)

    def on_experiment_end(self, trials, **info):
        for trial_id in list(self._runs):
            self._runs.pop(trial_id).finish()


def setup_wandb(config=None, api_key=None, api_key_file=None, rank_zero_only=True, **kwargs):
    """In a trial: a W&B run for this trial (Ray 2.x). ``config["wandb"]``
    may carry ``wandb.init`` arguments (1.x's mixin form); the rest of the
    config becomes the run config. Returns the Run."""
    import wandb
    from tunec import session
    settings = dict((config or {}).get("wandb") or {})
    _api_key(settings.pop("api_key_file", None) or api_key_file,
             settings.pop("api_key", None) or api_key)
    # One run per trial process: it becomes wandb.run, for wandb.log calls.
    init = dict(config={k: v for k, v in (config or {}).items() if k != "wandb"},
                reinit="finish_previous")
    if session.is_session_enabled():
        init.update(id=session.get_trial_id(), name=session.get_trial_name(),
                    dir=session.get_trial_dir(), resume="allow")
    init.update(settings)
    init.update(kwargs)
    return wandb.init(**init)


def wandb_mixin(func):
    """Ray 1.x decorator for a function trainable: ``config["wandb"]`` holds
    ``wandb.init`` arguments (``project``, ``api_key_file``, ``mode``...);
    the function runs with ``wandb.run`` set to the trial's run."""
    import functools
    import inspect

    @functools.wraps(func)
    def wrapped(config, *args, **kwargs):
        if "wandb" not in (config or {}):
            raise ValueError("wandb_mixin: config['wandb'] with wandb.init arguments (project, "
                             "api_key_file or mode='offline'...) is needed")
        run = setup_wandb(config)
        try:
            return func(config, *args, **kwargs)
        finally:
            run.finish()

    wrapped.__signature__ = inspect.signature(func)
    return wrapped
