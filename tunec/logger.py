"""Result loggers (``ray.tune.logger``, spec §11) and ``pretty_print``.

``JsonLogger``, ``CSVLogger`` and ``TBXLogger`` (and the 1.x
``*LoggerCallback`` classes) are *markers* for tunec's driver: when a user
names one of them, the C engine writes ``result.json`` / ``params.json`` /
``params.pkl``, ``progress.csv`` or the TensorBoard events itself, without
calling Python per result.  The driver recognises them by the class
attribute ``_tunec_builtin`` defined on the class itself (see
``_builtin_kind``); a user subclass is a custom logger and is called through
Python like any other.

The Python methods still work on their own, so ``JsonLogger(config,
logdir).on_result(result)`` writes the same line the engine would: files and
formats as in spec §10.2-§10.5.

Log messages go to the logger named ``ray.tune.logger`` (spec §18.20), so a
Ray user's logging configuration keeps applying.
"""
import json
import math
import numbers
import os

from tunec import _lazylog
from tunec.callback import Callback
from tunec.result import (EXPR_PARAM_FILE, EXPR_PARAM_PICKLE_FILE, EXPR_PROGRESS_FILE,
                          EXPR_RESULT_FILE, TIME_TOTAL_S, TIMESTEPS_TOTAL,
                          TRAINING_ITERATION)

__all__ = [
    "Logger", "NoopLogger", "JsonLogger", "CSVLogger", "TBXLogger", "TFLogger", "UnifiedLogger",
    "DEFAULT_LOGGERS", "pretty_print", "LoggerCallback", "JsonLoggerCallback",
    "CSVLoggerCallback", "TBXLoggerCallback", "LegacyLoggerCallback",
]

logger = _lazylog.getLogger("ray.tune.logger")

# One-time warnings, keyed by name (Ray's log_once).
_logged_once = set()


def _log_once(key):
    if key in _logged_once:
        return False
    _logged_once.add(key)
    return True


# -- encoding -------------------------------------------------------------------
def _is_numpy(value):
    module = type(value).__module__
    return module == "numpy" or module.startswith("numpy.")


class _SafeFallbackEncoder(json.JSONEncoder):
    """JSON encoder of result files (spec §10.2), for values json can't encode.

    NumPy arrays become lists, NumPy integers ints, NumPy floats floats (a
    NaN one becomes the string ``nan_str``); other numbers go through
    int/float; anything else is written as ``str(value)``.  Python floats are
    encoded natively, so their NaN/inf are the bare ``NaN``/``Infinity``.
    NumPy is only imported when a NumPy value is met.
    """

    def __init__(self, nan_str="null", **kwargs):
        super().__init__(**kwargs)
        self.nan_str = nan_str

    def default(self, value):
        try:
            if _is_numpy(value):
                import numpy as np
                if isinstance(value, np.ndarray):
                    return value.tolist()
                if isinstance(value, np.bool_):
                    return bool(value)
                if isinstance(value, np.integer):
                    return int(value)
                if isinstance(value, np.floating):
                    return self.nan_str if np.isnan(value) else float(value)
            elif isinstance(value, numbers.Integral):
                return int(value)
            elif isinstance(value, numbers.Real):
                number = float(value)
                return self.nan_str if math.isnan(number) else number
        except Exception:
            pass
        return str(value)  # give up, just stringify it (ok for logs)


def _flatten_dict(dt, delimiter="/"):
    """Ray's ``flatten_dict``: nested dict keys joined with ``delimiter``.

    Flattened keys are appended after the top-level ones, one nesting level
    per pass, which fixes the column order of ``progress.csv``.  Lists are
    not flattened; an empty nested dict disappears.
    """
    dt = dict(dt)
    while any(isinstance(v, dict) for v in dt.values()):
        remove, add = [], {}
        for key, value in dt.items():
            if isinstance(value, dict):
                for subkey, v in value.items():
                    add[delimiter.join([str(key), str(subkey)])] = v
                remove.append(key)
        dt.update(add)
        for key in remove:
            del dt[key]
    return dt


# -- Logger classes ---------------------------------------------------------------
class Logger:
    """Logging interface (``ray.tune.logger.Logger``).

    ``Logger(config, logdir, trial=None)`` stores its arguments and calls
    ``_init``.  Loggers run on the driver; ``on_result`` gets the nested
    result dict of each reported result.
    """

    def __init__(self, config, logdir, trial=None):
        self.config = config
        self.logdir = logdir
        self.trial = trial
        self._init()

    def _init(self):
        pass

    def on_result(self, result):
        """Given a result, appends it to the existing log."""
        raise NotImplementedError

    def update_config(self, config):
        """Updates the config for logger."""

    def close(self):
        """Releases all resources used by this logger."""

    def flush(self):
        """Flushes all disk writes to storage."""


