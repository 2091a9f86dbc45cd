"""Schedulers in real experiments (spec §8): worker processes, real files.

Each trial follows a numpy "learning curve" that approaches a config-given
asymptote, so which trials a scheduler should stop, pause or clone is known
in advance. The engine's decisions themselves are tested rule by rule in
tests/c/test_sched_*.c and against tests/sched_reference.py."""
import glob
import json
import os

import numpy as np
import pytest

import tunec as tune
from tunec.error import TuneError
from tunec.schedulers import (ASHAScheduler, AsyncHyperBandScheduler, FIFOScheduler,
                              HyperBandScheduler, MedianStoppingRule, PopulationBasedTraining,
                              PopulationBasedTrainingReplay, TrialScheduler)
from run_helpers import rows, run


pytestmark = pytest.mark.usefixtures("two_cpus")


def assert_rows_whole(trial):
    """Every iteration once, in order, and `done` only on the last row."""
    got = rows(trial)
    assert [r["training_iteration"] for r in got] == list(range(1, len(got) + 1)), trial
    assert [r["done"] for r in got] == [False] * (len(got) - 1) + [True], trial


def curve(a, i):
    """Score after i steps of a trial whose asymptote is a."""
    return float(a * (1 - np.exp(-i / 10.0)))


def curve_fn(config, reporter):
    for i in range(1, 101):
        reporter(score=curve(config["a"], i), loss=-curve(config["a"], i))


class Curve(tune.Trainable):
    def _setup(self, config):
        self.a = config["a"]
        self.i = 0

    def _train(self):
        self.i += 1
        return {"score": curve(self.a, self.i), "loss": -curve(self.a, self.i)}

    def _save(self, checkpoint_dir):
        return {"i": self.i}

    def _restore(self, checkpoint):
        self.i = checkpoint["i"]


# Asymptotes in descending order: each trial reaching a rung is worse than
# those before it, so only the first trials may go on.
DESCENDING = {"a": tune.grid_search([1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3])}


@pytest.mark.parametrize("trainable", [curve_fn, Curve], ids=["function", "class"])
@pytest.mark.parametrize("metric,mode", [("score", "max"), ("loss", "min")])
def test_asha_stops_the_trials_below_each_rung(tmp_path, trainable, metric, mode):
    sched = AsyncHyperBandScheduler(metric=metric, mode=mode, max_t=80, grace_period=5,
                                    reduction_factor=3)
    analysis = run(trainable, tmp_path, config=DESCENDING, scheduler=sched)
    by_a = {t.config["a"]: t for t in analysis.trials}
    assert all(t.status == "TERMINATED" for t in analysis.trials)
    # The best trial is never below a cutoff: it runs to max_t.
    assert by_a[1.0].last_result["training_iteration"] == 80
    # The worst ones reach the first rung (5) after better trials: stopped there.
    for a in (0.5, 0.4, 0.3):
        assert by_a[a].last_result["training_iteration"] == 5
    stopped = sum(t.last_result["training_iteration"] < 80 for t in analysis.trials)
    assert stopped >= 5
    # Ray counts a stop at max_t too: every trial here was stopped by ASHA.
    assert "Using AsyncHyperBand: num_stopped=8\nBracket: Iter 45.000: " in sched.debug_string()
    for t in analysis.trials:
        assert_rows_whole(t)


def test_asha_metric_and_mode_from_tune_run(tmp_path):
    sched = ASHAScheduler(max_t=20, grace_period=2)
    analysis = run(Curve, tmp_path, config=DESCENDING, scheduler=sched, metric="loss",
                   mode="min")
    iters = sorted(t.last_result["training_iteration"] for t in analysis.trials)
    assert iters[-1] == 20 and iters[0] == 2
    assert sched._tunec_spec()["metric"] == "loss"


def test_metric_given_twice_is_refused_before_any_trial(tmp_path):
    with pytest.raises(ValueError, match="metric"):
        run(Curve, tmp_path, config=DESCENDING, metric="loss", mode="min",
            scheduler=ASHAScheduler(metric="score", mode="max"))
    assert not glob.glob(str(tmp_path / "*" / "Curve_*"))


