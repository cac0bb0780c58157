"""DPImageGenerator (DP-MERF): spend, counts, persistence, quality. Privacy properties (no exact n, fresh noise,
measure/estimate split): tests/privacy/test_dp_image_privacy.py."""
import numpy as np
import pytest

from synthgen.exceptions import BudgetExceededError, ConfigError, DataValidationError
from synthgen.generators.images.dp_merf import DPImageGenerator
from synthgen.io.images import ImageData
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