class NoopLogger(Logger):
    def on_result(self, result):
        pass


class JsonLogger(Logger):
    """``result.json`` (one JSON line per result), ``params.json``, ``params.pkl``.

    Experiments must be logged with JsonLogger for ExperimentAnalysis to
    find their results.
    """

    _tunec_builtin = "json"

    def _init(self):
        os.makedirs(self.logdir, exist_ok=True)
        self.update_config(self.config)
        self.local_out = open(os.path.join(self.logdir, EXPR_RESULT_FILE), "a")

    def on_result(self, result):
        json.dump(result, self.local_out, cls=_SafeFallbackEncoder)
        self.local_out.write("\n")
        self.local_out.flush()

    def write(self, b):
        self.local_out.write(b)

    def flush(self):
        if not self.local_out.closed:
            self.local_out.flush()

    def close(self):
        self.local_out.close()

    def update_config(self, config):
        import cloudpickle
        self.config = config
        with open(os.path.join(self.logdir, EXPR_PARAM_FILE), "w") as f:
            json.dump(self.config, f, indent=2, sort_keys=True, cls=_SafeFallbackEncoder)
        with open(os.path.join(self.logdir, EXPR_PARAM_PICKLE_FILE), "wb") as f:
            cloudpickle.dump(self.config, f)


class CSVLogger(Logger):
    """``progress.csv``: flattened results without ``config`` (spec §10.4).

    The header is the first result's keys and never changes: later keys are
    dropped, missing ones are empty cells.  When the file already exists
    (resume, restart) no second header is written and rows follow the
    existing header.
    """

    _tunec_builtin = "csv"

    def _init(self):
        os.makedirs(self.logdir, exist_ok=True)
        progress_file = os.path.join(self.logdir, EXPR_PROGRESS_FILE)
        self._continuing = os.path.exists(progress_file)
        self._file = open(progress_file, "a")
        self._csv_out = None

    def on_result(self, result):
        tmp = dict(result)
        tmp.pop("config", None)
        result = _flatten_dict(tmp, delimiter="/")
        if self._csv_out is None:
            fields = self._existing_header() if self._continuing else None
            import csv
            self._csv_out = csv.DictWriter(self._file, fields or list(result.keys()))
            if not self._continuing:
                self._csv_out.writeheader()
        fields = self._csv_out.fieldnames
        self._csv_out.writerow({k: v for k, v in result.items() if k in fields})
        self._file.flush()

    def _existing_header(self):
        """The header of the file being continued, so that new rows line up
        with it (Ray used the new first result's key order instead)."""
        import csv
        try:
            with open(os.path.join(self.logdir, EXPR_PROGRESS_FILE), newline="") as f:
                return next(csv.reader(f), None)
        except OSError:
            return None

    def flush(self):
        if not self._file.closed:
            self._file.flush()

    def close(self):
        self._file.close()


_TBX_SCALAR_TYPES = (int, float)
_TBX_NUMPY_SCALARS = ("float32", "float64", "int32", "int64")


def _is_tbx_scalar(value):
    kind = type(value)
    return kind in _TBX_SCALAR_TYPES or (
        _is_numpy(value) and kind.__name__ in _TBX_NUMPY_SCALARS)


def _summary_writer_class():
    """tensorboardX's SummaryWriter, else torch's, else None."""
    try:
        from tensorboardX import SummaryWriter
        return SummaryWriter
    except ImportError:
        pass
    try:
        from torch.utils.tensorboard import SummaryWriter
        return SummaryWriter
    except ImportError:
        return None


def _hparams_function(writer):
    if type(writer).__module__.startswith("tensorboardX"):
        from tensorboardX.summary import hparams
    else:
        from torch.utils.tensorboard.summary import hparams
    return hparams


