"""Ray's reporter options (max_column_length, print_intermediate_tables,
sort_by_metric, max_report_frequency) and the one-line ProgressBarReporter:
on Trial objects, in real runs, and in a real terminal (tmux)."""
import io
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

import tunec as tune
from tunec.progress_bar import expected_trials
from tunec.progress_reporter import CLIReporter, ProgressBarReporter, trial_progress_str
from tunec.trial import Trial


def make_trial(index, status, config=None, result=None):
    trial = Trial("train", config=config or {"lr": index}, trial_id="{:05d}".format(index),
                  local_dir="/tmp/exp", evaluated_params=config or {"lr": index})
    trial.status = status
    trial.last_result = result or {}
    return trial


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


# -- max_column_length ------------------------------------------------------------
def test_max_column_length_cuts_long_cells_as_ray_does():
    long_param = "a-very-long-parameter-value-0123456789"
    long_metric = "a-long-metric-text-abcdefghijklmnop"
    trial = make_trial(0, "RUNNING", {"name": long_param, "n": 123456789012345},
                       {"text": long_metric, "mean_loss": 0.123456789})
    out = trial_progress_str([trial], ["text", "mean_loss"], max_column_length=20)
    row = [line for line in out.splitlines() if line.startswith("| train")][0]
    cells = [c.strip() for c in row.strip("|").split("|")]
    # Parameters keep their start and get 4 hex digits of the value's id.
    name_cell = [c for c in cells if c.startswith("a-very-long")][0]
    assert re.fullmatch(r"a-very-long-par_[0-9a-f]{4}", name_cell), name_cell
    assert "..." + long_metric[-17:] in cells
    assert "123456789012345" in cells and "0.123457" in cells      # numbers never cut
    # The reporter's default is Ray's 20; 0 turns the cut off.
    assert "..." + long_metric[-17:] in CLIReporter(metric_columns=["text"])._progress_str([trial], False)
    uncut = CLIReporter(["text"], max_column_length=0)._progress_str([trial], False)
    assert long_metric in uncut and long_param in uncut
    with pytest.raises(TypeError, match="max_column_length"):
        CLIReporter(max_column_length=-1)


# -- print_intermediate_tables / max_report_frequency ---------------------------------
def test_print_intermediate_tables_false_reports_only_at_the_end():
    reporter = CLIReporter(print_intermediate_tables=False, max_report_frequency=0)
    trials = [make_trial(0, "RUNNING")]
    assert not reporter.should_report(trials)
    assert reporter.should_report(trials, done=True)
    reporter = CLIReporter(print_intermediate_tables=True, max_report_frequency=0)
    assert reporter.should_report(trials)
    with pytest.raises(TypeError, match="print_intermediate_tables"):
        CLIReporter(print_intermediate_tables="yes")


def test_max_report_frequency_spaces_reports():
    clock = FakeClock()
    reporter = CLIReporter(max_report_frequency=10)
    reporter._clock = clock
    assert reporter.should_report([])
    clock.now += 5
    assert not reporter.should_report([])
    assert reporter.should_report([], done=True)
    clock.now += 11
    assert reporter.should_report([])


def _say(config):
    tune.report(mean_loss=config["lr"])


def test_real_run_prints_only_the_final_table_when_asked(tmp_path, two_cpus, capsys):
    reporter = CLIReporter(print_intermediate_tables=False, max_report_frequency=0,
                           sort_by_metric=True)
    tune.run(_say, config={"lr": tune.grid_search([0.3, 0.1, 0.2])}, verbose=1,
             local_dir=str(tmp_path), progress_reporter=reporter, metric="mean_loss",
             mode="min")
    out = capsys.readouterr().out
    assert out.count("== Status ==") == 1
    # sort_by_metric: the terminated trials best first.
    losses = [float(m) for m in re.findall(r"TERMINATED \|[^|]*\|[^|]*\|\s*([0-9.]+) \|", out)]
    assert losses == [0.1, 0.2, 0.3], out


# -- ProgressBarReporter -------------------------------------------------------------------
def test_progress_line_counts_best_and_eta():
    clock = FakeClock()
    bar = ProgressBarReporter(metric="mean_loss", mode="min", total_samples=4, bar_width=8)
    bar._clock = clock
    trials = [make_trial(0, "TERMINATED", result={"mean_loss": 0.5}),
              make_trial(1, "RUNNING", result={"mean_loss": 0.25}),
              make_trial(2, "PENDING")]
    assert bar.should_report(trials)             # starts the clock
    clock.now += 30
    line = bar.progress_line(trials)
    assert line == ("[##------] 1/4 trials (1 PENDING, 1 RUNNING) | best mean_loss=0.25 "
                    "(00001) | 0:00:30 elapsed, ETA 0:01:30")
    trials[1].status = "ERROR"
    trials[2].status = "TERMINATED"
    trials[2].last_result = {"mean_loss": 0.75}
    trials.append(make_trial(3, "TERMINATED", result={"mean_loss": 0.1}))
    clock.now += 30
    assert bar.progress_line(trials, done=True) == (
        "[########] 4/4 trials (1 ERROR) | best mean_loss=0.1 (00003) | done in 0:01:00")
    # No metric: no best; no finished trial: no estimate yet.
    plain = ProgressBarReporter(bar_width=0)
    plain._clock = clock
    assert plain.progress_line([make_trial(0, "RUNNING")]) == \
        "0/1 trials (1 RUNNING) | 0:00:00 elapsed, ETA ?"
    assert ProgressBarReporter(mode="max").set_search_properties("acc", None)
    assert not ProgressBarReporter(metric="a").set_search_properties("b", None)
    for bad in ({"mode": "best"}, {"bar_width": -1}, {"max_report_frequency": "1"},
                {"total_samples": 1.5}):
        with pytest.raises((TypeError, ValueError)):
            ProgressBarReporter(**bad)


