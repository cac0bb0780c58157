"""What a generator, model, sample or report says about its privacy: a DP guarantee or loudly none."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Union

from ..exceptions import InvalidPrivacyParameterError

NEIGHBOURING = "add/remove one row"
UNDECLARED_ROWS_DELTA = 1e-9  # the default delta when the schema declares no maximum row count
UNDECLARED_ROWS_MAX_DELTA = 1e-6  # the largest delta accepted when no maximum row count is declared


def default_delta(max_rows: int | None) -> float:
    """The default delta, from PUBLIC facts only (the exact row count is private under add/remove-one-row).

    With a declared maximum row count ``N``: ``1 / (10 * 10^ceil(log10 N))`` capped at 1e-6 (well below 1/N).
    Without one: the fixed 1e-9, below 1/n for any table of up to 10^8 rows.
    """
    if max_rows is None:
        return UNDECLARED_ROWS_DELTA
    n_ref = 10 ** math.ceil(math.log10(max(int(max_rows), 10)))
    return min(1e-6, 1.0 / (10.0 * n_ref))


def resolve_delta(delta: float | None, max_rows: int | None) -> float:
    """``delta`` checked against the declared row bounds, or the default when ``None``.

    A delta at or above 1/n would allow releasing a whole row; as n is private the check uses the declared
    maximum row count, or refuses deltas above 1e-6 when none is declared.
    """
    if delta is None:
        return default_delta(max_rows)
    _, dlt = check_epsilon_delta(1.0, delta)
    if max_rows is not None and dlt >= 1.0 / max(int(max_rows), 1):
        raise InvalidPrivacyParameterError(
            f"delta={dlt:g} is not below 1/N for the declared maximum of {int(max_rows)} rows (delta >= 1/n allows "
            f"releasing a whole row). Fix: use delta <= {default_delta(max_rows):g}, or leave delta=None.")
    if max_rows is None and dlt > UNDECLARED_ROWS_MAX_DELTA:
        raise InvalidPrivacyParameterError(
            f"delta={dlt:g} cannot be checked against the row count: the schema declares no maximum row count "
            f"(the exact count is private). Fix: declare rows.max in the schema, use delta <= "
            f"{UNDECLARED_ROWS_MAX_DELTA:g}, or leave delta=None (default {UNDECLARED_ROWS_DELTA:g}).")
    return dlt


def check_epsilon_delta(epsilon: float, delta: float) -> tuple[float, float]:
    """Validate a DP target; raise a typed error that names the fix."""
    try:
        eps, dlt = float(epsilon), float(delta)
    except (TypeError, ValueError):
        raise InvalidPrivacyParameterError(f"epsilon and delta must be numbers; got {epsilon!r}, {delta!r}.") from None
    if not (math.isfinite(eps) and eps > 0):
        raise InvalidPrivacyParameterError(
            f"epsilon must be a finite number > 0; got {epsilon}. Fix: pick a budget such as epsilon=1.")
    if not (math.isfinite(dlt) and 0 <= dlt < 1):
        raise InvalidPrivacyParameterError(
            f"delta must be in [0, 1); got {delta}. Fix: use a delta well below 1/n, e.g. 1e-6.")
    return eps, dlt


#: Above this epsilon a DP guarantee protects little (the odds of any inference may move by up to e^10 ~ 22,000x).
WEAK_EPSILON = 10.0
#: A requested delta at or above this is refused outright (a delta >= 1/n already allows releasing whole rows;
#: the declared row bounds give the sharper check in :func:`resolve_delta`).
MAX_REQUEST_DELTA = 0.5


def check_request(epsilon: float | None, delta: float | None) -> tuple[float | None, float | None]:
    """Validate an (epsilon, delta) a user asked for (``None``: the default applies) BEFORE it is compared with any
    budget, so bad input is a typed :class:`InvalidPrivacyParameterError` (exit 2), never "cannot pay" (exit 1)."""
    eps = None if epsilon is None else check_epsilon_delta(epsilon, 0.0)[0]
    if delta is None:
        return eps, None
    _, dlt = check_epsilon_delta(1.0, delta)
    if dlt >= MAX_REQUEST_DELTA:
        raise InvalidPrivacyParameterError(
            f"delta={dlt:g} is far too large: a delta at or above 1/n allows releasing whole rows. Fix: use a delta "
            f"well below 1/n (e.g. 1e-6), or leave it out (default from the schema's declared maximum row count).")
    return eps, dlt


@dataclass(frozen=True)
class DPSpend:
    """An (epsilon, delta)-DP guarantee under the add/remove-one-row neighbouring relation.

    ``details`` records how the budget was split (e.g. ``{"marginals": 0.5, "correlation": 0.5}``) and any
    other accountant readings (e.g. the RDP epsilon beside the PRV one).
    """

    epsilon: float
    delta: float
    accountant: str = "zCDP"
    neighbouring: str = NEIGHBOURING
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        eps, dlt = float(self.epsilon), float(self.delta)
        if not (math.isfinite(eps) and eps >= 0):
            raise InvalidPrivacyParameterError(f"DPSpend epsilon must be >= 0; got {self.epsilon}.")
        if not (0 <= dlt < 1):
            raise InvalidPrivacyParameterError(f"DPSpend delta must be in [0, 1); got {self.delta}.")
        object.__setattr__(self, "epsilon", eps)
        object.__setattr__(self, "delta", dlt)
        object.__setattr__(self, "details", dict(self.details))

    is_dp = True

    def to_dict(self) -> dict:
        return {"guarantee": "dp", "epsilon": self.epsilon, "delta": self.delta, "accountant": self.accountant,
                "neighbouring": self.neighbouring, "details": dict(self.details)}

    def summary(self) -> str:
        return (f"(epsilon={self.epsilon:.4g}, delta={self.delta:.3g})-DP [{self.accountant}], "
                f"neighbouring datasets differ by {self.neighbouring}")


@dataclass(frozen=True)
class NoGuarantee:
    """No differential-privacy guarantee. Say so loudly wherever the output goes.

    ``accounted``: for a DP generator's fit that nevertheless has no guarantee (a schema read off the data without
    noise, privacy noise seeded by a test switch), what its accountant computed, kept for the record only.
    """

    reason: str
    accounted: DPSpend | None = None

    is_dp = False
    epsilon = math.inf
    delta = 1.0

    def to_dict(self) -> dict:
        return {"guarantee": "none", "reason": self.reason,
                "accounted": self.accounted.to_dict() if self.accounted is not None else None}

    def summary(self) -> str:
        extra = (f" (its accountant computed epsilon={self.accounted.epsilon:.4g}, which does not hold)"
                 if self.accounted is not None else "")
        return f"NO DIFFERENTIAL-PRIVACY GUARANTEE: {self.reason}{extra}"


PrivacySpend = Union[DPSpend, NoGuarantee]


def spend_from_dict(d: Mapping[str, Any]) -> PrivacySpend:
    if d.get("guarantee") == "dp":
        return DPSpend(d["epsilon"], d["delta"], d.get("accountant", "zCDP"), d.get("neighbouring", NEIGHBOURING),
                       d.get("details", {}))
    if d.get("guarantee") == "none":
        acc = d.get("accounted")
        return NoGuarantee(d.get("reason", "unspecified"), spend_from_dict(acc) if acc else None)
    raise InvalidPrivacyParameterError(f"Unknown privacy guarantee {d.get('guarantee')!r}; expected 'dp' or 'none'.")
