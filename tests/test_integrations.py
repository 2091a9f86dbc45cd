"""Ray's integrations against the real packages (tunec/integration/*):
MLflow (a real file store, read back with MLflow's client), Weights & Biases
(offline mode, read back from the offline run's log), Keras 3 on the JAX
backend and PyTorch Lightning (tiny models, two epochs, through tune.run)."""
import glob
import json
import os
import struct

import pytest

import tunec as tune
from tunec.trial import Trial
from run_helpers import rows, run, wait_for

os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"    # recent MLflow: file stores are opt-in
os.environ.setdefault("KERAS_BACKEND", "jax")     # Keras 3 on JAX: no TensorFlow needed


def _trial(tmp_path, config, trial_id):
    trial = Trial("train", config=config, trial_id=trial_id, local_dir=str(tmp_path))
    trial.logdir = str(tmp_path / trial_id)
    os.makedirs(trial.logdir, exist_ok=True)
    return trial


def _callbacks_supported(tmp_path_factory):
    """Whether tune.run takes callbacks= yet (the callbacks work lands it)."""
    from tunec.callback import Callback
    try:
        run(lambda config: tune.report(x=1), tmp_path_factory.mktemp("probe"),
            callbacks=[Callback()])
    except NotImplementedError:
        return False
    return True


@pytest.fixture(scope="module")
def with_callbacks(tmp_path_factory):
    if not _callbacks_supported(tmp_path_factory):
        pytest.skip("tune.run(callbacks=...) is not supported by this build yet")


# -- MLflow --------------------------------------------------------------------

def _mlflow_client(store):
    from mlflow.tracking import MlflowClient
    return MlflowClient(tracking_uri="file://" + str(store))


def test_mlflow_logger_callback_writes_runs_to_a_file_store(tmp_path):
    pytest.importorskip("mlflow")
    from tunec.integration.mlflow import MLflowLoggerCallback
    store = tmp_path / "mlruns"
    callback = MLflowLoggerCallback(tracking_uri="file://" + str(store),
                                    experiment_name="exp", tags={"team": "tunec"})
    callback.setup()
    good = _trial(tmp_path, {"lr": 0.1, "net": {"width": 4}}, "00000")
    bad = _trial(tmp_path, {"lr": 0.5, "net": {"width": 8}}, "00001")
    for trial in (good, bad):
        callback.on_trial_start(iteration=0, trials=[good, bad], trial=trial)
    for step in (1, 2, 3):
        callback.on_trial_result(iteration=step, trials=[good, bad], trial=good,
                                 result={"training_iteration": step, "loss": 1.0 / step,
                                         "nested": {"acc": step / 10}, "done": False,
                                         "note": "text is not a metric"})
    callback.on_trial_complete(iteration=4, trials=[good, bad], trial=good)
    callback.on_trial_error(iteration=4, trials=[good, bad], trial=bad)

    client = _mlflow_client(store)
    exp = client.get_experiment_by_name("exp")
    runs = {r.data.tags["trial_name"]: r for r in client.search_runs([exp.experiment_id])}
    assert set(runs) == {str(good), str(bad)}
    run_good = runs[str(good)]
    assert run_good.data.params == {"lr": "0.1", "net/width": "4"}
    assert run_good.data.tags["team"] == "tunec"
    history = client.get_metric_history(run_good.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(1, 1.0), (2, 0.5), (3, 1.0 / 3)]
    assert client.get_metric_history(run_good.info.run_id, "nested/acc")[-1].value == 0.3
    assert "note" not in run_good.data.metrics and "done" not in run_good.data.metrics
    assert run_good.info.status == "FINISHED"
    assert runs[str(bad)].info.status == "FAILED"


def _mlflow_mixin_trainable(config):
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    import mlflow
    for step in range(2):
        mlflow.log_metric("score", config["x"] * step, step=step)
        tune.report(score=config["x"] * step)


