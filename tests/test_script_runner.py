"""`tunec run`: unchanged Ray Tune scripts of each API generation, and Ray's
own examples, run on tunec (docs/migration.md, "Running unchanged scripts").

The scripts run as `python -m tunec run` subprocesses with real workers; each
prints an OK line once its own checks passed, and its results are on disk.
"""
import glob
import importlib
import json
import os
import subprocess
import sys

import pytest

import tunec
from tunec.compat import ray_aliases, real_ray_installed
from tunec.compat._finder import RayAliasFinder

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "scripts")
sys.path.insert(0, SCRIPTS)
import fetch_ray_examples  # noqa: E402

HANG_S = 300


def tunec_run(tmp_path, script, *args, command=(sys.executable, "-m", "tunec"), env=None):
    results = tmp_path / "ray_results"
    full_env = dict(os.environ, TUNE_RESULT_DIR=str(results), HOME=str(tmp_path),
                    **(env or {}))
    full_env.pop("TUNEC_RAY", None)
    proc = subprocess.run(list(command) + ["run", script] + list(args), cwd=str(tmp_path),
                          env=full_env, capture_output=True, text=True, timeout=HANG_S)
    return proc, results


def result_rows(results, experiment):
    """{trial dir name: number of result.json rows} of an experiment."""
    rows = {}
    for path in glob.glob(os.path.join(str(results), experiment, "*", "result.json")):
        with open(path) as f:
            rows[os.path.basename(os.path.dirname(path))] = [json.loads(line) for line in f]
    return rows


def assert_ran(proc, ok_line):
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert ok_line in proc.stdout, proc.stdout[-3000:]


# -- the aliases, in this process -------------------------------------------------

def test_ray_tune_modules_are_tunecs_own_objects():
    with ray_aliases("shim"):
        import ray
        import ray.tune.schedulers
        from ray import tune
        from ray.tune.search import BasicVariantGenerator
        from ray.tune.search import Searcher
        from ray.tune.suggest.suggestion import Searcher as Searcher1x
        assert tune is tunec
        assert ray.tune.schedulers is tunec.schedulers
        assert BasicVariantGenerator is tunec.suggest.BasicVariantGenerator
        assert Searcher is Searcher1x is tunec.suggest.Searcher
        assert ray.__name__ == "tunec.compat.ray_shim"
    assert "ray" not in sys.modules and "ray.tune" not in sys.modules
    assert not any(isinstance(f, RayAliasFinder) for f in sys.meta_path)
    if not real_ray_installed():
        with pytest.raises(ImportError):
            importlib.import_module("ray")


def test_missing_counterparts_say_what_is_missing():
    with ray_aliases("shim"):
        with pytest.raises(ModuleNotFoundError, match="tunec has no counterpart.*tunec.nothing"):
            importlib.import_module("ray.tune.nothing")
        with pytest.raises(ModuleNotFoundError, match="Ray is not installed.*ray.remote"):
            importlib.import_module("ray.rllib")


def test_ray_core_stand_in_has_local_semantics():
    with ray_aliases("shim"):
        import ray
        ray.init(num_cpus=3, resources={"tpu": 2})
        try:
            assert ray.is_initialized() and tunec.is_initialized()
            assert ray.cluster_resources() == {"CPU": 3.0, "tpu": 2.0}
            with pytest.raises(RuntimeError, match="ray.init twice"):
                ray.init()
            ray.init(ignore_reinit_error=True)

            @ray.remote
            def add(a, b):
                return a + b

            @ray.remote(num_cpus=1)
            class Counter:
                def __init__(self, start):
                    self.n = start

                def incr(self, by):
                    self.n += by
                    return self.n

                def fail(self):
                    raise KeyError("boom")

            ref = add.remote(ray.put(1), 2)
            assert ray.get(ref) == 3 and ray.get([ref, ray.put("x")]) == [3, "x"]
            ready, rest = ray.wait([ref, ray.put(0)], num_returns=1)
            assert ready == [ref] and len(rest) == 1
            counter = Counter.options(name="c").remote(10)
            assert ray.get(counter.incr.remote(5)) == 15
            assert ray.get_actor("c") is counter
            failed = counter.fail.remote()       # raised at get, as Ray does
            with pytest.raises(KeyError):
                ray.get(failed)
            with pytest.raises(TypeError, match="remote"):
                add(1, 2)
        finally:
            ray.shutdown()
        assert not tunec.is_initialized()
        with pytest.raises(TypeError, match="no_such_option"):
            ray.init(no_such_option=1)
        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, _temp_dir="/tmp")
        ray.shutdown()


