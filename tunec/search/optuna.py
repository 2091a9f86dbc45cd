"""``ray.tune.search.optuna`` (2.x): OptunaSearch."""
from tunec.suggest.optuna import OptunaSearch

__all__ = ["OptunaSearch"]
