"""Privacy properties of DPImageGenerator (DP-MERF): nothing derived from the exact number of images reaches the
spend or the manifest, privacy noise never comes from random_state, and the estimate step works from the release
object alone (the measure step is the only reader of the images)."""
import json

import numpy as np
import pytest

from synthgen.exceptions import InvalidPrivacyParameterError
from synthgen.generators.images import dp_merf
from synthgen.generators.images.dp_merf import DPImageGenerator, MerfRelease, class_targets


def test_uniform_classes_buy_one_noisy_total():
    """class_counts="uniform": proportions are exactly 1/k; the embedding normaliser is a charged noisy total.
    (Fails on the old main: it normalised by the exact n / k and charged nothing for it.)"""
    estimates = []
    for _ in range(3):
        g = DPImageGenerator(epsilon=1.0, class_counts="uniform", **TINY).fit(_tiny(600), random_state=0)
        assert set(g.privacy_spent_.details["rho_split"]) == {"row_count", "embeddings"}
        assert g.privacy_spent_.details["class_counts"] == "uniform"
        np.testing.assert_allclose(g.class_proportions_, 0.5)
        estimates.append(g.rows_estimate_)
    assert len(set(estimates)) > 1 and all(abs(e - 600) < 300 for e in estimates)


def _tiny(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 2, 2), dtype=np.float32), rng.integers(0, 2, size=n)


TINY = dict(classes=[0, 1], n_iter=1, n_features=4, length_scales=(0.5,), hidden=4, batch_size=4)


def _numbers(obj):
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _numbers(v)]
    if isinstance(obj, (list, tuple)):
        return [x for v in obj for x in _numbers(v)]
    return [obj] if isinstance(obj, (int, float)) and not isinstance(obj, bool) else []


def test_spend_and_manifest_do_not_depend_on_n(tmp_path):
    """Fails on the old main: the default delta was chosen from the exact number of images (99,999 -> 1e-6,
    100,001 -> 1e-7) and class_counts="uniform" normalised by the exact n / k. Now the spend is the same for
    n and n + 1 images, and nothing in the manifest is the exact count or a function of it."""
    spends = {}
    for n in (99_999, 100_001, 601, 602):
        g = DPImageGenerator(epsilon=1.0, class_counts="uniform", **TINY).fit(_tiny(n), random_state=0)
        spends[n] = g.privacy_spent_.to_dict()
        if n in (601, 602):
            g.save(tmp_path / str(n))
            manifest = json.loads((tmp_path / str(n) / "manifest.json").read_text())
            noisy = manifest.pop("rows_estimate")  # a noisy count (rounded: it may hit n by chance)
            assert noisy == g.rows_estimate_
            assert not set(_numbers(manifest)) & {n, n / 2, n - 1, n + 1}
    assert spends[99_999] == spends[100_001] == spends[601] == spends[602]
    assert spends[601]["delta"] == 1e-9
    declared = DPImageGenerator(epsilon=1.0, max_rows=200_000, **TINY).fit(_tiny(601), random_state=0)
    assert declared.privacy_spent_.delta == 1e-7  # from the declared bound
    with pytest.raises(InvalidPrivacyParameterError, match="declared maximum"):
        DPImageGenerator(epsilon=1.0, delta=1e-3, max_rows=10_000, **TINY).fit(_tiny(601))


def test_same_random_state_gives_fresh_noise(monkeypatch):
    """Fails on the old main, where the counts' and embeddings' noise came from random_state."""
    seen = []
    real = dp_merf.measure
    monkeypatch.setattr(dp_merf, "measure", lambda *a: seen.append(real(*a)) or seen[-1])
    a, b = (DPImageGenerator(epsilon=1.0, **TINY).fit(_tiny(600), random_state=0) for _ in range(2))
    assert seen[0].feature_seed == seen[1].feature_seed  # public randomness: from random_state
    assert not np.array_equal(seen[0].class_counts, seen[1].class_counts)
    assert not np.array_equal(seen[0].embedding_sums, seen[1].embedding_sums)
    assert not np.array_equal(a.class_proportions_, b.class_proportions_)


def test_estimate_works_from_a_release_alone():
    """The measure step is the only reader of images: a hand-built release gives the model and its counts."""
    g = DPImageGenerator(epsilon=1.0, class_counts="uniform", **TINY)
    plan = g._plan(None)
    sums = np.array([[10.0, 0.0, 0.0, 0.0], [0.0, 0.0, 20.0, 0.0]])
    release = MerfRelease(feature_seed=7, image_shape=(2, 2), class_counts=None, total_count=40.0,
                          embedding_sums=sums)
    targets, props, rows = class_targets(release, plan)
    np.testing.assert_allclose(targets, sums / 20.0)  # normalised by the noisy total / k, never the exact n
    np.testing.assert_allclose(props, 0.5)
    assert rows == 40.0
    g._estimate(release, plan, np.random.default_rng(0))
    g._restore()
    assert g.rows_estimate_ == 40.0 and g.image_shape_ == (2, 2)
    assert g._sample(5, np.random.default_rng(1)).images.shape == (5, 2, 2)
    dp_release = MerfRelease(7, (2, 2), np.array([-3.0, 30.0]), None, sums)
    _, props, rows = class_targets(dp_release, g._plan(None))
    np.testing.assert_allclose(props, [0.0, 1.0])
    assert rows == 30.0
