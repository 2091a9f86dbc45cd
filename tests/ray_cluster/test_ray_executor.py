"""tunec's Ray executor on a real local multi-node cluster (conftest.py):
trials run as actors where Ray places them by their resources, their files
reach the experiment directory, and a node lost mid-run makes its trials
retry from their last checkpoint on another node."""
import json
import os
import threading
import time

import ray

import tunec as tune
from tunec.placement_groups import PlacementGroupFactory

from conftest import DEADLINE_S, wait_for


def _await_file(path, deadline_s=DEADLINE_S):
    """Inside a trial: waits for a file the test writes (a hang-only
    deadline; the trial errs rather than hangs)."""
    end = time.monotonic() + deadline_s
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise RuntimeError("never saw " + path)
        time.sleep(0.02)


def _node():
    return os.environ.get("TUNEC_RAY_NODE_ID", "")


def _rows(logdir):
    with open(os.path.join(logdir, "result.json")) as f:
        return [json.loads(line) for line in f if line.strip()]


def barrier_trial(config):
    """Reports its node once every trial of the run is running at once."""
    open(os.path.join(config["dir"], "started-{}".format(config["x"])), "w").close()
    for x in range(config["n"]):
        _await_file(os.path.join(config["dir"], "started-{}".format(x)))
    for i in range(3):
        tune.report(step=i, node=_node(), cuda=os.environ.get("CUDA_VISIBLE_DEVICES", ""))


def where_trial(config):
    tune.report(node=_node(), cuda=os.environ.get("CUDA_VISIBLE_DEVICES", ""))


def test_trials_run_on_the_nodes_their_resources_need(local_cluster, tmp_path):
    a = local_cluster.add_node(num_cpus=2)
    b = local_cluster.add_node(num_cpus=2, num_gpus=2, resources={"special": 1})
    local_cluster.connect()
    # Two 2-CPU trials running at once (each waits for the other): only two
    # different worker nodes can hold them.
    shared = tmp_path / "barrier"
    shared.mkdir()
    analysis = tune.run(barrier_trial, local_dir=str(tmp_path / "results"), verbose=0,
                        config={"x": tune.grid_search([0, 1]), "n": 2, "dir": str(shared)},
                        resources_per_trial={"cpu": 2})
    nodes = {t.last_result["node"] for t in analysis.trials}
    assert nodes == {local_cluster.node_id(a), local_cluster.node_id(b)}
    for t in analysis.trials:
        assert t.status == "TERMINATED"
        # The driver wrote every result into the experiment directory.
        assert [r["step"] for r in _rows(t.logdir)] == [0, 1, 2]
        assert os.path.exists(os.path.join(t.logdir, "progress.csv"))
    # A custom resource only node b has.
    analysis = tune.run(where_trial, local_dir=str(tmp_path / "results"), verbose=0,
                        num_samples=2,
                        resources_per_trial={"cpu": 1, "custom_resources": {"special": 1}})
    assert {t.last_result["node"] for t in analysis.trials} == {local_cluster.node_id(b)}
    # ... because the actors asked Ray for it.
    requests = [dict(a.required_resources) for a in local_cluster.worker_actors()]
    assert {"CPU": 1.0, "special": 1.0} in requests, requests
    # Half a GPU each: Ray gives each actor one of node b's two GPUs.
    before = {a.actor_id for a in local_cluster.worker_actors()}
    analysis = tune.run(where_trial, local_dir=str(tmp_path / "results"), verbose=0,
                        num_samples=4, resources_per_trial={"cpu": 0.5, "gpu": 0.5})
    for t in analysis.trials:
        assert t.last_result["node"] == local_cluster.node_id(b)
        assert t.last_result["cuda"] in ("0", "1"), t.last_result
    requests = [dict(a.required_resources) for a in local_cluster.worker_actors()
                if a.actor_id not in before]
    assert requests and all(r == {"CPU": 0.5, "GPU": 0.5} for r in requests), requests


