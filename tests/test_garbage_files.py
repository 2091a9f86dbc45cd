"""Issue 15 item 5, second half: garbage in every file an analysis or a
resume reads gives a clear error or a skipped row with a warning, never a
crash or a hang.

One real experiment is made per module (two trials that errored after their
checkpoints, tests/garbage_driver.py); each case damages one file of a copy
and then loads it with ExperimentAnalysis (dataframe, trial_dataframes,
configs) and resumes it with tune.run(resume=True, resume_errored=True),
each in a process of its own so that a crash is a signal and a hang a
timeout, not a lost test session."""
import glob
import json
import os
import random
import shutil
import subprocess
import sys

import pytest

from run_helpers import HANG_S

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "garbage_driver.py")
HUGE = 50 * 1024 * 1024     # the "huge line": 50 MB without a newline


def _drive(mode, path):
    proc = subprocess.run([sys.executable, DRIVER, mode, path], capture_output=True,
                          text=True, timeout=HANG_S, cwd=os.path.dirname(path))
    assert proc.returncode == 0, "the {} process died (code {}):\n{}".format(
        mode, proc.returncode, proc.stderr[-4000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    base = tmp_path_factory.mktemp("garbage")
    made = str(base / "made")
    out = _drive("make", made)
    assert out["outcome"] == "ok", out
    # Moved away: the state files record absolute trial dirs, and while
    # those exist a copy would be read (and resumed) through them instead of
    # through its own damaged files.
    moved = str(base / "pristine")
    os.rename(made, moved)
    return moved


# --------------------------------------------------------------------------
# the damage: each takes the file's bytes and returns the new bytes
# --------------------------------------------------------------------------

def _truncate_last_line(data):
    return data[:len(data) - len(data.splitlines()[-1]) // 2 - 1]


def _junk(data):
    rng = random.Random(15)
    return bytes(rng.randrange(256) for _ in range(4096))


def _nul_in_middle(data):
    half = len(data) // 2
    return data[:half] + b"\0" * 64 + data[half:]


def _huge_line(data):
    return data + b'{"acc": "' + b"x" * HUGE + b'"'


def _huge_junk_line(data):
    return b"\x01" * HUGE


def _replace_line(index, text):
    def damage(data):
        lines = data.splitlines(keepends=True)
        lines[index] = text.encode() + b"\n"
        return b"".join(lines)
    return damage


def _append(line):
    return lambda data: data + line.encode() + b"\n"


def _empty(data):
    return b""


def _set(text):
    return lambda data: text.encode()


# (id, glob of the files damaged under the experiment dir, damage,
#  text an error message must contain if the load or resume fails)
CASES = [
    ("result-truncated", "*/result.json", _truncate_last_line, "result.json"),
    ("result-junk", "*/result.json", _junk, "result.json"),
    ("result-nul", "*/result.json", _nul_in_middle, "result.json"),
    ("result-huge-line", "*/result.json", _huge_line, "result.json"),
    ("result-huge-junk", "*/result.json", _huge_junk_line, "result.json"),
    ("result-list-line", "*/result.json", _replace_line(0, "[1, 2, 3]"), "result.json"),
    ("result-string-line", "*/result.json", _replace_line(0, '"acc"'), "result.json"),
    ("result-wrong-types", "*/result.json",
     _replace_line(0, '{"acc": {"a": [1, {"b": null}]}, "training_iteration": "one",'
                      ' "config": 5, "done": "maybe", "trial_id": 7}'), "result.json"),
    ("result-empty", "*/result.json", _empty, "result.json"),
    ("progress-junk", "*/progress.csv", _junk, "progress.csv"),
    ("progress-nul", "*/progress.csv", _nul_in_middle, "progress.csv"),
    ("progress-ragged", "*/progress.csv", _replace_line(1, "1,2,3,4,5,6,7,8,9,10,11,12,13,"
                                                           "14,15,16,17,18,19,20,21,22,23"),
     "progress.csv"),
    ("progress-huge-line", "*/progress.csv", _huge_junk_line, "progress.csv"),
    ("params-junk", "*/params.json", _junk, "params.json"),
    ("params-list", "*/params.json", _set("[1, 2]"), "params.json"),
    ("params-truncated", "*/params.json", _set('{"x": '), "params.json"),
    ("params-nul", "*/params.json", _set('{"x\0": 1}'), "params.json"),
    ("params-huge", "*/params.json", _huge_junk_line, "params.json"),
    ("state-truncated", "experiment_state-*.json", _truncate_last_line, "experiment_state"),
    ("state-junk", "experiment_state-*.json", _junk, "experiment_state"),
    ("state-empty", "experiment_state-*.json", _empty, "experiment_state"),
    ("state-nul", "experiment_state-*.json", _nul_in_middle, "experiment_state"),
    ("state-wrong-types", "experiment_state-*.json",
     _set('{"checkpoints": 5, "runner_data": [], "timestamp": "x"}'), "experiment_state"),
    ("state-wrong-trial-types", "experiment_state-*.json",
     _set('{"checkpoints": [1, "a", {"trial_id": 3, "config": [], "status": 7}],'
          ' "runner_data": {}, "timestamp": 1}'), "experiment_state"),
    ("state-huge", "experiment_state-*.json", _huge_junk_line, "experiment_state"),
    ("journal-truncated", "*.journal", _truncate_last_line, "journal"),
    ("journal-junk-line", "*.journal", _replace_line(1, "\x01\x02 not json {"), "journal"),
    ("journal-wrong-types", "*.journal",
     _replace_line(0, '{"event": 5, "record": [1]}'), "journal"),
    ("journal-junk", "*.journal", _junk, "journal"),
    ("journal-status-wrong-types", "*.journal",
     _append('{"event": "status", "trial_id": "00000", "status": 7, "num_failures": "x",'
             ' "error_msg": [1], "error_file": {}}'), "journal"),
    ("journal-checkpoint-wrong-types", "*.journal",
     _append('{"event": "checkpoint", "trial_id": "00001", "checkpoints": [5, {"dir": 3,'
             ' "path": null, "iteration": "two", "score": "x", "rows": -4}]}'), "journal"),
    ("journal-checkpoint-outside", "*.journal",
     _append('{"event": "checkpoint", "trial_id": "00001", "checkpoints": [{"dir": "../../..",'
             ' "path": "/etc", "iteration": 9, "score": 1.0, "rows": 1}]}'), "journal"),
    ("journal-huge", "*.journal", _huge_line, "journal"),
    ("checkpoint-metadata-junk", "*/checkpoint_*/.tune_metadata", _junk, "checkpoint"),
    ("checkpoint-metadata-empty", "*/checkpoint_*/.tune_metadata", _empty, "checkpoint"),
    ("checkpoint-metadata-truncated", "*/checkpoint_*/.tune_metadata",
     lambda data: data[:len(data) // 2], "checkpoint"),
]


def _damaged_copy(pristine, tmp_path, pattern, damage):
    local_dir = str(tmp_path / "damaged")
    shutil.copytree(pristine, local_dir)
    exp_dir = os.path.join(local_dir, "exp")
    targets = glob.glob(os.path.join(exp_dir, pattern))
    assert targets, pattern
    for path in targets:
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(damage(data))
    return local_dir, exp_dir


# Ray's own words for a state file without trials, kept as they are.
RAY_MESSAGES = ("Experiment state invalid; no checkpoints found.", "No trials found.")


def _judge(out, names):
    """ok, or an error that is a domain error naming the damaged file."""
    if out["outcome"] == "ok":
        return
    assert out["type"] in ("TuneError", "ValueError", "TrialsFailedError",
                           "UnreadableStateError"), out
    assert names in out["message"] or out["message"] in RAY_MESSAGES, out


@pytest.mark.parametrize("pattern, damage, names", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_analysis_of_a_damaged_dir(pristine, tmp_path, pattern, damage, names):
    _, exp_dir = _damaged_copy(pristine, tmp_path, pattern, damage)
    out = _drive("analysis", exp_dir)
    _judge(out, names)
    if out["outcome"] == "ok" and names in ("result.json", "progress.csv"):
        # A damaged row is skipped with a warning naming the file, or the
        # other file of the pair stood in for it: never silently fewer rows.
        lost = any(n < 2 for n in out["trial_rows"].values())
        if lost:
            assert any(names in w or "result" in w for w in out["warnings"]), out


@pytest.mark.parametrize("pattern, damage, names", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_resume_of_a_damaged_dir(pristine, tmp_path, pattern, damage, names):
    local_dir, _ = _damaged_copy(pristine, tmp_path, pattern, damage)
    out = _drive("resume", local_dir)
    _judge(out, names)


def test_a_copy_resumes_into_its_own_dirs_not_the_originals(tmp_path):
    # The state records absolute trial dirs. A resumed copy used them while
    # the original existed, writing its rows into the original experiment.
    original = str(tmp_path / "original")
    assert _drive("make", original)["outcome"] == "ok"
    before = {path: open(path, "rb").read()
              for path in glob.glob(os.path.join(original, "exp", "*", "result.json"))}
    copy = str(tmp_path / "copy")
    shutil.copytree(original, copy)
    out = _drive("resume", copy)
    assert out["outcome"] == "ok" and out["status"] == ["TERMINATED", "TERMINATED"], out
    after = {path: open(path, "rb").read() for path in before}
    assert after == before, "the resumed copy wrote into the original"
    for path in glob.glob(os.path.join(copy, "exp", "*", "result.json")):
        with open(path) as f:
            assert [json.loads(line)["training_iteration"] for line in f] == [1, 2, 3, 4]
    analysis_out = _drive("analysis", os.path.join(copy, "exp"))
    assert all(k.startswith(copy) for k in analysis_out["trial_rows"]), analysis_out
