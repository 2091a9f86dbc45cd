"""``TrialScheduler`` and ``FIFOScheduler`` (spec §8.1), and the base of the
built-in schedulers.

Who decides what: the built-in schedulers' decisions are made by the C engine
(src/engine/sched_*.c, wired in runner_sched.c). A built-in class here only
carries its arguments: ``_tunec_spec()`` turns them into the JSON the engine
reads. Its event methods (``on_trial_result`` ...) call back into the engine
through ``trial_runner._builtin(...)``; they run only when a user subclass
overrides some event method and calls ``super()`` — then tune.run drives the
scheduler from Python (schedulers/_bridge.py) and the engine still decides.
"""
import warnings


class TrialScheduler:
    """Interface for trial schedulers."""

    CONTINUE = "CONTINUE"
    PAUSE = "PAUSE"
    STOP = "STOP"
    NOOP = "NOOP"

    _metric = None
    _mode = None

    @property
    def metric(self):
        return self._metric

    def set_search_properties(self, metric, mode):
        if self._metric and metric:
            return False
        if metric:
            self._metric = metric
        if mode:
            self._mode = mode
        return True

    def on_trial_add(self, trial_runner, trial):
        raise NotImplementedError

    def on_trial_error(self, trial_runner, trial):
        raise NotImplementedError

    def on_trial_result(self, trial_runner, trial, result):
        raise NotImplementedError

    def on_trial_complete(self, trial_runner, trial, result):
        raise NotImplementedError

    def on_trial_remove(self, trial_runner, trial):
        raise NotImplementedError

    def choose_trial_to_run(self, trial_runner):
        raise NotImplementedError

    def debug_string(self):
        raise NotImplementedError


class FIFOScheduler(TrialScheduler):
    """Runs trials in submission order; never stops or pauses one."""

    def on_trial_add(self, trial_runner, trial):
        pass

    def on_trial_error(self, trial_runner, trial):
        pass

    def on_trial_result(self, trial_runner, trial, result):
        return TrialScheduler.CONTINUE

    def on_trial_complete(self, trial_runner, trial, result):
        pass

    def on_trial_remove(self, trial_runner, trial):
        pass

    def choose_trial_to_run(self, trial_runner):
        for trial in trial_runner.get_trials():
            if trial.status == trial.PENDING and trial_runner.has_resources(trial.resources):
                return trial
        for trial in trial_runner.get_trials():
            if trial.status == trial.PAUSED and trial_runner.has_resources(trial.resources):
                return trial
        return None

    def debug_string(self):
        return "Using FIFO scheduling algorithm."


_DEFAULT_METRIC = "episode_reward_mean"
_DEFAULT_MODE = "max"


class _BuiltinScheduler(FIFOScheduler):
    """A scheduler whose decisions the engine makes.

    Subclasses set ``_tunec_kind`` and implement ``_tunec_params()`` (their
    own arguments as a JSON-able dict). ``metric``/``mode`` given to the
    constructor win; else ``tune.run(metric=, mode=)`` (``set_search_properties``);
    else Ray 0.8's defaults "episode_reward_mean"/"max".
    """

    _tunec_kind = None

    def _init_metric(self, metric, mode, reward_attr=None):
        """Validates and records metric/mode (0.8's reward_attr included).
        Raises ValueError naming the argument."""
        if mode is not None and mode not in ("min", "max"):
            raise ValueError("mode: `mode` must be 'min' or 'max', got {!r}".format(mode))
        if reward_attr is not None:
            if not isinstance(reward_attr, str):
                raise ValueError("reward_attr: must be a str, got {!r}".format(reward_attr))
            warnings.warn("`reward_attr` is deprecated and will be removed in a future "
                          "version of Tune. Setting `metric={}` and `mode=max`.".format(
                              reward_attr), DeprecationWarning, stacklevel=3)
            metric, mode = reward_attr, "max"
        if metric is not None and not isinstance(metric, str):
            raise ValueError("metric: must be a str, got {!r}".format(metric))
        self._metric = metric
        self._mode = mode

    def set_search_properties(self, metric, mode):
        if (self._metric and metric and metric != self._metric) or \
                (self._mode and mode and mode != self._mode):
            return False
        if metric:
            self._metric = metric
        if mode:
            self._mode = mode
        return True

    def _tunec_params(self):
        raise NotImplementedError

    def _tunec_spec(self):
        """The engine's scheduler spec: kind, metric, mode and the
        subclass's parameters."""
        spec = {"kind": self._tunec_kind,
                "metric": self._metric or _DEFAULT_METRIC,
                "mode": self._mode or _DEFAULT_MODE}
        spec.update(self._tunec_params())
        return spec

    # Event methods: the engine's decision for this trial (see the module doc).
    def on_trial_add(self, trial_runner, trial):
        trial_runner._builtin("add", trial)

    def on_trial_error(self, trial_runner, trial):
        trial_runner._builtin("error", trial)

    def on_trial_result(self, trial_runner, trial, result):
        return trial_runner._builtin("result", trial, result)

    def on_trial_complete(self, trial_runner, trial, result):
        trial_runner._builtin("complete", trial, result)

    def on_trial_remove(self, trial_runner, trial):
        trial_runner._builtin("remove", trial)

    def choose_trial_to_run(self, trial_runner):
        return trial_runner._builtin_choose()

    def debug_string(self):
        text = getattr(self, "_engine_debug", None)
        return text() if text else "Using {} scheduling algorithm.".format(type(self).__name__)
