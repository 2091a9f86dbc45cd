"""``Trial``: the driver's view of one trial (``ray.tune.trial.Trial``, 0.8).

The C engine owns the trial table; ``tune.run`` builds these objects from the
engine's snapshots (``Trial._from_snapshot``) for progress reports, stoppers,
schedulers, ``ExperimentAnalysis`` and the user. They are plain data:
changing one does not change the running experiment. Names, defaults and the
semantics of the methods follow Ray 0.8's ``trial.py`` (spec §6), so code
written against Ray's Trial reads these the same way.
"""
import numbers
import os
import time

from tunec.error import TuneError
from tunec.resources import Resources
from tunec.result import DEFAULT_RESULTS_DIR, DONE, TRAINING_ITERATION

MAX_LEN_IDENTIFIER = int(os.environ.get("MAX_LEN_IDENTIFIER", 130))


def date_str():
    return time.strftime("%Y-%m-%d_%H-%M-%S")   # datetime.today()'s format, local time


class Location:
    """Where a trial runs: ``pid=<pid>`` on this host, ``<host>:<pid>`` elsewhere."""

    def __init__(self, hostname=None, pid=None):
        self.hostname = hostname
        self.pid = pid

    def __str__(self):
        if not self.pid:
            return ""
        if self.pid < 0:   # a worker on a Ray cluster (src/ext/executor_remote.c)
            return "{}:actor{}".format(self.hostname or "ray", -1 - self.pid)
        if self.hostname == os.uname().nodename:    # platform.node(), without platform
            return "pid={}".format(self.pid)
        return "{}:{}".format(self.hostname, self.pid)


class ExportFormat:
    """The formats ``export_formats`` may name (Ray 0.8 ``trial.ExportFormat``)."""
    CHECKPOINT = "checkpoint"
    MODEL = "model"
    H5 = "h5"

    @staticmethod
    def validate(formats):
        """Normalises `formats` in place; TuneError for an unknown one."""
        for i, fmt in enumerate(formats):
            formats[i] = str(fmt).strip().lower()
            if formats[i] not in (ExportFormat.CHECKPOINT, ExportFormat.MODEL, ExportFormat.H5):
                raise TuneError("Unsupported import/export format: " + formats[i])


class Checkpoint:
    """A trial's checkpoint (Ray 0.8 ``checkpoint_manager.Checkpoint``).

    ``value`` is the checkpoint's absolute path (PERSISTENT) — what
    ``restore=`` takes — or None when the trial has none; ``result`` is the
    result the trial reported at the checkpoint's iteration. tunec keeps
    every checkpoint on disk, so its checkpoints are always PERSISTENT.
    """

    MEMORY = "memory"
    PERSISTENT = "persistent"

    def __init__(self, storage, value, result=None):
        self.storage = storage
        self.value = value
        self._result = result

    @staticmethod
    def from_object(value=None):
        return Checkpoint(Checkpoint.MEMORY, value)

    @property
    def result(self):
        # A callable defers reading result.json until someone asks.
        if callable(self._result):
            self._result = self._result() or {}
        return self._result if self._result is not None else {}

    @result.setter
    def result(self, value):
        self._result = value

    @property
    def is_ready(self):
        if self.storage == Checkpoint.PERSISTENT:
            return isinstance(self.value, str)
        return self.storage == Checkpoint.MEMORY

    def __repr__(self):
        return "Checkpoint({}, {})".format(self.storage, self.value)


def _result_at(logdir, iteration):
    """The row of `logdir`/result.json with training_iteration == iteration."""
    import json
    try:
        with open(os.path.join(logdir, "result.json")) as f:
            for line in f:
                if '"training_iteration": {}'.format(iteration) in line:
                    row = json.loads(line)
                    if row.get(TRAINING_ITERATION) == iteration:
                        return row
    except (OSError, ValueError):
        pass
    return {TRAINING_ITERATION: iteration}


def _flatten(result):
    from tunec.logger import _flatten_dict
    return _flatten_dict(result)


