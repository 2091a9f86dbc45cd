"""Build hygiene: what the extension exports, and the -Werror switch CI uses.

The engine's tc_* functions and the extension's helpers are compiled with
-fvisibility=hidden (setup.py), so the only dynamic symbol the module defines is
its init function: nothing of ours can clash with, or be interposed by, another
library loaded in the same process. CI builds with TUNEC_WERROR=1 (.ci/run), which
setup.py and the Makefile turn into -Werror.
"""
import os
import shutil
import subprocess
import sys

import pytest

import tunec._tunec

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.skipif(shutil.which("nm") is None, reason="binutils' nm not installed")
def test_extension_exports_only_its_init_function():
    out = subprocess.run(["nm", "-D", "--defined-only", tunec._tunec.__file__],
                         check=True, capture_output=True, text=True).stdout
    names = {line.split()[-1] for line in out.splitlines() if line.strip()}
    assert names == {"PyInit__tunec"}


def test_setup_py_adds_werror_when_asked(monkeypatch):
    monkeypatch.syspath_prepend(ROOT)
    monkeypatch.setattr(sys, "argv", ["setup.py", "--name"])
    monkeypatch.setenv("TUNEC_WERROR", "1")
    code = open(os.path.join(ROOT, "setup.py")).read().split("\nif any(cmd in sys.argv")[0]
    scope = {"__name__": "setup_flags"}
    exec(compile(code, "setup.py", "exec"), scope)
    compile_args, _ = scope["build_flags"]()
    assert "-Werror" in compile_args and "-fvisibility=hidden" in compile_args
    monkeypatch.setenv("TUNEC_WERROR", "0")
    assert "-Werror" not in scope["build_flags"]()[0]


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_makefile_adds_werror_when_asked():
    def engine_compile(werror):
        env = dict(os.environ, TUNEC_WERROR=werror)
        return subprocess.run(["make", "-n", "-B", "tests/c/bin/obj/buf.o"], cwd=ROOT, env=env,
                              check=True, capture_output=True, text=True).stdout
    assert "-Werror" in engine_compile("1")
    assert "-Werror" not in engine_compile("0")