# -- scripts of each generation ---------------------------------------------------

def test_ray08_script(tmp_path):
    proc, results = tunec_run(tmp_path, os.path.join(SCRIPTS, "ray08_track.py"), "--smoke-test")
    assert_ran(proc, "RAY08 OK best lr=0.2")
    rows = result_rows(results, "ray08_track")
    # AsyncHyperBand may stop the weaker trial early: each has logged results.
    assert len(rows) == 2 and all("mean_accuracy" in r[0] for r in rows.values()), rows
    assert sorted(len(r) for r in result_rows(results, "ray08_class").values()) == [3, 3]


def test_ray1x_script_with_a_user_module_that_imports_ray(tmp_path):
    # The objective lives in a module of the user's: each worker imports it,
    # and its `from ray import tune` too.
    proc, results = tunec_run(tmp_path, os.path.join(SCRIPTS, "ray1x_report.py"),
                              "--smoke-test", command=[os.path.join(
                                  os.path.dirname(sys.executable), "tunec")])
    assert_ran(proc, "RAY1X OK best x=2.0")
    rows = result_rows(results, "ray1x_report")
    assert len(rows) == 3 and all(len(r) == 3 for r in rows.values()), rows


def test_ray2x_session_script(tmp_path):
    proc, results = tunec_run(tmp_path, os.path.join(SCRIPTS, "ray2x_session.py"),
                              "--smoke-test")
    assert_ran(proc, "RAY2X-SESSION OK best a=2")
    assert sorted(r[-1]["score"] for r in result_rows(results, "ray2x_session").values()) == \
        [2, 4]


def test_ray2x_tuner_script(tmp_path):
    if not hasattr(tunec, "Tuner"):
        pytest.skip("tunec.Tuner (the 2.x Tuner API) is not in this tree yet")
    proc, results = tunec_run(tmp_path, os.path.join(SCRIPTS, "ray2x_tuner.py"), "--smoke-test")
    assert_ran(proc, "RAY2X-TUNER OK best a=2")
    assert len(result_rows(results, "ray2x_tuner")) == 2


def test_script_exit_status_and_argv_pass_through(tmp_path):
    script = tmp_path / "exits.py"
    script.write_text("import sys\nimport ray\nassert __name__ == '__main__'\n"
                      "print('ARGV', sys.argv[1:])\nsys.exit(int(sys.argv[1]))\n")
    proc, _ = tunec_run(tmp_path, str(script), "7", "--flag")
    assert proc.returncode == 7 and "ARGV ['7', '--flag']" in proc.stdout, proc.stderr


# -- which `ray` a script gets when Ray is installed ------------------------------

FAKE_RAY = '''
"""Stands in for an installed Ray: records what reaches it."""
calls = []
def init(address=None, **kw):
    calls.append(("init", address))
def is_initialized():
    return bool(calls)
def put(value):
    return ("real-ref", value)
def cluster_resources():
    return {"CPU": 64.0}
'''

RULE_SCRIPT = '''
import os, sys
import ray
from ray import tune
import tunec
assert tune is tunec
ray.init(address=sys.argv[1] if len(sys.argv) > 1 else None)
print("REF", ray.put(1))
print("RAY", sys.modules["ray"].__name__)
'''


