"""PB2: the GP math of tunec/schedulers/pb2_utils.py and the PB2 class's own
logic (data rows, donor recognition, explore), the latter on a stand-in
PopulationBasedTraining that calls custom_explore_fn the way the engine
does. The run through tune.run belongs to the engine wiring's tests."""
import importlib
import math
import os
import random
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

from tunec.error import TuneError
from tunec.schedulers import pb2_utils as pu

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --------------------------------------------------------------------------
# kernel
# --------------------------------------------------------------------------

def random_inputs(rng, n, k):
    X = rng.uniform(0.0, 1.0, size=(n, 1 + k))
    X[:3, 1:] = X[3, 1:]   # equal hyperparameters at different times
    return X


@pytest.mark.parametrize("variance,lengthscale,epsilon", [
    (1.0, 1.0, 0.1), (2.5, 0.05, 0.0), (0.3, 0.5, 0.5), (1.0, 0.01, 0.35)])
def test_kernel_symmetric_psd_diag(variance, lengthscale, epsilon):
    X = random_inputs(np.random.default_rng(1), 40, 3)
    K = pu.tv_se_kernel(X, X, variance, lengthscale, epsilon)
    assert K.shape == (40, 40)
    np.testing.assert_allclose(K, K.T, atol=1e-14)
    np.testing.assert_allclose(np.diag(K), variance)
    assert np.linalg.eigvalsh(K).min() > -1e-9 * variance
    assert K.max() <= variance * (1 + 1e-12) and K.min() >= 0


def test_kernel_value_by_formula():
    a = np.array([[0.2, 0.1, 0.4]])
    b = np.array([[0.7, 0.3, 0.9]])
    want = 1.7 * math.exp(-((0.2 ** 2 + 0.5 ** 2) / 0.3)) * (1 - 0.2) ** (0.5 / 2)
    assert pu.tv_se_kernel(a, b, 1.7, 0.3, 0.2)[0, 0] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("epsilon", [0.05, 0.2, 0.5])
def test_kernel_time_decay(epsilon):
    dts = np.array([0.0, 0.1, 0.3, 0.6, 1.0])
    X = np.c_[dts, np.full(5, 0.4), np.full(5, 0.8)]   # same point, later and later
    k = pu.tv_se_kernel(X[:1], X, 1.0, 0.5, epsilon)[0]
    assert np.all(np.diff(k) < 0)
    np.testing.assert_allclose(k, (1 - epsilon) ** (dts / 2), rtol=1e-12)


def test_kernel_no_decay_at_epsilon_0_and_cap_at_half():
    X = np.c_[[0.0, 1.0, 5.0], [0.3, 0.3, 0.3]]
    np.testing.assert_allclose(pu.tv_se_kernel(X, X, 1.0, 1.0, 0.0), 1.0)
    np.testing.assert_allclose(pu.tv_se_kernel(X, X, 1.0, 1.0, 0.9),
                               pu.tv_se_kernel(X, X, 1.0, 1.0, 0.5))


@pytest.mark.parametrize("kwargs,match", [
    ({"lengthscale": 0.0}, "lengthscale"), ({"epsilon": -0.1}, "epsilon"),
    ({"epsilon": 1.0}, "epsilon")])
def test_kernel_rejects_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pu.tv_se_kernel(np.zeros((1, 2)), np.zeros((1, 2)), **kwargs)


# --------------------------------------------------------------------------
# GP fit and posterior
# --------------------------------------------------------------------------

def test_gp_posterior_1d_known_function():
    x = np.linspace(0.0, 0.5, 9)
    X = np.c_[np.zeros_like(x), x]            # constant time: a plain SE GP
    y = np.sin(6 * x)
    fit = pu.fit_gp(X, y)
    mean, var = pu.posterior(fit, X)
    np.testing.assert_allclose(mean, y, atol=1e-2)
    assert var.max() < 1e-3 * fit.variance
    # between data points: still accurate
    xm = (x[:-1] + x[1:]) / 2
    mid_mean, _ = pu.posterior(fit, np.c_[np.zeros_like(xm), xm])
    np.testing.assert_allclose(mid_mean, np.sin(6 * xm), atol=5e-2)
    # far from the data the variance grows with the distance
    far = np.c_[np.zeros(3), [0.6, 0.8, 1.0]]
    _, far_var = pu.posterior(fit, far)
    assert np.all(np.diff(far_var) > 0)
    assert far_var[-1] > 100 * var.max() and far_var[-1] > 0.05 * fit.variance


