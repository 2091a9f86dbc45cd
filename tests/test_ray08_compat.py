"""Ray 0.8 user code that must keep working (issue 9, items 4, 7, 9 and 10):
Trial objects as Ray's, tune.track outside tune.run, export_formats, local_dir
spellings with restore=, 0.8's .func(spec) on the sampling helpers, grid order
with reuse_actors, and capacity when Ray is connected to a cluster.

Every test runs real workers (or, for the standalone track session, writes real
files); none depends on how fast anything runs.
"""
import glob
import json
import os
import subprocess
import sys
import textwrap

import pytest

import tunec as tune
from tunec.trial import Checkpoint, Trial

from run_helpers import rows, run


class Counter(tune.Trainable):
    """Counts; acc = iteration * config["x"]; checkpoints its count."""

    def _setup(self, config):
        self.count = 0

    def _train(self):
        self.count += 1
        return {"acc": self.count * self.config.get("x", 1)}

    def _save(self, checkpoint_dir):
        path = os.path.join(checkpoint_dir, "count")
        with open(path, "w") as f:
            f.write(str(self.count))
        return path

    def _restore(self, path):
        with open(path) as f:
            self.count = int(f.read())

    def _export_model(self, export_formats, export_dir):
        path = os.path.join(export_dir, "model.txt")
        with open(path, "w") as f:
            f.write("{} {}".format(export_formats[0], self.count))
        return {export_formats[0]: path}


# -- item 4: Trial ------------------------------------------------------------

def test_trial_checkpoint_is_rays_checkpoint_object(tmp_path, two_cpus):
    trial = run(Counter, tmp_path, stop={"training_iteration": 3}, checkpoint_freq=1).trials[0]
    checkpoint = trial.checkpoint
    assert isinstance(checkpoint, Checkpoint)
    assert checkpoint.storage == Checkpoint.PERSISTENT == "persistent"
    assert Checkpoint.MEMORY == "memory"
    assert checkpoint.value == os.path.join(trial.logdir, "checkpoint_3", "count")
    assert os.path.isfile(checkpoint.value)
    assert checkpoint.result["training_iteration"] == 3
    assert checkpoint.result["acc"] == 3
    assert trial.has_checkpoint()
    # The same object from the experiment state file, without tune.run's trials.
    state = glob.glob(os.path.join(str(tmp_path), "Counter", "experiment_state-*.json"))[0]
    loaded = tune.ExperimentAnalysis(state).trials[0]
    assert loaded.checkpoint.value == checkpoint.value
    assert loaded.has_checkpoint()


def test_trial_without_checkpoint_falls_back_to_restore_path(tmp_path, two_cpus):
    first = run(Counter, tmp_path, name="a", stop={"training_iteration": 2},
                checkpoint_at_end=True).trials[0]
    plain = run(Counter, tmp_path, name="b", stop={"training_iteration": 1}).trials[0]
    assert not plain.has_checkpoint() and plain.checkpoint.value is None
    restored = run(Counter, tmp_path, name="c", stop={"training_iteration": 3},
                   restore=first.checkpoint.value).trials[0]
    assert restored.restore_path == first.checkpoint.value
    assert restored.last_result["acc"] == 3        # continued from count 2


