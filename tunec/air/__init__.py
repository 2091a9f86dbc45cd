"""``tunec.air``: the ``ray.air`` names of Ray 2.0-2.6 (``from ray.air import
session, RunConfig``...), the same objects as ``tunec.train``'s."""
from tunec.air import session
from tunec.air.result import Result
from tunec.checkpoint import Checkpoint, CheckpointConfig
from tunec.syncer import SyncConfig
from tunec.tune_config import FailureConfig, RunConfig

__all__ = ["session", "Result", "Checkpoint", "CheckpointConfig", "FailureConfig", "RunConfig",
           "SyncConfig"]
