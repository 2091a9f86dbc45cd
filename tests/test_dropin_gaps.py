"""The gaps of issue 11 found by running Ray's own examples: a function's
``checkpoint_dir(step=...)`` found by ``best_checkpoint``, ``Result.best_checkpoints``
in Ray's order, ``tunec.utils.mock_trainable`` and ``tunec.automl``'s
round-based searchers — all with real workers."""
import json
import os

import pytest

import tunec as tune
from tunec import train
from tunec.automl import ContinuousSpace, DiscreteSpace, GeneticSearch, GridSearch, SearchSpace
from tunec.utils.mock_trainable import MyTrainableClass


# -- checkpoint_dir(step=0) is the checkpoint of the report after it ------------

def _step_checkpoints(config, checkpoint_dir=None):
    # Ray 1.13's custom_func_checkpointing: checkpoint_<step> from step 0,
    # then the report (training_iteration step + 1).
    for step in range(config["steps"]):
        with tune.checkpoint_dir(step=step) as directory:
            with open(os.path.join(directory, "checkpoint"), "w") as f:
                json.dump({"step": step}, f)
        tune.report(mean_loss=config["loss"] - step)


def test_best_checkpoint_of_a_function_that_names_checkpoints_by_step(tmp_path):
    # The trial ends after its only report: its one checkpoint is checkpoint_0,
    # at training_iteration 1. Joining on the directory's number found no
    # row 0, and best_checkpoint was None.
    analysis = tune.run(_step_checkpoints, config={"steps": 1, "loss": tune.grid_search([3, 1])},
                        metric="mean_loss", mode="min", local_dir=str(tmp_path), verbose=0)
    best = analysis.best_checkpoint
    assert best is not None, os.listdir(analysis.best_logdir)
    assert os.path.dirname(os.path.normpath(best)) == analysis.best_logdir.rstrip(os.sep)
    with open(os.path.join(best, "checkpoint")) as f:
        assert json.load(f) == {"step": 0}
    assert analysis.best_config["loss"] == 1
    # Every checkpoint joins the row it was reported with.
    paths = analysis.get_trial_checkpoints_paths(analysis.best_logdir, "training_iteration")
    assert [value for _, value in paths] == [1]


def test_checkpoints_by_step_join_their_reports(tmp_path):
    analysis = tune.run(_step_checkpoints, config={"steps": 3, "loss": 10},
                        local_dir=str(tmp_path), verbose=0)
    (logdir,) = [t.logdir for t in analysis.trials]
    paths = analysis.get_trial_checkpoints_paths(logdir, "mean_loss")
    assert [(os.path.basename(os.path.normpath(p)), v) for p, v in paths] == \
        [("checkpoint_0", 10), ("checkpoint_1", 9), ("checkpoint_2", 8)]
    assert os.path.basename(os.path.normpath(
        analysis.get_best_checkpoint(logdir, "mean_loss", "min"))) == "checkpoint_2"


# -- Result.best_checkpoints in Ray's order ---------------------------------------

def _scores(config):
    for score in config["scores"]:
        with tempfile_dir() as directory:
            with open(os.path.join(directory, "s"), "w") as f:
                f.write(str(score))
            train.report({"score": score}, checkpoint=train.Checkpoint.from_directory(directory))


def tempfile_dir():
    import tempfile
    return tempfile.TemporaryDirectory()


@pytest.mark.parametrize("order, expect", [
    (None, [3.0, 1.0, 4.0, 2.0]),                  # no score attribute: oldest first
    ("max", [1.0, 2.0, 3.0, 4.0]),                 # ascending score: the best last
    ("min", [4.0, 3.0, 2.0, 1.0]),
])
def test_result_best_checkpoints_are_in_rays_order(tmp_path, order, expect):
    checkpoint_config = train.CheckpointConfig() if order is None else train.CheckpointConfig(
        checkpoint_score_attribute="score", checkpoint_score_order=order)
    tuner = tune.Tuner(_scores, param_space={"scores": [3.0, 1.0, 4.0, 2.0]},
                       run_config=train.RunConfig(storage_path=str(tmp_path), name="order",
                                                  checkpoint_config=checkpoint_config,
                                                  verbose=0))
    (result,) = tuner.fit()
    scores = [metrics["score"] for _, metrics in result.best_checkpoints]
    assert scores == expect
    for checkpoint, metrics in result.best_checkpoints:
        with open(os.path.join(checkpoint.path, "s")) as f:
            assert float(f.read()) == metrics["score"]


# -- tunec.utils.mock_trainable ---------------------------------------------------

