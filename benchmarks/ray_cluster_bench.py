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

Prints a table and the ratios (tunec vs Ray Tune) beside the one-machine
ratios; `--rounds` and `--n` change the sizes.
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
        report(x=1)
        time.sleep(1.0)

    kwargs = dict(where, reuse_actors=True) if reuse else dict(where)
    start = time.perf_counter()
    tune.run(trial, num_samples=n, verbose=0, **kwargs)
    return {"wall": time.perf_counter() - start}


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
    ray.init(address=args.address, log_to_driver=False)
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
        figures = {(s, w): [] for s in systems for w in ("bookkeeping", "throughput")}
        for _ in range(args.rounds):
            for workload in ("bookkeeping", "throughput"):
                for system in systems:
                    if workload == "throughput" and system == "ray-reuse":
                        continue    # one trial per CPU: no actor is reused
                    got = _run_child(system, workload, cluster.address, args)
                    if got:
                        figures[(system, workload)].append(got)
        ideal = args.n * 1.0 / args.cpus
        print("load average: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        print("cluster: head (0 CPUs) + {} nodes x 1 CPU; {} rounds".format(args.cpus,
                                                                          args.rounds))
        print("\nbookkeeping: {} trials x 1 s, ideal {:.1f} s".format(args.n, ideal))
        walls = {}
        for system in systems:
            runs = figures[(system, "bookkeeping")]
            if runs:
                walls[system] = statistics.median(r["wall"] for r in runs)
                print("  {:10s} wall {:6.1f} s  overhead {:+7.1f} %".format(
                    system, walls[system], 100 * (walls[system] / ideal - 1)))
        print("\nresult-throughput: {} trials x {} s tight loop, logging on".format(
            args.cpus, args.duration))
        rates = {}
        for system in ("tunec", "ray"):
            runs = figures[(system, "throughput")]
            if runs:
                rates[system] = statistics.median(r["results"] / r["wall"] for r in runs)
                print("  {:10s} {:10,.0f} results/s".format(system, rates[system]))
        if "tunec" in walls and "ray" in walls:
            print("\nratios (tunec vs Ray Tune, on the cluster):")
            print("  bookkeeping wall, Ray defaults / tunec: {:.2f}x".format(
                walls["ray"] / walls["tunec"]))
            if "ray-reuse" in walls:
                print("  bookkeeping wall, Ray reuse_actors / tunec: {:.2f}x".format(
                    walls["ray-reuse"] / walls["tunec"]))
        if "tunec" in rates and "ray" in rates:
            print("  result throughput, tunec / Ray: {:.0f}x".format(rates["tunec"] / rates["ray"]))
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    sys.exit(main())
