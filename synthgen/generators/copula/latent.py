"""From one column's released noisy histogram to its marginal model and its latent score tables.

Pure post-processing of noisy, already released counts (plus the public bins): the measure step uses the score
tables to map rows to normal scores for the Gram matrix, the estimate step uses the same function again to build
the marginals, so both see exactly the same model. No private row is read here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...privacy.analysis import gaussian_sigma
from .binning import Binning, SuppressRule, coarsen, suppress
from .model import ColumnModel, uses_onehot
from .normal_scores import score_variance, slice_scores, slices_from_probs


@dataclass(frozen=True)
class LatentRules:
    """The public parameters the post-processing needs (``fine_share``: the part of an adaptive column's
    ``rho_column`` spent on its fine histogram; the rest buys its model histogram)."""

    rho_column: float
    suppress: SuppressRule
    max_onehot: int
    fine_share: float = 0.0

    def rho_fine(self, b: Binning) -> float:
        return self.rho_column * self.fine_share if b.adaptive else 0.0

    def rho_model(self, b: Binning) -> float:
        return self.rho_column - self.rho_fine(b)


def model_bounds(b: Binning, fine: np.ndarray, rules: LatentRules) -> np.ndarray:
    """An adaptive column's model bins (fine-bin boundaries) from its released noisy fine histogram: a bin is split
    while its halves can be expected to clear the suppression threshold of the model histogram."""
    z = rules.suppress.sigmas
    min_mass = 2.0 * max(z, 1.0) * gaussian_sigma(rules.rho_model(b), 1.0)
    return coarsen(fine, b.n_coarse, gaussian_sigma(rules.rho_fine(b), 1.0), z, min_mass)

@dataclass(frozen=True)
class ColumnLatent:
    """A column's marginal model and, per latent dimension ``j``, the score ``tables[b, j]`` of a row in bin ``b``
    (row ``k`` of the table: a null), the score variance ``a[j]`` and the share ``q[j]`` of rows it is observed on."""

    model: ColumnModel
    tables: np.ndarray  # (n_value_bins + 1, n_dims)
    a: np.ndarray
    q: np.ndarray


def bounded_scores(probs: np.ndarray) -> np.ndarray:
    """Slice scores where rows in a bin whose noisy mass was suppressed get the nearest score of a bin with mass
    (not +/-8 from a zero-width slice at the edge, which would dominate the clipped Gram matrix)."""
    sc = slice_scores(*slices_from_probs(probs))
    pos = probs > 0
    return np.clip(sc, sc[pos].min(), sc[pos].max()) if pos.any() else np.zeros_like(sc)


def marginal_model(b: Binning, probs: np.ndarray, null_prob: float | None, max_onehot: int,
                   edges: np.ndarray | None = None) -> ColumnModel:
    """``edges``: the model bins' edges of an adaptive column (default: the grid's)."""
    f = b.field
    if b.scale == "discrete":
        cdf = np.cumsum(probs)
        cdf[-1] = 1.0
        return ColumnModel(f.name, f.kind, "discrete", b.grid.copy(), cdf, null_prob)
    if b.ordered:
        cdf = np.concatenate([[0.0], np.cumsum(probs)])
        cdf[-1] = 1.0
        knots = b.grid.copy() if edges is None else np.asarray(edges, dtype=np.float64).copy()
        return ColumnModel(f.name, f.kind, "continuous", knots, cdf, null_prob)
    if uses_onehot(f, max_onehot):
        idx = np.flatnonzero(probs > 0)
        return ColumnModel(f.name, f.kind, "onehot", idx.astype(np.int64), probs[idx], null_prob,
                           offsets=np.zeros(len(idx)))
    cdf = np.cumsum(probs)
    cdf[-1] = 1.0
    return ColumnModel(f.name, f.kind, "ordinal", np.arange(len(probs)), cdf, null_prob)


def _with_atoms(model: ColumnModel, b: Binning, bounds: np.ndarray) -> ColumnModel:
    """An adaptive column's model bin that is one fine bin alone puts its mass on that bin's point (a whole value,
    a multiple of the grid's round step, or the declared bound of an outer bin): mass piles up on such values
    (zeros of zero-inflated columns, heaped values, caps, clipped values), and a KS score counts a point mass
    spread over even a 1/2048-wide bin as missing. Post-processing of released bins and the public grid."""
    e, c = model.values, model.cdf
    starts, ends = e[:-1].copy(), e[1:].copy()
    p = b.points[bounds[:-1]] if b.points is not None else np.full(len(starts), np.nan)
    atom = (np.diff(bounds) == 1) & np.isfinite(p)
    starts[atom] = ends[atom] = p[atom]
    model.values = np.column_stack([starts, ends]).ravel()
    model.cdf = np.column_stack([c[:-1], c[1:]]).ravel()
    return model


def latent_column(b: Binning, hist: np.ndarray, rules: LatentRules, bounds: np.ndarray | None = None
                  ) -> ColumnLatent:
    """Marginal model and score tables of one column from its released noisy histogram (model value bins, then the
    null bin of a nullable column); ``bounds``: an adaptive column's model bins (:func:`model_bounds`), whose
    score tables are expanded to one row per fine bin (the bins rows are mapped by)."""
    k = b.n_model_bins
    noisy = suppress(hist, rules.rho_model(b), rules.suppress, n_ordered=k if b.ordered else 0)
    values = noisy[:k] if noisy[:k].sum() > 0 else np.ones(k)
    probs = values / values.sum()
    tables, a, q = [], [], []
    null_prob, obs_frac = None, 1.0
    if b.nullable:
        # The observed mass from the RAW value bins (unbiased; suppression would zero a sparse structural-null
        # column's spread-out values and make it null everywhere), never below what suppression kept.
        observed = max(float(np.sum(np.asarray(hist, dtype=np.float64)[:k])), float(noisy[:k].sum()))
        null_prob = float(noisy[k] / max(noisy[k] + observed, 1.0))
        obs_frac = 1.0 - null_prob
        split = np.array([null_prob, obs_frac])
        sc = bounded_scores(split)
        tables.append(np.concatenate([np.full(k, sc[1]), [sc[0]]]))
        a.append(score_variance(split))
        q.append(1.0)
    model = marginal_model(b, probs, null_prob, rules.max_onehot, None if bounds is None else b.grid[bounds])
    model = model if bounds is None else _with_atoms(model, b, bounds)
    if model.mode == "onehot":
        for c in model.values:
            p = probs[c]
            s0, s1 = slice_scores(np.array([0.0, 1.0 - p]), np.array([1.0 - p, 1.0]))
            t = np.full(k + 1, s0)
            t[c], t[k] = s1, 0.0
            tables.append(t)
            a.append(score_variance(np.array([1.0 - p, p])))
            q.append(obs_frac)
    else:
        tables.append(np.concatenate([bounded_scores(probs), [0.0]]))
        a.append(score_variance(probs))
        q.append(obs_frac)
    table = np.column_stack(tables)
    if bounds is not None:  # fine bin -> its model bin (the null row stays last)
        table = table[np.concatenate([np.repeat(np.arange(k), np.diff(bounds)), [k]])]
    return ColumnLatent(model, table, np.asarray(a), np.asarray(q))


def class_weights(key_hist: np.ndarray, rules: LatentRules) -> np.ndarray:
    """Post-processed class sizes of the ``condition_on`` key from its released noisy histogram (all ones when
    nothing survives); a class gets its own copula iff its weight is positive."""
    noisy = suppress(key_hist, rules.rho_column, rules.suppress)
    return noisy if noisy.sum() > 0 else np.ones_like(noisy)
