"""Search-space primitives (spec §5.1, §16, §18.37) and the bridge to the
engine's variant generator (src/engine/space.c).

Two spellings are accepted under the same names:

* Ray 0.8's numpy-argument helpers: ``uniform(low, high)``, ``uniform()``,
  ``choice([..])``, ``choice(n)`` (= ``range(n)``), ``randint(5)`` (= [0, 5)),
  ``randn()``, ``randn(d0)``/``randn(d0, d1, d2, ...)`` (nested lists of that
  shape), ``loguniform(min_bound, max_bound, base=10)``;
* Ray 1.x's typed forms: ``uniform(lower, upper)``, ``quniform``,
  ``loguniform``, ``qloguniform``, ``randint(lower, upper)``, ``qrandint``,
  ``lograndint``, ``qlograndint``, ``randn(mean=0.0, sd=1.0)``, ``qrandn``,
  ``choice(categories)``.

Every helper returns a :class:`Domain`. The engine samples it in C from one
seeded stream; ``Domain.sample()`` draws with Python's ``random`` for
standalone use. Samples are Python types (1.x), not numpy types (0.8).

``randn`` disambiguation (0.8 took a shape, 1.x takes mean and sd):
``randn()`` is one standard normal; keyword ``mean``/``sd`` or two positional
arguments, or any float argument, mean 1.x's ``randn(mean, sd)`` (Ray 1.x's
docs write ``tune.randn(10, 2)``); one integer, or three or more integers,
or ``shape=``, mean 0.8's shape form (``randn(3)`` gives a list of 3 draws,
§17.13).

The engine's marker tree: :func:`encode_space` turns a user config into JSON
text ``{"config": ...}`` whose unresolved nodes are ``{"grid_search": [...]}``,
``{"$tunec": "domain", ...}`` and ``{"$tunec": "fn", "id": N}`` (sample_from
and ``{"eval": expr}``), and whose non-JSON constants (classes, functions,
custom objects, numpy arrays, subclasses of str/int/float) are opaque
``{"$tunec": "obj", "id": N, "repr": ...}`` markers that
:func:`decode_value` swaps back for the original objects, untouched.
``"$tunec"`` is therefore a reserved key in configs.

``import tunec.sample`` imports neither numpy nor the extension.
"""
import math
import operator
import os

from tunec import _lazylog
from tunec.error import RecursiveDependencyError, TuneError

logger = _lazylog.getLogger("ray.tune.sample")

__all__ = [
    "Domain", "Float", "Integer", "Categorical", "Normal", "sample_from", "function",
    "grid_search", "uniform", "quniform", "loguniform", "qloguniform", "randint", "qrandint",
    "lograndint", "qlograndint", "randn", "qrandn", "choice", "encode_space", "decode_value",
    "make_resolver", "generate_variants",
]

_MARK = "$tunec"


# --------------------------------------------------------------------------
# argument checking
# --------------------------------------------------------------------------

def _number(fn, name, value):
    """A finite real number argument (numpy numbers too, bool refused)."""
    if isinstance(value, bool) or isinstance(value, (str, bytes)):
        raise ValueError("{}: {} must be a number, got {!r}".format(fn, name, value))
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError("{}: {} must be a number, got {!r}".format(fn, name, value)) from None
    if not math.isfinite(x):
        raise ValueError("{}: {} must be finite, got {!r}".format(fn, name, value))
    return value if type(value) in (int, float) else x


def _integer(fn, name, value):
    """An integer argument: int, numpy integer, or an integral float."""
    if isinstance(value, bool):
        raise ValueError("{}: {} must be an integer, got {!r}".format(fn, name, value))
    try:
        return operator.index(value)
    except TypeError:
        pass
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError("{}: {} must be an integer, got {!r}".format(fn, name, value))


def _snap(x, up):
    """ceil (up) or floor of x, except that a value within a relative 1e-9 of
    an integer is that integer (0.3 / 0.1 counts as 3). Same rule as the
    engine's snap() in domain.c."""
    r = round(x)
    if abs(x - r) <= 1e-9 * abs(x):
        return float(r)
    return float(math.ceil(x) if up else math.floor(x))


