"""Reference implementations of the built-in schedulers' rules, in Python.

Written from the spec (../shared/spec/ray-tune-api.md §8) and the Ray 0.8
sources it describes (async_hyperband.py, hyperband.py,
median_stopping_rule.py, pbt.py), kept as close to Ray's code as the
differences below allow, and compared decision by decision with the C cores
(src/engine/sched_*.c) by tests/test_sched_reference.py. Nothing here imports
tunec.

Differences from Ray, shared with the C cores (documented in sched.h):

* Randomness comes from the engine's generator (xoshiro256** seeded with
  splitmix64, src/engine/rng.c), reimplemented in ``Rng``: ``random.random()``
  is ``Rng.random()``, ``random.choice(seq)`` is ``Rng.choice(seq)``, and
  numpy's ``choice(n, p=...)`` takes its uniform draw from ``Rng.random()``.
* Sorting by score is stable with NaN below every number (Ray's ``sorted``
  with NaN keys gives an order that depends on the input order); PBT's
  ``choose_trial_to_run`` puts a NaN time last.
* ``np.log`` is replaced by ``math.log``: numpy's AVX-512 log differs from the
  C library's in the last bit for a few inputs, so Ray's own rung counts
  depend on the CPU; the engine uses the C library's.
* HyperBand accepts a time that goes back (Ray 1.x; 0.8 asserted), and its
  milestone rule is selectable (``accumulate``: 0.8's ``cumul_r += r``).

Trials are integers. Schedulers that read the runner take a ``runner`` with
``status(trial)``, ``has_resources(trial)``, ``stop_trial(trial)`` and
``unpause(trial)`` (see ``FakeRunner``).
"""

import collections
import contextlib
import copy
import json
import math
import warnings

import numpy as np

CONTINUE, PAUSE, STOP, NOOP = 0, 1, 2, 3
PENDING, RUNNING, PAUSED, TERMINATED, ERROR = 0, 1, 2, 3, 4
STATUS_NAMES = ["PENDING", "RUNNING", "PAUSED", "TERMINATED", "ERROR"]
ACT_STOP, ACT_UNPAUSE = 1, 2

_MASK = (1 << 64) - 1


# ---------------------------------------------------------------------------
# the engine's random generator


def _rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & _MASK


class Rng:
    """xoshiro256** seeded through splitmix64, as src/engine/rng.c."""

    def __init__(self, seed):
        x = seed & _MASK
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & _MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
            self.s.append(z ^ (z >> 31))

    def next(self):
        s = self.s
        result = (_rotl((s[1] * 5) & _MASK, 7) * 9) & _MASK
        t = (s[1] << 17) & _MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return result

    def random(self):
        return (self.next() >> 11) * 2.0 ** -53

    def below(self, n):
        if n == 0:
            return 0
        threshold = (2 ** 64 - n) % n
        while True:
            x = self.next()
            if x >= threshold:
                return x % n

    def choice(self, seq):
        return seq[self.below(len(seq))]


