"""Argument checks shared by the built-in schedulers (spec §8.2-§8.5).

Ray checked its scheduler arguments with bare ``assert`` statements (gone
under ``python -O``) whose messages rarely named the argument; tunec checks
them in the constructor, before any trial starts, and every message starts
with the argument's name. The checked values are normalised to plain Python
``int``/``float`` (numpy scalars included) so that ``_tunec_spec()`` is JSON.

Error classes, chosen so that code written against either Ray's exception or
the natural Python one keeps working:

* a value of the wrong type raises :class:`SchedulerArgumentTypeError`, both a
  ``TypeError`` and a ``ValueError``;
* a value out of range raises ``ValueError``;
* an argument tunec accepts but cannot honour (a 1.x/2.x option with a
  non-default value) raises ``NotImplementedError``.
"""
import math
import numbers
import operator


class SchedulerArgumentTypeError(TypeError, ValueError):
    """A scheduler argument has the wrong type. Both a ``TypeError`` (what
    Python raises for a wrong type) and a ``ValueError`` (what the rest of
    the argument checks raise)."""


def check_number(name, value):
    """A finite real number (numpy scalars too; bool is not a number).
    Returns it as ``int`` (integral types) or ``float``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SchedulerArgumentTypeError(
            "{}: must be a number, got {!r}".format(name, value))
    if isinstance(value, numbers.Integral):
        return int(value)
    value = float(value)
    if not math.isfinite(value):
        raise ValueError("{}: must be finite, got {!r}".format(name, value))
    return value


def check_int(name, value):
    """An integer (numpy integers too; bool and float refused), as ``int``."""
    if isinstance(value, bool):
        raise SchedulerArgumentTypeError("{}: must be an int, got {!r}".format(name, value))
    try:
        return operator.index(value)
    except TypeError:
        raise SchedulerArgumentTypeError(
            "{}: must be an int, got {!r}".format(name, value)) from None


def check_bool(name, value):
    if not isinstance(value, bool):
        raise SchedulerArgumentTypeError("{}: must be a bool, got {!r}".format(name, value))
    return value


def check_time_attr(value):
    """``time_attr`` names a result field: a non-empty str."""
    if not isinstance(value, str):
        raise SchedulerArgumentTypeError(
            "time_attr: must be a str naming a result field, got {!r}".format(value))
    if not value:
        raise ValueError("time_attr: must name a result field, got ''")
    return value


def require_default(name, value, default, why):
    """A later Ray's argument that tunec accepts only at its default."""
    if value is not default and value != default:
        raise NotImplementedError(
            "{}: only {!r} is supported by tunec, got {!r} ({})".format(name, default, value, why))
