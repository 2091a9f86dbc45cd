"""The `tune` command (spec §14): `ls`/`list-trials`, `lsx`/`list-experiments`
and `add-note`, run as the installed console scripts on an experiment that
tune.run wrote, checked by their output, against Ray's own algorithm (pandas
+ tabulate, both installed here), and in a real terminal (tmux)."""
import csv
import os
import re
import shutil
import subprocess
import sys
import time
import uuid

import pytest

import tunec as tune

BIN = os.path.dirname(sys.executable)
TUNE = os.path.join(BIN, "tune")
TUNEC = os.path.join(BIN, "tunec")


def _trainable(config):
    for i in range(3):
        tune.report(mean_loss=config["lr"] * (3 - i), mean_accuracy=i / 10.0)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    tune.init(num_cpus=2)
    try:
        tune.run(_trainable, name="exp", local_dir=str(root), verbose=0,
                 config={"lr": tune.grid_search([0.3, 0.1, 0.2, 0.4]),
                         "act": tune.grid_search(["relu", "tanh"])})
    finally:
        tune.shutdown()
    (root / "empty_exp").mkdir()
    return root


def tune_cli(*args, exe=TUNE, env=None, check=True):
    proc = subprocess.run([exe] + [str(a) for a in args], capture_output=True, text=True,
                          env=dict(os.environ, COLUMNS="300", **(env or {})), timeout=120,
                          stdin=subprocess.DEVNULL)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def table_rows(out):
    """The psql table of `out` as header + rows of stripped cells."""
    lines = [line for line in out.splitlines() if line.startswith("|")
             and not line.startswith("|-")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    return cells[0], cells[1:]


def column(out, name):
    header, rows = table_rows(out)
    return [row[header.index(name)] for row in rows]


# -- ls ------------------------------------------------------------------------
def test_ls_default_columns_and_aliases(project):
    out = tune_cli("ls", project / "exp").stdout
    header, rows = table_rows(out)
    assert len(rows) == 8
    for key in ("trial_id", "experiment_tag", "training_iteration", "mean_loss",
                "mean_accuracy", "config/lr", "config/act"):
        assert key in header
    assert "logdir" not in header and "pid" not in header
    assert set(column(out, "training_iteration")) == {"3"}
    # The other spellings give the same table.
    assert tune_cli("list-trials", project / "exp").stdout == out
    assert tune_cli("ls", project / "exp", exe=TUNEC).stdout == out
    proc = subprocess.run([sys.executable, "-m", "tunec", "ls", str(project / "exp")],
                          capture_output=True, text=True, env=dict(os.environ, COLUMNS="300"),
                          stdin=subprocess.DEVNULL, timeout=120)
    assert proc.stdout == out


def test_ls_sort_desc_limit(project):
    out = tune_cli("ls", project / "exp", "--sort", "config/lr").stdout
    lrs = [float(v) for v in column(out, "config/lr")]
    assert lrs == sorted(lrs)
    out = tune_cli("ls", project / "exp", "--sort", "config/lr,config/act", "--desc", "True",
                   "--limit", "3").stdout
    header, rows = table_rows(out)
    assert len(rows) == 3
    assert [(float(r[header.index("config/lr")]), r[header.index("config/act")])
            for r in rows] == [(0.4, "tanh"), (0.4, "relu"), (0.3, "tanh")]
    # A bare --desc means True as well.
    assert tune_cli("ls", project / "exp", "--sort", "config/lr,config/act", "--desc",
                    "--limit", "3").stdout == out


def test_ls_filter_numeric_and_string(project):
    out = tune_cli("ls", project / "exp", "--filter", "config/lr >= 0.3").stdout
    assert sorted(float(v) for v in column(out, "config/lr")) == [0.3, 0.3, 0.4, 0.4]
    out = tune_cli("ls", project / "exp", "--filter", "config/act == tanh").stdout
    assert set(column(out, "config/act")) == {"tanh"} and len(table_rows(out)[1]) == 4
    out = tune_cli("ls", project / "exp", "--filter", "config/act != tanh",
                   "--filter", "mean_loss < 0.25").stdout
    # The last --filter wins (one filter, as in Ray).
    assert all(float(v) < 0.25 for v in column(out, "mean_loss"))


def test_ls_columns_and_result_columns(project):
    out = tune_cli("ls", project / "exp", "--columns", "trial_id,config/lr").stdout
    assert table_rows(out)[0] == ["trial_id", "config/lr"]
    out = tune_cli("ls", project / "exp", "--result-columns", "mean_loss,pid").stdout
    header = table_rows(out)[0]
    assert "mean_loss" in header and "pid" in header and "config/lr" in header
    assert "training_iteration" not in header
    out = tune_cli("ls", project / "exp", "--columns", "trial_id",
                   "--result-columns", "done").stdout
    assert table_rows(out)[0] == ["done", "trial_id"]     # the dataframe's order


def test_ls_output_csv_and_pickle(project, tmp_path):
    out_csv = tmp_path / "trials.csv"
    proc = tune_cli("ls", project / "exp", "--columns", "trial_id,config/lr,mean_loss",
                    "--sort", "mean_loss", "-o", out_csv)
    assert "Output saved at {}".format(out_csv) in proc.stdout
    with open(out_csv) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8 and list(rows[0]) == ["mean_loss", "trial_id", "config/lr"]
    losses = [float(r["mean_loss"]) for r in rows]
    assert losses == sorted(losses)
    pd = pytest.importorskip("pandas")
    out_pkl = tmp_path / "trials.pkl"
    tune_cli("ls", project / "exp", "--output", out_pkl, "--filter", "config/lr > 0.15")
    frame = pd.read_pickle(out_pkl)
    assert len(frame) == 6 and (frame["config/lr"] > 0.15).all()


def test_ls_matches_analysis_dataframe(project):
    """The listing's cells are Analysis(path).dataframe()'s (the full loader)."""
    from tunec import _listing
    from tunec.analysis import Analysis
    listing = _listing.trial_listing(str(project / "exp"))
    frame = Analysis(str(project / "exp")).dataframe()
    assert set(listing.columns) == set(frame.columns)
    by_id = {row["trial_id"]: row for row in listing.rows}
    for record in frame.to_dict("records"):
        row = by_id[record["trial_id"]]
        for key, value in record.items():
            assert row[key] == value or (_listing.is_missing(row[key])
                                         and _listing.is_missing(value)), key


def test_ls_errors_exit_1_with_rays_message(project, tmp_path):
    cases = [
        (("ls", project / "exp", "--columns", "nope"), "Provided key invalid: nope"),
        (("ls", project / "exp", "--sort", "nope"), "nope not in:"),
        (("ls", project / "exp", "--filter", "config/lr >"), "Filter must be of the form"),
        (("ls", project / "exp", "--filter", "config/lr ~ 1"), "Filter operator"),
        (("ls", project / "exp", "--filter", "config/lr > abc"), "is not a number"),
        (("ls", project / "exp", "-o", tmp_path / "out.txt"), "Unsupported filetype"),
        (("ls", project / "empty_exp"), "No trial data found!"),
        (("ls", tmp_path / "missing"), "No trial data found!"),
        (("lsx", tmp_path / "missing"), "is not a valid directory"),
        (("lsx", project / "empty_exp"), "No experiments found!"),
        (("add-note", tmp_path / "missing"), "is not a valid directory"),
    ]
    for args, message in cases:
        proc = tune_cli(*args, check=False)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert message in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    proc = tune_cli("ls", check=False)            # argparse: usage, exit 2
    assert proc.returncode == 2 and "experiment_path" in proc.stderr


# -- lsx / add-note --------------------------------------------------------------
def test_lsx_counts_trials(project, tmp_path):
    out = tune_cli("lsx", project).stdout
    header, rows = table_rows(out)
    assert header == ["name", "total_trials"]
    assert dict(rows) == {"exp": "8", "empty_exp": "0"}
    out = tune_cli("list-experiments", project, "--filter", "total_trials > 0").stdout
    assert dict(table_rows(out)[1]) == {"exp": "8"}
    out_csv = tmp_path / "exps.csv"
    tune_cli("lsx", project, "--sort", "name", "-o", out_csv)
    assert out_csv.read_text().splitlines() == ["name,total_trials", "empty_exp,0", "exp,8"]


def test_add_note_runs_the_editor(project, tmp_path):
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\necho 'a note' >> \"$1\"\n")
    editor.chmod(0o755)
    proc = tune_cli("add-note", project / "exp", env={"EDITOR": str(editor)})
    note = project / "exp" / "note.txt"
    assert proc.stdout.strip() == "Note created at: {}".format(note)
    proc = tune_cli("add-note", project / "exp", env={"EDITOR": str(editor)})
    assert proc.stdout.strip() == "Note updated at: {}".format(note)
    assert note.read_text() == "a note\na note\n"
    tune_cli("add-note", project / "exp", "--filename", "other.md", env={"EDITOR": str(editor)})
    assert (project / "exp" / "other.md").read_text() == "a note\n"


