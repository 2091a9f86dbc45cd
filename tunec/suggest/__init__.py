"""``tunec.suggest`` (``ray.tune.suggest``; 2.x: ``tunec.search``).

The names load on first use (PEP 562), as in ``tunec.schedulers``: a plain
``tune.run`` needs only ``basic_variant`` on its way to the first trial.
"""
import importlib

_NAMES = {
    "grid_search": "tunec.sample", "BasicVariantGenerator": "tunec.suggest.basic_variant",
    "Repeater": "tunec.suggest.repeater", "SearchAlgorithm": "tunec.suggest.search",
    "ConcurrencyLimiter": "tunec.suggest.suggestion",
    "SearchGenerator": "tunec.suggest.suggestion", "Searcher": "tunec.suggest.suggestion",
    "SuggestionAlgorithm": "tunec.suggest.suggestion", "TPESearch": "tunec.suggest.tpe",
}

__all__ = ["SearchAlgorithm", "BasicVariantGenerator", "SearchGenerator", "SuggestionAlgorithm",
           "Searcher", "ConcurrencyLimiter", "Repeater", "grid_search", "TPESearch"]


def __getattr__(name):
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError("module {!r} has no attribute {!r}".format(__name__, name))


def __dir__():
    return sorted(set(globals()) | set(_NAMES))