def test_trial_public_attributes_and_methods(tmp_path, two_cpus):
    analysis = run(Counter, tmp_path, stop={"training_iteration": 2}, checkpoint_freq=2,
                   keep_checkpoints_num=3, checkpoint_score_attr="acc", max_failures=2,
                   config={"x": tune.grid_search([1, 2])}, export_formats=["model"])
    trial = analysis.trials[1]
    assert trial.trainable_name == "Counter"
    assert trial.config == {"x": 2} and trial.evaluated_params == {"x": 2}
    assert trial.experiment_tag == "1_x=2"
    assert trial.resources.cpu == 1 and trial.resources.gpu == 0
    assert trial.resources.cpu_total() == 1
    assert trial.stopping_criterion == {"training_iteration": 2}
    assert trial.local_dir == os.path.join(str(tmp_path), "Counter")
    assert os.path.dirname(trial.logdir) == trial.local_dir
    assert trial.status == Trial.TERMINATED and trial.is_finished()
    assert trial.last_result["acc"] == 4
    assert trial.metric_analysis["acc"]["max"] == 4
    assert trial.error_file is None and trial.error_msg is None
    assert trial.num_failures == 0 and trial.max_failures == 2
    assert trial.checkpoint_freq == 2 and trial.checkpoint_at_end is False
    assert trial.keep_checkpoints_num == 3 and trial.checkpoint_score_attr == "acc"
    assert trial.export_formats == ["model"]
    assert trial.start_time is not None
    assert trial.should_recover()
    assert trial.should_checkpoint()                # iteration 2, freq 2
    assert trial.should_stop({"training_iteration": 2})
    assert not trial.should_stop({"training_iteration": 1})
    assert trial.should_stop({"training_iteration": 1, "done": True})
    with pytest.raises(tune.TuneError):
        trial.should_stop({"acc": 1})
    assert str(trial) == repr(trial) == "Counter_" + trial.trial_id
    for name in ("custom_trial_name", "sync_to_driver_fn", "loggers", "results",
                 "last_update_time", "location"):
        assert hasattr(trial, name)
    result = {"training_iteration": 3, "acc": 10}
    trial.update_last_result(result, terminate=True)
    assert trial.last_result["done"] is True and trial.last_result["trial_id"] == trial.trial_id
    assert trial.metric_analysis["acc"]["max"] == 10 and trial.metric_analysis["acc"]["last"] == 10


# -- item 9a: tune.track outside tune.run ---------------------------------------

def test_track_outside_run_logs_to_a_local_trial_dir(tmp_path, monkeypatch):
    from tunec import track
    from tunec.track import session as track_session
    monkeypatch.setattr(track_session, "DEFAULT_RESULTS_DIR", str(tmp_path / "home_results"))
    track.init(trial_config={"lr": 0.1})
    try:
        for i in range(3):
            track.log(acc=i * 2)
        logdir = track.trial_dir()
    finally:
        track.shutdown()
    assert os.path.dirname(logdir) == str(tmp_path / "home_results" / "default")
    with open(os.path.join(logdir, "result.json")) as f:
        logged = [json.loads(line) for line in f]
    assert [r["acc"] for r in logged] == [0, 2, 4]
    assert [r["training_iteration"] for r in logged] == [0, 1, 2]     # Ray's counter
    with open(os.path.join(logdir, "params.json")) as f:
        params = json.load(f)
    assert params["lr"] == 0.1 and params["trial_completed"] is True
    assert params["trial_id"] == logged[0]["trial_id"]
    assert os.path.exists(os.path.join(logdir, "progress.csv"))
    with pytest.raises(ValueError, match="track.init"):
        track.log(acc=1)            # no session any more


def test_track_init_with_experiment_dir_then_analysis(tmp_path):
    from tunec import track
    track.init(experiment_dir=str(tmp_path / "exp"), trial_name="mine")
    track.log(loss=0.5)
    track.log(loss=0.25)
    track.shutdown()
    analysis = tune.Analysis(str(tmp_path / "exp"))
    best = analysis.get_best_logdir("loss", mode="min")
    assert os.path.basename(best).startswith("mine_")


def test_track_inside_run_still_reports_to_the_trial(tmp_path, two_cpus):
    def train(config):
        from tunec import track
        track.init()                 # a no-op under tune.run
        for i in range(3):
            track.log(score=i)
    trial = run(train, tmp_path).trials[0]
    assert [r["score"] for r in rows(trial)] == [0, 1, 2]


# -- item 9b: export_formats -----------------------------------------------------

def test_export_formats_export_the_model_when_the_trial_stops(tmp_path, two_cpus):
    trials = run(Counter, tmp_path, stop={"training_iteration": 3}, export_formats=["Model "],
                 config={"x": tune.grid_search([1, 2])}).trials
    for trial in trials:
        with open(os.path.join(trial.logdir, "model.txt")) as f:
            assert f.read() == "model 3"


def test_export_formats_unknown_is_a_tune_error(tmp_path):
    with pytest.raises(tune.TuneError, match="Unsupported import/export format: onnx"):
        run(Counter, tmp_path, export_formats=["onnx"])


