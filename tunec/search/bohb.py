"""``ray.tune.search.bohb`` (2.x)."""
from tunec.suggest.bohb import TuneBOHB  # noqa: F401
