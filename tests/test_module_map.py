"""Ray Tune's module map (issue 11 item 2): every ray.tune module path code
imports resolves under tunec, and the ones with behaviour drive the real
engine — TrialRunner steps real worker processes, CheckpointManager keeps
checkpoints by the engine's rule, generate_variants is the engine's
expansion, commands read a real experiment directory."""
import importlib
import json
import os
import threading

import pytest

import tunec as tune
from tunec.trial import Checkpoint, Trial

MODULES = {
    "tunec.resources": ["Resources", "json_to_resources", "resources_to_json"],
    "tunec.trial": ["Trial", "Checkpoint", "ExportFormat", "Location"],
    "tunec.trial_runner": ["TrialRunner"],
    "tunec.trial_executor": ["TrialExecutor"],
    "tunec.ray_trial_executor": ["RayTrialExecutor"],
    "tunec.checkpoint_manager": ["Checkpoint", "CheckpointManager"],
    "tunec.suggest.variant_generator": ["generate_variants", "grid_search",
                                        "resolve_nested_dict", "RecursiveDependencyError",
                                        "format_vars", "flatten_resolved_vars"],
    "tunec.function_runner": ["wrap_function", "FunctionRunner"],
    "tunec.trainable": ["Trainable", "TrainableUtil"],
    "tunec.durable_trainable": ["DurableTrainable"],
    "tunec.utils": ["flatten_dict", "unflatten_dict", "merge_dicts", "deep_update",
                    "pin_in_object_store", "get_pinned_object", "validate_save_restore",
                    "diagnose_serialization", "wait_for_gpu", "warn_if_slow"],
    "tunec.utils.util": ["flatten_dict", "merge_dicts"],
    "tunec.commands": ["list_trials", "list_experiments", "add_note", "print_format_output"],
}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_paths_import_with_rays_names(module):
    mod = importlib.import_module(module)
    missing = [name for name in MODULES[module] if not hasattr(mod, name)]
    assert not missing, missing
    short = module.split(".", 1)[1].split(".")[0]
    assert getattr(tune, short) is importlib.import_module("tunec." + short)


# --------------------------------------------------------------------------
# TrialRunner
# --------------------------------------------------------------------------

def _counting(config):
    for i in range(1, 4):
        tune.report(score=config["x"] * i)


def test_trial_runner_stepped_by_hand_runs_real_trials(tmp_path, two_cpus):
    from tunec.trial_runner import TrialRunner
    tune.register_trainable("mm_counting", _counting)
    runner = TrialRunner()
    first = Trial("mm_counting", config={"x": 1}, local_dir=str(tmp_path),
                  stopping_criterion={"training_iteration": 2})
    runner.add_trial(first)
    assert not runner.is_finished()
    runner.step()
    assert first.status in (Trial.RUNNING, Trial.TERMINATED)
    assert first.logdir and first.logdir.startswith(str(tmp_path))
    # A trial added while the engine runs joins the same run.
    second = Trial("mm_counting", config={"x": 10}, local_dir=str(tmp_path))
    runner.add_trial(second)
    steps = 0
    while not runner.is_finished():
        runner.step()
        steps += 1
        assert steps < 500, "TrialRunner did not finish"
    trials = runner.get_trials()
    assert trials == [first, second]          # the Trial objects handed in
    assert [t.status for t in trials] == [Trial.TERMINATED, Trial.TERMINATED]
    assert first.last_result["training_iteration"] == 2      # its stop criterion
    assert second.last_result["score"] == 30
    assert runner.get_trial(second.trial_id) is second
    # Real files from real workers, under the trial's own id.
    with open(os.path.join(second.logdir, "result.json")) as f:
        rows = [json.loads(line) for line in f]
    assert [r["score"] for r in rows] == [10, 20, 30]
    assert {r["trial_id"] for r in rows} == {second.trial_id}
    assert {r["pid"] for r in rows} != {os.getpid()}
    with pytest.raises(tune.TuneError):
        runner.step()


def test_trial_runner_stops_a_pending_trial(tmp_path, two_cpus):
    from tunec.trial_runner import TrialRunner
    tune.register_trainable("mm_counting", _counting)
    runner = TrialRunner()
    trials = [Trial("mm_counting", config={"x": i + 1}, local_dir=str(tmp_path),
                    resources=tune.resources.Resources(cpu=2, gpu=0)) for i in range(2)]
    for t in trials:
        runner.add_trial(t)
    runner.step()
    assert trials[1].status == Trial.PENDING      # two CPUs: one trial at a time
    runner.stop_trial(trials[1])
    while not runner.is_finished():
        runner.step()
    assert trials[0].status == Trial.TERMINATED and trials[0].last_result["score"] == 3
    assert trials[1].status == Trial.TERMINATED and not trials[1].last_result


