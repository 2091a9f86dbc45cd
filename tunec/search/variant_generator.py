"""``ray.tune.search.variant_generator`` (2.x)."""
from tunec.suggest.variant_generator import grid_search  # noqa: F401
