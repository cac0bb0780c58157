"""The plain copula's statistics as reductions that merge (NO differential privacy; see :mod:`.plain`).

Pass 1 (:func:`value_partition`) reads every column's distinct values and counts (per ``condition_on`` class);
the empirical marginals, value protection included, are built from the merged counts (:func:`part_marginals`).
Pass 2 (:func:`score_partition`) maps rows through those marginals to normal scores and sums their exact Gram
matrix and the pairwise-complete counts of null-masked dimensions. Both merge exactly (:mod:`synthgen.scale.stats`),
so an in-memory fit (one partition) and a Dask fit of the same rows fit identical models. Memory: the distinct values
of each continuous column are held (merged) on the client.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ...scale.stats import Stats, ValueCounts, exact_gram, gram_value
from ...schema.times import to_floats
from .model import ColumnModel, category_codes, key_classes, n_key_classes, uses_onehot
from .normal_scores import slice_scores, slices_from_probs

_EMPTY = ValueCounts(np.zeros(0), np.zeros(0, dtype=np.int64))


@dataclass(frozen=True)
class ColumnScores:
    """Row-wise map of one column to its latent normal scores: numeric values are clipped to ``[lo, hi]`` (value
    protection) and looked up in ``values``; categories by code. ``table[i]`` holds the value dimensions' scores,
    ``null_scores`` the (null, observed) scores of the null dimension; ``masked``: value dims are pairwise-complete."""

    numeric: bool
    values: np.ndarray
    lo: float
    hi: float
    table: np.ndarray
    null_scores: tuple[float, float] | None
    masked: bool

    @property
    def bound2(self) -> float:
        """Largest squared norm of one row's scores for this column."""
        top = float(np.max(np.sum(self.table ** 2, axis=1))) if self.table.size else 0.0
        return top + (max(abs(s) for s in self.null_scores) ** 2 if self.null_scores else 0.0)


def _classes(df: pd.DataFrame, key: Any) -> tuple[np.ndarray, int]:
    if key is None:
        return np.zeros(len(df), dtype=np.int64), 1
    return key_classes(df[key.name], key), n_key_classes(key)


def value_partition(df: pd.DataFrame, cols: Sequence[Any], key: Any) -> Stats:
    """Pass 1 over one partition: rows per class; per column and class the observed distinct values and counts
    (numeric/datetime) or the category counts (null slot last), and the null counts."""
    cls, n_cls = _classes(df, key)
    out: Stats = {"rows": np.bincount(cls, minlength=n_cls).astype(np.int64)}
    for j, f in enumerate(cols):
        if f.kind in ("numeric", "datetime"):
            x = to_floats(df[f.name], f.kind)
            null = np.isnan(x)
            out[f"n{j}"] = np.bincount(cls[null], minlength=n_cls).astype(np.int64)
            for c in np.unique(cls[~null]):
                out[f"v{j}:{c}"] = ValueCounts.of(x[~null & (cls == c)])
        else:
            codes = category_codes(df[f.name], f)
            width = (2 if f.kind == "boolean" else len(f.categories)) + 1
            slot = np.where(codes < 0, width - 1, codes)
            out[f"c{j}"] = np.bincount(cls * width + slot, minlength=n_cls * width).reshape(n_cls, width)
    return out


def _at(vc: ValueCounts, pos: int) -> float:
    """The value at sorted position ``pos`` (0-based) of the multiset ``vc``."""
    return float(vc.values[np.searchsorted(np.cumsum(vc.counts), pos, side="right")])


