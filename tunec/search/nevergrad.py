"""``ray.tune.search.nevergrad`` (2.x)."""
from tunec.suggest.nevergrad import NevergradSearch  # noqa: F401
