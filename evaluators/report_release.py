"""What the report is about: dataset, generator, parameters, ledger and gate result (the report's ``release`` part).

:func:`release_context` builds the dictionary stored under ``release`` in the report JSON
(``schemas/report.schema.json``, ``$defs/release``); :func:`header` renders the page's header from it. Everything
is optional: a report made by ``evaluators.evaluate`` alone names what it knows and says what it was not told.

Privacy argument: the dataset name, the generator, its parameters and the ledger (budget, spent, remaining) are
public facts of the release configuration, not statistics of the rows; the gate record (:mod:`.report_gate`) is a
function of the report's private statistics and stays inside this owner's report.
"""
from __future__ import annotations

import html
import os
from typing import Any, Mapping

from synthgen._json import jsonable

from .base import EvaluationError
from .report_gate import gate_record

BAND = "CONTAINS STATISTICS OF THE PRIVATE DATA: for the data owner, not for release."


def ledger_state(ledger: Any) -> dict | None:
    """``{path, dataset, budget, spent, remaining}`` of a ledger (a path, a PrivacyLedger or its dict)."""
    if ledger is None:
        return None
    if isinstance(ledger, (str, os.PathLike)):
        from synthgen.exceptions import LedgerError
        from synthgen.privacy.ledger import PrivacyLedger

        try:
            ledger = PrivacyLedger(ledger).to_dict()
        except LedgerError as exc:
            return {"path": str(ledger), "error": str(exc)[:300]}
    elif hasattr(ledger, "to_dict") and not isinstance(ledger, Mapping):
        ledger = ledger.to_dict()
    if not isinstance(ledger, Mapping):
        raise EvaluationError(f"ledger must be a ledger file path, a PrivacyLedger or its dict; got "
                              f"{type(ledger).__name__}. Fix: pass the --ledger path.")
    keep = ("path", "dataset", "budget", "spent", "remaining", "pending")
    out = {k: jsonable(ledger[k]) for k in keep if k in ledger}
    if isinstance(ledger.get("charges"), list):
        out["n_charges"] = len(ledger["charges"])
        out.setdefault("pending", sum(1 for c in ledger["charges"] if isinstance(c, Mapping)
                                      and c.get("status") == "pending"))
    return out


def release_context(summary: Mapping[str, Any], *, dataset: str | None = None, generator: str | None = None,
                    params: Mapping[str, Any] | None = None, ledger: Any = None,
                    gate: Mapping[str, Any] | None = None, thresholds: Any = None) -> dict:
    """The report's ``release`` part (see the module docstring).

    ``dataset``: the dataset's name or path.
    ``generator``: the generator's registry name.
    ``params``: the generator's parameters (the release config's or the model manifest's).
    ``ledger``: the ledger that paid for the fit (path, PrivacyLedger or its dict), read as it stands now.
    ``gate``: the release gate's document (``run_gate``); its decision is shown as the report's gate result.
    ``thresholds``: without ``gate``, the release thresholds (``Thresholds`` or dict) the gate's own report-level
    checks are run with; None: the gate's defaults.
    """
    if params is not None and not isinstance(params, Mapping):
        raise EvaluationError(f"params must be a mapping of generator parameters; got {type(params).__name__}.")
    return jsonable({"dataset": None if dataset is None else str(dataset),
                     "generator": None if generator is None else str(generator),
                     "params": dict(params) if params is not None else None, "ledger": ledger_state(ledger),
                     "gate": gate_record(summary, gate, thresholds)})


# ============================================================================================= HTML
def _esc(x: Any) -> str:
    return html.escape(str(x))


def _params(p: Mapping[str, Any] | None) -> str:
    if not p:
        return "<span class=muted>not given</span>"
    return "<span class=params>" + " ".join(f"<code>{_esc(k)}={_esc(v)}</code>" for k, v in sorted(p.items())) + \
        "</span>"


