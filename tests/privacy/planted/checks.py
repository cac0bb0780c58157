"""Statistical privacy checks: plain functions ``check(name)`` that raise ``AssertionError``.

They run against the real DP generators (which must pass) and against the planted broken variants in
:mod:`planted.plants` (each of which at least one check must fail). Every world draws fresh noise: no check
relies on a shared seed. Thresholds come with a statistical margin so a correct generator fails with probability
below about 1e-4 per check.

- :func:`check_noise_level`: the spread of ``rows_estimate_`` over refits on the same data is at least half the
  sd the generator's mechanism implies (computed from the spend it reports), so noise ten times too small shows.
- :func:`check_exact_n_not_released`: ``rows_estimate_`` is not the exact n, and no manifest value equals a
  function of n (n, 1/n, p/n, n/p for any numeric parameter p) in every refit.
- :func:`check_distinguish`: a threshold classifier on released statistics (``rows_estimate_``, the share of
  samples near the canary's value) telling D from D plus one row must not beat the claimed epsilon:
  ``TPR <= e^eps FPR + delta`` and ``1 - FPR <= e^eps (1 - TPR) + delta``, judged on Clopper-Pearson bounds.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterator

import numpy as np
from scipy.stats import beta

from synthgen.generators import registry
from synthgen.privacy.spend import NoGuarantee
from synthgen.testing import contract

ALPHA = 1e-4  # false-alarm probability of one statistical check on a correct generator (Bonferroni inside)
DISTINGUISH_EPSILON = 0.25  # small, so a leak is caught with few fits

# Fits per check. dp-ctgan's fits take seconds (the DP-SGD schedule is solved per fit from its noisy row count):
# 8 refits for the noise level, 2 for exact n, and no distinguishing test (it would need ~80 fits for power; its n
# leak is covered by test_distinguish.py and the exact-n check).
BUDGETS = {"default": {"refits": 30, "exact_n": 3, "calibrate": 10, "trials": 30},
           "dp-ctgan": {"refits": 8, "exact_n": 2, "calibrate": 0, "trials": 0}}
# Parameters that make fits faster without changing the privacy statistics the checks read (training length only;
# every noisy release happens before training).
FAST_PARAMS = {"dp-image": {"n_iter": 5}, "dp-ctgan": {"epochs": 1, "batch_size": 32}}


def budget(name: str, key: str) -> int:
    return BUDGETS.get(name, BUDGETS["default"])[key]


def _details(gen: Any) -> dict:
    spent = gen.privacy_spent_
    if isinstance(spent, NoGuarantee):
        spent = spent.accounted
    return dict(spent.details) if spent is not None else {}


# ------------------------------------------------------------------------------------------------ noise models
def _copula_rows_sd(gen: Any) -> float:
    """dp-copula: rows_estimate_ is the mean over columns of each noisy histogram's total (value bins plus a null
    bin for nullable columns, Gaussian noise of variance 1 / (2 rho_c) per bin)."""
    d = _details(gen)
    var, m = 0.0, 0
    for col, b in d["bins"].items():
        k = int(b["bins"]) + int(bool(gen.schema_[col].nullable))
        var += k / (2.0 * float(d["rho_split"][f"marginal:{col}"]))
        m += 1
    return math.sqrt(var) / m


def _image_rows_sd(gen: Any) -> float:
    """dp-image: rows_estimate_ is the sum of the k noisy class counts (one histogram, rho of "counts")."""
    d = _details(gen)
    return math.sqrt(len(gen.classes_) / (2.0 * float(d["rho_split"]["counts"])))


def _zcdp_floor(gen: Any) -> float:
    """Any unbiased estimate of n under rho-zCDP has sd >= 1 / sqrt(2 rho) (Hammersley-Chapman-Robbins with the
    Renyi-2 divergence bound 2 rho of neighbouring datasets): a floor for generators without a precise model."""
    return 1.0 / math.sqrt(2.0 * float(_details(gen)["rho_total"]))


def _ctgan_rows_sd(gen: Any) -> float:
    """dp-ctgan states the sd of its row estimate (from its count release's per-cell noise) in the spend."""
    return float(_details(gen)["rows_estimate"]["noise_std"])


NOISE_MODELS: dict[str, Callable[[Any], float]] = {"dp-copula": _copula_rows_sd, "dp-image": _image_rows_sd,
                                                   "dp-ctgan": _ctgan_rows_sd}


def expected_rows_sd(name: str, gen: Any) -> float:
    model = NOISE_MODELS.get(name)
    if model is None:
        assert "rho_total" in _details(gen), \
            f"{name}: no noise model for rows_estimate_; add one to NOISE_MODELS in {__name__}"
        model = _zcdp_floor
    return model(gen)


# ------------------------------------------------------------------------------------------------------ checks
def refits(name: str, k: int, canary: bool = True, **params: Any) -> Iterator[Any]:
    """``k`` fits on the same world with the same random_state: only the privacy noise differs between them."""
    data = contract.world(name, canary=canary)
    for _ in range(k):
        yield contract.fit(name, random_state=0, data=data, **params)


def check_noise_level(name: str) -> None:
    gens = list(refits(name, budget(name, "refits")))
    est = np.array([g.rows_estimate_ for g in gens])
    expected = expected_rows_sd(name, gens[0])
    # Gaussian noise: P(sample sd < expected / 2) with 30 fits is ~1e-6 (chi-square, 29 df); 8 fits: P(< 0.3) ~6e-4
    frac = 0.5 if len(gens) >= 30 else 0.3
    assert est.std(ddof=1) >= frac * expected, \
        f"{name}: rows_estimate_ varies by sd {est.std(ddof=1):.3g} over refits; the mechanism implies {expected:.3g}"


def _functions_of_n(n: int, params: dict) -> list[float]:
    out = [float(n), 1.0 / n]
    for p in params.values():
        if isinstance(p, (int, float)) and not isinstance(p, bool) and p not in (0, 1) and math.isfinite(p):
            out += [p / n, n / p]
    return out


def leaves(obj: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from leaves(v, f"{path}/{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from leaves(v, f"{path}/{i}")
    else:
        yield path, obj


def check_exact_n_not_released(name: str) -> None:
    data = contract.world(name, canary=True)
    n = contract.n_rows(data[0])
    gens = [contract.fit(name, random_state=0, data=data) for _ in range(budget(name, "exact_n"))]
    assert not all(g.rows_estimate_ == n for g in gens), f"{name}: rows_estimate_ is the exact row count n"
    targets = _functions_of_n(n, gens[0].get_params())
    # A value that is the same in a fit on D (one row fewer) does not follow n: a public value of the declared
    # schema (e.g. a grid point of an integer column's declared range that happens to equal n) is not a leak.
    smaller = dict(leaves(contract.saved_manifest(contract.fit(name, random_state=0, data=contract.world(name)))))
    hits = None
    for g in gens:
        found = {p for p, v in leaves(contract.saved_manifest(g))
                 if isinstance(v, (int, float)) and not isinstance(v, bool) and smaller.get(p) != v
                 and any(math.isclose(v, t, rel_tol=1e-9) for t in targets)}
        hits = found if hits is None else hits & found
    assert not hits, f"{name}: manifest values equal a function of the exact n in every refit: {sorted(hits)}"


NOT_COMPARED = {"created", "manifest_sha256", "files", "state", "rows_estimate", "ledger_entry", "synthgen_version"}


def deterministic_differences(per_world: dict[bool, list[Any]]) -> list[str]:
    """Paths whose value is the same in every fit on one world (so not noise) but differs between the worlds."""
    flat = {w: [dict(leaves(doc)) for doc in docs] for w, docs in per_world.items()}
    diffs = []
    for path in set().union(*(d.keys() for docs in flat.values() for d in docs)):
        vals = {w: [d.get(path, "<missing>") for d in docs] for w, docs in flat.items()}
        if all(len(set(map(repr, v))) == 1 for v in vals.values()) and repr(vals[False][0]) != repr(vals[True][0]):
            diffs.append(f"{path}: {vals[False][0]!r} (n rows) vs {vals[True][0]!r} (n+1 rows)")
    return sorted(diffs)


def check_manifest_not_function_of_n(name: str, fits: int = 3) -> None:
    """D vs D plus one row (rows.max undeclared): no manifest field outside the noisy ones depends on n."""
    docs = {}
    for canary in (False, True):
        data = contract.world(name, canary=canary, rows_max=None)
        docs[canary] = [{k: v for k, v in contract.saved_manifest(contract.fit(name, random_state=0, data=data))
                         .items() if k not in NOT_COMPARED} for _ in range(fits)]
    diffs = deterministic_differences(docs)
    assert not diffs, f"{name}: manifest fields are a function of the exact row count: {diffs}"


def released_statistics(name: str, gen: Any) -> dict[str, float]:
    stats = {"rows_estimate": float(gen.rows_estimate_)}
    if registry.get(name).data_kind == "table":
        stats["near_canary"], stats["canary_category"] = contract.canary_shares(gen, n=5000)
    return stats


def clopper_pearson(k: int, n: int, alpha: float) -> tuple[float, float]:
    """One-sided (1 - alpha) lower and upper bounds on a binomial proportion."""
    lo = 0.0 if k == 0 else float(beta.ppf(alpha, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - alpha, k + 1, n - k))
    return lo, hi


def check_distinguish(name: str) -> None:
    """D vs D plus the canary row, fresh noise per fit: no threshold classifier beats the claimed epsilon."""
    cal, trials = budget(name, "calibrate"), budget(name, "trials")
    assert trials > 0, f"{name}: no distinguishing budget (see BUDGETS)"
    stats: dict[bool, list[dict]] = {}
    spent = None
    for canary in (False, True):
        data = contract.world(name, canary=canary)
        gens = (contract.fit(name, random_state=None, data=data, epsilon=DISTINGUISH_EPSILON)
                for _ in range(cal + trials))
        stats[canary] = []
        for g in gens:
            stats[canary].append(released_statistics(name, g))
            spent = g.privacy_spent_
    eps, delta = spent.epsilon, spent.delta
    assert math.isfinite(eps), f"{name}: no finite epsilon claimed"
    keys = list(stats[False][0])
    alpha = ALPHA / (2 * len(keys))
    for key in keys:
        c0, c1 = (np.array([s[key] for s in stats[w][:cal]]) for w in (False, True))
        t0, t1 = (np.array([s[key] for s in stats[w][cal:]]) for w in (False, True))
        thr, sign = (c0.mean() + c1.mean()) / 2, (1.0 if c1.mean() >= c0.mean() else -1.0)
        tpr = clopper_pearson(int(np.sum(sign * (t1 - thr) > 0)), trials, alpha)
        fpr = clopper_pearson(int(np.sum(sign * (t0 - thr) > 0)), trials, alpha)
        assert tpr[0] <= math.exp(eps) * fpr[1] + delta and 1 - fpr[1] <= math.exp(eps) * (1 - tpr[0]) + delta, \
            (f"{name}: a threshold on {key} tells D from D plus one row (TPR >= {tpr[0]:.2f}, FPR <= {fpr[1]:.2f}) "
             f"better than epsilon={eps:g} allows")


PRIVACY_CHECKS: tuple[Callable[[str], None], ...] = (
    contract.check_fresh_noise_per_fit, check_exact_n_not_released, check_manifest_not_function_of_n,
    contract.check_canary_not_in_artifact,
    check_noise_level, contract.check_canary_effect, check_distinguish)
TABLE_ONLY = (contract.check_canary_not_in_artifact, contract.check_canary_effect)


def privacy_checks(name: str) -> list[Callable[[str], None]]:
    table = registry.get(name).data_kind == "table"
    return [c for c in PRIVACY_CHECKS if (table or c not in TABLE_ONLY)
            and (c is not check_distinguish or budget(name, "trials") > 0)]
