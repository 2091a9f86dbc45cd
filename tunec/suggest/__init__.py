"""``tunec.suggest`` (``ray.tune.suggest``; 2.x: ``tunec.search``)."""
from tunec.sample import grid_search
from tunec.suggest.basic_variant import BasicVariantGenerator
from tunec.suggest.repeater import Repeater
from tunec.suggest.search import SearchAlgorithm
from tunec.suggest.suggestion import (ConcurrencyLimiter, SearchGenerator, Searcher,
                                      SuggestionAlgorithm)
from tunec.suggest.tpe import TPESearch

__all__ = ["SearchAlgorithm", "BasicVariantGenerator", "SearchGenerator", "SuggestionAlgorithm",
           "Searcher", "ConcurrencyLimiter", "Repeater", "grid_search", "TPESearch"]
