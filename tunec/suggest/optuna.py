"""``OptunaSearch`` (``ray.tune.suggest.optuna``; 2.x ``ray.tune.search.optuna``):
trials suggested by an Optuna study through its ask/tell interface.

tunec domains convert as follows (bounds as tunec means them: randint
excludes its upper bound, the quantized forms include it):

=====================  ================================================
uniform / loguniform   FloatDistribution(lower, upper[, log=True])
quniform               FloatDistribution(a, b, step=q), a..b the multiples of q
qloguniform            FloatDistribution(lower, upper, log=True); the
                       suggestion is rounded to q (Optuna has no log+step)
randint / lograndint   IntDistribution(lower, upper - 1[, log=True])
qrandint               IntDistribution(a, b, step=q)
qlograndint            IntDistribution(lower, upper, log=True), rounded to q
choice                 CategoricalDistribution(categories) (None, bool, int,
                       float or str categories, as Optuna requires)
=====================  ================================================

randn/qrandn (Optuna has no normal distribution), grid_search and
sample_from are refused with a ValueError naming the config path.
"""
import functools
import logging
import pickle

from tunec.sample import Categorical, Float, Integer
from tunec.suggest import _convert
from tunec.suggest.suggestion import UNRESOLVED_SEARCH_SPACE, Searcher

logger = logging.getLogger("ray.tune.suggest.optuna")

_CATEGORY_TYPES = (type(None), bool, int, float, str)


class _OptunaTrialSuggestCaptor:
    """Wraps an ``optuna.Trial`` so that the values its ``suggest_*`` methods
    return (in a define-by-run space function) are captured."""

    def __init__(self, ot_trial):
        self.ot_trial = ot_trial
        self.captured_values = {}

    def __getattr__(self, item_name):
        item = getattr(self.ot_trial, item_name)
        if not (item_name.startswith("suggest_") and callable(item)):
            return item

        @functools.wraps(item)
        def wrapper(*args, **kwargs):
            value = item(*args, **kwargs)
            self.captured_values[kwargs.get("name", args[0] if args else None)] = value
            return value
        return wrapper


