"""The DP copula's measure step: THE ONLY CODE OF THE DP COPULA THAT READS PRIVATE ROWS.

:func:`measure` takes the validated table, the public :class:`CopulaPlan` and a noise source from
:func:`~synthgen.privacy.noise.privacy_noise`, and returns a frozen :class:`CopulaRelease` of noisy statistics:

1. with ``condition_on``: the key column's noisy histogram (``rho_column``);
2. per part (the whole table, or each class whose post-processed noisy key count is positive: a decision on
   released values only): one noisy histogram per column over the plan's public bins (``rho_column`` each; L2
   sensitivity 1 as each row is in one bin), then one noisy Gram matrix (``rho_correlation``) of the rows' normal
   scores, computed through the marginals just released (a public row-wise map, :func:`~.latent.latent_column`)
   and clipped to the L2 norm ``B`` with ``B^2 = clip_factor * sum_j a_j q_j`` (a function of released values).

The classes partition the rows, so the per-class releases compose in parallel: each row is charged one
histogram per column and one Gram matrix. Everything else (:meth:`DPGaussianCopula._estimate`) sees only the
release, so it is post-processing and free.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...privacy.mechanisms import NoiseSource, noisy_gram_matrix, noisy_histogram
from ..base import Plan
from .binning import Binning
from .latent import LatentRules, class_weights, latent_column


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
    """Noisy statistics of one part: raw noisy histograms (one per ``plan.columns`` entry) and the noisy Gram
    matrix (None when the part has no latent dimension, which depends on the schema only)."""

    label: int | None
    histograms: tuple[np.ndarray, ...]
    gram: np.ndarray | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "histograms", tuple(_frozen(h) for h in self.histograms))
        object.__setattr__(self, "gram", _frozen(self.gram))


@dataclass(frozen=True)
class CopulaRelease:
    """Everything a DP copula fit released: the key's noisy histogram (``condition_on``) and the parts."""

    key_histogram: np.ndarray | None
    parts: tuple[PartRelease, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "key_histogram", _frozen(self.key_histogram))
        object.__setattr__(self, "parts", tuple(self.parts))


def _measure_part(df: pd.DataFrame, plan: CopulaPlan, noise: NoiseSource, label: int | None) -> PartRelease:
    n = len(df)
    hists, scores, a, q = [], [], [], []
    for b in plan.columns:
        k = b.n_value_bins
        idx = b.bin_index(df[b.name]) if n else np.zeros(0, dtype=np.int64)
        slot = np.where(idx < 0, k, idx)
        counts = np.bincount(slot, minlength=k + 1)[: k + 1].astype(np.float64)
        hist = noisy_histogram(counts if b.nullable else counts[:k], plan.rules.rho_column, noise)
        lat = latent_column(b, hist, plan.rules)
        hists.append(hist)
        scores.append(lat.tables[slot])
        a.append(lat.a)
        q.append(lat.q)
    if not scores:
        return PartRelease(label, (), None)
    s_mat = np.concatenate(scores, axis=1)
    bound = math.sqrt(max(plan.clip_factor * float(np.sum(np.concatenate(a) * np.concatenate(q))), 1.0))
    gram = noisy_gram_matrix(s_mat, bound, plan.rho_correlation, noise)
    return PartRelease(label, tuple(hists), gram)


def measure(table: pd.DataFrame, plan: CopulaPlan, noise: NoiseSource) -> CopulaRelease:
    """Release the noisy statistics of ``table`` (see the module docstring). The only reader of private rows."""
    key = plan.key
    if key is None:
        return CopulaRelease(None, (_measure_part(table, plan, noise, None),))
    codes = key.bin_index(table[key.name])
    counts = np.bincount(codes, minlength=key.n_value_bins).astype(np.float64)
    key_hist = noisy_histogram(counts, plan.rules.rho_column, noise)
    weights = class_weights(key_hist, plan.rules)  # post-processing of the release just made
    parts = tuple(_measure_part(table.loc[codes == c].reset_index(drop=True), plan, noise, int(c))
                  for c in np.flatnonzero(weights > 0))
    return CopulaRelease(key_hist, parts)
