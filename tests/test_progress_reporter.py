"""The "== Status ==" progress report (spec §12, §18.30)."""
import collections
import platform
import re

import pytest

from tunec import progress_reporter as pr
from tunec.progress_reporter import (DEFAULT_COLUMNS, CLIReporter, JupyterNotebookReporter,
                                     TuneReporterBase, detect_reporter, memory_debug_str,
                                     trial_errors_str, trial_progress_str, trial_result_str)
from tunec.trial import Location, Trial

SYS_INFO = ("Using FIFO scheduling algorithm.", "Resources requested: 1/8 CPUs, 0/0 GPUs")
EXP_DIR = "/tmp/ray_results/exp"


def make_trial(index, status, lr=0.01, depth=2, local_dir=EXP_DIR, location=None,
               result=None, error_file=None, num_failures=0, trainable="train"):
    trial = Trial(trainable, config={"lr": lr, "model": {"depth": depth}, "const": 5},
                  trial_id="{:05d}".format(index), local_dir=local_dir,
                  evaluated_params={"lr": lr, "model/depth": depth})
    trial.status = status
    if location:
        trial.location = Location(*location)
    trial.last_result = result or {}
    trial.error_file = error_file
    trial.num_failures = num_failures
    return trial


@pytest.fixture
def trials():
    return [
        make_trial(0, "RUNNING", 0.01, 2, location=(platform.node(), 4242),
                   result={"mean_accuracy": 0.5, "training_iteration": 3, "time_total_s": 1.5,
                           "nested": {"score": 7}}),
        make_trial(1, "TERMINATED", 0.1, 4, location=("node-2", 77),
                   result={"mean_accuracy": 0.875, "training_iteration": 10,
                           "time_total_s": 12.25, "mean_loss": None}),
        make_trial(2, "ERROR", 1e-4, 8, error_file=EXP_DIR + "/train_2/error.txt",
                   num_failures=1),
        make_trial(3, "PENDING", 0.001, 2, local_dir="/tmp/ray_results/another"),
    ]


FULL_REPORT_TAIL = """\
Using FIFO scheduling algorithm.
Resources requested: 1/8 CPUs, 0/0 GPUs
Result logdir: /tmp/ray_results/another
Result logdir: /tmp/ray_results/exp
Number of trials: 4 (1 ERROR, 1 PENDING, 1 RUNNING, 1 TERMINATED)
+--------------+------------+-----------+--------+---------------+-------+--------+------------------+
| Trial name   | status     | loc       |     lr |   model/depth |   acc |   iter |   total time (s) |
|--------------+------------+-----------+--------+---------------+-------+--------+------------------|
| train_00000  | RUNNING    | pid=4242  | 0.01   |             2 | 0.5   |      3 |             1.5  |
| train_00001  | TERMINATED | node-2:77 | 0.1    |             4 | 0.875 |     10 |            12.25 |
| train_00002  | ERROR      |           | 0.0001 |             8 |       |        |                  |
| train_00003  | PENDING    |           | 0.001  |             2 |       |        |                  |
+--------------+------------+-----------+--------+---------------+-------+--------+------------------+
Number of errored trials: 1
+--------------+--------------+----------------------------------------+
| Trial name   |   # failures | error file                             |
|--------------+--------------+----------------------------------------|
| train_00002  |            1 | /tmp/ray_results/exp/train_2/error.txt |
+--------------+--------------+----------------------------------------+
"""

MEMORY_LINE = re.compile(
    r"^(Memory usage on this node: \d+\.\d/\d+\.\d GiB(: \*\*\*LOW MEMORY\*\*\* .*)?"
    r"|Unknown memory usage\. Please run `pip install psutil` \(or ray\[debug\]\) to resolve\))$")


def test_full_report_text(trials, capsys):
    CLIReporter().report(trials, False, *SYS_INFO)
    out = capsys.readouterr().out
    header, memory, tail = out.split("\n", 2)
    assert header == "== Status =="
    assert MEMORY_LINE.match(memory), memory
    # print() adds one newline after the report's own trailing "\n".
    assert tail == FULL_REPORT_TAIL + "\n"


def test_report_without_errors_ends_with_empty_error_part(trials):
    for t in trials:
        t.error_file = None
    text = CLIReporter()._progress_str(trials, False)
    # The error part is an empty message, so the report ends "table\n\n" (Ray).
    assert text.endswith("+------------------+\n\n")
    assert "errored" not in text


def test_memory_debug_str_format():
    assert MEMORY_LINE.match(memory_debug_str())


def test_no_trials_gives_only_status_lines():
    text = CLIReporter()._progress_str([], False, "sched")
    assert text.split("\n")[0] == "== Status =="
    assert text.endswith("sched\n\n\n")


