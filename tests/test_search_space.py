"""Search spaces end to end through the Python API (spec §5, §16, §17.13,
§18.3-18.6, §18.37): tunec.sample -> _tunec.generate_variants -> the C engine."""
import json
import logging
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tunec import _tunec, sample as tune
from tunec.error import RecursiveDependencyError, TuneError
from tunec.sample import decode_value, encode_space, generate_variants


def configs(config, **kw):
    return [v[0] for v in generate_variants(config, **kw)]


def tags(config, **kw):
    return [v[3] for v in generate_variants(config, **kw)]


# --------------------------------------------------------------------------
# grid order, tags, evaluated_params
# --------------------------------------------------------------------------

def test_grid_order_first_sorted_var_fastest():
    cfg = {"beta": tune.grid_search([1, 2]), "alpha": tune.grid_search([0.2, 0.4, 0.6])}
    got = [(c["alpha"], c["beta"]) for c in configs(cfg, seed=0)]
    assert got == [(0.2, 1), (0.4, 1), (0.6, 1), (0.2, 2), (0.4, 2), (0.6, 2)]
    assert tags(cfg, seed=0) == ["0_alpha=0.2,beta=1", "1_alpha=0.4,beta=1", "2_alpha=0.6,beta=1",
                                 "3_alpha=0.2,beta=2", "4_alpha=0.4,beta=2", "5_alpha=0.6,beta=2"]


@pytest.mark.parametrize("config, expected", [
    ({"a": 1}, ["0"]),
    ({"a": {"b": {"c": {"d": tune.grid_search([4])}}}}, ["0_d=4"]),
    ({"lr": tune.grid_search([0.1, 1e-05, 123456.0, 2.0])},
     ["0_lr=0.1", "1_lr=1e-05", "2_lr=1.2346e+05", "3_lr=2.0"]),
    ({"p": tune.grid_search(["a/b", True, None, [1, "x"]])},
     ["0_p=a_b", "1_p=True", "2_p=None", "3_p=[1, 'x']"]),
    ({"a": [{"b": [0, tune.grid_search([7])]}]}, ["0_0_b_1=7"]),
    ({"f": tune.grid_search([float("nan"), float("inf")])}, ["0_f=nan", "1_f=inf"]),
])
def test_tags(config, expected):
    assert tags(config, seed=0) == expected


def test_nested_grids_in_lists():
    cfg = {"model": {"layers": [tune.grid_search([16, 64]), tune.grid_search([16, 64]), 8]}}
    out = generate_variants(cfg, seed=0)
    assert [v[0]["model"]["layers"] for v in out] == [[16, 16, 8], [64, 16, 8], [16, 64, 8],
                                                      [64, 64, 8]]
    assert out[1][3] == "1_layers_0=64,layers_1=16"
    assert out[1][1] == {("config", "model", "layers", 0): 64,
                         ("config", "model", "layers", 1): 16}
    assert out[1][2] == {"model/layers/0": 64, "model/layers/1": 16}


def test_evaluated_params_cover_grid_and_samples_not_constants():
    cfg = {"c": 3, "g": tune.grid_search(["x"]), "u": tune.uniform(0, 1),
           "s": tune.sample_from(lambda spec: 5)}
    config, rvars, params, tag = generate_variants(cfg, seed=0)[0]
    assert set(params) == {"g", "u", "s"}
    assert params["u"] == config["u"] and params["s"] == 5
    assert list(rvars) == [("config", "g"), ("config", "s"), ("config", "u")]
    assert tag.startswith("0_g=x,s=5,u=")


def test_grid_inside_grid_values():
    cfg = {"a": tune.grid_search([{"x": tune.grid_search([1, 2])}, 3])}
    assert configs(cfg, seed=0) == [{"a": {"x": 1}}, {"a": {"x": 2}}, {"a": 3}]
    assert tags(cfg, seed=0) == ["0_a={'x': 1},x=1", "1_a={'x': 2},x=2", "2_a=3"]


