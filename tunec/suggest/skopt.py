"""``SkOptSearch`` (``ray.tune.suggest.skopt``; 2.x ``ray.tune.search.skopt``):
trials suggested by a scikit-optimize ``Optimizer`` (ask/tell).

tunec domains convert as follows:

=====================  ================================================
uniform / loguniform   Real(lower, upper[, prior="log-uniform"])
randint / lograndint   Integer(lower, upper - 1[, prior="log-uniform"])
choice                 Categorical(categories)
quantized forms        the same dimension over the multiples of q in the
                       domain; the suggestion is rounded to q (skopt has
                       no quantized dimension)
=====================  ================================================

randn/qrandn (skopt has no normal prior), grid_search and sample_from are
refused with a ValueError naming the config path.
"""
import copy
import logging
import pickle

from tunec.sample import Categorical, Float, Integer
from tunec.suggest import _convert
from tunec.suggest.suggestion import UNRESOLVED_SEARCH_SPACE, Searcher

logger = logging.getLogger("ray.tune.suggest.skopt")


def _skopt():
    return _convert.import_library("skopt", "SkOptSearch", "scikit-optimize")


class SkOptSearch(Searcher):
    """Uses Scikit Optimize (skopt) to optimize hyperparameters.

    Args:
        optimizer (skopt.Optimizer): An optimizer of your own; ``space`` then
            lists its parameter names in dimension order.
        space (dict|list): Parameter names to skopt dimensions (tuples for
            numeric ranges, lists for categories), or a tunec config with
            domains (converted); a list of names with ``optimizer``.
        metric (str): The training result objective value attribute.
        mode (str): One of {min, max}.
        points_to_evaluate (list): Configs to run first (dicts, or lists in
            the order of the parameter names).
        evaluated_rewards (list): Results of ``points_to_evaluate`` known
            already: the optimizer is told them instead of running them.
        convert_to_python (bool): numpy values as Python numbers (default).
        optimizer_kwargs (dict): Arguments of the ``skopt.Optimizer`` made
            when ``optimizer`` is not given (e.g. ``random_state``,
            ``n_initial_points``, ``base_estimator``).
        parameter_names, parameter_ranges: Ray 0.8's spelling of ``space``
            (names and dimensions as two lists).
    """

    def __init__(self, optimizer=None, space=None, metric=None, mode=None,
                 points_to_evaluate=None, evaluated_rewards=None, convert_to_python=True,
                 optimizer_kwargs=None, parameter_names=None, parameter_ranges=None,
                 max_concurrent=None, use_early_stopped_trials=None):
        sko = _skopt()
        super(SkOptSearch, self).__init__(metric=metric, mode=mode,
                                          max_concurrent=max_concurrent,
                                          use_early_stopped_trials=use_early_stopped_trials)
        if optimizer is not None and not isinstance(optimizer, sko.Optimizer):
            raise TypeError("SkOptSearch(optimizer=...) must be a skopt.Optimizer, got "
                            "{!r}".format(type(optimizer).__name__))
        if space is None and parameter_names is not None:
            space = list(parameter_names) if parameter_ranges is None else \
                dict(zip(parameter_names, parameter_ranges))
        self._post = {}
        self._constants = {}
        self._flat = False
        if _convert.is_tunec_space(space):
            logger.warning(UNRESOLVED_SEARCH_SPACE.format(par="space", cls="SkOptSearch"))
            self._constants = _convert.split(space, "SkOptSearch")[1]
            space, self._flat = self.convert_search_space(space, self._post), True
        self._parameter_names = None
        self._parameter_ranges = None
        if space:
            if optimizer is not None:
                if not isinstance(space, (list, tuple)):
                    raise ValueError("You passed an optimizer instance to SkOpt. Your `space` "
                                     "parameter should be a list of parameter names.")
                self._parameter_names = list(space)
            elif isinstance(space, dict):
                self._parameter_names = list(space)
                self._parameter_ranges = list(space.values())
            else:
                raise TypeError("SkOptSearch(space=...) must be a dict without an optimizer, "
                                "got {!r}".format(type(space).__name__))
        self._points_to_evaluate = copy.deepcopy(points_to_evaluate)
        self._evaluated_rewards = evaluated_rewards
        self._convert_to_python = convert_to_python
        self._skopt_opt = optimizer
        self._skopt_opt_kwargs = dict(optimizer_kwargs or {})
        self._initial_points = []
        self._live_trial_mapping = {}
        if optimizer is not None and self._parameter_names is None:
            raise ValueError("SkOptSearch: with an optimizer, pass `space` as the list of its "
                             "parameter names")
        if self._parameter_names:
            self._setup_skopt()

    @property
    def _metric_op(self):
        """skopt minimizes: results are multiplied by this."""
        return -1.0 if self._mode == "max" else 1.0

    def _setup_skopt(self):
        points = self._points_to_evaluate
        if points and isinstance(points[0], (list, tuple)):
            points = [dict(zip(self._parameter_names, p)) for p in points]
        points = _convert.check_points("SkOptSearch", self._parameter_names, points,
                                       self._evaluated_rewards)
        if self._skopt_opt is None:
            self._skopt_opt = _skopt().Optimizer(self._parameter_ranges,
                                                 **self._skopt_opt_kwargs)
        if points and self._evaluated_rewards:
            self._skopt_opt.tell([[p[n] for n in self._parameter_names] for p in points],
                                 [float(r) for r in self._evaluated_rewards])
        elif points:
            self._initial_points = points
        if self._metric is None and self._mode:
            self._metric = _convert.DEFAULT_METRIC

    def set_search_properties(self, metric, mode, config, **spec):
        if self._skopt_opt is not None:
            return False
        space = self.convert_search_space(config, self._post)
        if not space:
            return False
        self._flat = True
        self._parameter_names = list(space)
        self._parameter_ranges = list(space.values())
        self._set_metric_mode(metric, mode)
        self._setup_skopt()
        return True

    # -- the protocol ----------------------------------------------------------
    def suggest(self, trial_id):
        self._check_metric_mode(space=self._skopt_opt is not None)
        if self._initial_points:
            config = self._initial_points.pop(0)
            point = [config[n] for n in self._parameter_names]
        else:
            point = self._skopt_opt.ask()
            config = dict(zip(self._parameter_names, point))
        self._live_trial_mapping[trial_id] = point
        config = dict(config)
        if self._convert_to_python:
            config = {k: _convert.to_python(v) for k, v in config.items()}
        for key, domain in self._post.items():
            config[key] = _convert.apply_q(domain, config[key])
        if not self._flat:
            return config
        config.update({_convert.name(p): v for p, v in self._constants.items()})
        return _convert.unflatten(config)

    def on_trial_complete(self, trial_id, result=None, error=False):
        """Tells skopt the result (negated for max: skopt minimizes); NaN
        and inf results are left out."""
        point = self._live_trial_mapping.pop(trial_id, None)
        if point is None or not result or error:
            return
        value = _convert.metric_value("SkOptSearch", result, self._metric)
        if value is not None:
            self._skopt_opt.tell(point, self._metric_op * value)

    def add_evaluated_point(self, parameters, value, error=False, pruned=False,
                            intermediate_values=None):
        if self._skopt_opt is None:
            raise RuntimeError("SkOptSearch: the optimizer is not set up yet")
        if error or pruned:
            logger.warning("Only non errored and non pruned points can be added to SkOpt.")
            return
        flat = _convert.flatten(parameters) if self._flat else parameters
        self._skopt_opt.tell([flat[n] for n in self._parameter_names], float(value))

    # -- state ---------------------------------------------------------------
    _STATE = ("_skopt_opt", "_initial_points", "_live_trial_mapping", "_parameter_names",
              "_parameter_ranges", "_metric", "_mode", "_points_to_evaluate",
              "_evaluated_rewards")

    def get_state(self):
        return {k: getattr(self, k) for k in self._STATE}

    def set_state(self, state):
        for k, v in state.items():
            setattr(self, k, v)

    def save(self, checkpoint_path):
        with open(checkpoint_path, "wb") as f:
            pickle.dump(self.get_state(), f)

    def restore(self, checkpoint_path):
        with open(checkpoint_path, "rb") as f:
            self.set_state(pickle.load(f))

    # -- conversion ------------------------------------------------------------
    @staticmethod
    def convert_search_space(spec, post=None):
        """``{"a/b": skopt dimension}`` for the domains of a tunec config;
        ``post`` (a dict) receives the quantized ones, rounded afterwards."""
        sko = _skopt()
        domains, _ = _convert.split(spec, "SkOptSearch")
        space = {}
        for path, domain in domains:
            key = _convert.name(path)
            prior = "log-uniform" if getattr(domain, "sampler", None) == "loguniform" \
                else "uniform"
            if isinstance(domain, (Float, Integer)) and domain.q is not None:
                lo, hi = _convert.quantized_bounds(domain)
                if post is not None:
                    post[key] = domain
            elif isinstance(domain, Integer):
                lo, hi = domain.lower, domain.upper - 1
            elif isinstance(domain, Float):
                lo, hi = domain.lower, domain.upper
            if isinstance(domain, Float):
                space[key] = sko.space.Real(lo, hi, prior=prior)
            elif isinstance(domain, Integer):
                space[key] = sko.space.Integer(lo, hi, prior=prior)
            elif isinstance(domain, Categorical):
                space[key] = sko.space.Categorical(list(domain.categories))
            else:
                raise _convert.unsupported("SkOptSearch", path, domain,
                                           "skopt has no dimension for it")
        return space
