"""``ray.tune.suggest.variant_generator``: the names user code imports from
it. Variant generation itself is the C engine's (space.c)."""
from tunec.sample import grid_search

__all__ = ["grid_search"]
