"""ASHA and HyperBand decisions per second: the C cores against the Python
reference of the same rules (tests/sched_reference.py, Ray 0.8's code with
numpy), on the same simulation (see benchmarks/sched_bench.c).

    python benchmarks/sched_bench.py [--trials 10000] [--results 100] [--slots 8]

Builds sched_bench.c with the engine sources (gcc -O2) into a temporary dir,
runs it, runs the Python simulation, checks both made the same decisions
(checksums) and prints decisions/s and the ratio. The C time covers the whole
simulated run (metric evaluation and bookkeeping included); the Python time
covers only the calls into the scheduler, so the ratio understates the gap.
Not part of the tests.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import engine_build  # noqa: E402  (benchmarks/engine_build.py)
sys.path.insert(0, os.path.join(ROOT, "tests"))
import sched_reference as ref  # noqa: E402

_MASK = (1 << 64) - 1


def fnv(h, v):
    v &= _MASK
    for i in range(8):
        h ^= (v >> (8 * i)) & 0xFF
        h = (h * 0x100000001B3) & _MASK
    return h


class Curves:
    def __init__(self, n):
        rng = ref.Rng(2024)
        self.a, self.k = [], []
        for _ in range(n):
            self.a.append(rng.random())
            self.k.append(0.02 + 0.18 * rng.random())

    def metric(self, i, t):
        return (self.a[i] * (1.0 - math.exp(-self.k[i] * float(t)))
                + 0.01 * math.sin(float(i) * 12.9898 + float(t) * 78.233))


def run_asha(n, r, k, curves):
    sched = ref.AsyncHyperBand(max_t=100, grace_period=1, reduction_factor=4, brackets=1,
                               mode="max", seed=1)
    slot, it = [-1] * k, [0] * n
    nxt = running = calls = 0
    counts = [0, 0, 0]
    h = 0xCBF29CE484222325
    spent = 0.0
    clock = time.perf_counter
    while True:
        for s in range(k):
            if slot[s] < 0 and nxt < n:
                t0 = clock()
                b = sched.on_trial_add(nxt)
                spent += clock() - t0
                h = fnv(h, b)
                calls += 1
                slot[s] = nxt
                nxt += 1
                running += 1
        if not running:
            break
        for s in range(k):
            i = slot[s]
            if i < 0:
                continue
            it[i] += 1
            m = curves.metric(i, it[i])
            t0 = clock()
            d = sched.on_trial_result(i, float(it[i]), m)
            spent += clock() - t0
            calls += 1
            h = fnv(h, d)
            counts[2 if d == ref.STOP else 0] += 1
            if d == ref.CONTINUE and it[i] >= r:
                t0 = clock()
                sched.on_trial_complete(i, float(it[i]), m)
                spent += clock() - t0
                calls += 1
                d = ref.STOP
            if d == ref.STOP:
                slot[s] = -1
                running -= 1
    return {"sched": "asha", "decisions": calls, "seconds": spent,
            "checksum": "%016x" % h, "counts": counts}


def run_hyperband(n, r, k, curves):
    sched = ref.HyperBand(max_t=100, reduction_factor=3, mode="max", accumulate=True)
    runner = ref.FakeRunner([ref.PENDING] * n, [1] * n, sched)
    slot, it = [-1] * k, [0] * n
    running = calls = 0
    counts = [0, 0, 0]
    h = 0xCBF29CE484222325
    spent = 0.0
    clock = time.perf_counter

    def fold_actions(h):
        for trial, kind in runner.actions:
            h = fnv(fnv(h, trial), kind)
        return h

    t0 = clock()
    for i in range(n):
        sched.on_trial_add(runner, i)
    spent += clock() - t0
    calls += n
    while True:
        for s in range(k):
            if slot[s] < 0:
                t0 = clock()
                i = sched.choose_trial_to_run(runner)
                spent += clock() - t0
                calls += 1
                i = -1 if i is None else i
                h = fnv(h, i)
                if i < 0:
                    break
                runner.statuses[i] = ref.RUNNING
                slot[s] = i
                running += 1
        if not running:
            break
        for s in range(k):
            i = slot[s]
            if i < 0:
                continue
            it[i] += 1
            m = curves.metric(i, it[i])
            runner.actions = []
            t0 = clock()
            d = sched.on_trial_result(runner, i, float(it[i]), m)
            spent += clock() - t0
            calls += 1
            h = fold_actions(fnv(h, d))
            counts[d] += 1
            if d == ref.CONTINUE and it[i] >= r:
                runner.statuses[i] = ref.TERMINATED
                runner.actions = []
                t0 = clock()
                sched.on_trial_complete(runner, i)
                spent += clock() - t0
                calls += 1
                h = fold_actions(h)
                d = ref.STOP
            elif d != ref.CONTINUE:
                runner.statuses[i] = ref.PAUSED if d == ref.PAUSE else ref.TERMINATED
            if d != ref.CONTINUE:
                slot[s] = -1
                running -= 1
    return {"sched": "hyperband", "decisions": calls, "seconds": spent,
            "checksum": "%016x" % h, "counts": counts}


def build(tmp):
    return engine_build.build(os.path.join(ROOT, "benchmarks", "sched_bench.c"),
                              os.path.join(tmp, "sched_bench"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=10000)
    ap.add_argument("--results", type=int, default=100)
    ap.add_argument("--slots", type=int, default=8)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        exe = build(tmp)
        proc = subprocess.run([exe, str(args.trials), str(args.results), str(args.slots)],
                              capture_output=True, text=True, check=True)
    c = {row["sched"]: row for row in map(json.loads, proc.stdout.splitlines())}
    curves = Curves(args.trials)
    py = {"asha": run_asha(args.trials, args.results, args.slots, curves),
          "hyperband": run_hyperband(args.trials, args.results, args.slots, curves)}
    print("%d trials x up to %d results, %d running at once" % (args.trials, args.results,
                                                                 args.slots))
    print("%-10s %10s %14s %14s %9s  %s" % ("scheduler", "decisions", "C dec/s", "Python dec/s",
                                            "C/Python", "same decisions"))
    ok = True
    for name in ("asha", "hyperband"):
        a, b = c[name], py[name]
        same = a["checksum"] == b["checksum"] and a["decisions"] == b["decisions"]
        ok &= same
        c_rate = a["decisions"] / a["seconds"]
        py_rate = b["decisions"] / b["seconds"]
        print("%-10s %10d %14.0f %14.0f %8.0fx  %s" % (name, a["decisions"], c_rate, py_rate,
                                                     c_rate / py_rate, "yes" if same else "NO"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
