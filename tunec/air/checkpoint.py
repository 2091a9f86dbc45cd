"""``ray.air.checkpoint`` (2.0-2.6): the directory checkpoint."""
from tunec.checkpoint import Checkpoint

__all__ = ["Checkpoint"]