def test_progress_bar_writes_lines_off_a_terminal():
    out = io.StringIO()
    bar = ProgressBarReporter(max_report_frequency=0, file=out)
    trials = [make_trial(0, "RUNNING")]
    bar.report(trials, False)
    trials[0].status = "TERMINATED"
    bar.report(trials, True)
    lines = out.getvalue().split("\n")
    assert lines[0].startswith("[--------------------] 0/1 trials (1 RUNNING)")
    assert lines[1].startswith("[####################] 1/1 trials | done in")
    assert "\r" not in out.getvalue()


def test_expected_trials_counts_grids_and_samples():
    from tunec.experiment import Experiment
    exps = [Experiment("a", _say, num_samples=2,
                       config={"lr": tune.grid_search([1, 2, 3]),
                               "m": {"k": tune.grid_search(["x", "y"])}}),
            Experiment("b", _say, num_samples=5, config={"lr": tune.uniform(0, 1)})]
    assert expected_trials(exps) == 2 * 3 * 2 + 5
    assert expected_trials([Experiment("c", _say, num_samples=-1)]) is None


def test_real_run_with_the_progress_bar(tmp_path, two_cpus, capsys):
    bar = ProgressBarReporter(max_report_frequency=0)
    tune.run(_say, config={"lr": tune.grid_search([0.3, 0.1, 0.2])}, num_samples=2,
             local_dir=str(tmp_path), progress_reporter=bar, metric="mean_loss", mode="min",
             verbose=1)
    out = capsys.readouterr().out
    assert "== Status ==" not in out
    last = out.strip().splitlines()[-1]
    assert re.match(r"\[#{20}\] 6/6 trials \| best mean_loss=0\.1 \(\w+\) \| done in ", last), out
    # Every report line had the total from the start (3 grid values x 2 samples).
    assert all("/6 trials" in line for line in out.strip().splitlines())


# -- in a real terminal -----------------------------------------------------------------
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def test_progress_bar_rewrites_one_line_in_a_terminal(tmp_path):
    tmux = shutil.which("tmux")
    if tmux is None:
        subprocess.run(["make", "-s", "tmux"], cwd=os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))), capture_output=True, timeout=600)
        tmux = shutil.which("tmux")
    if tmux is None:
        pytest.skip("tmux is not installed and apt-get could not install it")
    script = tmp_path / "bar.py"
    script.write_text(textwrap.dedent("""
        import sys
        import tunec as tune
        def f(config):
            for i in range(3):
                tune.report(mean_loss=config["lr"] * (3 - i))
        tune.init(num_cpus=2)
        tune.run(f, config={"lr": tune.grid_search([0.4, 0.2, 0.3, 0.5])},
                 local_dir=sys.argv[1], verbose=1, metric="mean_loss", mode="min",
                 progress_reporter=tune.ProgressBarReporter(max_report_frequency=0))
    """))
    session = "tunec-bar-{}".format(uuid.uuid4().hex[:8])
    done = "BAR-DONE-{}".format(uuid.uuid4().hex[:6])
    subprocess.run([tmux, "-L", session, "new-session", "-d", "-s", session, "-x", "150",
                    "-y", "40", "sh"], check=True, timeout=60)
    try:
        subprocess.run([tmux, "-L", session, "send-keys", "-t", session, "{} {} {}; echo {}"
                        .format(sys.executable, script, tmp_path / "results", done), "Enter"],
                       check=True, timeout=60)
        deadline = time.monotonic() + 180           # a hang guard, not a speed check
        while True:
            screen = subprocess.run([tmux, "-L", session, "capture-pane", "-p", "-t", session],
                                    capture_output=True, text=True, timeout=60).stdout
            lines = [_ANSI.sub("", line).rstrip() for line in screen.splitlines()]
            if done in lines:
                break
            assert time.monotonic() < deadline, screen
            time.sleep(0.2)
    finally:
        subprocess.run([tmux, "-L", session, "kill-server"], timeout=60)
    shown = [line for line in lines if "trials" in line]
    # One line, rewritten in place: the final state only, fitting the width.
    assert len(shown) == 1, screen
    # The best of the last results: lr 0.2 x 1 at the third report.
    assert re.match(r"\[#{20}\] 4/4 trials \| best mean_loss=0\.2 \(\w+\) \| done in \d",
                    shown[0]), screen
    assert len(shown[0]) <= 150