# -- Ray's print_format_output, against pandas + tabulate ----------------------------
def _rays_print_format_output(dataframe, width):
    """Ray's algorithm (commands.print_format_output), on the real libraries."""
    import pandas as pd
    from tabulate import tabulate
    print_df = pd.DataFrame()
    dropped_cols, empty_cols = [], []
    for i, col in enumerate(dataframe):
        if dataframe[col].isnull().all():
            empty_cols += [col]
            continue
        print_df[col] = dataframe[col]
        test_table = tabulate(print_df, headers="keys", tablefmt="psql")
        if str(test_table).index("\n") > width:
            print_df = print_df.drop(columns=[col])
            dropped_cols += list(dataframe.columns)[i:]
            break
    table = tabulate(print_df, headers="keys", tablefmt="psql", showindex="never")
    return table, dropped_cols, empty_cols


@pytest.mark.parametrize("width", [40, 60, 85, 120, 300])
def test_print_table_matches_rays_on_pandas_and_tabulate(project, width, capsys):
    pytest.importorskip("tabulate")
    from tunec import _listing
    listing = _listing.trial_listing(str(project / "exp"))
    listing = _listing.apply_sort(listing, ["mean_loss"], desc=True)   # a shuffled index
    frame = listing.to_pandas()
    expected = _rays_print_format_output(frame, width)
    got = _listing.print_table(listing, width=width)
    capsys.readouterr()
    assert got == expected


