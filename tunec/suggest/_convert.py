"""What the search-library adapters (optuna, hyperopt, skopt, bayesopt, ...)
share: finding the typed domains in a tunec config, naming them by Ray's
flattened ``"a/b"`` path, refusing what no library searcher can take, and
the ImportError that names the pip package.

A searcher proposes whole configs, so it cannot take a ``grid_search`` (the
grid is the engine's variant generator), a ``sample_from`` (an arbitrary
function of the spec) or a domain inside a list: these raise a ValueError
naming the config path, before any trial starts. Each adapter turns the
domains it gets here into its library's distributions and raises the same
kind of error (:func:`unsupported`) for a domain its library cannot express.
"""
import importlib
import math
import numbers

from tunec.sample import Categorical, Domain, Float, Integer, sample_from  # noqa: F401 (adapters use cv.Float, ...)
from tunec.result import DEFAULT_METRIC  # noqa: F401  (re-exported for the adapters)


def import_library(module, cls, pip):
    """``module`` imported, or an ImportError saying which pip package
    ``cls`` needs."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError("{} needs {}: pip install {}".format(cls, module, pip)) from exc


def describe(path):
    """``config["a"]["b"]``: how errors name a place in the user's config."""
    return "config" + "".join("[{!r}]".format(p) for p in path)


def name(path):
    """Ray's flattened parameter name: ``a/b`` for ``config["a"]["b"]``."""
    return "/".join(str(p) for p in path)


def unsupported(cls, path, domain, why=""):
    """The ValueError an adapter raises for a domain its library cannot
    express, naming the config path."""
    return ValueError("{} cannot search {!r} at {}{}".format(cls, domain, describe(path),
                                                             ": " + why if why else ""))


def _is_grid(value):
    return isinstance(value, dict) and set(value) == {"grid_search"}


def _is_eval(value):
    return isinstance(value, dict) and set(value) == {"eval"}


def _has_domain(value):
    if isinstance(value, (Domain, sample_from)) or _is_grid(value) or _is_eval(value):
        return True
    if isinstance(value, dict):
        return any(_has_domain(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_domain(v) for v in value)
    return False


def is_tunec_space(space):
    """True when ``space`` is a tunec config with domains in it (rather than
    the library's own space object)."""
    return isinstance(space, dict) and _has_domain(space)


def split(config, cls):
    """``(domains, constants)`` of a tunec config: ``[(path, Domain)]`` in
    config order and ``{path: value}`` of the resolved values. Raises for
    what a searcher cannot propose, naming the path."""
    domains, constants = [], {}

    def walk(value, path):
        if _is_grid(value):
            raise ValueError(
                "{} cannot search the grid_search at {}: grid search is the variant "
                "generator's, not a searcher's. Use tune.choice({!r}) to let {} pick among "
                "the values, or run without search_alg".format(
                    cls, describe(path), value["grid_search"], cls))
        if isinstance(value, sample_from) or _is_eval(value):
            raise ValueError(
                "{} cannot search the sample_from at {}: its values come from a function the "
                "searcher cannot model. Use a typed domain (tune.uniform, tune.choice, ...)"
                .format(cls, describe(path)))
        if isinstance(value, Domain):
            if isinstance(value, Categorical) and any(_has_domain(c) for c in value.categories):
                raise unsupported(cls, path, value, "a category that is itself a search space")
            domains.append((path, value))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, path + (k,))
        elif isinstance(value, (list, tuple)) and _has_domain(value):
            where = path + (next(i for i, v in enumerate(value) if _has_domain(v)),)
            raise ValueError("{} cannot search a domain inside the list at {}: put it in a "
                             "dict".format(cls, describe(where)))
        elif callable(value) and not isinstance(value, type):
            raise ValueError(
                "{} cannot search the function at {}: its values come from code the searcher "
                "cannot model; use a typed domain (tune.uniform, tune.choice, ...)".format(
                    cls, describe(path)))
        elif path:
            constants[path] = value

    walk(config or {}, ())
    return domains, constants


