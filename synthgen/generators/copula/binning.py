"""Public bins of the DP copula and the clean-up of its noisy histograms.

All are functions of public inputs only: :func:`make_binning` of a column's DECLARED schema (bounds, categories,
nullability) and the generator's parameters; :func:`suppress` of an already released noisy histogram and public
thresholds (rho, the number of bins); :func:`coarsen` of an already released noisy FINE histogram (the adaptive
model bins of a linear/log column: narrow where the noisy mass is, so the model's resolution follows the data
even when the declared bounds are far wider than it; the fine grids themselves come from the declared bounds
alone). None reads a private row, so none costs budget.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ...privacy.analysis import gaussian_sigma
from ...schema.times import day_of, to_floats
from .model import category_codes


@dataclass(frozen=True)
class Binning:
    """Bins of one column: ``scale`` is ``discrete`` (one bin per integer/date value), ``linear``/``log`` (``grid``
    holds the edges) or ``categorical`` (one bin per declared category); nullable columns add a null bin.
    ``n_coarse > 0`` (linear/log only): ``grid`` is a fine grid whose noisy histogram is :func:`coarsen`-ed into
    ``n_coarse`` model bins."""

    field: Any
    scale: str
    grid: np.ndarray
    n_coarse: int = 0
    points: np.ndarray | None = None  # adaptive grids: the value each fine bin stands for when alone (NaN: none)

    @property
    def adaptive(self) -> bool:
        """Linear/log bins over a fine grid, coarsened after release into ``n_coarse`` data-driven bins."""
        return self.ordered and 0 < self.n_coarse < self.n_value_bins

    @property
    def n_model_bins(self) -> int:
        """Value bins of the model (and of the released coarse histogram)."""
        return self.n_coarse if self.adaptive else self.n_value_bins

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def nullable(self) -> bool:
        return bool(self.field.nullable)

    @property
    def n_value_bins(self) -> int:
        return len(self.grid) - 1 if self.scale in ("log", "linear") else len(self.grid)

    @property
    def ordered(self) -> bool:
        """Linear/log bins are ordered ranges of a wide domain: isolated noise spikes are cleaned there."""
        return self.scale in ("linear", "log")

    def bin_index(self, s: pd.Series) -> np.ndarray:
        """Bin of every row; nulls get -1. (A row-wise map: reading rows is the caller's business.)"""
        if self.field.kind in ("numeric", "datetime"):
            x = to_floats(s, self.field.kind)
            null = np.isnan(x)
            x = np.where(null, self.grid[0], x)
            if self.scale == "discrete":
                idx = np.rint(x - self.grid[0]).astype(np.int64)
            else:
                idx = np.searchsorted(self.grid, x, side="right") - 1
            idx = np.clip(idx, 0, self.n_value_bins - 1)
            return np.where(null, -1, idx)
        return category_codes(s, self.field)


def _uses_log(f: Any, lo: float, hi: float, log_bins: Any) -> bool:
    if log_bins is True or (isinstance(log_bins, (list, tuple, set)) and f.name in log_bins):
        return True
    return (log_bins == "auto" and f.kind == "numeric"
            and ((lo > 0 and hi / lo >= 100) or (lo == 0 and hi >= 1e4)))


def make_binning(f: Any, n_bins: int, max_discrete: int, log_bins: Any, fine_bins: int = 0) -> Binning:
    """Bins of one column from its declared schema only; ``fine_bins > n_bins``: linear/log columns get a fine
    grid of ``fine_bins`` bins, coarsened into ``n_bins`` after release (:func:`coarsen`)."""
    if f.kind not in ("numeric", "datetime"):
        return Binning(f, "categorical", np.arange(2 if f.kind == "boolean" else len(f.categories), dtype=np.float64))
    if f.kind == "numeric":
        lo, hi, integral = float(f.lower), float(f.upper), f.integer
    else:
        lo, hi, integral = day_of(f.lower_ts), day_of(f.upper_ts), f.date_only
    if hi <= lo:  # a declared constant column (minimum == maximum): one value, one bin
        return Binning(f, "discrete", np.array([lo], dtype=np.float64))
    if integral and math.floor(hi) - math.ceil(lo) + 1 <= max_discrete:
        return Binning(f, "discrete", np.arange(math.ceil(lo), math.floor(hi) + 1, dtype=np.float64))
    k = int(fine_bins) if fine_bins > n_bins else n_bins
    if integral and k > n_bins and math.floor(hi) - math.ceil(lo) + 1 <= k:  # one fine bin per whole value
        return _point_grid(f, lo, hi, 1.0, n_bins)
    log = _uses_log(f, lo, hi, log_bins)
    if k > n_bins and not log and f.kind == "numeric":
        return _point_grid(f, lo, hi, _round_step((hi - lo) / k), n_bins)
    if log:
        s = 0.0 if lo > 0 else hi / 1e4
        edges, scale = np.geomspace(lo + s, hi + s, k + 1) - s, "log"
    else:
        edges, scale = np.linspace(lo, hi, k + 1), "linear"
    edges[0], edges[-1] = lo, hi
    if k <= n_bins:
        return Binning(f, scale, edges)
    points = np.full(k, np.nan)
    points[0], points[-1] = lo, hi  # only the declared bounds are values known to be meaningful
    return Binning(f, scale, edges, n_bins, points)


def _round_step(raw: float) -> float:
    """The smallest of 1, 2, 5 x 10^m at least ``raw``."""
    m = 10.0 ** math.floor(math.log10(raw))
    return next(c * m for c in (1.0, 2.0, 5.0, 10.0) if c * m >= raw * (1 - 1e-9))


def _point_grid(f: Any, lo: float, hi: float, step: float, n_bins: int) -> Binning:
    """Fine bins centred on the multiples of a round ``step`` inside the declared bounds (edges halfway between,
    the outer ones at the bounds): heaped values (whole numbers, 2 decimals) stay exact when a bin is alone."""
    first = math.ceil(lo / step - 1e-9) * step
    count = int(math.floor((hi - first) / step + 1e-9)) + 1
    digits = max(0, -math.floor(math.log10(step))) + 1
    points = np.round(first + step * np.arange(count), digits)
    edges = np.concatenate([[lo], 0.5 * (points[:-1] + points[1:]), [hi]])
    return Binning(f, "linear", edges, n_bins, points)


def coarsen(noisy: np.ndarray, n_leaves: int, sigma: float, z: float = 2.0, min_mass: float = 0.0) -> np.ndarray:
    """Boundaries (fine-bin indices, ``0 .. k``) of exactly ``min(n_leaves, k)`` contiguous model bins, from a
    released noisy fine histogram of ``k`` bins with per-bin noise sd ``sigma``.

    A dyadic split, one node at a time: the node whose noisy mass is most clearly above ``min_mass`` (by the lower
    bound ``c - z * sigma * sqrt(width)``) is halved first, so bins get narrow where the mass is (about equal-mass
    bins, i.e. noisy quantiles, each worth about ``min_mass / 2`` or more); nodes without such mass are halved
    widest first (equal-width bins where the fine histogram cannot tell). Pure post-processing of released counts
    and public thresholds.
    """
    k = len(noisy)
    cum = np.concatenate([[0.0], np.cumsum(np.asarray(noisy, dtype=np.float64))])

    def key(lo: int, hi: int) -> tuple[float, int, int]:
        lcb = cum[hi] - cum[lo] - z * sigma * math.sqrt(hi - lo) - min_mass
        return (-max(lcb, 0.0), lo - hi, lo)

    heap, leaves = [key(0, k) + (k,)], 1
    singles: list[int] = []
    while heap and leaves < n_leaves:
        _, _, lo, hi = heapq.heappop(heap)
        mid = (lo + hi) // 2
        for a, b in ((lo, mid), (mid, hi)):
            if b - a > 1:
                heapq.heappush(heap, key(a, b) + (b,))
            else:
                singles.append(a)
        leaves += 1
    starts = sorted([item[2] for item in heap] + singles)
    return np.array(starts + [k], dtype=np.int64)


@dataclass(frozen=True)
class SuppressRule:
    """Public thresholds of the histogram clean-up (see :func:`suppress`)."""

    sigmas: float = 2.0
    fp: float = 0.01
    reach: float = 0.1


def _linked(kept: np.ndarray, trusted: np.ndarray, width: int) -> np.ndarray:
    """Kept bins linked to a trusted one through kept bins at most ``width`` apart."""
    reach = trusted
    while True:
        near = reach.copy()
        for d in range(1, width + 1):
            near[d:] |= reach[:-d]
            near[:-d] |= reach[d:]
        grown = kept & near
        if (grown == reach).all():
            return reach
        reach = grown


def suppress(noisy: np.ndarray, rho: float, rule: SuppressRule, n_ordered: int = 0) -> np.ndarray:
    """Round a released noisy histogram, clip negatives, zero bins below ``rule.sigmas`` noise sigmas.

    The first ``n_ordered`` entries (the ordered value bins of a linear/log-binned column; never the null bin) are
    also cleaned of isolated noise spikes: bins clearing ``Phi^{-1}(1 - rule.fp / k)`` sigmas are trusted, and a
    kept bin survives only if a chain of kept bins, each within ``ceil(rule.reach * k)`` bins of the next, links it
    to a trusted bin. Pure post-processing: every threshold comes from public quantities (rho, k).
    """
    c = np.round(np.asarray(noisy, dtype=np.float64))
    sigma = gaussian_sigma(rho, 1.0)
    keep = c >= float(rule.sigmas) * sigma
    k = int(n_ordered)
    if rule.fp > 0 and k > 2:
        z_trust = max(float(rule.sigmas), float(ndtri(1.0 - float(rule.fp) / k)))
        trusted = keep[:k] & (c[:k] >= z_trust * sigma)
        if trusted.any():
            keep[:k] = _linked(keep[:k], trusted, max(1, math.ceil(rule.reach * k)))
    out = np.where(keep, c, 0.0)
    return out if out.sum() > 0 else np.maximum(c, 0.0)
