"""Fixtures shared by the end-to-end tests."""
import pytest

import tunec as tune


@pytest.fixture
def two_cpus():
    """tune.init(num_cpus=2). The STOP grace stays at its default (10 s): a
    shorter one could kill a healthy worker still saving a pause checkpoint
    on a busy machine, and no trial here ignores a STOP."""
    tune.init(num_cpus=2)
    yield
    tune.shutdown()