def quantized_bounds(domain):
    """The smallest and the largest multiple of ``domain.q`` in the domain
    (both inclusive): the grid a quantized domain draws from."""
    q = domain.q
    if isinstance(domain, Integer):
        return -(-domain.lower // q) * q, (domain.upper // q) * q
    lo = math.ceil(domain.lower / q - 1e-9) * q
    hi = math.floor(domain.upper / q + 1e-9) * q
    return max(lo, domain.lower), min(hi, domain.upper)


def int_upper(domain):
    """The largest value an Integer domain gives: randint/lograndint exclude
    their upper bound, the quantized forms include it."""
    return domain.upper if domain.q is not None else domain.upper - 1


def apply_q(domain, value):
    """``value`` rounded to the domain's q within its bounds (for libraries
    that cannot express quantization), and an int for an Integer domain."""
    value = to_python(value)
    if isinstance(domain, (Float, Integer)) and domain.q is not None:
        lo, hi = quantized_bounds(domain)
        value = min(max(round(value / domain.q) * domain.q, lo), hi)
    if isinstance(domain, Integer):
        return int(round(value))
    if isinstance(domain, Float):
        return float(value)
    return value


def to_python(value):
    """numpy scalars (which libraries return) as Python numbers and strings."""
    item = getattr(value, "item", None)
    if item is not None and not isinstance(value, (list, dict)) and callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            return value
    return value


def unflatten(flat):
    """``{"a/b": 1}`` -> ``{"a": {"b": 1}}``."""
    out = {}
    for key, value in flat.items():
        parts = key.split("/") if isinstance(key, str) else [key]
        node = out
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


def flatten(nested, prefix=""):
    """``{"a": {"b": 1}}`` -> ``{"a/b": 1}`` (points_to_evaluate given as
    nested dicts, matched against flattened names)."""
    out = {}
    for key, value in nested.items():
        full = prefix + str(key)
        if isinstance(value, dict) and value:
            out.update(flatten(value, full + "/"))
        else:
            out[full] = value
    return out


def metric_value(cls, result, metric):
    """The float a library is told for ``result`` (None: NaN or inf, not
    told). A missing metric is the user's error and fails the run."""
    if metric not in result:
        raise RuntimeError(
            "{} expected the metric `{}` in the trial's last result, but it was not found "
            "(keys: {}). Report it from the trainable (tune.report({}=...)) or pass the right "
            "metric to tune.run.".format(cls, metric, sorted(result), metric))
    value = result[metric]
    if not isinstance(value, numbers.Number) or isinstance(value, bool):
        raise RuntimeError("{}: the metric `{}` must be a number, got {!r}".format(
            cls, metric, value))
    value = float(value)
    return value if math.isfinite(value) else None


def check_points(cls, names, points, rewards=None):
    """points_to_evaluate (flattened) must name every searched parameter;
    evaluated_rewards must match them one to one."""
    if points is None:
        return []
    if not isinstance(points, (list, tuple)) or not all(isinstance(p, dict) for p in points):
        raise TypeError("{}(points_to_evaluate=...) must be a list of dicts, got {!r}".format(
            cls, points))
    flat = [flatten(p) for p in points]
    if names is not None:
        for i, p in enumerate(flat):
            missing = [n for n in names if n not in p]
            if missing:
                raise ValueError("{}: points_to_evaluate[{}] has no value for {}".format(
                    cls, i, ", ".join(missing)))
    if rewards is not None and len(rewards) != len(flat):
        raise ValueError("{}: evaluated_rewards has {} values for {} points_to_evaluate".format(
            cls, len(rewards), len(flat)))
    return flat


# The names the nevergrad, zoopt and bohb adapters use.
DELIMITER = "/"
flat_key = name
plain = to_python


def parse_space(config, cls):
    """``config``'s searched domains, ``[(path, Domain)]`` (see :func:`split`)."""
    return split(config, cls)[0]


def metric_op(mode):
    """The factor that makes a result a loss for a minimising library."""
    return -1.0 if mode == "max" else 1.0


def is_log(domain):
    return getattr(domain, "sampler", None) == "loguniform"
