"""evaluators.audit.bounds against known values and independent computations."""
import math

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

from evaluators.audit import bounds as b
from evaluators.audit.result import verdict
from evaluators.audit.worlds import group_claim


def test_clopper_pearson_known_values():
    lo, hi = b.clopper_pearson(5, 10)
    assert lo == pytest.approx(0.187086, abs=1e-6) and hi == pytest.approx(0.812914, abs=1e-6)
    assert b.cp_upper(0, 10, 0.05) == pytest.approx(1 - 0.05 ** 0.1)
    assert b.cp_lower(10, 10, 0.05) == pytest.approx(0.05 ** 0.1)
    assert b.cp_lower(0, 10, 0.05) == 0.0 and b.cp_upper(10, 10, 0.05) == 1.0
    with pytest.raises(ValueError):
        b.cp_lower(11, 10, 0.05)


def test_epsilon_from_rates_both_directions():
    assert b.epsilon_from_rates(0.9, 0.1, 0.0) == pytest.approx(math.log(9))
    # the second direction (1 - FPR) / (1 - TPR) is the larger one here
    assert b.epsilon_from_rates(0.95, 0.5, 0.0) == pytest.approx(math.log(0.5 / 0.05))
    assert b.epsilon_from_rates(0.3, 0.3, 0.0) == 0.0  # clipped at 0
    assert b.epsilon_from_rates(0.2, 0.1, 0.15) == pytest.approx(0.0)  # delta eats the gap


def test_epsilon_lower_bound_uses_one_sided_bounds_at_half_alpha():
    tp, n1, fp, n0, delta = 80, 100, 10, 100, 1e-6
    tpr_lo, fpr_hi = b.cp_lower(tp, n1, 0.025), b.cp_upper(fp, n0, 0.025)
    expected = max(math.log((tpr_lo - delta) / fpr_hi), math.log((1 - fpr_hi - delta) / (1 - tpr_lo)))
    assert b.epsilon_lower_bound(tp, n1, fp, n0, delta) == pytest.approx(expected)
    assert b.epsilon_lower_bound(tp, n1, fp, n0, delta) < b.epsilon_from_rates(0.8, 0.1, delta)


def test_certifiable_epsilon_is_the_perfect_test_and_grows_with_trials():
    c100 = b.certifiable_epsilon(100, 100, 1e-6)
    p = 0.025 ** (1 / 100)
    assert c100 == pytest.approx(math.log((p - 1e-6) / (1 - p)))
    assert b.certifiable_epsilon(13, 13, 1e-6) > 1.0 > b.certifiable_epsilon(11, 11, 1e-6)
    assert b.certifiable_epsilon(1000, 1000, 1e-6) > c100
    assert b.epsilon_lower_bound(90, 100, 5, 100, 1e-6) <= c100


def _gdp_delta_by_integration(eps: float, mu: float) -> float:
    """delta(eps) = E_{x ~ N(mu, 1)} [(1 - e^{eps - L(x)})_+], L(x) = mu x - mu^2 / 2 the privacy loss."""
    def f(x):
        loss = mu * x - mu * mu / 2
        return norm.pdf(x - mu) * max(0.0, 1.0 - math.exp(eps - loss))
    return integrate.quad(f, (eps + mu * mu / 2) / mu, np.inf)[0]


@pytest.mark.parametrize("eps,mu", [(0.0, 1.0), (1.0, 1.0), (3.0, 0.8), (0.5, 2.0)])
def test_gdp_delta_matches_the_privacy_loss_integral(eps, mu):
    assert b.gdp_delta(eps, mu) == pytest.approx(_gdp_delta_by_integration(eps, mu), rel=1e-6, abs=1e-12)


def test_gdp_delta_known_value_and_extremes():
    assert b.gdp_delta(0.0, 1.0) == pytest.approx(norm.cdf(0.5) - norm.cdf(-0.5))
    assert b.gdp_delta(40000.0, 200.0) >= 0.0  # no overflow
    assert b.gdp_delta(1.0, 0.0) == 0.0 and b.gdp_delta(1.0, math.inf) == 1.0


