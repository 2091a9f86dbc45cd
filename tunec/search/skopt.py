"""``ray.tune.search.skopt`` (2.x): SkOptSearch."""
from tunec.suggest.skopt import SkOptSearch

__all__ = ["SkOptSearch"]