def test_mlflow_mixin_runs_the_trial_in_an_mlflow_run(tmp_path):
    pytest.importorskip("mlflow")
    from tunec.integration.mlflow import mlflow_mixin
    store = tmp_path / "mlruns"
    analysis = run(mlflow_mixin(_mlflow_mixin_trainable), tmp_path, name="exp",
                   config={"x": tune.grid_search([1, 3]),
                           "mlflow": {"tracking_uri": "file://" + str(store),
                                      "experiment_name": "mixin"}})
    client = _mlflow_client(store)
    exp = client.get_experiment_by_name("mixin")
    runs = client.search_runs([exp.experiment_id])
    assert sorted(r.info.run_name for r in runs) == sorted(str(t) for t in analysis.trials)
    by_x = {r.data.params["x"]: r for r in runs}
    assert set(by_x) == {"1", "3"}
    assert [m.value for m in client.get_metric_history(by_x["3"].info.run_id, "score")] == \
        [0.0, 3.0]
    assert all(r.info.status == "FINISHED" for r in runs)


def _setup_mlflow_trainable(config):
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from tunec.air.integrations.mlflow import setup_mlflow
    mlflow = setup_mlflow(config, tracking_uri=config["store"], experiment_name="two",
                          create_experiment_if_not_exists=True)
    mlflow.log_metric("m", 7.0)
    mlflow.end_run()
    tune.report(done_logging=1)


def test_setup_mlflow_2x(tmp_path):
    pytest.importorskip("mlflow")
    store = "file://" + str(tmp_path / "mlruns")
    run(_setup_mlflow_trainable, tmp_path, name="exp", config={"store": store})
    client = _mlflow_client(tmp_path / "mlruns")
    runs = client.search_runs([client.get_experiment_by_name("two").experiment_id])
    assert len(runs) == 1 and runs[0].data.metrics["m"] == 7.0


def test_mlflow_logger_callback_through_tune_run(tmp_path, with_callbacks):
    pytest.importorskip("mlflow")
    from tunec.integration.mlflow import MLflowLoggerCallback
    store = tmp_path / "mlruns"

    def train(config):
        for step in range(3):
            tune.report(loss=config["x"] - step)

    analysis = run(train, tmp_path, name="exp", config={"x": tune.grid_search([5, 9])},
                   callbacks=[MLflowLoggerCallback(tracking_uri="file://" + str(store),
                                                   experiment_name="e2e")])
    client = _mlflow_client(store)
    runs = client.search_runs([client.get_experiment_by_name("e2e").experiment_id])
    assert sorted(r.data.tags["trial_name"] for r in runs) == sorted(
        str(t) for t in analysis.trials)
    for r in runs:
        losses = [m.value for m in client.get_metric_history(r.info.run_id, "loss")]
        x = float(r.data.params["x"])
        assert losses == [x, x - 1, x - 2] and r.info.status == "FINISHED"


def test_ray08_mlflow_logger_through_tune_run(tmp_path, monkeypatch):
    # Ray 0.8.7's mlflow_example: `from ray.tune.logger import MLFLowLogger`,
    # the experiment named by config["mlflow_experiment_id"].
    pytest.importorskip("mlflow")
    from tunec.logger import DEFAULT_LOGGERS, MLFLowLogger
    store = tmp_path / "mlruns"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "file://" + str(store))
    experiment_id = _mlflow_client(store).create_experiment("ray08")

    def train(config):
        for step in range(3):
            tune.report(loss=config["x"] - step + 0.5, steps=step)

    analysis = run(train, tmp_path, name="exp", loggers=DEFAULT_LOGGERS + (MLFLowLogger,),
                   config={"x": tune.grid_search([5, 9]), "mlflow_experiment_id": experiment_id})
    client = _mlflow_client(store)
    runs = client.search_runs([experiment_id])
    assert sorted(r.data.tags["mlflow.runName"] for r in runs) == sorted(
        str(t) for t in analysis.trials)
    for r in runs:
        x = float(r.data.params["x"])
        history = client.get_metric_history(r.info.run_id, "loss")
        assert [(m.step, m.value) for m in history] == [(1, x + 0.5), (2, x - 0.5),
                                                        (3, x - 1.5)]
        assert "steps" not in r.data.metrics      # Ray 0.8 logs float metrics only
        assert r.info.status == "FINISHED"
    with pytest.raises(Exception, match="ValueError: MLFLowLogger: config.'mlflow_experiment_id'"):
        run(train, tmp_path, name="bad", loggers=(MLFLowLogger,), raise_on_failed_trial=False,
            config={"x": 1, "mlflow_experiment_id": "no-such-experiment"})


