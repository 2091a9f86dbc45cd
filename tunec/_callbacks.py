"""The Python callbacks of a run: ``tune.run(callbacks=...)``,
``RunConfig(callbacks=...)`` and 0.8 ``loggers=`` classes of the user's.

tunec's own result files are written by the engine; this module runs only
when the user gives a Python hook. Then the engine records each trial
lifecycle step (src/engine/runner_events.c) and hands them over in batches
(``Run.take_events``, src/ext/executor_events.c) to one thread here, which
calls the hooks in Ray's order with Ray's arguments. Trials never wait for
a hook: a slow hook lets the backlog grow up to the engine's bound
(``MAX_EVENTS`` events or ``MAX_BYTES`` of result text), and only then is
the step loop held back until the hooks catch up.

``trials`` is this thread's own list of ``Trial`` objects, in the order the
engine added them, kept up to date from the events (so a hook sees each
trial as it was when the event happened, not as it is now); one Trial
object per trial for the whole run, as in Ray.

A hook that raises ends the run: the exception is re-raised by ``tune.run``
once the trials are stopped. ``on_experiment_end`` is called at the end,
also after an error or Ctrl-C.
"""
import sys

from tunec import _lazylog
from tunec.callback import Callback
from tunec.error import TuneError

logger = _lazylog.getLogger("ray.tune.callback")

# The backlog bound (see the module docstring): a fraction of a second of a
# fast experiment's output; larger batches cost memory and gain nothing
# (benchmarks/callback_bench.py: the same CPU per result at 65536).
MAX_EVENTS = 8192
MAX_BYTES = 8 << 20
# While the hook thread runs, a shorter GIL switch interval lets it and the
# driver's loop take turns more often (the hooks keep up at high rates).
SWITCH_INTERVAL_S = 0.0005


class CallbackError(TuneError):
    """Names the hook that raised (the original exception is its cause)."""


def split_callbacks(callbacks):
    """(Python callbacks, built-in kinds) of a ``callbacks=`` list.

    tunec's own ``JsonLoggerCallback``/``CSVLoggerCallback``/
    ``TBXLoggerCallback`` (the classes themselves, not subclasses) are the
    engine's writers, on by default as in Ray (which adds the missing ones);
    they run no Python. A subclass of one replaces that writer (Ray adds a
    default one only when no callback is an instance of its class).
    """
    if callbacks is None:
        return [], set()
    from tunec.logger import (CSVLogger, CSVLoggerCallback, JsonLogger, JsonLoggerCallback,
                              TBXLogger, TBXLoggerCallback, _builtin_kind)
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError("callbacks must be a list of tune.Callback instances, got {!r}".format(
            callbacks))
    python, replaced = [], set()
    for cb in callbacks:
        if isinstance(cb, type):
            raise TypeError("callbacks: pass an instance, not the class {}".format(cb.__name__))
        if not isinstance(cb, Callback):
            raise TypeError("callbacks: {!r} is not a tune.Callback (subclass "
                            "tune.Callback or tune.logger.LoggerCallback)".format(cb))
        if _builtin_kind(cb):
            continue
        for kind, cls, logger_cls in (("json", JsonLoggerCallback, JsonLogger),
                                      ("csv", CSVLoggerCallback, CSVLogger),
                                      ("tbx", TBXLoggerCallback, TBXLogger)):
            if isinstance(cb, cls) or (isinstance(cb, LegacyLoggerCallback) and any(
                    issubclass(c, logger_cls) for c in cb.logger_classes)):
                replaced.add(kind)
        python.append(cb)
    return python, replaced


