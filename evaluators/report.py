"""The evaluation :class:`Report`: JSON (validated by ``schemas/report.schema.json``) and one self-contained HTML page.

A report is the data owner's evaluation, not part of a release: its numbers (exact row counts, binned counts with
edges from the real data, TRTR scores, attack results) are statistics of the private training table computed
without differential privacy. Both forms therefore carry :data:`~evaluators.base.PRIVATE_NOTICE` at the top
(JSON: ``contains_private_statistics`` and ``notice``; HTML: the page title and a banner at its top and bottom).

The HTML is rendered from the JSON dictionary alone, and the JSON holds statistics and pre-binned counts only,
so the page cannot show a raw private value. Plots are matplotlib PNGs inlined as base64; a Content-Security-Policy
forbids every network request.
"""
from __future__ import annotations

import base64
import html
import io
import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from synthgen._json import jsonable
from synthgen.io import atomic_write_text

from .base import PRIVATE_NOTICE, EvaluationError, Result
from .report_audit import audit_banner, audit_dict, audit_section

FORMAT = "synthgen-report/1"
SUMMARY_KEYS = ("verdict", "fidelity_score", "detection_auc", "tstr_ratio", "mia_auc", "dcr_share",
                "exact_match_rate", "privacy")


def validate_report_dict(d: Mapping[str, Any]) -> None:
    import jsonschema

    from synthgen.resources import load_json_schema

    try:
        jsonschema.validate(d, load_json_schema("report"))
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise EvaluationError(f"The report does not match schemas/report.schema.json at {where}: {exc.message}. "
                              "Fix: regenerate it with evaluators.evaluate().") from None


@dataclass(frozen=True)
class Report:
    results: tuple[Result, ...]
    summary: Mapping[str, Any]
    meta: Mapping[str, Any] = field(default_factory=dict)
    plots: Mapping[str, Any] = field(default_factory=dict)
    not_computed: tuple[Mapping[str, str], ...] = ()
    audit: Mapping[str, Any] | None = None  # an audit result or its dict (see evaluators.report_audit)

    def __post_init__(self) -> None:
        object.__setattr__(self, "audit", None if self.audit is None else audit_dict(self.audit))
        object.__setattr__(self, "results", tuple(self.results))
        object.__setattr__(self, "summary", dict(self.summary))
        object.__setattr__(self, "not_computed", tuple(dict(x) for x in self.not_computed))

    # ----- access
    def __getitem__(self, name: str) -> Result:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(name)

    def get(self, name: str) -> Result | None:
        try:
            return self[name]
        except KeyError:
            return None

    # ----- JSON
    def to_dict(self) -> dict:
        d = {"format": FORMAT, "contains_private_statistics": True, "notice": PRIVATE_NOTICE,
             "meta": dict(self.meta), "summary": dict(self.summary), "results": [r.to_dict() for r in self.results],
             "not_computed": [dict(x) for x in self.not_computed], "plots": dict(self.plots)}
        return jsonable(d if self.audit is None else {**d, "audit": dict(self.audit)})

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def save_json(self, path: str | os.PathLike) -> None:
        d = self.to_dict()
        validate_report_dict(d)
        atomic_write_text(path, json.dumps(d, indent=2, allow_nan=False) + "\n")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Report":
        validate_report_dict(d)
        return cls(tuple(Result.from_dict(r) for r in d["results"]), d["summary"], d.get("meta", {}),
                   d.get("plots", {}), tuple(d.get("not_computed", ())), d.get("audit"))

    @classmethod
    def load_json(cls, path: str | os.PathLike) -> "Report":
        try:
            with open(path, encoding="utf-8") as fh:
                d = json.load(fh)
        except FileNotFoundError:
            raise EvaluationError(f"Report file {path} does not exist; check the path.") from None
        except json.JSONDecodeError as exc:
            raise EvaluationError(f"Report file {path} is not valid JSON (line {exc.lineno}).") from None
        return cls.from_dict(d)

    # ----- HTML
    def to_html(self) -> str:
        return render_html(self.to_dict())

    def save_html(self, path: str | os.PathLike) -> None:
        atomic_write_text(path, self.to_html())


# ============================================================================================= HTML rendering
def _fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "&ndash;"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return html.escape(str(x))


def _png(fig) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _img(fig, alt: str) -> str:
    return f'<img class="plot" alt="{html.escape(alt)}" src="data:image/png;base64,{_png(fig)}">'


def _figure(w: float, h: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h))


