"""Differentially private Gaussian copula (zCDP, add/remove one row): measure, then estimate.

A fit is ``plan = _plan(schema)`` (public inputs only: parameters, declared schema, declared row bounds), then
``release = measure(table, plan, privacy_noise())`` (:mod:`.measure`, the only reader of private rows; noise from OS
entropy, never ``random_state``), then ``_estimate(release, plan, rng)``, which builds the model from the release
alone (post-processing; ``rng`` seeds only the one-hot calibration and sampling). The spend is a function of the
plan only. What is released, and what it costs:

1. One noisy histogram per column over bins fixed by the DECLARED schema (declared bounds, declared categories,
   plus a null bin for nullable columns): ``rho_marginals / n_columns`` each. Skewed money-like columns get
   log-scaled bins, decided from the declared bounds only. Noisy counts are rounded, negatives and bins below
   ``suppress_sigmas`` noise standard deviations are set to zero; in linear/log-binned columns a kept bin must also
   be linked, through kept bins at most ``ceil(0.1 k)`` bins apart, to a bin clearing
   ``Phi^{-1}(1 - suppress_fp / k)`` sigmas (``k`` bins), so isolated noise spikes far out in wide declared bounds
   are dropped too and empty tails carry ~no mass (post-processing; public thresholds only). Linear/log columns
   (``fine_bins > n_bins``) are adaptive: ``fine_share`` of their ``rho_column`` releases a noisy histogram over
   ``fine_bins`` equal-width (or log) bins of the declared bounds; ``n_bins`` model bins are derived from that
   release alone (dyadic splits where the noisy mass is clearly positive: about noisy quantiles, so bins are
   narrow where the data is even inside declared bounds far wider than it), and the rest of ``rho_column``
   releases the noisy counts of those model bins (adaptive composition; the spend does not depend on the bins
   chosen). Fine grids are public: one bin per whole value (integer columns), bins centred on a round step
   (real-valued linear columns), or equal log steps; a model bin that is one fine bin alone puts its mass on that
   bin's public point (its value, or the declared bound of an outer bin). The row count
   (``rows_estimate_``, and the Gram normaliser) is the mean of a part's raw noisy histogram totals, summed over
   the parts (no extra cost); the exact n is never used.
2. One noisy Gram matrix of the rows' conditional normal scores, computed through the already released noisy
   marginals (a public, row-wise transform), rows clipped to L2 norm ``B`` (``B^2 = clip_factor * sum_i a_i``,
   ``a_i`` the score variances implied by the noisy marginals): ``rho_correlation``. Divided by the noisy row
   count, corrected for shrinkage (``R_ij / (a_i a_j)``) and repaired into a valid correlation matrix.

Every exact statistic behind these releases (bin counts per class, the Gram sum) is a per-partition reduction that
merges exactly (:mod:`synthgen.scale.stats`; the Gram sum in fixed point, rows clipped to ``B`` minus the rounding
margin), and the noise is added once to the merged statistic: an in-memory fit is the same reduction over one
partition, a fit on a Dask frame (:mod:`synthgen.scale`) releases the same statistics with the same noise
distribution, so the guarantee and the budget do not depend on how the rows are partitioned.

With ``condition_on``, the key column's histogram is released once and every class gets its own histograms and
Gram matrix over its own rows; the classes (a nullable key's null cell is one more class) partition the rows, so
this costs no extra budget (parallel composition). The split is explicit in
:class:`~synthgen.privacy.accountants.ZCDPBudget` and recorded in ``privacy_spent_.details`` (hence in the saved
manifest).
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ...exceptions import ConfigError
from ...privacy.accountants import ZCDPBudget
from ...privacy.noise import privacy_noise
from ...privacy.spend import DPSpend, PrivacySpend
from ...schema import Schema
from .base import CopulaBase
from .binning import SuppressRule, make_binning
from .latent import LatentRules, class_weights, latent_column, model_bounds
from .measure import CopulaPlan, CopulaRelease, PartRelease, measure
from .model import CopulaPart


def _is_number(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float, np.integer, np.floating))


class DPGaussianCopula(CopulaBase):
    """Gaussian copula with (epsilon, delta)-differential privacy (zCDP accounting, add/remove one row).

    Parameters
    ----------
    epsilon, delta:
        The privacy target; ``delta=None`` picks a default from the schema's DECLARED maximum row count
        (:func:`~synthgen.privacy.spend.default_delta`), never from the private row count.
    condition_on:
        Optional declared categorical/boolean key column: one copula per class at no extra budget (a nullable
        key's null cell is one more class).
    marginal_share:
        Share of the zCDP budget spent on the marginal histograms (the rest buys the correlation).
    n_bins:
        Model bins per continuous column.
    fine_bins:
        Bins of the fine grid over the declared bounds from which a continuous column's ``n_bins`` model bins are
        derived (see above); ``fine_bins <= n_bins`` gives ``n_bins`` fixed equal-width (or log) bins instead.
    fine_share:
        Share of a continuous column's marginal budget spent on its fine histogram (adaptive columns only).
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

    Privacy noise always comes from OS entropy (:func:`~synthgen.privacy.noise.privacy_noise`); ``random_state``
    seeds only the one-hot calibration and sampling, so the former ``secure`` switch is gone.
    """

    registry_name: ClassVar[str] = "dp-copula"
    provides_dp: ClassVar[bool] = True
    contract_params: ClassVar[dict[str, Any]] = {}

    def __init__(self, epsilon: float, delta: float | None = None, condition_on: str | None = None,
                 marginal_share: float = 0.5, n_bins: int = 128, max_discrete: int = 128, log_bins: Any = "auto",
                 suppress_sigmas: float = 2.0, suppress_fp: float = 0.01, clip_factor: float = 2.0,
                 max_onehot: int = 32, fine_bins: int = 2048, fine_share: float = 0.1):
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
        self.fine_bins = fine_bins
        self.fine_share = fine_share

    # ----------------------------------------------------------------- plan (public inputs only)
    def _check_params(self) -> None:
        for name in ("marginal_share", "fine_share"):
            share = getattr(self, name)
            if not _is_number(share) or not 0 < share < 1:
                raise ConfigError(f"{name} must be a number in (0, 1); got {share!r}.")
        for name, least in (("n_bins", 2), ("max_discrete", 1), ("max_onehot", 0), ("fine_bins", 0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
                raise ConfigError(f"{name} must be an integer >= {least}; got {v!r}.")
        if not _is_number(self.suppress_sigmas) or not self.suppress_sigmas >= 0:
            raise ConfigError(f"suppress_sigmas must be a non-negative number; got {self.suppress_sigmas!r}.")
        if not _is_number(self.clip_factor) or not self.clip_factor > 0:
            raise ConfigError(f"clip_factor must be a positive number; got {self.clip_factor!r}.")
        fp = self.suppress_fp
        if not _is_number(fp) or not 0 <= fp < 1:
            raise ConfigError(f"suppress_fp must be a number in [0, 1); got {fp!r}.")
        if not (self.log_bins in ("auto", True, False) or isinstance(self.log_bins, (list, tuple, set))):
            raise ConfigError(f"log_bins must be 'auto', True, False or a list of column names; got {self.log_bins!r}.")

    def _plan(self, schema: Schema) -> CopulaPlan:
        """Every check and decision before any budget is reserved: parameters, ``condition_on``, bins, shares."""
        self._check_params()
        key = self._check_condition_on(schema)
        target = self._target_spend(schema)
        learn = list(schema.learnable)
        shares = ZCDPBudget(target.epsilon, target.delta).split(
            {"marginals": float(self.marginal_share), "correlation": 1.0 - float(self.marginal_share)})
        bins = tuple(make_binning(f, int(self.n_bins), int(self.max_discrete), self.log_bins, int(self.fine_bins))
                     for f in learn)
        rules = LatentRules(shares["marginals"] / len(learn),
                            SuppressRule(float(self.suppress_sigmas), float(self.suppress_fp)),
                            int(self.max_onehot), float(self.fine_share))
        return CopulaPlan(target, bins, None if key is None else key.name, shares["correlation"], rules,
                          float(self.clip_factor), float(self.marginal_share))

    # ----------------------------------------------------------------- fit: measure, then estimate
    def _fit(self, data: pd.DataFrame, schema: Schema, rng: np.random.Generator, plan: CopulaPlan,
             progress: bool | None = None) -> PrivacySpend:
        """``data``: the validated table, in memory or a Dask frame (:mod:`synthgen.scale`); ``progress``: bars over
        the Dask passes (default: only on a terminal)."""
        data = data.with_progress(progress) if hasattr(data, "with_progress") else data
        release = measure(data, plan, privacy_noise())
        self._estimate(release, plan, rng)
        return self._spend(plan)

    def _estimate(self, release: CopulaRelease, plan: CopulaPlan, rng: np.random.Generator) -> None:
        """Build the fitted model (``parts_``, ``rows_estimate_``, ``fit_info_``) from the release alone."""
        weights = None if release.key_histogram is None else class_weights(release.key_histogram, plan.rules)
        parts, n_hats = [], []
        for pr in release.parts:
            part, n_hat = self._estimate_part(pr, plan, rng)
            if weights is not None:
                part.weight, part.label = float(weights[pr.label] / weights.sum()), int(pr.label)
            parts.append(part)
            n_hats += [] if n_hat is None else [n_hat]
        if n_hats:
            rows = float(sum(n_hats))
        else:  # no column besides the key: its noisy histogram is the only count released
            rows = max(float(np.sum(release.key_histogram)) if release.key_histogram is not None else 1.0, 1.0)
        self.parts_ = parts
        self.rows_estimate_ = rows
        self.fit_info_ = {"bins": self._bin_summary(plan), "condition_on": plan.key_name}

    def _estimate_part(self, pr: PartRelease, plan: CopulaPlan, rng: np.random.Generator
                       ) -> tuple[CopulaPart, float | None]:
        """One part's marginals from its noisy histograms; its correlation from the noisy Gram matrix divided by
        the noisy row count (mean of the raw histogram totals), corrected for shrinkage and repaired."""
        lats = [latent_column(b, h, plan.rules, None if f is None else model_bounds(b, f, plan.rules))
                for b, h, f in zip(plan.columns, pr.histograms, pr.fine)]
        models = [lat.model for lat in lats]
        if pr.gram is None:
            return CopulaPart(models, np.eye(0)), None
        n_hat = max(float(np.mean([float(np.sum(h)) for h in pr.histograms])), 1.0)
        a = np.concatenate([lat.a for lat in lats])
        q = np.concatenate([lat.q for lat in lats])
        qq = np.outer(q, q)
        np.fill_diagonal(qq, q)
        cov = (pr.gram / n_hat) / np.maximum(qq, 1e-6)
        return CopulaPart(models, self._finish_correlation(cov, a, models, rng)), n_hat

    # ----------------------------------------------------------------- the spend (a function of the plan only)
    @staticmethod
    def _bin_summary(plan: CopulaPlan) -> dict:
        return {b.name: {"scale": b.scale, "bins": b.n_model_bins, **({"fine_bins": b.n_value_bins} if b.adaptive
                                                                         else {})} for b in plan.bins}

    def _spend(self, plan: CopulaPlan) -> DPSpend:
        budget = ZCDPBudget(plan.target.epsilon, plan.target.delta)
        for b in plan.bins:
            budget.spend(f"marginal:{b.name}", plan.rules.rho_column)
        if plan.columns:
            budget.spend("correlation", plan.rho_correlation)
        split = {"marginals": plan.marginal_share, "correlation": 1.0 - plan.marginal_share}
        return budget.to_spend(
            split=split,
            mechanisms={"marginals": "Gaussian noisy histogram per column over declared bins (L2 sensitivity 1); "
                                     "continuous columns: a fine one, then one over bins derived from it",
                        "correlation": "Gaussian noisy Gram matrix of clipped normal scores"},
            parallel_composition=(f"one copula per class of {plan.key_name!r} (disjoint rows)"
                                  if plan.key_name else None),
            bins=self._bin_summary(plan))
