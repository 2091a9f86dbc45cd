"""The parsed-column cache of ExperimentAnalysis(dir) (tunec/analysis/_cache.py,
src/ext/analysis_codes.c, src/ext/analysis_stat.c): a second load of an
unchanged experiment gives exactly the frames a load from the files gives;
any change to a trial's files or to the state file is seen; a damaged cache
is ignored; the cache can be turned off."""
import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest

from tunec import Analysis, ExperimentAnalysis, _tunec
from tunec.analysis import _cache

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "ray08_experiment")


@pytest.fixture(autouse=True)
def cache_on(monkeypatch):
    monkeypatch.setenv("TUNEC_ANALYSIS_CACHE", "1")   # conftest.py turns it off


@pytest.fixture
def experiment(tmp_path):
    exp = str(tmp_path / "exp")
    shutil.copytree(FIXTURE, exp)
    return exp


def frames_of(exp):
    analysis = ExperimentAnalysis(exp)
    return analysis.dataframe(), analysis.trial_dataframes


def reference(exp, monkeypatch):
    with monkeypatch.context() as m:
        m.setenv("TUNEC_ANALYSIS_CACHE", "0")
        return frames_of(exp)


def assert_same(got, want):
    pd.testing.assert_frame_equal(got[0], want[0])
    assert sorted(got[1]) == sorted(want[1])
    for path, frame in want[1].items():
        pd.testing.assert_frame_equal(got[1][path], frame)


def cache_path(exp):
    return os.path.join(exp, _cache.CACHE_NAME)


def test_second_load_comes_from_the_cache_and_matches(experiment, monkeypatch):
    want = reference(experiment, monkeypatch)
    assert not os.path.exists(cache_path(experiment))
    first = frames_of(experiment)
    assert os.path.exists(cache_path(experiment))
    assert_same(first, want)
    # The cache is used: the files it was made from are not read again.
    calls = []
    real = _tunec.load_trials_grouped
    monkeypatch.setattr(_tunec, "load_trials_grouped",
                        lambda *a, **k: calls.append(a) or real(*a, **k))
    second = frames_of(experiment)
    assert calls == []
    assert_same(second, want)


def test_a_changed_result_file_is_read_again(experiment, monkeypatch):
    frames_of(experiment)   # writes the cache
    path = sorted(ExperimentAnalysis(experiment).trial_dataframes)[0]
    with open(os.path.join(path, "result.json")) as f:
        last = json.loads(f.read().splitlines()[-1])
    last["training_iteration"] = 12345
    with open(os.path.join(path, "result.json"), "a") as f:
        f.write(json.dumps(last) + "\n")
    got = frames_of(experiment)
    assert got[1][path]["training_iteration"].iloc[-1] == 12345
    assert_same(got, reference(experiment, monkeypatch))


def test_a_changed_state_file_is_read_again(experiment, monkeypatch):
    frames_of(experiment)
    state = os.path.join(experiment, sorted(n for n in os.listdir(experiment)
                                            if n.startswith("experiment_state"))[-1])
    with open(state) as f:
        data = json.load(f)
    data["checkpoints"] = data["checkpoints"][:1]   # one trial left
    with open(state, "w") as f:
        json.dump(data, f)
    got = frames_of(experiment)
    assert len(got[0]) == 1
    assert_same(got, reference(experiment, monkeypatch))


@pytest.mark.parametrize("junk", [b"", b"not a pickle", b"\x80\x05K\x01."])
def test_a_damaged_cache_is_ignored_and_replaced(experiment, monkeypatch, junk):
    want = reference(experiment, monkeypatch)
    with open(cache_path(experiment), "wb") as f:
        f.write(junk)
    assert_same(frames_of(experiment), want)
    assert os.path.getsize(cache_path(experiment)) > len(junk)
    assert_same(frames_of(experiment), want)


def test_cache_can_be_turned_off(experiment, monkeypatch):
    monkeypatch.setenv("TUNEC_ANALYSIS_CACHE", "0")
    frames_of(experiment)
    assert not os.path.exists(cache_path(experiment))


