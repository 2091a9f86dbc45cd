"""``PlacementGroupFactory``: a trial's resources as bundles (Ray 1.x/2.x
``ray.tune.PlacementGroupFactory``).

Ray reserves the bundles as one placement group: the first bundle is the
trial's own process, the others the workers it starts. On one machine tunec
reserves their sum: the first bundle as the trial's ``cpu``/``gpu``/custom
amounts, the others as its ``extra_*`` amounts (spec §15, ``Resources``).
"""

__all__ = ["PlacementGroupFactory"]

_STRATEGIES = ("PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD")


class PlacementGroupFactory:
    def __init__(self, bundles, strategy="PACK", *args, **kwargs):
        if not isinstance(bundles, (list, tuple)) or not bundles or not all(
                isinstance(b, dict) for b in bundles):
            raise ValueError("PlacementGroupFactory: bundles must be a non-empty list of dicts, "
                             "got {!r}".format(bundles))
        for bundle in bundles:
            for key, amount in bundle.items():
                if not isinstance(amount, (int, float)) or isinstance(amount, bool) or amount < 0:
                    raise ValueError("PlacementGroupFactory: bundle amount {}={!r} must be a "
                                     "number >= 0".format(key, amount))
        if strategy not in _STRATEGIES:
            raise ValueError("PlacementGroupFactory: strategy must be one of {}, got {!r}"
                             .format(_STRATEGIES, strategy))
        self._bundles = [dict(b) for b in bundles]
        self.strategy = strategy

    @property
    def bundles(self):
        return [dict(b) for b in self._bundles]

    @property
    def head_bundle_is_empty(self):
        return not any(self._bundles[0].values())

    @property
    def head_cpus(self):
        return self._bundles[0].get("CPU", 0)

    @property
    def required_resources(self):
        """The sum of every bundle: ``{"CPU": 3, "GPU": 1, ...}``."""
        total = {}
        for bundle in self._bundles:
            for key, amount in bundle.items():
                total[key] = total.get(key, 0) + amount
        return total

    def __eq__(self, other):
        return (isinstance(other, PlacementGroupFactory) and self._bundles == other._bundles
                and self.strategy == other.strategy)

    def __hash__(self):
        return hash((repr(self._bundles), self.strategy))

    def __repr__(self):
        return "<PlacementGroupFactory (_bound=<BoundArguments (bundles={}, strategy='{}')>)>" \
            .format(self._bundles, self.strategy)
