"""One-run audit of a generator's noisy COUNT release (Steinke, Nasr & Jagielski 2023, applied to histograms).

Why. A distinguishing game gets one observation per fit, so a count release whose noise is ten times too small
(Gaussian-DP mu about 0.7 at claimed epsilon 1 for dp-ctgan's counts) needs thousands of fits per world before
its Clopper-Pearson bound passes 1. One fit can hold many canaries instead: ``m`` canaries, canary ``i`` a row
whose only value is its own declared category ``c<i>`` of the one column ``tag``; each is in the training table
with probability 1/2 (the auditor's seeded fair coins, never privacy noise; the fit's noise is OS entropy), beside
``n_base`` rows of category ``base``. Each canary moves only its own cell of every histogram the generator
releases, so the released count (or frequency) of ``c<i>`` is a score for canary ``i``'s coin.

Many fits, one run. ``runs`` fits, each with its own ``m`` canaries and coins (its own base rows), form ONE
mechanism on all ``runs * m`` canaries: a canary's coin changes one row of one fit's table only, so the tuple of
releases is (epsilon, delta)-DP with respect to every canary whenever each fit is (parallel composition), which
is all the theorem asks. (DP-CTGAN's plan refuses tables whose networks it cannot hold; 10,000 categories per
fit stay far within it, 100,000 would not.)

The guesses. The auditor guesses "in" for the ``k`` canaries with the highest released counts (ties broken by the
canaries' order, which the coins do not affect) and abstains on the rest (released counts are rounded and clipped
at 0, so the low end is all ties and "out" guesses there would be coin flips). The number right ``r`` of ``k``
gives the bound of :func:`~.one_run.one_run_epsilon_lb` at the claimed delta (the theorem holds for any guessing
rule fixed before the coins are drawn, abstentions included).

What it sees: the count release only (DP-SGD and any other part of the fit add nothing to these scores). An
honest dp-ctgan at claimed epsilon 1 (count noise std ~14.8 per cell for one column) gives bounds near 0; the
same fits with the count noise ten times too small give bounds 1.56-2.1 with 100,000 canaries and 500 guesses
(min 1.56, median 1.79 in 100 simulated audits; 1.26-1.66 in five real ones with 30,000 canaries and 300
guesses); at claimed epsilon 4 an honest fit's bound sits near 0.5-0.7. Reader: dp-ctgan's count release as
its measure step hands it on (:func:`release_only_class`). The tables are built for the audit; nothing in the
result is private.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from synthgen.exceptions import ConfigError

from .one_run import _check_audit_args, one_run_epsilon_lb

TAG, BASE = "tag", "base"
ALPHA = 0.05

#: Parameters per generator under the caller's: the fit ends after the count release, but DP-CTGAN's plan checks
#: the memory its networks would need (small networks keep tens of thousands of categories within it).
FAST_PARAMS: dict[str, dict[str, Any]] = {
    "dp-ctgan": {"epochs": 1, "batch_size": 256, "embedding_dim": 8, "generator_dim": (16,),
                 "discriminator_dim": (16,), "verbose": False}}


def count_world(m: int, n_base: int) -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    """``(base, canaries, schema)``: one categorical column ``tag`` with categories ``base, c0 .. c<m-1>``
    (declared, public), ``n_base`` base rows, one canary row per ``c<i>``; declared rows ``[n_base, n_base + m]``."""
    from synthgen.schema import CategoricalField, RowBounds, Schema

    cats = (BASE,) + tuple(f"c{i}" for i in range(m))
    schema = Schema((CategoricalField(TAG, cats, categories_source="public:audit"),), name="audit-counts",
                    rows=RowBounds(min=n_base, max=n_base + m))
    return pd.DataFrame({TAG: [BASE] * n_base}), pd.DataFrame({TAG: list(cats[1:])}), schema


class ReleaseRecorded(Exception):
    """Raised by the release-only fit once the measure step has handed its release on (ends the fit there)."""


_RELEASE_ONLY: dict[type, type] = {}


def release_only_class(cls: type) -> type:
    """A subclass of DP-CTGAN whose estimate step records the count release (``audit_release_``), the plan and
    the encoder, then ends the fit (:class:`ReleaseRecorded`). Everything up to and including the measure step
    is the generator's own code (patched or not); the counts are a DP output of the fit, so a bound on them is a
    bound on the whole fit (post-processing), and skipping DP-SGD only saves time."""
    if cls not in _RELEASE_ONLY:
        def _estimate(self: Any, release: Any, plan: Any, enc: Any, *args: Any, **kwargs: Any) -> None:
            self.audit_release_, self.audit_plan_, self.audit_encoder_ = release, plan, enc
            raise ReleaseRecorded

        _RELEASE_ONLY[cls] = type(f"ReleaseOnly{cls.__name__}", (cls,),
                                  {"_estimate": _estimate, "__module__": __name__})
    return _RELEASE_ONLY[cls]


def _ctgan_counts(gen: Any, canaries: pd.DataFrame) -> np.ndarray:
    codes, _ = gen.audit_encoder_.encode(canaries)
    return np.asarray(gen.audit_release_.marginals[0], dtype=np.float64)[codes[:, 0].astype(int)]


READERS: dict[str, Callable[[Any, pd.DataFrame], np.ndarray]] = {"dp-ctgan": _ctgan_counts}


def guess_top(scores: np.ndarray, included: np.ndarray, k: int) -> int:
    """Correct guesses among "in" guesses for the ``k`` highest scores (stable order on ties)."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    return int(np.asarray(included, dtype=bool)[order[:k]].sum())


