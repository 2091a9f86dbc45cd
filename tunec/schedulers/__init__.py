"""``tunec.schedulers`` (``ray.tune.schedulers``), spec §8.

The names load on first use (PEP 562): ``tune.run`` reaches its scheduler
bridge through this package, and a run without a scheduler should not
import every scheduler on its way to the first trial (issue 12, start-up).
"""
import importlib

_NAMES = {
    "TrialScheduler": "trial_scheduler", "FIFOScheduler": "trial_scheduler",
    "AsyncHyperBandScheduler": "async_hyperband", "ASHAScheduler": "async_hyperband",
    "HyperBandScheduler": "hyperband", "HyperBandForBOHB": "hb_bohb",
    "MedianStoppingRule": "median_stopping_rule",
    "PopulationBasedTraining": "pbt", "PopulationBasedTrainingReplay": "pbt",
    # PB2 (Ray 1.x): constructing one imports NumPy. Not in __all__: Ray's
    # package exports it only from ray.tune.schedulers.pb2.
    "PB2": "pb2",
}

__all__ = ["TrialScheduler", "FIFOScheduler", "AsyncHyperBandScheduler", "ASHAScheduler",
           "HyperBandScheduler", "HyperBandForBOHB", "MedianStoppingRule",
           "PopulationBasedTraining", "PopulationBasedTrainingReplay"]


def __getattr__(name):
    if name in _NAMES:
        value = getattr(importlib.import_module("tunec.schedulers." + _NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError("module {!r} has no attribute {!r}".format(__name__, name))


def __dir__():
    return sorted(set(globals()) | set(_NAMES))