def test_placement_groups_for_extra_resources_and_factories(local_cluster, tmp_path):
    nodes = [local_cluster.add_node(num_cpus=1) for _ in range(2)]
    local_cluster.connect()
    release = tmp_path / "release"

    def trial(config):
        open(str(tmp_path / "running"), "w").close()
        _await_file(str(release))
        tune.report(node=_node())

    seen = []

    def watch():
        try:
            wait_for(lambda: (tmp_path / "running").exists(), "the trial to run")
            seen.extend(g for g in ray.util.placement_group_table().values()
                        if g["state"] == "CREATED")
        finally:
            release.write_text("go")

    for resources, strategy in (
            ({"cpu": 1, "extra_cpu": 1}, "PACK"),
            (PlacementGroupFactory([{"CPU": 1}, {"CPU": 1}], strategy="STRICT_SPREAD"),
             "STRICT_SPREAD")):
        seen.clear()
        for f in (release, tmp_path / "running"):
            if f.exists():
                f.unlink()
        watcher = threading.Thread(target=watch)
        watcher.start()
        analysis = tune.run(trial, local_dir=str(tmp_path / "results"), verbose=0,
                            resources_per_trial=resources)
        watcher.join()
        assert analysis.trials[0].status == "TERMINATED"
        assert len(seen) == 1, seen
        group = seen[0]
        assert group["strategy"] == strategy
        assert sorted(b.get("CPU") for b in group["bundles"].values()) == [1.0, 1.0]
        # Both nodes hold a bundle: the whole cluster's two CPUs.
        assert {group["bundles_to_node_id"][i] for i in (0, 1)} == {local_cluster.node_id(n) for n in nodes}
        assert analysis.trials[0].last_result["node"] == group["bundles_to_node_id"][0]
    # The groups go with the trials.
    wait_for(lambda: all(g["state"] == "REMOVED"
                         for g in ray.util.placement_group_table().values()),
             "the placement groups to be removed")


class Steps(tune.Trainable):
    """Five steps, a checkpoint after each; on its first run each trial
    waits at step 3 for the test (which removes a node meanwhile)."""

    def setup(self, config):
        self.count = 0
        self.restored_at = 0

    def step(self):
        self.count += 1
        # A file of the trial's own, written on whichever node runs it.
        with open(os.path.join(self.logdir, "steps.txt"), "a") as f:
            f.write("{} {}\n".format(self.count, _node()))
        if self.count == 3 and not self.restored_at:
            marker = os.path.join(self.config["dir"], "at3-{}".format(self.config["x"]))
            with open(marker + ".tmp", "w") as f:
                f.write(_node())
            os.rename(marker + ".tmp", marker)
            _await_file(os.path.join(self.config["dir"], "release"))
        return {"count": self.count, "node": _node(), "restored_at": self.restored_at,
                "done": self.count >= 5}

    def save_checkpoint(self, checkpoint_dir):
        with open(os.path.join(checkpoint_dir, "count"), "w") as f:
            f.write(str(self.count))
        return checkpoint_dir

    def load_checkpoint(self, checkpoint_dir):
        with open(os.path.join(checkpoint_dir, "count")) as f:
            self.count = int(f.read())
        self.restored_at = self.count


def test_a_lost_node_retries_its_trial_from_its_checkpoint_elsewhere(local_cluster, tmp_path):
    nodes = [local_cluster.add_node(num_cpus=1) for _ in range(2)]
    local_cluster.connect()
    shared = tmp_path / "shared"
    shared.mkdir()
    removed = {}

    def remove_a_node():
        try:
            markers = [shared / "at3-0", shared / "at3-1"]
            wait_for(lambda: all(m.exists() for m in markers), "both trials at step 3")
            victim_id = markers[0].read_text()
            victim = next(n for n in nodes if local_cluster.node_id(n) == victim_id)
            local_cluster.cluster.remove_node(victim)
            removed["node"] = victim_id
        finally:
            (shared / "release").write_text("go")

    chaos = threading.Thread(target=remove_a_node)
    chaos.start()
    analysis = tune.run(Steps, local_dir=str(tmp_path / "results"), verbose=0,
                        config={"x": tune.grid_search([0, 1]), "dir": str(shared)},
                        checkpoint_freq=1, max_failures=2, resources_per_trial={"cpu": 1})
    chaos.join()
    assert removed, "no node was removed"
    by_x = {t.config["x"]: t for t in analysis.trials}
    for t in analysis.trials:
        assert t.status == "TERMINATED", t.error_file
    lost, kept = by_x[0], by_x[1]
    assert lost.num_failures == 1
    assert kept.num_failures == 0
    last = lost.last_result
    assert last["count"] == 5
    # Restored from the checkpoint of step 2 (its last before the loss), on
    # the node still there; its result rows were cut back to that checkpoint.
    assert last["restored_at"] == 2
    assert last["node"] != removed["node"]
    assert [r["count"] for r in _rows(lost.logdir)] == [1, 2, 3, 4, 5]
    assert os.path.exists(os.path.join(lost.logdir, "error.txt"))
    # Checkpoints and the trials' own files, written on both nodes, are in
    # the driver's experiment directory (the nodes share its storage).
    for t in analysis.trials:
        with open(os.path.join(t.logdir, "checkpoint_5", "count")) as f:
            assert f.read() == "5"
        assert t.checkpoint.value.startswith(t.logdir)
    with open(os.path.join(lost.logdir, "steps.txt")) as f:
        steps = [line.split() for line in f]
    assert [int(c) for c, _ in steps] == [1, 2, 3, 3, 4, 5]
    assert {n for _, n in steps[:3]} == {removed["node"]}
    assert {n for _, n in steps[3:]} == {last["node"]}
