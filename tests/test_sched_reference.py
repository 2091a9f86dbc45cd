"""The C scheduler cores against the Python reference on random histories.

tests/sched_driver.c is built with the engine sources into a temporary dir;
each example runs one history through it (JSON lines on stdin, one reply per
line on stdout) and through tests/sched_reference.py, and every reply must be
identical: decisions, side actions, chosen trials, configs, tags, log lines
and debug strings. A history ends at the first error, which both sides must
raise at the same event.
"""

import json
import math
import os
import subprocess
import sys

import pytest
from engine_driver import build_driver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.dirname(__file__))
import sched_reference as ref  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SETTINGS = settings(max_examples=int(os.environ.get("TUNEC_SCHED_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    return build_driver(os.path.join(ROOT, "tests", "sched_driver.c"),
                        str(tmp_path_factory.mktemp("sched") / "sched_driver"))


def run_driver(driver, commands):
    text = "".join(json.dumps(c) + "\n" for c in commands)
    proc = subprocess.run([driver], input=text, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def canon(value):
    return json.dumps(value, sort_keys=False)


class Session:
    """Feeds commands to the reference at once and to C at the end, keeping
    the reference's reply (or error) per command."""

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
        except Exception:  # Ray raises there (KeyError, AssertionError, ...)
            self.expected.append("error")
            self.failed = True
            return None
        self.expected.append(reply)
        return reply

    def view(self, runner):
        if self.failed:
            return
        for name, values in (("status", runner.statuses), ("avail", runner.avail)):
            self.commands.append([name, list(values)])
            self.expected.append({"r": 0})

    def check(self, driver):
        replies = run_driver(driver, self.commands)
        assert len(replies) == len(self.commands)
        for i, (cmd, want, got) in enumerate(zip(self.commands, self.expected, replies)):
            if want == "error":
                assert "err" in got, (i, cmd, got)
                return
            assert "err" not in got, (i, cmd, got, want)
            assert canon(got) == canon(want), (i, cmd, got, want)


# ---------------------------------------------------------------------------
# strategies

metrics = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, 2.0, 0.5, -1.0, 3.0, 1e-3, math.nan, math.inf, -math.inf]),
    st.floats(-10, 10, allow_nan=False).map(lambda x: round(x, 2)),
    st.integers(-5, 5).map(float),
)
times = st.one_of(st.integers(0, 120).map(float), st.floats(0, 120).map(lambda x: round(x, 1)))


# ---------------------------------------------------------------------------
# ASHA


@SETTINGS
@given(max_t=st.sampled_from([1, 5, 10, 16, 64, 81, 100, 1000, 37.5]),
       grace=st.sampled_from([0.5, 1, 2, 3, 4, 10]),
       rf=st.sampled_from([1.5, 2, 3, 4, 2.5, 10]),
       brackets=st.integers(1, 10),
       mode=st.sampled_from(["max", "min"]),
       seed=st.integers(0, 2 ** 63 - 1),
       n0=st.integers(1, 40),
       data=st.data())
def test_asha_matches_reference(driver, max_t, grace, rf, brackets, mode, seed, n0, data):
    s = Session()
    try:
        sched = ref.AsyncHyperBand(max_t, grace, rf, brackets, mode, seed)
    except ValueError:
        assert "err" in run_driver(driver, [["asha", max_t, grace, rf, brackets,
                                             int(mode == "max"), seed]])[0]
        return
    s.call(["asha", max_t, grace, rf, brackets, int(mode == "max"), seed], lambda: {"r": 0})
    clock = {}

    def add(trial):
        clock[trial] = 0.0
        s.call(["add", trial], lambda: {"r": sched.on_trial_add(trial)})

    for trial in range(n0):
        add(trial)
    for _ in range(data.draw(st.integers(0, 300), label="steps")):
        if s.failed:
            break
        op = data.draw(st.sampled_from(["result"] * 12 + ["complete", "remove", "add", "debug",
                                                           "stray"]), label="op")
        live = sorted(clock)
        if op == "result" and live:
            trial = data.draw(st.sampled_from(live), label="trial")
            clock[trial] = data.draw(st.one_of(
                st.sampled_from([1.0, 1.0, 1.0, 2.0, 0.5, 4.0, 0.0]).map(lambda d: clock[trial] + d),
                times, st.just(math.nan)), label="time")
            t, m = clock[trial], data.draw(metrics, label="metric")
            s.call(["result", trial, t, m], lambda: {"r": sched.on_trial_result(trial, t, m)})
        elif op in ("complete", "remove") and live:
            trial = data.draw(st.sampled_from(live), label="trial")
            t, m = clock.pop(trial), data.draw(metrics, label="metric")
            if op == "complete":
                s.call(["complete", trial, t, m],
                       lambda: (sched.on_trial_complete(trial, t, m), {"r": 0})[1])
            else:
                s.call(["remove", trial], lambda: (sched.on_trial_remove(trial), {"r": 0})[1])
        elif op == "add":
            add(data.draw(st.integers(0, n0 + 5), label="trial"))
        elif op == "stray":         # a trial the scheduler does not know
            t = data.draw(times, label="time")
            s.call(["result", n0 + 50, t, 1.0],
                   lambda: {"r": sched.on_trial_result(n0 + 50, t, 1.0)})
        else:
            s.call(["debug"], lambda: {"r": sched.debug_string()})
    s.call(["debug"], lambda: {"r": sched.debug_string()})
    s.check(driver)


