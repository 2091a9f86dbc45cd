"""Makes build/asan/tree: a copy of the source tree whose tunec/ holds the
extension `make build-asan` built with the sanitizers, for `make check-asan`
to run the suite from (see the Makefile for why it runs from a copy).

Copied: every file but version control, virtual environments, build output,
caches and the plain extension; the fetched Ray examples (tests/.ray-examples)
come along. The copy is made afresh each time, so a file deleted from the tree
does not linger in it.

Usage: asan_tree.py BUILD_DIR   (the --build-lib of the sanitized build)
"""
import glob
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SKIP_DIRS = {".git", ".venv", ".venv-ray", ".venv-compare", "build", "__pycache__",
             ".pytest_cache", ".hypothesis", "node_modules"}


def ignore(directory, names):
    skipped = {n for n in names if n in SKIP_DIRS}
    if os.path.abspath(directory) == os.path.join(ROOT, "tunec"):
        skipped |= {n for n in names if n.startswith("_tunec.") and n.endswith(".so")}
    return skipped


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    build = os.path.abspath(argv[1])
    built = glob.glob(os.path.join(build, "tunec", "_tunec.*.so"))
    if len(built) != 1:
        print(f"asan_tree: expected one sanitized extension in {build}/tunec, found {built}",
              file=sys.stderr)
        return 1
    tree = os.path.join(build, "tree")
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(ROOT, tree, ignore=ignore, symlinks=True)
    shutil.copy2(built[0], os.path.join(tree, "tunec"))
    print(f"asan_tree: {tree} (extension {os.path.basename(built[0])})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