# --------------------------------------------------------------------------
# num_samples and the counter
# --------------------------------------------------------------------------

def test_num_samples_repeats_the_grid_and_redraws():
    cfg = {"g": tune.grid_search([1, 2]), "u": tune.uniform(0, 1)}
    out = generate_variants(cfg, num_samples=3, seed=3)
    assert [v[0]["g"] for v in out] == [1, 2, 1, 2, 1, 2]
    assert [v[3].split("_")[0] for v in out] == [str(i) for i in range(6)]
    assert len({v[0]["u"] for v in out}) == 6


def test_counter_continues_from_start_index():
    out = generate_variants({"g": tune.grid_search([1, 2])}, num_samples=2, seed=0, start_index=10)
    assert [v[3] for v in out] == ["10_g=1", "11_g=2", "12_g=1", "13_g=2"]


def test_unbounded_needs_a_limit():
    assert len(generate_variants({"u": tune.uniform(0, 1)}, num_samples=-1, seed=0, limit=25)) == 25
    with pytest.raises(ValueError, match="unbounded"):
        generate_variants({"u": tune.uniform(0, 1)}, num_samples=-1, seed=0)


def test_empty_grid_gives_nothing():
    assert generate_variants({"a": tune.grid_search([]), "b": 1}, num_samples=5, seed=0) == []


# --------------------------------------------------------------------------
# domains: bounds and types, through the engine and standalone
# --------------------------------------------------------------------------

def _multiple(x, q):
    return abs(x / q - round(x / q)) < 1e-6


DOMAINS = [
    # (domain, type, check, at least this many distinct values in 2000 draws)
    (tune.uniform(-2, 3), float, lambda x: -2 <= x < 3, 100),
    (tune.uniform(), float, lambda x: 0 <= x < 1, 100),
    (tune.uniform(low=5, high=6), float, lambda x: 5 <= x < 6, 100),
    (tune.quniform(0, 1, 0.25), float, lambda x: 0 <= x <= 1 and _multiple(x, 0.25), 5),
    (tune.quniform(0.1, 0.3, 0.1), float, lambda x: 0.1 <= x <= 0.3 and _multiple(x, 0.1), 3),
    (tune.loguniform(1e-4, 1e-1), float, lambda x: 1e-4 <= x < 1e-1, 100),
    (tune.loguniform(1, 1024, base=2), float, lambda x: 1 <= x < 1024, 100),
    (tune.loguniform(min_bound=1e-3, max_bound=1), float, lambda x: 1e-3 <= x < 1, 100),
    (tune.qloguniform(1e-4, 1e-1, 5e-5), float,
     lambda x: 1e-4 <= x <= 1e-1 and _multiple(x, 5e-5), 50),
    (tune.randint(0, 3), int, lambda x: x in (0, 1, 2), 3),
    (tune.randint(5), int, lambda x: 0 <= x < 5, 5),
    (tune.randint(-5, -3), int, lambda x: x in (-5, -4), 2),
    (tune.qrandint(1, 10, 3), int, lambda x: x in (3, 6, 9), 3),
    (tune.qrandint(1, 10), int, lambda x: 1 <= x <= 10, 10),
    (tune.lograndint(1, 5), int, lambda x: 1 <= x < 5, 4),
    (tune.qlograndint(1, 100, 25), int, lambda x: x in (25, 50, 75, 100), 4),
    (tune.randn(), float, lambda x: -10 < x < 10, 100),
    (tune.randn(10, 2), float, lambda x: -10 < x < 30, 100),
    (tune.randn(mean=5, sd=0.001), float, lambda x: 4.99 < x < 5.01, 100),
    (tune.qrandn(0, 1, 0.5), float, lambda x: _multiple(x, 0.5), 5),
    (tune.choice([10, 20, 30]), int, lambda x: x in (10, 20, 30), 3),
    (tune.choice(["a", "b"]), str, lambda x: x in ("a", "b"), 2),
    (tune.choice(4), int, lambda x: x in range(4), 4),
]


