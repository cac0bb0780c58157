"""Differentially private Gaussian copula (zCDP, add/remove one row).

What touches the private data, and what it costs (all noise drawn in :mod:`synthgen.privacy.mechanisms`):

1. One noisy histogram per column over bins fixed by the DECLARED schema (declared bounds, declared categories,
   plus a null bin for nullable columns): ``rho_marginals / n_columns`` each. Skewed money-like columns get
   log-scaled bins, decided from the declared bounds only. Noisy counts are rounded, negatives and bins below
   ``suppress_sigmas`` noise standard deviations are set to zero; in linear/log-binned columns a kept bin must also
   be linked, through kept bins at most ``ceil(0.1 k)`` bins apart, to a bin clearing
   ``Phi^{-1}(1 - suppress_fp / k)`` sigmas (``k`` bins), so isolated noise spikes far out in wide declared bounds
   are dropped too and empty tails carry ~no mass (post-processing; public thresholds only). The row count
   is the mean of the noisy histogram totals (no extra cost).
2. One noisy Gram matrix of the rows' conditional normal scores, computed through the already released noisy
   marginals (a public, row-wise transform), rows clipped to L2 norm ``B`` (``B^2 = clip_factor * sum_i a_i``,
   ``a_i`` the score variances implied by the noisy marginals): ``rho_correlation``. Divided by the noisy row
   count, corrected for shrinkage (``R_ij / (a_i a_j)``) and repaired into a valid correlation matrix.

With ``condition_on``, the key column's histogram is released once and every class gets its own histograms and
Gram matrix over its own rows; the classes partition the rows, so this costs no extra budget (parallel
composition). The split is explicit in :class:`~synthgen.privacy.accountants.ZCDPBudget` and recorded in
``privacy_spent_.details`` (hence in the saved manifest).
"""
from __future__ import annotations

import math
from typing import Any, ClassVar, Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ..exceptions import ConfigError, PrivacyError
from ..privacy.accountants import ZCDPBudget
from ..privacy.analysis import gaussian_sigma
from ..privacy.mechanisms import noisy_gram_matrix, noisy_histogram
from ..privacy.noise import privacy_noise
from ..privacy.spend import PrivacySpend
from ..rng import RandomState
from ..schema import Schema
from ..transforms.copula_model import (ColumnModel, CopulaPart, category_codes, column_to_float,
                                       datetime_bound_days)
from ..transforms.normal_scores import score_variance, slice_scores, slices_from_probs
from .copula import CopulaBase


def _bounded_scores(probs: np.ndarray) -> np.ndarray:
    """Slice scores where rows in a bin whose noisy mass was suppressed get the nearest score of a bin with mass
    (not +/-8 from a zero-width slice at the edge, which would dominate the clipped Gram matrix)."""
    sc = slice_scores(*slices_from_probs(probs))
    pos = probs > 0
    return np.clip(sc, sc[pos].min(), sc[pos].max()) if pos.any() else np.zeros_like(sc)


class _Binning:
    """Public bins of one column, from its declared schema only."""

    def __init__(self, f: Any, n_bins: int, max_discrete: int, log_bins: Any):
        self.f = f
        self.kind = f.kind
        if f.kind in ("numeric", "datetime"):
            if f.kind == "numeric":
                lo, hi = float(f.lower), float(f.upper)
                integral = f.integer
            else:
                lo, hi = datetime_bound_days(f.lower_ts), datetime_bound_days(f.upper_ts)
                integral = f.date_only
            if integral and math.floor(hi) - math.ceil(lo) + 1 <= max_discrete:
                self.scale = "discrete"
                self.grid = np.arange(math.ceil(lo), math.floor(hi) + 1, dtype=np.float64)
            else:
                use_log = (log_bins is True or (isinstance(log_bins, (list, tuple, set)) and f.name in log_bins)
                           or (log_bins == "auto" and f.kind == "numeric"
                               and ((lo > 0 and hi / lo >= 100) or (lo == 0 and hi >= 1e4))))
                if use_log:
                    s = 0.0 if lo > 0 else hi / 1e4
                    edges = np.geomspace(lo + s, hi + s, n_bins + 1) - s
                    self.scale = "log"
                else:
                    edges = np.linspace(lo, hi, n_bins + 1)
                    self.scale = "linear"
                edges[0], edges[-1] = lo, hi
                self.grid = edges
        else:
            self.scale = "categorical"
            self.grid = np.arange(2 if f.kind == "boolean" else len(f.categories), dtype=np.float64)

    @property
    def n_value_bins(self) -> int:
        return len(self.grid) - 1 if self.scale in ("log", "linear") else len(self.grid)

    def bin_index(self, s: pd.Series) -> np.ndarray:
        """Bin of every row; nulls get -1."""
        if self.kind in ("numeric", "datetime"):
            x = column_to_float(s, self.kind)
            null = np.isnan(x)
            x = np.where(null, self.grid[0], x)
            if self.scale == "discrete":
                idx = np.rint(x - self.grid[0]).astype(np.int64)
            else:
                idx = np.searchsorted(self.grid, x, side="right") - 1
            idx = np.clip(idx, 0, self.n_value_bins - 1)
            return np.where(null, -1, idx)
        return category_codes(s, self.f)


