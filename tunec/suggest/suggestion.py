"""The model-based search interfaces (``ray.tune.suggest.suggestion``,
spec §9.3–9.4): ``Searcher`` (0.8.5+), ``ConcurrencyLimiter``,
``SearchGenerator`` and the 0.8.0–0.8.4 ``SuggestionAlgorithm``.

How a searcher runs: the C engine decides *when* a trial can start
(resources free, concurrency limits); only then does it ask the searcher
for a config through ``tunec/suggest/_bridge.py``, and it forwards each
result and each trial's end back to it. ``None`` from ``suggest`` means "no
suggestion yet" (asked again after the next event); ``Searcher.FINISHED``
means the searcher has no more trials to give.
"""
import copy
import os

from tunec import _lazylog
from tunec.suggest.search import SearchAlgorithm

logger = _lazylog.getLogger("ray.tune.suggest")

UNRESOLVED_SEARCH_SPACE = str(
    "You passed a `{par}` parameter to {cls} that contained unresolved search "
    "space definitions. {cls} should however be instantiated with fully "
    "configured search spaces only. To use Ray Tune's automatic search space "
    "conversion, pass the space definition as part of the `config` argument "
    "to `tune.run()` instead.")

UNDEFINED_SEARCH_SPACE = str(
    "Trying to sample a configuration from {cls}, but no search "
    "space has been defined. Either pass the `{space}` argument when "
    "instantiating the search algorithm, or pass a `config` to "
    "`tune.run()`.")

UNDEFINED_METRIC_MODE = str(
    "Trying to sample a configuration from {cls}, but the `metric` "
    "({metric}) or `mode` ({mode}) parameters have not been set. "
    "Either pass these arguments when instantiating the search algorithm, "
    "or pass them to `tune.run()`.")