@pytest.mark.parametrize("mu,delta", [(0.22, 1e-6), (0.79, 1e-6), (1.0, 1e-5), (3.0, 1e-9)])
def test_gdp_epsilon_inverts_gdp_delta(mu, delta):
    eps = b.gdp_epsilon(mu, delta)
    assert eps > 0 and b.gdp_delta(eps, mu) == pytest.approx(delta, rel=1e-5)
    assert b.gdp_epsilon(mu * 1.1, delta) > eps


def test_gdp_epsilon_edges():
    assert b.gdp_epsilon(0.0, 1e-6) == 0.0 and b.gdp_epsilon(math.inf, 1e-6) == math.inf
    assert b.gdp_epsilon(1e-4, 0.5) == 0.0 and b.gdp_epsilon(5.0, 1.0) == 0.0
    with pytest.raises(ValueError):
        b.gdp_epsilon(1.0, 0.0)


def test_mu_from_rates():
    assert b.mu_from_rates(norm.cdf(0.5), norm.cdf(-0.5)) == pytest.approx(1.0)


def test_gdp_mu_hat_recovers_a_gaussian_shift_with_a_covering_interval():
    rng = np.random.default_rng(0)
    covered = 0
    for _ in range(200):
        mu, lo, hi = b.gdp_mu_hat(rng.normal(0, 2, 300), rng.normal(1.6, 2, 300))  # mu = 0.8
        covered += lo <= 0.8 <= hi
    assert 180 <= covered <= 200  # ~95 % coverage
    mu, lo, hi = b.gdp_mu_hat(rng.normal(0, 1, 5000), rng.normal(0.8, 1, 5000))
    assert mu == pytest.approx(0.8, abs=0.06) and lo < mu < hi


def test_gdp_mu_hat_deterministic_scores():
    assert b.gdp_mu_hat([1.0, 1.0, 1.0], [2.0, 2.0, 2.0]) == (math.inf, math.inf, math.inf)
    assert b.gdp_mu_hat([1.0, 1.0], [1.0, 1.0]) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        b.gdp_mu_hat([1.0], [1.0, 2.0])


def test_verdicts_and_group_claim():
    assert verdict(1.2, 3.0, 1.0) == "violation"
    assert verdict(0.5, 3.0, 1.0) == "consistent"
    assert verdict(0.5, 0.8, 1.0) == "inconclusive"
    assert verdict(1.2, 0.8, 1.0) == "violation"
    assert group_claim(1.0, 1e-6, 1) == (1.0, 1e-6)
    eps, delta = group_claim(1.0, 1e-6, 3)
    assert eps == 3.0 and delta == pytest.approx(3 * math.exp(2) * 1e-6)


def test_vectorised_bounds_match_the_scalar_bound():
    import numpy as np

    from evaluators.audit import bounds as B

    rng = np.random.default_rng(0)
    for _ in range(300):
        n1, n0 = (int(v) for v in rng.integers(1, 40, 2))
        tp, fp = int(rng.integers(0, n1 + 1)), int(rng.integers(0, n0 + 1))
        for d in (0.0, 1e-6, 0.2):
            vec = B.epsilon_lower_bounds(np.array([tp]), n1, np.array([fp]), n0, d)[0]
            assert vec == pytest.approx(B.epsilon_lower_bound(tp, n1, fp, n0, d), abs=1e-12)


def test_attainable_epsilon_grows_with_trials_and_stays_below_the_mechanism():
    from evaluators.audit import bounds as B

    mu, d = 0.789, 1e-6
    vals = [B.attainable_epsilon(mu, n, n, d)[0] for n in (100, 1000, 10000)]
    assert vals[0] < vals[1] < vals[2] < B.gdp_epsilon(mu, d)
    assert B.attainable_epsilon(0.0, 100, 100, d)[0] == 0.0
    assert B.attainable_epsilon(float("inf"), 100, 100, d)[0] == float("inf")
