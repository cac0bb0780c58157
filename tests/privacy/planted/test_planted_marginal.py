"""The planted-bug set on dp-marginal: each plant (plants.py) is caught by the checks named for it, and the real
generator passes them.

dp-marginal's fits here use one fixed workload (one selected clique), so every fit has the same model structure
and reuses mbi's compiled program (the privacy statistics read by the checks, the noisy one-way totals behind
``rows_estimate_`` and the released marginals, do not depend on it). Its noise model: ``rows_estimate_`` is the
inverse-variance weighted mean of the one-way marginals' noisy totals, each total's variance ``k_j / (2 rho_j)``
(``k_j`` cells, ``rho_j`` the column's share of the spend's ``one-way`` budget); it is computed from the spend's
budget split and domain, never from the stated sigmas, so a formula bug in ``gaussian_sigma`` cannot hide itself.
"""
import math

import pytest

from synthgen.generators import registry
from synthgen.testing import contract

from planted import checks
from planted.plants import planted

NAME = "dp-marginal"
FAST = {"workload": [["x", "group"]], "max_cliques": 1, "max_rounds": 1, "round_iters": 50, "final_iters": 100,
        "n_bins": 16}
C = contract
FRESH, EXACT_N, ARTIFACT = (C.check_fresh_noise_per_fit, checks.check_exact_n_not_released,
                           C.check_canary_not_in_artifact)
LEVEL, MANIFEST = checks.check_noise_level, checks.check_manifest_not_function_of_n

EXPECTED = {
    "no_noise": (FRESH,),
    "small_noise": (LEVEL,),
    "seeded_noise": (FRESH,),
    "exact_n": (EXACT_N,),
    "data_bounds": (ARTIFACT,),
    "n_in_spend": (EXACT_N, MANIFEST),
    "sigma_too_small": (LEVEL,),
    "no_threshold": (ARTIFACT,),  # x's heaps then hold the canary's value, one row's, in the saved model
}

pytestmark = pytest.mark.skipif(not registry.is_available(NAME), reason="mbi not installed")


def marginal_rows_sd(gen):
    d = checks._details(gen)
    sizes = d["domain"]
    rho_col = float(d["rho_split"]["one-way"]) / len(sizes)
    return math.sqrt(1.0 / sum(2.0 * rho_col / k for k in sizes.values()))


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setattr(contract, "PARAM_OVERRIDES", {**checks.FAST_PARAMS, NAME: FAST})
    monkeypatch.setitem(checks.NOISE_MODELS, NAME, marginal_rows_sd)
    monkeypatch.setitem(checks.BUDGETS, NAME, {"refits": 30, "exact_n": 3, "calibrate": 0, "trials": 0})


@pytest.mark.parametrize("bug", sorted(EXPECTED))
def test_planted_bug_is_caught(bug):
    caught, missed = [], []
    with planted(NAME, bug):
        for check in EXPECTED[bug]:
            try:
                check(NAME)
            except AssertionError:
                caught.append(check.__name__)
            else:
                missed.append(check.__name__)
    assert caught, f"planted bug {bug!r} in {NAME} was caught by no privacy check"
    assert not missed, f"planted bug {bug!r} in {NAME} was not caught by {missed}"


@pytest.mark.parametrize("check", [LEVEL, EXACT_N], ids=lambda c: c.__name__)
def test_real_generator_passes(check):
    check(NAME)