class Searcher:
    """Abstract class for wrapping suggesting algorithms.

    Custom search algorithms can extend this class easily by overriding the
    `suggest` method provide generated parameters for the trials.

    Any subclass that implements ``__init__`` must also call the
    constructor of this class: ``super(Subclass, self).__init__(...)``.

    To track suggestions and their corresponding evaluations, the method
    `suggest` will be passed a trial_id, which will be used in
    subsequent notifications.

    Not all implementations support multi objectives.

    Args:
        metric (str or list): The training result objective value attribute.
            If list then list of training result objective value attributes.
        mode (str or list): If string One of {min, max}. If list then
            list of max and min, determines whether objective is minimizing
            or maximizing the metric attribute. Must match type of metric.

    .. code-block:: python

        class ExampleSearch(Searcher):
            def __init__(self, metric="mean_loss", mode="min", **kwargs):
                super(ExampleSearch, self).__init__(
                    metric=metric, mode=mode, **kwargs)
                self.optimizer = Optimizer()
                self.configurations = {}

            def suggest(self, trial_id):
                configuration = self.optimizer.query()
                self.configurations[trial_id] = configuration

            def on_trial_complete(self, trial_id, result, **kwargs):
                configuration = self.configurations[trial_id]
                if result and self.metric in result:
                    self.optimizer.update(configuration, result[self.metric])

        tune.run(trainable_function, search_alg=ExampleSearch())
    """

    FINISHED = "FINISHED"
    CKPT_FILE_TMPL = "searcher-state-{}.pkl"

    def __init__(self, metric=None, mode=None, max_concurrent=None,
                 use_early_stopped_trials=None):
        if use_early_stopped_trials is False:
            raise DeprecationWarning(
                "Early stopped trials are now always used. If this is a "
                "problem, file an issue: https://github.com/ray-project/ray.")
        if max_concurrent is not None:
            raise DeprecationWarning(
                "max_concurrent is now deprecated for this search algorithm. "
                "Please use tune.suggest.ConcurrencyLimiter instead.")
        self._metric = metric
        self._mode = mode
        if not mode or not metric:
            return
        if isinstance(metric, (list, tuple)) != isinstance(mode, (list, tuple)):
            raise ValueError("Searcher: metric and mode must be of the same type "
                             "(both str or both list), got {!r} and {!r}".format(metric, mode))
        for m in (mode if isinstance(mode, (list, tuple)) else [mode]):
            if m not in ("min", "max"):
                raise ValueError("Searcher: `mode` must be 'min' or 'max', got {!r}".format(m))

    def set_search_properties(self, metric, mode, config, **spec):
        """Pass search properties to searcher.

        This method acts as an alternative to instantiating search algorithms
        with their own specific search spaces. Instead they can accept a
        Tune config through this method. A searcher should return ``True``
        if setting the config was successful, or ``False`` if it was
        unsuccessful, e.g. when the search space has already been set.

        Args:
            metric (str): Metric to optimize
            mode (str): One of ["min", "max"]. Direction to optimize.
            config (dict): Tune config dict.
            **spec: Any kwargs for forward compatiblity.
                Info like Experiment.PUBLIC_KEYS is provided through here.
        """
        return False

    def set_max_concurrency(self, max_concurrent):
        """Set max concurrent trials this searcher can run (False: the
        searcher does not limit concurrency itself)."""
        return False

    def on_trial_result(self, trial_id, result):
        """Optional notification for result during training.

        Note that by default, the result dict may include NaNs or
        may not include the optimization metric. It is up to the
        subclass implementation to preprocess the result to
        avoid breaking the optimization process.

        Args:
            trial_id (str): A unique string ID for the trial.
            result (dict): Dictionary of metrics for current training progress.
        """
        pass

    def on_trial_complete(self, trial_id, result=None, error=False):
        """Notification for the completion of trial.

        Typically, this method is used for notifying the underlying
        optimizer of the result.

        Args:
            trial_id (str): A unique string ID for the trial.
            result (dict): Dictionary of metrics for current training progress.
                Upon errors, this may also be None.
            error (bool): True if the training process raised an error.
        """
        raise NotImplementedError

    def suggest(self, trial_id):
        """Queries the algorithm to retrieve the next set of parameters.

        Arguments:
            trial_id (str): Trial ID used for subsequent notifications.

        Returns:
            dict | FINISHED | None: Configuration for a trial, if possible.
                If FINISHED is returned, Tune will be notified that
                no more suggestions/configurations will be provided.
                If None is returned, Tune will skip the querying of the
                searcher for this step.
        """
        raise NotImplementedError

    def add_evaluated_point(self, parameters, value, error=False, pruned=False,
                            intermediate_values=None):
        """Pass results from a point that has been evaluated separately.

        This method allows for information from outside the
        suggest - on_trial_complete loop to be passed to the search
        algorithm. This functionality depends on the underlying search
        algorithm and may not be always available.

        Args:
            parameters (dict): Parameters used for the trial.
            value (float): Metric value obtained in the trial.
            error (bool): True if the training process raised an error.
            pruned (bool): True if trial was pruned.
            intermediate_values (list): List of metric values for
                intermediate iterations of the result. None if not
                applicable.
        """
        raise NotImplementedError

    def save(self, checkpoint_path):
        """Save state to path for this search algorithm.

        Args:
            checkpoint_path (str): File where the search algorithm
                state is saved. This path should be used later when
                restoring from file.
        """
        raise NotImplementedError

    def restore(self, checkpoint_path):
        """Restore state for this search algorithm.

        Args:
            checkpoint_path (str): File where the search algorithm
                state is saved. This path should be the same
                as the one provided to "save".
        """
        raise NotImplementedError

    def get_state(self):
        raise NotImplementedError

    def set_state(self, state):
        raise NotImplementedError

    def save_to_dir(self, checkpoint_dir, session_str="default"):
        """Automatically saves the given searcher to the checkpoint_dir.

        The file is written to a temporary path and renamed into place, so a
        crash leaves the previous state or the new one, never a torn file.
        Returns True when saved, False when the searcher does not implement
        ``save``."""
        tmp_path = os.path.join(checkpoint_dir, ".tmp_searcher_ckpt")
        try:
            self.save(tmp_path)
        except NotImplementedError:
            logger.warning("save not implemented for Searcher. Skipping save.")
            return False
        if not os.path.exists(tmp_path):
            return False
        _fsync_file(tmp_path)
        os.replace(tmp_path, os.path.join(checkpoint_dir,
                                          self.CKPT_FILE_TMPL.format(session_str)))
        return True

    def restore_from_dir(self, checkpoint_dir):
        """Restores the state of a searcher from a given checkpoint_dir
        (the most recent ``searcher-state-*.pkl`` in it)."""
        import glob
        full_paths = glob.glob(os.path.join(checkpoint_dir, self.CKPT_FILE_TMPL.format("*")))
        if not full_paths:
            raise RuntimeError("Searcher unable to find checkpoint in {}".format(checkpoint_dir))
        self.restore(max(full_paths))

    @property
    def metric(self):
        """The training result objective value attribute."""
        return self._metric

    @property
    def mode(self):
        """Specifies if minimizing or maximizing the metric."""
        return self._mode

    # -- helpers for adapters (tunec) ----------------------------------------
    def _check_metric_mode(self, space_arg="space", space=True):
        """Raises the RuntimeError Ray's searchers raise when asked for a
        suggestion before metric/mode (or the search space) are known."""
        if not space:
            raise RuntimeError(UNDEFINED_SEARCH_SPACE.format(cls=type(self).__name__,
                                                             space=space_arg))
        if not self._metric or not self._mode:
            raise RuntimeError(UNDEFINED_METRIC_MODE.format(
                cls=type(self).__name__, metric=self._metric, mode=self._mode))

    def _set_metric_mode(self, metric, mode):
        """set_search_properties' common part: fills metric and mode that
        are not set yet; False when mode is not min/max."""
        if mode is not None and mode not in ("min", "max"):
            return False
        if metric:
            self._metric = metric
        if mode:
            self._mode = mode
        return True


