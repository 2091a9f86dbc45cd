"""tune.utils.pin_in_object_store and tune.with_parameters on a real local
Ray cluster (conftest.py): the driver puts each object in Ray's object
store once, and the trials on the worker nodes get it from there
(tunec/_ray_objects.py), not from files of the driver or pickled into each
trial."""
import base64
import glob
import os
import tempfile
import threading

import numpy as np
import ray

import tunec as tune
from tunec.utils import get_pinned_object, pin_in_object_store
from tunec.utils import util as tune_util

from conftest import wait_for
from test_ray_executor import _await_file, _node


def test_pinned_objects_and_parameters_go_through_the_object_store(local_cluster, tmp_path):
    nodes = [local_cluster.add_node(num_cpus=1) for _ in range(2)]
    local_cluster.connect()
    shared = tmp_path / "shared"
    shared.mkdir()
    data = np.arange(2_000_000, dtype=np.float64)          # 16 MB
    pinned_id = pin_in_object_store({"scale": 3.0, "weights": np.ones(1_000_000)})

    def trial(config, data):
        pinned = get_pinned_object(config["pinned"])
        open(os.path.join(config["dir"], "got-{}".format(config["x"])), "w").close()
        _await_file(os.path.join(config["dir"], "release"))
        tune.report(node=_node(), total=float(data.sum()), writeable=data.flags.writeable,
                    pinned=float(pinned["weights"].sum() * pinned["scale"]),
                    again=get_pinned_object(config["pinned"]) is pinned)

    wrapped = tune.with_parameters(trial, data=data)
    pinned_ref = ray.cloudpickle.loads(
        base64.b64decode(pinned_id[len(tune_util.PINNED_OBJECT_PREFIX):])[len(b"ray:"):])
    seen = {}

    def watch():
        # While both trials hold the objects: where does Ray have them?
        try:
            wait_for(lambda: all((shared / "got-{}".format(x)).exists() for x in (0, 1)),
                     "both trials to get their objects")
            refs = wrapped._tunec_parameters._refs + [pinned_ref]
            seen.update(ray.experimental.get_object_locations(refs))
        finally:
            (shared / "release").write_text("go")

    watcher = threading.Thread(target=watch)
    watcher.start()
    analysis = tune.run(wrapped, local_dir=str(tmp_path / "results"), verbose=0,
                        config={"x": tune.grid_search([0, 1]), "dir": str(shared),
                                "pinned": pinned_id},
                        resources_per_trial={"cpu": 1})
    watcher.join()
    worker_nodes = {local_cluster.node_id(n) for n in nodes}
    assert {t.last_result["node"] for t in analysis.trials} == worker_nodes
    for t in analysis.trials:
        assert t.status == "TERMINATED"
        assert t.last_result["total"] == float(data.sum())
        assert t.last_result["pinned"] == 3.0e6
        assert t.last_result["writeable"] is False     # as Ray's zero-copy arrays
        assert t.last_result["again"] is True          # fetched once per worker
    # One object each, put by the driver, and copied by Ray to both worker
    # nodes, where the trials' actors got it.
    assert len(wrapped._tunec_parameters._refs) == 1
    assert len(seen) == 2, seen
    for ref, where in seen.items():
        assert where["object_size"] >= (8_000_000 if ref == pinned_ref else data.nbytes)
        assert worker_nodes <= set(where["node_ids"]), (where, worker_nodes)
    # Not through files of the driver's machine, nor with the trainable:
    # what the workers receive of the wrapper is a few hundred bytes.
    assert tune_util._pin_dir is None
    for root in ("/dev/shm", tempfile.gettempdir()):
        assert not glob.glob(os.path.join(root, "tunec-params-{}-*".format(os.getpid())))
    import cloudpickle
    assert len(cloudpickle.dumps(wrapped)) < 100_000