def test_trial_executor_names_what_the_engine_does_itself():
    from tunec.ray_trial_executor import RayTrialExecutor
    executor = RayTrialExecutor(queue_trials=False, reuse_actors=True)
    for call in (lambda: executor.start_trial(None), lambda: executor.fetch_result(None),
                 lambda: executor.save(None), lambda: executor.restore(None)):
        with pytest.raises(NotImplementedError, match=r"TrialExecutor\.\w+"):
            call()


# --------------------------------------------------------------------------
# CheckpointManager: Ray 0.8's retention, decided by the engine
# --------------------------------------------------------------------------

RETENTION_CASES = [
    # keep, score attr, results, deleted (as a set, per Ray's heap), best (worst first)
    (2, "min-loss", [{"loss": v} for v in (5, 3, 4, 1, 6, 2)],
     {"c0", "c1", "c2", "c4"}, ["c5", "c3"]),
    (2, "acc", [{"acc": v} for v in (1, 2, 3)], {"c0"}, ["c1", "c2"]),
    (None, "training_iteration", [{}, {}, {}], set(), ["c0", "c1", "c2"]),
    # A result without the attribute is never ranked; it lives while newest.
    (1, "acc", [{"acc": 1}, {}, {"acc": 0.5}, {"acc": 2}], {"c0", "c1", "c2"}, ["c3"]),
    # Worse than the best: kept only until the next one arrives.
    (1, "acc", [{"acc": 5}, {"acc": 1}, {"acc": 2}], {"c1"}, ["c0"]),
]


@pytest.mark.parametrize("keep,attr,results,deleted,best", RETENTION_CASES)
def test_checkpoint_manager_retention(keep, attr, results, deleted, best):
    from tunec.checkpoint_manager import CheckpointManager
    gone = []
    manager = CheckpointManager(keep, attr, gone.append)
    for i, result in enumerate(results):
        result = dict(result, training_iteration=i)
        manager.on_checkpoint(Checkpoint(Checkpoint.PERSISTENT, "c%d" % i, result))
    assert {c.value for c in gone} == deleted
    assert [c.value for c in manager.best_checkpoints()] == best
    assert manager.newest_persistent_checkpoint.value == "c%d" % (len(results) - 1)


def test_checkpoint_manager_memory_checkpoint_and_zero_keep():
    from tunec.checkpoint_manager import CheckpointManager
    manager = CheckpointManager(None, "training_iteration", None)
    manager.on_checkpoint(Checkpoint(Checkpoint.PERSISTENT, "p", {"training_iteration": 1}))
    manager.on_checkpoint(Checkpoint(Checkpoint.MEMORY, b"obj", {"training_iteration": 2}))
    assert manager.newest_checkpoint.value == b"obj"
    with pytest.raises(ValueError, match="keep_checkpoints_num"):
        CheckpointManager(0, "training_iteration", None)


# --------------------------------------------------------------------------
# generate_variants: Ray 0.8's pairs, from the engine
# --------------------------------------------------------------------------

def test_generate_variants_grid_order_and_whole_spec():
    from tunec.suggest.variant_generator import generate_variants, grid_search
    spec = {"run": "f", "config": {"alpha": grid_search([0.2, 0.4, 0.6]),
                                   "beta": grid_search([1, 2]), "c": "const"}}
    pairs = list(generate_variants(spec))
    # Paths sorted, the first path varies fastest (Ray's odometer).
    expected_points = [(a, b) for b in (1, 2) for a in (0.2, 0.4, 0.6)]
    assert pairs == [({("config", "alpha"): a, ("config", "beta"): b},
                      {"run": "f", "config": {"alpha": a, "beta": b, "c": "const"}})
                     for a, b in expected_points]
    assert spec["config"]["alpha"] == {"grid_search": [0.2, 0.4, 0.6]}   # not mutated


