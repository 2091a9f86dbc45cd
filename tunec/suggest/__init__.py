"""``tunec.suggest`` (``ray.tune.suggest``)."""
from tunec.sample import grid_search
from tunec.suggest.search import BasicVariantGenerator, SearchAlgorithm, Searcher

__all__ = ["SearchAlgorithm", "BasicVariantGenerator", "Searcher", "grid_search"]
