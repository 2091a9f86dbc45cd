"""Weights & Biases (``ray.tune.integration.wandb`` /
``ray.air.integrations.wandb``).

* ``WandbLoggerCallback`` runs on the driver: one W&B run per trial (id =
  the trial id, name = the trial name, group = the experiment), the config
  as the run config, each result's numbers logged, the run finished with
  the trial (exit code 1 when it failed).
* ``wandb_mixin`` (1.x) and ``setup_wandb`` (2.x) run in the trial and
  return the trial's own W&B run.

* ``WandbLogger`` (0.8/1.x ``Logger``) and ``WandbTrainableMixin`` (1.x,
  for Trainable classes) take their settings from ``config["wandb"]``.

``mode="offline"`` (or ``WANDB_MODE=offline``) needs no account or
network: the runs are written under ``<dir>/wandb/offline-run-*``.
"""
import os

from tunec.integration._logger_callback import (LoggerCallback, NOT_METRICS, flat_config,
                                                numeric_metrics)

import queue
import threading

from tunec.logger import Logger

__all__ = ["WandbLogger", "WandbLoggerCallback", "WandbTrainableMixin", "wandb_mixin",
           "setup_wandb"]


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
        self._queues = {}          # trial id -> queue of a _logger_process_cls instance
        self._setup_done = False

    # Ray 1.x's hook (its examples set it to MagicMock to mock W&B): a class
    # called as (logdir=, queue=, exclude=, to_config=, **wandb_init_kwargs)
    # with start() and join(), fed each result and then _END. None: the
    # runs are made and fed in the driver directly.
    _logger_process_cls = None

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
        if self._logger_process_cls is not None:
            self._queues[trial.trial_id] = queue.Queue()
            process = self._logger_process_cls(
                logdir=trial.logdir, queue=self._queues[trial.trial_id],
                exclude=list(NOT_METRICS + self.excludes),
                to_config=list(WandbLogger._config_results), **init)
            process.start()
            self._runs[trial.trial_id] = process
            return
        self._runs[trial.trial_id] = wandb.init(**init)

    def log_trial_result(self, iteration, trial, result):
        if trial.trial_id not in self._runs:
            self.log_trial_start(trial)
        run = self._runs[trial.trial_id]
        if trial.trial_id in self._queues:
            self._queues[trial.trial_id].put(dict(result))
            return
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
        if trial.trial_id in self._queues:
            self._queues.pop(trial.trial_id).put(_END)
            run.join()
        elif run is not None:
            run.finish(exit_code=1 if failed else 0)

    def on_experiment_end(self, trials, **info):
        for trial_id in list(self._runs):
            run = self._runs.pop(trial_id)
            if trial_id in self._queues:
                self._queues.pop(trial_id).put(_END)
                run.join()
            else:
                run.finish()


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


def _settings(config, who):
    """config["wandb"] without the key settings (applied to the environment)
    and the config without "wandb": what Ray's Logger and mixin split."""
    if not isinstance((config or {}).get("wandb"), dict):
        raise ValueError("{}: config['wandb'] must be a dict of wandb.init arguments "
                         "(project, api_key_file...)".format(who))
    settings = dict(config["wandb"])
    _api_key(settings.pop("api_key_file", None), settings.pop("api_key", None))
    rest = {k: v for k, v in config.items() if k not in ("wandb", "callbacks")}
    return settings, rest


_END = object()          # closes a _WandbLoggingThread's queue


