"""The DP spend of the report, split by mechanism: which measurement used which part of the budget.

Read from the spend's ``details`` as the generators record them:

* zCDP accounting (``rho_split``: rho per measurement, ``rho_total``): measurements named ``kind:column`` are grouped
  by kind (e.g. one row "marginal" for all per-column histograms, listed per column below it);
* basic composition of a noisy row count with the rest (``row_count.epsilon``, ``rest.epsilon``; DP-CTGAN);
* a plain ``split`` of budget fractions;
* otherwise the whole spend is shown as one mechanism ("not split by the generator").

Privacy argument: the spend is public (it is the guarantee and how the generator divided it, fixed by public
parameters before any data was read); nothing here reads a statistic of the data.
"""
from __future__ import annotations

import html
from typing import Any, Mapping

_PALETTE = ("#1f5fa8", "#e0792b", "#3a9a48", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#d4ac0d")


def _describe(mechanisms: Mapping[str, Any], key: str) -> str:
    for k in (key, key + "s", key.rstrip("s")):
        if k in mechanisms:
            return str(mechanisms[k])
    return ""


def _from_rho(details: Mapping[str, Any]) -> list[dict]:
    split = {str(k): float(v) for k, v in dict(details["rho_split"]).items()}
    total = float(details.get("rho_total") or sum(split.values()) or 1.0)
    mech = dict(details.get("mechanisms") or {})
    groups: dict[str, dict] = {}
    for key, rho in split.items():
        kind, _, col = key.partition(":")
        g = groups.setdefault(kind, {"mechanism": kind, "amount": 0.0, "unit": "rho (zCDP)", "parts": [],
                                     "description": _describe(mech, kind)})
        g["amount"] += rho
        if col:
            g["parts"].append({"name": col, "amount": rho})
    for g in groups.values():
        g["share"] = g["amount"] / total
        if g["parts"]:
            g["mechanism"] = f"{g['mechanism']} ({len(g['parts'])} columns)"
    return list(groups.values())


def _from_row_count(details: Mapping[str, Any]) -> list[dict]:
    rc, rest = details["row_count"], details.get("rest") or {}
    counts = details.get("counts")
    rows = [{"mechanism": "noisy row count", "amount": float(rc["epsilon"]), "unit": "epsilon (basic composition)",
             "description": str(rc.get("use", "")), "parts": []},
            {"mechanism": "count release + DP-SGD", "amount": float(rest.get("epsilon", 0.0)),
             "unit": "epsilon (basic composition)", "parts": [],
             "description": ("PRV composition of the noisy count histograms"
                             + (f" ({counts.get('histograms')} histograms)" if isinstance(counts, Mapping) else "")
                             + " and the DP-SGD steps")}]
    total = sum(r["amount"] for r in rows) or 1.0
    for r in rows:
        r["share"] = r["amount"] / total
    return rows


def _from_split(details: Mapping[str, Any]) -> list[dict]:
    mech = dict(details.get("mechanisms") or {})
    split = {str(k): float(v) for k, v in dict(details["split"]).items()}
    total = sum(split.values()) or 1.0
    return [{"mechanism": k, "amount": v, "unit": "fraction", "share": v / total, "parts": [],
             "description": _describe(mech, k)} for k, v in split.items()]


def spend_split(privacy: Mapping[str, Any]) -> list[dict]:
    """Rows ``{mechanism, amount, unit, share, description, parts}`` of a DP spend ([] without a guarantee)."""
    if privacy.get("guarantee") != "dp":
        return []
    details = dict(privacy.get("details") or {})
    try:
        if isinstance(details.get("rho_split"), Mapping) and details["rho_split"]:
            return _from_rho(details)
        if isinstance(details.get("row_count"), Mapping) and "epsilon" in details["row_count"]:
            return _from_row_count(details)
        if isinstance(details.get("split"), Mapping) and details["split"]:
            return _from_split(details)
    except (TypeError, ValueError, KeyError):
        pass  # an unexpected record: shown whole below
    return [{"mechanism": "the whole fit", "amount": float(privacy.get("epsilon", 0.0)), "unit": "epsilon",
             "share": 1.0, "parts": [], "description": "the generator did not record how it split its budget"}]


def _bar(rows: list[dict]) -> str:
    segs = "".join(f'<span style="flex:{max(r["share"], 0.0):.4f};background:{_PALETTE[i % len(_PALETTE)]}" '
                   f'title="{html.escape(r["mechanism"])}: {r["share"]:.1%}"></span>' for i, r in enumerate(rows))
    return f'<div class=spendbar aria-hidden=true>{segs}</div>'


def spend_section(privacy: Mapping[str, Any]) -> list[str]:
    """The "Privacy spend by mechanism" table (with a bar of shares) for a DP spend; a plain note otherwise."""
    rows = spend_split(privacy)
    if not rows:
        return ["<p class=note>No DP spend to split: this release carries NO differential-privacy guarantee.</p>"]
    eps = float(privacy.get("epsilon", 0.0))
    out = [f"<p>Total: &epsilon; = {eps:.4g}, &delta; = {float(privacy.get('delta', 0.0)):.3g} "
           f"({html.escape(str(privacy.get('accountant', '')))}).</p>", _bar(rows),
           "<table id=spend-split><tr><th class=l>mechanism</th><th>share of the budget</th><th>amount</th>"
           "<th class=l>unit</th><th class=l>what it measures</th></tr>"]
    for i, r in enumerate(rows):
        swatch = f'<i class=sw style="background:{_PALETTE[i % len(_PALETTE)]}"></i>'
        parts = ""
        if r["parts"]:
            parts = ("<details><summary>per column</summary>" + ", ".join(
                f"{html.escape(p['name'])}: {p['amount']:.3g}" for p in r["parts"]) + "</details>")
        out.append(f"<tr><td class=l>{swatch}{html.escape(r['mechanism'])}</td><td>{r['share']:.1%}</td>"
                   f"<td>{r['amount']:.4g}</td><td class=l>{html.escape(r['unit'])}</td>"
                   f"<td class=l>{html.escape(r['description'])}{parts}</td></tr>")
    out.append("</table>")
    return out
