"""Empirical privacy audits of the DP generators (issue 11): how much epsilon a generator really gives.

- :func:`audit` (:mod:`.game`): the distinguishing game on a worst-case pair D / D plus a canary (:mod:`.worlds`),
  scored by white-box, model-based or black-box statistics (:mod:`.scores`) and bounded by :mod:`.bounds`;
- :func:`one_run_audit` (:mod:`.one_run`): the one-training-run audit of DP-SGD;
- :func:`count_one_run_audit` (:mod:`.one_run_counts`): the one-run audit of a count release (many canaries, each
  its own category, in a few release-only fits);
- :func:`check_accounting` (:mod:`.accounting`): an independent recomputation of a fitted model's epsilon.

Every audit returns an :class:`AuditResult` (:mod:`.result`). The audits fit generators on tables built for the
audit, never on user data, so their results hold no private statistic.
"""
from __future__ import annotations

from typing import Any

from .game import audit
from .result import AuditResult, verdict

__all__ = ["AuditResult", "audit", "check_accounting", "count_one_run_audit", "one_run_audit", "verdict"]

_LAZY = {"one_run_audit": ".one_run", "check_accounting": ".accounting", "count_one_run_audit": ".one_run_counts"}


def __getattr__(name: str) -> Any:
    """The one-run audits and ``check_accounting`` are imported on first use (torch, accountants)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
