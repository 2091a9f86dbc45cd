"""Benchmark workloads, written against the Ray Tune API so the same code runs
on tunec and on Ray Tune 2.x: ``tune`` is whichever module is passed in
(``tunec`` or ``ray.tune``), and nothing else differs. Every call uses the
spellings both accept: ``tune.report({...})``, ``storage_path=``, ``verbose=0``.

Each workload returns a dict of figures; timing is wall-clock around the whole
``tune.run`` call, worker start-up included (``ray.init`` is not included: it
is done once per process before, as a Ray user does). A workload that sees a
wrong outcome (missing trials, lost results) raises, so the harness records a
failure instead of a number.
"""
import time


# --------------------------------------------------------------------------
# trial code (the user code: identical for every system)
# --------------------------------------------------------------------------

def make_report_once(tune):
    """ray#11004: a function that reports once and returns."""
    def report_once(config):
        tune.report({"score": config["x"]})
    return report_once


def make_tight_loop(tune, n):
    """Reports ``n`` results as fast as it can."""
    def tight_loop(config):
        report = tune.report
        for i in range(n):
            report({"i": i})
    return tight_loop


def make_timed_loop(tune):
    """Reports in a tight loop for ``config["duration"]`` seconds, or at
    ``config["rate"]`` results per second when the rate is > 0 (paced against
    an absolute schedule, so a slow report does not shift later ones)."""
    def timed_loop(config):
        report = tune.report
        duration, rate = config["duration"], config["rate"]
        clock = time.perf_counter
        start = clock()
        if rate > 0:
            for i in range(int(duration * rate)):
                delay = start + i / rate - clock()
                if delay > 0:
                    time.sleep(delay)
                report({"i": i})
        else:
            end = start + duration
            i = 0
            while clock() < end:
                report({"i": i})
                i += 1
    return timed_loop


def make_sleep_trial(tune):
    """Ray's release bookkeeping workload (release_test_util.function_trainable
    with one iteration): report once, then sleep ``config["sleep_time"]``."""
    def sleep_trial(config):
        tune.report({"score": config["x"]})
        time.sleep(config["sleep_time"])
    return sleep_trial


def make_many_results(tune, n):
    """For analysis-load: ``n`` results with a few metrics each."""
    def many_results(config):
        report = tune.report
        x = config["x"]
        for i in range(n):
            report({"loss": x / (i + 1), "acc": 1.0 - x / (i + 2), "step": i})
    return many_results


# --------------------------------------------------------------------------
# workloads
# --------------------------------------------------------------------------

def _check_trials(analysis, num_trials):
    trials = analysis.trials
    if len(trials) != num_trials:
        raise RuntimeError("expected {} trials, got {}".format(num_trials, len(trials)))
    bad = [t for t in trials if t.status != "TERMINATED"]
    if bad:
        raise RuntimeError("{} trials did not terminate: {}".format(
            len(bad), sorted({t.status for t in bad})))
    return trials


def trivial_trials(tune, num_trials, storage_path, **run_kwargs):
    """ray#11004: many trials of a function that reports once and returns."""
    fn = make_report_once(tune)
    start = time.perf_counter()
    analysis = tune.run(fn, config={"x": tune.uniform(0, 1)}, num_samples=num_trials,
                        storage_path=storage_path, verbose=0, **run_kwargs)
    wall = time.perf_counter() - start
    _check_trials(analysis, num_trials)
    return {"wall_s": wall, "trials_per_s": num_trials / wall}


def bookkeeping(tune, num_trials, sleep_time, cpus, storage_path, **run_kwargs):
    """Ray's bookkeeping-overhead release workload scaled down: ``num_trials``
    trials of ``sleep_time`` s, one result each, on all CPUs; overhead over
    the ideal ``num_trials * sleep_time / cpus`` seconds."""
    fn = make_sleep_trial(tune)
    start = time.perf_counter()
    analysis = tune.run(fn, config={"x": tune.uniform(0, 1), "sleep_time": sleep_time},
                        num_samples=num_trials, storage_path=storage_path, verbose=0,
                        **run_kwargs)
    wall = time.perf_counter() - start
    _check_trials(analysis, num_trials)
    ideal = num_trials * sleep_time / cpus
    return {"wall_s": wall, "ideal_s": ideal, "overhead_pct": 100.0 * (wall - ideal) / ideal}


def timed_throughput(tune, num_trials, duration, rate, storage_path, **run_kwargs):
    """Trials reporting for ``duration`` s each (tight loop when rate == 0, else
    ``rate`` results/s); results per second through the driver, counted from
    what the driver recorded (each trial's last training_iteration)."""
    fn = make_timed_loop(tune)
    start = time.perf_counter()
    analysis = tune.run(fn, config={"duration": duration, "rate": rate},
                        num_samples=num_trials, storage_path=storage_path, verbose=0,
                        **run_kwargs)
    wall = time.perf_counter() - start
    trials = _check_trials(analysis, num_trials)
    total = sum(int(t.last_result.get("training_iteration") or 0) for t in trials)
    if rate > 0 and total != num_trials * int(duration * rate):
        raise RuntimeError("expected {} results, the driver recorded {}".format(
            num_trials * int(duration * rate), total))
    out = {"wall_s": wall, "results": total, "results_per_s": total / wall}
    if rate > 0:
        # Trials run side by side (num_trials <= CPUs), so the ideal is one
        # trial's duration.
        out["overhead_pct"] = 100.0 * (wall - duration) / duration
    return out


