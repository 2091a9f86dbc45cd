"""`make bench-compare`: tunec side by side with Ray Tune, Optuna and Hyperopt.

Runs every workload of benchmarks/workloads.py and search_bench.py on tunec
and on each peer that can do it, on this machine, in this run:

* every run is a fresh process (``_child.py``), so nothing warm carries over;
* the systems alternate run by run (A B C, A B C, ...), after a warm-up round
  that is left out of every figure;
* the trial code is the same for tunec and Ray (only the import differs), with
  the same CPU count (``tune.init(num_cpus=N)`` / ``ray.init(num_cpus=N)``) and
  so the same number of concurrent trials;
* a run that fails or times out is recorded with its error and counted in the
  tables, never dropped silently;
* medians, min and max, and ratios from paired runs (the same round).

Raw results go to benchmarks/results/compare-<timestamp>.json; docs/benchmarks.md
is generated from them (``--report FILE`` regenerates it from a saved file).

Usage: compare.py [--runs N] [--only GROUP[,GROUP...]] [--report FILE] [--no-docs]
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
DOCS = os.path.join(ROOT, "docs", "benchmarks.md")
HEADER = os.path.join(HERE, "benchmarks_header.md")
CHILD = os.path.join(HERE, "_child.py")

CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

# --------------------------------------------------------------------------
# the plan
# --------------------------------------------------------------------------
# Each group is run as rounds; one round runs every system once, in order.
# `params` are the measured runs' parameters, `warmup` the warm-up round's
# (smaller where the full size costs minutes: the warm-up only has to load
# code and fill caches). `metric` is the figure the table is about and
# `better` says whether lower or higher is better.

RAY = ["ray", "ray-reuse"]


def plan(runs):
    groups = []

    def add(gid, workload, systems, params, warmup=None, metric="wall_s", better="lower",
            env=None, timeout=300, title=None, note=None, rounds=None):
        groups.append(dict(id=gid, workload=workload, systems=systems, params=params,
                           warmup=warmup if warmup is not None else params, metric=metric,
                           better=better, env=env or {}, timeout=timeout, title=title or gid,
                           note=note, runs=rounds or runs))

    # trivial-trials (ray#11004). Ray without actor reuse starts one actor
    # per trial (seconds each on this machine): at 100 and 1,000 trials its
    # 6 runs alone would exceed the time budget, so it is scaled to 20.
    add("trivial-20", "trivial", ["tunec"] + RAY + ["optuna"], {"n": 20}, {"n": 4},
        title="trivial-trials, 20 trials (scaled for Ray without actor reuse)", timeout=240,
        note="Ray without actor reuse starts one actor per trial; at 100 trials its warm-up "
        "and 5 runs alone would take a large share of this suite's half-hour budget, so "
        "its side-by-side comparison is at 20 trials.")
    add("trivial-100", "trivial", ["tunec", "ray-reuse", "optuna"], {"n": 100}, {"n": 10},
        title="trivial-trials, 100 trials")
    add("trivial-1000", "trivial", ["tunec", "optuna"], {"n": 1000}, {"n": 100},
        title="trivial-trials, 1,000 trials (Ray not run at this size)",
        note="Ray is not run at 1,000 trials: even with actor reuse, its per-trial time in "
        "the 100-trial table makes a warm-up plus 5 runs at 1,000 trials cost a large share "
        "of this suite's budget. The 20- and 100-trial tables are the comparisons with Ray.")
    # bookkeeping: Ray's release workload (10,000 trials of 1 s on 16 CPUs)
    # scaled to this machine: 10 trials per CPU of 1 s each.
    add("bookkeeping", "bookkeeping", ["tunec"] + RAY,
        {"n": 10 * CPUS, "sleep_time": 1.0}, {"n": CPUS, "sleep_time": 1.0},
        metric="overhead_pct", title="bookkeeping: {} trials x 1 s on {} CPUs".format(
            10 * CPUS, CPUS))
    # result-throughput: one trial per CPU, each reporting for a fixed time
    # (4 s in a tight loop, so that trial start-up weighs less in Ray's rate;
    # 2 s at 50 results/s, where the figure is the overhead over 2 s). With as
    # many trials as CPUs no actor is ever reused, so Ray runs its defaults.
    for rate, duration, label in ((0, 4.0, "tight loop"), (50, 2.0, "50 results/s per trial")):
        for logging in (True, False):
            env = {} if logging else {"TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1"}
            add("throughput-{}-{}".format("tight" if rate == 0 else rate,
                                          "log" if logging else "nolog"),
                "throughput", ["tunec", "ray"],
                {"trials": CPUS, "duration": duration, "rate": rate, "logging": logging},
                {"trials": CPUS, "duration": 0.5, "rate": rate, "logging": logging},
                metric="results_per_s", better="higher", env=env,
                title="result-throughput, {}, {} trials x {:g} s, logging {}".format(
                    label, CPUS, duration, "on" if logging else "off"))
    # analysis-load: the experiments are written once (untimed) by each
    # system, then loaded in fresh processes.
    # tunec's loaders keep a parsed-column cache in the directory (written by
    # the warm-up round): the "-cold" systems load with it off.
    # (tunec's ExperimentAnalysis cannot load Ray 2.x's directory: its state
    # file has no "checkpoints"; `Analysis(dir)` is the same-directory load.)
    add("analysis-load-100", "analysis-load", ["tunec", "ray", "tunec-reads-ray", "tunec-cold",
                                               "tunec-reads-ray-cold"],
        {"n": 100, "results": 100}, title="analysis-load, 100 trials x 100 results "
        "(the size Ray writes within the time budget)")
    add("analysis-load-1000", "analysis-load", ["tunec", "tunec-cold"],
        {"n": 1000, "results": 100},
        title="analysis-load, 1,000 trials x 100 results (tunec's directory)")
    # search: suggestion latency with 8 parameters.
    for past in (100, 1000):
        add("search-latency-{}".format(past), "search-latency",
            ["tunec", "tunec-uni", "tunec-random", "optuna-tpe", "hyperopt-tpe"],
            {"past": past, "k": 20},
            metric="latency_median_s",
            title="search: time to suggest one 8-parameter config after {} trials".format(past))
    # search quality: deterministic given the seeds, so one run each.
    for problem in ("branin", "hartmann6", "rosenbrock6"):
        add("search-quality-" + problem, "search-quality",
            ["tunec", "tunec-random", "optuna-tpe", "hyperopt-tpe", "optuna-random"],
            {"problem": problem, "evals": 100, "seeds": 20}, metric="best",
            title="search quality: {}, 100 evaluations, 20 seeds".format(problem), rounds=1,
            timeout=600)
    # footprint: import time (fresh interpreter each) and the driver's memory.
    add("import", "import", ["import:tunec", "import:tunec+run", "import:ray.tune",
                             "import:optuna"], {},
        metric="import_s", title="footprint: import time", rounds=max(runs, 7))
    add("memory-3000", "trivial", ["tunec"], {"n": 3000}, {"n": 100},
        title="footprint: tunec driver memory at 3,000 trivial trials", timeout=300)
    # scale (issue 12): 100,000 trivial trials in one experiment, one run
    # (a few minutes); Ray with actor reuse at 1,000, the largest size whose
    # one run fits this suite's budget.
    add("scale-100000", "trivial", ["tunec"], {"n": 100_000}, {"n": 100}, rounds=1,
        timeout=1800, title="scale: 100,000 trivial trials in one experiment (tunec alone)")
    add("scale-ray-1000", "trivial", ["tunec", "ray-reuse"], {"n": 1000}, {"n": 10}, rounds=1,
        timeout=900, title="scale: 1,000 trivial trials, one run each (Ray's largest size "
        "within the budget)")
    return groups


# --------------------------------------------------------------------------
# running one child
# --------------------------------------------------------------------------

def _kill_tree(proc):
    """Ends a timed-out child and everything it started (Ray's daemons too)."""
    try:
        import psutil
        parent = psutil.Process(proc.pid)
        procs = parent.children(recursive=True) + [parent]
        for p in procs:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(procs, timeout=10)
    except Exception:
        proc.kill()
    proc.wait()


def run_child(system, workload, params, env_extra, timeout, tmp):
    fd, out = tempfile.mkstemp(prefix="bench-", suffix=".json", dir=tmp)
    os.close(fd)
    storage = tempfile.mkdtemp(prefix="storage-", dir=tmp)
    log_path = out[:-5] + ".log"
    spec = {"system": system, "workload": workload, "params": params, "cpus": CPUS,
            "tmp": storage, "out": out}
    if workload == "import":
        module = system.split(":", 1)[1]
        spec["params"] = {"module": "tunec" if module.startswith("tunec") else module,
                          "touch_run": module == "tunec+run"}
    env = dict(os.environ)
    env.update(env_extra)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, CHILD, json.dumps(spec)], stdout=log,
                                stderr=subprocess.STDOUT, env=env, cwd=tmp)
        try:
            proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill_tree(proc)
            timed_out = True
    elapsed = time.perf_counter() - start
    record = {"system": system, "params": spec["params"], "process_s": elapsed,
              "loadavg_before": load_before, "loadavg_after": os.getloadavg()[0]}
    try:
        with open(out) as f:
            child = json.load(f)
    except (OSError, ValueError):
        child = None
    if child and child.get("ok"):
        record.update(ok=True, figures=child["figures"])
    else:
        with open(log_path, errors="replace") as f:
            tail = f.read()[-4000:]
        if timed_out:
            error = "timed out after {} s".format(timeout)
        elif child:
            error = child.get("error", "failed")
        else:
            error = "the child exited with status {} without writing results".format(
                proc.returncode)
        record.update(ok=False, error=error, log_tail=tail)
    shutil.rmtree(storage, ignore_errors=True)
    # Flush what this run wrote and deleted, so that the next run (often
    # another system) does not pay for it in its own file-system calls.
    os.sync()
    for path in (out, log_path):
        try:
            os.remove(path)
        except OSError:
            pass
    return record


