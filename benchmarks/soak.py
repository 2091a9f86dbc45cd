"""Soak test (issue 15 item 6): a long PBT run whose workers are killed every
few seconds, watched for leaks. Not part of `make test`; run `make soak`
(30 minutes) or `python benchmarks/soak.py --minutes 5`.

It runs four PBT trials of a function trainable that checkpoints every step,
with max_failures=-1, for --minutes. A thread SIGKILLs one of the driver's
worker processes every --kill-every seconds. At the end it checks:

* no worker process is left (the driver's children, the zygote aside);
* the driver's file descriptors are back to their count before the run (taken
  after a short warm-up run; counted once the returned analysis is dropped);
* the driver's RSS, sampled every 10 s, did not keep growing: the growth
  over the second half of the run is reported and must stay under
  --max-rss-growth-mb;
* every result row is there exactly once: in each trial's result.json the
  training_iteration values strictly increase (a restored trial's file is
  cut back to its checkpoint, so a replayed step never appears twice), and
  every line parses.

Prints the figures and exits non-zero when a check fails."""
import argparse
import gc
import glob
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time

import psutil

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import tunec as tune   # noqa: E402
from tunec import _zygote   # noqa: E402
from tunec.schedulers import PopulationBasedTraining   # noqa: E402


def trainable(config, checkpoint_dir=None):
    step = 0
    if checkpoint_dir:
        with open(os.path.join(checkpoint_dir, "step")) as f:
            step = int(f.read())
    while True:
        step += 1
        time.sleep(0.02)
        with tune.checkpoint_dir(step=step) as d:
            with open(os.path.join(d, "step"), "w") as f:
                f.write(str(step))
        tune.report(score=config["lr"] * step, step=step)


def _workers():
    # Forked workers keep the zygote's command line: only its pid tells it apart.
    zygote = _zygote.pid()
    return [p for p in psutil.Process().children(recursive=True) if p.pid != zygote]


def _workers_left_after(seconds):
    """The driver's children still there once the run has returned: a worker
    killed last may still be exiting, so this waits for them to go, up to
    `seconds` (a bound for a hang, not a pace). A zombie counts: nothing
    would reap it before the next run."""
    deadline = time.monotonic() + seconds
    while True:
        left = _workers()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def _describe(proc):
    try:
        return "{} {} {}".format(proc.pid, proc.status(), " ".join(proc.cmdline())[:120])
    except psutil.Error:
        return "{} gone".format(proc.pid)


class Killer(threading.Thread):
    def __init__(self, every, stop):
        super().__init__(daemon=True)
        self.every, self.stop, self.kills = every, stop, 0

    def run(self):
        rng = random.Random(15)
        while not self.stop.wait(self.every):
            workers = _workers()
            if workers:
                try:
                    os.kill(rng.choice(workers).pid, signal.SIGKILL)
                    self.kills += 1
                except OSError:
                    pass


class Sampler(threading.Thread):
    def __init__(self, stop):
        super().__init__(daemon=True)
        self.stop, self.samples = stop, []

    def run(self):
        me = psutil.Process()
        while not self.stop.wait(10):
            self.samples.append((time.monotonic(), me.memory_info().rss))


def _exploits(exp_dir, logdir):
    """How many times PBT cloned another trial into this one: the lines of
    its pbt_policy_<trial_id>.txt."""
    with open(os.path.join(logdir, "params.json")) as f:
        json.load(f)
    with open(os.path.join(logdir, "result.json"), "rb") as f:
        first = f.readline()
    trial_id = json.loads(first)["trial_id"] if first else None
    policy = os.path.join(exp_dir, "pbt_policy_{}.txt".format(trial_id))
    if not os.path.exists(policy):
        return 0
    with open(policy) as f:
        return sum(1 for line in f if line.strip())


def _fd_names():
    """fd -> what it points at, to name an fd the run left open."""
    names = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            names[int(fd)] = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            pass
    return names


