"""Helpers of the end-to-end tests: a quiet tune.run into a test's tmp_path,
a trial's result.json rows, a fresh driver script run to its end
(run_driver_script), and the two ways a test may wait: for an event
(wait_for), or for a run that must end (no_hang). Neither assumes how fast
anything runs: their deadline only ever passes when something hangs."""
import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import tunec as tune

# Long enough that only a hang reaches it, on any machine however loaded.
HANG_S = 300

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(trainable, tmp_path, **kw):
    kw.setdefault("verbose", 0)
    return tune.run(trainable, local_dir=str(tmp_path), **kw)


def rows(trial):
    with open(os.path.join(trial.logdir, "result.json")) as f:
        return [json.loads(line) for line in f]


def wait_for(condition, what, proc=None, deadline_s=HANG_S):
    """Polls condition() until it returns something true, and returns that.
    Fails naming `what` when proc (a subprocess.Popen) exits first, or when
    the deadline passes."""
    end = time.monotonic() + deadline_s
    while True:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError("the process exited with code {} before {}:\n{}\n{}".format(
                proc.returncode, what, out, err))
        if time.monotonic() > end:
            raise AssertionError("still no {} after {} s: a hang".format(what, deadline_s))
        time.sleep(0.05)


@contextlib.contextmanager
def no_hang(what, deadline_s=HANG_S):
    """Fails the test (instead of hanging the suite) when the block does not
    end by the deadline: for tests whose point is that a run ends at all."""
    def expired(signum, frame):
        raise AssertionError("{} still running after {} s: a hang".format(what, deadline_s))
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(deadline_s)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_driver_script(tmp_path, body, env=None):
    """Runs ``body`` (dedented) as a fresh driver script in tmp_path, with
    this tree's tunec and the zygote left to its default unless env says
    otherwise; returns (the JSON object it printed last, its whole stdout)."""
    path = tmp_path / "driver.py"
    path.write_text(textwrap.dedent(body))
    run_env = dict(os.environ, PYTHONPATH=ROOT)
    run_env.pop("TUNEC_ZYGOTE", None)
    run_env.update(env or {})
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          env=run_env, timeout=HANG_S, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stdout
