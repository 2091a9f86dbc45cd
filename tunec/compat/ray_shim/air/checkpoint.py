"""``ray.air.checkpoint.Checkpoint`` is ``tune.Checkpoint``."""
from tunec.compat.ray_shim._forward import forwarder

__getattr__ = forwarder("ray.air.checkpoint", {})
