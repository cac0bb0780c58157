"""Fidelity at scale from merged statistics: per-column histograms over the declared bins and the correlation of
bin codes, each a per-partition reduction (:func:`~synthgen.scale.stats.reduce_rows`), so neither table is ever
held whole. This is the data owner's evaluation: its numbers are computed from private rows WITHOUT noise and
belong in the owner's report, never in a release.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..generators.base import conform_rows
from ..generators.copula.binning import make_binning
from .frames import PartitionedTable, is_dask_frame
from .stats import Stats, reduce_rows


def _bins(schema: Any, n_bins: int) -> tuple:
    return tuple(make_binning(f, n_bins, n_bins, "auto") for f in schema.learnable)


def _moments(df: pd.DataFrame, bins: tuple) -> Stats:
    """Per column: bin counts (null bin last); over columns: sums of bin codes and of their products."""
    out: Stats = {"n": np.array([len(df)], dtype=np.int64)}
    codes = []
    for j, b in enumerate(bins):
        idx = b.bin_index(df[b.name]) if len(df) else np.zeros(0, dtype=np.int64)
        slot = np.where(idx < 0, b.n_value_bins, idx)
        out[f"h{j}"] = np.bincount(slot, minlength=b.n_value_bins + 1).astype(np.int64)
        codes.append(slot.astype(np.float64))
    x = np.column_stack(codes) if codes else np.zeros((len(df), 0))
    out["s"] = x.sum(axis=0)
    out["ss"] = x.T @ x
    return out


def _corr(st: Stats) -> np.ndarray:
    n = max(float(st["n"][0]), 1.0)
    mean = st["s"] / n
    cov = st["ss"] / n - np.outer(mean, mean)
    sd = np.sqrt(np.maximum(np.diag(cov), 1e-12))
    return cov / np.outer(sd, sd)


def fidelity(real: Any, synthetic: Any, schema: Any, n_bins: int = 32) -> dict:
    """Total variation distance of every column's binned distribution and the gap between the correlation
    matrices of bin codes, real vs synthetic. Either table may be in memory or a validated Dask frame."""
    bins = _bins(schema, int(n_bins))
    real, synthetic = (PartitionedTable(tuple(t.to_delayed()), schema, conform_rows, 0) if is_dask_frame(t) else t
                       for t in (real, synthetic))
    a, b = reduce_rows(real, _moments, bins), reduce_rows(synthetic, _moments, bins)
    tvd = {}
    for j, bn in enumerate(bins):
        p = a[f"h{j}"] / max(a[f"h{j}"].sum(), 1)
        q = b[f"h{j}"] / max(b[f"h{j}"].sum(), 1)
        tvd[bn.name] = float(0.5 * np.abs(p - q).sum())
    gap = np.abs(_corr(a) - _corr(b))[np.triu_indices(len(bins), 1)]
    return {"tvd": tvd, "mean_tvd": float(np.mean(list(tvd.values()))) if tvd else 0.0,
            "mean_corr_gap": float(gap.mean()) if gap.size else 0.0,
            "max_corr_gap": float(gap.max()) if gap.size else 0.0}
