"""``tunec.schedulers`` (``ray.tune.schedulers``)."""
from tunec.schedulers.trial_scheduler import FIFOScheduler, TrialScheduler

__all__ = ["TrialScheduler", "FIFOScheduler"]
