"""``ray.train`` (Ray 2.7+) as Tune code uses it: ``train.report``,
``train.get_checkpoint``, ``train.get_context``, ``train.Checkpoint``,
``train.RunConfig``, ... are tunec's. Ray Train's trainers are not."""
from tunec.compat.ray_shim._forward import forwarder

__getattr__ = forwarder("ray.train", {})
