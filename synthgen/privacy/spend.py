"""What a generator, model, sample or report says about its privacy: a DP guarantee or loudly none."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Union

from ..exceptions import InvalidPrivacyParameterError

NEIGHBOURING = "add/remove one row"


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
    """No differential-privacy guarantee. Say so loudly wherever the output goes."""

    reason: str

    is_dp = False
    epsilon = math.inf
    delta = 1.0

    def to_dict(self) -> dict:
        return {"guarantee": "none", "reason": self.reason}

    def summary(self) -> str:
        return f"NO DIFFERENTIAL-PRIVACY GUARANTEE: {self.reason}"


PrivacySpend = Union[DPSpend, NoGuarantee]


def spend_from_dict(d: Mapping[str, Any]) -> PrivacySpend:
    if d.get("guarantee") == "dp":
        return DPSpend(d["epsilon"], d["delta"], d.get("accountant", "zCDP"), d.get("neighbouring", NEIGHBOURING),
                       d.get("details", {}))
    if d.get("guarantee") == "none":
        return NoGuarantee(d.get("reason", "unspecified"))
    raise InvalidPrivacyParameterError(f"Unknown privacy guarantee {d.get('guarantee')!r}; expected 'dp' or 'none'.")
