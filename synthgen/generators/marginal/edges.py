"""DP bin edges and the fine shape of dp-marginal's continuous columns (``bins="dp-quantile"``).

Which columns: every numeric or datetime column the declared domain (:mod:`.domain`) bins into linear/log bins
whose public FINE grid (:func:`synthgen.generators.copula.binning.make_binning` with ``fine_bins``, the dp-copula's
grids: one cell per whole value for integer ranges up to ``fine_bins``, cells centred on a round step for other
real-valued linear columns, equal log steps for log columns) has more cells than the column has model bins. The
grid is a function of the declared bounds and the parameters only.

What is released, and what it costs (zCDP, add/remove one row): per such column, ONE noisy histogram over its fine
grid (value cells plus the null cell of a nullable column): each row is in exactly one cell, L2 sensitivity 1, so
``fine_share * rho_column`` buys it (``rho_column = oneway_share * rho / columns``, the column's one-way share; the
rest of that share buys the noisy one-way marginal over the model bins, :mod:`.aim`). It is drawn by the private
holder's Gaussian mechanism (:meth:`~.private.PrivateMarginals.measure`: rounded counts, noise from
:func:`~synthgen.privacy.noise.privacy_noise`), from exact counts of one pass over the rows
(:func:`~synthgen.scale.marginals.exact_marginals`, in memory or on Dask), and charged to the fit's
:class:`~synthgen.privacy.accountants.ZCDPBudget` before it is drawn. The spend is a function of the plan only.

Everything after is post-processing of that release and public thresholds, so it costs nothing and the data enter
only through the noisy counts: the model bins are :func:`~synthgen.generators.copula.binning.coarsen` of the noisy
value cells (dyadic splits where the noisy mass is clearly positive: about noisy quantiles, so the domain does not
spend cells on empty parts of wide declared bounds), and the fine shape kept for decoding is, per model bin, the
noisy value counts shrunk towards the bin's uniform spread (positive-part James-Stein with the public noise sd:
where the cells' spread is no larger than the noise would make it, as for a smooth density under heavy noise, the
bin decodes uniformly; where it is, as for whole-value spikes, the shape is kept), clipped at 0. A bin whose
clearly positive cells (noisy count above ``SPLIT_Z`` sigma) hold its mass, the rest's total being within its own
noise and small against theirs (a heaped value among empty cells), keeps only those cells (a public threshold), so
the clipped positive noise of the empty cells does not take a fifth of the heap's rows across the bin. A model bin then
decodes by drawing a fine cell in proportion to that shape (uniform over the bin's cells when its shape has no
mass), then a value uniformly within the cell; a bin that is one fine cell with a public point (a whole value, a
round step, a declared bound) decodes to that point (:mod:`.domain`).

The coarse one-way marginal could also be summed from the fine release, but its noise there is
``sigma_fine * sqrt(width)`` per model bin: at equal shares it adds about ``1 / width`` of the direct
measurement's precision, so it is not given to the estimator (the fine histogram serves edges and shape only).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...privacy.accountants import ZCDPBudget
from ...privacy.analysis import gaussian_sigma
from ...privacy.mechanisms import NoiseSource
from ...scale.marginals import exact_marginals
from ...schema.times import to_floats
from ..copula.binning import coarsen, make_binning
from .heaps import HEAP_SHARE, release_heaps
from .private import PrivateMarginals
from .rare import RareMerge, merged_codec

SPLIT_Z = 2.0  # coarsen's lower-confidence multiplier (as dp-copula's default suppression sigmas)


@dataclass(frozen=True)
class FineGrid:
    """A column's public fine grid: cell edges and, per cell, the value it stands for when alone (NaN: none)."""

    edges: tuple[float, ...]
    points: tuple[float, ...]

    @property
    def cells(self) -> int:
        return len(self.edges) - 1


def fine_grid(field: Any, codec: Any, fine_bins: int, max_discrete: int, log_bins: Any) -> FineGrid | None:
    """The fine grid of one declared column (public inputs only), or None when its model bins are not adaptive."""
    if codec.scale not in ("linear", "log") or fine_bins <= codec.n_values:
        return None
    b = make_binning(field, codec.n_values, max_discrete, log_bins, fine_bins)
    if not b.adaptive:
        return None
    points = b.points if b.points is not None else np.full(b.n_value_bins, np.nan)
    return FineGrid(tuple(float(e) for e in b.grid), tuple(float(p) for p in points))


