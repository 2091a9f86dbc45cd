"""Search quality and suggestion latency of tunec's native TPE core, side by
side with Optuna's TPESampler and Hyperopt's tpe (docs/benchmarks.md,
"Search quality").

Quality: the best value after ``--evals`` evaluations of Branin, Hartmann-6
and 6-D Rosenbrock (benchmarks/search_bench.py's problems and domains), for
seeds ``--seed-start`` .. +``--seeds``-1 (0-19 for docs/benchmarks.md; settings
are chosen on other seeds), sequentially (one trial at a time). tunec's core
runs through tests/search_driver.c (built here at -O2 with the engine
sources: JSON lines in, JSON lines out), so nothing of the Python layer is
involved. Systems: tunec with TPESearch's defaults (read from
tunec/suggest/tpe.py), multivariate and univariate; tunec's core with
Optuna's settings, multivariate and univariate; Optuna 5 TPESampler as it
comes (multivariate) and with multivariate=False; Hyperopt tpe. Prints
markdown (median [q1, q3] of the best value), writes the convergence plot
(median best-so-far over seeds against evaluations, per system and
problem, with the quartile band of tunec's default and Optuna's default)
and the raw curves as JSON (kept out of git); with ``--docs`` the markdown
replaces the marked section of docs/benchmarks.md.

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
SYSTEMS = {
    "tunec-default": "tunec TPESearch (defaults)",
    "tunec-default-uni": "tunec TPESearch (multivariate=False)",
    "tunec-tpe-mv": "tunec TPE, Optuna's settings",
    "tunec-tpe": "tunec TPE, Optuna's settings, univariate",
    "optuna-tpe": "Optuna TPESampler (default)",
    "optuna-tpe-uni": "Optuna TPESampler (multivariate=False)",
    "hyperopt-tpe": "Hyperopt tpe",
}


def tpesearch_defaults():
    """TPESearch's defaults (tunec/suggest/tpe.py, read from its source, so
    that this venv needs no tunec build) as the core's options."""
    import ast
    with open(os.path.join(ROOT, "tunec", "suggest", "tpe.py")) as f:
        tree = ast.parse(f.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            names = [a.arg for a in node.args.args][-len(node.args.defaults):]
            d = dict(zip(names, (ast.literal_eval(v) for v in node.args.defaults)))
            return {"n_startup_trials": d["n_startup_trials"],
                    "n_ei_candidates": d["n_ei_candidates"], "ei_budget": d["ei_budget"],
                    "gamma_fraction": d["gamma"], "prior_weight": d["prior_weight"],
                    "consider_endpoints": int(d["consider_endpoints"]),
                    "multivariate": int(d["multivariate"])}
    raise RuntimeError("TPESearch.__init__ not found")


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
    if system in ("tunec-default", "tunec-default-uni"):
        opts = tpesearch_defaults()
        mv = opts.pop("multivariate")
        mv = mv if system == "tunec-default" else 0
        return run_tunec(driver, fn, bounds, evals, seed, mv, **opts)
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
            for seed in range(args.seed_start, args.seed_start + args.seeds):
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
            line, = ax.plot(range(1, args.evals + 1), med, label=SYSTEMS[s],
                            linewidth=2.2 if s.startswith("tunec") else 1.4,
                            linestyle="-" if s.startswith("tunec") else "--")
            if s in ("tunec-default", "optuna-tpe"):
                qs = [quartiles([r[i] for r in runs]) for i in range(args.evals)]
                ax.fill_between(range(1, args.evals + 1), [q[0] - fstar for q in qs],
                                [q[2] - fstar for q in qs], color=line.get_color(), alpha=0.12)
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
    times, cpu = [], []
    for i in range(k + 1):                          # the first is a warm-up
        study.add_trial(random_trial())
        start, cstart = time.perf_counter(), time.thread_time()
        trial = study.ask()
        for n in dists:
            trial.suggest_float(n, 0.0, 1.0)
        elapsed, celapsed = time.perf_counter() - start, time.thread_time() - cstart
        study.tell(trial, state=optuna.trial.TrialState.FAIL)   # not a completed trial
        if i:
            times.append(elapsed)
            cpu.append(celapsed)
    return statistics.median(times), statistics.median(cpu)


def latency_table(args, bench):
    rows = []
    out = subprocess.run([bench, str(args.past), "301", "all"], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        label = line[:31].strip()
        med = float(line.split("median ")[1].split(" us")[0])
        cpu = float(line.split("cpu median ")[1].split(" us")[0])
        if label.startswith("optuna-set "):
            rows.append(("tunec core, Optuna's settings: " + label[len("optuna-set "):], med, cpu))
        else:
            rows.append(("tunec TPESearch defaults: " + label, med, cpu))
    for label, mv in (("Optuna TPESampler (default: multivariate)", None),
                      ("Optuna TPESampler (multivariate=False)", False)):
        wall, cpu = latency_optuna(args.past, args.k, mv)
        rows.append((label + ", 8 x uniform", wall * 1e6, cpu * 1e6))

    def us(v):
        return "%.0f µs" % v if v < 1000 else "%.2f ms" % (v / 1000)
    # the thread's CPU time is what a loaded machine inflates least
    lines = ["| searcher, space | median suggest latency | median CPU time |", "|---|---:|---:|"]
    for label, wall, cpu in rows:
        lines.append("| %s | %s | %s |" % (label, us(wall), us(cpu)))
    return "\n".join(lines)


BEGIN, END = "<!-- tpe_quality.py: begin -->", "<!-- tpe_quality.py: end -->"


def versions():
    out = []
    for mod in ("optuna", "hyperopt"):
        try:
            out.append("%s %s" % (mod, __import__(mod).__version__))
        except Exception:                 # noqa: BLE001 (a peer not installed)
            pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                                capture_output=True).stdout.strip()
    except OSError:
        commit = "?"
    return "tunec at commit %s, %s, Python %s" % (commit, ", ".join(out),
                                                   sys.version.split()[0])


def write_docs(path, sections):
    """Replaces the text between the BEGIN and END markers of path."""
    with open(path) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise SystemExit("%s: no %s ... %s markers" % (path, BEGIN, END))
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    with open(path, "w") as f:
        f.write(head + BEGIN + "\n" + "\n\n".join(sections) + "\n" + END + tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--seed-start", type=int, default=0,
                    help="first seed (the table's are 0-19; choose settings on others)")
    ap.add_argument("--evals", type=int, default=100)
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--past", type=int, default=1000)
    ap.add_argument("--k", type=int, default=20, help="timed Optuna suggestions")
    ap.add_argument("--plot", default=os.path.join(ROOT, "docs", "tpe_convergence.png"))
    ap.add_argument("--raw", default=os.path.join(HERE, "results", "tmp", "tpe_quality.json"))
    ap.add_argument("--docs", help="write the tables into this file between its markers "
                    "(docs/benchmarks.md)")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-latency", action="store_true")
    args = ap.parse_args()
    args.systems = args.systems.split(",")
    tmp = tempfile.mkdtemp(prefix="tpe_quality_")
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    load0 = os.getloadavg()[0]
    sections = []
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
                json.dump({"evals": args.evals, "seeds": args.seeds,
                           "seed_start": args.seed_start, "curves": curves}, f)
            plot(curves, args, args.plot)
            sections.append("Best value after %d evaluations, seeds %d-%d: median [first "
                            "quartile, third quartile]; bold: the best median per problem."
                            % (args.evals, args.seed_start, args.seed_start + args.seeds - 1))
            sections.append(quality_table(curves, args))
            sections.append("![median best-so-far minus the known minimum against "
                            "evaluations, per system and problem](%s)"
                            % os.path.basename(args.plot))
        if not args.skip_latency:
            bench = build(tmp, os.path.join(HERE, "tpe_latency.c"), "tpe_latency")
            sections.append("Suggest latency at %d completed trials x 8 parameters:"
                            % args.past)
            sections.append(latency_table(args, bench))
        sections.append("Run started %s, %s; 1-minute load average %.2f at the start, %.2f "
                        "at the end (2 shared CPUs)." % (started, versions(), load0,
                                                          os.getloadavg()[0]))
        print("\n\n".join(sections))
        if args.docs:
            write_docs(args.docs, sections)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
