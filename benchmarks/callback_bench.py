"""Results per second through tune.run with a Python callback (issue 13).

    .venv/bin/python benchmarks/callback_bench.py [--trials 2] [--results 100000]
        [--only none,noop] [--runs 3]

(`make bench` runs `--only none,noop --runs 3`.)

Runs a tight reporting loop (benchmarks/workloads.py's make_tight_loop) three
ways and prints one line each:
  none      no callback: the engine alone (the baseline);
  noop      a Callback whose on_trial_result does nothing but count: every
            result crosses into Python (the issue's >= 50k results/s figure);
  slow      a hook that sleeps 1 ms per result, far slower than the trials:
            the backlog stays within the engine's bound (the driver's peak RSS
            is printed) and the hook still sees every result.
Results/s is results / wall time of the whole tune.run (worker start-up
included); the driver's CPU time per result is less sensitive to a busy
machine, and is also split into the thread that steps the run (the engine:
reading workers, logging) and the hook thread (decoding results, calling
hooks). Report figures with `uptime`'s load average. With --runs N each
kind runs N times and a median line follows.
"""
import argparse
import os
import resource
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads  # noqa: E402

import tunec as tune  # noqa: E402


class Counting(tune.Callback):
    def __init__(self, delay=0.0):
        self.results = 0
        self.batches = 0
        self.delay = delay
        self.cpu = [None, None]      # the hook thread's CPU clock: first, last call

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.results += 1
        self.batches = iteration     # tunec's iteration counts event batches
        if self.cpu[0] is None:
            self.cpu[0] = time.thread_time()
        elif self.results % 1024 == 0:
            self.cpu[1] = time.thread_time()
        if self.delay:
            time.sleep(self.delay)


def one(kind, trials, results, storage, run_no=0):
    callbacks = {"none": None, "noop": [Counting()], "slow": [Counting(0.001)]}[kind]
    fn = workloads.make_tight_loop(tune, results)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    main0 = time.thread_time()
    start = time.perf_counter()
    analysis = tune.run(fn, num_samples=trials, storage_path=storage, verbose=0,
                        callbacks=callbacks, name="{}-{}".format(kind, run_no))
    wall = time.perf_counter() - start
    main_cpu = time.thread_time() - main0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    done = sum(t.last_result.get("training_iteration", 0) for t in analysis.trials)
    seen = callbacks[0].results if callbacks else done
    if done != trials * results or seen != done:
        raise RuntimeError("{}: expected {} results, logged {}, hook saw {}".format(
            kind, trials * results, done, seen))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    batches = ""
    if callbacks:
        cb = callbacks[0]
        hook_cpu = (cb.cpu[1] or cb.cpu[0]) - cb.cpu[0]
        batches = "; main thread {:.1f} us/result, hook thread {:.1f} us/result; {} batches".format(
            1e6 * main_cpu / done, 1e6 * hook_cpu / done, cb.batches)
    print("{:5s} {:>8d} results in {:6.2f} s: {:>8.0f} results/s; driver CPU {:5.2f} s "
          "({:.1f} us/result); driver peak RSS {:.0f} MB{}"
          .format(kind, done, wall, done / wall, cpu, 1e6 * cpu / done, rss_mb, batches),
          flush=True)
    return {"results_per_s": done / wall, "us_per_result": 1e6 * cpu / done}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--results", type=int, default=100000)
    parser.add_argument("--slow-results", type=int, default=20000)
    parser.add_argument("--only", default="none,noop,slow",
                        help="comma-separated kinds: none, noop, slow")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    kinds = [k for k in ["none", "noop", "slow"] if k in args.only.split(",")]
    if not kinds:
        parser.error("--only: name none, noop and/or slow")
    tune.init(num_cpus=args.trials)
    print("load average:", " ".join("{:.2f}".format(x) for x in os.getloadavg()))
    with tempfile.TemporaryDirectory() as storage:
        for kind in kinds:
            n = args.slow_results if kind == "slow" else args.results
            figs = [one(kind, args.trials, n, storage, i) for i in range(args.runs)]
            if args.runs > 1:
                rates = [f["results_per_s"] for f in figs]
                print("{:5s} median of {}: {:.0f} results/s (min {:.0f}, max {:.0f}); driver CPU "
                      "{:.1f} us/result".format(kind, args.runs, statistics.median(rates),
                                                min(rates), max(rates),
                                                statistics.median(f["us_per_result"]
                                                                  for f in figs)), flush=True)
    print("load average:", " ".join("{:.2f}".format(x) for x in os.getloadavg()))


if __name__ == "__main__":
    main()
