"""tunec/_resume.py over the engine's state reader (src/engine/state_read.c,
src/ext/state_ext.c): real files in a real directory, the records built as
the runner would build them, bad input as a clear error."""
import json
import logging

import pytest

from tunec import _resume, _tunec
from tunec.error import TuneError

SESSION = "experiment_state-2026-01-01_00-00-00"


def write_state(exp_dir, entries, journal_lines):
    exp_dir.mkdir(exist_ok=True)
    (exp_dir / (SESSION + ".json")).write_text(json.dumps(
        {"checkpoints": entries, "runner_data": {"tunec": {"experiments": [
            {"name": "e", "seed": 5}]}}}, indent=2, sort_keys=True))
    (exp_dir / (SESSION + ".journal")).write_text("".join(
        (line if isinstance(line, str) else json.dumps(line)) + "\n" for line in journal_lines))


def test_records_merge_snapshot_and_journal(tmp_path, caplog):
    exp = tmp_path / "exp"
    (exp / "t1").mkdir(parents=True)
    write_state(exp, [
        {"trial_id": "00000", "status": "TERMINATED", "logdir": str(exp / "t0"),
         "last_result": {"score": 2 ** 70}, "metric_analysis": {"score": {"max": 1.5}},
         "n_results": 3},
        json.dumps({"trial_id": "00001", "status": "RUNNING", "logdir": "/gone/t1"}),
    ], [
        {"event": "start", "record": {"trial_id": "00002", "status": "PENDING",
                                      "config": {"x": 1}}},
        {"event": "status", "trial_id": "00001", "status": "ERROR", "error_msg": "boom"},
        {"event": "checkpoint", "trial_id": "00001",
         "checkpoints": [{"dir": "c", "path": "c/x", "iteration": 1}, {"dir": "/etc"}]},
        {"event": "status", "trial_id": "77777", "status": "ERROR"},
        "not json at all",
        {"event": "status", "trial_id": "00002", "status": "RUNNING"},
        '{"event": "status", "trial_id": "00002", "sta',   # torn by a kill
    ])
    with caplog.at_level(logging.WARNING):
        state, runner_data = _resume.load(str(exp))
    assert isinstance(state, _resume.ResumeState) and len(state) == 3
    assert _resume.recorded_seeds(runner_data) == {"e": 5}
    warned = [r.getMessage() for r in caplog.records]
    assert any("skipped damaged line 5" in w for w in warned)
    assert any("dropped damaged checkpoint records of trial 00001" in w for w in warned)
    assert not any("line 7" in w for w in warned)
    records = dict(state)
    assert records["00000"]["last_result"]["score"] == 2 ** 70   # exact past 64 bits
    assert records["00001"]["status"] == "ERROR"
    assert records["00001"]["logdir"] == str(exp / "t1")         # found by name here
    assert records["00001"]["tunec_checkpoints"] == [{"dir": "c", "path": "c/x", "iteration": 1}]
    assert records["00002"]["status"] == "RUNNING"
    assert all(r["local_dir"] == str(exp) for r in records.values())
    assert "77777" not in records


def test_corrupt_snapshot_names_the_file(tmp_path):
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / (SESSION + ".json")).write_text('{"checkpoints": [{"trial_id": "a"},')
    with pytest.raises(TuneError, match="experiment state .*" + SESSION + ".json is corrupt"):
        _resume.load(str(exp))


def test_state_goes_to_one_run_only_and_bad_objects_are_refused(tmp_path):
    exp = tmp_path / "exp"
    write_state(exp, [{"trial_id": "00000", "status": "TERMINATED"}], [])
    handle, _, warnings = _tunec.read_state(str(exp / (SESSION + ".json")), None, str(exp))
    assert warnings == [] and _tunec.state_count(handle) == 1
    with pytest.raises(TypeError, match="resume state"):
        _tunec.state_count({"00000": {}})
    with pytest.raises(TypeError):
        _tunec.read_state(1, None, str(exp))
    # a missing journal is no journal; a missing snapshot with it is no state
    handle, runner_data, _ = _tunec.read_state(None, str(exp / "none.journal"), str(exp))
    assert _tunec.state_count(handle) == 0 and runner_data == {}


def test_resume_runs_through_the_reader(tmp_path):
    import tunec as tune

    def trainable(config):
        tune.report({"score": config["x"] * 2})

    kw = dict(name="r", config={"x": tune.grid_search([1, 2, 3])}, storage_path=str(tmp_path),
              verbose=0)
    first = tune.run(trainable, **kw)
    assert [t.last_result["score"] for t in first.trials] == [2, 4, 6]
    again = tune.run(trainable, resume=True, **kw)
    assert sorted(t.last_result["score"] for t in again.trials) == [2, 4, 6]
    assert all(t.status == "TERMINATED" for t in again.trials)
