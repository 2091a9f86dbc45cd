"""`make bench`: the tunec side of the benchmarks, quickly, for day-to-day work.

Prints the median (and min/max) of a few runs of each workload. The
side-by-side comparison with Ray Tune, Optuna and Hyperopt is
`make bench-compare` (compare.py); the workloads live in workloads.py so both
share them.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import workloads  # noqa: E402


def repeat(fn, runs):
    results = [fn() for _ in range(runs)]
    keys = results[0].keys()
    return {k: (statistics.median(r[k] for r in results), min(r[k] for r in results),
                max(r[k] for r in results)) for k in keys}


def import_time(runs=7):
    code = "import time; t=time.perf_counter(); import tunec; print(time.perf_counter()-t)"
    times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=True).stdout) for _ in range(runs)]
    return statistics.median(times), min(times), max(times)


def main():
    import tunec as tune
    tune.init(num_cpus=os.cpu_count() or 2)
    runs = int(os.environ.get("BENCH_RUNS", "5"))
    tmp = tempfile.mkdtemp(prefix="tunec-bench-")
    try:
        print("machine: {} CPUs, Python {}".format(os.cpu_count(), sys.version.split()[0]))
        med, lo, hi = import_time()
        print("import tunec: median {:.1f} ms (min {:.1f}, max {:.1f})".format(
            med * 1e3, lo * 1e3, hi * 1e3))
        first_trial_latency(tmp, runs)
        workloads.trivial_trials(tune, 10, tmp)   # warm-up
        fig = repeat(lambda: workloads.trivial_trials(tune, 100, tmp), runs)
        print("trivial-trials, 100 trials reporting once: median {:.3f} s wall "
              "(min {:.3f}, max {:.3f}); {:.0f} trials/s".format(
                  *fig["wall_s"], fig["trials_per_s"][0]))
        fig = repeat(lambda: workloads.result_throughput(tune, 4, 100_000, tmp), max(3, runs // 2))
        print("result-throughput, 4 trials x 100,000 tight-loop reports, JSON+CSV on: "
              "median {:.0f} results/s (min {:.0f}, max {:.0f}); wall {:.2f} s".format(
                  *fig["results_per_s"], fig["wall_s"][0]))
        callback_figures()
        analysis_load(tune, tmp, runs)
        for name in ("fifo", "asha", "hyperband"):
            fig = repeat(lambda: scheduled_experiment(tune, name, tmp), max(3, runs // 2))
            print("scheduled experiment, 200 trials x up to 100 results, {}: median {:.2f} s "
                  "wall, {:.0f} results ({:.0f} results/s)".format(
                      name, fig["wall_s"][0], fig["results"][0], fig["results_per_s"][0]))
        scale_figures()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # The decision cores alone, C against the Python reference (issue 4).
    subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "sched_bench.py")], check=True)


def scale_figures():
    """Issue 12: many trivial trials in one experiment (benchmarks/scale.py,
    each in a fresh process): time per trial and the driver's peak RSS growth
    per trial, flat from 1,000 up; a killed run resumed. 100,000 trials (a few
    minutes) only with BENCH_SCALE_100K=1."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scale.py")
    sizes = [1000, 10_000] + ([100_000] if os.environ.get("BENCH_SCALE_100K") == "1" else [])
    for mode in ("run", "resume"):
        for n in sizes:
            out = subprocess.run([sys.executable, script, mode, str(n)], capture_output=True,
                                 text=True, check=True).stdout
            fig = json.loads(out.strip().splitlines()[-1])
            if mode == "run":
                print("scale, {:,} trivial trials, 2 workers: {:.1f} s, {:.0f} us/trial, peak "
                      "RSS growth {:.1f} MB ({:.2f} KB/trial)".format(
                          n, fig["wall_s"], fig["us_per_trial"], fig["peak_rss_growth_mb"],
                          fig["rss_kb_per_trial"]))
            else:
                print("scale resume, {:,} trials killed after {:,}: state read {:.2f} s "
                      "({:.2f} s CPU, peak RSS {:.0f} MB), first trial {:.2f} s after tune.run, resumed run "
                      "{:.1f} s, peak RSS growth {:.1f} MB ({:.2f} KB/trial)".format(
                          n, fig["killed_after_trials"], fig["state_read_s"],
                          fig["state_read_cpu_s"], fig["state_read_peak_rss_mb"], fig["first_trial_s"], fig["wall_s"],
                          fig["peak_rss_growth_mb"], fig["rss_kb_per_trial"]))


