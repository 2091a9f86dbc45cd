"""Resume at scale (issue 12, item 4), at a size `make test` can afford:
a 2,000-trial run SIGKILLed once half its trials have ended (read from the
journal, an observable event), with a torn line appended to the journal as a
driver killed mid-write leaves it, then resumed. Every trial ends with exactly
one result row (no finished trial ran again, none is missing), and the
analysis of the resumed run sees all 2,000 trials TERMINATED with their
results. The 100,000-trial case is timed by `make bench` (BENCH_SCALE_100K=1)."""
import glob
import json
import os
import signal
import subprocess
import sys
import textwrap

from run_helpers import HANG_S, wait_for

N = 2000

SCRIPT = textwrap.dedent('''
    import sys
    import tunec as tune

    def trainable(config):
        tune.report({{"score": config["i"] * 0.5}})

    tune.init(num_cpus=2)
    analysis = tune.run(trainable, name="exp", config={{"i": tune.grid_search(list(range({n})))}},
                        storage_path=sys.argv[1], verbose=0, resume=sys.argv[2] == "resume",
                        resources_per_trial={{"cpu": 1}})
    if sys.argv[2] == "resume":
        df = analysis.dataframe()
        ok = sum(1 for t in analysis.trials if t.status == "TERMINATED"
                 and t.last_result["score"] == t.config["i"] * 0.5)
        print("RESUMED", len(analysis.trials), ok, len(df), sorted(df["score"] * 2) == list(range({n})))
''').format(n=N)


def journal_ended(exp_dir):
    total = 0
    for path in glob.glob(os.path.join(exp_dir, "experiment_state-*.journal")):
        with open(path, "rb") as f:
            total += f.read().count(b'"status": "TERMINATED"')
    return total


def finished_files(journal):
    """{logdir: (result.json bytes, mtime_ns)} of the trials the journal
    says ended."""
    logdirs, done = {}, []
    with open(journal, "rb") as f:
        for line in f:
            try:
                event = json.loads(line)
            except ValueError:
                continue    # the line being written when the driver died
            if event.get("event") == "start":
                logdirs[event["record"]["trial_id"]] = event["record"]["logdir"]
            elif event.get("event") == "status" and event.get("status") == "TERMINATED":
                done.append(event["trial_id"])
    out = {}
    for trial_id in done:
        path = os.path.join(logdirs[trial_id], "result.json")
        with open(path, "rb") as f:
            out[logdirs[trial_id]] = (f.read(), os.stat(path).st_mtime_ns)
    return out


def launch(tmp_path, mode):
    return subprocess.Popen([sys.executable, str(tmp_path / "script.py"), str(tmp_path / "res"),
                             mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def test_killed_2000_trial_run_with_torn_journal_resumes_every_trial_once(tmp_path):
    (tmp_path / "script.py").write_text(SCRIPT)
    exp_dir = str(tmp_path / "res" / "exp")
    proc = launch(tmp_path, "fresh")
    wait_for(lambda: os.path.isdir(exp_dir) and journal_ended(exp_dir) >= N // 2,
             "{} finished trials".format(N // 2), proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=HANG_S)
    ended = journal_ended(exp_dir)
    assert N // 2 <= ended < N      # killed part-way
    journal, = glob.glob(os.path.join(exp_dir, "experiment_state-*.journal"))
    finished = finished_files(journal)
    assert len(finished) == ended
    with open(journal, "ab") as f:      # the driver died in the middle of a line
        f.write(b'{"event": "status", "trial_id": "00001", "status": "TERMIN')
    proc = launch(tmp_path, "resume")
    out, err = proc.communicate(timeout=HANG_S)
    assert proc.returncode == 0, err.decode()[-3000:]
    line, = [l for l in out.decode().splitlines() if l.startswith("RESUMED")]
    assert line == "RESUMED {n} {n} {n} True".format(n=N)
    made = glob.glob(os.path.join(exp_dir, "trainable_*"))
    dirs = [d for d in made if os.path.exists(os.path.join(d, "params.json"))]
    assert len(dirs) == N                       # every trial once, in one directory
    # The kill can land after a new trial's directory was made and before the
    # journal named it: the resumed run makes that trial afresh, and the old
    # directory holds at most the params.json the kill interrupted.
    for d in set(made) - set(dirs):
        assert all(name.startswith("params.json.tmp.") for name in os.listdir(d)), d
    for d in dirs:
        with open(os.path.join(d, "result.json"), "rb") as f:
            assert f.read().count(b"\n") == 1, d    # one row each
    for d, files in finished.items():           # finished trials never ran again
        path = os.path.join(d, "result.json")
        with open(path, "rb") as f:
            assert (f.read(), os.stat(path).st_mtime_ns) == files, d
