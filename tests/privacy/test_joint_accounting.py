"""Joint (PRV) accounting of Gaussian releases on the full table composed with DP-SGD.

A Gaussian mechanism with noise std sigma and L2 sensitivity Delta on the whole table is the Opacus history entry
``(sigma / Delta, sample_rate=1.0, steps=1)``; ``DPSGDAccountant(prior_noise_multipliers=...)`` composes such
releases (the noisy counts) with the DP-SGD steps instead of splitting the budget by basic composition.
"""
import math

import pytest
from scipy.optimize import brentq
from scipy.stats import norm

from synthgen.exceptions import BudgetExceededError, InvalidPrivacyParameterError
from synthgen.privacy.accountants import DPSGDAccountant
from synthgen.privacy.analysis import gaussian_rho, zcdp_rho
from synthgen.privacy.analysis.dpsgd_plan import count_noise_multiplier, dpsgd_steps, split_budget
from synthgen.privacy.dpsgd import epsilon_prv, epsilon_rdp

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

DELTA = 1e-6


def analytic_gaussian_epsilon(s: float, delta: float) -> float:
    """Balle & Wang (2018) exact epsilon of one Gaussian mechanism with noise multiplier ``s`` (sigma / Delta)."""
    def excess(eps):
        return norm.cdf(-eps * s + 1 / (2 * s)) - math.exp(eps) * norm.cdf(-eps * s - 1 / (2 * s)) - delta
    return brentq(excess, 0.0, 100.0, xtol=1e-12)


@pytest.mark.parametrize("s", [3.0, 10.0])
def test_one_full_table_gaussian_reads_its_analytic_epsilon(s):
    exact = analytic_gaussian_epsilon(s, DELTA)
    assert exact == pytest.approx({3.0: 1.448, 10.0: 0.397}[s], abs=0.001)  # golden values of the formula
    prv = epsilon_prv(0.0, 0.0, 0, DELTA, prior=(s,))
    assert exact <= prv <= exact + 0.03  # an upper bound, and tight (PRV's eps_error is 0.01)
    assert epsilon_rdp(0.0, 0.0, 0, DELTA, prior=(s,)) >= exact  # RDP accepts the entry too, looser
    # the q=1 entry is exactly the Gaussian: same as the history entry (s, 1.0, 1) built by hand
    assert epsilon_prv(s, 1.0, 1, DELTA) == pytest.approx(prv, rel=1e-9)


def test_prior_is_normalised_validated_and_composed():
    q, steps = 0.05, 40
    a = epsilon_prv(2.0, q, steps, DELTA, prior=[10.0, 20.0])
    assert a == epsilon_prv(2.0, q, steps, DELTA, prior=(20, 10.0))  # a list, ints, any order: one reading
    assert a > epsilon_prv(2.0, q, steps, DELTA) > 0  # the prior costs something
    assert epsilon_prv(2.0, q, 0, DELTA) == 0.0 == epsilon_rdp(2.0, q, 0, DELTA)
    # steps == 0: the prior alone, whatever the DP-SGD arguments are
    assert epsilon_prv(2.0, q, 0, DELTA, (10.0,)) == epsilon_prv(0.0, 0.0, 0, DELTA, (10.0,)) > 0
    for bad in [(0.0,), (-1.0,), (float("inf"),), ("x",)]:
        with pytest.raises(InvalidPrivacyParameterError):
            epsilon_prv(2.0, q, steps, DELTA, prior=bad)


def test_count_noise_multiplier_costs_its_share_of_rho():
    rho = zcdp_rho(1.0, DELTA)
    for share in (0.05, 0.1, 0.5):
        m = count_noise_multiplier(1.0, DELTA, share)
        assert m == pytest.approx(math.sqrt(1 / (2 * share * rho)), rel=1e-12)
        assert gaussian_rho(m) == pytest.approx(share * rho, rel=1e-9)  # a Gaussian is 1/(2 m^2)-zCDP
    for bad in (0.0, 1.0, -0.1, 1.5, "a"):
        with pytest.raises(InvalidPrivacyParameterError):
            count_noise_multiplier(1.0, DELTA, bad)