def test_mock_trainable_runs_checkpoints_and_restores(tmp_path):
    analysis = tune.run(MyTrainableClass, config={"width": 2, "height": 10},
                        stop={"training_iteration": 3}, checkpoint_freq=1,
                        local_dir=str(tmp_path), verbose=0)
    (trial,) = analysis.trials
    rewards = [row["episode_reward_mean"]
               for row in analysis.trial_dataframes[trial.logdir].to_dict("records")]
    import math
    assert rewards == pytest.approx([10 * math.tanh(i / 2) for i in (1, 2, 3)])
    # mock_error fails after one step until restored from a checkpoint.
    failing = tune.run(MyTrainableClass, config={"mock_error": True}, checkpoint_freq=1,
                       max_failures=1, stop={"training_iteration": 3},
                       local_dir=str(tmp_path), verbose=0)
    assert [t.status for t in failing.trials] == ["TERMINATED"]
    assert failing.trials[0].last_result["training_iteration"] == 3


# -- tunec.automl -----------------------------------------------------------------

class _RecordingGenetic(GeneticSearch):
    """Records the order of suggestions and trial ends."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.events = []

    def suggest(self, trial_id):
        config = super().suggest(trial_id)
        if isinstance(config, dict):
            self.events.append(("suggest", trial_id, self._cur_generation))
        return config

    def on_trial_complete(self, trial_id, result=None, error=False):
        self.events.append(("end", trial_id, self._cur_generation))
        super().on_trial_complete(trial_id, result=result, error=error)


def _reward(config):
    tune.report(reward=-(config["x"] - 1.0) ** 2 - config["model"]["k"])


def test_genetic_search_runs_generations_one_after_another(tmp_path):
    space = SearchSpace({ContinuousSpace("x", 0, 2, 5), DiscreteSpace("model.k", [0, 1, 2])})
    algo = _RecordingGenetic(space, reward_attr="reward", max_generation=3, population_size=6)
    analysis = tune.run(_reward, search_alg=algo, local_dir=str(tmp_path), verbose=0)
    # 6, then int(6 * 0.95) = 5, then 4 trials: num_samples does not cap them.
    assert len(analysis.trials) == 6 + 5 + 4
    assert all(t.status == "TERMINATED" for t in analysis.trials)
    # A generation starts only after every trial of the one before ended.
    for generation in (2, 3):
        first = min(i for i, e in enumerate(algo.events)
                    if e[0] == "suggest" and e[2] == generation)
        ended_before = sum(1 for e in algo.events[:first] if e[0] == "end")
        assert ended_before == sum((6, 5, 4)[:generation - 1]), algo.events
    # The dotted name is a nested config; values are the space's choices.
    for trial in analysis.trials:
        assert trial.config["x"] in (0.0, 0.5, 1.0, 1.5, 2.0) and \
            trial.config["model"]["k"] in (0, 1, 2)
    # The top two genes of a generation survive into the next one.
    gen1 = sorted(analysis.trials[:6], key=lambda t: t.last_result["reward"], reverse=True)
    gen2 = [t.config for t in analysis.trials[6:11]]
    assert gen1[0].config in gen2 and gen1[1].config in gen2


def test_grid_search_of_automl_tries_every_combination(tmp_path):
    space = SearchSpace([DiscreteSpace("x", [0.0, 1.0]), DiscreteSpace("model.k", [0, 2])])
    analysis = tune.run(_reward, search_alg=GridSearch(space, "reward"),
                        local_dir=str(tmp_path), verbose=0)
    assert sorted((t.config["x"], t.config["model"]["k"]) for t in analysis.trials) == \
        [(0.0, 0), (0.0, 2), (1.0, 0), (1.0, 2)]


def test_search_space_rejects_what_is_not_a_parameter_space():
    with pytest.raises(TypeError, match="ParameterSpace"):
        SearchSpace([("x", [1, 2])])


# -- every file of examples/ runs with --smoke-test --------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The Tuner examples run in tests/test_tuner.py::test_examples_run_with_smoke_test.
RUN_BY_TEST_TUNER = {"tuner_quickstart.py", "tuner_with_parameters.py", "tuner_checkpoints.py"}


def test_every_example_is_run_by_the_tests(tmp_path):
    import subprocess
    import sys
    examples = {name for name in os.listdir(os.path.join(ROOT, "examples"))
                if name.endswith(".py")}
    assert RUN_BY_TEST_TUNER <= examples
    for name in sorted(examples - RUN_BY_TEST_TUNER):
        env = dict(os.environ, PYTHONPATH=ROOT, TUNE_RESULT_DIR=str(tmp_path / name))
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name),
                               "--smoke-test"], capture_output=True, text=True, env=env,
                              timeout=300)
        assert proc.returncode == 0, (name, proc.stderr[-3000:])
        assert os.listdir(str(tmp_path / name)), (name, proc.stdout[-2000:])   # its results
