"""The ``tunec`` command (``python -m tunec``): a dispatcher of subcommands.

    tunec run [--ray auto|shim|real] script.py [args...]

runs a script written for Ray Tune unchanged, on tunec (docs/migration.md,
"Running unchanged scripts"). Each subcommand is an ``add_<name>`` function
that registers its parser and handler below.
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


SUBCOMMANDS = (add_run,)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tunec", description="tunec's command line")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for add in SUBCOMMANDS:
        add(subparsers)
    args = parser.parse_args(argv)
    return args.handler(args)
