"""The result of a privacy audit: a frozen :class:`AuditResult` whose :meth:`~AuditResult.to_dict` is the shared
``synthgen-audit/1`` JSON shape (a distinguishing game or a one-run audit).

An audit runs on worst-case tables built for the audit (:mod:`.worlds`), never on the user's data, so the result
holds no statistic of private training data and may be published with the release.

Verdicts (:func:`verdict`): ``violation`` when the 95 % lower bound on epsilon exceeds the claimed epsilon;
otherwise ``inconclusive`` when the run could not have certified the claim (its certifiable ceiling is below the
claimed epsilon), else ``consistent``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from synthgen._json import jsonable
from synthgen._version import __version__
from synthgen.exceptions import ConfigError

FORMAT = "synthgen-audit/1"
VERDICTS = ("violation", "consistent", "inconclusive")


def verdict(epsilon_lb: float, certifiable: float, claimed_epsilon: float) -> str:
    """``violation`` / ``consistent`` / ``inconclusive`` (see the module docstring)."""
    if epsilon_lb > claimed_epsilon:
        return "violation"
    if certifiable < claimed_epsilon:
        return "inconclusive"
    return "consistent"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class AuditResult:
    """One audit. ``game``: kind, canary, score, trials, split (and, for a distinguishing game, the statistic the
    threshold half chose); ``empirical``: epsilon_lb, tpr, fpr, mu_hat, mu_ci, epsilon_from_mu (and
    epsilon_from_mu_lb, epsilon at the interval's lower end)."""

    generator: str
    params: Mapping[str, Any]
    claimed: Mapping[str, float]
    game: Mapping[str, Any]
    empirical: Mapping[str, Any]
    certifiable_epsilon: float
    accounting: Mapping[str, Any] | None = None
    created: str = field(default_factory=_now)
    synthgen_version: str = __version__

    def __post_init__(self) -> None:
        for key in ("epsilon", "delta"):
            if key not in self.claimed:
                raise ConfigError(f"AuditResult.claimed needs {key!r}; got {sorted(self.claimed)}.")
        if "epsilon_lb" not in self.empirical:
            raise ConfigError("AuditResult.empirical needs 'epsilon_lb'.")

    @property
    def epsilon_lb(self) -> float:
        return float(self.empirical["epsilon_lb"])

    @property
    def tightness(self) -> float:
        """epsilon_lb / claimed epsilon."""
        eps = float(self.claimed["epsilon"])
        return self.epsilon_lb / eps if eps > 0 and math.isfinite(eps) else 0.0

    @property
    def verdict(self) -> str:
        return verdict(self.epsilon_lb, float(self.certifiable_epsilon), float(self.claimed["epsilon"]))

    def to_dict(self) -> dict:
        """The ``synthgen-audit/1`` JSON document (non-finite numbers become null)."""
        return jsonable({
            "format": FORMAT, "synthgen_version": self.synthgen_version, "created": self.created,
            "generator": self.generator, "params": dict(self.params), "claimed": dict(self.claimed),
            "game": dict(self.game), "empirical": dict(self.empirical),
            "certifiable_epsilon": float(self.certifiable_epsilon), "tightness": self.tightness,
            "verdict": self.verdict, "accounting": None if self.accounting is None else dict(self.accounting)},
            nonfinite="null")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "AuditResult":
        """Read a ``synthgen-audit/1`` document back (the verdict and tightness are recomputed)."""
        if d.get("format") != FORMAT:
            raise ConfigError(f"not a {FORMAT} document (format={d.get('format')!r}).")
        cert = d.get("certifiable_epsilon")
        return cls(generator=str(d["generator"]), params=dict(d.get("params") or {}), claimed=dict(d["claimed"]),
                   game=dict(d["game"]), empirical=dict(d["empirical"]),
                   certifiable_epsilon=math.inf if cert is None else float(cert),
                   accounting=d.get("accounting"), created=str(d.get("created") or _now()),
                   synthgen_version=str(d.get("synthgen_version") or __version__))
