"""Figures of the HTML report: matplotlib drawings of pre-binned statistics, inlined as PNG ``<img>`` tags.

Privacy argument: every function here draws numbers already in the report dictionary (binned counts with edges
rounded outward or declared, association coefficients, distance histograms, ROC points); none receives a table.
What the page can show is what the JSON holds.

Readability: figures are drawn at :data:`DPI` and shown at half their pixel size, so one point of font is one CSS
pixel; every text is at least :data:`TICK` points. Each ``<img>`` records its smallest font and its DPI
(``data-min-font-pt``, ``data-dpi``) so a browser test can check the rendered size (>= 10 px) of every plot.
"""
from __future__ import annotations

import base64
import html
import io
from typing import Any, Mapping, Sequence

import numpy as np

DPI = 144
#: Font sizes in points (= CSS px at the shown size).
TICK, LABEL, TITLE = 10.5, 11.0, 12.0
REAL, SYNTH, HOLDOUT, TAIL = "#1f5fa8", "#e0792b", "#3a9a48", "#8c8c8c"


def figure(w: float, h: float):
    """A figure ``w`` x ``h`` inches (72 CSS px per inch as shown), laid out by matplotlib's constrained engine."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=DPI, layout="constrained")
    fig.get_layout_engine().set(w_pad=0.04, h_pad=0.04)
    return fig


def style(ax) -> None:
    ax.tick_params(labelsize=TICK)
    ax.xaxis.label.set_size(LABEL)
    ax.yaxis.label.set_size(LABEL)
    ax.title.set_size(TITLE)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def min_font_pt(fig) -> float:
    """The smallest font size of any visible, non-empty text in ``fig`` (points)."""
    from matplotlib.text import Text

    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return float(min(sizes)) if sizes else TICK


def overlapping_labels(fig) -> int:
    """How many pairs of visible tick labels on the same axis overlap once drawn (0 for a readable figure)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    count = 0
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            boxes = [t.get_window_extent(renderer) for t in axis.get_ticklabels()
                     if t.get_visible() and t.get_text().strip()]
            count += sum(1 for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.overlaps(b))
    return count