# --------------------------------------------------------------------------
# groups
# --------------------------------------------------------------------------

def _say(msg):
    print(msg, file=sys.stderr, flush=True)


def _brief(record, metric):
    if not record["ok"]:
        return "FAILED: " + record["error"].strip().splitlines()[-1][:200]
    value = record["figures"].get(metric)
    if isinstance(value, list):
        return "{} values".format(len(value))
    return "{}={:.4g}".format(metric, value)


def prepare_analysis(group, tmp):
    """Writes the experiments analysis-load reads (untimed), once per group."""
    p = group["params"]
    root = tempfile.mkdtemp(prefix="analysis-", dir=tmp)
    writers = {"tunec": ("tunec", "tunec_exp")}
    if "ray" in group["systems"]:
        writers["ray"] = ("ray-reuse", "ray_exp")
    dirs, setup = {}, {}
    for key, (system, name) in writers.items():
        wp = {"n": p["n"], "results": p["results"], "storage_path": root, "name": name}
        rec = run_child(system, "analysis-write", wp, {}, 900, tmp)
        setup[key] = rec
        _say("  [{}] write {} with {}: {}".format(group["id"], name, system,
                                                  _brief(rec, "wall_s")))
        dirs[key] = os.path.join(root, name) if rec["ok"] else None
    return root, dirs, setup


