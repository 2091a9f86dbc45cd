"""How ``tune.run`` hands a scheduler to the engine (spec §8).

* ``FIFOScheduler`` itself: nothing to do, FIFO is the engine's default.
* A built-in (``_BuiltinScheduler``) whose event methods are not overridden:
  its spec goes to the engine, which decides without calling Python.
* Any other ``TrialScheduler`` — a user's own class, or a subclass of a
  built-in that overrides an event method — is *host-driven*: the engine
  calls :meth:`SchedulerBridge.event` for every event and
  :meth:`SchedulerBridge.choose` when a trial may start. The scheduler gets a
  ``trial_runner`` (:class:`TrialRunnerFacade`) whose ``_builtin`` calls
  reach the engine's core, so ``super().on_trial_result(...)`` in a subclass
  of a built-in still gets the engine's decision.

This module owns the Trial objects a host-driven scheduler sees: one per
trial, kept for the whole run (schedulers key dicts by them), refreshed from
the engine before each call.
"""
from tunec import _tunec
from tunec.schedulers.trial_scheduler import FIFOScheduler, TrialScheduler, _BuiltinScheduler

# The engine's codes (src/engine/wire.h), by the names the scheduler API uses.
_EVENT_CODES = {"add": _tunec.EVENT_ADD, "result": _tunec.EVENT_RESULT,
                "complete": _tunec.EVENT_COMPLETE, "error": _tunec.EVENT_ERROR,
                "remove": _tunec.EVENT_REMOVE}
_EVENT_NAMES = {code: name for name, code in _EVENT_CODES.items()}
_DECISIONS = {TrialScheduler.CONTINUE: _tunec.SCHED_CONTINUE,
              TrialScheduler.PAUSE: _tunec.SCHED_PAUSE, TrialScheduler.STOP: _tunec.SCHED_STOP,
              TrialScheduler.NOOP: _tunec.SCHED_NOOP, None: _tunec.SCHED_CONTINUE}
_DECISION_NAMES = {code: name for name, code in _DECISIONS.items() if name is not None}
_ACT_STOP, _ACT_UNPAUSE = _tunec.SCHED_ACT_STOP, _tunec.SCHED_ACT_UNPAUSE
_EVENT_METHODS = ("on_trial_add", "on_trial_error", "on_trial_result", "on_trial_complete",
                  "on_trial_remove", "choose_trial_to_run")


def _overrides_events(scheduler):
    """True when the scheduler's class replaces a built-in's event method."""
    cls = type(scheduler)
    return any(getattr(cls, name) is not getattr(_BuiltinScheduler, name)
               for name in _EVENT_METHODS)


def plan(scheduler, metric, mode):
    """``(spec, host_driven)`` for the engine; spec None means FIFO.
    Raises ValueError/TypeError before any trial starts."""
    if scheduler is None or type(scheduler) is FIFOScheduler:
        return None, False
    if not isinstance(scheduler, TrialScheduler):
        raise TypeError("scheduler must be a TrialScheduler, got {!r}".format(scheduler))
    if isinstance(scheduler, _BuiltinScheduler):
        if (metric or mode) and not scheduler.set_search_properties(metric, mode):
            raise ValueError(
                "You passed a `metric` or `mode` argument to `tune.run()`, but the scheduler "
                "you are using was already instantiated with their own `metric` and `mode` "
                "parameters. Either remove the arguments from your scheduler or from your "
                "call to `tune.run()`")
        return scheduler._tunec_spec(), _overrides_events(scheduler)
    if metric or mode:
        scheduler.set_search_properties(metric, mode)
    return {"kind": "fifo"}, True


class _ExecutorFacade:
    """``trial_runner.trial_executor`` as a scheduler uses it."""

    def __init__(self, runner):
        self._runner = runner

    def has_resources(self, resources):
        return self._runner.has_resources(resources)

    def stop_trial(self, trial, error=False, error_msg=None):
        self._runner._act(_ACT_STOP, trial)

    def unpause_trial(self, trial):
        self._runner._act(_ACT_UNPAUSE, trial)

    def get_running_trials(self):
        return [t for t in self._runner.get_trials() if t.status == t.RUNNING]