# -- module paths --------------------------------------------------------------------
def test_rays_module_paths_resolve():
    from tunec.compat import ray_aliases
    with ray_aliases("shim"):
        import ray.tune.cli.commands as cli_commands
        import ray.tune.cli.scripts as cli_scripts
        import ray.tune.commands as commands
        import ray.tune.scripts as scripts
    from tunec import commands as tunec_commands
    assert cli_commands.list_trials is commands.list_trials is tunec_commands.list_trials
    assert cli_scripts.main is scripts.main and callable(scripts.cli)


# -- a real terminal -------------------------------------------------------------------
def _tmux():
    """tmux, installed with apt-get when missing (as the Makefile does)."""
    path = shutil.which("tmux")
    if path is None:
        subprocess.run(["make", "-s", "tmux"], cwd=os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))), capture_output=True, timeout=600)
        path = shutil.which("tmux")
    if path is None:
        pytest.skip("tmux is not installed and apt-get could not install it")
    return path


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_ls_in_a_real_terminal_fits_its_width(project):
    tmux = _tmux()
    session = "tunec-cli-{}".format(uuid.uuid4().hex[:8])
    tag = uuid.uuid4().hex[:6]
    done = "LS-DONE-{}".format(tag)
    # The pane runs the command itself (then cat, to keep it open): keys typed
    # into a shell can arrive before its prompt, which then lands in front of
    # the table's first line. The marker is printed from two pieces, so that
    # only the output can hold it whole.
    command = "{} ls {}; printf '%s-%s\\n' LS-DONE {}; exec cat".format(
        TUNE, project / "exp", tag)
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    subprocess.run([tmux, "-L", session, "new-session", "-d", "-s", session, "-x", "70",
                    "-y", "50", command], check=True, env=env, timeout=60)
    try:
        deadline = time.monotonic() + 120      # a hang guard, not a speed check
        while True:
            screen = subprocess.run([tmux, "-L", session, "capture-pane", "-p", "-e", "-J",
                                     "-t", session, "-S", "-60"], capture_output=True,
                                    text=True, timeout=60).stdout
            if any(_ANSI.sub("", line).strip() == done for line in screen.splitlines()):
                break
            assert time.monotonic() < deadline, screen
            time.sleep(0.2)
    finally:
        subprocess.run([tmux, "-L", session, "kill-server"], timeout=60)
    lines = screen.splitlines()
    # tmux's -e puts attribute changes where they happen, a reset at the start
    # of a line included: the table is read from the text without them.
    plain = [_ANSI.sub("", line) for line in lines]
    start = next(i for i, line in enumerate(plain) if line.startswith("+-"))
    table = [line for line in plain[start:] if line.startswith(("+", "|"))]
    assert len(table) == 8 + 4, screen
    assert all(len(line) <= 70 for line in table)     # the terminal's width was used
    # The columns that did not fit are named, in yellow as click.secho does.
    assert any("\x1b[33mDropped columns: [" in line for line in lines), screen


def test_ls_imports_neither_pandas_nor_numpy_nor_click(project):
    """What keeps `tune ls` fast (benchmarks/cli_ls.py measures it): the
    listing path loads none of the heavy modules."""
    code = ("import sys\nfrom tunec.scripts import main\n"
            "rc = main(['ls', sys.argv[1], '--sort', 'mean_loss', '--filter', "
            "'mean_loss > 0'])\n"
            "print('HEAVY', sorted(m for m in ('pandas', 'numpy', 'click') "
            "if m in sys.modules), rc)\n")
    proc = subprocess.run([sys.executable, "-c", code, str(project / "exp")],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY [] 0" in proc.stdout, proc.stdout
