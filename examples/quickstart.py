"""tunec quick start: a small random + grid search over a toy objective, with
ASHA stopping the unpromising trials early.

Run it with `make demo` (or `python examples/quickstart.py` once tunec is
installed). Trials run in parallel worker processes; results land in
~/ray_results/quickstart (or $TUNE_RESULT_DIR) in Ray Tune's format.
"""
import argparse
import math

import tunec as tune
from tunec.schedulers import ASHAScheduler


def objective(config):
    # A learning curve that approaches a config-dependent asymptote.
    for step in range(1, 21):
        score = (1.0 - math.exp(-config["lr"] * step)) * config["scale"]
        tune.report(mean_accuracy=score, step=step)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke-test", action="store_true", help="one sample per grid point")
    args, _ = parser.parse_known_args()
    analysis = tune.run(
        objective,
        name="quickstart",
        config={
            "lr": tune.loguniform(0.01, 1.0),
            "scale": tune.grid_search([0.5, 0.8, 1.0]),
        },
        num_samples=1 if args.smoke_test else 4,
        scheduler=ASHAScheduler(max_t=20, grace_period=4, reduction_factor=2),
        metric="mean_accuracy",
        mode="max",
        seed=0,
        verbose=1,
    )
    best = analysis.get_best_config(metric="mean_accuracy", mode="max")
    print("Best config:", best)
    early = sum(t.last_result["training_iteration"] < 20 for t in analysis.trials)
    print("Stopped early by ASHA:", early)
    print("Trials:", len(analysis.trials), "- results in", analysis.trials[0].local_dir)


if __name__ == "__main__":
    main()
