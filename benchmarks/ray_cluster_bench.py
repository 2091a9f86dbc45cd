"""tunec on a Ray cluster vs Ray Tune on the same cluster (`make bench-ray`).

Starts a local Ray cluster (ray.cluster_utils: a head node without CPUs for
the driver, and worker nodes of one CPU each, as many as this machine has
CPUs), then runs the bookkeeping and result-throughput workloads of
`make bench-compare` (docs/benchmarks.md) scaled the same way, once per
system per round, each in a fresh driver process connected to the cluster:

- bookkeeping: N trials that report once and sleep 1 s; overhead is the wall
  time over the ideal N x 1 s / CPUs;
- result-throughput: one trial per CPU reporting in a tight loop for D s,
  logging on; results/s = results recorded / wall time of the tune.run.

The same workloads also run on one machine with the same Ray (tunec's local
process pool without ray.init; Ray Tune on a local ray.init with as many
CPUs), so each ratio on the cluster has a baseline measured with the same
Ray version, in the same rounds, under the same load. For the bookkeeping
runs it also gives where the overhead goes: the time to the first result
(driver start, actor or worker start) and the median gap between one
trial's end and the next trial's result on the same worker.

Prints a table and the ratios (tunec vs Ray Tune, cluster and one machine);
`--rounds` and `--n` change the sizes.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def _bookkeeping(tune, report, n, where, reuse):
    def trial(config):
        report(x=1, t=time.time(), pid=os.getpid())
        time.sleep(1.0)

    kwargs = dict(where, reuse_actors=True) if reuse else dict(where)
    start_t, start = time.time(), time.perf_counter()
    analysis = tune.run(trial, num_samples=n, verbose=0, **kwargs)
    wall = time.perf_counter() - start
    # Where the overhead goes: the first result after the start, and the
    # gap from a trial's end (its result + 1 s) to the next result of the
    # same worker process.
    rows = sorted((t.last_result["pid"], t.last_result["t"]) for t in analysis.trials
                  if "t" in (t.last_result or {}))
    gaps = [b - a - 1.0 for (pa, a), (pb, b) in zip(rows, rows[1:]) if pa == pb]
    return {"wall": wall, "first": min(t for _, t in rows) - start_t if rows else None,
            "gap": statistics.median(gaps) if gaps else None}


def _throughput(tune, report, trials, duration, where):
    def trial(config):
        end = time.time() + config["duration"]
        while time.time() < end:
            report(x=1)

    start = time.perf_counter()
    analysis = tune.run(trial, num_samples=trials, verbose=0, config={"duration": duration},
                        **where)
    wall = time.perf_counter() - start
    results = sum(t.last_result.get("training_iteration", 0) for t in analysis.trials)
    return {"wall": wall, "results": results}


def child(args):
    import ray
    if args.address != "local":
        ray.init(address=args.address, log_to_driver=False)
    elif args.system != "tunec":
        # Ray Tune on one machine: its own local instance. tunec on one
        # machine runs without Ray (its local process pool).
        ray.init(address="local", num_cpus=args.cpus, include_dashboard=False,
                 log_to_driver=False)
    local_dir = tempfile.mkdtemp(prefix="ray-bench-")
    if args.system == "tunec":
        import tunec as tune
        report, where = tune.report, {"local_dir": local_dir}
    else:
        from ray import train, tune

        def report(**metrics):
            train.report(metrics)
        where = {"storage_path": local_dir}
    if args.workload == "bookkeeping":
        out = _bookkeeping(tune, report, args.n, where, args.system == "ray-reuse")
    else:
        out = _throughput(tune, report, args.cpus, args.duration, where)
    print("RESULT " + json.dumps(out), flush=True)
    if ray.is_initialized():
        ray.shutdown()


def _run_child(system, workload, address, args):
    cmd = [sys.executable, __file__, "--child", "--system", system, "--workload", workload,
           "--address", address, "--n", str(args.n), "--duration", str(args.duration),
           "--cpus", str(args.cpus)]
    env = dict(os.environ, TUNEC_RAY_EXECUTOR="1", RAY_DEDUP_LOGS="0")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    sys.stderr.write(out.stdout[-2000:] + out.stderr[-4000:])
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--child", action="store_true")
    p.add_argument("--system")
    p.add_argument("--workload")
    p.add_argument("--address")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--duration", type=float, default=4.0)
    p.add_argument("--cpus", type=int, default=len(os.sched_getaffinity(0)))
    args = p.parse_args()
    if args.child:
        return child(args)
    from ray.cluster_utils import Cluster
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0,
                                                            "include_dashboard": False})
    try:
        for _ in range(args.cpus):
            cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        systems = ("tunec", "ray", "ray-reuse")
        places = {"cluster": cluster.address, "one machine": "local"}
        figures = {(p, s, w): [] for p in places for s in systems
                   for w in ("bookkeeping", "throughput")}
        for _ in range(args.rounds):
            for place, address in places.items():
                for workload in ("bookkeeping", "throughput"):
                    for system in systems:
                        if workload == "throughput" and system == "ray-reuse":
                            continue    # one trial per CPU: no actor is reused
                        got = _run_child(system, workload, address, args)
                        if got:
                            figures[(place, system, workload)].append(got)
        _report(figures, places, systems, args)
    finally:
        cluster.shutdown()


def _median(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else float("nan")


def _report(figures, places, systems, args):
    ideal = args.n * 1.0 / args.cpus
    print("load average: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print("cluster: head (0 CPUs) + {} nodes x 1 CPU; one machine: {} CPUs; "
          "{} rounds".format(args.cpus, args.cpus, args.rounds))
    print("\nbookkeeping: {} trials x 1 s, ideal {:.1f} s".format(args.n, ideal))
    walls, rates = {}, {}
    for place in places:
        for system in systems:
            runs = figures[(place, system, "bookkeeping")]
            if runs:
                walls[(place, system)] = w = _median(runs, "wall")
                print("  {:12s} {:10s} wall {:6.1f} s  overhead {:+7.1f} %  first result "
                      "{:5.2f} s  gap {:6.3f} s".format(
                          place, system, w, 100 * (w / ideal - 1), _median(runs, "first"),
                          _median(runs, "gap")))
    print("\nresult-throughput: {} trials x {} s tight loop, logging on".format(
        args.cpus, args.duration))
    for place in places:
        for system in ("tunec", "ray"):
            runs = figures[(place, system, "throughput")]
            if runs:
                rates[(place, system)] = statistics.median(r["results"] / r["wall"]
                                                           for r in runs)
                print("  {:12s} {:10s} {:10,.0f} results/s".format(
                    place, system, rates[(place, system)]))
    print("\nratios, tunec vs Ray Tune (cluster | one machine | cluster / one machine):")

    def line(name, cluster, local):
        if cluster == cluster and local == local:    # not NaN
            print("  {:42s} {:8.2f}x | {:8.2f}x | {:.2f}".format(name, cluster, local,
                                                               cluster / local))

    def ratio(table, a, b, place):
        if (place, a) in table and (place, b) in table:
            return table[(place, a)] / table[(place, b)]
        return float("nan")
    line("bookkeeping wall, Ray defaults / tunec", ratio(walls, "ray", "tunec", "cluster"),
         ratio(walls, "ray", "tunec", "one machine"))
    line("bookkeeping wall, Ray reuse_actors / tunec",
         ratio(walls, "ray-reuse", "tunec", "cluster"),
         ratio(walls, "ray-reuse", "tunec", "one machine"))
    line("result throughput, tunec / Ray", ratio(rates, "tunec", "ray", "cluster"),
         ratio(rates, "tunec", "ray", "one machine"))


if __name__ == "__main__":
    sys.exit(main())
