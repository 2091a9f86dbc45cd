"""``SearchAlgorithm`` (``ray.tune.suggest.search``, spec §9.1): the
runner-facing interface of a search algorithm.

tunec's engine does not call ``next_trials``: it asks a searcher for one
config at a time, when a trial can start (see ``suggestion.SearchGenerator``
and ``tunec/suggest/_bridge.py``). ``SearchAlgorithm`` stays for code that
subclasses it or checks ``isinstance``.
"""


class SearchAlgorithm:
    """Interface of an event handler API for hyperparameter search.

    Unlike TrialSchedulers, SearchAlgorithms will not have the ability to
    modify the execution (i.e., stop and pause trials).

    Trials added manually (i.e., via the Client API) will also notify this
    class upon new events, so custom search algorithms should maintain a list
    of trials ID generated from this class.
    """

    _finished = False
    _metric = None
    _mode = None

    CKPT_FILE_TMPL = "search_gen_state-{}.json"

    @property
    def metric(self):
        """The training result objective value attribute."""
        return self._metric

    @property
    def mode(self):
        """Specifies if minimizing or maximizing the metric."""
        return self._mode

    def set_search_properties(self, metric, mode, config, **spec):
        """Pass search properties to search algorithm.

        Returns True when the properties were set (or nothing needed to be
        set), False when the algorithm already has its own."""
        return True

    def add_configurations(self, experiments):
        """Tracks given experiment specifications.

        Arguments:
            experiments (Experiment | list | dict): Experiments to run.
        """
        raise NotImplementedError

    def next_trials(self):
        """Provides Trial objects to be queued into the TrialRunner.

        Returns:
            trials (list): Returns a list of trials.
        """
        raise NotImplementedError

    def on_trial_result(self, trial_id, result):
        """Called on each intermediate result returned by a trial."""
        pass

    def on_trial_complete(self, trial_id, result=None, error=False, early_terminated=False):
        """Notification for the completion of trial."""
        pass

    def is_finished(self):
        """Returns True if no trials left to be queued into TrialRunner."""
        return self._finished

    def set_finished(self):
        """Marks the search algorithm as finished."""
        self._finished = True

    def has_checkpoint(self, dirpath):
        """Should return False if not restoring is not implemented."""
        return False

    def save_to_dir(self, dirpath, **kwargs):
        """Saves a search algorithm."""
        pass

    def restore_from_dir(self, dirpath):
        """Restores a search algorithm along with its wrapped state."""
        pass
