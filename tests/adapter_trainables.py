"""Trainables of test_search_adapters_more.py, in a module of their own: a
worker imports the module its trainable lives in, and the test module
imports nevergrad, zoopt and hpbandster (seconds per worker)."""
import json
import os

import tunec as tune


def quadratic(config):
    tune.report(loss=(config["x"] - 0.5) ** 2 + config["nested"]["y"] + 0.01 * config["n"])


class Steps(tune.Trainable):
    """Loss falls with iterations; pausable (it checkpoints its state)."""

    def setup(self, config):
        self.total = 0.0

    def step(self):
        self.total += self.config["x"]
        return {"loss": (self.config["x"] - 0.3) ** 2 + 1.0 / (1 + self.iteration)}

    def save_checkpoint(self, checkpoint_dir):
        path = os.path.join(checkpoint_dir, "state.json")
        with open(path, "w") as f:
            json.dump({"total": self.total}, f)
        return path

    def load_checkpoint(self, path):
        with open(path) as f:
            self.total = json.load(f)["total"]
