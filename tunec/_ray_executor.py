"""Trials on a Ray cluster (docs/ray-cluster.md): the launcher the engine's
executor calls to start a worker, and the relays that carry its bytes.

The engine keeps every decision. For each worker it makes a socketpair,
keeps one end as the worker's fd (src/ext/executor_remote.c) and calls
``RayLauncher(fd, request_json)`` with the other. The launcher starts a Ray
actor (tunec/_ray_actor.py) with the trial's resources -- CPUs, GPUs
(fractions too), custom resources, and a placement group for ``extra_*``
amounts or a ``PlacementGroupFactory`` -- and a relay of two threads:

- in:  driver socket -> ``actor.push(bytes)``, one call at a time, so the
  commands keep their order; everything read at once goes in one call;
- out: ``actor.pull()`` (waits for the worker's bytes, returns all there
  are) -> driver socket.

The relay ends the actor when the engine closes its socket (a worker
stopped, killed or shut down), and closes the socket when the actor dies (a
node lost, an actor killed): the engine reads that as a lost worker, so the
trial errs and ``max_failures`` retries it from its last checkpoint, on
whatever node Ray places the new actor.

When is it used: ``tune.init(address=...)``, or a ``ray.init`` session whose
cluster has a node besides the driver's; ``TUNEC_RAY_EXECUTOR=1`` forces it
for any ``ray.init`` session and ``=0`` turns it off.
"""
import json
import os
import sys
import threading

from tunec import _lazylog

logger = _lazylog.getLogger("tunec.ray")

_NOT_RESOURCES = ("memory", "object_store_memory")


def cluster():
    """The ray module when trials should run on its cluster, else None."""
    switch = os.environ.get("TUNEC_RAY_EXECUTOR", "")
    if switch == "0":
        return None
    ray = sys.modules.get("ray")
    if ray is None or not getattr(ray, "is_initialized", lambda: False)():
        return None
    if not hasattr(ray, "remote") or not hasattr(ray, "kill"):
        return None     # not a Ray that runs actors
    try:
        if ray._private.worker.global_worker.mode == ray.LOCAL_MODE:
            return None
    except AttributeError:
        pass
    from tunec import _capacity
    if _capacity._settings.get("ray_address"):
        return ray
    if _capacity._settings:
        return None     # tune.init without an address: this machine
    if switch == "1":
        return ray
    try:
        here = ray.get_runtime_context().get_node_id()
        others = [n for n in ray.nodes() if n.get("Alive") and n.get("NodeID") != here]
    except Exception:   # noqa: BLE001 - a Ray this old or odd: stay local
        return None
    return ray if others else None


def capacity(ray):
    """The engine's capacity: the whole cluster's resources."""
    total = dict(ray.cluster_resources())
    cpus = total.pop("CPU", 0)
    gpus = int(total.pop("GPU", 0))
    custom = {k: v for k, v in total.items()
              if k not in _NOT_RESOURCES and not k.startswith("node:")
              and not k.startswith("accelerator_type:")}
    return {"num_cpus": cpus, "num_gpus": gpus, "gpu_names": [], "resources": custom,
            "local_mode": False}


def _number(x):
    return int(x) if float(x).is_integer() else float(x)


def placement(request, factories):
    """(bundles, strategy) for a request that needs a placement group, else
    None. factories maps a request's JSON (the engine's form) to the user's
    PlacementGroupFactory, whose bundles then count as given."""
    key = json.dumps(request, sort_keys=True)
    if key in factories:
        pgf = factories[key]
        return [dict(b) for b in pgf.bundles], pgf.strategy
    extra_cpu, extra_gpu = request.get("extra_cpu", 0), request.get("extra_gpu", 0)
    if not extra_cpu and not extra_gpu:
        return None
    head = {"CPU": _number(request.get("cpu", 0)), "GPU": _number(request.get("gpu", 0))}
    head.update(request.get("custom_resources") or {})
    extra = {"CPU": _number(extra_cpu), "GPU": _number(extra_gpu)}
    return [head, extra], "PACK"


def factory_table(experiments):
    """{engine request JSON: PlacementGroupFactory} for the experiments'
    requests that are factories (tunec/_with_resources.py flattens them into
    a head and extra_* amounts; Ray reserves their bundles as given)."""
    from tunec._with_resources import to_resources_dict
    table = {}
    for exp in experiments:
        trainable = exp.trainable
        found = [exp.spec.get("resources_per_trial"), getattr(trainable, "_resources", None)]
        if isinstance(trainable, type) and hasattr(trainable, "default_resource_request"):
            try:
                found.append(trainable.default_resource_request(exp.spec["config"]))
            except Exception:   # noqa: BLE001 - _run reports it
                pass
        for request in found:
            if hasattr(request, "bundles") and hasattr(request, "strategy"):
                shape = _engine_shape(to_resources_dict(request))
                table[json.dumps(shape, sort_keys=True)] = request
    return table


