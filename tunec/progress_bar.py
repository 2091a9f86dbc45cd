"""``ProgressBarReporter``: tunec's one-line progress for terminals.

Instead of the "== Status ==" table, one line that a terminal rewrites in
place::

    [########------------] 12/30 trials (3 RUNNING, 15 PENDING) | best mean_loss=0.0412 (00007) | 0:00:41 elapsed, ETA 0:01:02

* trials done (TERMINATED or ERROR) out of the total: ``total_samples`` when
  given (tune.run passes the number its experiments will generate when it is
  known: num_samples times the grid, without a searcher), else the trials
  known so far;
* the best ``metric`` so far over the trials' last results (needs ``metric``
  and ``mode``, here or from tune.run's);
* the time since the first report, and an estimate of what is left: the
  elapsed time per finished trial times the trials left ("ETA ?" until one
  finishes).

On a terminal the line is rewritten with a carriage return and cut to the
terminal's width; anywhere else (a file, a pipe, a CI log) each report is a
new line, at most every ``max_report_frequency`` seconds. The last report
always ends the line.
"""
import os
import shutil
import sys
import time

from tunec.progress_reporter import ProgressReporter, unflattened_lookup

__all__ = ["ProgressBarReporter"]

_FINISHED = ("TERMINATED", "ERROR")


def _clock_text(seconds):
    seconds = int(max(seconds, 0))
    return "{}:{:02d}:{:02d}".format(seconds // 3600, seconds // 60 % 60, seconds % 60)


class ProgressBarReporter(ProgressReporter):
    """One-line progress: trials done / total, best metric, elapsed and ETA.

    Args:
        metric, mode: the metric whose best value is shown ("min" or "max");
            tune.run's ``metric``/``mode`` when not given here.
        total_samples: the number of trials the run will have, if known.
        max_report_frequency: at most one report every this many seconds
            (the final one always comes).
        bar_width: characters of the bar itself (0: no bar).
        file: where to write (default: sys.stdout at report time).
    """

    _clock = staticmethod(time.monotonic)

    def __init__(self, metric=None, mode=None, total_samples=None, max_report_frequency=1.0,
                 bar_width=20, file=None):
        if mode not in (None, "min", "max"):
            raise ValueError("mode must be 'min' or 'max', got {!r}".format(mode))
        if metric is not None and not isinstance(metric, str):
            raise TypeError("metric must be a str, got {!r}".format(metric))
        if not isinstance(max_report_frequency, (int, float)) or \
                isinstance(max_report_frequency, bool) or max_report_frequency < 0:
            raise TypeError("max_report_frequency must be a non-negative number of seconds, "
                            "got {!r}".format(max_report_frequency))
        if not isinstance(bar_width, int) or isinstance(bar_width, bool) or bar_width < 0:
            raise TypeError("bar_width must be a non-negative int, got {!r}".format(bar_width))
        self._metric = metric
        self._mode = mode
        self._total_samples = None
        self.set_total_samples(total_samples)
        self._max_report_frequency = max_report_frequency
        self._bar_width = bar_width
        self._file = file
        self._start = None
        self._last_report_time = float("-inf")
        self._line_open = False

    def set_search_properties(self, metric, mode):
        if (self._metric and metric) or (self._mode and mode):
            return False
        if metric:
            self._metric = metric
        if mode:
            self._mode = mode
        return True

    def set_total_samples(self, total_samples):
        if total_samples is not None and (not isinstance(total_samples, int)
                                          or isinstance(total_samples, bool)
                                          or total_samples < 0):
            raise TypeError("total_samples must be a non-negative int, got {!r}".format(
                total_samples))
        # sys.maxsize is how Ray spells "no limit".
        self._total_samples = total_samples if total_samples and \
            total_samples < sys.maxsize else None

    def should_report(self, trials, done=False):
        now = self._clock()
        if self._start is None:
            self._start = now
        if done or now - self._last_report_time >= self._max_report_frequency:
            self._last_report_time = now
            return True
        return False

    # -- the line --------------------------------------------------------------
    def _best(self, trials):
        if not (self._metric and self._mode):
            return None
        best = None
        for trial in trials:
            value = unflattened_lookup(self._metric, trial.last_result or {}, default=None)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
                continue
            if best is None or (value > best[0] if self._mode == "max" else value < best[0]):
                best = (value, trial)
        return best

    def progress_line(self, trials, done=False):
        """The line for `trials` now (without a line ending)."""
        now = self._clock()
        if self._start is None:
            self._start = now
        finished = sum(t.status in _FINISHED for t in trials)
        total = max(self._total_samples or 0, len(trials))
        parts = []
        if self._bar_width:
            filled = int(self._bar_width * finished / total) if total else 0
            parts.append("[{}{}]".format("#" * filled, "-" * (self._bar_width - filled)))
        counts = {}
        for t in trials:
            if t.status not in _FINISHED or t.status == "ERROR":
                counts[t.status] = counts.get(t.status, 0) + 1
        detail = ", ".join("{} {}".format(n, s) for s, n in sorted(counts.items()))
        head = "{}/{} trials".format(finished, total)
        parts.append(head + (" ({})".format(detail) if detail else ""))
        line = " ".join(parts)
        best = self._best(trials)
        if best is not None:
            line += " | best {}={:.6g} ({})".format(self._metric, best[0], best[1].trial_id)
        elapsed = now - self._start
        if done:
            line += " | done in {}".format(_clock_text(elapsed))
        else:
            left = total - finished
            eta = _clock_text(elapsed / finished * left) if finished else "?"
            line += " | {} elapsed, ETA {}".format(_clock_text(elapsed), eta)
        return line

    def report(self, trials, done, *sys_info):
        out = self._file or sys.stdout
        line = self.progress_line(trials, done)
        try:
            tty = out.isatty()
        except (AttributeError, ValueError):
            tty = False
        if tty:
            try:    # the terminal written to, not $COLUMNS, sets the width
                width = os.get_terminal_size(out.fileno()).columns
            except (AttributeError, ValueError, OSError):
                width = shutil.get_terminal_size().columns
            if len(line) >= width:
                line = line[:max(width - 1, 1)]
            out.write("\r" + line + "\x1b[K" + ("\n" if done else ""))
            self._line_open = not done
        else:
            out.write(line + "\n")
        out.flush()


def _grid_size(value):
    """How many variants the grid_search entries in a config make."""
    if isinstance(value, dict):
        if set(value) == {"grid_search"} and isinstance(value["grid_search"], (list, tuple)):
            size = 0
            for option in value["grid_search"]:
                size += _grid_size(option)
            return size
        size = 1
        for item in value.values():
            size *= _grid_size(item)
        return size
    if isinstance(value, (list, tuple)):
        size = 1
        for item in value:
            size *= _grid_size(item)
        return size
    return 1


def expected_trials(experiments):
    """The trials tune.Experiments generate without a searcher (num_samples
    times each grid), or None when one repeats forever."""
    total = 0
    for exp in experiments:
        num_samples = exp.spec["num_samples"]
        if num_samples is None or num_samples < 0:
            return None
        total += num_samples * _grid_size(exp.spec.get("config") or {})
    return total
