"""Build the tunec._tunec extension: the C engine (src/engine) plus the CPython layer (src/ext).

jansson is found with pkg-config; without it the build stops with one line that says what to
install instead of a compiler traceback. Switches (environment): TUNEC_DEBUG=1, TUNEC_SANITIZE=1
(ASan+UBSan), TUNEC_COVERAGE=1, TUNEC_WERROR=1.
"""
import glob
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup


def pkg_config(*args):
    if shutil.which("pkg-config") is None:
        return None
    try:
        out = subprocess.run(["pkg-config", *args, "jansson"], check=True,
                             capture_output=True, text=True).stdout
    except subprocess.CalledProcessError:
        return None
    return out.split()


def jansson_flags():
    cflags = pkg_config("--cflags")
    libs = pkg_config("--libs")
    if cflags is None or libs is None:
        sys.stderr.write(
            "\nerror: tunec needs the jansson C library and its headers, which pkg-config "
            "cannot find.\n       Install it first: `sudo apt-get install libjansson-dev` "
            "(Debian/Ubuntu), `brew install jansson` (macOS) or `dnf install jansson-devel`.\n\n")
        sys.exit(1)
    return cflags, libs


def numpy_include():
    import numpy
    return numpy.get_include()


def build_flags():
    # -fvisibility=hidden: the engine's tc_* and the extension's helpers stay
    # private to the .so; PyMODINIT_FUNC marks PyInit__tunec as the one export
    # (tests/test_build_hygiene.py checks).
    compile_args = ["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                    "-Wno-missing-field-initializers", "-D_GNU_SOURCE", "-fvisibility=hidden"]
    link_args = []
    if os.environ.get("TUNEC_WERROR") == "1":
        compile_args.append("-Werror")
    if os.environ.get("TUNEC_DEBUG") == "1":
        compile_args += ["-O0", "-g3", "-UNDEBUG"]
    else:
        compile_args += ["-O2"]
    if os.environ.get("TUNEC_SANITIZE") == "1":
        compile_args += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
        link_args += ["-fsanitize=address,undefined"]
    if os.environ.get("TUNEC_COVERAGE") == "1":
        compile_args += ["--coverage"]
        link_args += ["--coverage"]
    return compile_args, link_args


if any(cmd in sys.argv for cmd in ("build_ext", "build", "install", "bdist_wheel", "develop",
                                   "editable_wheel", "bdist_egg")) or len(sys.argv) == 1:
    cflags, libs = jansson_flags()
else:  # metadata-only commands (egg_info, sdist) must work without jansson
    cflags, libs = pkg_config("--cflags") or [], pkg_config("--libs") or ["-ljansson"]

compile_args, link_args = build_flags()
sources = sorted(glob.glob("src/engine/*.c")) + sorted(glob.glob("src/ext/*.c"))

ext = Extension(
    "tunec._tunec",
    sources=sources,
    # -iquote, not -I: the project's headers must never shadow a system
    # header of the same name (<sched.h> included by pthread.h, say).
    include_dirs=[numpy_include()],
    extra_compile_args=compile_args + ["-iquote", "src/engine", "-iquote", "src/ext"] + cflags,
    extra_link_args=link_args + libs,
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
)

setup(ext_modules=[ext])
