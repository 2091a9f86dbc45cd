"""Function trainables in every form Ray runs them (issue 9, items 2-3):
values a function returns or yields are results (Ray 1.x/2.x
``handle_output``), and a function retried after a failure starts from its
newest checkpoint, whichever checkpoint API it uses."""
import json
import os

import pytest

import tunec as tune
from run_helpers import rows, run


# -- returned and yielded values (item 2) --------------------------------------

def returns_dict(config):
    return {"score": config["x"] * 2}


def yields_dicts(config):
    for i in range(3):
        yield {"score": config["x"] + i}


def reports_then_returns(config):
    tune.report(score=-1)
    return {"score": config["x"]}


def returns_number(config):
    return config["x"] / 10


def yields_numbers(config):
    for i in range(1, 4):
        yield config["x"] * i


def returns_nothing_worth_reporting(config):
    tune.report(score=config["x"])
    return {}


def test_returned_dict_is_the_final_result(tmp_path):
    analysis = run(returns_dict, tmp_path, config={"x": tune.grid_search([1, 3, 2])},
                   metric="score", mode="max")
    assert analysis.best_config == {"x": 3}
    for trial in analysis.trials:
        assert trial.status == "TERMINATED"
        [row] = rows(trial)
        assert row["score"] == trial.config["x"] * 2
        assert row["training_iteration"] == 1
        assert trial.last_result["done"] is True


def test_each_yielded_dict_is_one_result(tmp_path):
    analysis = run(yields_dicts, tmp_path, config={"x": tune.grid_search([10, 20])},
                   metric="score", mode="max")
    assert analysis.best_config == {"x": 20}
    for trial in analysis.trials:
        got = rows(trial)
        assert [r["score"] for r in got] == [trial.config["x"] + i for i in range(3)]
        assert [r["training_iteration"] for r in got] == [1, 2, 3]


def test_returned_dict_after_reports_is_one_more_result(tmp_path):
    trial = run(reports_then_returns, tmp_path, config={"x": 7}).trials[0]
    assert [r["score"] for r in rows(trial)] == [-1, 7]
    assert trial.last_result["score"] == 7


def test_numbers_are_reported_as_metric(tmp_path):
    trial = run(returns_number, tmp_path, config={"x": 5}).trials[0]
    assert [r["_metric"] for r in rows(trial)] == [0.5]
    trial = run(yields_numbers, tmp_path, config={"x": 2}).trials[0]
    assert [r["_metric"] for r in rows(trial)] == [2, 4, 6]


def test_empty_return_reports_nothing_more(tmp_path):
    trial = run(returns_nothing_worth_reporting, tmp_path, config={"x": 4}).trials[0]
    assert [r["score"] for r in rows(trial)] == [4]


def returns_zero(config):
    return 0.0


def yields_zeros(config):
    yield 0
    yield False


def test_a_zero_is_a_result_not_dropped(tmp_path):
    # Ray's `if not output` drops these; a final score of 0 is a result.
    trial = run(returns_zero, tmp_path).trials[0]
    assert [r["_metric"] for r in rows(trial)] == [0.0]
    trial = run(yields_zeros, tmp_path).trials[0]
    assert [r["_metric"] for r in rows(trial)] == [0, False]


@pytest.mark.parametrize("value", ["text", [1, 2], object])
def test_other_returned_values_are_a_trial_error(tmp_path, value):
    def returns_other(config):
        return value

    def yields_other(config):
        yield {"score": 1}
        yield value
    for fn in (returns_other, yields_other):
        tune.register_trainable("other", fn)
        analysis = run("other", tmp_path, raise_on_failed_trial=False)
        trial = analysis.trials[0]
        assert trial.status == "ERROR"
        with open(trial.error_file) as f:
            assert "Invalid return or yield value" in f.read()


# -- retries restore the newest checkpoint (item 3) ----------------------------
#
# Each trainable counts steps 0..9, checkpoints its step every `every` steps,
# and fails once, at step `fail_at` (after that step's report when
# `fail_after_report`), on its first run only: a marker file in the test's
# directory remembers the failure. Every call records the checkpoint it was
# given in calls.txt. The trial must end with exactly ten rows, one per step.

def _fail_once(config, step, when):
    if step != config["fail_at"] or config["fail_after_report"] != when:
        return
    marker = os.path.join(config["root"], "failed")
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("failing once at step {}".format(step))


def _record_call(config, checkpoint):
    with open(os.path.join(config["root"], "calls.txt"), "a") as f:
        f.write("{}\n".format(os.path.basename(checkpoint) if checkpoint else None))


def _calls(tmp_path):
    with open(os.path.join(str(tmp_path), "calls.txt")) as f:
        return f.read().split()


def _metrics(config, step):
    """The step's metrics; with "iteration_as" the function reports
    training_iteration itself (Ray's setdefault lets it)."""
    metrics = {"step": step}
    if config["iteration_as"] == "from_0":
        metrics["training_iteration"] = step
    elif config["iteration_as"] == "times_10":
        metrics["training_iteration"] = (step + 1) * 10
    return metrics


