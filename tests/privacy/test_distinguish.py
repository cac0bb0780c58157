"""The exact row count n must not reach any output (issue 10, item 1): fitting each DP generator on D and on D plus
one row (fresh noise every fit) gives spends, manifests and sample metadata that are not a function of n.

Rule: a manifest value that is the same in every fit on one world (so it is not noise) must be the same in the
other world too; values that vary between fits on the same data are noisy and judged by the statistical checks
(tests/privacy/planted/checks.py: noise level, exact n, D-vs-D+1 distinguishing).
"""
import pytest

from synthgen.generators import registry
from synthgen.testing import contract

from planted.checks import FAST_PARAMS, NOT_COMPARED, deterministic_differences

DP_GENERATORS = [n for n in ("dp-copula", "dp-image", "dp-ctgan", "dp-marginal") if registry.is_available(n)]
# 3 fits per world: a noisy discrete field (e.g. a DP-SGD step count from a noisy row count) is then constant
# within both worlds yet different between them with probability well below 1e-3.
FITS_PER_WORLD = 3


@pytest.fixture(scope="module", params=DP_GENERATORS)
def worlds(request):
    """name, and per world (False: D, True: D plus the canary row): [(generator, manifest), ...]."""
    name = request.param
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(contract, "PARAM_OVERRIDES", dict(FAST_PARAMS))
        for canary in (False, True):
            data = contract.world(name, canary=canary, rows_max=None)  # rows.max undeclared: delta(n) would show
            gens = [contract.fit(name, random_state=0, data=data) for _ in range(FITS_PER_WORLD)]
            out[canary] = [(g, contract.saved_manifest(g)) for g in gens]
    return name, out


def test_spend_is_the_same_for_n_and_n_plus_one_rows(worlds):
    name, w = worlds
    spends = [g.privacy_spent_ for fits in w.values() for g, _ in fits]
    assert len({(s.epsilon, s.delta, s.accountant) for s in spends}) == 1, \
        f"{name}: epsilon/delta/accountant differ between D and D plus one row: {spends}"
    diffs = deterministic_differences({k: [g.privacy_spent_.to_dict() for g, _ in v] for k, v in w.items()})
    assert not diffs, f"{name}: the spend details are a function of the exact row count: {diffs}"


def test_manifest_is_not_a_function_of_n(worlds):
    name, w = worlds
    docs = {k: [{key: val for key, val in m.items() if key not in NOT_COMPARED} for _, m in v]
            for k, v in w.items()}
    diffs = deterministic_differences(docs)
    assert not diffs, f"{name}: manifest fields are a function of the exact row count: {diffs}"
    keys = {k: [sorted(m["state"]) for _, m in v] for k, v in w.items()}
    assert all(ks == keys[False][0] for v in keys.values() for ks in v), f"{name}: the state's layout depends on n"


def test_rows_estimate_and_default_release_size_are_noisy(worlds):
    """The default release size (round(rows_estimate_)) is not the exact n, and it varies between fits."""
    name, w = worlds
    for canary, fits in w.items():
        n = contract.n_rows(contract.world(name, canary=canary)[0])
        ests = [g.rows_estimate_ for g, _ in fits]
        assert not all(round(e) == n for e in ests), f"{name}: rows_estimate_ gives the exact n ({n}) every time"
        assert len(set(ests)) > 1, f"{name}: rows_estimate_ does not vary between fits on the same data: {ests}"


def test_sample_metadata_is_the_same_in_both_worlds(worlds):
    name, w = worlds
    if registry.get(name).data_kind != "table":
        pytest.skip("image samples carry no table metadata")
    attrs = {k: [g.sample(20, random_state=0).attrs for g, _ in v] for k, v in w.items()}
    diffs = deterministic_differences(attrs)
    assert not diffs, f"{name}: the samples' metadata is a function of the exact row count: {diffs}"
