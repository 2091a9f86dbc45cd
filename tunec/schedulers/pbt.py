"""``PopulationBasedTraining`` and ``PopulationBasedTrainingReplay``
(spec §8.5).

Only the arguments live here; the engine (src/engine/sched_pbt.c) makes the
decisions from ``_tunec_spec()``. PBT's spec carries the user's
``hyperparam_mutations`` and ``custom_explore_fn`` as they are (callables and
search-space objects included): the runner encodes them for the engine.
"""
import json
import os

from tunec.error import TuneError
from tunec.sample import Domain, sample_from
from tunec.schedulers import _args
from tunec.schedulers._args import SchedulerArgumentTypeError
from tunec.schedulers.trial_scheduler import _BuiltinScheduler


class PBTConfigError(ValueError, TuneError):
    """A PBT argument Ray rejected with ``TuneError``; also a ``ValueError``,
    like tunec's other argument errors."""


def _render_path(path):
    """``hyperparam_mutations["opt"]["lr"]`` for the key path ("opt", "lr")."""
    return "hyperparam_mutations" + "".join(
        "[{}]".format(json.dumps(k) if isinstance(k, str) else repr(k)) for k in path)


def _check_mutations(mutations, path=()):
    """Each value is a non-empty list or tuple (categorical values), a dict
    (nested mutations, checked the same way), a callable (resampler) or a
    search-space ``Domain``; spec §8.5 (Domain: Ray 1.x)."""
    for key, value in mutations.items():
        here = path + (key,)
        if isinstance(value, dict):
            _check_mutations(value, here)
        elif isinstance(value, (list, tuple)):
            if not value:
                raise ValueError("{}: an empty list has no value to mutate to".format(
                    _render_path(here)))
        elif isinstance(value, sample_from):
            # Ray 1.x: PBT must be able to resample the value on its own.
            raise SchedulerArgumentTypeError(
                "{}: tune.sample_from is not supported as a mutation; use a list, a "
                "callable or tune.uniform/tune.loguniform/tune.choice ...".format(
                    _render_path(here)))
        elif not (isinstance(value, Domain) or callable(value)):
            raise SchedulerArgumentTypeError(
                "{}: must be a list, a dict, a callable or a search space object "
                "(tune.uniform ...), got {!r}".format(_render_path(here), value))


