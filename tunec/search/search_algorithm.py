"""``ray.tune.search.search_algorithm`` (2.x)."""
from tunec.suggest.search import SearchAlgorithm  # noqa: F401