def _fsync_file(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _saved_bytes(searcher, path):
    """The bytes ``searcher.save`` writes (None if it cannot save)."""
    tmp = path + ".part"
    try:
        searcher.save(tmp)
    except NotImplementedError:
        return None
    try:
        with open(tmp, "rb") as f:
            return f.read()
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _restore_bytes(searcher, data, path):
    if data is None:
        return
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        f.write(data)
    try:
        searcher.restore(tmp)
    finally:
        os.remove(tmp)


class _WrappingSearcher(Searcher):
    """What ConcurrencyLimiter and Repeater share as wrappers of
    ``self.searcher``: metric/mode come from it, and their saved state holds
    their own bookkeeping (under ``_STATE_KEY``) beside the wrapped searcher's
    bytes, so a resumed run still counts its live trials (Ray saves only the
    wrapped searcher)."""

    _STATE_KEY = "wrapper"

    def get_state(self):
        state = self.__dict__.copy()
        del state["searcher"]
        return copy.deepcopy(state)

    def set_state(self, state):
        self.__dict__.update(state)

    def save(self, checkpoint_path):
        inner = _saved_bytes(self.searcher, checkpoint_path)
        with open(checkpoint_path, "wb") as f:
            import pickle
            pickle.dump({self._STATE_KEY: self.get_state(), "searcher": inner}, f)

    def restore(self, checkpoint_path):
        with open(checkpoint_path, "rb") as f:
            import pickle
            state = pickle.load(f)
        self.set_state(state[self._STATE_KEY])
        _restore_bytes(self.searcher, state["searcher"], checkpoint_path)

    def set_search_properties(self, metric, mode, config, **spec):
        ok = self.searcher.set_search_properties(metric, mode, config, **spec)
        self._metric, self._mode = self.searcher.metric, self.searcher.mode
        return ok


class ConcurrencyLimiter(_WrappingSearcher):
    """A wrapper algorithm for limiting the number of concurrent trials.

    Args:
        searcher (Searcher): Searcher object that the
            ConcurrencyLimiter will manage.
        max_concurrent (int): Maximum concurrent samples from the underlying
            searcher.
        batch (bool): Whether to wait for all concurrent samples
            to finish before updating the underlying searcher.

    Example:

    .. code-block:: python

        from ray.tune.suggest import ConcurrencyLimiter
        search_alg = HyperOptSearch(metric="accuracy")
        search_alg = ConcurrencyLimiter(search_alg, max_concurrent=2)
        tune.run(trainable, search_alg=search_alg)
    """

    _STATE_KEY = "limiter"

    def __init__(self, searcher, max_concurrent, batch=False):
        if type(max_concurrent) is not int or max_concurrent <= 0:
            raise ValueError("ConcurrencyLimiter(max_concurrent=...) must be an int > 0, "
                             "got {!r}".format(max_concurrent))
        if not isinstance(searcher, Searcher):
            raise RuntimeError("ConcurrencyLimiter requires a Searcher, got {!r}".format(
                type(searcher).__name__))
        self.searcher = searcher
        self.max_concurrent = max_concurrent
        self.batch = batch
        self.live_trials = set()
        self.num_unfinished_live_trials = 0
        self.cached_results = {}
        super(ConcurrencyLimiter, self).__init__(metric=self.searcher.metric,
                                                 mode=self.searcher.mode)

    def suggest(self, trial_id):
        if trial_id in self.live_trials:
            raise AssertionError("Trial ID {} must be unique: already found in set.".format(
                trial_id))
        if len(self.live_trials) >= self.max_concurrent:
            logger.debug("Not providing a suggestion for %s due to concurrency limit: %s/%s.",
                         trial_id, len(self.live_trials), self.max_concurrent)
            return None
        suggestion = self.searcher.suggest(trial_id)
        if suggestion not in (None, Searcher.FINISHED):
            self.live_trials.add(trial_id)
            self.num_unfinished_live_trials += 1
        return suggestion

    def on_trial_result(self, trial_id, result):
        self.searcher.on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id, result=None, error=False):
        if trial_id not in self.live_trials:
            return
        if self.batch:
            self.cached_results[trial_id] = (result, error)
            self.num_unfinished_live_trials -= 1
            if self.num_unfinished_live_trials > 0:
                return
            for tid, (res, err) in self.cached_results.items():
                self.searcher.on_trial_complete(tid, result=res, error=err)
                self.live_trials.remove(tid)
            self.cached_results = {}
            self.num_unfinished_live_trials = 0
            return
        self.searcher.on_trial_complete(trial_id, result=result, error=error)
        self.live_trials.remove(trial_id)
        self.num_unfinished_live_trials -= 1

    def add_evaluated_point(self, parameters, value, error=False, pruned=False,
                            intermediate_values=None):
        return self.searcher.add_evaluated_point(parameters, value, error, pruned,
                                                 intermediate_values)