def _engine_shape(req):
    """A resources dict as the engine writes it back (resources.c's
    tc_resources_to_json), so it can key factory_table."""
    custom = dict(req.get("custom_resources") or {})
    for k, v in (req.get("extra_custom_resources") or {}).items():
        custom[k] = custom.get(k, 0) + v
    return {"cpu": _number(req.get("cpu", 0)), "gpu": _number(req.get("gpu", 0)),
            "memory": 0, "object_store_memory": 0,
            "extra_cpu": _number(req.get("extra_cpu", 0)),
            "extra_gpu": _number(req.get("extra_gpu", 0)),
            "extra_memory": 0, "extra_object_store_memory": 0,
            "custom_resources": {k: _number(v) for k, v in custom.items()},
            "extra_custom_resources": {}}


class RayLauncher:
    """The engine's ``launcher`` callback for one tune.run."""

    def __init__(self, ray, worker_env, factories=None):
        from tunec._ray_actor import WorkerActor
        self._ray = ray
        self._actor_class = ray.remote(WorkerActor)
        self._env = dict(e.split("=", 1) for e in worker_env)
        self._cwd = os.getcwd()
        self._factories = factories or {}
        self._relays = []
        self._lock = threading.Lock()

    def __call__(self, fd, request_text):
        import socket
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, fileno=fd)
        try:
            actor, group = self._start_actor(json.loads(request_text))
        except BaseException:
            sock.close()
            raise
        relay = _Relay(self._ray, sock, actor, group)
        with self._lock:
            self._relays = [r for r in self._relays if r.alive()] + [relay]
        relay.start()

    def _start_actor(self, request):
        ray = self._ray
        options = {"num_cpus": request.get("cpu", 0), "num_gpus": request.get("gpu", 0),
                   "max_concurrency": 4, "max_restarts": 0}
        custom = request.get("custom_resources") or {}
        if custom:
            options["resources"] = dict(custom)
        group = None
        pg = placement(request, self._factories)
        if pg is not None:
            from ray.util.placement_group import placement_group
            from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy
            bundles, strategy = pg
            bundle_index = 0
            if not any(bundles[0].values()):
                # An empty head bundle: the trainable takes nothing of the
                # group (Ray Tune runs it beside, with no resources).
                bundles, bundle_index = bundles[1:], -1
            bundles = [{k: v for k, v in b.items() if v} for b in bundles]
            group = placement_group(bundles, strategy=strategy)
            head = bundles[0] if bundle_index == 0 else {}
            options.update(num_cpus=head.get("CPU", 0), num_gpus=head.get("GPU", 0))
            rest = {k: v for k, v in head.items() if k not in ("CPU", "GPU")}
            if rest:
                options["resources"] = rest
            else:
                options.pop("resources", None)
            options["scheduling_strategy"] = PlacementGroupSchedulingStrategy(
                group, placement_group_bundle_index=bundle_index,
                placement_group_capture_child_tasks=True)
        actor = self._actor_class.options(**options).remote(self._env, self._cwd)
        return actor, group

    def close(self, wait_s=10.0):
        """After the engine closed every worker's socket: waits for the
        relays to end their actors, then kills what is left."""
        with self._lock:
            relays, self._relays = self._relays, []
        for relay in relays:
            relay.join(wait_s)
        for relay in relays:
            relay.kill()


class _Relay:
    """Moves one worker's bytes between the driver's socket and its actor."""

    def __init__(self, ray, sock, actor, group):
        self._ray = ray
        self._sock = sock
        self._actor = actor
        self._group = group
        self._ended = threading.Lock()
        self._done = False
        self._threads = [threading.Thread(target=self._commands, daemon=True,
                                          name="tunec-ray-in"),
                         threading.Thread(target=self._results, daemon=True,
                                          name="tunec-ray-out")]

    def start(self):
        for t in self._threads:
            t.start()

    def alive(self):
        return any(t.is_alive() for t in self._threads)

    def join(self, wait_s):
        for t in self._threads:
            t.join(wait_s)

    def _commands(self):
        """Driver -> actor, until the engine closes the socket."""
        ray = self._ray
        try:
            while True:
                data = self._sock.recv(1 << 20)
                if not data:
                    break
                if not ray.get(self._actor.push.remote(data)):
                    break
        except Exception as exc:   # noqa: BLE001 - the actor is gone
            logger.debug("relay in: %r", exc)
        self._close_socket()
        self.kill(finish=True)

    def _results(self):
        """Actor -> driver, until the worker exits or the actor dies."""
        ray = self._ray
        try:
            while True:
                data = ray.get(self._actor.pull.remote())
                if data is None:
                    break
                if data:
                    self._sock.sendall(data)
        except Exception as exc:   # noqa: BLE001 - a lost node, a killed actor
            logger.debug("relay out: %r", exc)
        self._close_socket()

    def _close_socket(self):
        # Both directions: the engine reads the end of its worker, and the
        # other thread's recv returns.
        import socket
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def kill(self, finish=False):
        """Ends the actor (once): lets the worker exit first when asked,
        then ray.kill, then its placement group."""
        with self._ended:
            if self._done:
                return
            self._done = True
        ray = self._ray
        if finish:
            try:
                ray.get(self._actor.finish.remote(), timeout=10)
            except Exception:   # noqa: BLE001 - dead already
                pass
        try:
            ray.kill(self._actor)
        except Exception:   # noqa: BLE001
            pass
        if self._group is not None:
            try:
                from ray.util.placement_group import remove_placement_group
                remove_placement_group(self._group)
            except Exception:   # noqa: BLE001
                pass
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(10)
        try:
            self._sock.close()
        except OSError:
            pass