@contextlib.contextmanager
def _quiet():
    """numpy warns on empty means and all-NaN percentiles; Ray's results are
    the NaN it returns, so the warnings are noise here."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _nan_low(x):
    return (0, 0.0) if math.isnan(x) else (1, x)


def _nan_high(x):
    return (1, 0.0) if math.isnan(x) else (0, x)


class FakeRunner:
    """The part of Ray's TrialRunner a scheduler touches, with the order of
    events of 0.8's stop_trial: on_trial_remove runs before the status
    changes. ``actions`` lists what the scheduler did to other trials."""

    def __init__(self, statuses, avail=None, scheduler=None):
        self.statuses = list(statuses)
        self.avail = list(avail) if avail is not None else [1] * len(statuses)
        self.scheduler = scheduler
        self.actions = []

    def status(self, t):
        return self.statuses[t] if t < len(self.statuses) else TERMINATED

    def has_resources(self, t):
        return t < len(self.avail) and bool(self.avail[t])

    def stop_trial(self, t):
        if self.status(t) in (ERROR, TERMINATED):
            return
        if self.status(t) in (PENDING, PAUSED):
            self.scheduler.on_trial_remove(self, t)
        self.statuses[t] = TERMINATED
        self.actions.append([t, ACT_STOP])

    def unpause(self, t):
        self.statuses[t] = PENDING
        self.actions.append([t, ACT_UNPAUSE])


# ---------------------------------------------------------------------------
# ASHA (spec §8.2)


class _AshaBracket:
    def __init__(self, min_t, max_t, reduction_factor, s):
        self.rf = reduction_factor
        max_rungs = int(math.log(max_t / min_t) / math.log(self.rf) - s + 1)
        self._rungs = [(min_t * self.rf ** (k + s), {}) for k in reversed(range(max_rungs))]

    def cutoff(self, recorded):
        if not recorded:
            return None
        with _quiet():
            return np.nanpercentile(list(recorded.values()), (1 - 1 / self.rf) * 100)

    def on_result(self, trial, cur_iter, cur_rew):
        action = CONTINUE
        for milestone, recorded in self._rungs:
            if cur_iter < milestone or trial in recorded:
                continue
            cutoff = self.cutoff(recorded)
            if cutoff is not None and cur_rew < cutoff:
                action = STOP
            recorded[trial] = cur_rew
            break
        return action

    def debug_str(self):
        def show(c):
            # + 0.0: numpy's partition order decides the sign of a zero
            # cutoff; the engine prints 0.0
            return "None" if c is None else repr(float(c) + 0.0)
        iters = " | ".join("Iter {:.3f}: {}".format(m, show(self.cutoff(r)))
                           for m, r in self._rungs)
        return "Bracket: " + iters


class AsyncHyperBand:
    def __init__(self, max_t=100, grace_period=1, reduction_factor=4, brackets=1,
                 mode="max", seed=0):
        for ok, what in ((max_t > 0 and math.isfinite(max_t), "max_t"),
                         (max_t >= grace_period, "grace_period"),
                         (grace_period > 0, "grace_period"),
                         (reduction_factor > 1 and math.isfinite(reduction_factor),
                          "reduction_factor"),
                         (brackets > 0, "brackets")):
            if not ok:
                raise ValueError(what)
        self._max_t = max_t
        self._brackets = [_AshaBracket(grace_period, max_t, reduction_factor, s)
                          for s in range(brackets)]
        self._trial_info = {}
        self._num_stopped = 0
        self._metric_op = 1.0 if mode == "max" else -1.0
        self._rng = Rng(seed)

    def on_trial_add(self, trial):
        sizes = np.array([len(b._rungs) for b in self._brackets])
        probs = np.e ** (sizes - sizes.max())
        normalized = probs / probs.sum()
        # np.random.choice(len(self._brackets), p=normalized), our draw
        cdf = normalized.cumsum()
        cdf /= cdf[-1]
        idx = int(cdf.searchsorted(self._rng.random(), side="right"))
        self._trial_info[trial] = self._brackets[idx]
        return idx

    def on_trial_result(self, trial, t, metric):
        if t >= self._max_t:
            action = STOP
        else:
            bracket = self._trial_info[trial]
            action = bracket.on_result(trial, t, self._metric_op * metric)
        if action == STOP:
            self._num_stopped += 1
        return action

    def on_trial_complete(self, trial, t, metric):
        bracket = self._trial_info[trial]
        bracket.on_result(trial, t, self._metric_op * metric)
        del self._trial_info[trial]

    def on_trial_remove(self, trial):
        del self._trial_info[trial]

    def debug_string(self):
        out = "Using AsyncHyperBand: num_stopped={}".format(self._num_stopped)
        out += "\n" + "\n".join([b.debug_str() for b in self._brackets])
        return out


# ---------------------------------------------------------------------------
# HyperBand (spec §8.3)


class _HBBracket:
    def __init__(self, max_trials, init_t_attr, max_t_attr, eta, s, accumulate):
        self._live_trials = {}  # trial -> (time, metric) or None
        self._all_trials = []
        self._n = self._n0 = max_trials
        self._r = self._r0 = init_t_attr
        self._max_t_attr = max_t_attr
        self._cumul_r = self._r0
        self._eta = eta
        self._halves = s
        self._accumulate = accumulate
        self._total_work = self._calculate_total_work(self._n0, self._r0, s)
        self._completed_progress = 0

    def add_trial(self, trial):
        assert not self.filled(), "Cannot add trial to filled bracket!"
        self._live_trials[trial] = None
        self._all_trials.append(trial)

    def cur_iter_done(self):
        return all(self._get_result_time(r) >= self._cumul_r
                   for r in self._live_trials.values())

    def finished(self):
        return self._halves == 0 and self.cur_iter_done()

    def current_trials(self):
        return list(self._live_trials)

    def continue_trial(self, trial):
        return self._get_result_time(self._live_trials[trial]) < self._cumul_r

    def filled(self):
        return len(self._live_trials) == self._n

    def successive_halving(self, metric_op):
        assert self._halves > 0
        self._halves -= 1
        self._n /= self._eta
        self._n = int(np.ceil(self._n))
        self._r *= self._eta
        self._r = int(min(self._r, self._max_t_attr - self._cumul_r))
        if self._accumulate:
            self._cumul_r += self._r
        else:
            self._cumul_r = self._r
        sorted_trials = sorted(self._live_trials,
                               key=lambda t: _nan_low(metric_op * self._live_trials[t][1]))
        good, bad = sorted_trials[-self._n:], sorted_trials[:-self._n]
        return good, bad

    def update_trial_stats(self, trial, time, metric):
        if trial not in self._live_trials:
            raise AssertionError("trial not live")
        if not time >= 0:
            raise AssertionError("time < 0")
        delta = time - self._get_result_time(self._live_trials[trial])
        self._completed_progress += delta
        self._live_trials[trial] = (time, metric)

    def cleanup_trial(self, trial):
        self._live_trials.pop(trial, None)

    def cleanup_full(self, runner):
        for trial in self.current_trials():
            if runner.status(trial) == PAUSED:
                runner.stop_trial(trial)

    def completion_percentage(self):
        if self._total_work == 0:
            return 0
        return self._completed_progress / self._total_work

    @staticmethod
    def _get_result_time(result):
        return 0 if result is None else result[0]

    def _calculate_total_work(self, n, r, s):
        work = 0
        cumulative_r = r
        for _ in range(s + 1):
            work += int(n) * int(r)
            n /= self._eta
            n = int(np.ceil(n))
            r *= self._eta
            r = int(min(r, self._max_t_attr - cumulative_r))
        return work

    def repr(self, runner):
        status = ", ".join([
            "Max Size (n)={}".format(self._n),
            "Milestone (r)={}".format(self._cumul_r),
            "completed={:.1%}".format(self.completion_percentage())
        ])
        counts = collections.Counter([STATUS_NAMES[runner.status(t)] for t in self._all_trials])
        trial_statuses = ", ".join(sorted("{}: {}".format(k, v) for k, v in counts.items()))
        return "Bracket({}): {{{}}} ".format(status, trial_statuses)


class HyperBand:
    def __init__(self, max_t=81, reduction_factor=3, mode="max", accumulate=True):
        if not (max_t >= 1 and math.isfinite(max_t)):
            raise ValueError("max_t")
        if not (reduction_factor > 1 and math.isfinite(reduction_factor)):
            raise ValueError("reduction_factor")
        self._eta = reduction_factor
        self._s_max_1 = int(np.round(math.log(max_t) / math.log(reduction_factor))) + 1
        self._max_t_attr = max_t
        self._get_n0 = lambda s: int(np.ceil(self._s_max_1 / (s + 1) * self._eta ** s))
        self._get_r0 = lambda s: int((max_t * self._eta ** (-s)))
        self._hyperbands = [[]]
        self._trial_info = {}
        self._state = {"bracket": None, "band_idx": 0}
        self._num_stopped = 0
        self._metric_op = 1.0 if mode == "max" else -1.0
        self._accumulate = accumulate

    def on_trial_add(self, runner, trial):
        if trial in self._trial_info:
            raise ValueError("trial added twice")
        cur_bracket = self._state["bracket"]
        cur_band = self._hyperbands[self._state["band_idx"]]
        if cur_bracket is None or cur_bracket.filled():
            retry = True
            while retry:
                if self._cur_band_filled():
                    cur_band = []
                    self._hyperbands.append(cur_band)
                    self._state["band_idx"] += 1
                s = len(cur_band)
                assert s < self._s_max_1, "Current band is filled!"
                if self._get_r0(s) == 0:
                    cur_bracket = None
                else:
                    retry = False
                    cur_bracket = _HBBracket(self._get_n0(s), self._get_r0(s), self._max_t_attr,
                                             self._eta, s, self._accumulate)
                cur_band.append(cur_bracket)
                self._state["bracket"] = cur_bracket
        self._state["bracket"].add_trial(trial)
        self._trial_info[trial] = cur_bracket, self._state["band_idx"]

    def _cur_band_filled(self):
        return len(self._hyperbands[self._state["band_idx"]]) == self._s_max_1

    def on_trial_result(self, runner, trial, time, metric):
        bracket, _ = self._trial_info[trial]
        bracket.update_trial_stats(trial, time, metric)
        if bracket.continue_trial(trial):
            return CONTINUE
        return self._process_bracket(runner, bracket)

    def _process_bracket(self, runner, bracket):
        action = PAUSE
        if bracket.cur_iter_done():
            if bracket.finished():
                bracket.cleanup_full(runner)
                return STOP
            good, bad = bracket.successive_halving(self._metric_op)
            self._num_stopped += len(bad)
            for t in bad:
                if runner.status(t) == PAUSED:
                    runner.stop_trial(t)
                elif runner.status(t) == RUNNING:
                    bracket.cleanup_trial(t)
                    action = STOP
                else:
                    raise RuntimeError("Trial with unexpected status encountered")
            for t in good:
                if runner.status(t) not in [PAUSED, RUNNING]:
                    raise RuntimeError("Trial with unexpected status encountered")
                if bracket.continue_trial(t):
                    if runner.status(t) == PAUSED:
                        runner.unpause(t)
                    elif runner.status(t) == RUNNING:
                        action = CONTINUE
        return action

    def on_trial_remove(self, runner, trial):
        bracket, _ = self._trial_info[trial]
        bracket.cleanup_trial(trial)
        if not bracket.finished():
            self._process_bracket(runner, bracket)

    on_trial_complete = on_trial_remove
    on_trial_error = on_trial_remove

    def choose_trial_to_run(self, runner):
        for hyperband in self._hyperbands:
            scrubbed = [b for b in hyperband if b is not None]
            for bracket in sorted(scrubbed, key=lambda b: _nan_high(b.completion_percentage())):
                for trial in bracket.current_trials():
                    if runner.status(trial) == PENDING and runner.has_resources(trial):
                        return trial
        return None

    def debug_string(self, runner):
        out = "Using HyperBand: "
        out += "num_stopped={} total_brackets={}".format(
            self._num_stopped, sum(len(band) for band in self._hyperbands))
        for i, band in enumerate(self._hyperbands):
            out += "\nRound #{}:".format(i)
            for bracket in band:
                if bracket:
                    out += "\n  {}".format(bracket.repr(runner))
        return out


# ---------------------------------------------------------------------------
# Median stopping rule (spec §8.4)


class MedianStoppingRule:
    def __init__(self, mode="max", grace_period=60.0, min_samples_required=3,
                 min_time_slice=0, hard_stop=True):
        self._stopped_trials = set()
        self._grace_period = grace_period
        self._min_samples_required = min_samples_required
        self._min_time_slice = min_time_slice
        self._compare_op = max if mode == "max" else min
        self._hard_stop = hard_stop
        self._last_pause = collections.defaultdict(lambda: float("-inf"))
        self._results = collections.defaultdict(list)

    def on_trial_result(self, trial, time, metric, any_waiting):
        if trial in self._stopped_trials:
            return CONTINUE
        if math.isnan(time):
            raise ValueError("NaN time")
        self._results[trial].append((time, metric))
        if time < self._grace_period:
            return CONTINUE
        trials = self._trials_beyond_time(time)
        trials.remove(trial)
        if len(trials) < self._min_samples_required:
            pause = time - self._last_pause[trial] > self._min_time_slice
            if pause and any_waiting:
                self._last_pause[trial] = time
                return PAUSE
            return CONTINUE
        median_result = self._median_result(trials, time)
        best_result = self._best_result(trial)
        if self._compare_op(median_result, best_result) != best_result:
            self._stopped_trials.add(trial)
            return STOP if self._hard_stop else PAUSE
        return CONTINUE

    def on_trial_complete(self, trial, time, metric):
        self._results[trial].append((time, metric))

    def debug_string(self):
        return "Using MedianStoppingRule: num_stopped={}.".format(len(self._stopped_trials))

    def _trials_beyond_time(self, time):
        return [t for t in self._results if self._results[t][-1][0] >= time]

    def _median_result(self, trials, time):
        with _quiet():
            return np.median([self._running_mean(t, time) for t in trials])

    def _running_mean(self, trial, time):
        scoped = [r for r in self._results[trial] if self._grace_period <= r[0] <= time]
        with _quiet():
            return np.mean([r[1] for r in scoped])

    def _best_result(self, trial):
        return self._compare_op([r[1] for r in self._results[trial]])


# ---------------------------------------------------------------------------
# PBT (spec §8.5)


def _clean_value(value):
    if isinstance(value, float):
        return "{:.5}".format(value)
    return str(value).replace("/", "_")


def format_vars(resolved_vars):
    """variant_generator.format_vars of Ray 0.8."""
    out = []
    for path, value in sorted(resolved_vars.items()):
        if path[0] in ["run", "env", "resources_per_trial"]:
            continue
        pieces = []
        last_string = True
        for k in path[::-1]:
            if isinstance(k, int):
                pieces.append(str(k))
            elif last_string:
                last_string = False
                pieces.append(k)
        pieces.reverse()
        out.append(_clean_value("_".join(pieces)) + "=" + _clean_value(value))
    return ",".join(out)


def sample_domain(node, rng):
    """The domain kinds the tests use, drawn as src/engine/domain.c draws."""
    kind = node["kind"]
    if kind == "uniform":
        lo, hi = float(node["lower"]), float(node["upper"])
        u = rng.random()
        span = hi - lo
        x = lo + span * u if math.isfinite(span) else lo * (1.0 - u) + hi * u
        if x >= hi:
            x = math.nextafter(hi, lo)
        return lo if x < lo else x
    if kind == "loguniform":
        lo, hi = float(node["lower"]), float(node["upper"])
        base = float(node.get("base", 10))
        lb = math.log(base)
        a, c = math.log(lo) / lb, math.log(hi) / lb
        x = math.pow(base, a + (c - a) * rng.random())
        if x >= hi:
            x = math.nextafter(hi, lo)
        return lo if x < lo else x
    if kind == "randint":
        return node["lower"] + rng.below(node["upper"] - node["lower"])
    if kind == "choice":
        cats = node["categories"]
        return copy.deepcopy(cats[rng.below(len(cats))])
    raise NotImplementedError(kind)


def fn_sample(node_id):
    """What the test driver's sample_fn returns for {"$tunec": "fn"} nodes."""
    return node_id * 0.5 + 0.25


