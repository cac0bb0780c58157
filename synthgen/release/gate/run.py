"""``run_gate``: validate a synthetic release; one JSON document in GX's validation-result shape.

The document has ``success``, ``statistics`` and ``results`` (GX's shape) with synthgen's own checks appended to
``results`` (:mod:`.checks`); every result names its check in ``expectation_config.meta.check`` and
``failed_checks`` lists the names that failed. Report thresholds are table-level expectations run on a second
batch: the report's headline metrics as a one-row table.

Privacy argument: the data checks read the synthetic table and public specs only. When a report or the training
table is given, the document (threshold values, copy share, and the pass/fail decision itself) is a function of
the private data: it then says so (``contains_private_statistics``, ``notice``) and belongs with the owner's
evaluation, apart from the release bundle.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from synthgen._json import jsonable
from synthgen.exceptions import InputError

from ..config import AuditRequirement, Thresholds
from .checks import audit_check, copy_check, privacy_checks, report_check
from .engines import gx_available, run_gx, run_native
from .expectations import data_expectations, frame_for_gate, report_expectations
from .messages import add_messages

PUBLIC_NOTICE = "Computed from the synthetic table, the declared schema and the privacy spend only."


def _report_frame(report_summary: Mapping[str, Any] | None, rspecs: list[dict]) -> Any:
    import pandas as pd

    summary = dict(report_summary or {})
    row = {}
    for s in rspecs:
        metric = s["kwargs"]["column"]
        v = summary.get(metric)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v)):
            row[metric] = [float(v)]
    return pd.DataFrame(row) if row else pd.DataFrame({"_no_report": [0]})


def _explain_missing_metrics(results: list[dict]) -> None:
    for r in results:  # a threshold whose metric the report lacks: say so
        check = r["expectation_config"]["meta"].get("check", "")
        if check.startswith("threshold:") and r["exception_info"]["raised_exception"]:
            metric = r["expectation_config"]["kwargs"].get("column")
            r["exception_info"]["exception_message"] = (
                f"the report has no {metric!r} metric, so {check.split(':', 1)[1]} cannot be checked. "
                "Fix: pass a report (--report) that computes it, or remove the threshold.")


def engine_runner(engine: str) -> Any:
    """The function that runs specs with ``engine``; an unknown or missing engine is an InputError."""
    if engine not in ("auto", "gx", "native"):
        raise InputError(f"engine must be 'auto', 'gx' or 'native'; got {engine!r}.")
    if engine == "gx" and not gx_available():
        raise InputError("Great Expectations is not installed. Fix: pip install 'synthgen[gx]' or use the native "
                         "engine.")
    return run_gx if engine == "gx" or (engine == "auto" and gx_available()) else run_native


def run_gate(synthetic: Any, schema: Any, *, report_summary: Mapping[str, Any] | None = None,
             thresholds: Thresholds | None = None, privacy: Mapping[str, Any] | None = None,
             budget: tuple[float | None, float | None] = (None, None), ledger: Any = None, real: Any = None,
             engine: str = "auto", audit: Any = None, model: Mapping[str, Any] | None = None) -> dict:
    """Validate a release; return one JSON-able document (GX shape + synthgen checks). Never raises on failure.

    ``report_summary``: a report's ``summary`` (or the whole report document); its recorded table sha256 must
    match ``synthetic`` (``report_matches_release``). ``privacy``: the spend dict (default: the report's).
    ``audit``: an audit JSON file for ``audit_consistent`` (overrides ``thresholds.require_audit.file``; given
    alone it requires a consistent audit at most 30 days old); ``model``: the released model's manifest (its
    generator and params), compared with the audit's (default: the release config's, in the requirement).
    """
    import pandas as pd

    from synthgen import __version__

    run = engine_runner(engine)
    if not isinstance(synthetic, pd.DataFrame):
        raise InputError(f"The synthetic release must be a table; got {type(synthetic).__name__}.")
    if report_summary is not None and isinstance(report_summary.get("summary"), Mapping):
        report_summary = report_summary["summary"]
    thresholds = thresholds or Thresholds()
    frames = [("release", frame_for_gate(synthetic, schema), data_expectations(schema))]
    rspecs = report_expectations(thresholds)
    if rspecs:
        frames.append(("report", _report_frame(report_summary, rspecs), rspecs))
    results, engine_name = run(frames)
    _explain_missing_metrics(results)
    add_messages(results, report_summary)
    if report_summary is not None:
        results.append(report_check(report_summary, synthetic, schema))
    if privacy is None and report_summary is not None and isinstance(report_summary.get("privacy"), Mapping):
        privacy = report_summary["privacy"]
    results += privacy_checks(privacy, thresholds, budget, ledger)
    results += copy_check(report_summary, thresholds, synthetic, real, schema)
    req = thresholds.require_audit if thresholds.require_audit is not None else (
        AuditRequirement() if audit is not None else None)
    if req is not None:
        results.append(audit_check(req, audit=audit, model=model, privacy=privacy))
    n_ok = sum(1 for r in results if r["success"])
    failed = [r["expectation_config"]["meta"].get("check") or r["expectation_config"]["type"]
              for r in results if not r["success"]]
    private = report_summary is not None or real is not None
    from evaluators.base import PRIVATE_NOTICE

    return {
        "success": not failed,
        "contains_private_statistics": private,
        "notice": PRIVATE_NOTICE if private else PUBLIC_NOTICE,
        "statistics": {"evaluated_expectations": len(results), "successful_expectations": n_ok,
                       "unsuccessful_expectations": len(results) - n_ok,
                       "success_percent": 100.0 * n_ok / len(results) if results else 100.0},
        "results": results,
        "failed_checks": failed,
        "meta": {"engine": engine_name, "synthgen_version": __version__, "suite_name": "synthgen-release",
                 "thresholds": thresholds.to_dict(), "n_rows": int(len(synthetic)),
                 "privacy": dict(privacy) if privacy is not None else None},
    }


def gate_json(doc: Mapping[str, Any]) -> dict:
    """The gate document made strictly JSON-serialisable (numpy scalars and infinities converted)."""
    return jsonable(dict(doc))
