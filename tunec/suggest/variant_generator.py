"""``ray.tune.suggest.variant_generator``: the search-space expansion tune.run
uses, exposed with Ray's names.

``generate_variants`` runs the C engine's expansion (src/engine/space.c, via
``_tunec.generate_variants``) over a whole spec — grid order, sample
resolution, recursive dependencies and the resolved variables are the
engine's, the same as a tune.run of that spec gets. ``format_vars`` is the
engine's tag text; the other helpers are Ray's small dict functions.
"""
import json
import os

from tunec.error import RecursiveDependencyError
from tunec.sample import grid_search   # noqa: F401 - Ray's module exports it

__all__ = ["generate_variants", "grid_search", "resolve_nested_dict", "format_vars",
           "flatten_resolved_vars", "RecursiveDependencyError"]


def generate_variants(unresolved_spec, constant_grid_search=False, random_state=None):
    """Yields ``(resolved_vars, spec)`` for every variant of `unresolved_spec`
    (a dict; grid searches, ``sample_from`` functions, ``{"eval": ...}`` and
    tune.uniform-style domains anywhere in it): ``resolved_vars`` maps each
    grid or sampled path (a tuple) to its value, ``spec`` is the resolved
    copy. Grid values vary first-path-fastest, paths sorted, as in Ray.
    `random_state`: an int seed for the domains (default: random)."""
    from tunec import _tunec
    from tunec.sample import _Codec, decode_value, make_resolver
    if constant_grid_search:
        raise NotImplementedError("generate_variants(constant_grid_search=True) is not "
                                  "supported by tunec's engine")
    if not isinstance(unresolved_spec, dict):
        raise TypeError("generate_variants: expected a dict spec, got {!r}".format(
            type(unresolved_spec).__name__))
    if random_state is None:
        seed = int.from_bytes(os.urandom(8), "little")
    elif isinstance(random_state, int) and not isinstance(random_state, bool):
        seed = random_state
    else:
        raise NotImplementedError("generate_variants(random_state=...) takes an int seed in "
                                  "tunec, got {!r}".format(type(random_state).__name__))
    functions, objects = {}, {}
    tree = _Codec(functions, objects, 0).encode(unresolved_spec, [])
    resolver = make_resolver(functions, objects)
    variants = _tunec.generate_variants(json.dumps(tree), 1, seed, resolver, 0, -1,
                                        with_spec=True)
    for _config, rvars, _params, _tag, spec in variants:
        yield ({k: decode_value(v, objects) for k, v in rvars.items()},
               decode_value(spec, objects))


def resolve_nested_dict(nested_dict):
    """{("a", "b"): v} for {"a": {"b": v}}, for format_vars."""
    res = {}
    for k, v in nested_dict.items():
        if isinstance(v, dict):
            for k_, v_ in resolve_nested_dict(v).items():
                res[(k,) + k_] = v_
        else:
            res[(k,)] = v
    return res


def format_vars(resolved_vars):
    """"alpha=0.5,beta=2": the engine's experiment-tag text of a
    {path tuple: value} dict (paths sorted, run/env/resources_per_trial
    skipped, floats to 5 significant digits, "/" in values made "_")."""
    pairs = [[list(path), _tag_value(value)] for path, value in resolved_vars.items()]
    from tunec import _tunec
    return _tunec.format_vars(json.dumps(pairs))


def _tag_value(value):
    """A value as the engine's tag writer takes it: JSON scalars as they are,
    anything else as Ray writes it, str(value)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def flatten_resolved_vars(resolved_vars):
    """{"a/b": value} with a leading "config" dropped (evaluated_params)."""
    flattened = {}
    for pieces, value in resolved_vars.items():
        if pieces[0] == "config":
            pieces = pieces[1:]
        flattened["/".join(str(piece) for piece in pieces)] = value
    return flattened