def test_generate_variants_lists_dependencies_and_errors():
    from tunec.suggest.variant_generator import (RecursiveDependencyError, generate_variants,
                                                 grid_search)
    spec = {"config": {"layers": [grid_search([16, 64]), 8],
                       "double": tune.sample_from(lambda spec: spec.config.layers[0] * 2),
                       "lr": {"eval": "spec.config.double + 1"}}}
    pairs = list(generate_variants(spec))
    assert [p[0] for p in pairs] == [
        {("config", "layers", 0): 16, ("config", "double"): 32, ("config", "lr"): 33},
        {("config", "layers", 0): 64, ("config", "double"): 128, ("config", "lr"): 129}]
    assert pairs[1][1] == {"config": {"layers": [64, 8], "double": 128, "lr": 129}}
    cycle = {"config": {"a": tune.sample_from(lambda s: s.config.b),
                        "b": tune.sample_from(lambda s: s.config.a)}}
    with pytest.raises(RecursiveDependencyError, match="recursively depends on"):
        list(generate_variants(cycle))


def test_format_vars_and_helpers():
    from tunec.suggest.variant_generator import (flatten_resolved_vars, format_vars,
                                                 resolve_nested_dict)
    assert format_vars({("config", "beta"): 2, ("config", "alpha"): 0.5}) == "alpha=0.5,beta=2"
    assert format_vars({("config", "a", 1, "b", 2): 1 / 3}) == "1_b_2=0.33333"
    assert format_vars({("config", "x"): 1e-05, ("config", "y"): 123456.0,
                        ("config", "p"): "a/b", ("run",): "skipped"}) == \
        "p=a_b,x=1e-05,y=1.2346e+05"
    assert format_vars({("config", "l"): [1, 2], ("config", "t"): True}) == "l=[1, 2],t=True"
    assert resolve_nested_dict({"a": {"b": 1}, "c": 2}) == {("a", "b"): 1, ("c",): 2}
    assert flatten_resolved_vars({("config", "m", 0): 16, ("env",): "x"}) == \
        {"m/0": 16, "env": "x"}


# --------------------------------------------------------------------------
# utils, resources, trainables
# --------------------------------------------------------------------------

def test_dict_utils():
    from tunec.utils import deep_update, flatten_dict, merge_dicts, unflatten_dict
    nested = {"a": {"b": 1, "c": {"d": 2}}, "e": 3}
    flat = flatten_dict(nested)
    assert flat == {"e": 3, "a/b": 1, "a/c/d": 2}
    assert unflatten_dict(flat) == nested
    with pytest.raises(ValueError, match="delimiter"):
        flatten_dict({"a/b": {"c": 1}}, prevent_delimiter=True)
    base = {"a": {"b": 1}, "x": 1}
    assert merge_dicts(base, {"a": {"c": 2}}) == {"a": {"b": 1, "c": 2}, "x": 1}
    assert base == {"a": {"b": 1}, "x": 1}
    with pytest.raises(Exception, match="Unknown config parameter `y`"):
        deep_update({"x": 1}, {"y": 2})


def _reads_pinned(config):
    from tunec.utils import get_pinned_object
    data = get_pinned_object(config["pinned"])
    tune.report(total=sum(data), pid=os.getpid())


def test_pinned_object_reaches_worker_processes(tmp_path, two_cpus):
    from tunec.utils import get_pinned_object, pin_in_object_store
    data = list(range(1000))
    pinned = pin_in_object_store(data)
    assert pinned.startswith("ray.tune.PinnedObject:")
    assert get_pinned_object(pinned) is data
    analysis = tune.run(_reads_pinned, config={"pinned": pinned}, local_dir=str(tmp_path),
                        verbose=0)
    assert analysis.trials[0].last_result["total"] == sum(data)


class _Counter(tune.Trainable):
    def _setup(self, config):
        self.total = 0

    def _train(self):
        self.total += 1
        return {"total": self.total}

    def _save(self, checkpoint_dir):
        return {"total": self.total}

    def _restore(self, state):
        self.total = state["total"]


class _Forgetful(_Counter):
    def _restore(self, state):
        pass


def test_validate_save_restore():
    from tunec.utils import validate_save_restore
    assert validate_save_restore(_Counter)
    assert validate_save_restore(_Counter, use_object_store=True)


def test_diagnose_serialization_names_the_culprit(capsys):
    from tunec.utils import diagnose_serialization
    lock = threading.Lock()

    def uses_lock(config):
        with lock:
            pass

    assert diagnose_serialization(_reads_pinned) is True
    assert diagnose_serialization(uses_lock) == {"lock"}
    assert "was found to be non-serializable" in capsys.readouterr().out