class Trial:
    """One trial. Status strings and attribute names follow Ray Tune 0.8."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    TERMINATED = "TERMINATED"
    ERROR = "ERROR"

    def __init__(self, trainable_name, config=None, trial_id=None,
                 local_dir=DEFAULT_RESULTS_DIR, evaluated_params=None, experiment_tag="",
                 resources=None, stopping_criterion=None, remote_checkpoint_dir=None,
                 checkpoint_freq=0, checkpoint_at_end=False, sync_on_checkpoint=True,
                 keep_checkpoints_num=None, checkpoint_score_attr=TRAINING_ITERATION,
                 export_formats=None, restore_path=None, trial_name_creator=None, loggers=None,
                 sync_to_driver_fn=None, max_failures=0, custom_trial_name=None):
        self.trainable_name = trainable_name
        self.trial_id = Trial.generate_id() if trial_id is None else trial_id
        self.config = config or {}
        self.local_dir = local_dir
        self.evaluated_params = evaluated_params or {}
        self.experiment_tag = experiment_tag
        self.location = Location()
        self.resources = resources if resources is not None else Resources(cpu=1, gpu=0)
        self.stopping_criterion = stopping_criterion or {}
        self.loggers = loggers
        self.sync_to_driver_fn = sync_to_driver_fn
        self.verbose = True
        self.max_failures = max_failures

        self.last_result = {}
        self.last_update_time = -float("inf")
        self.metric_analysis = {}
        self.n_steps = [5, 10]
        self.metric_n_steps = {}

        self.export_formats = export_formats
        self.status = Trial.PENDING
        self.start_time = None
        self.logdir = None
        self.runner = None
        self.result_logger = None
        self.last_debug = 0
        self.error_file = None
        self.error_msg = None
        self.custom_trial_name = custom_trial_name

        self.saving_to = None
        self.remote_checkpoint_dir_prefix = remote_checkpoint_dir
        self.checkpoint_freq = checkpoint_freq
        self.checkpoint_at_end = checkpoint_at_end
        self.sync_on_checkpoint = sync_on_checkpoint
        self.keep_checkpoints_num = keep_checkpoints_num
        self.checkpoint_score_attr = checkpoint_score_attr
        self._checkpoint = None      # the newest Checkpoint, or None

        self.restore_path = restore_path
        self.restoring_from = None
        self.num_failures = 0

        # Ray's AutoML fields, unused by tunec's searchers.
        self.results = None
        self.best_result = None
        self.param_config = None
        self.extra_arg = None
        if trial_name_creator:
            self.custom_trial_name = trial_name_creator(self)

    # -- checkpoints ------------------------------------------------------
    @property
    def checkpoint(self):
        """The newest checkpoint; without one, ``restore_path`` (maybe None)
        as a PERSISTENT checkpoint, as in Ray."""
        if self._checkpoint is not None and self._checkpoint.value is not None:
            return self._checkpoint
        return Checkpoint(Checkpoint.PERSISTENT, self.restore_path)

    def on_checkpoint(self, checkpoint):
        """A checkpoint of this trial was taken: it becomes the newest. (Which
        checkpoints a running trial keeps is the engine's decision, the rule
        tunec.checkpoint_manager exposes; a Trial has no manager of its own,
        so analysis reads its checkpoints from disk.)"""
        self._checkpoint = checkpoint
        self.saving_to = None

    def on_restore(self):
        self.restoring_from = None

    def init_logdir(self):
        """Creates the trial's logdir if it has none (Ray 0.8)."""
        if not self.logdir:
            self.logdir = Trial.create_logdir(
                "{}_{}".format(self._trainable_name(), self.experiment_tag), self.local_dir)
        elif not os.path.exists(self.logdir):
            os.makedirs(self.logdir, exist_ok=True)

    def write_error_log(self, error_msg):
        """Counts a failure and appends `error_msg` to the logdir's error.txt."""
        if error_msg and self.logdir:
            self.num_failures += 1
            self.error_file = os.path.join(self.logdir, "error.txt")
            with open(self.error_file, "a+") as f:
                f.write("Failure # {} (occurred at {})\n".format(self.num_failures, date_str()))
                f.write(error_msg + "\n")
            self.error_msg = error_msg

    def set_runner(self, runner):
        self.runner = runner

    def close_logger(self):
        """The engine closes a trial's result files itself; nothing to do."""

    def has_checkpoint(self):
        return self.checkpoint.value is not None

    def clear_checkpoint(self):
        self._checkpoint = None
        self.restore_path = None
        self.restoring_from = None

    def _set_checkpoint_record(self, record):
        """From the engine's {"path", "iteration"} (path relative to the
        logdir), or from a Ray checkpoint object found in a 0.8 state file."""
        if record is None:
            self._checkpoint = None
        elif hasattr(record, "value"):
            self._checkpoint = Checkpoint(getattr(record, "storage", Checkpoint.PERSISTENT),
                                          record.value, getattr(record, "result", None))
        elif isinstance(record, dict) and record.get("path"):
            path = record["path"]
            if not os.path.isabs(path) and self.logdir:
                path = os.path.join(self.logdir, path)
            iteration = record.get("iteration")
            logdir = self.logdir
            last = self.last_result
            if last.get(TRAINING_ITERATION) == iteration:
                result = dict(last)
            else:
                result = lambda: _result_at(logdir, iteration)   # noqa: E731
            self._checkpoint = Checkpoint(Checkpoint.PERSISTENT, path, result)

    # -- Ray's decisions, on this data ------------------------------------
    def should_stop(self, result):
        """Whether `result` meets this trial's stopping criteria (nested keys
        given with "/")."""
        if result.get(DONE):
            return True
        flat = _flatten(result)
        for criteria, stop_value in self.stopping_criterion.items():
            if isinstance(criteria, dict):
                raise ValueError("Stopping criteria is now flattened by default. Use forward "
                                 "slashes to nest values `key1/key2/key3`.")
            if criteria not in flat:
                raise TuneError("Stopping criteria {} not provided in result {}.".format(
                    criteria, result))
            if flat[criteria] >= stop_value:
                return True
        return False

    def should_checkpoint(self):
        """Whether this trial is due for checkpointing after its last result."""
        result = self.last_result or {}
        if result.get(DONE) and self.checkpoint_at_end:
            return True
        return bool(self.checkpoint_freq and
                    result.get(TRAINING_ITERATION, 0) % self.checkpoint_freq == 0)

    def should_recover(self):
        """Whether a failure may be retried (max_failures; -1: always)."""
        return self.num_failures < self.max_failures or self.max_failures < 0

    def update_last_result(self, result, terminate=False):
        """Takes `result` as the last one (Ray's bookkeeping: trial_id, done,
        experiment_tag, location, metric_analysis). Changes this object only."""
        result.update(trial_id=self.trial_id, done=terminate)
        if self.experiment_tag:
            result.update(experiment_tag=self.experiment_tag)
        self.set_location(Location(result.get("node_ip"), result.get("pid")))
        self.last_result = result
        self.last_update_time = time.time()
        for metric, value in _flatten(result).items():
            if not isinstance(value, numbers.Number) or isinstance(value, bool):
                continue
            self._update_metric(metric, value, result.get(TRAINING_ITERATION) or 1)

    def _update_metric(self, metric, value, step):
        from collections import deque
        stats = self.metric_analysis.get(metric)
        windows = self.metric_n_steps.setdefault(metric, {})
        if stats is None:
            stats = self.metric_analysis[metric] = {"max": value, "min": value, "avg": value,
                                                    "last": value}
            for n in self.n_steps:
                windows[str(n)] = deque([value], maxlen=n)
                stats["last-{:d}-avg".format(n)] = value
            return
        stats["max"] = max(value, stats["max"])
        stats["min"] = min(value, stats["min"])
        stats["avg"] = 1 / step * (value + (step - 1) * stats["avg"])
        stats["last"] = value
        for n in self.n_steps:
            window = windows.setdefault(str(n), deque(maxlen=n))
            window.append(value)
            stats["last-{:d}-avg".format(n)] = sum(window) / len(window)

    # -- state ------------------------------------------------------------
    def is_finished(self):
        return self.status in (Trial.ERROR, Trial.TERMINATED)

    @property
    def is_restoring(self):
        return self.restoring_from is not None

    @property
    def is_saving(self):
        return self.saving_to is not None

    @property
    def node_ip(self):
        # Ray's Location holds the result's node_ip; tunec's holds the host name.
        return self.last_result.get("node_ip") or self.location.hostname

    @property
    def remote_checkpoint_dir(self):
        if not self.remote_checkpoint_dir_prefix or not self.logdir:
            return None
        return os.path.join(self.remote_checkpoint_dir_prefix, os.path.basename(self.logdir))

    def set_location(self, location):
        self.location = location

    def set_status(self, status):
        self.status = status
        if status == Trial.RUNNING and self.start_time is None:
            self.start_time = time.time()

    def set_verbose(self, verbose):
        self.verbose = verbose

    def update_resources(self, cpu, gpu, **kwargs):
        if self.status == Trial.RUNNING:
            raise ValueError("Cannot update resources while Trial is running.")
        self.resources = Resources(cpu, gpu, **kwargs)

    def get_trainable_cls(self):
        from tunec import registry
        try:
            return registry.get_trainable(self.trainable_name)
        except Exception:
            return None

    @classmethod
    def generate_id(cls):
        import uuid
        return str(uuid.uuid1().hex)[:8]

    @classmethod
    def create_logdir(cls, identifier, local_dir):
        """A new ``<identifier>_<date><random>`` directory in `local_dir`
        (spec §5.6)."""
        local_dir = os.path.abspath(os.path.expanduser(local_dir))
        os.makedirs(local_dir, exist_ok=True)
        import tempfile
        return tempfile.mkdtemp(prefix="{}_{}".format(identifier[:MAX_LEN_IDENTIFIER],
                                                      date_str()), dir=local_dir)

    # -- names ------------------------------------------------------------
    def _trainable_name(self, include_trial_id=False):
        """``<trainable>[_<env>][_<trial_id>]``, or the custom name (spec §5.6)."""
        if self.custom_trial_name:
            return self.custom_trial_name
        identifier = str(self.trainable_name)
        env = self.config.get("env") if isinstance(self.config, dict) else None
        if env:
            identifier += "_" + (env.__name__ if isinstance(env, type) else str(env))
        if include_trial_id:
            identifier += "_" + str(self.trial_id)
        return identifier.replace("/", "_")

    def __str__(self):
        return self._trainable_name(include_trial_id=True)

    def __repr__(self):
        return self._trainable_name(include_trial_id=True)

    # -- engine snapshots -------------------------------------------------
    @classmethod
    def _from_snapshot(cls, snap, experiment=None):
        """Builds a Trial from an engine snapshot dict (keys as attributes);
        `experiment` adds what the engine does not keep (checkpoint and
        export options, loggers)."""
        trial = cls(snap.get("trainable_name"), trial_id=snap.get("trial_id"))
        if experiment is not None:
            trial._set_experiment_options(experiment)
        trial._update_from_snapshot(snap)
        return trial

    def _set_experiment_options(self, spec):
        self.checkpoint_freq = spec.get("checkpoint_freq") or 0
        self.checkpoint_at_end = bool(spec.get("checkpoint_at_end"))
        self.sync_on_checkpoint = spec.get("sync_on_checkpoint", True)
        self.keep_checkpoints_num = spec.get("keep_checkpoints_num")
        self.checkpoint_score_attr = spec.get("checkpoint_score_attr") or TRAINING_ITERATION
        self.export_formats = list(spec.get("export_formats") or [])
        self.restore_path = spec.get("restore")
        self.loggers = spec.get("loggers")
        self.sync_to_driver_fn = spec.get("sync_to_driver")
        self.remote_checkpoint_dir_prefix = spec.get("upload_dir")

    def _update_from_snapshot(self, snap):
        checkpoint = snap.get("checkpoint", False)
        for key, value in snap.items():
            if key == "location":
                self.location = Location(*value) if value else Location()
            elif key == "resources" and isinstance(value, dict):
                self.resources = Resources.from_dict(value)
            elif key != "checkpoint":
                setattr(self, key, value)
        if checkpoint is not False:       # after logdir and last_result are set
            self._set_checkpoint_record(checkpoint)