# ---------------------------------------------------------------------------
# HyperBand: a simulated runner drives the reference; C replays its views


@SETTINGS
@given(max_t=st.sampled_from([1, 2, 3, 9, 10, 27, 30, 81, 100, 12.5]),
       eta=st.sampled_from([2, 3, 4, 1.5, 10]),
       mode=st.sampled_from(["max", "min"]),
       accumulate=st.booleans(),
       n0=st.integers(1, 30),
       data=st.data())
def test_hyperband_matches_reference(driver, max_t, eta, mode, accumulate, n0, data):
    sched = ref.HyperBand(max_t, eta, mode, accumulate)
    runner = ref.FakeRunner([], [], sched)
    clock = []
    s = Session()
    s.call(["hyperband", max_t, eta, int(mode == "max"), int(accumulate)], lambda: {"r": 0})

    def add():
        trial = len(runner.statuses)
        runner.statuses.append(ref.PENDING)
        runner.avail.append(data.draw(st.sampled_from([1, 1, 1, 0]), label="avail"))
        clock.append(0.0)
        s.view(runner)
        s.call(["add", trial], lambda: (sched.on_trial_add(runner, trial), {"r": 0})[1])

    def with_actions(fn):
        runner.actions = []
        r = fn()
        return {"r": r if r is not None else 0, "acts": list(runner.actions)}

    for _ in range(n0):
        add()
    for _ in range(data.draw(st.integers(0, 250), label="steps")):
        if s.failed:
            break
        op = data.draw(st.sampled_from(["start", "start", "result", "result", "result", "result",
                                        "complete", "error", "stop", "add", "debug", "avail"]),
                       label="op")
        running = [t for t, x in enumerate(runner.statuses) if x == ref.RUNNING]
        waiting = [t for t, x in enumerate(runner.statuses) if x in (ref.PENDING, ref.PAUSED)]
        if op == "start":
            s.view(runner)
            got = s.call(["choose"], lambda: {"r": (lambda t: -1 if t is None else t)(
                sched.choose_trial_to_run(runner))})
            if got and got["r"] >= 0:
                runner.statuses[got["r"]] = ref.RUNNING
        elif op == "result" and running:
            trial = data.draw(st.sampled_from(running), label="trial")
            clock[trial] += data.draw(st.sampled_from([1.0, 1.0, 2.0, 0.5, 3.0, 9.0, 0.0]),
                                      label="dt")
            m = data.draw(metrics, label="metric")
            s.view(runner)
            got = s.call(["result", trial, clock[trial], m], with_actions,
                         lambda: sched.on_trial_result(runner, trial, clock[trial], m))
            if got:
                runner.statuses[trial] = {ref.CONTINUE: ref.RUNNING, ref.PAUSE: ref.PAUSED,
                                          ref.STOP: ref.TERMINATED}[got["r"]]
        elif op in ("complete", "error") and running:
            trial = data.draw(st.sampled_from(running), label="trial")
            runner.statuses[trial] = ref.TERMINATED if op == "complete" else ref.ERROR
            s.view(runner)
            s.call(["remove", trial], with_actions,
                   lambda: sched.on_trial_remove(runner, trial))
        elif op == "stop" and waiting:
            trial = data.draw(st.sampled_from(waiting), label="trial")
            s.view(runner)
            s.call(["remove", trial], with_actions,
                   lambda: sched.on_trial_remove(runner, trial))
            runner.statuses[trial] = ref.TERMINATED
        elif op == "add":
            add()
        elif op == "avail" and runner.avail:
            i = data.draw(st.integers(0, len(runner.avail) - 1), label="which")
            runner.avail[i] = 1 - runner.avail[i]
        elif op == "debug":
            s.view(runner)
            s.call(["debug"], lambda: {"r": sched.debug_string(runner)})
    s.view(runner)
    s.call(["debug"], lambda: {"r": sched.debug_string(runner)})
    s.check(driver)


