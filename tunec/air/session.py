"""``ray.air.session`` (2.0-2.6): ``session.report(metrics, checkpoint=...)``,
``session.get_checkpoint()`` and the trial's names, inside a trainable."""
from tunec import session as _session

__all__ = ["report", "get_checkpoint", "get_trial_id", "get_trial_name", "get_trial_dir",
           "get_trial_resources", "get_experiment_name", "get_world_size", "get_world_rank",
           "get_local_rank"]


def report(metrics, *, checkpoint=None):
    from tunec import train
    train.report(metrics, checkpoint=checkpoint)


def get_checkpoint():
    from tunec import train
    return train.get_checkpoint()


def get_trial_id():
    return _session.get_trial_id()


def get_trial_name():
    return _session.get_trial_name()


def get_trial_dir():
    return _session.get_trial_dir()


def get_trial_resources():
    from tunec.context import get_context
    return get_context().get_trial_resources()


def get_experiment_name():
    from tunec.context import get_context
    return get_context().get_experiment_name()


def get_world_size():
    return 1


def get_world_rank():
    return 0


def get_local_rank():
    return 0
