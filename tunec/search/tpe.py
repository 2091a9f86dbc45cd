"""``tunec.search.tpe`` (2.x path of ``tunec.suggest.tpe``)."""
from tunec.suggest.tpe import TPESearch

__all__ = ["TPESearch"]
