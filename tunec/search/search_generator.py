"""``ray.tune.search.search_generator`` (2.x)."""
from tunec.suggest.suggestion import SearchGenerator  # noqa: F401
