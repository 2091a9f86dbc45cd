"""tunec's stand-in for ``ray`` when a script runs under ``tunec run``
without Ray (docs/migration.md, "Running unchanged scripts").

It gives the part of Ray's core API that Tune scripts call, with local
semantics on this one machine: ``ray.init`` sets tunec's capacity
(``tune.init``), tasks and actors run in the calling process as in Ray's
local mode, and ``ray.tune`` / ``ray.air`` / ``ray.train`` are tunec's.

When the script connects to a cluster (``ray.init(address=...)`` or
RAY_ADDRESS set) and Ray is installed, this module hands over to Ray's own:
``ray.init`` initialises the real Ray, and every name here is then Ray's.
"""
import os
import platform

from tunec.compat.ray_shim._objects import ObjectRef, get, put, wait
from tunec.compat.ray_shim._remote import get_actor, kill, method, remote

ObjectID = ObjectRef          # Ray 0.8's name
LOCAL_MODE, SCRIPT_MODE, WORKER_MODE = 2, 0, 1

_real = None                  # Ray's own module once the script connected to a cluster

# ray.init keywords (0.8 to 2.x) that mean nothing for trials run on this
# machine by tunec; Ray's private ones (a leading underscore) are accepted too.
_NO_EFFECT = frozenset((
    "object_store_memory", "include_dashboard", "dashboard_host", "dashboard_port",
    "job_config", "configure_logging", "logging_level", "logging_format", "log_to_driver",
    "namespace", "runtime_env", "storage", "labels", "redis_port", "memory",
    "driver_object_store_memory", "redis_max_memory", "node_ip_address", "object_id_seed",
    "redirect_worker_output", "redirect_output", "num_redis_shards", "redis_max_clients",
    "redis_password", "plasma_directory", "huge_pages", "include_java", "job_id",
    "plasma_store_socket_name", "raylet_socket_name", "temp_dir", "load_code_from_local",
    "java_worker_options", "use_pickle", "lru_evict", "enable_object_reconstruction",
    "include_webui", "webui_host"))


def _wants_cluster(address):
    if address in (None, "local"):
        return address is None and bool(os.environ.get("RAY_ADDRESS"))
    return True


def init(address=None, *, num_cpus=None, num_gpus=None, resources=None, local_mode=False,
         ignore_reinit_error=False, redis_address=None, **options):
    """``ray.init``: on this machine, ``tune.init(num_cpus, num_gpus,
    resources, local_mode)``; a cluster address goes to Ray's own ray.init
    when Ray is installed (else tunec warns that trials run locally)."""
    global _real
    if _real is not None:
        return _real.init(address, num_cpus=num_cpus, num_gpus=num_gpus, resources=resources,
                          local_mode=local_mode, ignore_reinit_error=ignore_reinit_error,
                          **options)
    address = address or redis_address
    unknown = sorted(k for k in options if k not in _NO_EFFECT and not k.startswith("_"))
    if unknown:
        raise TypeError("init() got an unexpected keyword argument {!r}".format(unknown[0]))
    from tunec.compat import connect_real_ray
    if _wants_cluster(address):
        real = connect_real_ray()
        if real is not None:
            _real = real
            _forward_when_connected()
            return real.init(address, num_cpus=num_cpus, num_gpus=num_gpus,
                             resources=resources, local_mode=local_mode,
                             ignore_reinit_error=ignore_reinit_error, **options)
    import tunec
    if tunec.is_initialized():
        if ignore_reinit_error:
            return _context()
        raise RuntimeError("Maybe you called ray.init twice by accident? This error can be "
                           "suppressed by passing in 'ignore_reinit_error=True' or by calling "
                           "'ray.shutdown()' prior to 'ray.init()'.")
    tunec.init(num_cpus=num_cpus, num_gpus=num_gpus, resources=resources,
               local_mode=local_mode, address=address if address != "local" else None)
    return _context()


def _context():
    return {"node_ip_address": _node_ip(), "address": None, "webui_url": None,
            "dashboard_url": None, "resources": cluster_resources()}


def _node_ip():
    import socket
    try:
        return socket.gethostbyname(platform.node())
    except OSError:
        return "127.0.0.1"


def shutdown(*args, **kwargs):
    if _real is not None:
        return _real.shutdown(*args, **kwargs)
    import tunec
    tunec.shutdown()


def is_initialized():
    if _real is not None:
        return _real.is_initialized()
    import tunec
    return tunec.is_initialized()


def cluster_resources():
    """This machine's capacity as tunec uses it (tune.init / ray.init's
    num_cpus, num_gpus and resources), in Ray's float units."""
    if _real is not None:
        return _real.cluster_resources()
    from tunec._capacity import current
    capacity = current()
    res = {"CPU": float(capacity["num_cpus"])}
    if capacity["num_gpus"]:
        res["GPU"] = float(capacity["num_gpus"])
    res.update({k: float(v) for k, v in capacity["resources"].items()})
    return res


def available_resources():
    """The same as cluster_resources: tasks here run in the calling process
    and hold nothing, and trials' holdings are tunec's (see the table)."""
    if _real is not None:
        return _real.available_resources()
    return cluster_resources()


def nodes():
    if _real is not None:
        return _real.nodes()
    return [{"NodeID": "tunec-local", "Alive": True, "NodeManagerAddress": _node_ip(),
             "NodeManagerHostname": platform.node(), "Resources": cluster_resources()}]


def get_gpu_ids():
    """The GPUs this process may use (a trial's worker gets its own in
    CUDA_VISIBLE_DEVICES), as ints where they are numbers."""
    if _real is not None:
        return _real.get_gpu_ids()
    from tunec._capacity import visible_gpus
    return [int(g) if g.isdigit() else g for g in visible_gpus()]


_FORWARDED = ("put", "get", "wait", "remote", "method", "get_actor", "kill")


def __getattr__(name):
    # ray.tune, ray.air and ray.train without an import statement, as Ray's
    # lazy attributes give them; anything else is Ray's once connected.
    if name in ("tune", "air", "train"):
        import importlib
        return importlib.import_module("ray." + name)
    if _real is not None:
        return getattr(_real, name)
    raise AttributeError("module 'ray' has no attribute {!r}: tunec's stand-in for Ray (Ray is "
                         "not installed) lacks it; see docs/migration.md".format(name))


def _forward_when_connected():
    """After the switch to Ray's own module, put/get/remote/... here are
    Ray's: the script's global `ray` still names this module."""
    for name in _FORWARDED:
        if hasattr(_real, name):
            globals()[name] = getattr(_real, name)
    globals()["ObjectRef"] = globals()["ObjectID"] = getattr(_real, "ObjectRef", ObjectRef)
