"""synthgen's own release checks, in the gate's result shape: DP required, max epsilon, budget, copies, report.

* ``require_dp`` passes only for a spend that :func:`synthgen.privacy.spend.spend_from_dict` reads as a valid
  :class:`~synthgen.privacy.spend.DPSpend`. A ``{"guarantee": "none", ...}`` spend fails, also when it carries the
  ``accounted`` epsilon of a fit that has no guarantee (seeded test noise, a schema inferred from the data); so
  does a malformed "dp" record (missing, negative or infinite epsilon).
* ``no_copied_rows`` counts copies with the evaluators' own exact-match code
  (:func:`evaluators.privacy.exact_match_rate`): the report and the gate cannot judge one release differently.
* ``report_matches_release`` compares the sha256 a report records for the table it evaluated
  (``summary.synthetic_table``, :func:`evaluators.base.table_sha256`) with the table being validated.

Privacy argument: the privacy checks read only the (DP or loudly non-DP) spend and the public budget; the copy
check reports a share, never a row; the report check reports hashes of the synthetic table only. The pass/fail
of the copy and threshold checks is itself a function of the private data: a gate document computed with a
report or a training table is part of the owner's evaluation, not of the release.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from synthgen.exceptions import SynthgenError

from ..config import Thresholds

DEFAULT_MAX_EXACT_MATCH_RATE = 0.0
_NO_INFO = "is set but no privacy information was given. Fix: pass the report (--report) or the model (--model)."


def check_result(name: str, success: bool, message: str, **observed: Any) -> dict:
    """One synthgen check in GX's result shape (``expectation_config.meta.check`` names it)."""
    return {"expectation_config": {"type": f"synthgen_{name}", "kwargs": {}, "meta": {"check": name}},
            "success": bool(success), "result": {"observed_value": observed or None, "message": message},
            "exception_info": {"raised_exception": False, "exception_message": None}}


def read_spend(privacy: Mapping[str, Any] | None) -> tuple[Any, str | None]:
    """``(spend or None, problem)``: the spend object of a privacy record, or why it is not a valid one."""
    from synthgen.privacy.spend import spend_from_dict

    if privacy is None:
        return None, None
    try:
        return spend_from_dict(privacy), None
    except (SynthgenError, KeyError, TypeError, ValueError) as exc:
        return None, f"the privacy record is not a valid spend ({type(exc).__name__}: {exc})"


def _require_dp(privacy: Mapping[str, Any] | None, spend: Any, problem: str | None) -> dict:
    if privacy is None:
        return check_result("require_dp", False, f"require_dp {_NO_INFO}")
    if spend is not None and spend.is_dp:
        return check_result("require_dp", True, "the release carries a DP guarantee", guarantee="dp")
    if spend is None:
        why = problem or "unreadable privacy record"
    else:
        why = str(getattr(spend, "reason", "no guarantee"))
        acc = getattr(spend, "accounted", None)
        if acc is not None:
            why += f" (its accountant computed epsilon={acc.epsilon:.4g}, which does not hold)"
    return check_result("require_dp", False, f"the release has NO differential-privacy guarantee ({why}) but the "
                        "config requires one. Fix: fit a DP generator such as 'dp-copula' on a declared schema, "
                        "without test switches.", guarantee=(privacy or {}).get("guarantee"))


def _max_epsilon(spend: Any, limit: float) -> dict:
    if spend is None:
        return check_result("max_epsilon", False, f"max_epsilon {_NO_INFO}", max_epsilon=limit)
    eps = spend.epsilon if spend.is_dp else math.inf
    ok = eps <= limit + 1e-12
    return check_result("max_epsilon", ok, f"epsilon {eps:g} {'<=' if ok else '>'} max_epsilon {limit:g}"
                        + ("" if ok else ". Fix: fit with a smaller epsilon (and with a DP guarantee)."),
                        epsilon=None if math.isinf(eps) else eps, max_epsilon=limit)


