"""The analysis loader's frames against a reference built the slow, obvious
way (issue 12 item 2): every result.json line through ``json.loads``,
flattened with "/", typed by pandas from Python values, with the loader's
rules (spec §10.4) spelled out: columns and their order from the first
valid row, "config" dropped, numbers-or-missing columns float64 (int64 when
every row is an integer), a torn last line and invalid lines skipped.

The experiments: a real tunec run whose results hold every kind of value,
hand-written result.json files with the awkward cases, and the Ray 0.8
fixture.
"""
import json
import math
import numbers
import os
import shutil

import numpy as np
import pandas as pd
import pytest

import tunec as tune
from tunec.analysis import Analysis

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "ray08_experiment")


# --------------------------------------------------------------------------
# the reference
# --------------------------------------------------------------------------

def flatten(result):
    """Ray's flatten_dict order: breadth first, dicts expanded at the end."""
    flat = {k: v for k, v in result.items() if k != "config"}
    while any(isinstance(v, dict) for v in flat.values()):
        out = {}
        nested = []
        for k, v in flat.items():
            if isinstance(v, dict):
                nested.append((k, v))
            else:
                out[k] = v
        for k, v in nested:
            for ck, cv in v.items():
                out[k + "/" + ck] = cv
        flat = out
    return flat


def reference_rows(logdir):
    with open(os.path.join(logdir, "result.json"), encoding="utf-8") as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    rows = []
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(flatten(row))
    return rows


def is_number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def reference_frame(logdir):
    rows = reference_rows(logdir)
    columns = list(rows[0]) if rows else []
    data = {}
    for name in columns:
        values = [row.get(name) for row in rows]
        if all(v is None or is_number(v) for v in values):
            if values and all(isinstance(v, int) for v in values):
                data[name] = np.array(values, dtype=np.int64)
            else:
                data[name] = np.array([math.nan if v is None else float(v) for v in values],
                                      dtype=np.float64)
        else:
            data[name] = values
    return pd.DataFrame(data, columns=columns)


def reference_summary(logdirs):
    records = []
    for logdir in logdirs:
        rows = reference_rows(logdir)
        if not rows:
            continue
        first = list(rows[0])
        last = {name: rows[-1].get(name) for name in first}
        for name in first:
            values = [row.get(name) for row in rows]
            if all(v is None or is_number(v) for v in values):
                last[name] = math.nan if last[name] is None else last[name]
                if not all(isinstance(v, int) for v in values):
                    last[name] = float(last[name])
        with open(os.path.join(logdir, "params.json")) as f:
            params = json.load(f)
        last.update({"config/" + k: v for k, v in params.items()})
        last["logdir"] = logdir
        records.append(last)
    return pd.DataFrame(records)


def check_experiment(experiment_dir, logdirs):
    analysis = Analysis(experiment_dir)
    frames = analysis.trial_dataframes
    assert sorted(frames) == sorted(logdirs)
    for logdir in logdirs:
        pd.testing.assert_frame_equal(frames[logdir], reference_frame(logdir), check_dtype=True)
    summary = analysis.dataframe()
    expected = reference_summary(sorted(logdirs))
    pd.testing.assert_frame_equal(summary.sort_values("logdir").reset_index(drop=True),
                                  expected.sort_values("logdir").reset_index(drop=True),
                                  check_dtype=True)
    return analysis


# --------------------------------------------------------------------------
# experiments
# --------------------------------------------------------------------------

def every_kind(config):
    i0 = config["i"]
    for step in range(6):
        tune.report({
            "score": float(i0 + step) / 3,
            "count": step,
            "flag": step % 2 == 0,
            "name": "trial-{}".format(i0),
            "maybe": None if step % 3 == 0 else step * 0.5,
            "mixed": step if step < 3 else "text",
            "nested": {"a": step, "deep": {"b": "é\"x\\y"}},
            "seq": [step, step + 1],
            "nan": math.nan if step == 2 else 1.0,
            "inf": -math.inf if step == 4 else step,
        })


def test_a_real_run_every_kind_of_value(tmp_path):
    analysis = tune.run(every_kind, config={"i": tune.grid_search([0, 1, 2])},
                        local_dir=str(tmp_path), name="kinds", verbose=0)
    logdirs = [t.logdir for t in analysis.trials]
    loaded = check_experiment(str(tmp_path / "kinds"), logdirs)
    frame = loaded.trial_dataframes[logdirs[0]]
    # the types the loader settles once per column
    assert frame["count"].dtype == np.int64
    assert frame["score"].dtype == np.float64
    assert frame["maybe"].dtype == np.float64
    assert frame["flag"].dtype == bool
    assert frame["mixed"].dtype == object
    assert frame["seq"].tolist() == [[s, s + 1] for s in range(6)]
    assert frame["nested/deep/b"].tolist() == ["é\"x\\y"] * 6
    assert "config/i" in loaded.dataframe().columns


