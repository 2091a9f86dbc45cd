"""The rules of tunec's Ray executor on a real local cluster (conftest.py):
which actors it asks Ray for, when it reuses them, and how a trial waits
for Ray to place its actor."""
import os
import threading

import pytest
import ray

import tunec as tune
from tunec.error import TuneError

from conftest import wait_for
from test_ray_executor import _await_file, _node

_setups = 0         # per worker process: the Trainable instances made here


class Reusable(tune.Trainable):
    def setup(self, config):
        global _setups
        _setups += 1
        self.resets = 0

    def step(self):
        return {"pid": os.getpid(), "setups": _setups, "resets": self.resets,
                "node": _node(), "done": True}

    def reset_config(self, new_config):
        self.resets += 1
        return True


def _new_actors(local_cluster, before):
    return [a for a in local_cluster.worker_actors() if a.actor_id not in before]


def test_actors_are_reused_for_trials_with_the_same_request(local_cluster, tmp_path):
    node = local_cluster.add_node(num_cpus=1)
    local_cluster.connect()
    results = str(tmp_path / "results")
    seen = set()
    for reuse in (True, False):
        before = {a.actor_id for a in local_cluster.worker_actors()}
        analysis = tune.run(Reusable, local_dir=results, verbose=0, num_samples=3,
                            reuse_actors=reuse, resources_per_trial={"cpu": 1})
        rows = [t.last_result for t in analysis.trials]
        # One actor, asking Ray for the trials' request, ran the three
        # trials one after another in its one worker process.
        actors = _new_actors(local_cluster, before)
        assert len(actors) == 1
        assert dict(actors[0].required_resources) == {"CPU": 1.0}
        assert len({r["pid"] for r in rows}) == 1
        assert {r["node"] for r in rows} == {local_cluster.node_id(node)}
        if reuse:
            # reuse_actors: one Trainable instance, reset for each next trial.
            assert [r["setups"] for r in rows] == [1, 1, 1]
            assert sorted(r["resets"] for r in rows) == [0, 1, 2]
        else:
            assert sorted(r["setups"] for r in rows) == [1, 2, 3]
            assert [r["resets"] for r in rows] == [0, 0, 0]
        seen.add(actors[0].actor_id)
    assert len(seen) == 2       # a run's actors end with it

    # Trials asking for different resources never share an actor: each
    # request gets its own, with exactly that request (and the idle 1-CPU
    # actor is ended so that Ray can place the 0.75-CPU one on the node).
    before = {a.actor_id for a in local_cluster.worker_actors()}
    trainable = tune.with_resources(
        Reusable, lambda config: {"cpu": config["cpu"]})
    analysis = tune.run(trainable, local_dir=results, verbose=0,
                        config={"cpu": tune.grid_search([1, 1, 0.75, 0.75])})
    assert all(t.status == "TERMINATED" for t in analysis.trials)
    requests = sorted(dict(a.required_resources)["CPU"]
                      for a in _new_actors(local_cluster, before))
    assert requests == [0.75, 1.0]
    pids = {}
    for t in analysis.trials:
        pids.setdefault(t.config["cpu"], set()).add(t.last_result["pid"])
    assert len(pids[1]) == len(pids[0.75]) == 1 and pids[1] != pids[0.75]


def test_a_trial_waits_for_ray_to_place_its_actor(local_cluster, tmp_path):
    nodes = [local_cluster.add_node(num_cpus=1) for _ in range(2)]
    local_cluster.connect()

    # Another job's actor holds one node's CPU: the cluster's total (the
    # engine's capacity) still has two CPUs, but Ray has room for one trial.
    @ray.remote(num_cpus=1)
    class Squatter:
        def node(self):
            return ray.get_runtime_context().get_node_id()

    squatter = Squatter.remote()
    squatted = ray.get(squatter.node.remote())
    shared = tmp_path / "shared"
    shared.mkdir()
    seen = {}

    def trial(config):
        open(os.path.join(config["dir"], "started-{}".format(config["x"])), "w").close()
        _await_file(os.path.join(config["dir"], "release"))
        tune.report(node=_node())

    def started():
        return sorted(p.name for p in shared.glob("started-*"))

    def pending():
        return [a for a in local_cluster.worker_actors()
                if a.state == type(a).PENDING_CREATION]

    def watch():
        try:
            wait_for(lambda: started() and pending(), "one trial running, one actor waiting")
            seen["started"] = started()
            ray.kill(squatter)
            wait_for(lambda: len(started()) == 2, "the second trial to start")
        finally:
            (shared / "release").write_text("go")

    watcher = threading.Thread(target=watch)
    watcher.start()
    analysis = tune.run(trial, local_dir=str(tmp_path / "results"), verbose=0,
                        config={"x": tune.grid_search([0, 1]), "dir": str(shared)},
                        resources_per_trial={"cpu": 1})
    watcher.join()
    # The second trial started only once the squatter's CPU was free, on
    # its node, and nothing erred meanwhile.
    assert len(seen["started"]) == 1
    assert all(t.status == "TERMINATED" and t.num_failures == 0 for t in analysis.trials)
    assert {t.last_result["node"] for t in analysis.trials} == \
        {local_cluster.node_id(n) for n in nodes}
    waited = next(t for t in analysis.trials
                  if "started-{}".format(t.config["x"]) not in seen["started"])
    assert waited.last_result["node"] == squatted

    # A request larger than the whole cluster can never run: an error, as
    # Ray Tune's, before any trial starts.
    with pytest.raises(TuneError, match="Insufficient cluster resources"):
        tune.run(trial, local_dir=str(tmp_path / "results"), verbose=0,
                 config={"x": 0, "dir": str(shared)}, resources_per_trial={"cpu": 3})