class TrialRunnerFacade:
    """The ``trial_runner`` argument of a host-driven scheduler's methods
    (spec §8.1): get_trials, has_resources, stop_trial, trial_executor."""

    def __init__(self, bridge):
        self._bridge = bridge
        self.trial_executor = _ExecutorFacade(self)

    def get_trials(self):
        return self._bridge.all_trials()

    def has_resources(self, resources):
        if hasattr(resources, "_asdict"):
            resources = resources._asdict()
        if not isinstance(resources, dict):
            resources = {k: getattr(resources, k) for k in ("cpu", "gpu")
                         if hasattr(resources, k)}
        return self._bridge.handle.has_resources(dict(resources))

    def stop_trial(self, trial):
        """Ray 1.x's TrialRunner.stop_trial: the scheduler hears of it
        (on_trial_remove for a waiting trial, on_trial_complete for a running
        one), then the trial ends."""
        status = self._bridge.refresh_status(trial)
        if status in (trial.TERMINATED, trial.ERROR):
            return
        scheduler = self._bridge.scheduler
        if status in (trial.PENDING, trial.PAUSED):
            scheduler.on_trial_remove(self, trial)
        else:
            scheduler.on_trial_complete(self, trial, trial.last_result)
        self._act(_ACT_STOP, trial)

    def _act(self, action, trial):
        self._bridge.handle.sched_act(action, self._bridge.index_of(trial))

    # The engine's built-in core, for super() calls of built-in subclasses.
    def _builtin(self, event, trial, result=None):
        index = self._bridge.index_of(trial)
        code = self._bridge.handle.sched_builtin(_EVENT_CODES[event], index, result)
        if event != "result":
            return None
        # A PBT clone changed the trial's config and tag: show them, as Ray's
        # _exploit does, keeping the result the scheduler is looking at.
        last = trial.last_result
        self._bridge.trial(index, refresh=True)
        trial.last_result = last
        return _DECISION_NAMES.get(code, TrialScheduler.CONTINUE)

    def _builtin_choose(self):
        index = self._bridge.handle.sched_builtin_choose()
        return self._bridge.trial(index) if index >= 0 else None


class SchedulerBridge:
    """The callbacks of a host-driven scheduler (``sched_event``,
    ``sched_choose``). ``make_trial(snapshot)`` builds a Trial."""

    def __init__(self, scheduler, make_trial):
        self.scheduler = scheduler
        self.make_trial = make_trial
        self.handle = None          # the engine's Run, set once it exists
        self.trials = []            # Trial objects by trial index
        self.index = {}             # id(Trial) -> trial index
        self.facade = TrialRunnerFacade(self)

    # -- Trial objects -----------------------------------------------------
    def trial(self, index, refresh=False):
        if index >= len(self.trials):
            refresh = False    # made from a snapshot just now
        while len(self.trials) <= index:
            i = len(self.trials)
            trial = self.make_trial(self.handle.trial_snapshot(i))
            self.trials.append(trial)
            self.index[id(trial)] = i
        trial = self.trials[index]
        if refresh:
            fresh = self.make_trial(self.handle.trial_snapshot(index))
            trial.__dict__.update(fresh.__dict__)
        return trial

    def index_of(self, trial):
        try:
            return self.index[id(trial)]
        except KeyError:
            raise ValueError("{} is not a trial of this run".format(trial)) from None

    def all_trials(self):
        statuses = self.handle.trial_statuses()
        if statuses:
            self.trial(len(statuses) - 1)
        for trial, status in zip(self.trials, statuses):
            trial.status = status
        return list(self.trials[:len(statuses)])

    def refresh_status(self, trial):
        status = self.handle.trial_statuses()[self.index_of(trial)]
        trial.status = status
        return status

    # -- engine callbacks --------------------------------------------------
    def event(self, code, index, result_text):
        trial = self.trial(index, refresh=True)
        scheduler, facade = self.scheduler, self.facade
        event = _EVENT_NAMES[code]
        if event == "add":
            scheduler.on_trial_add(facade, trial)
            return 0
        if event == "error":
            scheduler.on_trial_error(facade, trial)
            return 0
        if event == "remove":
            scheduler.on_trial_remove(facade, trial)
            return 0
        import json
        from tunec.logger import _flatten_dict
        result = json.loads(result_text) if result_text is not None else {}
        trial.last_result = result
        flat = _flatten_dict(result)   # Ray's trial runner hands schedulers flat results
        if event == "complete":
            scheduler.on_trial_complete(facade, trial, flat)
            return 0
        decision = scheduler.on_trial_result(facade, trial, flat)
        if decision not in _DECISIONS:
            raise ValueError("{}.on_trial_result returned {!r}; expected TrialScheduler."
                             "CONTINUE, PAUSE, STOP or NOOP".format(type(scheduler).__name__,
                                                                    decision))
        return _DECISIONS[decision]

    def choose(self):
        chosen = self.scheduler.choose_trial_to_run(self.facade)
        return -1 if chosen is None else self.index_of(chosen)

    def debug_string(self):
        return self.scheduler.debug_string()


