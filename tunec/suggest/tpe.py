"""``TPESearch`` (``tunec.suggest.tpe``; 2.x: ``tunec.search.tpe``): the
engine's Tree-structured Parzen Estimator (src/engine/search_tpe.c), a tunec
extension with Optuna's ``TPESampler`` as its reference.

Given to ``tune.run(search_alg=TPESearch(...))`` (or in a SearchGenerator)
it runs inside the engine: the runner builds the TPE from the encoded space
and asks it for a config whenever a trial can start, with no Python call per
suggestion (src/engine/runner_search.c). Inside a ConcurrencyLimiter or a
Repeater, or called directly, the same C object is used through
``tunec._tunec.TPESearcher``.

The space: every ``tune.uniform`` / ``loguniform`` / ``quniform`` /
``qloguniform`` / ``randint`` / ``qrandint`` / ``lograndint`` /
``qlograndint`` / ``choice`` reached through the config's dicts is a
parameter, named by its path (``"a/b"``). Ray's ``q`` (multiples of q inside
the bounds) is the TPE's grid. ``sample_from`` functions are resolved after
the TPE's values are set and may read them (conditional spaces). A
``grid_search``, a ``randn`` (no bounds to model) or a domain inside a list
is an error naming its config path, before any trial starts; domains inside
a choice's categories are sampled at random.

A trial's objective is the metric in its last result (Ray's
``on_trial_complete``); a trial that errored, or reported nothing, is
forgotten. Suggestion k is drawn from a stream seeded with (seed, k): the
same seed gives the same search, and a resumed run (rebuilt from the
experiment's records) goes on as the killed one would have.
"""
import json
import os
import pickle

from tunec.suggest.suggestion import Searcher

__all__ = ["TPESearch"]


