"""``ray.air.config`` (2.0-2.6): where RunConfig and friends were imported from."""
from tunec.checkpoint import CheckpointConfig
from tunec.syncer import SyncConfig
from tunec.tune_config import FailureConfig, RunConfig

__all__ = ["CheckpointConfig", "FailureConfig", "RunConfig", "SyncConfig"]
