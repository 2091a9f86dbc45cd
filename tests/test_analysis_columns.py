"""The loader's columnar hand-over (src/ext/analysis_groups.c,
tunec/analysis/_columns.py) against the per-trial one: trials that share a
column layout share arrays, a trial's frame is a slice of its layout's
frame, and ``Analysis.dataframe()`` is built column by column -- all must
give exactly the frames the per-trial arrays and row dicts give.

The experiments are hand-written result.json files: several layouts in one
directory, object columns whose picked cells are all ints, booleans,
strings, missing cells and configs with nested and missing keys.
"""
import json
import os

import numpy as np
import pandas as pd
import pytest

from tunec import _tunec
from tunec.analysis import Analysis
from tunec.analysis._trial_data import TrialData


def write_trial(root, name, rows, params):
    logdir = os.path.join(root, name)
    os.makedirs(logdir)
    with open(os.path.join(logdir, "result.json"), "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    if params is not None:
        with open(os.path.join(logdir, "params.json"), "w") as f:
            json.dump(params, f)
    return logdir


@pytest.fixture
def mixed_experiment(tmp_path):
    root = str(tmp_path)
    for i in range(6):   # layout A: floats, ints, strings, bools
        write_trial(root, "a{}".format(i),
                    [{"loss": 1.0 / (s + 1), "step": s, "tag": "t{}".format(i), "ok": s % 2 == 0,
                      "config": {"lr": i}} for s in range(5 + i)],
                    {"lr": i, "nested": {"depth": i}})
    for i in range(3):   # layout B: an object column of ints and strings
        write_trial(root, "b{}".format(i),
                    [{"loss": float(i), "mixed": "x" if s == 0 else s, "extra": None}
                     for s in range(3)],
                    {"lr": 10 + i, "only_b": "yes"} if i else None)
    write_trial(root, "c_empty", [], {"lr": 99})   # no rows: readable, no frame rows
    os.makedirs(os.path.join(root, "d_broken"))
    with open(os.path.join(root, "d_broken", "result.json"), "w") as f:
        f.write("not json\n")
    return root


def check_same_column(got, want, name):
    """A grouped column against the per-trial one: the same dtype and
    cells, except that a column of nothing but strings may be pandas' own
    str array (src/ext/analysis_strings.c) where pandas keeps strings in
    one -- the array pandas makes of those strings."""
    if isinstance(got, np.ndarray):
        assert got.dtype == want.dtype, name
    else:
        assert want.dtype == object and all(type(v) is str for v in want), name
        assert got.dtype == pd.Series(list(want), dtype=object).infer_objects().dtype == \
            pd.Series(["a"]).dtype, name
    assert list(got) == list(want) or \
        all(pd.isna(a) == pd.isna(b) for a, b in zip(got, want)), name
    np.testing.assert_array_equal(np.asarray(got, dtype=object if not
                                             isinstance(got, np.ndarray) else None), want)


def test_grouped_trials_match_the_per_trial_arrays(mixed_experiment):
    plain = [TrialData(raw) for raw in _tunec.load_experiment(mixed_experiment)]
    raws, groups = _tunec.load_experiment_grouped(mixed_experiment)
    assert len(raws) == len(plain)
    assert len(groups) == 2   # A and B; the empty and broken trials join none
    from tunec.analysis._columns import Layout
    layouts = [Layout(g) for g in groups]
    for raw, ref in zip(raws, plain):
        trial = TrialData(raw, None if raw["group"] is None else layouts[raw["group"]])
        assert (trial.logdir, trial.params, trial.source, trial.rows) == \
            (ref.logdir, ref.params, ref.source, ref.rows)
        assert trial.columns == ref.columns
        assert trial.int_columns == ref.int_columns
        for name in ref.columns:
            check_same_column(trial.data[name], ref.data[name], name)
        if ref.readable:
            pd.testing.assert_frame_equal(trial.dataframe(), ref.dataframe())


def test_trial_frames_are_independent_slices(mixed_experiment):
    frames = Analysis(mixed_experiment).trial_dataframes
    a1 = frames[os.path.join(mixed_experiment, "a1")]
    assert list(a1.index) == list(range(6))
    assert a1["step"].tolist() == list(range(6))
    a1["new"] = 1   # a column added to one frame stays there
    assert "new" not in frames[os.path.join(mixed_experiment, "a2")]


def slow_dataframe(analysis, metric=None, mode=None):
    """Analysis.dataframe() as built from row dicts."""
    rows = analysis._retrieve_rows(metric=metric, mode=mode)
    configs = analysis.get_all_configs(prefix=True)
    for path, row in rows.items():
        row.update(configs.get(path, {}))
        row["logdir"] = path
    return pd.DataFrame(list(rows.values()))


@pytest.mark.parametrize("metric,mode", [(None, None), ("loss", "min"), ("step", "max")])
def test_dataframe_columnwise_matches_row_dicts(tmp_path, metric, mode):
    root = str(tmp_path)
    for i in range(8):
        params = {"lr": i * 0.5, "nested": {"k": [i]}, "name": "n{}".format(i)}
        if i == 3:
            params = None
        elif i == 5:
            params["late"] = True   # a config key only a later row has
        write_trial(root, "t{}".format(i),
                    [{"loss": (s - i) ** 2, "step": s, "mixed": "s" if s == 0 else s,
                      "flag": bool(s % 2), "maybe": None if s < 2 else 1.5}
                     for s in range(4)], params)
    analysis = Analysis(root)
    from tunec.analysis._columns import picked_rows_frame
    picked = analysis._row_indices(metric=metric, mode=mode)
    assert picked_rows_frame(pd, picked, analysis.get_all_configs(prefix=True)) is not None
    fast = analysis.dataframe(metric=metric, mode=mode)
    pd.testing.assert_frame_equal(fast, slow_dataframe(analysis, metric, mode))
    assert list(fast.columns)[-2:] == ["logdir", "config/late"]


def test_dataframe_with_several_layouts_matches_row_dicts(mixed_experiment):
    analysis = Analysis(mixed_experiment)
    pd.testing.assert_frame_equal(analysis.dataframe(), slow_dataframe(analysis))


def test_layout_frame_blocks_replace_the_column_arrays(mixed_experiment):
    # The layout frame keeps its numeric and boolean columns in one block
    # per dtype; the layout's arrays for them become views of those blocks
    # (the separate arrays are let go), and every trial's frame and data
    # still give the per-trial values, also after the frames are built.
    plain = {t.logdir: t for t in (TrialData(raw)
                                   for raw in _tunec.load_experiment(mixed_experiment))}
    analysis = Analysis(mixed_experiment)
    frames = analysis.trial_dataframes
    layouts = {id(t.layout): t.layout for t in analysis._trials_data.values() if t.layout}
    assert layouts
    for layout in layouts.values():
        blocks = [b.values for b in layout.frame()._mgr.blocks
                  if getattr(b.values, "ndim", 1) == 2 and b.values.dtype != object]
        numeric = [values for values in layout.data.values()
                   if isinstance(values, np.ndarray) and values.dtype != object]
        dtypes = {values.dtype for values in numeric}
        assert len(blocks) == len(dtypes)   # one block per dtype
        for name, values in layout.data.items():
            if isinstance(values, np.ndarray) and values.dtype != object:
                assert any(np.shares_memory(values, block) for block in blocks), name
    for path, frame in frames.items():
        expected = plain[path]
        reference = pd.DataFrame(expected.data, columns=expected.columns)
        pd.testing.assert_frame_equal(frame, reference)
        trial = analysis._trials_data[path]
        for name in expected.columns:
            check_same_column(trial.data[name], expected.data[name], name)
            assert [trial.value(name, r) for r in range(trial.rows)] == \
                [expected.value(name, r) for r in range(expected.rows)] or \
                all(pd.isna(trial.value(name, r)) == pd.isna(expected.value(name, r))
                    for r in range(trial.rows))
    assert len(analysis.dataframe()) == len([t for t in plain.values() if t.rows])


def test_string_columns(tmp_path):
    # A column of nothing but strings comes as Arrow's offsets and bytes
    # (pandas' str array where pandas keeps strings so, else objects); one
    # with a missing cell, another type, or bytes that are not UTF-8 stays an
    # object column; all give the per-trial cells and frames.
    root = str(tmp_path)
    for i in range(3):
        write_trial(root, "s{}".format(i),
                    [{"tag": "t{}".format(i), "empty": "", "uni": "caf\u00e9 \u20ac{}".format(s),
                      "esc": "a\"b\\c", "gap": None if s == 1 else "g", "mixed": "m" if s else 1,
                      "v": s} for s in range(4)], {"lr": i})
    os.makedirs(os.path.join(root, "u"))   # bytes that are not UTF-8: another layout
    with open(os.path.join(root, "u", "result.json"), "wb") as f:
        f.write(b'{"tag": "u", "bad": "ok"}\n{"tag": "u", "bad": "caf\xff"}\n')
    plain = {t.logdir: t for t in (TrialData(raw) for raw in _tunec.load_experiment(root))}
    raws, groups = _tunec.load_experiment_grouped(root)
    from tunec.analysis._columns import Layout
    assert len(groups) == 2
    assert set(groups[0]["str_columns"]) == {"tag", "empty", "uni", "esc"}
    assert not groups[1]["str_columns"]   # its strings are decoded with "replace" instead
    layouts = [Layout(g) for g in groups]
    for raw in raws:
        trial = TrialData(raw, layouts[raw["group"]])
        ref = plain[raw["logdir"]]
        for name in ref.columns:
            check_same_column(trial.data[name], ref.data[name], name)
        pd.testing.assert_frame_equal(trial.dataframe(), ref.dataframe())
        assert trial.row(-1) == ref.row(-1)
        assert np.isnan(trial.numbers("tag")).all()
    # Without pandas' Arrow strings: object arrays, a repeated string one object.
    offsets, data = groups[0]["str_columns"]["tag"]
    objects = _tunec.strings_to_objects(offsets, data)
    assert objects.dtype == object and list(objects) == list(layouts[0].data["tag"])
    assert objects[0] is objects[1]


def test_strings_to_objects_rejects_bad_offsets():
    data = np.frombuffer(b"abc", dtype=np.uint8)
    for offsets in ([], [-1, 2], [0, 4], [0, 2, 1]):
        with pytest.raises(ValueError):
            _tunec.strings_to_objects(np.array(offsets, dtype=np.int64), data)
    assert list(_tunec.strings_to_objects(np.array([0, 1, 1, 3]), data)) == ["a", "", "bc"]
    assert len(_tunec.strings_to_objects(np.array([0]), data)) == 0