@pytest.mark.parametrize("domain, typ, check, distinct", DOMAINS,
                         ids=[repr(d[0]) for d in DOMAINS])
def test_domain_draws_in_engine(domain, typ, check, distinct):
    values = [c["x"] for c in configs({"x": domain}, num_samples=2000, seed=7)]
    assert all(type(v) is typ for v in values)
    bad = [v for v in values if not check(v)]
    assert not bad
    assert len(set(values)) >= distinct


@pytest.mark.parametrize("domain, typ, check, distinct", DOMAINS,
                         ids=[repr(d[0]) for d in DOMAINS])
def test_domain_sample_standalone(domain, typ, check, distinct):
    values = domain.sample(size=2000)
    assert len(values) == 2000
    assert all(type(v) is typ for v in values)
    assert all(check(v) for v in values)
    assert len(set(values)) >= distinct
    assert type(domain.sample()) is typ


def test_uniform_mean_and_normal_spread():
    xs = [c["x"] for c in configs({"x": tune.uniform(-2, 3)}, num_samples=5000, seed=1)]
    assert abs(sum(xs) / len(xs) - 0.5) < 0.1
    ns = np.array([c["n"] for c in configs({"n": tune.randn(3, 2)}, num_samples=5000, seed=1)])
    assert abs(ns.mean() - 3) < 0.1 and abs(ns.std() - 2) < 0.1


def test_randn_shape_forms():
    cfg = {"a": tune.randn(3), "b": tune.randn(2, 3, 4), "c": tune.randn(shape=(2, 2))}
    c = configs(cfg, seed=0)[0]
    assert len(c["a"]) == 3 and all(type(x) is float for x in c["a"])
    assert np.array(c["b"]).shape == (2, 3, 4)
    assert np.array(c["c"]).shape == (2, 2)
    assert np.array(tune.randn(2, 3, 4).sample()).shape == (2, 3, 4)


def test_choice_may_pick_a_grid_or_a_domain():
    cfg = {"c": tune.choice([tune.grid_search([1, 2, 3])])}
    assert configs(cfg, seed=0) == [{"c": 1}, {"c": 2}, {"c": 3}]
    cfg = {"c": tune.choice([tune.randint(5, 6)]), "o": tune.choice([int])}
    assert configs(cfg, seed=0) == [{"c": 5, "o": int}]


