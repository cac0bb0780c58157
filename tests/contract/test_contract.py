"""Run the shared generator contract over every registered generator whose dependencies are installed."""
import pytest

from synthgen.generators import registry
from synthgen.testing.contract import CHECKS

AVAILABLE = [n for n in registry.names() if registry.is_available(n)]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", AVAILABLE)
def test_contract(name, check):
    check(name)


def test_some_generators_are_available():
    assert "copula" in AVAILABLE and "dp-copula" in AVAILABLE