class LegacyLoggerCallback(Callback):
    """0.8 ``Logger`` classes run per trial (``ray.tune.logger.
    LegacyLoggerCallback(logger_classes)``, and what ``loggers=`` with
    classes of the user's becomes): created when the trial first starts
    (``Logger(config, logdir, trial)``), ``on_result`` per result,
    ``update_config`` when a restart brings a new config (PBT), ``flush`` and
    ``close`` when the trial ends. ``logger_classes`` is a list for every
    trial, or {experiment index: list}."""

    def __init__(self, logger_classes):
        if isinstance(logger_classes, dict):
            self._classes = logger_classes
        else:
            self._classes = {None: list(logger_classes)}
        self.logger_classes = [c for classes in self._classes.values() for c in classes]
        self._loggers = {}                         # trial_id -> [Logger]

    def _start(self, trial):
        loggers = self._loggers.get(trial.trial_id)
        if loggers is not None:
            for lg in loggers:
                if lg.config != trial.config:
                    lg.update_config(trial.config)
            return
        classes = self._classes.get(None) or self._classes.get(
            getattr(trial, "tunec_experiment", 0) or 0, [])
        self._loggers[trial.trial_id] = [cls(trial.config, trial.logdir, trial)
                                         for cls in classes]

    def on_trial_start(self, iteration, trials, trial, **info):
        self._start(trial)

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if trial.trial_id not in self._loggers:
            self._start(trial)
        for lg in self._loggers[trial.trial_id]:
            lg.on_result(result)

    def _end(self, trial):
        for lg in self._loggers.pop(trial.trial_id, []):
            lg.flush()
            lg.close()

    def on_trial_complete(self, iteration, trials, trial, **info):
        self._end(trial)

    def on_trial_error(self, iteration, trials, trial, **info):
        self._end(trial)

    def on_experiment_end(self, trials, **info):
        for trial in trials:
            self._end(trial)


def _overrides(cb, name):
    """Whether cb's class defines hook `name` itself (else the base no-op is
    skipped, which also spares parsing results nobody reads)."""
    method = getattr(type(cb), name, None)
    return method is not None and method is not getattr(Callback, name, None)


_HOOKS = ("on_step_begin", "on_step_end", "on_trial_start", "on_trial_restore",
          "on_trial_save", "on_trial_result", "on_trial_complete", "on_trial_error",
          "on_trial_recover", "on_checkpoint")