def _budget(spend: Any, budget: tuple[float | None, float | None], ledger: Any) -> dict:
    b_eps, b_delta = budget
    problems: list[str] = []
    observed: dict[str, Any] = {}
    if b_eps is not None and spend is not None:
        eps = spend.epsilon if spend.is_dp else math.inf  # a release without a guarantee exceeds every budget
        observed.update(epsilon=None if math.isinf(eps) else eps, budget_epsilon=b_eps)
        if eps > b_eps + 1e-12:
            problems.append(f"the release spent epsilon {eps:g}, over the configured budget {b_eps:g}")
        if spend.is_dp and b_delta is not None and spend.delta > b_delta + 1e-15:
            problems.append(f"the release spent delta {spend.delta:g}, over the configured {b_delta:g}")
    if ledger is not None:
        from synthgen.exceptions import LedgerError
        from synthgen.privacy.ledger import PrivacyLedger

        try:
            info = PrivacyLedger(ledger).to_dict()
            observed["ledger_spent"] = info["spent"]
            observed["ledger_budget"] = info["budget"]
        except LedgerError as exc:
            problems.append(str(exc))
    return check_result("budget_not_exceeded", not problems,
                        "; ".join(problems) if problems else "privacy budget respected", **observed)


def privacy_checks(privacy: Mapping[str, Any] | None, thresholds: Thresholds | None,
                   budget: tuple[float | None, float | None] = (None, None), ledger: Any = None) -> list[dict]:
    """synthgen's own checks on the privacy of a release: DP required, max epsilon, budget not exceeded."""
    t = thresholds or Thresholds()
    spend, problem = read_spend(privacy)
    out = []
    if t.require_dp:
        out.append(_require_dp(privacy, spend, problem))
    if t.max_epsilon is not None:
        out.append(_max_epsilon(spend, t.max_epsilon))
    if budget[0] is not None or ledger is not None:
        out.append(_budget(spend, budget, ledger))
    return out


def copy_check(report_summary: Mapping[str, Any] | None, thresholds: Thresholds | None,
               synthetic: Any = None, real: Any = None, schema: Any = None) -> list[dict]:
    """``no_copied_rows``: the share of synthetic rows equal to a training row must not exceed the threshold.

    With ``real``, the share is computed here (the evaluators' exact-match code); otherwise it is the report's.
    """
    limit = thresholds.max_exact_match_rate if (thresholds and thresholds.max_exact_match_rate is not None) \
        else DEFAULT_MAX_EXACT_MATCH_RATE
    rate, source = None, None
    if real is not None:
        from evaluators.base import EvaluationError
        from evaluators.privacy import exact_match_rate

        try:
            rate, source = exact_match_rate(synthetic, real, schema), "computed against the training table"
        except EvaluationError as exc:
            return [check_result("no_copied_rows", False, f"copied rows could not be counted: {exc}")]
    elif report_summary is not None and report_summary.get("exact_match_rate") is not None:
        rate, source = float(report_summary["exact_match_rate"]), "report exact_match_rate"
    if rate is None:
        return []
    ok = rate <= limit + 1e-12
    msg = (f"{rate:.4%} of synthetic rows copy a training row ({source}); limit {limit:.4%}"
           + ("" if ok else ". Fix: use a DP generator or a smaller epsilon; do not release copied rows."))
    return [check_result("no_copied_rows", ok, msg, exact_match_rate=rate, max_exact_match_rate=limit)]


def report_check(report_summary: Mapping[str, Any], synthetic: Any, schema: Any) -> dict:
    """``report_matches_release``: the report describes this very table (sha256 of its content)."""
    from evaluators.base import table_sha256

    rec = report_summary.get("synthetic_table")
    if not isinstance(rec, Mapping) or not isinstance(rec.get("sha256"), str):
        return check_result("report_matches_release", False, "the report does not record the sha256 of the table "
                            "it evaluated, so it may describe another file. Fix: regenerate the report "
                            "(`synthgen evaluate`) on this synthetic file.")
    actual = table_sha256(synthetic, schema if rec.get("basis") == "schema" else None)
    ok = actual == rec["sha256"]
    return check_result("report_matches_release", ok, "the report evaluated this table" if ok else
                        "the report describes another table (its recorded sha256 differs from this file's). "
                        "Fix: pass the report made for this file, or regenerate it with `synthgen evaluate`.",
                        report_sha256=rec["sha256"], table_sha256=actual)
