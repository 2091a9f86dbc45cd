"""``tune.with_resources(trainable, resources)``: what each trial of a
trainable asks for, attached to the trainable itself (Ray 2.x).

``resources`` is a dict (``{"cpu": 2, "gpu": 1}``; Ray's ``"CPU"``/``"GPU"``
spellings and custom resource names too), a ``PlacementGroupFactory``, a
``Resources``, or a callable of the config giving one of those. tune.run
reads a fixed request (``resource_request``) as it reads
``Trainable.default_resource_request``; a callable is asked by the engine
for every trial it adds (``engine_callback``), so trials of one experiment
may reserve different amounts. A ``resources_per_trial`` given as well is
an error, as in Ray.
"""
from tunec.error import TuneError

__all__ = ["with_resources", "resource_request", "to_resources_dict", "per_trial_request",
           "engine_callback"]

_BASIC = {"cpu": "cpu", "gpu": "gpu", "memory": "memory",
          "object_store_memory": "object_store_memory"}
_RESOURCE_FIELDS = ("cpu", "gpu", "memory", "object_store_memory", "extra_cpu", "extra_gpu",
                    "extra_memory", "extra_object_store_memory", "custom_resources",
                    "extra_custom_resources")


def _bundle_to(out, bundle, prefix):
    """Adds one Ray bundle ({"CPU": 1, "GPU": 0, "custom": 2}) to `out`."""
    custom_key = prefix + "custom_resources"
    for key, amount in bundle.items():
        basic = _BASIC.get(str(key).lower())
        if basic is not None:
            out[prefix + basic] = out.get(prefix + basic, 0) + amount
        else:
            custom = out.setdefault(custom_key, {})
            custom[key] = custom.get(key, 0) + amount


def to_resources_dict(request, where="with_resources"):
    """The engine's request dict (``Resources`` fields) for a dict,
    PlacementGroupFactory or Resources."""
    if hasattr(request, "_asdict"):
        return dict(request._asdict())
    bundles = getattr(request, "bundles", None)
    if bundles is not None and not isinstance(request, dict):
        out = {"cpu": 0, "gpu": 0}
        _bundle_to(out, bundles[0], "")
        for bundle in bundles[1:]:
            _bundle_to(out, bundle, "extra_")
        return out
    if not isinstance(request, dict):
        raise TuneError("{}: resources must be a dict, a PlacementGroupFactory or a callable "
                        "of the config returning one, got {!r}".format(where, request))
    if any(key in ("custom_resources", "extra_custom_resources") or key.startswith("extra_")
           for key in request):
        return dict(request)          # already tunec's / Ray 0.8's Resources form
    out = {}
    _bundle_to(out, request, "")
    out.setdefault("cpu", 1 if "gpu" not in out else 0)
    return out


def per_trial_request(trainable):
    """The trainable's with_resources callable of the config, or None when
    its request (if any) is one amount for every trial."""
    request = getattr(trainable, "_resources", None)
    if callable(request) and not hasattr(request, "bundles"):
        return request
    return None


def resource_request(trainable, config):
    """The trainable's with_resources request as the engine's dict, or None
    when it has none. A callable is called with `config`: a trial's config
    (the engine asks for every new trial, see `engine_callback`)."""
    request = getattr(trainable, "_resources", None)
    if request is None:
        return None
    if per_trial_request(trainable) is not None:
        request = request(config)
    return to_resources_dict(request)


def engine_callback(trainables, objects):
    """The engine's ``trial_resources(experiment, config)`` callback when some
    experiment's trainable (``trainables``, one per experiment) has a
    callable request, else None. It runs on the driver, once per new trial
    (resumed trials too: the callable is a function of the config), with
    the trial's config as the trainable will see it; None answers "the
    experiment's request"."""
    from tunec.sample import decode_value
    callables = {index: request for index, request in
                 enumerate(per_trial_request(t) for t in trainables) if request is not None}
    if not callables:
        return None

    def trial_resources(experiment, config):
        request = callables.get(experiment)
        if request is None:
            return None
        return to_resources_dict(request(decode_value(config, objects)))
    return trial_resources


def with_resources(trainable, resources):
    """The trainable with ``resources`` as each trial's request."""
    if not callable(resources):
        to_resources_dict(resources)       # a bad request fails here, not at run time
    if isinstance(trainable, str):
        from tunec.registry import get_trainable
        trainable = get_trainable(trainable)
    if isinstance(trainable, type):
        request = resources

        class _WithResources(trainable):
            @classmethod
            def default_resource_request(cls, config):
                return resource_request(cls, config)

        _WithResources._resources = request
        _WithResources.__name__ = trainable.__name__
        return _WithResources
    if not callable(trainable):
        raise TuneError("with_resources: {!r} is not a trainable".format(trainable))
    # As Ray does: the request is attached to the function itself.
    trainable._resources = resources
    return trainable
