"""A Ray 0.8 Tune script, written as Ray 0.8's docs wrote them and run
unchanged by `tunec run`: ray.init/ray.put/ray.get, the tune.track API, a
0.8 class Trainable (_setup/_train/_save/_restore) and a scheduler imported
from its ray.tune submodule."""
import argparse
import json
import os

import numpy as np

import ray
from ray import tune
from ray.tune import track
from ray.tune.schedulers import AsyncHyperBandScheduler

WEIGHTS = ray.put(np.array([0.5, 1.0, 2.0]))


def train_track(config):
    weights = ray.get(WEIGHTS)
    for step in range(config["steps"]):
        track.log(mean_accuracy=float(weights[step % 3] * config["lr"]))


class Quadratic(tune.Trainable):
    def _setup(self, config):
        self.x = config["x"]
        self.steps = 0

    def _train(self):
        self.steps += 1
        return {"loss": (self.x - 3) ** 2 / self.steps}

    def _save(self, checkpoint_dir):
        path = os.path.join(checkpoint_dir, "state.json")
        with open(path, "w") as f:
            json.dump({"steps": self.steps}, f)
        return path

    def _restore(self, checkpoint_path):
        with open(checkpoint_path) as f:
            self.steps = json.load(f)["steps"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke-test", action="store_true")
    args = parser.parse_args()
    ray.init(num_cpus=2)
    steps = 3 if args.smoke_test else 100
    analysis = tune.run(train_track, name="ray08_track", verbose=1,
                        config={"lr": tune.grid_search([0.1, 0.2]), "steps": steps},
                        scheduler=AsyncHyperBandScheduler(metric="mean_accuracy", mode="max"))
    best = analysis.get_best_config(metric="mean_accuracy", mode="max")
    trials = tune.run(Quadratic, name="ray08_class", verbose=1, checkpoint_at_end=True,
                      config={"x": tune.grid_search([1, 3])},
                      stop={"training_iteration": steps}).trials
    assert [t.status for t in trials] == ["TERMINATED"] * 2, trials
    ray.shutdown()
    print("RAY08 OK best lr={}".format(best["lr"]))