@pytest.mark.parametrize("call, message", [
    (lambda: tune.loguniform(0, 1), "loguniform: lower bound must be > 0, got 0"),
    (lambda: tune.uniform(1, 1), "uniform: lower bound must be < upper bound, got lower=1, upper=1"),
    (lambda: tune.uniform("a", 1), "uniform: lower must be a number, got 'a'"),
    (lambda: tune.uniform(0, float("inf")), "uniform: upper must be finite"),
    (lambda: tune.quniform(0, 1, 0), "quniform: q must be > 0, got 0"),
    (lambda: tune.quniform(0.1, 0.2, 0.3), "quniform: no multiple of q=0.3 in"),
    (lambda: tune.loguniform(1, 10, base=1), "loguniform: base must be > 0 and != 1, got 1"),
    (lambda: tune.qloguniform(1, 10, -1), "qloguniform: q must be > 0, got -1"),
    (lambda: tune.randint(0.5, 3), "randint: lower must be an integer, got 0.5"),
    (lambda: tune.randint(3, 3), "randint: lower bound must be < upper bound"),
    (lambda: tune.qrandint(1, 2, 5), "qrandint: no multiple of q=5 in"),
    (lambda: tune.lograndint(0, 3), "lograndint: lower bound must be > 0, got 0"),
    (lambda: tune.qlograndint(1, 9, 2, base=0), "qlograndint: base must be > 0 and != 1"),
    (lambda: tune.randn(0, 0), "randn: sd must be > 0, got 0"),
    (lambda: tune.qrandn(0, 1, 0), "qrandn: q must be > 0"),
    (lambda: tune.randn(2, -1, 3), "randn: negative dimensions"),
    (lambda: tune.choice([]), "choice: categories must not be empty"),
    (lambda: tune.choice(0), "choice: a must be > 0, got 0"),
    (lambda: tune.choice("abc"), "choice: categories must be a list"),
])
def test_bad_arguments_raise_at_call_time(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


def test_bad_argument_spellings():
    with pytest.raises(TypeError):
        tune.uniform(0, 1, 2)
    with pytest.raises(TypeError):
        tune.uniform(0, 1, size=3)
    with pytest.raises(TypeError):
        tune.choice([1, 2], p=[0.5, 0.5])
    with pytest.raises(TypeError):
        tune.randn(1, 2, mean=3)


# --------------------------------------------------------------------------
# seeds
# --------------------------------------------------------------------------

SEEDED = {"g": tune.grid_search([1, 2]), "u": tune.uniform(0, 1), "l": [tune.loguniform(1e-5, 1)],
          "c": tune.choice(["a", "b", "c", "d"]), "n": tune.randn(), "i": tune.qrandint(0, 1000, 7)}


def test_same_seed_same_configs_different_seed_different():
    a = configs(SEEDED, num_samples=10, seed=1234)
    b = configs(SEEDED, num_samples=10, seed=1234)
    c = configs(SEEDED, num_samples=10, seed=1235)
    assert a == b
    assert all(x["u"] != y["u"] for x, y in zip(a, c))
    # seeds beyond 64 bits and negative seeds are reduced, not rejected
    assert configs(SEEDED, seed=-1) == configs(SEEDED, seed=2 ** 64 - 1)


def test_seed_none_is_random():
    assert configs({"u": tune.uniform(0, 1)})[0] != configs({"u": tune.uniform(0, 1)})[0]


# --------------------------------------------------------------------------
# sample_from, eval, dependencies
# --------------------------------------------------------------------------

def test_sample_from_attribute_access_and_chained_dependencies():
    # z depends on a, a on m, m on g: defined in an order no single pass solves
    cfg = {
        "z": tune.sample_from(lambda spec: spec.config.a * 10),
        "a": tune.sample_from(lambda spec: spec.config.m + 1),
        "m": tune.sample_from(lambda spec: spec["config"]["nested"].g * 2),
        "nested": {"g": tune.grid_search([1, 2])},
    }
    out = configs(cfg, seed=0)
    assert [(c["m"], c["a"], c["z"]) for c in out] == [(2, 3, 30), (4, 5, 50)]


def test_sample_from_sees_sampled_domains_and_lists():
    cfg = {"u": tune.uniform(0, 1), "l": [tune.randint(3, 4), 9],
           "f": tune.sample_from(lambda spec: (spec.config.u, spec.config.l[0], list(spec.config.l)))}
    c = configs(cfg, seed=0)[0]
    assert c["f"] == [c["u"], 3, [3, 9]]


def test_one_x_style_functions():
    cfg = {"a": tune.sample_from(lambda: 5),
           "b": tune.sample_from(lambda config: config["a"] * 2),
           "c": tune.sample_from(lambda config: config.b + 1)}
    assert configs(cfg, seed=0) == [{"a": 5, "b": 10, "c": 11}]


def test_cycle_raises_recursive_dependency_naming_the_key():
    cfg = {"a": tune.sample_from(lambda spec: spec.config.b),
           "b": tune.sample_from(lambda spec: spec.config.a)}
    with pytest.raises(RecursiveDependencyError, match="`a` recursively depends on"):
        generate_variants(cfg, seed=0)
    with pytest.raises(RecursiveDependencyError, match="`foo` recursively depends on tune.sample_from"):
        generate_variants({"foo": tune.sample_from(lambda spec: spec.config.foo)}, seed=0)


def test_dependency_on_a_grid_returned_by_another_function_is_reported():
    cfg = {"a": tune.sample_from(lambda spec: tune.grid_search([1, 2])),
           "b": tune.sample_from(lambda spec: spec.config.a)}
    with pytest.raises(RecursiveDependencyError, match="`a` recursively depends on {'grid_search': "
                                                       r"\[1, 2\]}"):
        generate_variants(cfg, seed=0)


def test_lambda_returning_grid_domain_or_sample_from():
    cfg = {"g": tune.sample_from(lambda spec: tune.grid_search([1, 2, 3])),
           "d": tune.sample_from(lambda spec: tune.randint(7, 8)),
           "s": tune.sample_from(lambda spec: tune.sample_from(lambda spec: "deep")),
           "o": tune.grid_search(["x", "y"])}
    out = generate_variants(cfg, seed=0)
    assert [(v[0]["g"], v[0]["o"]) for v in out] == [(1, "x"), (2, "x"), (3, "x"), (1, "y"),
                                                     (2, "y"), (3, "y")]
    assert all(v[0]["d"] == 7 and v[0]["s"] == "deep" for v in out)
    assert out[4][3] == "4_d=7,g=2,o=y,s=deep"


def test_eval_dicts():
    cfg = {"x": tune.grid_search([1, 2]), "double": {"eval": "spec.config.x * 2"},
           "np": {"eval": "np.random.uniform(0, 1)"}, "r": {"eval": "random.choice([5, 6])"}}
    out = configs(cfg, seed=0)
    assert [c["double"] for c in out] == [2, 4]
    assert all(type(c["np"]) is float and 0 <= c["np"] < 1 for c in out)
    assert all(c["r"] in (5, 6) for c in out)


def test_function_errors_are_wrapped_with_the_path():
    cfg = {"opt": {"lr": tune.sample_from(lambda spec: 1 / 0)}}
    with pytest.raises(ValueError) as info:
        generate_variants(cfg, seed=0)
    assert str(info.value).startswith(
        "Failed to evaluate expression: ('config', 'opt', 'lr'): tune.sample_from(<function")
    assert str(info.value).endswith(": division by zero")
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    with pytest.raises(ValueError, match="Failed to evaluate expression: .*name 'nope'"):
        generate_variants({"e": {"eval": "nope + 1"}}, seed=0)


def test_keyboard_interrupt_is_not_wrapped():
    def stop(spec):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        generate_variants({"a": tune.sample_from(stop)}, seed=0)


def test_guard_view_blocks_item_access_too():
    seen = []

    def f(spec):
        seen.append(type(spec).__name__)
        return spec["config"]["b"] + spec.get("config").get("b")
    cfg = {"a": tune.sample_from(f), "b": tune.sample_from(lambda spec: 4)}
    assert configs(cfg, seed=0) == [{"a": 8, "b": 4}]
    assert seen == ["_UnresolvedAccessGuard", "_UnresolvedAccessGuard"]


# --------------------------------------------------------------------------
# opaque objects and constants
# --------------------------------------------------------------------------

class Custom:
    def __init__(self, n):
        self.n = n

    def __repr__(self):
        return "Custom/{}".format(self.n)


def a_function(x):
    return x


def test_opaque_objects_pass_through_untouched():
    obj = Custom(1)
    arr = np.arange(3)
    cfg = {"cls": Custom, "fn": a_function, "obj": obj, "arr": arr, "lam": len,
           "nested": [{"o": obj}], "grid": tune.grid_search([obj, Custom])}
    out = generate_variants(cfg, seed=0)
    c0, c1 = out[0][0], out[1][0]
    assert c0["cls"] is Custom and c0["fn"] is a_function and c0["obj"] is obj
    assert c0["arr"] is arr and c0["lam"] is len and c0["nested"][0]["o"] is obj
    assert c0["grid"] is obj and c1["grid"] is Custom
    assert out[0][3] == "0_grid=Custom_1"   # str with "/" -> "_"
    assert out[0][1][("config", "grid")] is obj


def test_sample_from_sees_and_returns_objects():
    obj = Custom(2)
    cfg = {"o": obj, "f": tune.sample_from(lambda spec: spec.config.o),
           "g": tune.sample_from(lambda spec: Custom(spec.config.o.n + 1))}
    c = configs(cfg, num_samples=2, seed=0)
    assert c[0]["f"] is obj and c[1]["f"] is obj
    assert isinstance(c[0]["g"], Custom) and c[0]["g"].n == 3


def test_constants_round_trip():
    cfg = {"t": (1, 2), "nan": float("nan"), "inf": -float("inf"), "np_f": np.float32(0.5),
           "np_i": np.int64(3), "np_b": np.bool_(True), "s": "x", "n": None, "big": 2 ** 62,
           "u": "ünï"}
    c = configs(cfg, seed=0)[0]
    assert c["t"] == [1, 2]
    assert math.isnan(c["nan"]) and c["inf"] == -float("inf")
    assert type(c["np_f"]) is float and c["np_f"] == 0.5
    assert type(c["np_i"]) is int and type(c["np_b"]) is bool
    assert c["big"] == 2 ** 62 and c["u"] == "ünï" and c["n"] is None


def test_non_str_keys_name_the_path():
    with pytest.raises(TypeError, match=r'config\["a"\]\[0\]: config keys must be str, got 1'):
        encode_space({"a": [{1: "x"}]})


def test_reserved_marker_key():
    with pytest.raises(ValueError, match=r'config\["a"\]: the key "\$tunec" is reserved'):
        encode_space({"a": {"$tunec": "fn", "id": 0}})


def test_nul_in_keys_is_refused_nul_in_values_kept():
    with pytest.raises(ValueError, match=r'config\["a"\]: config keys may not contain NUL'):
        encode_space({"a": {"x\x00": 1}})
    assert configs({"a": "x\x00y"}, seed=0) == [{"a": "x\x00y"}]


def test_lone_surrogates_are_refused_with_the_path():
    with pytest.raises(ValueError, match=r'config\["a"\]\[1\]: strings must be valid Unicode'):
        encode_space({"a": ["ok", "x\ud800"]})
    with pytest.raises(ValueError, match=r'config\["b"\]: strings must be valid Unicode'):
        encode_space({"b": {"\udc00": 1}})


def test_grid_search_needs_a_list():
    with pytest.raises(TuneError, match="Grid search expected list of values, got: 5"):
        tune.grid_search(5)
    with pytest.raises(TuneError, match=r'config\["a"\]: Grid search expected list of values'):
        encode_space({"a": {"grid_search": (1, 2)}})
    assert tune.grid_search([1]) == {"grid_search": [1]}


def test_engine_names_paths_of_bad_domains():
    bad = tune.Float(0, 1)
    bad.sampler = "loguniform"   # bypasses the call-time check
    with pytest.raises(ValueError, match=r'^config\["optimizer"\]\["lr"\]: loguniform lower bound '
                                         r'must be > 0, got 0$'):
        generate_variants({"optimizer": {"lr": bad}}, seed=0)


def test_sample_from_and_function_reprs(caplog):
    f = a_function
    s = tune.sample_from(f)
    assert s.func is f
    assert str(s) == "tune.sample_from({})".format(f) == repr(s)
    with caplog.at_level(logging.WARNING):
        assert tune.function(f) is f
    assert "no longer needed" in caplog.text
    assert repr(tune.loguniform(1e-4, 0.1)) == "tune.loguniform(0.0001, 0.1)"
    assert repr(tune.qrandint(1, 10, 3)) == "tune.qrandint(1, 10, 3)"


# --------------------------------------------------------------------------
# encode / decode and the raw binding
# --------------------------------------------------------------------------

def test_encode_space_markers_and_ids():
    obj = Custom(3)
    s = tune.sample_from(a_function)
    text, functions, objects = encode_space(
        {"u": tune.uniform(0, 1), "s": s, "s2": s, "o": obj, "o2": obj,
         "c": tune.choice([obj, 1])}, id_offset=5)
    tree = json.loads(text)
    assert tree["config"]["u"] == {"$tunec": "domain", "kind": "uniform", "lower": 0, "upper": 1}
    assert tree["config"]["s"] == tree["config"]["s2"] == {"$tunec": "fn", "id": 5}
    assert tree["config"]["o"] == {"$tunec": "obj", "id": 6, "repr": "Custom/3"}
    assert tree["config"]["c"]["categories"][0]["id"] == 6
    assert functions == {5: s} and objects == {6: obj}
    assert decode_value(tree, objects)["config"]["o2"] is obj


def test_raw_binding():
    text, _, _ = encode_space({"g": tune.grid_search([1, 2, 3])})
    out = _tunec.generate_variants(text, 2, 0, None, start_index=4, limit=5)
    assert [v[3] for v in out] == ["4_g=1", "5_g=2", "6_g=3", "7_g=1", "8_g=2"]
    assert out[0] == ({"g": 1}, {("config", "g"): 1}, {"g": 1}, "4_g=1")
    with pytest.raises(ValueError, match="no resolver"):
        _tunec.generate_variants(encode_space({"f": tune.sample_from(len)})[0], 1, 0, None)
    with pytest.raises(TypeError, match="resolver must be callable"):
        _tunec.generate_variants(text, 1, 0, 5)
    with pytest.raises(ValueError):
        _tunec.generate_variants("{not json", 1, 0, None)


def test_import_does_not_load_numpy():
    code = "import sys, tunec.sample; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(lower=st.integers(-1000, 1000), span=st.integers(1, 1000), q=st.integers(1, 50),
       seed=st.integers(0, 2 ** 64 - 1))