def callback_figures():
    """Issue 13: a tight reporting loop without a callback and with a no-op
    Python on_trial_result hook (benchmarks/callback_bench.py, in a fresh
    process: results/s and the driver's CPU per result, medians of 3)."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "callback_bench.py")
    out = subprocess.run([sys.executable, script, "--only", "none,noop", "--runs", "3"],
                         capture_output=True, text=True, check=True).stdout
    print("callbacks (no hook / a no-op on_trial_result), 2 trials x 100,000 tight-loop "
          "reports, JSON+CSV on:")
    for line in out.splitlines():
        if "median" in line or line.startswith("load"):
            print("  " + line.strip())


def analysis_load(tune, tmp, runs):
    """The analysis loader (issue 12): a 1,000 x 100 experiment written once
    by tune.run (tunec's real files), then read back in fresh processes:
    ExperimentAnalysis(dir) + dataframe(), and trial_dataframes, with the
    peak RSS growth against the bytes of the loaded columns."""
    workloads.write_experiment(tune, 1000, 100, tmp, "analysis-load")
    exp = os.path.join(tmp, "analysis-load")
    code = ("import sys, json; sys.path.insert(0, {!r}); import workloads; "
            "print(json.dumps(workloads.load_figures({!r})))").format(
                os.path.dirname(os.path.abspath(__file__)), exp)
    figs = [json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                      text=True, check=True).stdout) for _ in range(runs)]
    med = {k: statistics.median(f[k] for f in figs) for k in figs[0]}
    print("analysis-load, 1,000 trials x 100 results: ExperimentAnalysis+dataframe median "
          "{:.1f} ms (min {:.1f}); trial_dataframes ({:.0f} rows) median {:.1f} ms; "
          "peak RSS growth {:.1f} MB for {:.1f} MB of columns".format(
              med["construct_dataframe_s"] * 1e3,
              min(f["construct_dataframe_s"] for f in figs) * 1e3, med["rows"],
              med["trial_dataframes_s"] * 1e3, med["rss_growth_mb"], med["column_mb"]))


FRESH_PROCESS = """
import sys, tempfile
sys.path.insert(0, {here!r})
import workloads
import tunec as tune
fig = workloads.first_trial_latency(tune, {tmp!r})
print(fig["first_trial_s"])
"""


def first_trial_latency(tmp, runs):
    """Time from tune.run to the first trial's first line of user code: in a
    fresh process (import tunec, then tune.run: nothing started before), and
    for later tune.run calls in the same process."""
    here = os.path.dirname(os.path.abspath(__file__))
    code = FRESH_PROCESS.format(here=here, tmp=tmp)
    fresh = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=True).stdout) for _ in range(max(runs, 5))]
    import tunec as tune
    workloads.first_trial_latency(tune, tmp)   # warm-up
    again = [workloads.first_trial_latency(tune, tmp)["first_trial_s"]
             for _ in range(max(runs, 5))]
    for label, times in (("first tune.run in a fresh process", fresh),
                         ("later tune.run in the same process", again)):
        print("first trial start latency, {}: median {:.1f} ms (min {:.1f}, max {:.1f})".format(
            label, statistics.median(times) * 1e3, min(times) * 1e3, max(times) * 1e3))


def _curve(config, reporter):
    # A learning curve toward config["a"]: the schedulers' decisions matter.
    a = config["a"]
    for i in range(1, 101):
        reporter(score=a * (1.0 - 0.9 ** i))


def scheduled_experiment(tune, name, tmp):
    """200 function trials of 100 results each under a scheduler: the
    scheduler's work is per result, in the engine, with no Python."""
    from tunec.schedulers import ASHAScheduler, HyperBandScheduler
    sched = {"fifo": None,
             "asha": ASHAScheduler(metric="score", mode="max", max_t=100, grace_period=4),
             "hyperband": HyperBandScheduler(metric="score", mode="max", max_t=100)}[name]
    start = time.perf_counter()
    analysis = tune.run(_curve, config={"a": tune.uniform(0, 1)}, num_samples=200,
                        scheduler=sched, verbose=0, local_dir=tmp, seed=1,
                        name="sched-{}-{}".format(name, time.time_ns()))
    wall = time.perf_counter() - start
    results = sum(t.last_result.get("training_iteration", 0) for t in analysis.trials)
    return {"wall_s": wall, "results": results, "results_per_s": results / wall}


if __name__ == "__main__":
    main()