def result_throughput(tune, num_trials, results_per_trial, storage_path, **run_kwargs):
    """Trials reporting a fixed number of results in a tight loop; results/s
    through the driver (`make bench`'s figure)."""
    fn = make_tight_loop(tune, results_per_trial)
    start = time.perf_counter()
    analysis = tune.run(fn, num_samples=num_trials, storage_path=storage_path, verbose=0,
                        **run_kwargs)
    wall = time.perf_counter() - start
    total = num_trials * results_per_trial
    done = sum(t.last_result.get("training_iteration", 0) for t in _check_trials(
        analysis, num_trials))
    if done != total:
        raise RuntimeError("expected {} results, the driver recorded {}".format(total, done))
    return {"wall_s": wall, "results_per_s": total / wall}


def write_experiment(tune, num_trials, results_per_trial, storage_path, name, **run_kwargs):
    """Writes the experiment that analysis-load reads back."""
    fn = make_many_results(tune, results_per_trial)
    start = time.perf_counter()
    analysis = tune.run(fn, name=name, config={"x": tune.uniform(0, 1)},
                        num_samples=num_trials, storage_path=storage_path, verbose=0,
                        **run_kwargs)
    wall = time.perf_counter() - start
    _check_trials(analysis, num_trials)
    return {"wall_s": wall}


def load_experiment(analysis_cls, experiment_dir, num_trials, results_per_trial):
    """analysis-load: ``analysis_cls(dir)``, ``dataframe()`` (one row per trial)
    and every trial's full frame (``trial_dataframes``)."""
    cpu = time.process_time()   # all threads: on a loaded machine, the steadier figure
    start = time.perf_counter()
    analysis = analysis_cls(experiment_dir)
    loaded = time.perf_counter()
    df = analysis.dataframe()
    frame = time.perf_counter()
    cpu_frame = time.process_time()
    frames = analysis.trial_dataframes
    rows = sum(len(f) for f in frames.values())
    end = time.perf_counter()
    cpu_end = time.process_time()
    if len(df) != num_trials or rows != num_trials * results_per_trial:
        raise RuntimeError("loaded {} trials and {} rows, expected {} and {}".format(
            len(df), rows, num_trials, num_trials * results_per_trial))
    return {"wall_s": end - start, "construct_s": loaded - start,
            "dataframe_s": frame - loaded, "trial_dataframes_s": end - frame,
            "cpu_s": cpu_end - cpu, "construct_dataframe_cpu_s": cpu_frame - cpu}


def load_figures(experiment_dir):
    """analysis-load for `make bench`, in a fresh process: the time to
    ``ExperimentAnalysis(dir)`` + ``dataframe()``, then ``trial_dataframes``;
    the peak RSS growth over the imports, and the bytes of the columns the
    frames hold (what the loader cannot avoid keeping)."""
    import resource
    import pandas  # noqa: F401  (import cost not timed)
    import tunec
    def peak_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    base = peak_mb()
    start = time.perf_counter()
    analysis = tunec.ExperimentAnalysis(experiment_dir)
    analysis.dataframe()
    mid = time.perf_counter()
    frames = analysis.trial_dataframes
    end = time.perf_counter()
    # The peak before measuring the columns: memory_usage(deep=True) over
    # 1,000 frames makes temporaries of its own (about 4.5 MB).
    growth = peak_mb() - base
    rows = sum(len(f) for f in frames.values())
    column_bytes = sum(f.memory_usage(index=False, deep=True).sum() for f in frames.values())
    return {"construct_dataframe_s": mid - start, "trial_dataframes_s": end - mid,
            "rows": rows, "column_mb": float(column_bytes) / 2 ** 20, "rss_growth_mb": growth}


def make_stamp_start(path):
    """Writes time.time() to ``path`` as its first line of user code: when
    the first trial started, on the same clock the caller read before
    tune.run."""
    def stamp_start(config):
        import time as _time
        with open(path, "a") as f:
            f.write("{!r}\n".format(_time.time()))
    return stamp_start


def first_trial_latency(tune, storage_path, num_trials=1, **run_kwargs):
    """Time from the ``tune.run`` call to the first line of the first trial's
    code (worker start-up, the driver's set-up and the START message)."""
    import os
    import tempfile
    fd, path = tempfile.mkstemp(prefix="first-trial-", dir=storage_path)
    os.close(fd)
    fn = make_stamp_start(path)
    try:
        start = time.time()
        analysis = tune.run(fn, num_samples=num_trials, storage_path=storage_path, verbose=0,
                            **run_kwargs)
        wall = time.time() - start
        _check_trials(analysis, num_trials)
        with open(path) as f:
            first = min(float(line) for line in f if line.strip())
    finally:
        os.unlink(path)
    return {"first_trial_s": first - start, "wall_s": wall}
