"""Under `make check-asan`, the driver and its workers load the sanitized
extension (built into build/asan/tree), not the plain one of the source tree.

The sanitizer runtime is preloaded into every process of that run, so a
process that imported the plain build would still pass for sanitized: this is
the check that our code is instrumented there. Outside check-asan (no ASan
runtime in LD_PRELOAD) the plain build is expected and the test is skipped.
"""
import os

import pytest

import tunec as tune
from tunec import _tunec

UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")


@pytest.mark.skipif(not UNDER_ASAN, reason="only under make check-asan")
def test_driver_and_workers_load_the_sanitized_extension(tmp_path):
    assert _tunec.SANITIZED == 1, _tunec.__file__

    def report_build(config):
        from tunec import _tunec as worker_side
        tune.report(sanitized=worker_side.SANITIZED)

    analysis = tune.run(report_build, local_dir=str(tmp_path), verbose=0)
    [trial] = analysis.trials
    assert trial.last_result["sanitized"] == 1


def test_the_plain_build_says_it_is_plain():
    if UNDER_ASAN:
        pytest.skip("the sanitized build is loaded here")
    assert _tunec.SANITIZED == 0
