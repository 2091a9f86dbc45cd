"""``ray.tune.commands`` (0.8): the functions behind the ``tune`` CLI's
list-trials, list-experiments and add-note, reading experiments with the
engine's analysis loader (tunec.analysis). Errors Ray raises as
``click.ClickException`` are that class when click is installed, else
TuneError with the same message."""
import operator
import os
import subprocess
import sys
from datetime import datetime

from tunec.error import TuneError

try:
    from click import ClickException
except ImportError:          # the CLI needs click; these functions do not
    class ClickException(TuneError):
        pass

DEFAULT_EXPERIMENT_INFO_KEYS = ("trainable_name", "experiment_tag", "trial_id")
DEFAULT_RESULT_KEYS = ("training_iteration", "time_total_s", "timesteps_total",
                       "episode_reward_mean", "mean_loss", "mean_accuracy")
DEFAULT_PROJECT_INFO_KEYS = ("name", "total_trials", "last_updated")
CONFIG_PREFIX = "config/"

try:
    TERM_HEIGHT, TERM_WIDTH = (int(x) for x in subprocess.check_output(
        ["stty", "size"], stderr=subprocess.DEVNULL).split())
except (subprocess.CalledProcessError, OSError, ValueError):
    TERM_HEIGHT, TERM_WIDTH = 100, 100

OPERATORS = {"<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
             ">=": operator.ge, ">": operator.gt}


def _echo(text, fg=None):
    try:
        import click
        click.secho(text, fg=fg)
    except ImportError:
        print(text)


def print_format_output(dataframe):
    """Prints `dataframe` as a psql table that fits the terminal: all-null
    columns are left out, and columns past the terminal's width are dropped
    (both listed after the table). Returns (table, dropped, empty)."""
    from tabulate import tabulate
    print_df = dataframe.__class__()
    dropped_cols = []
    empty_cols = []
    for i, col in enumerate(dataframe):
        if dataframe[col].isnull().all():
            empty_cols += [col]
            continue
        print_df[col] = dataframe[col]
        test_table = tabulate(print_df, headers="keys", tablefmt="psql")
        if str(test_table).index("\n") > TERM_WIDTH:
            print_df.pop(col)
            dropped_cols = list(dataframe.keys())[i:]
            break
    table = tabulate(print_df, headers="keys", tablefmt="psql", showindex="never")
    print(table)
    if dropped_cols:
        _echo("Dropped columns: {}".format(dropped_cols), fg="yellow")
        _echo("Please increase your terminal size to view remaining columns.", fg="yellow")
    if empty_cols:
        _echo("Empty columns: {}".format(empty_cols), fg="yellow")
    return table, dropped_cols, empty_cols


def _select_filter_sort(df, info_keys, default_keys, filter_op, sort, limit, desc):
    if not info_keys:
        info_keys = [k for k in df.columns
                     if k in default_keys or str(k).startswith(CONFIG_PREFIX)]
    else:
        for k in info_keys:
            if k not in df.columns:
                raise ClickException("Provided key invalid: {}. Available keys: {}.".format(
                    k, list(df.columns)))
        info_keys = [k for k in df.columns if k in info_keys]
    if not info_keys:
        raise ClickException("No columns to output.")
    df = df[list(info_keys)]
    if filter_op:
        parts = filter_op.split(" ")
        if len(parts) != 3:
            raise ClickException("Filter must be of form '<column> <operator> <value>'")
        col, op, val = parts
        if col not in df.columns or op not in OPERATORS:
            raise ClickException("Invalid filter: {}".format(filter_op))
        col_type = df[col].dtype
        if str(col_type).startswith(("float", "int")):
            val = float(val)
        elif col_type == object:
            val = str(val)
        else:
            raise ClickException("Unsupported dtype for {}: {}".format(val, col_type))
        df = df[OPERATORS[op](df[col], val)]
    if sort:
        sort = sort.split(",") if isinstance(sort, str) else list(sort)
        for key in sort:
            if key not in df:
                raise ClickException("{} not in: {}".format(key, list(df)))
        df = df.sort_values(by=sort, ascending=not desc)
    if limit:
        df = df[:limit]
    return df


def _output(df, output):
    if not output:
        return
    ext = os.path.splitext(output)[1]
    if ext in (".p", ".pkl", ".pickle"):
        df.to_pickle(output)
    elif ext == ".csv":
        df.to_csv(output, index=False)
    else:
        raise ClickException("Unsupported filetype: {}".format(output))
    _echo("Output saved at {}".format(output), fg="green")


def list_trials(experiment_path, sort=None, output=None, filter_op=None, info_keys=None,
                limit=None, desc=False):
    """Prints a table of the trials of `experiment_path` (last results,
    config/ columns)."""
    from tunec.analysis import Analysis
    try:
        checkpoints_df = Analysis(experiment_path).dataframe()
    except TuneError:
        raise ClickException("No trial data found!")
    if checkpoints_df is None or checkpoints_df.empty:
        raise ClickException("No trial data found!")
    df = _select_filter_sort(checkpoints_df, info_keys,
                             DEFAULT_EXPERIMENT_INFO_KEYS + DEFAULT_RESULT_KEYS, None, None,
                             None, desc)
    if "last_update_time" in df:
        df = df.assign(last_update_time=df["last_update_time"].map(
            lambda t: datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S (%A)")))
    if "logdir" in df:
        df = df.assign(logdir=df["logdir"].str.replace(str(experiment_path), "", regex=False))
    df = _select_filter_sort(df, list(df.columns), (), filter_op, sort, limit, desc)
    print_format_output(df)
    _output(df, output)


def list_experiments(project_path, sort=None, output=None, filter_op=None, info_keys=None,
                     limit=None, desc=False):
    """Prints a table of the experiments under `project_path` (name and
    number of trials with a result.json)."""
    import pandas as pd
    base, experiment_folders, _ = next(os.walk(project_path))
    experiment_data_collection = []
    for experiment_dir in experiment_folders:
        num_trials = sum("result.json" in files
                         for _, _, files in os.walk(os.path.join(base, experiment_dir)))
        experiment_data_collection.append({"name": experiment_dir, "total_trials": num_trials})
    if not experiment_data_collection:
        raise ClickException("No experiments found!")
    info_df = pd.DataFrame(experiment_data_collection)
    df = _select_filter_sort(info_df, info_keys, DEFAULT_PROJECT_INFO_KEYS, filter_op, sort,
                             limit, desc)
    print_format_output(df)
    _output(df, output)


def add_note(path, filename="note.txt"):
    """Opens $EDITOR (default vim) on `path`/`filename`."""
    if not os.path.isdir(path):
        raise AssertionError("{} is not a valid directory.".format(path))
    filepath = os.path.join(path, filename)
    exists = os.path.isfile(filepath)
    try:
        subprocess.call([os.environ.get("EDITOR", "vim"), filepath])
    except Exception as exc:   # noqa: BLE001 - Ray reports and goes on
        _echo("Editing note failed: {}".format(exc), fg="red")
    if exists:
        print("Note updated at:", filepath)
    else:
        print("Note created at:", filepath)
    sys.stdout.flush()
