"""``tune.track`` (Ray 0.8).

Inside a trainable run by ``tune.run``, ``track.log(**metrics)`` reports a
result like ``tune.report`` and ``track.init()`` does nothing (the trial's
session exists). Outside ``tune.run``, ``track.init(**kwargs)`` starts a
standalone ``TrackSession`` that logs to its own trial directory (spec
§3.1), and ``track.log`` writes there.
"""
import logging

from tunec import session as _trial_session
from tunec.track.session import TrackSession

logger = logging.getLogger("ray.tune.track")

_standalone = None        # the TrackSession of track.init() outside tune.run


def init(ignore_reinit_error=True, **session_kwargs):
    """Starts a session. Keyword arguments are TrackSession's: trial_name,
    experiment_dir, upload_dir, trial_config."""
    global _standalone
    if _trial_session.is_session_enabled():
        return        # under tune.run the trial's session is the session
    if _standalone is not None:
        message = "A session already exists in the current context."
        if not ignore_reinit_error:
            raise ValueError(message)
        logger.warning(message)
        return
    _standalone = TrackSession(**session_kwargs)


def shutdown():
    """Closes a standalone session (its params.json gets trial_completed and
    end_time)."""
    global _standalone
    if _standalone is not None:
        _standalone.close()
    _standalone = None


def get_session():
    if _trial_session.is_session_enabled():
        return _trial_session._get("track.get_session()")
    if _standalone is None:
        raise ValueError("Session not detected. Try `track.init()`?")
    return _standalone


def log(**metrics):
    """Reports one result: to the trial under tune.run, else to the
    standalone session."""
    if _trial_session.is_session_enabled():
        _trial_session._report(metrics)
        return
    get_session().log(**metrics)


def trial_dir():
    return get_session().logdir


__all__ = ["TrackSession", "init", "shutdown", "get_session", "log", "trial_dir"]
