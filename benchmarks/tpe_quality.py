"""Search quality and suggestion latency of tunec's native TPE core, side by
side with Optuna's TPESampler and Hyperopt's tpe (docs/benchmarks.md,
"Search quality").

Quality: the best value after ``--evals`` evaluations of Branin, Hartmann-6
and 6-D Rosenbrock (benchmarks/search_bench.py's problems and domains), for
seeds 0 .. ``--seeds``-1, sequentially (one trial at a time). tunec's core
runs through tests/search_driver.c (built here at -O2 with the engine
sources: JSON lines in, JSON lines out), so nothing of the Python layer is
involved. Systems: tunec TPE univariate and multivariate, Optuna 5
TPESampler as it comes (multivariate) and with multivariate=False, Hyperopt
tpe; and tunec's multivariate core with a larger gamma and a smaller prior
weight (TUNED). Prints a markdown table (median [q1, q3] of the best value), writes the
convergence plot (median best-so-far over seeds against evaluations, per
system and problem) and the raw curves as JSON (kept out of git).

Latency: one 8-parameter suggestion at ``--past`` completed trials of 8
uniform parameters, one more random trial completed before each timed
suggestion (as in a run): tunec's core through benchmarks/tpe_latency.c,
Optuna's TPESampler through study.ask() plus eight suggest_float (which is
where it runs sample_relative / sample_independent).

Needs optuna, hyperopt and matplotlib: run it with the compare venv
(make benchmarks/.venv-compare/.stamp), e.g.
    benchmarks/.venv-compare/bin/python benchmarks/tpe_quality.py
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import engine_build  # noqa: E402  (benchmarks/engine_build.py)
sys.path.insert(0, HERE)
from search_bench import PROBLEMS  # noqa: E402

PROBLEM_ORDER = ("branin", "hartmann6", "rosenbrock6")
# gamma and prior weight picked on seeds 100-129 and checked on 200-239 (a
# candidate for TPESearch's defaults, not the core's: those stay Optuna's)
TUNED = {"gamma_fraction": 0.15, "prior_weight": 0.5}
SYSTEMS = {
    "tunec-tpe-mv": "tunec TPE (multivariate)",
    "tunec-tpe-mv-tuned": "tunec TPE (multivariate, gamma 0.15, prior weight 0.5)",
    "tunec-tpe": "tunec TPE (univariate)",
    "optuna-tpe": "Optuna TPESampler (default)",
    "optuna-tpe-uni": "Optuna TPESampler (multivariate=False)",
    "hyperopt-tpe": "Hyperopt tpe",
}


# --------------------------------------------------------------------------
# the C core through tests/search_driver.c
# --------------------------------------------------------------------------

def build(outdir, source, name):
    return engine_build.build(source, os.path.join(outdir, name))


class Driver:
    def __init__(self, path):
        self.proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)

    def __call__(self, *cmd):
        self.proc.stdin.write(json.dumps(list(cmd)) + "\n")
        reply = json.loads(self.proc.stdout.readline())
        if "err" in reply:
            raise RuntimeError("search driver: %s" % reply["msg"])
        return reply["r"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def run_tunec(driver, fn, bounds, evals, seed, multivariate, **opts):
    names = list(bounds)
    params = [{"name": n, "kind": 0, "low": lo, "high": hi} for n, (lo, hi) in bounds.items()]
    driver("new", params, dict(opts, seed=seed, multivariate=multivariate))
    values = []
    for _ in range(evals):
        x = driver("suggest")
        trial = driver("add", x)
        y = fn(dict(zip(names, x)))
        driver("complete", trial, y)
        values.append(y)
    return values


# --------------------------------------------------------------------------
# the peers
# --------------------------------------------------------------------------

def run_optuna(fn, bounds, evals, seed, multivariate):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    kw = {} if multivariate is None else {"multivariate": multivariate}
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed, **kw))
    study.optimize(lambda t: fn({k: t.suggest_float(k, lo, hi) for k, (lo, hi)
                                 in bounds.items()}), n_trials=evals)
    return [t.value for t in study.trials]


def run_hyperopt(fn, bounds, evals, seed):
    import numpy as np
    from hyperopt import STATUS_OK, Trials, fmin, hp, tpe
    space = {k: hp.uniform(k, lo, hi) for k, (lo, hi) in bounds.items()}
    trials = Trials()
    fmin(lambda x: {"loss": fn(x), "status": STATUS_OK}, space, algo=tpe.suggest,
         max_evals=evals, trials=trials, rstate=np.random.default_rng(seed),
         show_progressbar=False)
    return list(trials.losses())


def one_search(system, driver, problem, evals, seed):
    fn, bounds, _ = PROBLEMS[problem]
    if system == "tunec-tpe":
        return run_tunec(driver, fn, bounds, evals, seed, 0)
    if system == "tunec-tpe-mv":
        return run_tunec(driver, fn, bounds, evals, seed, 1)
    if system == "tunec-tpe-mv-tuned":
        return run_tunec(driver, fn, bounds, evals, seed, 1, **TUNED)
    if system == "optuna-tpe":
        return run_optuna(fn, bounds, evals, seed, None)
    if system == "optuna-tpe-uni":
        return run_optuna(fn, bounds, evals, seed, False)
    return run_hyperopt(fn, bounds, evals, seed)


def best_so_far(values):
    out, best = [], float("inf")
    for v in values:
        best = min(best, v)
        out.append(best)
    return out


def quartiles(xs):
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], statistics.median(xs), q[2]


def fmt(v):
    return "{:,.4g}".format(v) if abs(v) < 1e4 else "{:,.0f}".format(v)


def quality(args, driver):
    curves = {}
    for problem in PROBLEM_ORDER:
        for system in args.systems:
            runs = []
            start = time.perf_counter()
            for seed in range(args.seeds):
                runs.append(best_so_far(one_search(system, driver, problem, args.evals, seed)))
            curves.setdefault(problem, {})[system] = runs
            finals = [r[-1] for r in runs]
            q1, med, q3 = quartiles(finals)
            print("  %-12s %-16s median %s [%s, %s]  (%.1f s)" % (
                problem, system, fmt(med), fmt(q1), fmt(q3), time.perf_counter() - start),
                file=sys.stderr)
    return curves


def quality_table(curves, args):
    lines = ["| problem (f*) | " + " | ".join(SYSTEMS[s] for s in args.systems) + " |",
             "|---|" + "---:|" * len(args.systems)]
    for problem in PROBLEM_ORDER:
        cells = []
        meds = {s: quartiles([r[-1] for r in curves[problem][s]])[1] for s in args.systems}
        best = min(meds.values())
        for s in args.systems:
            q1, med, q3 = quartiles([r[-1] for r in curves[problem][s]])
            cell = "%s [%s, %s]" % (fmt(med), fmt(q1), fmt(q3))
            cells.append("**%s**" % cell if meds[s] == best else cell)
        lines.append("| %s (%s) | %s |" % (problem, PROBLEMS[problem][2], " | ".join(cells)))
    return "\n".join(lines)


def plot(curves, args, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(PROBLEM_ORDER), figsize=(15, 4.4))
    for ax, problem in zip(axes, PROBLEM_ORDER):
        fstar = PROBLEMS[problem][2]
        for s in args.systems:
            runs = curves[problem][s]
            med = [statistics.median(r[i] for r in runs) - fstar for i in range(args.evals)]
            ax.plot(range(1, args.evals + 1), med, label=SYSTEMS[s],
                    linewidth=2.2 if s.startswith("tunec") else 1.4,
                    linestyle="-" if s.startswith("tunec") else "--")
        ax.set_yscale("log")
        ax.set_title("%s: median best-so-far - f* (%d seeds)" % (problem, args.seeds))
        ax.set_xlabel("evaluations")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("best value found - known minimum (log)")
    axes[-1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


# --------------------------------------------------------------------------
# latency
# --------------------------------------------------------------------------

def latency_optuna(past, k, multivariate):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = random.Random(0)
    dists = {"p%d" % i: optuna.distributions.FloatDistribution(0.0, 1.0) for i in range(8)}
    kw = {} if multivariate is None else {"multivariate": multivariate}
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0, **kw))

    def random_trial():
        params = {n: rng.random() for n in dists}
        return optuna.trial.create_trial(params=params, distributions=dists,
                                         value=sum((v - 0.3) ** 2 for v in params.values()))

    study.add_trials([random_trial() for _ in range(past)])
    times = []
    for i in range(k + 1):                          # the first is a warm-up
        study.add_trial(random_trial())
        start = time.perf_counter()
        trial = study.ask()
        for n in dists:
            trial.suggest_float(n, 0.0, 1.0)
        elapsed = time.perf_counter() - start
        study.tell(trial, state=optuna.trial.TrialState.FAIL)   # not a completed trial
        if i:
            times.append(elapsed)
    return statistics.median(times)


def latency_table(args, bench):
    rows = []
    out = subprocess.run([bench, str(args.past), "301", "all"], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        label = line[:31].strip()
        med = float(line.split("median ")[1].split(" us")[0])
        rows.append(("tunec core: " + label, med))
    for label, mv in (("Optuna TPESampler (default: multivariate)", None),
                      ("Optuna TPESampler (multivariate=False)", False)):
        rows.append((label + ", 8 x uniform", latency_optuna(args.past, args.k, mv) * 1e6))
    lines = ["| searcher, space | median suggest latency |", "|---|---:|"]
    for label, us in rows:
        lines.append("| %s | %s |" % (label, "%.0f µs" % us if us < 1000 else
                                      "%.2f ms" % (us / 1000)))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--evals", type=int, default=100)
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--past", type=int, default=1000)
    ap.add_argument("--k", type=int, default=20, help="timed Optuna suggestions")
    ap.add_argument("--plot", default=os.path.join(ROOT, "docs", "tpe_convergence.png"))
    ap.add_argument("--raw", default=os.path.join(HERE, "results", "tmp", "tpe_quality.json"))
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-latency", action="store_true")
    args = ap.parse_args()
    args.systems = args.systems.split(",")
    tmp = tempfile.mkdtemp(prefix="tpe_quality_")
    try:
        if not args.skip_quality:
            driver = Driver(build(tmp, os.path.join(ROOT, "tests", "search_driver.c"),
                                  "search_driver"))
            try:
                curves = quality(args, driver)
            finally:
                driver.close()
            os.makedirs(os.path.dirname(args.raw), exist_ok=True)
            with open(args.raw, "w") as f:
                json.dump({"evals": args.evals, "seeds": args.seeds, "curves": curves}, f)
            plot(curves, args, args.plot)
            print("### Best value after %d evaluations, %d seeds: median [q1, q3]\n"
                  % (args.evals, args.seeds))
            print(quality_table(curves, args))
            print()
        if not args.skip_latency:
            bench = build(tmp, os.path.join(HERE, "tpe_latency.c"), "tpe_latency")
            print("### Suggest latency at %d completed trials x 8 parameters\n" % args.past)
            print(latency_table(args, bench))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