def test_qrandint_multiples_of_q_within_bounds(lower, span, q, seed):
    upper = lower + span
    if -(-lower // q) > upper // q:
        with pytest.raises(ValueError, match="no multiple"):
            tune.qrandint(lower, upper, q)
        return
    dom = tune.qrandint(lower, upper, q)
    values = [c["x"] for c in configs({"x": dom}, num_samples=50, seed=seed)]
    values += dom.sample(size=50)
    assert all(type(v) is int and v % q == 0 and lower <= v <= upper for v in values)


@settings(max_examples=60, deadline=None)
@given(lower=st.floats(-1e6, 1e6), span=st.floats(1e-3, 1e6), q=st.floats(1e-3, 100),
       seed=st.integers(0, 2 ** 32))
def test_quniform_within_bounds(lower, span, q, seed):
    upper = lower + span
    try:
        dom = tune.quniform(lower, upper, q)
    except ValueError as exc:
        assert "no multiple" in str(exc) or "lower bound must be <" in str(exc)
        return
    values = [c["x"] for c in configs({"x": dom}, num_samples=30, seed=seed)]
    values += dom.sample(size=30)
    assert all(lower <= v <= upper for v in values)
    assert all(abs(v / q - round(v / q)) < 1e-6 or v in (lower, upper) for v in values)


@settings(max_examples=40, deadline=None)
@given(config=st.recursive(
    st.one_of(st.integers(-10, 10), st.text(max_size=3), st.booleans(), st.none(),
              st.floats(allow_nan=False)),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.text(st.characters(blacklist_characters="\x00",
                                                                     blacklist_categories=("Cs",)),
                                                       max_size=3), children, max_size=3)),
    max_leaves=15))
def test_constant_configs_come_back_equal(config):
    # text values may hold lone surrogates: those are refused with a path
    try:
        encode_space(config)
    except ValueError as exc:
        assert "strings must be valid Unicode" in str(exc)
        return
    out = generate_variants({"c": config}, seed=0)
    assert len(out) == 1 and out[0][0] == {"c": config} and out[0][3] == "0"