def _plot_marginals(marginals: list[dict]) -> str:
    if not marginals:
        return ""
    cols = 3
    rows = (len(marginals) + cols - 1) // cols
    fig = _figure(4.2 * cols, 2.6 * rows)
    for i, m in enumerate(marginals):
        ax = fig.add_subplot(rows, cols, i + 1)
        counts = m["counts"]
        if m["kind"] == "numeric":
            edges = np.asarray(m["edges"], dtype=float)
            centres = (edges[:-1] + edges[1:]) / 2
            width = edges[1] - edges[0]
            for key, colour, style in (("real", "#1f5fa8", "bar"), ("synthetic", "#e0792b", "step"),
                                       ("holdout", "#3a9a48", "dash")):
                if key not in counts:
                    continue
                c = counts[key]
                share = np.asarray(c["bins"], float) / max(c["n"], 1)
                if style == "bar":
                    ax.bar(centres, share, width=width, color=colour, alpha=0.45, label=key)
                else:
                    ax.step(centres, share, where="mid", color=colour, lw=1.6,
                            ls="--" if style == "dash" else "-", label=key)
        else:
            labels = list(m["labels"]) + ["(other)", "(null)"]
            x = np.arange(len(labels))
            width = 0.4
            for off, key, colour in ((-0.2, "real", "#1f5fa8"), (0.2, "synthetic", "#e0792b")):
                c = counts[key]
                vals = np.asarray(list(c["bins"]) + [c["other"], c["null"]], float) / max(c["n"], 1)
                ax.bar(x + off, vals, width=width, color=colour, alpha=0.75, label=key)
            ax.set_xticks(x)
            ax.set_xticklabels([str(s)[:12] for s in labels], rotation=45, ha="right", fontsize=7)
        ax.set_title(str(m["column"]), fontsize=9)
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.legend(fontsize=7)
    fig.subplots_adjust(left=0.05, right=0.98, top=1 - 0.35 / rows, bottom=0.9 / (2.6 * rows), hspace=0.75,
                        wspace=0.25)
    return _img(fig, "Marginal distributions: real vs synthetic (shares of rows per bin)")


