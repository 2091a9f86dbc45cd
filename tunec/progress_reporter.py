"""Progress reporting: the "== Status ==" text (spec §12, §18.30).

``CLIReporter`` prints and ``JupyterNotebookReporter`` displays the report
that Ray Tune 0.8 prints while an experiment runs, line for line:

    == Status ==
    Memory usage on this node: 7.1/15.5 GiB
    <sys_info lines from the driver: scheduler and resources debug strings>
    Result logdir: <one line per distinct trial.local_dir, sorted>
    Number of trials: N (k STATUS, ...)            statuses alphabetical
    <psql table: Trial name | status | loc | params... | metrics...>
    ... K more trials not shown (k STATUS, ...)    only when rows were cut
    Number of errored trials: n                    only when a trial has an error file
    <psql table: Trial name | # failures | error file>

Lines are joined with "\\n" and the report ends with "\\n" (with no errored
trial the error part is an empty line, as in Ray).  Tables are rendered by
``tunec._table``, which reproduces tabulate's output.

The reporter only formats; the driver decides when to call it and passes the
scheduler and resource lines as ``*sys_info``.
"""
import collections
import sys
import time
from collections.abc import Mapping, MutableMapping, Sequence

from tunec._table import tabulate
from tunec.result import (EPISODE_REWARD_MEAN, MEAN_ACCURACY, MEAN_LOSS, TIME_TOTAL_S,
                          TIMESTEPS_TOTAL, TRAINING_ITERATION)

__all__ = [
    "ProgressReporter", "TuneReporterBase", "CLIReporter", "JupyterNotebookReporter",
    "ProgressBarReporter",
    "DEFAULT_COLUMNS", "memory_debug_str", "trial_progress_str", "trial_errors_str",
    "trial_result_str", "detect_reporter",
]

# Result keys shown by default, with their truncated column names (spec §12).
DEFAULT_COLUMNS = collections.OrderedDict([
    (MEAN_ACCURACY, "acc"),
    (MEAN_LOSS, "loss"),
    (TRAINING_ITERATION, "iter"),
    (TIME_TOTAL_S, "total time (s)"),
    (TIMESTEPS_TOTAL, "ts"),
    (EPISODE_REWARD_MEAN, "reward"),
])

_MISSING = object()


def unflattened_lookup(flat_key, lookup, delimiter="/", default=_MISSING):
    """``lookup["a"]["0"]["b"]`` (or ``[0]`` in lists) for ``flat_key="a/0/b"``.

    A literal ``flat_key`` entry wins.  A missing path returns ``default``, or
    raises KeyError when no default is given.
    """
    if isinstance(lookup, Mapping) and flat_key in lookup:
        return lookup[flat_key]
    base = lookup
    for key in flat_key.split(delimiter):
        try:
            if isinstance(base, Mapping):
                base = base[key]
            elif isinstance(base, Sequence) and not isinstance(base, (str, bytes)):
                base = base[int(key)]
            else:
                raise KeyError(key)
        except (KeyError, IndexError, ValueError, TypeError):
            if default is _MISSING:
                raise KeyError(flat_key) from None
            return default
    return base


def _check_columns(name, columns):
    """Copies a list/tuple/dict of column names; TypeError for anything else."""
    if columns is None:
        return None
    if isinstance(columns, Mapping):
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items()):
            raise TypeError("{} must map str keys to str display names, got {!r}".format(
                name, columns))
        return collections.OrderedDict(columns)
    if isinstance(columns, (list, tuple)):
        if not all(isinstance(k, str) for k in columns):
            raise TypeError("{} must be a list of str, got {!r}".format(name, columns))
        return list(columns)
    raise TypeError("{} must be a list or a dict of str, got {!r}".format(name, columns))


