"""``BayesOptSearch`` (``ray.tune.suggest.bayesopt``; 2.x
``ray.tune.search.bayesopt``): trials suggested by fmfn/BayesianOptimization
(Gaussian process), through its suggest/register interface.

Both of the library's APIs are used, whichever is installed (nevergrad pins
bayesian-optimization 1.4, so a venv holding both gets 1.4):

- 2.0 and newer: ``BayesianOptimization`` takes an ``acquisition_function``,
  which Ray's ``utility_kwargs`` (``kind`` ucb, ei or poi, ``kappa``,
  ``xi``) choose; ints and categories are searched.
- 1.x (what Ray 1.x was written for): ``optimizer.suggest(UtilityFunction(
  **utility_kwargs))``; floats only, so an int or categorical domain is
  refused naming its config path, as Ray refuses it.

tunec domains convert as follows:

=====================  ================================================
uniform                (lower, upper)
loguniform             (lower, upper): searched on a linear scale, with a
                       warning (BayesOpt has no log scale; Ray does the same)
quantized floats       the bounds of the multiples of q; the suggestion is
                       rounded to q
randint / lograndint   (lower, upper - 1, int) (the log scale dropped as
                       above; 2.0+ only)
qrandint, qlograndint  (a, b, int) over the multiples of q, rounded to q
                       (2.0+ only)
choice                 a categorical parameter (2.0+ only)
=====================  ================================================

randn/qrandn, grid_search and sample_from are refused with a ValueError
naming the config path.
"""
import importlib.util
import json
import logging
import pickle
from collections import defaultdict

from tunec.sample import Categorical, Float, Integer
from tunec.suggest import _convert
from tunec.suggest.suggestion import UNRESOLVED_SEARCH_SPACE, Searcher

logger = logging.getLogger("ray.tune.suggest.bayesopt")


def _bayes_opt():
    byo = _convert.import_library("bayes_opt", "BayesOptSearch", "bayesian-optimization")
    if not _acquisition_api() and not hasattr(byo, "UtilityFunction"):
        raise ImportError("BayesOptSearch needs bayes_opt's UtilityFunction (1.x) or its "
                          "acquisition functions (2.0+): pip install -U bayesian-optimization")
    return byo


def _acquisition_api():
    """True for bayes_opt 2.0+ (acquisition functions; ints and categories
    searched), False for 1.x (UtilityFunction; floats only). Decided by
    what the installed library has, not by its version string."""
    try:
        import bayes_opt.acquisition  # noqa: F401
    except ImportError:
        # not installed at all: `pip install bayesian-optimization` gets the newest
        return importlib.util.find_spec("bayes_opt") is None
    return True


def _version():
    try:
        from importlib.metadata import version
        return version("bayesian-optimization")
    except Exception:     # metadata missing (a vendored copy): still name the API
        return "1.x"


def _dict_hash(config, precision):
    flat = _convert.flatten(config)
    for key, value in flat.items():
        if isinstance(value, float):
            flat[key] = "{:.{digits}f}".format(value, digits=precision)
    return json.dumps(flat, sort_keys=True, default=str)


