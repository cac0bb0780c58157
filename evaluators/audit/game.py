"""The distinguishing game: fit a DP generator many times on D and on D' = D plus a canary, score every fit, and
turn the scores into an empirical lower bound on epsilon.

1. The worst-case pair comes from :mod:`.worlds`; fits alternate between the worlds. Every fit draws fresh privacy
   noise (the generator's own :func:`~synthgen.privacy.noise.privacy_noise`, OS entropy); ``random_state`` only
   seeds initialisation and sampling.
2. Each world's scores are split in two halves. On the THRESHOLD half the game picks the statistic, threshold and
   direction with the largest Clopper-Pearson bound; on the BOUND half it counts that one test's true and false
   positives and certifies ``epsilon_lb`` (:func:`~.bounds.epsilon_lower_bound`, 95 %). No score is used twice.
3. From all scores of the strength's primary statistic (no selection involved) it fits a Gaussian-DP ``mu_hat``
   with its 95 % interval and converts it to epsilon at the claimed delta (``epsilon_from_mu``; at the interval's
   lower end: ``epsilon_from_mu_lb``). This is an estimate that assumes Gaussian scores (exact for dp-copula's
   white-box statistic), so the verdict uses ``epsilon_lb`` only.

The claim comes from the fits' own spend (for a repeated canary: its group-privacy consequence, see
:func:`~.worlds.group_claim`). The worlds are built for the audit, so the result holds nothing private.
"""
from __future__ import annotations

import math
import sys
from typing import Any, Mapping

import numpy as np

from synthgen.exceptions import ConfigError, PrivacyError
from synthgen.privacy.spend import NoGuarantee

from . import bounds
from .result import AuditResult
from .scores import make_generator, mechanism_mu, statistics
from .worlds import group_claim, make_worlds

CONFIDENCE = 0.95
MAX_THRESHOLDS = 400


def _claimed(spent: Any) -> tuple[float, float]:
    if isinstance(spent, NoGuarantee):
        spent = spent.accounted
    if spent is None or not math.isfinite(float(spent.epsilon)):
        raise PrivacyError("the audited fit records no finite (epsilon, delta) claim, so there is nothing to audit.")
    return float(spent.epsilon), float(spent.delta)


def _progress(total: int, show: bool | None) -> Any:
    from tqdm.auto import tqdm

    disable = not sys.stderr.isatty() if show is None else not show
    return tqdm(total=total, desc="audit fits", file=sys.stderr, leave=False, disable=disable)


def _play(name: str, strength: str, params: dict, worlds: Any, trials: int, random_state: Any,
          progress: bool | None) -> tuple[np.ndarray, list, Any, list[float]]:
    """scores[world, trial, statistic], the statistics, the first fit and the mechanism's mu per fit."""
    stats = statistics(name, strength)
    mu_fn = mechanism_mu(name, strength)
    data = [worlds.data(False), worlds.data(True)]
    seeds = np.random.default_rng(random_state).integers(0, 2**31 - 1, size=(trials, 2))
    out = np.zeros((2, trials, len(stats)))
    first, mus = None, []
    with _progress(2 * trials, progress) as bar:
        for t in range(trials):
            for world in (0, 1):
                gen = make_generator(name, strength, params)
                gen.fit(data[world], worlds.schema, random_state=int(seeds[t, world]))
                out[world, t] = [fn(gen, worlds) for _, fn in stats]
                first = gen if first is None else first
                if mu_fn is not None:
                    mus.append(mu_fn(gen, worlds))
                bar.update(1)
    return out, stats, first, mus


def _candidates(s0: np.ndarray, s1: np.ndarray) -> np.ndarray:
    u = np.unique(np.concatenate([s0, s1]))
    mids = (u[:-1] + u[1:]) / 2.0
    if len(mids) > MAX_THRESHOLDS:
        mids = np.quantile(mids, np.linspace(0, 1, MAX_THRESHOLDS))
    return mids


def _rates(s0: np.ndarray, s1: np.ndarray, thr: float, sign: float) -> tuple[int, int]:
    """(true positives on D', false positives on D) of the test "D'" iff ``sign * (score - thr) > 0``."""
    return int(np.sum(sign * (s1 - thr) > 0)), int(np.sum(sign * (s0 - thr) > 0))


