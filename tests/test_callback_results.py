"""The result dict an on_trial_result hook gets is decoded in C
(src/ext/result_decode.c) rather than by json.loads: it must be the very
value json.loads gives for the line the engine logged, type for type and bit
for bit (ints of 19 digits, floats to the last bit, -0.0, NaN/Infinity,
unicode, nesting), and text the C decoder leaves alone (escapes) must still
arrive as json.loads reads it. Real workers, real result.json files."""
import json
import math
import random
import struct

import tunec as tune
from run_helpers import rows, run


def same(a, b, path="result"):
    """a == b with types, float bits (NaN, -0.0) and key order checked."""
    assert type(a) is type(b), "{}: {!r} vs {!r}".format(path, a, b)
    if isinstance(a, float):
        if math.isnan(a):
            assert math.isnan(b), path
        else:
            assert struct.pack("<d", a) == struct.pack("<d", b), "{}: {!r} vs {!r}".format(
                path, a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            same(a[k], b[k], "{}[{!r}]".format(path, k))
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, "{}[{}]".format(path, i))
    else:
        assert a == b, "{}: {!r} vs {!r}".format(path, a, b)


def random_float(rng):
    kind = rng.randrange(4)
    if kind == 0:
        return rng.random()
    if kind == 1:
        return rng.uniform(-1, 1) * 10.0 ** rng.randint(-320, 308)
    if kind == 2:
        return struct.unpack("<d", struct.pack("<Q", rng.getrandbits(63)))[0]
    return float(rng.randint(-10 ** 6, 10 ** 6)) / 8


FIXED = {
    # (the engine's results hold 64-bit ints: 19 digits take the long path)
    "ints": [0, -0, 1, -1, 7, 10 ** 17, 10 ** 18 - 1, 10 ** 18, -(10 ** 18), 2 ** 63 - 1,
             -(2 ** 63), -(3 ** 39)],
    "floats": [0.0, -0.0, 0.1, -2.5, 1e22, 1e23, 5e-324, 2.2250738585072014e-308,
               1.7976931348623157e308, 123456789012345678.0, 0.30000000000000004,
               float("nan"), float("inf"), float("-inf")],
    "strings": ["", "plain", "héllo ✓", "日本語", "x" * 100],
    "flags": [True, False, None],
    "nested": {"a": {"b": [1, [2, {"c": []}], {}]}, "": "empty key", "ü": 1},
}


def varied(config):
    rng = random.Random(config["seed"])
    for i in range(40):
        result = dict(FIXED)
        result["random"] = [random_float(rng) for _ in range(25)]
        result["big"] = rng.getrandbits(64) - (1 << 63)
        result["step_text"] = "step {}".format(i)
        if i % 10 == 9:
            # Escapes: the C decoder leaves these lines to json.loads.
            result["escaped"] = 'quote " backslash \\ newline \n tab \t \x01'
        tune.report(result)


class Keeper(tune.Callback):
    def __init__(self):
        self.results = {}

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.results.setdefault(trial.trial_id, []).append(result)


def test_hook_results_are_what_json_loads_reads(tmp_path):
    keeper = Keeper()
    analysis = run(varied, tmp_path, config={"seed": tune.grid_search([1, 2])},
                   callbacks=[keeper])
    assert len(analysis.trials) == 2
    for trial in analysis.trials:
        logged = rows(trial)
        seen = keeper.results[trial.trial_id]
        assert len(logged) == len(seen) == 40
        for i, (line, result) in enumerate(zip(logged, seen)):
            same(result, line, "trial {} result {}".format(trial.trial_id, i))
        assert "escaped" in seen[9] and seen[9]["escaped"].endswith("\t \x01")


def test_hook_results_are_independent_dicts(tmp_path):
    """Each result (and its nested values) is a fresh object: a hook that
    keeps or changes one does not change another."""
    class Mutating(Keeper):
        def on_trial_result(self, iteration, trials, trial, result, **info):
            super().on_trial_result(iteration, trials, trial, result, **info)
            result["nested"]["a"]["b"].append("changed")
            result["config"]["seed"] = -1

    keeper = Mutating()
    analysis = run(varied, tmp_path, config={"seed": 3}, callbacks=[keeper])
    (trial,) = analysis.trials
    seen = keeper.results[trial.trial_id]
    assert len({id(r) for r in seen}) == len(seen)
    for result in seen:
        assert result["nested"]["a"]["b"] == [1, [2, {"c": []}], {}, "changed"]
        assert result["config"] == {"seed": -1}
    assert json.loads(json.dumps(rows(trial)[0]))["config"] == {"seed": 3}
