"""``MyTrainableClass`` (``ray.tune.utils.mock_trainable``): the toy agent
of Ray's examples and tests, whose reward follows a sigmoid shaped by the
``width`` and ``height`` of its config.

Config keys besides those: ``sleep`` (seconds per step), ``mock_error``
(raise from the second step on, until restored from a checkpoint) and
``persistent_error`` (keep raising after a restore too).
"""
import json
import os
import time

import numpy as np

from tunec.trainable import Trainable

MOCK_TRAINABLE_NAME = "mock_trainable"
MOCK_ERROR_KEY = "mock_error"

__all__ = ["MOCK_TRAINABLE_NAME", "MOCK_ERROR_KEY", "MyTrainableClass",
           "register_mock_trainable"]


class MyTrainableClass(Trainable):
    """Example agent whose learning curve is a random sigmoid: ``width``
    sets the slope and ``height`` the reward it levels off at."""

    def setup(self, config):
        self._sleep_time = config.get("sleep", 0)
        self._mock_error = config.get(MOCK_ERROR_KEY, False)
        self._persistent_error = config.get("persistent_error", False)
        self.timestep = 0
        self.restored = False

    def step(self):
        if self._mock_error and self.timestep > 0 and \
                (self._persistent_error or not self.restored):
            raise RuntimeError("Failing after one step.")
        self.timestep += 1
        reward = np.tanh(float(self.timestep) / self.config.get("width", 1))
        reward *= self.config.get("height", 1)
        if self._sleep_time:
            time.sleep(self._sleep_time)
        # A Python float: results are JSON rows, and np.float64 is one too,
        # but a plain number keeps the row the same wherever it is read.
        return {"episode_reward_mean": float(reward)}

    def save_checkpoint(self, checkpoint_dir):
        path = os.path.join(checkpoint_dir, "checkpoint")
        with open(path, "w") as f:
            json.dump({"timestep": self.timestep}, f)
        return path

    def load_checkpoint(self, checkpoint_path):
        # A path (0.8-1.x: what save_checkpoint returned) or the directory (2.x).
        if os.path.isdir(checkpoint_path):
            checkpoint_path = os.path.join(checkpoint_path, "checkpoint")
        with open(checkpoint_path) as f:
            self.timestep = json.load(f)["timestep"]
        self.restored = True


def register_mock_trainable():
    """Registers ``MyTrainableClass`` as "mock_trainable"."""
    from tunec.registry import register_trainable
    register_trainable(MOCK_TRAINABLE_NAME, MyTrainableClass)
