"""``ray.air.session``: ``report``, ``get_checkpoint`` and the trial's
name/id/dir/resources, as tunec's ``tune.*`` functions."""
from tunec.compat.ray_shim._forward import forwarder

__getattr__ = forwarder("ray.air.session", {})