def choose_test(s0: np.ndarray, s1: np.ndarray, delta: float) -> tuple[int, float, float, float]:
    """(statistic index, threshold, sign, bound on this half) maximising the Clopper-Pearson bound; ``s0``/``s1``
    are (trials, statistics) arrays of one half. Ties keep the earlier (primary) statistic."""
    best = (0, float(np.median(np.concatenate([s0[:, 0], s1[:, 0]]))), 1.0, -1.0)
    for j in range(s0.shape[1]):
        for thr in _candidates(s0[:, j], s1[:, j]):
            for sign in (1.0, -1.0):
                tp, fp = _rates(s0[:, j], s1[:, j], float(thr), sign)
                eps = bounds.epsilon_lower_bound(tp, len(s1), fp, len(s0), delta, CONFIDENCE)
                if eps > best[3]:
                    best = (j, float(thr), sign, eps)
    return best


def _gdp(s0: np.ndarray, s1: np.ndarray, delta: float) -> dict:
    mu, lo, hi = bounds.gdp_mu_hat(s0, s1, CONFIDENCE)
    return {"mu_hat": mu, "mu_ci": [lo, hi], "epsilon_from_mu": bounds.gdp_epsilon(mu, delta),
            "epsilon_from_mu_lb": bounds.gdp_epsilon(lo, delta)}


def _check(trials: Any, params: Mapping[str, Any] | None) -> dict:
    if isinstance(trials, bool) or not isinstance(trials, (int, np.integer)) or trials < 4:
        raise ConfigError(f"trials must be an integer >= 4 (fits per world, split in halves); got {trials!r}.")
    params = dict(params or {})
    clash = sorted({"epsilon", "delta"} & set(params))
    if clash:
        raise ConfigError(f"pass {clash} as audit(..., epsilon=, delta=), not in params.")
    return params


def audit(generator: str, *, params: Mapping[str, Any] | None = None, epsilon: float = 1.0,
          delta: float | None = None, canary: str = "outlier", score: str = "white-box", trials: int = 200,
          random_state: Any = None, n_rows: int = 100, repeats: int = 2, progress: bool | None = None,
          accounting: bool = False) -> AuditResult:
    """Play the distinguishing game against ``generator`` (a registry name) fitted with ``params`` at the claimed
    ``epsilon``/``delta``; ``trials`` fits per world (the game's rows: ``n_rows`` in D, the canary ``repeats``
    times for ``canary="repeated"``). ``progress``: a tqdm bar (default: only on a terminal). ``accounting``: also
    recompute the first fit's epsilon with :func:`~evaluators.audit.accounting.check_accounting`. See the module
    docstring."""
    params = _check(trials, params)
    worlds = make_worlds(canary, n=n_rows, repeats=repeats, random_state=0)
    gen_params = {**params, "epsilon": epsilon, "delta": delta}
    scores, stats, first, mus = _play(generator, score, gen_params, worlds, int(trials), random_state, progress)
    eps_c, delta_c = group_claim(*_claimed(first.privacy_spent_), worlds.repeats)
    half = int(trials) // 2
    j, thr, sign, _ = choose_test(scores[0, :half], scores[1, :half], delta_c)
    b0, b1 = scores[0, half:, j], scores[1, half:, j]
    tp, fp = _rates(b0, b1, thr, sign)
    empirical = {"epsilon_lb": bounds.epsilon_lower_bound(tp, len(b1), fp, len(b0), delta_c, CONFIDENCE),
                 "tpr": tp / len(b1), "fpr": fp / len(b0), **_gdp(scores[0, :, 0], scores[1, :, 0], delta_c),
                 "mu_mechanism": float(np.mean(mus)) if mus else None}
    game = {"kind": "distinguishing", "canary": canary, "score": score, "trials": int(trials),
            "split": {"threshold": half, "bound": int(trials) - half}, "statistic": stats[j][0],
            "repeats": worlds.repeats, "rows": int(n_rows)}
    checked = None
    if accounting:
        from .accounting import check_accounting

        checked = check_accounting(first)
    return AuditResult(generator=generator, params=first.get_params(), claimed={"epsilon": eps_c, "delta": delta_c},
                       game=game, empirical=empirical, accounting=checked,
                       certifiable_epsilon=bounds.certifiable_epsilon(len(b1), len(b0), delta_c, CONFIDENCE))
