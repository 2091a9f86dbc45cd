"""``ZOOptSearch`` (``ray.tune.suggest.zoopt``): ZOOpt's sequential
randomized coordinate shrinking (ASRacos) behind the Searcher protocol.
``pip install zoopt``."""
import copy
import logging

from tunec.suggest import _convert as cv
from tunec.suggest.suggestion import UNRESOLVED_SEARCH_SPACE, Searcher

try:
    import zoopt
    from zoopt import ValueType
except ImportError:
    zoopt = None
    ValueType = None

logger = logging.getLogger("ray.tune.suggest.zoopt")


def _require():
    if zoopt is None:
        raise ImportError("ZOOptSearch needs ZOOpt: pip install zoopt")


class ZOOptSearch(Searcher):
    """Uses ZOOpt's ASRacos to optimize hyperparameters (ZOOpt minimises; a
    "max" metric is negated for it).

    Args:
        algo (str): "asracos" (the only one ZOOpt offers for Tune).
        budget (int): the number of samples ZOOpt gives; after that
            ``suggest`` returns ``Searcher.FINISHED``.
        dim_dict (dict): ZOOpt's own space: ``{"a/b": (ValueType.CONTINUOUS,
            [lo, hi], precision) | (ValueType.DISCRETE, [lo, hi], True) |
            (ValueType.GRID, [choices])}``, or a tunec config of domains.
        metric (str), mode (str): the objective and "min"/"max".
        points_to_evaluate (list[dict]): configs to try first (ZOOpt's
            ``init_samples``).
        parallel_num (int): how many trials ZOOpt has in flight at once.
        **kwargs: further ``zoopt.Parameter`` arguments (``seed``, ...).

    Typed domains convert as uniform float → CONTINUOUS (a quantized float's
    q is its precision), int range → DISCRETE, choice → GRID. Log and normal
    samplers and quantized ints have no ZOOpt form: ValueError naming the
    path.
    """

    optimizer = None

    def __init__(self, algo="asracos", budget=None, dim_dict=None, metric=None, mode=None,
                 points_to_evaluate=None, parallel_num=1, **kwargs):
        _require()
        if algo.lower() not in ("asracos", "sracos"):
            raise ValueError("ZOOptSearch(algo=...) must be 'asracos', got {!r}".format(algo))
        if budget is None or type(budget) is not int or budget <= 0:
            raise ValueError("ZOOptSearch(budget=...) must be an int > 0 (the number of "
                             "samples), got {!r}".format(budget))
        if type(parallel_num) is not int or parallel_num <= 0:
            raise ValueError("ZOOptSearch(parallel_num=...) must be an int > 0, got "
                             "{!r}".format(parallel_num))
        super(ZOOptSearch, self).__init__(metric=metric, mode=mode)
        self._algo = algo
        self._budget = budget
        self.parallel_num = parallel_num
        self.kwargs = kwargs
        self._points_to_evaluate = copy.deepcopy(points_to_evaluate)
        self._dim_keys = []
        self.solution_dict = {}
        self.best_solution_list = []
        self._live_trial_mapping = {}
        if isinstance(dim_dict, dict) and dim_dict and cv.parse_space(dim_dict, "ZOOptSearch"):
            logger.warning(UNRESOLVED_SEARCH_SPACE.format(par="dim_dict",
                                                          cls=type(self).__name__))
            dim_dict = self.convert_search_space(dim_dict)
        self._dim_dict = dim_dict or None
        if self._dim_dict:
            self._setup_zoopt()

    def _setup_zoopt(self):
        self._dim_keys = list(self._dim_dict)
        dim = zoopt.Dimension2([self._dim_dict[k] for k in self._dim_keys])
        init = None
        if self._points_to_evaluate:
            init = []
            for point in self._points_to_evaluate:
                flat = cv.flatten(point)
                missing = [k for k in self._dim_keys if k not in flat]
                if missing:
                    raise ValueError("ZOOptSearch(points_to_evaluate=...): a point lacks "
                                     "{}".format(missing))
                init.append([flat[k] for k in self._dim_keys])
        par = zoopt.Parameter(budget=self._budget, init_samples=init, **self.kwargs)
        from zoopt.algos.opt_algorithms.racos.sracos import SRacosTune
        self.optimizer = SRacosTune(dimension=dim, parameter=par,
                                    parallel_num=self.parallel_num)

    def set_search_properties(self, metric, mode, config, **spec):
        if self._dim_dict:
            return False
        space = self.convert_search_space(config)
        if not space:
            return False
        self._dim_dict = space
        if not self._set_metric_mode(metric, mode):
            return False
        self._setup_zoopt()
        return True

    def suggest(self, trial_id):
        self._check_metric_mode("dim_dict", self.optimizer is not None)
        solution = self.optimizer.suggest()
        if solution is None and self._init_gate_stuck():
            # SRacosTune closes a gate after its initial samples and opens it
            # on the completion that ends them; when that completion came
            # before the closing ask (all initial trials done), it never
            # opens. Open it, as the completion meant to.
            self.optimizer.semaphore = 1
            solution = self.optimizer.suggest()
        if solution == "FINISHED":
            return Searcher.FINISHED
        if solution is None:
            return None
        self.solution_dict[str(trial_id)] = solution
        config = {k: cv.plain(v) for k, v in zip(self._dim_keys, solution.get_x())}
        self._live_trial_mapping[trial_id] = config
        return cv.unflatten(config)

    def _init_gate_stuck(self):
        opt = self.optimizer
        return opt.semaphore == 0 and opt.complete_num >= opt._parameter.get_train_size()

    def on_trial_complete(self, trial_id, result=None, error=False):
        """Tells ZOOpt the trial's final metric; a trial that failed (no
        metric) frees its slot without a value."""
        self._live_trial_mapping.pop(trial_id, None)
        solution = self.solution_dict.pop(str(trial_id), None)
        if solution is None:
            return
        if result and not error and self._metric in result:
            best = self.optimizer.complete(solution,
                                           cv.metric_op(self._mode) * result[self._metric])
            if best:
                self.best_solution_list.append(best)
        else:
            self.optimizer.live_num -= 1      # the slot SRacosTune counted for it

    def save(self, checkpoint_path):
        # zoopt.Parameter holds lambdas: plain pickle cannot write it.
        import cloudpickle
        with open(checkpoint_path, "wb") as f:
            cloudpickle.dump(self.__dict__, f)

    def restore(self, checkpoint_path):
        import cloudpickle
        with open(checkpoint_path, "rb") as f:
            self.__dict__.update(cloudpickle.load(f))

    @staticmethod
    def convert_search_space(spec):
        """A tunec config's domains as ZOOpt's ``dim_dict`` (keys "a/b")."""
        _require()
        return {cv.flat_key(path): _resolve(path, domain)
                for path, domain in cv.parse_space(spec, "ZOOptSearch")}


def _resolve(path, domain):
    if cv.is_log(domain):
        raise cv.unsupported("ZOOptSearch", path, domain, "ZOOpt has no log scale")
    if isinstance(domain, cv.Float):
        return (ValueType.CONTINUOUS, [domain.lower, domain.upper], domain.q or 1e-10)
    if isinstance(domain, cv.Integer):
        if domain.q is not None:
            raise cv.unsupported("ZOOptSearch", path, domain, "ZOOpt has no integer step")
        return (ValueType.DISCRETE, [domain.lower, domain.upper - 1], True)
    if isinstance(domain, cv.Categorical):
        return (ValueType.GRID, list(domain.categories))
    raise cv.unsupported("ZOOptSearch", path, domain, "ZOOpt needs bounds (normal domains "
                         "have none)")
