"""``tune.Experiment`` (spec §15.5) and ``convert_to_experiment_list``."""
import os

from tunec import export
from tunec.error import TuneError
from tunec.result import DEFAULT_RESULTS_DIR

_SPEC_KEYS = ("run", "stop", "config", "resources_per_trial", "num_samples", "local_dir",
              "upload_dir", "trial_name_creator", "loggers", "sync_to_driver",
              "checkpoint_freq", "checkpoint_at_end", "sync_on_checkpoint",
              "keep_checkpoints_num", "checkpoint_score_attr", "export_formats",
              "max_failures", "restore", "env", "trial_dirname_creator", "log_to_file")


def _trainable_name(run):
    """(name, trainable object) for a function, class or registered name."""
    from tunec import registry
    from tunec.sample import sample_from
    from tunec.trainable import Trainable
    from tunec.function_runner import unwrap_function
    if isinstance(run, str):
        return run, unwrap_function(registry.get_trainable(run))
    if isinstance(run, type) and unwrap_function(run) is not run:    # wrap_function()
        return run._name, unwrap_function(run)
    if isinstance(run, sample_from):
        raise TuneError("Improper 'run' - not string nor trainable.")
    if isinstance(run, type):
        if not issubclass(run, Trainable):
            raise TuneError("Improper 'run' - {} is a class but not a tune.Trainable "
                            "subclass.".format(run.__name__))
        return run.__name__, run
    if callable(run):
        if isinstance(run, dict):
            raise TuneError("Improper 'run' - not string nor trainable.")
        name = getattr(run, "__name__", None) or "DEFAULT"
        from tunec.function_runner import call_style
        call_style(run)
        return name, run
    raise TuneError("Improper 'run' - not string nor trainable.")


def check_local_path(name, path):
    """A directory on this machine. A URI (s3://, gs://, hdfs://, file://...)
    belongs in storage_path or upload_dir, which sync to it
    (tunec/_sync_plan.py): an error naming the argument, never a local
    folder called "s3:"."""
    path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError("tune.run({}=...): expected str, got {}".format(name, type(path).__name__))
    if "://" in path:
        raise ValueError(
            "tune.run({}={!r}): a directory on this machine is needed here; give a URI as "
            "storage_path (or upload_dir) to sync the experiment to it".format(name, path))
    return path


def default_local_dir(local_dir=None):
    if local_dir is not None:
        local_dir = check_local_path("local_dir", local_dir)
    return os.path.abspath(os.path.expanduser(local_dir or DEFAULT_RESULTS_DIR))


class Experiment:
    """One experiment: a trainable, its search space and how to run it."""

    def __init__(self, name, run, stop=None, config=None, resources_per_trial=None,
                 num_samples=1, local_dir=None, upload_dir=None, trial_name_creator=None,
                 loggers=None, sync_to_driver=None, checkpoint_freq=0, checkpoint_at_end=False,
                 sync_on_checkpoint=True, keep_checkpoints_num=None, checkpoint_score_attr=None,
                 export_formats=None, max_failures=0, restore=None, trial_dirname_creator=None,
                 log_to_file=False):
        if isinstance(run, (list, tuple)) or run is None:
            raise TuneError("Must specify `run` in {}".format(name))
        self._run_identifier, self._trainable = _trainable_name(run)
        self.name = name or self._run_identifier
        if config is not None and not isinstance(config, dict):
            raise TuneError("config must be a dict, got {}".format(type(config).__name__))
        # num_samples and the other options are checked by name and type in
        # the engine (src/engine/options.c), once, before anything runs.
        self.local_dir = default_local_dir(local_dir)
        self.spec = {
            "run": self._run_identifier,
            "stop": stop if isinstance(stop, dict) else {},
            "config": config or {},
            "resources_per_trial": resources_per_trial,
            "num_samples": num_samples,
            "local_dir": self.local_dir,
            "upload_dir": upload_dir,
            "trial_name_creator": trial_name_creator,
            "trial_dirname_creator": trial_dirname_creator,
            "log_to_file": log_to_file,
            "loggers": loggers,
            "sync_to_driver": sync_to_driver,
            "checkpoint_freq": checkpoint_freq,
            "checkpoint_at_end": checkpoint_at_end,
            "sync_on_checkpoint": sync_on_checkpoint,
            "keep_checkpoints_num": keep_checkpoints_num,
            "checkpoint_score_attr": checkpoint_score_attr,
            "export_formats": export.validate(export_formats),
            "max_failures": max_failures,
            "restore": os.path.abspath(os.path.expanduser(restore)) if restore else None,
        }
        self._stop = stop

    @classmethod
    def from_json(cls, name, spec):
        if "run" not in spec:
            raise TuneError("No trainable specified!")
        spec = dict(spec)
        unknown = set(spec) - set(_SPEC_KEYS)
        if unknown:
            raise TuneError("Improper argument from JSON: {}.".format(sorted(unknown)))
        if "env" in spec:
            spec.setdefault("config", {})
            spec["config"] = dict(spec["config"], env=spec.pop("env"))
        run = spec.pop("run")
        return cls(name, run, **spec)

    @property
    def stopper(self):
        return self._stop

    @property
    def trainable(self):
        return self._trainable

    @property
    def run_identifier(self):
        return self._run_identifier

    @property
    def checkpoint_dir(self):
        return os.path.join(self.local_dir, self.name)


def convert_to_experiment_list(experiments):
    if experiments is None:
        return []
    if isinstance(experiments, Experiment):
        return [experiments]
    if isinstance(experiments, dict):
        return [Experiment.from_json(name, spec) for name, spec in experiments.items()]
    if isinstance(experiments, (list, tuple)) and all(isinstance(e, Experiment)
                                                      for e in experiments):
        return list(experiments)
    raise TuneError("Invalid argument: {}".format(experiments))