def test_hyperband_pauses_halves_and_resumes_from_checkpoints(tmp_path):
    sched = HyperBandScheduler(metric="score", mode="max", max_t=27, reduction_factor=3)
    config = {"a": tune.grid_search([round(x, 2) for x in np.linspace(1.0, 0.1, 10)])}
    analysis = run(Curve, tmp_path, config=config, scheduler=sched)
    assert all(t.status == "TERMINATED" for t in analysis.trials)
    by_a = {t.config["a"]: t for t in analysis.trials}
    assert by_a[1.0].last_result["training_iteration"] == 27
    finals = [t.last_result["training_iteration"] for t in analysis.trials]
    assert min(finals) < 27                      # some trials were halved away
    for t in analysis.trials:
        # Paused trials came back from their checkpoint: no iteration twice.
        # (A paused trial the halving stops keeps done=False, as in Ray.)
        got = rows(t)
        assert [r["training_iteration"] for r in got] == list(range(1, len(got) + 1)), t
        # Pause checkpoints are transient: at most the newest is left.
        assert len(glob.glob(os.path.join(t.logdir, "checkpoint_*"))) <= 1
        # One TensorBoard file through the pauses, with every step and the
        # hparams (also for a trial stopped while paused).
        (events,) = glob.glob(os.path.join(t.logdir, "events.out.tfevents.*"))
        steps, hparams = tb_steps(events)
        assert steps == [r["training_iteration"] for r in got] and hparams
    assert "Using HyperBand: num_stopped=" in sched.debug_string()


def test_hyperband_stop_last_trials_false_runs_past_max_t(tmp_path):
    # Ray 1.x: the trials left after a bracket's last halving are not stopped
    # at max_t; here the run's own stop ends them at 12.
    sched = HyperBandScheduler(metric="score", mode="max", max_t=9, reduction_factor=3,
                               stop_last_trials=False)
    config = {"a": tune.grid_search([1.0, 0.8, 0.6, 0.4, 0.2, 0.1])}
    analysis = run(Curve, tmp_path, config=config, scheduler=sched,
                   stop={"training_iteration": 12})
    assert all(t.status == "TERMINATED" for t in analysis.trials)
    finals = {t.config["a"]: t.last_result["training_iteration"] for t in analysis.trials}
    assert finals[1.0] == 12, finals            # the best of each bracket survives to 12
    assert max(finals.values()) == 12 and min(finals.values()) < 9, finals
    for t in analysis.trials:
        got = rows(t)
        assert [r["training_iteration"] for r in got] == list(range(1, len(got) + 1)), t


def tb_steps(path):
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    steps, hparams = [], False
    for event in EventFileLoader(path).Load():
        for value in event.summary.value:
            if value.tag == "ray/tune/score":
                steps.append(event.step)
            hparams |= value.metadata.plugin_data.plugin_name == "hparams"
    return steps, hparams


def test_median_stopping_rule_stops_trials_below_the_median(tmp_path):
    sched = MedianStoppingRule(metric="score", mode="max", time_attr="training_iteration",
                               grace_period=5, min_samples_required=2)
    analysis = run(Curve, tmp_path, config=DESCENDING, scheduler=sched,
                   stop={"training_iteration": 30})
    by_a = {t.config["a"]: t for t in analysis.trials}
    assert by_a[1.0].last_result["training_iteration"] == 30
    assert by_a[0.3].last_result["training_iteration"] < 30
    assert "Using MedianStoppingRule: num_stopped=" in sched.debug_string()
    for t in analysis.trials:
        assert_rows_whole(t)


