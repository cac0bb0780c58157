"""Gaussian copula with empirical marginals. NO differential-privacy guarantee.

Each column is mapped to latent normal dimension(s) through conditional normal scores of its value's probability
slice; the correlation of those scores, corrected for the shrinkage that ties and categories cause and repaired into
a valid correlation matrix, ties the columns together. Sampling draws latent normals and maps them back through each
column's quantile function. Shared machinery (sampling, state) lives in :class:`~.base.CopulaBase`, which the DP
copula (:mod:`synthgen.generators.copula.dp`) reuses. Privacy: none; the marginals are the training data's
empirical quantile functions (value protection only withholds rare extremes and categories).
"""
from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np
import pandas as pd

from ...exceptions import ConfigError
from ...privacy.spend import NoGuarantee, PrivacySpend
from ...schema import Schema
from ..base import Plan, warn_no_guarantee
from .base import CopulaBase
from .model import ColumnModel, CopulaPart, category_codes, column_to_float, uses_onehot
from .normal_scores import slice_scores, slices_from_probs


class GaussianCopula(CopulaBase):
    """Gaussian copula with exact empirical marginals. **NO differential-privacy guarantee.**

    Numeric, integer and datetime columns keep their empirical quantile function (every distinct value when there
    are at most ``max_knots`` of them, else ``max_knots`` interpolated quantile knots); nulls are an explicit latent
    indicator, so missingness keeps its relation to other columns; booleans, binary and ordered categoricals get
    one ordinal latent dimension, nominal categoricals with 3..``max_onehot`` categories one latent dimension per
    category. The correlation of conditional normal scores is corrected for the shrinkage that ties and
    categories cause (``R_ij / (a_i a_j)``) and repaired to the nearest valid correlation matrix.

    Parameters
    ----------
    condition_on:
        Optional name of a declared, non-nullable categorical/boolean column: one copula per class (classes with
        fewer than ``min_class_rows`` rows share a copula fitted on all rows).
    protect_values:
        Value protection, **on by default**. A plain copula re-emits training values verbatim, so rare extremes
        and rare categories would reappear. With protection, values beyond the ``protect_k``-th smallest/largest
        of each numeric/datetime column are clipped to those order statistics (they are neither stored nor
        emitted), categories (and ``condition_on`` classes) held by fewer than ``protect_k`` rows are never
        emitted, and continuous quantile functions keep at most one knot per ``protect_k`` rows. This is a
        heuristic, not a privacy guarantee; turn it off (``protect_values=False``) only for data that is not
        sensitive. For a guarantee, use ``DPGaussianCopula``.
    protect_k:
        The ``k`` of value protection (default 5).
    max_knots:
        Most quantile knots stored per column (default 1024).
    max_onehot:
        Nominal categoricals with more categories than this use one ordinal latent instead of one-hot.
    min_class_rows:
        Smallest class that gets its own copula under ``condition_on``.
    """

    registry_name: ClassVar[str] = "copula"
    provides_dp: ClassVar[bool] = False
    no_guarantee_reason: ClassVar[str] = (
        "GaussianCopula is NOT differentially private: its marginals are the training data's empirical quantile "
        "functions and may re-emit training values (value protection only hides rare extremes and categories)")
    contract_params: ClassVar[dict[str, Any]] = {}

    def __init__(self, condition_on: str | None = None, protect_values: bool = True, protect_k: int = 5,
                 max_knots: int = 1024, max_onehot: int = 32, min_class_rows: int = 50):
        self.condition_on = condition_on
        self.protect_values = protect_values
        self.protect_k = protect_k
        self.max_knots = max_knots
        self.max_onehot = max_onehot
        self.min_class_rows = min_class_rows

    # ----------------------------------------------------------------- fit
    def _check_params(self) -> None:
        for name in ("protect_k", "max_knots", "min_class_rows"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ConfigError(f"{name} must be a positive integer; got {v!r}.")
        if self.max_knots < 2:
            raise ConfigError(f"max_knots must be at least 2; got {self.max_knots}.")
        if isinstance(self.max_onehot, bool) or not isinstance(self.max_onehot, (int, np.integer)):
            raise ConfigError(f"max_onehot must be an integer; got {self.max_onehot!r}.")

    @property
    def _k(self) -> int:
        return int(self.protect_k) if self.protect_values else 1

    def _plan(self, schema: Schema) -> Plan:
        self._check_params()
        self._check_condition_on(schema)
        return super()._plan(schema)

    def _fit(self, data: pd.DataFrame, schema: Schema, rng: np.random.Generator, plan: Plan) -> PrivacySpend:
        warn_no_guarantee(self)
        fkey = self._check_condition_on(schema)
        cols = [f for f in schema.learnable if fkey is None or f.name != fkey.name]
        if fkey is None:
            self.parts_ = [self._fit_part(data, cols, rng)]
        else:
            codes = category_codes(data[fkey.name], fkey)
            counts = np.bincount(codes, minlength=2 if fkey.kind == "boolean" else len(fkey.categories))
            emit = counts >= self._k
            if not emit.any():
                emit = counts == counts.max()
            pooled = None
            parts = []
            for c in np.flatnonzero(emit):
                if counts[c] >= max(self.min_class_rows, 2):
                    part = self._fit_part(data.loc[codes == c].reset_index(drop=True), cols, rng)
                else:
                    if pooled is None:
                        pooled = self._fit_part(data, cols, rng)
                    part = CopulaPart(pooled.columns, pooled.corr)
                part.weight, part.label = float(counts[c]) / float(counts[emit].sum()), int(c)
                parts.append(part)
            self.parts_ = parts
        self.fit_info_ = {"value_protection": {"enabled": bool(self.protect_values), "k": int(self.protect_k)}}
        return NoGuarantee(self.no_guarantee_reason)

    def _fit_part(self, df: pd.DataFrame, cols: Sequence[Any], rng: np.random.Generator) -> CopulaPart:
        n = len(df)
        scores: list[np.ndarray] = []
        masks: list[np.ndarray | None] = []
        models: list[ColumnModel] = []
        for f in cols:
            s = df[f.name]
            if f.kind in ("numeric", "datetime"):
                x = column_to_float(s, f.kind)
                null = np.isnan(x)
            else:
                codes = category_codes(s, f)
                null = codes < 0
            null_prob = None
            if f.nullable:
                null_prob = float(null.mean())
                lo, hi = slices_from_probs(np.array([null_prob, 1.0 - null_prob]))
                sc = slice_scores(lo, hi)
                scores.append(np.where(null, sc[0], sc[1]))
                masks.append(None)
            obs = ~null
            if f.kind in ("numeric", "datetime"):
                model, sc_obs = self._numeric_marginal(x[obs], f)
                sc_list = [sc_obs]
            else:
                model, sc_list = self._categorical_marginal(codes[obs], f)
            model.null_prob = null_prob
            full_mask = obs if (f.nullable and not obs.all()) else None
            for sc_obs in sc_list:
                full = np.zeros(n)
                full[obs] = sc_obs
                scores.append(full)
                masks.append(full_mask)
            models.append(model)
        d = len(scores)
        if d == 0:
            return CopulaPart(models, np.zeros((0, 0)))
        # pairwise dot products: no (n, d) matrix is ever built; pairwise-complete over null-masked dimensions
        gram = np.empty((d, d))
        denom = np.full((d, d), float(max(n, 1)))
        for i in range(d):
            for j in range(i, d):
                gram[i, j] = gram[j, i] = float(np.dot(scores[i], scores[j]))
                if masks[i] is not None or masks[j] is not None:
                    both = masks[i] if masks[j] is None else (masks[j] if masks[i] is None else masks[i] & masks[j])
                    denom[i, j] = denom[j, i] = max(float(np.count_nonzero(both)), 1.0)
        cov = gram / denom
        r = self._finish_correlation(cov, None, models, rng)
        return CopulaPart(models, r)

    def _numeric_marginal(self, xo: np.ndarray, f: Any) -> tuple[ColumnModel, np.ndarray]:
        m = len(xo)
        k = self._k
        if m == 0:
            mid = 0.5 * (f.lower + f.upper) if f.kind == "numeric" else 0.0
            return ColumnModel(f.name, f.kind, "discrete", np.array([mid]), np.array([1.0])), np.zeros(0)
        if k > 1:
            if m > 2 * k:
                part = np.partition(xo, (k - 1, m - k))
                xo = np.clip(xo, part[k - 1], part[m - k])
            else:
                xo = np.full(m, float(np.median(xo)))
        uniq, inv, cnt = np.unique(xo, return_inverse=True, return_counts=True)
        hi = np.cumsum(cnt) / m
        lo = hi - cnt / m
        sc = slice_scores(lo, hi)[inv]
        if len(uniq) <= min(self.max_knots, max(1, m // k)):
            hi[-1] = 1.0
            return ColumnModel(f.name, f.kind, "discrete", uniq.astype(np.float64), hi), sc
        n_knots = int(min(self.max_knots, max(2, m // k)))
        probs = np.linspace(0.0, 1.0, n_knots)
        knots = np.interp(probs, 0.5 * (lo + hi), uniq)
        return ColumnModel(f.name, f.kind, "continuous", knots, probs), sc

    def _categorical_marginal(self, codes: np.ndarray, f: Any) -> tuple[ColumnModel, list[np.ndarray]]:
        n_cat = 2 if f.kind == "boolean" else len(f.categories)
        m = len(codes)
        cnt = np.bincount(codes, minlength=n_cat).astype(np.float64)
        emit = cnt >= self._k
        if not emit.any():
            emit = cnt == cnt.max() if m else np.arange(n_cat) == 0
        p_emit = np.where(emit, cnt, 0.0)
        p_emit = p_emit / p_emit.sum()
        if not uses_onehot(f, self.max_onehot):
            scores_cat = slice_scores(*slices_from_probs(cnt / max(m, 1))) if m else np.zeros(n_cat)
            cdf = np.cumsum(p_emit)
            cdf[-1] = 1.0
            return ColumnModel(f.name, f.kind, "ordinal", np.arange(n_cat), cdf), [scores_cat[codes]]
        idx = np.flatnonzero(emit)
        sc_list = []
        for c in idx:
            p = cnt[c] / max(m, 1)
            s0, s1 = slice_scores(np.array([0.0, 1.0 - p]), np.array([1.0 - p, 1.0]))
            sc_list.append(np.where(codes == c, s1, s0))
        model = ColumnModel(f.name, f.kind, "onehot", idx.astype(np.int64), p_emit[idx],
                            offsets=np.zeros(len(idx)))
        return model, sc_list