class _WandbLoggingThread(threading.Thread):
    """One W&B run fed from a queue (Ray runs this in a process; here a
    driver thread). Results' numbers are logged; ``to_config`` keys go to the
    run config instead; ``exclude`` keys are dropped."""

    def __init__(self, queue, exclude, to_config, logdir=None, **init_kwargs):
        super().__init__(daemon=True, name="wandb-logger")
        if logdir and "dir" not in init_kwargs:
            init_kwargs["dir"] = logdir
        self.queue = queue
        self.exclude = tuple(exclude)
        self.to_config = tuple(to_config)
        self.init_kwargs = init_kwargs
        self.error = None

    def run(self):
        import wandb
        try:
            run = wandb.init(**self.init_kwargs)
        except Exception as error:       # reported at join, on the driver
            self.error = error
            while self.queue.get() is not _END:
                pass
            return
        while True:
            result = self.queue.get()
            if result is _END:
                break
            config_part = {k: result[k] for k in self.to_config if k in result}
            if config_part:
                run.config.update(flat_config(config_part), allow_val_change=True)
            run.log(numeric_metrics(result, NOT_METRICS + self.exclude + self.to_config))
        run.finish()

    def join(self, timeout=None):
        super().join(timeout)
        if self.error is not None:
            raise self.error


class WandbLogger(Logger):
    """Ray 0.8/1.x per-trial ``Logger`` (``loggers=DEFAULT_LOGGERS +
    (WandbLogger,)``): ``config["wandb"]`` holds ``project``, ``group``,
    ``api_key_file``/``api_key``, ``excludes``, ``log_config`` and other
    ``wandb.init`` arguments; the rest of the config is the run config."""

    _logger_process_cls = _WandbLoggingThread
    _exclude_results = ["done", "should_checkpoint"]
    _config_results = ["trial_id", "experiment_tag", "node_ip", "experiment_id", "hostname",
                       "pid", "date"]

    def _init(self):
        settings, config = _settings(self.config, "WandbLogger")
        exclude = list(self._exclude_results) + list(settings.pop("excludes", []))
        if not settings.pop("log_config", False):
            exclude.append("config")
        trial = self.trial
        init = dict(id=trial.trial_id if trial else None, name=str(trial) if trial else None,
                    resume="allow", reinit="create_new", allow_val_change=True,
                    group=settings.pop("group", trial.trainable_name if trial else None),
                    project=settings.pop("project", None), config=config)
        init.update(settings)
        self._queue = queue.Queue()
        self._wandb = self._logger_process_cls(logdir=self.logdir, queue=self._queue,
                                               exclude=exclude,
                                               to_config=list(self._config_results), **init)
        self._wandb.start()

    def on_result(self, result):
        self._queue.put(dict(result))

    def close(self):
        self._queue.put(_END)
        self._wandb.join()


class WandbTrainableMixin:
    """Ray 1.x mixin for a Trainable class (``class T(WandbTrainableMixin,
    Trainable)``): ``wandb.init`` with ``config["wandb"]``'s arguments when the
    trainable is made, the trainable's config without ``"wandb"``; the run is
    ``self.wandb``. ``_wandb`` is the wandb module (a class may swap it)."""

    _wandb = None

    def __init__(self, config, *args, **kwargs):
        from tunec.trainable import Trainable
        if not isinstance(self, Trainable):
            raise ValueError("WandbTrainableMixin must be mixed into a tune.Trainable class")
        settings, config = _settings(config, "WandbTrainableMixin")
        if self._wandb is None:
            import wandb
            self._wandb = wandb
        super().__init__(config, *args, **kwargs)
        init = dict(id=self.trial_id, name=self.trial_name, resume="allow",
                    reinit="finish_previous", allow_val_change=True,
                    group=settings.pop("group", type(self).__name__),
                    project=settings.pop("project", None), config=config)
        if self.logdir and "dir" not in settings:
            init["dir"] = self.logdir
        init.update(settings)
        self.wandb = self._wandb.init(**init)

    def _call_stop(self):
        # What the worker calls at the trial's end (Trainable.stop() too).
        try:
            super()._call_stop()
        finally:
            self.wandb.finish()


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
        if WandbTrainableMixin not in getattr(wrapped, "__mixins__", ()):
            return func(config, *args, **kwargs)     # Ray's way to switch the mixin off
        run = setup_wandb(config)
        try:
            return func(config, *args, **kwargs)
        finally:
            run.finish()

    wrapped.__signature__ = inspect.signature(func)
    wrapped.__mixins__ = (WandbTrainableMixin,)
    return wrapped
