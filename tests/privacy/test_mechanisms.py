"""Noise-level checks, secure noise, and canary behaviour of the release mechanisms."""
import numpy as np
import pytest

from synthgen.exceptions import PrivacyError
from synthgen.privacy.analysis import gaussian_sigma
from synthgen.privacy.mechanisms import (
    SecureRandom,
    clip_rows_l2,
    dp_category_set,
    dp_range,
    exponential_mechanism,
    gaussian_mechanism,
    laplace_mechanism,
    noisy_count,
    noisy_gram_matrix,
    noisy_histogram,
)


def test_gaussian_noise_level_matches_sigma():
    rng = np.random.default_rng(0)
    rho = 0.05
    out = gaussian_mechanism(np.zeros(200_000), l2_sensitivity=2.0, rho=rho, rng=rng)
    sigma = gaussian_sigma(rho, 2.0)
    assert out.mean() == pytest.approx(0.0, abs=4 * sigma / np.sqrt(len(out)))
    assert out.std() == pytest.approx(sigma, rel=0.01)


def test_laplace_noise_level_matches_scale():
    out = laplace_mechanism(np.zeros(200_000), l1_sensitivity=1.0, epsilon=0.5, rng=np.random.default_rng(1))
    assert np.abs(out).mean() == pytest.approx(2.0, rel=0.02)  # E|Laplace(b)| = b = 1/0.5


def test_noisy_histogram_keeps_shape_and_adds_noise():
    counts = np.array([100.0, 0.0, 5.0])
    noisy = noisy_histogram(counts, rho=0.5, rng=np.random.default_rng(2))
    assert noisy.shape == counts.shape and not np.array_equal(noisy, counts)


def test_secure_random_refuses_a_seed_and_has_the_right_level():
    with pytest.raises(PrivacyError, match="cannot be seeded"):
        SecureRandom(seed=123)
    src = SecureRandom()
    assert src.normal(0.0, 3.0, size=100_000).std() == pytest.approx(3.0, rel=0.02)
    assert np.abs(src.gumbel(0.0, 1.0, size=100_000).mean() - 0.5772) < 0.02  # Euler-Mascheroni
    assert not np.array_equal(SecureRandom().random(8), SecureRandom().random(8))


def test_mechanisms_module_has_no_seedable_noise_factory():
    """noise_source(random_state) was removed: noise comes from synthgen.privacy.noise only."""
    from synthgen.privacy import mechanisms

    assert not hasattr(mechanisms, "noise_source")


def test_noisy_count_noise_level_and_rounding():
    rho = 0.02
    rng = np.random.default_rng(7)
    out = np.array([noisy_count(1000, rho, rng) for _ in range(20_000)])
    assert np.all(out == np.round(out)) and out.min() >= 0
    assert out.std() == pytest.approx(gaussian_sigma(rho, 1.0), rel=0.03)
    assert out.mean() == pytest.approx(1000, abs=0.2)
    assert noisy_count(0, 0.5, np.random.default_rng(0)) >= 0.0  # clipped at zero


def test_gram_matrix_noise_is_symmetric_at_the_documented_level():
    rng = np.random.default_rng(8)
    x = np.zeros((10, 3))
    rho, bound = 0.1, 2.0
    draws = np.array([noisy_gram_matrix(x, bound, rho, rng) for _ in range(4000)])
    assert np.allclose(draws, np.transpose(draws, (0, 2, 1)))
    sigma = bound ** 2 / np.sqrt(2 * rho)
    assert draws[:, 0, 1].std() == pytest.approx(sigma, rel=0.05)
    assert draws[:, 2, 2].std() == pytest.approx(sigma, rel=0.05)


def test_exponential_mechanism_prefers_high_scores():
    rng = np.random.default_rng(3)
    picks = [exponential_mechanism(np.array([0.0, 0.0, 50.0]), epsilon=1.0, sensitivity=1.0, rng=rng)
             for _ in range(200)]
    assert np.mean(np.array(picks) == 2) > 0.99


def test_clip_rows_l2_bounds_norms():
    x = np.array([[3.0, 4.0], [0.3, 0.4]])
    out = clip_rows_l2(x, 1.0)
    assert np.allclose(np.linalg.norm(out, axis=1), [1.0, 0.5])


def test_category_set_never_releases_a_canary_category():
    values = ["a"] * 500 + ["b"] * 300 + ["canary-unique"]
    rng = np.random.default_rng(4)
    for _ in range(300):
        cats, _ = dp_category_set(values, rho=0.5, delta=1e-6, rng=rng)
        assert "canary-unique" not in cats
        assert set(cats) == {"a", "b"}


def test_dp_range_ignores_a_single_extreme_outlier():
    rng = np.random.default_rng(5)
    base = rng.normal(50, 10, 5000)
    with_canary = np.append(base, 9.87e8)
    r1 = dp_range(base, rho=0.1, rng=np.random.default_rng(6))
    r2 = dp_range(with_canary, rho=0.1, rng=np.random.default_rng(6))
    assert r1 == r2
    assert r1[0] <= 20 and 80 <= r1[1] < 1000


def test_category_set_returns_canonical_keys_whatever_row_comes_first():
    """Old main returned the first row's object for each text key (row order decided the released type)."""
    rng = np.random.default_rng(9)
    a, _ = dp_category_set([1] * 300 + ["1"] * 300, rho=5.0, delta=1e-6, rng=rng)
    b, _ = dp_category_set(["1"] * 300 + [1] * 300, rho=5.0, delta=1e-6, rng=rng)
    assert a == b == ["1"] and all(type(c) is str for c in a)
