"""The statistics of a privacy audit: pure functions of counts and score samples (no data, no generator).

- :func:`clopper_pearson`: exact binomial confidence bounds.
- :func:`epsilon_lower_bound`: the (epsilon, delta)-DP constraint ``TPR <= e^eps FPR + delta`` and
  ``1 - FPR <= e^eps (1 - TPR) + delta`` holds for every test telling D from D'. Any test whose TPR/FPR violate it
  for some epsilon certifies that the mechanism is not epsilon-DP; with the one-sided Clopper-Pearson lower bound
  on TPR and upper bound on FPR (each at ``alpha / 2``, so jointly at confidence ``1 - alpha`` by the union bound)
  the certified epsilon is ``max(log((TPR_lo - delta) / FPR_hi), log((1 - FPR_hi - delta) / (1 - TPR_lo)))``,
  clipped at 0. (The second direction uses the SAME two bounds: ``1 - FPR_hi`` is a lower bound on the true
  negative rate and ``1 - TPR_lo`` an upper bound on the false negative rate.) This needs no assumption on the
  score's distribution.
- :func:`certifiable_epsilon`: the bound a perfect test (TPR = 1, FPR = 0) would give with the same trial counts:
  the largest epsilon such a run can certify.
- Gaussian DP (Dong, Roth, Su): a mu-GDP mechanism is as hard to tell apart as N(0, 1) from N(mu, 1);
  :func:`gdp_delta` is its privacy profile ``delta(eps) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2)`` and
  :func:`gdp_epsilon` solves it for epsilon. :func:`gdp_mu_hat` fits mu to two score samples (difference of means
  over the pooled standard deviation, with a normal-approximation interval); this is exact for Gaussian-noise
  mechanisms scored by their likelihood-ratio statistic and an estimate otherwise, so verdicts use only the
  distribution-free bound above.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy.optimize import brentq
from scipy.stats import beta, norm


def _check_counts(k: int, n: int) -> None:
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n >= 1; got k={k}, n={n}")


def cp_lower(k: int, n: int, alpha: float) -> float:
    """One-sided ``1 - alpha`` Clopper-Pearson lower bound on a binomial proportion (k successes of n)."""
    _check_counts(k, n)
    return 0.0 if k == 0 else float(beta.ppf(alpha, k, n - k + 1))


def cp_upper(k: int, n: int, alpha: float) -> float:
    """One-sided ``1 - alpha`` Clopper-Pearson upper bound on a binomial proportion."""
    _check_counts(k, n)
    return 1.0 if k == n else float(beta.ppf(1.0 - alpha, k + 1, n - k))


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided Clopper-Pearson interval (each side at ``(1 - confidence) / 2``)."""
    a = (1.0 - confidence) / 2.0
    return cp_lower(k, n, a), cp_upper(k, n, a)


def _log_ratio(num: float, den: float) -> float:
    if num <= 0.0:
        return 0.0
    if den <= 0.0:
        return math.inf
    return max(0.0, math.log(num / den))


def epsilon_from_rates(tpr: float, fpr: float, delta: float) -> float:
    """The epsilon a test with these (true) rates shows, both directions, clipped at 0 (no confidence bounds)."""
    return max(_log_ratio(tpr - delta, fpr), _log_ratio(1.0 - fpr - delta, 1.0 - tpr))


def epsilon_lower_bound(tp: int, n1: int, fp: int, n0: int, delta: float, confidence: float = 0.95) -> float:
    """Epsilon certified at ``confidence`` by a test that said "D'" on ``tp`` of ``n1`` fits on D' and on ``fp``
    of ``n0`` fits on D (see the module docstring)."""
    a = (1.0 - confidence) / 2.0
    return epsilon_from_rates(cp_lower(tp, n1, a), cp_upper(fp, n0, a), delta)


