"""``tunec.search`` (Ray 2.x's ``ray.tune.search``): the same classes as
``tunec.suggest`` under the 2.x names and module paths."""
from tunec.suggest import (BasicVariantGenerator, ConcurrencyLimiter, Repeater, SearchAlgorithm,
                           SearchGenerator, Searcher, SuggestionAlgorithm, TPESearch, grid_search)

__all__ = ["SearchAlgorithm", "BasicVariantGenerator", "SearchGenerator", "SuggestionAlgorithm",
           "Searcher", "ConcurrencyLimiter", "Repeater", "grid_search", "TPESearch"]
