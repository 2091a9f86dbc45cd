"""The C TPE core against the Python reference on random histories.

tests/search_driver.c is built with the engine sources into a temporary dir;
each example runs one history (observations, running trials that complete or
fail, suggestions) through it (JSON lines on stdin, one reply per line on
stdout) and through tests/tpe_reference.py. For every suggestion both sides
must draw the same candidates, give them the same log l(x) and log g(x) to
1e-9, and pick the same one (or, where two candidates' scores tie to 1e-9,
one of the tied ones). Errors (a categorical index out of range, an event for
a trial that is not running) must happen at the same command on both sides.
"""

import json
import math
import os
import random
import subprocess
import sys

import pytest
from engine_driver import build_driver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(__file__))
import tpe_reference as ref  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETTINGS = settings(max_examples=int(os.environ.get("TUNEC_TPE_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TOL = 1e-9


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    return build_driver(os.path.join(ROOT, "tests", "search_driver.c"),
                        str(tmp_path_factory.mktemp("search") / "search_driver"))


def run_driver(driver, commands):
    text = "".join(json.dumps(c) + "\n" for c in commands)
    proc = subprocess.run([driver], input=text, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def close(a, b):
    if math.isinf(a) or math.isinf(b) or math.isnan(a) or math.isnan(b):
        return a == b or (math.isnan(a) and math.isnan(b))
    return abs(a - b) <= TOL * max(1.0, abs(a), abs(b))


def check_suggestion(i, want, got):
    assert got["random"] == want["random"], (i, got, want)
    if want["random"]:
        assert got["r"] == want["r"], (i, got["r"], want["r"])
        return
    for p, (tw, tg) in enumerate(zip(want["trace"], got["trace"])):
        if tw is None:
            assert tg is None, (i, p, tg)
            assert got["r"][p] == want["r"][p], (i, p)
            continue
        assert tg is not None, (i, p)
        assert tg["joint"] == tw["joint"], (i, p)
        for k, (vw, vg) in enumerate(zip(tw["values"], tg["values"])):
            assert close(vw, vg), (i, p, k, "value", vw, vg)
        for key in ("ll", "lg"):
            for k, (dw, dg) in enumerate(zip(tw[key], tg[key])):
                assert close(dw, dg), (i, p, k, key, dw, dg)
        if tg["chosen"] != tw["chosen"]:
            sw = tw["ll"][tw["chosen"]] - tw["lg"][tw["chosen"]]
            sg = tw["ll"][tg["chosen"]] - tw["lg"][tg["chosen"]]
            assert close(sw, sg), (i, p, "chosen", tw["chosen"], tg["chosen"], sw, sg)
        else:
            assert close(got["r"][p], want["r"][p]), (i, p)


class Session:
    """Feeds commands to the reference at once and to C at the end."""

    def __init__(self):
        self.commands = []
        self.expected = []
        self.failed = False

    def call(self, command, fn, *args):
        if self.failed:
            return None
        self.commands.append(command)
        try:
            reply = fn(*args)
        except ValueError:
            self.expected.append("error")
            self.failed = True
            return None
        self.expected.append(reply)
        return reply

    def check(self, driver):
        replies = run_driver(driver, self.commands)
        assert len(replies) == len(self.commands)
        n_suggest = 0
        for i, (cmd, want, got) in enumerate(zip(self.commands, self.expected, replies)):
            if want == "error":
                assert "err" in got, (i, cmd, got)
                return n_suggest
            assert "err" not in got, (i, cmd, got)
            if cmd[0] == "suggest":
                check_suggestion(i, want, got)
                n_suggest += 1
            else:
                assert got["r"] == want, (i, cmd, got, want)
        return n_suggest


# ---------------------------------------------------------------------------
# strategies

PARAMS = [
    {"kind": 0, "low": -5.0, "high": 10.0},
    {"kind": 0, "low": 0.0, "high": 1.0},
    {"kind": 0, "low": 1e-4, "high": 1.0, "log": True},
    {"kind": 0, "low": 0.0, "high": 2.0, "step": 0.25},
    {"kind": 0, "low": 0.5, "high": 64.0, "step": 0.5, "log": True},
    {"kind": 1, "low": 0, "high": 10, "step": 1},
    {"kind": 1, "low": -20, "high": 20, "step": 4},
    {"kind": 1, "low": 1, "high": 1024, "step": 1, "log": True},
    {"kind": 2, "n_choices": 3},
    {"kind": 2, "n_choices": 1},
    {"kind": 2, "n_choices": 6},
    {"kind": 0, "low": 2.0, "high": 2.0},
    {"kind": 1, "low": 3, "high": 3, "step": 1},
]

opts_st = st.fixed_dictionaries({
    "n_startup_trials": st.integers(0, 6),
    "n_ei_candidates": st.sampled_from([1, 2, 5, 24, 40]),
    "ei_budget": st.sampled_from([0, 0, 60, 400]),
    "gamma_fraction": st.sampled_from([0.1, 0.25, 0.5, 0.0]),
    "gamma_max": st.sampled_from([25, 2, 40]),
    "prior_weight": st.sampled_from([1.0, 0.5, 3.0]),
    "consider_prior": st.sampled_from([1, 1, 0]),
    "consider_magic_clip": st.sampled_from([1, 1, 0]),
    "consider_endpoints": st.sampled_from([0, 0, 1]),
    "multivariate": st.sampled_from([0, 1]),
    "constant_liar": st.sampled_from([0, 1]),
    "mode_max": st.sampled_from([0, 1]),
    "seed": st.integers(0, 2 ** 63 - 1),   # JSON integers are int64 to jansson
})

objectives = st.one_of(
    st.floats(-10, 10, allow_nan=False).map(lambda x: round(x, 2)),
    st.sampled_from([0.0, 1.0, -1.0, 1.0, math.inf, -math.inf, math.nan]),
)


def param_value(draw, p):
    """A value in (or near, or outside) the domain, or None (absent)."""
    if draw(st.integers(0, 9)) == 0:
        return None
    if p["kind"] == 2:
        return float(draw(st.integers(0, p["n_choices"] - 1)))
    lo, hi = p["low"], p["high"]
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(st.sampled_from([lo, hi, lo - 1.0, hi + 3.0]))
    if p.get("step"):
        k = draw(st.integers(0, int(round((hi - lo) / p["step"]))))
        return lo + k * p["step"]
    return draw(st.floats(lo, hi, allow_nan=False))


@st.composite
def histories(draw):
    params = [dict(p, name="p%d" % i) for i, p in
              enumerate(draw(st.lists(st.sampled_from(PARAMS), min_size=1, max_size=4)))]
    opts = draw(opts_st)
    events = []
    for _ in range(draw(st.integers(1, 45))):
        kind = draw(st.sampled_from(["observe", "observe", "observe", "add", "complete", "fail",
                                     "suggest", "suggest"]))
        if kind in ("observe", "add"):
            events.append([kind, [param_value(draw, p) for p in params], draw(objectives)])
        elif kind in ("complete", "fail"):
            events.append([kind, draw(st.integers(0, 60)), draw(objectives)])
        else:
            events.append(["suggest"])
    events.append(["suggest"])
    return params, opts, events


def play(params, opts, events):
    s = Session()
    tpe = s.call(["new", params, opts], lambda: ref.TPE(params, opts))
    if tpe is None:
        return s
    s.expected[-1] = 0
    running = []
    for ev in events:
        if ev[0] == "observe":
            s.call(["observe", ev[1], ev[2]], tpe.observe, ev[1], ev[2])
        elif ev[0] == "add":
            t = s.call(["add", ev[1]], tpe.add, ev[1])
            if t is not None:
                running.append(t)
        elif ev[0] in ("complete", "fail"):
            # mostly a running trial, rarely any index (an error on both sides)
            if ev[1] < 57 and not running:
                continue
            t = running.pop(ev[1] % len(running)) if ev[1] < 57 else ev[1]
            if ev[0] == "complete":
                s.call(["complete", t, ev[2]], tpe.complete, t, ev[2])
            else:
                s.call(["fail", t], tpe.fail, t)
        else:
            s.call(["suggest"], tpe.suggest)
    return s


@SETTINGS
@given(history=histories())
def test_random_histories(driver, history):
    play(*history).check(driver)


# ---------------------------------------------------------------------------
# long histories: the age ramp (more than 25 observations), the magic clip at
# its floor, the window of kernels around a candidate


@pytest.mark.parametrize("seed,multivariate,liar", [(1, 0, 0), (2, 0, 1), (3, 1, 0), (4, 1, 1)])
def test_long_histories(driver, seed, multivariate, liar):
    rnd = random.Random(seed)
    params = [dict(p, name="p%d" % i) for i, p in enumerate(
        [PARAMS[0], PARAMS[2], PARAMS[3], PARAMS[5], PARAMS[7], PARAMS[10], PARAMS[4]])]
    opts = dict(ref.DEFAULTS, seed=seed, multivariate=multivariate, constant_liar=liar,
                gamma_max=40 if seed % 2 else 25)
    events = []
    for i in range(400):
        values = []
        for p in params:
            if p["kind"] == 2:
                values.append(float(rnd.randrange(p["n_choices"])))
            elif p.get("step"):
                values.append(p["low"] + rnd.randrange(int((p["high"] - p["low"]) / p["step"]) + 1)
                              * p["step"])
            else:
                values.append(rnd.uniform(p["low"], p["high"]))
        # a conditional parameter: present in half the trials, and never under multivariate's
        # group (so the joint group is the rest)
        if rnd.random() < 0.5:
            values[-1] = None
        objective = sum((v or 0.0) ** 2 for v in values[:2]) + rnd.random()
        events.append(["add" if i % 7 == 0 else "observe", values, objective])
        if i % 50 == 49:
            events.append(["suggest"])
    events.append(["suggest"])
    assert play(params, opts, events).check(driver) == 9


def test_suggestion_is_reproducible(driver):
    """The same seed and history give the same suggestion; another seed does not."""
    params = [dict(PARAMS[0], name="x"), dict(PARAMS[7], name="n")]
    hist = [["observe", [i * 0.5 - 5, float(1 + i * 3)], float(i % 7)] for i in range(30)]
    runs = [run_driver(driver, [["new", params, {"seed": s}]] + hist + [["suggest"]])[-1]["r"]
            for s in (5, 5, 6)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_errors_name_the_parameter(driver):
    replies = run_driver(driver, [
        ["new", [{"name": "lr", "kind": 0, "low": 0.0, "high": 1.0, "log": True}], {}],
        ["new", [{"name": "opt", "kind": 2, "n_choices": 3}], {}],
        ["observe", [3.0], 1.0],
        ["complete", 7, 1.0],
    ])
    assert replies[0]["err"] and "lr" in replies[0]["msg"]
    assert "opt" in replies[2]["msg"]
    assert "trial 7" in replies[3]["msg"]