# ---------------------------------------------------------------------------
# Median stopping rule


@SETTINGS
@given(grace=st.sampled_from([0, 1, 5, 10.0, 60.0]),
       min_samples=st.integers(0, 4),
       min_time_slice=st.sampled_from([0, 0.5, 2, 10]),
       hard_stop=st.booleans(),
       mode=st.sampled_from(["max", "min"]),
       ops=st.lists(st.tuples(st.sampled_from(["result"] * 6 + ["complete", "debug"]),
                              st.integers(0, 8), times, metrics, st.booleans()),
                    max_size=150))
def test_median_matches_reference(driver, grace, min_samples, min_time_slice, hard_stop, mode,
                                  ops):
    sched = ref.MedianStoppingRule(mode, grace, min_samples, min_time_slice, hard_stop)
    s = Session()
    s.call(["median", grace, min_samples, min_time_slice, int(hard_stop), int(mode == "max")],
           lambda: {"r": 0})
    for op, trial, t, m, waiting in ops:
        if op == "result":
            s.call(["result", trial, t, m, int(waiting)],
                   lambda: {"r": sched.on_trial_result(trial, t, m, waiting)})
        elif op == "complete":
            s.call(["complete", trial, t, m],
                   lambda: (sched.on_trial_complete(trial, t, m), {"r": 0})[1])
        else:
            s.call(["debug"], lambda: {"r": sched.debug_string()})
    s.call(["debug"], lambda: {"r": sched.debug_string()})
    s.check(driver)


# ---------------------------------------------------------------------------
# PBT

scalars = st.one_of(st.integers(-20, 20), st.floats(-100, 100).map(lambda x: round(x, 3)),
                    st.booleans(), st.sampled_from(["a", "b/c", "sgd", "x y"]),
                    st.just(math.nan))
domains = st.one_of(
    st.tuples(st.floats(-10, 10), st.floats(0.1, 10)).map(
        lambda p: {"$tunec": "domain", "kind": "uniform", "lower": round(p[0], 2),
                   "upper": round(p[0] + p[1], 2)}),
    st.tuples(st.floats(1e-4, 1), st.floats(1.5, 100), st.sampled_from([10, 2])).map(
        lambda p: {"$tunec": "domain", "kind": "loguniform", "lower": p[0],
                   "upper": p[0] * p[1], "base": p[2]}),
    st.tuples(st.integers(-10, 10), st.integers(1, 20)).map(
        lambda p: {"$tunec": "domain", "kind": "randint", "lower": p[0], "upper": p[0] + p[1]}),
    st.lists(scalars, min_size=1, max_size=4).map(
        lambda c: {"$tunec": "domain", "kind": "choice", "categories": c}),
    st.integers(0, 9).map(lambda i: {"$tunec": "fn", "id": i}),
)


@st.composite
def mutations_and_config(draw, depth=0):
    """A mutation spec and a config it applies to (values mostly in range)."""
    muts, config = {}, {}
    for key in draw(st.lists(st.sampled_from(["lr", "b", "opt", "k", "z/w"]), min_size=1,
                             max_size=4, unique=True)):
        kind = draw(st.sampled_from(["list", "list", "callable", "callable"] +
                                    (["dict"] if depth < 2 else [])))
        if kind == "list":
            values = draw(st.lists(scalars, min_size=1, max_size=5))
            muts[key] = values
            config[key] = draw(st.one_of(st.sampled_from(values), scalars))
        elif kind == "callable":
            muts[key] = draw(domains)
            config[key] = draw(st.one_of(st.integers(-50, 50),
                                         st.floats(-50, 50).map(lambda x: round(x, 4)),
                                         st.booleans(), st.just(math.nan),
                                         st.sampled_from(["s", None])
                                         if draw(st.integers(0, 9)) == 0 else st.integers(0, 3)))
        else:
            sub_m, sub_c = draw(mutations_and_config(depth + 1))
            muts[key] = sub_m
            config[key] = sub_c
    if draw(st.integers(0, 15)) == 0:
        config.pop(next(iter(config)))          # a mutated key missing: both fail
    config["const"] = draw(st.integers(0, 3))
    return muts, config


def roundtrip(value):
    return json.loads(json.dumps(value))