class SearchGenerator(SearchAlgorithm):
    """Generates trials to be passed to the TrialRunner.

    Uses the provided ``searcher`` object to generate trials. This class
    transparently handles repeating trials with score aggregation
    without embedding logic into the Searcher.

    In tunec the engine drives it: it asks for one suggestion when a trial
    can start and creates at most ``num_samples`` trials from it (the
    suggested config is merged over the experiment's ``config`` and what is
    left unresolved there is sampled, as Ray's does).

    Args:
        searcher: Search object that subclasses the Searcher base class. This
            is then used for generating new hyperparameter samples.
    """

    def __init__(self, searcher):
        if not isinstance(searcher, Searcher):
            raise TypeError("SearchGenerator: searcher should be subclassing Searcher, got "
                            "{!r}".format(type(searcher).__name__))
        self.searcher = searcher
        self._finished = False

    @property
    def metric(self):
        return self.searcher.metric

    @property
    def mode(self):
        return self.searcher.mode

    def set_search_properties(self, metric, mode, config, **spec):
        return self.searcher.set_search_properties(metric, mode, config, **spec)

    def add_configurations(self, experiments):
        raise NotImplementedError("tunec: the engine drives the searcher; pass this object to "
                                  "tune.run(search_alg=...)")

    def next_trials(self):
        raise NotImplementedError("tunec: the engine drives the searcher; pass this object to "
                                  "tune.run(search_alg=...)")

    def on_trial_result(self, trial_id, result):
        """Notifies the underlying searcher."""
        self.searcher.on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id, result=None, error=False, early_terminated=False):
        self.searcher.on_trial_complete(trial_id=trial_id, result=result, error=error)

    def save(self, checkpoint_path):
        self.searcher.save(checkpoint_path)

    def restore(self, checkpoint_path):
        self.searcher.restore(checkpoint_path)

    def has_checkpoint(self, dirpath):
        import glob
        return bool(glob.glob(os.path.join(dirpath, Searcher.CKPT_FILE_TMPL.format("*"))))

    def save_to_dir(self, dirpath, session_str="default"):
        return self.searcher.save_to_dir(dirpath, session_str)

    def restore_from_dir(self, dirpath):
        self.searcher.restore_from_dir(dirpath)


class SuggestionAlgorithm(SearchAlgorithm):
    """The 0.8.0–0.8.4 base of model-based searchers (spec §9.3).

    Subclasses implement ``_suggest(trial_id)`` (or ``suggest``),
    ``on_trial_result`` and ``on_trial_complete(trial_id, result=None,
    error=False, early_terminated=False)``. It generates ``num_samples``
    trials; each suggested config is merged over the experiment's config.

    Args:
        metric (str): The training result objective value attribute.
        mode (str): One of {min, max}.
        use_early_stopped_trials (bool): Whether to use early terminated
            trial results in the optimization process.
    """

    def __init__(self, metric=None, mode="max", use_early_stopped_trials=True):
        if mode not in ("min", "max"):
            raise ValueError("SuggestionAlgorithm: `mode` must be 'min' or 'max', got "
                             "{!r}".format(mode))
        self._metric = metric
        self._mode = mode
        self._use_early_stopped = use_early_stopped_trials
        self._finished = False

    def suggest(self, trial_id):
        """Queries the algorithm to retrieve the next set of parameters.

        Returns:
            dict|None: Configuration for a trial, if possible. Else,
                returns None, which will temporarily stop the
                TrialRunner from querying.
        """
        if type(self)._suggest is SuggestionAlgorithm._suggest:
            raise NotImplementedError("{} implements neither suggest nor _suggest".format(
                type(self).__name__))
        return self._suggest(trial_id)

    def _suggest(self, trial_id):
        raise NotImplementedError

    def add_configurations(self, experiments):
        raise NotImplementedError("tunec: the engine drives the searcher; pass this object to "
                                  "tune.run(search_alg=...)")

    def next_trials(self):
        raise NotImplementedError("tunec: the engine drives the searcher; pass this object to "
                                  "tune.run(search_alg=...)")

    def save(self, checkpoint_dir):
        raise NotImplementedError

    def restore(self, checkpoint_dir):
        raise NotImplementedError