# -- columns ----------------------------------------------------------------------
def _header(text):
    """The column names of the first table in ``text``."""
    line = [l for l in text.split("\n") if l.startswith("| Trial name")][0]
    return [c.strip() for c in line.strip("|").split("|")]


def test_metric_column_needs_a_non_none_value(trials):
    header = _header(trial_progress_str(trials, DEFAULT_COLUMNS))
    assert "loss" not in header  # mean_loss is None everywhere
    assert "ts" not in header and "reward" not in header
    trials[3].last_result = {"mean_loss": 0.25}
    assert "loss" in _header(trial_progress_str(trials, DEFAULT_COLUMNS))


def test_metric_columns_list_and_nested_keys(trials):
    text = trial_progress_str(trials, ["nested/score", "training_iteration", "absent"])
    assert _header(text) == ["Trial name", "status", "loc", "lr", "model/depth",
                             "nested/score", "training_iteration"]
    row = [l for l in text.split("\n") if l.startswith("| train_00000")][0]
    assert [c.strip() for c in row.strip("|").split("|")][-2:] == ["7", "3"]


def test_metric_columns_dict_uses_display_names(trials):
    text = trial_progress_str(trials, {"mean_accuracy": "Accuracy", "time_total_s": "T"})
    assert _header(text)[-2:] == ["Accuracy", "T"]


def test_parameter_columns_default_is_sorted_union(trials):
    trials[1].evaluated_params = {"zeta": 1, "lr": 0.1, "alpha": 2}
    trials[1].config["zeta"] = 1
    trials[1].config["alpha"] = 2
    header = _header(trial_progress_str(trials, []))
    assert header == ["Trial name", "status", "loc", "alpha", "lr", "model/depth", "zeta"]


def test_parameter_columns_list_and_dict(trials):
    text = trial_progress_str(trials, [], parameter_columns=["const", "model/depth"])
    assert _header(text) == ["Trial name", "status", "loc", "const", "model/depth"]
    text = trial_progress_str(trials, [], parameter_columns={"model/depth": "depth"})
    assert _header(text) == ["Trial name", "status", "loc", "depth"]
    rows = [l for l in text.split("\n") if l.startswith("| train_")]
    assert [r.strip("|").split("|")[-1].strip() for r in rows] == ["2", "4", "8", "2"]


def test_loc_column(trials):
    rows = [l for l in trial_progress_str(trials, []).split("\n") if l.startswith("| train_")]
    locs = [r.strip("|").split("|")[2].strip() for r in rows]
    assert locs == ["pid=4242", "node-2:77", "", ""]


def test_total_samples_in_count_line(trials):
    assert "Number of trials: 4/10 (" in trial_progress_str(trials, [], total_samples=10)
    assert "Number of trials: 4/infinite (" in trial_progress_str(
        trials, [], total_samples=2 ** 63)


def test_html_format(trials):
    text = trial_progress_str(trials, DEFAULT_COLUMNS, fmt="html")
    assert text.startswith("Result logdir: /tmp/ray_results/another<br>Result logdir: ")
    assert "<table>" in text and "<td>train_00000 </td>" in text


# -- row limits ---------------------------------------------------------------------
def _many_trials():
    # 30 trials with interleaved statuses: 12 RUNNING, 10 PENDING, 5 TERMINATED, 3 ERROR.
    statuses = ["RUNNING", "PENDING"] * 10 + [
        "RUNNING", "TERMINATED", "ERROR", "TERMINATED", "RUNNING",
        "TERMINATED", "ERROR", "TERMINATED", "ERROR", "TERMINATED"]
    assert collections.Counter(statuses) == {"RUNNING": 12, "PENDING": 10, "TERMINATED": 5,
                                             "ERROR": 3}
    trials = []
    for i, status in enumerate(statuses):
        trial = make_trial(i, status, lr=i)
        if status == "ERROR":
            trial.error_file = "/e/{}".format(i)
            trial.num_failures = 1
        trials.append(trial)
    return trials


def _row_names(text):
    return [l.split("|")[1].strip() for l in text.split("\n") if l.startswith("| train_")]


def test_overflow_rows_are_fair_and_grouped_by_status():
    trials = _many_trials()
    text = trial_progress_str(trials, [], max_rows=20)
    by_status = collections.defaultdict(list)
    for t in trials:
        by_status[t.status].append(str(t))
    # Round robin over ERROR, PENDING, RUNNING, TERMINATED (alphabetical):
    # ERROR runs out at 3, TERMINATED at 5, the last two rows go to
    # PENDING and RUNNING; each status keeps its lowest ids.
    expected = (by_status["ERROR"][:3] + by_status["PENDING"][:6] +
                by_status["RUNNING"][:6] + by_status["TERMINATED"][:5])
    assert _row_names(text) == expected
    assert text.split("\n")[-1] == "... 10 more trials not shown (4 PENDING, 6 RUNNING)"
    assert "Number of trials: 30 (3 ERROR, 10 PENDING, 12 RUNNING, 5 TERMINATED)" in text


