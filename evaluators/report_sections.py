"""Tables of the HTML report: at a glance, accuracy of 1-/2-/3-way marginals beside the holdout's, fidelity,
utility, and the privacy risks with the attacker each one assumes.

Privacy argument: rendered from the report dictionary alone (metrics, shares, coefficients); no table is read.
A column that would be empty for every row (a confidence interval no metric has, a holdout that was not given)
is left out rather than filled with dashes.
"""
from __future__ import annotations

import html
from typing import Any, Mapping

import numpy as np


def fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "&ndash;"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return html.escape(str(x))


def ci(c: Any) -> str:
    return f"{c[0]:.3f} &ndash; {c[1]:.3f}" if c else "&ndash;"


def results_table(results: list[dict], table_id: str = "") -> str:
    """metric | value | 95% CI (only if some metric has one) | real holdout (only if some has one) | better."""
    with_ci = any(r.get("ci") for r in results)
    with_ref = any(r.get("reference") is not None for r in results)
    head = ("<tr><th class=l>metric</th><th>value</th>" + ("<th>95% CI</th>" if with_ci else "")
            + ("<th>real holdout</th>" if with_ref else "") + "<th class=l>better</th></tr>")
    rows = []
    for r in results:
        better = "higher" if r["direction"] == "higher_is_better" else "lower"
        rows.append(f"<tr><td class='l n'>{html.escape(r['name'])}</td><td>{fmt(r['value'])}</td>"
                    + (f"<td>{ci(r.get('ci'))}</td>" if with_ci else "")
                    + (f"<td>{fmt(r.get('reference'))}</td>" if with_ref else "")
                    + f"<td class=l>{better}</td></tr>")
    tid = f" id={table_id}" if table_id else ""
    return f"<table{tid}>{head}{''.join(rows)}</table>"


# ------------------------------------------------------------------------------------------------ at a glance
_GLANCE = [("fidelity score (0-1, higher better)", "fidelity_score", "fidelity.score"),
           ("detection AUC (0.5 ideal)", "detection_auc", "fidelity.detection_auc"),
           ("TSTR / TRTR (1 ideal)", "tstr_ratio", None),
           ("membership-attack AUC (0.5 ideal)", "mia_auc", "privacy.mia_auc"),
           ("DCR share (0.5 ideal)", "dcr_share", "privacy.dcr_share"),
           ("exact-match rate", "exact_match_rate", "privacy.exact_match_rate"),
           ("real rows clipped to the declared bounds (worst column)", None, "fidelity.clipped_share")]


def glance(d: Mapping[str, Any]) -> list[str]:
    """Headline metrics beside the holdout's, and the evaluator's own risk screen (not the gate)."""
    s = d["summary"]
    by_name = {r["name"]: r for r in d["results"]}
    parts = ["<h2 id=glance>At a glance</h2>",
             "<table id=headline><tr><th class=l>headline</th><th>release</th><th>real holdout</th></tr>"]
    for label, key, rname in _GLANCE:
        if key is None and rname not in by_name:
            continue
        value = s.get(key) if key is not None else by_name[rname]["value"]
        ref = by_name[rname]["reference"] if rname and rname in by_name else (
            1.0 if key == "tstr_ratio" and s.get(key) is not None else None)
        parts.append(f"<tr><td class=l>{label}</td><td>{fmt(value)}</td><td>{fmt(ref)}</td></tr>")
    parts.append("</table>")
    v = s["verdict"]
    parts.append(f'<p><span class="verdict small {v["status"]}" id="verdict">{v["status"].upper()}</span> '
                 "<b>Evaluator's risk screen</b> (its built-in limits; the release decision is the gate's, above):"
                 "</p><ul>" + "".join(f"<li>{html.escape(r)}</li>" for r in v["reasons"]) + "</ul>")
    return parts


# ------------------------------------------------------------------------------------------------ accuracy
_ACCURACY = [("1-way marginals (per-column shapes)", "fidelity.column_shapes"),
             ("2-way marginals (column pairs)", "fidelity.pair_trends"),
             ("2-way, weighted by the real association", "fidelity.pair_trends_weighted"),
             ("3-way marginals (sampled triples)", "fidelity.three_way"),
             ("overall fidelity score", "fidelity.score")]


def accuracy_summary(results: list[dict]) -> list[str]:
    """Accuracy of 1-, 2- and 3-way marginals (1 = identical), the synthetic table's beside the holdout's."""
    by_name = {r["name"]: r for r in results}
    rows = [(label, by_name[n]) for label, n in _ACCURACY if n in by_name]
    if not rows:
        return []
    with_ref = any(r.get("reference") is not None for _, r in rows)
    out = ["<h3 id=accuracy>Accuracy of the marginals</h3>",
           "<p class=note>1 means the synthetic table reproduces the real distributions exactly. The holdout "
           "column is the same score for real rows the generator never saw: the level sampling noise alone "
           "reaches.</p>",
           "<table id=accuracy-table><tr><th class=l>marginals</th><th>synthetic vs training</th>"
           + ("<th>holdout vs training</th><th>synthetic / holdout</th>" if with_ref else "") + "</tr>"]
    for label, r in rows:
        ref = r.get("reference")
        ratio = r["value"] / ref if (ref and r.get("value") is not None) else None
        out.append(f"<tr><td class=l>{label}</td><td>{fmt(r['value'])}</td>"
                   + (f"<td>{fmt(ref)}</td><td>{fmt(ratio, 2)}</td>" if with_ref else "") + "</tr>")
    out.append("</table>")
    return out + _weakest_pairs(by_name.get("fidelity.pair_trends"))


