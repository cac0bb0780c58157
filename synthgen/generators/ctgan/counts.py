"""DP-CTGAN's measure step: the one place outside DP-SGD that reads private rows. It returns a frozen
:class:`CountRelease` of noisy statistics; everything after it (encoder edges, conditional frequencies, generator
initialisation, the marginal and pair losses, the DP-SGD schedule) sees only that object.

Privacy argument (add/remove one row):

- First a noisy row count ``n_hat`` (Gaussian, sensitivity 1, noise multiplier ``plan.row_count_multiplier``:
  exactly ``(row_count_epsilon, row_count_delta)``-DP), clamped to the declared row bounds. It sets the DP-SGD
  schedule; see :mod:`synthgen.privacy.analysis.dpsgd_plan` for why it is bought apart from the counts below
  (the schedule is chosen adaptively from it; basic composition covers that).
- With ``count_fraction > 0``, K histograms: first (``bins="dp-quantile"``) one fine 128-bin histogram per
  binned column over its declared bounds, whose noisy counts place the bin edges
  (:func:`~synthgen.generators.ctgan.encoder.quantile_edges`, post-processing), then one histogram per column
  and one 2-way histogram per planned pair on those bins. Each row is in at most one cell of each histogram, so
  the K histograms together have L2 sensitivity sqrt(K); Gaussian noise of std ``m * sqrt(K)`` per cell makes
  the whole release ONE Gaussian mechanism with noise multiplier ``m`` (``plan.counts_multiplier``), composed
  with DP-SGD by PRV. The later histograms' cells are chosen from the earlier noisy ones with the same, fixed
  noise: each step's privacy loss is Gaussian whatever the earlier outputs were, so the adaptive sequence is
  dominated exactly like the non-adaptive one (Dong, Roth & Su 2019, adaptive composition of GDP).
- ``rows_estimate`` (the default release size, never a DP-SGD parameter) is post-processing: with counts, the
  inverse-variance weighted mean of the noisy totals of the marginal and 2-way histograms (every row is in
  exactly one cell of each, null slots included;
  :func:`~synthgen.privacy.analysis.dpsgd_plan.rows_estimate`), else the noisy row count.

Noise comes from the ``noise`` source passed in (:func:`synthgen.privacy.noise.privacy_noise`: OS entropy),
never from ``random_state``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ...privacy.analysis.dpsgd_plan import clamp_rows, rows_estimate
from ...privacy.mechanisms import NoiseSource, noisy_count, noisy_histogram
from ...schema import Schema
from .encoder import TableEncoder, quantile_edges
from .plan import CTGANPlan

FINE_BINS = 128  # bins='dp-quantile': resolution of the noisy histogram the edges are read from


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class CountRelease:
    """The noisy statistics of one DP-CTGAN fit (all DP outputs; see the module docstring)."""

    schedule_rows: float                # the noisy row count n_hat (clamped): sets the DP-SGD schedule
    edges: Mapping[str, np.ndarray]     # binned column name -> bin edges (transformed space) from noisy counts
    marginals: tuple[np.ndarray, ...]   # per column: noisy counts (rounded, >= 0); ones when nothing is counted
    pair_counts: tuple[np.ndarray, ...]  # per planned pair: noisy 2-way counts (rounded, >= 0), (ka, kb)
    rows_estimate: float                # the best DP row estimate (clamped, >= 1): the default release size
    rows_estimate_sd: float             # its noise std (public: a function of the plan)
    rows_estimate_from: str


def measure(table: pd.DataFrame, schema: Schema, plan: CTGANPlan, n_bins: int, noise: NoiseSource
            ) -> CountRelease:
    """Read ``table`` once and release the planned noisy statistics (the only reader outside DP-SGD)."""
    m0 = float(plan.row_count_multiplier)
    n_hat = clamp_rows(noisy_count(len(table), 1.0 / (2.0 * m0 ** 2), noise), plan.min_rows, plan.max_rows)
    if plan.counts_multiplier is None:  # nothing counted: uniform frequencies
        ones = tuple(_frozen(np.ones(c.slots)) for c in TableEncoder(schema, n_bins=n_bins).columns)
        return CountRelease(n_hat, {}, ones, (), n_hat, m0, "noisy row count")
    sd = plan.cell_sd
    rho_each = 1.0 / (2.0 * sd ** 2)
    edges = _dp_edges(table, schema, plan, n_bins, rho_each, noise)
    enc = TableEncoder(schema, n_bins=n_bins, edges=edges)
    codes, _ = enc.encode(table)
    hists = enc.histograms(codes) + [enc.pair_histogram(codes, a, b).ravel() for a, b in plan.pairs]
    raw = [noisy_histogram(h, rho_each, noise) for h in hists]
    est, est_sd = rows_estimate([r.sum() for r in raw], [len(r) for r in raw], sd,
                                min_rows=plan.min_rows, max_rows=plan.max_rows)
    counts = [np.maximum(np.round(r), 0.0) for r in raw]
    k = len(enc.columns)
    pair_counts = tuple(_frozen(c.reshape(enc.columns[a].slots, enc.columns[b].slots))
                        for c, (a, b) in zip(counts[k:], plan.pairs))
    return CountRelease(n_hat, {name: _frozen(e) for name, e in edges.items()},
                        tuple(_frozen(c) for c in counts[:k]), pair_counts, est, est_sd, "noisy histogram totals")


def _dp_edges(table: pd.DataFrame, schema: Schema, plan: CTGANPlan, n_bins: int, rho_each: float,
              noise: NoiseSource) -> dict[str, np.ndarray]:
    """Per planned binned column: edges at the quantiles of a noisy fine histogram over the declared bounds."""
    enc = TableEncoder(schema, n_bins=n_bins)
    edges = {}
    for j in plan.binned:
        c = enc.columns[j]
        x = enc.transformed(table, j)
        h = np.histogram(np.clip(x[~np.isnan(x)], c.lower, c.upper), bins=FINE_BINS,
                         range=(c.lower, c.upper))[0].astype(np.float64)
        edges[c.name] = quantile_edges(noisy_histogram(h, rho_each, noise), c.lower, c.upper, n_bins,
                                       noise_sd=plan.cell_sd)
    return edges


def frequencies(release: CountRelease) -> list[np.ndarray]:
    from .losses import normalise

    return [normalise(c) for c in release.marginals]


def pair_frequencies(release: CountRelease) -> list[np.ndarray]:
    from .losses import normalise

    return [normalise(c.ravel()).reshape(c.shape) for c in release.pair_counts]


def describe(plan: CTGANPlan, release: CountRelease, n_columns: int, pair_names: list[list[str]]) -> dict:
    """The spend details of the release: noise and structure (public) and the DP row estimates."""
    out: dict[str, Any] = {
        "row_count": {"noise_multiplier": plan.row_count_multiplier, "epsilon": plan.row_count_epsilon,
                      "delta": plan.row_count_delta, "value": release.schedule_rows,
                      "use": "sets the DP-SGD sample rate and step count"},
        "rows_estimate": {"estimate": release.rows_estimate, "noise_std": release.rows_estimate_sd,
                          "from": release.rows_estimate_from},
        "counts": None}
    if plan.counts_multiplier is not None:
        out["counts"] = {"noise_multiplier": plan.counts_multiplier, "histograms": plan.n_histograms,
                         "marginals": n_columns, "pairs": pair_names, "bin_edge_histograms": len(plan.binned),
                         "noise_std_per_cell": plan.cell_sd}
    return out
