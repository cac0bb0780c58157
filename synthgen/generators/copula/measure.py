"""The DP copula's measure step: THE ONLY CODE OF THE DP COPULA THAT READS PRIVATE ROWS.

:func:`measure` takes the validated table (an in-memory DataFrame, or a validated Dask frame:
:class:`~synthgen.scale.frames.PartitionedTable`), the public :class:`CopulaPlan` and a noise source from
:func:`~synthgen.privacy.noise.privacy_noise`, and returns a frozen :class:`CopulaRelease` of noisy statistics.
Rows are read only by two per-partition reductions (:func:`count_partition`, :func:`gram_partition`) whose exact
results merge by summation (:mod:`synthgen.scale.stats`); an in-memory table is one partition, so both paths run
this same code, and noise is added ONCE, here, to the merged statistic. What is released:

1. with ``condition_on``: the key column's noisy histogram (``rho_column``);
2. per part (the whole table, or each class whose post-processed noisy key count is positive: a decision on
   released values only): one noisy histogram per column over the plan's public bins (``rho_column`` each; L2
   sensitivity 1 as each row is in one bin; an adaptive linear/log column splits its ``rho_column`` into a noisy
   FINE histogram over its public fine grid, ``rho_fine``, and a noisy histogram over model bins derived from
   that release alone, :func:`~.latent.model_bounds`, ``rho_model``: adaptive composition of two sensitivity-1
   releases, ``rho_fine + rho_model = rho_column``, whatever bins the first release picks),
   then one noisy Gram matrix (``rho_correlation``) of the rows' normal
   scores, computed through the marginals just released (a public row-wise map, :func:`~.latent.latent_column`)
   and clipped to the L2 norm ``B`` with ``B^2 = clip_factor * sum_j a_j q_j`` (a function of released values).
   The Gram sum is exact (fixed point, :func:`~synthgen.scale.stats.exact_gram`): rows are clipped to
   ``B - grid_margin`` so that each rounded row still has norm at most ``B``; one row changes the sum by at most
   ``B^2`` in Frobenius norm, the sensitivity the Gaussian noise is calibrated to.

The first pass counts every class and column at once (exact counts; a class that is not released is never
noised nor used); the second pass needs the released marginals, so it runs after the histograms are noised.
The classes partition the rows, so the per-class releases compose in parallel: each row is charged one
histogram per column and one Gram matrix. Everything else (:meth:`DPGaussianCopula._estimate`) sees only the
release, so it is post-processing and free. The partitioning of the rows (in-memory or Dask) changes nothing
released: the merged statistics are exact, identical bit for bit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...privacy.mechanisms import NoiseSource, clip_rows_l2, gaussian_mechanism, noisy_histogram
from ...scale.stats import Stats, exact_gram, grid_margin, gram_value, reduce_rows
from ..base import Plan
from .binning import Binning
from .latent import LatentRules, class_weights, latent_column, model_bounds
from .model import key_classes, n_key_classes


def _frozen(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class CopulaPlan(Plan):
    """Public decisions of a DP copula fit: the bins of every learnable column (schema order), the key column's
    name (``condition_on``), the zCDP shares and the post-processing rules."""

    bins: tuple[Binning, ...]
    key_name: str | None
    rho_correlation: float
    rules: LatentRules
    clip_factor: float
    marginal_share: float

    @property
    def key(self) -> Binning | None:
        return next((b for b in self.bins if b.name == self.key_name), None)

    @property
    def columns(self) -> tuple[Binning, ...]:
        """The columns modelled per part (all learnable columns but the key)."""
        return tuple(b for b in self.bins if b.name != self.key_name)


@dataclass(frozen=True)
class PartRelease:
    """Noisy statistics of one part: raw noisy model histograms (one per ``plan.columns`` entry), the noisy Gram
    matrix (None when the part has no latent dimension, which depends on the schema only) and, per column, the
    noisy fine histogram of an adaptive column (None for the others; all None when omitted)."""

    label: int | None
    histograms: tuple[np.ndarray, ...]
    gram: np.ndarray | None
    fine: tuple[np.ndarray | None, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "histograms", tuple(_frozen(h) for h in self.histograms))
        object.__setattr__(self, "gram", _frozen(self.gram))
        fine = tuple(self.fine) or (None,) * len(self.histograms)
        object.__setattr__(self, "fine", tuple(_frozen(h) for h in fine))


@dataclass(frozen=True)
class CopulaRelease:
    """Everything a DP copula fit released: the key's noisy histogram (``condition_on``) and the parts."""

    key_histogram: np.ndarray | None
    parts: tuple[PartRelease, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "key_histogram", _frozen(self.key_histogram))
        object.__setattr__(self, "parts", tuple(self.parts))


@dataclass(frozen=True)
class GramSpec:
    """What the second pass needs of one released part: its class (None: all rows), the score table of every
    column (from the released marginals) and the clipping bound ``B``. Public: released values only."""

    label: int | None
    tables: tuple[np.ndarray, ...]
    bound: float


def _slots(df: pd.DataFrame, plan: CopulaPlan) -> tuple[np.ndarray | None, list[np.ndarray]]:
    """Row-wise maps: the key class of every row and, per column, its bin (the null bin is ``k``)."""
    n = len(df)
    key = plan.key
    codes = key_classes(df[key.name], key.field) if key is not None and n else \
        (np.zeros(0, np.int64) if key else None)
    slots = []
    for b in plan.columns:
        idx = b.bin_index(df[b.name]) if n else np.zeros(0, dtype=np.int64)
        slots.append(np.where(idx < 0, b.n_value_bins, idx))
    return codes, slots


