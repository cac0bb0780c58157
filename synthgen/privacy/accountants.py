"""Stateful accountants. Pure formulas live in :mod:`synthgen.privacy.analysis`.

:class:`ZCDPBudget` turns an (epsilon, delta) target into a zCDP budget rho, hands out named shares of it, refuses
to spend more than it holds, and reports the spend as a :class:`DPSpend` with the split recorded.
"""
from __future__ import annotations

from typing import Mapping

from ..exceptions import BudgetExceededError, InvalidPrivacyParameterError
from .analysis import zcdp_epsilon, zcdp_rho
from .spend import DPSpend, check_epsilon_delta


class ZCDPBudget:
    """A zCDP odometer for one fit.

    ``delta_reserved`` is the part of delta kept for mechanisms with a failure probability (e.g. thresholded
    category sets); the rest converts epsilon into rho with the tight CKS20 conversion.
    """

    def __init__(self, epsilon: float, delta: float, delta_reserved: float = 0.0):
        eps, dlt = check_epsilon_delta(epsilon, delta)
        if dlt <= 0:
            raise InvalidPrivacyParameterError(
                "delta must be > 0 for zCDP-based generators (Gaussian noise). Fix: pass e.g. delta=1e-6.")
        if not 0 <= delta_reserved < dlt:
            raise InvalidPrivacyParameterError(f"delta_reserved must be in [0, delta); got {delta_reserved}.")
        self.epsilon, self.delta, self.delta_reserved = eps, dlt, float(delta_reserved)
        self.rho = zcdp_rho(eps, dlt - delta_reserved)
        self._spent: dict[str, float] = {}
        self._delta_spent: dict[str, float] = {}

    def split(self, weights: Mapping[str, float]) -> dict[str, float]:
        """Divide rho by the given weights (normalised): ``{"marginals": 1, "correlation": 1}``."""
        total = float(sum(weights.values()))
        if total <= 0 or any(w < 0 for w in weights.values()):
            raise InvalidPrivacyParameterError("Budget split weights must be >= 0 and not all zero.")
        return {k: self.rho * float(w) / total for k, w in weights.items()}

    def spend(self, name: str, rho: float, delta: float = 0.0) -> float:
        """Record spending ``rho`` (and optionally part of the reserved delta) under ``name``; return rho."""
        if rho < 0:
            raise InvalidPrivacyParameterError("rho must be >= 0.")
        if self.spent_rho + rho > self.rho * (1 + 1e-9):
            raise BudgetExceededError(
                f"zCDP budget exceeded while spending on {name!r}: {self.spent_rho + rho:.6g} > {self.rho:.6g}.")
        if sum(self._delta_spent.values()) + delta > self.delta_reserved * (1 + 1e-9):
            raise BudgetExceededError(f"reserved delta exceeded while spending on {name!r}.")
        self._spent[name] = self._spent.get(name, 0.0) + rho
        if delta:
            self._delta_spent[name] = self._delta_spent.get(name, 0.0) + delta
        return rho

    @property
    def spent_rho(self) -> float:
        return float(sum(self._spent.values()))

    def to_spend(self, **details) -> DPSpend:
        """The (epsilon, delta) actually spent: rho spent converted at delta - reserved, plus reserved delta used."""
        d_used = float(sum(self._delta_spent.values()))
        d_conv = self.delta - self.delta_reserved
        eps = zcdp_epsilon(self.spent_rho, d_conv) if self.spent_rho > 0 else 0.0
        info = {"rho_total": self.rho, "rho_spent": self.spent_rho,
                "rho_split": dict(self._spent), "conversion": "Canonne-Kamath-Steinke 2020 (tight zCDP)",
                "target": {"epsilon": self.epsilon, "delta": self.delta}}
        if self._delta_spent:
            info["delta_split"] = dict(self._delta_spent)
        info.update(details)
        return DPSpend(min(eps, self.epsilon), min(self.delta, d_conv + d_used), "zCDP", details=info)
