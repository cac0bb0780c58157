"""Pure helpers for planning DP-SGD: steps, budget splits and the noise-multiplier search.

No state, no randomness, no I/O. The epsilon of a (noise multiplier, sample rate, steps) triple comes from an
accountant function passed in (see :mod:`synthgen.privacy.accountants`), so these helpers can be tested with
any monotone function.

Budget split (basic composition): a fit that first releases noisy counts and then runs DP-SGD spends
``(eps_pre + eps_sgd, delta_pre + delta_sgd)``; :func:`split_budget` gives each part its share.

Joint (tight) composition: :func:`count_noise_multiplier` sizes the noise of the count releases from a share of
the zCDP budget; the releases are then composed with the DP-SGD steps by the PRV accountant
(``DPSGDAccountant(..., prior_noise_multipliers=...)``), which wastes none of the budget on the split.
"""
from __future__ import annotations

import math
from typing import Callable

from ...exceptions import InvalidPrivacyParameterError


def dpsgd_steps(epochs: float, sample_rate: float) -> int:
    """Number of DP-SGD steps for ``epochs`` passes at Poisson rate ``sample_rate`` (Opacus's convention).

    One epoch is ``1 / sample_rate`` steps (a step sees ``sample_rate * n`` rows on average).
    """
    if not (0 < sample_rate <= 1):
        raise InvalidPrivacyParameterError(f"sample_rate must be in (0, 1]; got {sample_rate}.")
    if not (epochs > 0):
        raise InvalidPrivacyParameterError(f"epochs must be > 0; got {epochs}.")
    return max(1, int(epochs / sample_rate))


def split_budget(epsilon: float, delta: float, fraction: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Split ``(epsilon, delta)`` into a preprocessing part and a DP-SGD part by basic composition.

    ``fraction`` of epsilon (and of delta) goes to preprocessing; the rest to DP-SGD. The two parts add up to
    the total exactly (epsilons and deltas add under basic composition).
    """
    if not (0 <= fraction < 1):
        raise InvalidPrivacyParameterError(f"the preprocessing fraction must be in [0, 1); got {fraction}.")
    eps_pre, dlt_pre = epsilon * fraction, delta * fraction
    return (eps_pre, dlt_pre), (epsilon - eps_pre, delta - dlt_pre)


def count_noise_multiplier(epsilon: float, delta: float, share: float) -> float:
    """Joint noise multiplier of the count releases that would cost ``share`` of the zCDP budget on its own.

    ``sqrt(1 / (2 * share * zcdp_rho(epsilon, delta)))``: a Gaussian mechanism with noise multiplier ``m``
    (noise std over L2 sensitivity) is ``1 / (2 m^2)``-zCDP. ``m`` is for the whole set of count releases
    taken together: with ``K`` histograms, each row in exactly one cell of each, the joint L2 sensitivity under
    add/remove-one-row is ``sqrt(K)``, so each histogram gets noise std ``m * sqrt(K)``. The share only sizes
    the noise; the spend is read by composing ``m`` with the DP-SGD steps (PRV), not by adding budgets.
    """
    from .zcdp import zcdp_rho

    try:
        share = float(share)
    except (TypeError, ValueError):
        raise InvalidPrivacyParameterError(f"share must be a number in (0, 1); got {share!r}.") from None
    if not (0 < share < 1):
        raise InvalidPrivacyParameterError(
            f"share must be in (0, 1); got {share}. Fix: e.g. 0.1 (a tenth of the zCDP budget for the counts).")
    return math.sqrt(1.0 / (2.0 * share * zcdp_rho(epsilon, delta)))


def solve_noise_multiplier(epsilon_of: Callable[[float], float], target_epsilon: float, *,
                           sigma_min: float = 0.3, sigma_max: float = 50.0, rel_tol: float = 0.01,
                           max_iter: int = 40) -> float:
    """The smallest noise multiplier (to ``rel_tol``) whose epsilon is at most ``target_epsilon``.

    ``epsilon_of(sigma)`` must be non-increasing in sigma. The answer always satisfies
    ``epsilon_of(answer) <= target_epsilon`` (it is the upper end of the bisection bracket, which is only ever
    moved to points that were checked). Raises :class:`InvalidPrivacyParameterError` when even ``sigma_max`` is
    not enough.
    """
    if not (target_epsilon > 0 and math.isfinite(target_epsilon)):
        raise InvalidPrivacyParameterError(f"target epsilon must be finite and > 0; got {target_epsilon}.")
    hi = float(sigma_max)
    if epsilon_of(hi) > target_epsilon:
        raise InvalidPrivacyParameterError(
            f"epsilon={target_epsilon:.4g} cannot be reached even with noise multiplier {sigma_max:g}.")
    lo = float(sigma_min)
    if epsilon_of(lo) <= target_epsilon:
        return lo
    for _ in range(max_iter):
        if hi / lo - 1.0 <= rel_tol:
            break
        mid = math.sqrt(lo * hi)  # geometric bisection: sigma spans orders of magnitude
        if epsilon_of(mid) <= target_epsilon:
            hi = mid
        else:
            lo = mid
    return hi


def max_steps_within(epsilon_of_steps: Callable[[int], float], target_epsilon: float, planned: int) -> int:
    """The largest step count ``<= planned`` whose epsilon is at most ``target_epsilon`` (0 if none).

    ``epsilon_of_steps`` must be non-decreasing in the number of steps.
    """
    if planned < 1:
        return 0
    if epsilon_of_steps(planned) <= target_epsilon:
        return planned
    if epsilon_of_steps(1) > target_epsilon:
        return 0
    lo, hi = 1, planned  # eps(lo) <= target < eps(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if epsilon_of_steps(mid) <= target_epsilon:
            lo = mid
        else:
            hi = mid
    return lo
