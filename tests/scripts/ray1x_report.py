"""A Ray 1.x Tune script, written as Ray 1.x's docs wrote them and run
unchanged by `tunec run`: ray.init(num_cpus=...), a @ray.remote task, an
objective from a module of the user's, tune.run with metric/mode and a
searcher from ray.tune.suggest."""
import argparse

import ray
from ray import tune
from ray.tune.suggest import BasicVariantGenerator

from _ray1x_objective import objective


@ray.remote
def make_grid(n):
    return [float(i) for i in range(n)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke-test", action="store_true", help="Finish quickly for testing")
    args, _ = parser.parse_known_args()
    ray.init(num_cpus=2, ignore_reinit_error=True)
    assert ray.is_initialized()
    assert ray.cluster_resources()["CPU"] == 2, ray.cluster_resources()
    grid = ray.get(make_grid.remote(3))
    analysis = tune.run(
        objective, name="ray1x_report", metric="loss", mode="min", verbose=1,
        search_alg=BasicVariantGenerator(max_concurrent=2),
        config={"x": tune.grid_search(grid), "steps": 3 if args.smoke_test else 50})
    print("RAY1X OK best x={}".format(analysis.best_config["x"]))
