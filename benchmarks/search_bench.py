"""The search workload: suggestion latency and search quality, in-process.

tunec's TPESearch (the engine's TPE, through its Python API as a user calls
it: ``suggest`` / ``on_trial_complete``) is compared with Optuna's
TPESampler and Hyperopt's tpe; tunec's random search (the basic variant
generator, sampled in C) and Optuna's RandomSampler are the controls. Runs
one (system, problem) per process, started by compare.py through _child.py.

Quality: best value found after ``evals`` evaluations of a standard test
function, one at a time, for each of ``seeds`` seeds. Latency: seconds to
produce one 8-parameter configuration given ``past`` completed trials of
random configurations (random search does not look at past trials, so
tunec-random's figure is independent of it).
"""
import math
import time

# --------------------------------------------------------------------------
# test functions (minimisation)
# --------------------------------------------------------------------------


def branin(x):
    x1, x2 = x["x1"], x["x2"]
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


_H6_ALPHA = (1.0, 1.2, 3.0, 3.2)
_H6_A = ((10, 3, 17, 3.5, 1.7, 8), (0.05, 10, 17, 0.1, 8, 14),
         (3, 3.5, 1.7, 10, 17, 8), (17, 8, 0.05, 10, 0.1, 14))
_H6_P = ((1312, 1696, 5569, 124, 8283, 5886), (2329, 4135, 8307, 3736, 1004, 9991),
         (2348, 1451, 3522, 2883, 3047, 6650), (4047, 8828, 8732, 5743, 1091, 381))


def hartmann6(x):
    xs = [x["x%d" % i] for i in range(6)]
    total = 0.0
    for alpha, a_row, p_row in zip(_H6_ALPHA, _H6_A, _H6_P):
        total += alpha * math.exp(-sum(a * (xj - p * 1e-4) ** 2
                                       for a, xj, p in zip(a_row, xs, p_row)))
    return -total


def rosenbrock6(x):
    xs = [x["x%d" % i] for i in range(6)]
    return sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (xs[i] - 1) ** 2 for i in range(5))


# name: (function, {param: (low, high)}, known minimum)
PROBLEMS = {
    "branin": (branin, {"x1": (-5.0, 10.0), "x2": (0.0, 15.0)}, 0.397887),
    "hartmann6": (hartmann6, {"x%d" % i: (0.0, 1.0) for i in range(6)}, -3.32237),
    "rosenbrock6": (rosenbrock6, {"x%d" % i: (-5.0, 10.0) for i in range(6)}, 0.0),
}

LATENCY_SPACE = {"p%d" % i: (0.0, 1.0) for i in range(8)}


def _latency_objective(x):
    return sum((v - 0.3) ** 2 for v in x.values())


# --------------------------------------------------------------------------
# one search run per system: returns the best value after `evals` evaluations
# --------------------------------------------------------------------------

def _tunec_tpe(fn, bounds, evals, seed):
    import tunec as tune
    from tunec.suggest import TPESearch
    space = {k: tune.uniform(lo, hi) for k, (lo, hi) in bounds.items()}
    searcher = TPESearch(space, metric="loss", mode="min", seed=seed)
    best = math.inf
    for i in range(evals):
        loss = fn(searcher.suggest(str(i)))
        searcher.on_trial_complete(str(i), {"loss": loss})
        best = min(best, loss)
    return best


def _tunec_random(fn, bounds, evals, seed):
    import tunec as tune
    from tunec.sample import generate_variants
    space = {k: tune.uniform(lo, hi) for k, (lo, hi) in bounds.items()}
    return min(fn(cfg) for cfg, _, _, _ in generate_variants(space, evals, seed=seed))


def _optuna(fn, bounds, evals, seed, sampler):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    smp = (optuna.samplers.TPESampler(seed=seed) if sampler == "tpe"
           else optuna.samplers.RandomSampler(seed=seed))
    study = optuna.create_study(sampler=smp)
    study.optimize(lambda t: fn({k: t.suggest_float(k, lo, hi) for k, (lo, hi)
                                 in bounds.items()}), n_trials=evals)
    return study.best_value


def _hyperopt(fn, bounds, evals, seed):
    import numpy as np
    from hyperopt import STATUS_OK, Trials, fmin, hp, tpe
    space = {k: hp.uniform(k, lo, hi) for k, (lo, hi) in bounds.items()}
    trials = Trials()
    fmin(lambda x: {"loss": fn(x), "status": STATUS_OK}, space, algo=tpe.suggest,
         max_evals=evals, trials=trials, rstate=np.random.default_rng(seed),
         show_progressbar=False)
    return min(trials.losses())


SEARCHERS = {
    "tunec": _tunec_tpe,
    "tunec-random": _tunec_random,
    "optuna-tpe": lambda fn, b, e, s: _optuna(fn, b, e, s, "tpe"),
    "hyperopt-tpe": _hyperopt,
    "optuna-random": lambda fn, b, e, s: _optuna(fn, b, e, s, "random"),
}


