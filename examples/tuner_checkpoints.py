"""Checkpoints and restore with the Ray 2.x API on tunec: a function trainable
saves its state with ``train.report(..., checkpoint=...)``, picks it up with
``train.get_checkpoint()``, and an interrupted experiment is continued with
``Tuner.restore``.

    python examples/tuner_checkpoints.py [--smoke-test]

Run it, stop it with Ctrl+C while trials run, and run it again: the second
run restores the experiment and each trial continues from its checkpoint.
"""
import argparse
import json
import os
import tempfile

import tunec as tune
from tunec import train


def trainable(config):
    state = {"step": 0, "value": 0.0}
    checkpoint = train.get_checkpoint()
    if checkpoint:
        with checkpoint.as_directory() as d:
            with open(os.path.join(d, "state.json")) as f:
                state = json.load(f)
    while state["step"] < config["steps"]:
        state["step"] += 1
        state["value"] += config["rate"]
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "state.json"), "w") as f:
                json.dump(state, f)
            train.report({"value": state["value"], "step": state["step"]},
                         checkpoint=train.Checkpoint.from_directory(d))


def main(smoke_test):
    storage = os.path.expanduser(os.environ.get("TUNE_RESULT_DIR", "~/ray_results"))
    path = os.path.join(storage, "tuner_checkpoints")
    if tune.Tuner.can_restore(path):
        print("Restoring", path)
        tuner = tune.Tuner.restore(path, trainable=trainable, resume_errored=True)
    else:
        tuner = tune.Tuner(
            trainable,
            param_space={"rate": tune.grid_search([0.5, 1.0, 2.0]),
                         "steps": 3 if smoke_test else 30},
            tune_config=tune.TuneConfig(metric="value", mode="max"),
            run_config=tune.RunConfig(
                name="tuner_checkpoints", storage_path=storage, verbose=1,
                checkpoint_config=train.CheckpointConfig(num_to_keep=2),
                failure_config=train.FailureConfig(max_failures=2)),
        )
    results = tuner.fit()
    best = results.get_best_result()
    print("Best rate:", best.config["rate"], "value:", best.metrics["value"])
    print("Its newest checkpoint:", best.checkpoint.path)
    print("Kept checkpoints:", [m["step"] for _, m in best.best_checkpoints])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke-test", action="store_true", help="Finish quickly for testing")
    main(parser.parse_args().smoke_test)
