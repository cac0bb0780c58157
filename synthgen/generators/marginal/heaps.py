"""Heaped values of dp-marginal's continuous columns: exact values that many rows share, released by thresholded
noisy counts, so that sampling gives them back.

Real columns are often heaped: the log of a coinsurance rate takes 4 values, a log family size 14, a deductible a
few dozen. The fine grid (:mod:`.edges`) only says which cell such a value is in, and a value drawn uniformly in its
cell (or at the cell's round point) misses the heap: the column's KS distance is then up to the heap's share (0.3
on DoctorContacts' ``lc``). Which columns: those with a fine grid whose cells are not one per whole value (an integer
column with such cells already decodes to its values), decided from the declared schema and the parameters; and
only in memory (a fit over a Dask frame plans none before anything is read).

What is released, and what it costs (add/remove one row): per such column, its distinct non-null values within the
declared bounds with their exact counts go through :func:`~synthgen.privacy.mechanisms.thresholded_counts`: Gaussian
noise on every count (each row holds one value: L2 sensitivity 1), and a value is kept only when its noisy count
clears ``1 + sigma * Phi^{-1}(1 - delta_column)``. The spend: ``HEAP_SHARE`` of the column's fine share of rho (its
fine histogram keeps the rest), and ``delta_column``, an equal part of ``HEAP_DELTA_SHARE * delta`` held back from the
zCDP conversion (:class:`~synthgen.privacy.accountants.ZCDPBudget`'s ``delta_reserved``). A value one row alone holds
(a canary) is released with probability at most ``delta_column``; the threshold, about 5.5 noise sds, keeps values
that a few hundred rows share at epsilon = 1. Noise comes from the fit's privacy noise source, never ``random_state``.

Decoding is post-processing: a fine cell holding released values decodes to one of them, in proportion to their
noisy counts, with probability ``min(1, their noisy total / the cell's shape)``, or always when the rest of the
shape is within the noise of the two releases (:func:`heap_shares`); otherwise as without heaps (uniform in the
cell, or the cell's public point). What is stored: the heaps and those shares.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ...privacy.analysis import gaussian_sigma
from ...privacy.mechanisms import NoiseSource, thresholded_counts

HEAP_SHARE = 0.5  # part of a heaped column's fine share that buys its heap counts
HEAP_DELTA_SHARE = 0.1  # part of the fit's delta held back for the heap thresholds (split over the columns)
RESIDUAL_Z = 2.0  # a cell's shape beyond its heaps' total within this many noise sds: the cell is all heaps


def wants_heaps(codec: Any, grid: Any) -> bool:
    """Whether a column with this public fine grid (None: no DP edges) releases heaps."""
    if grid is None or not hasattr(grid, "edges"):
        return False
    return not (codec.integral and float(np.max(np.diff(grid.edges))) <= 1.0)


def release_heaps(x: np.ndarray, codec: Any, rho: float, delta: float, noise: NoiseSource,
                  sigma_fine: float) -> Any:
    """The codec (with its fine grid and shape) plus the released heaps of the column's values ``x`` (floats, as
    the codec encodes them; NaN for nulls), each with its share of its fine cell's draws (:func:`heap_shares`).
    A heap's cell keeps at least its heaps' noisy total as its shape (a second noisy look at that cell: where the
    fine histogram's shape was shrunk towards its bin's spread, the heap still gets its mass)."""
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x) & (x >= codec.fine[0]) & (x <= codec.fine[-1])]
    values, counts = np.unique(x, return_counts=True)
    keep, noisy = thresholded_counts(counts, rho, delta, noise)
    heaps, counts = values[keep], np.maximum(noisy[keep], 0.0)
    cell = heap_cells(heaps, codec)
    shape = np.maximum(np.asarray(codec.shape, dtype=np.float64),
                       np.bincount(cell, weights=counts, minlength=len(codec.shape)))
    codec = dataclasses.replace(codec, shape=tuple(float(v) for v in shape))
    shares = heap_shares(cell, counts, shape, sigma_fine, gaussian_sigma(rho, 1.0))
    return dataclasses.replace(codec, heaps=tuple(float(v) for v in heaps),
                               heap_shares=tuple(float(p) for p in shares))


def heap_shares(cell: np.ndarray, counts: np.ndarray, shape: np.ndarray, sigma_fine: float, sigma_heap: float
                ) -> np.ndarray:
    """Per heap (its fine ``cell`` and noisy count clipped at 0), the share of its cell's draws it takes: the cell's
    heaps together take ``min(1, their noisy total / the cell's shape)``, all of it when what is left of the shape is
    within ``RESIDUAL_Z`` sds of the two releases' noise (a cell that holds only its heaps); split by their noisy
    counts. Post-processing of the two releases."""
    out = np.zeros(len(counts))
    for k in np.unique(cell):
        mine = cell == k
        total = float(counts[mine].sum())
        if total <= 0:
            continue
        noise_sd = np.sqrt(sigma_fine ** 2 + mine.sum() * sigma_heap ** 2)
        rest = float(shape[k]) - total
        p = 1.0 if shape[k] <= 0 or rest <= RESIDUAL_Z * noise_sd else total / float(shape[k])
        out[mine] = p * counts[mine] / total
    return out


def heap_cells(heaps: np.ndarray, codec: Any) -> np.ndarray:
    """The fine cell of each heap."""
    fine = np.asarray(codec.fine, dtype=np.float64)
    return np.clip(np.searchsorted(fine, np.asarray(heaps, dtype=np.float64), side="right") - 1, 0, len(fine) - 2)


def heaped(x: np.ndarray, cell: np.ndarray, codec: Any, rng: np.random.Generator) -> np.ndarray:
    """Decoded values with a row of a fine cell holding heaps moved onto one by the heaps' shares."""
    if not codec.heaps:
        return x
    h, p = np.asarray(codec.heaps, dtype=np.float64), np.asarray(codec.heap_shares, dtype=np.float64)
    where = heap_cells(h, codec)
    out = x.copy()
    for k in np.unique(where):
        rows = np.flatnonzero(cell == k)
        if not len(rows):
            continue
        mine = where == k
        cdf = np.cumsum(p[mine])
        pick = np.searchsorted(cdf, rng.random(len(rows)), side="right")  # past the last heap: stays in the cell
        hit = pick < mine.sum()
        out[rows[hit]] = h[mine][pick[hit]]
    return out
