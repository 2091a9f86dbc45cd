"""``ray.tune.search.repeater`` (2.x)."""
from tunec.suggest.repeater import Repeater, TRIAL_INDEX  # noqa: F401
