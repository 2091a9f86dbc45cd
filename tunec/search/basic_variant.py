"""``ray.tune.search.basic_variant`` (2.x)."""
from tunec.suggest.basic_variant import BasicVariantGenerator  # noqa: F401