def run_group(group, tmp):
    _say("== {} ({} runs + warm-up)".format(group["title"], group["runs"]))
    out = {k: group[k] for k in ("id", "workload", "systems", "params", "warmup", "metric",
                                 "better", "title", "note", "runs")}
    out["env"] = group["env"]
    out["rounds"] = []
    out["warmup_round"] = []
    analysis_root = None
    if group["workload"] == "analysis-load":
        analysis_root, dirs, out["setup"] = prepare_analysis(group, tmp)
    rounds = group["runs"] + (0 if group["workload"] == "search-quality" else 1)
    for r in range(rounds):
        warm = r == 0 and group["workload"] != "search-quality"
        row = []
        for system in group["systems"]:
            params = dict(group["warmup"] if warm else group["params"])
            workload = group["workload"]
            if workload == "analysis-load":
                src = {"tunec": "tunec", "ray": "ray", "tunec-reads-ray": "ray",
                       "tunec-cold": "tunec", "tunec-reads-ray-cold": "ray"}[system]
                loader = {"tunec": "tunec", "ray": "ray", "tunec-reads-ray": "tunec-analysis",
                          "tunec-cold": "tunec-nocache",
                          "tunec-reads-ray-cold": "tunec-analysis-nocache"}[system]
                if dirs.get(src) is None:
                    rec = {"system": system, "ok": False, "params": params,
                           "error": "the experiment to load was not written (see setup)"}
                    row.append(rec)
                    continue
                params.update(loader=loader, dir=dirs[src])
            rec = run_child(system, workload, params, group["env"], group["timeout"], tmp)
            row.append(rec)
            _say("  [{}] {} {}: {}".format(group["id"], "warm-up" if warm else "run %d" % r,
                                           system, _brief(rec, group["metric"])))
        (out["warmup_round"] if warm else out["rounds"]).append(row)
    if analysis_root:
        shutil.rmtree(analysis_root, ignore_errors=True)
    return out


