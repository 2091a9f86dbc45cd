"""What the local executor may use: CPUs, GPUs and custom resources
(spec §18.18). ``tune.init`` sets it; otherwise a ``ray.init`` call is honoured
when Ray is installed and initialised; otherwise the machine's CPUs and
visible GPUs."""
import os
import sys

_settings = {}


def init(num_cpus=None, num_gpus=None, resources=None, local_mode=False, **_ignored):
    """``tune.init``: fixes the capacity (and local mode) for later tune.run
    calls in this process. Keyword names follow ``ray.init``."""
    if num_cpus is not None and (not isinstance(num_cpus, (int, float)) or num_cpus <= 0):
        raise ValueError("tune.init: num_cpus must be a positive number, got {!r}".format(
            num_cpus))
    if num_gpus is not None and (not isinstance(num_gpus, int) or num_gpus < 0):
        raise ValueError("tune.init: num_gpus must be an int >= 0, got {!r}".format(num_gpus))
    if resources is not None and not isinstance(resources, dict):
        raise ValueError("tune.init: resources must be a dict, got {!r}".format(resources))
    _settings.clear()
    _settings.update(num_cpus=num_cpus, num_gpus=num_gpus, resources=dict(resources or {}),
                     local_mode=bool(local_mode))


def shutdown():
    _settings.clear()


def is_initialized():
    return bool(_settings)


def visible_gpus():
    """Names of the GPUs this process may use, in CUDA_VISIBLE_DEVICES order."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d.strip() for d in env.split(",") if d.strip() and d.strip() != "-1"]
    try:
        count = len(os.listdir("/proc/driver/nvidia/gpus"))
    except OSError:
        count = 0
    return [str(i) for i in range(count)]


def _ray_capacity():
    ray = sys.modules.get("ray")
    if ray is None or not getattr(ray, "is_initialized", lambda: False)():
        return None
    res = dict(ray.cluster_resources())
    local_mode = False
    try:
        local_mode = ray._private.worker.global_worker.mode == ray.LOCAL_MODE
    except AttributeError:
        pass
    cpus = res.pop("CPU", 1)
    gpus = int(res.pop("GPU", 0))
    for key in list(res):
        if key in ("memory", "object_store_memory") or key.startswith("node:"):
            res.pop(key)
    return {"num_cpus": cpus, "num_gpus": gpus, "resources": res, "local_mode": local_mode}


def current():
    """{"num_cpus", "num_gpus", "gpu_names", "resources", "local_mode"}."""
    settings = dict(_settings) if _settings else (_ray_capacity() or {})
    gpu_names = visible_gpus()
    cpus = settings.get("num_cpus")
    if cpus is None:
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:
            cpus = os.cpu_count() or 1
    gpus = settings.get("num_gpus")
    if gpus is None:
        gpus = len(gpu_names)
    names = gpu_names[:gpus] if len(gpu_names) >= gpus else \
        gpu_names + [str(i) for i in range(len(gpu_names), gpus)]
    return {"num_cpus": cpus, "num_gpus": gpus, "gpu_names": names,
            "resources": settings.get("resources") or {},
            "local_mode": settings.get("local_mode", False)}
