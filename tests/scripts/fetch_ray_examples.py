"""Fetches Ray Tune's own example scripts from the ray wheels on the package
index into tests/.ray-examples/<version>/ (gitignored), once: `make test`
runs this before the tests; tests/test_script_runner.py runs the examples
with `tunec run ... --smoke-test`.

Only the wheel's ray/tune/examples/*.py are kept; the wheel is deleted.
Without network this says so and exits 0: the tests that need the
examples then skip, naming this script.
"""
import glob
import os
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(os.path.dirname(HERE), ".ray-examples")

# version -> (a Python version and a platform it has a wheel for): the
# wheel is only unpacked, never installed, so any one will do.
VERSIONS = {
    "0.8.7": ("3.8", "manylinux1_x86_64"),
    "1.13.0": ("3.9", "manylinux2014_x86_64"),
    "2.9.3": ("3.11", "manylinux2014_x86_64"),
}


def examples_dir(version):
    """The cached examples of `version`, or None when not fetched."""
    path = os.path.join(CACHE, version)
    return path if os.path.exists(os.path.join(path, ".complete")) else None


def fetch(version):
    python, platform = VERSIONS[version]
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
               "--python-version", python, "--platform", platform, "-d", tmp,
               "ray=={}".format(version)]
        if subprocess.run(cmd).returncode != 0:
            return False
        (wheel,) = glob.glob(os.path.join(tmp, "*.whl"))
        target = os.path.join(CACHE, version)
        os.makedirs(target, exist_ok=True)
        with zipfile.ZipFile(wheel) as zf:
            for name in zf.namelist():
                # ray/tune/examples/x.py, or ray-0.8.7.data/purelib/ray/tune/examples/x.py
                head, _, base = name.rpartition("/")
                if head.endswith("ray/tune/examples") and base.endswith(".py"):
                    with open(os.path.join(target, base), "wb") as f:
                        f.write(zf.read(name))
        open(os.path.join(target, ".complete"), "w").close()
    return True


def main():
    for version in VERSIONS:
        if examples_dir(version):
            continue
        print("fetching Ray {}'s Tune examples from the ray wheel".format(version))
        if not fetch(version):
            print("could not download the ray {} wheel (no network?): the tests of Ray's "
                  "examples will skip".format(version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