def test_object_codes_keep_identity():
    a, b = "run-a", ["a", "list"]
    column = np.empty(6, dtype=object)
    for i, value in enumerate([a, None, b, a, ["a", "list"], 1.5]):
        column[i] = value
    codes, uniques = _tunec.object_codes(column)
    assert codes.dtype == np.int32 and codes.tolist() == [0, 1, 2, 0, 3, 4]
    assert uniques[0] is a and uniques[1] is None and uniques[2] is b
    assert uniques[3] is not b   # equal lists that are different objects stay apart
    with pytest.raises(TypeError):
        _tunec.object_codes(np.zeros(3))
    with pytest.raises(TypeError):
        _tunec.object_codes([a, b])


def test_files_signature(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_bytes(b"12345")
    sig = np.frombuffer(_tunec.files_signature([str(tmp_path / "d")], ["x", "missing"]),
                        dtype=np.int64)
    st = os.stat(tmp_path / "d" / "x")
    assert sig.tolist() == [5, st.st_mtime_ns, -1, -1]
    with pytest.raises(TypeError):
        _tunec.files_signature("abc", ["x"])
    with pytest.raises(TypeError):
        _tunec.files_signature([1], ["x"])


# -- Analysis(dir): the walk's trial dirs ------------------------------------------

def analysis_frames(root):
    analysis = Analysis(root)
    return analysis.dataframe(), analysis.trial_dataframes


def analysis_reference(root, monkeypatch):
    with monkeypatch.context() as m:
        m.setenv("TUNEC_ANALYSIS_CACHE", "0")
        return analysis_frames(root)


def write_trial(root, name, rows):
    os.makedirs(os.path.join(root, name))
    with open(os.path.join(root, name, "result.json"), "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    with open(os.path.join(root, name, "params.json"), "w") as f:
        json.dump({"lr": len(rows)}, f)


@pytest.fixture
def walked(tmp_path):
    root = str(tmp_path / "walked")
    for i in range(3):
        write_trial(root, os.path.join("exp", "t{}".format(i)),
                    [{"loss": 1.0 / (s + 1), "step": s, "tag": "t{}".format(i)}
                     for s in range(4 + i)])
    return root


def test_analysis_second_load_comes_from_the_cache(walked, monkeypatch):
    want = analysis_reference(walked, monkeypatch)
    assert_same(analysis_frames(walked), want)
    assert os.path.exists(os.path.join(walked, _cache.WALK_CACHE_NAME))
    calls = []
    real = _tunec.load_trials_grouped
    monkeypatch.setattr(_tunec, "load_trials_grouped",
                        lambda *a, **k: calls.append(a) or real(*a, **k))
    assert_same(analysis_frames(walked), want)
    assert calls == []


def test_analysis_sees_a_new_trial_dir_and_a_changed_file(walked, monkeypatch):
    analysis_frames(walked)
    write_trial(walked, os.path.join("exp", "t9"), [{"loss": 0.5, "step": 0, "tag": "t9"}])
    got = analysis_frames(walked)
    assert os.path.join(walked, "exp", "t9") in got[1]
    assert_same(got, analysis_reference(walked, monkeypatch))
    with open(os.path.join(walked, "exp", "t0", "result.json"), "a") as f:
        f.write(json.dumps({"loss": 0.125, "step": 99, "tag": "t0"}) + "\n")
    got = analysis_frames(walked)
    assert got[1][os.path.join(walked, "exp", "t0")]["step"].iloc[-1] == 99
    assert_same(got, analysis_reference(walked, monkeypatch))
    shutil.rmtree(os.path.join(walked, "exp", "t1"))
    got = analysis_frames(walked)
    assert os.path.join(walked, "exp", "t1") not in got[1]
    assert_same(got, analysis_reference(walked, monkeypatch))


def test_trial_dirs_are_the_walk_of_load_experiment(walked):
    raws, _ = _tunec.load_experiment_grouped(walked)
    assert _tunec.trial_dirs(walked) == [raw["logdir"] for raw in raws]
    with pytest.raises(ValueError):
        _tunec.trial_dirs(os.path.join(walked, "missing"))
