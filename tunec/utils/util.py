"""Ray Tune's ``utils/util.py`` helpers (0.8 and 1.x signatures).

The dict helpers are Ray's. ``pin_in_object_store`` puts the object in
Ray's object store when trials run on a Ray cluster (tunec/_ray_objects.py:
put once by the driver, fetched by each trial's actor); otherwise there is no
object store to use, and the object is pickled once into a file that worker
processes on this machine read back (once each). Either way trials get the
same object Ray would hand them, without pickling it into every trial's
config.
"""
import atexit
import base64
import copy
import inspect
import logging
import os
import shutil
import subprocess
import tempfile
import time

logger = logging.getLogger("ray.tune.utils.util")

PINNED_OBJECT_PREFIX = "ray.tune.PinnedObject:"
_pinned = {}            # pinned id -> object (this process)
_pin_dir = None         # where pinned objects are written for the workers
_pinned_refs = []       # the ObjectRefs of objects put in Ray's store (kept for the driver's life)
_RAY_TAG = b"ray:"      # a pinned id's payload: _RAY_TAG + the ref's token, or a file's path


# --------------------------------------------------------------------------
# dicts
# --------------------------------------------------------------------------

def flatten_dict(dt, delimiter="/", prevent_delimiter=False):
    """A copy of `dt` with nested dicts flattened into "a/b" keys."""
    dt = copy.deepcopy(dt)
    if prevent_delimiter and any(delimiter in key for key in dt):
        raise ValueError("Found delimiter `{}` in key when trying to flatten array. Please "
                         "avoid using the delimiter in your specification.".format(delimiter))
    while any(isinstance(v, dict) for v in dt.values()):
        remove = []
        add = {}
        for key, value in dt.items():
            if isinstance(value, dict):
                for subkey, v in value.items():
                    if prevent_delimiter and delimiter in subkey:
                        raise ValueError(
                            "Found delimiter `{}` in key when trying to flatten array. Please "
                            "avoid using the delimiter in your specification.".format(delimiter))
                    add[delimiter.join([key, str(subkey)])] = v
                remove.append(key)
        dt.update(add)
        for k in remove:
            del dt[k]
    return dt


def unflatten_dict(dt, delimiter="/"):
    """The inverse of flatten_dict: "a/b" keys become nested dicts."""
    dict_type = type(dt)
    out = dict_type()
    for key, val in dt.items():
        path = key.split(delimiter)
        item = out
        for k in path[:-1]:
            item = item.setdefault(k, dict_type())
        item[path[-1]] = val
    return out


def merge_dicts(d1, d2):
    """A deep copy of `d1` deep-updated with `d2` (new keys allowed)."""
    merged = copy.deepcopy(d1)
    deep_update(merged, d2, True, [])
    return merged


def deep_update(original, new_dict, new_keys_allowed=False, allow_new_subkey_list=None,
                override_all_if_type_changes=None):
    """Updates `original` in place with `new_dict`, recursing into dicts.
    A key `original` lacks is an error unless `new_keys_allowed` (or, one
    level down, the key is in `allow_new_subkey_list`)."""
    allow_new_subkey_list = allow_new_subkey_list or []
    override_all_if_type_changes = override_all_if_type_changes or []
    for k, value in new_dict.items():
        if k not in original and not new_keys_allowed:
            raise Exception("Unknown config parameter `{}` ".format(k))
        if isinstance(original.get(k), dict) and isinstance(value, dict):
            if (k in override_all_if_type_changes and "type" in value
                    and "type" in original[k] and value["type"] != original[k]["type"]):
                original[k] = value
            elif k in allow_new_subkey_list:
                deep_update(original[k], value, True)
            else:
                deep_update(original[k], value, new_keys_allowed)
        else:
            original[k] = value
    return original


# --------------------------------------------------------------------------
# pinned objects
# --------------------------------------------------------------------------

def _dumps(obj):
    try:
        import cloudpickle
        return cloudpickle.dumps(obj)
    except ImportError:
        import pickle
        return pickle.dumps(obj)