class TBXLogger(Logger):
    """TensorBoard event files (spec §10.5), through tensorboardX.

    Scalars go under ``ray/tune/<flat key>`` at step ``timesteps_total`` (if
    truthy) else ``training_iteration``; non-empty lists and arrays as
    histograms; hparams once at close.  Without tensorboardX (or
    ``torch.utils.tensorboard``) it writes nothing and says so once.
    """

    _tunec_builtin = "tbx"
    # NoneType is not supported by TensorBoard hparams.
    VALID_HPARAMS = (str, bool, int, float, list)

    def _init(self):
        self._file_writer = None
        self.last_result = None
        writer_class = _summary_writer_class()
        if writer_class is None:
            if _log_once("tbx_missing"):
                logger.info("tensorboardX is not installed: TBXLogger writes no "
                            "TensorBoard files. Run `pip install tensorboardX` "
                            "to get them.")
            return
        self._file_writer = writer_class(self.logdir, flush_secs=30)

    def on_result(self, result):
        if self._file_writer is None:
            return
        step = result.get(TIMESTEPS_TOTAL) or result[TRAINING_ITERATION]
        tmp = dict(result)
        for key in ("config", "pid", "timestamp", TIME_TOTAL_S, TRAINING_ITERATION):
            tmp.pop(key, None)  # not useful to log these
        valid_result = {}
        for attr, value in _flatten_dict(tmp, delimiter="/").items():
            full_attr = "ray/tune/" + attr
            if _is_tbx_scalar(value) and not math.isnan(value):
                valid_result[full_attr] = value
                self._file_writer.add_scalar(full_attr, value, global_step=step)
            elif (type(value) is list and value) or (
                    _is_numpy(value) and getattr(value, "size", 0) > 0
                    and type(value).__name__ == "ndarray"):
                valid_result[full_attr] = value
                try:
                    self._file_writer.add_histogram(full_attr, value, global_step=step)
                except (ValueError, TypeError):
                    # e.g. [[]]: TensorBoard rejects it; warn once and go on.
                    if _log_once("invalid_tbx_value"):
                        logger.warning("You are trying to log an invalid value (%s=%s) via %s!",
                                       full_attr, value, type(self).__name__)
        self.last_result = valid_result
        self._file_writer.flush()

    def flush(self):
        if self._file_writer is not None:
            self._file_writer.flush()

    def close(self):
        if self._file_writer is None:
            return
        if self.trial is not None and getattr(self.trial, "evaluated_params", None) \
                and self.last_result:
            scrubbed = {k: v for k, v in _flatten_dict(self.last_result).items()
                        if _is_tbx_scalar(v)}
            self._try_log_hparams(scrubbed)
        self._file_writer.close()
        self._file_writer = None

    def _try_log_hparams(self, result):
        flat_params = _flatten_dict(self.trial.evaluated_params)
        scrubbed_params = {k: v for k, v in flat_params.items()
                           if isinstance(v, self.VALID_HPARAMS)}
        removed = {k: v for k, v in flat_params.items()
                   if not isinstance(v, self.VALID_HPARAMS)}
        if removed:
            logger.info("Removed the following hyperparameter values when "
                        "logging to tensorboard: %s", str(removed))
        try:
            hparams = _hparams_function(self._file_writer)
            summaries = hparams(hparam_dict=scrubbed_params, metric_dict=result)
            file_writer = getattr(self._file_writer, "file_writer", None) \
                or self._file_writer._get_file_writer()
            for summary in summaries:
                file_writer.add_summary(summary)
        except Exception:
            logger.exception("TensorboardX failed to log hparams. This may be due "
                             "to an unsupported type in the hyperparameter values.")


class TFLogger(TBXLogger):
    """Ray 0.8's TensorFlow summary logger: tunec writes the same TensorBoard
    event files natively, so the name maps to the engine's writer."""

    _tunec_builtin = "tbx"


DEFAULT_LOGGERS = (JsonLogger, CSVLogger, TBXLogger)


def _builtin_kind(obj):
    """"json", "csv" or "tbx" for tunec's own logger classes and logger
    callbacks (a class or an instance), else None.

    Only the class that defines ``_tunec_builtin`` counts: a user subclass
    may override methods, so it runs as a Python logger.
    """
    cls = obj if isinstance(obj, type) else type(obj)
    return vars(cls).get("_tunec_builtin")


class UnifiedLogger(Logger):
    """Fans results out to several loggers (``loggers``, default ``DEFAULT_LOGGERS``).

    A logger class whose construction fails is skipped with a warning.
    ``sync_function`` is accepted for compatibility; tunec syncs nothing here.
    """

    def __init__(self, config, logdir, trial=None, loggers=None, sync_function=None):
        self._logger_cls_list = DEFAULT_LOGGERS if loggers is None else loggers
        if JsonLogger not in self._logger_cls_list and _log_once("JsonLogger"):
            logger.warning("JsonLogger not provided. The ExperimentAnalysis tool is disabled.")
        self._sync_function = sync_function
        super().__init__(config, logdir, trial)

    def _init(self):
        self._loggers = []
        for cls in self._logger_cls_list:
            try:
                self._loggers.append(cls(self.config, self.logdir, self.trial))
            except Exception as exc:
                logger.warning("Could not instantiate %s: %s.",
                               getattr(cls, "__name__", cls), str(exc))

    def on_result(self, result):
        for _logger in self._loggers:
            _logger.on_result(result)

    def update_config(self, config):
        for _logger in self._loggers:
            _logger.update_config(config)

    def close(self):
        for _logger in self._loggers:
            _logger.close()

    def flush(self, sync_down=True):
        for _logger in self._loggers:
            _logger.flush()


