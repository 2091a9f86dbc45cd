"""``ray.tune.commands`` (0.8): the functions behind the ``tune`` CLI's
list-trials, list-experiments and add-note, reading experiments with the
engine's last-result loader (tunec/_listing.py: no pandas unless a .pkl is
written). Errors Ray raises as
``click.ClickException`` are that class when click is installed, else
TuneError with the same message."""
import os
import subprocess
import sys

from tunec import _listing
from tunec.error import TuneError
from tunec.result import CONFIG_PREFIX, DEFAULT_EXPERIMENT_INFO_KEYS, DEFAULT_RESULT_KEYS

try:
    from click import ClickException
except ImportError:          # the CLI needs click; these functions do not
    class ClickException(TuneError):
        pass

DEFAULT_PROJECT_INFO_KEYS = ("name", "total_trials", "last_updated")

OPERATORS = _listing.OPERATORS
TIMESTAMP_FORMAT = _listing.TIMESTAMP_FORMAT
DEFAULT_CLI_KEYS = DEFAULT_EXPERIMENT_INFO_KEYS + DEFAULT_RESULT_KEYS
EDITOR = os.getenv("EDITOR", "vim")


def print_format_output(dataframe):
    """Prints `dataframe` (a pandas DataFrame or a tunec listing) as a psql
    table that fits the terminal: all-null columns are left out, and columns
    past the terminal's width are dropped (both listed after the table).
    Returns (table, dropped, empty)."""
    if not isinstance(dataframe, _listing.Listing):
        dataframe = _listing.Listing(
            [str(c) for c in dataframe.columns],
            [{str(k): v for k, v in row.items()} for row in dataframe.to_dict("records")],
            list(dataframe.index))
    return _listing.print_table(dataframe)


def _keys(value):
    """A list of keys from a comma-separated str or a sequence."""
    if value is None:
        return None
    if isinstance(value, str):
        return [k for k in value.split(",") if k]
    return list(value)


def _check_keys(listing, keys):
    for k in keys:
        if k not in listing.columns:
            raise ClickException("Provided key invalid: {}. Available keys: {}.".format(
                k, listing.columns))


def _filter_sort_limit(listing, filter_op, sort, limit, desc):
    if filter_op:
        listing = _listing.apply_filter(listing, filter_op, ClickException)
    sort = _keys(sort)
    if sort:
        for key in sort:
            if key not in listing.columns:
                raise ClickException("{} not in: {}".format(key, listing.columns))
        listing = _listing.apply_sort(listing, sort, desc)
    if limit:
        listing = listing.take(range(min(int(limit), len(listing))))
    return listing


def list_trials(experiment_path, sort=None, output=None, filter_op=None, info_keys=None,
                limit=None, desc=False, result_keys=None):
    """Prints a table of the trials under `experiment_path`: each trial's
    last result, its config/ columns and logdir (Analysis.dataframe()).

    Args:
        sort: keys to sort by (a list, or a comma-separated str).
        output: a .csv, .p, .pkl or .pickle file to save the table to.
        filter_op: "<column> <operator> <value>", operator one of < <= == != >= >.
        info_keys: the columns to show (default: trial_id, experiment_tag,
            the default result keys and every config/ column).
        limit: show the first this many rows.
        desc: sort descending.
        result_keys: tunec (`--result-columns`): result columns shown in place
            of the default result keys, beside info_keys or the default info
            columns.
    """
    experiment_path = os.path.expanduser(experiment_path)
    try:
        listing = _listing.trial_listing(experiment_path)
    except TuneError:
        raise ClickException("No trial data found!") from None
    info_keys, result_keys = _keys(info_keys), _keys(result_keys)
    if info_keys:
        _check_keys(listing, info_keys)
    if result_keys:
        _check_keys(listing, result_keys)
    if result_keys:
        wanted = set(info_keys or [k for k in listing.columns if k in DEFAULT_EXPERIMENT_INFO_KEYS
                                   or k.startswith(CONFIG_PREFIX)]) | set(result_keys)
    elif info_keys:
        wanted = set(info_keys)
    else:
        wanted = {k for k in listing.columns if k in DEFAULT_CLI_KEYS
                  or k.startswith(CONFIG_PREFIX)}
    columns = [k for k in listing.columns if k in wanted]
    if not columns:
        raise ClickException("No columns to output.")
    listing = listing.select(columns)
    _listing.format_times_and_dirs(listing, experiment_path)
    listing = _filter_sort_limit(listing, filter_op, sort, limit, desc)
    print_format_output(listing)
    if output:
        _listing.save(listing, output, ClickException)


def list_experiments(project_path, sort=None, output=None, filter_op=None, info_keys=None,
                     limit=None, desc=False):
    """Prints a table of the experiments under `project_path`: name and
    total_trials (directories below it holding a result.json)."""
    project_path = os.path.expanduser(project_path)
    if not os.path.isdir(project_path):
        raise ClickException("{} is not a valid directory.".format(project_path))
    listing = _listing.experiment_listing(project_path)
    if not len(listing):
        raise ClickException("No experiments found!")
    info_keys = _keys(info_keys) or list(DEFAULT_PROJECT_INFO_KEYS)
    columns = [k for k in info_keys if k in listing.columns]
    if not columns:
        raise ClickException("None of keys {} in experiment data!".format(info_keys))
    listing = _filter_sort_limit(listing.select(columns), filter_op, sort, limit, desc)
    print_format_output(listing)
    if output:
        _listing.save(listing, output, ClickException)


def add_note(path, filename="note.txt"):
    """Opens $EDITOR (default vim) on `path`/`filename` and says whether the
    note was created or updated."""
    path = os.path.expanduser(path)
    if not os.path.isdir(path):
        raise AssertionError("{} is not a valid directory.".format(path))
    filepath = os.path.join(path, filename)
    exists = os.path.isfile(filepath)
    try:
        subprocess.call([os.environ.get("EDITOR", EDITOR), filepath])
    except Exception as exc:   # noqa: BLE001 - Ray reports and goes on
        _listing.secho("Editing note failed: {}".format(exc), fg="red")
    if exists:
        print("Note updated at:", filepath)
    else:
        print("Note created at:", filepath)
    sys.stdout.flush()
