"""``HyperOptSearch`` (``ray.tune.suggest.hyperopt``; 2.x
``ray.tune.search.hyperopt``): trials suggested by HyperOpt's TPE.

tunec domains convert as follows (labels are Ray's ``"a/b"`` names; a..b
are the smallest and largest multiples of q in the domain):

=====================  ================================================
uniform / quniform     hp.uniform(lower, upper) / hp.quniform(a, b, q)
loguniform             hp.loguniform(ln lower, ln upper)
qloguniform            hp.qloguniform(ln a, ln b, q)
randint                hp.uniformint(lower, upper - 1)
qrandint               int(hp.quniform(a, b, q))
lograndint             int(hp.qloguniform(ln lower, ln(upper - 1), 1))
qlograndint            int(hp.qloguniform(ln a, ln b, q))
randn / qrandn         hp.normal(mean, sd) / hp.qnormal(mean, sd, q)
choice                 hp.choice(categories)
=====================  ================================================

0.8's shaped randn(d0, d1, ...), a category that is itself a search space,
grid_search and sample_from are refused with a ValueError naming the
config path.
"""
import copy
import logging
import math
import pickle
from functools import partial

from tunec.error import TuneError
from tunec.sample import Categorical, Float, Integer, Normal
from tunec.suggest import _convert
from tunec.suggest.suggestion import UNRESOLVED_SEARCH_SPACE, UNDEFINED_SEARCH_SPACE, Searcher

logger = logging.getLogger("ray.tune.suggest.hyperopt")

HYPEROPT_UNDEFINED_DETAILS = (
    " This issue can also come up with HyperOpt if your search space only contains constant "
    "variables, which is not supported by HyperOpt. In that case, don't pass any searcher or "
    "add sample variables to the search space.")


def _hyperopt():
    logging.getLogger("hyperopt").setLevel(logging.WARNING)
    return _convert.import_library("hyperopt", "HyperOptSearch", "hyperopt")


