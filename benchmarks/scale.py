"""Scale benchmark (issue 12, items 1 and 4): many trivial trials in one
experiment, 2 workers, the whole run in one process, every file written.

    python benchmarks/scale.py run N [DIR]     one run of N trials
    python benchmarks/scale.py resume N [DIR]  a run of N trials killed at
                                               about half way, then resumed
    python benchmarks/scale.py resume-only N DIR   resume a killed run already
                                               in DIR (a copy kept for reuse)

Each mode prints one JSON line of figures. ``run`` reports the wall time,
the time per trial and the driver's peak RSS growth per finished trial
(ru_maxrss after the run against before it, in a fresh process). ``resume``
kills the driver process (SIGKILL, as a crash would) once half the trials
have ended, then times ``tune.run(resume=True)`` in a fresh process: the
seconds until the first trial of the resumed session starts (the state read
and the matching, measured by the engine's first trial start), and the
whole resumed run. The state read (``_resume.load``: the engine's indexing
reader, src/engine/state_read.c) is also timed alone, wall and CPU, in its
own process.
"""
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

NAME = "scale"


def _trainable(config):
    import tunec as tune
    mark = os.environ.get("SCALE_FIRST_START")
    if mark:   # resume: the first trial of the session notes when it started
        try:
            fd = os.open(mark, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, repr(time.time()).encode())
            os.close(fd)
        except FileExistsError:
            pass
    tune.report({"score": config["x"]})


def _rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run(n, storage, resume=False):
    import tunec as tune
    tune.init(num_cpus=2)
    before = _rss_kb()
    start = time.perf_counter()
    analysis = tune.run(_trainable, name=NAME, config={"x": tune.uniform(0, 1)},
                        num_samples=n, storage_path=storage, verbose=0, resume=resume,
                        resources_per_trial={"cpu": 1}, seed=7)
    wall = time.perf_counter() - start
    grown = _rss_kb() - before
    done = sum(1 for t in analysis.trials if t.status == "TERMINATED")
    if done != n:
        raise SystemExit("only {} of {} trials terminated".format(done, n))
    return {"trials": n, "wall_s": round(wall, 3), "us_per_trial": round(wall / n * 1e6, 1),
            "peak_rss_growth_mb": round(grown / 1024, 1),
            "rss_kb_per_trial": round(grown / n, 3)}


def _count_ended(exp_dir):
    """Trials ended so far: the journal's TERMINATED status lines."""
    total = 0
    for name in os.listdir(exp_dir):
        if name.startswith("experiment_state-") and name.endswith(".journal"):
            with open(os.path.join(exp_dir, name), "rb") as f:
                total += f.read().count(b'"TERMINATED"')
    return total


def resume(n, storage):
    exp_dir = os.path.join(storage, NAME)
    child = subprocess.Popen([sys.executable, __file__, "run", str(n), storage],
                             stdout=subprocess.DEVNULL)
    while child.poll() is None:
        if os.path.isdir(exp_dir) and _count_ended(exp_dir) >= n // 2:
            child.send_signal(signal.SIGKILL)
            break
        time.sleep(0.5)
    child.wait()
    return resume_killed(n, storage)


def resume_killed(n, storage):
    """Figures of resuming the killed run in storage: the state read alone
    (its own process, so its peak does not hide the run's), then the
    resumed run in a fresh process."""
    exp_dir = os.path.join(storage, NAME)
    read = subprocess.run([sys.executable, "-c", (
        "import time, resource; from tunec import _resume; t = time.perf_counter(); "
        "c = time.process_time(); _resume.load({!r}); "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
        "time.process_time() - c)").format(exp_dir)],
        capture_output=True, text=True, check=True).stdout.split()
    mark = os.path.join(storage, "first-start")
    code = ("import sys, json, time; sys.path.insert(0, {!r}); import scale, tunec; "
            "t0 = time.time(); "
            "fig = scale.run({}, {!r}, resume=True); "
            "fig['first_trial_s'] = round(float(open({!r}).read()) - t0, 3); "
            "print(json.dumps(fig))").format(os.path.dirname(os.path.abspath(__file__)),
                                              n, storage, mark)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, SCALE_FIRST_START=mark))
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    fig = json.loads(out.stdout.strip().splitlines()[-1])
    fig["state_read_s"] = round(float(read[0]), 3)
    fig["state_read_cpu_s"] = round(float(read[2]), 3)
    fig["state_read_peak_rss_mb"] = round(int(read[1]) / 1024, 1)
    fig["killed_after_trials"] = n // 2
    return fig


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    storage = sys.argv[3] if len(sys.argv) > 3 else None
    own = storage is None and mode != "resume-only"
    if own:
        storage = tempfile.mkdtemp(prefix="tunec-scale-")
    try:
        fig = (run(n, storage) if mode == "run" else resume(n, storage) if mode == "resume"
               else resume_killed(n, storage))
        print(json.dumps(dict(fig, mode=mode)))
    finally:
        if own:
            shutil.rmtree(storage, ignore_errors=True)


if __name__ == "__main__":
    main()