class PopulationBasedTraining(_BuiltinScheduler):
    """Population Based Training (spec §8.5). See
    https://deepmind.com/blog/population-based-training-neural-networks

    Every ``perturbation_interval`` of ``time_attr`` a trial's score is
    ranked: a trial in the bottom ``quantile_fraction`` clones the
    checkpoint and a perturbed config of a trial in the top one.

    Args:
        time_attr (str): the result field that measures progress
            (``time_total_s`` by default); it must increase monotonically.
        reward_attr (str): deprecated (Ray 0.8): sets ``metric`` to it and
            ``mode`` to "max", with a DeprecationWarning.
        metric (str): the result field to optimise. None: ``tune.run``'s
            ``metric``, else "episode_reward_mean".
        mode (str): "min" or "max". None: ``tune.run``'s ``mode``, else "max".
        perturbation_interval (float): how much ``time_attr`` between two
            perturbations of a trial (> 0).
        hyperparam_mutations (dict): for each config key, a list of values
            (a neighbour is chosen, or one at random), a callable or search
            space object (the value is resampled or scaled by 1.2/0.8), or a
            dict of nested mutations. At least one of ``hyperparam_mutations``
            and ``custom_explore_fn`` is required.
        quantile_fraction (float): the fraction of trials in the top and in
            the bottom quantile, in [0, 0.5].
        resample_probability (float): the probability of resampling instead
            of perturbing a value, in [0, 1].
        custom_explore_fn (callable): ``f(config) -> config``, applied after
            the built-in perturbations.
        log_config (bool): write ``pbt_global.txt`` and
            ``pbt_policy_<trial_id>.txt`` in the experiment dir at each
            exploit, which is what ``PopulationBasedTrainingReplay`` reads.
        require_attrs (bool): Ray 1.x. True: a result without ``time_attr``
            or the metric fails the run; False or left out (Ray 0.8's
            behaviour): such a result just continues.
        synch (bool): Ray 1.x; only False (asynchronous PBT) is supported.
        burn_in_period (float): Ray 1.x; only 0 is supported.
        perturbation_factors (tuple): Ray 2.x; only (1.2, 0.8) is supported.
    """

    _tunec_kind = "pbt"

    def __init__(self, time_attr="time_total_s", reward_attr=None, metric=None, mode=None,
                 perturbation_interval=60.0, hyperparam_mutations=None, quantile_fraction=0.25,
                 resample_probability=0.25, custom_explore_fn=None, log_config=True,
                 require_attrs=None, synch=False, *, burn_in_period=0.0,
                 perturbation_factors=(1.2, 0.8)):
        self._time_attr = _args.check_time_attr(time_attr)
        perturbation_interval = _args.check_number("perturbation_interval",
                                                   perturbation_interval)
        quantile_fraction = _args.check_number("quantile_fraction", quantile_fraction)
        resample_probability = _args.check_number("resample_probability",
                                                  resample_probability)
        if perturbation_interval <= 0:
            raise ValueError("perturbation_interval: must be > 0, got {!r}".format(
                perturbation_interval))
        if not 0 <= quantile_fraction <= 0.5:
            raise PBTConfigError("quantile_fraction: must be between 0 and 0.5, got {!r}".format(
                quantile_fraction))
        if not 0 <= resample_probability <= 1:
            raise ValueError("resample_probability: must be between 0 and 1, got {!r}".format(
                resample_probability))
        if hyperparam_mutations is None:  # Ray 2.x's default; 0.8's was {}
            hyperparam_mutations = {}
        if not isinstance(hyperparam_mutations, dict):
            raise SchedulerArgumentTypeError(
                "hyperparam_mutations: must be a dict, got {!r}".format(hyperparam_mutations))
        _check_mutations(hyperparam_mutations)
        if custom_explore_fn is not None and not callable(custom_explore_fn):
            raise SchedulerArgumentTypeError(
                "custom_explore_fn: must be a callable f(config) -> config, got {!r}".format(
                    custom_explore_fn))
        if not hyperparam_mutations and custom_explore_fn is None:
            raise PBTConfigError("hyperparam_mutations: you must specify at least one of "
                                 "`hyperparam_mutations` or `custom_explore_fn` to use PBT")
        self._log_config = _args.check_bool("log_config", log_config)
        _args.require_default("synch", synch, False, "PBT runs asynchronously")
        _args.require_default("burn_in_period", burn_in_period, 0,
                              "perturbations start at the first interval")
        if not isinstance(perturbation_factors, (list, tuple)) or \
                tuple(perturbation_factors) != (1.2, 0.8):
            raise NotImplementedError(
                "perturbation_factors: only (1.2, 0.8) is supported by tunec, got {!r}".format(
                    perturbation_factors))
        self._init_metric(metric, mode, reward_attr)
        self._perturbation_interval = perturbation_interval
        self._hyperparam_mutations = hyperparam_mutations
        self._quantile_fraction = quantile_fraction
        self._resample_probability = resample_probability
        self._custom_explore_fn = custom_explore_fn
        if require_attrs is not None and not isinstance(require_attrs, bool):
            raise SchedulerArgumentTypeError(
                "require_attrs: must be a bool, got {!r}".format(require_attrs))
        self._require_attrs = require_attrs
        self._synch = False
        self._burn_in_period = 0
        self._num_checkpoints = 0
        self._num_perturbations = 0

    def _tunec_params(self):
        # hyperparam_mutations and custom_explore_fn stay Python objects: the
        # runner encodes them (callables and Domains are not JSON).
        return {"time_attr": self._time_attr,
                "perturbation_interval": self._perturbation_interval,
                "hyperparam_mutations": self._hyperparam_mutations,
                "quantile_fraction": self._quantile_fraction,
                "resample_probability": self._resample_probability,
                "log_config": self._log_config,
                "require_attrs": bool(self._require_attrs),
                "custom_explore_fn": self._custom_explore_fn}