class Climb(tune.Trainable):
    """score = 1 - |lr - 0.5| (lr = 0.5 is best, whatever the timing of the
    perturbations); x, the trainable's state, counts its steps, so a row
    whose x is not its training_iteration shows a lost or wrong state after a
    restore. reset_config counts its calls in a file next to the trial."""

    def _setup(self, config):
        self.lr = config["lr"]
        self.x = 0.0

    def _train(self):
        self.x += 1
        return {"score": 1.0 - abs(self.lr - 0.5), "x": self.x, "lr": self.lr}

    def _save(self, checkpoint_dir):
        return {"x": self.x}

    def _restore(self, checkpoint):
        self.x = checkpoint["x"]

    def reset_config(self, new_config):
        self.lr = new_config["lr"]
        self.x = 0.0
        with open(os.path.join(os.path.dirname(os.path.normpath(self.logdir)), "resets.txt"),
                  "a") as f:
            f.write("reset\n")
        return True


def pbt_run(tmp_path, reuse_actors=False, trainable=Climb, **kw):
    # No resampling: a clone's lr is the donor's x 0.8 or x 1.2, so the
    # population can only move toward the top trials' configs.
    kw.setdefault("resample_probability", 0.0)
    sched = PopulationBasedTraining(
        time_attr="training_iteration", metric="score", mode="max", perturbation_interval=4,
        hyperparam_mutations={"lr": lambda: float(np.random.uniform(0.0, 1.0))}, **kw)
    config = {"lr": tune.grid_search([0.0, 0.05, 0.95, 1.0, 0.45, 0.55])}
    analysis = run(trainable, tmp_path, config=config, scheduler=sched,
                   stop={"training_iteration": 40}, reuse_actors=reuse_actors, seed=3)
    return sched, analysis


@pytest.mark.parametrize("reuse_actors", [False, True])
def test_pbt_clones_the_top_trials_into_the_bottom_ones(tmp_path, reuse_actors):
    sched, analysis = pbt_run(tmp_path, reuse_actors=reuse_actors)
    exp_dir = os.path.dirname(analysis.trials[0].logdir)
    with open(os.path.join(exp_dir, "pbt_global.txt")) as f:
        lines = [json.loads(line) for line in f]
    assert lines, "no trial was exploited"
    tags = {t.experiment_tag: t for t in analysis.trials}
    for target_tag, clone_tag, target_it, clone_it, old, new in lines:
        assert set(new) == {"lr"} == set(old)   # (0.0 * 1.2 may equal the old lr)
        assert target_tag in tags or any(t.startswith(target_tag + "@") for t in tags)
        assert isinstance(target_it, int) and isinstance(clone_it, int)
    perturbed = [t for t in analysis.trials if "@perturbed[lr=" in t.experiment_tag]
    assert perturbed and all(t.status == "TERMINATED" for t in analysis.trials)
    for t in perturbed:
        assert os.path.exists(os.path.join(exp_dir, "pbt_policy_{}.txt".format(t.trial_id)))
    # Bottom configs were replaced by neighbours of the top ones.
    initial = [0.5, 0.45, 0.45, 0.5, 0.05, 0.05]
    final = [abs(t.config["lr"] - 0.5) for t in analysis.trials]
    assert np.mean(final) < np.mean(initial)
    # A clone continues the donor's state (x follows the iterations), and its rows
    # carry the new lr from the restart on.
    for t in perturbed:
        got = rows(t)
        assert [r["x"] for r in got] == [r["training_iteration"] for r in got]
        assert got[-1]["lr"] == pytest.approx(t.config["lr"])
    assert "perturbs" in sched.debug_string()
    resets = os.path.join(exp_dir, "resets.txt")
    if reuse_actors:
        assert os.path.exists(resets)      # cloned into a reused trainable
    else:
        assert not os.path.exists(resets)  # fresh trainables only


def climb_fn(config, checkpoint_dir=None):
    x = 0.0
    if checkpoint_dir:
        with open(os.path.join(checkpoint_dir, "state.json")) as f:
            x = json.load(f)["x"]
    start = 0
    if checkpoint_dir:
        start = int(os.path.basename(os.path.normpath(checkpoint_dir)).split("_")[-1])
    for step in range(start + 1, 41):
        x += 1
        with tune.checkpoint_dir(step=step) as d:
            with open(os.path.join(d, "state.json"), "w") as f:
                json.dump({"x": x}, f)
        tune.report(score=1.0 - abs(config["lr"] - 0.5), x=x, lr=config["lr"])


