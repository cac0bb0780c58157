"""Stateful accountants. Pure formulas live in :mod:`synthgen.privacy.analysis`.

:class:`ZCDPBudget` turns an (epsilon, delta) target into a zCDP budget rho, hands out named shares of it, refuses
to spend more than it holds, and reports the spend as a :class:`DPSpend` with the split recorded.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from ..exceptions import BudgetExceededError, InvalidPrivacyParameterError
from .analysis import zcdp_epsilon, zcdp_rho
from .spend import DPSpend, check_epsilon_delta


class ZCDPBudget:
    """A zCDP odometer for one fit.

    ``delta_reserved`` is the part of delta kept for mechanisms with a failure probability (e.g. thresholded
    category sets); the rest converts epsilon into rho with the tight CKS20 conversion.
    """

    def __init__(self, epsilon: float, delta: float, delta_reserved: float = 0.0):
        eps, dlt = check_epsilon_delta(epsilon, delta)
        if dlt <= 0:
            raise InvalidPrivacyParameterError(
                "delta must be > 0 for zCDP-based generators (Gaussian noise). Fix: pass e.g. delta=1e-6.")
        if not 0 <= delta_reserved < dlt:
            raise InvalidPrivacyParameterError(f"delta_reserved must be in [0, delta); got {delta_reserved}.")
        self.epsilon, self.delta, self.delta_reserved = eps, dlt, float(delta_reserved)
        self.rho = zcdp_rho(eps, dlt - delta_reserved)
        self._spent: dict[str, float] = {}
        self._delta_spent: dict[str, float] = {}

    def split(self, weights: Mapping[str, float]) -> dict[str, float]:
        """Divide rho by the given weights (normalised): ``{"marginals": 1, "correlation": 1}``."""
        total = float(sum(weights.values()))
        if total <= 0 or any(w < 0 for w in weights.values()):
            raise InvalidPrivacyParameterError("Budget split weights must be >= 0 and not all zero.")
        return {k: self.rho * float(w) / total for k, w in weights.items()}

    def spend(self, name: str, rho: float, delta: float = 0.0) -> float:
        """Record spending ``rho`` (and optionally part of the reserved delta) under ``name``; return rho."""
        if rho < 0:
            raise InvalidPrivacyParameterError("rho must be >= 0.")
        if self.spent_rho + rho > self.rho * (1 + 1e-9):
            raise BudgetExceededError(
                f"zCDP budget exceeded while spending on {name!r}: {self.spent_rho + rho:.6g} > {self.rho:.6g}.")
        if sum(self._delta_spent.values()) + delta > self.delta_reserved * (1 + 1e-9):
            raise BudgetExceededError(f"reserved delta exceeded while spending on {name!r}.")
        self._spent[name] = self._spent.get(name, 0.0) + rho
        if delta:
            self._delta_spent[name] = self._delta_spent.get(name, 0.0) + delta
        return rho

    @property
    def spent_rho(self) -> float:
        return float(sum(self._spent.values()))

    def to_spend(self, **details) -> DPSpend:
        """The (epsilon, delta) actually spent: rho spent converted at delta - reserved, plus reserved delta used."""
        d_used = float(sum(self._delta_spent.values()))
        d_conv = self.delta - self.delta_reserved
        eps = zcdp_epsilon(self.spent_rho, d_conv) if self.spent_rho > 0 else 0.0
        info = {"rho_total": self.rho, "rho_spent": self.spent_rho,
                "rho_split": dict(self._spent), "conversion": "Canonne-Kamath-Steinke 2020 (tight zCDP)",
                "target": {"epsilon": self.epsilon, "delta": self.delta}}
        if self._delta_spent:
            info["delta_split"] = dict(self._delta_spent)
        info.update(details)
        return DPSpend(min(eps, self.epsilon), min(self.delta, d_conv + d_used), "zCDP", details=info)


# ------------------------------------------------------------------------------------------ DP-SGD
class DPSGDAccountant:
    """A DP-SGD odometer for one training run (Poisson sampling at ``sample_rate``, add/remove one row).

    It solves the noise multiplier from ``(epsilon, delta, sample_rate, planned_steps)`` for the PRV accountant
    (so the planned run can never exceed ``epsilon``), refuses a step before it is taken when that step would go
    over the target (:meth:`check_step`), and reports the epsilon of the steps actually taken with PRV, RDP beside
    it. The accountant readings come from Opacus (via :mod:`synthgen.privacy.dpsgd`).

    ``prior_noise_multipliers``: Gaussian mechanisms run once on the full table before training (e.g. the noisy
    counts), each given by its noise multiplier ``sigma / L2 sensitivity``. Every reading (the noise-multiplier
    solve, ``max_steps``, the spend) is the PRV composition of these releases with the DP-SGD steps, so the
    whole fit is held to ``(epsilon, delta)`` without splitting the budget by basic composition.
    """

    def __init__(self, epsilon: float, delta: float, sample_rate: float, planned_steps: int, *,
                 noise_multiplier: float | None = None, sigma_max: float = 50.0,
                 prior_noise_multipliers: Sequence[float] = ()):
        from .analysis.dpsgd_plan import max_steps_within
        from .dpsgd import _prior_key, epsilon_prv, epsilon_rdp

        eps, dlt = check_epsilon_delta(epsilon, delta)
        if dlt <= 0:
            raise InvalidPrivacyParameterError("DP-SGD needs delta > 0. Fix: pass e.g. delta=1e-6.")
        if not 0 < sample_rate <= 1:
            raise InvalidPrivacyParameterError(f"sample_rate must be in (0, 1]; got {sample_rate}.")
        if planned_steps < 1:
            raise InvalidPrivacyParameterError(f"planned_steps must be >= 1; got {planned_steps}.")
        self.epsilon, self.delta, self.sample_rate = eps, dlt, float(sample_rate)
        self.planned_steps = int(planned_steps)
        prior = _prior_key(prior_noise_multipliers)  # validated (finite, > 0) and sorted: the cache key
        self.prior_noise_multipliers: tuple[float, ...] = tuple(float(m) for m in prior_noise_multipliers)
        self._prior = prior

        # The prior releases have already happened (or will, whatever the training does): they alone must fit.
        self.epsilon_prior = epsilon_prv(0.0, 0.0, 0, dlt, prior) if prior else 0.0
        if self.epsilon_prior >= eps:
            raise InvalidPrivacyParameterError(
                f"the Gaussian count releases alone (noise multipliers {', '.join(f'{m:.4g}' for m in prior)}) "
                f"already spend epsilon={self.epsilon_prior:.4g} (PRV) >= the target epsilon={eps:.4g} at "
                f"delta={dlt:.3g}, leaving nothing for DP-SGD. Fix: raise epsilon, or lower the share of the "
                "budget for the counts (more noise on them).")
        prior_note = (f" after the Gaussian count releases (which spend epsilon={self.epsilon_prior:.4g} alone)"
                      if prior else "")
        if epsilon_rdp(sigma_max, self.sample_rate, 1, dlt, prior) > eps and \
                epsilon_prv(sigma_max, self.sample_rate, 1, dlt, prior) > eps:
            raise InvalidPrivacyParameterError(
                f"epsilon={eps:.4g} is too small for even one DP-SGD step at sample rate {sample_rate:.4g}"
                f"{prior_note} (noise multiplier {sigma_max:g} would still spend more). Fix: raise epsilon, or "
                "lower the batch size (a smaller sample rate costs less per step)"
                + (", or lower the share of the budget for the counts." if prior else "."))
        if noise_multiplier is None:
            noise_multiplier = self._solve_noise_multiplier(sigma_max)
        self.noise_multiplier = float(noise_multiplier)
        # The step count the budget allows at this noise multiplier (== planned when it was solved here).
        self.max_steps = max_steps_within(
            lambda k: epsilon_prv(self.noise_multiplier, self.sample_rate, k, dlt, prior), eps, self.planned_steps)
        if self.max_steps < 1:
            raise InvalidPrivacyParameterError(
                f"epsilon={eps:.4g} is too small for even one DP-SGD step with noise multiplier "
                f"{self.noise_multiplier:g}{prior_note}. Fix: raise epsilon or the noise multiplier"
                + (", or lower the share of the budget for the counts." if prior else "."))
        self.steps = 0

    def _solve_noise_multiplier(self, sigma_max: float) -> float:
        """The smallest noise multiplier whose PRV reading of the planned run (prior included) is <= epsilon."""
        from .analysis.dpsgd_plan import solve_noise_multiplier
        from .dpsgd import epsilon_prv, epsilon_rdp

        # RDP is cheap and looser than PRV: its solution brackets the PRV one from above, so the PRV search
        # (about 0.1-0.3 s per reading) only runs on [0.85 * sigma_rdp, sigma_rdp] (and below it, should the PRV
        # solution lie lower). The prior releases are in every reading.
        try:
            s_rdp = solve_noise_multiplier(
                lambda s: epsilon_rdp(s, self.sample_rate, self.planned_steps, self.delta, self._prior), self.epsilon,
                sigma_max=sigma_max, rel_tol=0.005)
        except InvalidPrivacyParameterError:
            s_rdp = sigma_max
        prv = lambda s: epsilon_prv(s, self.sample_rate, self.planned_steps, self.delta, self._prior)  # noqa: E731
        if s_rdp < sigma_max and prv(s_rdp) <= self.epsilon:
            lo = max(0.3, 0.85 * s_rdp)
            noise_multiplier = solve_noise_multiplier(prv, self.epsilon, sigma_min=lo, sigma_max=s_rdp)
            if noise_multiplier == lo > 0.3:  # the bracket was too narrow (PRV fits below it): search below
                noise_multiplier = solve_noise_multiplier(prv, self.epsilon, sigma_max=lo)
        else:
            noise_multiplier = solve_noise_multiplier(prv, self.epsilon, sigma_max=sigma_max)
        return noise_multiplier

    def check_step(self) -> None:
        """Raise :class:`BudgetExceededError` if one more step would spend more than the target."""
        if self.steps + 1 > self.max_steps:
            raise BudgetExceededError(
                f"DP-SGD step {self.steps + 1} would exceed epsilon={self.epsilon:.4g} "
                f"(budget allows {self.max_steps} steps at noise multiplier {self.noise_multiplier:.4g}"
                + (" after the Gaussian count releases)." if self._prior else ")."))

    def can_step(self) -> bool:
        return self.steps + 1 <= self.max_steps

    def record_step(self) -> None:
        self.check_step()
        self.steps += 1

    def epsilon_spent(self, accountant: str = "prv") -> float:
        """Epsilon of the prior releases composed with the steps taken (the prior alone before any step)."""
        from .dpsgd import epsilon_prv, epsilon_rdp

        fn = epsilon_prv if accountant == "prv" else epsilon_rdp
        if not self.steps and not self._prior:
            return 0.0
        return fn(self.noise_multiplier, self.sample_rate, self.steps, self.delta, self._prior)

    def _cap(self) -> float:
        """PRV reading of the prior with ``max_steps`` steps: <= the target, evaluated (so cached) in __init__."""
        from .dpsgd import epsilon_prv

        return epsilon_prv(self.noise_multiplier, self.sample_rate, self.max_steps, self.delta, self._prior)

    def epsilon_reading(self) -> float:
        """A cheap upper bound on the spend so far, for progress bars and per-epoch callbacks.

        ``min(RDP(prior + steps taken), PRV(prior + max_steps))``: both are valid upper bounds on the epsilon of
        the prior releases and the steps taken (the PRV one because epsilon grows with the steps and
        ``max_steps`` was already evaluated, hence cached), so their minimum is one too, and it never reads above
        the target. An RDP reading costs ~0.05 s, a PRV one 0.2-0.3 s (on a loaded 2-core machine): 30 PRV
        readings would add seconds to a 30-epoch fit. The final spend (:meth:`to_spend`) is the PRV reading of the
        prior and the steps actually taken. Before any step it reads the prior alone (0 without one).
        """
        from .dpsgd import epsilon_rdp

        if not self.steps and not self._prior:
            return 0.0
        rdp = epsilon_rdp(self.noise_multiplier, self.sample_rate, self.steps, self.delta, self._prior)
        return min(rdp, self._cap())

    def to_spend(self, **details) -> DPSpend:
        """The (epsilon, delta) of the prior releases and the steps taken: PRV epsilon, RDP epsilon in the details.

        The PRV reading of the steps taken, capped by the PRV reading of ``max_steps`` (also a valid upper bound
        on fewer steps, and <= the target by construction), so numerical noise in the PRV grid can never report
        a spend above the target.
        """
        eps = min(self.epsilon_spent("prv"), self._cap())
        if eps > self.epsilon + 1e-9:  # cannot happen: every step was checked against max_steps
            raise BudgetExceededError(f"internal error: DP-SGD spent {eps} above its target {self.epsilon}.")
        info = {"noise_multiplier": self.noise_multiplier, "sample_rate": self.sample_rate,
                "steps": self.steps, "planned_steps": self.planned_steps, "epsilon_prv": eps,
                "epsilon_rdp": self.epsilon_spent("rdp"), "sampling": "Poisson",
                "target": {"epsilon": self.epsilon, "delta": self.delta}}
        if self._prior:
            info["prior_gaussians"] = [{"noise_multiplier": m, "sample_rate": 1.0, "steps": 1}
                                       for m in self.prior_noise_multipliers]
            info["epsilon_prior_prv"] = self.epsilon_prior
            info["composition"] = "PRV composition of the Gaussian count releases and the DP-SGD steps"
        info.update(details)
        spent = bool(self.steps or self._prior)
        return DPSpend(eps, self.delta if spent else 0.0, "PRV (Opacus)", details=info)
