"""PB2 in real experiments: worker processes, real files, the engine's PBT
deciding who clones whom and PB2 choosing the clone's hyperparameters.

Each trial is a class Trainable whose score grows by ``rate(lr)`` per step,
a numpy bump that is 1 at ``OPTIMUM`` and falls to almost 0 a distance of
0.4 away, so the worst trials of the initial population fall behind from the
first interval on and are cloned (PBT's ranking is asynchronous: a trial is
ranked against the others' last scores, which a slow trial cannot outrun).
The GP-UCB choice itself is tested without an engine in tests/test_pb2_gp.py.
"""
import json
import os

import numpy as np
import pytest

import tunec as tune
from tunec.schedulers import PB2
from run_helpers import rows

OPTIMUM = 0.5
# Six trials 0.35 or more from the optimum, two 0.1 from it.
INITIAL_LR = [0.0, 0.05, 0.95, 1.0, 0.15, 0.85, 0.4, 0.6]
ITERATIONS = 32
INTERVAL = 4


def rate(lr):
    """Progress per step: 1 at the optimum, exp(-16) at 0.4 away."""
    return float(np.exp(-((lr - OPTIMUM) / 0.1) ** 2))


class Bump(tune.Trainable):
    """x grows by rate(lr) per step; reports it as a score and as a loss
    (how far x is from ITERATIONS, which only the optimum reaches)."""

    def _setup(self, config):
        self.lr = config["lr"]
        self.x = 0.0

    def _train(self):
        self.x += rate(self.lr)
        return {"score": self.x, "loss": float(ITERATIONS - self.x), "lr": self.lr}

    def _save(self, checkpoint_dir):
        return {"x": self.x}

    def _restore(self, checkpoint):
        self.x = checkpoint["x"]


pytestmark = pytest.mark.usefixtures("two_cpus")


def distance(lrs):
    return float(np.mean([abs(lr - OPTIMUM) for lr in lrs]))


def pb2_run(tmp_path, scheduler_kw, run_kw):
    sched = PB2(time_attr="training_iteration", perturbation_interval=INTERVAL,
                hyperparam_bounds={"lr": [0.0, 1.0]}, seed=7, **scheduler_kw)
    analysis = tune.run(Bump, config={"lr": tune.grid_search(INITIAL_LR)}, scheduler=sched,
                        stop={"training_iteration": ITERATIONS}, local_dir=str(tmp_path),
                        verbose=0, seed=3, **run_kw)
    return sched, analysis


@pytest.mark.parametrize("scheduler_kw,run_kw", [
    ({"metric": "score", "mode": "max"}, {}),
    ({}, {"metric": "loss", "mode": "min"}),     # metric and mode from tune.run
], ids=["max", "min-from-tune-run"])
def test_pb2_clones_the_worst_trials_toward_the_optimum(tmp_path, scheduler_kw, run_kw):
    sched, analysis = pb2_run(tmp_path, scheduler_kw, run_kw)
    trials = analysis.trials
    assert len(trials) == len(INITIAL_LR)

    # The run finished: every trial ran to the stop criterion, and every
    # result.json is whole JSON lines ending with done.
    for t in trials:
        assert t.status == "TERMINATED", t
        got = rows(t)
        assert got and got[-1]["done"] is True, t
        assert got[-1]["training_iteration"] == ITERATIONS, t
        # the rows carry the config the trial ran with at the end
        assert got[-1]["lr"] == pytest.approx(t.config["lr"])
        assert 0.0 <= t.config["lr"] <= 1.0

    # Trials were perturbed, and the logs say so.
    exp_dir = os.path.dirname(trials[0].logdir)
    with open(os.path.join(exp_dir, "pbt_global.txt")) as f:
        lines = [json.loads(line) for line in f]
    assert lines, "no trial was exploited"
    tags = {t.experiment_tag.split("@")[0] for t in trials}
    for target_tag, clone_tag, target_it, clone_it, old, new in lines:
        assert target_tag in tags and clone_tag in tags and target_tag != clone_tag
        assert set(new) == {"lr"} and 0.0 <= new["lr"] <= 1.0
    perturbed = [t for t in trials if "@perturbed[lr=" in t.experiment_tag]
    assert perturbed
    for t in perturbed:
        assert os.path.exists(os.path.join(exp_dir, "pbt_policy_{}.txt".format(t.trial_id)))
    # the first recipient is one of the trials that started far from the optimum
    starts = {t.experiment_tag.split("@")[0]: lr for t, lr in zip(trials, INITIAL_LR)}
    assert abs(starts[lines[0][0]] - OPTIMUM) >= 0.3, lines
    assert "perturbs" in sched.debug_string()

    # PB2's data rows are true rates of progress: each interval it recorded
    # ran at one lr, from the state it assumed (the donor's, after a clone).
    assert len(sched._pb2_changes) >= len(INITIAL_LR)
    for end, start_score, (lr,), change in sched._pb2_changes:
        assert change == pytest.approx(rate(lr), abs=1e-9), (end, start_score, lr)

    # PB2 learned from the data: the population moved toward the optimum,
    # closer than replacing the cloned trials' lr at random would bring it.
    final = [t.config["lr"] for t in trials]
    assert distance(final) < 0.65 * distance(INITIAL_LR), final
    # A clone carries on from its donor's state: never back to zero.
    for t in perturbed:
        assert rows(t)[-1]["score"] > rate(0.4) * INTERVAL, t
