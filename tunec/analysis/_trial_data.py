"""One trial's results as the C loader hands them over (``_tunec.load_*``).

The loader returns, per trial dir, the columns progress.csv would have (spec
§10.4) as NumPy arrays typed once in C: float64, int64, bool, or object.  This
module answers the questions ``Analysis`` asks of them -- a row, the best row
for a metric, a column as numbers -- with NumPy, and builds a pandas
``DataFrame`` only when one is asked for.  Neither NumPy nor pandas is
imported at module import: ``import tunec.analysis`` stays light.
"""
import glob
import math
import numbers
import os

from tunec.result import TRAINING_ITERATION



def require_pandas():
    """pandas, which tunec needs only to build DataFrames (an optional
    dependency): a clear ImportError naming the fix when it is missing."""
    try:
        import pandas
    except ImportError as exc:
        raise ImportError("tunec needs pandas to build DataFrames: pip install pandas "
                          "(or pip install 'tunec[pandas]')") from exc
    return pandas

class TrialData:
    """The loaded results of one trial directory.

    ``source`` is "result.json" or "progress.csv", or None when neither file
    gave a table (the trial counts as unreadable, as an unreadable CSV does
    in Ray).  ``params`` is the params.json contents or None.
    """

    __slots__ = ("logdir", "params", "source", "rows", "columns", "int_columns",
                 "bad_lines", "torn_tail", "_data", "_layout", "_start")

    def __init__(self, raw, layout=None):
        """``raw``: a trial dict of ``_tunec.load_*``, or of
        ``load_*_grouped`` with its ``layout`` (a ``_columns.Layout``), whose
        arrays the trial's ``data`` are views of (made on first use)."""
        self.logdir = raw["logdir"]
        self.params = raw["params"]
        self.source = raw["source"]
        self.rows = raw["rows"]
        self.bad_lines = raw["bad_lines"]
        self.torn_tail = raw["torn_tail"]
        self._layout = layout
        self._start = raw.get("start", 0)
        if layout is not None:
            self.columns = layout.columns
            self.int_columns = layout.int_columns
            self._data = None
        else:
            self.columns = raw.get("columns", [])
            self.int_columns = frozenset(raw.get("int_columns", ()))
            self._data = raw.get("data", {})

    @property
    def data(self):
        """{column name: ndarray of the trial's rows}."""
        if self._data is None:
            self._data = self._layout.views(self._start, self.rows)
        return self._data

    @property
    def layout(self):
        """The trial's column group, or None."""
        return self._layout

    @property
    def start(self):
        """The trial's first row in its layout."""
        return self._start

    @property
    def readable(self):
        return self.source is not None

    def value(self, name, row):
        """Cell ``name`` at ``row`` as a plain Python value: int for integer
        columns, float for numeric ones (NaN where missing), bool for boolean
        ones, else as loaded."""
        col = self.data[name]
        cell = col[row]
        # A NumPy scalar becomes a plain one; an object or str column's
        # cell is one already.
        return cell.item() if col.dtype != object and hasattr(cell, "item") else cell

    def row(self, index):
        """The row at ``index`` (negative counts from the end) as a dict in
        column order."""
        return {name: self.value(name, index) for name in self.columns}

    def numbers(self, name):
        """Column ``name`` as a float64 array (NaN where a cell is missing or
        not a number; booleans count as 0/1 as pandas compares them), or None
        when the trial has no such column."""
        import numpy as np
        col = self.data.get(name)
        if col is None or col.dtype == np.float64:
            return col
        if isinstance(col, np.ndarray) and col.dtype != object:
            return col.astype(np.float64)
        return np.array([float(v) if isinstance(v, numbers.Real) else math.nan for v in col],
                        dtype=np.float64)

    def best_index(self, metric, mode):
        """Row index of the max/min of ``metric`` (the first one on ties, as
        ``idxmax``/``idxmin``), ignoring NaN; None when there is no number."""
        import numpy as np
        col = self.numbers(metric)
        if col is None or col.size == 0 or bool(np.isnan(col).all()):
            return None
        return int(np.nanargmax(col) if mode == "max" else np.nanargmin(col))

    def dataframe(self):
        """The trial's results as a ``pandas.DataFrame`` (the frame
        ``pd.read_csv(progress.csv)`` gives in Ray): the loader's typed
        arrays, handed to pandas as they are."""
        if self._layout is not None:
            return self._layout.trial_frame(self._start, self.rows)
        pd = require_pandas()
        return pd.DataFrame(self.data, columns=self.columns, copy=False)


def checkpoint_paths(logdir):
    """``TrainableUtil.get_checkpoints_paths`` without pandas (spec §2.3):
    ``[(training_iteration, checkpoint_path)]`` for every
    ``checkpoint_<n>/.is_checkpoint`` under ``logdir``, by iteration.

    The checkpoint path is the ``*.tune_metadata`` file's name without that
    suffix; a directory checkpoint (metadata ``.tune_metadata`` inside it) is
    the directory with a trailing separator, the path ``save`` returned.
    Ray's glob misses that hidden file and raises; this finds it.  A dir
    whose suffix is not a number is not a checkpoint of ``save``: skipped.

    The iteration is the metadata's (Ray 1.x): a function's
    ``checkpoint_dir(step=0)`` belongs to the report after it, iteration 1,
    not to the step in its name.  The name's number is the fallback for a
    checkpoint whose metadata cannot be read.
    """
    pairs = []
    for marker in glob.glob(os.path.join(glob.escape(logdir), "checkpoint_*", ".is_checkpoint")):
        chkpt_dir = os.path.dirname(marker)
        suffix = chkpt_dir[chkpt_dir.rfind("_") + 1:]
        if not suffix.isdigit():
            continue
        metadata = sorted(name for name in os.listdir(chkpt_dir)
                          if name.endswith(".tune_metadata"))
        if len(metadata) != 1:
            raise ValueError("{} has zero or more than one tune_metadata.".format(chkpt_dir))
        path = os.path.join(chkpt_dir, metadata[0][:-len(".tune_metadata")])
        pairs.append((_metadata_iteration(os.path.join(chkpt_dir, metadata[0]), int(suffix)),
                      path))
    pairs.sort()
    return pairs


def _metadata_iteration(metadata_file, default):
    import pickle
    try:
        with open(metadata_file, "rb") as f:
            iteration = pickle.load(f).get("iteration")
    except Exception:   # unreadable, not a pickle, not a dict: the name says
        return default
    return iteration if isinstance(iteration, int) else default


def join_checkpoints(pairs, trial, metric):
    """Inner join of ``checkpoint_paths`` with the trial's rows on
    ``training_iteration``: ``[[path, metric value], ...]``."""
    if trial is None or TRAINING_ITERATION not in trial.data:
        return []
    if metric not in trial.data:
        raise KeyError(metric)
    iterations = trial.numbers(TRAINING_ITERATION)
    out = []
    for iteration, path in pairs:
        for row in range(trial.rows):
            if iterations[row] == iteration:
                out.append([path, trial.value(metric, row)])
    return out
