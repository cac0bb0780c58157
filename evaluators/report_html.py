"""The HTML page of a report: one self-contained file (inline CSS, PNGs as data URIs, no script, no network).

Order: the private-statistics band; the header (dataset, generator, parameters, privacy, ledger, rows, the release
gate's result); the DP spend split by mechanism; at a glance; fidelity (accuracy of 1-/2-/3-way marginals beside
the holdout's, per-column distributions, association matrices real vs synthetic); utility; privacy risks, each with
its attacker; the audit; the band again.

Privacy argument: :func:`render_html` reads the report dictionary only (statistics and pre-binned counts), so
the page cannot show a raw private value; the band, the title and the header say that it holds statistics of
the private data and is not for release.
"""
from __future__ import annotations

import html
from typing import Any, Mapping

from .report_audit import audit_banner, audit_section
from .report_columns import columns_section
from .report_plots import association_matrices, dcr_plot, roc_plot
from .report_release import BAND, header
from .report_sections import (accuracy_summary, glance, not_computed, results_table, risk_table,
                              utility_section)
from .report_spend import spend_section

CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0 auto;max-width:1180px;
padding:0 24px 24px;color:#222;line-height:1.4;font-size:15px}
h1{margin:.6em 0 .3em;font-size:1.7em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
h3{margin-top:1.3em}h4{margin:.2em 0;font-size:1em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em;max-width:100%}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right;vertical-align:top}th{background:#f3f3f3}
td.l,th.l{text-align:left}td.wrap{min-width:16em}
td.l,p{overflow-wrap:break-word}h2,h3,h4,li,summary,td.n{overflow-wrap:anywhere}
table.facts{width:100%}table.facts th{width:9em;background:#f7f7fb}
code{background:#f1f1f4;border-radius:3px;padding:0 .3em;margin-right:.3em;white-space:nowrap}
.params{display:inline-flex;flex-wrap:wrap;gap:.2em}
.band{position:sticky;top:0;z-index:10;margin:0 -24px;padding:.55em 24px;background:#4a0072;color:#fff;
font-weight:bold;letter-spacing:.02em}.band small{font-weight:normal;opacity:.9;display:block}
.banner{padding:.8em 1em;font-size:1.1em;font-weight:bold;border-radius:6px;margin:.8em 0}
.nodp{background:#b00020;color:#fff}.private{background:#4a0072;color:#fff}
.dp{background:#e6f4ea;color:#14532d;border:1px solid #14532d}
.verdict{display:inline-block;padding:.3em .9em;border-radius:6px;font-size:1.25em;font-weight:bold;color:#fff}
.verdict.small{font-size:1em;padding:.15em .6em}
.pass{background:#2e7d32}.warn{background:#e69500}.fail{background:#b00020}
.gate{border-radius:6px;padding:.8em 1em;margin:.8em 0;border:2px solid}.gate ul{margin:.4em 0}
.gate.pass{background:#eef7ef;border-color:#2e7d32}.gate.fail{background:#fdecee;border-color:#b00020}
.bad{color:#b00020}.muted{color:#777}.note{color:#555;font-size:.9em}
nav{margin:.6em 0;font-size:.95em}nav a{margin-right:1em}
img.plot{max-width:100%;height:auto;display:block;margin:.4em 0}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:14px}
figure.card{margin:0;border:1px solid #e3e3e3;border-radius:6px;padding:8px;min-width:0}
p.cap{margin:.2em 0;font-size:.88em;color:#444}
.spendbar{display:flex;height:18px;border-radius:4px;overflow:hidden;margin:.4em 0;max-width:640px}
i.sw{display:inline-block;width:.8em;height:.8em;margin-right:.4em;border-radius:2px}
.row{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}.row>div{min-width:0;max-width:100%}
details{margin:.4em 0}summary{cursor:pointer;color:#1f5fa8}
"""

BAND_DETAIL = ("Exact counts, metrics and distances computed from the private training rows without differential-"
               "privacy noise. Keep it apart from the release bundle; publish only the release folder.")
_NAV = (("spend", "Privacy spend"), ("glance", "At a glance"), ("fidelity", "Fidelity"),
        ("utility-section", "Utility"), ("risks-section", "Privacy risk"), ("audit", "Audit"))


def band(where: str = "top") -> str:
    ident = "not-for-release" if where == "top" else f"not-for-release-{where}"
    return (f'<div class=band id="{ident}" role=note>{html.escape(BAND.upper())}'
            f"<small>{html.escape(BAND_DETAIL)}</small></div>")


def privacy_banner(p: Mapping[str, Any]) -> str:
    if p.get("guarantee") == "dp":
        return (f'<div class="banner dp" id="privacy-spend">Differential privacy: '
                f'&epsilon; = {float(p.get("epsilon", 0)):.4g}, '
                f'&delta; = {float(p.get("delta", 0)):.3g} ({html.escape(str(p.get("accountant", "")))}; '
                f'neighbouring: {html.escape(str(p.get("neighbouring", "")))})</div>')
    reason = html.escape(str(p.get("reason", "no DP guarantee was declared for this release")))
    return (f'<div class="banner nodp" id="privacy-spend">NO DP GUARANTEE &mdash; this release carries no '
            f'differential-privacy guarantee. {reason}</div>')


def _head() -> list[str]:
    return ["<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
            "<meta name=viewport content=\"width=device-width, initial-scale=1\">",
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'\">",
            "<title>PRIVATE, NOT FOR RELEASE: synthgen evaluation report</title>",
            f"<style>{CSS}</style></head><body>"]


def _fidelity(d: Mapping[str, Any], plots: Mapping[str, Any]) -> list[str]:
    fid = [r for r in d["results"] if r["group"] == "fidelity"]
    shapes = [r for r in fid if r["name"].startswith("fidelity.shape.")]
    other = [r for r in fid if not r["name"].startswith("fidelity.shape.")]
    parts = ["<h2 id=fidelity>Fidelity</h2>", *accuracy_summary(d["results"])]
    if plots.get("marginals"):
        parts += columns_section(plots["marginals"], d["results"])
    if plots.get("association"):
        parts += ["<h3 id=association>Correlation and contingency: real vs synthetic</h3>",
                  f"<p class=note>{html.escape(str(plots['association'].get('measure', '')))}; the second "
                  "plot is the synthetic minus the real matrix.</p>",
                  "<div class=row>" + association_matrices(plots["association"]) + "</div>"]
    parts += ["<h3>All fidelity metrics</h3>", results_table(other, "fidelity-table"),
              "<details><summary>per-column shape scores</summary>" + results_table(shapes) + "</details>"]
    return parts


def _privacy(d: Mapping[str, Any], plots: Mapping[str, Any]) -> list[str]:
    priv = [r for r in d["results"] if r["group"] == "privacy"]
    parts = ["<h2 id=risks-section>Privacy risk</h2>",
             "<p class=note>Empirical attacks on the release, each beside the same attack on real holdout rows "
             "the generator never saw (the level a release with no leak reaches). They are tests, not a "
             "bound: only a DP guarantee bounds the risk.</p>"]
    if priv:
        parts.append(risk_table(priv))
    row = ""
    if plots.get("dcr"):
        row = "<div><h3>Distance to closest record</h3>" + dcr_plot(plots["dcr"]) + "</div>"
    if plots.get("mia_roc"):
        row += "<div><h3>Membership inference</h3>" + roc_plot(plots["mia_roc"]) + "</div>"
    if row:
        parts.append(f"<div class=row>{row}</div>")
    return parts + not_computed(list(d.get("not_computed") or []))


def render_html(d: Mapping[str, Any]) -> str:
    """Render a report dictionary (as from :meth:`Report.to_dict`) to one self-contained HTML page."""
    from .report_gate import gate_record

    s, plots = d["summary"], d.get("plots", {})
    if not (d.get("release") or {}).get("gate"):  # no gate given: the gate's own checks with its defaults
        d = {**d, "release": {**(d.get("release") or {}), "gate": gate_record(s)}}
    nav = "<nav>" + "".join(f"<a href=#{k}>{v}</a>" for k, v in _NAV if k != "audit" or d.get("audit")) + "</nav>"
    parts = [*_head(), band(), *header(d), privacy_banner(s["privacy"]),
             audit_banner(d["audit"]) if d.get("audit") else "", nav,
             "<h2 id=spend>Privacy spend by mechanism</h2>", *spend_section(s["privacy"]), *glance(d),
             *_fidelity(d, plots), *utility_section(plots.get("utility")), *_privacy(d, plots),
             *audit_section(d.get("audit")), band("end"), "</body></html>"]
    return "\n".join(p for p in parts if p)
