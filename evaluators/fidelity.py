"""Fidelity: how closely the synthetic table reproduces the real one, each number beside a real holdout's.

Definitions that sdmetrics shares are computed the same way (so the numbers agree within 0.01):

* KS complement ``1 - D`` (two-sample Kolmogorov-Smirnov statistic, nulls dropped) for numeric/datetime columns;
* TV complement ``1 - 0.5 * sum |p_real - p_synth|`` over categories for categorical columns;
* correlation similarity ``1 - |r_real - r_synth| / 2`` (Pearson, pairwise complete rows) for numeric pairs;
* contingency similarity (the TV complement of the joint distribution) for other pairs, numeric columns cut
  into 10 equal-width bins on the real range (sdmetrics bins each table on its own range; we use the real
  range for both, which is what makes the comparison meaningful);
* the overall ``fidelity_score`` is the mean of the column-shape and pair-trend averages (sdmetrics'
  QualityReport score).

Beside the plain pair average we report an association-weighted one (weights: |Pearson r| or Cramér's V in
the real data), so that pairs with no real association cannot inflate the score.
"""
from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd

from .base import Prepared, Result, bin_codes, encode_matrix, numeric_scale, subsample


# ------------------------------------------------------------------------------------------- primitives
def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample KS statistic (nulls dropped); same value as ``scipy.stats.ks_2samp(a, b).statistic``."""
    a = np.sort(a[~np.isnan(a)])
    b = np.sort(b[~np.isnan(b)])
    if len(a) == 0 or len(b) == 0:
        return 1.0
    allv = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, allv, side="right") / len(a)
    cdf_b = np.searchsorted(b, allv, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def _shares(codes: np.ndarray, k: int) -> np.ndarray:
    c = np.where(codes < 0, k, codes)
    counts = np.bincount(c, minlength=k + 1).astype("float64")
    return counts / max(counts.sum(), 1.0)


def tv_complement(a_codes: np.ndarray, b_codes: np.ndarray, k: int) -> float:
    """1 - total-variation distance between two categorical distributions (codes 0..k-1, -1 = null)."""
    return float(1.0 - 0.5 * np.abs(_shares(a_codes, k) - _shares(b_codes, k)).sum())


def _joint_tv_complement(a: np.ndarray, b: np.ndarray, levels: list[int]) -> float:
    """TV complement of the joint distribution of several binned columns (rows of int code matrices)."""
    mult = np.cumprod([1] + levels[::-1][:-1])[::-1]
    ia, ib = a @ mult, b @ mult
    size = int(np.prod(levels))
    if size <= 5_000_000:
        pa = np.bincount(ia, minlength=size) / len(ia)
        pb = np.bincount(ib, minlength=size) / len(ib)
        return float(1.0 - 0.5 * np.abs(pa - pb).sum())
    ua, ca = np.unique(ia, return_counts=True)
    ub, cb = np.unique(ib, return_counts=True)
    sa = pd.Series(ca / len(ia), index=ua)
    sb = pd.Series(cb / len(ib), index=ub)
    return float(1.0 - 0.5 * sa.sub(sb, fill_value=0.0).abs().sum())


def _cramers_v(a: np.ndarray, b: np.ndarray, ka: int, kb: int) -> float:
    table = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb).astype("float64")
    table = table[table.sum(1) > 0][:, table.sum(0) > 0]
    n = table.sum()
    if n == 0 or min(table.shape) < 2:
        return 0.0
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return float(math.sqrt(chi2 / n / (min(table.shape) - 1)))


# ------------------------------------------------------------------------------------------ evaluators
def column_shapes(prep: Prepared) -> tuple[list[Result], dict[str, tuple[float, float | None]]]:
    out: list[Result] = []
    scores: dict[str, tuple[float, float | None]] = {}
    for c in prep.columns:
        r = prep.real[c.name].to_numpy()
        s = prep.synthetic[c.name].to_numpy()
        h = prep.holdout[c.name].to_numpy() if prep.holdout is not None else None
        if c.kind == "numeric":
            metric = "KSComplement"
            value = 1.0 - ks_statistic(r, s)
            ref = 1.0 - ks_statistic(r, h) if h is not None else None
        else:
            metric = "TVComplement"
            k = len(c.categories)
            value = tv_complement(r, s, k)
            ref = tv_complement(r, h, k) if h is not None else None
        scores[c.name] = (value, ref)
        out.append(Result(f"fidelity.shape.{c.name}", "fidelity", value, "higher_is_better", reference=ref,
                          details={"column": c.name, "metric": metric}))
    return out, scores


def _corr(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Pearson correlations of numeric columns (pairwise-complete rows; constant columns give NaN)."""
    x = frame[cols].to_numpy()
    if not np.isnan(x).any():
        sd = x.std(0)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = (x - x.mean(0)) / np.where(sd > 0, sd, np.nan)
            c = z.T @ z / len(x)
        return pd.DataFrame(c, index=cols, columns=cols)
    return frame[cols].corr(method="pearson", min_periods=3)