def _ledger(led: Mapping[str, Any] | None) -> str:
    if not led:
        return "<span class=muted>no ledger given</span>"
    if led.get("error"):
        return f"{_esc(led.get('path', ''))}: <b>unreadable</b> ({_esc(led['error'])})"
    b, s, r = led.get("budget") or {}, led.get("spent") or {}, led.get("remaining") or {}

    def eps(d: Mapping[str, Any]) -> str:
        return f"{float(d['epsilon']):.4g}" if d.get("epsilon") is not None else "&ndash;"

    pending = led.get("pending")
    extra = (f" &middot; <b class=bad>{_esc(pending)} pending reservation(s)</b>, counted as spent "
             "(`synthgen ledger resolve`)" if pending else "")
    return (f"&epsilon; spent <b>{eps(s)}</b> of {eps(b)}, <b>{eps(r)}</b> left "
            f"(&delta; spent {float(s.get('delta') or 0):.3g} of {float(b.get('delta') or 0):.3g}){extra}"
            f"<br><span class=muted>{_esc(led.get('path', ''))}</span>")


def _privacy(p: Mapping[str, Any]) -> str:
    if p.get("guarantee") == "dp":
        return (f"(&epsilon; = {float(p['epsilon']):.4g}, &delta; = {float(p.get('delta', 0)):.3g})-DP, "
                f"{_esc(p.get('accountant', ''))}")
    return "<b class=bad>NO DP GUARANTEE</b>"


def gate_block(g: Mapping[str, Any] | None) -> str:
    """The gate result: PASSED / FAILED, the failed checks with their messages, and where the decision came from."""
    if not g:
        return ""
    ok = bool(g["success"])
    failed = [c for c in g["checks"] if not c["success"]]
    items = "".join(f"<li><b>{_esc(c['check'])}</b>: {_esc(c['message'])}</li>" for c in failed)
    passed = sum(1 for c in g["checks"] if c["success"])
    return (f'<div class="gate {"pass" if ok else "fail"}" id=gate-result><span class="verdict '
            f'{"pass" if ok else "fail"}" id=gate-verdict>{"PASSED" if ok else "FAILED"}</span> '
            f"<b>Release gate</b>: {passed} of {len(g['checks'])} checks passed"
            + (f"<ul>{items}</ul>" if items else "")
            + f"<p class=note>From {_esc(g['scope'])}"
            + (" with the gate's default thresholds." if g.get("source") == "default thresholds" else ".")
            + "</p></div>")


def header(d: Mapping[str, Any]) -> list[str]:
    """The page header: title, the facts table (dataset, generator, parameters, privacy, ledger, rows), gate."""
    rel = d.get("release") or {}
    meta, s = d.get("meta", {}), d["summary"]
    rows = meta.get("rows", {})
    dataset = rel.get("dataset")
    facts = [("Dataset", _esc(dataset) if dataset else "<span class=muted>not named</span>"),
             ("Generator", f"<b>{_esc(rel['generator'])}</b>" if rel.get("generator")
              else "<span class=muted>not named</span>"),
             ("Parameters", _params(rel.get("params"))),
             ("Privacy", _privacy(s["privacy"])),
             ("Ledger", _ledger(rel.get("ledger"))),
             ("Rows", f"training {rows.get('real', '&ndash;')} &middot; synthetic {rows.get('synthetic', '&ndash;')}"
                      f" &middot; holdout {rows.get('holdout') if rows.get('holdout') is not None else 'none'}"),
             ("Report", f"synthgen {_esc(meta.get('synthgen_version', ''))} &middot; {_esc(meta.get('created', ''))}"
                        + (f" &middot; target {_esc(meta['target'])}" if meta.get("target") else ""))]
    if d.get("audit"):
        a = d["audit"]
        lb = a["empirical"].get("epsilon_lb")
        facts.append(("Privacy audit", f"<a href=#audit>{_esc(a['verdict'])}</a>: empirical &epsilon; &ge; "
                      + (f"{float(lb):.3g}" if lb is not None else "&infin;")
                      + f" (95% lower bound) for the claimed &epsilon; = {float(a['claimed']['epsilon']):.3g}"))
    table = "<table class=facts id=facts>" + "".join(f"<tr><th class=l>{k}</th><td class=l>{v}</td></tr>"
                                                    for k, v in facts) + "</table>"
    title = f"Synthetic data evaluation: {_esc(dataset)}" if dataset else "Synthetic data evaluation"
    return [f"<h1>{title}</h1>", table, gate_block(rel.get("gate"))]
