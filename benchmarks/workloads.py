"""Benchmark workloads, written against the Ray Tune API so the same code runs
on tunec and on Ray Tune (`tune` is whichever module is passed in).

Each workload returns a dict of figures; timing is wall-clock around the whole
tune.run call, worker start-up included.
"""
import time



def make_report_once(tune):
    def report_once(config):
        tune.report(score=config["x"])
    return report_once


def make_tight_loop(tune, n):
    def tight_loop(config):
        report = tune.report
        for i in range(n):
            report(i=i)
    return tight_loop


def trivial_trials(tune, num_trials, local_dir, **run_kwargs):
    """ray#11004: many trials of a function that reports once and returns."""
    fn = make_report_once(tune)
    start = time.perf_counter()
    analysis = tune.run(fn, config={"x": tune.uniform(0, 1)}, num_samples=num_trials,
                        local_dir=local_dir, verbose=0, **run_kwargs)
    wall = time.perf_counter() - start
    assert len(analysis.trials) == num_trials
    return {"wall_s": wall, "trials_per_s": num_trials / wall}


def result_throughput(tune, num_trials, results_per_trial, local_dir, **run_kwargs):
    """Trials reporting in a tight loop; results/s through the driver with the
    default loggers (JSON + CSV) on."""
    fn = make_tight_loop(tune, results_per_trial)
    start = time.perf_counter()
    analysis = tune.run(fn, num_samples=num_trials, local_dir=local_dir, verbose=0,
                        **run_kwargs)
    wall = time.perf_counter() - start
    total = num_trials * results_per_trial
    done = sum(t.last_result.get("training_iteration", 0) for t in analysis.trials)
    assert done == total, (done, total)
    return {"wall_s": wall, "results_per_s": total / wall}
