"""End-to-end tune.run with real worker processes and real files."""
import csv
import glob
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import tunec as tune
from tunec import TuneError
from run_helpers import HANG_S, no_hang

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _small_machine():
    tune.init(num_cpus=2, num_gpus=0)
    yield
    tune.shutdown()


def run(fn, tmp_path, **kw):
    kw.setdefault("verbose", 0)
    return tune.run(fn, local_dir=str(tmp_path), **kw)


def rows(logdir):
    with open(os.path.join(logdir, "result.json")) as f:
        return [json.loads(line) for line in f]


def csv_rows(logdir):
    with open(os.path.join(logdir, "progress.csv"), newline="") as f:
        return list(csv.DictReader(f))


# -- function API, every spelling --------------------------------------------

def f_track(config):
    for i in range(3):
        tune.track.log(score=config["x"] * i)


def f_reporter(config, reporter):
    for i in range(3):
        reporter(score=config["x"] * i)


def f_report_kwargs(config):
    for i in range(3):
        tune.report(score=config["x"] * i)


def f_report_dict(config):
    for i in range(3):
        tune.report({"score": config["x"] * i})


@pytest.mark.parametrize("fn", [f_track, f_reporter, f_report_kwargs, f_report_dict])
def test_function_forms(fn, tmp_path):
    analysis = run(fn, tmp_path, config={"x": tune.grid_search([1, 2])})
    assert len(analysis.trials) == 2
    for trial in analysis.trials:
        assert trial.status == "TERMINATED"
        data = rows(trial.logdir)
        assert [r["score"] for r in data] == [0, trial.config["x"], 2 * trial.config["x"]]
        assert [r["training_iteration"] for r in data] == [1, 2, 3]
        # Loggers see exactly N results; the function's return marks the last
        # result done without an extra iteration (spec §18.11).
        assert [r["done"] for r in data] == [False, False, False]
        assert trial.last_result["done"] is True
        assert trial.last_result["training_iteration"] == 3


def test_report_single_value_is_metric(tmp_path):
    def fn(config):
        tune.report(0.5)
    register = "single_value_fn"
    tune.register_trainable(register, fn)
    analysis = run(register, tmp_path)
    assert rows(analysis.trials[0].logdir)[0]["_metric"] == 0.5


def test_result_fields_order_and_values(tmp_path):
    def fn(config):
        tune.report(mean_loss=2.0, timesteps_this_iter=10, episodes_this_iter=1)
        tune.report(mean_loss=0.0, timesteps_this_iter=5)
    tune.register_trainable("fields_fn", fn)
    analysis = run("fields_fn", tmp_path, config={"a": {"b": 1}})
    first, second = rows(analysis.trials[0].logdir)
    assert list(first)[:6] == ["mean_loss", "timesteps_this_iter", "episodes_this_iter", "done",
                               "timesteps_total", "episodes_total"]
    expected = ["training_iteration", "neg_mean_loss", "experiment_id", "date", "timestamp",
                "time_this_iter_s", "time_total_s", "pid", "hostname", "node_ip", "config",
                "time_since_restore", "timesteps_since_restore", "iterations_since_restore",
                "trial_id", "experiment_tag"]
    assert list(first)[6:] == expected
    assert first["neg_mean_loss"] == -2.0 and "neg_mean_loss" not in second   # 0 is falsy
    assert first["timesteps_total"] == 10 and second["timesteps_total"] == 15
    assert first["episodes_total"] == 1 and second["episodes_total"] == 1
    assert first["config"] == {"a": {"b": 1}}
    assert first["trial_id"] == analysis.trials[0].trial_id
    assert first["pid"] != os.getpid()
    assert second["time_total_s"] >= second["time_this_iter_s"]
    assert first["experiment_id"] == second["experiment_id"]


def test_timesteps_null_when_never_reported(tmp_path):
    analysis = run(f_track, tmp_path, config={"x": 1})
    assert rows(analysis.trials[0].logdir)[0]["timesteps_total"] is None


