"""Per-column distributions of the HTML report: real vs synthetic, one small figure per column, with a legend.

Privacy argument: drawn from the report's pre-binned counts only (:func:`evaluators.fidelity.marginal_bins`: edges
are declared bounds or real percentiles rounded outward to 2 significant digits, categories are named only when
declared or frequent). Ordering categories by their real count reads those counts, nothing else.

* Categorical columns: horizontal bars (labels never overlap), the :data:`TOP_K` categories most frequent in the
  real data, the rest summed into one "other" bar, and "other" / "missing" bars only where a table has such rows.
* Numeric columns: shares per bin inside the plotted range; the mass outside it (the counts ``below`` / ``above``,
  which the binning folded into the edge bins) is taken out of the edge bins and drawn apart, hatched, as
  "outside the range", so a clipped tail is not mistaken for a spike at the edge.
"""
from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

import numpy as np

from .report_plots import REAL, SYNTH, TAIL, TICK, figure, img, shorts, style

TOP_K = 12
SERIES = (("real", REAL, "real (training)"), ("synthetic", SYNTH, "synthetic"))
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def categorical_bars(m: Mapping[str, Any], top_k: int = TOP_K) -> tuple[list[str], dict[str, np.ndarray]]:
    """(labels, shares per series): top-k named categories by real count, then "other" and "missing" if any."""
    counts = {key: m["counts"][key] for key, _, _ in SERIES if key in m["counts"]}
    real = np.asarray(counts["real"]["bins"], float)
    order = list(np.argsort(-real, kind="stable")[:top_k])
    rest = [i for i in range(len(real)) if i not in order]
    labels = shorts([m["labels"][i] for i in order], 22)
    shares: dict[str, list[float]] = {}
    for key, c in counts.items():
        b = np.asarray(c["bins"], float)
        shares[key] = [*b[order], float(b[rest].sum()) + float(c.get("other", 0)), float(c.get("null", 0))]
        shares[key] = list(np.asarray(shares[key]) / max(float(c["n"]), 1.0))
    extra = [f"other ({len(rest)} named + unnamed)" if rest else "other (unnamed categories)", "missing"]
    keep = list(range(len(order))) + [len(order) + j for j in range(2)
                                      if any(s[len(order) + j] > 0 for s in shares.values())]
    labels = [(labels + extra)[i] for i in keep]
    return labels, {k: np.asarray(v)[keep] for k, v in shares.items()}


def _categorical(m: Mapping[str, Any]):
    labels, shares = categorical_bars(m)
    n = len(labels)
    fig = figure(4.9, 1.25 + 0.3 * max(n, 2))
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(n)
    h = 0.4
    for j, (key, colour, name) in enumerate(SERIES):
        if key in shares:
            ax.barh(y + (j - 0.5) * h, shares[key], height=h, color=colour, alpha=0.85, label=name)
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    ax.set_xlabel("share of rows")
    return fig, ax


def tail_free(c: Mapping[str, Any]) -> np.ndarray:
    """Bin counts without the mass outside the range (``below``/``above``, which the binning put in the edge bins)."""
    b = np.asarray(c["bins"], float).copy()
    b[0] = max(b[0] - float(c.get("below", 0)), 0.0)
    b[-1] = max(b[-1] - float(c.get("above", 0)), 0.0)
    return b


def _date_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _: (_EPOCH + timedelta(days=float(x))).strftime("%Y-%m"))


def _tail_axes(fig, below: bool, above: bool):
    """(main axes, below axes or None, above axes or None): narrow side panels for the mass outside the range."""
    ratios = [1] * below + [7] + [1] * above
    gs = fig.add_gridspec(1, len(ratios), width_ratios=ratios, wspace=0.02)
    main = fig.add_subplot(gs[0, int(below)])
    lo = fig.add_subplot(gs[0, 0], sharey=main) if below else None
    hi = fig.add_subplot(gs[0, len(ratios) - 1], sharey=main) if above else None
    return main, lo, hi


def _tail_panel(ax, label: str, values: list[float]) -> None:
    for j, ((_, colour, _), v) in enumerate(zip(SERIES, values)):
        ax.bar(j, v, width=0.8, color=colour, alpha=0.5, hatch="//", edgecolor=TAIL)
    ax.set_xticks([0.5])
    ax.set_xticklabels([label])
    ax.set_xlim(-0.7, len(values) - 0.3)
    style(ax)


