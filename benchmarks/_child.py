"""One benchmark run in a fresh process: ``python _child.py '<json spec>'``.

compare.py starts one of these per run, so no run inherits another's warm
caches, worker pools or Ray cluster. The spec names the system
(tunec, ray, ray-reuse, optuna, hyperopt), the workload and its parameters;
the figures (or the failure with its traceback) go to ``spec["out"]`` as JSON,
since Ray writes freely to stdout and stderr.

Systems:
  tunec      ``import tunec as tune``; ``tune.init(num_cpus=cpus)``; its defaults.
  ray        ``from ray import tune``; ``ray.init(num_cpus=cpus)``; Ray's defaults.
  ray-reuse  as ray, with ``reuse_actors=True`` (what Ray recommends for short trials).
  optuna / hyperopt  the in-process loops and samplers, for the workloads they can do.
"""
import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import workloads  # noqa: E402


def _proc_status_kb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def memory():
    """The driver's own memory (this process only: Ray's raylet, GCS and
    workers, and tunec's workers, are other processes)."""
    return {"rss_kb": _proc_status_kb("VmRSS"), "peak_rss_kb": _proc_status_kb("VmHWM")}


class System:
    """Imports and initialises one system; ``kwargs`` are its tune.run extras."""

    def __init__(self, name, cpus, logging=True):
        self.name = name
        self.kwargs = {}
        self.init_s = 0.0
        self.ray = None
        start = time.perf_counter()
        if name == "tunec":
            import tunec as tune
            tune.init(num_cpus=cpus)
            if not logging:
                self.kwargs["loggers"] = []      # no JSON/CSV files (tunec's switch)
        elif name in ("ray", "ray-reuse"):
            # Logging off for Ray is TUNE_DISABLE_AUTO_CALLBACK_LOGGERS=1, set
            # by compare.py in this process's environment (Ray's own switch,
            # the one its result-throughput release test uses).
            import ray
            from ray import tune
            self.ray = ray
            t0 = time.perf_counter()
            ray.init(num_cpus=cpus)
            self.init_s = time.perf_counter() - t0
            if name == "ray-reuse":
                self.kwargs["reuse_actors"] = True
        else:
            raise ValueError("system {!r} cannot run tune.run workloads".format(name))
        self.import_s = time.perf_counter() - start - self.init_s
        self.tune = tune

    def close(self):
        if self.ray is not None:
            self.ray.shutdown()


# --------------------------------------------------------------------------
# workloads
# --------------------------------------------------------------------------

def run_tune_workload(spec):
    params = spec["params"]
    workload = spec["workload"]
    cpus = spec["cpus"]
    tmp = spec["tmp"]
    if spec["system"] == "optuna" and workload == "trivial":
        return optuna_loop(params["n"])
    system = System(spec["system"], cpus, logging=params.get("logging", True))
    try:
        before = memory()
        tune, kw = system.tune, system.kwargs
        if workload == "trivial":
            fig = workloads.trivial_trials(tune, params["n"], tmp, **kw)
        elif workload == "bookkeeping":
            fig = workloads.bookkeeping(tune, params["n"], params["sleep_time"], cpus, tmp,
                                        **kw)
        elif workload == "throughput":
            fig = workloads.timed_throughput(tune, params["trials"], params["duration"],
                                             params["rate"], tmp, **kw)
        elif workload == "analysis-write":
            fig = workloads.write_experiment(tune, params["n"], params["results"],
                                             params["storage_path"], params["name"], **kw)
        else:
            raise ValueError("unknown workload {!r}".format(workload))
        after = memory()
        fig.update(driver_rss_before_kb=before["rss_kb"], driver_rss_after_kb=after["rss_kb"],
                   driver_peak_rss_kb=after["peak_rss_kb"], import_s=system.import_s,
                   ray_init_s=system.init_s)
        return fig
    finally:
        system.close()


def optuna_loop(n):
    """Optuna's in-process loop doing what the trivial trials do: sample x
    uniformly (RandomSampler: the same search as tune.run's random variants)
    and return it."""
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    before = memory()
    start = time.perf_counter()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler())
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=n)
    wall = time.perf_counter() - start
    if len(study.trials) != n:
        raise RuntimeError("expected {} trials, got {}".format(n, len(study.trials)))
    after = memory()
    return {"wall_s": wall, "trials_per_s": n / wall, "driver_rss_before_kb": before["rss_kb"],
            "driver_rss_after_kb": after["rss_kb"], "driver_peak_rss_kb": after["peak_rss_kb"]}


def analysis_load(spec):
    p = spec["params"]
    loader = p["loader"]
    if loader.endswith("-nocache"):      # tunec's parsed-column cache off: every file read
        os.environ["TUNEC_ANALYSIS_CACHE"] = "0"
        loader = loader[:-len("-nocache")]
    if loader == "ray":
        from ray.tune import ExperimentAnalysis as cls
    elif loader == "tunec":
        from tunec import ExperimentAnalysis as cls
    elif loader == "tunec-analysis":
        from tunec import Analysis as cls          # walks any directory, Ray's too
    else:
        raise ValueError("unknown loader {!r}".format(loader))
    import pandas  # noqa: F401  (both build DataFrames; import cost not timed)
    fig = workloads.load_experiment(cls, p["dir"], p["n"], p["results"])
    fig.update({"driver_peak_rss_kb": memory()["peak_rss_kb"]})
    return fig


def import_time(spec):
    import importlib
    module = spec["params"]["module"]
    start = time.perf_counter()
    mod = importlib.import_module(module)
    mid = time.perf_counter()
    if spec["params"].get("touch_run"):
        mod.run                       # tunec loads tune.run lazily: resolve it too
    end = time.perf_counter()
    # import_s is the figure compared: for "tunec+run" it includes tune.run.
    return {"import_s": end - start, "import_only_s": mid - start}


def main():
    spec = json.loads(sys.argv[1])
    out = {"spec": spec, "ok": False}
    try:
        kind = spec["workload"]
        if kind == "analysis-load":
            out["figures"] = analysis_load(spec)
        elif kind == "import":
            out["figures"] = import_time(spec)
        elif kind in ("search-latency", "search-quality"):
            import search_bench
            out["figures"] = search_bench.run(spec)
        else:
            out["figures"] = run_tune_workload(spec)
        out["ok"] = True
    except BaseException as exc:           # recorded, never dropped
        out["error"] = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    with open(spec["out"], "w") as f:
        json.dump(out, f)
    sys.stdout.flush()
    # Ray leaves threads behind; the figures are written, so leave at once.
    os._exit(0 if out["ok"] else 1)


if __name__ == "__main__":
    main()
