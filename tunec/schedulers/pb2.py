"""``PB2`` — Population Based Bandits (``ray.tune.schedulers.pb2.PB2``,
Ray 1.x), on top of tunec's ``PopulationBasedTraining``.

PBT decides when a trial clones a donor (in the engine); PB2 only changes
how the clone's new hyperparameters are chosen: instead of perturbing the
donor's values by x0.8 / x1.2 it fits a Gaussian process to the rate at
which each interval of training changed the score, given the time, the score
at the interval's start and the hyperparameters, and takes the point of the
bounds that maximises the upper confidence bound (pb2_utils.py has the math).

Division of work:

* ``on_trial_result`` (a Python override, so tune.run drives this scheduler
  from Python) records one data row per trial each time PBT would consider
  it for perturbation — ``time - last_perturbation_time >=
  perturbation_interval``, the same rule and per-trial clock as PBT — and
  then returns PBT's decision, ``super().on_trial_result(...)``.
* The engine calls ``custom_explore_fn(config)`` — here the bound method
  ``_explore_with_gp`` — when the trial being processed clones a donor;
  ``config`` is the donor's config after PBT's own perturbation. The
  bounded keys are overwritten with the GP-UCB choice.

The clone is checked at the recipient's next result (its Trial object is
refreshed from the engine before each call): the engine may drop a clone it
has already explored for (when the donor's checkpoint has not reached the
driver yet) or restore the donor's previous checkpoint instead of the one
taken at the result PBT ranked it on (a save still in flight). A dropped
clone leaves the trial's own values in its config: its own open interval is
put back. An older checkpoint shows as a result at or before the donor's
time: the clone's interval starts at that result instead of the donor's.

The engine does not say which trial is the donor, so it is recognised from
the config it passed: the trial whose last recorded config equals it on
every key that is not bounded and, for the bounded keys, is the value PBT's
x0.8 / x1.2 perturbation started from (``resample_probability`` is 0, as in
Ray); among equals, the best-scoring one. The clone is the trial whose
result is being processed (the engine's PBT is asynchronous, so a clone is
always decided on the clone's own result).

``import tunec.schedulers.pb2`` does not import NumPy; constructing a PB2
does.
"""
import copy
import inspect
import logging
import math
import numbers

from tunec import sample
from tunec.error import TuneError
from tunec.schedulers.pbt import PopulationBasedTraining
from tunec.schedulers.trial_scheduler import _DEFAULT_METRIC, _DEFAULT_MODE

logger = logging.getLogger("ray.tune.schedulers.pb2")

__all__ = ["PB2"]

_FINISHED = ("TERMINATED", "ERROR")


def _path_name(root, path):
    return root + "".join("[{!r}]".format(k) for k in path).replace("'", '"')


def _flatten_bounds(bounds, prefix=()):
    """[(path tuple, low, high)] in insertion order; nested dicts recurse
    (Ray 2.x's nested hyperparam_bounds; Ray 1.x reads flat keys only)."""
    out = []
    for key, value in bounds.items():
        path = prefix + (key,)
        name = _path_name("hyperparam_bounds", path)
        if not isinstance(key, str):
            raise ValueError("{}: keys must be strings, got {!r}".format(name, key))
        if isinstance(value, dict):
            if not value:
                raise ValueError("{} is an empty dict".format(name))
            out.extend(_flatten_bounds(value, path))
            continue
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise ValueError("{} must be a list or tuple [low, high], got {!r}".format(name, value))
        for v in value:
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise ValueError("{} must hold two finite numbers, got {!r}".format(name, value))
        low, high = float(value[0]), float(value[1])
        if not low < high:
            raise ValueError("{} must have low < high, got {!r}".format(name, value))
        out.append((path, low, high))
    return out


def _mutations(bounds):
    """The hyperparam_mutations PBT gets: the same tree with uniform domains."""
    return {k: (_mutations(v) if isinstance(v, dict) else sample.uniform(float(v[0]), float(v[1])))
            for k, v in bounds.items()}


def _get(config, path):
    """config[path[0]][path[1]]...; KeyError when absent."""
    node = config
    for key in path:
        if not isinstance(node, dict) or key not in node:
            raise KeyError(key)
        node = node[key]
    return node


def _set(config, path, value):
    node = config
    for key in path[:-1]:
        nxt = node.get(key)
        if not isinstance(nxt, dict):
            nxt = node[key] = {}
        node = nxt
    node[path[-1]] = value


