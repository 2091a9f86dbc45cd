"""``ray.tune.search.concurrency_limiter`` (2.x)."""
from tunec.suggest.suggestion import ConcurrencyLimiter  # noqa: F401