def custom_explore(config):
    """The test driver's custom_explore_fn."""
    config = copy.deepcopy(config)
    config["explored"] = True
    return config


def _is_callable(dist):
    return isinstance(dist, dict) and dist.get("$tunec") in ("domain", "fn")


def _eq(a, b):
    """Python's == without the identity shortcut (a NaN equals nothing, even
    itself): the C core compares values, and a config reaches it as JSON."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_eq(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_eq(a[k], b[k]) for k in a)
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        return False
    return a == b


def _index(seq, value):
    for i, x in enumerate(seq):
        if _eq(x, value):
            return i
    return -1


def explore(config, mutations, resample_probability, custom_explore_fn, rng):
    """pbt.explore of Ray 0.8 on the engine's random stream (`in` and
    list.index compare by value, see _eq)."""
    new_config = copy.deepcopy(config)
    for key, distribution in mutations.items():
        if isinstance(distribution, dict) and not _is_callable(distribution):
            new_config.update({
                key: explore(config[key], mutations[key], resample_probability, None, rng)
            })
        elif isinstance(distribution, list):
            if rng.random() < resample_probability or \
                    _index(distribution, config[key]) < 0:
                new_config[key] = copy.deepcopy(rng.choice(distribution))
            elif rng.random() > 0.5:
                new_config[key] = copy.deepcopy(distribution[max(
                    0, _index(distribution, config[key]) - 1)])
            else:
                new_config[key] = copy.deepcopy(distribution[min(
                    len(distribution) - 1, _index(distribution, config[key]) + 1)])
        else:
            if rng.random() < resample_probability:
                if distribution["$tunec"] == "fn":
                    new_config[key] = fn_sample(distribution["id"])
                else:
                    new_config[key] = sample_domain(distribution, rng)
            elif rng.random() > 0.5:
                new_config[key] = config[key] * 1.2
            else:
                new_config[key] = config[key] * 0.8
            if type(config[key]) is int:
                new_config[key] = int(new_config[key])
    if custom_explore_fn:
        new_config = custom_explore_fn(new_config)
        assert new_config is not None, "Custom explore fn failed to return new config"
    return new_config


def make_experiment_tag(orig_tag, config, mutations):
    resolved_vars = {}
    for k in mutations.keys():
        resolved_vars[("config", k)] = config[k]
    return "{}@perturbed[{}]".format(orig_tag, format_vars(resolved_vars))


class _PBTState:
    def __init__(self, tag, config):
        self.orig_tag = tag
        self.config = copy.deepcopy(config)
        self.last_score = None
        self.last_checkpoint = None
        self.last_perturbation_time = 0
        self.last_iter = 0


class PopulationBasedTraining:
    def __init__(self, mode="max", perturbation_interval=60.0, hyperparam_mutations=None,
                 quantile_fraction=0.25, resample_probability=0.25, custom_explore_fn=None,
                 log_config=True, seed=0):
        hyperparam_mutations = hyperparam_mutations or {}
        for value in hyperparam_mutations.values():
            if not (isinstance(value, (list, dict))):
                raise ValueError("`hyperparam_mutation` values must be either a List, Dict, "
                                 "or callable.")
        if not hyperparam_mutations and not custom_explore_fn:
            raise RuntimeError("You must specify at least one of `hyperparam_mutations` or "
                               "`custom_explore_fn` to use PBT.")
        if not (0 <= quantile_fraction <= 0.5):
            raise ValueError("quantile_fraction")
        self._metric_op = 1.0 if mode == "max" else -1.0
        self._perturbation_interval = perturbation_interval
        self._hyperparam_mutations = hyperparam_mutations
        self._quantile_fraction = quantile_fraction
        self._resample_probability = resample_probability
        self._trial_state = {}
        self._custom_explore_fn = custom_explore_fn
        self._log_config = log_config
        self._num_checkpoints = 0
        self._num_perturbations = 0
        self._rng = Rng(seed)

    def on_trial_add(self, trial, tag, config):
        self._trial_state[trial] = _PBTState(tag, config)

    def on_trial_result(self, runner, trial, has_value, time, metric, iteration):
        """Returns {"r", "checkpoint", "clone_from", "skipped", "config", "tag",
        "log"} like the driver's reply."""
        step = {"r": CONTINUE, "checkpoint": False, "clone_from": -1, "skipped": -1,
                "config": None, "tag": None, "log": None}
        state = self._trial_state[trial]
        try:
            if not has_value:
                return step
            if time - state.last_perturbation_time < self._perturbation_interval:
                return step
            state.last_score = self._metric_op * metric
            state.last_perturbation_time = time
            lower_quantile, upper_quantile = self._quantiles(runner)
            if trial in upper_quantile:
                state.last_checkpoint = True
                self._num_checkpoints += 1
                step["checkpoint"] = True
            else:
                state.last_checkpoint = None
            if trial in lower_quantile:
                trial_to_clone = self._rng.choice(upper_quantile)
                assert trial is not trial_to_clone
                self._exploit(trial, trial_to_clone, step)
            for t in self._trial_state:
                if runner.status(t) in (PENDING, PAUSED):
                    step["r"] = PAUSE
                    break
            return step
        finally:
            state.last_iter = 0 if iteration is None else iteration

    def on_trial_complete(self, trial, iteration):
        self._trial_state[trial].last_iter = 0 if iteration is None else iteration

    def _exploit(self, trial, trial_to_clone, step):
        trial_state = self._trial_state[trial]
        new_state = self._trial_state[trial_to_clone]
        if not new_state.last_checkpoint:
            step["skipped"] = trial_to_clone
            return
        new_config = explore(new_state.config, self._hyperparam_mutations,
                             self._resample_probability, self._custom_explore_fn, self._rng)
        if self._log_config:
            step["log"] = json.dumps([trial_state.orig_tag, new_state.orig_tag,
                                      trial_state.last_iter, new_state.last_iter,
                                      new_state.config, new_config])
        new_tag = make_experiment_tag(trial_state.orig_tag, new_config,
                                      self._hyperparam_mutations)
        self._num_perturbations += 1
        trial_state.last_perturbation_time = new_state.last_perturbation_time
        trial_state.config = new_config
        step.update(clone_from=trial_to_clone, config=copy.deepcopy(new_config), tag=new_tag)

    def _quantiles(self, runner):
        trials = []
        for trial, state in self._trial_state.items():
            if state.last_score is not None and runner.status(trial) not in (TERMINATED, ERROR):
                trials.append(trial)
        trials.sort(key=lambda t: _nan_low(self._trial_state[t].last_score))
        if len(trials) <= 1:
            return [], []
        num_trials_in_quantile = int(math.ceil(len(trials) * self._quantile_fraction))
        if num_trials_in_quantile > len(trials) / 2:
            num_trials_in_quantile = int(math.floor(len(trials) / 2))
        return (trials[:num_trials_in_quantile], trials[-num_trials_in_quantile:])

    def choose_trial_to_run(self, runner):
        candidates = [t for t in self._trial_state
                      if runner.status(t) in (PENDING, PAUSED) and runner.has_resources(t)]
        candidates.sort(key=lambda t: _nan_high(self._trial_state[t].last_perturbation_time))
        return candidates[0] if candidates else None

    def explore(self, config):
        return explore(config, self._hyperparam_mutations, self._resample_probability,
                       self._custom_explore_fn, self._rng)

    def debug_string(self):
        return "PopulationBasedTraining: {} checkpoints, {} perturbs".format(
            self._num_checkpoints, self._num_perturbations)

