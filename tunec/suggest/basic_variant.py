"""``BasicVariantGenerator`` (``ray.tune.suggest.basic_variant``, spec
§9.2): grid and random search over the config. tune.run uses it by
default; the variants themselves are generated in the C engine (space.c),
which also applies ``points_to_evaluate`` (those configs first) and
``shuffle`` (a seeded shuffle of the variant order)."""
from tunec.suggest.search import SearchAlgorithm


class BasicVariantGenerator(SearchAlgorithm):
    """Uses Tune's variant generation for resolving variables.

    Args:
        shuffle (bool): Shuffle the generated variants (0.8). The order is
            a seeded permutation: ``tune.run(seed=...)`` reproduces it.
        points_to_evaluate (list): Initial parameter suggestions to be run
            first, each a (partial) config dict merged over the spec's
            ``config``; the keys it leaves out are sampled (a grid it leaves
            open expands). As in Ray 1.x each point is one of the
            ``num_samples`` repetitions: the generated variants make up the
            rest.
        max_concurrent (int): Maximum number of concurrently running trials
            (0: no limit).
        constant_grid_search (bool): Accepted for 1.x compatibility; tunec
            samples the random values of each grid variant independently.
        random_state: Accepted for 2.x compatibility: an int seeds the run
            like ``tune.run(seed=...)``.
    """

    def __init__(self, shuffle=False, points_to_evaluate=None, max_concurrent=0,
                 constant_grid_search=False, random_state=None):
        if points_to_evaluate is not None:
            if not isinstance(points_to_evaluate, (list, tuple)) or not all(
                    isinstance(p, dict) for p in points_to_evaluate):
                raise TypeError("BasicVariantGenerator(points_to_evaluate=...) must be a list "
                                "of config dicts, got {!r}".format(points_to_evaluate))
        if not isinstance(max_concurrent, int) or isinstance(max_concurrent, bool) or \
                max_concurrent < 0:
            raise ValueError("BasicVariantGenerator(max_concurrent=...) must be an int >= 0, "
                             "got {!r}".format(max_concurrent))
        if random_state is not None and (not isinstance(random_state, int) or
                                         isinstance(random_state, bool)):
            raise TypeError("BasicVariantGenerator(random_state=...): tunec accepts an int "
                            "seed, got {!r}".format(random_state))
        self._shuffle = bool(shuffle)
        self._points_to_evaluate = [dict(p) for p in (points_to_evaluate or [])]
        self._max_concurrent = max_concurrent
        self._random_state = random_state
        self._finished = False

    @property
    def total_samples(self):
        return None