def _check_rows(exp_dir):
    """Each row exactly once: within a trial's result.json training_iteration
    goes up by one from row to row, except where PBT cloned a donor into the
    trial (it then goes on from the donor's checkpoint): as many such steps
    as the trial's policy log has clones. A killed worker's replayed steps
    (its file not cut back) or lost rows (a gap) break this."""
    trials = rows = 0
    problems = []
    for path in sorted(glob.glob(os.path.join(exp_dir, "*", "result.json"))):
        trials += 1
        last, jumps = 0, 0
        with open(path, "rb") as f:
            for n, line in enumerate(f.read().splitlines(), 1):
                try:
                    it = json.loads(line)["training_iteration"]
                except (ValueError, KeyError) as e:
                    problems.append("{}:{}: {}".format(path, n, e))
                    continue
                # A clone goes on from the donor's step, behind or ahead of
                # this trial's: a jump either way is one clone.
                if it != last + 1:
                    jumps += 1
                last = it
                rows += 1
        exploits = _exploits(exp_dir, os.path.dirname(path))
        if jumps > exploits:
            problems.append("{}: {} jumps in training_iteration but {} PBT clones: rows "
                            "lost or repeated".format(path, jumps, exploits))
    return trials, rows, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--kill-every", type=float, default=3)
    parser.add_argument("--max-rss-growth-mb", type=float, default=32)
    parser.add_argument("--local-dir", default=None)
    args = parser.parse_args()
    local_dir = args.local_dir or tempfile.mkdtemp(prefix="tunec_soak_")
    tune.init()
    # A first short run opens what a driver keeps for its whole life (the
    # fork server's socket, the cold store of finished trials' texts,
    # host_cold.c): the fd baseline is taken after it.
    tune.run(trainable, name="warmup", local_dir=local_dir, config={"lr": 0.1},
             stop={"training_iteration": 1}, verbose=0)
    gc.collect()
    me = psutil.Process()
    fds0 = me.num_fds()
    fd_names0 = _fd_names()
    stop = threading.Event()
    killer, sampler = Killer(args.kill_every, stop), Sampler(stop)
    pbt = PopulationBasedTraining(time_attr="training_iteration", metric="score", mode="max",
                                  perturbation_interval=20,
                                  hyperparam_mutations={"lr": [0.1, 0.5, 1.0, 2.0]})
    started = time.monotonic()
    killer.start()
    sampler.start()
    try:
        analysis = tune.run(trainable, name="soak", local_dir=local_dir, scheduler=pbt,
                            config={"lr": tune.choice([0.1, 0.5, 1.0, 2.0])}, num_samples=4,
                            max_failures=-1, time_budget_s=args.minutes * 60, verbose=0,
                            raise_on_failed_trial=False)
    finally:
        stop.set()
    elapsed = time.monotonic() - started
    statuses = sorted(t.status for t in analysis.trials)
    failures = sum(t.num_failures for t in analysis.trials)
    # The analysis keeps its run, and the run its experiment journal, open
    # until it is dropped: fds are counted once it is gone.
    del analysis
    gc.collect()
    left = _workers_left_after(60)
    trials, rows, problems = _check_rows(os.path.join(local_dir, "soak"))
    samples = sampler.samples
    half = [rss for t, rss in samples if t - started >= elapsed / 2]
    growth_mb = (half[-1] - half[0]) / 2 ** 20 if len(half) >= 2 else 0.0
    figures = {
        "minutes": round(elapsed / 60, 2), "kills": killer.kills, "trials": trials,
        "rows": rows, "statuses": statuses, "failures": failures,
        "rss_mb_first": round(samples[0][1] / 2 ** 20, 1) if samples else None,
        "rss_mb_last": round(samples[-1][1] / 2 ** 20, 1) if samples else None,
        "rss_growth_second_half_mb": round(growth_mb, 2),
        "fds_before": fds0, "fds_after": me.num_fds(),
        "fds_new": sorted(set(_fd_names().items()) - set(fd_names0.items())),
        "workers_left": [_describe(p) for p in left],
        "row_problems": problems[:10], "local_dir": local_dir,
    }
    print(json.dumps(figures, indent=1))
    failed = (left or problems or me.num_fds() > fds0 or growth_mb > args.max_rss_growth_mb
              or rows == 0)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
