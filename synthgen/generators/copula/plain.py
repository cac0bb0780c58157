"""Gaussian copula with empirical marginals. NO differential-privacy guarantee.

Each column is mapped to latent normal dimension(s) through conditional normal scores of its value's probability
slice; the correlation of those scores, corrected for the shrinkage that ties and categories cause and repaired into
a valid correlation matrix, ties the columns together. Sampling draws latent normals and maps them back through each
column's quantile function. Shared machinery (sampling, state) lives in :class:`~.base.CopulaBase`, which the DP
copula (:mod:`synthgen.generators.copula.dp`) reuses. Privacy: none; the marginals are the training data's
empirical quantile functions (value protection only withholds rare extremes and categories).
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ...exceptions import ConfigError
from ...privacy.spend import NoGuarantee, PrivacySpend
from ...schema import Schema
from ..base import Plan, warn_no_guarantee
from .base import CopulaBase
from ...scale.stats import reduce_rows
from .empirical import part_covariance, part_marginals, score_partition, value_partition
from .model import CopulaPart


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
        Optional name of a declared categorical/boolean column: one copula per class (a nullable key's null cell
        is one more class; classes with fewer than ``min_class_rows`` rows share a copula fitted on all rows).
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

    def _fit(self, data: pd.DataFrame, schema: Schema, rng: np.random.Generator, plan: Plan,
             progress: bool | None = None) -> PrivacySpend:
        """Two merged passes (:mod:`.empirical`): distinct values and counts, then exact Gram sums of normal scores
        through the marginals built from them. ``data`` is one in-memory partition or a validated Dask frame;
        ``progress``: bars over the Dask passes (default: only on a terminal)."""
        warn_no_guarantee(self)
        data = data.with_progress(progress) if hasattr(data, "with_progress") else data
        fkey = self._check_condition_on(schema)
        cols = [f for f in schema.learnable if fkey is None or f.name != fkey.name]
        stats = reduce_rows(data, value_partition, cols, fkey)
        groups, emitted = self._groups(stats["rows"], fkey)
        fitted = [part_marginals(stats, cols, classes, self._k, int(self.max_knots), int(self.max_onehot))
                  for classes, _ in groups]
        specs = tuple((classes, maps) for (classes, _), (_, maps) in zip(groups, fitted))
        grams = reduce_rows(data, score_partition, cols, fkey, specs) if cols else {}
        self.parts_ = self._assemble(groups, emitted, fitted, grams, stats["rows"], rng)
        self.fit_info_ = {"value_protection": {"enabled": bool(self.protect_values), "k": int(self.protect_k)}}
        return NoGuarantee(self.no_guarantee_reason)

    def _groups(self, counts: np.ndarray, fkey: Any) -> tuple[list, list[int]]:
        """(classes, label) of every copula to fit: each emitted class with enough rows, then (if a small emitted
        class needs it) the pooled copula over all rows; and the emitted classes."""
        if fkey is None:
            return [((0,), None)], []
        emit = counts >= self._k
        if not emit.any():
            emit = counts == counts.max()
        emitted = [int(c) for c in np.flatnonzero(emit)]
        small = [c for c in emitted if counts[c] < max(self.min_class_rows, 2)]
        groups = [((c,), c) for c in emitted if c not in small]
        return groups + ([(tuple(range(len(counts))), None)] if small else []), emitted

    def _assemble(self, groups: list, emitted: list[int], fitted: list, grams: dict, counts: np.ndarray,
                  rng: np.random.Generator) -> list[CopulaPart]:
        """Parts in class order (the pooled copula, shared by small classes, is made at the first of them)."""
        made: dict[int, CopulaPart] = {}

        def part(i: int) -> CopulaPart:
            if i not in made:
                models, maps = fitted[i]
                cov = part_covariance(grams, i, maps) if maps else np.zeros((0, 0))
                made[i] = CopulaPart(models, self._finish_correlation(cov, None, models, rng) if maps else cov)
            return made[i]

        if not emitted:
            return [part(0)]
        own = {label: i for i, (_, label) in enumerate(groups) if label is not None}
        total = float(sum(counts[c] for c in emitted))
        parts = []
        for c in emitted:
            if c in own:
                p = part(own[c])
            else:
                pooled = part(len(groups) - 1)
                p = CopulaPart(pooled.columns, pooled.corr)
            p.weight, p.label = float(counts[c]) / total, int(c)
            parts.append(p)
        return parts
