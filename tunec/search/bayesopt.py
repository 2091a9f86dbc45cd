"""``ray.tune.search.bayesopt`` (2.x): BayesOptSearch."""
from tunec.suggest.bayesopt import BayesOptSearch

__all__ = ["BayesOptSearch"]