def test_overflow_never_exceeds_max_rows():
    # Ray could print more rows than the limit when the last round-robin
    # pass overshot; tunec stops at the limit.
    statuses = ["A", "B", "C"] * 10
    trials = [make_trial(i, s) for i, s in enumerate(statuses)]
    text = trial_progress_str(trials, [], max_rows=20)
    assert len(_row_names(text)) == 20
    assert text.split("\n")[-1] == "... 10 more trials not shown (3 A, 3 B, 4 C)"


def test_final_report_shows_every_row():
    trials = _many_trials()
    text = CLIReporter(max_error_rows=1)._progress_str(trials, True)
    assert _row_names(text.split("Number of errored")[0]) == [str(t) for t in trials]
    assert "more trials not shown" not in text
    assert "Table truncated" not in text


def test_report_cuts_table_to_max_progress_rows():
    trials = _many_trials()
    text = CLIReporter(max_progress_rows=8)._progress_str(trials, False)
    assert "... 22 more trials not shown (" in text


def test_error_table_truncation():
    trials = _many_trials()
    text = trial_errors_str(trials, max_rows=2)
    lines = text.split("\n")
    assert lines[0] == "Number of errored trials: 3"
    assert lines[1] == "Table truncated to 2 rows (1 overflow)"
    assert lines[2:] == [
        "+--------------+--------------+--------------+",
        "| Trial name   |   # failures | error file   |",
        "|--------------+--------------+--------------|",
        "| train_00022  |            1 | /e/22        |",
        "| train_00026  |            1 | /e/26        |",
        "+--------------+--------------+--------------+",
    ]
    assert trial_errors_str(trials[:3]) == ""


# -- reporter objects ----------------------------------------------------------------
class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize("steps,expected", [
    # (seconds advanced before the call, done) -> should_report
    ([(0, False), (1, False), (4, False), (0.5, False)], [True, False, False, True]),
    ([(0, False), (5, False), (0.001, False)], [True, False, True]),
    ([(0, False), (1, True), (1, False)], [True, True, False]),
])
def test_should_report_frequency(steps, expected):
    reporter = CLIReporter(max_report_frequency=5)
    reporter._clock = clock = FakeClock()
    got = []
    for advance, done in steps:
        clock.now += advance
        got.append(reporter.should_report([], done=done))
    assert got == expected


def test_add_metric_column():
    reporter = CLIReporter()
    reporter.add_metric_column("score")
    reporter.add_metric_column("f1", "F1")
    assert list(reporter._metric_columns.items())[-2:] == [("score", "score"), ("f1", "F1")]
    with pytest.raises(ValueError, match="Column score already exists."):
        reporter.add_metric_column("score")
    with pytest.raises(ValueError, match="Column mean_accuracy already exists."):
        reporter.add_metric_column("mean_accuracy")

    listed = CLIReporter(metric_columns=["a"])
    listed.add_metric_column("b")
    listed.add_metric_column("c", "c")
    assert listed._metric_columns == ["a", "b", "c"]
    with pytest.raises(ValueError, match="cannot differ"):
        listed.add_metric_column("d", "D")


def test_user_columns_are_copied():
    columns = ["a"]
    CLIReporter(metric_columns=columns).add_metric_column("b")
    assert columns == ["a"]


def test_add_parameter_column():
    reporter = CLIReporter(parameter_columns={"lr": "LR"})
    reporter.add_parameter_column("momentum")
    assert reporter._parameter_columns == {"lr": "LR", "momentum": "momentum"}
    with pytest.raises(ValueError, match="Column lr already exists."):
        reporter.add_parameter_column("lr")