def img(fig, alt: str, cls: str = "plot") -> str:
    """The figure as an ``<img>`` with a base64 PNG, shown at half its pixel size (see the module docstring)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    small = min_font_pt(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    w, h = (float(v) for v in fig.get_size_inches())
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'<img class="{cls}" alt="{html.escape(alt)}" width="{round(w * 72)}" height="{round(h * 72)}" '
            f'data-dpi="{DPI}" data-min-font-pt="{small:g}" src="data:image/png;base64,{data}">')


def short(label: Any, n: int = 20) -> str:
    s = str(label)
    return s if len(s) <= n else s[: n - 1] + "\u2026"


def shorts(labels: Sequence[Any], n: int = 20) -> list[str]:
    """Tick labels of at most ``n`` characters that stay distinct: cut at the end, else in the middle (names that
    differ only in their last characters, 'district 01' ... 'district 12'), else numbered."""
    full = [str(v) for v in labels]
    for cut in (lambda s: short(s, n), lambda s: s if len(s) <= n else s[: n // 2] + "\u2026" + s[-(n - n // 2 - 1):]):
        out = [cut(s) for s in full]
        if len(set(out)) == len(set(full)):
            return out
    return [f"{i + 1}. {short(s, max(n - 4, 4))}" if len(s) > n else s for i, s in enumerate(full)]


# ------------------------------------------------------------------------------------ association matrices
def _matrix(ax, m: np.ndarray, names: list[str], title: str, vmax: float, cmap: str):
    k = len(names)
    im = ax.imshow(m, cmap=cmap, vmin=-vmax, vmax=vmax, interpolation="nearest")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xticklabels(shorts(names, 14), rotation=90)
    ax.set_yticklabels(shorts(names, 14))
    ax.set_title(title)
    style(ax)
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)
    return im


def association_figures(assoc: Mapping[str, Any]) -> list[tuple[Any, str]]:
    """[(figure, alt)]: real and synthetic matrices side by side (stacked when too wide), then their difference."""
    names = [str(n) for n in assoc["columns"]]
    k = len(names)
    if k < 2:
        return []
    real = np.asarray(assoc["real"], float)
    syn = np.asarray(assoc["synthetic"], float)
    side = 1.4 + (0.26 if k <= 30 else 0.2) * k  # >= 14 px per label row: 10.5 pt labels never overlap
    wide = 2 * side + 1.0 <= 15.0
    fig = figure(2 * side + 1.0 if wide else side + 1.0, side + 0.3 if wide else 2 * side + 0.3)
    axes = fig.subplots(1, 2) if wide else fig.subplots(2, 1)
    _matrix(axes[0], np.nan_to_num(real), names, "real (training)", 1.0, "RdBu_r")
    im = _matrix(axes[1], np.nan_to_num(syn), names, "synthetic", 1.0, "RdBu_r")
    cb = fig.colorbar(im, ax=list(axes), shrink=0.7)
    cb.ax.tick_params(labelsize=TICK)
    cb.set_label("association", size=LABEL)
    both = (fig, "Association matrices side by side: real and synthetic (Pearson r or Cramer's V)")
    fig = figure(side + 1.2, side + 0.3)
    ax = fig.add_subplot(1, 1, 1)
    im = _matrix(ax, np.nan_to_num(syn - real), names, "synthetic \u2212 real", 0.5, "PuOr_r")
    cb = fig.colorbar(im, ax=ax, shrink=0.8, extend="both")
    cb.ax.tick_params(labelsize=TICK)
    cb.set_label("difference (saturates at \u00b10.5)", size=LABEL)
    return [both, (fig, "Correlation-difference heatmap: synthetic minus real association")]


def association_matrices(assoc: Mapping[str, Any]) -> str:
    """The association figures as ``<img>`` tags."""
    return "".join(img(fig, alt) for fig, alt in association_figures(assoc))


# ------------------------------------------------------------------------------------ privacy plots
_DCR_STYLE = {"synthetic_to_training": (SYNTH, "-", "release \u2192 training"),
              "synthetic_to_holdout": (REAL, "-", "release \u2192 holdout"),
              "holdout_to_training": (HOLDOUT, "--", "holdout \u2192 training (reference)")}


def dcr_plot(dcr: Mapping[str, Any]) -> str:
    edges = np.asarray(dcr["edges"], float)
    centres = (edges[:-1] + edges[1:]) / 2
    fig = figure(7.0, 3.4)
    ax = fig.add_subplot(1, 1, 1)
    for key, c in dcr["counts"].items():
        colour, ls, label = _DCR_STYLE.get(key, (TAIL, ":", key))
        share = np.asarray(c["bins"], float) / max(c["n"], 1)
        ax.step(centres, share, where="mid", color=colour, ls=ls, lw=1.8,
                label=f"{label}; exact 0: {c['zero']}")
    ax.set_xlabel("distance to the closest record (encoded space)")
    ax.set_ylabel("share of rows")
    ax.legend(fontsize=TICK, frameon=False)
    style(ax)
    return img(fig, "Distance to closest record histograms")


def roc_plot(roc: Mapping[str, Any]) -> str:
    fig = figure(4.6, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(roc["fpr"], roc["tpr"], color="#c0392b", lw=2, label="attack on the release")
    if roc.get("reference_tpr"):
        ax.plot(roc["fpr"], roc["reference_tpr"], color=HOLDOUT, lw=1.6, ls="--", label="attack on a real holdout")
    ax.plot([0, 1], [0, 1], color="#999999", lw=1, ls=":", label="no signal")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("Membership-inference ROC")
    ax.legend(fontsize=TICK, loc="lower right", frameon=False)
    style(ax)
    return img(fig, "Membership inference ROC curve")
