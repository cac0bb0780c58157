"""``synthgen validate`` as functions: the release gate over one or more files, and the ledger cross-check.

Privacy argument: the gate's result depends on the private data whenever a report (``--report``) or the training
table (``--real``) is given; the gate then marks its document (``contains_private_statistics``) as the owner's
evaluation, not for release. The ledger cross-check reads only public records: the model's manifest
(its spend and the ledger entry it was charged to) and the ledger file.

Threat model of the cross-check: it detects accidents and tampering by others (a manifest whose epsilon was edited
and re-hashed, a model fitted against another ledger, entries removed from the ledger); it cannot catch a forger
who holds the private data and simply refits.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..exceptions import InputError, LedgerError
from .config import Thresholds
from .inputs import check_columns, need_file, read_table
from .pipeline import gate_module

_EPS_TOL, _DELTA_TOL = 1e-9, 1e-15


def load_report_summary(path: str | Path) -> dict:
    p = need_file(path, "Report file")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(f"Report {p} is not valid JSON; regenerate it with `synthgen evaluate`.") from None
    if not isinstance(doc, dict):
        raise InputError(f"Report {p} is not a synthgen report (expected a JSON object).")
    summary = doc.get("summary", doc)
    if not isinstance(summary, dict):
        raise InputError(f"Report {p} has no 'summary' object; regenerate it with `synthgen evaluate`.")
    return summary


def _accounted(privacy: Mapping[str, Any]) -> tuple[float, float] | None:
    """The (epsilon, delta) the model says it spent: its DP spend, or the spend accounted under NoGuarantee."""
    src = privacy if privacy.get("guarantee") == "dp" else (privacy.get("accounted") or None)
    if not src or src.get("epsilon") is None:
        return None
    return float(src["epsilon"]), float(src.get("delta") or 0.0)


def ledger_entry_problems(manifest: Mapping[str, Any], ledger_path: str | Path) -> list[str]:
    """Cross-check a saved model's spend against the ledger entry it records; [] when they agree."""
    from ..privacy.ledger import PrivacyLedger

    entry = manifest.get("ledger_entry")
    if not entry or not entry.get("id"):
        return ["the model records no ledger entry (it was fitted without a ledger, or its manifest was edited). "
                "Fix: fit with --ledger, or validate without --ledger."]
    led = PrivacyLedger(need_file(ledger_path, "Ledger file"))
    try:
        led.verify()
        rec = led.find(str(entry["id"]))
    except LedgerError as exc:
        return [str(exc)]
    problems = []
    if entry.get("ledger") is not None and entry["ledger"] != led.dataset:
        problems.append(f"the model was charged to ledger {entry['ledger']!r}, not {led.dataset!r}")
    if entry.get("hash") not in (rec.get("close_hash"), rec.get("hash")):
        problems.append(f"entry {entry['id']}'s hash in the model differs from the ledger's")
    if rec.get("status") != "committed":
        problems.append(f"ledger entry {entry['id']} is {rec.get('status')}, not committed")
    spent = rec.get("spent") or {"epsilon": rec["epsilon"], "delta": rec["delta"]}
    claimed = _accounted(manifest.get("privacy") or {})
    if claimed is None:
        problems.append("the model's manifest states no (epsilon, delta) spend to compare")
    elif (not math.isclose(claimed[0], float(spent["epsilon"]), rel_tol=0, abs_tol=_EPS_TOL)
          or not math.isclose(claimed[1], float(spent["delta"]), rel_tol=0, abs_tol=_DELTA_TOL)):
        problems.append(f"the model claims epsilon={claimed[0]:g}, delta={claimed[1]:g} but its ledger entry "
                        f"records epsilon={float(spent['epsilon']):g}, delta={float(spent['delta']):g}")
    return problems


def _with_check(doc: dict, name: str, problems: list[str], ok_message: str) -> dict:
    """``doc`` with one more synthgen check (its statistics and failed_checks recounted)."""
    r = gate_module().check_result(name, not problems, "; ".join(problems) if problems else ok_message)
    results = list(doc["results"]) + [r]
    n_ok = sum(1 for x in results if x["success"])
    failed = list(doc["failed_checks"]) + ([name] if problems else [])
    return dict(doc, results=results, success=doc["success"] and not problems, failed_checks=failed,
                statistics={"evaluated_expectations": len(results), "successful_expectations": n_ok,
                            "unsuccessful_expectations": len(results) - n_ok,
                            "success_percent": 100.0 * n_ok / len(results)})


def validate_files(paths: Sequence[str | Path], schema: Any, *, thresholds: Thresholds | None = None,
                   summary: dict | None = None, manifest: Mapping[str, Any] | None = None,
                   budget: tuple[float | None, float | None] = (None, None), ledger: str | Path | None = None,
                   real: Any = None, engine: str = "auto", audit: str | Path | None = None) -> list[dict]:
    """One gate document per file (all files are read before any is judged). With a model manifest and a ledger,
    each also carries the ``ledger_entry`` cross-check. ``audit`` (an audit JSON from ``synthgen audit``) or
    ``thresholds.require_audit`` adds ``audit_consistent``: the audit must be of the manifest's generator
    configuration (or, without a manifest, of the release config's)."""
    g = gate_module()
    frames = []
    for path in paths:
        df = read_table(path, "Synthetic file")
        check_columns(df, schema, path, release=True)
        frames.append((path, df))
    privacy = dict(manifest["privacy"]) if manifest is not None else None
    problems = ledger_entry_problems(manifest, ledger) if manifest is not None and ledger is not None else None
    docs = []
    for path, df in frames:
        doc = g.gate_json(g.run_gate(df, schema, report_summary=summary, thresholds=thresholds, privacy=privacy,
                                     budget=budget, ledger=ledger, real=real, engine=engine, audit=audit,
                                     model=manifest))
        if problems is not None:
            doc = _with_check(doc, "ledger_entry", problems, "the model's spend matches its ledger entry")
        docs.append(dict(doc, file=str(path)))
    return docs


def combine(docs: list[dict]) -> dict:
    """The command's document: the one gate document, or all of them with the failed checks named by file.
    ``contains_private_statistics`` is true when any of them used a report or the training table."""
    if len(docs) == 1:
        return docs[0]
    failed = sorted({f"{d['file']}: {c}" for d in docs for c in d["failed_checks"]})
    private = any(d.get("contains_private_statistics") for d in docs)
    return {"success": all(d["success"] for d in docs), "contains_private_statistics": private,
            "failed_checks": failed, "releases": docs}
