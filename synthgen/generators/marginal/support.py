"""Where dp-marginal samples a numeric column: the support its noisy one-way counts can tell from empty.

Declared bounds are often far wider than the data (a codebook's 0-200 visits for data that stop near 80). The model
bins at such a column's ends then hold no row, but their noisy counts are positive about half the time, the estimated
model gives them that mass, and the synthetic column runs on to the declared bound (rows past every real value, and a
stretched range that skews any summary taken over the range). Trimming reads only released values: per numeric or
datetime column, the noisy one-way measurements of its value cells (inverse-variance combined when the column was
measured more than once) and their recorded sigma. From each end inward, the longest run of ``j`` cells whose combined
noisy total is below ``z * sigma * (sqrt(j) - 1)`` is outside the support: a run of many cells is dropped when its
total is small against the noise it has accumulated (one stray noisy cell far out does not keep the range), a single
end cell only when its noisy count is negative (a thin real tail of a few rows whose noisy count came out positive is
kept: dropping it would cut the column's range short). A run is tested only where its noise could hide at most a
quarter of the column's noisy total (``z * sigma * sqrt(j) <= total / 4``): on a small, noisy table real mass spread
thinly over many cells is noise-level too, and trimming it collapsed a 1,055-row table's columns to one bin. A column
left with no cell keeps every cell. Only linear/log-binned columns are trimmed: categories and one-cell-per-value
integer codes are declared values, as a category is. Sampling then conditions the model on the support (evidence in
the junction tree, as a condition on a column value; the null cell always allowed), so the trimmed cells' mass goes
back to the rest in proportion. Post-processing of DP releases with a public threshold: no privacy cost, and nothing
is stored beyond the measurements a fitted model already keeps.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .private import Measurement


def _combined(col: str, size: int, measurements: Sequence[Measurement]) -> tuple[np.ndarray, float] | None:
    """Inverse-variance mean of the column's one-way noisy counts and its sd, or None if never measured."""
    ones = [m for m in measurements if tuple(m.clique) == (col,) and np.size(m.values) == size]
    if not ones:
        return None
    w = np.array([1.0 / m.sigma ** 2 for m in ones])
    values = sum(wi * np.ravel(np.asarray(m.values, dtype=np.float64)) for wi, m in zip(w, ones)) / w.sum()
    return values, float(1.0 / np.sqrt(w.sum()))


MAX_HIDDEN = 0.25  # a run is tested only if the mass its noise can hide (z sigma sqrt(j)) is at most this share


def _tail(noisy: np.ndarray, sigma: float, z: float, total: float) -> int:
    """The most end cells whose noisy total is below ``z * sigma * (sqrt(cells) - 1)``, among runs whose noise
    scale ``z * sigma * sqrt(cells)`` is at most ``MAX_HIDDEN * total`` (see the docstring)."""
    cum = np.cumsum(np.asarray(noisy, dtype=np.float64))
    j = np.arange(1, len(cum) + 1)
    hidden = z * sigma * np.sqrt(j)
    unclear = np.flatnonzero((cum < hidden - z * sigma) & (hidden <= MAX_HIDDEN * total))
    return int(unclear[-1]) + 1 if len(unclear) else 0


def support_range(noisy: np.ndarray, sigma: float, z: float) -> tuple[int, int]:
    """``[lo, hi)``: the cells left when each end loses its longest run of cells whose noisy total is below the
    threshold of :func:`_tail`; all cells if that would leave none."""
    noisy = np.asarray(noisy, dtype=np.float64)
    total = max(float(noisy.sum()), 1.0)
    lo, hi = _tail(noisy, sigma, z, total), len(noisy) - _tail(noisy[::-1], sigma, z, total)
    return (lo, hi) if lo < hi else (0, len(noisy))


def support_evidence(codecs: Sequence[Any], measurements: Sequence[Measurement], z: float | None
                     ) -> dict[str, list[int]]:
    """Per numeric/datetime column whose ends are trimmed: the cell codes sampling may use (value cells in the
    support, plus the null cell). ``z=None``: no trimming."""
    if z is None:
        return {}
    out = {}
    for c in codecs:
        if c.scale not in ("linear", "log"):  # categories and one-cell-per-value integers are declared values
            continue
        got = _combined(c.name, c.size, measurements)
        if got is None:
            continue
        values, sigma = got
        lo, hi = support_range(values[:c.n_values], sigma, float(z))
        if (lo, hi) != (0, c.n_values):
            out[c.name] = list(range(lo, hi)) + ([c.n_values] if c.nullable else [])
    return out
