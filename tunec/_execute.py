"""Runs one trial inside a worker process (or, in local mode, inside the
driver): the shared body of ``_worker.py`` and the local executor.

The driver's START message carries the trial's config (opaque objects as
markers, replaced here from the OBJECTS table), its logdir and names, and how
to checkpoint and restore it.
"""
import os

from tunec import _log_to_file, export
from tunec import session as _session_mod
from tunec import trainable as _trainable_mod
from tunec.checkpoint import announce, flush_pending, restore_counters
from tunec.error import AbortTrialExecution
from tunec.function_runner import call_style, run_function
from tunec.sample import decode_value

# reuse_actors: the class trainable instance kept for the next trial.
_cached = {"cls": None, "instance": None}


def _write_params_pickle(logdir, config):
    """params.pkl (spec §10.3): cloudpickle of the config, written by the
    worker, which has the real Python objects. A config that pickle can
    write by itself (plain values, importable classes) gives the same
    bytes; only one holding code of ``__main__`` or a closure needs
    cloudpickle, whose import is ~10 ms of a busy CPU in the first worker."""
    import _pickle   # pickle's own C half: pickle.py would bring re and struct
    try:
        data = _pickle.dumps(config, protocol=5)   # cloudpickle's: HIGHEST_PROTOCOL
    except Exception:   # noqa: B902 - whatever pickle cannot do, cloudpickle tries
        import cloudpickle
        data = cloudpickle.dumps(config)
    path = os.path.join(logdir, "params.pkl")
    tmp = path + ".tmp.{}".format(os.getpid())
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _write_error_pickle(logdir, exc):
    """error.pkl (as Ray 2.x writes it): the trial's own exception, which
    tune.run(fail_fast="raise") raises in the driver. Best effort: an
    exception that cannot be pickled leaves only error.txt."""
    path = os.path.join(logdir, "error.pkl")
    tmp = path + ".tmp.{}".format(os.getpid())
    try:
        import cloudpickle
        with open(tmp, "wb") as f:
            cloudpickle.dump(exc, f)
        os.replace(tmp, path)
    except Exception:   # noqa: B902 - the text in error.txt still says what happened
        try:
            os.unlink(tmp)
        except OSError:
            pass


def run_trial(session, start, trainable, objects, chdir=True, local=False):
    """Runs the trial described by `start` to its end. Sends DONE when a
    function returns, ERROR with the traceback when it raises; the caller
    sends READY afterwards."""
    from tunec import _tunec
    trainable, export_formats = export.unwrap(trainable)
    attempt = start["attempt"]     # the token every frame of this run carries
    logdir = start["logdir"]
    config = decode_value(start["config"], objects)
    restore = start.get("restore")
    context = _session_mod._TrialContext(session, attempt, start["trial_id"], start["trial_name"],
                                         logdir, config, start.get("resources"), restore)
    session.begin(attempt, os.urandom(16).hex())
    old_cwd = os.getcwd() if chdir else None
    try:
        # log_to_file: the trial's stdout/stderr go to its files until it
        # ends (the error below is the driver's to report, not the trial's).
        with _log_to_file.redirected(start, local):
            _write_params_pickle(logdir, config)
            if chdir:
                os.chdir(logdir)     # the trainable's cwd is its logdir (spec §18.7)
            _session_mod._set(context)
            if isinstance(trainable, type):
                _run_class(session, trainable, config, context, start, export_formats)
            else:
                _run_function(session, trainable, config, context, restore)
    except _session_mod.StopTrial:
        pass
    except BaseException as exc:   # noqa: B902 - every failure is the trial's
        if isinstance(exc, KeyboardInterrupt) and (session.exit_requested or local):
            if local:
                raise      # Ctrl-C in local mode stops the run, not just the trial
            return
        import traceback
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        _write_error_pickle(logdir, exc)
        session.send(_tunec.MSG_ERROR, attempt, text.encode("utf-8", "replace"))
        if isinstance(exc, (SystemExit, KeyboardInterrupt)) and chdir:
            raise
    finally:
        _session_mod._set(None)
        if old_cwd is not None:
            try:
                os.chdir(old_cwd)
            except OSError:
                pass


_styles = {}   # call style per function (the worker keeps its trainables alive)


def _run_function(session, func, config, context, restore):
    from tunec import _tunec
    style = _styles.get(id(func))
    if style is None:
        style = _styles[id(func)] = call_style(func)
    checkpoint = None
    if restore:
        restore_counters(session, restore)
        checkpoint = restore
    try:
        run_function(func, style, config, _session_mod.StatusReporter(), checkpoint)
    except _session_mod.StopTrial:
        return
    flush_pending(context)     # a checkpoint written after the last report
    session.send(_tunec.MSG_DONE, context.attempt)


def _instance(cls, config, context, start):
    """A fresh instance, or with reuse_actors the cached one reset for this
    trial (spec §2.4)."""
    if start.get("reuse_actors") and _cached["cls"] is cls and _cached["instance"] is not None:
        instance = _cached["instance"]
        _cached["instance"] = None
        instance._session = context.session
        if not instance.reset(config, context.logdir, context.trial_name, context.trial_id):
            raise AbortTrialExecution("Trainable runner reuse requires reset_config to be "
                                      "implemented and return True.")
        return instance
    _trainable_mod._worker_context = context
    try:
        return cls(config)
    finally:
        _trainable_mod._worker_context = None


def _run_class(session, cls, config, context, start, export_formats=()):
    instance = _instance(cls, config, context, start)
    freq = start.get("checkpoint_freq") or 0
    at_end = start.get("checkpoint_at_end")
    if context.restore_path:
        instance.restore(context.restore_path)
    hook = instance._log_hook()
    keep = False
    try:
        while True:
            session.mark()
            result = instance._call_step()
            stop = session.report_step(result, hook)
            it = session.iteration
            # checkpoint_requested: a pause, Ctrl-C or PBT asked for one;
            # if nothing else wanted it, it is transient (runner_sched.c).
            wanted = result.get("should_checkpoint") or (freq and it % freq == 0) or \
                (stop and at_end)
            requested = session.checkpoint_requested and not session.exit_requested
            if (wanted and not session.exit_requested) or requested:
                _save(instance, context, transient=not wanted)
            if stop:
                # Ray exports a trial that stops for good, not one paused
                # or interrupted (export_trial_if_needed, spec §6.3).
                if export_formats and not session.exit_requested and \
                        not session.checkpoint_requested:
                    instance.export_model(export_formats)
                break
        keep = bool(start.get("reuse_actors"))
    finally:
        if keep:
            _cached["cls"], _cached["instance"] = cls, instance
        else:
            instance._call_stop()


def _save(instance, context, transient=False):
    path = instance.save()
    directory = path
    while os.path.dirname(directory.rstrip(os.sep)) != context.logdir.rstrip(os.sep):
        parent = os.path.dirname(directory.rstrip(os.sep))
        if parent == directory:
            break
        directory = parent
    announce(context, directory.rstrip(os.sep), path, transient)


def shutdown():
    """Worker exit: stop a trainable kept for reuse."""
    instance = _cached.get("instance")
    _cached["instance"] = None
    if instance is not None:
        try:
            instance._call_stop()
        except Exception:
            pass
