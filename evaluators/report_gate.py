"""The release gate's decision as the report shows it: from the gate's own document, or from the gate's own code.

The header of the HTML report states whether the release passes the gate. It never re-implements the gate:

* with a gate document (:func:`synthgen.release.gate.run_gate`, as ``synthgen run`` writes it), the report shows
  that document's decision and each check's outcome;
* with thresholds only (a release config's ``thresholds``, or none: the gate's defaults), it runs the gate's own
  report-level checks on the report's summary: the threshold expectations of
  :func:`synthgen.release.gate.report_expectations` through the gate's native engine, and the gate's privacy and
  copy checks (:func:`~synthgen.release.gate.privacy_checks`, :func:`~synthgen.release.gate.copy_check`). The data
  checks (types, bounds) and the table-hash check need the synthetic file: the section says they were not run.

Privacy argument: the decision is a function of the report's statistics (private, like the report); it adds no new
statistic. Check messages quote metric values and limits, never rows.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

SCOPE_GATE = "the release gate's document (synthgen run / validate)"
SCOPE_REPORT = ("the gate's report-level checks (thresholds, DP requirement, copies) run on this report; the data "
                "checks (types, bounds) need the synthetic file: run `synthgen validate`")


def _check_name(r: Mapping[str, Any]) -> str:
    cfg = r.get("expectation_config") or {}
    return str((cfg.get("meta") or {}).get("check") or cfg.get("type") or "check")


def _message(r: Mapping[str, Any], summary: Mapping[str, Any] | None) -> str:
    """A check's message: the gate's own, else one built from the expectation's kwargs and its counts."""
    res = r.get("result") or {}
    exc = r.get("exception_info") or {}
    if res.get("message"):
        return str(res["message"])
    if exc.get("raised_exception") and exc.get("exception_message"):
        return str(exc["exception_message"])
    cfg = r.get("expectation_config") or {}
    kw, name = cfg.get("kwargs") or {}, _check_name(r)
    if name.startswith("threshold:"):
        metric = kw.get("column")
        value = (summary or {}).get(metric)
        limit = ("min", kw["min_value"]) if kw.get("min_value") is not None else ("max", kw.get("max_value"))
        shown = f"{value:.4g}" if isinstance(value, (int, float)) else "not computed"
        return f"{metric} = {shown}; {limit[0]} {limit[1]:g}"
    if "unexpected_count" in res:
        return f"{res['unexpected_count']} value(s) break it ({res.get('unexpected_percent', 0):.2f}%)"
    if "observed_value" in res:
        return f"observed {str(res['observed_value'])[:120]}"
    return "passed" if r.get("success") else "failed"


def _checks(results: list[Mapping[str, Any]], summary: Mapping[str, Any] | None) -> list[dict]:
    return [{"check": _check_name(r), "success": bool(r.get("success")), "message": _message(r, summary)[:400]}
            for r in results]


def from_gate_document(doc: Mapping[str, Any], summary: Mapping[str, Any] | None = None) -> dict:
    """The report's ``release.gate`` record of a gate document (its decision and every check's outcome)."""
    checks = _checks(list(doc.get("results") or []), summary)
    thresholds = (doc.get("meta") or {}).get("thresholds")
    return {"source": "gate", "scope": SCOPE_GATE, "success": bool(doc.get("success")),
            "failed_checks": [str(c) for c in doc.get("failed_checks") or []], "checks": checks,
            "thresholds": dict(thresholds) if isinstance(thresholds, Mapping) else None}


def _thresholds(thresholds: Any) -> Any:
    from synthgen.release.config import Thresholds

    if thresholds is None:
        return Thresholds()
    if isinstance(thresholds, Thresholds):
        return thresholds
    return Thresholds.from_dict(thresholds)


def _report_frame(summary: Mapping[str, Any], specs: list[dict]) -> Any:
    import pandas as pd

    row = {}
    for s in specs:
        metric = s["kwargs"]["column"]
        v = summary.get(metric)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v)):
            row[metric] = [float(v)]
    return pd.DataFrame(row) if row else pd.DataFrame({"_no_report": [0]})


def from_thresholds(summary: Mapping[str, Any], thresholds: Any = None) -> dict:
    """The gate's report-level checks run on ``summary`` with ``thresholds`` (None: the gate's defaults)."""
    from synthgen.release.gate import copy_check, privacy_checks, report_expectations, run_native

    t = _thresholds(thresholds)
    specs = report_expectations(t)
    results = run_native([("report", _report_frame(summary, specs), specs)])[0] if specs else []
    results += privacy_checks(summary.get("privacy"), t)
    results += copy_check(summary, t)
    checks = _checks(results, summary)
    return {"source": "thresholds" if thresholds is not None else "default thresholds", "scope": SCOPE_REPORT,
            "success": all(c["success"] for c in checks), "checks": checks,
            "failed_checks": [c["check"] for c in checks if not c["success"]], "thresholds": t.to_dict()}


def gate_record(summary: Mapping[str, Any], gate: Mapping[str, Any] | None = None, thresholds: Any = None) -> dict:
    """The gate record of a report: from ``gate`` (a gate document) when given, else from ``thresholds``."""
    if gate is not None:
        return from_gate_document(gate, summary)
    return from_thresholds(summary, thresholds)
