"""The distinguishing game: fit a DP generator many times on D and on D' = D plus a canary, score every fit, and
turn the scores into an empirical lower bound on epsilon.

1. The worst-case pair comes from :mod:`.worlds`; fits alternate between the worlds. Every fit draws fresh privacy
   noise (the generator's own :func:`~synthgen.privacy.noise.privacy_noise`, OS entropy); ``random_state`` only
   seeds initialisation and sampling.
2. The SELECTED test: each world's scores are split in two halves. On the THRESHOLD half the game picks the
   statistic, threshold and direction with the largest Clopper-Pearson bound; on the BOUND half it counts that one
   test's true and false positives and certifies a bound (:func:`~.bounds.epsilon_lower_bound`). No score is used
   twice. The statistics are the strength's named ones (:mod:`.scores`) and, for white-box and model-based
   scores, one per field of the metadata the fits release (``metadata:<path>``, :mod:`.metadata`).
3. The PRE-REGISTERED test, where the mechanism's Gaussian-DP mu for the canary is known from the public plan
   (dp-copula's white-box ``release-lr``): its threshold is fixed from that mu and the trial count alone
   (:func:`~.bounds.attainable_epsilon`) before any score is read, so it is judged on ALL fits of both worlds.
   With two tests each bound is taken at confidence 97.5 % and ``epsilon_lb`` is the larger: jointly 95 % (union
   bound). Without a known mu only the selected test runs, at 95 %.
4. From all scores of the strength's primary statistic (no selection involved) it fits a Gaussian-DP ``mu_hat``
   with its 95 % interval and converts it to epsilon at the claimed delta (``epsilon_from_mu``; at the interval's
   lower end: ``epsilon_from_mu_lb``). This is an estimate that assumes Gaussian scores (exact for dp-copula's
   white-box statistic), so the verdict uses ``epsilon_lb`` only. ``epsilon_lb_attainable`` is the bound the
   pre-registered test reaches at these trial counts when its counts come out at their expected values (what
   the trial count allows against this mechanism).

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

from . import bounds, metadata
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


def _fit(name: str, strength: str, params: dict, worlds: Any, world: int, seed: int) -> Any:
    gen = make_generator(name, strength, params)
    gen.fit(worlds.data(bool(world)), worlds.schema, random_state=int(seed))
    return gen


def _play(name: str, strength: str, params: dict, worlds: Any, trials: int, random_state: Any,
          progress: bool | None) -> tuple[np.ndarray, list[str], Any, list[float]]:
    """scores[world, trial, statistic], the statistics' names, the first fit and the mechanism's mu per fit."""
    stats = statistics(name, strength)
    mu_fn = mechanism_mu(name, strength)
    seeds = np.random.default_rng(random_state).integers(0, 2**31 - 1, size=(trials, 2))
    out = np.zeros((2, trials, len(stats)))
    fields: list[list[dict]] = [[], []]
    first, mus = None, []
    with _progress(2 * trials, progress) as bar:
        for t in range(trials):
            for world in (0, 1):
                gen = _fit(name, strength, params, worlds, world, seeds[t, world])
                out[world, t] = [fn(gen, worlds) for _, fn in stats]
                if strength != "black-box":
                    fields[world].append(metadata.released_fields(gen))
                first = gen if first is None else first
                if mu_fn is not None:
                    mus.append(mu_fn(gen, worlds))
                bar.update(1)
    names = [n for n, _ in stats]
    if fields[0]:
        extra, values = metadata.field_matrix(fields[0] + fields[1])
        out = np.concatenate([out, values.reshape(2, trials, len(extra))], axis=2)
        names += extra
    return out, names, first, mus


def _candidates(s0: np.ndarray, s1: np.ndarray) -> np.ndarray:
    u = np.unique(np.concatenate([s0, s1]))
    mids = (u[:-1] + u[1:]) / 2.0
    if len(mids) > MAX_THRESHOLDS:
        mids = np.quantile(mids, np.linspace(0, 1, MAX_THRESHOLDS))
    return mids


def _rates(s0: np.ndarray, s1: np.ndarray, thr: float, sign: float) -> tuple[int, int]:
    """(true positives on D', false positives on D) of the test "D'" iff ``sign * (score - thr) > 0``."""
    return int(np.sum(sign * (s1 - thr) > 0)), int(np.sum(sign * (s0 - thr) > 0))


def _column_best(a0: np.ndarray, a1: np.ndarray, delta: float, confidence: float) -> tuple[float, float, float]:
    """(threshold, sign, bound) of the best threshold test on one statistic (first of equal bounds: lower
    threshold, then sign +1)."""
    thr = _candidates(a0, a1)
    if not len(thr):
        return 0.0, 1.0, -1.0
    s0, s1 = np.sort(a0), np.sort(a1)
    below0, below1 = np.searchsorted(s0, thr, side="left"), np.searchsorted(s1, thr, side="left")
    up0, up1 = len(s0) - np.searchsorted(s0, thr, side="right"), len(s1) - np.searchsorted(s1, thr, side="right")
    e_up = bounds.epsilon_lower_bounds(up1, len(s1), up0, len(s0), delta, confidence)
    e_dn = bounds.epsilon_lower_bounds(below1, len(s1), below0, len(s0), delta, confidence)
    i, k = int(np.argmax(e_up)), int(np.argmax(e_dn))
    if e_dn[k] > e_up[i]:
        return float(thr[k]), -1.0, float(e_dn[k])
    return float(thr[i]), 1.0, float(e_up[i])


def choose_test(s0: np.ndarray, s1: np.ndarray, delta: float, confidence: float = CONFIDENCE
                ) -> tuple[int, float, float, float]:
    """(statistic index, threshold, sign, bound on this half) maximising the Clopper-Pearson bound; ``s0``/``s1``
    are (trials, statistics) arrays of one half. Ties keep the earlier (primary) statistic."""
    best = (0, float(np.median(np.concatenate([s0[:, 0], s1[:, 0]]))), 1.0, -1.0)
    for j in range(s0.shape[1]):
        thr, sign, eps = _column_best(s0[:, j], s1[:, j], delta, confidence)
        if eps > best[3]:
            best = (j, thr, sign, eps)
    return best


def _selected(scores: np.ndarray, delta: float, confidence: float) -> dict:
    """The selected test: chosen on the threshold half, judged on the bound half."""
    half = scores.shape[1] // 2
    j, thr, sign, _ = choose_test(scores[0, :half], scores[1, :half], delta, confidence)
    b0, b1 = scores[0, half:, j], scores[1, half:, j]
    tp, fp = _rates(b0, b1, thr, sign)
    return {"statistic": j, "threshold": thr, "sign": sign, "tp": tp, "fp": fp, "n1": len(b1), "n0": len(b0),
            "epsilon_lb": bounds.epsilon_lower_bound(tp, len(b1), fp, len(b0), delta, confidence)}


def _preregistered(scores: np.ndarray, mu_ref: float, delta: float, confidence: float) -> dict:
    """The pre-registered test on the primary statistic: threshold from ``mu_ref`` and the trial count only."""
    n = scores.shape[1]
    _, thr = bounds.attainable_epsilon(mu_ref, n, n, delta, confidence)
    tp, fp = _rates(scores[0, :, 0], scores[1, :, 0], thr, 1.0)
    return {"statistic": 0, "threshold": thr, "sign": 1.0, "tp": tp, "fp": fp, "n1": n, "n0": n, "mu_ref": mu_ref,
            "epsilon_lb": bounds.epsilon_lower_bound(tp, n, fp, n, delta, confidence)}


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
    mu_ref = _reference_mu(generator, score, gen_params, worlds, random_state)
    scores, names, first, mus = _play(generator, score, gen_params, worlds, int(trials), random_state, progress)
    eps_c, delta_c = group_claim(*_claimed(first.privacy_spent_), worlds.repeats)
    conf = CONFIDENCE if mu_ref is None else 1.0 - (1.0 - CONFIDENCE) / 2.0  # two tests: union bound
    tests = {"selected": _selected(scores, delta_c, conf)}
    if mu_ref is not None:
        tests["pre-registered"] = _preregistered(scores, mu_ref, delta_c, conf)
    which = max(tests, key=lambda k: tests[k]["epsilon_lb"])
    win = tests[which]
    for t in tests.values():
        t["statistic"] = names[t["statistic"]]
    n_full = int(trials) if mu_ref is not None else int(trials) - int(trials) // 2
    mu_mech = float(np.mean(mus)) if mus else None
    empirical = {"epsilon_lb": win["epsilon_lb"], "tpr": win["tp"] / win["n1"], "fpr": win["fp"] / win["n0"],
                 **_gdp(scores[0, :, 0], scores[1, :, 0], delta_c), "mu_mechanism": mu_mech,
                 "epsilon_lb_attainable": None if mu_mech is None
                 else bounds.attainable_epsilon(mu_mech, n_full, n_full, delta_c, conf)[0],
                 "confidence_per_test": conf, "tests": tests}
    half = int(trials) // 2
    game = {"kind": "distinguishing", "canary": canary, "score": score, "trials": int(trials),
            "split": {"threshold": half, "bound": int(trials) - half}, "statistic": win["statistic"],
            "test": which, "statistics": len(names), "repeats": worlds.repeats, "rows": int(n_rows)}
    checked = None
    if accounting:
        from .accounting import check_accounting

        checked = check_accounting(first)
    return AuditResult(generator=generator, params=first.get_params(), claimed={"epsilon": eps_c, "delta": delta_c},
                       game=game, empirical=empirical, accounting=checked,
                       certifiable_epsilon=bounds.certifiable_epsilon(n_full, n_full, delta_c, conf))


def _reference_mu(name: str, strength: str, params: dict, worlds: Any, random_state: Any) -> float | None:
    """The mechanism's mu for the canary from one extra fit on D' that the game does not score (so the
    pre-registered threshold depends on no scored fit); None where no mu is known."""
    mu_fn = mechanism_mu(name, strength)
    if mu_fn is None:
        return None
    seed = int(np.random.default_rng(random_state).integers(2**31 - 1))  # seeds init/sampling only, never noise
    return float(mu_fn(_fit(name, strength, params, worlds, 1, seed), worlds))