def test_user_done_ends_trial(tmp_path):
    def fn(config):
        for i in range(100):
            tune.report(i=i, done=i == 2)
        raise AssertionError("must not continue after done")
    tune.register_trainable("done_fn", fn)
    analysis = run("done_fn", tmp_path)
    trial = analysis.trials[0]
    assert trial.status == "TERMINATED"
    data = rows(trial.logdir)
    assert [r["i"] for r in data] == [0, 1, 2]
    assert data[-1]["done"] is True


def test_function_without_reports_terminates_done(tmp_path):
    def fn(config):
        return None
    tune.register_trainable("silent_fn", fn)
    analysis = run("silent_fn", tmp_path)
    assert analysis.trials[0].status == "TERMINATED"
    assert analysis.trials[0].last_result["done"] is True


# -- class API -----------------------------------------------------------------

class OldStyle(tune.Trainable):
    def _setup(self, config):
        self.x = config["x"]
        self.stopped = False

    def _train(self):
        return {"score": self.x * self.iteration}

    def _stop(self):
        with open(os.path.join(self.logdir, "stopped"), "w") as f:
            f.write("yes")


class NewStyle(tune.Trainable):
    def setup(self, config):
        self.x = config["x"]
        self.logged = []

    def step(self):
        return {"score": self.x, "done": self.iteration >= 3}

    def log_result(self, result):
        with open(os.path.join(self.logdir, "logged.txt"), "a") as f:
            f.write("{} {}\n".format(result["training_iteration"], result["config"]))

    def cleanup(self):
        with open(os.path.join(self.logdir, "stopped"), "w") as f:
            f.write("yes")


def test_class_api_old_names(tmp_path):
    analysis = run(OldStyle, tmp_path, config={"x": 2}, stop={"training_iteration": 4})
    trial = analysis.trials[0]
    data = rows(trial.logdir)
    assert [r["score"] for r in data] == [0, 2, 4, 6]
    assert data[-1]["done"] is True and not data[0]["done"]
    assert os.path.exists(os.path.join(trial.logdir, "stopped"))
    assert trial.trainable_name == "OldStyle"


def test_class_api_new_names_and_log_result(tmp_path):
    analysis = run(NewStyle, tmp_path, config={"x": 1})
    trial = analysis.trials[0]
    assert [r["training_iteration"] for r in rows(trial.logdir)] == [1, 2, 3, 4]
    with open(os.path.join(trial.logdir, "logged.txt")) as f:
        logged = f.read().splitlines()
    assert logged[0].startswith("1 ")
    assert os.path.exists(os.path.join(trial.logdir, "stopped"))


def test_trainable_standalone_train():
    t = NewStyle(config={"x": 5})
    r1 = t.train()
    r2 = t.train()
    assert (r1["training_iteration"], r2["training_iteration"]) == (1, 2)
    assert r1["score"] == 5 and "time_total_s" in r2


def test_register_lambda(tmp_path):
    tune.register_trainable("lam", lambda config: tune.report(v=config["v"]))
    analysis = run("lam", tmp_path, config={"v": 3})
    assert rows(analysis.trials[0].logdir)[0]["v"] == 3


def test_unknown_registered_name(tmp_path):
    with pytest.raises(TuneError, match="Unknown trainable: nope"):
        run("nope", tmp_path)


def test_bad_function_signature(tmp_path):
    def fn(config, other):
        pass
    with pytest.raises(ValueError, match="other"):
        run(fn, tmp_path)


# -- files on disk ---------------------------------------------------------------