def count_partition(df: pd.DataFrame, plan: CopulaPlan) -> Stats:
    """Pass 1 over one partition: exact key counts and, per class (or for all rows), every column's bin counts
    (value bins, then the null bin). Merged by summation."""
    codes, slots = _slots(df, plan)
    n_cls = 1 if plan.key is None else n_key_classes(plan.key.field)
    cls = np.zeros(len(df), dtype=np.int64) if codes is None else codes
    out: Stats = {} if codes is None else {"key": np.bincount(codes, minlength=n_cls).astype(np.int64)}
    for j, (b, slot) in enumerate(zip(plan.columns, slots)):
        width = b.n_value_bins + 1
        out[f"h{j}"] = np.bincount(cls * width + slot, minlength=n_cls * width).reshape(n_cls, width)
    return out


def gram_partition(df: pd.DataFrame, plan: CopulaPlan, specs: tuple[GramSpec, ...]) -> Stats:
    """Pass 2 over one partition: per released part, the exact Gram sum of its rows' clipped normal scores."""
    codes, slots = _slots(df, plan)
    out: Stats = {}
    for i, spec in enumerate(specs):
        rows = slice(None) if spec.label is None else codes == spec.label
        s_mat = np.concatenate([t[slot[rows]] for t, slot in zip(spec.tables, slots)], axis=1)
        clipped = clip_rows_l2(s_mat, spec.bound - grid_margin(spec.bound, s_mat.shape[1]))
        out[f"g{i}"] = exact_gram(clipped, spec.bound)
    return out


def release_gram(exact: np.ndarray, bound: float, rho: float, noise: NoiseSource) -> np.ndarray:
    """The merged Gram sum plus symmetric Gaussian noise: one row moves the upper triangle (diagonal included) by
    at most ``B^2`` in L2, so N(0, sigma^2) on it (``sigma`` from ``rho`` and ``B^2``), mirrored, is rho-zCDP."""
    gram = gram_value(exact, bound)
    iu = np.triu_indices(gram.shape[0])
    out = np.zeros_like(gram)
    out[iu] = gaussian_mechanism(gram[iu], float(bound) ** 2, rho, noise)
    return out + np.triu(out, 1).T


def _release_column(c: np.ndarray, b: Binning, rules: LatentRules, noise: NoiseSource
                    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """One column's exact bin counts (value bins, then the null bin) -> (noisy model histogram, noisy fine
    histogram or None, model bins or None). An adaptive column's fine value counts are released first
    (``rho_fine``); its model bins are derived from that release; their exact counts (sums of the exact fine
    counts, nulls last) are released next (``rho_model``). Both have L2 sensitivity 1."""
    values, null = c[:b.n_value_bins], c[b.n_value_bins:] if b.nullable else c[:0]
    fine = bounds = None
    if b.adaptive:
        fine = noisy_histogram(values, rules.rho_fine(b), noise)
        bounds = model_bounds(b, fine, rules)
        values = np.add.reduceat(values, bounds[:-1])
    return noisy_histogram(np.concatenate([values, null]), rules.rho_model(b), noise), fine, bounds


def _release_part(counts: Stats, plan: CopulaPlan, noise: NoiseSource, label: int | None
                  ) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray | None, ...], GramSpec]:
    """One part's noisy histograms and, from them, its second-pass spec."""
    row = 0 if label is None else label
    hists, fines, tables, a, q = [], [], [], [], []
    for j, b in enumerate(plan.columns):
        hist, fine, bounds = _release_column(counts[f"h{j}"][row].astype(np.float64), b, plan.rules, noise)
        lat = latent_column(b, hist, plan.rules, bounds)
        hists.append(hist)
        fines.append(fine)
        tables.append(lat.tables)
        a.append(lat.a)
        q.append(lat.q)
    bound = math.sqrt(max(plan.clip_factor * float(np.sum(np.concatenate(a) * np.concatenate(q))), 1.0)) \
        if a else 1.0
    return tuple(hists), tuple(fines), GramSpec(label, tuple(tables), bound)


def measure(table: pd.DataFrame, plan: CopulaPlan, noise: NoiseSource) -> CopulaRelease:
    """Release the noisy statistics of ``table`` (see the module docstring). The only reader of private rows."""
    counts = reduce_rows(table, count_partition, plan)
    key_hist, labels = None, [None]
    if plan.key is not None:
        key_hist = noisy_histogram(counts["key"].astype(np.float64), plan.rules.rho_column, noise)
        weights = class_weights(key_hist, plan.rules)  # post-processing of the release just made
        labels = [int(c) for c in np.flatnonzero(weights > 0)]
    released = [_release_part(counts, plan, noise, label) for label in labels]
    if not plan.columns:
        return CopulaRelease(key_hist, tuple(PartRelease(lb, (), None) for lb in labels))
    specs = tuple(spec for _, _, spec in released)
    grams = reduce_rows(table, gram_partition, plan, specs)
    parts = tuple(PartRelease(spec.label, hists, release_gram(grams[f"g{i}"], spec.bound, plan.rho_correlation,
                                                                noise), fines)
                  for i, (hists, fines, spec) in enumerate(released))
    return CopulaRelease(key_hist, parts)
