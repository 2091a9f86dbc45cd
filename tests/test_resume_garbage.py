"""Garbage in an experiment's state files, read back for resume (tunec/_resume.py over
the engine's reader, src/engine/state_read.c).

Fuzzed here through Python with hypothesis (tests/fuzz/fuzz_state.c fuzzes the C reader
alone with libFuzzer): random bytes, random JSON values, and tunec's own snapshot and journal shapes with fields
replaced by values of every type. Whatever the files hold, the reader either returns
records the engine can take (a dict of dicts keyed by string trial ids) or raises
TuneError naming the file; it never fails with some other exception.
"""
import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tunec import _resume
from tunec.error import TuneError

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=12)

RECORD_KEYS = ["trial_id", "status", "logdir", "error_file", "num_failures",
               "tunec_checkpoints", "tunec_config", "experiment_tag"]
EVENT_KINDS = ["start", "status", "checkpoint", "reconfig", "other"]


def shaped(keys):
    """A dict with some of tunec's keys, each holding any JSON value (or a
    plausible one)."""
    plausible = st.sampled_from(["t1", "t2", "RUNNING", "/nonexistent/t1", 1, None])
    return st.dictionaries(st.sampled_from(keys), plausible | JSON, max_size=len(keys))


SNAPSHOT = st.one_of(
    st.binary(max_size=200),
    JSON.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({
        "checkpoints": st.lists(shaped(RECORD_KEYS).map(json.dumps) | shaped(RECORD_KEYS) | JSON,
                                max_size=4) | JSON,
        "runner_data": st.fixed_dictionaries({"tunec": st.fixed_dictionaries(
            {"experiments": st.lists(shaped(["name", "seed"]) | JSON, max_size=3) | JSON})}) | JSON,
    }).map(lambda v: json.dumps(v).encode()),
)

EVENT = st.builds(
    lambda kind, fields, record: dict(fields, event=kind, record=record),
    st.sampled_from(EVENT_KINDS) | JSON, shaped(RECORD_KEYS + ["config", "checkpoints"]),
    shaped(RECORD_KEYS) | JSON)
JOURNAL_LINE = (EVENT.map(json.dumps) | JSON.map(json.dumps)).map(str.encode) | st.binary(max_size=60)
JOURNAL = st.lists(JOURNAL_LINE, max_size=6).map(lambda lines: b"\n".join(lines))


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(snapshot=st.none() | SNAPSHOT, journal=st.none() | JOURNAL)
def test_garbage_state_gives_records_or_tune_error(tmp_path, snapshot, journal):
    exp_dir = tmp_path / "exp"
    exp_dir.mkdir(exist_ok=True)
    for name in os.listdir(exp_dir):
        os.unlink(exp_dir / name)
    if snapshot is None and journal is None:
        journal = b""
    if snapshot is not None:
        (exp_dir / "experiment_state-2026-01-01_00-00-00.json").write_bytes(snapshot)
    if journal is not None:
        (exp_dir / "experiment_state-2026-01-01_00-00-00.journal").write_bytes(journal)
    try:
        state, runner_data = _resume.load(str(exp_dir))
        records = dict(state)   # every record built, as the engine would one by one
    except TuneError as e:
        assert str(exp_dir) in str(e)
        return
    assert isinstance(runner_data, dict)
    for trial_id, record in records.items():
        assert isinstance(trial_id, str) and isinstance(record, dict)
        assert record["local_dir"] == str(exp_dir)
    seeds = _resume.recorded_seeds(runner_data)
    assert all(isinstance(name, str) for name in seeds)