class OptunaSearch(Searcher):
    """A wrapper around Optuna to provide trial suggestions.

    Args:
        space (dict|callable): Optuna's own space: a dict of parameter names
            (``"a/b"`` for nested configs) to ``optuna.distributions``, or a
            define-by-run function of an ``optuna.Trial``. A tunec config with
            domains is converted (see the module docstring). None: the space
            comes from ``tune.run(config=...)``.
        metric (str|list): The training result objective value attribute; a
            list for multi-objective optimization.
        mode (str|list): One of {min, max} (a list matching ``metric``).
        points_to_evaluate (list): Configs to run first (dicts).
        sampler (optuna.samplers.BaseSampler): Defaults to ``TPESampler``.
        seed (int): Seed of the default sampler (ignored with ``sampler``).
        evaluated_rewards (list): Results of ``points_to_evaluate`` known
            already: the study is told them instead of running them.
    """

    def __init__(self, space=None, metric=None, mode=None, points_to_evaluate=None, sampler=None,
                 seed=None, evaluated_rewards=None):
        self._ot = _convert.import_library("optuna", "OptunaSearch", "optuna")
        super(OptunaSearch, self).__init__(metric=metric, mode=mode)
        if sampler is not None and not isinstance(sampler, self._ot.samplers.BaseSampler):
            raise TypeError("OptunaSearch(sampler=...) must be an optuna.samplers.BaseSampler, "
                            "got {!r}".format(type(sampler).__name__))
        if sampler is not None and seed is not None:
            logger.warning("You passed an initialized sampler to `OptunaSearch`. The `seed` "
                           "parameter has to be passed to the sampler directly and will be "
                           "ignored.")
        self._sampler = sampler
        self._seed = seed
        self._points_to_evaluate = points_to_evaluate or []
        self._evaluated_rewards = evaluated_rewards
        self._post = {}          # name -> tunec domain whose q Optuna cannot express
        self._ot_trials = {}
        self._ot_study = None
        self._space = None
        if _convert.is_tunec_space(space):
            logger.warning(UNRESOLVED_SEARCH_SPACE.format(par="space", cls="OptunaSearch"))
            space = self.convert_search_space(space, self._post)
        elif isinstance(space, dict):
            space = _convert.flatten(space)
        elif space is not None and not callable(space):
            raise TypeError("OptunaSearch(space=...) must be a dict, a define-by-run function "
                            "or None, got {!r}".format(type(space).__name__))
        if space:
            self._space = space
            self._setup_study()

    # -- setup ---------------------------------------------------------------
    def _setup_study(self):
        ot = self._ot
        if self._metric is None and self._mode:
            if isinstance(self._mode, list):
                raise ValueError("If ``mode`` is a list (multi-objective optimization case), "
                                 "``metric`` must be defined.")
            self._metric = _convert.DEFAULT_METRIC
        sampler = self._sampler or ot.samplers.TPESampler(seed=self._seed)
        modes = self._mode if isinstance(self._mode, list) else [self._mode]
        directions = ["minimize" if m == "min" else "maximize" for m in modes]
        self._ot_study = ot.create_study(
            storage=ot.storages.InMemoryStorage(), sampler=sampler,
            pruner=ot.pruners.NopPruner(), study_name="optuna", load_if_exists=True,
            directions=directions)
        names = None if callable(self._space) else list(self._space)
        points = _convert.check_points("OptunaSearch", names, self._points_to_evaluate,
                                       self._evaluated_rewards)
        if self._evaluated_rewards:
            for point, reward in zip(points, self._evaluated_rewards):
                self.add_evaluated_point(point, reward)
        else:
            for point in points:
                self._ot_study.enqueue_trial(point)

    def set_search_properties(self, metric, mode, config, **spec):
        if self._space:
            return False
        space = self.convert_search_space(config, self._post)
        if not space:
            return False
        self._space = space
        self._set_metric_mode(metric, mode)
        self._setup_study()
        return True

    # -- the protocol ----------------------------------------------------------
    def suggest(self, trial_id):
        self._check_metric_mode(space=self._space)
        if trial_id not in self._ot_trials:
            if callable(self._space):
                self._ot_trials[trial_id] = self._ot_study.ask()
            else:
                self._ot_trials[trial_id] = self._ot_study.ask(fixed_distributions=self._space)
        ot_trial = self._ot_trials[trial_id]
        if callable(self._space):
            params = self._define_by_run(ot_trial)
        else:
            params = dict(ot_trial.params)
        for key, domain in self._post.items():
            params[key] = _convert.apply_q(domain, params[key])
        return _convert.unflatten(params)

    def _define_by_run(self, ot_trial):
        captor = _OptunaTrialSuggestCaptor(ot_trial)
        ret = self._space(captor)
        if ret is not None and not (isinstance(ret, dict) and all(isinstance(k, str)
                                                                  for k in ret)):
            raise TypeError("The define-by-run function passed in the `space` argument must "
                            "return None or a dict with str keys, got {!r}".format(ret))
        return {**captor.captured_values, **(ret or {})}

    def on_trial_result(self, trial_id, result):
        if isinstance(self._metric, list) or trial_id not in self._ot_trials:
            return   # Optuna takes no intermediate values for several objectives
        value = result.get(self._metric)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self._ot_trials[trial_id].report(value, result.get("training_iteration", 0))

    def on_trial_complete(self, trial_id, result=None, error=False):
        ot_trial = self._ot_trials.get(trial_id)
        if ot_trial is None:
            return
        state = self._ot.trial.TrialState
        val = None
        if result:
            if isinstance(self._metric, list):
                val = [_convert.metric_value("OptunaSearch", result, m) for m in self._metric]
                val = None if None in val else val
            else:
                val = _convert.metric_value("OptunaSearch", result, self._metric)
        if val is not None:
            self._ot_study.tell(ot_trial, val, state=state.COMPLETE)
        else:
            self._ot_study.tell(ot_trial, None, state=state.FAIL if error else state.PRUNED)

    def add_evaluated_point(self, parameters, value, error=False, pruned=False,
                            intermediate_values=None):
        self._check_metric_mode(space=self._space)
        if callable(self._space):
            raise TypeError("Define-by-run function passed in `space` argument is not yet "
                            "supported when using `evaluated_rewards`. Please provide an "
                            "`OptunaDistribution` dict or pass a Ray Tune search space to "
                            "`tune.run()`.")
        state = self._ot.trial.TrialState
        st = state.FAIL if error else state.PRUNED if pruned else state.COMPLETE
        trial = self._ot.trial.create_trial(
            state=st, value=value if st == state.COMPLETE else None,
            params=_convert.flatten(parameters), distributions=self._space,
            intermediate_values=dict(enumerate(intermediate_values or [])) or None)
        self._ot_study.add_trial(trial)

    # -- state ---------------------------------------------------------------
    def save(self, checkpoint_path):
        state = {"sampler": self._sampler, "ot_trials": self._ot_trials,
                 "study": self._ot_study, "points": self._points_to_evaluate,
                 "rewards": self._evaluated_rewards, "metric": self._metric,
                 "mode": self._mode}
        with open(checkpoint_path, "wb") as f:
            pickle.dump(state, f)

    def restore(self, checkpoint_path):
        with open(checkpoint_path, "rb") as f:
            state = pickle.load(f)
        self._sampler, self._ot_trials = state["sampler"], state["ot_trials"]
        self._ot_study = state["study"]
        self._points_to_evaluate, self._evaluated_rewards = state["points"], state["rewards"]
        self._metric, self._mode = state["metric"], state["mode"]

    # -- conversion ------------------------------------------------------------
    @staticmethod
    def convert_search_space(spec, post=None):
        """``{"a/b": optuna distribution}`` for the domains of a tunec config.
        ``post`` (a dict) receives the names whose suggestions are rounded
        to q afterwards."""
        ot = _convert.import_library("optuna", "OptunaSearch", "optuna")
        dist = ot.distributions
        domains, _ = _convert.split(spec, "OptunaSearch")
        space = {}
        for path, domain in domains:
            key = _convert.name(path)
            log = getattr(domain, "sampler", None) == "loguniform"
            if isinstance(domain, Float):
                if domain.q is not None and not log:
                    lo, hi = _convert.quantized_bounds(domain)
                    space[key] = dist.FloatDistribution(lo, hi, step=domain.q)
                else:
                    space[key] = dist.FloatDistribution(domain.lower, domain.upper, log=log)
            elif isinstance(domain, Integer):
                hi = _convert.int_upper(domain)
                if domain.q is not None and not log:
                    lo, hi = _convert.quantized_bounds(domain)
                    space[key] = dist.IntDistribution(lo, hi, step=domain.q)
                else:
                    space[key] = dist.IntDistribution(domain.lower, hi, log=log)
            elif isinstance(domain, Categorical):
                bad = [c for c in domain.categories if not isinstance(c, _CATEGORY_TYPES)]
                if bad:
                    raise _convert.unsupported(
                        "OptunaSearch", path, domain,
                        "Optuna's categories must be None, bool, int, float or str, not "
                        "{!r}".format(bad[0]))
                space[key] = dist.CategoricalDistribution(domain.categories)
            else:
                raise _convert.unsupported("OptunaSearch", path, domain,
                                           "Optuna has no distribution for it")
            if log and domain.q is not None and post is not None:
                post[key] = domain
        return space
