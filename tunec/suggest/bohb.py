"""``TuneBOHB`` (``ray.tune.suggest.bohb``): BOHB's model (hpbandster's
config generator, kernel densities per budget) behind the Searcher
protocol, to be run with ``HyperBandForBOHB``.
``pip install hpbandster ConfigSpace``."""
import copy
import logging
import pickle

from tunec.suggest import _convert as cv
from tunec.suggest.suggestion import UNRESOLVED_SEARCH_SPACE, Searcher

try:
    import ConfigSpace
    from hpbandster.optimizers.config_generators.bohb import BOHB
except ImportError:
    ConfigSpace = None
    BOHB = None

logger = logging.getLogger("ray.tune.suggest.bohb")


def _require():
    if BOHB is None or ConfigSpace is None:
        raise ImportError("TuneBOHB needs hpbandster and ConfigSpace: "
                          "pip install hpbandster ConfigSpace")


class _BOHBJobWrapper:
    """What hpbandster's ``new_result`` reads from a finished job."""

    def __init__(self, loss, budget, config):
        self.result = {"loss": loss}
        self.kwargs = {"budget": budget, "config": config.copy()}
        self.exception = None


class TuneBOHB(Searcher):
    """BOHB suggestion component: configs come from hpbandster's BOHB model,
    which learns from results tagged with the HyperBand budget they were
    reached at. Use it with ``tunec.schedulers.HyperBandForBOHB``, which puts
    ``result["hyperband_info"]["budget"]`` on each result at a milestone and
    tells this searcher when it pauses and unpauses trials.

    Args:
        space (ConfigSpace.ConfigurationSpace|dict): the space, or a tunec
            config of typed domains (converted).
        bohb_config (dict): arguments of hpbandster's BOHB config generator
            (``min_points_in_model``, ``top_n_percent``, ...).
        max_concurrent (int): at most this many trials running (paused ones
            do not count), so that paused brackets are resumed before new
            trials fill the slots.
        metric (str), mode (str): the objective and "min"/"max".
        points_to_evaluate (list[dict]): configs to try first.
        seed (int): seeds the ConfigurationSpace's sampler.

    Typed domains convert as uniform/loguniform floats and ints →
    Uniform{Float,Integer}Hyperparameter (log=True), choice →
    CategoricalHyperparameter. Quantized and normal domains have no
    ConfigSpace 1.x form: ValueError naming the path.
    """

    def __init__(self, space=None, bohb_config=None, max_concurrent=10, metric=None,
                 mode=None, points_to_evaluate=None, seed=None):
        _require()
        if type(max_concurrent) is not int or max_concurrent <= 0:
            raise ValueError("TuneBOHB(max_concurrent=...) must be an int > 0, got "
                             "{!r}".format(max_concurrent))
        self._max_concurrent = max_concurrent
        self.trial_to_params = {}
        self.running = set()
        self.paused = set()
        self._bohb_config = bohb_config
        if isinstance(space, dict) and space and cv.parse_space(space, "TuneBOHB"):
            logger.warning(UNRESOLVED_SEARCH_SPACE.format(par="space", cls=type(self).__name__))
            space = self.convert_search_space(space)
        if space is not None and not isinstance(space, ConfigSpace.ConfigurationSpace):
            raise ValueError("TuneBOHB(space=...) must be a ConfigSpace.ConfigurationSpace or a "
                             "config of typed domains, got {!r}".format(type(space).__name__))
        self._space = space or None
        self._seed = seed
        self._points_to_evaluate = copy.deepcopy(points_to_evaluate) or []
        super(TuneBOHB, self).__init__(metric=metric, mode=mode)
        if self._space is not None:
            self._setup_bohb()

    def _setup_bohb(self):
        if self._seed is not None:
            self._space.seed(self._seed)
        self.bohber = BOHB(self._space, **(self._bohb_config or {}))

    def set_search_properties(self, metric, mode, config, **spec):
        if self._space is not None:
            return False
        space = self.convert_search_space(config)
        if not len(space):
            return False
        self._space = space
        if not self._set_metric_mode(metric, mode):
            return False
        self._setup_bohb()
        return True

    def suggest(self, trial_id):
        self._check_metric_mode("space", self._space is not None)
        if len(self.running) >= self._max_concurrent:
            return None
        if self._points_to_evaluate:
            config = cv.flatten(self._points_to_evaluate.pop(0))
        else:
            # hpbandster ignores the budget argument.
            config, _info = self.bohber.get_config(None)
            config = {k: cv.plain(v) for k, v in config.items()}
        self.trial_to_params[trial_id] = copy.deepcopy(config)
        self.running.add(trial_id)
        return cv.unflatten(config)

    def on_trial_result(self, trial_id, result):
        if trial_id not in self.paused:
            self.running.add(trial_id)
        if "hyperband_info" not in result:
            logger.warning("BOHB Info not detected in result. Are you using HyperBandForBOHB "
                           "as a scheduler?")
        elif "budget" in result["hyperband_info"] and self._metric in result:
            self.bohber.new_result(self.to_wrapper(trial_id, result))

    def on_trial_complete(self, trial_id, result=None, error=False):
        self.trial_to_params.pop(trial_id, None)
        self.paused.discard(trial_id)
        self.running.discard(trial_id)

    def to_wrapper(self, trial_id, result):
        # mode may have come from tune.run after construction
        return _BOHBJobWrapper(cv.metric_op(self._mode) * result[self._metric],
                               result["hyperband_info"]["budget"],
                               self.trial_to_params[trial_id])

    def on_pause(self, trial_id):
        """HyperBandForBOHB paused the trial: its slot is free for another."""
        self.paused.add(trial_id)
        self.running.discard(trial_id)

    def on_unpause(self, trial_id):
        self.paused.discard(trial_id)
        self.running.add(trial_id)

    def save(self, checkpoint_path):
        with open(checkpoint_path, "wb") as f:
            pickle.dump(self.__dict__, f)

    def restore(self, checkpoint_path):
        with open(checkpoint_path, "rb") as f:
            self.__dict__.update(pickle.load(f))

    @staticmethod
    def convert_search_space(spec):
        """A tunec config's domains as a ConfigurationSpace (names "a/b")."""
        _require()
        cs = ConfigSpace.ConfigurationSpace()
        for path, domain in cv.parse_space(spec, "TuneBOHB"):
            cs.add(_resolve(path, domain))
        return cs


def _resolve(path, domain):
    name = cv.flat_key(path)
    if getattr(domain, "q", None) is not None:
        raise cv.unsupported("TuneBOHB", path, domain, "ConfigSpace has no quantized "
                             "parameters")
    if isinstance(domain, cv.Float):
        return ConfigSpace.UniformFloatHyperparameter(name, lower=domain.lower,
                                                      upper=domain.upper,
                                                      log=cv.is_log(domain))
    if isinstance(domain, cv.Integer):
        return ConfigSpace.UniformIntegerHyperparameter(name, lower=domain.lower,
                                                        upper=domain.upper - 1,
                                                        log=cv.is_log(domain))
    if isinstance(domain, cv.Categorical):
        return ConfigSpace.CategoricalHyperparameter(name, choices=domain.categories)
    raise cv.unsupported("TuneBOHB", path, domain, "ConfigSpace needs bounds (normal domains "
                         "have none)")