def _weakest_pairs(r: Mapping[str, Any] | None, k: int = 8) -> list[str]:
    pairs = [p for p in ((r or {}).get("details", {}).get("pairs") or []) if p.get("score") is not None
             and p["score"] == p["score"]]
    if not pairs:
        return []
    pairs = sorted(pairs, key=lambda p: p["score"])[:k]
    out = [f"<details><summary>the {len(pairs)} column pairs reproduced worst</summary><table id=weakest-pairs>"
           "<tr><th class=l>pair</th><th class=l>metric</th><th>score</th><th>holdout</th>"
           "<th>real association</th><th>synthetic association</th></tr>"]
    for p in pairs:
        out.append(f"<tr><td class='l n'>{html.escape(' × '.join(map(str, p['columns'])))}</td>"
                   f"<td class=l>{html.escape(str(p['metric']))}</td><td>{fmt(p['score'])}</td>"
                   f"<td>{fmt(p.get('reference'))}</td><td>{fmt(p.get('real_association'))}</td>"
                   f"<td>{fmt(p.get('synthetic_association'))}</td></tr>")
    return out + ["</table></details>"]


# ------------------------------------------------------------------------------------------------ utility
def utility_section(util: Mapping[str, Any] | None) -> list[str]:
    parts = ["<h2 id=utility-section>Utility (train on synthetic, test on real)</h2>"]
    if not util:
        return parts + ["<p>Not computed: no target column was given.</p>"]
    parts.append(f"<p class=note>target: {html.escape(str(util['target']))} ({html.escape(util['task'])}); "
                 f"test set: {html.escape(util['test_set'])}; TSTR/TRTR ratio on "
                 f"{html.escape(str(util.get('primary_metric', '')))}: {fmt(util.get('tstr_ratio'))}</p>")
    parts.append("<table id=utility><tr><th class=l>model</th><th class=l>metric</th><th>TSTR</th><th>95% CI</th>"
                 "<th>TRTR</th><th>95% CI</th><th>floor</th></tr>")
    for row in util["table"]:
        parts.append(f"<tr><td class=l>{html.escape(row['model'])}</td>"
                     f"<td class=l>{html.escape(row['metric'])}</td>"
                     f"<td>{fmt(row['tstr'])}</td><td>{ci(row['tstr_ci'])}</td><td>{fmt(row['trtr'])}</td>"
                     f"<td>{ci(row['trtr_ci'])}</td><td>{fmt(row['floor'])}</td></tr>")
    parts.append("</table><p class=note>floor: a model that ignores the features (majority class or mean).</p>")
    return parts


# ------------------------------------------------------------------------------------------------ privacy risk
ATTACKERS = (("privacy.exact_match", "Verbatim-copy lookup"),
             ("privacy.dcr", "Distance to closest record"),
             ("privacy.nndr", "Nearest-neighbour singling out"),
             ("privacy.mia", "Membership inference (density attack)"),
             ("privacy.vulnerable", "Outlier targeting"),
             ("privacy.k_anonymity", "Quasi-identifier linkage"),
             ("privacy.l_diversity", "Attribute inference from QI groups"),
             ("privacy.anonymeter_singling", "Anonymeter singling out"),
             ("privacy.anonymeter_link", "Anonymeter linkability"),
             ("privacy.anonymeter_inference", "Anonymeter attribute inference"))


def attacker_name(metric: str) -> str:
    return next((name for prefix, name in ATTACKERS if metric.startswith(prefix)), metric)


def risk_table(results: list[dict]) -> str:
    """One row per risk metric: the attacker (named, and what they hold), the release's value, the holdout's."""
    with_ref = any(r.get("reference") is not None for r in results)
    out = ["<table id=risks><tr><th class=l>attacker</th><th class=l>what the attacker holds and does</th>"
           "<th class=l>metric</th><th>release</th>" + ("<th>real holdout</th>" if with_ref else "")
           + "<th class=l>better</th></tr>"]
    last = None
    for r in results:
        name = attacker_name(r["name"])
        first = name != last
        last = name
        who = html.escape(str(r["details"].get("attacker", ""))) if first else ""
        better = "higher" if r["direction"] == "higher_is_better" else "lower"
        out.append(f"<tr{' class=first' if first else ''}><td class=l><b>{html.escape(name) if first else ''}"
                   f"</b></td><td class='l wrap'>{who}</td><td class=l>{html.escape(r['name'])}</td>"
                   f"<td>{fmt(r['value'])}</td>" + (f"<td>{fmt(r.get('reference'))}</td>" if with_ref else "")
                   + f"<td class=l>{better}</td></tr>")
    return "".join(out) + "</table>"


def not_computed(items: list[Mapping[str, str]]) -> list[str]:
    if not items:
        return []
    return ["<h3>Not computed</h3><ul id=not-computed>" + "".join(
        f"<li><b>{html.escape(attacker_name(x['name']))}</b> ({html.escape(x['name'])}): "
        f"{html.escape(x['reason'])}</li>" for x in items) + "</ul>"]