def dp_codec(codec: Any, grid: FineGrid, noisy: np.ndarray, sigma_fine: float, sigma_model: float) -> Any:
    """The column's codec with model bins read off its noisy fine value counts (post-processing only)."""
    noisy = np.asarray(noisy, dtype=np.float64)
    cuts = coarsen(noisy, codec.n_values, sigma_fine, SPLIT_Z, 2.0 * SPLIT_Z * sigma_model)
    edges = np.asarray(grid.edges)
    shape = shrunk_shape(noisy, np.diff(edges), cuts, sigma_fine)
    return dataclasses.replace(codec, grid=tuple(float(e) for e in edges[cuts]), fine=grid.edges,
                               cuts=tuple(int(c) for c in cuts), shape=tuple(float(v) for v in shape),
                               points=grid.points)


def shrunk_shape(noisy: np.ndarray, widths: np.ndarray, cuts: np.ndarray, sigma: float) -> np.ndarray:
    """Per model bin ``[cuts[b], cuts[b+1])``: the clearly positive cells alone where they hold the bin's mass
    (:func:`_sparse`); otherwise the noisy cell counts shrunk towards the bin's total spread in proportion to the
    cells' widths, by the positive-part James-Stein factor ``1 - (m - 1) sigma^2 / SS`` (``SS``: squared deviations
    from that spread, ``m`` cells), then clipped at 0. Post-processing only."""
    out = np.zeros(len(noisy))
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        c, w = noisy[lo:hi], widths[lo:hi]
        sparse = _sparse(c, sigma)
        if sparse is not None:
            out[lo:hi] = sparse
            continue
        flat = c.sum() * w / w.sum()
        ss = float(np.sum((c - flat) ** 2))
        keep = max(0.0, 1.0 - (hi - lo - 1) * sigma ** 2 / ss) if ss > 0 else 0.0
        out[lo:hi] = np.maximum(flat + keep * (c - flat), 0.0)
    return out


def _sparse(c: np.ndarray, sigma: float) -> np.ndarray | None:
    """The cells above ``SPLIT_Z * sigma`` alone, when the others' total is within ``SPLIT_Z`` times its own noise
    sd and their total is at least twice that (spikes among empty cells); else None."""
    big = c > SPLIT_Z * sigma
    rest = int((~big).sum())
    if not big.any() or not rest:
        return None
    hide = SPLIT_Z * sigma * np.sqrt(rest)
    if c[~big].sum() > hide or c[big].sum() < 2.0 * hide:
        return None
    return np.where(big, c, 0.0)


def release_edges(data: Any, codecs: tuple, grids: tuple, fine_share: float, oneway_share: float,
                  budget: ZCDPBudget, noise: NoiseSource, heaps: tuple = ()) -> tuple:
    """Charge and draw one noisy fine histogram per column with a grid (and one noisy histogram of the declared
    categories per column with a :class:`~.rare.RareMerge`, in the same pass); return the codecs with DP model
    bins (and merged rare categories). ``heaps``: per column, whether it also releases its heaped values
    (:mod:`.heaps`: ``HEAP_SHARE`` of its fine share and an equal part of the budget's reserved delta; in memory)."""
    idx = [i for i, g in enumerate(grids) if g is not None]
    if not idx:
        return codecs
    counting = [codecs[i] if isinstance(grids[i], RareMerge) else
                dataclasses.replace(codecs[i], scale="linear", grid=grids[i].edges) for i in idx]
    exact = exact_marginals(data, counting, [(c.name,) for c in counting])
    holder = PrivateMarginals.from_counts(exact, [c.name for c in counting], [c.size for c in counting], noise)
    rho_column = oneway_share * budget.rho / len(codecs)
    rho_fine = fine_share * rho_column
    sigma_model = gaussian_sigma(rho_column - rho_fine, 1.0)
    delta_heap = budget.delta_reserved / max(1, sum(map(bool, heaps)))
    out = list(codecs)
    for i, c in zip(idx, counting):
        merge, heap = isinstance(grids[i], RareMerge), bool(heaps and heaps[i])
        rho_hist = rho_fine * (1.0 - HEAP_SHARE) if heap else rho_fine
        budget.spend("categories" if merge else "fine", rho_hist)
        m = holder.measure((c.name,), rho_hist)
        out[i] = merged_codec(codecs[i], grids[i], m.values[:codecs[i].n_values], m.sigma) if merge else \
            dp_codec(codecs[i], grids[i], m.values[:grids[i].cells], m.sigma, sigma_model)
        if heap:
            budget.spend("heaps", rho_fine - rho_hist, delta=delta_heap)
            out[i] = release_heaps(to_floats(data[c.name], c.kind), out[i], rho_fine - rho_hist, delta_heap, noise,
                                   m.sigma)
    return tuple(out)