def _number_fields(result):
    return {k: v for k, v in result.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


class TPESearch(Searcher):
    """Tree-structured Parzen Estimator (Optuna TPESampler's options).

    Args:
        space (dict): a tune config to search (or give it to tune.run).
        metric (str), mode ("min" | "max"): the objective; tune.run's when
            not given here.
        points_to_evaluate (list of dict): configs (partial: the rest is
            drawn) to try first.
        evaluated_rewards (list of float): the metric of each of
            points_to_evaluate, already known: they are observed instead of
            run.
        n_startup_trials (int): random suggestions until this many trials
            completed (5; Optuna: 10).
        n_ei_candidates (int): candidates weighed per suggestion (128;
            Optuna: 24).
        ei_budget (int): bounds the work of a suggestion, candidates x
            trials modelled: once ei_budget / n is below n_ei_candidates,
            about that many candidates are weighed, never fewer than 24 (or
            n_ei_candidates if smaller). 0: always n_ei_candidates
            (Optuna). Default 24000: 128 candidates up to 187 trials, 24 from
            1,000.
        gamma (float): the fraction of completed trials that counts as
            good, at most 25 of them (0.12; Optuna's default_gamma: 0.1).
        prior_weight (float): weight of the prior (0.75; Optuna: 1.0).

    The defaults were chosen for search quality (docs/benchmarks.md, on
    seeds other than the benchmark's); ``TPESearch(n_startup_trials=10,
    n_ei_candidates=24, ei_budget=0, gamma=0.1, prior_weight=1.0)`` is
    Optuna's TPESampler.
        consider_endpoints (bool): Optuna's option (False).
        multivariate (bool): model the parameters jointly (True, Optuna 5).
        constant_liar (bool): running trials count as bad observations, so
            concurrent trials spread out (False).
        seed (int): the search's seed; tune.run(seed=...) when None.
    """

    def __init__(self, space=None, metric=None, mode=None, points_to_evaluate=None,
                 evaluated_rewards=None, n_startup_trials=5, n_ei_candidates=128,
                 ei_budget=24000, gamma=0.12, prior_weight=0.75, consider_endpoints=False,
                 multivariate=True, constant_liar=False, seed=None):
        super().__init__(metric=metric, mode=mode)
        if mode is not None and mode not in ("min", "max"):
            raise ValueError("TPESearch: mode must be 'min' or 'max', got {!r}".format(mode))
        for name, value, low in (("n_startup_trials", n_startup_trials, 0),
                                 ("n_ei_candidates", n_ei_candidates, 1),
                                 ("ei_budget", ei_budget, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError("TPESearch: {} must be an integer >= {}, got {!r}".format(
                    name, low, value))
        if callable(gamma) or not isinstance(gamma, (int, float)) or not 0 <= gamma <= 1:
            raise ValueError("TPESearch: gamma must be the fraction of trials that count as "
                             "good, in [0, 1] (a gamma function is not supported), got "
                             "{!r}".format(gamma))
        if not isinstance(prior_weight, (int, float)) or not prior_weight > 0:
            raise ValueError("TPESearch: prior_weight must be > 0, got {!r}".format(
                prior_weight))
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise ValueError("TPESearch: seed must be an int or None, got {!r}".format(seed))
        if points_to_evaluate is not None and not isinstance(points_to_evaluate, list):
            raise ValueError("TPESearch: points_to_evaluate must be a list of dicts")
        if evaluated_rewards is not None and (
                points_to_evaluate is None or len(evaluated_rewards) != len(points_to_evaluate)):
            raise ValueError("TPESearch: evaluated_rewards needs one value per "
                             "points_to_evaluate entry")
        if space is not None and not isinstance(space, dict):
            raise TypeError("TPESearch: space must be a dict (a tune config), got {!r}".format(
                type(space).__name__))
        self._space = space
        self._own_space = space is not None
        self._points = points_to_evaluate
        self._rewards = evaluated_rewards
        self._options = {
            "n_startup_trials": n_startup_trials, "n_ei_candidates": n_ei_candidates,
            "ei_budget": ei_budget,
            "gamma": float(gamma), "prior_weight": float(prior_weight),
            "consider_endpoints": bool(consider_endpoints), "multivariate": bool(multivariate),
            "constant_liar": bool(constant_liar)}
        self._seed = seed
        self._core = None          # the standalone C object, made on first use
        self._objects = {}
        self._trials = []          # [(trial_id, suggestion JSON)] for save()
        self._ends = []            # [(trial_id, result JSON or None, error)]

    # -- tune.run --------------------------------------------------------
    def set_search_properties(self, metric, mode, config, **spec):
        if self._space:
            return False
        self._space = config
        self._set_metric_mode(metric, mode)
        return True

    def _set_metric_mode(self, metric, mode):
        if self._metric is None and metric:
            self._metric = metric
        if self._mode is None and mode:
            self._mode = mode

    def _engine_options(self, codec, seed):
        """What the engine's TPE is built from (src/engine/search_space.h)."""
        if not self._metric or not self._mode:
            raise ValueError("TPESearch needs a metric and a mode: pass them to "
                             "TPESearch(...) or to tune.run(...)")
        options = dict(self._options, type="tpe", metric=self._metric, mode=self._mode,
                       seed=(self._seed if self._seed is not None else seed) % (1 << 63))
        if self._points is not None:
            options["points_to_evaluate"] = [
                codec.encode(p, ["points_to_evaluate", i]) for i, p in enumerate(self._points)]
        if self._rewards is not None:
            options["evaluated_rewards"] = [float(r) for r in self._rewards]
        return options

    def engine_spec(self, functions, objects, seed):
        """The ``searcher`` option of the engine: with the searcher's own
        space encoded when it was given one, else the engine uses tune.run's
        config."""
        from tunec.sample import _Codec
        codec = _Codec(functions, objects, len(functions) + len(objects))
        options = self._engine_options(codec, seed)
        if self._own_space:
            options["space"] = codec.encode(self._space or {}, ["config"])
        return options

    # -- standalone use ----------------------------------------------------
    def _make_core(self):
        from tunec import _tunec
        from tunec.sample import _Codec
        functions = {}
        codec = _Codec(functions, self._objects, 0)
        seed = self._seed if self._seed is not None else int.from_bytes(os.urandom(7), "little")
        if self._seed is None:
            self._seed = seed      # saved, so a restored search goes on alike
        options = self._engine_options(codec, seed)
        space = codec.encode(self._space or {}, ["config"])
        return _tunec.TPESearcher(json.dumps(space), json.dumps(options))

    def _ensure(self):
        if self._core is None:
            self._core = self._make_core()
        return self._core

    def suggest(self, trial_id):
        from tunec.sample import decode_value
        text = self._ensure().suggest(str(trial_id))
        self._trials.append((str(trial_id), text))
        return decode_value(json.loads(text), self._objects)

    def on_trial_complete(self, trial_id, result=None, error=False):
        text = json.dumps(_number_fields(result)) if result else None
        self._ensure().complete(str(trial_id), text, bool(error))
        self._ends.append((str(trial_id), text, bool(error)))

    def add_evaluated_point(self, parameters, value, error=False, pruned=False,
                            intermediate_values=None):
        raise NotImplementedError("TPESearch: give known points as points_to_evaluate with "
                                  "evaluated_rewards")

    def save(self, checkpoint_path):
        state = {"space": self._space, "metric": self._metric, "mode": self._mode,
                 "points": self._points, "rewards": self._rewards, "options": self._options,
                 "seed": self._seed, "trials": self._trials, "ends": self._ends,
                 "made": self._core.made if self._core is not None else 0}
        with open(checkpoint_path, "wb") as f:
            pickle.dump(state, f)

    def restore(self, checkpoint_path):
        with open(checkpoint_path, "rb") as f:
            state = pickle.load(f)
        self._space, self._metric, self._mode = state["space"], state["metric"], state["mode"]
        self._points, self._rewards = state["points"], state["rewards"]
        self._options, self._seed = state["options"], state["seed"]
        self._trials, self._ends = list(state["trials"]), list(state["ends"])
        self._core = None
        if not self._trials and not state["made"]:
            return
        core = self._ensure()
        # The history replayed: each trial running with its values, then
        # its end; the stream goes on from the suggestions made.
        for trial_id, text in self._trials:
            core.restore_trial(trial_id, text)
        for trial_id, text, error in self._ends:
            core.complete(trial_id, text, error)
        core.made = state["made"]
