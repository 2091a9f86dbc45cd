"""tunec — Ray Tune's API with a C engine.

``import tunec as tune`` (or ``from tunec import tune``) gives the ``ray.tune``
namespace of Ray 0.8 plus the 1.x/2.x spellings. Names load on first use so
that ``import tunec`` stays fast and never imports NumPy or pandas.
"""
import importlib
import sys

from tunec._version import __version__
from tunec.error import TuneError

_LAZY = {
    # running
    "run": ("tunec._run", "run"),
    "run_experiments": ("tunec._run", "run_experiments"),
    "Experiment": ("tunec.experiment", "Experiment"),
    "init": ("tunec._capacity", "init"),
    "shutdown": ("tunec._capacity", "shutdown"),
    "is_initialized": ("tunec._capacity", "is_initialized"),
    # callbacks (Ray 1.x/2.x `tune.Callback`)
    "Callback": ("tunec.callback", "Callback"),
    # trainables
    "Trainable": ("tunec.trainable", "Trainable"),
    "register_trainable": ("tunec.registry", "register_trainable"),
    "register_env": ("tunec.registry", "register_env"),
    "report": ("tunec.session", "report"),
    "get_trial_dir": ("tunec.session", "get_trial_dir"),
    "get_trial_name": ("tunec.session", "get_trial_name"),
    "get_trial_id": ("tunec.session", "get_trial_id"),
    "get_trial_resources": ("tunec.session", "get_trial_resources"),
    "is_session_enabled": ("tunec.session", "is_session_enabled"),
    # checkpoints
    "checkpoint_dir": ("tunec.checkpoint", "checkpoint_dir"),
    "make_checkpoint_dir": ("tunec.checkpoint", "make_checkpoint_dir"),
    "save_checkpoint": ("tunec.checkpoint", "save_checkpoint"),
    "get_checkpoint": ("tunec.checkpoint", "get_checkpoint"),
    "Checkpoint": ("tunec.checkpoint", "Checkpoint"),
    "CheckpointConfig": ("tunec.checkpoint", "CheckpointConfig"),
    "SyncConfig": ("tunec.syncer", "SyncConfig"),
    # search spaces
    "grid_search": ("tunec.sample", "grid_search"),
    "sample_from": ("tunec.sample", "sample_from"),
    "function": ("tunec.sample", "function"),
    "uniform": ("tunec.sample", "uniform"),
    "quniform": ("tunec.sample", "quniform"),
    "loguniform": ("tunec.sample", "loguniform"),
    "qloguniform": ("tunec.sample", "qloguniform"),
    "choice": ("tunec.sample", "choice"),
    "randint": ("tunec.sample", "randint"),
    "qrandint": ("tunec.sample", "qrandint"),
    "lograndint": ("tunec.sample", "lograndint"),
    "qlograndint": ("tunec.sample", "qlograndint"),
    "randn": ("tunec.sample", "randn"),
    "qrandn": ("tunec.sample", "qrandn"),
    # stopping
    "Stopper": ("tunec.stopper", "Stopper"),
    "EarlyStopping": ("tunec.stopper", "EarlyStopping"),
    # analysis and reporting
    "Analysis": ("tunec.analysis", "Analysis"),
    "ExperimentAnalysis": ("tunec.analysis", "ExperimentAnalysis"),
    "CLIReporter": ("tunec.progress_reporter", "CLIReporter"),
    "ProgressBarReporter": ("tunec.progress_reporter", "ProgressBarReporter"),
    "JupyterNotebookReporter": ("tunec.progress_reporter", "JupyterNotebookReporter"),
    "ProgressReporter": ("tunec.progress_reporter", "ProgressReporter"),
    # the 2.x Tuner API (tunec/tuner.py)
    "Tuner": ("tunec.tuner", "Tuner"),
    "TuneConfig": ("tunec.tune_config", "TuneConfig"),
    "RunConfig": ("tunec.tune_config", "RunConfig"),
    "FailureConfig": ("tunec.tune_config", "FailureConfig"),
    "ResultGrid": ("tunec.result_grid", "ResultGrid"),
    "Result": ("tunec.air.result", "Result"),
    "TuneContext": ("tunec.context", "TuneContext"),
    "get_context": ("tunec.context", "get_context"),
    "with_parameters": ("tunec._with_parameters", "with_parameters"),
    "with_resources": ("tunec._with_resources", "with_resources"),
    "PlacementGroupFactory": ("tunec.placement_groups", "PlacementGroupFactory"),
    # Ray's module map (docs/guide.md, "Module map")
    "DurableTrainable": ("tunec.durable_trainable", "DurableTrainable"),
    "pin_in_object_store": ("tunec.utils", "pin_in_object_store"),
    "get_pinned_object": ("tunec.utils", "get_pinned_object"),
}

_SUBMODULES = ("checkpoint", "track", "schedulers", "suggest", "search", "logger", "result",
               "trial", "stopper", "analysis", "sample", "experiment", "trainable", "registry",
               "session", "progress_reporter", "error",
               # the 2.x Tuner API
               "tuner", "tune_config", "result_grid", "context", "train", "air",
               "placement_groups",
               # Ray's module map
               "resources", "trial_runner", "trial_executor", "ray_trial_executor",
               "checkpoint_manager", "function_runner", "utils", "commands",
               "durable_trainable",
               # syncing (tunec/syncer.py) and Ray's integrations
               "syncer", "integration")

__all__ = sorted(list(_LAZY) + ["TuneError", "tune", "__version__"] + list(_SUBMODULES))


def __getattr__(name):
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module("tunec." + name)
    raise AttributeError("module 'tunec' has no attribute {!r}".format(name))


def __dir__():
    return __all__


# `from tunec import tune` and `import tunec.tune` give this same namespace.
tune = sys.modules[__name__]
sys.modules.setdefault("tunec.tune", tune)
