"""``NevergradSearch`` (``ray.tune.suggest.nevergrad``): Facebook's
Nevergrad gradient-free optimizers behind the Searcher protocol.
``pip install nevergrad``."""
import copy
import logging
import pickle

import numpy as np

from tunec.suggest import _convert as cv
from tunec.suggest.suggestion import UNRESOLVED_SEARCH_SPACE, Searcher

try:
    import nevergrad as ng
except ImportError:
    ng = None

logger = logging.getLogger("ray.tune.suggest.nevergrad")


def _require():
    if ng is None:
        raise ImportError("NevergradSearch needs Nevergrad: pip install nevergrad")


class NevergradSearch(Searcher):
    """Uses Nevergrad to optimize hyperparameters (Nevergrad minimises; a
    "max" metric is negated for it).

    Args:
        optimizer (nevergrad.optimization.Optimizer|class): an optimizer
            instance built on its own parametrization (then ``space`` must be
            None, or the 0.8 list of parameter names for an
            ``Instrumentation`` of positional args), or an optimizer class /
            ConfiguredOptimizer (``ng.optimizers.OnePlusOne``) that is built
            on ``space``.
        space (dict|ng.p.Parameter|list): a tunec config of typed domains,
            a Nevergrad parametrization (``ng.p.Dict`` with "a/b" keys for
            nested parameters), or (with an optimizer instance) parameter
            names.
        metric (str), mode (str): the objective and "min"/"max".
        points_to_evaluate (list[dict]): configs to try first (told to the
            optimizer through ``optimizer.suggest``).
        optimizer_kwargs (dict): extra arguments for the optimizer class
            (``budget``, ``num_workers``).

    ``tune.run(config=...)`` with typed domains converts them: uniform →
    ``ng.p.Scalar``, loguniform → ``ng.p.Log``, int ranges → the same with
    integer casting, choice → ``ng.p.Choice``. Quantized and normal domains
    have no Nevergrad bounds equivalent and raise ValueError naming the path.
    """

    def __init__(self, optimizer=None, space=None, metric=None, mode=None,
                 max_concurrent=None, points_to_evaluate=None, optimizer_kwargs=None,
                 **kwargs):
        _require()
        super(NevergradSearch, self).__init__(metric=metric, mode=mode,
                                              max_concurrent=max_concurrent, **kwargs)
        self._space = None
        self._opt_factory = None
        self._nevergrad_opt = None
        self._names_in_one_array = False
        self._optimizer_kwargs = dict(optimizer_kwargs or {})
        self._points_to_evaluate = copy.deepcopy(points_to_evaluate) or []
        self._live_trial_mapping = {}
        if points_to_evaluate is not None and not isinstance(points_to_evaluate, list):
            raise ValueError("NevergradSearch(points_to_evaluate=...) must be a list of dicts, "
                             "got {!r}".format(type(points_to_evaluate).__name__))

        if isinstance(space, dict) and space:
            if cv.parse_space(space, "NevergradSearch"):
                logger.warning(UNRESOLVED_SEARCH_SPACE.format(par="space", cls=type(self).__name__))
                space = self.convert_search_space(space)

        if isinstance(optimizer, ng.optimization.Optimizer):
            if space is not None and not isinstance(space, list):
                raise ValueError("NevergradSearch: pass either a space or an optimizer instance "
                                 "built on its own parametrization, not both")
            self._nevergrad_opt = optimizer
        elif optimizer is None or isinstance(optimizer, ng.optimizers.base.ConfiguredOptimizer) \
                or (isinstance(optimizer, type) and
                    issubclass(optimizer, ng.optimization.Optimizer)):
            self._opt_factory = optimizer or ng.optimizers.OnePlusOne
        else:
            raise ValueError("NevergradSearch(optimizer=...) must be a Nevergrad optimizer "
                             "instance or class, got {!r}".format(optimizer))
        self._space = space
        if self._opt_factory is not None and self._space is not None:
            self._setup_nevergrad()
        if self._nevergrad_opt is not None:
            self._check_names()

    def _setup_nevergrad(self):
        if isinstance(self._space, list):
            raise ValueError("NevergradSearch: a list of parameter names needs an optimizer "
                             "instance; pass a dict space or ng.p.Dict with a class")
        self._nevergrad_opt = self._opt_factory(parametrization=self._space,
                                                **self._optimizer_kwargs)

    def _check_names(self):
        par = self._nevergrad_opt.parametrization
        self._names_in_one_array = (isinstance(self._space, list) and len(par.args) == 1 and
                                    len(self._space) > 1 and
                                    np.size(par.args[0]) == len(self._space))
        if self._names_in_one_array:
            return  # Ray 0.8: OnePlusOne(2) with two names: one array, an element per name
        if isinstance(self._space, list) and len(par.args) != len(self._space):
            raise ValueError("NevergradSearch: the optimizer has {} positional parameters but "
                             "space names {}".format(len(par.args), len(self._space)))

    def set_search_properties(self, metric, mode, config, **spec):
        if self._nevergrad_opt is not None or self._space is not None:
            return False
        space = self.convert_search_space(config)
        if not space.value:
            return False
        self._space = space
        if not self._set_metric_mode(metric, mode):
            return False
        self._setup_nevergrad()
        return True

    def suggest(self, trial_id):
        self._check_metric_mode("space", self._nevergrad_opt is not None)
        if self._points_to_evaluate:
            point = self._points_to_evaluate.pop(0)
            flat = cv.flatten(point)
            if self._names_in_one_array:
                self._nevergrad_opt.suggest(np.array([flat[k] for k in self._space], float))
            elif isinstance(self._space, list):
                self._nevergrad_opt.suggest(*[flat[k] for k in self._space])
            else:
                self._nevergrad_opt.suggest(flat)
        candidate = self._nevergrad_opt.ask()
        self._live_trial_mapping[trial_id] = candidate
        if self._names_in_one_array:
            values = dict(zip(self._space, np.asarray(candidate.args[0]).tolist()))
        elif isinstance(self._space, list):
            values = dict(zip(self._space, candidate.args))
        elif isinstance(candidate.value, dict):
            values = candidate.value
        else:
            values = candidate.kwargs
        return cv.unflatten({k: cv.plain(v) for k, v in values.items()})

    def on_trial_complete(self, trial_id, result=None, error=False):
        """Tells the optimizer the trial's final metric (errors are
        dropped: Nevergrad has no failure value)."""
        candidate = self._live_trial_mapping.pop(trial_id, None)
        if candidate is None or error or not result or self._metric not in result:
            return
        self._nevergrad_opt.tell(candidate, cv.metric_op(self._mode) * result[self._metric])

    def add_evaluated_point(self, parameters, value, error=False, pruned=False,
                            intermediate_values=None):
        if error:
            return
        flat = cv.flatten(parameters)
        candidate = self._nevergrad_opt.parametrization.spawn_child(new_value=flat)
        self._nevergrad_opt.tell(candidate, cv.metric_op(self._mode) * value)

    def save(self, checkpoint_path):
        with open(checkpoint_path, "wb") as f:
            pickle.dump(self.__dict__, f)

    def restore(self, checkpoint_path):
        with open(checkpoint_path, "rb") as f:
            self.__dict__.update(pickle.load(f))

    @staticmethod
    def convert_search_space(spec):
        """A tunec config's domains as an ``ng.p.Dict`` (keys "a/b")."""
        _require()
        params = {}
        for path, domain in cv.parse_space(spec, "NevergradSearch"):
            params[cv.flat_key(path)] = _resolve(path, domain)
        return ng.p.Dict(**params)


def _resolve(path, domain):
    if getattr(domain, "q", None) is not None:
        raise cv.unsupported("NevergradSearch", path, domain, "Nevergrad has no quantized "
                             "parameters")
    if isinstance(domain, cv.Float):
        if cv.is_log(domain):
            return ng.p.Log(lower=domain.lower, upper=domain.upper, exponent=domain.base)
        return ng.p.Scalar(lower=domain.lower, upper=domain.upper)
    if isinstance(domain, cv.Integer):
        if cv.is_log(domain):
            return ng.p.Log(lower=domain.lower, upper=domain.upper - 1,
                            exponent=domain.base).set_integer_casting()
        return ng.p.Scalar(lower=domain.lower, upper=domain.upper - 1).set_integer_casting()
    if isinstance(domain, cv.Categorical):
        return ng.p.Choice(choices=domain.categories)
    raise cv.unsupported("NevergradSearch", path, domain, "Nevergrad needs bounds (normal "
                         "domains have none)")