def _numeric(m: Mapping[str, Any]):
    from matplotlib.ticker import MaxNLocator

    edges = np.asarray(m["edges"], float)
    days = bool(m.get("datetime_days"))
    series = [(key, m["counts"][key]) for key, _, _ in SERIES if key in m["counts"]]
    n = {key: max(float(c["n"]), 1.0) for key, c in series}
    below = [float(c.get("below", 0)) / n[key] for key, c in series]
    above = [float(c.get("above", 0)) / n[key] for key, c in series]
    fig = figure(4.9, 3.0)
    ax, ax_lo, ax_hi = _tail_axes(fig, any(below), any(above))
    for (key, c), (_, colour, name) in zip(series, SERIES):
        share = tail_free(c) / n[key]
        if key == "real":
            ax.bar(edges[:-1], share, width=float(edges[1] - edges[0]), align="edge", color=colour, alpha=0.5,
                   label=name)
        else:
            ax.stairs(share, edges, color=colour, lw=2.0, label=name)
    ax.set_xlim(edges[0], edges[-1])
    ax.xaxis.set_major_locator(MaxNLocator(4))
    if days:
        ax.xaxis.set_major_formatter(_date_formatter())
    if ax_lo is not None:
        _tail_panel(ax_lo, "< " + _fmt_edge(edges[0], days), below)
        ax_lo.set_ylabel("share of rows")
        ax.tick_params(axis="y", labelleft=False)
    else:
        ax.set_ylabel("share of rows")
    if ax_hi is not None:
        _tail_panel(ax_hi, "> " + _fmt_edge(edges[-1], days), above)
        ax_hi.tick_params(axis="y", labelleft=False)
    if ax_lo is not None or ax_hi is not None:
        ax.bar([np.nan], [0], color="white", hatch="//", edgecolor=TAIL, label="outside the range")
    return fig, ax


def column_figure(m: Mapping[str, Any]) -> str:
    """One column's figure (categorical or numeric) as an ``<img>``; legend above the axes."""
    fig, ax = _categorical(m) if m["kind"] == "categorical" else _numeric(m)
    style(ax)
    handles, labels = ax.get_legend_handles_labels()
    order = [name for _, _, name in SERIES] + ["outside the range"]
    pairs = sorted(zip(handles, labels), key=lambda hl: order.index(hl[1]) if hl[1] in order else len(order))
    handles, labels = [h for h, _ in pairs], [lb for _, lb in pairs]
    fig.legend(handles, labels, fontsize=TICK, frameon=False, loc="outside upper left", ncols=3,
               handlelength=1.4, columnspacing=1.0)
    return img(fig, f"Marginal distribution of {m['column']}: real vs synthetic")


def _fmt_edge(x: float, days: bool) -> str:
    return (_EPOCH + timedelta(days=x)).strftime("%Y-%m-%d") if days else f"{x:g}"


def column_caption(m: Mapping[str, Any], shape: Mapping[str, Any] | None,
                   clipped: Mapping[str, Any] | None = None) -> str:
    """Score, holdout score, plotted range, outside / missing shares and the share of real rows the fit clipped to
    the declared bounds (or whose undeclared categories it dropped) of one column: the text under its plot."""
    bits = []
    if clipped and float(clipped.get("share") or 0) > 0:
        what = "outside the declared categories" if clipped.get("kind") == "categories" else \
            "outside the declared bounds (clipped by the fit)"
        bits.append(f"<b class=bad>{float(clipped['share']):.1%} of real rows {what}</b>")
    if shape is not None and shape.get("value") is not None:
        metric = shape.get("details", {}).get("metric", "score")
        ref = shape.get("reference")
        bits.append(f"<b>{html.escape(metric)}</b> {shape['value']:.3f}"
                    + (f" (holdout {ref:.3f})" if ref is not None else ""))
    if m["kind"] == "numeric":
        days = bool(m.get("datetime_days"))
        bits.append(f"range {_fmt_edge(m['edges'][0], days)} \u2013 {_fmt_edge(m['edges'][-1], days)}")
        for key, _, name in SERIES:
            c = m["counts"].get(key)
            if c is None:
                continue
            n = max(float(c["n"]), 1.0)
            out, miss = (float(c.get("below", 0)) + float(c.get("above", 0))) / n, float(c.get("null", 0)) / n
            if out or miss:
                bits.append(f"{name.split(' ')[0]}: {out:.1%} outside, {miss:.1%} missing")
    return "<p class=cap>" + " &middot; ".join(bits) + "</p>"


def columns_section(marginals: list[dict], results: list[dict]) -> list[str]:
    """A grid of cards, one per column: figure and caption."""
    shapes = {r["name"][len("fidelity.shape."):]: r for r in results if r["name"].startswith("fidelity.shape.")}
    clip = next((r["details"].get("columns") or {} for r in results if r["name"] == "fidelity.clipped_share"), {})
    cards = [f'<figure class=card><h4>{html.escape(str(m["column"]))}</h4>{column_figure(m)}'
             f'<figcaption>{column_caption(m, shapes.get(m["column"]), clip.get(m["column"]))}</figcaption></figure>'
             for m in marginals]
    return ["<h3 id=distributions>Per-column distributions</h3>",
            "<p class=note>Shares of rows per pre-binned interval or category, real training rows against the "
            f"synthetic rows. Categorical columns show the {TOP_K} categories most frequent in the real data; the "
            "rest are summed as <i>other</i>. Numeric bins span the declared bounds or the real 1st&ndash;99th "
            "percentiles rounded outward; rows outside that range are drawn apart, hatched.</p>",
            '<div class=grid>' + "".join(cards) + "</div>"]