def _plot_heatmap(assoc: Mapping[str, Any]) -> str:
    names = assoc["columns"]
    if len(names) < 2:
        return ""
    diff = np.asarray(assoc["synthetic"], float) - np.asarray(assoc["real"], float)
    k = len(names)
    fig = _figure(1.0 + 0.45 * k, 0.8 + 0.45 * k)
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(diff, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xticklabels([str(n)[:14] for n in names], rotation=60, ha="right", fontsize=7)
    ax.set_yticklabels([str(n)[:14] for n in names], fontsize=7)
    fig.colorbar(im, ax=ax, shrink=0.8, label="synthetic - real association")
    ax.set_title("Association difference", fontsize=9)
    fig.subplots_adjust(left=0.8 / (1.0 + 0.45 * k) + 0.05, bottom=0.9 / (0.8 + 0.45 * k) + 0.05, top=0.92)
    return _img(fig, "Correlation-difference heatmap")


def _plot_dcr(dcr: Mapping[str, Any]) -> str:
    edges = np.asarray(dcr["edges"], float)
    centres = (edges[:-1] + edges[1:]) / 2
    fig = _figure(6.5, 3.0)
    ax = fig.add_subplot(1, 1, 1)
    styles = {"synthetic_to_training": ("#e0792b", "release → training"),
              "synthetic_to_holdout": ("#1f5fa8", "release → holdout"),
              "holdout_to_training": ("#3a9a48", "holdout → training (reference)")}
    for key, c in dcr["counts"].items():
        colour, label = styles.get(key, ("#777777", key))
        share = np.asarray(c["bins"], float) / max(c["n"], 1)
        ax.step(centres, share, where="mid", color=colour, lw=1.6, label=f"{label} (exact 0: {c['zero']})")
    ax.set_xlabel("distance to closest record")
    ax.set_ylabel("share of rows")
    ax.legend(fontsize=7)
    fig.subplots_adjust(left=0.12, bottom=0.18, right=0.97, top=0.95)
    return _img(fig, "Distance to closest record histograms")


def _plot_roc(roc: Mapping[str, Any]) -> str:
    fig = _figure(3.8, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(roc["fpr"], roc["tpr"], color="#c0392b", lw=2, label="attack on release")
    if roc.get("reference_tpr"):
        ax.plot(roc["fpr"], roc["reference_tpr"], color="#3a9a48", lw=1.5, ls="--", label="attack on real holdout")
    ax.plot([0, 1], [0, 1], color="#999999", lw=1, ls=":")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("Membership-inference ROC", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.subplots_adjust(left=0.17, bottom=0.14, right=0.96, top=0.91)
    return _img(fig, "Membership inference ROC curve")


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:1em 2em;
color:#222}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}
.banner{padding:1em;font-size:1.3em;font-weight:bold;border-radius:6px;margin:.8em 0}
.nodp{background:#b00020;color:#fff}.private{background:#4a0072;color:#fff}
.dp{background:#e6f4ea;color:#14532d;border:1px solid #14532d}
.verdict{display:inline-block;padding:.4em 1em;border-radius:6px;font-size:1.4em;font-weight:bold;color:#fff}
.pass{background:#2e7d32}.warn{background:#e69500}.fail{background:#b00020}
img.plot{max-width:100%;display:block;margin:.5em 0}.note{color:#555;font-size:.9em}
"""


def _privacy_banner(p: Mapping[str, Any]) -> str:
    if p.get("guarantee") == "dp":
        return (f'<div class="banner dp" id="privacy-spend">Differential privacy: '
                f'&epsilon; = {_fmt(p.get("epsilon"), 4)}, '
                f'&delta; = {float(p.get("delta", 0)):.3g} ({html.escape(str(p.get("accountant", "")))}; '
                f'neighbouring: {html.escape(str(p.get("neighbouring", "")))})</div>')
    reason = html.escape(str(p.get("reason", "no DP guarantee was declared for this release")))
    return (f'<div class="banner nodp" id="privacy-spend">NO DP GUARANTEE &mdash; this release carries no '
            f'differential-privacy guarantee. {reason}</div>')


def _private_banner() -> str:
    return f'<div class="banner private" id="not-for-release">{html.escape(PRIVATE_NOTICE)}</div>'


def _results_table(results: list[dict], with_attacker: bool = False) -> str:
    head = ("<tr><th class=l>metric</th><th>value</th><th>95% CI</th><th>real holdout</th>"
            "<th class=l>better</th>" + ("<th class=l>attacker assumed</th>" if with_attacker else "") + "</tr>")
    rows = []
    for r in results:
        ci = f"{r['ci'][0]:.3f} – {r['ci'][1]:.3f}" if r.get("ci") else "&ndash;"
        better = "higher" if r["direction"] == "higher_is_better" else "lower"
        att = f"<td class=l>{html.escape(str(r['details'].get('attacker', '')))}</td>" if with_attacker else ""
        rows.append(f"<tr><td class=l>{html.escape(r['name'])}</td><td>{_fmt(r['value'])}</td><td>{ci}</td>"
                    f"<td>{_fmt(r['reference'])}</td><td class=l>{better}</td>{att}</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _head(d: Mapping[str, Any]) -> list[str]:
    s, meta = d["summary"], d.get("meta", {})
    rows = meta.get("rows", {})
    verdict = s["verdict"]
    status = verdict["status"]
    return [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
        "style-src 'unsafe-inline'\">",
        "<title>PRIVATE, NOT FOR RELEASE: synthgen evaluation report</title>",
        f"<style>{_CSS}</style></head><body>", _private_banner(),
        "<h1>Synthetic data evaluation</h1>",
        f"<p class=note>synthgen {html.escape(str(meta.get('synthgen_version', '')))} · "
        f"{html.escape(str(meta.get('created', '')))} · rows: real {_fmt(rows.get('real'))}, "
        f"synthetic {_fmt(rows.get('synthetic'))}, holdout {_fmt(rows.get('holdout'))}"
        "</p>",
        _privacy_banner(s["privacy"]), audit_banner(d["audit"]) if d.get("audit") else "",
        f'<h2>At a glance</h2><div class="verdict {status}" id="verdict">{status.upper()}</div>',
        "<ul>" + "".join(f"<li>{html.escape(r)}</li>" for r in verdict["reasons"]) + "</ul>",
    ]


_GLANCE = [("fidelity score (0-1, higher better)", "fidelity_score", "fidelity.score"),
           ("detection AUC (0.5 ideal)", "detection_auc", "fidelity.detection_auc"),
           ("TSTR / TRTR (1 ideal)", "tstr_ratio", None),
           ("membership-attack AUC (0.5 ideal)", "mia_auc", "privacy.mia_auc"),
           ("DCR share (0.5 ideal)", "dcr_share", "privacy.dcr_share"),
           ("exact-match rate", "exact_match_rate", "privacy.exact_match_rate")]


def _glance(s: Mapping[str, Any], by_name: Mapping[str, dict]) -> list[str]:
    parts = ["<table><tr><th class=l>headline</th><th>release</th><th>real holdout</th></tr>"]
    for label, key, rname in _GLANCE:
        if rname and rname in by_name:
            ref = by_name[rname]["reference"]
        else:
            ref = 1.0 if key == "tstr_ratio" and s.get(key) is not None else None
        parts.append(f"<tr><td class=l>{label}</td><td>{_fmt(s.get(key))}</td><td>{_fmt(ref)}</td></tr>")
    parts.append("</table>")
    return parts


def _fidelity_section(results: list[dict], plots: Mapping[str, Any]) -> list[str]:
    fid = [r for r in results if r["group"] == "fidelity"]
    parts = ["<h2>Fidelity</h2>", _results_table([r for r in fid if not r["name"].startswith("fidelity.shape.")]),
             "<details><summary>per-column shapes</summary>" +
             _results_table([r for r in fid if r["name"].startswith("fidelity.shape.")]) + "</details>"]
    if plots.get("marginals"):
        parts.append("<h3>Marginal distributions</h3><p class=note>Shares of rows per pre-binned interval or "
                     "category (bins: declared bounds, or rounded percentiles; only declared or frequent "
                     "categories are named).</p>")
        parts.append(_plot_marginals(plots["marginals"]))
    if plots.get("association"):
        parts.append("<h3>Association difference</h3>")
        parts.append(f"<p class=note>{html.escape(str(plots['association'].get('measure', '')))}</p>")
        parts.append(_plot_heatmap(plots["association"]))
    return parts


def _ci(c: Any) -> str:
    return f"{c[0]:.3f} – {c[1]:.3f}" if c else "&ndash;"


def _utility_section(util: Mapping[str, Any] | None) -> list[str]:
    parts = ["<h2>Utility (train on synthetic, test on real)</h2>"]
    if not util:
        return parts + ["<p>Not computed: no target column was given.</p>"]
    parts.append(f"<p class=note>target: {html.escape(str(util['target']))} ({html.escape(util['task'])}); "
                 f"test set: {html.escape(util['test_set'])}</p>")
    parts.append("<table id=utility><tr><th class=l>model</th><th class=l>metric</th><th>TSTR</th><th>95% CI</th>"
                 "<th>TRTR</th><th>95% CI</th><th>floor</th></tr>")
    for row in util["table"]:
        parts.append(f"<tr><td class=l>{html.escape(row['model'])}</td>"
                     f"<td class=l>{html.escape(row['metric'])}</td>"
                     f"<td>{_fmt(row['tstr'])}</td><td>{_ci(row['tstr_ci'])}</td><td>{_fmt(row['trtr'])}</td>"
                     f"<td>{_ci(row['trtr_ci'])}</td><td>{_fmt(row['floor'])}</td></tr>")
    parts.append("</table>")
    return parts


def _privacy_section(d: Mapping[str, Any], plots: Mapping[str, Any]) -> list[str]:
    priv = [r for r in d["results"] if r["group"] == "privacy"]
    parts = ["<h2>Privacy risk</h2>", _results_table(priv, with_attacker=True)]
    if plots.get("dcr"):
        parts.append("<h3>Distance to closest record</h3>" + _plot_dcr(plots["dcr"]))
    if plots.get("mia_roc"):
        parts.append("<h3>Membership inference</h3>" + _plot_roc(plots["mia_roc"]))
    if d.get("not_computed"):
        parts.append("<h3>Not computed</h3><ul id=not-computed>" + "".join(
            f"<li><b>{html.escape(x['name'])}</b>: {html.escape(x['reason'])}</li>" for x in d["not_computed"]) +
            "</ul>")
    return parts


def render_html(d: Mapping[str, Any]) -> str:
    """Render a report dictionary (as from :meth:`Report.to_dict`) to one self-contained HTML page."""
    s, plots = d["summary"], d.get("plots", {})
    by_name = {r["name"]: r for r in d["results"]}
    parts = [*_head(d), *_glance(s, by_name), *_fidelity_section(d["results"], plots),
             *_utility_section(plots.get("utility")), *_privacy_section(d, plots), *audit_section(d.get("audit")),
             "<h2>Privacy spend</h2>" + _privacy_banner(s["privacy"]), _private_banner(), "</body></html>"]
    return "\n".join(parts)