# -- Weights & Biases (offline) ----------------------------------------------------

def _wandb_records(run_dir):
    """The protobuf records of an offline run's ``run-<id>.wandb`` log
    (LevelDB log framing: 32 KiB blocks of crc/length/type headers)."""
    from wandb.proto import wandb_internal_pb2
    path = glob.glob(os.path.join(run_dir, "*.wandb"))[0]
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b":W&B"
    pos, block, pending, records = 7, 32768, b"", []
    while pos + 7 <= len(data):
        left = block - pos % block
        if left < 7:
            pos += left
            continue
        _, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        chunk = data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind == 0:
            continue
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
    return records


def _wandb_run(base_dir, run_id):
    run_dirs = glob.glob(os.path.join(str(base_dir), "**", "offline-run-*-" + run_id),
                         recursive=True)
    assert len(run_dirs) == 1, run_dirs
    # wandb's service process writes the log: wait until it holds the run's end.
    records = wait_for(lambda: [r for r in [_wandb_records(run_dirs[0])]
                                if any(x.WhichOneof("record_type") == "exit" for x in r)],
                       "the end of the offline W&B run")[0]
    run = [r.run for r in records if r.WhichOneof("record_type") == "run"][0]
    history = []
    for r in records:
        if r.WhichOneof("record_type") == "history":
            history.append({"/".join(i.nested_key) or i.key: json.loads(i.value_json)
                            for i in r.history.item})
    exits = [r.exit for r in records if r.WhichOneof("record_type") == "exit"]
    config = {u.key: json.loads(u.value_json) for u in run.config.update}
    return run, config, history, exits


