"""The Ray 2.x Tuner API on tunec: a random + grid search with ASHA, the best
result and a dataframe of every trial.

    python examples/tuner_quickstart.py [--smoke-test]

The same script runs on Ray with ``from ray import tune, train``.
"""
import argparse
import math

import tunec as tune
from tunec import train
from tunec.schedulers import ASHAScheduler


def objective(config):
    for step in range(1, config["steps"] + 1):
        score = (1.0 - math.exp(-config["lr"] * step)) * config["scale"]
        train.report({"mean_accuracy": score, "step": step})


def main(smoke_test):
    steps = 4 if smoke_test else 20
    tuner = tune.Tuner(
        objective,
        param_space={
            "lr": tune.loguniform(0.01, 1.0),
            "scale": tune.grid_search([0.5, 1.0]),
            "steps": steps,
        },
        tune_config=tune.TuneConfig(
            metric="mean_accuracy", mode="max",
            num_samples=1 if smoke_test else 4,
            scheduler=ASHAScheduler(max_t=steps, grace_period=2, reduction_factor=2),
        ),
        run_config=tune.RunConfig(name="tuner_quickstart", verbose=1),
    )
    results = tuner.fit()
    best = results.get_best_result()
    print("Best config:", best.config)
    print("Best accuracy: {:.3f}".format(best.metrics["mean_accuracy"]))
    print(results.get_dataframe()[["mean_accuracy", "config/lr", "config/scale"]])
    print("Trials:", len(results), "errors:", results.num_errors, "- in", results.experiment_path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke-test", action="store_true", help="Finish quickly for testing")
    main(parser.parse_args().smoke_test)