class BayesOptSearch(Searcher):
    """Uses fmfn/BayesianOptimization to optimize hyperparameters.

    Args:
        space (dict): Parameter names to ``(low, high)`` bounds (BayesOpt's
            own ``pbounds``), or a tunec config with domains (converted).
        metric (str): The training result objective value attribute.
        mode (str): One of {min, max}.
        points_to_evaluate (list): Configs to run first (dicts).
        utility_kwargs (dict): The acquisition function: ``kind`` (ucb, ei,
            poi), ``kappa`` (ucb) and ``xi`` (ei, poi). Default ucb, 2.576.
            With bayes_opt 1.x, the arguments of its ``UtilityFunction``.
        random_state (int): Seed of BayesOpt. Defaults to 42.
        random_search_steps (int): Random trials whose results are gathered
            before the Gaussian process is fitted. Defaults to 10.
        verbose (int): BayesOpt's verbosity.
        patience (int): Stop (FINISHED) once a config was suggested this many
            times over. Defaults to 5.
        skip_duplicate (bool): Suggest nothing for a config seen already.
        analysis (ExperimentAnalysis): Earlier results to register first.
    """

    def __init__(self, space=None, metric=None, mode=None, points_to_evaluate=None,
                 utility_kwargs=None, random_state=42, random_search_steps=10, verbose=0,
                 patience=5, skip_duplicate=True, analysis=None, max_concurrent=None,
                 use_early_stopped_trials=None):
        byo = _bayes_opt()
        super(BayesOptSearch, self).__init__(metric=metric, mode=mode,
                                             max_concurrent=max_concurrent,
                                             use_early_stopped_trials=use_early_stopped_trials)
        if patience <= 0:
            raise ValueError("patience must be set to a value greater than 0!")
        self._patience = patience
        self.repeat_float_precision = 5   # float digits a config is compared at
        self._skip_duplicate = skip_duplicate
        self._config_counter = defaultdict(int)
        utility_kwargs = dict(utility_kwargs or {"kind": "ucb", "kappa": 2.576, "xi": 0.0})
        self._acquisition = self._utility = None     # 2.0+'s / 1.x's, whichever exists
        if _acquisition_api():
            self._acquisition = self._make_acquisition(byo, utility_kwargs)
        else:
            self._utility = self._make_utility(byo, utility_kwargs)
        self._points_to_evaluate = list(points_to_evaluate or [])
        self._live_trial_mapping = {}
        self._buffered_trial_results = []
        self.random_search_trials = random_search_steps
        self._total_random_search_trials = 0
        self._analysis = analysis
        self._verbose = verbose
        self._random_state = random_state
        self._post = {}
        self._flat = False
        self._constants = {}
        if _convert.is_tunec_space(space):
            logger.warning(UNRESOLVED_SEARCH_SPACE.format(par="space", cls="BayesOptSearch"))
            self._constants = _convert.split(space, "BayesOptSearch")[1]
            space, self._flat = self.convert_search_space(space, self._post), True
        elif space is not None and not isinstance(space, dict):
            raise TypeError("BayesOptSearch(space=...) must be a dict of bounds or None, got "
                            "{!r}".format(type(space).__name__))
        self._space = space
        self.optimizer = None
        if space:
            self._setup_optimizer()

    @staticmethod
    def _make_acquisition(byo, kwargs):
        acq = byo.acquisition
        kind = kwargs.get("kind", "ucb")
        if kind == "ucb":
            return acq.UpperConfidenceBound(kappa=kwargs.get("kappa", 2.576))
        if kind == "ei":
            return acq.ExpectedImprovement(xi=kwargs.get("xi", 0.0))
        if kind == "poi":
            return acq.ProbabilityOfImprovement(xi=kwargs.get("xi", 0.0))
        raise ValueError("BayesOptSearch(utility_kwargs=...): kind must be 'ucb', 'ei' or "
                         "'poi', got {!r}".format(kind))

    @staticmethod
    def _make_utility(byo, kwargs):
        kind = kwargs.get("kind", "ucb")
        if kind not in ("ucb", "ei", "poi"):
            raise ValueError("BayesOptSearch(utility_kwargs=...): kind must be 'ucb', 'ei' or "
                             "'poi', got {!r}".format(kind))
        return byo.UtilityFunction(**kwargs)     # as Ray 1.x

    @property
    def _metric_op(self):
        """BayesOpt maximizes: results are multiplied by this."""
        return -1.0 if self._mode == "min" else 1.0

    def _setup_optimizer(self):
        if self._metric is None and self._mode:
            self._metric = _convert.DEFAULT_METRIC
        self._points_to_evaluate = _convert.check_points(
            "BayesOptSearch", list(self._space), self._points_to_evaluate)
        acquisition = {} if self._acquisition is None else \
            {"acquisition_function": self._acquisition}
        self.optimizer = _bayes_opt().BayesianOptimization(
            f=None, pbounds=self._space, verbose=self._verbose,
            random_state=self._random_state, allow_duplicate_points=True, **acquisition)
        if self._analysis is not None:
            self.register_analysis(self._analysis)

    def set_search_properties(self, metric, mode, config, **spec):
        if self.optimizer is not None:
            return False
        space = self.convert_search_space(config, self._post)
        if not space:
            return False
        self._space, self._flat = space, True
        self._set_metric_mode(metric, mode)
        self._setup_optimizer()
        return True

    # -- the protocol ----------------------------------------------------------
    def suggest(self, trial_id):
        self._check_metric_mode(space=self.optimizer is not None)
        if self._points_to_evaluate:
            config = self._points_to_evaluate.pop(0)
        else:
            config = self.optimizer.suggest() if self._utility is None else \
                self.optimizer.suggest(self._utility)
        config = {k: _convert.to_python(v) for k, v in config.items()}
        config_hash = _dict_hash(config, self.repeat_float_precision)
        already_seen = config_hash in self._config_counter
        self._config_counter[config_hash] += 1
        if max(self._config_counter.values()) > self._patience:
            return Searcher.FINISHED      # the optimizer keeps proposing the same config
        if already_seen and self._skip_duplicate:
            logger.info("Skipping duplicated config: %s.", config)
            return None
        if len(self._buffered_trial_results) < self.random_search_trials:
            if self._total_random_search_trials == self.random_search_trials:
                return None   # the random phase is handed out; wait for its results
            self._total_random_search_trials += 1
        self._live_trial_mapping[trial_id] = config
        out = dict(config)
        for key, domain in self._post.items():
            out[key] = _convert.apply_q(domain, out[key])
        if not self._flat:
            return out
        out.update({_convert.name(p): v for p, v in self._constants.items()})
        return _convert.unflatten(out)

    def register_analysis(self, analysis):
        """Registers the results of an earlier ExperimentAnalysis."""
        for trial in analysis.trials:
            if trial.last_result and self._metric in trial.last_result:
                params = {k: v for k, v in _convert.flatten(trial.config).items()
                          if k in self._space}
                self._register_result(params, trial.last_result)

    def on_trial_complete(self, trial_id, result=None, error=False):
        params = self._live_trial_mapping.pop(trial_id, None)
        if result is None or params is None or error:
            return
        if len(self._buffered_trial_results) >= self.random_search_trials:
            self._register_result(params, result)
            return
        self._buffered_trial_results.append((params, result))
        if len(self._buffered_trial_results) == self.random_search_trials:
            for p, r in self._buffered_trial_results:
                self._register_result(p, r)

    def _register_result(self, params, result):
        value = _convert.metric_value("BayesOptSearch", result, self._metric)
        if value is not None:
            self.optimizer.register(params, self._metric_op * value)

    # -- state ---------------------------------------------------------------
    def save(self, checkpoint_path):
        state = {"optimizer": self.optimizer, "buffered": self._buffered_trial_results,
                 "total_random": self._total_random_search_trials,
                 "counter": dict(self._config_counter), "points": self._points_to_evaluate,
                 "live": self._live_trial_mapping, "metric": self._metric, "mode": self._mode}
        with open(checkpoint_path, "wb") as f:
            pickle.dump(state, f)

    def restore(self, checkpoint_path):
        with open(checkpoint_path, "rb") as f:
            state = pickle.load(f)
        if isinstance(state, tuple):      # Ray 1.x's layout
            (self.optimizer, self._buffered_trial_results, self._total_random_search_trials,
             counter, self._points_to_evaluate) = state
        else:
            self.optimizer = state["optimizer"]
            self._buffered_trial_results = state["buffered"]
            self._total_random_search_trials = state["total_random"]
            counter = state["counter"]
            self._points_to_evaluate = state["points"]
            self._live_trial_mapping = state["live"]
            self._metric, self._mode = state["metric"], state["mode"]
        self._config_counter = defaultdict(int, counter)

    # -- conversion ------------------------------------------------------------
    @staticmethod
    def convert_search_space(spec, post=None):
        """``{"a/b": bounds}`` (BayesOpt's ``pbounds``) for the domains of a
        tunec config; ``post`` (a dict) receives the quantized ones. With
        bayes_opt 1.x, which searches floats only, an int or categorical
        domain is refused (as Ray refuses it)."""
        domains, _ = _convert.split(spec, "BayesOptSearch")
        floats_only = not _acquisition_api()
        bounds = {}
        for path, domain in domains:
            key = _convert.name(path)
            if floats_only and isinstance(domain, (Integer, Categorical)):
                raise _convert.unsupported(
                    "BayesOptSearch", path, domain,
                    "bayes_opt {} searches floats only (2.0+ searches ints and categories: "
                    "pip install -U bayesian-optimization)".format(_version()))
            if isinstance(domain, (Float, Integer)):
                if domain.sampler == "loguniform":
                    logger.warning("BayesOpt does not support specific sampling methods. The "
                                   "loguniform sampler of %s will be dropped.",
                                   _convert.describe(path))
                if domain.q is not None:
                    lo, hi = _convert.quantized_bounds(domain)
                    if post is not None:
                        post[key] = domain
                elif isinstance(domain, Integer):
                    lo, hi = domain.lower, domain.upper - 1
                else:
                    lo, hi = domain.lower, domain.upper
                bounds[key] = (lo, hi, int) if isinstance(domain, Integer) else \
                    (float(lo), float(hi))
            elif isinstance(domain, Categorical):
                bounds[key] = tuple(domain.categories)
            else:
                raise _convert.unsupported("BayesOptSearch", path, domain,
                                           "BayesOpt searches bounded numbers and categories "
                                           "only")
        return bounds