# --------------------------------------------------------------------------
# machine and versions
# --------------------------------------------------------------------------

def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(module):
    try:
        from importlib.metadata import version
        return version(module)
    except Exception:
        return None


def _git(*args):
    try:
        return subprocess.run(["git", "-C", ROOT] + list(args), capture_output=True, text=True,
                              timeout=20).stdout.strip()
    except Exception:
        return ""


def machine():
    mem_kb = None
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "cpus": CPUS, "cpu_model": _cpu_model(), "memory_gib": round(mem_kb / 2 ** 20, 1),
        "kernel": platform.release(), "python": platform.python_version(),
        "versions": {m: _version(m) for m in ("tunec", "ray", "optuna", "hyperopt", "numpy",
                                                "pandas", "pyarrow")},
        "tunec_commit": _git("rev-parse", "--short", "HEAD"),
        "tunec_tree_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", 5)))
    ap.add_argument("--only", default="", help="comma-separated group ids (prefixes)")
    ap.add_argument("--report", help="regenerate docs/benchmarks.md from this results file")
    ap.add_argument("--no-docs", action="store_true")
    args = ap.parse_args(argv)
    import report
    if args.report:
        with open(args.report) as f:
            report.write_docs(json.load(f), os.path.relpath(args.report, ROOT), HEADER, DOCS)
        return 0
    if args.runs < 1:
        ap.error("--runs must be >= 1")
    groups = plan(args.runs)
    if args.only:
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        groups = [g for g in groups if any(g["id"].startswith(w) for w in wanted)]
        if not groups:
            ap.error("--only matched no group")
    info = machine()
    _say("machine: {} CPUs ({}), Python {}; versions {}".format(
        info["cpus"], info["cpu_model"], info["python"], info["versions"]))
    started = datetime.datetime.now()
    tmp = tempfile.mkdtemp(prefix="tunec-bench-compare-")
    results = {"started": started.isoformat(timespec="seconds"), "machine": info,
               "runs": args.runs, "groups": []}
    t0 = time.perf_counter()
    try:
        for group in groups:
            results["groups"].append(run_group(group, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    results["total_s"] = time.perf_counter() - t0
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, "compare-{}.json".format(started.strftime("%Y%m%d-%H%M%S")))
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    _say("raw results: {} (total {:.0f} s)".format(os.path.relpath(path, ROOT),
                                                  results["total_s"]))
    if not args.no_docs and not args.only:
        report.write_docs(results, os.path.relpath(path, ROOT), HEADER, DOCS)
        _say("wrote " + os.path.relpath(DOCS, ROOT))
    print(report.summary(results))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    sys.exit(main())