def test_fitted_likelihood_matches_direct_computation():
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(30, 3))
    y = pu.standardize(np.sin(4 * X[:, 1]) + X[:, 2] + 0.1 * rng.normal(size=30))
    hp = pu.optimize_hyperparameters(X, y)
    assert pu.LENGTHSCALE_MIN <= hp["lengthscale"] <= pu.LENGTHSCALE_MAX
    assert 0.0 <= hp["epsilon"] <= pu.EPSILON_MAX
    direct = pu.log_marginal_likelihood(X, y, hp["variance"], hp["lengthscale"], hp["epsilon"],
                                        hp["noise"])
    assert hp["log_likelihood"] == pytest.approx(direct, rel=1e-6, abs=1e-6)
    # the optimum beats the kernel Ray starts from (variance 1, lengthscale 1, epsilon 0.1)
    assert direct > pu.log_marginal_likelihood(X, y, 1.0, 1.0, 0.1, 1.0)
    fit = pu.fit_gp(X, y, hp["variance"], hp["lengthscale"], hp["epsilon"], hp["noise"])
    assert fit.log_likelihood == pytest.approx(direct, rel=1e-6)


def test_pending_points_reduce_variance_only_nearby():
    x = np.array([0.1, 0.2, 0.3])
    fit = pu.fit_gp(np.c_[np.zeros(3), x], np.array([0.0, 1.0, 0.5]), 1.0, 0.05, 0.0, 1e-4)
    Xs = np.c_[np.zeros(2), [0.8, 0.35]]
    before = pu.posterior(fit, Xs)[1]
    after = pu.pending_variance(fit, np.array([[0.0, 0.8]]), Xs)
    assert after[0] < 1e-2 * before[0]
    assert after[1] == pytest.approx(before[1], rel=0.05)
    np.testing.assert_allclose(pu.pending_variance(fit, None, Xs), before)


def test_standardize_and_normalize():
    z = pu.standardize(np.array([0.0, 0.0, 0.0, 100.0]))
    assert z.max() <= 2.0 and z.min() >= -2.0
    np.testing.assert_allclose(pu.standardize(np.ones(4)), 0.0)
    np.testing.assert_allclose(pu.normalize([[2.0, 5.0]], [0.0, 5.0], [4.0, 5.0]), [[0.5, 0.0]])


def test_ucb_beta_schedule():
    assert pu.ucb_beta(1) == pytest.approx(0.2)
    assert pu.ucb_beta(100) == pytest.approx(0.2 + math.log(40.0))


def test_optimize_acquisition_finds_interior_maximum():
    target = np.array([0.731, 0.118])

    def score(U):
        return -((U - target) ** 2).sum(1)

    best = pu.optimize_acquisition(score, 2, np.random.default_rng(0), n_candidates=64)
    np.testing.assert_allclose(best, target, atol=2e-3)


# --------------------------------------------------------------------------
# selection
# --------------------------------------------------------------------------