def _describe(kind, *args, **kwargs):
    parts = [repr(a) for a in args]
    parts += ["{}={!r}".format(k, v) for k, v in kwargs.items() if v is not None]
    return "tune.{}({})".format(kind, ", ".join(parts))


# --------------------------------------------------------------------------
# Domain objects
# --------------------------------------------------------------------------

class Domain:
    """A typed search-space value (Ray 1.x ``ray.tune.sample.Domain``).

    ``_to_spec()`` gives the engine's marker dict; ``sample()`` draws with
    Python's ``random`` (``size > 1`` gives a list)."""

    kind = None

    def _to_spec(self, encode=None):
        raise NotImplementedError

    def _draw(self, rng):
        raise NotImplementedError

    def sample(self, spec=None, size=1):
        import random   # not at import: workers decode configs, they do not draw
        if size == 1:
            return self._draw(random)
        return [self._draw(random) for _ in range(size)]

    @property
    def func(self):
        """``func(spec)`` draws one value. In 0.8 the helpers (uniform,
        loguniform, randint, choice, randn) returned ``sample_from`` objects,
        and 0.8 code calls their ``.func(spec)`` (often inside its own
        sample_from); a typed domain answers the same call."""
        return self._sample_for_spec

    def _sample_for_spec(self, spec=None):
        return self.sample(spec)

    def __repr__(self):
        return _describe(self.kind)


class Float(Domain):
    """A float range with a sampler: uniform (default), loguniform, normal,
    optionally quantized."""

    def __init__(self, lower, upper):
        self.lower = lower
        self.upper = upper
        self.sampler = "uniform"
        self.q = None
        self.base = 10

    # Ray 1.x's builder methods; each returns a checked copy.
    def uniform(self):
        new = _copy(self)
        new.sampler = "uniform"
        return new._check()

    def loguniform(self, base=10):
        new = _copy(self)
        new.sampler, new.base = "loguniform", base
        return new._check()

    def quantized(self, q):
        new = _copy(self)
        new.q = q
        return new._check()

    @property
    def kind(self):
        return ("q" if self.q is not None else "") + self.sampler

    def _check(self):
        fn = self.kind
        self.lower = _number(fn, "lower", self.lower)
        self.upper = _number(fn, "upper", self.upper)
        if self.sampler == "loguniform":
            if not self.lower > 0:
                raise ValueError("{}: lower bound must be > 0, got {!r}".format(fn, self.lower))
            self.base = _number(fn, "base", self.base)
            if not self.base > 0 or self.base == 1:
                raise ValueError("{}: base must be > 0 and != 1, got {!r}".format(fn, self.base))
        if not self.lower < self.upper:
            raise ValueError("{}: lower bound must be < upper bound, got lower={!r}, upper={!r}"
                             .format(fn, self.lower, self.upper))
        if self.q is not None:
            self.q = _number(fn, "q", self.q)
            if not self.q > 0:
                raise ValueError("{}: q must be > 0, got {!r}".format(fn, self.q))
            if _snap(self.lower / self.q, True) > _snap(self.upper / self.q, False):
                raise ValueError("{}: no multiple of q={!r} in [{!r}, {!r}]"
                                 .format(fn, self.q, self.lower, self.upper))
        return self

    def _to_spec(self, encode=None):
        spec = {_MARK: "domain", "kind": self.kind, "lower": self.lower, "upper": self.upper}
        if self.q is not None:
            spec["q"] = self.q
        if self.sampler == "loguniform":
            spec["base"] = self.base
        return spec

    def _draw(self, rng):
        lo, hi, q = float(self.lower), float(self.upper), self.q
        if q is not None:
            a, c = _snap(lo / q, True) * q, _snap(hi / q, False) * q
            x = self._continuous(rng, a, c) if a < c else a
            return min(max(round(x / q) * q, lo), hi)
        return self._continuous(rng, lo, hi)

    def _continuous(self, rng, lo, hi):
        if self.sampler == "loguniform":
            lb = math.log(self.base)
            x = self.base ** rng.uniform(math.log(lo) / lb, math.log(hi) / lb)
        else:
            x = lo + (hi - lo) * rng.random()
        if x >= hi:   # [lo, hi): rounding may land on hi
            x = math.nextafter(hi, lo) if hasattr(math, "nextafter") else lo
        return max(x, lo)

    def __repr__(self):
        base = self.base if self.sampler == "loguniform" and self.base != 10 else None
        args = (self.lower, self.upper) + ((self.q,) if self.q is not None else ())
        return _describe(self.kind, *args, base=base)


