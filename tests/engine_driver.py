"""Builds a small C program against the engine's sources, for the tests that
compare an engine core with a Python reference (schedulers, TPE) or read what
it writes (TensorBoard events). One recipe, so the flags the engine needs
(-iquote for its headers, -pthread for the loader, the sanitizers under
TUNEC_SANITIZE=1 as in `make test-c-asan`) are said once."""
import glob
import os
import shutil
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build_driver(source, out):
    """Compiles `source` (a path) with every engine source into `out`;
    returns `out`."""
    cc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    assert cc, "a C compiler is needed to build {}".format(os.path.basename(source))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "jansson"], capture_output=True,
                           text=True, check=True).stdout.split()
    if os.environ.get("TUNEC_SANITIZE") == "1":
        flags = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
                 "-fno-sanitize-recover=undefined"] + flags
    sources = sorted(glob.glob(os.path.join(ROOT, "src", "engine", "*.c")))
    # `make check-asan` preloads the ASan runtime into the test processes;
    # the compiler does not need it, and runs four times slower with it.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    subprocess.run([cc, "-std=c11", "-O1", "-g", "-D_GNU_SOURCE",
                    "-iquote", os.path.join(ROOT, "src", "engine"), "-o", out, source]
                   + sources + flags + ["-lm", "-pthread"], check=True, env=env)
    return out
