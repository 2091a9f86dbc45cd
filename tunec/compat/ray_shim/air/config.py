"""``ray.air.config``: RunConfig, CheckpointConfig, FailureConfig, ... are
tunec's."""
from tunec.compat.ray_shim._forward import forwarder

__getattr__ = forwarder("ray.air.config", {})
