"""``tunec.automl`` (``ray.tune.automl`` of Ray 0.8-1.x): round-based
searchers over a ``SearchSpace`` of discrete and sampled continuous
parameters — the genetic searcher of Ray's ``genetic_example``, and grid and
random search in the same form."""
from tunec.automl.genetic_searcher import GeneticSearch
from tunec.automl.search_policy import AutoMLSearcher, GridSearch, RandomSearch
from tunec.automl.search_space import (ContinuousSpace, DiscreteSpace, ParameterSpace,
                                       SearchSpace)

__all__ = ["ContinuousSpace", "DiscreteSpace", "SearchSpace", "AutoMLSearcher", "GridSearch",
           "RandomSearch", "GeneticSearch", "ParameterSpace"]
