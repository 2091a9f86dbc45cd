"""What the local executor may use: CPUs, GPUs and custom resources
(spec §18.18). ``tune.init`` sets it; otherwise a ``ray.init`` call is honoured
when Ray is installed and initialised; otherwise the machine's CPUs and
visible GPUs.

A Ray session whose cluster has other nodes, or ``tune.init(address=...)``,
runs trials as Ray actors on the cluster (tunec/_ray_executor.py, which then
gives the capacity). What is left here is a Ray session whose cluster the
executor does not use (``TUNEC_RAY_EXECUTOR=0``, a Ray that cannot run
actors): it lends only the resources of the node this driver runs on, and
says so with a ``RuntimeWarning`` rather than oversubscribing this machine
with the cluster's CPU count.
"""
import os
import sys
import warnings

_settings = {}

# ray.init options that change nothing for trials run on this machine,
# accepted so that a ray.init call can be turned into tune.init as is.
_NO_EFFECT_OPTIONS = ("ignore_reinit_error", "include_dashboard", "dashboard_host",
                      "dashboard_port", "logging_level", "logging_format", "log_to_driver",
                      "configure_logging", "namespace", "object_store_memory")


class ClusterWarning(RuntimeWarning):
    """Trials run on this machine although a cluster was named."""


def init(num_cpus=None, num_gpus=None, resources=None, local_mode=False, address=None,
         **ray_options):
    """``tune.init``: fixes the capacity (and local mode) for later tune.run
    calls in this process. Keyword names follow ``ray.init``."""
    unknown = sorted(set(ray_options) - set(_NO_EFFECT_OPTIONS))
    if unknown:
        raise TypeError("tune.init() got an unexpected keyword argument {!r} (tunec takes "
                        "num_cpus, num_gpus, resources, local_mode, address and {})".format(
                            unknown[0], ", ".join(_NO_EFFECT_OPTIONS)))
    if num_cpus is not None and (not isinstance(num_cpus, (int, float)) or num_cpus <= 0):
        raise ValueError("tune.init: num_cpus must be a positive number, got {!r}".format(
            num_cpus))
    if num_gpus is not None and (not isinstance(num_gpus, int) or num_gpus < 0):
        raise ValueError("tune.init: num_gpus must be an int >= 0, got {!r}".format(num_gpus))
    if resources is not None and not isinstance(resources, dict):
        raise ValueError("tune.init: resources must be a dict, got {!r}".format(resources))
    if address is not None and not local_mode and _connect_ray(address, ray_options):
        # Trials run as Ray actors on that cluster (tunec/_ray_executor.py).
        _settings.clear()
        _settings.update(ray_address=address, local_mode=False)
        return
    if address is not None:
        warnings.warn("tune.init(address={!r}): Ray is not installed; trials "
                      "run locally on this machine, with its capacity ({})".format(
                          address, _describe(_machine(num_cpus, num_gpus))),
                      ClusterWarning, stacklevel=2)
    _settings.clear()
    _settings.update(num_cpus=num_cpus, num_gpus=num_gpus, resources=dict(resources or {}),
                     local_mode=bool(local_mode))
    if not local_mode:
        from tunec import _zygote
        # A tune.run follows: an exec'd fork server starts its interpreter now.
        _zygote.prestart(fork=False)


def _connect_ray(address, ray_options):
    """ray.init(address=...) when Ray is installed: True once connected."""
    try:
        import ray
    except ImportError:
        return False
    if not all(hasattr(ray, name) for name in ("init", "is_initialized", "remote")):
        return False      # tunec's own `ray` alias (tunec.compat), not Ray
    keep = {k: v for k, v in ray_options.items()
            if k in ("namespace", "logging_level", "log_to_driver")}
    if not ray.is_initialized():
        ray.init(address=address, **keep)
    return True


def shutdown():
    # The zygote stays: it holds no trial and no resource, and the next
    # tune.init / tune.run would only start it again.
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


def _machine(num_cpus=None, num_gpus=None):
    """This machine's CPUs (those this process may use) and visible GPUs,
    unless given."""
    if num_cpus is None:
        try:
            num_cpus = len(os.sched_getaffinity(0))
        except AttributeError:
            num_cpus = os.cpu_count() or 1
    if num_gpus is None:
        num_gpus = len(visible_gpus())
    return {"CPU": num_cpus, "GPU": num_gpus}


def _describe(res):
    return "{} CPUs, {} GPUs".format(res.get("CPU", 0), res.get("GPU", 0))


def _this_node_resources(ray):
    """The Ray resources of the node this driver runs on, or None when Ray
    cannot tell (a Ray Client driver, an API this Ray lacks)."""
    try:
        context = ray.get_runtime_context()
        node_id = context.get_node_id() if hasattr(context, "get_node_id") else \
            context.node_id.hex()
        for node in ray.nodes():
            if node.get("NodeID") == node_id and node.get("Alive", True):
                return dict(node.get("Resources") or {})
    except Exception:   # noqa: BLE001 - any failure means "unknown"
        return None
    return None


def _ray_capacity():
    """The capacity a ray.init session lends, or None without one. Only the
    driver's own node counts: the other nodes of a cluster are never used."""
    ray = sys.modules.get("ray")
    if ray is None or not getattr(ray, "is_initialized", lambda: False)():
        return None
    cluster = dict(ray.cluster_resources())
    res = _this_node_resources(ray)
    if res is None:
        res = _machine()
        warnings.warn("Ray is connected to a cluster ({}) but tunec cannot find this "
                      "machine's node in it and does not use the cluster, so "
                      "trials run locally on this machine, with its capacity ({})".format(
                          _describe(cluster), _describe(res)), ClusterWarning, stacklevel=3)
    elif any(cluster.get(k, 0) > res.get(k, 0) for k in ("CPU", "GPU")):
        warnings.warn("Ray is connected to a cluster ({}); tunec's Ray executor is off "
                      "here, so trials run locally on this machine, with this node's "
                      "capacity ({})".format(_describe(cluster), _describe(res)),
                      ClusterWarning, stacklevel=3)
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
    machine = _machine(settings.get("num_cpus"), settings.get("num_gpus"))
    cpus, gpus = machine["CPU"], machine["GPU"]
    names = gpu_names[:gpus] if len(gpu_names) >= gpus else \
        gpu_names + [str(i) for i in range(len(gpu_names), gpus)]
    return {"num_cpus": cpus, "num_gpus": gpus, "gpu_names": names,
            "resources": settings.get("resources") or {},
            "local_mode": settings.get("local_mode", False)}