def test_pbt_clones_checkpointing_function_trainables(tmp_path):
    sched, analysis = pbt_run(tmp_path, trainable=climb_fn)
    exp_dir = os.path.dirname(analysis.trials[0].logdir)
    with open(os.path.join(exp_dir, "pbt_global.txt")) as f:
        assert f.readline()
    perturbed = [t for t in analysis.trials if "@perturbed" in t.experiment_tag]
    assert perturbed
    for t in perturbed:
        got = rows(t)
        assert got[-1]["lr"] == pytest.approx(t.config["lr"])
        assert [r["x"] for r in got] == [r["training_iteration"] for r in got]


def test_pbt_custom_explore_fn_is_called_back(tmp_path):
    seen = []

    def explore(config):
        seen.append(dict(config))
        config["lr"] = 0.5
        return config

    sched = PopulationBasedTraining(time_attr="training_iteration", metric="score", mode="max",
                                    perturbation_interval=4, custom_explore_fn=explore)
    config = {"lr": tune.grid_search([0.0, 0.05, 0.95, 1.0, 0.45, 0.55])}
    analysis = run(Climb, tmp_path, config=config, scheduler=sched,
                   stop={"training_iteration": 24})
    assert all(t.status == "TERMINATED" for t in analysis.trials)
    perturbed = [t for t in analysis.trials if "@perturbed" in t.experiment_tag]
    if perturbed:   # explore runs in the driver: the callback saw each clone
        assert seen and all(t.config["lr"] == 0.5 for t in perturbed)


def test_pbt_replay_follows_a_recorded_policy(tmp_path):
    sched, analysis = pbt_run(tmp_path / "pbt")
    exp_dir = os.path.dirname(analysis.trials[0].logdir)
    policies = sorted(glob.glob(os.path.join(exp_dir, "pbt_policy_*.txt")))
    assert policies
    replay = PopulationBasedTrainingReplay(policies[0])
    changes = replay._policy
    out = run(Climb, tmp_path / "replay", scheduler=replay, stop={"training_iteration": 40})
    (trial,) = out.trials
    got = rows(trial)
    assert got[0]["lr"] == pytest.approx(replay.config["lr"])
    for step, new_config in changes:
        after = [r for r in got if r["training_iteration"] > step]
        if after:
            assert after[0]["lr"] == pytest.approx(new_config["lr"]) or \
                any(r["lr"] == pytest.approx(new_config["lr"]) for r in after)
    assert trial.experiment_tag.startswith("replay_")
    assert_rows_whole(trial)


class StopBelow(FIFOScheduler):
    """A user's scheduler: stops a trial whose score at iteration 3 is below
    0.15, and starts trials in reverse order."""

    def __init__(self):
        self.events = []

    def on_trial_add(self, trial_runner, trial):
        self.events.append(("add", trial.trial_id))

    def on_trial_result(self, trial_runner, trial, result):
        # Ray's flat result: nested dicts, config included, as "a/b" keys.
        assert result["training_iteration"] >= 1 and "config/a" in result
        if result["training_iteration"] == 3 and result["score"] < 0.15:
            return TrialScheduler.STOP
        return TrialScheduler.CONTINUE

    def on_trial_complete(self, trial_runner, trial, result):
        self.events.append(("complete", trial.trial_id))

    def choose_trial_to_run(self, trial_runner):
        for trial in reversed(trial_runner.get_trials()):
            if trial.status == "PENDING" and trial_runner.has_resources(trial.resources):
                return trial
        return None

    def debug_string(self):
        return "StopBelow: {} events".format(len(self.events))