# -- item 9c: local_dir spellings, then restore= ---------------------------------

@pytest.mark.parametrize("spelling", ["relative", "dot", "home", "symlink"])
def test_local_dir_spellings_then_restore(tmp_path, monkeypatch, two_cpus, spelling):
    base = tmp_path / "real"
    base.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    if spelling == "symlink":
        os.symlink(str(base), str(tmp_path / "link"))
    local_dir = {"relative": "real", "dot": "./real", "home": "~/real",
                 "symlink": str(tmp_path / "link")}[spelling]
    analysis = tune.run(Counter, name="e", local_dir=local_dir, stop={"training_iteration": 2},
                        checkpoint_freq=1, config={"x": tune.grid_search([1, 3])}, verbose=0)
    best = analysis.get_best_logdir("acc", "max")
    assert os.path.isabs(best) and os.path.isfile(os.path.join(best, "result.json"))
    trial = [t for t in analysis.trials if t.logdir == best][0]
    assert os.path.isfile(trial.checkpoint.value)
    assert trial.checkpoint.value.startswith(os.path.join(best, ""))
    monkeypatch.chdir(base)          # the paths must not depend on the cwd
    again = tune.run(Counter, name="e2", local_dir=str(tmp_path / "real"),
                     stop={"training_iteration": 4}, restore=trial.checkpoint.value,
                     config={"x": 3}, verbose=0)
    assert [r["acc"] for r in rows(again.trials[0])] == [9, 12]


class RealpathSaver(Counter):
    """Returns its checkpoint path spelled through the resolved cwd."""

    def _save(self, checkpoint_dir):
        path = os.path.join(os.path.realpath(checkpoint_dir), "count")
        with open(path, "w") as f:
            f.write(str(self.count))
        return path


def test_checkpoint_path_through_a_symlinked_local_dir(tmp_path, two_cpus):
    (tmp_path / "real").mkdir()
    os.symlink(str(tmp_path / "real"), str(tmp_path / "link"))
    trial = tune.run(RealpathSaver, local_dir=str(tmp_path / "link"), verbose=0,
                     stop={"training_iteration": 2}, checkpoint_freq=1).trials[0]
    assert trial.status == "TERMINATED"
    assert trial.checkpoint.value == os.path.join(trial.logdir, "checkpoint_2", "count")


# -- item 9d: 0.8's .func(spec) on the sampling helpers ---------------------------

def test_helpers_answer_func_spec_as_in_08(tmp_path, two_cpus):
    lr = tune.loguniform(1e-4, 1e-1)
    for domain in (tune.uniform(0, 1), lr, tune.randint(0, 5), tune.choice([3, 4]),
                   tune.randn()):
        assert domain.func(None) is not None
    assert all(1e-4 <= lr.func({"config": {}}) <= 1e-1 for _ in range(50))

    def train(config):
        tune.report(lr=config["lr"], k=config["k"])
    trials = run(train, tmp_path, num_samples=4, config={
        "lr": tune.sample_from(lambda spec: tune.loguniform(1e-4, 1e-1).func(spec)),
        "k": tune.sample_from(tune.choice([7, 8]).func),
    }).trials
    for trial in trials:
        assert 1e-4 <= trial.config["lr"] <= 1e-1 and trial.config["k"] in (7, 8)
    # The typed 1.x API is unchanged.
    assert 1e-4 <= tune.loguniform(1e-4, 1e-1).sample() <= 1e-1


# -- item 9e: reuse_actors keeps the grid order ------------------------------------

class OrderLogger(tune.Trainable):
    def _setup(self, config):
        self._note(config)

    def reset_config(self, new_config):
        self._note(new_config)
        return True

    def _note(self, config):
        with open(config["log"], "a") as f:
            f.write("{}\n".format(config["x"]))

    def _train(self):
        return {"done": True}