class DPGaussianCopula(CopulaBase):
    """Gaussian copula with (epsilon, delta)-differential privacy (zCDP accounting, add/remove one row).

    Parameters
    ----------
    epsilon, delta:
        The privacy target; ``delta=None`` picks a delta well below 1/n (see ``default_delta``).
    condition_on:
        Optional declared, non-nullable categorical/boolean key column: one copula per class at no extra budget.
    marginal_share:
        Share of the zCDP budget spent on the marginal histograms (the rest buys the correlation).
    n_bins:
        Bins per continuous column (over the declared bounds).
    max_discrete:
        Integer (and date) columns with at most this many values in their declared range get one bin per value.
    log_bins:
        ``"auto"`` (log-scaled bins when the declared bounds are skewed: ``lower > 0`` and ``upper/lower >= 100``, or
        ``lower == 0`` and ``upper >= 1e4``), ``True``, ``False`` or a list of column names.
    suppress_sigmas:
        Noisy bins below this many noise standard deviations are always set to zero.
    suppress_fp:
        Isolated-spike cleaning of linear/log-binned columns (``k`` bins): bins clearing
        ``Phi^{-1}(1 - suppress_fp / k)`` sigmas (about ``suppress_fp`` false ones per empty histogram) are trusted;
        other kept bins survive only when linked to a trusted one through kept bins at most ``ceil(0.1 k)`` apart
        (a spurious bin far out in the declared bounds, e.g. y=50 for data in 0-10, ruins Pearson correlations).
        ``0`` disables it.
    clip_factor:
        Rows' normal-score vectors are clipped to ``B^2 = clip_factor * sum_i a_i`` before the Gram matrix.
    max_onehot:
        Nominal categoricals with 3..max_onehot categories get one latent dimension per category.
    secure:
        Draw noise from the OS CSPRNG (cannot be seeded: ``fit(random_state=...)`` is refused).
    """

    registry_name: ClassVar[str] = "dp-copula"
    _REACH: ClassVar[float] = 0.1  # spike cleaning: a kept bin links to another within ceil(0.1 * k) bins
    provides_dp: ClassVar[bool] = True
    contract_params: ClassVar[dict[str, Any]] = {}

    def __init__(self, epsilon: float, delta: float | None = None, condition_on: str | None = None,
                 marginal_share: float = 0.5, n_bins: int = 128, max_discrete: int = 128, log_bins: Any = "auto",
                 suppress_sigmas: float = 2.0, suppress_fp: float = 0.01, clip_factor: float = 2.0,
                 max_onehot: int = 32, secure: bool = False):
        self.epsilon = epsilon
        self.delta = delta
        self.condition_on = condition_on
        self.marginal_share = marginal_share
        self.n_bins = n_bins
        self.max_discrete = max_discrete
        self.log_bins = log_bins
        self.suppress_sigmas = suppress_sigmas
        self.suppress_fp = suppress_fp
        self.clip_factor = clip_factor
        self.max_onehot = max_onehot
        self.secure = secure

    def fit(self, data: Any, schema: Schema | None = None, *, ledger: Any = None, random_state: RandomState = None,
            **kwargs: Any) -> "DPGaussianCopula":
        """See :meth:`BaseGenerator.fit`. With ``secure=True`` a ``random_state`` is refused (noise must be
        unpredictable)."""
        if self.secure and random_state is not None:
            raise PrivacyError("DPGaussianCopula(secure=True) draws noise from the OS CSPRNG, which cannot be "
                               "seeded. Fix: drop random_state, or use secure=False for reproducible runs.")
        return super().fit(data, schema, ledger=ledger, random_state=random_state, **kwargs)

    def _check_params(self) -> None:
        share = self.marginal_share
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share < 1:
            raise ConfigError(f"marginal_share must be a number in (0, 1); got {share!r}.")
        for name, least in (("n_bins", 2), ("max_discrete", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
                raise ConfigError(f"{name} must be an integer >= {least}; got {v!r}.")
        for name in ("suppress_sigmas", "clip_factor"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0 or \
                    (name == "clip_factor" and v <= 0):
                raise ConfigError(f"{name} must be a non-negative number (clip_factor > 0); got {v!r}.")
        fp = self.suppress_fp
        if isinstance(fp, bool) or not isinstance(fp, (int, float)) or not 0 <= fp < 1:
            raise ConfigError(f"suppress_fp must be a number in [0, 1); got {fp!r}.")
        if not (self.log_bins in ("auto", True, False) or isinstance(self.log_bins, (list, tuple, set))):
            raise ConfigError(f"log_bins must be 'auto', True, False or a list of column names; got {self.log_bins!r}.")

    # ----------------------------------------------------------------- fit
    def _fit(self, data: pd.DataFrame, schema: Schema, rng: np.random.Generator, plan: Any) -> PrivacySpend:
        self._check_params()
        target = plan.target
        noise = privacy_noise()
        self._n_hats = []
        budget = ZCDPBudget(target.epsilon, target.delta)
        shares = budget.split({"marginals": float(self.marginal_share),
                               "correlation": 1.0 - float(self.marginal_share)})
        fkey = self._check_condition_on(schema)
        learn = list(schema.learnable)
        rho_col = shares["marginals"] / len(learn)
        self._rho_col, self._rho_corr = rho_col, shares["correlation"]
        self._noise = noise
        binnings = {f.name: _Binning(f, int(self.n_bins), int(self.max_discrete), self.log_bins) for f in learn}
        cols = [f for f in learn if fkey is None or f.name != fkey.name]
        corr_used = False
        if fkey is None:
            part, corr_used = self._fit_part(data, cols, binnings, rng)
            self.parts_ = [part]
        else:
            codes = category_codes(data[fkey.name], fkey)
            counts = np.bincount(codes, minlength=binnings[fkey.name].n_value_bins).astype(np.float64)
            noisy, _ = self._postprocess(noisy_histogram(counts, rho_col, noise), rho_col)
            if noisy.sum() <= 0:
                noisy = np.ones_like(noisy)
            parts = []
            for c in np.flatnonzero(noisy > 0):  # a decision on released values only
                part, used = self._fit_part(data.loc[codes == c].reset_index(drop=True), cols, binnings, rng)
                corr_used |= used
                part.weight, part.label = float(noisy[c] / noisy.sum()), int(c)
                parts.append(part)
            self.parts_ = parts
        for f in learn:
            budget.spend(f"marginal:{f.name}", rho_col)
        if corr_used:
            budget.spend("correlation", shares["correlation"])
        del self._noise
        self.rows_estimate_ = float(sum(self._n_hats))
        del self._n_hats
        bins = {name: {"scale": b.scale, "bins": b.n_value_bins} for name, b in binnings.items()}
        self.fit_info_ = {"bins": bins, "condition_on": self.condition_on, "secure_noise": bool(self.secure)}
        return budget.to_spend(
            split={"marginals": float(self.marginal_share), "correlation": 1.0 - float(self.marginal_share)},
            mechanisms={"marginals": "Gaussian noisy histogram per column over declared bins (L2 sensitivity 1)",
                        "correlation": "Gaussian noisy Gram matrix of clipped normal scores"},
            parallel_composition=(f"one copula per class of {self.condition_on!r} (disjoint rows)"
                                  if self.condition_on else None),
            bins=bins, secure_noise=bool(self.secure))

    def _postprocess(self, noisy: np.ndarray, rho: float, n_ordered: int = 0) -> tuple[np.ndarray, float]:
        """Round, clip negatives, suppress bins below ``suppress_sigmas`` sigmas. Returns (counts, raw total).

        The first ``n_ordered`` entries (the ordered value bins of a linear/log-binned column; never the null bin)
        are also cleaned of isolated noise spikes: bins clearing ``Phi^{-1}(1 - suppress_fp / k)`` sigmas are
        trusted, and a bin above ``suppress_sigmas`` is kept only if a chain of kept bins, each within
        ``ceil(_REACH * k)`` bins of the next, links it to a trusted bin. Pure post-processing of the released
        counts; every threshold comes from public quantities (rho, k).
        """
        raw_total = float(noisy.sum())
        c = np.round(noisy)
        sigma = gaussian_sigma(rho, 1.0)
        keep = c >= float(self.suppress_sigmas) * sigma
        k = int(n_ordered)
        if self.suppress_fp > 0 and k > 2:
            z_trust = max(float(self.suppress_sigmas), float(ndtri(1.0 - float(self.suppress_fp) / k)))
            kv = keep[:k]
            reach = kv & (c[:k] >= z_trust * sigma)
            if reach.any():
                w = max(1, math.ceil(self._REACH * k))
                while True:  # grow the trusted set through kept bins within w of it
                    near = reach.copy()
                    for d in range(1, w + 1):
                        near[d:] |= reach[:-d]
                        near[:-d] |= reach[d:]
                    grown = kv & near
                    if (grown == reach).all():
                        break
                    reach = grown
                keep[:k] = reach
        sup = np.where(keep, c, 0.0)
        if sup.sum() <= 0:
            sup = np.maximum(c, 0.0)
        return sup, raw_total

    def _fit_part(self, df: pd.DataFrame, cols: Sequence[Any], binnings: dict, rng: np.random.Generator
                  ) -> tuple[CopulaPart, bool]:
        n = len(df)
        scores: list[np.ndarray] = []
        a_obs: list[float] = []
        q: list[float] = []
        models: list[ColumnModel] = []
        totals: list[float] = []
        for f in cols:
            b = binnings[f.name]
            idx = b.bin_index(df[f.name]) if n else np.zeros(0, dtype=np.int64)
            k = b.n_value_bins
            counts = np.bincount(np.where(idx < 0, k, idx), minlength=k + 1)[: k + 1].astype(np.float64)
            if not f.nullable:
                counts = counts[:k]
            noisy, raw_total = self._postprocess(noisy_histogram(counts, self._rho_col, self._noise), self._rho_col,
                                                 n_ordered=k if b.scale in ("linear", "log") else 0)
            totals.append(raw_total)
            values = noisy[:k]
            if values.sum() <= 0:
                values = np.ones(k)
            probs = values / values.sum()
            null_prob = None
            obs_frac = 1.0
            if f.nullable:
                null_prob = float(noisy[k] / max(noisy.sum(), 1.0))
                obs_frac = 1.0 - null_prob
                sc = _bounded_scores(np.array([null_prob, obs_frac]))
                scores.append(np.where(idx < 0, sc[0], sc[1]))
                a_obs.append(score_variance(np.array([null_prob, obs_frac])))
                q.append(1.0)
            models.append(self._marginal(f, b, probs, null_prob))
            obs = idx >= 0
            safe = np.where(obs, idx, 0)
            if models[-1].mode == "onehot":
                for c in models[-1].values:
                    p = probs[c]
                    s0, s1 = slice_scores(np.array([0.0, 1.0 - p]), np.array([1.0 - p, 1.0]))
                    scores.append(np.where(obs, np.where(safe == c, s1, s0), 0.0))
                    a_obs.append(score_variance(np.array([1.0 - p, p])))
                    q.append(obs_frac)
            else:
                sc = _bounded_scores(probs)
                scores.append(np.where(obs, sc[safe], 0.0))
                a_obs.append(score_variance(probs))
                q.append(obs_frac)
        d = len(scores)
        if d == 0:  # depends on the schema only; an empty class still releases its noisy Gram matrix below,
            return CopulaPart(models, np.eye(d)), False  # so whether noise is released never depends on data
        n_hat = max(float(np.mean(totals)), 1.0)
        self._n_hats.append(n_hat)
        a = np.asarray(a_obs)
        qv = np.asarray(q)
        s_mat = np.column_stack(scores)
        bound = math.sqrt(max(float(self.clip_factor) * float(np.sum(a * qv)), 1.0))
        gram = noisy_gram_matrix(s_mat, bound, self._rho_corr, self._noise)
        del s_mat
        cov = gram / n_hat
        qq = np.outer(qv, qv)
        np.fill_diagonal(qq, qv)
        cov = cov / np.maximum(qq, 1e-6)
        r = self._finish_correlation(cov, a, models, rng)
        return CopulaPart(models, r), True

    def _marginal(self, f: Any, b: _Binning, probs: np.ndarray, null_prob: float | None) -> ColumnModel:
        if b.scale == "discrete":
            cdf = np.cumsum(probs)
            cdf[-1] = 1.0
            return ColumnModel(f.name, f.kind, "discrete", b.grid.copy(), cdf, null_prob)
        if b.scale in ("log", "linear"):
            cdf = np.concatenate([[0.0], np.cumsum(probs)])
            cdf[-1] = 1.0
            return ColumnModel(f.name, f.kind, "continuous", b.grid.copy(), cdf, null_prob)
        if self._uses_onehot(f, int(self.max_onehot)):
            idx = np.flatnonzero(probs > 0)
            return ColumnModel(f.name, f.kind, "onehot", idx.astype(np.int64), probs[idx], null_prob,
                               offsets=np.zeros(len(idx)))
        cdf = np.cumsum(probs)
        cdf[-1] = 1.0
        return ColumnModel(f.name, f.kind, "ordinal", np.arange(len(probs)), cdf, null_prob)