def test_accountant_with_a_prior_spends_the_whole_target_and_no_more():
    q, steps, prior = 0.05, 40, (8.0,)
    alone = DPSGDAccountant(1.0, DELTA, q, steps)
    acc = DPSGDAccountant(1.0, DELTA, q, steps, prior_noise_multipliers=prior)
    assert acc.max_steps == steps
    assert acc.noise_multiplier > alone.noise_multiplier  # the counts take part of the budget
    full = epsilon_prv(acc.noise_multiplier, q, steps, DELTA, prior)
    assert 0.97 <= full <= 1.0  # the full planned run (counts + DP-SGD) fits the target, tightly
    assert epsilon_prv(acc.noise_multiplier, q, steps, DELTA) < full  # the prior is in the reading
    for _ in range(steps):
        acc.record_step()
    spend = acc.to_spend()
    assert spend.epsilon == pytest.approx(full) and spend.epsilon <= 1.0 and spend.delta == DELTA
    d = spend.details
    assert d["prior_gaussians"] == [{"noise_multiplier": 8.0, "sample_rate": 1.0, "steps": 1}]
    assert d["composition"] == "PRV composition of the Gaussian count releases and the DP-SGD steps"
    assert d["epsilon_rdp"] >= d["epsilon_prior_prv"] > 0 and d["epsilon_prv"] == spend.epsilon


def test_joint_composition_beats_the_basic_split():
    eps, n = 1.0, 22_524
    q = 250 / n
    steps = dpsgd_steps(30, q)
    m = count_noise_multiplier(eps, DELTA, share=0.1)
    joint = DPSGDAccountant(eps, DELTA, q, steps, prior_noise_multipliers=(m,))
    (eps_pre, dlt_pre), (eps_sgd, dlt_sgd) = split_budget(eps, DELTA, 0.1)
    assert (eps_sgd, dlt_sgd) == pytest.approx((0.9, 0.9e-6))
    basic = DPSGDAccountant(eps_sgd, dlt_sgd, q, steps)
    m_basic = 1 / math.sqrt(2 * zcdp_rho(eps_pre, dlt_pre))  # the counts' joint multiplier under the split
    print(f"\nDP-SGD noise multiplier, {steps} steps at q={q:.5f}: joint PRV {joint.noise_multiplier:.4f} "
          f"(counts' multiplier {m:.3f}) vs basic split {basic.noise_multiplier:.4f} (counts' multiplier "
          f"{m_basic:.3f})")
    assert joint.max_steps == basic.max_steps == steps
    assert joint.noise_multiplier < basic.noise_multiplier  # less noise on the gradients ...
    assert m < m_basic  # ... and on the counts
    assert epsilon_prv(joint.noise_multiplier, q, steps, DELTA, (m,)) <= eps  # for the whole fit


def test_a_prior_that_alone_exceeds_the_target_is_refused_before_any_step():
    assert epsilon_prv(0.0, 0.0, 0, DELTA, (3.0,)) > 1.0
    with pytest.raises(InvalidPrivacyParameterError, match="count releases alone.*raise epsilon.*share"):
        DPSGDAccountant(1.0, DELTA, 0.05, 40, prior_noise_multipliers=(3.0,))
    with pytest.raises(InvalidPrivacyParameterError, match="count releases alone"):
        DPSGDAccountant(1.0, DELTA, 0.05, 40, noise_multiplier=5.0, prior_noise_multipliers=(10.0, 3.0))


def test_the_budget_check_before_each_step_counts_the_prior():
    q, sigma, prior = 0.05, 2.0, (10.0,)
    acc = DPSGDAccountant(1.0, DELTA, q, 1000, noise_multiplier=sigma, prior_noise_multipliers=prior)
    alone = DPSGDAccountant(1.0, DELTA, q, 1000, noise_multiplier=sigma)
    k = acc.max_steps
    assert 0 < k < alone.max_steps < 1000  # the counts take steps away
    assert epsilon_prv(sigma, q, k, DELTA, prior) <= 1.0 < epsilon_prv(sigma, q, k + 1, DELTA, prior)
    for _ in range(k):
        acc.record_step()
        if acc.steps in (1, k // 2, k):
            reading = acc.epsilon_reading()
            assert acc.epsilon_spent("prv") <= reading + 1e-12 and reading <= 1.0
    assert not acc.can_step()
    with pytest.raises(BudgetExceededError, match="count releases"):
        acc.record_step()  # refused before it is taken
    assert acc.steps == k and acc.to_spend().epsilon <= 1.0


def test_spend_before_any_step_is_the_prior_alone():
    prior = (10.0,)
    acc = DPSGDAccountant(1.0, DELTA, 0.05, 40, prior_noise_multipliers=prior)
    alone = epsilon_prv(0.0, 0.0, 0, DELTA, prior)
    assert acc.epsilon_spent("prv") == alone > 0.3  # ~0.41, not 0
    assert acc.epsilon_spent("rdp") == epsilon_rdp(0.0, 0.0, 0, DELTA, prior) >= alone
    assert alone <= acc.epsilon_reading() <= 1.0
    spend = acc.to_spend()
    assert spend.epsilon == alone and spend.delta == DELTA and spend.details["steps"] == 0
    no_prior = DPSGDAccountant(1.0, DELTA, 0.05, 40)
    assert no_prior.epsilon_spent() == 0.0 == no_prior.epsilon_reading() and no_prior.to_spend().delta == 0.0
