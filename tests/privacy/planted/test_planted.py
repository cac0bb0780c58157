"""The privacy checks can fail: each planted bug (plants.py) makes at least one of them raise AssertionError, and
the real generators pass them all.

EXPECTED lists, per planted bug, the checks that must catch it (each of these is a deterministic catch, not a
lucky one); the meta-test also asserts that at least one check fails, so a plant no check catches is reported.
"""
import pytest

from synthgen.generators import registry
from synthgen.testing import contract

from planted import checks
from planted.plants import PLANTS, planted

DP_GENERATORS = [n for n in ("dp-copula", "dp-image", "dp-ctgan") if registry.is_available(n)]

EXPECTED = {
    "no_noise": (contract.check_fresh_noise_per_fit,),
    "small_noise": (checks.check_noise_level,),
    "seeded_noise": (contract.check_fresh_noise_per_fit,),
    "exact_n": (checks.check_exact_n_not_released,),
    "data_bounds": (contract.check_canary_not_in_artifact,),
}
# Also proven on dp-copula (cheap fits): the distinguishing test and the canary-effect test catch what they should.
EXTRA = {
    ("dp-copula", "no_noise"): (checks.check_distinguish,),
    ("dp-copula", "seeded_noise"): (checks.check_distinguish,),
    ("dp-copula", "exact_n"): (checks.check_distinguish,),
}


def _cases():
    for name in DP_GENERATORS:
        for bug in PLANTS:
            if bug == "data_bounds" and registry.get(name).data_kind != "table":
                continue  # images have no declared bounds or categories
            if bug == "small_noise" and name == "dp-ctgan":
                continue  # its DP-SGD noise comes from a torch generator, which cannot be scaled from outside
            yield name, bug


@pytest.mark.parametrize("name,bug", list(_cases()))
def test_planted_bug_is_caught(name, bug):
    caught, missed = [], []
    with planted(name, bug):
        for check in EXPECTED[bug] + EXTRA.get((name, bug), ()):
            try:
                check(name)
            except AssertionError:
                caught.append(check.__name__)
            else:
                missed.append(check.__name__)
    assert caught, f"planted bug {bug!r} in {name} was caught by no privacy check"
    assert not missed, f"planted bug {bug!r} in {name} was not caught by {missed}"


@pytest.mark.parametrize("name", DP_GENERATORS)
@pytest.mark.parametrize("check", checks.PRIVACY_CHECKS, ids=lambda c: c.__name__)
def test_real_generator_passes(name, check):
    if check not in checks.privacy_checks(name):
        pytest.skip(f"{check.__name__} does not apply to {registry.get(name).data_kind} generators")
    check(name)


def test_plants_leave_no_trace():
    """After a plant, the real noise functions are back in every synthgen module."""
    import sys

    import synthgen.privacy.noise as noise

    real = noise.privacy_noise
    with planted("dp-copula", "no_noise"):
        assert noise.privacy_noise is not real
    leftovers = [m for m, mod in sys.modules.items() if m.startswith("synthgen")
                 and getattr(mod, "privacy_noise", real) is not real]
    assert not leftovers
