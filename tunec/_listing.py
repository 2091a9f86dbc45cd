"""The tables behind ``tune ls`` / ``tune lsx`` (spec §14), without pandas.

Ray builds a DataFrame and prints it with tabulate; importing pandas alone
takes longer than reading a 1,000-trial experiment, so a listing here is a
plain ``Listing``: column names in DataFrame order and one dict per row, with
pandas' rules where they show (missing cells are NaN, all-NaN columns are
"empty", numeric filters compare floats, NaN sorts last either way). The
rows come from the C loader's tail reader (``_tunec.load_last_results``); a
``.pkl`` output is the only path that imports pandas.

``tunec.commands`` holds Ray's functions and messages; this module holds the
data work they share.
"""
import csv
import math
import operator
import os
import sys
from datetime import datetime

from tunec.error import TuneError

CONFIG_PREFIX = "config/"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S (%A)"
OPERATORS = {"<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
             ">=": operator.ge, ">": operator.gt}
_RESULT_FILES = ("result.json", "progress.csv")
NAN = float("nan")


def is_missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Listing:
    """Columns (names, in order) and rows (dicts; a missing cell is NaN)
    with an index: each row's position before filtering and sorting, as a
    DataFrame keeps it (print_format_output measures it)."""

    def __init__(self, columns, rows, index=None):
        self.columns = list(columns)
        self.rows = [{c: row.get(c, NAN) for c in self.columns} for row in rows]
        self.index = list(range(len(rows))) if index is None else list(index)

    def __len__(self):
        return len(self.rows)

    def column(self, name):
        return [row[name] for row in self.rows]

    def select(self, columns):
        return Listing(columns, self.rows, self.index)

    def take(self, positions):
        return Listing(self.columns, [self.rows[i] for i in positions],
                       [self.index[i] for i in positions])

    def is_numeric(self, name):
        """pandas' is_numeric_dtype for the column this would be."""
        values = [v for v in self.column(name) if not is_missing(v)]
        return all(_is_number(v) or isinstance(v, bool) for v in values)

    def to_pandas(self):
        import pandas as pd
        frame = pd.DataFrame(self.rows, columns=self.columns)
        frame.index = self.index
        return frame


# -- reading ------------------------------------------------------------------
def find_trial_dirs(path):
    """The trial dirs under `path` in the analysis loader's walk order
    (src/engine/analysis.c): names sorted, parents first; a dir with a
    result.json or progress.csv is a trial; links to dirs and checkpoint_*
    dirs are not entered."""
    found = []

    def walk(directory, depth):
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return
        subdirs = []
        is_trial = False
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if not is_dir:
                is_trial = is_trial or entry.name in _RESULT_FILES
            elif not entry.is_symlink() and not entry.name.startswith("checkpoint_") \
                    and depth < 64:
                subdirs.append(entry.path)
        if is_trial:
            found.append(directory)
        for sub in subdirs:
            walk(sub, depth + 1)

    walk(path, 0)
    return found


def trial_listing(experiment_path):
    """One row per trial as Analysis(experiment_path).dataframe() has it: the
    last result's columns, ``config/<key>`` from params.json, ``logdir``.
    TuneError when the path is not a directory or holds no result."""
    from tunec import _tunec
    if not os.path.isdir(experiment_path):
        raise TuneError("{} is not a valid directory.".format(experiment_path))
    columns, seen, rows = [], set(), []
    for logdir, row, params in _tunec.load_last_results(find_trial_dirs(experiment_path)):
        if row is None:
            continue
        if isinstance(params, dict):
            for key, value in params.items():
                row[CONFIG_PREFIX + key] = value
        row["logdir"] = logdir
        for key in row:
            if key not in seen:
                seen.add(key)
                columns.append(key)
        rows.append(row)
    if not rows:
        raise TuneError("No trial data found!")
    return Listing(columns, rows)


def experiment_listing(project_path):
    """One row per immediate subdirectory: name, total_trials (dirs below it
    holding a result.json, counted as Ray's os.walk does)."""
    base, folders, _ = next(os.walk(project_path))
    rows = []
    for name in folders:
        count = sum("result.json" in files for _, _, files in os.walk(os.path.join(base, name)))
        rows.append({"name": name, "total_trials": count})
    return Listing(["name", "total_trials"], rows)


# -- selecting ----------------------------------------------------------------
def format_times_and_dirs(listing, experiment_path):
    """``last_update_time`` as Ray shows it; ``logdir`` without the
    experiment path."""
    for row in listing.rows:
        t = row.get("last_update_time", NAN)
        if "last_update_time" in listing.columns and _is_number(t) and math.isfinite(t):
            row["last_update_time"] = datetime.fromtimestamp(t).strftime(TIMESTAMP_FORMAT)
        if "logdir" in listing.columns and isinstance(row["logdir"], str):
            row["logdir"] = row["logdir"].replace(experiment_path, "")


