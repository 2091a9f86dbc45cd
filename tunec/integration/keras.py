"""Keras report callbacks (``ray.tune.integration.keras``, 1.x;
``ray.air.integrations.keras.ReportCheckpointCallback``, 2.x): inside a
function trainable, a Keras callback that reports the epoch's (or batch's)
logs to Tune, and one that also saves the model as a checkpoint.

Works with Keras 3 on any backend and with ``tf.keras``; it imports Keras
only when a callback is made, so set ``KERAS_BACKEND`` before that.
"""
import os

__all__ = ["TuneReportCallback", "TuneReportCheckpointCallback", "ReportCheckpointCallback"]

_HOOKS = ("batch_begin", "batch_end", "epoch_begin", "epoch_end", "train_batch_begin",
          "train_batch_end", "test_batch_begin", "test_batch_end", "predict_batch_begin",
          "predict_batch_end", "train_begin", "train_end", "test_begin", "test_end",
          "predict_begin", "predict_end")


def _keras_callback_class():
    try:
        import keras
        return keras.callbacks.Callback
    except ImportError:
        from tensorflow import keras
        return keras.callbacks.Callback


def _check_on(on, where):
    on = [on] if isinstance(on, str) else list(on)
    for hook in on:
        if hook not in _HOOKS:
            raise ValueError("{}(on={!r}): expected one of {}".format(where, hook, list(_HOOKS)))
    return on


def _metrics(metrics, logs, where):
    """What to report: every log entry, or ``metrics`` (a name, a list, or a
    {tune name: keras name} dict). A missing Keras metric is an error naming it."""
    logs = logs or {}
    if metrics is None:
        wanted = {k: k for k in logs}
    elif isinstance(metrics, str):
        wanted = {metrics: metrics}
    elif isinstance(metrics, dict):
        wanted = dict(metrics)
    else:
        wanted = {m: m for m in metrics}
    report = {}
    for tune_name, keras_name in wanted.items():
        if keras_name not in logs:
            raise ValueError("{}: metric {!r} is not in Keras' logs (have {})".format(
                where, keras_name, sorted(logs)))
        value = logs[keras_name]
        report[tune_name] = float(value) if hasattr(value, "__float__") else value
    return report


def _make(name, base, checkpoint):
    def __init__(self, metrics=None, filename="model.keras", on="epoch_end",
                 frequency=1, *, checkpoint_on=None, report_metrics_on=None):
        # checkpoint_on / report_metrics_on: 2.x ReportCheckpointCallback's names.
        base.__init__(self)
        self._tune_metrics = metrics
        self._tune_on = _check_on(report_metrics_on or on, name)
        self._tune_save_on = _check_on(checkpoint_on or report_metrics_on or on, name) \
            if checkpoint else []
        if not isinstance(frequency, int) or isinstance(frequency, bool) or frequency < 1:
            raise ValueError("{}(frequency=...): expected an int >= 1, got {!r}".format(
                name, frequency))
        self._tune_filename = filename
        self._tune_frequency = frequency
        self._tune_saves = 0

    def _handle(self, hook, logs):
        if hook in self._tune_save_on:
            self._tune_saves += 1
            if self._tune_saves % self._tune_frequency == 0:
                from tunec.checkpoint import checkpoint_dir
                with checkpoint_dir(step=self._tune_saves) as directory:
                    self.model.save(os.path.join(directory, self._tune_filename))
        if hook in self._tune_on:
            from tunec import session
            session.report(**_metrics(self._tune_metrics, logs, name))

    namespace = {"__init__": __init__, "_handle": _handle,
                 "__doc__": "Reports Keras logs to Tune{}.".format(
                     " and saves the model as a checkpoint" if checkpoint else "")}
    for hook in _HOOKS:
        def method(self, *args, _hook=hook, logs=None, **kwargs):
            if logs is None and args and isinstance(args[-1], dict):
                logs = args[-1]
            self._handle(_hook, logs)
        namespace["on_" + hook] = method
    return type(name, (base,), namespace)


_classes = {}


def __getattr__(name):
    """The classes are built on first use, so importing this module does
    not import Keras (and pick its backend)."""
    if name not in __all__:
        raise AttributeError("module {!r} has no attribute {!r}".format(__name__, name))
    if name not in _classes:
        base = _keras_callback_class()
        _classes["TuneReportCallback"] = _make("TuneReportCallback", base, False)
        _classes["TuneReportCheckpointCallback"] = _make("TuneReportCheckpointCallback", base,
                                                         True)
        _classes["ReportCheckpointCallback"] = _classes["TuneReportCheckpointCallback"]
    return _classes[name]