# --------------------------------------------------------------------------
# engine options
# --------------------------------------------------------------------------

def _encode_mutations(mutations, codec, samplers, path):
    """hyperparam_mutations in the engine's marker form: lists of encoded
    values, nested dicts, Domains as domain nodes, callables as
    {"$tunec": "fn", "id": N} resampled through ``samplers``."""
    from tunec.sample import Domain
    out = {}
    for key, value in mutations.items():
        here = path + [key]
        if isinstance(value, dict):
            out[key] = _encode_mutations(value, codec, samplers, here)
        elif isinstance(value, (list, tuple)):
            out[key] = [codec.encode(v, here + [i]) for i, v in enumerate(value)]
        elif isinstance(value, Domain):
            out[key] = codec.encode(value, here)
        else:
            fid = codec._new_id(value)
            samplers[fid] = value
            codec.functions[fid] = value    # reserves the id in the run's table
            out[key] = {"$tunec": "fn", "id": fid}
    return out


def engine_setup(scheduler, spec, hosted, functions, objects, seed, make_trial):
    """``(options, callbacks, bridge)``: the engine's "scheduler" option,
    the Python callbacks it needs (PBT's custom_explore_fn and mutation
    resamplers, a host-driven scheduler's events), and the bridge (None
    unless host-driven; its ``handle`` is set once the Run exists).
    ``functions``/``objects`` are the run's marker tables."""
    from tunec.error import TuneError
    from tunec.sample import _Codec, decode_value
    spec = dict(spec)
    callbacks = {}
    if spec["kind"] == "pbt":
        codec = _Codec(functions, objects, len(functions) + len(objects))
        samplers = {}
        spec["hyperparam_mutations"] = _encode_mutations(spec["hyperparam_mutations"] or {},
                                                         codec, samplers, [])
        explore = spec.pop("custom_explore_fn", None)
        spec["custom_explore"] = explore is not None

        def encode(value):
            return codec.encode(value, ["config"])

        if samplers:
            callbacks["pbt_sample"] = lambda fid: encode(samplers[fid]())
        if explore is not None:
            def custom_explore(config):
                new = explore(decode_value(config, objects))
                if not isinstance(new, dict):
                    raise TuneError("custom_explore_fn must return the new config (a dict), "
                                    "got {!r}".format(new))
                return encode(new)
            callbacks["pbt_explore"] = custom_explore
    spec["seed"] = seed & (2 ** 63 - 1)
    bridge = None
    if hosted:
        bridge = SchedulerBridge(scheduler, make_trial)
        callbacks["sched_event"] = bridge.event
        callbacks["sched_choose"] = bridge.choose
    return {"spec": spec, "host_driven": hosted}, callbacks, bridge