class HyperOptSearch(Searcher):
    """A wrapper around HyperOpt to provide trial suggestions (TPE).

    Args:
        space (dict): HyperOpt's own space (``hp.*`` expressions), or a tunec
            config with domains (converted). None: the space comes from
            ``tune.run(config=...)``.
        metric (str): The training result objective value attribute.
        mode (str): One of {min, max}.
        points_to_evaluate (list): Configs to run first (dicts; categorical
            values given as the category, not its index).
        n_initial_points (int): Random evaluations before TPE's model
            (``n_startup_jobs``). Defaults to 20.
        random_state_seed (int): Seed for reproducible results.
        gamma (float): TPE's quantile of good trials. Defaults to 0.25.
    """

    def __init__(self, space=None, metric=None, mode=None, points_to_evaluate=None,
                 n_initial_points=20, random_state_seed=None, gamma=0.25, max_concurrent=None,
                 use_early_stopped_trials=None):
        self._hpo = _hyperopt()
        import numpy as np
        super(HyperOptSearch, self).__init__(metric=metric, mode=mode,
                                             max_concurrent=max_concurrent,
                                             use_early_stopped_trials=use_early_stopped_trials)
        self.algo = self._hpo.tpe.suggest
        if n_initial_points is not None:
            self.algo = partial(self.algo, n_startup_jobs=n_initial_points)
        if gamma is not None:
            self.algo = partial(self.algo, gamma=gamma)
        self._points_to_evaluate = copy.deepcopy(points_to_evaluate)
        self._points_left = 0
        self._live_trial_mapping = {}
        self.rstate = np.random.RandomState(random_state_seed)
        self._flat = False       # True: the space was converted, its keys are "a/b" names
        self._constants = {}
        self._space = None
        self.domain = None
        if _convert.is_tunec_space(space):
            logger.warning(UNRESOLVED_SEARCH_SPACE.format(par="space", cls="HyperOptSearch"))
            self._constants = _convert.split(space, "HyperOptSearch")[1]
            space, self._flat = self.convert_search_space(space), True
        elif space is not None and not isinstance(space, dict):
            raise TypeError("HyperOptSearch(space=...) must be a dict or None, got {!r}".format(
                type(space).__name__))
        if space:
            self._space = space
            self._setup_hyperopt()

    @property
    def metric_op(self):
        """HyperOpt minimizes: results are multiplied by this."""
        return -1.0 if self._mode == "max" else 1.0

    def _setup_hyperopt(self):
        from hyperopt.fmin import generate_trials_to_calculate
        if self._metric is None and self._mode:
            self._metric = _convert.DEFAULT_METRIC
        names = list(self._space) if self._flat else None
        points = _convert.check_points("HyperOptSearch", names, self._points_to_evaluate)
        if not self._flat:
            points = copy.deepcopy(self._points_to_evaluate or [])
        if points:
            for point in points:
                self._categories_to_indices(point, self._space)
            # HyperOpt hands initial points out last-in first-out: reverse for FIFO.
            self._hpopt_trials = generate_trials_to_calculate(list(reversed(points)))
            self._hpopt_trials.refresh()
        else:
            self._hpopt_trials = self._hpo.Trials()
        self._points_left = len(points)
        self.domain = self._hpo.Domain(lambda spc: spc, self._space)

    def _categories_to_indices(self, point, space):
        """hp.choice values are category indices in HyperOpt's trials."""
        for key, value in point.items():
            node = space.get(key) if isinstance(space, dict) else None
            if isinstance(value, dict) and isinstance(node, dict):
                self._categories_to_indices(value, node)
                continue
            if not (isinstance(node, self._hpo.pyll.Apply) and node.name == "switch"):
                continue
            categories = [a.obj for a in node.pos_args[1:] if a.name == "literal"]
            if value in categories:
                point[key] = categories.index(value)
            elif (isinstance(value, int) and not isinstance(value, bool)
                  and 0 <= value < len(categories)):
                pass    # Ray 0.8 took the index itself (its hyperopt_example does)
            else:
                raise ValueError("HyperOptSearch: points_to_evaluate value {!r} for `{}` is not "
                                 "one of its categories {!r} nor an index of one".format(
                                     value, key, categories))

    def set_search_properties(self, metric, mode, config, **spec):
        if self.domain:
            return False
        space = self.convert_search_space(config)
        if not space:
            return False
        self._space, self._flat = space, True
        self._set_metric_mode(metric, mode)
        self._setup_hyperopt()
        return True

    # -- the protocol ----------------------------------------------------------
    def suggest(self, trial_id):
        hpo = self._hpo
        if not self.domain:
            raise RuntimeError(UNDEFINED_SEARCH_SPACE.format(cls="HyperOptSearch", space="space")
                               + HYPEROPT_UNDEFINED_DETAILS)
        self._check_metric_mode()
        if self._points_left > 0:
            new_trial = self._hpopt_trials.trials[self._points_left - 1]
            self._points_left -= 1
        else:
            new_ids = self._hpopt_trials.new_trial_ids(1)
            self._hpopt_trials.refresh()
            new_trials = self.algo(new_ids, self.domain, self._hpopt_trials,
                                   self.rstate.randint(2 ** 31 - 1))
            self._hpopt_trials.insert_trial_docs(new_trials)
            self._hpopt_trials.refresh()
            new_trial = new_trials[0]
        self._live_trial_mapping[trial_id] = new_trial["tid"]
        # As hyperopt.base.Domain.evaluate builds the config from a trial.
        config = hpo.base.spec_from_misc(new_trial["misc"])
        ctrl = hpo.base.Ctrl(self._hpopt_trials, current_trial=new_trial)
        memo = self.domain.memo_from_config(config)
        hpo.utils.use_obj_for_literal_in_memo(self.domain.expr, ctrl, hpo.base.Ctrl, memo)
        suggested = hpo.pyll.rec_eval(self.domain.expr, memo=memo,
                                      print_node_on_error=self.domain.rec_eval_print_node_on_error)
        suggested = copy.deepcopy(suggested)
        if self._flat:
            suggested = _convert.unflatten({k: _convert.to_python(v)
                                            for k, v in suggested.items()})
            for path, value in self._constants.items():
                node = suggested
                for p in path[:-1]:
                    node = node.setdefault(p, {})
                node.setdefault(path[-1], value)
        return suggested

    def _get_hyperopt_trial(self, trial_id):
        tid = self._live_trial_mapping.get(trial_id)
        if tid is None:
            return None
        return next(t for t in self._hpopt_trials.trials if t["tid"] == tid)

    def on_trial_result(self, trial_id, result):
        ho_trial = self._get_hyperopt_trial(trial_id)
        if ho_trial is not None:
            now = self._hpo.utils.coarse_utcnow()
            ho_trial["book_time"] = now
            ho_trial["refresh_time"] = now

    def on_trial_complete(self, trial_id, result=None, error=False):
        """Tells HyperOpt the result (negated for max: HyperOpt minimizes);
        an errored trial, or one without a finite metric, is marked
        JOB_STATE_ERROR and does not shape the model."""
        hpo = self._hpo
        ho_trial = self._get_hyperopt_trial(trial_id)
        if ho_trial is None:
            return
        ho_trial["refresh_time"] = hpo.utils.coarse_utcnow()
        value = None
        if result and not error:
            value = _convert.metric_value("HyperOptSearch", result, self._metric)
        if value is None:
            ho_trial["state"] = hpo.base.JOB_STATE_ERROR
            ho_trial["misc"]["error"] = (str(TuneError), "Tune Error" if error else "no result")
        else:
            ho_trial["state"] = hpo.base.JOB_STATE_DONE
            ho_trial["result"] = {"loss": self.metric_op * value, "status": "ok"}
        self._hpopt_trials.refresh()
        del self._live_trial_mapping[trial_id]

    # -- state ---------------------------------------------------------------
    def get_state(self):
        return {"hyperopt_trials": self._hpopt_trials, "rstate": self.rstate.get_state(),
                "points_left": self._points_left, "live": self._live_trial_mapping,
                "metric": self._metric, "mode": self._mode}

    def set_state(self, state):
        self._hpopt_trials = state["hyperopt_trials"]
        self.rstate.set_state(state["rstate"])
        self._points_left = state["points_left"]
        self._live_trial_mapping = state["live"]
        self._metric, self._mode = state["metric"], state["mode"]

    def save(self, checkpoint_path):
        with open(checkpoint_path, "wb") as f:
            pickle.dump(self.get_state(), f)

    def restore(self, checkpoint_path):
        with open(checkpoint_path, "rb") as f:
            state = pickle.load(f)
        if isinstance(state, tuple):     # Ray 0.8's (Trials, rstate)
            self._hpopt_trials = state[0]
            self.rstate.set_state(state[1])
        else:
            self.set_state(state)

    # -- conversion ------------------------------------------------------------
    @staticmethod
    def convert_search_space(spec, prefix=""):
        """``{"a/b": hp expression}`` for the domains of a tunec config."""
        hpo = _hyperopt()
        hp, to_int = hpo.hp, hpo.pyll.scope.int
        domains, _ = _convert.split(spec, "HyperOptSearch")
        space = {}
        for path, domain in domains:
            label = _convert.name(((prefix,) if prefix else ()) + path)
            log = getattr(domain, "sampler", None) == "loguniform"
            q = getattr(domain, "q", None)
            if isinstance(domain, Float):
                lo, hi = (domain.lower, domain.upper) if q is None else \
                    _convert.quantized_bounds(domain)
                if log:
                    lo, hi = math.log(lo), math.log(hi)
                    expr = hp.loguniform(label, lo, hi) if q is None else \
                        hp.qloguniform(label, lo, hi, q)
                else:
                    expr = hp.uniform(label, lo, hi) if q is None else \
                        hp.quniform(label, lo, hi, q)
            elif isinstance(domain, Integer):
                lo, hi = (domain.lower, domain.upper - 1) if q is None else \
                    _convert.quantized_bounds(domain)
                if log:
                    expr = to_int(hp.qloguniform(label, math.log(lo), math.log(hi), q or 1))
                elif q is None:
                    expr = hp.uniformint(label, lo, hi)
                else:
                    expr = to_int(hp.quniform(label, lo, hi, q))
            elif isinstance(domain, Normal) and domain.shape is None:
                expr = hp.normal(label, domain.mean, domain.sd) if domain.q is None else \
                    hp.qnormal(label, domain.mean, domain.sd, domain.q)
            elif isinstance(domain, Categorical):
                expr = hp.choice(label, list(domain.categories))
            else:
                raise _convert.unsupported("HyperOptSearch", path, domain,
                                           "HyperOpt has no distribution for it")
            space[label] = expr
        return space
