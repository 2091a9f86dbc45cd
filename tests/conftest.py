"""Fixtures and settings shared by the tests."""
import os

import pytest
from hypothesis import HealthCheck, settings

import tunec as tune

# No property test may fail because this machine is slow: no per-example
# deadline, and no "too slow to generate data" health check (the settings of
# each test start from this profile).
settings.register_profile("tunec", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tunec")

# ExperimentAnalysis(dir) writes a parsed-column cache next to the state file
# (tunec/analysis/_cache.py): tests read checked-in fixtures in place, which
# must stay as committed, and the loader tests are about the files, not a
# cache of them. tests/test_analysis_cache.py turns it on for itself.
os.environ.setdefault("TUNEC_ANALYSIS_CACHE", "0")


@pytest.fixture
def two_cpus():
    """tune.init(num_cpus=2). The STOP grace stays at its default (10 s): a
    shorter one could kill a healthy worker still saving a pause checkpoint
    on a busy machine, and no trial here ignores a STOP."""
    tune.init(num_cpus=2)
    yield
    tune.shutdown()