@SETTINGS
@given(spec=mutations_and_config(), p=st.sampled_from([0.0, 0.25, 0.5, 1.0]),
       custom=st.booleans(), seed=st.integers(0, 2 ** 63 - 1), rounds=st.integers(1, 6))
def test_pbt_explore_matches_reference(driver, spec, p, custom, seed, rounds):
    muts, config = roundtrip(spec[0]), roundtrip(spec[1])
    sched = ref.PopulationBasedTraining(hyperparam_mutations=roundtrip(muts),
                                        resample_probability=p,
                                        custom_explore_fn=ref.custom_explore if custom else None,
                                        seed=seed)
    s = Session()
    s.call(["pbt", {"interval": 1, "mutations": muts, "qf": 0.25, "p": p, "mode_max": True,
                    "log_config": True, "seed": seed, "custom": custom}], lambda: {"r": 0})
    for _ in range(rounds):
        new = s.call(["explore", config], lambda: {"r": roundtrip(sched.explore(config))})
        if new is None:
            break
        config = new["r"]
    s.check(driver)


@SETTINGS
@given(spec=mutations_and_config(),
       interval=st.sampled_from([0, 1, 2, 5]),
       qf=st.sampled_from([0.0, 0.1, 0.25, 0.5]),
       p=st.sampled_from([0.0, 0.25, 1.0]),
       mode=st.sampled_from(["max", "min"]),
       log_config=st.booleans(),
       custom=st.booleans(),
       seed=st.integers(0, 2 ** 63 - 1),
       n0=st.integers(1, 10),
       data=st.data())
def test_pbt_matches_reference(driver, spec, interval, qf, p, mode, log_config, custom, seed,
                               n0, data):
    muts, base = roundtrip(spec[0]), roundtrip(spec[1])
    sched = ref.PopulationBasedTraining(mode, interval, roundtrip(muts), qf, p,
                                        ref.custom_explore if custom else None, log_config, seed)
    runner = ref.FakeRunner([], [], sched)
    clock, iters = [], []
    s = Session()
    s.call(["pbt", {"interval": interval, "mutations": muts, "qf": qf, "p": p,
                    "mode_max": mode == "max", "log_config": log_config, "seed": seed,
                    "custom": custom}], lambda: {"r": 0})

    def add():
        trial = len(runner.statuses)
        runner.statuses.append(ref.PENDING)
        runner.avail.append(data.draw(st.sampled_from([1, 1, 0]), label="avail"))
        clock.append(0.0)
        iters.append(0)
        tag = "{}_t={}".format(trial, trial)
        s.call(["add", trial, tag, base], lambda: (sched.on_trial_add(trial, tag, base),
                                                    {"r": 0})[1])

    for _ in range(n0):
        add()
    for _ in range(data.draw(st.integers(0, 120), label="steps")):
        if s.failed:
            break
        op = data.draw(st.sampled_from(["start", "start", "result", "result", "result",
                                        "result", "result", "complete", "error", "add",
                                        "debug", "missing"]), label="op")
        running = [t for t, x in enumerate(runner.statuses) if x == ref.RUNNING]
        if op == "start":
            s.view(runner)
            got = s.call(["choose"], lambda: {"r": (lambda t: -1 if t is None else t)(
                sched.choose_trial_to_run(runner))})
            if got and got["r"] >= 0:
                runner.statuses[got["r"]] = ref.RUNNING
        elif op in ("result", "missing") and running:
            trial = data.draw(st.sampled_from(running), label="trial")
            clock[trial] += data.draw(st.sampled_from([1.0, 1.0, 2.0, 0.5, 3.0]), label="dt")
            iters[trial] += 1
            m = data.draw(metrics, label="metric")
            has = op == "result"
            s.view(runner)
            got = s.call(["result", trial, has, clock[trial], m, iters[trial]],
                         sched.on_trial_result, runner, trial, has, clock[trial], m,
                         iters[trial])
            if got and got["r"] == ref.PAUSE:
                runner.statuses[trial] = ref.PAUSED
        elif op in ("complete", "error") and running:
            trial = data.draw(st.sampled_from(running), label="trial")
            runner.statuses[trial] = ref.TERMINATED if op == "complete" else ref.ERROR
            s.call(["complete", trial, iters[trial]],
                   lambda: (sched.on_trial_complete(trial, iters[trial]), {"r": 0})[1])
        elif op == "add":
            add()
        elif op == "debug":
            s.call(["debug"], lambda: {"r": sched.debug_string()})
    s.call(["debug"], lambda: {"r": sched.debug_string()})
    s.check(driver)
