"""``tunec.schedulers`` (``ray.tune.schedulers``), spec §8."""
from tunec.schedulers.async_hyperband import ASHAScheduler, AsyncHyperBandScheduler
from tunec.schedulers.hb_bohb import HyperBandForBOHB
from tunec.schedulers.hyperband import HyperBandScheduler
from tunec.schedulers.median_stopping_rule import MedianStoppingRule
from tunec.schedulers.pbt import PopulationBasedTraining, PopulationBasedTrainingReplay
from tunec.schedulers.trial_scheduler import FIFOScheduler, TrialScheduler

__all__ = ["TrialScheduler", "FIFOScheduler", "AsyncHyperBandScheduler", "ASHAScheduler",
           "HyperBandScheduler", "HyperBandForBOHB", "MedianStoppingRule",
           "PopulationBasedTraining", "PopulationBasedTrainingReplay"]


def __getattr__(name):
    # PB2 (Ray 1.x) is loaded on first use (PEP 562) so that importing
    # tunec.schedulers stays light; constructing a PB2 imports NumPy. Not in
    # __all__: Ray's package exports it only from ray.tune.schedulers.pb2.
    if name == "PB2":
        from tunec.schedulers.pb2 import PB2
        return PB2
    raise AttributeError("module {!r} has no attribute {!r}".format(__name__, name))


def __dir__():
    return sorted(set(globals()) | {"PB2"})
