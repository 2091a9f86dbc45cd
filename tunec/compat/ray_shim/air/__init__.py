"""``ray.air`` (Ray 2.0-2.6) under tunec: ``session``, ``RunConfig``,
``CheckpointConfig``, ``FailureConfig``, ``Checkpoint``, ... are tunec's."""
from tunec.compat.ray_shim._forward import forwarder

__getattr__ = forwarder("ray.air", {})