def test_files_on_disk(tmp_path):
    analysis = run(f_track, tmp_path, name="files", config={"x": tune.grid_search([1, 2])})
    exp_dir = os.path.join(str(tmp_path), "files")
    states = glob.glob(os.path.join(exp_dir, "experiment_state-*.json"))
    assert len(states) == 1
    with open(states[0]) as f:
        state = json.load(f)
    assert set(state) == {"checkpoints", "runner_data", "stats"}
    assert [c["status"] for c in state["checkpoints"]] == ["TERMINATED", "TERMINATED"]
    for trial in analysis.trials:
        name = os.path.basename(trial.logdir)
        assert name.startswith("f_track_{}_".format(trial.experiment_tag))
        with open(os.path.join(trial.logdir, "params.json")) as f:
            text = f.read()
        assert text == json.dumps(trial.config, indent=2, sort_keys=True)
        with open(os.path.join(trial.logdir, "params.pkl"), "rb") as f:
            assert pickle.load(f) == trial.config
        header = open(os.path.join(trial.logdir, "progress.csv"), newline="").readline()
        assert header.endswith("\r\n") and "config" not in header.split(",")
        assert len(csv_rows(trial.logdir)) == 3


def test_trial_name_creator_and_safe_names(tmp_path):
    analysis = run(f_track, tmp_path, config={"x": 1},
                   trial_name_creator=lambda t: "my/trial_" + t.trial_id)
    trial = analysis.trials[0]
    assert str(trial) == "my/trial_00000"
    assert os.path.basename(trial.logdir).startswith("my_trial_00000_0_")


def test_long_names_are_cut(tmp_path):
    analysis = run(f_track, tmp_path, config={"x": 1, "long": tune.grid_search(["y" * 300])})
    name = os.path.basename(analysis.trials[0].logdir)
    assert len(name) <= 130 + 1 + 19 + 8


def test_nan_and_numpy_results(tmp_path):
    import numpy as np

    def fn(config):
        tune.report(a=float("nan"), b=float("inf"), c=np.float32(1.5), d=np.arange(3),
                    e=np.int64(7), f={"nested": np.float64(0.25)})
    tune.register_trainable("np_fn", fn)
    analysis = run("np_fn", tmp_path)
    logdir = analysis.trials[0].logdir
    text = open(os.path.join(logdir, "result.json")).read()
    assert "NaN" in text and "Infinity" in text
    row = rows(logdir)[0]
    assert row["c"] == 1.5 and row["d"] == [0, 1, 2] and row["e"] == 7
    assert row["f"] == {"nested": 0.25}
    header = csv_rows(logdir)[0]
    assert header["f/nested"] == "0.25" and header["a"] == "nan"


# -- stopping --------------------------------------------------------------------

def f_forever(config):
    i = 0
    while True:
        i += 1
        tune.report(i=i, score=i * config.get("k", 1))


def test_stop_dict_and_nested_keys(tmp_path):
    analysis = run(f_forever, tmp_path, stop={"score": 10})
    data = rows(analysis.trials[0].logdir)
    assert data[-1]["score"] == 10 and len(data) == 10


def test_stop_function(tmp_path):
    analysis = run(f_forever, tmp_path, stop=lambda trial_id, result: result["i"] >= 4)
    assert len(rows(analysis.trials[0].logdir)) == 4


def test_stopper_stop_all(tmp_path):
    class StopAfter(tune.Stopper):
        def __init__(self):
            self.seen = 0

        def __call__(self, trial_id, result):
            self.seen += 1
            return False

        def stop_all(self):
            return self.seen >= 5

    analysis = run(f_forever, tmp_path, stop=StopAfter(), num_samples=4)
    assert all(t.status == "TERMINATED" for t in analysis.trials)


def test_stop_errors(tmp_path):
    with pytest.raises(ValueError, match="flattened"):
        run(f_track, tmp_path, stop={"a": {"b": 1}})
    with pytest.raises(TuneError):
        run(f_track, tmp_path, stop=lambda only_one: True)
    with pytest.raises(ValueError, match="Invalid stop criteria"):
        run(f_track, tmp_path, stop=3)


def test_missing_stop_key_is_trial_error(tmp_path):
    with pytest.raises(TuneError) as info:
        run(f_track, tmp_path, config={"x": 1}, stop={"missing": 1})
    assert "Stopping criteria missing not provided" in str(info.value)


# -- failures ---------------------------------------------------------------------

