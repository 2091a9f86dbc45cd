"""``Resources``: what one trial asks for (``ray.tune.resources.Resources``, 0.8).

A namedtuple with Ray's fields, so ``trial.resources.cpu`` and
``trial.resources._asdict()`` work as in Ray. The engine checks requests
(resources.c); this is only the Python view of one.
"""
from collections import namedtuple

_FIELDS = ("cpu", "gpu", "memory", "object_store_memory", "extra_cpu", "extra_gpu",
           "extra_memory", "extra_object_store_memory", "custom_resources",
           "extra_custom_resources")


class Resources(namedtuple("Resources", _FIELDS)):
    __slots__ = ()

    def __new__(cls, cpu, gpu, memory=0, object_store_memory=0, extra_cpu=0, extra_gpu=0,
                extra_memory=0, extra_object_store_memory=0, custom_resources=None,
                extra_custom_resources=None):
        custom_resources = dict(custom_resources or {})
        extra_custom_resources = dict(extra_custom_resources or {})
        return super().__new__(cls, cpu, gpu, memory, object_store_memory, extra_cpu,
                               extra_gpu, extra_memory, extra_object_store_memory,
                               custom_resources, extra_custom_resources)

    @classmethod
    def from_dict(cls, value):
        """From the engine's JSON form (tc_resources_to_json) or a user dict."""
        value = {k: v for k, v in dict(value or {}).items() if k in _FIELDS and v is not None}
        value.setdefault("cpu", 1)
        value.setdefault("gpu", 0)
        return cls(**value)

    def cpu_total(self):
        return self.cpu + self.extra_cpu

    def gpu_total(self):
        return self.gpu + self.extra_gpu

    def memory_total(self):
        return self.memory + self.extra_memory

    def object_store_memory_total(self):
        return self.object_store_memory + self.extra_object_store_memory

    def get_res_total(self, key):
        return self.custom_resources.get(key, 0) + self.extra_custom_resources.get(key, 0)

    def get(self, key):
        return self.custom_resources.get(key, 0)

    def summary_string(self):
        summary = "{} CPUs, {} GPUs".format(self.cpu + self.extra_cpu, self.gpu + self.extra_gpu)
        for name in sorted(set(self.custom_resources) | set(self.extra_custom_resources)):
            summary += ", {} {}".format(self.get_res_total(name), name)
        return summary
