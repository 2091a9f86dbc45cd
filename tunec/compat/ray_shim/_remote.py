"""``@ray.remote`` of tunec's stand-in for Ray: tasks and actor methods run
at once, in the calling process, as in Ray's local mode; their result (or
exception) waits in the ObjectRef for ``ray.get``."""
import functools

from tunec.compat.ray_shim._objects import ObjectRef

_named_actors = {}


def _call(fn, args, kwargs):
    try:
        return ObjectRef(fn(*args, **kwargs))
    except Exception as exc:   # noqa: BLE001 - Ray raises it at ray.get
        return ObjectRef(error=exc)


def _resolved(args, kwargs):
    """Ray passes the values of top-level ObjectRef arguments."""
    args = [a._resolve() if isinstance(a, ObjectRef) else a for a in args]
    kwargs = {k: v._resolve() if isinstance(v, ObjectRef) else v for k, v in kwargs.items()}
    return args, kwargs


class RemoteFunction:
    def __init__(self, function, options):
        self._function = function
        self._options = dict(options)
        functools.update_wrapper(self, function)

    def remote(self, *args, **kwargs):
        args, kwargs = _resolved(args, kwargs)
        return _call(self._function, args, kwargs)

    def options(self, **options):
        return RemoteFunction(self._function, dict(self._options, **options))

    def __call__(self, *args, **kwargs):
        raise TypeError("Remote functions cannot be called directly. Instead of running "
                        "'{0}()', try '{0}.remote()'.".format(self._function.__name__))


class ActorMethod:
    def __init__(self, method):
        self._method = method

    def remote(self, *args, **kwargs):
        args, kwargs = _resolved(args, kwargs)
        return _call(self._method, args, kwargs)

    def options(self, **options):
        return self


class ActorHandle:
    def __init__(self, instance):
        self._instance = instance

    def __getattr__(self, name):
        method = getattr(self._instance, name)
        if not callable(method):
            raise AttributeError("actor has no method {!r}".format(name))
        return ActorMethod(method)


class ActorClass:
    def __init__(self, cls, options):
        self._cls = cls
        self._options = dict(options)

    def remote(self, *args, **kwargs):
        args, kwargs = _resolved(args, kwargs)
        handle = ActorHandle(self._cls(*args, **kwargs))
        name = self._options.get("name")
        if name is not None:
            _named_actors[name] = handle
        return handle

    def options(self, **options):
        return ActorClass(self._cls, dict(self._options, **options))

    def __call__(self, *args, **kwargs):
        raise TypeError("Actors cannot be instantiated directly. Instead of '{0}()', use "
                        "'{0}.remote()'.".format(self._cls.__name__))


def remote(*args, **options):
    """``@ray.remote`` and ``@ray.remote(num_cpus=..., ...)``."""
    if len(args) == 1 and not options and callable(args[0]):
        return _make(args[0], {})
    if args:
        raise TypeError("The @ray.remote decorator must be applied either with no arguments "
                        "and no parentheses, or with keyword arguments only")
    return lambda target: _make(target, options)


def _make(target, options):
    if isinstance(target, type):
        return ActorClass(target, options)
    return RemoteFunction(target, options)


def method(**options):
    """``@ray.method(num_returns=...)``: nothing to change locally."""
    return lambda fn: fn


def get_actor(name, namespace=None):
    try:
        return _named_actors[name]
    except KeyError:
        raise ValueError("Failed to look up actor with name {!r}".format(name)) from None


def kill(actor, *, no_restart=True):
    if not isinstance(actor, ActorHandle):
        raise ValueError("ray.kill() only supported for actors, got {!r}".format(actor))
    for name, handle in list(_named_actors.items()):
        if handle is actor:
            del _named_actors[name]
