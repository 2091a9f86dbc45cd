"""JSON text of plain data without the json module (issue 12, start-up).

tune.run turns its options and search space into JSON text for the engine.
Importing json (re, enum, functools, collections) costs a busy CPU 3-12 ms
before the first trial can start, while the extension's encoder,
``_tunec.dumps``, writes what ``json.dumps(obj, ensure_ascii=False)`` writes
for plain data: str, int, float (NaN and the infinities as bare tokens),
bool, None, lists, tuples, and dicts with str keys. ``dumps`` uses it for
exactly those and answers None for anything else (NumPy numbers, other
objects, non-str keys, a str with a lone surrogate, nesting deeper than
json's own recursion would take), which callers then hand to json as before.
"""

_MAX_DEPTH = 200


def dumps(obj):
    """The JSON text of obj when it is plain data, else None."""
    if not _plain(obj, 0):
        return None
    from tunec import _tunec
    return _tunec.dumps(obj).decode("utf-8")


def _plain(obj, depth):
    t = type(obj)
    if t is str:
        return _text(obj)
    if t is int or t is float or t is bool or obj is None:
        return True
    if depth >= _MAX_DEPTH:
        return False
    if t is dict:
        return all(type(k) is str and _text(k) and _plain(v, depth + 1) for k, v in obj.items())
    if t is list or t is tuple:
        return all(_plain(v, depth + 1) for v in obj)
    return False


def _text(s):
    """No lone surrogate: json.dumps keeps it, _tunec.dumps writes U+FFFD."""
    if s.isascii():
        return True
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