def test_failure_message_names_trial_and_traceback(tmp_path):
    def fn(config):
        if config["x"] == 2:
            raise ValueError("bad value two")
        tune.report(ok=1)
    tune.register_trainable("fail_fn", fn)
    with pytest.raises(TuneError) as info:
        run("fail_fn", tmp_path, config={"x": tune.grid_search([1, 2])})
    err = info.value
    assert err.args[0] == "Trials did not complete"
    assert len(err.args[1]) == 1
    text = str(err)
    assert "fail_fn_00001" in text and "ValueError: bad value two" in text
    trial = err.args[1][0]
    with open(trial.error_file) as f:
        content = f.read()
    assert content.startswith("Failure # 1 (occurred at ")
    assert "bad value two" in content


def test_raise_on_failed_trial_false_and_max_failures(tmp_path):
    def fn(config):
        raise RuntimeError("always")
    tune.register_trainable("always_fails", fn)
    analysis = run("always_fails", tmp_path, max_failures=2, raise_on_failed_trial=False)
    trial = analysis.trials[0]
    assert trial.status == "ERROR" and trial.num_failures == 3
    assert open(trial.error_file).read().count("Failure #") == 3


def test_killed_worker_is_trial_error(tmp_path):
    def fn(config):
        tune.report(step=1)
        if config["x"] == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        tune.report(step=2)
    tune.register_trainable("killed_fn", fn)
    analysis = run("killed_fn", tmp_path, config={"x": tune.grid_search([0, 1, 2])},
                   raise_on_failed_trial=False)
    statuses = [t.status for t in analysis.trials]
    assert statuses == ["TERMINATED", "ERROR", "TERMINATED"]
    assert "SIGKILL" in analysis.trials[1].error_msg or "signal 9" in analysis.trials[1].error_msg


def test_fail_fast(tmp_path):
    """The other trials report until they are stopped: the run ends only
    because the first trial's failure stops them (and the pending ones)."""
    def fn(config):
        if config["x"] == 0:
            raise RuntimeError("first fails")
        while True:
            tune.report(x=config["x"])
            time.sleep(0.01)
    tune.register_trainable("ff_fn", fn)
    with no_hang("a fail_fast run"):
        analysis = run("ff_fn", tmp_path, config={"x": tune.grid_search(list(range(6)))},
                       fail_fast=True, raise_on_failed_trial=False)
    statuses = [t.status for t in analysis.trials]
    assert statuses[0] == "ERROR"
    assert "PENDING" not in statuses and "RUNNING" not in statuses
    with pytest.raises(ValueError, match="max_failures must be 0"):
        run("ff_fn", tmp_path, fail_fast=True, max_failures=1)


# -- resources ---------------------------------------------------------------------

def f_env(config):
    tune.report(cuda=os.environ.get("CUDA_VISIBLE_DEVICES"), pid=os.getpid())


def test_resource_request_too_large(tmp_path):
    with pytest.raises(TuneError, match="Insufficient cluster resources"):
        run(f_env, tmp_path, resources_per_trial={"cpu": 3})
    with pytest.raises(TuneError, match="resources_per_trial"):
        run(f_env, tmp_path, resources_per_trial={"cpux": 1})


def test_cuda_visible_devices_per_trial(tmp_path):
    tune.init(num_cpus=4, num_gpus=2)
    analysis = run(f_env, tmp_path, resources_per_trial={"cpu": 1, "gpu": 1},
                   config={"i": tune.grid_search([0, 1, 2, 3])})
    devices = [rows(t.logdir)[0]["cuda"] for t in analysis.trials]
    assert sorted(set(devices)) == ["0", "1"]
    analysis = run(f_env, tmp_path, resources_per_trial={"cpu": 1, "gpu": 0.5},
                   config={"i": tune.grid_search([0, 1])})
    assert {rows(t.logdir)[0]["cuda"] for t in analysis.trials} <= {"0", "1"}
    analysis = run(f_env, tmp_path, config={"i": 0})
    assert rows(analysis.trials[0].logdir)[0]["cuda"] == ""


