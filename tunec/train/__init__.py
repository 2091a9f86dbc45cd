"""``tunec.train``: the ``ray.train`` names 2.x Tune code uses (Ray 2.7+).

``train.report(metrics, checkpoint=...)``, ``train.get_checkpoint()`` and
``train.get_context()`` inside a trainable; ``RunConfig``, ``CheckpointConfig``,
``FailureConfig``, ``Checkpoint`` and ``Result`` to configure and read a
``Tuner``. They are the same objects as tunec's ``tune.*`` ones.
"""
from tunec.air.result import Result
from tunec.checkpoint import Checkpoint, CheckpointConfig
from tunec.context import TuneContext, get_context
from tunec.syncer import SyncConfig
from tunec.tune_config import FailureConfig, RunConfig

__all__ = ["report", "get_checkpoint", "get_context", "TuneContext", "Checkpoint",
           "CheckpointConfig", "FailureConfig", "RunConfig", "Result", "SyncConfig"]


def report(metrics, *, checkpoint=None, checkpoint_dir_name=None):
    """Reports one result (a dict), with a ``Checkpoint`` of this iteration
    when given: Ray 2.x ``ray.train.report``."""
    from tunec.session import report as _report
    if not isinstance(metrics, dict):
        raise TypeError("train.report(metrics): metrics must be a dict, got {}".format(
            type(metrics).__name__))
    if checkpoint_dir_name is not None:
        raise NotImplementedError("train.report(checkpoint_dir_name=...) is not supported by "
                                  "this tunec release: checkpoints are stored as "
                                  "checkpoint_<iteration>")
    _report(metrics, checkpoint=checkpoint)


def get_checkpoint():
    """The checkpoint this trial was restored from, or None."""
    from tunec.checkpoint import get_checkpoint as _get
    return _get()
