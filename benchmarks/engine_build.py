"""Builds a benchmark program against every engine source, optimised: the
flags the engine needs (-iquote for its headers, whose sched.h would shadow
the system one <pthread.h> includes; -pthread for the loader) said once for
sched_bench.py and tpe_quality.py."""
import glob
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(source, out):
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "jansson"], capture_output=True,
                           text=True, check=True).stdout.split()
    sources = sorted(glob.glob(os.path.join(ROOT, "src", "engine", "*.c")))
    subprocess.run([os.environ.get("CC", "cc"), "-std=c11", "-O2", "-D_GNU_SOURCE",
                    "-iquote", os.path.join(ROOT, "src", "engine"), "-o", out, source]
                   + sources + flags + ["-lm", "-pthread"], check=True)
    return out
