"""PBT with trainables whose rows are not ordered by training_iteration
(issue 9, items 3 and 6), end to end with real workers.

(a) A trainable may report its own training_iteration (from 0, in steps of
10): the driver places checkpoints among the logged rows by its report
count, so PBT's wait for a checkpoint it asked a donor for ends when that
checkpoint arrives, whatever training_iteration says, and clones happen.

(b) After a PBT clone, a trial's rows go back to the donor's (lower)
iteration: its copied checkpoint records how many rows the trial had logged
when it was cloned, so a retry that restores that copy keeps every one of
them (and drops only what the failed run logged after it).

The tests wait for nothing but the run's end and assert invariants of the
files, not any timing.
"""
import json
import os

import numpy as np
import pytest

import tunec as tune
from tunec.schedulers import PopulationBasedTraining

from run_helpers import rows, run

STEPS = 12


def load_state(checkpoint_dir):
    with open(os.path.join(checkpoint_dir, "state.json")) as f:
        return json.load(f)


def make_strided_fn(first, stride, fail_once_after_clone=False):
    """A function trainable of STEPS steps, checkpointing every step, that
    reports training_iteration = first + stride * (k - 1) at its step k.
    Each row says which run wrote it, the step that run started from and
    whether its checkpoint was another trial's (a PBT clone).

    fail_once_after_clone: the first run a trial starts from another
    trial's checkpoint records the result.json it finds (the rows logged
    before the clone), reports one step without a checkpoint, then raises
    (once per trial)."""

    def strided(config, checkpoint_dir=None):
        start, owner = 0, None
        if checkpoint_dir:
            state = load_state(checkpoint_dir)
            start, owner = state["k"], state["owner"]
        me = tune.get_trial_id()
        run_id = os.urandom(6).hex()
        cloned = owner not in (None, me)
        marker = os.path.join(os.getcwd(), "failed_once.json")
        fail = fail_once_after_clone and cloned and not os.path.exists(marker)
        if fail:
            # The driver has put the clone in place and logs nothing for this
            # trial until it reports: these are the rows before the clone.
            with open(os.path.join(os.getcwd(), "result.json")) as f:
                before = f.read()
            with open(marker, "w") as f:
                json.dump({"run": run_id, "before": before}, f)
        for k in range(start + 1, STEPS + 1):
            if not fail:   # (the failing run's row follows no checkpoint of its own)
                with tune.checkpoint_dir(step=k) as d:
                    with open(os.path.join(d, "state.json"), "w") as f:
                        json.dump({"k": k, "owner": me}, f)
            tune.report(training_iteration=first + stride * (k - 1), k=k,
                        score=config["lr"] * k, run=run_id, start=start, cloned=cloned)
            if fail:
                raise RuntimeError("fails once after its clone")

    return strided


def pbt(stride):
    return PopulationBasedTraining(
        time_attr="training_iteration", metric="score", mode="max",
        perturbation_interval=2 * stride, resample_probability=0.0,
        hyperparam_mutations={"lr": lambda: float(np.random.uniform(0.0, 1.0))})


def exploited(analysis):
    exp_dir = os.path.dirname(analysis.trials[0].logdir)
    path = os.path.join(exp_dir, "pbt_global.txt")
    lines = []
    if os.path.exists(path):
        with open(path) as f:
            lines = [json.loads(line) for line in f]
    perturbed = [t for t in analysis.trials if "@perturbed[" in t.experiment_tag]
    return lines, perturbed


def runs_of(got):
    """The rows grouped by the run that wrote them, in file order."""
    groups = []
    for row in got:
        if not groups or groups[-1][0]["run"] != row["run"]:
            groups.append([])
        groups[-1].append(row)
    return groups


def check_rows(trial, first, stride):
    """Every run's rows are there in order from its checkpoint on; a restart
    from the trial's own checkpoint continues exactly where it was taken;
    the trial reached its last step (or its last run was cloned from a
    donor that had)."""
    got = rows(trial)
    assert got, trial
    assert [r["training_iteration"] for r in got] == \
        [first + stride * (r["k"] - 1) for r in got], trial
    groups = runs_of(got)
    assert groups[0][0]["start"] == 0 and not groups[0][0]["cloned"], trial
    previous_end = 0
    for group in groups:
        start = group[0]["start"]
        assert [r["k"] for r in group] == list(range(start + 1, start + 1 + len(group))), \
            (trial, [r["k"] for r in got])
        if not group[0]["cloned"]:
            assert start == previous_end, (trial, [r["k"] for r in got])
        previous_end = group[-1]["k"]
    if got[-1]["k"] != STEPS:
        state = load_state(os.path.join(trial.logdir, "checkpoint_{}".format(STEPS)))
        assert state["owner"] != trial.trial_id, (trial, [r["k"] for r in got])
    assert trial.status == "TERMINATED", trial


@pytest.mark.parametrize("first,stride", [(10, 10), (0, 1)])
def test_pbt_clones_functions_that_report_their_own_training_iteration(
        tmp_path, two_cpus, first, stride):
    analysis = run(make_strided_fn(first, stride), tmp_path, scheduler=pbt(stride),
                   config={"lr": tune.grid_search([0.1, 0.3, 0.5, 0.7, 0.9, 1.0])}, seed=1)
    lines, perturbed = exploited(analysis)
    assert lines and perturbed, "no trial was exploited"
    for trial in analysis.trials:
        check_rows(trial, first, stride)


@pytest.mark.parametrize("first,stride", [(1, 1), (10, 10)])
def test_a_cloned_trial_that_fails_keeps_its_rows_from_before_the_clone(
        tmp_path, two_cpus, first, stride):
    analysis = run(make_strided_fn(first, stride, fail_once_after_clone=True), tmp_path,
                   scheduler=pbt(stride), max_failures=1,
                   config={"lr": tune.grid_search([0.1, 0.3, 0.5, 0.7, 0.9, 1.0])}, seed=1)
    failed = []
    for trial in analysis.trials:
        marker = os.path.join(trial.logdir, "failed_once.json")
        check_rows(trial, first, stride)
        if not os.path.exists(marker):
            continue
        with open(marker) as f:
            info = json.load(f)
        with open(os.path.join(trial.logdir, "result.json")) as f:
            text = f.read()
        # every row logged before the clone is kept as it was
        assert text.startswith(info["before"]), trial
        if trial.num_failures == 0:
            continue   # its scheduler stopped that run (a pause, a new clone) before it raised
        failed.append(trial)
        # the retry restored the clone's checkpoint: the failed run's row
        # after it is gone, and the rerun continues from the donor's step
        got = rows(trial)
        assert info["run"] not in {r["run"] for r in got}, trial
        rerun = got[info["before"].count("\n"):]
        if rerun:
            assert rerun[0]["cloned"], trial
        assert trial.num_failures == 1
    assert failed, "no cloned trial failed"