def test_wait_for_gpu_without_a_gpu_says_so(monkeypatch):
    from tunec.utils import wait_for_gpu
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    with pytest.raises(RuntimeError, match="CUDA_VISIBLE_DEVICES"):
        wait_for_gpu()


def test_resources_json_round_trip():
    from tunec.resources import Resources, json_to_resources, resources_to_json
    res = Resources(cpu=2, gpu=1, extra_cpu=1, custom_resources={"tpu": 1})
    assert json_to_resources(json.dumps(resources_to_json(res))) == res
    assert json_to_resources(None) is None and resources_to_json(None) is None
    assert Resources.subtract(res, Resources(cpu=1, gpu=1)).cpu == 1
    with pytest.raises(ValueError, match="Unknown resource field"):
        json_to_resources({"cpus": 1})
    with pytest.raises(tune.TuneError, match="extra_cpu"):
        json_to_resources({"driver_cpu_limit": 1})


def _reports_twice(config):
    tune.report(v=config["v"])
    tune.report(v=config["v"] + 1)


def test_wrap_function_runs_through_tune_run(tmp_path, two_cpus):
    from tunec.function_runner import FunctionRunner, wrap_function
    wrapped = wrap_function(_reports_twice)
    assert issubclass(wrapped, tune.Trainable) and issubclass(wrapped, FunctionRunner)
    analysis = tune.run(wrapped, config={"v": 4}, local_dir=str(tmp_path), verbose=0)
    assert analysis.trials[0].last_result["v"] == 5
    assert str(analysis.trials[0]).startswith("_reports_twice_")
    with pytest.raises(NotImplementedError, match="train"):
        wrapped({"v": 1})


def test_trainable_util_on_a_real_trial(tmp_path, two_cpus):
    from tunec.trainable import TrainableUtil
    analysis = tune.run(_Counter, stop={"training_iteration": 4}, checkpoint_freq=2,
                        local_dir=str(tmp_path), verbose=0)
    logdir = analysis.trials[0].logdir
    df = TrainableUtil.get_checkpoints_paths(logdir)
    assert sorted(df["training_iteration"]) == [2, 4]
    path = df.sort_values("training_iteration")["chkpt_path"].iloc[-1]
    checkpoint_dir = TrainableUtil.find_checkpoint_dir(path)
    assert os.path.basename(checkpoint_dir) == "checkpoint_4"
    blob = TrainableUtil.pickle_checkpoint(path)
    restored = TrainableUtil.create_from_pickle(blob, str(tmp_path / "unpacked"))
    with open(restored, "rb") as a, open(path, "rb") as b:
        assert a.read() == b.read()


def test_durable_trainable_uploads_to_its_remote_dir(tmp_path):
    from tunec.durable_trainable import DurableTrainable

    class Durable(DurableTrainable, _Counter):
        pass

    local = Durable({})                       # no remote dir: a plain Trainable
    local.train()
    assert os.path.exists(local.save())
    remote = Durable("file://" + str(tmp_path / "remote"), {})
    remote.train()
    remote.save()
    assert os.listdir(str(tmp_path / "remote")) == ["checkpoint_1"]


# --------------------------------------------------------------------------
# commands
# --------------------------------------------------------------------------

def test_commands_print_rays_table_for_a_real_experiment(tmp_path, two_cpus, capsys):
    from tunec import commands
    tune.run(_reports_twice, name="exp", config={"v": tune.grid_search([1, 5])},
             local_dir=str(tmp_path), verbose=0)
    capsys.readouterr()
    commands.list_trials(str(tmp_path / "exp"), sort="config/v")
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("+-") and "training_iteration" in lines[1]
    assert "config/v" in lines[1] and "trial_id" in lines[1]
    rows = [line for line in lines[3:] if line.startswith("|")]
    assert len(rows) == 2 and rows[0].split("|")[-2].strip() == "1"
    output = tmp_path / "out.csv"
    commands.list_trials(str(tmp_path / "exp"), filter_op="config/v > 2",
                         info_keys=["trial_id", "config/v"], output=str(output))
    assert output.read_text().splitlines()[1].endswith(",5")
    commands.list_experiments(str(tmp_path))
    out = capsys.readouterr().out
    assert "total_trials" in out and "| exp " in out
    with pytest.raises(commands.ClickException, match="Provided key invalid"):
        commands.list_trials(str(tmp_path / "exp"), info_keys=["nope"])
