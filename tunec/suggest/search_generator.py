"""``ray.tune.suggest.search_generator`` (1.x): SearchGenerator."""
from tunec.suggest.suggestion import SearchGenerator

__all__ = ["SearchGenerator"]
