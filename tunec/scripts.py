"""The ``tunec`` command (``python -m tunec``): a dispatcher of subcommands.

    tunec run [--ray auto|shim|real] script.py [args...]

runs a script written for Ray Tune unchanged, on tunec (docs/migration.md,
"Running unchanged scripts"), and

    tune ls | list-trials EXPERIMENT_PATH [options]
    tune lsx | list-experiments PROJECT_PATH [options]
    tune add-note PATH [--filename note.txt]

are Ray's `tune` commands (spec §14, tunec.commands); the `tune` and `tunec`
console scripts and ``python -m tunec`` all run this dispatcher. Each
subcommand is an ``add_<name>`` function that registers its parser and
handler below. Nothing heavy is imported before a handler runs: `tune ls`
must answer fast (docs/guide.md, "The tune command").
"""
import argparse
import os
import runpy
import sys


def add_run(subparsers):
    parser = subparsers.add_parser(
        "run", help="run a Ray Tune script unchanged on tunec",
        description="Runs SCRIPT as __main__ with ARGS as its arguments, with `ray.tune` "
                    "(and its submodules, ray.air, ray.train) resolving to tunec, and `ray` "
                    "to tunec's stand-in for Ray unless the script connects to a cluster "
                    "with Ray installed (see --ray).")
    parser.add_argument("--ray", choices=("auto", "shim", "real"), default="auto",
                        help="what `import ray` gives: auto (default): tunec's stand-in, or "
                             "Ray's own once the script calls ray.init(address=...) and Ray "
                             "is installed; shim: always the stand-in; real: Ray's own")
    parser.add_argument("script", help="the Python script to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    parser.set_defaults(handler=lambda args: run_script(args.script, args.args, args.ray))


def run_script(path, args=(), ray_mode="auto"):
    """Runs the script at `path` as ``python path args...`` would (its
    __name__ is "__main__", sys.argv is [path] + args, its directory heads
    sys.path) with the Ray aliases installed. Returns 0; the script's own
    SystemExit passes through."""
    from tunec.compat import ray_aliases
    if not os.path.isfile(path):
        raise SystemExit("tunec run: no such script: {}".format(path))
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [path] + list(args)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        with ray_aliases(ray_mode):
            runpy.run_path(path, run_name="__main__")
    finally:
        sys.argv = saved_argv
        sys.path[:] = saved_path
    return 0


def _bool(text):
    """click's BOOL: true/false, yes/no, 1/0, on/off (any case)."""
    value = text.strip().lower()
    if value in ("1", "true", "t", "yes", "y", "on"):
        return True
    if value in ("0", "false", "f", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError("{!r} is not a valid boolean".format(text))


def _listing_options(parser, what):
    parser.add_argument("--sort", default=None,
                        help="column(s) to sort on, comma-separated")
    parser.add_argument("--output", "-o", default=None,
                        help="also save the table to this .csv or .pkl/.p/.pickle file")
    parser.add_argument("--filter", dest="filter_op", default=None,
                        help="keep rows where '<column> <operator> <value>' holds "
                             "(operators: < <= == != >= >)")
    parser.add_argument("--columns", default=None,
                        help="columns to display, comma-separated")
    parser.add_argument("--limit", default=None, type=int, help="number of rows to display")
    parser.add_argument("--desc", default=False, type=_bool, nargs="?", const=True,
                        help="sort descending (`--desc`, or Ray's `--desc True`)")
    if what == "trials":
        parser.add_argument("--result-columns", default=None,
                            help="result columns to display in place of the default "
                                 "result keys, comma-separated")


def _list_trials(args):
    from tunec import commands
    commands.list_trials(args.experiment_path, args.sort, args.output, args.filter_op,
                         args.columns, args.limit, args.desc, args.result_columns)
    return 0


def _list_experiments(args):
    from tunec import commands
    commands.list_experiments(args.project_path, args.sort, args.output, args.filter_op,
                              args.columns, args.limit, args.desc)
    return 0


def _add_note(args):
    from tunec import commands
    commands.add_note(args.path, args.filename)
    return 0


def add_list_trials(subparsers):
    for name, aliases in (("list-trials", ["ls"]),):
        parser = subparsers.add_parser(
            name, aliases=aliases, help="list the trials of an experiment",
            description="Lists the trials under EXPERIMENT_PATH: each trial's last result, "
                        "config/ columns and logdir, as a table that fits the terminal.")
        parser.add_argument("experiment_path", help="an experiment directory "
                            "(local_dir/name)")
        _listing_options(parser, "trials")
        parser.set_defaults(handler=_list_trials)


def add_list_experiments(subparsers):
    parser = subparsers.add_parser(
        "list-experiments", aliases=["lsx"], help="list the experiments of a project",
        description="Lists the experiments under PROJECT_PATH (a local_dir): name and "
                    "number of trials.")
    parser.add_argument("project_path", help="a directory of experiments (local_dir)")
    _listing_options(parser, "experiments")
    parser.set_defaults(handler=_list_experiments)


def add_add_note(subparsers):
    parser = subparsers.add_parser(
        "add-note", help="write a note in a directory with $EDITOR",
        description="Opens $EDITOR (default vim) on PATH/FILENAME.")
    parser.add_argument("path", help="the directory (an experiment or a trial)")
    parser.add_argument("--filename", default="note.txt", help="the note's file name")
    parser.set_defaults(handler=_add_note)


SUBCOMMANDS = (add_run, add_list_trials, add_list_experiments, add_add_note)


def main(argv=None, prog=None):
    """Runs one subcommand; returns its exit status. A listing's error
    (click.ClickException in Ray) prints "Error: <message>" and exits 1, as
    click does."""
    if prog is None:
        prog = os.path.basename(sys.argv[0]) if argv is None else "tunec"
        if prog in ("__main__.py", "-c", "-m", ""):
            prog = "tunec"
    parser = argparse.ArgumentParser(prog=prog, description="tunec's command line: "
                                     "Ray Tune scripts and experiment listings")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for add in SUBCOMMANDS:
        add(subparsers)
    args = parser.parse_args(argv)
    if args.command == "run":
        return args.handler(args)
    from tunec.commands import ClickException
    from tunec.error import TuneError
    try:
        return args.handler(args)
    except (TuneError, ClickException, AssertionError) as exc:
        # ClickException (a TuneError without click), and add_note's
        # assertion on its path, as Ray's click group reports them.
        print("Error: {}".format(exc), file=sys.stderr)
        return 1


def cli(argv=None):
    """Ray's click group `cli`, called the way `ray.tune.scripts.cli()` is."""
    return main(argv)