def _load_policy(policy_file):
    """Reads a PBT policy file as Ray 1.x's ``_load_policy`` does.

    Each line is the JSON list ``[old_tag, new_tag, old_step, new_step,
    old_conf, new_conf]`` PBT appended at an exploit (spec §8.5). The file of
    a trial starts with a copy of its donor's file, so only the last chain of
    lines, where each line's ``old_tag`` is the next line's ``new_tag``, is
    this trial's history; earlier lines belong to overwritten branches.
    Returns ``(initial_config, [(change_at_step, new_config), ...])``; the
    initial config is None for an empty file.

    Unlike Ray, every line is checked (a JSON list of six, configs objects,
    steps numbers), so a damaged file is a ValueError naming the line rather
    than an unpacking error.
    """
    raw_policy = []
    try:
        with open(policy_file, "rt") as fp:
            lines = fp.readlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError("Could not read PBT policy file: {}. ({})".format(
            policy_file, exc)) from None
    for lineno, row in enumerate(lines, 1):
        try:
            parsed_row = json.loads(row)
        except json.JSONDecodeError as exc:
            raise ValueError("Could not read PBT policy file: {}. (line {}: {})".format(
                policy_file, lineno, exc)) from None
        if not (isinstance(parsed_row, list) and len(parsed_row) == 6
                and isinstance(parsed_row[4], dict) and isinstance(parsed_row[5], dict)
                and all(isinstance(s, (int, float)) and not isinstance(s, bool)
                        for s in parsed_row[2:4])):
            raise ValueError(
                "Could not read PBT policy file: {}. (line {}: expected [old_tag, new_tag, "
                "old_step, new_step, old_config, new_config])".format(policy_file, lineno))
        raw_policy.append(tuple(parsed_row))

    # Walk from the end while the tag chain holds.
    policy = []
    last_new_tag = None
    last_old_conf = None
    for old_tag, new_tag, old_step, new_step, old_conf, new_conf in reversed(raw_policy):
        if last_new_tag and old_tag != last_new_tag:
            # The chain broke: what comes before was overwritten by the
            # donor's history copied over this trial's file.
            break
        last_new_tag = new_tag
        last_old_conf = old_conf
        policy.append((new_step, new_conf))
    return last_old_conf, list(reversed(policy))


class PopulationBasedTrainingReplay(_BuiltinScheduler):
    """Replays the config schedule of one trial of a PBT run (spec §8.5,
    ``log_config``; Ray 1.x).

    PBT's result is a schedule of configs, not one config. This scheduler
    trains a single trial that starts from the logged initial config and
    switches to each logged config at its step (``training_iteration``).
    The PBT run must have had ``log_config=True`` (the default).

    Args:
        policy_file (str): the trial's policy file, usually
            ``~/ray_results/<experiment>/pbt_policy_<trial_id>.txt``.
    """

    _tunec_kind = "pbt_replay"

    def __init__(self, policy_file):
        if not isinstance(policy_file, (str, os.PathLike)):
            raise SchedulerArgumentTypeError(
                "policy_file: must be a path, got {!r}".format(policy_file))
        policy_file = os.path.expanduser(os.fspath(policy_file))
        if not os.path.exists(policy_file):
            raise ValueError("Policy file not found: {}".format(policy_file))
        self._init_metric(None, None)
        self.policy_file = policy_file
        initial_config, self._policy = self._load_policy(self.policy_file)
        self.experiment_tag = "replay_{}".format(os.path.basename(self.policy_file))
        self.config = initial_config
        self.current_config = self.config
        self._current_step = 0
        self._num_perturbations = 0

    def _load_policy(self, policy_file):
        """Ray's method name; see the module-level ``_load_policy``."""
        return _load_policy(policy_file)

    def _tunec_params(self):
        return {"initial_config": self.config,
                "policy": [[step, config] for step, config in self._policy],
                "experiment_tag": self.experiment_tag}