class Dispatcher:
    """Calls a run's Python callbacks from the engine's events (one thread).

    ``make_trial(snapshot)`` builds a Trial from an engine snapshot;
    ``update_trial(trial, snapshot)`` refreshes one in place.
    """

    def __init__(self, handle, callbacks, make_trial, update_trial):
        self.handle = handle
        self.callbacks = list(callbacks)
        self.make_trial = make_trial
        self.update_trial = update_trial
        self.trials = []
        self.iteration = 0
        self.error = None
        self._by_index = {}
        self._thread = None
        self._sync = False
        self._switch = None
        self._hooks = {name: [getattr(cb, name) for cb in self.callbacks if _overrides(cb, name)]
                       for name in _HOOKS}
        # Results as dicts decoded in C (src/ext/result_decode.c) when a hook
        # takes them; else as text, parsed only if a hook looks at last_result.
        self._decode = bool(self._hooks["on_trial_result"])

    # -- driver side (the thread that steps the run) -------------------------
    def setup(self, **info):
        for cb in self.callbacks:
            if _overrides(cb, "setup"):
                cb.setup(**info)

    def start(self):
        self.handle.record_events(True, max_events=MAX_EVENTS, max_bytes=MAX_BYTES)
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch, SWITCH_INTERVAL_S))
        import threading
        self._thread = threading.Thread(target=self._loop, name="tunec-callbacks", daemon=True)
        self._thread.start()

    def start_sync(self):
        """No thread: the caller pumps the events after each step (a
        hand-stepped TrialRunner, whose user expects hooks within step())."""
        self.handle.record_events(True, max_events=MAX_EVENTS, max_bytes=MAX_BYTES)
        self._sync = True

    def pump(self):
        """Sync mode: calls the hooks of every event recorded so far; a hook's
        error is raised here."""
        while self.error is None:
            batch = self.handle.take_events(0, decode=self._decode)
            if not batch:
                return
            try:
                self._dispatch(batch)
            except _HookFailed as failed:
                self.error = failed.error
        self.check()

    def check(self):
        """Raises the error of a hook that failed (called between steps)."""
        if self.error is not None:
            raise self.error

    def close(self, raise_error=True):
        """No more events: the thread handles what is left, then
        on_experiment_end runs here. Idempotent."""
        if self._thread is not None:
            self.handle.record_events(False)
            self._thread.join()
            self._thread = None
            sys.setswitchinterval(self._switch)
        elif self._sync:
            self._sync = False
            self.handle.record_events(False)
            try:
                self.pump()
            except Exception:    # noqa: B902 - kept in self.error, raised below
                pass
        for trial in self.trials:
            self._last_result(trial)
        for cb in self.callbacks:
            if not _overrides(cb, "on_experiment_end"):
                continue
            try:
                cb.on_experiment_end(trials=self.trials)
            except Exception as exc:   # noqa: B902 - the first error wins
                if self.error is None:
                    self.error = self._wrap(cb, "on_experiment_end", exc)
        self.callbacks = []
        if raise_error:
            self.check()

    # -- the hook thread ---------------------------------------------------------
    def _loop(self):
        take = self.handle.take_events
        decode = self._decode
        while True:
            batch = take(0.5, decode=decode)
            if batch is None:
                return
            if not batch or self.error is not None:
                continue      # after an error: drained, so the run is not held back
            try:
                self._dispatch(batch)
            except _HookFailed as failed:
                self.error = failed.error
                logger.error("%s", failed.error)
            except BaseException as exc:  # noqa: B902 - tunec's own bug: still end the run
                self.error = exc
                logger.exception("tunec: the callback thread failed")

    def _wrap(self, cb, hook, exc):
        error = CallbackError("callback {}.{} raised {}: {}".format(
            type(cb).__name__, hook, type(exc).__name__, exc))
        error.__cause__ = exc
        return error

    def _call(self, name, **kwargs):
        for hook in self._hooks[name]:
            try:
                hook(**kwargs)
            except Exception as exc:   # noqa: B902 - any hook error ends the run
                raise _HookFailed(self._wrap(hook.__self__, name, exc)) from exc

    def _dispatch(self, batch):
        hooks = self._hooks
        trials = self.trials
        by_index = self._by_index
        self.iteration += 1
        it = self.iteration
        if hooks["on_step_begin"]:
            self._call("on_step_begin", iteration=it, trials=trials)
        want_results = bool(hooks["on_trial_result"])
        for kind, index, payload in batch:
            if kind == "result":
                trial = by_index.get(index)
                if trial is None:
                    continue
                if want_results:
                    # A str: text the C decoder leaves to json.loads.
                    if payload.__class__ is str:
                        import json
                        result = json.loads(payload)
                    else:
                        result = payload
                    trial.last_result = result
                    for hook in hooks["on_trial_result"]:
                        try:
                            hook(iteration=it, trials=trials, trial=trial, result=result)
                        except Exception as exc:   # noqa: B902
                            raise _HookFailed(self._wrap(hook.__self__, "on_trial_result",
                                                         exc)) from exc
                else:
                    trial._pending_result = payload
                continue
            if kind == "status":
                trial = by_index.get(index)
                if trial is not None:
                    trial.status = payload
                continue
            if kind == "add":
                trial = self.make_trial(payload)
                by_index[index] = trial
                trials.append(trial)
                continue
            trial = by_index.get(index)
            if trial is None:
                continue
            self._last_result(trial)
            if kind == "start":
                self.update_trial(trial, payload)
                self._call("on_trial_start", iteration=it, trials=trials, trial=trial)
            elif kind == "restore":
                self._call("on_trial_restore", iteration=it, trials=trials, trial=trial)
            elif kind == "save":
                self._call("on_trial_save", iteration=it, trials=trials, trial=trial)
            elif kind == "checkpoint":
                if hooks["on_checkpoint"]:
                    from tunec.trial import Checkpoint
                    checkpoint = Checkpoint(Checkpoint.PERSISTENT, payload,
                                            result=trial.last_result)
                    self._call("on_checkpoint", iteration=it, trials=trials, trial=trial,
                               checkpoint=checkpoint)
            elif kind == "complete":
                self._call("on_trial_complete", iteration=it, trials=trials, trial=trial)
            elif kind == "error":
                trial.error_msg = payload
                self._call("on_trial_error", iteration=it, trials=trials, trial=trial)
            elif kind == "recover":
                trial.error_msg = payload
                self._call("on_trial_recover", iteration=it, trials=trials, trial=trial)
        if hooks["on_step_end"]:
            self._call("on_step_end", iteration=it, trials=trials)

    @staticmethod
    def _last_result(trial):
        """Results nobody hooks are parsed only when another hook may look at
        the trial's last_result."""
        text = trial.__dict__.pop("_pending_result", None)
        if text is not None:
            import json
            trial.last_result = json.loads(text)


class _HookFailed(Exception):
    def __init__(self, error):
        super().__init__(str(error))
        self.error = error
