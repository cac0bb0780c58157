"""Privacy amplification by Poisson subsampling (pure math: no state, no randomness, no I/O).

Neighbouring relation: add/remove one row. Let ``S_q`` keep each row of a table independently with probability
``q`` (a Poisson subsample, drawn ONCE), and let ``M`` be ``(eps0, delta0)``-DP with respect to its input table.
Then ``M o S_q`` is ``(log(1 + q (e^eps0 - 1)), q delta0)``-DP (Li, Qardaji & Su 2012, Thm 1; Balle, Barthe &
Gaboardi 2018, Thm 8, Poisson subsampling under add/remove). The bound holds whatever ``M`` does with its input,
including DP-SGD's own per-step Poisson sampling inside ``M``: it is applied to ``M``'s whole-run guarantee, not to
its per-step sample rate. (Multiplying DP-SGD's sample rate by ``q`` would be wrong: the subsample is drawn once,
so a row's inclusions across the steps are correlated, not independent with rate ``q * rate``.)

``q`` must not depend on the private data: callers take it from the DECLARED row bounds (or a charged noisy
count) only.
"""
from __future__ import annotations

import math

from ...exceptions import InvalidPrivacyParameterError


def _check_rate(q: float) -> float:
    if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q <= 1:
        raise InvalidPrivacyParameterError(f"the subsample rate must be in (0, 1]; got {q!r}.")
    return float(q)


def amplified_epsilon(epsilon0: float, q: float) -> float:
    """``log(1 + q (e^eps0 - 1))``: the epsilon of an ``eps0``-DP mechanism run on a Poisson ``q``-subsample."""
    q = _check_rate(q)
    if epsilon0 < 0:
        raise InvalidPrivacyParameterError(f"epsilon must be >= 0; got {epsilon0}.")
    return math.log1p(q * math.expm1(epsilon0)) if q < 1 else float(epsilon0)


def amplified_delta(delta0: float, q: float) -> float:
    """``q * delta0``: the delta of a ``delta0``-DP mechanism run on a Poisson ``q``-subsample."""
    return _check_rate(q) * float(delta0)


def inner_target(epsilon: float, delta: float, q: float) -> tuple[float, float]:
    """The largest ``(eps0, delta0)`` whose amplification by a Poisson ``q``-subsample is at most
    ``(epsilon, delta)``: ``eps0 = log(1 + (e^eps - 1) / q)``, ``delta0 = delta / q`` (rounded down so that the
    amplified values never exceed the target by float rounding)."""
    q = _check_rate(q)
    if not (epsilon > 0 and math.isfinite(epsilon)) or not 0 <= delta < 1:
        raise InvalidPrivacyParameterError(f"need epsilon > 0 (finite) and 0 <= delta < 1; got ({epsilon}, {delta}).")
    if q == 1:
        return float(epsilon), float(delta)
    eps0 = math.log1p(math.expm1(epsilon) / q)
    while amplified_epsilon(eps0, q) > epsilon:
        eps0 = math.nextafter(eps0, 0.0)
    delta0 = delta / q
    while q * delta0 > delta:
        delta0 = math.nextafter(delta0, 0.0)
    return eps0, delta0