def test_parallel_workers(tmp_path):
    """Two CPUs, two trials at once: each trial waits until two have started,
    which only happens if two run at the same time (a runner that ran one at
    a time would leave the first waiting; it then fails, not hangs)."""
    started = str(tmp_path / "started")
    os.mkdir(started)

    def fn(config):
        import time, uuid
        open(os.path.join(started, uuid.uuid4().hex), "w").close()
        deadline = time.monotonic() + 300
        while len(os.listdir(started)) < 2:
            if time.monotonic() > deadline:
                raise RuntimeError("no second trial ran alongside this one")
            time.sleep(0.01)
        tune.report(pid=os.getpid())
    tune.register_trainable("par_fn", fn)
    analysis = run("par_fn", tmp_path / "out", num_samples=4)
    assert [t.status for t in analysis.trials] == ["TERMINATED"] * 4
    pids = {rows(t.logdir)[0]["pid"] for t in analysis.trials}
    assert len(pids) == 2          # two CPUs, two long-lived workers reused


# -- local mode, __main__ functions, namespace ------------------------------------

def test_local_mode_runs_in_process(tmp_path):
    tune.init(num_cpus=2, local_mode=True)
    analysis = run(f_env, tmp_path, num_samples=2)
    assert all(rows(t.logdir)[0]["pid"] == os.getpid() for t in analysis.trials)
    assert os.getcwd() != analysis.trials[0].logdir


def _script(tmp_path, body):
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(body))
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env,
                          timeout=HANG_S, cwd=str(tmp_path))


