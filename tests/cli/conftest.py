import pytest

from synthgen.testing import fakes


@pytest.fixture(scope="session", autouse=True)
def _fake_generators():
    """Test-only generators, registered for the CLI tests only (and removed afterwards)."""
    fakes.register()
    yield
    fakes.unregister()


@pytest.fixture(scope="session")
def small_cps(write_cps_split):
    """A 600-row subsample of the real CPS1988 table, split 80/20, written as CSV, plus its declared schema."""
    return write_cps_split(600, 0, "cps")