def pair_trends(prep: Prepared, n_bins: int = 10) -> dict[str, Any]:
    """Per-pair similarity scores and real/synthetic association strengths (see module docstring)."""
    frames = [prep.real, prep.synthetic] + ([prep.holdout] if prep.holdout is not None else [])
    num = prep.numeric
    corrs = [_corr(f, num) for f in frames] if len(num) > 1 else []
    codes, levels = bin_codes(prep, frames, n_bins)
    cols = list(prep.columns)
    idx = {c.name: j for j, c in enumerate(cols)}
    pairs = []
    for a, b in itertools.combinations(cols, 2):
        ja, jb = idx[a.name], idx[b.name]
        if a.kind == "numeric" and b.kind == "numeric":
            metric = "CorrelationSimilarity"
            rr = float(corrs[0].at[a.name, b.name])
            rs = float(corrs[1].at[a.name, b.name])
            score = 1.0 - abs(rr - rs) / 2.0 if not (math.isnan(rr) or math.isnan(rs)) else float("nan")
            ref = None
            if prep.holdout is not None:
                rh = float(corrs[2].at[a.name, b.name])
                ref = 1.0 - abs(rr - rh) / 2.0 if not (math.isnan(rr) or math.isnan(rh)) else None
            assoc_r, assoc_s = rr, rs
            weight = abs(rr) if not math.isnan(rr) else 0.0
        else:
            metric = "ContingencySimilarity"
            la, lb = levels[a.name], levels[b.name]
            sel = [ja, jb]
            score = _joint_tv_complement(codes[0][:, sel], codes[1][:, sel], [la, lb])
            ref = _joint_tv_complement(codes[0][:, sel], codes[2][:, sel], [la, lb]) if len(codes) > 2 else None
            assoc_r = _cramers_v(codes[0][:, ja], codes[0][:, jb], la, lb)
            assoc_s = _cramers_v(codes[1][:, ja], codes[1][:, jb], la, lb)
            weight = assoc_r
        pairs.append({"columns": [a.name, b.name], "metric": metric, "score": score, "reference": ref,
                      "real_association": assoc_r, "synthetic_association": assoc_s, "weight": weight})
    return {"pairs": pairs, "codes": codes, "levels": levels}


