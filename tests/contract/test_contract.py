"""Run the shared generator contract over every registered generator whose dependencies are installed; which
checks run for a generator is decided by its tags (synthgen.testing.contract.yield_checks)."""
import pytest

from synthgen.generators import registry
from synthgen.testing import contract

AVAILABLE = [n for n in registry.names() if registry.is_available(n)]
CASES = [(name, check) for name in AVAILABLE for check in contract.yield_checks(name)]


@pytest.mark.parametrize("name,check", CASES, ids=[f"{n}-{c.__name__}" for n, c in CASES])
def test_contract(name, check):
    check(name)


def test_some_generators_are_available():
    assert "copula" in AVAILABLE and "dp-copula" in AVAILABLE


def test_checks_are_selected_by_tags():
    """DP checks only for DP generators, table checks only for tables, and every generator gets the common ones."""
    for name in AVAILABLE:
        cls = registry.get(name)
        chosen = set(contract.yield_checks(name))
        assert set(contract.COMMON_CHECKS) <= chosen
        assert (set(contract.DP_CHECKS) <= chosen) == cls.provides_dp
        assert not (set(contract.NON_DP_CHECKS) & chosen) == cls.provides_dp
        assert (set(contract.TABLE_CHECKS) <= chosen) == (cls.data_kind == "table")


def test_registry_check_catches_a_lying_entry():
    """A registry string that disagrees with the class (says 'none' for a DP class) fails the contract."""
    registry.register("test-lying-entry", registry.entry("dp-copula").target, "none", "table", "test only")
    try:
        with pytest.raises(AssertionError, match="provides_dp"):
            contract.check_registry_agrees_with_class("test-lying-entry")
    finally:
        registry.unregister("test-lying-entry")
    assert "test-lying-entry" not in registry.names()
