"""Golden values and independent checks of the zCDP analysis (pure functions)."""
import math

import numpy as np
import pytest

from synthgen.exceptions import InvalidPrivacyParameterError
from synthgen.privacy.analysis import (
    gaussian_exact_epsilon,
    gaussian_rho,
    gaussian_sigma,
    zcdp_delta,
    zcdp_epsilon,
    zcdp_epsilon_simple,
    zcdp_rho,
)

# (rho, delta) -> epsilon of the tight CKS20 conversion; computed once and cross-checked below by a dense scan
# over alpha that shares no code with the implementation.
GOLDEN = [
    (0.01, 1e-5, 0.545726),
    (0.1, 1e-5, 1.914239),
    (0.5, 1e-6, 5.221534),
    (1.0, 1e-6, 7.766217),
]


def _delta_by_scan(rho, eps):
    alphas = 1 + np.logspace(-6, 5, 400_000)
    log_d = (alphas - 1) * (alphas * rho - eps) + alphas * np.log1p(-1 / alphas) - np.log(alphas - 1)
    return float(min(1.0, np.exp(log_d.min())))


@pytest.mark.parametrize("rho,delta,eps", GOLDEN)
def test_golden_epsilon(rho, delta, eps):
    assert zcdp_epsilon(rho, delta) == pytest.approx(eps, abs=2e-6)


@pytest.mark.parametrize("rho,delta,eps", GOLDEN)
def test_conversion_matches_independent_scan(rho, delta, eps):
    assert _delta_by_scan(rho, eps) == pytest.approx(delta, rel=1e-3)
    assert zcdp_delta(rho, eps) == pytest.approx(_delta_by_scan(rho, eps), rel=1e-4)


@pytest.mark.parametrize("rho,delta", [(0.01, 1e-5), (0.1, 1e-6), (2.0, 1e-9)])
def test_tight_conversion_beats_classical_and_respects_exact_gaussian(rho, delta):
    tight = zcdp_epsilon(rho, delta)
    assert tight < zcdp_epsilon_simple(rho, delta)
    # The Gaussian mechanism with this rho has an exact epsilon that no valid bound may undercut.
    exact = gaussian_exact_epsilon(delta, gaussian_sigma(rho))
    assert exact <= tight <= exact * 1.35


def test_rho_inverts_epsilon():
    for eps, delta in [(0.3, 1e-6), (1.0, 1e-6), (3.0, 1e-5), (10.0, 1e-7)]:
        rho = zcdp_rho(eps, delta)
        assert zcdp_epsilon(rho, delta) == pytest.approx(eps, rel=1e-6)
        assert zcdp_epsilon(rho * 1.01, delta) > eps  # the largest rho: a bit more overspends


def test_gaussian_rho_sigma_roundtrip():
    assert gaussian_rho(gaussian_sigma(0.25, 2.0), 2.0) == pytest.approx(0.25)
    assert gaussian_sigma(0.5) == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [0, -1, math.inf, math.nan, "x"])
def test_bad_parameters_raise(bad):
    with pytest.raises(InvalidPrivacyParameterError):
        zcdp_rho(bad, 1e-6)
    with pytest.raises(InvalidPrivacyParameterError):
        zcdp_epsilon(0.1, bad if bad != 0 else 1.5)


# ------------------------------------------------------------------ delta rules from DECLARED row bounds only
def test_default_delta_depends_on_declared_rows_only():
    """Old main picked the default delta from the exact n (100,000 rows -> 1e-6, 100,001 -> 1e-7): a perfect
    distinguisher. Now only the declared maximum decides, and undeclared gives one fixed public value."""
    from synthgen.privacy.spend import default_delta

    assert default_delta(None) == 1e-9
    for declared in (10, 99, 1000, 10_000, 100_000, 100_001, 10**8):
        d = default_delta(declared)
        assert 0 < d <= 1e-6 and d < 1.0 / (10 * declared) + 1e-18
    assert default_delta(100_000) == default_delta(99_999)  # a power-of-ten step of the DECLARED maximum


def test_resolve_delta_checks_against_declared_rows():
    from synthgen.privacy.spend import default_delta, resolve_delta

    assert resolve_delta(None, 5000) == default_delta(5000) <= 1e-6
    assert resolve_delta(1e-4, 1000) == 1e-4
    with pytest.raises(InvalidPrivacyParameterError, match="1/N"):
        resolve_delta(1e-3, 1000)  # delta >= 1/N for the declared maximum
    with pytest.raises(InvalidPrivacyParameterError, match="rows.max"):
        resolve_delta(1e-5, None)  # cannot be checked without a declared maximum
    assert resolve_delta(1e-7, None) == 1e-7
    with pytest.raises(InvalidPrivacyParameterError):
        resolve_delta(1.5, 1000)