@pytest.mark.parametrize("kwargs,error,match", [
    ({"metric_columns": 5}, TypeError, "metric_columns"),
    ({"metric_columns": [1]}, TypeError, "metric_columns"),
    ({"parameter_columns": "lr"}, TypeError, "parameter_columns"),
    ({"parameter_columns": {"lr": 3}}, TypeError, "parameter_columns"),
    ({"max_progress_rows": ["lr"]}, TypeError, "max_progress_rows"),
    ({"max_error_rows": -1}, TypeError, "max_error_rows"),
    ({"max_report_frequency": "5"}, TypeError, "max_report_frequency"),
    ({"mode": "best"}, ValueError, "mode"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        CLIReporter(**kwargs)


def test_1x_keyword_arguments_are_accepted():
    reporter = TuneReporterBase(metric="acc", mode="max", sort_by_metric=True, infer_limit=2,
                                parameter_columns=["lr"])
    assert reporter.set_search_properties("other", None) is False
    assert TuneReporterBase().set_search_properties("acc", "max") is True


def test_custom_reporter_interface():
    class Collect(pr.ProgressReporter):
        def __init__(self):
            self.calls = []

        def should_report(self, trials, done=False):
            return True

        def report(self, trials, done, *sys_info):
            self.calls.append((len(trials), done, sys_info))

    reporter = Collect()
    reporter.report([], True, "a", "b")
    assert reporter.calls == [(0, True, ("a", "b"))]
    with pytest.raises(NotImplementedError):
        pr.ProgressReporter().report([], False)


def test_jupyter_reporter_prints_without_ipython(trials, capsys):
    try:
        import IPython  # noqa: F401
        pytest.skip("IPython is installed: the HTML path is used")
    except ImportError:
        pass
    JupyterNotebookReporter(overwrite=True).report(trials, False, *SYS_INFO)
    assert capsys.readouterr().out.split("\n", 2)[2] == FULL_REPORT_TAIL + "\n"


def test_jupyter_reporter_displays_html(trials, monkeypatch):
    # A stand-in for IPython.display that records what the reporter shows.
    import sys
    import types
    events = []
    display_module = types.ModuleType("IPython.display")
    display_module.HTML = lambda text: ("HTML", text)
    display_module.display = events.append
    display_module.clear_output = lambda wait=False: events.append(("clear", wait))
    ipython = types.ModuleType("IPython")
    ipython.display = display_module
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display_module)

    JupyterNotebookReporter(overwrite=True).report(trials, False, *SYS_INFO)
    JupyterNotebookReporter(overwrite=False).report(trials, True)
    assert [e[0] for e in events] == ["clear", "HTML", "HTML"]
    html = events[1][1]
    assert html.startswith("== Status ==<br>")
    assert "<br>Using FIFO scheduling algorithm.<br>" in html
    assert html.endswith("</table><br>")
    assert "<th>Trial name  </th>" in html


def test_detect_reporter_outside_notebook():
    reporter = detect_reporter(verbose=1)
    assert type(reporter) is CLIReporter


def test_trial_result_str():
    trial = make_trial(5, "RUNNING")
    result = {"mean_accuracy": 0.5, "config": {"lr": 1}, "hist_stats": [1], "done": False,
              "info": {"b": 2, "a": None}, "missing": None, "name": "yes"}
    assert trial_result_str(trial, result) == (
        "Result for train_00005:\n"
        "  done: false\n"
        "  info:\n"
        "    a: null\n"
        "    b: 2\n"
        "  mean_accuracy: 0.5\n"
        "  name: 'yes'\n"
        "  ")


def test_unflattened_lookup():
    data = {"a": {"b": [10, {"c": 3}]}, "x/y": 1}
    assert pr.unflattened_lookup("a/b/1/c", data) == 3
    assert pr.unflattened_lookup("a/b/0", data) == 10
    assert pr.unflattened_lookup("x/y", data) == 1
    assert pr.unflattened_lookup("a/zz", data, default=None) is None
    assert pr.unflattened_lookup("a/b/9", data, default="d") == "d"
    with pytest.raises(KeyError):
        pr.unflattened_lookup("nope", data)


@pytest.mark.parametrize("shell_name,verbose,expected", [
    ("ZMQInteractiveShell", 1, (JupyterNotebookReporter, True)),
    ("ZMQInteractiveShell", 2, (JupyterNotebookReporter, False)),
    ("TerminalInteractiveShell", 1, (CLIReporter, None)),
    (None, 1, (CLIReporter, None)),
])
def test_detect_reporter_under_ipython(monkeypatch, shell_name, verbose, expected):
    import sys
    import types
    ipython = types.ModuleType("IPython")
    shell = type(shell_name, (), {})() if shell_name else None
    ipython.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    reporter = detect_reporter(verbose)
    assert type(reporter) is expected[0]
    assert getattr(reporter, "_overwrite", None) == expected[1]


def test_presentation_modules_import_no_heavy_packages():
    # The reporters, loggers and stoppers must not pull numpy, pandas or the
    # optional libraries in at import time (they are imported on use).
    import subprocess
    import sys
    code = (
        "import sys, tunec\n"
        "before = set(sys.modules)\n"
        "import tunec.progress_reporter, tunec.logger, tunec.stopper, tunec.result, "
        "tunec.callback, tunec._table, tunec._yaml\n"
        "new = set(sys.modules) - before\n"
        "heavy = ('numpy', 'pandas', 'psutil', 'cloudpickle', 'yaml', 'tabulate', 'IPython',"
        " 'tensorboardX', 'torch')\n"
        "print(sorted(m for m in new if m.split('.')[0] in heavy))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
