"""What the library adapters share: walking a tunec config for its typed
domains, and turning a library's flat ``{"a/b": value}`` answer back into
a nested config.

Ray's adapters name a parameter by its config path joined with "/" (Ray's
``flatten_dict`` delimiter); tunec does the same, so a space written for a
Ray adapter with "a/b" keys means the same here.
"""
from tunec.sample import Categorical, Domain, Float, Integer, Normal, sample_from

DELIMITER = "/"


def _render(path):
    return "config" + "".join("[{!r}]".format(p) for p in path)


def unsupported(searcher, path, domain, why=""):
    """The ValueError an adapter raises for a domain its library cannot
    express, naming the config path."""
    return ValueError("{} cannot express {} = {!r}{}".format(
        searcher, _render(path), domain, ": " + why if why else ""))


def parse_space(config, searcher):
    """``config``'s domains as ``[(path, Domain)]`` in insertion order, and
    whether there were any. A grid_search, a sample_from (or a plain
    function) or a domain inside a list cannot be handed to a model-based
    library: that raises ValueError naming the path, before any trial."""
    domains = []

    def walk(value, path, in_list):
        if isinstance(value, dict):
            if set(value) == {"grid_search"}:
                raise ValueError(
                    "{}: grid_search at {} cannot be converted to a {} search space; use "
                    "a categorical domain (tune.choice) instead".format(
                        searcher, _render(path), searcher))
            for k, v in value.items():
                walk(v, path + (k,), in_list)
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(v, path + (i,), True)
        elif isinstance(value, Domain):
            if in_list:
                raise ValueError("{}: {} is a search domain inside a list; {} only searches "
                                 "domains in (nested) dicts".format(searcher, _render(path),
                                                                    searcher))
            domains.append((path, value))
        elif isinstance(value, sample_from) or callable(value) and not isinstance(value, type):
            raise ValueError(
                "{}: {} is a sample_from/function; {} cannot model it. Use a typed "
                "domain (tune.uniform, tune.choice, ...)".format(searcher, _render(path),
                                                                 searcher))

    walk(config or {}, (), False)
    return domains


def flat_key(path):
    return DELIMITER.join(str(p) for p in path)


def unflatten(flat):
    """``{"a/b": 1, "c": 2}`` → ``{"a": {"b": 1}, "c": 2}``."""
    out = {}
    for key, value in flat.items():
        parts = key.split(DELIMITER)
        node = out
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


def flatten(config, prefix=""):
    """The inverse of :func:`unflatten` for a (points_to_evaluate) dict."""
    out = {}
    for key, value in config.items():
        name = prefix + str(key)
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + DELIMITER))
        else:
            out[name] = value
    return out


def plain(value):
    """A numpy scalar a library hands back as the Python value it stands
    for (numpy types leak into configs and JSON otherwise)."""
    item = getattr(value, "item", None)
    if item is not None and type(value).__module__ == "numpy":
        return item()
    return value


def metric_op(mode):
    """The factor that makes a result a loss for a minimising library."""
    return -1.0 if mode == "max" else 1.0


def is_log(domain):
    return getattr(domain, "sampler", None) == "loguniform"


__all__ = ["parse_space", "unsupported", "flat_key", "unflatten", "flatten", "plain",
           "metric_op", "is_log", "Float", "Integer", "Categorical", "Normal"]