def epsilon_lower_bounds(tp: np.ndarray, n1: int, fp: np.ndarray, n0: int, delta: float,
                         confidence: float = 0.95) -> np.ndarray:
    """:func:`epsilon_lower_bound` for arrays of counts (one entry per test), vectorised."""
    a = (1.0 - confidence) / 2.0
    tp, fp = np.asarray(tp, dtype=np.int64), np.asarray(fp, dtype=np.int64)
    tpr = np.where(tp > 0, beta.ppf(a, np.maximum(tp, 1), n1 - tp + 1), 0.0)
    fpr = np.where(fp < n0, beta.ppf(1.0 - a, fp + 1, np.maximum(n0 - fp, 1)), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        one = np.where(tpr - delta <= 0, 0.0, np.where(fpr <= 0, np.inf, np.log((tpr - delta) / fpr)))
        two = np.where(1.0 - fpr - delta <= 0, 0.0,
                       np.where(1.0 - tpr <= 0, np.inf, np.log((1.0 - fpr - delta) / (1.0 - tpr))))
    return np.maximum(0.0, np.maximum(one, two))


def attainable_epsilon(mu: float, n1: int, n0: int, delta: float, confidence: float = 0.95
                       ) -> tuple[float, float]:
    """``(bound, threshold)``: the bound the best threshold test of N(0, 1) (fits on D) against N(mu, 1) (fits on
    D') certifies with ``n1``/``n0`` fits when its counts come out at their expected values. For a mechanism
    that is exactly mu-GDP on the game's pair and scored by its likelihood-ratio statistic, this is what the
    trial count allows (about: a run scatters around it); the threshold depends on mu and the counts only, so a
    test can be fixed with it before any score is seen."""
    if not (math.isfinite(mu) and mu > 0):
        return (math.inf if mu > 0 else 0.0), (mu / 2.0 if math.isfinite(mu) else 0.0)
    t = np.linspace(min(-4.0, mu - 8.0), max(mu + 4.0, 8.0), 1201)
    tp = np.rint(n1 * norm.sf(t - mu)).astype(np.int64)
    fp = np.rint(n0 * norm.sf(t)).astype(np.int64)
    eps = epsilon_lower_bounds(tp, n1, fp, n0, delta, confidence)
    i = int(np.argmax(eps))
    return float(eps[i]), float(t[i])


def certifiable_epsilon(n1: int, n0: int, delta: float, confidence: float = 0.95) -> float:
    """The largest epsilon a run with these trial counts can certify (a perfect test: TPR = 1, FPR = 0)."""
    return epsilon_lower_bound(n1, n1, 0, n0, delta, confidence)


# ------------------------------------------------------------------------------------------------ Gaussian DP
def gdp_delta(epsilon: float, mu: float) -> float:
    """delta(epsilon) of mu-GDP."""
    if mu <= 0.0:
        return 0.0
    if math.isinf(mu):
        return 1.0
    second = math.exp(min(700.0, epsilon + float(norm.logcdf(-epsilon / mu - mu / 2.0))))  # e^eps Phi(.), no overflow
    return max(0.0, float(norm.cdf(-epsilon / mu + mu / 2.0)) - second)


def gdp_epsilon(mu: float, delta: float) -> float:
    """The smallest epsilon with ``gdp_delta(epsilon, mu) <= delta`` (0 when mu-GDP is already (0, delta)-DP, e.g.
    for a group-privacy delta that reached 1)."""
    if not delta > 0.0:
        raise ValueError(f"delta must be positive; got {delta}")
    if delta >= 1.0 or math.isnan(mu) or mu <= 0.0 or gdp_delta(0.0, mu) <= delta:
        return 0.0
    if math.isinf(mu):
        return math.inf
    hi = max(1.0, mu * mu)
    while gdp_delta(hi, mu) > delta:
        hi *= 2.0
        if hi > 1e6:
            return math.inf
    return float(brentq(lambda e: gdp_delta(e, mu) - delta, 0.0, hi, xtol=1e-10))


def mu_from_rates(tpr: float, fpr: float) -> float:
    """The mu of a Gaussian shift with these rates at one threshold: ``Phi^-1(TPR) - Phi^-1(FPR)``."""
    return float(norm.ppf(tpr) - norm.ppf(fpr))


def gdp_mu_hat(scores0: Sequence[float], scores1: Sequence[float], confidence: float = 0.95
               ) -> tuple[float, float, float]:
    """mu fitted to the scores of fits on D (``scores0``) and on D' (``scores1``): ``(mean1 - mean0) / s`` with
    ``s`` the pooled standard deviation, and a two-sided normal-approximation interval
    (``se^2 = 1/n0 + 1/n1 + mu^2 / (2 (n0 + n1))``). The sign says which world scores higher; the interval's
    bounds are clipped at 0 from below for the absolute value. Scores that do not vary give mu = inf (or 0 if
    the worlds agree)."""
    x0, x1 = np.asarray(scores0, dtype=np.float64), np.asarray(scores1, dtype=np.float64)
    n0, n1 = len(x0), len(x1)
    if n0 < 2 or n1 < 2:
        raise ValueError("gdp_mu_hat needs at least 2 scores per world")
    diff = float(abs(x1.mean() - x0.mean()))
    pooled = math.sqrt(((n0 - 1) * x0.var(ddof=1) + (n1 - 1) * x1.var(ddof=1)) / (n0 + n1 - 2))
    if pooled <= 1e-12 * max(1.0, diff):
        mu = math.inf if diff > 0.0 else 0.0
        return mu, mu, mu
    mu = diff / pooled
    se = math.sqrt(1.0 / n0 + 1.0 / n1 + mu * mu / (2.0 * (n0 + n1)))
    z = float(norm.ppf(0.5 + confidence / 2.0))
    return mu, max(0.0, mu - z * se), mu + z * se
