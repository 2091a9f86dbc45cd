"""Syncing an experiment to upload_dir / a storage_path URI (tunec/syncer.py,
tunec/_sync_plan.py, tunec/_storage.py): file:// targets, sync templates and
functions, a real S3-compatible server (moto in server mode), fsspec, failing
syncs, resume="REMOTE", Tuner.restore of a URI and DurableTrainable."""
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import urllib.request

import pytest

import tunec as tune
from tunec import _sync_plan
from run_helpers import HANG_S, run, wait_for


def _files(root):
    found = set()
    for dirpath, _, files in os.walk(root):
        for name in files:
            found.add(os.path.relpath(os.path.join(dirpath, name), root))
    return found


def _checkpointing(config, checkpoint_dir=None):
    for step in range(3):
        with tune.checkpoint_dir(step=step) as d:
            with open(os.path.join(d, "state.json"), "w") as f:
                json.dump({"step": step}, f)
        tune.report(loss=float(config["x"] - step))


def _results_dir(monkeypatch, path):
    """Where a storage_path URI's local copy goes (TUNE_RESULT_DIR, read at import)."""
    import tunec.experiment
    monkeypatch.setattr(tunec.experiment, "DEFAULT_RESULTS_DIR", str(path))


@pytest.fixture
def fast_backoff(monkeypatch):
    monkeypatch.setattr(_sync_plan, "BACKOFF_S", 0.01)


# -- a file:// target ---------------------------------------------------------

def test_upload_dir_file_uri_gets_the_whole_experiment(tmp_path):
    remote = tmp_path / "remote"
    run(_checkpointing, tmp_path / "local", name="exp", config={"x": tune.grid_search([1, 2])},
        upload_dir="file://" + str(remote))
    local_files = _files(tmp_path / "local" / "exp")
    remote_files = _files(remote / "exp")
    assert any(f.endswith("result.json") for f in remote_files)
    assert any(os.sep + "checkpoint_000002" + os.sep in f or "checkpoint_" in f
               for f in remote_files)
    assert local_files <= remote_files
    for rel in local_files:
        if rel.endswith("result.json"):
            assert (remote / "exp" / rel).read_bytes() == (tmp_path / "local" / "exp" /
                                                           rel).read_bytes()


def test_sync_config_upload_dir_and_storage_path_uri(tmp_path, monkeypatch):
    _results_dir(monkeypatch, tmp_path / "cache")
    remote = tmp_path / "remote"
    tune.run(_checkpointing, name="a", config={"x": 1}, verbose=0,
             local_dir=str(tmp_path / "local"),
             sync_config=tune.SyncConfig(upload_dir="file://" + str(remote)))
    assert any(f.endswith("result.json") for f in _files(remote / "a"))
    # storage_path as a URI: the local copy goes to TUNE_RESULT_DIR.
    tune.run(_checkpointing, name="b", config={"x": 1}, verbose=0,
             storage_path="file://" + str(remote))
    assert _files(tmp_path / "cache" / "b") and \
        _files(tmp_path / "cache" / "b") <= _files(remote / "b")


# -- templates and functions --------------------------------------------------

def test_sync_template_runs_with_source_and_target(tmp_path):
    remote = tmp_path / "remote dir"          # a space: the paths are shell-quoted
    run(_checkpointing, tmp_path / "local", name="exp", config={"x": 1},
        upload_dir=str(remote), sync_to_cloud="mkdir -p {target} && cp -R {source}/. {target}")
    assert _files(tmp_path / "local" / "exp") <= _files(remote / "exp")


def test_sync_function_is_called_periodically_during_the_run(tmp_path):
    remote = tmp_path / "remote"
    calls = []

    def sync_fn(source, target):
        calls.append((source, target))
        shutil.copytree(source, target, dirs_exist_ok=True)

    marker = str(remote / "exp" / "seen")

    def waits_for_a_sync(config):
        tune.report(step=0)
        wait_for(lambda: os.path.exists(marker) or os.path.isdir(os.path.dirname(marker)),
                 "a periodic sync while the trial runs")
        tune.report(step=1)

    run(waits_for_a_sync, tmp_path / "local", name="exp",
        sync_config=tune.SyncConfig(upload_dir=str(remote), syncer=sync_fn, sync_period=0.2))
    assert len(calls) >= 2          # at least one periodic, and the final one
    assert all(c == (str(tmp_path / "local" / "exp"), str(remote / "exp")) for c in calls)
    trial_dirs = [d for d in os.listdir(remote / "exp") if d.startswith("waits_for")]
    rows = (remote / "exp" / trial_dirs[0] / "result.json").read_text().splitlines()
    assert len(rows) == 2           # the final sync has the last result


