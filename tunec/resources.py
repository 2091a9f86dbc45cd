"""``Resources``: what one trial asks for (``ray.tune.resources``, 0.8), with
Ray's ``json_to_resources`` / ``resources_to_json``.

A namedtuple with Ray's fields, so ``trial.resources.cpu`` and
``trial.resources._asdict()`` work as in Ray. The engine checks requests
(resources.c); this is only the Python view of one.
"""
from collections import namedtuple

from tunec.error import TuneError

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

    def is_nonnegative(self):
        all_values = [self.cpu, self.gpu, self.memory, self.object_store_memory, self.extra_cpu,
                      self.extra_gpu, self.extra_memory, self.extra_object_store_memory]
        all_values += list(self.custom_resources.values())
        all_values += list(self.extra_custom_resources.values())
        return all(v >= 0 for v in all_values)

    @classmethod
    def subtract(cls, original, to_remove):
        """`original` minus `to_remove`, field by field (custom keys too)."""
        fields = [getattr(original, f) - getattr(to_remove, f) for f in _FIELDS[:8]]
        custom = [{k: d1.get(k, 0) - d2.get(k, 0) for k in set(d1) | set(d2)}
                  for d1, d2 in ((original.custom_resources, to_remove.custom_resources),
                                 (original.extra_custom_resources,
                                  to_remove.extra_custom_resources))]
        return cls(*fields, *custom)

    def to_json(self):
        return resources_to_json(self)

    @staticmethod
    def from_json(data):
        return json_to_resources(data)

    def summary_string(self):
        summary = "{} CPUs, {} GPUs".format(self.cpu + self.extra_cpu, self.gpu + self.extra_gpu)
        for name in sorted(set(self.custom_resources) | set(self.extra_custom_resources)):
            summary += ", {} {}".format(self.get_res_total(name), name)
        return summary


def json_to_resources(data):
    """Resources from a dict or its JSON text (None / "null": None)."""
    if data is None or data == "null":
        return None
    if isinstance(data, str):
        import json
        data = json.loads(data)
    for k in data:
        if k in ("driver_cpu_limit", "driver_gpu_limit"):
            raise TuneError("The field `{}` is no longer supported. Use `extra_cpu` or "
                            "`extra_gpu` instead.".format(k))
        if k not in Resources._fields:
            raise ValueError("Unknown resource field {}, must be one of {}".format(
                k, Resources._fields))
    return Resources(
        data.get("cpu", 1), data.get("gpu", 0), data.get("memory", 0),
        data.get("object_store_memory", 0), data.get("extra_cpu", 0), data.get("extra_gpu", 0),
        data.get("extra_memory", 0), data.get("extra_object_store_memory", 0),
        data.get("custom_resources"), data.get("extra_custom_resources"))


def resources_to_json(resources):
    """The dict json_to_resources reads back (None: None)."""
    if resources is None:
        return None
    out = {f: getattr(resources, f) for f in _FIELDS[:8]}
    out["custom_resources"] = dict(resources.custom_resources)
    out["extra_custom_resources"] = dict(resources.extra_custom_resources)
    return out