def _mean(xs) -> float | None:
    xs = [x for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return float(np.mean(xs)) if xs else None


def _weighted(pairs: list[dict], key: str) -> float | None:
    num = den = 0.0
    for p in pairs:
        v = p[key]
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        num += p["weight"] * v
        den += p["weight"]
    return num / den if den > 0 else None


def three_way(prep: Prepared, codes: list[np.ndarray], levels: dict, rng: np.random.Generator,
              n_triples: int = 20) -> Result | None:
    names = [c.name for c in prep.columns]
    triples = list(itertools.combinations(range(len(names)), 3))
    if not triples:
        return None
    pick = rng.permutation(len(triples))[:n_triples]
    scores, refs = [], []
    for t in pick:
        sel = list(triples[t])
        lv = [levels[names[j]] for j in sel]
        scores.append(_joint_tv_complement(codes[0][:, sel], codes[1][:, sel], lv))
        if len(codes) > 2:
            refs.append(_joint_tv_complement(codes[0][:, sel], codes[2][:, sel], lv))
    return Result("fidelity.three_way", "fidelity", float(np.mean(scores)), "higher_is_better",
                  reference=float(np.mean(refs)) if refs else None,
                  details={"n_triples": len(pick), "of_triples": len(triples),
                           "metric": "TV complement of 3-way joint distributions (numeric cut into 10 bins)"})


def detection(prep: Prepared, rng: np.random.Generator, max_rows: int = 5000, folds: int = 3) -> Result:
    """Cross-validated AUC of a gradient-boosting classifier telling real rows from synthetic ones (0.5 ideal)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    scale = numeric_scale(prep)

    def auc(other: pd.DataFrame) -> float:
        m = min(len(prep.real), len(other), max_rows)
        xr = encode_matrix(prep, prep.real.iloc[subsample(len(prep.real), m, rng)], scale)
        xo = encode_matrix(prep, other.iloc[subsample(len(other), m, rng)], scale)
        x = np.vstack([xr, xo])
        y = np.r_[np.zeros(len(xr)), np.ones(len(xo))]
        clf = HistGradientBoostingClassifier(max_iter=60, learning_rate=0.15, early_stopping=False,
                                             random_state=int(rng.integers(2**31 - 1)))
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=int(rng.integers(2**31 - 1)))
        p = cross_val_predict(clf, x, y, cv=cv, method="predict_proba")[:, 1]
        return float(roc_auc_score(y, p))

    value = auc(prep.synthetic)
    ref = auc(prep.holdout) if prep.holdout is not None else None
    return Result("fidelity.detection_auc", "fidelity", value, "lower_is_better", reference=ref,
                  details={"classifier": "HistGradientBoosting", "folds": folds, "max_rows_per_side": max_rows,
                           "ideal": 0.5, "meaning": "AUC of a classifier telling real from synthetic rows"})


def alpha_precision_beta_recall(prep: Prepared, rng: np.random.Generator, max_rows: int = 5000
                                ) -> list[Result]:
    """Integrated alpha-precision and beta-recall (after Alaa et al. 2022) on the distance encoding.

    Supports are balls around the real (resp. synthetic) centre holding a share alpha (beta) of that table's
    rows. alpha-precision: the share of synthetic rows inside the real alpha-support should be alpha;
    beta-recall: the share of real rows inside the synthetic beta-support should be beta (a collapsed
    generator covers too little). Each is integrated as 1 - 2 * mean |curve - level| (1 is ideal).
    """
    scale = numeric_scale(prep)
    levels = np.linspace(0.05, 0.95, 19)

    def curve(inner: np.ndarray, outer: np.ndarray) -> float:
        centre = inner.mean(0)
        radii = np.quantile(np.linalg.norm(inner - centre, axis=1), levels)
        d = np.linalg.norm(outer - centre, axis=1)
        share = (d[None, :] <= radii[:, None]).mean(1)
        return 1.0 - 2.0 * float(np.mean(np.abs(share - levels)))

    def curves(other: pd.DataFrame) -> tuple[float, float]:
        xr = encode_matrix(prep, prep.real.iloc[subsample(len(prep.real), max_rows, rng)], scale).astype("float64")
        xo = encode_matrix(prep, other.iloc[subsample(len(other), max_rows, rng)], scale).astype("float64")
        return curve(xr, xo), curve(xo, xr)

    a, b = curves(prep.synthetic)
    ar = br = None
    if prep.holdout is not None:
        ar, br = curves(prep.holdout)
    return [
        Result("fidelity.alpha_precision", "fidelity", a, "higher_is_better", reference=ar,
               details={"meaning": "synthetic rows fall in the real data's alpha-supports as often as they should"}),
        Result("fidelity.beta_recall", "fidelity", b, "higher_is_better", reference=br,
               details={"meaning": "real rows are covered by the synthetic data's beta-supports"}),
    ]


def clipped(prep: Prepared) -> Result | None:
    """The share of real training rows outside the declared bounds (numeric, datetime) or categories, per column.

    A fit clips such values into the declared bounds (DP-drafted bounds always, ``on_violation="clip"`` otherwise)
    and drops rows of undeclared categories, so this is how much of the real data the fit did not see as it is.
    A statistic of the private data without noise: it goes to the owner's evaluation only, never to a release.
    ``None`` when no column has declared bounds (no schema)."""
    cols: dict[str, dict[str, float]] = {}
    for c in prep.columns:
        if not c.declared:
            continue
        x = prep.real[c.name].to_numpy()
        if c.kind == "numeric" and c.lower is not None:
            ok = x[~np.isnan(x)]
            m = max(len(x), 1)
            below, above = float((ok < c.lower).sum()) / m, float((ok > c.upper).sum()) / m
            cols[c.name] = {"share": below + above, "below": below, "above": above}
        elif c.kind == "categorical":
            cols[c.name] = {"share": float((x >= len(c.public_labels)).sum()) / max(len(x), 1), "kind": "categories"}
    if not cols:
        return None
    worst = max(cols, key=lambda k: cols[k]["share"])
    return Result("fidelity.clipped_share", "fidelity", cols[worst]["share"], "lower_is_better",
                  details={"columns": cols, "worst_column": worst,
                           "meaning": "share of real training rows outside the declared bounds (clipped to them by "
                                      "the fit) or of undeclared categories (dropped), per column; the value is the "
                                      "largest column's share. Private statistic: owner's evaluation only"})


# -------------------------------------------------------------------------------------- plot statistics
def _nice(x: float, up: bool) -> float:
    """Round to 2 significant digits, outward, so no plotted edge equals a private value."""
    if x == 0 or not math.isfinite(x):
        return 0.0
    mag = 10 ** (math.floor(math.log10(abs(x))) - 1)
    return float((math.ceil(x / mag) if up else math.floor(x / mag)) * mag)


def marginal_bins(prep: Prepared, n_bins: int = 20) -> list[dict]:
    """Pre-binned marginal counts for the report's overlays. Edges are declared bounds, or robust quantiles
    rounded outward to 2 significant digits; categories are named only when declared or frequent."""
    out = []
    frames = {"real": prep.real, "synthetic": prep.synthetic}
    if prep.holdout is not None:
        frames["holdout"] = prep.holdout
    for c in prep.columns:
        if c.kind == "numeric":
            r = prep.real[c.name].to_numpy()
            q_lo, q_hi = np.nanquantile(r, [0.01, 0.99])
            lo, hi, src = _nice(q_lo, up=False), _nice(q_hi, up=True), "real 1st-99th percentiles rounded outward " \
                "to 2 significant digits"
            if c.declared and c.lower is not None:
                lo, hi = max(lo, c.lower), min(hi, c.upper)
                src += ", within the declared bounds"
                if not hi > lo:
                    lo, hi = c.lower, c.upper
            if not hi > lo:
                hi = lo + 1.0
            edges = np.linspace(lo, hi, n_bins + 1)
            counts = {}
            for w, f in frames.items():
                x = f[c.name].to_numpy()
                ok = x[~np.isnan(x)]
                h = np.histogram(np.clip(ok, lo, hi), bins=edges)[0]
                counts[w] = {"bins": h.tolist(), "below": int((ok < lo).sum()), "above": int((ok > hi).sum()),
                             "null": int(np.isnan(x).sum()), "n": int(len(x))}
            out.append({"column": c.name, "kind": "numeric", "edges": [float(e) for e in edges],
                        "edges_source": src, "datetime_days": c.is_datetime, "counts": counts})
        else:
            public = [c.categories.index(p) for p in c.public_labels]
            counts = {}
            for w, f in frames.items():
                x = f[c.name].to_numpy()
                bc = np.bincount(np.where(x < 0, len(c.categories), x), minlength=len(c.categories) + 1)
                named = [int(bc[i]) for i in public]
                counts[w] = {"bins": named, "other": int(bc[:-1].sum() - sum(named)), "null": int(bc[-1]),
                             "n": int(len(x))}
            out.append({"column": c.name, "kind": "categorical", "labels": list(c.public_labels),
                        "labels_source": "declared categories" if c.declared else "categories seen often enough",
                        "counts": counts})
    return out


# ------------------------------------------------------------------------------------------------- suite
def run(prep: Prepared, rng: np.random.Generator, metrics: set[str] | None = None
        ) -> tuple[list[Result], dict[str, Any]]:
    """All fidelity results plus the statistics the report plots (binned counts and association matrices)."""
    def want(m: str) -> bool:
        return metrics is None or m in metrics

    results: list[Result] = []
    plots: dict[str, Any] = {}
    shape_results, shape_scores = column_shapes(prep)
    results += shape_results
    shapes = _mean(v for v, _ in shape_scores.values())
    shapes_ref = _mean(r for _, r in shape_scores.values())
    results.append(Result("fidelity.column_shapes", "fidelity", shapes, "higher_is_better", reference=shapes_ref,
                          details={"metric": "mean of KS/TV complements over columns"}))
    pt = pair_trends(prep)
    pairs = pt["pairs"]
    plain = _mean(p["score"] for p in pairs)
    plain_ref = _mean(p["reference"] for p in pairs)
    weighted = _weighted(pairs, "score")
    weighted_ref = _weighted(pairs, "reference")
    weak = sum(1 for p in pairs if p["weight"] < 0.1)
    pair_details = [{k: v for k, v in p.items()} for p in pairs]
    if pairs:
        results.append(Result("fidelity.pair_trends", "fidelity", plain, "higher_is_better", reference=plain_ref,
                              details={"metric": "mean correlation/contingency similarity over column pairs",
                                       "pairs": pair_details}))
        results.append(Result("fidelity.pair_trends_weighted", "fidelity", weighted, "higher_is_better",
                              reference=weighted_ref,
                              details={"metric": "pair similarity weighted by the real association strength "
                                                 "(|Pearson r| or Cramer's V)",
                                       "pairs_without_real_association": weak, "n_pairs": len(pairs)}))
    score = _mean([shapes, plain]) if pairs else shapes
    score_ref = _mean([shapes_ref, plain_ref]) if pairs else shapes_ref
    results.append(Result("fidelity.score", "fidelity", score, "higher_is_better", reference=score_ref,
                          details={"metric": "mean of column shapes and pair trends (sdmetrics QualityReport "
                                             "definition)"}))
    if want("three_way"):
        r3 = three_way(prep, pt["codes"], pt["levels"], rng)
        if r3 is not None:
            results.append(r3)
    if want("detection"):
        results.append(detection(prep, rng))
    if want("alpha_precision"):
        results += alpha_precision_beta_recall(prep, rng)
    # association matrices for the correlation-difference heatmap (derived statistics only)
    names = [c.name for c in prep.columns]
    k = len(names)
    real_m = np.eye(k)
    syn_m = np.eye(k)
    pos = {n: i for i, n in enumerate(names)}
    for p in pairs:
        i, j = pos[p["columns"][0]], pos[p["columns"][1]]
        real_m[i, j] = real_m[j, i] = p["real_association"]
        syn_m[i, j] = syn_m[j, i] = p["synthetic_association"]
    plots["association"] = {"columns": names, "real": real_m.tolist(), "synthetic": syn_m.tolist(),
                            "measure": "Pearson r for numeric pairs, Cramer's V (binned) otherwise"}
    plots["marginals"] = marginal_bins(prep)
    return results, plots