@pytest.mark.parametrize("reuse", [False, True])
def test_grid_trials_start_in_grid_order(tmp_path, reuse):
    tune.init(num_cpus=1)
    try:
        log = str(tmp_path / "order.txt")
        analysis = run(OrderLogger, tmp_path, reuse_actors=reuse,
                       config={"x": tune.grid_search(list(range(8))), "log": log})
    finally:
        tune.shutdown()
    with open(log) as f:
        assert [int(line) for line in f] == list(range(8))
    started = sorted(analysis.trials, key=lambda t: t.start_time)
    assert [t.config["x"] for t in started] == list(range(8))


# -- items 10 and 7: a Ray cluster, tune.init(address=) ------------------------------

FAKE_RAY = '''
"""A stand-in for a Ray session connected to a 1024-CPU cluster of two nodes
(a real cluster cannot run in a test): the API tunec reads."""
import os
LOCAL_MODE = 2
_NODES = [{"NodeID": "driver-node", "Alive": True, "Resources": {"CPU": 1.0, "node:a": 1}},
          {"NodeID": "other-node", "Alive": True, "Resources": {"CPU": 1023.0}}]
def is_initialized():
    return True
def cluster_resources():
    return {"CPU": 1024.0, "memory": 1e9}
class _Context:
    def get_node_id(self):
        return os.environ.get("FAKE_RAY_NODE", "driver-node")
def get_runtime_context():
    return _Context()
def nodes():
    return _NODES
'''

CLUSTER_SCRIPT = '''
import os, sys, warnings
import ray
import tunec as tune

def train(config):
    marker = os.path.join(config["dir"], "running-{}".format(config["i"]))
    open(marker, "w").close()
    running = [n for n in os.listdir(config["dir"]) if n.startswith("running-")]
    tune.report(peers=len(running))
    os.remove(marker)

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        tune.run(lambda config: tune.report(a=1), local_dir=sys.argv[1], verbose=0,
                 resources_per_trial={"cpu": 512})
        print("BIG RAN")
    except Exception as exc:
        print("BIG REFUSED", type(exc).__name__, str(exc).splitlines()[0])
    analysis = tune.run(train, local_dir=sys.argv[1], verbose=0,
                        config={"i": tune.grid_search(list(range(6))), "dir": sys.argv[1]})
print("WARN", [str(w.message) for w in caught if "locally" in str(w.message)])
print("PEERS", max(t.last_result["peers"] for t in analysis.trials))
'''


def _cluster_run(tmp_path, node):
    pkg = tmp_path / "fake" / "ray"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(FAKE_RAY)
    script = tmp_path / "script.py"
    script.write_text(CLUSTER_SCRIPT)
    work = tmp_path / "work"
    work.mkdir()
    path = [str(tmp_path / "fake"), os.getcwd()] + [p for p in sys.path if p]
    env = dict(os.environ, FAKE_RAY_NODE=node, PYTHONPATH=os.pathsep.join(path))
    out = subprocess.run([sys.executable, str(script), str(work)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_ray_cluster_lends_only_this_nodes_cpus(tmp_path):
    """The driver's node has 1 of the cluster's 1024 CPUs: a 512-CPU trial
    is refused before it runs (it ran on this host before), trials never
    overlap, and a warning says they run locally."""
    out = _cluster_run(tmp_path, node="driver-node")
    assert "BIG REFUSED TuneError Insufficient cluster resources" in out, out
    assert "PEERS 1" in out
    assert "trials run locally on this machine" in out


def test_ray_cluster_without_this_node_uses_this_machines_cpus(tmp_path):
    out = _cluster_run(tmp_path, node="unknown-node")
    assert "BIG REFUSED TuneError Insufficient cluster resources" in out, out
    assert "trials run locally on this machine" in out
    assert int(out.split("PEERS ")[1].split()[0]) <= len(os.sched_getaffinity(0))


def test_tune_init_address_warns_and_uses_this_machine():
    from tunec import _capacity
    with pytest.warns(RuntimeWarning, match="address='ray://head:10001'.*run locally"):
        tune.init(address="ray://head:10001", num_cpus=3)
    try:
        assert _capacity.current()["num_cpus"] == 3
    finally:
        tune.shutdown()
    with pytest.raises(TypeError, match="'runtime_env'"):
        tune.init(runtime_env={"pip": ["x"]})
    tune.init(num_cpus=1, ignore_reinit_error=True, include_dashboard=False)
    tune.shutdown()