def _pin_directory():
    global _pin_dir
    if _pin_dir is None:
        _pin_dir = tempfile.mkdtemp(prefix="tunec-pinned-")
        owner = os.getpid()
        # Only the process that made the directory removes it (a forked
        # worker inherits the handler).
        atexit.register(lambda: os.getpid() == owner and shutil.rmtree(_pin_dir, True))
    return _pin_dir


def pin_in_object_store(obj):
    """Pins `obj` for the trials of this driver; returns Ray's id string
    ("ray.tune.PinnedObject:<base64>") for get_pinned_object. On a Ray
    cluster the object goes into Ray's object store (``ray.put``, kept while
    the driver lives), else into a file of this machine."""
    from tunec import _ray_executor
    ray = _ray_executor.cluster()
    if ray is not None:
        from tunec import _ray_objects
        ref, token = _ray_objects.put(ray, obj)
        _pinned_refs.append(ref)
        payload = _RAY_TAG + token
    else:
        fd, path = tempfile.mkstemp(suffix=".pkl", dir=_pin_directory())
        with os.fdopen(fd, "wb") as f:
            f.write(_dumps(obj))
        payload = path.encode("utf-8")
    pinned_id = PINNED_OBJECT_PREFIX + base64.b64encode(payload).decode("ascii")
    _pinned[pinned_id] = obj
    return pinned_id


def get_pinned_object(pinned_id):
    """The object pin_in_object_store pinned (read once per process)."""
    if not isinstance(pinned_id, str) or not pinned_id.startswith(PINNED_OBJECT_PREFIX):
        raise ValueError("get_pinned_object: {!r} is not a pinned object id".format(pinned_id))
    if pinned_id not in _pinned:
        payload = base64.b64decode(pinned_id[len(PINNED_OBJECT_PREFIX):])
        if payload.startswith(_RAY_TAG):
            from tunec import _ray_objects
            _pinned[pinned_id] = _ray_objects.get(payload[len(_RAY_TAG):])
        else:
            import pickle
            with open(payload.decode("utf-8"), "rb") as f:
                _pinned[pinned_id] = pickle.load(f)
    return _pinned[pinned_id]


# --------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------

class warn_if_slow:
    """``with warn_if_slow("name"):`` warns when the block takes over
    `threshold` seconds, once the process is past its first minute."""

    DEFAULT_THRESHOLD = float(os.environ.get("TUNE_WARN_THRESHOLD_S", 0.5))
    _start = time.time()

    def __init__(self, name, threshold=None, message=None, disable=False):
        self.name = name
        self.threshold = threshold or self.DEFAULT_THRESHOLD
        self.message = message or ("The `{name}` operation took {duration:.3f} s, which may "
                                   "be a performance bottleneck.")
        self.too_slow = False
        self.disable = disable

    def __enter__(self):
        self.start = time.time()
        return self

    def __exit__(self, type, value, traceback):
        now = time.time()
        if self.disable:
            return
        if now - self.start > self.threshold and now - self._start > 60.0:
            self.too_slow = True
            logger.warning(self.message.format(name=self.name, duration=now - self.start))


def validate_save_restore(trainable_cls, config=None, num_gpus=0, use_object_store=False):
    """Checks that `trainable_cls` saves and restores: trains 3 iterations,
    saves, restores into a new instance and checks that training goes on at
    iteration 4, then 5 (Ray runs the two instances as actors; here they run
    in this process). Returns True."""
    if num_gpus:
        raise NotImplementedError("validate_save_restore(num_gpus=...) is not supported by "
                                  "tunec: the instances run in this process")
    config = config or {}
    logdir = tempfile.mkdtemp(prefix="tunec-validate-")
    try:
        trainable_1 = trainable_cls(config=config, logger_creator=None)
        trainable_2 = trainable_cls(config=config, logger_creator=None)
        for _ in range(3):
            res = trainable_1.train()
        assert res.get("training_iteration") == 3, "train() did not count iterations"
        ckpt_dir = os.path.join(logdir, "save")
        if use_object_store:
            restored = trainable_2.restore_from_object(trainable_1.save_to_object())
        else:
            restored = trainable_2.restore(trainable_1.save(ckpt_dir))
        del restored
        res = trainable_2.train()
        assert res["training_iteration"] == 4
        res = trainable_2.train()
        assert res["training_iteration"] == 5
        trainable_1.stop()
        trainable_2.stop()
    finally:
        shutil.rmtree(logdir, ignore_errors=True)
    return True