def test_a_user_written_scheduler_drives_the_run(tmp_path):
    sched = StopBelow()
    analysis = run(Curve, tmp_path, config=DESCENDING, scheduler=sched,
                   stop={"training_iteration": 10}, max_concurrent_trials=1)
    by_a = {t.config["a"]: t for t in analysis.trials}
    for a, t in by_a.items():
        expected = 3 if curve(a, 3) < 0.15 else 10
        assert t.last_result["training_iteration"] == expected, a
    adds = [e for e in sched.events if e[0] == "add"]
    assert len(adds) == 8
    # Reverse order: the last trial started first.
    starts = sorted(analysis.trials, key=lambda t: t.start_time)
    assert starts[0].trial_id == analysis.trials[-1].trial_id
    assert ("complete", by_a[1.0].trial_id) in sched.events


class CountingASHA(ASHAScheduler):
    """A built-in with one method overridden: the engine still decides."""

    calls = 0

    def on_trial_result(self, trial_runner, trial, result):
        CountingASHA.calls += 1
        return super().on_trial_result(trial_runner, trial, result)


def test_a_subclass_of_a_builtin_keeps_the_engine_decisions(tmp_path):
    plain = run(Curve, tmp_path / "plain", config=DESCENDING, max_concurrent_trials=1,
                scheduler=ASHAScheduler(metric="score", mode="max", max_t=30, grace_period=3))
    CountingASHA.calls = 0
    sub = run(Curve, tmp_path / "sub", config=DESCENDING, max_concurrent_trials=1,
              scheduler=CountingASHA(metric="score", mode="max", max_t=30, grace_period=3))
    finals = [t.last_result["training_iteration"] for t in plain.trials]
    assert [t.last_result["training_iteration"] for t in sub.trials] == finals
    assert CountingASHA.calls == sum(finals)
    assert min(finals) < 30


class Broken(FIFOScheduler):
    def on_trial_result(self, trial_runner, trial, result):
        raise RuntimeError("scheduler bug")


def test_a_failing_user_scheduler_fails_the_run_with_its_error(tmp_path):
    with pytest.raises(RuntimeError, match="scheduler bug"):
        run(Curve, tmp_path, config={"a": 1.0}, scheduler=Broken(),
            stop={"training_iteration": 3})


class NeverChooses(FIFOScheduler):
    def choose_trial_to_run(self, trial_runner):
        return None


def test_a_scheduler_that_never_chooses_is_an_error_not_a_hang(tmp_path):
    with pytest.raises(TuneError, match="can never run"):
        run(Curve, tmp_path, config={"a": 1.0}, scheduler=NeverChooses(),
            stop={"training_iteration": 3}, raise_on_failed_trial=False)


def test_a_non_scheduler_is_refused(tmp_path):
    with pytest.raises(TypeError, match="TrialScheduler"):
        run(Curve, tmp_path, config={"a": 1.0}, scheduler=object())


def sometimes_silent(config, reporter):
    for i in range(1, 9):
        if i % 2:
            reporter(score=float(i))
        else:
            reporter(other=1.0)        # no metric in this result


@pytest.mark.parametrize("require_attrs", [None, True])
def test_pbt_require_attrs(tmp_path, require_attrs):
    kw = {} if require_attrs is None else {"require_attrs": require_attrs}
    sched = PopulationBasedTraining(time_attr="training_iteration", metric="score", mode="max",
                                    perturbation_interval=2,
                                    hyperparam_mutations={"lr": [0.1, 0.2]}, **kw)
    if require_attrs:
        with pytest.raises(ValueError, match="has no score; report it in every result"):
            run(sometimes_silent, tmp_path, config={"lr": 0.1}, scheduler=sched)
    else:    # Ray 0.8: a result without the metric continues
        analysis = run(sometimes_silent, tmp_path, config={"lr": 0.1}, scheduler=sched)
        assert analysis.trials[0].last_result["training_iteration"] == 8


def test_the_status_table_shows_the_scheduler(tmp_path, capsys):
    run(Curve, tmp_path, config=DESCENDING, verbose=1,
        scheduler=ASHAScheduler(metric="score", mode="max", max_t=10, grace_period=2))
    out = capsys.readouterr().out
    assert "Using AsyncHyperBand: num_stopped=" in out
    assert "Using FIFO scheduling algorithm." not in out
