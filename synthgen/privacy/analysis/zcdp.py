"""Zero-concentrated DP (zCDP, Bun & Steinke 2016) and its conversion to (epsilon, delta)-DP.

Neighbouring relation everywhere in synthgen: add/remove one row. zCDP composes by adding rho.
The conversion is the tight one of Canonne, Kamath & Steinke (2020, "The Discrete Gaussian for Differential
Privacy", Corollary 13):

    delta(eps) = inf_{alpha > 1} exp((alpha - 1)(alpha rho - eps)) / (alpha - 1) * (1 - 1/alpha)^alpha

which is never worse than the classical ``eps = rho + 2 sqrt(rho log(1/delta))``.
"""
from __future__ import annotations

import math
from functools import lru_cache

from scipy.stats import norm

from ...exceptions import InvalidPrivacyParameterError


def _check_pos(name: str, value: float, upper: float | None = None) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InvalidPrivacyParameterError(f"{name} must be a number; got {value!r}.") from None
    if not math.isfinite(value) or value <= 0 or (upper is not None and value >= upper):
        rng = f"in (0, {upper})" if upper is not None else "> 0 and finite"
        raise InvalidPrivacyParameterError(f"{name} must be {rng}; got {value}.")
    return value


def _bisect(below, lo: float, hi: float) -> tuple[float, float]:
    """The bracket ``[lo, hi]`` narrowed by 200 halvings, ``below(x)`` true at ``lo``'s side and false at ``hi``'s;
    stops early once the midpoint is an end (adjacent floats: further steps change nothing)."""
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            break
        if below(mid):
            lo = mid
        else:
            hi = mid
    return lo, hi


def gaussian_rho(sigma: float, sensitivity: float = 1.0) -> float:
    """rho of the Gaussian mechanism with L2 sensitivity ``sensitivity`` and noise std ``sigma``."""
    sigma = _check_pos("sigma", sigma)
    return float(sensitivity) ** 2 / (2.0 * sigma**2)


def gaussian_sigma(rho: float, sensitivity: float = 1.0) -> float:
    """Noise std that makes the Gaussian mechanism rho-zCDP."""
    rho = _check_pos("rho", rho)
    return float(sensitivity) / math.sqrt(2.0 * rho)


def pure_dp_rho(epsilon: float) -> float:
    """An epsilon-DP mechanism is epsilon^2/2-zCDP."""
    return _check_pos("epsilon", epsilon) ** 2 / 2.0


def exponential_mechanism_rho(epsilon: float) -> float:
    """The exponential mechanism with parameter epsilon is epsilon-bounded-range, hence epsilon^2/8-zCDP
    (Cesar & Rogers 2021)."""
    return _check_pos("epsilon", epsilon) ** 2 / 8.0


def zcdp_delta(rho: float, epsilon: float) -> float:
    """Smallest delta such that a rho-zCDP mechanism is (epsilon, delta)-DP (CKS20, Cor. 13)."""
    rho = _check_pos("rho", rho)
    if epsilon < 0:
        raise InvalidPrivacyParameterError(f"epsilon must be >= 0; got {epsilon}.")
    # d/d alpha of log(delta(alpha)) = (2 alpha - 1) rho - eps + log(1 - 1/alpha): increasing in alpha.
    lo, hi = _bisect(lambda a: (2 * a - 1) * rho - epsilon + math.log1p(-1.0 / a) < 0,
                     1.0 + 1e-9, (epsilon + 1.0) / (2.0 * rho) + 2.0)
    alpha = 0.5 * (lo + hi)
    log_delta = (alpha - 1) * (alpha * rho - epsilon) + alpha * math.log1p(-1.0 / alpha) - math.log(alpha - 1)
    return min(1.0, math.exp(log_delta))


@lru_cache(maxsize=4096)  # a pure function; a process's fits ask for the same few (rho, delta)
def zcdp_epsilon(rho: float, delta: float) -> float:
    """Smallest epsilon such that a rho-zCDP mechanism is (epsilon, delta)-DP."""
    rho = _check_pos("rho", rho)
    delta = _check_pos("delta", delta, upper=1.0)
    lo, hi = 0.0, zcdp_epsilon_simple(rho, delta)
    if zcdp_delta(rho, 0.0) <= delta:
        return 0.0
    return _bisect(lambda e: zcdp_delta(rho, e) > delta, lo, hi)[1]


def zcdp_epsilon_simple(rho: float, delta: float) -> float:
    """The classical (looser) conversion eps = rho + 2 sqrt(rho log(1/delta)) (Bun & Steinke 2016)."""
    rho = _check_pos("rho", rho)
    delta = _check_pos("delta", delta, upper=1.0)
    return rho + 2.0 * math.sqrt(rho * math.log(1.0 / delta))


@lru_cache(maxsize=4096)
def zcdp_rho(epsilon: float, delta: float) -> float:
    """Largest rho whose tight conversion gives at most (epsilon, delta)."""
    epsilon = _check_pos("epsilon", epsilon)
    delta = _check_pos("delta", delta, upper=1.0)
    lo, hi = 0.0, epsilon + 1.0
    while zcdp_delta(hi, epsilon) <= delta:  # pragma: no cover - hi is always large enough
        hi *= 2
    lo, hi = _bisect(lambda r: r > 0 and zcdp_delta(r, epsilon) <= delta, lo, hi)
    if lo <= 0:
        raise InvalidPrivacyParameterError(f"No rho > 0 satisfies epsilon={epsilon}, delta={delta}.")
    return lo


def gaussian_exact_delta(epsilon: float, sigma: float, sensitivity: float = 1.0) -> float:
    """Exact delta(epsilon) of one Gaussian mechanism (Balle & Wang 2018, Theorem 8)."""
    sigma = _check_pos("sigma", sigma)
    a = sensitivity / (2 * sigma)
    b = epsilon * sigma / sensitivity
    return float(norm.cdf(a - b) - math.exp(epsilon) * norm.cdf(-a - b))


def gaussian_exact_epsilon(delta: float, sigma: float, sensitivity: float = 1.0) -> float:
    """Exact epsilon(delta) of one Gaussian mechanism, by bisection on :func:`gaussian_exact_delta`."""
    delta = _check_pos("delta", delta, upper=1.0)
    lo, hi = 0.0, 1.0
    while gaussian_exact_delta(hi, sigma, sensitivity) > delta:
        hi *= 2
    return _bisect(lambda e: gaussian_exact_delta(e, sigma, sensitivity) > delta, lo, hi)[1]
