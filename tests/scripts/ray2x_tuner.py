"""A Ray 2.x script in the Tuner API, as Ray 2.x's docs write them, run
unchanged by `tunec run`: ray.train.report, tune.Tuner/TuneConfig and
train.RunConfig."""
import argparse

import ray
from ray import train, tune


def objective(config):
    for step in range(config["steps"]):
        train.report({"score": config["a"] * (step + 1)})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke-test", action="store_true")
    args = parser.parse_args()
    ray.init(num_cpus=2)
    tuner = tune.Tuner(
        objective,
        param_space={"a": tune.grid_search([1, 2]), "steps": 2 if args.smoke_test else 20},
        tune_config=tune.TuneConfig(metric="score", mode="max"),
        run_config=train.RunConfig(name="ray2x_tuner", verbose=1))
    results = tuner.fit()
    best = results.get_best_result()
    print("RAY2X-TUNER OK best a={}".format(best.config["a"]))
