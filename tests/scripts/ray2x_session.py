"""A Ray 2.0-2.6 Tune script that stays with tune.run, run unchanged by
`tunec run`: reports through ray.air.session, a searcher from
ray.tune.search (2.x's name for ray.tune.suggest)."""
import argparse

import ray
from ray import tune
from ray.air import session
from ray.tune.search import BasicVariantGenerator


def objective(config):
    for step in range(config["steps"]):
        session.report({"score": config["a"] * (step + 1)})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke-test", action="store_true")
    args = parser.parse_args()
    ray.init()
    analysis = tune.run(objective, name="ray2x_session", metric="score", mode="max", verbose=1,
                        search_alg=BasicVariantGenerator(),
                        config={"a": tune.grid_search([1, 2]),
                                "steps": 2 if args.smoke_test else 20})
    print("RAY2X-SESSION OK best a={}".format(analysis.best_config["a"]))