# -- 1.x logger callbacks -----------------------------------------------------------
class LoggerCallback(Callback):
    """Experiment-level logger (1.x): override the ``log_trial_*`` methods."""

    def log_trial_start(self, trial):
        """A trial started (or restarted)."""

    def log_trial_restore(self, trial):
        """A trial was restored."""

    def log_trial_save(self, trial):
        """A trial saved a checkpoint."""

    def log_trial_result(self, iteration, trial, result):
        """A trial reported ``result``."""

    def log_trial_end(self, trial, failed=False):
        """A trial finished (``failed`` if with an error)."""

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.log_trial_result(iteration, trial, result)

    def on_trial_start(self, iteration, trials, trial, **info):
        self.log_trial_start(trial)

    def on_trial_restore(self, iteration, trials, trial, **info):
        self.log_trial_restore(trial)

    def on_trial_save(self, iteration, trials, trial, **info):
        self.log_trial_save(trial)

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.log_trial_end(trial, failed=False)

    def on_trial_error(self, iteration, trials, trial, **info):
        self.log_trial_end(trial, failed=True)


class _PerTrialLoggerCallback(LoggerCallback):
    """Runs one ``_logger_class`` instance per trial, keyed by trial id."""

    _logger_class = None

    def __init__(self):
        self._trial_loggers = {}

    def log_trial_start(self, trial):
        self.log_trial_end(trial)
        self._trial_loggers[trial.trial_id] = self._logger_class(trial.config, trial.logdir, trial)

    def log_trial_result(self, iteration, trial, result):
        if trial.trial_id not in self._trial_loggers:
            self.log_trial_start(trial)
        self._trial_loggers[trial.trial_id].on_result(result)

    def log_trial_end(self, trial, failed=False):
        trial_logger = self._trial_loggers.pop(trial.trial_id, None)
        if trial_logger is not None:
            trial_logger.close()


class JsonLoggerCallback(_PerTrialLoggerCallback):
    """``result.json``, ``params.json`` and ``params.pkl`` per trial (1.x)."""

    _tunec_builtin = "json"
    _logger_class = JsonLogger

    def update_config(self, trial, config):
        trial_logger = self._trial_loggers.get(trial.trial_id)
        if trial_logger is not None:
            trial_logger.update_config(config)


class CSVLoggerCallback(_PerTrialLoggerCallback):
    """``progress.csv`` per trial (1.x)."""

    _tunec_builtin = "csv"
    _logger_class = CSVLogger


class TBXLoggerCallback(_PerTrialLoggerCallback):
    """TensorBoard events per trial (1.x)."""

    _tunec_builtin = "tbx"
    _logger_class = TBXLogger


def __getattr__(name):
    # Names that live elsewhere, imported on use: LegacyLoggerCallback with
    # the callback machinery (tunec/_callbacks.py); Ray 0.8's MLflow Logger
    # with the MLflow integration (mlflow is optional).
    if name == "LegacyLoggerCallback":
        from tunec._callbacks import LegacyLoggerCallback
        return LegacyLoggerCallback
    if name == "MLFLowLogger":
        from tunec.integration.mlflow import MLFLowLogger
        return MLFLowLogger
    raise AttributeError("module 'tunec.logger' has no attribute {!r}".format(name))


# -- pretty_print -------------------------------------------------------------------
def _str_keys(value):
    """Copies nested dicts with keys json cannot encode turned into str."""
    if isinstance(value, dict):
        return {(k if isinstance(k, (str, int, float, bool)) or k is None else str(k)):
                _str_keys(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_str_keys(v) for v in value]
    return value


def pretty_print(result):
    """The YAML text of a "Result for <trial>:" block (spec §11.2).

    ``config`` and ``hist_stats`` are removed and top-level ``None`` values
    dropped; the rest goes through the result-file JSON encoding and is
    written as ``yaml.safe_dump(..., default_flow_style=False)`` would.
    """
    out = {k: v for k, v in result.items()
           if v is not None and k not in ("config", "hist_stats")}
    try:
        cleaned = json.dumps(out, cls=_SafeFallbackEncoder)
    except TypeError:  # a key json rejects, e.g. a tuple
        cleaned = json.dumps(_str_keys(out), cls=_SafeFallbackEncoder)
    from tunec._yaml import safe_dump
    return safe_dump(json.loads(cleaned))
