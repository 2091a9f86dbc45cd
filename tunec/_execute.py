"""Runs one trial inside a worker process (or, in local mode, inside the
driver): the shared body of ``_worker.py`` and the local executor.

The driver's START message carries the trial's config (opaque objects as
markers, replaced here from the OBJECTS table), its logdir and names.
"""
import os
import sys
import traceback

from tunec import session as _session_mod
from tunec import trainable as _trainable_mod
from tunec.function_runner import call_style, run_function
from tunec.sample import decode_value


def _write_params_pickle(logdir, config):
    """params.pkl (spec §10.3): cloudpickle of the config, written by the
    worker, which has the real Python objects."""
    import cloudpickle
    path = os.path.join(logdir, "params.pkl")
    tmp = path + ".tmp.{}".format(os.getpid())
    with open(tmp, "wb") as f:
        cloudpickle.dump(config, f)
    os.replace(tmp, path)


def run_trial(session, start, trainable, objects, chdir=True):
    """Runs the trial described by `start` to its end. Sends DONE when a
    function returns, ERROR with the traceback when it raises; the caller
    sends READY afterwards."""
    from tunec import _tunec
    trial = start["trial"]
    logdir = start["logdir"]
    config = decode_value(start["config"], objects)
    context = _session_mod._TrialContext(session, trial, start["trial_id"], start["trial_name"],
                                         logdir, config, start.get("resources"))
    session.begin(trial, os.urandom(16).hex())
    old_cwd = os.getcwd() if chdir else None
    try:
        _write_params_pickle(logdir, config)
        if chdir:
            os.chdir(logdir)     # the trainable's cwd is its logdir (spec §18.7)
        _session_mod._set(context)
        if isinstance(trainable, type):
            _run_class(session, trainable, config, context)
        else:
            style = call_style(trainable)
            try:
                run_function(trainable, style, config, _session_mod.StatusReporter())
            except _session_mod.StopTrial:
                return
            session.send(_tunec.MSG_DONE, trial)
    except _session_mod.StopTrial:
        pass
    except BaseException as exc:   # noqa: B902 - every failure is the trial's
        if isinstance(exc, KeyboardInterrupt) and session.exit_requested:
            return
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        session.send(_tunec.MSG_ERROR, trial, text.encode("utf-8", "replace"))
        if isinstance(exc, (SystemExit, KeyboardInterrupt)) and chdir:
            raise
    finally:
        _session_mod._set(None)
        if old_cwd is not None:
            try:
                os.chdir(old_cwd)
            except OSError:
                pass


def _run_class(session, cls, config, context):
    _trainable_mod._worker_context = context
    try:
        instance = cls(config)
    finally:
        _trainable_mod._worker_context = None
    hook = instance._log_hook()
    try:
        while True:
            session.mark()
            result = instance._call_step()
            stop = session.report(result) if hook is None else session.report_logged(result, hook)
            if stop:
                break
    finally:
        instance._call_stop()
