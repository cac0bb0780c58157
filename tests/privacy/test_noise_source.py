"""Privacy noise comes from OS entropy, never from a user seed (issue 10, item 2).

Unit tests of synthgen.privacy.noise, and, per DP generator, that every noise draw of a fit comes from a source
handed out by privacy_noise() (or DP-SGD's privacy_torch_generator), so random_state cannot reproduce it.
"""
import threading

import numpy as np
import pytest

from synthgen.exceptions import PrivacyError
from synthgen.generators import registry
from synthgen.privacy import mechanisms, noise
from synthgen.privacy.mechanisms import SecureRandom
from synthgen.privacy.noise import noise_is_seeded, privacy_noise, privacy_torch_generator, unsafe_seeded_noise
from synthgen.testing import contract

from planted.plants import patch_everywhere

DP_GENERATORS = [n for n in ("dp-copula", "dp-image", "dp-ctgan", "dp-marginal") if registry.is_available(n)]


def test_privacy_noise_is_os_entropy_and_unseedable():
    src = privacy_noise()
    assert isinstance(src, SecureRandom) and not noise_is_seeded()
    with pytest.raises(PrivacyError, match="cannot be seeded"):
        SecureRandom(123)
    assert not np.array_equal(privacy_noise().normal(size=8), privacy_noise().normal(size=8))
    z = src.normal(0.0, 3.0, size=100_000)
    assert z.std() == pytest.approx(3.0, rel=0.02)
    u = src.random(100_000)
    assert 0 < u.min() and u.max() < 1
    assert np.abs(src.laplace(0.0, 1.0, size=100_000)).mean() == pytest.approx(1.0, rel=0.03)


def test_seeded_switch_repeats_and_is_scoped():
    def draws(seed):
        with unsafe_seeded_noise(seed):
            assert noise_is_seeded()
            return [privacy_noise().normal(size=4) for _ in range(3)]

    a, b, c = draws(5), draws(5), draws(6)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))  # same seed: same sequence of sources
    assert not np.array_equal(a[0], a[1])  # each call is a fresh child source
    assert not np.array_equal(a[0], c[0])
    assert not noise_is_seeded() and isinstance(privacy_noise(), SecureRandom)
    with unsafe_seeded_noise(1):
        with unsafe_seeded_noise(2):
            inner = privacy_noise().normal(size=2)
        assert noise_is_seeded()
    assert not noise_is_seeded()
    with unsafe_seeded_noise(2):
        assert np.array_equal(privacy_noise().normal(size=2), inner)
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError):
            with unsafe_seeded_noise(bad):
                pass


def test_seeded_switch_is_per_thread():
    seen = []
    with unsafe_seeded_noise(1):
        t = threading.Thread(target=lambda: seen.append(noise_is_seeded()))
        t.start()
        t.join()
    assert seen == [False]


def test_torch_generator_from_entropy_unless_switched():
    torch = pytest.importorskip("torch")
    a, b = (torch.randn(4, generator=privacy_torch_generator()) for _ in range(2))
    assert not torch.equal(a, b)
    with unsafe_seeded_noise(4):
        c = torch.randn(4, generator=privacy_torch_generator())
    with unsafe_seeded_noise(4):
        d = torch.randn(4, generator=privacy_torch_generator())
    assert torch.equal(c, d)


@pytest.mark.parametrize("name", DP_GENERATORS)
def test_every_noise_draw_of_a_fit_comes_from_privacy_noise(name, monkeypatch):
    """A generator that passes its random_state generator (or any other) to a mechanism fails here."""
    registry.get(name)
    handed, torch_gens, used = [], [], []
    real_noise, real_torch = noise.privacy_noise, noise.privacy_torch_generator

    def spy_noise():
        handed.append(real_noise())
        return handed[-1]

    def spy_torch(*a, **kw):
        torch_gens.append(real_torch(*a, **kw))
        return torch_gens[-1]

    patch_everywhere(monkeypatch, "privacy_noise", spy_noise)
    patch_everywhere(monkeypatch, "privacy_torch_generator", spy_torch)
    for fn in ("gaussian_noise", "laplace_noise"):
        real = getattr(mechanisms, fn)
        monkeypatch.setattr(mechanisms, fn, lambda shape, s, rng, _r=real: (used.append(rng), _r(shape, s, rng))[1])
    gen = contract.fit(name, random_state=0)
    assert used or torch_gens, f"{name}: its fit drew no privacy noise through synthgen's mechanisms"
    foreign = [type(u).__name__ for u in used if not any(u is h for h in handed)]
    assert not foreign, f"{name}: noise drawn from sources not handed out by privacy_noise(): {foreign}"
    assert gen.privacy_spent_.is_dp
