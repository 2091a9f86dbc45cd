"""``ray.tune.search.hyperopt`` (2.x): HyperOptSearch."""
from tunec.suggest.hyperopt import HyperOptSearch

__all__ = ["HyperOptSearch"]