def numeric_marginal(vc: ValueCounts, f: Any, k: int, max_knots: int) -> tuple[ColumnModel, ColumnScores]:
    """Empirical marginal of observed values (protected: clipped to the k-th order statistics; at most one knot per
    k rows; all values at the median when there are at most 2k) and its score map."""
    m = vc.total
    if m == 0:
        mid = 0.5 * (f.lower + f.upper) if f.kind == "numeric" else 0.0
        model = ColumnModel(f.name, f.kind, "discrete", np.array([mid]), np.array([1.0]))
        return model, ColumnScores(True, np.zeros(1), 0.0, 0.0, np.zeros((1, 1)), None, False)
    lo, hi = -np.inf, np.inf
    if k > 1:
        lo, hi = (_at(vc, k - 1), _at(vc, m - k)) if m > 2 * k else ((_at(vc, (m - 1) // 2) + _at(vc, m // 2)) / 2,) * 2
    clipped = np.clip(vc.values, lo, hi)
    uniq, inv = np.unique(clipped, return_inverse=True)
    cnt = np.bincount(inv, weights=vc.counts, minlength=len(uniq))
    cum = np.cumsum(cnt) / m
    low = cum - cnt / m
    sc = slice_scores(low, cum)
    scores = ColumnScores(True, uniq, float(lo), float(hi), sc[:, None], None, False)
    if len(uniq) <= min(max_knots, max(1, m // k)):
        cum[-1] = 1.0
        return ColumnModel(f.name, f.kind, "discrete", uniq.astype(np.float64), cum), scores
    n_knots = int(min(max_knots, max(2, m // k)))
    probs = np.linspace(0.0, 1.0, n_knots)
    knots = np.interp(probs, 0.5 * (low + cum), uniq)
    return ColumnModel(f.name, f.kind, "continuous", knots, probs), scores


def categorical_marginal(cnt: np.ndarray, f: Any, k: int, max_onehot: int) -> tuple[ColumnModel, ColumnScores]:
    """Category frequencies (categories held by fewer than k rows are never emitted) and the score map."""
    n_cat = len(cnt)
    cnt = np.asarray(cnt, dtype=np.float64)
    m = cnt.sum()
    emit = cnt >= k
    if not emit.any():
        emit = cnt == cnt.max() if m else np.arange(n_cat) == 0
    p_emit = np.where(emit, cnt, 0.0)
    p_emit = p_emit / p_emit.sum()
    if not uses_onehot(f, max_onehot):
        scores_cat = slice_scores(*slices_from_probs(cnt / max(m, 1))) if m else np.zeros(n_cat)
        cdf = np.cumsum(p_emit)
        cdf[-1] = 1.0
        model = ColumnModel(f.name, f.kind, "ordinal", np.arange(n_cat), cdf)
        return model, ColumnScores(False, np.zeros(0), 0.0, 0.0, scores_cat[:, None], None, False)
    idx = np.flatnonzero(emit)
    table = np.empty((n_cat, len(idx)))
    for j, c in enumerate(idx):
        p = cnt[c] / max(m, 1)
        s0, s1 = slice_scores(np.array([0.0, 1.0 - p]), np.array([1.0 - p, 1.0]))
        table[:, j] = s0
        table[c, j] = s1
    model = ColumnModel(f.name, f.kind, "onehot", idx.astype(np.int64), p_emit[idx], offsets=np.zeros(len(idx)))
    return model, ColumnScores(False, np.zeros(0), 0.0, 0.0, table, None, False)


def _class_values(stats: Stats, j: int, classes: Sequence[int]) -> ValueCounts:
    out = _EMPTY
    for c in classes:
        out = out + stats.get(f"v{j}:{c}", _EMPTY)
    return out


def part_marginals(stats: Stats, cols: Sequence[Any], classes: Sequence[int], k: int, max_knots: int,
                   max_onehot: int) -> tuple[list[ColumnModel], tuple[ColumnScores, ...]]:
    """Marginals and score maps of the part made of the rows of ``classes`` (merged pass-1 statistics)."""
    n = int(sum(stats["rows"][c] for c in classes))
    models, maps = [], []
    for j, f in enumerate(cols):
        if f.kind in ("numeric", "datetime"):
            nulls = int(sum(stats[f"n{j}"][c] for c in classes))
            model, sc = numeric_marginal(_class_values(stats, j, classes), f, k, max_knots)
        else:
            counts = sum(stats[f"c{j}"][c] for c in classes)
            nulls = int(counts[-1])
            model, sc = categorical_marginal(counts[:-1], f, k, max_onehot)
        if f.nullable:
            model.null_prob = nulls / n if n else float("nan")
            s0, s1 = slice_scores(*slices_from_probs(np.array([model.null_prob, 1.0 - model.null_prob])))
            sc = ColumnScores(sc.numeric, sc.values, sc.lo, sc.hi, sc.table, (float(s0), float(s1)), nulls > 0)
        models.append(model)
        maps.append(sc)
    return models, tuple(maps)


def _column_rows(sc: ColumnScores, f: Any, s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Scores (rows x dims) of one column and the observed-mask of each dimension."""
    if sc.numeric:
        x = to_floats(s, f.kind)
        null = np.isnan(x)
        idx = np.searchsorted(sc.values, np.clip(np.where(null, sc.lo, x), sc.lo, sc.hi))
        idx = np.clip(idx, 0, len(sc.values) - 1)
    else:
        codes = category_codes(s, f)
        null = codes < 0
        idx = np.where(null, 0, codes)
    vals = np.where(null[:, None], 0.0, sc.table[idx])
    mask = np.broadcast_to((~null if sc.masked else np.ones(len(s), bool))[:, None], vals.shape)
    if sc.null_scores is None:
        return vals, mask
    nd = np.where(null, sc.null_scores[0], sc.null_scores[1])[:, None]
    return np.hstack([nd, vals]), np.hstack([np.ones((len(s), 1), bool), mask])


def score_partition(df: pd.DataFrame, cols: Sequence[Any], key: Any,
                    specs: tuple[tuple[tuple[int, ...], tuple[ColumnScores, ...]], ...]) -> Stats:
    """Pass 2 over one partition: per part (its classes, its score maps) the exact Gram sum of normal scores and
    the exact pairwise counts of rows on which both dimensions are observed."""
    cls, _ = _classes(df, key)
    out: Stats = {}
    for i, (classes, maps) in enumerate(specs):
        rows = np.isin(cls, classes)
        sub = df.loc[rows]
        got = [_column_rows(sc, f, sub[f.name]) for sc, f in zip(maps, cols)]
        scores = np.hstack([g[0] for g in got])
        masks = np.hstack([g[1] for g in got]).astype(np.float64)
        out[f"g{i}"] = exact_gram(scores, float(np.sqrt(sum(sc.bound2 for sc in maps))) + 1e-9)
        out[f"m{i}"] = exact_gram(masks, float(np.sqrt(masks.shape[1])) + 1e-9)
    return out


def part_covariance(stats: Stats, i: int, maps: Sequence[ColumnScores]) -> np.ndarray:
    """Covariance of normal scores: the Gram sum over pairwise-complete counts (pure arithmetic on merged sums)."""
    gram = gram_value(stats[f"g{i}"], float(np.sqrt(sum(sc.bound2 for sc in maps))) + 1e-9)
    d = gram.shape[0]
    denom = gram_value(stats[f"m{i}"], float(np.sqrt(d)) + 1e-9)
    return gram / np.maximum(np.rint(denom), 1.0)
