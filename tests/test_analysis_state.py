"""ExperimentAnalysis(dir) reads only the trials' logdirs from the state file
(src/engine/state_logdirs.c) and rebuilds its Trial objects on first use:
the logdirs must be those the full parse gives (0.8 objects and 1.x JSON
strings alike, moved experiments relocated), and a file json.load refuses
is still refused."""
import json
import os
import shutil

import pytest

from tunec import ExperimentAnalysis, _tunec

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "ray08_experiment")


def state_file(directory):
    return os.path.join(directory, sorted(n for n in os.listdir(directory)
                                          if n.startswith("experiment_state"))[-1])


def test_logdirs_match_the_full_parse_for_both_entry_forms(tmp_path):
    exp = str(tmp_path / "exp")
    shutil.copytree(FIXTURE, exp)
    path = state_file(exp)
    with open(path) as f:
        state = json.load(f)
    entries = [json.loads(c) if isinstance(c, str) else c for c in state["checkpoints"]]
    expected = [c.get("logdir") if isinstance(c.get("logdir"), str) else None
                for c in entries if isinstance(c, dict)]
    with open(path, "rb") as f:
        assert _tunec.state_logdirs(f.read()) == expected
    # The 1.x form: each entry a JSON string.
    state["checkpoints"] = [json.dumps(c) for c in entries]
    with open(path, "w") as f:
        json.dump(state, f)
    with open(path, "rb") as f:
        assert _tunec.state_logdirs(f.read()) == expected


def test_moved_experiment_loads_and_trials_are_built_on_use(tmp_path):
    exp = str(tmp_path / "moved")
    shutil.copytree(FIXTURE, exp)   # the recorded logdirs point elsewhere
    analysis = ExperimentAnalysis(exp)
    assert analysis._trials is None
    frames = analysis.trial_dataframes
    assert frames and all(path.startswith(exp) for path in frames)
    trials = analysis.trials
    assert sorted(t.logdir for t in trials if t.logdir) == sorted(frames)


def test_invalid_state_is_refused(tmp_path):
    exp = str(tmp_path / "bad")
    shutil.copytree(FIXTURE, exp)
    with open(state_file(exp), "w") as f:
        f.write('{"checkpoints": [')
    with pytest.raises(ValueError):
        ExperimentAnalysis(exp)


def test_relocation_from_one_scan_matches_a_stat_per_trial(tmp_path):
    # A moved experiment where one trial dir is a link to a directory
    # elsewhere and one is missing: the relocated logdirs from one scan of
    # the directory are those os.path.isdir per trial gives.
    from tunec.analysis import experiment_analysis as ea
    exp = str(tmp_path / "moved")
    shutil.copytree(FIXTURE, exp)
    with open(state_file(exp), "rb") as f:
        logdirs = [d for d in _tunec.state_logdirs(f.read()) if d]
    names = [os.path.basename(os.path.normpath(d)) for d in logdirs]
    assert len(names) >= 2
    away = str(tmp_path / "away")
    shutil.move(os.path.join(exp, names[0]), away)
    os.symlink(away, os.path.join(exp, names[0]))
    shutil.rmtree(os.path.join(exp, names[1]))
    odd = ["", "/", exp + "/..", exp + "/.", os.path.join(exp, "absent")]
    subdirs = ea._subdir_names(exp)
    for logdir in logdirs + odd:
        assert (ea._relocated_logdir(logdir, exp, subdirs) ==
                ea._relocated_logdir(logdir, exp)), logdir
    assert ea._relocated_logdir(logdirs[0], exp, subdirs) == os.path.join(exp, names[0])
    assert ea._relocated_logdir(logdirs[1], exp, subdirs) == logdirs[1]
    assert ea._subdir_names(str(tmp_path / "absent")) is None


def test_config_copies_are_deep(tmp_path):
    exp = str(tmp_path / "exp")
    shutil.copytree(FIXTURE, exp)
    analysis = ExperimentAnalysis(exp)
    first = analysis.get_all_configs()
    for config in first.values():
        config["changed"] = [1]
        for value in config.values():
            if isinstance(value, (dict, list)):
                value.clear()
    assert analysis.get_all_configs() != first
    assert all("changed" not in c for c in analysis.get_all_configs().values())