def _check_count(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError("{} must be a non-negative int, got {!r}".format(name, value))
    return value


class ProgressReporter:
    """Abstract experiment progress reporter.

    Tune calls ``should_report`` after trial state transitions and results,
    and ``report`` when it returns True.
    """

    def should_report(self, trials, done=False):
        """Returns whether progress should be reported now.

        ``done`` is True for the last report of the experiment.
        """
        raise NotImplementedError

    def report(self, trials, done, *sys_info):
        """Reports progress across ``trials``; ``sys_info`` are extra status lines."""
        raise NotImplementedError

    def set_search_properties(self, metric, mode):
        return True

    def set_total_samples(self, total_samples):
        pass


class TuneReporterBase(ProgressReporter):
    """Base of the default reporters: column choice, row limits, frequency.

    Args:
        metric_columns: result keys to show, a list (shown under their own
            name) or a dict ``key -> display name``; default
            ``DEFAULT_COLUMNS``.  Nested keys are written ``a/b``.  A column
            appears only once some trial has a non-None value for it.
        max_progress_rows: rows of the trial table before it is cut (not
            applied to the final report).  0 means no limit.
        max_error_rows: rows of the error table before it is cut.
        max_report_frequency: at most one report every this many seconds.
        parameter_columns: config keys to show, a list or a dict ``key ->
            display name``; default: every trial's ``evaluated_params``.
        metric, mode: the metric the table is sorted by (tune.run's
            ``metric``/``mode`` when not given here).
        sort_by_metric: Ray 1.x: TERMINATED trials are listed by ``metric``,
            best first (descending for mode "max"), after the running,
            paused and pending ones; needs both metric and mode.
        infer_limit: accepted for Ray 1.x compatibility and stored.
        max_column_length: Ray 1.x: a parameter or metric value whose text
            is longer is cut to this many characters (``...`` and its end;
            a parameter keeps its start and gets 4 hex digits of its id, as
            Ray does). Numbers, bools and None are never cut.
        print_intermediate_tables: False: only the final report is printed
            (Ray 2.x's choice below verbose 3); None or True: every report
            (Ray 0.8 and tune.run's default here).

    ``should_report`` reads the clock through ``self._clock``
    (``time.monotonic``); tests may replace it.
    """

    DEFAULT_COLUMNS = DEFAULT_COLUMNS
    _clock = staticmethod(time.monotonic)

    def __init__(self, metric_columns=None, max_progress_rows=20, max_error_rows=20,
                 max_report_frequency=5, parameter_columns=None, metric=None, mode=None,
                 sort_by_metric=False, infer_limit=3, total_samples=None,
                 max_column_length=20, print_intermediate_tables=None):
        self._metric_columns = _check_columns("metric_columns", metric_columns)
        if self._metric_columns is None:
            self._metric_columns = self.DEFAULT_COLUMNS.copy()
        self._parameter_columns = _check_columns("parameter_columns", parameter_columns) or []
        self._max_progress_rows = _check_count("max_progress_rows", max_progress_rows)
        self._max_error_rows = _check_count("max_error_rows", max_error_rows)
        if not isinstance(max_report_frequency, (int, float)) or \
                isinstance(max_report_frequency, bool) or max_report_frequency < 0:
            raise TypeError("max_report_frequency must be a non-negative number of "
                            "seconds, got {!r}".format(max_report_frequency))
        self._max_report_frequency = max_report_frequency
        if mode not in (None, "min", "max"):
            raise ValueError("mode must be 'min' or 'max', got {!r}".format(mode))
        self._metric = metric
        self._mode = mode
        self._sort_by_metric = bool(sort_by_metric)
        self._infer_limit = infer_limit
        self._total_samples = total_samples
        self._max_column_length = _check_count("max_column_length", max_column_length)
        if print_intermediate_tables not in (None, True, False):
            raise TypeError("print_intermediate_tables must be None or a bool, got {!r}".format(
                print_intermediate_tables))
        self._print_intermediate_tables = print_intermediate_tables
        self._last_report_time = float("-inf")

    def set_search_properties(self, metric, mode):
        if (self._metric and metric) or (self._mode and mode):
            return False
        if metric:
            self._metric = metric
        if mode:
            self._mode = mode
        return True

    def set_total_samples(self, total_samples):
        self._total_samples = total_samples

    def should_report(self, trials, done=False):
        if self._print_intermediate_tables is False and not done:
            return False
        now = self._clock()
        if now - self._last_report_time > self._max_report_frequency:
            self._last_report_time = now
            return True
        return done

    def add_metric_column(self, metric, representation=None):
        """Adds result key ``metric`` as a column, shown as ``representation``.

        ValueError if the column exists, or if ``representation`` differs
        from ``metric`` while the columns were given as a list.
        """
        if metric in self._metric_columns:
            raise ValueError("Column {} already exists.".format(metric))
        if isinstance(self._metric_columns, MutableMapping):
            self._metric_columns[metric] = representation or metric
        else:
            if representation is not None and representation != metric:
                raise ValueError(
                    "`representation` cannot differ from `metric` "
                    "if this reporter was initialized with a list "
                    "of metric columns.")
            self._metric_columns.append(metric)

    def add_parameter_column(self, parameter, representation=None):
        """Adds config key ``parameter`` as a column (same rules as metrics)."""
        if parameter in self._parameter_columns:
            raise ValueError("Column {} already exists.".format(parameter))
        if isinstance(self._parameter_columns, MutableMapping):
            self._parameter_columns[parameter] = representation or parameter
        else:
            if representation is not None and representation != parameter:
                raise ValueError(
                    "`representation` cannot differ from `parameter` "
                    "if this reporter was initialized with a list "
                    "of metric columns.")
            self._parameter_columns.append(parameter)

    def _progress_str(self, trials, done, *sys_info, fmt="psql", delim="\n"):
        """The full report: status lines, trial table and error table."""
        max_progress = None if done else self._max_progress_rows
        max_error = None if done else self._max_error_rows
        messages = ["== Status ==", memory_debug_str()]
        messages += [str(line) for line in sys_info]
        messages.append(trial_progress_str(
            trials, metric_columns=self._metric_columns,
            parameter_columns=self._parameter_columns,
            total_samples=self._total_samples or 0, fmt=fmt, max_rows=max_progress,
            metric=self._metric, mode=self._mode, sort_by_metric=self._sort_by_metric,
            max_column_length=self._max_column_length))
        messages.append(trial_errors_str(trials, fmt=fmt, max_rows=max_error))
        return delim.join(messages) + delim


class CLIReporter(TuneReporterBase):
    """Prints the report to stdout (same arguments as TuneReporterBase)."""

    def report(self, trials, done, *sys_info):
        print(self._progress_str(trials, done, *sys_info))


class JupyterNotebookReporter(TuneReporterBase):
    """Displays the report as HTML in a notebook, replacing the previous one
    when ``overwrite``.  Without IPython it prints the text report."""

    def __init__(self, overwrite, metric_columns=None, max_progress_rows=20,
                 max_error_rows=20, max_report_frequency=5, parameter_columns=None,
                 metric=None, mode=None, sort_by_metric=False, infer_limit=3,
                 total_samples=None, max_column_length=20, print_intermediate_tables=None):
        super().__init__(metric_columns, max_progress_rows, max_error_rows,
                         max_report_frequency, parameter_columns, metric, mode,
                         sort_by_metric, infer_limit, total_samples, max_column_length,
                         print_intermediate_tables)
        self._overwrite = overwrite

    def report(self, trials, done, *sys_info):
        try:
            from IPython.display import HTML, clear_output, display
        except ImportError:
            print(self._progress_str(trials, done, *sys_info))
            return
        if self._overwrite:
            clear_output(wait=True)
        display(HTML(self._progress_str(trials, done, *sys_info, fmt="html", delim="<br>")))


def _in_notebook():
    """True under an IPython kernel other than the terminal shell."""
    ipython = sys.modules.get("IPython")  # not imported: cannot be a notebook
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:
        return False
    return shell is not None and "Terminal" not in type(shell).__name__


def detect_reporter(verbose=2):
    """The reporter ``tune.run`` uses by default (spec §12): a notebook
    reporter that overwrites unless ``verbose >= 2`` under an IPython kernel,
    else a CLIReporter."""
    if _in_notebook():
        return JupyterNotebookReporter(overwrite=verbose < 2)
    return CLIReporter()


def memory_debug_str():
    """``Memory usage on this node: <used>/<total> GiB`` (GiB = 1024**3),
    with a warning when more than 90% is used."""
    try:
        import psutil
    except ImportError:
        return ("Unknown memory usage. Please run `pip install psutil` "
                "(or ray[debug]) to resolve)")
    memory = psutil.virtual_memory()
    total_gb = memory.total / (1024 ** 3)
    used_gb = total_gb - memory.available / (1024 ** 3)
    if used_gb > total_gb * 0.9:
        warn = (": ***LOW MEMORY*** less than 10% of the memory on "
                "this node is available for use. This can cause "
                "unexpected crashes. Consider "
                "reducing the memory used by your application "
                "or reducing the Ray object store size by setting "
                "`object_store_memory` when calling `ray.init`.")
    else:
        warn = ""
    return "Memory usage on this node: {}/{} GiB{}".format(
        round(used_gb, 1), round(total_gb, 1), warn)


def _trial_id_key(trial):
    return (trial.trial_id is None, str(trial.trial_id))


def _fair_filter_trials(trials_by_state, max_trials, sort_by_metric=False):
    """Picks at most ``max_trials`` trials, one per status in turn.

    Statuses take turns in alphabetical order; each keeps its lowest trial
    ids (with ``sort_by_metric``, TERMINATED keeps its best-first order).
    (Ray finishes the last round even past ``max_trials``; here the table
    never exceeds the limit.)
    """
    counts = collections.defaultdict(int)
    states = sorted(trials_by_state)
    while max_trials > 0:
        took = False
        for state in states:
            if max_trials > 0 and counts[state] < len(trials_by_state[state]):
                counts[state] += 1
                max_trials -= 1
                took = True
        if not took:
            break
    return {state: (trials_by_state[state] if sort_by_metric and state == "TERMINATED"
                    else sorted(trials_by_state[state], key=_trial_id_key))[:counts[state]]
            for state in states}


def _max_len(value, max_len, add_addr=False):
    """Ray 1.x's cut of a long cell: numbers, bools and None as they are;
    other values' text past `max_len` characters becomes "..." and its end,
    or (`add_addr`, for parameters) its start and 4 hex digits of its id.
    `max_len` None or 0: never cut."""
    if not max_len or value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    if len(text) <= max_len:
        return text
    if add_addr:
        return "{}_{}".format(text[:max(max_len - 5, 0)], hex(id(value))[-4:])
    return "..." + text[3 - max_len:] if max_len > 3 else text[:max_len]


def _get_trial_info(trial, parameters, metrics, max_column_length=None):
    """One row: name | status | loc | params... | metrics..."""
    info = [str(trial), trial.status, str(trial.location)]
    info += [_max_len(unflattened_lookup(p, trial.config, default=None), max_column_length,
                      add_addr=True) for p in parameters]
    info += [_max_len(unflattened_lookup(m, trial.last_result, default=None), max_column_length)
             for m in metrics]
    return info


_SORTED_STATE_ORDER = ("RUNNING", "PAUSED", "PENDING", "TERMINATED", "ERROR")


def _sort_by_metric(trials, metric, mode):
    """Ray 1.x's sort_by_metric order: by status (running, paused, pending,
    terminated, error), terminated trials by ``metric`` best first; those
    without it come last."""
    by_state = collections.defaultdict(list)
    for t in trials:
        by_state[t.status].append(t)

    def score(t):
        value = unflattened_lookup(metric, t.last_result or {}, default=None)
        return value if isinstance(value, (int, float)) else None

    done = by_state.get("TERMINATED", [])
    scored = sorted((t for t in done if score(t) is not None), key=score, reverse=mode == "max")
    by_state["TERMINATED"] = scored + [t for t in done if score(t) is None]
    order = list(_SORTED_STATE_ORDER) + sorted(set(by_state) - set(_SORTED_STATE_ORDER))
    return [t for state in order for t in by_state.get(state, [])]


def trial_progress_str(trials, metric_columns, parameter_columns=None, total_samples=0,
                       fmt="psql", max_rows=None, metric=None, mode=None,
                       sort_by_metric=False, max_column_length=None):
    """The trial part of the report: logdirs, counts, table and overflow line.

    Args:
        trials: the Trial objects.
        metric_columns: result keys (list) or ``key -> display name`` (dict).
        parameter_columns: config keys (list or dict); empty means the
            sorted union of the trials' ``evaluated_params``.
        total_samples: when non-zero, shown as ``Number of trials: N/total``.
        fmt: "psql" (text) or "html".
        max_rows: cut the table to this many rows, shared fairly across
            statuses; None or 0 means no limit.
        metric, mode, sort_by_metric: with sort_by_metric (and a metric and
            mode), rows in Ray 1.x's sorted order (``_sort_by_metric``).
        max_column_length: cut longer parameter and metric values
            (``_max_len``); None: never.
    """
    delim = "<br>" if fmt == "html" else "\n"
    if len(trials) < 1:
        return ""
    num_trials = len(trials)
    sort_by_metric = bool(sort_by_metric and metric and mode)
    if sort_by_metric:
        trials = _sort_by_metric(trials, metric, mode)
    trials_by_state = collections.defaultdict(list)
    for t in trials:
        trials_by_state[t.status].append(t)

    messages = ["Result logdir: {}".format(local_dir)
                for local_dir in sorted({str(t.local_dir) for t in trials})]
    num_trials_strs = ["{} {}".format(len(trials_by_state[state]), state)
                       for state in sorted(trials_by_state)]
    if total_samples and total_samples >= sys.maxsize:
        total_samples = "infinite"
    messages.append("Number of trials: {}{} ({})".format(
        num_trials, "/{}".format(total_samples) if total_samples else "",
        ", ".join(num_trials_strs)))

    overflow_str = ""
    if max_rows and num_trials > max_rows:
        shown_by_state = _fair_filter_trials(trials_by_state, max_rows, sort_by_metric)
        trials = []
        overflow_strs = []
        for state in sorted(trials_by_state):
            trials += shown_by_state[state]
            hidden = len(trials_by_state[state]) - len(shown_by_state[state])
            if hidden > 0:
                overflow_strs.append("{} {}".format(hidden, state))
        overflow_str = "... {} more trials not shown ({})".format(
            num_trials - len(trials), ", ".join(overflow_strs))

    if sort_by_metric:
        trials = _sort_by_metric(trials, metric, mode)

    # Columns: only metrics some shown trial has a value for.
    if isinstance(metric_columns, Mapping):
        metric_keys = list(metric_columns.keys())
    else:
        metric_keys = list(metric_columns)
    metric_keys = [k for k in metric_keys if any(
        unflattened_lookup(k, t.last_result, default=None) is not None for t in trials)]
    if not parameter_columns:
        parameter_keys = sorted(set().union(*[t.evaluated_params for t in trials]))
    else:
        parameter_keys = list(parameter_columns)

    table = [_get_trial_info(t, parameter_keys, metric_keys, max_column_length) for t in trials]
    if isinstance(metric_columns, Mapping):
        metric_headers = [metric_columns[k] for k in metric_keys]
    else:
        metric_headers = metric_keys
    if isinstance(parameter_columns, Mapping) and parameter_columns:
        parameter_headers = [parameter_columns[k] for k in parameter_keys]
    else:
        parameter_headers = parameter_keys
    headers = ["Trial name", "status", "loc"] + parameter_headers + metric_headers
    messages.append(tabulate(table, headers, tablefmt=fmt))
    if overflow_str:
        messages.append(overflow_str)
    return delim.join(messages)


def trial_errors_str(trials, fmt="psql", max_rows=None):
    """The error part of the report; empty when no trial has an error file."""
    messages = []
    failed = [t for t in trials if t.error_file]
    num_failed = len(failed)
    if num_failed > 0:
        messages.append("Number of errored trials: {}".format(num_failed))
        if max_rows and num_failed > max_rows:
            messages.append("Table truncated to {} rows ({} overflow)".format(
                max_rows, num_failed - max_rows))
        rows = [[str(t), t.num_failures, t.error_file] for t in failed[:max_rows or None]]
        messages.append(tabulate(rows, ["Trial name", "# failures", "error file"],
                                 tablefmt=fmt))
    delim = "<br>" if fmt == "html" else "\n"
    return delim.join(messages)


def trial_result_str(trial, result):
    """The verbose=2 block ``Result for <trial>:`` plus the indented YAML of
    ``result``; ``print`` it as is (the last line is two spaces, as in Ray)."""
    from tunec.logger import pretty_print
    return "Result for {}:\n  {}".format(trial, pretty_print(result).replace("\n", "\n  "))


def __getattr__(name):
    # The one-line reporter lives in its own module, which imports this one.
    if name == "ProgressBarReporter":
        from tunec.progress_bar import ProgressBarReporter
        return ProgressBarReporter
    raise AttributeError("module {!r} has no attribute {!r}".format(__name__, name))