def quadratic_data(rng, n=60, optimum=7.0, noise=0.3):
    """Rows of a population on [0, 10] whose score grows fastest at h = optimum."""
    h = rng.uniform(0.0, 10.0, n)
    t = np.repeat(np.arange(1, n // 6 + 1, dtype=float), 6)[:n] * 5.0
    r_start = rng.uniform(0.0, 3.0, n)
    rate = 1.0 - ((h - optimum) / 3.0) ** 2 + noise * rng.normal(size=n)
    return np.c_[t, r_start, h], rate


def test_selection_prefers_the_optimum_over_uniform():
    hits, trials = 0, 20
    for seed in range(trials):
        rng = np.random.default_rng(seed)
        X, y = quadratic_data(rng)
        x = pu.select_config(X, y, (X[:, 0].max(), 2.0), [0.0], [10.0], rng)
        hits += abs(x[0] - 7.0) <= 1.5
    # uniform in [0, 10] lands within 1.5 of 7 with probability 0.3
    assert hits >= 0.8 * trials, hits


def test_ucb_avoids_pending_points():
    # a flat mean: the acquisition follows the standard deviation alone
    x = np.array([0.1, 0.15, 0.2])
    fit = pu.fit_gp(np.c_[np.zeros(3), x], np.zeros(3), 1.0, 0.02, 0.0, 1e-4)
    first = pu.optimize_acquisition(pu.ucb_scorer(fit, [0.0]), 1, np.random.default_rng(0))
    assert first[0] > 0.9                 # as far from the data as the box allows
    pending = np.array([[0.0, first[0]]])
    score = pu.ucb_scorer(fit, [0.0], pending)
    assert score(first[None, :])[0] < 0.2 * pu.ucb_scorer(fit, [0.0])(first[None, :])[0]
    again = pu.optimize_acquisition(score, 1, np.random.default_rng(0))
    assert 0.3 < again[0] < 0.8           # between the data and the pending point


@pytest.mark.parametrize("low,high", [
    ([0.0], [1.0]), ([-5.0, 1e-4], [-1.0, 2e-4]), ([1e3, -1.0, 0.0], [1e6, 1.0, 0.5])])
def test_selection_respects_bounds(low, high):
    rng = np.random.default_rng(11)
    low, high = np.array(low), np.array(high)
    d = low.size
    for _ in range(3):
        h = low + rng.uniform(size=(25, d)) * (high - low)
        X = np.c_[np.arange(25.0), rng.normal(size=25), h]
        # rate grows towards the upper corner: the maximum is on the boundary
        y = ((h - low) / (high - low)).sum(1) + 0.01 * rng.normal(size=25)
        x = pu.select_config(X, y, (24.0, 0.0), low, high, rng)
        assert x.shape == (d,)
        assert np.all(x >= low) and np.all(x <= high)


def test_selection_is_deterministic_for_a_seed():
    X, y = quadratic_data(np.random.default_rng(2))
    a = pu.select_config(X, y, (50.0, 1.0), [0.0], [10.0], np.random.default_rng(9))
    b = pu.select_config(X, y, (50.0, 1.0), [0.0], [10.0], np.random.default_rng(9))
    assert a.tolist() == b.tolist()


def test_select_config_checks_shapes():
    with pytest.raises(ValueError, match="X_raw has shape"):
        pu.select_config(np.zeros((3, 3)), np.zeros(3), (0, 0), [0, 0], [1, 1],
                         np.random.default_rng(0))


# --------------------------------------------------------------------------
# the PB2 class, on a stand-in PopulationBasedTraining
# --------------------------------------------------------------------------

STANDIN = '''
from tunec.schedulers.trial_scheduler import FIFOScheduler


class PopulationBasedTraining(FIFOScheduler):
    """Stand-in for tunec/schedulers/pbt.py: keeps its arguments and, on a
    result of a trial with a planned clone, calls custom_explore_fn on the
    donor's config perturbed x0.8 / x1.2 as the engine does, then gives the
    trial the new config (the engine's snapshot changes the same way)."""

    def __init__(self, time_attr="time_total_s", reward_attr=None, metric=None, mode=None,
                 perturbation_interval=60.0, hyperparam_mutations={}, quantile_fraction=0.25,
                 resample_probability=0.25, custom_explore_fn=None, log_config=True,
                 require_attrs=True, burn_in_period=0, synch=False):
        self.init_kwargs = dict(time_attr=time_attr, metric=metric, mode=mode,
                                perturbation_interval=perturbation_interval,
                                hyperparam_mutations=hyperparam_mutations,
                                quantile_fraction=quantile_fraction,
                                resample_probability=resample_probability,
                                custom_explore_fn=custom_explore_fn, log_config=log_config,
                                require_attrs=require_attrs, synch=synch)
        self._metric, self._mode = metric, mode
        self.plan = {}        # trial_id -> donor Trial
        self.explored = []    # (config given, config returned)
        import random
        self.rng = random.Random(0)

    def perturb(self, config, mutations):
        out = dict(config)
        for key, m in mutations.items():
            if isinstance(m, dict):
                out[key] = self.perturb(config[key], m)
            else:
                v = config[key] * (1.2 if self.rng.random() > 0.5 else 0.8)
                out[key] = int(v) if isinstance(config[key], int) else v
        return out

    def on_trial_result(self, trial_runner, trial, result):
        donor = self.plan.pop(trial.trial_id, None)
        if donor is not None:
            given = self.perturb(donor.config, self.init_kwargs["hyperparam_mutations"])
            new = self.init_kwargs["custom_explore_fn"](given)
            self.explored.append((given, new))
            trial.config = new
        return "CONTINUE"
'''


@pytest.fixture(scope="module")
def pb2mod():
    """tunec.schedulers.pb2 imported against the stand-in base class, then
    sys.modules put back as it was."""
    names = ("tunec.schedulers.pbt", "tunec.schedulers.pb2")
    saved = {n: sys.modules.get(n) for n in names}
    pkg = sys.modules["tunec.schedulers"]
    saved_attrs = {a: getattr(pkg, a) for a in ("pbt", "pb2") if hasattr(pkg, a)}
    standin = types.ModuleType("tunec.schedulers.pbt")
    exec(STANDIN, standin.__dict__)
    sys.modules["tunec.schedulers.pbt"] = standin
    sys.modules.pop("tunec.schedulers.pb2", None)
    try:
        mod = importlib.import_module("tunec.schedulers.pb2")
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m
        for a in ("pbt", "pb2"):
            if a in saved_attrs:
                setattr(pkg, a, saved_attrs[a])
            elif hasattr(pkg, a):
                delattr(pkg, a)
    return mod


class Trial:
    def __init__(self, trial_id, config):
        self.trial_id = trial_id
        self.config = config
        self.status = "RUNNING"
        self.last_result = {}


class Runner:
    def __init__(self, trials):
        self.trials = trials

    def get_trials(self):
        return list(self.trials)


def report(sched, runner, trial, t, score, metric="score"):
    result = {"time_total_s": t, metric: score, "training_iteration": int(t)}
    trial.last_result = result
    return sched.on_trial_result(runner, trial, result)


@pytest.mark.parametrize("bounds,exc,match", [
    (None, TuneError, "`hyperparam_bounds` must be specified"),
    ({}, TuneError, "`hyperparam_bounds` must be specified"),
    ([("lr", [0, 1])], ValueError, "hyperparam_bounds must be a dict"),
    ({"lr": [0.1]}, ValueError, r'hyperparam_bounds\["lr"\] must be a list or tuple'),
    ({"lr": 0.5}, ValueError, r'hyperparam_bounds\["lr"\] must be a list or tuple'),
    ({"lr": [1.0, 0.1]}, ValueError, r'hyperparam_bounds\["lr"\] must have low < high'),
    ({"lr": [0.1, 0.1]}, ValueError, r'hyperparam_bounds\["lr"\] must have low < high'),
    ({"lr": [0.0, float("inf")]}, ValueError, r'hyperparam_bounds\["lr"\] must hold two finite'),
    ({"lr": [0.0, float("nan")]}, ValueError, r'hyperparam_bounds\["lr"\] must hold two finite'),
    ({"lr": ["0", 1]}, ValueError, r'hyperparam_bounds\["lr"\] must hold two finite'),
    ({"lr": [False, 1]}, ValueError, r'hyperparam_bounds\["lr"\] must hold two finite'),
    ({"opt": {"lr": [2, 1]}}, ValueError, r'hyperparam_bounds\["opt"\]\["lr"\] must have low'),
    ({"opt": {}}, ValueError, r'hyperparam_bounds\["opt"\] is an empty dict'),
    ({3: [0, 1]}, ValueError, "keys must be strings"),
])
def test_validation_messages(pb2mod, bounds, exc, match):
    with pytest.raises(exc, match=match):
        pb2mod.PB2(metric="score", mode="max", hyperparam_bounds=bounds)


def test_custom_explore_fn_must_be_callable(pb2mod):
    with pytest.raises(TypeError, match="custom_explore_fn"):
        pb2mod.PB2(hyperparam_bounds={"lr": [0, 1]}, custom_explore_fn=3)


def test_arguments_passed_to_pbt(pb2mod):
    s = pb2mod.PB2(time_attr="training_iteration", metric="score", mode="min",
                   perturbation_interval=4, hyperparam_bounds={"lr": [1e-4, 1e-1],
                                                               "opt": {"mom": [0.5, 0.99]}},
                   quantile_fraction=0.5, log_config=False, require_attrs=False, synch=True)
    kw = s.init_kwargs
    assert (kw["time_attr"], kw["metric"], kw["mode"], kw["perturbation_interval"]) == (
        "training_iteration", "score", "min", 4)
    assert (kw["quantile_fraction"], kw["log_config"], kw["require_attrs"], kw["synch"]) == (
        0.5, False, False, True)
    assert kw["resample_probability"] == 0.0
    assert kw["custom_explore_fn"] == s._explore_with_gp
    lr = kw["hyperparam_mutations"]["lr"]
    mom = kw["hyperparam_mutations"]["opt"]["mom"]
    assert (lr.lower, lr.upper, lr.sampler) == (1e-4, 1e-1, "uniform")
    assert (mom.lower, mom.upper) == (0.5, 0.99)


def test_without_data_draws_uniformly_in_bounds_and_keeps_ints(pb2mod):
    s = pb2mod.PB2(metric="score", mode="max", seed=0,
                   hyperparam_bounds={"lr": [0.001, 0.1], "batch": [16, 256],
                                      "opt": {"mom": [0.5, 0.9]}})
    config = {"lr": 0.01, "batch": 64, "opt": {"mom": 0.7, "nesterov": True}, "other": "x"}
    seen = []
    for _ in range(50):
        new = s._explore_with_gp(config)
        assert 0.001 <= new["lr"] <= 0.1 and type(new["lr"]) is float
        assert 16 <= new["batch"] <= 256 and type(new["batch"]) is int
        assert 0.5 <= new["opt"]["mom"] <= 0.9
        assert new["opt"]["nesterov"] is True and new["other"] == "x"
        seen.append(new["lr"])
    assert config == {"lr": 0.01, "batch": 64, "opt": {"mom": 0.7, "nesterov": True},
                      "other": "x"}
    assert np.std(seen) > 0.015   # uniform on [0.001, 0.1] has sd 0.029


def test_int_rounding_stays_inside_fractional_bounds(pb2mod):
    s = pb2mod.PB2(metric="score", hyperparam_bounds={"n": [0.6, 3.4]}, seed=1)
    got = {s._explore_with_gp({"n": 2})["n"] for _ in range(60)}
    assert got <= {1, 2, 3} and len(got) >= 2


def run_population(pb2mod, seed, rounds=8, size=8, interval=2, mode="max"):
    """A synchronous population on [0, 10] whose score grows fastest at
    h = 7. At every `interval`-th step each trial reports, best first; the
    bottom quarter clones a random trial of the top quarter (the stand-in
    calls PB2's explore) and takes its time and score. Returns (scheduler,
    trials, chosen h values, [(round, clone trial_id)])."""
    sched = pb2mod.PB2(metric="score", mode=mode, perturbation_interval=interval,
                       hyperparam_bounds={"h": [0.0, 10.0]}, seed=seed)
    rng = random.Random(seed)
    trials = [Trial("t{}".format(i), {"h": rng.uniform(0.0, 10.0), "tag": i})
              for i in range(size)]
    runner = Runner(trials)
    state = {t.trial_id: (0.0, 0.0) for t in trials}   # time, true score
    sign = 1.0 if mode == "max" else -1.0
    clones = []
    for rnd in range(rounds):
        for t in trials:
            time, score = state[t.trial_id]
            for _ in range(interval):
                time += 1.0
                score += 1.0 - ((t.config["h"] - 7.0) / 3.0) ** 2 + 0.05 * rng.gauss(0, 1)
            state[t.trial_id] = (time, score)
        ranked = sorted(trials, key=lambda x: -state[x.trial_id][1])
        k = size // 4
        for t in ranked:
            if t in ranked[-k:]:
                donor = rng.choice(ranked[:k])
                sched.plan[t.trial_id] = donor
                clones.append((rnd, t.trial_id))
            time, score = state[t.trial_id]
            report(sched, runner, t, time, sign * score)
            assert t.trial_id not in sched.plan, "clone not performed"
            if clones and clones[-1] == (rnd, t.trial_id):
                state[t.trial_id] = state[donor.trial_id]
    return sched, trials, [new["h"] for _, new in sched.explored], clones


def test_population_moves_towards_the_optimum(pb2mod):
    near = []
    for seed in (0, 1):
        sched, trials, choices, clones = run_population(pb2mod, seed)
        assert len(choices) == len(clones) == 8 * 2
        assert all(0.0 <= h <= 10.0 for h in choices)
        near += [abs(h - 7.0) <= 1.5 for h in choices[4:]]   # the first have little data
    # uniform choices land there with probability 0.3 (P(>= 12 of 24) ~ 2%);
    # UCB still explores the corners now and then
    assert sum(near) >= 12, near


@pytest.mark.parametrize("mode", ["max", "min"])
def test_data_rows_and_clone_bookkeeping(pb2mod, mode):
    sched, trials, choices, clones = run_population(pb2mod, 3, rounds=3, mode=mode)
    # every trial reported at t = 2, 4, 6; every row but the first closes an
    # interval, a clone's first one too (it starts at the donor's time)
    assert len(sched._pb2_changes) == 8 * 2
    assert sorted({c[0] for c in sched._pb2_changes}) == [4.0, 6.0]
    # rates are of the true score in both modes: h near 7 grows fastest
    rates = sorted(sched._pb2_changes, key=lambda c: abs(c[2][0] - 7.0))
    assert rates[0][3] > rates[-1][3]
    last = {tid for rnd, tid in clones if rnd == 2}
    for t in trials:
        row = sched._pb2_last[t.trial_id]
        if t.trial_id in last:
            assert row.segment >= 1 and row.config is t.config
            assert row.values == (t.config["h"],)
            assert sched._pb2_last_time[t.trial_id] == row.time == 6.0
    # pending: the clones of the last round, whose outcome is not known yet
    assert set(sched._pb2_pending) == last


def test_pending_points_exclude_the_clone_and_finished_trials(pb2mod):
    sched, trials, choices, clones = run_population(pb2mod, 3, rounds=3)
    last = sorted(tid for rnd, tid in clones if rnd == 2)
    assert len(last) == 2
    values = {tid: sched._pb2_pending[tid] for tid in last}
    sched._pb2_context = (Runner(trials), "nobody")
    assert sorted(sched._pb2_pending_points("nobody")) == sorted(values.values())
    assert sched._pb2_pending_points(last[0]) == [values[last[1]]]
    next(t for t in trials if t.trial_id == last[1]).status = "TERMINATED"
    assert sched._pb2_pending_points("nobody") == [values[last[0]]]
    sched._pb2_context = None


def test_mode_min_negates_the_metric(pb2mod):
    s = pb2mod.PB2(metric="loss", mode="min", perturbation_interval=1,
                   hyperparam_bounds={"h": [0.0, 1.0]})
    t = Trial("a", {"h": 0.5})
    r = Runner([t])
    report(s, r, t, 1.0, 3.0, metric="loss")
    report(s, r, t, 2.0, 1.0, metric="loss")
    assert s._pb2_changes == [(2.0, -3.0, (0.5,), 2.0)]


def test_rows_only_at_perturbation_interval(pb2mod):
    s = pb2mod.PB2(metric="score", perturbation_interval=10, hyperparam_bounds={"h": [0, 1]})
    t = Trial("a", {"h": 0.5})
    r = Runner([t])
    for time in (3, 9, 10, 15, 19.5, 20, 31):
        report(s, r, t, float(time), float(time))
    assert [c[0] for c in s._pb2_changes] == [20.0, 31.0]
    # results without time_attr or metric are passed on untouched
    assert s.on_trial_result(r, t, {"score": 1.0}) == "CONTINUE"
    assert s.on_trial_result(r, t, {"time_total_s": 100.0}) == "CONTINUE"
    assert len(s._pb2_changes) == 2


def test_metric_from_set_search_properties(pb2mod):
    s = pb2mod.PB2(perturbation_interval=1, hyperparam_bounds={"h": [0, 1]})
    s._metric = None
    assert s.set_search_properties("acc", "min")
    t = Trial("a", {"h": 0.5})
    report(s, Runner([t]), t, 1.0, 2.0, metric="acc")
    assert s._pb2_last["a"].score == -2.0


@pytest.mark.parametrize("config,match", [
    ({"other": 1}, r'config\["h"\]'), ({"h": "x"}, r'config\["h"\] = \'x\' is not a finite'),
    ({"h": float("nan")}, "not a finite number")])
def test_bad_trial_config_is_named(pb2mod, config, match):
    s = pb2mod.PB2(metric="score", perturbation_interval=1, hyperparam_bounds={"h": [0, 1]})
    t = Trial("a", config)
    with pytest.raises(TuneError, match=match):
        report(s, Runner([t]), t, 1.0, 1.0)


def test_donor_is_recognised_from_the_perturbed_config(pb2mod):
    s = pb2mod.PB2(metric="score", perturbation_interval=1,
                   hyperparam_bounds={"h": [0.0, 10.0], "k": [1, 50]}, seed=0)
    trials = [Trial("a", {"h": 2.0, "k": 10, "seed": 1}),
              Trial("b", {"h": 5.0, "k": 20, "seed": 1}),
              Trial("c", {"h": 5.0, "k": 20, "seed": 2}),
              Trial("d", {"h": 9.0, "k": 30, "seed": 1})]
    runner = Runner(trials)
    for score, t in zip((4.0, 3.0, 1.0, 2.0), trials):
        report(s, runner, t, 1.0, score)
    # b's config perturbed (h x 1.2, k x 0.8 truncated) is not a's, c's or d's
    assert s._pb2_find_donor({"h": 6.0, "k": 16, "seed": 1}, exclude="d") == "b"
    # seed 2 only matches c
    assert s._pb2_find_donor({"h": 6.0, "k": 16, "seed": 2}, exclude="d") == "c"
    # nothing matches exactly: the best-scoring trial that fits most keys
    assert s._pb2_find_donor({"h": 2.4, "k": 99, "seed": 7}, exclude="d") == "a"


# What the engine did with a clone PB2 explored for, as the recipient's next
# result shows it: done as planned; restarted from a checkpoint older than
# the donor's ranked result (time 3 < the donor's 4); or dropped (the donor's
# checkpoint had not reached the driver: the trial keeps its own config).
@pytest.mark.parametrize("engine,next_time,row_start,seg,values,pending", [
    ("cloned", 5.0, (4.0, 8.0), 1, "new", True),
    ("older_checkpoint", 3.0, (3.0, 6.5), 1, "new", True),
    ("dropped", 5.0, (4.0, 2.0), 0, "old", False),
], ids=["cloned", "older_checkpoint", "dropped"])
def test_clone_is_checked_at_the_next_result(pb2mod, engine, next_time, row_start, seg, values,
                                             pending):
    s = pb2mod.PB2(metric="score", perturbation_interval=2, hyperparam_bounds={"h": [0.0, 1.0]},
                   seed=0)
    a, b = Trial("a", {"h": 0.1}), Trial("b", {"h": 0.9})
    runner = Runner([a, b])
    for t, scores in ((b, (4.0, 8.0)), (a, (1.0, 2.0))):
        report(s, runner, t, 2.0, scores[0])
        if t is a:
            s.plan["a"] = b           # a clones b at its time-4 result
        report(s, runner, t, 4.0, scores[1])
    new = s.explored[-1][1]
    assert s._pb2_last["a"].values == (new["h"],) and s._pb2_pending["a"] == (new["h"],)
    if engine == "dropped":
        a.config = {"h": 0.1}         # the engine's snapshot: the config never changed
    score_next = {"cloned": 8.5, "older_checkpoint": 6.5, "dropped": 2.5}[engine]
    report(s, runner, a, next_time, score_next)
    row = s._pb2_last["a"]
    assert (row.time, row.score, row.segment) == row_start + (seg,)
    assert row.values == ((new["h"],) if values == "new" else (0.1,))
    assert ("a" in s._pb2_pending) == pending
    assert s._pb2_last_time["a"] == 4.0    # PBT's clock is the donor's either way
    # the interval closed at time 6 is measured from that row
    before = len(s._pb2_changes)
    report(s, runner, a, 6.0, 9.0)
    assert s._pb2_changes[before:] == [
        (6.0, row_start[1], row.values, (9.0 - row_start[1]) / (6.0 - row_start[0]))]


def test_user_custom_explore_fn_runs_after(pb2mod):
    calls = []

    def user(config):
        calls.append(dict(config))
        config["extra"] = config["h"] * 2
        return config

    s = pb2mod.PB2(metric="score", hyperparam_bounds={"h": [0.0, 1.0]}, custom_explore_fn=user)
    new = s._explore_with_gp({"h": 0.5})
    assert calls and 0.0 <= calls[0]["h"] <= 1.0
    assert new["extra"] == new["h"] * 2

    s2 = pb2mod.PB2(metric="score", hyperparam_bounds={"h": [0.0, 1.0]},
                    custom_explore_fn=lambda c: None)
    with pytest.raises(TuneError, match="custom_explore_fn returned None"):
        s2._explore_with_gp({"h": 0.5})


def test_seeded_runs_are_identical_and_seeds_differ(pb2mod):
    a = run_population(pb2mod, 4, rounds=4)[2]
    b = run_population(pb2mod, 4, rounds=4)[2]
    assert len(a) == 8
    assert a == b
    s1 = pb2mod.PB2(metric="score", hyperparam_bounds={"h": [0.0, 1.0]}, seed=1)
    s2 = pb2mod.PB2(metric="score", hyperparam_bounds={"h": [0.0, 1.0]}, seed=2)
    assert s1._explore_with_gp({"h": 0.5}) != s2._explore_with_gp({"h": 0.5})


def test_import_does_not_load_numpy():
    code = textwrap.dedent("""
        import sys, types
        import tunec.schedulers
        m = types.ModuleType("tunec.schedulers.pbt")
        exec({standin!r}, m.__dict__)
        sys.modules["tunec.schedulers.pbt"] = m
        import tunec.schedulers.pb2
        from tunec.schedulers import PB2
        assert PB2 is tunec.schedulers.pb2.PB2 and "PB2" in dir(tunec.schedulers)
        assert "numpy" not in sys.modules, "numpy imported"
        print("ok")
    """).format(standin=STANDIN)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_real_pbt_base_takes_pb2_arguments():
    try:
        importlib.import_module("tunec.schedulers.pbt")
    except ImportError:
        pytest.skip("tunec/schedulers/pbt.py is not there yet")
    from tunec.schedulers.pb2 import PB2
    s = PB2(metric="score", mode="max", perturbation_interval=2,
            hyperparam_bounds={"lr": [1e-3, 1e-1], "opt": {"mom": [0.5, 0.9]}}, seed=0)
    assert isinstance(s, importlib.import_module("tunec.schedulers.pbt").PopulationBasedTraining)
    spec = s._tunec_spec()
    assert (spec["kind"], spec["metric"], spec["mode"]) == ("pbt", "score", "max")
    assert spec["resample_probability"] == 0.0 and spec["perturbation_interval"] == 2
    assert spec["custom_explore_fn"] == s._explore_with_gp
    lr, mom = spec["hyperparam_mutations"]["lr"], spec["hyperparam_mutations"]["opt"]["mom"]
    assert (lr.lower, lr.upper, mom.lower, mom.upper) == (1e-3, 1e-1, 0.5, 0.9)
    new = s._explore_with_gp({"lr": 0.01, "opt": {"mom": 0.6}, "other": 1})
    assert 1e-3 <= new["lr"] <= 1e-1 and 0.5 <= new["opt"]["mom"] <= 0.9 and new["other"] == 1
    # metric and mode left to tune.run: the engine's defaults until then
    t = PB2(hyperparam_bounds={"lr": [0, 1]})
    assert (t._pb2_metric_now, t._pb2_sign) == ("episode_reward_mean", 1.0)
    assert t.set_search_properties("loss", "min")
    assert (t._pb2_metric_now, t._pb2_sign) == ("loss", -1.0)
