"""Fixtures shared by the end-to-end tests."""
import pytest

import tunec as tune


@pytest.fixture
def two_cpus(monkeypatch):
    """tune.init(num_cpus=2); a worker that ignores a STOP is killed after 2 s."""
    monkeypatch.setenv("TUNEC_STOP_GRACE_S", "2")
    tune.init(num_cpus=2)
    yield
    tune.shutdown()