class Integer(Domain):
    """An integer range: uniform (randint, upper exclusive) or loguniform
    (lograndint); quantized forms include the upper bound."""

    def __init__(self, lower, upper):
        self.lower = lower
        self.upper = upper
        self.sampler = "uniform"
        self.q = None
        self.base = 10

    def uniform(self):
        new = _copy(self)
        new.sampler = "uniform"
        return new._check()

    def loguniform(self, base=10):
        new = _copy(self)
        new.sampler, new.base = "loguniform", base
        return new._check()

    def quantized(self, q):
        new = _copy(self)
        new.q = q
        return new._check()

    @property
    def kind(self):
        name = "randint" if self.sampler == "uniform" else "lograndint"
        return ("q" if self.q is not None else "") + name

    def _check(self):
        fn = self.kind
        self.lower = _integer(fn, "lower", self.lower)
        self.upper = _integer(fn, "upper", self.upper)
        if self.sampler == "loguniform":
            if not self.lower > 0:
                raise ValueError("{}: lower bound must be > 0, got {!r}".format(fn, self.lower))
            self.base = _number(fn, "base", self.base)
            if not self.base > 0 or self.base == 1:
                raise ValueError("{}: base must be > 0 and != 1, got {!r}".format(fn, self.base))
        if not self.lower < self.upper:
            raise ValueError("{}: lower bound must be < upper bound, got lower={!r}, upper={!r}"
                             .format(fn, self.lower, self.upper))
        if self.q is not None:
            self.q = _integer(fn, "q", self.q)
            if not self.q > 0:
                raise ValueError("{}: q must be > 0, got {!r}".format(fn, self.q))
            if -(-self.lower // self.q) > self.upper // self.q:
                raise ValueError("{}: no multiple of q={!r} in [{!r}, {!r}]"
                                 .format(fn, self.q, self.lower, self.upper))
        return self

    def _to_spec(self, encode=None):
        spec = {_MARK: "domain", "kind": self.kind, "lower": self.lower, "upper": self.upper}
        if self.q is not None:
            spec["q"] = self.q
        if self.sampler == "loguniform":
            spec["base"] = self.base
        return spec

    def _log(self, rng, lo, hi):
        lb = math.log(self.base)
        x = self.base ** rng.uniform(math.log(lo) / lb, math.log(hi) / lb)
        return math.floor(min(max(x, lo), hi))

    def _draw(self, rng):
        lo, hi, q = self.lower, self.upper, self.q
        if self.sampler == "uniform":
            if q is None:
                return rng.randrange(lo, hi)
            return rng.randint(-(-lo // q), hi // q) * q
        if q is None:
            return min(max(self._log(rng, lo, hi), lo), hi - 1)
        a, c = -(-lo // q) * q, (hi // q) * q
        x = self._log(rng, a, c) if a < c else a
        return int(min(max(round(x / q) * q, a), c))

    def __repr__(self):
        base = self.base if self.sampler == "loguniform" and self.base != 10 else None
        args = (self.lower, self.upper) + ((self.q,) if self.q is not None else ())
        return _describe(self.kind, *args, base=base)


class Normal(Domain):
    """mean + sd * N(0, 1), optionally rounded to a multiple of q; with a
    shape (0.8's randn(d0, d1, ...)), nested lists of such draws."""

    def __init__(self, mean=0.0, sd=1.0, q=None, shape=None):
        fn = "qrandn" if q is not None else "randn"
        self.mean = _number(fn, "mean", mean)
        self.sd = _number(fn, "sd", sd)
        if not self.sd > 0:
            raise ValueError("{}: sd must be > 0, got {!r}".format(fn, sd))
        self.q = None if q is None else _number(fn, "q", q)
        if self.q is not None and not self.q > 0:
            raise ValueError("{}: q must be > 0, got {!r}".format(fn, q))
        self.shape = None
        if shape is not None:
            dims = [_integer(fn, "shape", d) for d in shape]
            if any(d < 0 for d in dims):
                raise ValueError("{}: negative dimensions are not allowed, got {!r}"
                                 .format(fn, tuple(shape)))
            self.shape = dims

    @property
    def kind(self):
        return "randn"

    def _to_spec(self, encode=None):
        spec = {_MARK: "domain", "kind": "randn", "mean": self.mean, "sd": self.sd}
        if self.q is not None:
            spec["q"] = self.q
        if self.shape is not None:
            spec["shape"] = list(self.shape)
        return spec

    def _one(self, rng):
        x = self.mean + self.sd * rng.gauss(0.0, 1.0)
        return round(x / self.q) * self.q if self.q is not None else x

    def _draw(self, rng):
        def build(dims):
            if not dims:
                return self._one(rng)
            return [build(dims[1:]) for _ in range(dims[0])]
        return build(self.shape or [])

    def __repr__(self):
        if self.shape is not None:
            return _describe("randn", *self.shape)
        if self.q is not None:
            return _describe("qrandn", self.mean, self.sd, self.q)
        return _describe("randn", self.mean, self.sd)


class Categorical(Domain):
    """One of ``categories``, uniformly. A category may itself be a grid,
    a Domain or a sample_from: it is resolved after being chosen."""

    kind = "choice"

    def __init__(self, categories):
        if isinstance(categories, (str, bytes, dict)):
            raise ValueError("choice: categories must be a list, got {!r}".format(categories))
        try:
            self.categories = list(categories)
        except TypeError:
            raise ValueError("choice: categories must be a list, got {!r}"
                             .format(categories)) from None
        if not self.categories:
            raise ValueError("choice: categories must not be empty")

    def uniform(self):
        return self

    def _to_spec(self, encode=None):
        cats = self.categories if encode is None else [
            encode(c, i) for i, c in enumerate(self.categories)]
        return {_MARK: "domain", "kind": "choice", "categories": cats}

    def _draw(self, rng):
        return rng.choice(self.categories)

    def __len__(self):
        return len(self.categories)

    def __getitem__(self, i):
        return self.categories[i]

    def __repr__(self):
        return _describe("choice", self.categories)


def _make(cls, lower, upper, sampler, q=None, base=10):
    """A checked Float/Integer, set up at once so that errors name the
    function the user called (qlograndint, not lograndint)."""
    dom = cls(lower, upper)
    dom.sampler, dom.q, dom.base = sampler, q, base
    return dom._check()


# --------------------------------------------------------------------------
# 0.8 primitives
# --------------------------------------------------------------------------

class sample_from:
    """Specify that tune should sample configuration values from this
    function: ``func(spec)`` gets the partially resolved spec, with attribute
    access (``spec.config.alpha``), spec §5.3. A 1.x-style function taking
    the config (``lambda config: config["alpha"]``) or no argument works too."""

    def __init__(self, func):
        self.func = func

    def __str__(self):
        return "tune.sample_from({})".format(str(self.func))

    def __repr__(self):
        return "tune.sample_from({})".format(repr(self.func))


class _EvalExpr:
    """The function behind a ``{"eval": expr}`` value (spec §5.1)."""

    def __init__(self, expr):
        self.expr = expr

    def __call__(self, spec):
        import random
        import numpy as np
        return eval(self.expr, {"random": random, "np": np}, {"spec": spec})

    def __repr__(self):
        return "<eval {!r}>".format(self.expr)


def function(func):
    """0.8: a no-op kept for old code; bare callables in a config are already
    literals."""
    logger.warning("DeprecationWarning: wrapping {} with tune.function() is no "
                   "longer needed".format(func))
    return func


def grid_search(values):
    """Grid search over ``values`` (a list): the plain dict
    ``{"grid_search": values}``."""
    if not isinstance(values, list):
        raise TuneError("Grid search expected list of values, got: {}".format(values))
    return {"grid_search": values}


def _two_bounds(fn, args, kwargs, names08, default_low=None, default_high=None):
    """(lower, upper) from 1.x (lower=, upper=) or numpy (low=, high=) spellings."""
    args = list(args)
    lo_kw = [k for k in ("lower", names08[0]) if k in kwargs]
    hi_kw = [k for k in ("upper", names08[1]) if k in kwargs]
    if len(lo_kw) > 1 or len(hi_kw) > 1:
        raise TypeError("{}() got both {} for one bound".format(fn, " and ".join(lo_kw + hi_kw)))
    if len(args) > 2:
        raise TypeError("{}() takes at most 2 bounds, got {}".format(fn, len(args)))
    lower = kwargs.pop(lo_kw[0]) if lo_kw else (args.pop(0) if args else default_low)
    upper = kwargs.pop(hi_kw[0]) if hi_kw else (args.pop(0) if args else default_high)
    if args:
        raise TypeError("{}() got multiple values for a bound".format(fn))
    if kwargs:
        raise TypeError("{}() got an unexpected keyword argument {!r}".format(fn, next(iter(kwargs))))
    if lower is None or upper is None:
        raise TypeError("{}() needs a lower and an upper bound".format(fn))
    return lower, upper


def uniform(*args, **kwargs):
    """uniform(lower, upper) (1.x), uniform(low=0.0, high=1.0) (numpy);
    uniform() is [0, 1). Floats in [lower, upper)."""
    lower, upper = _two_bounds("uniform", args, dict(kwargs), ("low", "high"), 0.0, 1.0)
    return _make(Float, lower, upper, "uniform")


def quniform(lower, upper, q):
    """Uniform in [lower, upper] rounded to a multiple of q (a float)."""
    return _make(Float, lower, upper, "uniform", q)


def loguniform(*args, base=10, **kwargs):
    """loguniform(lower, upper, base=10): ``base ** U(log lower, log upper)``;
    0.8 spells the bounds min_bound, max_bound."""
    lower, upper = _two_bounds("loguniform", args, dict(kwargs), ("min_bound", "max_bound"))
    return _make(Float, lower, upper, "loguniform", None, base)


def qloguniform(lower, upper, q, base=10):
    """loguniform rounded to a multiple of q, within [lower, upper]."""
    return _make(Float, lower, upper, "loguniform", q, base)


def randint(*args, **kwargs):
    """randint(lower, upper) — an int in [lower, upper); randint(n) (numpy) is
    [0, n)."""
    kw = dict(kwargs)
    if len(args) == 1 and not any(k in kw for k in ("upper", "high")):
        args = (0, args[0])
    lower, upper = _two_bounds("randint", args, kw, ("low", "high"))
    return _make(Integer, lower, upper, "uniform")


def qrandint(lower, upper, q=1):
    """A multiple of q in [lower, upper] — the upper bound included."""
    return _make(Integer, lower, upper, "uniform", q)


def lograndint(lower, upper, base=10):
    """floor of loguniform(lower, upper): an int in [lower, upper)."""
    return _make(Integer, lower, upper, "loguniform", None, base)


def qlograndint(lower, upper, q, base=10):
    """A log-uniform int rounded to a multiple of q, in [lower, upper]."""
    return _make(Integer, lower, upper, "loguniform", q, base)


def _is_int(value):
    if isinstance(value, bool):
        return False
    try:
        operator.index(value)
        return True
    except TypeError:
        return False


def randn(*args, mean=None, sd=None, shape=None):
    """A normal draw: randn(mean=0.0, sd=1.0) (1.x) or randn(d0, d1, ...)
    (0.8's numpy shape form, nested lists). See the module docstring for how
    the two are told apart."""
    if shape is not None or (args and mean is None and sd is None and len(args) != 2
                             and all(_is_int(a) for a in args)):
        if shape is not None and args:
            raise TypeError("randn() takes either dimensions or shape=, not both")
        return Normal(0.0 if mean is None else mean, 1.0 if sd is None else sd,
                      shape=args if shape is None else shape)
    if len(args) > 2:
        raise TypeError("randn() takes mean and sd, got {} positional arguments"
                        .format(len(args)))
    m = args[0] if len(args) > 0 else None
    s = args[1] if len(args) > 1 else None
    if mean is not None:
        if m is not None:
            raise TypeError("randn() got multiple values for argument 'mean'")
        m = mean
    if sd is not None:
        if s is not None:
            raise TypeError("randn() got multiple values for argument 'sd'")
        s = sd
    return Normal(0.0 if m is None else m, 1.0 if s is None else s)


def qrandn(mean, sd, q):
    """A normal draw rounded to a multiple of q."""
    return Normal(mean, sd, q=q)


def choice(*args, **kwargs):
    """choice(categories) — one of the list's values; choice(n) (numpy) is
    one of range(n). numpy's size= and p= are not supported."""
    for k in kwargs:
        if k not in ("categories", "a"):
            raise TypeError("choice() got an unsupported keyword argument {!r}".format(k))
    if len(args) + len(kwargs) != 1:
        raise TypeError("choice() takes exactly one argument (the categories)")
    cats = args[0] if args else next(iter(kwargs.values()))
    if not isinstance(cats, bool):
        try:
            n = operator.index(cats)
        except TypeError:
            pass
        else:
            if n <= 0:
                raise ValueError("choice: a must be > 0, got {}".format(n))
            return Categorical(range(n))
    return Categorical(cats)


# --------------------------------------------------------------------------
# encoding a config into the engine's marker tree
# --------------------------------------------------------------------------

_JSON_TYPES = (str, int, float, bool, type(None))


def _copy(obj):
    """copy.copy, importing copy (with weakref) only for the builder methods
    that use it, not on tune.run's way to its first trial."""
    import copy
    return copy.copy(obj)


def _render_path(path):
    """config["a"][0], as the engine writes paths."""
    out = []
    for i, p in enumerate(path):
        if isinstance(p, int):
            out.append("[{}]".format(p))
        elif i == 0:
            out.append(p)
        else:
            out.append('["{}"]'.format(p))
    return "".join(out)


class _Unresolved:
    """A still-unresolved value in a sample_from view: touching it raises
    RecursiveDependencyError. Encodes back to its marker."""

    __slots__ = ("marker", "text")

    def __init__(self, marker, text):
        self.marker = marker
        self.text = text

    def __repr__(self):
        return self.text


def _check(key, value):
    if isinstance(value, _Unresolved):
        raise RecursiveDependencyError("`{}` recursively depends on {}".format(key, value.text))
    return value


class _UnresolvedAccessGuard(dict):
    """The partially resolved spec as sample_from functions see it (§5.3 step
    4): a dict that also allows attribute access (``spec.config.alpha``),
    with nested dicts wrapped the same way. Reading a still-unresolved value,
    by attribute, item or get(), raises RecursiveDependencyError, which makes
    the engine retry the function in its next pass. As in Ray, a key shadows a
    dict method of the same name on attribute access."""

    def __getattribute__(self, item):
        if dict.__contains__(self, item):
            return _check(item, dict.__getitem__(self, item))
        return dict.__getattribute__(self, item)

    def __getitem__(self, key):
        return _check(key, dict.__getitem__(self, key))

    def get(self, key, default=None):
        if dict.__contains__(self, key):
            return self[key]
        return default


class _GuardedList(list):
    """A list inside the guarded view: reading an unresolved element raises."""

    def __getitem__(self, i):
        value = list.__getitem__(self, i)
        if isinstance(i, slice):
            for v in value:
                _check(i, v)
            return value
        return _check(i, value)

    def __iter__(self):
        for i, v in enumerate(list.__iter__(self)):
            yield _check(i, v)


class _Codec:
    """Encodes values into markers and back, sharing one id space between
    functions and objects. Used by encode_space and by the resolver, whose
    answers may bring new functions and objects."""

    def __init__(self, functions, objects, next_id):
        self.functions = functions
        self.objects = objects
        self.next_id = next_id
        self.memo = {}   # id(obj) -> marker id, for objects held in the tables

    def _new_id(self, obj):
        key = id(obj)
        if key in self.memo:
            return self.memo[key]
        while self.next_id in self.functions or self.next_id in self.objects:
            self.next_id += 1
        self.memo[key] = self.next_id
        self.next_id += 1
        return self.memo[key]

    def encode(self, value, path):
        t = type(value)
        if t in _JSON_TYPES:
            return value
        if isinstance(value, _Unresolved):
            return value.marker
        if isinstance(value, Domain):
            return value._to_spec(lambda v, i: self.encode(v, path + ["categories", i]))
        if isinstance(value, sample_from):
            fid = self._new_id(value)
            self.functions[fid] = value
            return {_MARK: "fn", "id": fid}
        # Dicts and lists are walked, subclasses included, as Ray walks them;
        # a plain tuple becomes a list. Other sequences (namedtuples...) stay
        # opaque and come back untouched.
        if isinstance(value, dict):
            return self._encode_dict(value, path)
        if isinstance(value, list) or t is tuple:
            items = list.__iter__(value) if isinstance(value, list) else iter(value)
            return [self.encode(v, path + [i]) for i, v in enumerate(items)]
        if t.__module__ == "numpy" and getattr(value, "shape", None) == ():
            item = value.item()
            if type(item) in _JSON_TYPES:
                return item
        return self._opaque(value)

    def _opaque(self, value):
        oid = self._new_id(value)
        self.objects[oid] = value
        try:
            text = repr(value)
        except Exception:   # noqa: BLE001 - a broken __repr__ must not stop the run
            text = "<{} object>".format(type(value).__name__)
        return {_MARK: "obj", "id": oid, "repr": text}

    def _encode_dict(self, value, path):
        items = list(dict.items(value))
        if len(items) == 1 and items[0][0] == "grid_search":
            values = items[0][1]
            if not isinstance(values, list):
                raise TuneError("{}: Grid search expected list of values, got: {}"
                                .format(_render_path(path), values))
            return {"grid_search": [self.encode(v, path + ["grid_search", i])
                                    for i, v in enumerate(list.__iter__(values))]}
        if len(items) == 1 and items[0][0] == "eval":
            return self.encode(sample_from(_EvalExpr(items[0][1])), path)
        out = {}
        for k, v in items:
            if k == _MARK:
                raise ValueError('{}: the key "{}" is reserved by tunec'.format(
                    _render_path(path), _MARK))
            if type(k) is not str:
                if isinstance(k, str):
                    k = str(k)
                else:
                    raise TypeError("{}: config keys must be str, got {!r} ({})".format(
                        _render_path(path), k, type(k).__name__))
            if "\x00" in k:   # the engine (jansson) cannot hold NUL in a key
                raise ValueError("{}: config keys may not contain NUL characters, got {!r}"
                                 .format(_render_path(path), k))
            out[k] = self.encode(v, path + [k])
        return out

    # ---- the view a sample_from function gets -------------------------
    def view(self, value):
        if isinstance(value, dict):
            kind = value.get(_MARK)
            if kind == "obj":
                return self.objects[value["id"]]
            if kind == "fn":
                return _Unresolved(value, str(self.functions[value["id"]]))
            if kind == "domain":
                return _Unresolved(value, _marker_text(value, self))
            if len(value) == 1 and "grid_search" in value:
                shown = {"grid_search": [self.view(v) for v in value["grid_search"]]}
                return _Unresolved(value, str(shown))
            return _UnresolvedAccessGuard((k, self.view(v)) for k, v in value.items())
        if isinstance(value, list):
            return _GuardedList(self.view(v) for v in value)
        return value


def _marker_text(marker, codec):
    """How a domain marker reads in a dependency message."""
    kind = marker.get("kind")
    if kind == "choice":
        return _describe("choice", [codec.view(c) for c in marker.get("categories", [])])
    if kind == "randn":
        return _describe("randn", marker.get("mean"), marker.get("sd"), q=marker.get("q"),
                         shape=marker.get("shape"))
    base = marker.get("base")
    return _describe(kind, marker.get("lower"), marker.get("upper"), q=marker.get("q"),
                     base=None if base == 10 else base)


def encode_space(config, id_offset=0):
    """Encodes a user config into the engine's search space.

    Returns ``(spec_json, functions, objects)``: the JSON text of
    ``{"config": <marker tree>}`` (NaN/Infinity as bare tokens), the fn nodes'
    ``{id: sample_from}`` and the opaque constants' ``{id: object}``; ids are
    unique across both tables and start at ``id_offset``."""
    _tree, text, functions, objects = _encode_space(config, id_offset)
    return text, functions, objects


def encode_space_tree(config, id_offset=0):
    """As encode_space, with the marker tree itself where encode_space has
    its text: what ``json.loads(spec_json)`` would give, for a caller that
    puts it into more JSON (tune.run's options)."""
    tree, _text, functions, objects = _encode_space(config, id_offset)
    return tree, functions, objects


def _encode_space(config, id_offset):
    from tunec import _plain_json
    functions, objects = {}, {}
    codec = _Codec(functions, objects, id_offset)
    tree = {"config": codec.encode(config if config is not None else {}, ["config"])}
    text = _plain_json.dumps(tree)
    if text is None:
        import json
        text = json.dumps(tree, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:   # a lone surrogate: no UTF-8, so no engine string
        raise ValueError("{}: strings must be valid Unicode (no lone surrogates)".format(
            _render_path(_bad_string_path(tree, []) or ["config"]))) from None
    return tree, text, functions, objects


def _bad_string_path(value, path):
    """Path of the first string (key or value) that cannot be UTF-8 encoded."""
    def bad(text):
        try:
            text.encode("utf-8")
            return False
        except UnicodeEncodeError:
            return True
    if isinstance(value, str):
        return path if bad(value) else None
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, list) else ()
    for k, v in items:
        if isinstance(k, str) and bad(k):
            return path
        found = _bad_string_path(v, path + [k])
        if found is not None:
            return found
    return None


def decode_value(value, objects):
    """``value`` with every ``{"$tunec": "obj"}`` marker replaced by the
    original object from ``objects`` (new containers; objects untouched)."""
    if isinstance(value, dict):
        if value.get(_MARK) == "obj" and "id" in value:
            return objects[value["id"]]
        return {k: decode_value(v, objects) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_value(v, objects) for v in value]
    return value


# --------------------------------------------------------------------------
# resolving fn nodes
# --------------------------------------------------------------------------

def _arity(func):
    """0 for a function that takes no argument, else 1."""
    import inspect
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return 1
    try:
        sig.bind(None)
        return 1
    except TypeError:
        pass
    try:
        sig.bind()
        return 0
    except TypeError:
        return 1


def _call(fn, spec_view):
    """Calls a sample_from's function the 0.8 way, func(spec); a 1.x function
    that takes the config (KeyError/AttributeError on the spec) is retried with
    the config, and one taking no argument is called without."""
    func = fn.func
    nargs = getattr(fn, "_tunec_arity", None)
    if nargs is None:
        nargs = _arity(func)
        try:
            fn._tunec_arity = nargs
        except AttributeError:
            pass
    if nargs == 0:
        return func()
    try:
        return func(spec_view)
    except (KeyError, AttributeError) as first:
        config = dict.get(spec_view, "config") if isinstance(spec_view, dict) else None
        if not isinstance(config, dict):
            raise
        try:
            return func(config)
        except (KeyError, AttributeError):
            raise first from None


class _Resolver:
    """resolver(id, path, spec) -> encoded value, the callback the engine
    calls for each fn node (src/ext/space_ext.c)."""

    def __init__(self, functions, objects):
        self.functions = functions
        self.objects = objects
        self.codec = _Codec(functions, objects, len(functions) + len(objects))

    def __call__(self, fn_id, path, spec):
        fn = self.functions[fn_id]
        view = self.codec.view(spec)
        try:
            value = _call(fn, view)
        except RecursiveDependencyError:
            raise
        except Exception as exc:
            raise ValueError("Failed to evaluate expression: {}: {}: {}".format(
                tuple(path), fn, exc)) from exc
        return self.codec.encode(value, list(path))


def make_resolver(functions, objects):
    """The resolver callable for ``_tunec.generate_variants`` and the runner.
    It adds the functions and objects that resolved values bring to the two
    tables given (shared with the caller)."""
    return _Resolver(functions, objects)


def generate_variants(config, num_samples=1, seed=None, start_index=0, limit=None):
    """Expands ``config`` like Ray's BasicVariantGenerator (spec §5.3–5.5):
    a list of ``(config, resolved_vars, evaluated_params, tag)``, configs with
    the original objects put back. ``seed=None`` draws a random seed;
    ``num_samples=-1`` is unbounded and needs ``limit``."""
    from tunec import _tunec
    spec_json, functions, objects = encode_space(config)
    if seed is None:
        seed = int.from_bytes(os.urandom(8), "little")
    resolver = make_resolver(functions, objects)
    out = []
    for cfg, rvars, params, tag in _tunec.generate_variants(
            spec_json, num_samples, seed, resolver, start_index,
            -1 if limit is None else limit):
        out.append((decode_value(cfg, objects),
                    {k: decode_value(v, objects) for k, v in rvars.items()},
                    decode_value(params, objects), tag))
    return out
