"""The one-run audit of DP-CTGAN (evaluators.audit.one_run): the Steinke-Nasr-Jagielski bound on known values,
the guessing rule, and one honest fit against one with DP-SGD's noise planted ~0 (which must be a violation)."""
import importlib.util
import math

import numpy as np
import pytest
from scipy.stats import binom

from evaluators.audit.one_run import (canary_world, guess_and_count, one_run_audit, one_run_epsilon_lb,
                                      one_run_p_value)
from synthgen.exceptions import ConfigError

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

# m=200 canaries, 40 guesses, 10 epochs at q=0.5 (20 DP-SGD steps): ~10 s per fit on 2 cores.
TINY = dict(epochs=10, batch_size=250, embedding_dim=8, generator_dim=(16,), discriminator_dim=(32,), n_bins=4)
GAME = dict(m=200, k_guesses=40, n_base=300)


@pytest.mark.parametrize("k", [10, 40, 200])
def test_all_guesses_right_gives_the_closed_form_bound(k):
    q = 0.05 ** (1.0 / k)  # P[Binomial(k, q) >= k] = q^k = alpha
    assert one_run_epsilon_lb(k, k) == pytest.approx(math.log(q / (1 - q)), abs=1e-5)


def test_half_right_certifies_nothing_and_the_bound_grows_with_the_correct_count():
    assert one_run_epsilon_lb(100, 50) == 0.0
    assert one_run_epsilon_lb(100, 58) == 0.0  # within noise of a coin
    lbs = [one_run_epsilon_lb(100, r) for r in (70, 80, 90, 100)]
    assert all(a < b for a, b in zip(lbs, lbs[1:])) and lbs[0] > 0


def test_the_bound_is_where_the_binomial_tail_crosses_alpha():
    k, r = 100, 80
    eps = one_run_epsilon_lb(k, r)
    tail = lambda e: binom.sf(r - 1, k, 1 / (1 + math.exp(-e)))  # noqa: E731
    assert tail(eps) == pytest.approx(0.05, abs=1e-4) and tail(eps - 0.01) < 0.05 < tail(eps + 0.01)


def test_the_delta_term_only_loosens_the_bound():
    k, r = 100, 85
    pure = one_run_epsilon_lb(k, r, m=1000)
    assert one_run_epsilon_lb(k, r, m=1000, delta=1e-9) == pytest.approx(pure, abs=1e-3)
    assert one_run_epsilon_lb(k, r, m=1000, delta=1e-5) < pure
    assert one_run_p_value(1000, k, r, 1.0, 1e-5) > one_run_p_value(1000, k, r, 1.0, 0.0)


def test_guessing_rule_and_bad_counts():
    scores = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 0.0])
    included = np.array([True, True, False, True, False, False])
    assert guess_and_count(scores, included, 4) == (4, 4)  # in: 0, 1; out: 4, 5
    assert guess_and_count(-scores, included, 4) == (4, 0)
    with pytest.raises(ConfigError):
        guess_and_count(scores, included, 7)
    with pytest.raises(ConfigError):
        one_run_p_value(10, 5, 6, 1.0)


def test_canaries_are_unique_declared_categories_at_the_declared_bound():
    base, canaries, schema = canary_world(5, 20, np.random.default_rng(0))
    assert list(schema["tag"].categories) == ["base", "c0", "c1", "c2", "c3", "c4"]
    assert set(base["tag"]) == {"base"} and canaries["tag"].is_unique and (canaries["x"] == 1.0).all()
    assert schema.rows.min == 20 and schema.rows.max == 25  # declared: the row count stays private


@pytest.fixture(scope="module")
def honest():
    return one_run_audit(epsilon=1.0, params=TINY, random_state=1, **GAME)


def test_honest_dp_ctgan_is_not_a_violation(honest):
    d = honest.to_dict()
    assert d["game"]["kind"] == "one-run" and d["game"]["score"] == "white-box" and d["game"]["trials"] == 200
    assert d["claimed"]["epsilon"] == 1.0 and d["verdict"] == "consistent"
    assert d["certifiable_epsilon"] == pytest.approx(one_run_epsilon_lb(40, 40, m=200, delta=d["claimed"]["delta"]))
    assert d["empirical"]["epsilon_lb"] <= 1.0
    assert 0 < d["game"]["one_run"]["included"] < 200
    from synthgen.generators.ctgan import training

    assert training._GAN.__name__ == "_GAN"  # the critic capture is undone after the fit


def test_planted_tiny_dp_sgd_noise_is_a_violation(honest, monkeypatch):
    """DP-SGD's noise multiplier divided by 10^4 (the accountant still claims epsilon=1): the critic's change on
    each canary then gives its coin away (39 or 40 of 40 right in 8 runs measured; honest fits 19-24), so the
    bound exceeds the claim (36 of 40 already certify eps > 1.2)."""
    import synthgen.privacy.dpsgd as dpsgd

    real = dpsgd.make_private_ghost

    def planted(*args, **kwargs):
        kwargs["noise_multiplier"] = kwargs["noise_multiplier"] * 1e-4
        return real(*args, **kwargs)

    monkeypatch.setattr(dpsgd, "make_private_ghost", planted)
    check = importlib.util.find_spec("dp_accounting") is not None
    r = one_run_audit(epsilon=1.0, params=TINY, random_state=1, accounting=check, **GAME)
    assert r.verdict == "violation" and r.epsilon_lb > 1.0
    if check:  # the bookkeeping still records the honest multiplier: only the empirical audit sees the plant
        assert r.accounting["agrees"]
    assert r.epsilon_lb > honest.epsilon_lb
    assert r.to_dict()["game"]["one_run"]["correct"] >= 36


def test_bad_arguments_are_refused_before_any_fit():
    with pytest.raises(ConfigError, match="k_guesses"):
        one_run_audit(epsilon=1.0, m=10, k_guesses=20)
    with pytest.raises(ConfigError, match="m must"):
        one_run_audit(epsilon=1.0, m=1)
