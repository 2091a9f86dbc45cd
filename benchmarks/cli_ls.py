"""How long `tune ls` takes on a 1,000-trial experiment (`make bench-cli`).

Writes an experiment as tune.run leaves it (per trial: params.json, a
result.json of ROWS lines with the config, progress.csv) under a temp dir,
then runs `tune ls`, `tune ls --sort ... --filter ... --limit` and `tune lsx`
as separate processes, REPEAT times each, and prints the median wall time
and the median CPU time (user + system of the child) with the load average.

    python benchmarks/cli_ls.py [--trials 1000] [--rows 100] [--repeat 7]
"""
import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def write_experiment(root, trials, rows):
    exp = os.path.join(root, "exp")
    rng = random.Random(0)
    for t in range(trials):
        config = {"lr": rng.random(), "layers": rng.randint(1, 8), "act": rng.choice("ab")}
        tag = "{}_act={},layers={},lr={:.4f}".format(t, config["act"], config["layers"],
                                                     config["lr"])
        logdir = os.path.join(exp, "train_{:05d}_{}".format(t, tag))
        os.makedirs(logdir)
        with open(os.path.join(logdir, "params.json"), "w") as f:
            json.dump(config, f)
        with open(os.path.join(logdir, "result.json"), "w") as res, \
                open(os.path.join(logdir, "progress.csv"), "w") as csv:
            keys = None
            for i in range(1, rows + 1):
                result = {"mean_loss": rng.random(), "mean_accuracy": rng.random(),
                          "done": i == rows, "training_iteration": i,
                          "trial_id": "{:05d}".format(t), "experiment_tag": tag,
                          "time_this_iter_s": 0.01, "time_total_s": 0.01 * i,
                          "timestamp": 1700000000 + i, "pid": 1234, "hostname": "host",
                          "node_ip": "127.0.0.1", "config": config}
                res.write(json.dumps(result) + "\n")
                flat = {k: v for k, v in result.items() if k != "config"}
                if keys is None:
                    keys = list(flat)
                    csv.write(",".join(keys) + "\n")
                csv.write(",".join(str(flat[k]) for k in keys) + "\n")
    return exp


def timed(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit("{} failed: {}".format(argv, proc.stderr.decode()))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="tunec_bench_cli_")
    try:
        exp = write_experiment(root, args.trials, args.rows)
        tune = [sys.executable, "-m", "tunec"]
        cases = {
            "tune ls": tune + ["ls", exp],
            "tune ls --sort --filter --limit": tune + [
                "ls", exp, "--sort", "mean_loss", "--filter", "mean_accuracy > 0.5",
                "--limit", "20", "--desc"],
            "tune ls -o out.csv": tune + ["ls", exp, "-o", os.path.join(root, "out.csv")],
            "tune lsx": tune + ["lsx", root],
            "python -c pass (interpreter start)": [sys.executable, "-c", "pass"],
        }
        print("{} trials x {} rows; load average before: {}".format(
            args.trials, args.rows, " ".join("{:.2f}".format(x) for x in os.getloadavg())))
        for name, argv in cases.items():
            timed(argv)                     # warm the page cache
            runs = [timed(argv) for _ in range(args.repeat)]
            print("{:40s} wall median {:.3f} s (min {:.3f})  cpu median {:.3f} s".format(
                name, statistics.median(r[0] for r in runs), min(r[0] for r in runs),
                statistics.median(r[1] for r in runs)))
        print("load average after: {}".format(
            " ".join("{:.2f}".format(x) for x in os.getloadavg())))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
