"""`make bench`: the tunec side of the benchmarks, quickly, for day-to-day work.

Prints the median (and min/max) of a few runs of each workload. The
side-by-side comparison with Ray Tune, Optuna and Hyperopt is
`make bench-compare` (compare.py); the workloads live in workloads.py so both
share them.
"""
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
        workloads.trivial_trials(tune, 10, tmp)   # warm-up
        fig = repeat(lambda: workloads.trivial_trials(tune, 100, tmp), runs)
        print("trivial-trials, 100 trials reporting once: median {:.3f} s wall "
              "(min {:.3f}, max {:.3f}); {:.0f} trials/s".format(
                  *fig["wall_s"], fig["trials_per_s"][0]))
        fig = repeat(lambda: workloads.result_throughput(tune, 4, 100_000, tmp), max(3, runs // 2))
        print("result-throughput, 4 trials x 100,000 tight-loop reports, JSON+CSV on: "
              "median {:.0f} results/s (min {:.0f}, max {:.0f}); wall {:.2f} s".format(
                  *fig["results_per_s"], fig["wall_s"][0]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
