"""Pure helpers for planning DP-SGD: steps, budget splits and the noise-multiplier search.

No state, no randomness, no I/O. The epsilon of a (noise multiplier, sample rate, steps) triple comes from an
accountant function passed in (see :mod:`synthgen.privacy.accountants`), so these helpers can be tested with
any monotone function.

Budget split (basic composition): a fit that first releases noisy counts and then runs DP-SGD spends
``(eps_pre + eps_sgd, delta_pre + delta_sgd)``; :func:`split_budget` gives each part its share.

Joint (tight) composition: :func:`count_noise_multiplier` sizes the noise of the count releases from a share of
the zCDP budget; the releases are then composed with the DP-SGD steps by the PRV accountant
(``DPSGDAccountant(..., prior_noise_multipliers=...)``), which wastes none of the budget on the split.

The sample rate never comes from the exact row count n (private under add/remove-one-row). It is
:func:`sample_rate` of ``n_hat``, a noisy row count (a Gaussian, sensitivity 1) bought first with a small fixed
share of the target (:func:`row_count_split`: :data:`ROW_COUNT_EPSILON_SHARE` of epsilon,
:data:`ROW_COUNT_DELTA_SHARE` of delta), clamped to the declared row bounds and to :data:`MAX_SAMPLE_RATE`.
Everything after the count (the count release and the DP-SGD steps, composed by PRV) is planned to be
``(epsilon_rest, delta_rest)``-DP for EVERY value ``n_hat`` can take. Choosing the DP-SGD parameters from
``n_hat`` is adaptive composition, and the PRV accountant's tight composition is only a theorem for parameters
fixed in advance: its bound for the chosen parameters, averaged over an ``n_hat`` that is correlated with the
count's privacy loss, is not itself a bound. Basic composition does hold adaptively (Dwork, Rothblum & Vadhan
2010; Dwork & Roth 2014, Thm 3.16): an ``(eps0, delta0)``-DP count followed by a mechanism that is
``(eps_rest, delta_rest)``-DP whatever the count said is ``(eps0 + eps_rest, delta0 + delta_rest)``-DP, which
the split makes equal to the target. Poisson sampling at any rate q fixed before the steps is accounted exactly
whatever the true n is; only the utility depends on how close ``n_hat`` is to n. :func:`worst_case_rate` gives
the largest rate any table with the DECLARED row bounds can lead to, for checks made before any data is read.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

from ...exceptions import InvalidPrivacyParameterError

#: The largest Poisson sample rate used (public): a DP row estimate below ``batch_size / MAX_SAMPLE_RATE`` (a
#: small table or a noisy count far below the truth) gives this rate, never an error that depends on n.
MAX_SAMPLE_RATE = 0.5
#: Shares of the target (epsilon, delta) spent on the noisy row count that sets the DP-SGD schedule.
ROW_COUNT_EPSILON_SHARE = 0.03
ROW_COUNT_DELTA_SHARE = 0.05


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


def rows_estimate(totals: Sequence[float], cells: Sequence[int], cell_sd: float, *, min_rows: int | None = None,
                  max_rows: int | None = None) -> tuple[float, float]:
    """A DP row count from the NOISY totals of histograms that each hold every row once (post-processing).

    Histogram ``j`` has ``cells[j]`` cells with independent noise of std ``cell_sd``, so its total is
    ``n + N(0, cells[j] * cell_sd^2)``; the inverse-variance weighted mean of the totals is unbiased with std
    ``cell_sd / sqrt(sum 1 / cells[j])``. Returns ``(estimate, std)``, the estimate clamped into the declared row
    bounds (public) and to at least 1.
    """
    t = [float(x) for x in totals]
    c = [int(k) for k in cells]
    if not t or len(t) != len(c) or min(c) < 1:
        raise InvalidPrivacyParameterError("rows_estimate needs one cell count (>= 1) per histogram total.")
    w = [1.0 / k for k in c]
    est = sum(x * wi for x, wi in zip(t, w)) / sum(w)
    return clamp_rows(est, min_rows, max_rows), float(cell_sd) / math.sqrt(sum(w))


def clamp_rows(n_hat: float, min_rows: int | None = None, max_rows: int | None = None) -> float:
    """``n_hat`` clamped into the declared row bounds and to at least 1 (post-processing with public bounds)."""
    lo = max(1.0, float(min_rows or 0))
    hi = float(max_rows) if max_rows else math.inf
    return float(min(max(float(n_hat), lo), max(hi, lo)))


def sample_rate(batch_size: int, n_hat: float, max_rate: float = MAX_SAMPLE_RATE) -> float:
    """The Poisson rate for ``batch_size`` expected rows given a DP row estimate: ``min(max_rate, B / n_hat)``."""
    if not (0 < max_rate <= 1):
        raise InvalidPrivacyParameterError(f"max_rate must be in (0, 1]; got {max_rate}.")
    return float(min(max_rate, float(batch_size) / max(float(n_hat), 1.0)))


def worst_case_rate(batch_size: int, min_rows: int | None, max_rate: float = MAX_SAMPLE_RATE) -> float:
    """The largest rate :func:`sample_rate` can give for a table within the DECLARED bounds (public)."""
    return sample_rate(batch_size, clamp_rows(0.0, min_rows), max_rate)


def row_count_split(epsilon: float, delta: float) -> tuple[float, float, float, float]:
    """``(eps0, delta0, eps_rest, delta_rest)``: the noisy row count's part and the rest; they add up to the target
    by basic composition, which holds for adaptively chosen mechanisms (see the module docstring)."""
    eps0, dlt0 = epsilon * ROW_COUNT_EPSILON_SHARE, delta * ROW_COUNT_DELTA_SHARE
    return eps0, dlt0, epsilon - eps0, delta - dlt0


def gaussian_noise_multiplier(epsilon: float, delta: float, rel_tol: float = 1e-4) -> float:
    """The smallest noise multiplier (sigma / L2 sensitivity, to ``rel_tol``) of one Gaussian mechanism that is
    exactly ``(epsilon, delta)``-DP (Balle & Wang 2018); the answer always satisfies it."""
    from .zcdp import gaussian_exact_delta

    if not (epsilon > 0 and 0 < delta < 1):
        raise InvalidPrivacyParameterError(f"need epsilon > 0 and delta in (0, 1); got {epsilon}, {delta}.")
    lo, hi = 1e-3, 1.0
    while gaussian_exact_delta(epsilon, hi) > delta:
        lo, hi = hi, hi * 2.0
    while hi / lo - 1.0 > rel_tol:
        mid = math.sqrt(lo * hi)
        if gaussian_exact_delta(epsilon, mid) > delta:
            lo = mid
        else:
            hi = mid
    return hi
