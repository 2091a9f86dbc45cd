"""tests/scripts/lsan_check.py: which LeakSanitizer reports fail `make check-asan`.

The reports below keep the shape LeakSanitizer writes (gcc 12's runtime, a
fast-unwound stack that stops in the interpreter) with addresses shortened.
"""
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(__file__), "scripts", "lsan_check.py")

INTERPRETER_ONLY = """
=================================================================
==16598==ERROR: LeakSanitizer: detected memory leaks

Direct leak of 952 byte(s) in 17 object(s) allocated from:
    #0 0x7f862a8b89cf in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69
    #1 0x7f862a0bcd74 in gc_alloc Modules/gcmodule.c:2283
    #2 0x7f862a0bcd74 in _PyObject_GC_NewVar Modules/gcmodule.c:2318

Indirect leak of 96 byte(s) in 1 object(s) allocated from:
    #0 0x7f862a8b89cf in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69
    #1 0x7f8627a01c10 in tc_malloc src/engine/alloc.c:88
    #2 0x7f8627a1d002 in tc_buf_reserve src/engine/buf.c:31

SUMMARY: AddressSanitizer: 1048 byte(s) leaked in 18 allocation(s).
"""

ENGINE_LEAK = """
=================================================================
==20001==ERROR: LeakSanitizer: detected memory leaks

Direct leak of 64 byte(s) in 1 object(s) allocated from:
    #0 0x7f862a8b89cf in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69
    #1 0x7f8627a01c10 in tc_malloc src/engine/alloc.c:88
    #2 0x7f8627a2e100 in tc_runner_new src/engine/runner.c:140
    #3 0x7f8627b0a9f0 in Run_init src/ext/executor_local.c:301

SUMMARY: AddressSanitizer: 64 byte(s) leaked in 1 allocation(s).
"""

OBJECT_ALIVE_AT_EXIT = """
Direct leak of 48 byte(s) in 2 object(s) allocated from:
    #0 0x7f41754b89cf in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69
    #1 0x7f4174b76c89 in PyFloat_FromDouble Objects/floatobject.c:149
    #2 0x7f41729b3fe4 in from_json src/ext/convert.c:622
    #3 0x7f41729be79d in tcx_from_json src/ext/convert.c:678
"""

UNSYMBOLIZED_LEAK = """
Direct leak of 24 byte(s) in 1 object(s) allocated from:
    #0 0x7f862a8b89cf in __interceptor_malloc ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:69
    #1 0x7f8627b0a9f0  (/x/build/asan/tunec/_tunec.cpython-311-x86_64-linux-gnu.so+0x4a9f0)
"""


def run_check(tmp_path, reports):
    logs = tmp_path / "logs"
    logs.mkdir()
    for i, text in enumerate(reports):
        (logs / f"asan.{1000 + i}").write_text(text)
    return subprocess.run([sys.executable, SCRIPT, str(logs)], capture_output=True, text=True)


def test_the_interpreters_exit_memory_passes(tmp_path):
    done = run_check(tmp_path, [INTERPRETER_ONLY])
    assert done.returncode == 0, done.stdout
    assert "0 of tunec's own" in done.stdout
    # The engine block is an indirect leak: owned by a leaked Python object.
    assert "tc_buf_reserve" not in done.stdout


def test_a_direct_leak_through_the_engine_fails(tmp_path):
    done = run_check(tmp_path, [INTERPRETER_ONLY, ENGINE_LEAK])
    assert done.returncode == 1
    assert "asan.1001: Direct leak of 64 byte(s)" in done.stdout
    assert "tc_runner_new src/engine/runner.c:140" in done.stdout
    assert "1 of tunec's own" in done.stdout


def test_an_unsymbolized_frame_of_the_extension_counts(tmp_path):
    done = run_check(tmp_path, [UNSYMBOLIZED_LEAK])
    assert done.returncode == 1
    assert "_tunec.cpython-311" in done.stdout


def test_other_sanitizer_errors_are_named_not_judged(tmp_path):
    segv = "==17611==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000000\n"
    done = run_check(tmp_path, [segv])
    assert done.returncode == 0
    assert "(reported by its test) ==17611==ERROR: AddressSanitizer: SEGV" in done.stdout


def test_an_empty_or_missing_log_dir_passes(tmp_path):
    assert run_check(tmp_path, []).returncode == 0
    done = subprocess.run([sys.executable, SCRIPT, str(tmp_path / "absent")],
                          capture_output=True, text=True)
    assert done.returncode == 0


def test_a_python_object_our_code_made_is_named_not_judged(tmp_path):
    done = run_check(tmp_path, [OBJECT_ALIVE_AT_EXIT])
    assert done.returncode == 0, done.stdout
    assert "(not judged) 48 byte(s) in 2 Python object(s) alive at exit, made at " \
           "from_json src/ext/convert.c:622" in done.stdout
    assert "1 of them objects our code made" in done.stdout
