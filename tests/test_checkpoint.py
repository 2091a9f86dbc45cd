"""Checkpoints with real workers: class and function APIs in every spelling,
when they are taken, retention, restore=, retries from the latest checkpoint,
hung workers, reuse_actors."""
import glob
import json
import os
import pickle
import signal

import pytest

import tunec as tune
from run_helpers import no_hang, run


pytestmark = pytest.mark.usefixtures("two_cpus")


def iterations(trial):
    with open(os.path.join(trial.logdir, "result.json")) as f:
        return [json.loads(line)["training_iteration"] for line in f]


def ckpt_dirs(trial):
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(trial.logdir, "checkpoint_*")))


class Old(tune.Trainable):
    def _setup(self, config):
        self.n = 0

    def _train(self):
        self.n += 1
        return {"n": self.n, "score": -abs(self.n - 4)}

    def _save(self, tmp_checkpoint_dir):
        return {"n": self.n}

    def _restore(self, checkpoint):
        assert checkpoint["tune_checkpoint_path"].endswith("checkpoint")
        self.n = checkpoint["n"]


class New(tune.Trainable):
    def setup(self, config):
        self.n = 0

    def step(self):
        self.n += 1
        return {"n": self.n, "should_checkpoint": self.n == 3}

    def save_checkpoint(self, checkpoint_dir):
        path = os.path.join(checkpoint_dir, "state.txt")
        with open(path, "w") as f:
            f.write(str(self.n))
        return path

    def load_checkpoint(self, checkpoint):
        with open(checkpoint) as f:
            self.n = int(f.read())


def test_class_checkpoint_layout_and_metadata(tmp_path):
    trial = run(Old, tmp_path, stop={"training_iteration": 4}, checkpoint_freq=2).trials[0]
    assert ckpt_dirs(trial) == ["checkpoint_2", "checkpoint_4"]
    d = os.path.join(trial.logdir, "checkpoint_4")
    assert sorted(os.listdir(d)) == [".is_checkpoint", "checkpoint", "checkpoint.tune_metadata"]
    with open(os.path.join(d, "checkpoint.tune_metadata"), "rb") as f:
        meta = pickle.load(f)
    assert meta["iteration"] == 4 and meta["saved_as_dict"] is True
    with open(os.path.join(d, "checkpoint"), "rb") as f:
        assert pickle.load(f) == {"n": 4}
    assert trial.checkpoint.value == os.path.join(trial.logdir, "checkpoint_4", "checkpoint")
    assert trial.checkpoint.result["training_iteration"] == 4


def test_should_checkpoint_and_at_end_and_path_checkpoints(tmp_path):
    trial = run(New, tmp_path, stop={"training_iteration": 5}, checkpoint_at_end=True).trials[0]
    assert ckpt_dirs(trial) == ["checkpoint_3", "checkpoint_5"]
    assert os.path.exists(os.path.join(trial.logdir, "checkpoint_5", "state.txt.tune_metadata"))


def test_returned_path_outside_dir_is_error(tmp_path):
    class Bad(tune.Trainable):
        def step(self):
            return {"x": 1}

        def save_checkpoint(self, checkpoint_dir):
            return "/tmp"

    trial = run(Bad, tmp_path, stop={"training_iteration": 2}, checkpoint_freq=1,
                raise_on_failed_trial=False).trials[0]
    assert trial.status == "ERROR" and "must be within the given checkpoint dir" in trial.error_msg


@pytest.mark.parametrize("attr, kept", [
    # scores -abs(n - 4) at n = 1..6: -3 -2 -1 0 -1 -2; ties keep the newer
    ("score", ["checkpoint_4", "checkpoint_5", "checkpoint_6"]),   # best 2 + the newest
    ("min-score", ["checkpoint_1", "checkpoint_6"]),               # lowest 2 are 1 and 6
    (None, ["checkpoint_5", "checkpoint_6"]),                      # training_iteration
])
def test_keep_checkpoints_num(tmp_path, attr, kept):
    trial = run(Old, tmp_path, stop={"training_iteration": 6}, checkpoint_freq=1,
                keep_checkpoints_num=2, checkpoint_score_attr=attr).trials[0]
    assert ckpt_dirs(trial) == kept


def test_checkpoint_config_2x(tmp_path):
    cfg = tune.CheckpointConfig(num_to_keep=1, checkpoint_frequency=2)
    trial = run(Old, tmp_path, stop={"training_iteration": 6}, checkpoint_config=cfg).trials[0]
    assert ckpt_dirs(trial) == ["checkpoint_6"]
    with pytest.raises(ValueError, match="checkpoint_score_order"):
        tune.CheckpointConfig(checkpoint_score_order="up")


