"""Sharing a large dataset with every trial (``tune.with_parameters``) and
asking for resources per trial (``tune.with_resources``), Ray 2.x style.

    python examples/tuner_with_parameters.py [--smoke-test]

The array is stored once; each worker maps the same file read-only, so four
trials use the memory of one copy. Each trial asks for its CPUs (here 1) with
with_resources.
"""
import argparse

import numpy as np

import tunec as tune
from tunec import train


def fit_line(config, x=None, y=None):
    """Least squares on a subsample, with ridge penalty config["alpha"]."""
    rows = np.arange(0, len(x), config["stride"])
    xs, ys = x[rows], y[rows]
    w = (xs @ ys) / (xs @ xs + config["alpha"])
    ctx = tune.get_context()
    train.report({"mse": float(np.mean((x * w - y) ** 2)), "w": float(w),
                  "cpus": ctx.get_trial_resources().required_resources["CPU"]})


def main(smoke_test):
    n = 100_000 if smoke_test else 10_000_000
    rng = np.random.default_rng(0)
    x = rng.normal(size=n)
    y = 3.0 * x + rng.normal(scale=0.1, size=n)
    trainable = tune.with_resources(tune.with_parameters(fit_line, x=x, y=y), {"cpu": 1})
    tuner = tune.Tuner(
        trainable,
        param_space={"alpha": tune.grid_search([0.0, 10.0, 1000.0]),
                     "stride": tune.choice([1, 10])},
        tune_config=tune.TuneConfig(metric="mse", mode="min",
                                    num_samples=1 if smoke_test else 2),
        run_config=tune.RunConfig(name="tuner_with_parameters", verbose=1),
    )
    results = tuner.fit()
    best = results.get_best_result()
    print("Best alpha:", best.config["alpha"], "w = {:.4f}".format(best.metrics["w"]),
          "({} CPUs per trial)".format(best.metrics["cpus"]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke-test", action="store_true", help="Finish quickly for testing")
    main(parser.parse_args().smoke_test)
