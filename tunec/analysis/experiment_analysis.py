"""``Analysis`` and ``ExperimentAnalysis`` (``ray.tune.analysis``, spec §10.7, §10.8).

The files are read by the C loader (``_tunec.load_experiment`` /
``load_trials``, src/engine/analysis.c) with the GIL released: per trial the
columns progress.csv would have, taken from result.json when it has rows,
else from progress.csv.  Everything here works on those columns; pandas is
imported only by the methods that return DataFrames.

Behaviour is Ray 0.8.5's, with the 1.x additions (``default_metric`` /
``default_mode``, ``best_*`` properties, ``results``, a directory accepted by
``ExperimentAnalysis``).  Where Ray would crash on a damaged experiment this
module skips and warns instead:

* a trial whose results cannot be read is left out of ``trial_dataframes``
  (Ray: an unreadable progress.csv), and a trial with no rows gives no row;
* a torn last line of result.json is ignored (DESIGN §4);
* a trial without ``params.json`` still gets its ``logdir`` column.

Log messages go to Ray's logger name (spec §18.20), so a Ray user's logging
configuration keeps applying.
"""
import copy
import gc
import json
import logging
import math
import os

from tunec.analysis import _cache
from tunec.analysis._columns import picked_rows_frame
from tunec.analysis._trial_data import (TrialData, checkpoint_paths, join_checkpoints,
                                        require_pandas)
from tunec.error import TuneError
from tunec.result import CONFIG_PREFIX, TRAINING_ITERATION
from tunec.resources import Resources
from tunec.trial import Location, Trial

logger = logging.getLogger("ray.tune.analysis.experiment_analysis")

_MODES = ("max", "min")
_SCOPES = ("all", "last", "avg", "last-5-avg", "last-10-avg")


def _load_grouped(fn, arg):
    """Runs a ``_tunec`` loader: ``(raws, groups, stats)``."""
    from tunec import _tunec
    stats = {}
    # The load makes few containers but large object arrays: a collection
    # triggered meanwhile would walk every cell of them, for nothing.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        raws, groups = getattr(_tunec, fn + "_grouped")(arg, stats=stats)
    finally:
        if gc_was_enabled:
            gc.enable()
    return raws, groups, stats


def _load(fn, arg, loaded=None):
    """The TrialData of a ``_tunec`` loader's output (``loaded``, or a run of
    it); logs what it had to skip."""
    from tunec.analysis._columns import Layout
    raws, groups, stats = loaded if loaded is not None else _load_grouped(fn, arg)
    layouts = [Layout(g) for g in groups]
    trials = [TrialData(raw, None if raw["group"] is None else layouts[raw["group"]])
              for raw in raws]
    if stats["skipped"]:
        logger.debug("Couldn't read results from %d paths", stats["skipped"])
    if stats["bad_lines"]:
        logger.debug("Skipped %d invalid result.json lines", stats["bad_lines"])
    return trials


