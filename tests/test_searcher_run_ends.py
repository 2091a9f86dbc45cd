"""A searcher's trials at the edges of a run: trial_name_creator names them
as it names variant trials, and the ends a stop causes (a Stopper's
stop_all, fail_fast, time_budget_s) reach the searcher before tune.run
returns."""
import os

import pytest

import tunec as tune
from tunec.suggest import Searcher
from run_helpers import no_hang, run


class Recording(Searcher):
    def __init__(self):
        super().__init__(metric="score", mode="max")
        self.n, self.given, self.ended = 0, [], []

    def suggest(self, trial_id):
        self.n += 1
        self.given.append(trial_id)
        return {"x": self.n}

    def on_trial_complete(self, trial_id, result=None, error=False):
        self.ended.append((trial_id, error))


def test_trial_name_creator_names_searcher_trials(tmp_path):
    def noop(config):
        tune.report(score=config["x"])

    with no_hang("tune.run"):
        trials = run(noop, tmp_path, search_alg=Recording(), num_samples=2, return_trials=True,
                     trial_name_creator=lambda t: "s/x{}".format(t.config["x"]))
    names = sorted(str(t) for t in trials)
    assert names == ["s/x1", "s/x2"]
    assert all(os.path.basename(t.logdir).startswith("s_x") for t in trials)


def endless(config):
    while True:
        tune.report(score=config["x"])


def failing(config):
    tune.report(score=config["x"])
    raise RuntimeError("boom")


class StopAfter(tune.Stopper):
    def __init__(self, n):
        self.n, self.seen = n, 0

    def __call__(self, trial_id, result):
        self.seen += 1
        return False

    def stop_all(self):
        return self.seen >= self.n


@pytest.mark.parametrize("how", ["stop_all", "fail_fast", "time_budget_s"])
def test_ends_caused_by_a_stop_reach_the_searcher(tmp_path, how):
    searcher = Recording()
    kw = dict(search_alg=searcher, num_samples=4, return_trials=True,
              raise_on_failed_trial=False, resources_per_trial={"cpu": 0.5})
    if how == "stop_all":
        kw.update(stop=StopAfter(5))
        trainable = endless
    elif how == "fail_fast":
        kw.update(fail_fast=True)
        trainable = failing
    else:
        kw.update(time_budget_s=0.5)
        trainable = endless
    with no_hang("tune.run"):
        trials = run(trainable, tmp_path, **kw)
    started = {t.trial_id for t in trials if t.status in ("TERMINATED", "ERROR")}
    ended = [trial_id for trial_id, _ in searcher.ended]
    # Every trial the searcher gave out and that ended was heard of, once.
    assert len(ended) == len(set(ended))
    assert started and started <= set(ended) <= set(searcher.given)