def _number(value):
    """float(value) for a finite real number that is not a bool, else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def _leaves(config, skip, prefix=()):
    """{path: value} of every non-dict leaf of config not in skip."""
    out = {}
    for key, value in config.items():
        path = prefix + (key,)
        if path in skip:
            continue
        if isinstance(value, dict) and value:
            out.update(_leaves(value, skip, path))
        else:
            out[path] = value
    return out


def _same(a, b):
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # arrays and other objects without a truth value
        return False


def _perturbed_from(new, old):
    """True when PBT's perturbation of ``old`` can give ``new``: old x 1.2 or
    x 0.8, truncated to int when old was an int (spec section 8.5)."""
    if new is None or old is None:
        return False
    for f in (1.2, 0.8):
        x = old * f
        for c in ((float(int(x)),) if float(old).is_integer() else ()) + (x,):
            if abs(new - c) <= 1e-9 * max(1.0, abs(c)):
                return True
    return False


class _Row:
    """The last recorded point of one trial: the start of its next interval."""

    __slots__ = ("segment", "time", "score", "values", "config")

    def __init__(self, segment, time, score, values, config):
        self.segment = segment   # bumps when the trial clones: intervals never span a clone
        self.time = time
        self.score = score
        self.values = values     # tuple of floats, one per bounded key
        self.config = config     # the config it had (for recognising a donor)


class PB2(PopulationBasedTraining):
    """Population Based Bandits: PBT whose explore step picks the clone's
    hyperparameters by GP-UCB within ``hyperparam_bounds``.

    Args:
        time_attr: result field that measures progress (must increase).
        metric, mode: the objective and "min" / "max" (may come from tune.run).
        perturbation_interval: in units of time_attr, as in PBT.
        hyperparam_bounds: {key: [low, high]} with finite low < high; a value
            may also be a dict of such bounds for nested config keys (as in
            Ray 2.x). Required.
        quantile_fraction, log_config, require_attrs, synch: as in PBT.
        custom_explore_fn: f(config) -> config, applied after the GP choice.
        seed: seeds the NumPy generator used for the uniform draws before
            there is data and for the acquisition's random candidates; also
            passed to PBT when its constructor takes one. None: fresh entropy.
    """

    def __init__(self, time_attr="time_total_s", metric=None, mode=None, perturbation_interval=60.0,
                 hyperparam_bounds=None, quantile_fraction=0.25, log_config=True,
                 require_attrs=None, synch=False, custom_explore_fn=None, *, seed=None):
        import numpy as np

        if hyperparam_bounds is None or (isinstance(hyperparam_bounds, dict)
                                         and not hyperparam_bounds):
            raise TuneError("`hyperparam_bounds` must be specified to use PB2 scheduler.")
        if not isinstance(hyperparam_bounds, dict):
            raise ValueError("hyperparam_bounds must be a dict of key -> [low, high], got {!r}"
                             .format(hyperparam_bounds))
        if custom_explore_fn is not None and not callable(custom_explore_fn):
            raise TypeError("custom_explore_fn must be callable, got {!r}".format(
                custom_explore_fn))
        flat = _flatten_bounds(hyperparam_bounds)

        kwargs = dict(time_attr=time_attr, metric=metric, mode=mode,
                      perturbation_interval=perturbation_interval,
                      hyperparam_mutations=_mutations(hyperparam_bounds),
                      quantile_fraction=quantile_fraction,
                      # 0, as in Ray: the donor's bounded values are only ever
                      # scaled by 0.8 / 1.2, which is how the donor is recognised.
                      resample_probability=0.0,
                      custom_explore_fn=self._explore_with_gp,
                      log_config=log_config, require_attrs=require_attrs, synch=synch)
        if seed is not None and "seed" in inspect.signature(
                PopulationBasedTraining.__init__).parameters:
            kwargs["seed"] = seed
        super().__init__(**kwargs)

        self._pb2_bounds = hyperparam_bounds
        self._pb2_paths = [p for p, _, _ in flat]
        self._pb2_bounded = frozenset(self._pb2_paths)
        self._pb2_low = np.array([lo for _, lo, _ in flat])
        self._pb2_high = np.array([hi for _, _, hi in flat])
        self._pb2_time_attr = time_attr
        self._pb2_interval = perturbation_interval
        self._pb2_user_explore = custom_explore_fn
        self._pb2_rng = np.random.default_rng(seed)
        self._pb2_last = {}        # trial_id -> _Row
        self._pb2_last_time = {}   # trial_id -> last perturbation time (PBT's clock)
        self._pb2_segment = {}     # trial_id -> segment counter
        # Observed intervals: (time at end, score at start, values, rate).
        self._pb2_changes = []
        # trial_id -> values chosen for it whose outcome is not yet observed.
        self._pb2_pending = {}
        # trial_id -> (row, segment) it had before a clone not yet seen in a result.
        self._pb2_unconfirmed = {}
        self._pb2_context = None   # (trial_runner, trial) during on_trial_result

    # -- configuration ---------------------------------------------------
    # metric and mode as PBT keeps them (set_search_properties may fill them
    # in from tune.run), with the engine's defaults.
    @property
    def _pb2_metric_now(self):
        return getattr(self, "_metric", None) or _DEFAULT_METRIC

    @property
    def _pb2_sign(self):
        mode = getattr(self, "_mode", None) or _DEFAULT_MODE
        return -1.0 if mode == "min" else 1.0

    # -- data rows -------------------------------------------------------
    def _pb2_values(self, trial_id, config):
        """The bounded values of a trial's config, as a tuple of floats."""
        out = []
        for path in self._pb2_paths:
            try:
                x = _number(_get(config, path))
            except KeyError:
                raise TuneError("PB2: trial {} has no {} (every hyperparam_bounds key must be "
                                "in the config)".format(trial_id, _path_name("config", path))
                                ) from None
            if x is None:
                raise TuneError("PB2: trial {} {} = {!r} is not a finite number".format(
                    trial_id, _path_name("config", path), _get(config, path)))
            out.append(x)
        return tuple(out)

    def _pb2_record(self, trial_id, config, time, score):
        """One data row: closes the trial's open interval, opens the next."""
        values = self._pb2_values(trial_id, config)
        seg = self._pb2_segment.get(trial_id, 0)
        prev = self._pb2_last.get(trial_id)
        if (prev is not None and prev.segment == seg and prev.values == values
                and time > prev.time):
            rate = (score - prev.score) / (time - prev.time)
            if math.isfinite(rate):
                self._pb2_changes.append((time, prev.score, values, rate))
                self._pb2_trim()
        self._pb2_last[trial_id] = _Row(seg, time, score, values, config)
        self._pb2_pending.pop(trial_id, None)

    def _pb2_trim(self):
        from tunec.schedulers.pb2_utils import MAX_POINTS

        if len(self._pb2_changes) > 8 * MAX_POINTS:
            self._pb2_changes.sort(key=lambda c: c[0])
            del self._pb2_changes[:-4 * MAX_POINTS]

    def on_trial_result(self, trial_runner, trial, result):
        metric = self._pb2_metric_now
        trial_id = getattr(trial, "trial_id", None) or str(trial)
        time = _number(result.get(self._pb2_time_attr))
        value = _number(result.get(metric))
        score = None if value is None else self._pb2_sign * value
        before = self._pb2_unconfirmed.pop(trial_id, None)
        if before is not None:
            self._pb2_confirm_clone(trial_id, trial.config, time, score, before)
        if time is not None and score is not None:
            last = self._pb2_last_time.get(trial_id, 0.0)
            if time - last >= self._pb2_interval:
                # trial.config is the engine's snapshot: kept as is, not copied.
                self._pb2_record(trial_id, trial.config, time, score)
                self._pb2_last_time[trial_id] = time
        self._pb2_context = (trial_runner, trial_id)
        try:
            return super().on_trial_result(trial_runner, trial, result)
        finally:
            self._pb2_context = None

    # -- explore ---------------------------------------------------------
    def _pb2_find_donor(self, config, exclude):
        """trial_id of the trial whose config PBT perturbed into ``config``
        (see the module docstring), or None when no trial has a row."""
        new_values = [None] * len(self._pb2_paths)
        for i, path in enumerate(self._pb2_paths):
            try:
                new_values[i] = _number(_get(config, path))
            except KeyError:
                pass
        rest = _leaves(config, self._pb2_bounded) if isinstance(config, dict) else {}
        best, best_key = None, None
        for tid, row in self._pb2_last.items():
            if tid == exclude:
                continue
            other = _leaves(row.config, self._pb2_bounded)
            same_rest = (other.keys() == rest.keys()
                         and all(_same(rest[k], other[k]) for k in rest))
            fits = sum(_perturbed_from(n, o) or n == o for n, o in zip(new_values, row.values))
            key = (same_rest, fits, row.score)
            if best_key is None or key > best_key:
                best, best_key = tid, key
        return best

    def _pb2_select(self, donor, recipient):
        """Raw values (d,) for the clone: GP-UCB, or uniform without data."""
        import numpy as np

        from tunec.schedulers import pb2_utils

        if donor is None or len(self._pb2_changes) < 2:
            return self._pb2_rng.uniform(self._pb2_low, self._pb2_high)
        X = np.array([(t, r) + v for t, r, v, _ in self._pb2_changes])
        y = np.array([c[3] for c in self._pb2_changes])
        row = self._pb2_last[donor]
        pending = self._pb2_pending_points(recipient)
        try:
            return pb2_utils.select_config(X, y, (row.time, row.score), self._pb2_low,
                                           self._pb2_high, self._pb2_rng,
                                           pending=np.array(pending) if pending else None)
        except (np.linalg.LinAlgError, FloatingPointError, ValueError) as e:
            logger.warning("PB2: GP selection failed (%s); drawing uniformly in the bounds", e)
            return self._pb2_rng.uniform(self._pb2_low, self._pb2_high)

    def _pb2_pending_points(self, recipient):
        """Values chosen for other clones whose outcome is not observed yet:
        not the recipient's own (it is being replaced), not finished trials'."""
        finished = self._pb2_finished()
        return [v for tid, v in self._pb2_pending.items()
                if tid != recipient and tid not in finished]

    def _pb2_finished(self):
        """trial_ids the runner reports as TERMINATED or ERROR (empty when
        there is no runner at hand)."""
        runner = self._pb2_context[0] if self._pb2_context else None
        try:
            trials = runner.get_trials() if runner is not None else ()
        except Exception:  # a runner without get_trials: keep every pending point
            return set()
        return {getattr(t, "trial_id", None) for t in trials
                if str(getattr(t, "status", "")) in _FINISHED}

    def _explore_with_gp(self, config):
        """custom_explore_fn given to PBT: config (the donor's, perturbed) ->
        a copy whose bounded keys hold the GP-UCB choice, then the user's
        custom_explore_fn if any. Ints stay ints (rounded, kept inside the
        bounds when an integer fits there)."""
        recipient = self._pb2_context[1] if self._pb2_context else None
        donor = self._pb2_find_donor(config, recipient)
        chosen = self._pb2_select(donor, recipient)

        new = copy.deepcopy(config)
        for i, path in enumerate(self._pb2_paths):
            x = float(chosen[i])
            try:
                old = _get(config, path)
            except KeyError:
                old = None
            if isinstance(old, int) and not isinstance(old, bool):
                lo, hi = math.ceil(self._pb2_low[i]), math.floor(self._pb2_high[i])
                x = int(round(x))
                if lo <= hi:
                    x = min(max(x, lo), hi)
            _set(new, path, x)

        if self._pb2_user_explore is not None:
            new = self._pb2_user_explore(new)
            if new is None:
                raise TuneError("PB2: custom_explore_fn returned None; it must return the config")

        if recipient is not None and donor is not None:
            self._pb2_after_clone(recipient, donor, new)
        return new

    def _pb2_after_clone(self, recipient, donor, new):
        """The clone restarts from the donor's checkpoint with ``new``: its
        next interval starts at the donor's time and score (Ray adds the same
        row), and PBT's clock for it is the donor's."""
        try:
            values = self._pb2_values(recipient, new)
        except TuneError:
            return  # the user's explore fn made a bounded key unusable: no row
        row = self._pb2_last[donor]
        if recipient not in self._pb2_unconfirmed:
            self._pb2_unconfirmed[recipient] = (self._pb2_last.get(recipient),
                                                self._pb2_segment.get(recipient, 0))
        seg = self._pb2_segment.get(recipient, 0) + 1
        self._pb2_segment[recipient] = seg
        self._pb2_last[recipient] = _Row(seg, row.time, row.score, values, new)
        # PBT's clock moves to the donor's even when the engine drops the clone.
        self._pb2_last_time[recipient] = self._pb2_last_time.get(donor, row.time)
        self._pb2_pending[recipient] = values

    def _pb2_confirm_clone(self, trial_id, config, time, score, before):
        """At the first result after a clone: put the trial's own row back
        when the clone did not happen, start the clone's interval at this
        result when it restarted from before the donor's row (see the module
        docstring). ``before``: (row, segment) from before the clone."""
        row = self._pb2_last.get(trial_id)
        try:
            values = self._pb2_values(trial_id, config)
        except TuneError:
            values = None
        if row is None or values != row.values:
            old_row, old_seg = before
            self._pb2_segment[trial_id] = old_seg
            if old_row is None:
                self._pb2_last.pop(trial_id, None)
            else:
                self._pb2_last[trial_id] = old_row
            self._pb2_pending.pop(trial_id, None)
        elif time is not None and score is not None and time <= row.time:
            self._pb2_last[trial_id] = _Row(row.segment, time, score, values, row.config)