def test_restore_argument_starts_from_checkpoint(tmp_path):
    first = run(Old, tmp_path, name="a", stop={"training_iteration": 3}, checkpoint_at_end=True)
    path = os.path.join(first.trials[0].logdir, "checkpoint_3", "checkpoint")
    second = run(Old, tmp_path, name="b", stop={"training_iteration": 5}, restore=path)
    trial = second.trials[0]
    assert iterations(trial) == [4, 5]
    with open(os.path.join(trial.logdir, "result.json")) as f:
        assert [json.loads(line)["n"] for line in f] == [4, 5]


def fn_ckpt(config, checkpoint_dir=None):
    start = 0
    if checkpoint_dir:
        with open(os.path.join(checkpoint_dir, "s.json")) as f:
            start = json.load(f)["i"]
    for i in range(start + 1, 9):
        if i % 2 == 0:
            with tune.checkpoint_dir(step=i) as d:
                with open(os.path.join(d, "s.json"), "w") as f:
                    json.dump({"i": i}, f)
        if i == 5 and not checkpoint_dir and config["crash"]:
            os.kill(os.getpid(), signal.SIGKILL)     # the worker dies mid-trial, once
        tune.report(i=i)


def test_function_checkpoint_dir_and_retry_after_killed_worker(tmp_path):
    analysis = run(fn_ckpt, tmp_path, config={"crash": tune.grid_search([False, True])},
                   max_failures=1)
    ok, crashed = analysis.trials
    assert ok.status == crashed.status == "TERMINATED"
    assert crashed.num_failures == 1
    for trial in (ok, crashed):
        assert iterations(trial) == list(range(1, 9))     # no duplicate, no missing row
        with open(os.path.join(trial.logdir, "progress.csv")) as f:
            assert f.read().count("\n") == 9
    with open(crashed.error_file) as f:
        assert "SIGKILL" in f.read() or "signal 9" in open(crashed.error_file).read()


def test_report_with_checkpoint_2x(tmp_path):
    def fn(config):
        ckpt = tune.get_checkpoint()
        start = 0
        if ckpt:
            with ckpt.as_directory() as d:
                start = int(open(os.path.join(d, "n")).read())
        for n in range(start + 1, 5):
            d = os.path.join(str(tmp_path), "scratch_{}".format(n))
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "n"), "w") as f:
                f.write(str(n))
            tune.report({"n": n}, checkpoint=tune.Checkpoint.from_directory(d))
    tune.register_trainable("ck2x", fn)
    trial = run("ck2x", tmp_path, keep_checkpoints_num=2).trials[0]
    assert ckpt_dirs(trial) == ["checkpoint_000003", "checkpoint_000004"]
    assert trial.checkpoint.result["training_iteration"] == 4


def test_hung_worker_is_detected(tmp_path, monkeypatch):
    # Ten heartbeats (one a second) missed: a frozen worker, never a
    # healthy one on a busy machine (the worker starting up counts too).
    monkeypatch.setenv("TUNEC_HEARTBEAT_TIMEOUT_S", "10")

    def fn(config):
        tune.report(x=1)
        if config["stop_me"]:
            os.kill(os.getpid(), signal.SIGSTOP)     # frozen: no heartbeat any more
        tune.report(x=2)
    tune.register_trainable("freezes", fn)
    with no_hang("a run with a frozen worker"):
        analysis = run("freezes", tmp_path,
                       config={"stop_me": tune.grid_search([False, True])},
                       raise_on_failed_trial=False)
    ok, frozen = analysis.trials
    assert ok.status == "TERMINATED"
    assert frozen.status == "ERROR" and "stopped answering" in frozen.error_msg


class Reusable(tune.Trainable):
    instances = 0

    def setup(self, config):
        self.resets = 0
        self.pid = os.getpid()
        self.id = os.urandom(4).hex()

    def step(self):
        return {"id": self.id, "resets": self.resets, "done": True}

    def reset_config(self, new_config):
        self.resets += 1
        self.config = new_config
        return True


def test_reuse_actors(tmp_path):
    tune.init(num_cpus=1)
    analysis = run(Reusable, tmp_path, num_samples=4, reuse_actors=True)
    rows = [json.load(open(os.path.join(t.logdir, "result.json"))) for t in analysis.trials]
    assert len({r["id"] for r in rows}) == 1
    assert [r["resets"] for r in rows] == [0, 1, 2, 3]


def test_reuse_actors_without_reset_config(tmp_path):
    tune.init(num_cpus=1)
    analysis = run(New, tmp_path, num_samples=2, reuse_actors=True,
                   stop={"training_iteration": 1}, raise_on_failed_trial=False)
    assert analysis.trials[0].status == "TERMINATED"
    assert analysis.trials[1].status == "ERROR"
    assert "reset_config" in analysis.trials[1].error_msg


def test_standalone_save_restore():
    t = Old()
    t.train()
    t.train()
    path = t.save()
    t2 = Old()
    t2.restore(path)
    assert t2.iteration == 2 and t2.train()["training_iteration"] == 3
