"""``Result``: the outcome of one trial of a ``Tuner`` (Ray 2.x
``ray.train.Result``; ``ray.air.result.Result`` in 2.0-2.6).

Built by ``ResultGrid`` from the trial the engine reported and the files the
trial left; plain data afterwards.
"""
import dataclasses
import math
import numbers
import os
from typing import Any, Dict, List, Optional, Tuple

from tunec.checkpoint import Checkpoint
from tunec.result import AUTO_RESULT_KEYS, TRAINING_ITERATION

__all__ = ["Result"]


@dataclasses.dataclass
class Result:
    """One trial's last metrics, newest checkpoint, error and directory.

    ``metrics`` is the last result the trial reported (with its ``config``);
    ``checkpoint`` its newest checkpoint as a ``tune.Checkpoint`` (None without
    one); ``error`` the trial's exception when it ended in ERROR;
    ``metrics_dataframe`` every reported row; ``best_checkpoints`` the kept
    checkpoints with the result of their iteration, in Ray's order: by
    score, worst first and best last, when the CheckpointConfig has a
    ``checkpoint_score_attribute`` (NaN or missing scores first), else
    oldest first.
    """

    metrics: Optional[Dict[str, Any]]
    checkpoint: Optional[Checkpoint]
    error: Optional[BaseException]
    path: Optional[str]
    metrics_dataframe: Optional[Any] = None
    best_checkpoints: Optional[List[Tuple[Checkpoint, Dict[str, Any]]]] = None
    _config: Optional[Dict[str, Any]] = dataclasses.field(default=None, repr=False)

    @property
    def config(self):
        """The trial's config: the one in its last result, or the one it was
        started with when it reported nothing."""
        if self.metrics and "config" in self.metrics:
            return self.metrics["config"]
        return self._config

    @property
    def log_dir(self):
        """The 2.0-2.6 name of ``path``."""
        return self.path

    @property
    def filesystem(self):
        return None        # always the local file system

    def __repr__(self):
        shown = {k: v for k, v in (self.metrics or {}).items() if k not in AUTO_RESULT_KEYS}
        fields = ["metrics={!r}".format(shown), "path={!r}".format(self.path)]
        if self.checkpoint is not None:
            fields.append("checkpoint={!r}".format(self.checkpoint))
        if self.error is not None:
            fields.append("error={!r}".format(self.error))
        return "Result(\n  {}\n)".format(",\n  ".join(fields))

    @classmethod
    def from_path(cls, path):
        """The Result of a trial directory on disk (Ray 2.x ``Result.from_path``)."""
        from tunec.analysis import Analysis
        path = os.path.abspath(os.path.expanduser(os.fspath(path)))
        analysis = Analysis(path)
        frames = analysis.trial_dataframes
        frame = frames.get(path)
        if frame is None:
            raise ValueError("{} holds no results of a trial".format(path))
        metrics = _last_row(path)
        checkpoints = _checkpoints(path)
        return cls(metrics=metrics, checkpoint=checkpoints[-1][0] if checkpoints else None,
                   error=_error(path, None), path=path, metrics_dataframe=frame,
                   best_checkpoints=checkpoints)


def _last_row(logdir):
    import json
    last = None
    try:
        with open(os.path.join(logdir, "result.json")) as f:
            for line in f:
                if line.strip():
                    last = line
        return json.loads(last) if last else {}
    except (OSError, ValueError):
        return {}


def _checkpoints(logdir, score_attr=None):
    """[(Checkpoint, result at its iteration)] of the checkpoints on disk,
    oldest first; by ``score_attr`` (0.8 spelling: "min-<attr>" when lower
    is better) when one is given, as Ray 2.x's checkpoint manager keeps them."""
    from tunec.analysis._trial_data import checkpoint_paths
    from tunec.trial import _result_at
    out = []
    for iteration, path in checkpoint_paths(logdir):
        out.append((Checkpoint(checkpoint_dir(logdir, path)), _result_at(logdir, iteration)))
    if score_attr and score_attr not in (TRAINING_ITERATION, "min-" + TRAINING_ITERATION):
        out.sort(key=_score_key(score_attr))     # stable: equal scores stay oldest first
    return out


def _score_key(score_attr):
    """Ray's ``_CheckpointManager._get_checkpoint_score``: ascending, so the
    best checkpoint is last; a NaN or missing score sorts before any number."""
    from tunec.utils import flatten_dict
    sign, attr = (-1.0, score_attr[4:]) if score_attr.startswith("min-") else (1.0, score_attr)

    def key(pair):
        value = flatten_dict(pair[1] or {}).get(attr)
        if not isinstance(value, numbers.Number) or isinstance(value, bool) or \
                math.isnan(value):
            return (False, 0.0)
        return (True, sign * value)
    return key


def checkpoint_dir(logdir, path):
    """The ``checkpoint_<n>`` directory a checkpoint path lies in (a class
    trainable's checkpoint may be a file inside it)."""
    path = os.path.normpath(path)
    logdir = os.path.normpath(logdir)
    while os.path.dirname(path) not in (logdir, path):
        path = os.path.dirname(path)
    return path


def _error(logdir, status, error_file=None):
    """The trial's exception: error.pkl when it could be pickled, else the
    text of error.txt in a TuneError (Ray: ``get_pickled_error() or get_error()``)."""
    if status == "TERMINATED":
        return None
    pkl = os.path.join(logdir, "error.pkl")
    if os.path.exists(pkl):
        try:
            import cloudpickle
            with open(pkl, "rb") as f:
                exc = cloudpickle.load(f)
            if isinstance(exc, BaseException):
                return exc
        except Exception:   # noqa: B902 - a class not importable here: fall back to the text
            pass
    txt = error_file or os.path.join(logdir, "error.txt")
    if os.path.exists(txt):
        from tunec.error import TuneError
        with open(txt, errors="replace") as f:
            return TuneError(f.read())
    return None
