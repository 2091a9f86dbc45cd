"""``ray.put`` / ``ray.get`` / ``ray.wait`` of tunec's stand-in for Ray.

Everything runs in this process, as in Ray's local mode: an ObjectRef holds
its value (or the exception its task raised) and is ready when made. A ref
sent to a trial's worker carries its value with it (it pickles by value), so
``ray.get`` works there too.
"""
import itertools

_ids = itertools.count(1)


class ObjectRef:
    __slots__ = ("_id", "_value", "_error")

    def __init__(self, value=None, error=None):
        self._id = next(_ids)
        self._value = value
        self._error = error

    def __getstate__(self):
        return self._id, self._value, self._error

    def __setstate__(self, state):
        self._id, self._value, self._error = state

    def hex(self):
        return "{:040x}".format(self._id)

    def __repr__(self):
        return "ObjectRef({})".format(self.hex())

    def _resolve(self):
        if self._error is not None:
            raise self._error
        return self._value


def put(value):
    if isinstance(value, ObjectRef):
        raise TypeError("Calling 'put' on an ray.ObjectRef is not allowed (similarly, returning "
                        "an ray.ObjectRef from a remote function is not allowed)")
    return ObjectRef(value)


def get(object_refs, *, timeout=None):
    if isinstance(object_refs, ObjectRef):
        return object_refs._resolve()
    if isinstance(object_refs, (list, tuple)) and all(
            isinstance(ref, ObjectRef) for ref in object_refs):
        return [ref._resolve() for ref in object_refs]
    raise ValueError("'object_refs' must either be an ObjectRef or a list of ObjectRefs, got "
                     "{!r}".format(object_refs))


def wait(object_refs, *, num_returns=1, timeout=None, fetch_local=True):
    """Every ref is ready when made: the first num_returns come back ready."""
    refs = list(object_refs)
    if not all(isinstance(ref, ObjectRef) for ref in refs):
        raise TypeError("wait() expected a list of ray.ObjectRef, got {!r}".format(object_refs))
    if not 0 < num_returns <= len(refs):
        raise ValueError("Invalid number of objects to return {}: wait() got {} refs".format(
            num_returns, len(refs)))
    return refs[:num_returns], refs[num_returns:]
