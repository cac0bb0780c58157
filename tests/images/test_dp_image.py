"""DPImageGenerator (DP-MERF): spend, counts, persistence, quality, and the measure/estimate split."""
import json

import numpy as np
import pytest

from synthgen.exceptions import BudgetExceededError, ConfigError, DataValidationError, InvalidPrivacyParameterError
from synthgen.generators.images.dp_merf import DPImageGenerator, MerfRelease, class_targets
from synthgen.imageio import ImageData
from synthgen.persistence import load_model
from synthgen.privacy.ledger import PrivacyLedger

FAST = dict(classes=range(10), n_iter=60, n_features=500, hidden=64)


@pytest.fixture(scope="module")
def small(digits):
    xtr, ytr, _, _ = digits
    return xtr[:600], ytr[:600]


def test_spend_within_target_and_split_recorded(small):
    g = DPImageGenerator(epsilon=2.0, **FAST).fit(small, random_state=0)
    s = g.privacy_spent_
    assert 0 < s.epsilon <= 2.0 + 1e-9 and s.delta == 1e-9  # default delta: no declared max_rows
    assert 500 < g.rows_estimate_ < 700  # the sum of the noisy class counts (600 images)
    assert set(s.details["rho_split"]) == {"counts", "embeddings"}
    assert s.details["rho_spent"] <= s.details["rho_total"] * (1 + 1e-9)
    out = g.sample(100, random_state=0)
    assert isinstance(out, ImageData) and out.images.shape == (100, 8, 8)
    assert out.privacy["guarantee"] == "dp" and out.privacy["epsilon"] == s.epsilon
    assert set(np.unique(out.labels)) <= set(range(10))


def test_public_counts_spend_nothing_on_counts(small):
    g = DPImageGenerator(epsilon=1.0, class_counts=[1] * 9 + [9], **FAST).fit(small, random_state=0)
    assert set(g.privacy_spent_.details["rho_split"]) == {"embeddings"}
    assert g.privacy_spent_.details["class_counts"] == "public"
    assert g.rows_estimate_ == 18.0  # the declared counts
    assert (g.sample(500, random_state=0).labels == 9).mean() > 0.35


def test_uniform_classes_buy_one_noisy_total(small):
    """class_counts="uniform": proportions are exactly 1/k; the embedding normaliser is a charged noisy total."""
    g = DPImageGenerator(epsilon=1.0, class_counts="uniform", **FAST).fit(small, random_state=0)
    assert set(g.privacy_spent_.details["rho_split"]) == {"row_count", "embeddings"}
    assert g.privacy_spent_.details["class_counts"] == "uniform"
    np.testing.assert_allclose(g.class_proportions_, 0.1)
    assert g.rows_estimate_ != 600 and abs(g.rows_estimate_ - 600) < 200


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


def test_same_random_state_gives_fresh_noise(small):
    """Fails on the old main, where the counts' and embeddings' noise came from random_state."""
    a, b = (DPImageGenerator(epsilon=1.0, **dict(FAST, n_iter=1)).fit(small, random_state=0) for _ in range(2))
    assert not np.array_equal(a.class_proportions_, b.class_proportions_)
    assert a.rows_estimate_ != b.rows_estimate_ or not np.array_equal(a.final_loss_, b.final_loss_)


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


def test_noise_depends_on_epsilon(small):
    """The released statistics really are noisy: more noise (smaller epsilon) moves the class proportions further
    from the true ones."""
    true = np.bincount(small[1], minlength=10) / len(small[1])
    errs = {}
    for eps in (0.05, 50.0):
        errs[eps] = np.mean([np.abs(DPImageGenerator(epsilon=eps, **dict(FAST, n_iter=1)).fit(
            small, random_state=s).class_proportions_ - true).sum() for s in range(5)])
    assert errs[0.05] > 5 * errs[50.0]


def test_ledger_charged_and_overspend_refused(tmp_path, small):
    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=1.5, delta=1e-5)
    DPImageGenerator(epsilon=1.0, **FAST).fit(small, ledger=ledger, random_state=0)
    assert 0 < ledger.spent()[0] <= 1.0 + 1e-9
    with pytest.raises(BudgetExceededError):
        DPImageGenerator(epsilon=1.0, **FAST).fit(small, ledger=ledger, random_state=0)


def test_saved_model_has_weights_only(tmp_path, small):
    g = DPImageGenerator(epsilon=1.0, **FAST).fit(small, random_state=0)
    g.save(tmp_path / "m")
    from safetensors.numpy import load_file

    arrays = load_file(str(tmp_path / "m" / "arrays.safetensors"))
    assert set(arrays) == {"class_proportions"} | {k for k in arrays if k.startswith("net.")}
    blob = (tmp_path / "m" / "arrays.safetensors").read_bytes()
    assert small[0][0].tobytes() not in blob
    back = load_model(tmp_path / "m")
    np.testing.assert_array_equal(back.sample(20, random_state=1).images, g.sample(20, random_state=1).images)


def test_bad_configuration(small):
    with pytest.raises(ConfigError, match="classes=range"):
        DPImageGenerator(epsilon=1.0, n_iter=1).fit(small)
    with pytest.raises(DataValidationError, match="declared classes"):
        DPImageGenerator(epsilon=1.0, **dict(FAST, classes=range(5))).fit(small)
    with pytest.raises(DataValidationError, match="needs labels"):
        DPImageGenerator(epsilon=1.0, **FAST).fit(ImageData(small[0]))
    with pytest.raises(ConfigError, match="class_counts"):
        DPImageGenerator(epsilon=1.0, class_counts=[1, 2], **FAST).fit(small)
    with pytest.raises(ConfigError, match="n_iter"):
        DPImageGenerator(epsilon=1.0, **dict(FAST, n_iter=0)).fit(small)


def test_learns_something_useful(digits):
    """A short DP fit at a loose budget already beats chance (0.1) by far on held-out real digits."""
    from sklearn.linear_model import LogisticRegression

    xtr, ytr, xte, yte = digits
    g = DPImageGenerator(epsilon=10.0, classes=range(10), n_iter=150, n_features=500, hidden=64)
    s = g.fit((xtr, ytr), random_state=0).sample(1000, random_state=0)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        acc = LogisticRegression(max_iter=500).fit(s.images.reshape(1000, -1), s.labels).score(
            xte.reshape(len(xte), -1), yte)
    assert acc > 0.6, acc