def counts_with_checkpoint_dir(config, checkpoint_dir=None):
    _record_call(config, checkpoint_dir)
    start = 0
    if checkpoint_dir:
        with open(os.path.join(checkpoint_dir, "step")) as f:
            start = int(f.read()) + 1
    for step in range(start, 10):
        _fail_once(config, step, False)
        if step % config["every"] == 0:
            with tune.checkpoint_dir(step=step) as d:
                with open(os.path.join(d, "step"), "w") as f:
                    f.write(str(step))
        tune.report(**_metrics(config, step))
        _fail_once(config, step, True)


def counts_with_2x_checkpoints(config):
    checkpoint = tune.get_checkpoint()
    _record_call(config, checkpoint and checkpoint.path)
    start = 0
    if checkpoint:
        with checkpoint.as_directory() as d:
            with open(os.path.join(d, "step")) as f:
                start = int(f.read()) + 1
    for step in range(start, 10):
        _fail_once(config, step, False)
        if step % config["every"] == 0:
            scratch = os.path.join(config["root"], "scratch_{}".format(step))
            os.makedirs(scratch)
            with open(os.path.join(scratch, "step"), "w") as f:
                f.write(str(step))
            tune.report(_metrics(config, step),
                        checkpoint=tune.Checkpoint.from_directory(scratch))
        else:
            tune.report(_metrics(config, step))
        _fail_once(config, step, True)


class CountsAsClass(tune.Trainable):
    def setup(self, config):
        self.next_step = 0
        _record_call(config, None)

    def step(self):
        step = self.next_step
        _fail_once(self.config, step, False)
        self.next_step += 1
        return _metrics(self.config, step)

    def save_checkpoint(self, checkpoint_dir):
        with open(os.path.join(checkpoint_dir, "step"), "w") as f:
            f.write(str(self.next_step - 1))
        return checkpoint_dir

    def load_checkpoint(self, checkpoint_dir):
        with open(os.path.join(checkpoint_dir, "step")) as f:
            self.next_step = int(f.read()) + 1
        with open(os.path.join(self.config["root"], "calls.txt"), "a") as f:
            f.write("restored:{}\n".format(os.path.basename(checkpoint_dir.rstrip("/"))))


def _run_retried(tmp_path, trainable, iteration_as, every=1, fail_at=5,
                 fail_after_report=False, **kw):
    config = {"root": str(tmp_path), "every": every, "fail_at": fail_at,
              "fail_after_report": fail_after_report, "iteration_as": iteration_as}
    analysis = run(trainable, tmp_path / "results", config=config, max_failures=3, **kw)
    [trial] = analysis.trials
    assert trial.status == "TERMINATED" and trial.num_failures == 1
    got = rows(trial)
    assert [r["step"] for r in got] == list(range(10))       # none lost, none twice
    with open(os.path.join(trial.logdir, "progress.csv")) as f:
        assert f.read().count("\n") == 11
    return trial, got


ITERATIONS = {
    None: list(range(1, 11)),
    "from_0": list(range(10)),
    "times_10": list(range(10, 101, 10)),
}


@pytest.mark.parametrize("iteration_as", [None, "from_0", "times_10"])
def test_checkpoint_dir_function_retried_from_its_checkpoint(tmp_path, iteration_as):
    trial, got = _run_retried(tmp_path, counts_with_checkpoint_dir, iteration_as)
    assert _calls(tmp_path) == ["None", "checkpoint_4"]
    assert [r["training_iteration"] for r in got] == ITERATIONS[iteration_as]


@pytest.mark.parametrize("iteration_as", [None, "from_0", "times_10"])
def test_rows_after_the_checkpoint_are_cut_before_the_retry(tmp_path, iteration_as):
    # Checkpoints at steps 0, 3, 6 and 9; the first run fails after reporting
    # step 7, so its row of step 7 goes and the retry starts at step 7 again.
    trial, got = _run_retried(tmp_path, counts_with_checkpoint_dir, iteration_as, every=3,
                              fail_at=7, fail_after_report=True)
    assert _calls(tmp_path) == ["None", "checkpoint_6"]
    assert [r["training_iteration"] for r in got] == ITERATIONS[iteration_as]


@pytest.mark.parametrize("iteration_as", [None, "from_0", "times_10"])
def test_2x_report_checkpoint_function_retried_from_its_checkpoint(tmp_path, iteration_as):
    trial, got = _run_retried(tmp_path, counts_with_2x_checkpoints, iteration_as, every=2,
                              fail_at=5)
    calls = _calls(tmp_path)
    assert calls[0] == "None" and len(calls) == 2
    with open(os.path.join(trial.logdir, calls[1], "step")) as f:
        assert f.read() == "4"
    assert [r["training_iteration"] for r in got] == ITERATIONS[iteration_as]


@pytest.mark.parametrize("iteration_as", [None, "times_10"])
def test_class_trainable_retried_from_its_checkpoint(tmp_path, iteration_as):
    trial, got = _run_retried(tmp_path, CountsAsClass, iteration_as, every=1, fail_at=5,
                              stop={"step": 9}, checkpoint_freq=1)
    assert _calls(tmp_path) == ["None", "None", "restored:checkpoint_5"]
    assert [r["training_iteration"] for r in got] == ITERATIONS[iteration_as]