def test_sync_on_checkpoint_uploads_each_checkpoint(tmp_path):
    remote = tmp_path / "remote"

    def checkpoints_then_waits(config, checkpoint_dir=None):
        with tune.checkpoint_dir(step=0) as d:
            with open(os.path.join(d, "state.json"), "w") as f:
                f.write("{}")
        tune.report(step=0)
        # sync_period is far away: only the checkpoint can trigger this sync.
        wait_for(lambda: any("state.json" in f for f in _files(remote)),
                 "the checkpoint-triggered sync")
        tune.report(step=1)

    run(checkpoints_then_waits, tmp_path / "local", name="exp",
        sync_config=tune.SyncConfig(upload_dir="file://" + str(remote), sync_period=HANG_S * 10))
    assert any("state.json" in f for f in _files(remote / "exp"))


# -- failures -----------------------------------------------------------------

def test_a_failing_sync_is_logged_retried_and_never_fatal(tmp_path, fast_backoff, caplog):
    calls = []

    def broken(source, target):
        calls.append(source)
        raise OSError("the bucket is on fire")

    caplog.set_level(logging.WARNING, logger="tunec.syncer")
    analysis = run(_checkpointing, tmp_path / "local", name="exp", config={"x": 1},
                   sync_config=tune.SyncConfig(upload_dir=str(tmp_path / "r"), syncer=broken))
    assert analysis.trials[0].status == "TERMINATED"
    assert len(calls) == _sync_plan.FINAL_TRIES       # the final sync, retried
    assert "the bucket is on fire" in caplog.text and "final sync" in caplog.text
    trial_dir = analysis.trials[0].logdir
    assert len(open(os.path.join(trial_dir, "result.json")).read().splitlines()) == 3


def test_a_flaky_sync_succeeds_on_retry(tmp_path, fast_backoff):
    remote = tmp_path / "remote"
    calls = []

    def flaky(source, target):
        calls.append(source)
        if len(calls) < 3:
            raise OSError("try again")
        shutil.copytree(source, target, dirs_exist_ok=True)

    run(_checkpointing, tmp_path / "local", name="exp", config={"x": 1},
        sync_config=tune.SyncConfig(upload_dir=str(remote), syncer=flaky))
    assert len(calls) == 3
    assert _files(tmp_path / "local" / "exp") <= _files(remote / "exp")


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(upload_dir="/tmp/x", sync_to_cloud="cp {source} /x"), ValueError,
     "missing '{target}'"),
    (dict(upload_dir="/tmp/x", sync_to_cloud="cp /x {target}"), ValueError,
     "missing '{source}'"),
    (dict(upload_dir="/not/a/uri"), ValueError, "upload_dir="),
    (dict(sync_config={"upload_dir": "file:///tmp"}), TypeError, "sync_config"),
    (dict(sync_to_cloud="cp {source} {target}"), ValueError, "upload_dir"),
    (dict(upload_dir="file:///a", storage_path="file:///b"), ValueError, "storage_path"),
])
def test_bad_sync_arguments_fail_before_any_trial(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        run(_checkpointing, tmp_path / "local", name="exp", config={"x": 1}, **kwargs)
    assert not (tmp_path / "local" / "exp").exists()


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(sync_period=-1), ValueError, "sync_period"),
    (dict(sync_timeout="x"), ValueError, "sync_timeout"),
    (dict(syncer="no placeholders"), ValueError, "missing '{source}'"),
    (dict(syncer=42), TypeError, "SyncConfig\\(syncer\\)"),
])
def test_sync_config_checks_its_fields(kwargs, error, match):
    with pytest.raises(error, match=match):
        tune.SyncConfig(**kwargs)


# -- resume="REMOTE" ----------------------------------------------------------

def test_resume_remote_downloads_the_experiment(tmp_path):
    remote = "file://" + str(tmp_path / "remote")
    run(_checkpointing, tmp_path / "local", name="exp", config={"x": tune.grid_search([1, 2])},
        upload_dir=remote)
    shutil.rmtree(tmp_path / "local")           # the local copy is gone
    analysis = run(_checkpointing, tmp_path / "local", name="exp",
                   config={"x": tune.grid_search([1, 2])}, upload_dir=remote, resume="REMOTE")
    assert sorted(t.status for t in analysis.trials) == ["TERMINATED", "TERMINATED"]
    assert sorted(t.last_result["loss"] for t in analysis.trials) == [-1.0, 0.0]
    assert not [d for d in os.listdir(tmp_path) if d.startswith(".local")]   # no staging left


def test_resume_remote_with_nothing_there_leaves_the_local_copy(tmp_path):
    run(_checkpointing, tmp_path / "local", name="exp", config={"x": 1})
    before = _files(tmp_path / "local" / "exp")
    with pytest.raises(tune.TuneError, match="resume from"):
        run(_checkpointing, tmp_path / "local", name="exp", config={"x": 1},
            upload_dir="file://" + str(tmp_path / "empty"), resume="REMOTE")
    assert _files(tmp_path / "local" / "exp") == before


# -- DurableTrainable ---------------------------------------------------------