def apply_filter(listing, filter_op, error):
    """Keeps the rows where "<column> <operator> <value>" holds; `error`
    makes the exception to raise."""
    parts = filter_op.split(" ")
    if len(parts) != 3:
        raise error("Filter must be of the form '<column> <operator> <value>', "
                    "got {!r}".format(filter_op))
    col, op, val = parts
    if col not in listing.columns:
        raise error("Filter column {} not in: {}".format(col, listing.columns))
    if op not in OPERATORS:
        raise error("Filter operator {!r} is not one of {}".format(op, list(OPERATORS)))
    compare = OPERATORS[op]
    if listing.is_numeric(col):
        try:
            val = float(val)
        except ValueError:
            raise error("Filter value {!r} is not a number, as column {} is".format(
                val, col)) from None
        keep = [i for i, v in enumerate(listing.column(col))
                if compare(NAN if is_missing(v) else float(v), val)]
    else:
        # pandas compares object columns cell by cell; a missing cell is NaN,
        # which only != matches.
        keep = [i for i, v in enumerate(listing.column(col))
                if (op == "!=" if is_missing(v) else compare(str(v), val))]
    return listing.take(keep)


def _sort_key(value):
    # Mixed cells order numbers before strings rather than raising.
    if _is_number(value) or isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def apply_sort(listing, keys, desc):
    """Sorted by `keys` (all ascending, or all descending), stably; missing
    cells last either way, as pandas' na_position="last"."""
    positions = list(range(len(listing)))
    for key in reversed(keys):
        values = listing.column(key)
        present = [i for i in positions if not is_missing(values[i])]
        missing = [i for i in positions if is_missing(values[i])]
        present.sort(key=lambda i: _sort_key(values[i]), reverse=bool(desc))
        positions = present + missing
    return listing.take(positions)


# -- printing -----------------------------------------------------------------
def terminal_width():
    """$COLUMNS when set (a positive int), else the terminal's width (Ray
    asks `stty size`, which reads stdin; stdout's terminal is asked next),
    else 100."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
        if columns > 0:
            return columns
    except ValueError:
        pass
    for fd in (0, 1):
        try:
            return os.get_terminal_size(fd).columns
        except OSError:
            continue
    return 100


def secho(text, fg=None):
    """click.secho: coloured only on a terminal."""
    codes = {"red": 31, "green": 32, "yellow": 33}
    if fg in codes and sys.stdout.isatty():
        text = "\x1b[{}m{}\x1b[0m".format(codes[fg], text)
    print(text)


def _cell(value):
    return NAN if value is None else value


def _column_line_width(header, values):
    """The width of one column's part of a psql table's first line."""
    from tunec._table import tabulate
    table = tabulate([[_cell(v)] for v in values], [header])
    return table.index("\n") - 1     # "+-...-+" less one border


def print_table(listing, width=None):
    """Ray's print_format_output: all-NaN columns are left out (listed as
    "Empty columns"); columns are added left to right and, once the table
    with its index is wider than the terminal, that column and every later
    one are dropped ("Dropped columns"). Returns (table, dropped, empty)."""
    from tunec._table import tabulate
    width = terminal_width() if width is None else width
    shown, dropped, empty = [], [], []
    # The index column first, as tabulate shows a DataFrame's.
    line = _column_line_width("", listing.index) + 1 if len(listing) else 1
    for i, col in enumerate(listing.columns):
        values = listing.column(col)
        if all(is_missing(v) for v in values):
            empty.append(col)
            continue
        col_width = _column_line_width(col, values)
        if line + col_width > width:
            dropped = listing.columns[i:]
            break
        line += col_width
        shown.append(col)
    table = tabulate([[_cell(row[c]) for c in shown] for row in listing.rows], shown)
    print(table)
    if dropped:
        secho("Dropped columns: {}".format(dropped), fg="yellow")
        secho("Please increase your terminal size to view remaining columns.", fg="yellow")
    if empty:
        secho("Empty columns: {}".format(empty), fg="yellow")
    return table, dropped, empty


# -- saving -------------------------------------------------------------------
def _csv_cell(value, float_column):
    if is_missing(value):
        return ""
    if float_column and _is_number(value):
        return repr(float(value))
    return value


def save(listing, output, error):
    """DataFrame.to_pickle for .p/.pkl/.pickle, to_csv(index=False) for .csv
    (an int column with a missing cell is written as floats, as pandas
    upcasts it)."""
    ext = os.path.splitext(output)[1].lower()
    if ext in (".p", ".pkl", ".pickle"):
        listing.to_pandas().to_pickle(output)
    elif ext == ".csv":
        float_cols = set()
        for col in listing.columns:
            values = listing.column(col)
            if any(isinstance(v, float) for v in values) and \
                    all(_is_number(v) or is_missing(v) for v in values):
                float_cols.add(col)
        with open(output, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(listing.columns)
            for row in listing.rows:
                writer.writerow([_csv_cell(row[c], c in float_cols) for c in listing.columns])
    else:
        raise error("Unsupported filetype: {}".format(output))
    secho("Output saved at {}".format(output), fg="green")
