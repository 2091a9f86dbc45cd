"""``ray.tune.search.zoopt`` (2.x)."""
from tunec.suggest.zoopt import ZOOptSearch  # noqa: F401
