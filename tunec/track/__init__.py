"""``tune.track`` (Ray 0.8): ``tune.track.log(**metrics)`` inside a function trainable."""
from tunec.session import _report, _get


def log(**metrics):
    """Reports one result (the same path as ``tune.report``)."""
    _report(metrics)


def trial_dir():
    return _get("track.trial_dir()").logdir


def init(ignore_reinit_error=True, **session_kwargs):
    """Under tune.run the session exists already; standalone tracking is not
    supported by tunec."""
    _get("track.init()")


def shutdown():
    pass


def get_session():
    return _get("track.get_session()")


__all__ = ["log", "trial_dir", "init", "shutdown", "get_session"]