def test_wandb_logger_callback_offline(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    from tunec.integration.wandb import WandbLoggerCallback
    monkeypatch.setenv("WANDB_SILENT", "true")
    callback = WandbLoggerCallback(project="tunec-test", group="g", mode="offline",
                                   excludes=["secret"])
    callback.setup()
    trials = [_trial(tmp_path, {"lr": 0.1, "secret": "x"}, "00000"),
              _trial(tmp_path, {"lr": 0.2, "secret": "y"}, "00001")]
    for trial in trials:
        callback.on_trial_start(iteration=0, trials=trials, trial=trial)
    for step in (1, 2):
        for trial in trials:
            callback.on_trial_result(iteration=step, trials=trials, trial=trial,
                                     result={"training_iteration": step,
                                             "loss": trial.config["lr"] * step,
                                             "secret": 1.0})
    callback.on_trial_complete(iteration=3, trials=trials, trial=trials[0])
    callback.on_trial_error(iteration=3, trials=trials, trial=trials[1])
    for trial, exit_code in zip(trials, (0, 1)):
        run_record, config, history, exits = _wandb_run(trial.logdir, trial.trial_id)
        assert run_record.project == "tunec-test" and run_record.run_group == "g"
        assert run_record.display_name == str(trial)
        assert config["lr"] == trial.config["lr"] and "secret" not in config
        assert [h["loss"] for h in history if "loss" in h] == \
            pytest.approx([trial.config["lr"], trial.config["lr"] * 2])
        assert all("secret" not in h for h in history)
        assert [e.exit_code for e in exits] == [exit_code]


def _wandb_mixin_trainable(config):
    import wandb
    for step in range(2):
        wandb.log({"score": config["x"] + step})
        tune.report(score=config["x"] + step)


def test_wandb_mixin_offline_in_the_trial(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    from tunec.integration.wandb import wandb_mixin
    monkeypatch.setenv("WANDB_SILENT", "true")
    analysis = run(wandb_mixin(_wandb_mixin_trainable), tmp_path, name="exp",
                   config={"x": 10, "wandb": {"project": "mixin", "mode": "offline"}})
    trial = analysis.trials[0]
    run_record, config, history, exits = _wandb_run(trial.logdir, trial.trial_id)
    assert run_record.project == "mixin" and config["x"] == 10
    assert [h["score"] for h in history if "score" in h] == [10, 11]


def _ray08_wandb_train(config):
    assert config["wandb"]["project"] == "legacy"      # the Logger leaves the trial's config
    for step in range(2):
        tune.report(loss=config["x"] + step + 0.5, secret=1.0)


def test_ray08_wandb_logger_offline(tmp_path, monkeypatch):
    # Ray 0.8/1.x: loggers=DEFAULT_LOGGERS + (WandbLogger,), settings in config["wandb"].
    pytest.importorskip("wandb")
    from tunec.integration.wandb import WandbLogger
    from tunec.logger import DEFAULT_LOGGERS
    monkeypatch.setenv("WANDB_SILENT", "true")
    analysis = run(_ray08_wandb_train, tmp_path, name="exp",
                   loggers=DEFAULT_LOGGERS + (WandbLogger,),
                   config={"x": tune.grid_search([1, 2]),
                           "wandb": {"project": "legacy", "mode": "offline",
                                     "excludes": ["secret"]}})
    for trial in analysis.trials:
        run_record, config, history, exits = _wandb_run(trial.logdir, trial.trial_id)
        assert run_record.project == "legacy" and config["x"] == trial.config["x"]
        assert "wandb" not in config
        x = trial.config["x"]
        assert [h["loss"] for h in history if "loss" in h] == [x + 0.5, x + 1.5]
        assert all("secret" not in h for h in history)
        assert [e.exit_code for e in exits] == [0]


def test_wandb_trainable_mixin_offline(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    from tunec.integration.wandb import WandbTrainableMixin

    class Logged(WandbTrainableMixin, tune.Trainable):
        def step(self):
            assert "wandb" not in self.config           # Ray's mixin removes it
            self.wandb.log({"score": self.config["x"] * self.iteration})
            return {"score": self.config["x"]}

    monkeypatch.setenv("WANDB_SILENT", "true")
    analysis = run(Logged, tmp_path, name="exp", stop={"training_iteration": 2},
                   config={"x": 3, "wandb": {"project": "mixin-cls", "mode": "offline"}})
    trial = analysis.trials[0]
    run_record, config, history, exits = _wandb_run(trial.logdir, trial.trial_id)
    assert run_record.project == "mixin-cls" and config["x"] == 3 and "wandb" not in config
    assert [h["score"] for h in history if "score" in h] == [0, 3]
    assert [e.exit_code for e in exits] == [0]
    with pytest.raises(ValueError, match="must be mixed into a tune.Trainable"):
        type("NotATrainable", (WandbTrainableMixin,), {})({"wandb": {}})


def test_wandb_mixin_is_switched_off_by_empty_mixins(tmp_path):
    # Ray's examples mock W&B by setting fn.__mixins__ = (): no wandb.init then.
    pytest.importorskip("wandb")
    from tunec.integration.wandb import WandbTrainableMixin, wandb_mixin

    def train(config):
        import wandb
        tune.report(active=wandb.run is not None)

    decorated = wandb_mixin(train)
    assert decorated.__mixins__ == (WandbTrainableMixin,)
    decorated.__mixins__ = ()
    analysis = run(decorated, tmp_path, name="exp",
                   config={"wandb": {"project": "never", "mode": "offline"}})
    assert analysis.trials[0].last_result["active"] is False
    assert not glob.glob(str(tmp_path / "**" / "wandb"), recursive=True)


# -- Keras 3 (JAX backend) ---------------------------------------------------------

def _keras_trainable(config):
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import numpy as np
    import keras
    from tunec.integration.keras import TuneReportCallback, TuneReportCheckpointCallback
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(config["lr"]), loss="mse")
    # One trial (Keras is slow to import): two epochs that only report, then
    # two that also checkpoint.
    model.fit(x, y, epochs=2, batch_size=16, verbose=0,
              callbacks=[TuneReportCallback({"keras_loss": "loss"})])
    tune.report(phase_done=1)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0,
              callbacks=[TuneReportCheckpointCallback({"keras_loss": "loss"})])


def test_keras_report_and_checkpoint_callbacks(tmp_path):
    pytest.importorskip("keras")
    pytest.importorskip("jax")
    analysis = run(_keras_trainable, tmp_path, name="exp", config={"lr": 0.05})
    trial_rows = rows(analysis.trials[0])
    assert [("keras_loss" in r, "phase_done" in r) for r in trial_rows] == \
        [(True, False)] * 2 + [(False, True)] + [(True, False)] * 2
    assert all(isinstance(r["keras_loss"], float) for r in trial_rows if "keras_loss" in r)
    saved = sorted(glob.glob(os.path.join(analysis.trials[0].logdir, "checkpoint_*",
                                          "model.keras")))
    assert len(saved) == 2           # only the second fit saved
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras
    model = keras.models.load_model(saved[-1])
    assert model.layers[-1].get_weights()[0].shape == (3, 1)


def test_keras_callbacks_check_their_arguments():
    pytest.importorskip("keras")
    from tunec.integration import keras as tune_keras
    with pytest.raises(ValueError, match="on='epoch_finished'"):
        tune_keras.TuneReportCallback(on="epoch_finished")
    from tunec.air.integrations.keras import ReportCheckpointCallback
    assert ReportCheckpointCallback is tune_keras.TuneReportCheckpointCallback


# -- PyTorch Lightning ------------------------------------------------------------

def _lightning_trainable(config):
    import torch
    from tunec.integration import pytorch_lightning as tune_pl
    try:
        import lightning.pytorch as pl
    except ImportError:
        import pytorch_lightning as pl

    class Linear(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(3, 1)

        def training_step(self, batch, _):
            x, y = batch
            return torch.nn.functional.mse_loss(self.layer(x), y)

        def validation_step(self, batch, _):
            x, y = batch
            self.log("val_loss", torch.nn.functional.mse_loss(self.layer(x), y))

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.05)

    torch.manual_seed(0)
    x = torch.randn(32, 3)
    data = torch.utils.data.TensorDataset(x, x @ torch.tensor([[1.0], [-2.0], [0.5]]))
    loader = torch.utils.data.DataLoader(data, batch_size=16)
    # One trial (torch is slow to import): a model trained for two epochs
    # that only report, then a fresh one for two epochs that also checkpoint.
    for callback in (tune_pl.TuneReportCallback({"loss": "val_loss"}),
                     tune_pl.TuneReportCheckpointCallback({"loss": "val_loss"},
                                                          filename="pl.ckpt")):
        trainer = pl.Trainer(max_epochs=2, callbacks=[callback], logger=False,
                             enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False, accelerator="cpu", devices=1)
        trainer.fit(Linear(), loader, loader)


def test_lightning_report_and_checkpoint_callbacks(tmp_path):
    torch = pytest.importorskip("torch")
    try:
        import lightning.pytorch  # noqa: F401
    except ImportError:
        pytest.importorskip("pytorch_lightning")
    analysis = run(_lightning_trainable, tmp_path, name="exp")
    losses = [r["loss"] for r in rows(analysis.trials[0])]
    # two per fit, the sanity-check pass unreported; each model learns
    assert len(losses) == 4 and losses[1] < losses[0] and losses[3] < losses[2]
    saved = sorted(glob.glob(os.path.join(analysis.trials[0].logdir, "checkpoint_*",
                                          "pl.ckpt")))
    assert len(saved) == 2           # only the second fit saved
    state = torch.load(saved[-1], weights_only=False)
    assert state["epoch"] == 1 and "layer.weight" in state["state_dict"]
