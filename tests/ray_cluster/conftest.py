"""A real local Ray cluster for the tests of tunec's Ray executor
(docs/ray-cluster.md). Run by `make test-ray`, which installs Ray into its own
virtual environment; skipped where Ray is not installed, and outside that
target (TUNEC_TEST_RAY=1), so `make test` keeps its time budget.

Every node is a raylet of ray.cluster_utils.Cluster on this machine, with
its own ports and a temporary directory of this test session's own; the
nodes share the disk, which is the "shared storage" the executor needs for
checkpoints (docs/ray-cluster.md). Only the clusters started here are shut
down.
"""
import os
import time

import pytest

if os.environ.get("TUNEC_TEST_RAY") != "1":
    pytest.skip("the Ray cluster tests run by `make test-ray`", allow_module_level=True)
ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

# A hang-only deadline: every wait below is for an observable event.
DEADLINE_S = 240


def wait_for(predicate, what, deadline_s=DEADLINE_S):
    end = time.monotonic() + deadline_s
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


class LocalCluster:
    """A head node without CPUs (the driver's) and worker nodes added by
    the test; ray.init is connected to it while the test runs. connect()
    waits until every node added is up."""

    def __init__(self):
        self.cluster = Cluster(initialize_head=True, head_node_args={
            "num_cpus": 0, "include_dashboard": False})
        self.nodes = []
        # Connected before any other node exists: the driver then uses the
        # head's raylet (nodes on one address are otherwise picked at random,
        # and a driver whose raylet is removed exits).
        ray.init(address=self.cluster.address, log_to_driver=False)

    def add_node(self, **kwargs):
        node = self.cluster.add_node(**kwargs)
        self.nodes.append(node)
        return node

    def connect(self):
        self.cluster.wait_for_nodes()

    @staticmethod
    def node_id(node):
        """Ray's id of a node started here (ray.nodes() names it by its
        object store socket)."""
        for info in ray.nodes():
            if info.get("ObjectStoreSocketName") == node.plasma_store_socket_name:
                return info["NodeID"]
        raise LookupError("node not in ray.nodes()")

    @staticmethod
    def worker_actors():
        """The GCS's records of tunec's worker actors (tunec/_ray_actor.py)
        of this cluster, dead ones too: Ray's ActorTableData, whose
        required_resources is what the actor asked Ray for."""
        from ray.core.generated import gcs_pb2
        accessor = ray._private.state.state.global_state_accessor
        records = [gcs_pb2.ActorTableData.FromString(raw)
                   for raw in accessor.get_actor_table(None, None)]
        return [a for a in records if a.class_name == "WorkerActor"]

    def shutdown(self):
        ray.shutdown()
        self.cluster.shutdown()


@pytest.fixture
def local_cluster():
    c = LocalCluster()
    try:
        yield c
    finally:
        c.shutdown()
        import tunec as tune
        tune.shutdown()
