"""PyTorch Lightning report callbacks (``ray.tune.integration.
pytorch_lightning``): inside a function trainable, a Lightning callback that
reports ``trainer.callback_metrics`` to Tune at a hook (``validation_end`` by
default), and one that also saves a Lightning checkpoint.

Uses ``lightning.pytorch`` when installed, else ``pytorch_lightning``; either
is imported only when a callback is made. The sanity-check validation pass
is never reported.
"""
import os

__all__ = ["TuneReportCallback", "TuneReportCheckpointCallback"]

_HOOKS = ("init_start", "init_end", "fit_start", "fit_end", "sanity_check_start",
          "sanity_check_end", "epoch_start", "epoch_end", "batch_start", "batch_end",
          "validation_start", "validation_end", "test_start", "test_end", "train_start",
          "train_end", "train_epoch_start", "train_epoch_end", "train_batch_start",
          "train_batch_end", "validation_epoch_start", "validation_epoch_end",
          "validation_batch_start", "validation_batch_end", "test_epoch_start",
          "test_epoch_end", "test_batch_start", "test_batch_end")


def _lightning():
    try:
        import lightning.pytorch as pl
    except ImportError:
        import pytorch_lightning as pl
    return pl


def _check_on(on, where):
    on = [on] if isinstance(on, str) else list(on)
    for hook in on:
        if hook not in _HOOKS:
            raise ValueError("{}(on={!r}): expected one of {}".format(where, hook, list(_HOOKS)))
    return on


def _metrics(metrics, trainer, where):
    logged = trainer.callback_metrics
    if metrics is None:
        wanted = {k: k for k in logged}
    elif isinstance(metrics, str):
        wanted = {metrics: metrics}
    elif isinstance(metrics, dict):
        wanted = dict(metrics)
    else:
        wanted = {m: m for m in metrics}
    report = {}
    for tune_name, pl_name in wanted.items():
        if pl_name not in logged:
            raise ValueError("{}: metric {!r} is not in trainer.callback_metrics (have {})"
                             .format(where, pl_name, sorted(logged)))
        value = logged[pl_name]
        report[tune_name] = value.item() if hasattr(value, "item") else value
    return report


def _make(name, base, checkpoint):
    def __init__(self, metrics=None, filename="checkpoint", on="validation_end"):
        base.__init__(self)
        self._tune_metrics = metrics
        self._tune_on = _check_on(on, name)
        self._tune_filename = filename

    def _handle(self, hook, trainer):
        if hook not in self._tune_on or getattr(trainer, "sanity_checking", False):
            return
        from tunec import session
        report = _metrics(self._tune_metrics, trainer, name)
        if checkpoint:
            from tunec.checkpoint import checkpoint_dir
            with checkpoint_dir(step=trainer.global_step) as directory:
                trainer.save_checkpoint(os.path.join(directory, self._tune_filename))
        session.report(**report)

    namespace = {"__init__": __init__, "_handle": _handle,
                 "__doc__": "Reports trainer.callback_metrics to Tune{}.".format(
                     " and saves a Lightning checkpoint" if checkpoint else "")}
    for hook in _HOOKS:
        def method(self, trainer, *args, _hook=hook, **kwargs):
            self._handle(_hook, trainer)
        namespace["on_" + hook] = method
    return type(name, (base,), namespace)


_classes = {}


def __getattr__(name):
    """Built on first use: importing this module does not import torch."""
    if name not in __all__:
        raise AttributeError("module {!r} has no attribute {!r}".format(__name__, name))
    if name not in _classes:
        base = _lightning().Callback
        _classes["TuneReportCallback"] = _make("TuneReportCallback", base, False)
        _classes["TuneReportCheckpointCallback"] = _make("TuneReportCheckpointCallback", base,
                                                         True)
    return _classes[name]