@pytest.mark.parametrize("args, expect", [
    ((), "REF ObjectRef("),                       # no cluster: tunec's stand-in
    (("ray://head:10001",), "REF ('real-ref', 1)"),  # a cluster: Ray's own objects
])
def test_installed_ray_is_used_for_a_cluster_only(tmp_path, args, expect):
    site = tmp_path / "site"
    (site / "ray").mkdir(parents=True)
    (site / "ray" / "__init__.py").write_text(FAKE_RAY)
    script = tmp_path / "rule.py"
    script.write_text(RULE_SCRIPT)
    env = {"PYTHONPATH": str(site), "RAY_ADDRESS": ""}
    proc, _ = tunec_run(tmp_path, str(script), *args, env=env)
    assert proc.returncode == 0, proc.stderr
    assert expect in proc.stdout, proc.stdout
    assert ("RAY ray" if args else "RAY tunec.compat.ray_shim") in proc.stdout


def test_ray_mode_real_requires_ray(tmp_path):
    if real_ray_installed():
        pytest.skip("Ray is installed here")
    script = tmp_path / "noop.py"
    script.write_text("print('ran')\n")
    proc = subprocess.run([sys.executable, "-m", "tunec", "run", "--ray", "real", str(script)],
                          capture_output=True, text=True, timeout=HANG_S)
    assert proc.returncode != 0 and "Ray is not installed" in proc.stderr, proc.stderr
    assert "ran" not in proc.stdout


# -- Ray's own examples, from the ray wheels --------------------------------------

# The examples of each Ray release that run unchanged on tunec (the others,
# and why, are listed in docs/migration.md).
RAY_EXAMPLES = [(version, example)
                for version, examples in [
                    ("0.8.7", ["async_hyperband_example", "genetic_example", "hyperband_example",
                               "hyperband_function_example", "logging_example", "pbt_example",
                               "pbt_function", "wandb_example"]),
                    ("1.13.0", ["async_hyperband_example", "custom_func_checkpointing",
                                "genetic_example", "hyperband_example",
                                "hyperband_function_example", "logging_example", "pbt_example",
                                "pbt_function", "tune_basic_example", "wandb_example"]),
                    ("2.9.3", ["async_hyperband_example", "custom_func_checkpointing",
                               "hyperband_example", "hyperband_function_example", "logging_example",
                               "pbt_example", "pbt_function", "tune_basic_example"])]
                for example in examples]

# What an example's own smoke test passes besides --smoke-test.
EXAMPLE_ARGS = {"wandb_example": ["--mock-api"]}   # W&B mocked the example's own way


@pytest.mark.parametrize("version, example", RAY_EXAMPLES,
                         ids=["{}-{}".format(v, e) for v, e in RAY_EXAMPLES])
def test_rays_own_examples_run_unchanged(tmp_path, version, example):
    directory = fetch_ray_examples.examples_dir(version)
    if directory is None:
        pytest.skip("Ray {}'s examples are not fetched: run `make ray-examples` (needs the "
                    "network once)".format(version))
    if version.startswith("2.") and not hasattr(tunec, "Tuner"):
        pytest.skip("Ray 2.x's examples use tune.Tuner, not in this tree yet")
    proc, results = tunec_run(tmp_path, os.path.join(directory, example + ".py"),
                              "--smoke-test", *EXAMPLE_ARGS.get(example, []))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = result_rows(results, "*")
    if example == "logging_example" and version == "0.8.7":
        # loggers=[TestLogger] only: no result.json, the custom logger prints.
        assert proc.stdout.count("TestLogger {") == 5, proc.stdout[-3000:]
        return
    assert rows and all(r for r in rows.values()), (os.listdir(str(results)), proc.stdout[-2000:])
    if example == "logging_example":
        assert proc.stdout.count("TestLogger for trial ") == 5, proc.stdout[-3000:]
