"""``ray.tune.search.searcher`` (2.x)."""
from tunec.suggest.suggestion import Searcher  # noqa: F401