def _fit(generator: str, epsilon: float, params: Mapping[str, Any], table: pd.DataFrame, schema: Any,
         seed: int) -> Any:
    """The release-only fit; returns the model holding ``audit_release_`` and ``audit_plan_``."""
    from synthgen.generators import registry

    gen = release_only_class(registry.get(generator))(**{**FAST_PARAMS.get(generator, {}), **dict(params),
                                                          "epsilon": epsilon})
    try:
        gen.fit(table, schema, random_state=seed)
    except ReleaseRecorded:
        return gen
    raise ConfigError(f"the {generator} fit ended without handing a release to its estimate step.")


def _one_fit(generator: str, epsilon: float, params: Mapping[str, Any], m: int, n_base: int,
             ss: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray, Any]:
    """(released counts of the m canaries, their coins, the model) of one release-only fit."""
    coins_ss, fit_ss = ss.spawn(2)
    included = np.random.default_rng(coins_ss).random(m) < 0.5  # the auditor's fair coins
    base, canaries, schema = count_world(m, n_base)
    gen = _fit(generator, epsilon, params, pd.concat([base, canaries[included]], ignore_index=True), schema,
               int(fit_ss.generate_state(1)[0]))
    return READERS[generator](gen, canaries), included, gen


def count_one_run_audit(generator: str = "dp-ctgan", *, epsilon: float, m: int = 10000, runs: int = 10,
                        k_guesses: int = 500, params: Mapping[str, Any] | None = None,
                        random_state: int | None = None, n_base: int = 1000, alpha: float = ALPHA) -> Any:
    """``runs`` fits of ``generator``, each on ``n_base`` base rows plus each of its own ``m`` canaries with
    probability 1/2; the bound from the ``k_guesses`` highest released counts over all ``runs * m`` canaries
    (see the module docstring). Returns an :class:`~evaluators.audit.result.AuditResult` (game kind
    ``"one-run"``, statistic ``released-count``)."""
    from .result import AuditResult

    if generator not in READERS:
        raise ConfigError(f"the count one-run audit reads {sorted(READERS)}; got {generator!r}.")
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)) or runs < 1:
        raise ConfigError(f"runs must be a whole number >= 1; got {runs!r}.")
    total = int(m) * int(runs)
    _check_audit_args(total, k_guesses, n_base)
    t0 = time.perf_counter()
    fits = [_one_fit(generator, epsilon, params or {}, int(m), n_base, ss)
            for ss in np.random.SeedSequence(random_state).spawn(int(runs))]
    scores, included = np.concatenate([f[0] for f in fits]), np.concatenate([f[1] for f in fits])
    correct = guess_top(scores, included, k_guesses)
    target = fits[0][2].audit_plan_.target
    eps_c, delta_c = float(target.epsilon), float(target.delta)
    detail = {"canaries": total, "canaries_per_fit": int(m), "fits": int(runs), "included": int(included.sum()),
              "guesses": k_guesses, "correct": correct, "alpha": alpha, "base_rows": n_base,
              "guessing": "in for the highest released counts; abstain else",
              "fit_seconds": round(time.perf_counter() - t0, 2)}
    game = {"kind": "one-run", "canary": "unique-category", "score": "white-box", "statistic": "released-count",
            "trials": total, "split": {"threshold": 0, "bound": k_guesses}, "one_run": detail}
    eps_lb = one_run_epsilon_lb(k_guesses, correct, m=total, delta=delta_c, alpha=alpha)
    return AuditResult(generator=generator, params=fits[0][2].get_params(),
                       claimed={"epsilon": eps_c, "delta": delta_c}, game=game,
                       empirical={"epsilon_lb": eps_lb, "tpr": None, "fpr": None, "mu_hat": None, "mu_ci": None,
                                  "epsilon_from_mu": None},
                       certifiable_epsilon=one_run_epsilon_lb(k_guesses, k_guesses, m=total, delta=delta_c,
                                                              alpha=alpha))