RESULT_LINES = {
    "torn": ['{"a": 1, "s": "x"}', '{"a": 2, "s": "y"}', '{"a": 3, "s'],
    "bad_middle": ['{"a": 1.5, "b": true}', 'garbage', '[1, 2]', '{"a": 2, "b": false}'],
    "first_invalid": ['{"a": ', '{"b": {"c": null}, "d": "\\u00e9\\n"}', '{"b": {"c": 2}}'],
    "keys_change": ['{"a": 1, "b": 2}', '{"b": 3, "c": 4, "a": 5}', '{"c": 1}'],
    "nonfinite": ['{"x": NaN, "y": Infinity, "z": -Infinity}', '{"x": 1, "y": 2, "z": 3}'],
    "bools_and_null": ['{"f": true, "n": null}', '{"f": null, "n": null}'],
    "escapes": ['{"s": "a\\"b", "t": "\\ud83d\\ude00"}', '{"s": "a\\"b", "t": "plain"}'],
    "duplicate_key": ['{"a": 1, "a": 2.5}', '{"a": 3}'],
    "big_int": ['{"a": 12345678901234}', '{"a": -7}'],
    "empty_dict": ['{"e": {}, "v": 1.0}', '{"e": {}, "v": 2.0}'],
    # int64 cells past 2**53 stay exact (a double would make 2**60 + 1 of
    # 2**60); the third row's keys are reordered (the general path).
    "int64_exact": ['{"a": 1152921504606846977, "b": 9223372036854775807, "m": 3}',
                    '{"a": -1152921504606846977, "b": -9223372036854775808, "m": "s"}',
                    '{"b": 9007199254740993, "a": 2, "m": 1152921504606846977}'],
}


def write_trial(root, name, lines, params):
    logdir = os.path.join(root, name)
    os.makedirs(logdir)
    with open(os.path.join(logdir, "result.json"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(logdir, "params.json"), "w") as f:
        json.dump(params, f)
    return logdir


def test_hand_written_results(tmp_path):
    logdirs = [write_trial(str(tmp_path), name, lines, {"case": name, "k": i})
               for i, (name, lines) in enumerate(sorted(RESULT_LINES.items()))]
    check_experiment(str(tmp_path), logdirs)


def test_many_trials_keep_their_order(tmp_path):
    # More trials than worker threads: each lands in its own slot.
    logdirs = [write_trial(str(tmp_path), "t{:03d}".format(i),
                           ['{{"i": {}, "r": {}}}'.format(i, r) for r in range(3)], {"i": i})
               for i in range(40)]
    analysis = check_experiment(str(tmp_path), logdirs)
    assert list(analysis.trial_dataframes) == logdirs


def test_progress_csv_int64_cells_are_exact(tmp_path):
    logdir = tmp_path / "t"
    logdir.mkdir()
    (logdir / "progress.csv").write_text("a,b\n1152921504606846977,x\n-9007199254740993,y\n")
    (logdir / "params.json").write_text("{}")
    frame = Analysis(str(tmp_path)).trial_dataframes[str(logdir)]
    assert frame["a"].dtype == np.int64
    assert frame["a"].tolist() == [2 ** 60 + 1, -(2 ** 53) - 1]


def test_ray08_fixture(tmp_path):
    exp = str(tmp_path / "exp")
    shutil.copytree(FIXTURE, exp)
    logdirs = sorted(os.path.join(exp, n) for n in os.listdir(exp)
                     if os.path.isdir(os.path.join(exp, n)))
    check_experiment(exp, logdirs)


def test_trial_paths_of_every_shape_load_as_opened_alone(tmp_path, monkeypatch):
    # A load thread opens siblings through their parent (src/engine/
    # analysis.c); a trailing slash, a relative path, a link to a trial dir,
    # a trial under a linked parent, a missing dir and a file all load as
    # each would alone.
    from tunec import _tunec
    root = tmp_path / "exp"
    for name, value in (("a", 1), ("b", 2)):
        (root / name).mkdir(parents=True)
        (root / name / "result.json").write_text(json.dumps({"v": value}) + "\n")
    os.symlink(str(root / "b"), str(root / "link_b"))
    os.symlink(str(root), str(tmp_path / "link_root"))
    (root / "file").write_text("x")
    monkeypatch.chdir(str(tmp_path))
    paths = [str(root / "a"), str(root / "b") + "/", os.path.join("exp", "a"),
             str(root / "link_b"), str(tmp_path / "link_root" / "b"), str(root / "missing"),
             str(root / "file"), str(root / "a")] * 3
    raws, groups = _tunec.load_trials_grouped(paths)
    got = [None if raw["group"] is None else
           groups[raw["group"]]["data"]["v"][raw["start"]] for raw in raws]
    alone = []
    for path in paths:
        (raw,), grps = _tunec.load_trials_grouped([path])
        alone.append(None if raw["group"] is None else grps[raw["group"]]["data"]["v"][0])
    assert got == alone == [1, 2, 1, 2, 2, None, None, 1] * 3
