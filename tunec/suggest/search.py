"""Search-algorithm interfaces (spec §9.1, §9.4) and the default
``BasicVariantGenerator`` (§9.2), whose variant generation runs in the C
engine (space.c)."""


class SearchAlgorithm:
    """The runner-facing interface of 0.8."""

    _finished = False
    _metric = None
    _mode = None

    @property
    def metric(self):
        return self._metric

    @property
    def mode(self):
        return self._mode

    def set_search_properties(self, metric, mode, config):
        return True

    def add_configurations(self, experiments):
        raise NotImplementedError

    def next_trials(self):
        raise NotImplementedError

    def on_trial_result(self, trial_id, result):
        pass

    def on_trial_complete(self, trial_id, result=None, error=False, early_terminated=False):
        pass

    def is_finished(self):
        return self._finished

    def set_finished(self):
        self._finished = True


class BasicVariantGenerator(SearchAlgorithm):
    """Grid and random search over the config (spec §5). tune.run uses it by
    default; the generation itself happens in the engine."""

    def __init__(self, shuffle=False, points_to_evaluate=None, max_concurrent=0,
                 random_state=None):
        if points_to_evaluate:
            raise NotImplementedError("BasicVariantGenerator(points_to_evaluate=...) is not "
                                      "supported by this tunec release")
        self._shuffle = shuffle
        self._max_concurrent = max_concurrent


class Searcher:
    """The 0.8.5+ searcher interface (spec §9.4)."""

    FINISHED = "FINISHED"

    def __init__(self, metric=None, mode=None, max_concurrent=None,
                 use_early_stopped_trials=None):
        if max_concurrent is not None or use_early_stopped_trials is False:
            raise DeprecationWarning("max_concurrent / use_early_stopped_trials are deprecated: "
                                     "use ConcurrencyLimiter instead")
        if mode is not None and mode not in ("min", "max"):
            raise ValueError("`mode` must be 'min' or 'max', got {!r}".format(mode))
        self._metric = metric
        self._mode = mode

    @property
    def metric(self):
        return self._metric

    @property
    def mode(self):
        return self._mode

    def set_search_properties(self, metric, mode, config):
        return False

    def suggest(self, trial_id):
        raise NotImplementedError

    def on_trial_result(self, trial_id, result):
        pass

    def on_trial_complete(self, trial_id, result=None, error=False):
        raise NotImplementedError

    def save(self, checkpoint_path):
        raise NotImplementedError

    def restore(self, checkpoint_path):
        raise NotImplementedError