def _copy_json(value):
    """A deep copy of a value params.json gave (dicts, lists and immutable
    leaves), without ``copy.deepcopy``'s memo; anything else (a decoded
    cloudpickle object) is copied by ``copy.deepcopy``."""
    kind = type(value)
    if kind is dict:
        return {key: _copy_json(item) for key, item in value.items()}
    if kind is list:
        return [_copy_json(item) for item in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    return copy.deepcopy(value)


def _is_nan_or_inf(value):
    try:
        return math.isnan(value) or math.isinf(value)
    except TypeError:
        return False


class Analysis:
    """Analyzes all results in a directory (walked recursively).

    Args:
        experiment_dir (str): a directory holding trial dirs (any dir with a
            result.json or progress.csv), possibly of several experiments.
        default_metric (str): metric used when a method is given none (1.x).
        default_mode (str): "max" or "min", used when a method is given none
            (1.x); without one, "max" as in 0.8.
    """

    def __init__(self, experiment_dir, default_metric=None, default_mode=None, _lazy=False):
        experiment_dir = os.path.expanduser(os.fspath(experiment_dir))
        if not os.path.isdir(experiment_dir):
            raise ValueError("{} is not a valid directory.".format(experiment_dir))
        if default_mode not in (None,) + _MODES:
            raise ValueError("`default_mode` has to be None or one of [min, max], got {!r}"
                             .format(default_mode))
        self._experiment_dir = experiment_dir
        self.default_metric = default_metric
        self.default_mode = default_mode
        self._trials_cache = None
        self._frames = None
        if not _lazy:
            self._fetch()

    # -- loading -------------------------------------------------------------
    def _load_trials_data(self):
        if _cache.enabled():
            # The walk alone (C), then the parsed columns from the cache of
            # this directory when its trials' files are unchanged.
            from tunec import _tunec
            paths = _tunec.trial_dirs(self._experiment_dir)
            trials = _load("load_trials", paths, _cache.through(
                self._experiment_dir, None, None, paths,
                lambda p: _load_grouped("load_trials", p))) if paths else []
        else:
            trials = _load("load_experiment", self._experiment_dir)
        if not trials:
            raise TuneError("No trials found in {}.".format(self._experiment_dir))
        return trials

    def _fetch(self):
        self._trials_cache = {t.logdir: t for t in self._load_trials_data()}
        self._frames = None

    @property
    def _trials_data(self):
        """{logdir: trial data}, read from disk on first use."""
        if self._trials_cache is None:
            self._fetch()
        return self._trials_cache

    def fetch_trial_dataframes(self):
        """Re-reads every trial's results from disk; returns
        ``trial_dataframes``."""
        self._fetch()
        return self.trial_dataframes

    def _get_trial_paths(self):
        return list(self._trials_data)

    def _readable(self):
        return [(path, t) for path, t in self._trials_data.items() if t.readable]

    @property
    def trial_dataframes(self):
        """``{logdir: DataFrame}`` of every trial whose results could be read."""
        if self._frames is None:
            self._frames = {path: t.dataframe() for path, t in self._readable()}
        return self._frames

    # -- argument checks -------------------------------------------------------
    def _metric(self, metric):
        metric = metric or self.default_metric
        if not metric:
            raise ValueError("No `metric` has been passed and `default_metric` has not been "
                             "set. Please specify the `metric` parameter.")
        return metric

    def _mode(self, mode):
        mode = mode or self.default_mode or "max"
        if mode not in _MODES:
            raise ValueError("`mode` has to be one of [min, max], got {!r}".format(mode))
        return mode

    # -- rows ------------------------------------------------------------------
    def _row_indices(self, metric=None, mode=None):
        """``[(logdir, trial data, row index)]``: the last row, or the row
        where ``metric`` is best under ``mode``.  A trial whose metric is all
        NaN (or missing) is skipped with a warning, as Ray 0.8.5 does."""
        readable = self._readable()
        if mode is not None and readable and not any(metric in t.data for _, t in readable):
            raise KeyError(metric)
        picked = []
        for path, trial in readable:
            if trial.rows == 0:
                continue
            if mode is None:
                index = trial.rows - 1
            else:
                index = trial.best_index(metric, mode)
                if index is None:
                    logger.warning("Warning: Non-numerical value(s) encountered for %s", path)
                    continue
            picked.append((path, trial, index))
        return picked

    def _retrieve_rows(self, metric=None, mode=None):
        """``{logdir: row dict}`` of the rows ``_row_indices`` picks."""
        return {path: trial.row(index)
                for path, trial, index in self._row_indices(metric, mode)}

    def dataframe(self, metric=None, mode=None):
        """One row per trial: the last result row, or with ``mode`` the row
        where ``metric`` is max/min; then ``config/<key>`` columns from
        params.json (top-level keys) and ``logdir``."""
        if mode is not None and mode not in _MODES:
            raise ValueError("If set, `mode` has to be one of [min, max]")
        if mode and not metric:
            raise ValueError("If a `mode` is passed to `dataframe()`, you'll also have to "
                             "pass a `metric`!")
        pd = require_pandas()
        picked = self._row_indices(metric=metric, mode=mode)
        configs = self.get_all_configs(prefix=True)
        frame = picked_rows_frame(pd, picked, configs)
        if frame is not None:
            return frame
        rows = {path: trial.row(index) for path, trial, index in picked}
        for path, row in rows.items():
            row.update(configs.get(path, {}))
            row["logdir"] = path
        return pd.DataFrame(list(rows.values()))

    # -- configs -----------------------------------------------------------------
    def get_all_configs(self, prefix=False):
        """``{logdir: config}`` from each trial's params.json; with
        ``prefix=True`` the keys are ``config/<key>``.  Trials whose
        params.json is missing or not a JSON object are counted and warned."""
        configs, fail_count = {}, 0
        for path, trial in self._trials_data.items():
            params = trial.params
            if not isinstance(params, dict):
                fail_count += 1
                continue
            params = _copy_json(params)   # the caller may change it
            if prefix:
                params = {CONFIG_PREFIX + key: value for key, value in params.items()}
            configs[path] = params
        if fail_count:
            logger.warning("Couldn't read config from %d paths", fail_count)
        return configs

    def _best_path(self, metric, mode):
        rows = self._retrieve_rows(metric=metric, mode=mode)
        if not rows:
            return None
        pick = max if mode == "max" else min
        return pick(rows, key=lambda path: rows[path][metric])

    def get_best_config(self, metric=None, mode=None):
        """The config of the trial whose best ``metric`` row is best;
        ``{}`` with a warning when the metric is NaN everywhere."""
        metric, mode = self._metric(metric), self._mode(mode)
        best = self._best_path(metric, mode)
        if best is None:
            logger.warning("Not able to retrieve the best config for %s according to the "
                           "specified metric (only nans encountered).", self._experiment_dir)
            return {}
        return self.get_all_configs().get(best, {})

    def get_best_logdir(self, metric=None, mode=None):
        """The logdir of the trial whose best ``metric`` row is best; None
        when the metric is NaN everywhere."""
        metric, mode = self._metric(metric), self._mode(mode)
        best = self._best_path(metric, mode)
        if best is None:
            logger.warning("Not able to retrieve the best logdir for %s according to the "
                           "specified metric (only nans encountered).", self._experiment_dir)
        return best

    # -- checkpoints ---------------------------------------------------------------
    def _trial_data_at(self, logdir):
        trial = self._trials_data.get(logdir)
        if trial is None:
            norm = os.path.normpath(logdir)
            for path, candidate in self._trials_data.items():
                if os.path.normpath(path) == norm:
                    return candidate
            loaded = _load("load_trials", [logdir])
            trial = loaded[0] if loaded and loaded[0].readable else None
        return trial

    def get_trial_checkpoints_paths(self, trial, metric=TRAINING_ITERATION):
        """``[[checkpoint_path, metric_value], ...]`` of one trial.

        For a logdir string: the ``checkpoint_<n>`` dirs on disk (by
        iteration), joined with the trial's rows on ``training_iteration``.
        For a ``Trial``: its checkpoint manager's best checkpoints when it has
        one (Ray's form); tunec's plain ``Trial`` keeps no checkpoint manager,
        so its ``logdir`` is read from disk as for a string.
        """
        if isinstance(trial, Trial):
            manager = getattr(trial, "checkpoint_manager", None)
            if manager is not None and hasattr(manager, "best_checkpoints"):
                return [[c.value, c.result[metric]] for c in manager.best_checkpoints()]
            if not trial.logdir:
                return []
            trial = trial.logdir
        if isinstance(trial, (str, os.PathLike)):
            trial_dir = os.path.expanduser(os.fspath(trial))
            return join_checkpoints(checkpoint_paths(trial_dir), self._trial_data_at(trial_dir),
                                    metric)
        raise ValueError("trial should be a string or a Trial instance.")

    def get_best_checkpoint(self, trial, metric=None, mode=None):
        """The path of the trial's checkpoint with the best ``metric`` (1.x);
        None when it has none with a number."""
        metric, mode = self._metric(metric), self._mode(mode)
        pairs = [(path, value) for path, value in self.get_trial_checkpoints_paths(trial, metric)
                 if isinstance(value, (int, float)) and not math.isnan(value)]
        if not pairs:
            return None
        pick = max if mode == "max" else min
        return pick(pairs, key=lambda pair: pair[1])[0]


def _decode_fallback(obj):
    """``json`` object hook for Ray's ``_TuneFunctionDecoder``: a value that
    JSON could not hold was written as {"_type": "CLOUDPICKLE_FALLBACK",
    "value": <hex of cloudpickle>} (spec §10.6).  Decoded with cloudpickle
    when that works (it needs cloudpickle, and the pickled classes'
    modules); otherwise left as it is."""
    if obj.get("_type") == "CLOUDPICKLE_FALLBACK" and isinstance(obj.get("value"), str):
        return _unpickle_hex(obj["value"], obj)
    return obj


def _unpickle_hex(text, default):
    try:
        import cloudpickle
        return cloudpickle.loads(bytes.fromhex(text))
    except Exception:   # not cloudpickle, not hex, or a class that cannot be imported here
        return default


# Trial attributes 0.8's Trial.__getstate__ stores as bare hex cloudpickle.
_NONJSON_FIELDS = ("checkpoint", "loggers", "sync_to_driver_fn", "results", "best_result",
                   "param_config", "extra_arg")


def _trial_from_state(state):
    """A ``Trial`` from one experiment_state "checkpoints" entry (the 0.8
    ``Trial.__getstate__`` dict).  Attributes are set as Ray's
    ``__setstate__`` sets them; class-level names (methods, properties) are
    never overwritten."""
    trial = Trial(state.get("trainable_name"))
    checkpoint = None
    for key, value in state.items():
        if key in _NONJSON_FIELDS and isinstance(value, str):
            value = _unpickle_hex(value, value)
        if key == "location":
            if isinstance(value, (list, tuple)) and len(value) == 2:
                trial.location = Location(*value)
            continue
        if key == "checkpoint":
            checkpoint = value     # set once logdir and last_result are
            continue
        if callable(getattr(Trial, key, None)) or isinstance(getattr(Trial, key, None), property):
            continue
        setattr(trial, key, value)
    for key in ("config", "last_result", "metric_analysis", "evaluated_params"):
        if not isinstance(getattr(trial, key, None), dict):
            setattr(trial, key, {})
    if isinstance(trial.resources, dict):
        trial.resources = Resources.from_dict(trial.resources)
    trial._set_checkpoint_record(checkpoint)
    return trial


class UnreadableStateError(TuneError, ValueError):
    """A state file that is not JSON: a TuneError naming the file, and the
    ValueError that Ray's ``json.load`` raised, so code catching either works."""


def _state_entry(entry):
    """One "checkpoints" entry as a dict (0.8 stores a dict, 1.x a JSON
    string of one), or None when it is neither."""
    if isinstance(entry, str):
        try:
            entry = json.loads(entry, object_hook=_decode_fallback)
        except ValueError:
            return None
    return entry if isinstance(entry, dict) else None


def _newest_state_file(directory):
    """The lexicographically greatest experiment_state*.json (spec §10.6)."""
    names = sorted(name for name in os.listdir(directory)
                   if name.startswith("experiment_state") and name.endswith(".json"))
    if not names:
        raise ValueError("The directory `{}` does not contain a Ray Tune experiment "
                         "checkpoint.".format(directory))
    return os.path.join(directory, names[-1])


class ExperimentAnalysis(Analysis):
    """Analyzes the results of one experiment, from its experiment_state file.

    Args:
        experiment_checkpoint_path (str): an ``experiment_state-<date>.json``
            file, or (1.x) the experiment directory, whose newest state file
            is then used.
        trials (list[Trial]): the trials, as ``tune.run`` passes them.  When
            None, trials are rebuilt from the state file's "checkpoints"
            (with a warning: the file is written periodically, so they may be
            out of date).  A rebuilt trial whose recorded logdir no longer
            exists, but whose directory name exists next to the state file
            (the experiment was moved), is read from there.
        default_metric, default_mode: as for ``Analysis`` (1.x).
    """

    def __init__(self, experiment_checkpoint_path, trials=None, default_metric=None,
                 default_mode=None):
        path = os.path.expanduser(os.fspath(experiment_checkpoint_path))
        if os.path.isdir(path):
            path = _newest_state_file(path)
        elif not os.path.isfile(path):
            raise ValueError("{} is not a valid file or directory.".format(path))
        self._experiment_checkpoint_path = path
        self._state = None
        self._experiment_dir_of_state = os.path.dirname(path) or os.curdir
        self._trials = None
        self._state_logdirs = None
        self._cache = None
        lazy = trials is not None
        if trials is None:
            # Only the logdirs are read now (src/engine/state_logdirs.c), or
            # taken from the parsed-column cache of this state (_cache.py);
            # the Trial objects are rebuilt from the state on first use.
            if _cache.enabled():
                self._cache = _cache.read(self._experiment_dir_of_state, path)
            if self._cache is not None:
                self._state_logdirs = self._cache.logdirs
            else:
                self._state_logdirs = self._read_state_logdirs()
            logger.warning("No `self.trials`. Drawing logdirs from checkpoint file. This may "
                           "result in some information that is out of sync, as "
                           "checkpointing is periodic.")
        else:
            # With the trials of a live run, the state file and the results
            # are read on first use rather than here, so tune.run returns
            # without reading back what it just wrote. A run's TrialList
            # stays lazy (its trials are made when asked).
            self._trials = trials if _is_trial_list(trials) else list(trials)
        super().__init__(self._experiment_dir_of_state, default_metric=default_metric,
                         default_mode=default_mode, _lazy=lazy)

    @property
    def trials(self):
        """The experiment's ``Trial`` objects (rebuilt from the state file
        when none were given)."""
        if self._trials is None:
            self._read_state()
            trials = [_trial_from_state(c) for c in self._checkpoints if isinstance(c, dict)]
            for trial in trials:
                _relocate(trial, self._experiment_dir_of_state)
            self._trials = trials
        return self._trials

    @trials.setter
    def trials(self, value):
        self._trials = value
        self._state_logdirs = None

    def _read_state_logdirs(self):
        """The trials' logdirs, as the rebuilt trials will have them."""
        from tunec import _tunec
        with open(self._experiment_checkpoint_path, "rb") as f:
            text = f.read()
        try:
            logdirs = _tunec.state_logdirs(text)
        except ValueError:
            logdirs = None
        if logdirs is None:
            # Not a state file after all: the full parse raises as it should.
            self._read_state()
            raise TuneError("Experiment state invalid; no checkpoints found.")
        subdirs = _subdir_names(self._experiment_dir_of_state)
        return [_relocated_logdir(logdir, self._experiment_dir_of_state, subdirs)
                for logdir in logdirs]

    def _read_state(self):
        """The experiment state file, parsed (once). A damaged file (cut
        short, junk, wrong types) is a TuneError naming it; a damaged trial
        entry is skipped with a warning, as a damaged result row is."""
        if self._state is None:
            path = self._experiment_checkpoint_path
            try:
                with open(path, encoding="utf-8") as f:
                    state = json.load(f, object_hook=_decode_fallback)
            except (OSError, ValueError) as e:      # JSON and UTF-8 errors are ValueErrors
                raise UnreadableStateError(
                    "Experiment state {} is unreadable: {}".format(path, e)) from None
            if not isinstance(state, dict) or "checkpoints" not in state:
                raise TuneError("Experiment state invalid; no checkpoints found.")
            if not isinstance(state["checkpoints"], list):
                raise TuneError("Experiment state {}: \"checkpoints\" must be a list, got "
                                "{}".format(path, type(state["checkpoints"]).__name__))
            self._checkpoints = [entry for entry in map(_state_entry, state["checkpoints"])
                                 if entry is not None]
            skipped = len(state["checkpoints"]) - len(self._checkpoints)
            if skipped:
                logger.warning("Experiment state %s: skipped %d damaged trial entr%s", path,
                               skipped, "y" if skipped == 1 else "ies")
            self._state = state
        return self._state

    @property
    def _experiment_state(self):
        return self._read_state()

    def _load_trials_data(self):
        if self._state_logdirs is not None:
            paths = [logdir for logdir in self._state_logdirs
                     if isinstance(logdir, str) and logdir]
        else:
            paths = [t.logdir for t in self.trials if isinstance(t.logdir, str) and t.logdir]
        if not paths:
            raise TuneError("No trials found.")
        if self._state_logdirs is None or not _cache.enabled():
            return _load("load_trials", paths)
        # From the state file: through the parsed-column cache.
        cache, self._cache = self._cache, None
        return _load("load_trials", paths, _cache.through(
            self._experiment_dir_of_state, self._experiment_checkpoint_path,
            self._state_logdirs, paths, lambda p: _load_grouped("load_trials", p), cache))

    # -- experiment state ----------------------------------------------------------
    def stats(self):
        """The state file's "stats": ``{"start_time", "timestamp"}``."""
        return self._experiment_state.get("stats")

    def runner_data(self):
        """The state file's "runner_data" (the TrialRunner's attributes)."""
        return self._experiment_state.get("runner_data")

    # -- best trial (0.8.5) ----------------------------------------------------------
    def get_best_trial(self, metric=None, mode=None, scope="all", filter_nan_and_inf=True):
        """The trial with the best ``trial.metric_analysis[metric]``, or None.

        ``scope="all"`` compares each trial's max (or min, with the mode);
        "last", "avg", "last-5-avg", "last-10-avg" compare that aggregate.
        Trials without the metric are skipped, and so are NaN/inf scores
        unless ``filter_nan_and_inf=False``.
        """
        metric = self._metric(metric)
        mode = mode or self.default_mode or "max"
        if mode not in _MODES:
            raise ValueError("ExperimentAnalysis: attempting to get best trial for metric {} "
                             "for mode {} not in [\"max\", \"min\"]".format(metric, mode))
        if scope not in _SCOPES:
            raise ValueError("ExperimentAnalysis: attempting to get best trial for metric {} "
                             "for scope {} not in [\"all\", \"last\", \"avg\", \"last-5-avg\", "
                             "\"last-10-avg\"]. If you didn't pass a `metric` parameter to "
                             "`tune.run()`, you have to pass one when fetching the best trial."
                             .format(metric, scope))
        best_trial, best_score = None, None
        for trial in self.trials:
            analysis = getattr(trial, "metric_analysis", None) or {}
            if not isinstance(analysis.get(metric), dict):
                continue
            score = analysis[metric].get(mode if scope == "all" else scope)
            if score is None or isinstance(score, bool) or not isinstance(score, (int, float)):
                continue
            if filter_nan_and_inf and _is_nan_or_inf(score):
                continue
            if (best_score is None or (mode == "max" and score > best_score)
                    or (mode == "min" and score < best_score)):
                best_trial, best_score = trial, score
        return best_trial

    def get_best_config(self, metric=None, mode=None, scope="all"):
        """The best trial's config (``get_best_trial``), or None."""
        best = self.get_best_trial(metric, mode, scope)
        return best.config if best else None

    def get_best_logdir(self, metric=None, mode=None, scope="all"):
        """The best trial's logdir (``get_best_trial``), or None."""
        best = self.get_best_trial(metric, mode, scope)
        return best.logdir if best else None

    def get_last_checkpoint(self, trial=None, metric=TRAINING_ITERATION, mode="max"):
        """The checkpoint of ``trial`` (default: ``best_trial``) with the
        highest ``metric``, by default the latest one (1.x)."""
        return self.get_best_checkpoint(trial or self.best_trial, metric, mode)

    # -- 1.x properties ------------------------------------------------------------
    def _need_defaults(self, what):
        if not self.default_metric or not self.default_mode:
            raise ValueError(
                "To fetch the `{0}`, pass a `metric` and `mode` parameter to `tune.run()`. "
                "Alternatively, use the `get_{0}(metric, mode)` method to set the metric and "
                "mode explicitly.".format(what))

    @property
    def best_trial(self):
        """The best trial by the last result of ``default_metric``."""
        self._need_defaults("best_trial")
        return self.get_best_trial(self.default_metric, self.default_mode, scope="last")

    @property
    def best_config(self):
        self._need_defaults("best_config")
        return self.get_best_config(self.default_metric, self.default_mode, scope="last")

    @property
    def best_logdir(self):
        self._need_defaults("best_logdir")
        return self.get_best_logdir(self.default_metric, self.default_mode, scope="last")

    @property
    def best_checkpoint(self):
        self._need_defaults("best_checkpoint")
        best = self.best_trial
        if best is None:
            return None
        return self.get_best_checkpoint(best, self.default_metric, self.default_mode)

    @property
    def best_result(self):
        """The best trial's last result (nested)."""
        self._need_defaults("best_result")
        best = self.best_trial
        return best.last_result if best else None

    @property
    def best_dataframe(self):
        """The best trial's results as a DataFrame."""
        self._need_defaults("best_dataframe")
        logdir = self.best_logdir
        return self.trial_dataframes[logdir] if logdir else None

    @property
    def best_result_df(self):
        """The best trial's last result, flattened with "/", as a one-row
        DataFrame indexed by trial_id."""
        self._need_defaults("best_result_df")
        best = self.best_trial
        return _results_frame([best] if best else [])

    @property
    def results(self):
        """``{trial_id: last_result}`` of every trial."""
        return {trial.trial_id: trial.last_result for trial in self.trials}

    @property
    def results_df(self):
        """Every trial's last result, flattened with "/", as a DataFrame
        indexed by trial_id."""
        return _results_frame(self.trials)


def _subdir_names(directory):
    """The names of ``directory``'s subdirectories (links to directories
    included, as ``os.path.isdir`` has them), from one scan; None when it
    cannot be listed."""
    try:
        with os.scandir(directory) as entries:
            return {entry.name for entry in entries if entry.is_dir()}
    except OSError:
        return None


def _relocated_logdir(logdir, experiment_dir, subdirs=None):
    """The trial directory of that name next to the state file when there is
    one (the experiment was moved or copied: a copy is read from its own
    files even while the original exists), else ``logdir``.  ``subdirs``:
    ``_subdir_names(experiment_dir)``, when a caller relocates many (one
    scan instead of a stat per trial)."""
    if not isinstance(logdir, str) or not logdir:
        return logdir
    if subdirs is not None and os.altsep is None:
        # The last path component without normpath's work (1,000 trials:
        # 10 ms); where it is "", "." or ".." normpath must decide.
        name = logdir.rstrip(os.sep).rpartition(os.sep)[2]
        if name not in ("", os.curdir, os.pardir):
            return os.path.join(experiment_dir, name) if name in subdirs else logdir
    name = os.path.basename(os.path.normpath(logdir))
    moved = os.path.join(experiment_dir, name)
    if subdirs is not None and name not in ("", os.curdir, os.pardir):
        return moved if name in subdirs else logdir
    return moved if os.path.isdir(moved) else logdir


def _relocate(trial, experiment_dir):
    """Points a rebuilt trial at its directory next to the state file, where
    the recorded one is elsewhere (the experiment was moved or copied)."""
    logdir = trial.logdir
    moved = _relocated_logdir(logdir, experiment_dir)
    if moved is not logdir:
        trial.logdir = moved
        trial.local_dir = experiment_dir


def _results_frame(trials):
    pd = require_pandas()
    from tunec.logger import _flatten_dict
    records = []
    for trial in trials:
        record = _flatten_dict(trial.last_result or {}, delimiter="/")
        record.setdefault("trial_id", trial.trial_id)
        records.append(record)
    if not records:
        return pd.DataFrame()
    return pd.DataFrame.from_records(records, index="trial_id")


def _is_trial_list(trials):
    from tunec._trial_list import TrialList
    return isinstance(trials, TrialList)