def test_main_module_function_reaches_workers(tmp_path):
    proc = _script(tmp_path, """
        import tunec as tune

        OFFSET = 10

        def train(config):
            tune.report(v=config["x"] + OFFSET)

        class Model(tune.Trainable):
            def step(self):
                return {"v": 1, "done": True}

        if __name__ == "__main__":
            a = tune.run(train, config={"x": tune.grid_search([1, 2])}, verbose=0,
                         local_dir=".")
            print(sorted(t.last_result["v"] for t in a.trials))
            b = tune.run(Model, verbose=0, local_dir=".")
            print(b.trials[0].status)
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["[11,", "12]", "TERMINATED"]


def test_import_is_light():
    code = ("import sys; import tunec as tune; from tunec import tune as t2; "
            "print('pandas' in sys.modules, 'numpy' in sys.modules, t2 is tune)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=ROOT), check=True).stdout.split()
    # How long the import takes is `make bench`'s to measure, not a test's.
    assert out == ["False", "False", "True"]


def test_namespace():
    for name in ["run", "run_experiments", "Experiment", "Trainable", "track", "report",
                 "grid_search", "sample_from", "uniform", "loguniform", "choice", "randint",
                 "randn", "quniform", "qloguniform", "qrandint", "lograndint", "qlograndint",
                 "qrandn", "register_trainable", "register_env", "Analysis",
                 "ExperimentAnalysis", "TuneError", "Stopper"]:
        assert hasattr(tune, name), name
    from tunec.schedulers import FIFOScheduler, TrialScheduler  # noqa: F401
    from tunec.suggest import BasicVariantGenerator, SearchAlgorithm, Searcher  # noqa: F401
    import tunec.logger, tunec.result, tunec.trial  # noqa: F401,E401


def test_unknown_keyword_is_type_error(tmp_path):
    with pytest.raises(TypeError, match="not_an_argument"):
        run(f_track, tmp_path, not_an_argument=1)


def test_modern_keywords(tmp_path):
    analysis = tune.run(f_track, config={"x": 1}, storage_path=str(tmp_path), verbose=0,
                        metric="score", mode="max", max_concurrent_trials=1, time_budget_s=60)
    assert analysis.trials[0].local_dir.startswith(str(tmp_path))
    assert analysis.best_config == {"x": 1}


def test_time_budget_stops_run(tmp_path):
    with no_hang("a run of endless trials with time_budget_s=1"):
        analysis = run(f_forever, tmp_path, time_budget_s=1.0, num_samples=2)
    assert all(t.status == "TERMINATED" for t in analysis.trials)


def test_seed_reproducible(tmp_path):
    configs = []
    for _ in range(2):
        analysis = run(f_track, tmp_path, config={"x": tune.uniform(0, 1)}, num_samples=5,
                       seed=123)
        configs.append([t.config["x"] for t in analysis.trials])
    assert configs[0] == configs[1]


def test_experiment_objects_and_run_experiments(tmp_path):
    exp = tune.Experiment("exp_a", f_track, config={"x": tune.grid_search([1, 2])},
                          local_dir=str(tmp_path))
    exp_b = tune.Experiment("exp_b", OldStyle, config={"x": 1}, stop={"training_iteration": 2},
                            local_dir=str(tmp_path))
    trials = tune.run_experiments([exp, exp_b], verbose=0)
    assert len(trials) == 3
    assert [t.experiment_tag for t in trials] == ["0_x=1", "1_x=2", "2"]
    trials = tune.run_experiments({"from_dict": {"run": f_track, "config": {"x": 3},
                                                 "local_dir": str(tmp_path)}}, verbose=0)
    assert trials[0].last_result["score"] == 6


def test_no_worker_outlives_run(tmp_path):
    import psutil
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    run(f_track, tmp_path, config={"x": 1}, num_samples=3)
    after = {p.pid for p in psutil.Process().children(recursive=True)} - before
    from tunec import _zygote
    assert not after - {_zygote.pid()}   # the fork server stays for the next run


@pytest.mark.parametrize("verbose", [0, 1, 2])
def test_console_output_by_verbosity(tmp_path, capfd, verbose):
    run(f_track, tmp_path, config={"x": tune.grid_search([1, 2])}, verbose=verbose)
    out = capfd.readouterr().out
    assert ("== Status ==" in out) == (verbose >= 1)
    assert ("Result for f_track_00000:" in out) == (verbose >= 2)
    if verbose:
        assert "Number of trials: 2 (2 TERMINATED)" in out
        assert "Using FIFO scheduling algorithm." in out


def test_segfault_is_trial_error(tmp_path):
    def fn(config):
        import ctypes
        tune.report(a=1)
        ctypes.string_at(0)      # SIGSEGV in the worker
    tune.register_trainable("segv", fn)
    analysis = run("segv", tmp_path, raise_on_failed_trial=False)
    trial = analysis.trials[0]
    # Under `make check-asan` ASan's SEGV handler reports the fault and then
    # aborts the worker (abort_on_error=1): signal 6 there.
    signum = 6 if "san" in os.environ.get("LD_PRELOAD", "") else 11
    assert trial.status == "ERROR" and "signal {}".format(signum) in trial.error_msg


def test_tensorboard_event_files(tmp_path):
    from tunec.logger import CSVLogger, JsonLogger
    analysis = run(f_track, tmp_path, name="tb", config={"x": tune.grid_search([1, 2])})
    for trial in analysis.trials:
        files = glob.glob(os.path.join(trial.logdir, "events.out.tfevents.*"))
        assert len(files) == 1 and os.path.getsize(files[0]) > 100
    try:
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    except ImportError:
        EventFileLoader = None
    if EventFileLoader is not None:
        path = glob.glob(os.path.join(analysis.trials[1].logdir, "events.out.tfevents.*"))[0]
        # The loader migrates simple_value scalars into tensors.
        scores = [(e.step, v.tensor.float_val[0] if v.HasField("tensor") else v.simple_value)
                  for e in EventFileLoader(path).Load()
                  for v in e.summary.value if v.tag == "ray/tune/score"]
        assert scores == [(1, 0.0), (2, 2.0), (3, 4.0)]
    analysis = run(f_track, tmp_path, name="no_tb", config={"x": 1},
                   loggers=[JsonLogger, CSVLogger])
    assert not glob.glob(os.path.join(analysis.trials[0].logdir, "events.out.tfevents.*"))