class _Durable(tune.DurableTrainable):
    def setup(self, config):
        self.count = 0

    def step(self):
        self.count += 1
        return {"count": self.count}

    def save_checkpoint(self, checkpoint_dir):
        with open(os.path.join(checkpoint_dir, "count"), "w") as f:
            f.write(str(self.count))

    def load_checkpoint(self, checkpoint_dir):
        with open(os.path.join(checkpoint_dir, "count")) as f:
            self.count = int(f.read())


def test_durable_trainable_uploads_each_checkpoint(tmp_path):
    remote = tmp_path / "remote"
    synced = []       # the experiment syncer does nothing: uploads are the trainable's own
    analysis = run(_Durable, tmp_path / "local", name="exp", stop={"training_iteration": 3},
                   checkpoint_freq=1,
                   sync_config=tune.SyncConfig(upload_dir="file://" + str(remote),
                                               syncer=lambda s, t: synced.append(t)))
    trial_dir = os.path.basename(analysis.trials[0].logdir)
    counts = sorted(p for p in _files(remote / "exp" / trial_dir) if p.endswith("count"))
    assert len(counts) == 3 and synced
    last = remote / "exp" / trial_dir / counts[-1]
    assert last.read_text() == "3"


def test_durable_trainable_downloads_a_missing_checkpoint(tmp_path, monkeypatch):
    import tunec.trainable
    monkeypatch.setattr(tunec.trainable, "DEFAULT_RESULTS_DIR", str(tmp_path / "logs"))
    remote = "file://" + str(tmp_path / "remote")
    trainable = _Durable(remote, {})
    trainable.train()
    trainable.train()
    path = trainable.save()
    shutil.rmtree(path)                       # the local copy is lost
    trainable.train()
    trainable.restore(path)
    assert trainable.count == 2


# -- a real S3-compatible server (moto) and fsspec -------------------------------

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    pytest.importorskip("pyarrow.fs")
    boto3 = pytest.importorskip("boto3")
    moto_server = shutil.which("moto_server", path=os.path.dirname(sys.executable))
    if moto_server is None:
        pytest.skip("moto[server] is not installed")
    port = _free_port()
    proc = subprocess.Popen([moto_server, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def up():
        try:
            return urllib.request.urlopen("http://127.0.0.1:{}/".format(port), timeout=5)
        except OSError:
            return None
    try:
        wait_for(up, "moto's S3 server", proc=proc)
        env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_DEFAULT_REGION": "us-east-1"}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        client = boto3.client("s3", endpoint_url="http://127.0.0.1:{}".format(port),
                              region_name="us-east-1")
        client.create_bucket(Bucket="tunec")
        yield client, "?endpoint_override=127.0.0.1:{}&scheme=http&region=us-east-1".format(port)
    finally:
        proc.terminate()
        proc.wait()
        for k, v in locals().get("saved", {}).items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _keys(client, prefix):
    pages = client.get_paginator("list_objects_v2").paginate(Bucket="tunec", Prefix=prefix)
    return {o["Key"][len(prefix):] for page in pages for o in page.get("Contents", [])}


def test_storage_path_s3_uploads_to_the_server(tmp_path, monkeypatch, s3_server):
    client, query = s3_server
    _results_dir(monkeypatch, tmp_path / "cache")
    tune.run(_checkpointing, name="exp", config={"x": 1}, verbose=0,
             storage_path="s3://tunec/runs" + query)
    local = {p.replace(os.sep, "/") for p in _files(tmp_path / "cache" / "exp")}
    assert local and local <= _keys(client, "runs/exp/")
    state = [k for k in local if k.startswith("experiment_state")]
    body = client.get_object(Bucket="tunec", Key="runs/exp/" + state[0])["Body"].read()
    assert body == (tmp_path / "cache" / "exp" / state[0]).read_bytes()


def test_tuner_restore_from_s3(tmp_path, monkeypatch, s3_server):
    client, query = s3_server
    _results_dir(monkeypatch, tmp_path / "cache")
    tuner = tune.Tuner(_checkpointing, param_space={"x": tune.grid_search([1, 2])},
                       run_config=tune.RunConfig(name="tuned", storage_path="s3://tunec/t" + query,
                                                 verbose=0))
    assert tuner.fit().num_errors == 0
    shutil.rmtree(tmp_path / "cache")
    restored = tune.Tuner.restore("s3://tunec/t/tuned" + query, _checkpointing)
    grid = restored.get_results()
    assert len(grid) == 2 and sorted(r.metrics["loss"] for r in grid) == [-1.0, 0.0]
    assert (tmp_path / "cache" / "tuned").is_dir()


def test_fsspec_is_used_where_pyarrow_cannot_reach(tmp_path):
    fsspec = pytest.importorskip("fsspec")
    run(_checkpointing, tmp_path / "local", name="exp", config={"x": 1},
        upload_dir="memory://tunec-test")
    fs = fsspec.filesystem("memory")
    uploaded = {p.split("/exp/", 1)[1] for p in fs.find("/tunec-test/exp")}
    assert {p.replace(os.sep, "/") for p in _files(tmp_path / "local" / "exp")} <= uploaded