def quality(system, problem, evals, seeds):
    fn, bounds, _ = PROBLEMS[problem]
    best, times = [], []
    for seed in range(seeds):
        start = time.perf_counter()
        best.append(SEARCHERS[system](fn, bounds, evals, seed))
        times.append(time.perf_counter() - start)
    return {"best": best, "seconds_per_search": times}


# --------------------------------------------------------------------------
# suggestion latency
# --------------------------------------------------------------------------

def _latency_tunec_tpe(past, k, multivariate=True):
    """TPESearch with its defaults (multivariate), or univariate: ``past``
    random configurations given as
    evaluated points; before each timed suggestion the previous suggestion
    is completed (untimed), so the engine's kept estimators must take one
    new trial each time, as in a run."""
    import random
    import tunec as tune
    from tunec.suggest import TPESearch
    rng = random.Random(0)
    points = [{n: rng.uniform(lo, hi) for n, (lo, hi) in LATENCY_SPACE.items()}
              for _ in range(past)]
    space = {n: tune.uniform(lo, hi) for n, (lo, hi) in LATENCY_SPACE.items()}
    searcher = TPESearch(space, metric="loss", mode="min", seed=0, points_to_evaluate=points,
                         evaluated_rewards=[_latency_objective(p) for p in points],
                         multivariate=multivariate)
    times = []
    for i in range(k + 1):                          # the first is a warm-up
        start = time.perf_counter()
        config = searcher.suggest(str(i))
        elapsed = time.perf_counter() - start
        searcher.on_trial_complete(str(i), {"loss": _latency_objective(config)})
        if i:
            times.append(elapsed)
    return {"latencies_s": times}


def _latency_tunec_random(past, k):
    import tunec as tune
    from tunec.sample import generate_variants
    space = {n: tune.uniform(lo, hi) for n, (lo, hi) in LATENCY_SPACE.items()}
    generate_variants(space, 1, seed=0)                           # warm-up
    single = []
    for i in range(k):
        start = time.perf_counter()
        generate_variants(space, 1, seed=i + 1)
        single.append(time.perf_counter() - start)
    start = time.perf_counter()
    generate_variants(space, 1000, seed=12345)
    batch = (time.perf_counter() - start) / 1000
    return {"latencies_s": single, "batch_per_config_s": batch}


def _latency_optuna(past, k):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = __import__("random").Random(0)
    dists = {n: optuna.distributions.FloatDistribution(lo, hi)
             for n, (lo, hi) in LATENCY_SPACE.items()}
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    history = []
    for _ in range(past):
        params = {n: rng.uniform(lo, hi) for n, (lo, hi) in LATENCY_SPACE.items()}
        history.append(optuna.trial.create_trial(params=params, distributions=dists,
                                                 value=_latency_objective(params)))
    study.add_trials(history)
    times = []
    for i in range(k + 1):                          # the first is a warm-up
        start = time.perf_counter()
        trial = study.ask()
        for n, (lo, hi) in LATENCY_SPACE.items():
            trial.suggest_float(n, lo, hi)
        elapsed = time.perf_counter() - start
        # Not told: the next suggestion sees the same `past` completed trials
        # (TPE ignores running trials by default).
        if i:
            times.append(elapsed)
    return {"latencies_s": times}


def _latency_hyperopt(past, k):
    import numpy as np
    from hyperopt import STATUS_OK, Trials, fmin, hp, rand, tpe
    from hyperopt.base import Domain
    space = {n: hp.uniform(n, lo, hi) for n, (lo, hi) in LATENCY_SPACE.items()}

    def objective(x):
        return {"loss": _latency_objective(x), "status": STATUS_OK}

    trials = Trials()
    fmin(objective, space, algo=rand.suggest, max_evals=past, trials=trials,
         rstate=np.random.default_rng(0), show_progressbar=False)
    domain = Domain(objective, space)
    times = []
    for i in range(k + 1):                          # the first is a warm-up
        new_id = trials.new_trial_ids(1)
        start = time.perf_counter()
        tpe.suggest(new_id, domain, trials, 1000 + i)
        elapsed = time.perf_counter() - start
        if i:
            times.append(elapsed)
    if len(trials.trials) != past:
        raise RuntimeError("hyperopt history has {} trials, expected {}".format(
            len(trials.trials), past))
    return {"latencies_s": times}


LATENCY = {"tunec": _latency_tunec_tpe,
           "tunec-uni": lambda past, k: _latency_tunec_tpe(past, k, multivariate=False),
           "tunec-random": _latency_tunec_random,
           "optuna-tpe": _latency_optuna,
           "hyperopt-tpe": _latency_hyperopt}


def run(spec):
    p = spec["params"]
    if spec["workload"] == "search-quality":
        return quality(spec["system"], p["problem"], p["evals"], p["seeds"])
    fig = LATENCY[spec["system"]](p["past"], p["k"])
    lat = sorted(fig["latencies_s"])
    fig["latency_median_s"] = lat[len(lat) // 2]
    return fig