def diagnose_serialization(trainable):
    """Whether `trainable` can be sent to worker processes; if not, which of
    the globals and nonlocals it uses cannot (Ray 1.x). Returns True, or the
    set of failing names."""
    print("Trying to serialize {}...".format(trainable))
    try:
        _dumps(trainable)
        print("Serialization succeeded!")
        return True
    except Exception as e:   # noqa: BLE001 - any pickling failure is the answer
        print("Serialization failed: {}".format(e))
    print("Inspecting the scope of the trainable by running "
          "`inspect.getclosurevars(str(trainable))`...")
    closure = inspect.getclosurevars(trainable)
    failure_set = set()

    def check_variables(objects):
        for var, obj in objects.items():
            msg = None
            try:
                _dumps(obj)
                status = "PASSED"
            except Exception as e:   # noqa: BLE001
                msg = "{}: {}".format(e.__class__.__name__, e)
                status = "FAILED"
                failure_set.add(var)
            print("   {}[name='{}'']... {}".format(obj, var, status))
            if msg:
                print("   " + msg)

    for kind, objects in (("global", closure.globals), ("nonlocal", closure.nonlocals)):
        if objects:
            print("Detected {} {} variables. Checking serializability...".format(
                len(objects), kind))
            check_variables(objects)
    if not failure_set:
        print("Nothing was found to have failed the diagnostic test, though serialization "
              "did not succeed. Feel free to raise an issue on github.")
    else:
        print("Variable(s) {} was found to be non-serializable. Consider either removing the "
              "instantiation/imports of these objects or moving them into the scope of the "
              "trainable. ".format(failure_set))
    return failure_set


def _gpu_memory_util():
    """{index or uuid: memory utilisation in [0, 1]}, via GPUtil or nvidia-smi."""
    try:
        import GPUtil
        out = {}
        for gpu in GPUtil.getGPUs():
            out[str(gpu.id)] = out[gpu.uuid] = gpu.memoryUtil
        return out
    except ImportError:
        pass
    try:
        text = subprocess.run(
            ["nvidia-smi", "--query-gpu=index,uuid,memory.used,memory.total",
             "--format=csv,noheader,nounits"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        raise RuntimeError("GPUtil or nvidia-smi must be installed if calling "
                           "`wait_for_gpu`.") from None
    out = {}
    for line in text.strip().splitlines():
        index, uuid, used, total = [p.strip() for p in line.split(",")]
        out[index] = out[uuid] = float(used) / max(float(total), 1.0)
    return out


def wait_for_gpu(gpu_id=None, target_util=0.01, retry=20, delay_s=5, gpu_memory_limit=None):
    """Waits until GPU `gpu_id` (default: this trial's first) has memory
    utilisation below `target_util`; RuntimeError after `retry` checks."""
    if gpu_memory_limit is not None:
        target_util = gpu_memory_limit      # Ray 1.x's deprecated spelling
    if gpu_id is None:
        visible = [g for g in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if g]
        if not visible:
            raise RuntimeError("No GPU ids found from CUDA_VISIBLE_DEVICES. Did you set Tune "
                               "resources correctly?")
        gpu_id = visible[0]
    gpu_id = str(gpu_id)
    for _ in range(retry):
        util = _gpu_memory_util()
        if gpu_id not in util:
            raise ValueError("gpu_id ({}) not found in GPU list: {}".format(
                gpu_id, sorted(util)))
        if util[gpu_id] < target_util:
            return True
        logger.info("Waiting for GPU util to reach %s. Util: %.3f", target_util, util[gpu_id])
        time.sleep(delay_s)
    raise RuntimeError("GPU memory was not freed.")
