"""The trial session seen from inside a trainable: ``tune.report``,
``tune.track.log``, the function API's ``reporter`` and ``tune.get_trial_*``.

One trial runs at a time in a worker process (or in the driver in local mode),
so the session is process-global, as in Ray. ``report`` is the per-result hot
path on the worker side: one call into the C session, which auto-fills the
result, encodes it and sends it to the driver.
"""
import os

_session = None          # the current _TrialContext, or None outside a trial


class StopTrial(BaseException):
    """Raised inside a function trainable at a report when the trial must end
    (the driver stopped it, or the result said done). A BaseException so that
    ``except Exception`` in user code does not swallow it."""


class _TrialContext:
    __slots__ = ("session", "trial_id", "trial_name", "logdir", "config", "resources",
                 "attempt", "pending_checkpoint", "restore_path")

    def __init__(self, session, attempt, trial_id, trial_name, logdir, config, resources,
                 restore_path=None):
        self.session = session
        self.attempt = attempt       # the token of this run's frames
        self.trial_id = trial_id
        self.trial_name = trial_name
        self.logdir = logdir
        self.config = config
        self.resources = resources
        self.pending_checkpoint = None     # a function's checkpoint, sent with its next report
        self.restore_path = restore_path   # the checkpoint this run started from


def _set(context):
    global _session
    _session = context


def _get(what):
    if _session is None:
        raise ValueError("Session not detected: {} can only be called inside a trial run "
                         "by tune.run.".format(what))
    return _session


def _report(metrics):
    """Sends one result; raises StopTrial when the trial must end."""
    context = _session
    if context is None:
        raise ValueError("Session not detected. Call tune.report / tune.track.log from "
                         "inside a trainable run by tune.run.")
    stop = context.session.report(metrics)
    if context.pending_checkpoint is not None:
        from tunec.checkpoint import flush_pending
        flush_pending(context)
    if stop:
        raise StopTrial()


def report(*args, **kwargs):
    """Reports one result of a function trainable.

    Accepts every spelling Ray users write: ``report(**metrics)`` (0.8.6),
    ``report(value, **metrics)`` with the value stored as ``_metric`` (0.8.7-1.x),
    and ``report({...})`` / ``report(metrics, checkpoint=...)`` (2.x).
    """
    checkpoint = kwargs.pop("checkpoint", None)
    if len(args) > 1:
        raise TypeError("report() takes at most one positional argument (a dict of metrics "
                        "or a single metric value), got {}".format(len(args)))
    if args:
        if isinstance(args[0], dict):
            metrics = dict(args[0])
            metrics.update(kwargs)
        else:
            metrics = dict(kwargs)
            metrics["_metric"] = args[0]
    else:
        metrics = kwargs
    if checkpoint is not None:
        from tunec.checkpoint import report_with_checkpoint
        report_with_checkpoint(metrics, checkpoint)
        return
    _report(metrics)


class StatusReporter:
    """The ``reporter`` passed to ``f(config, reporter)`` functions (spec §3.1)."""

    def __call__(self, **metrics):
        _report(metrics)

    @property
    def logdir(self):
        return _get("reporter.logdir").logdir

    @property
    def trial_name(self):
        return _get("reporter.trial_name").trial_name

    @property
    def trial_id(self):
        return _get("reporter.trial_id").trial_id

    @property
    def trial_resources(self):
        return _get("reporter.trial_resources").resources


def get_trial_dir():
    return _get("get_trial_dir()").logdir


def get_trial_name():
    return _get("get_trial_name()").trial_name


def get_trial_id():
    return _get("get_trial_id()").trial_id


def get_trial_resources():
    return _get("get_trial_resources()").resources


def is_session_enabled():
    return _session is not None


class TuneContext:
    """``tune.get_context()`` (2.x)."""

    def get_trial_dir(self):
        return get_trial_dir()

    def get_trial_name(self):
        return get_trial_name()

    def get_trial_id(self):
        return get_trial_id()

    def get_trial_resources(self):
        return get_trial_resources()

    def get_experiment_name(self):
        return os.path.basename(os.path.dirname(get_trial_dir().rstrip("/")))


def get_context():
    return TuneContext()
