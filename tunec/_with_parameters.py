"""``tune.with_parameters(trainable, **kwargs)``: large objects handed to every
trial without being pickled into each trial's start message.

Ray puts the objects in its object store once. tunec stores them once in a
directory of files: a NumPy array as an ``.npy`` file that each worker maps
read-only (``np.load(mmap_mode="r")``), so every worker shares the same pages
of memory, as Ray's zero-copy arrays do (and, as in Ray, the array a trial
gets is read-only); any other object as one cloudpickle file, loaded once per
worker process. The directory is written the first time the wrapped
trainable is pickled for the workers, under /dev/shm where it exists (memory,
not disk), and removed when the driver exits; a driver that was killed
leaves it behind, and the next driver that stores parameters removes it.

When the trials run on a Ray cluster (docs/ray-cluster.md), the objects go
into Ray's object store instead, as in Ray: the driver puts each once
(``ray.put``), and each trial's actor ``ray.get``s it for its worker
(tunec/_ray_objects.py).

What the workers receive is the wrapper: the user's trainable plus the
directory's path (or the objects' refs), a few hundred bytes however large
the objects are.
"""
import atexit
import inspect
import os
import shutil
import sys
import tempfile
import uuid

_PREFIX = "tunec-params-"
_loaded = {}          # worker side: {store dir: {name: value}}


def _store_root():
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK):
        return shm
    return tempfile.gettempdir()


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(root):
    """Stores of drivers that are gone (killed before their atexit ran)."""
    for name in os.listdir(root):
        if not name.startswith(_PREFIX):
            continue
        pid = name[len(_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def _is_plain_array(value):
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.ndarray) and not value.dtype.hasobject


class _SharedParameters:
    """The keyword arguments of one ``with_parameters`` call.

    In the driver it holds the objects themselves; pickled, it is only the
    path of its store and the file of each name."""

    def __init__(self, kwargs):
        self._values = dict(kwargs)
        self._dir = None
        self._files = None
        self._refs = None       # on a Ray cluster: [ObjectRef], kept while the wrapper lives
        self._tokens = None     # {name: the ref's token} (tunec/_ray_objects.py)

    def _store(self):
        if self._dir is not None:
            return
        import cloudpickle
        root = _store_root()
        _remove_stale(root)
        directory = os.path.join(root, "{}{}-{}".format(_PREFIX, os.getpid(), uuid.uuid4().hex[:8]))
        os.makedirs(directory)
        atexit.register(shutil.rmtree, directory, True)
        files = {}
        for index, (name, value) in enumerate(self._values.items()):
            if _is_plain_array(value):
                import numpy
                files[name] = "{}.npy".format(index)
                numpy.save(os.path.join(directory, files[name]), value, allow_pickle=False)
            else:
                files[name] = "{}.pkl".format(index)
                with open(os.path.join(directory, files[name]), "wb") as f:
                    cloudpickle.dump(value, f)
        self._dir, self._files = directory, files

    def _put(self, ray):
        """Ray's object store, once: for trials on a Ray cluster."""
        if self._tokens is not None:
            return
        from tunec import _ray_objects
        refs, tokens = [], {}
        for name, value in self._values.items():
            ref, tokens[name] = _ray_objects.put(ray, value)
            refs.append(ref)
        self._refs, self._tokens = refs, tokens

    def __getstate__(self):
        from tunec import _ray_executor
        ray = _ray_executor.cluster()
        if ray is not None:
            self._put(ray)
            return {"tokens": self._tokens}
        self._store()
        return {"dir": self._dir, "files": self._files}

    def __setstate__(self, state):
        self._values = None
        self._refs = None
        self._tokens = state.get("tokens")
        self._dir, self._files = state.get("dir"), state.get("files")

    def load(self):
        """{name: value}: the driver's own objects (local mode), else the
        stored ones, read once per process."""
        if self._values is not None:
            return self._values
        if self._tokens is not None:
            from tunec import _ray_objects
            return {name: _ray_objects.get(token) for name, token in self._tokens.items()}
        values = _loaded.get(self._dir)
        if values is None:
            values = {}
            for name, filename in self._files.items():
                path = os.path.join(self._dir, filename)
                if filename.endswith(".npy"):
                    import numpy
                    values[name] = numpy.load(path, mmap_mode="r", allow_pickle=False)
                else:
                    import pickle
                    with open(path, "rb") as f:
                        values[name] = pickle.load(f)
            _loaded[self._dir] = values
        return values


def with_parameters(trainable, **kwargs):
    """The trainable, called with ``kwargs`` besides its config: a function
    as ``trainable(config, **kwargs)``, a Trainable class's
    ``setup(config, **kwargs)``. The objects are stored once for all trials."""
    from tunec.trainable import Trainable
    if not (isinstance(trainable, type) and issubclass(trainable, Trainable)) and (
            isinstance(trainable, type) or not callable(trainable)):
        raise ValueError("`tune.with_parameters() only works with function trainables or "
                         "classes that inherit from `tune.Trainable()`. Got type: {}.".format(
                             type(trainable)))
    shared = _SharedParameters(kwargs)
    if isinstance(trainable, type):
        wrapped = _class_with_parameters(trainable, shared)
    else:
        wrapped = _function_with_parameters(trainable, shared)
    if hasattr(trainable, "_resources"):       # with_resources applied first
        wrapped._resources = trainable._resources
    # Where the objects went (files, or Ray's object store): for the tests.
    wrapped._tunec_parameters = shared
    return wrapped


def _class_with_parameters(cls, shared):
    from tunec.trainable import Trainable
    new_api = getattr(cls, "setup", None) is not Trainable.setup

    class _Inner(cls):
        def setup(self, config):
            if new_api:
                cls.setup(self, config, **shared.load())
            else:
                cls._setup(self, config, **shared.load())

    _Inner.__name__ = cls.__name__
    return _Inner


def _function_with_parameters(func, shared):
    """A function of the call form tune.run will pick for `func` (it looks at
    the parameter names), passing the stored objects on."""
    names = list(inspect.signature(func).parameters)
    style = next((n for n in ("checkpoint_dir", "checkpoint", "reporter") if n in names[1:]), None)

    def call(config, extra):
        kwargs = shared.load()
        if style is not None:
            kwargs = dict(kwargs, **{style: extra})
        return func(config, **kwargs)

    if style is None and inspect.isgeneratorfunction(func):
        def inner(config):
            yield from call(config, None)
    elif style is None:
        def inner(config):
            return call(config, None)
    elif style == "checkpoint_dir":
        def inner(config, checkpoint_dir=None):
            return call(config, checkpoint_dir)
    elif style == "checkpoint":
        def inner(config, checkpoint=None):
            return call(config, checkpoint)
    else:
        def inner(config, reporter):
            return call(config, reporter)
    inner.__name__ = getattr(func, "__name__", "DEFAULT")
    return inner
