import json
import time
import warnings

import numpy as np
import pytest

from synthgen.exceptions import ConfigError, DataValidationError, NotFittedError, PrivacyError
from synthgen.generators.images.augment import ImageAugmenter, ImagesNotAttachedError
from synthgen.io.images import write_image_data
from synthgen.persistence import load_model

PIPE = [{"name": "rotate", "limit": 20, "p": 0.8},
        {"name": "affine", "scale": [0.9, 1.1], "p": 0.3},
        {"name": "crop", "scale": [0.8, 1.0], "p": 0.5},
        {"name": "hflip", "p": 0.2},
        {"name": "brightness_contrast", "brightness_limit": 0.2, "contrast_limit": 0.2, "p": 0.5},
        {"name": "gamma", "p": 0.3},
        {"name": "noise", "std_range": [0.01, 0.05], "p": 0.5},
        {"name": "blur", "p": 0.2}]


@pytest.fixture(scope="module")
def small(digits):
    xtr, ytr, _, _ = digits
    return xtr[:50], ytr[:50]


def test_augment_shapes_labels_and_guarantee(small):
    x, y = small
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = ImageAugmenter(PIPE, n_per_image=3).augment(x, y, random_state=0)
    assert out.images.shape == (150,) + x.shape[1:] and out.images.dtype == np.float32
    np.testing.assert_array_equal(out.labels, np.repeat(y, 3))
    assert out.images.min() >= 0 and out.images.max() <= 1
    assert out.privacy["guarantee"] == "none" and "reveal" in out.privacy["reason"]
    assert not np.array_equal(out.images[0], out.images[1])  # copies differ from each other
    # every copy stays closest (on average) to its own source: labels really are carried along
    d = ((out.images.reshape(150, 1, -1) - x.reshape(1, 50, -1)) ** 2).sum(-1)
    assert (d.argmin(1) == np.repeat(np.arange(50), 3)).mean() > 0.5  # chance: 0.02


def test_seed_reproduces_whole_output_and_children_are_per_image(small):
    x, y = small
    aug = ImageAugmenter(PIPE, n_per_image=2)
    a, b = aug.augment(x, y, random_state=11), aug.augment(x, y, random_state=11)
    c = aug.augment(x, y, random_state=12)
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.array_equal(a.images, c.images)
    # an image's copies depend only on its own child seed: permuting the rest does not change them
    rng = np.random.default_rng(11)
    seeds = rng.integers(0, 2**63 - 1, size=100, dtype=np.int64)
    from synthgen.generators.images.augment import _apply, build_compose

    one = _apply(build_compose(PIPE, x.shape[1:]), x, seeds[[20, 21]], np.array([10, 10]))
    np.testing.assert_array_equal(one, a.images[20:22])


def test_rgb_and_channel_last_grey(small):
    x, y = small
    rgb = np.repeat(x[..., None], 3, axis=-1)
    out = ImageAugmenter(PIPE).augment(rgb, y, random_state=0)
    assert out.images.shape == rgb.shape
    g1 = ImageAugmenter(PIPE).augment(x[..., None], y, random_state=0)
    g0 = ImageAugmenter(PIPE).augment(x, y, random_state=0)
    np.testing.assert_array_equal(g1.images[..., 0], g0.images)


def test_yaml_and_json_roundtrip(tmp_path, small):
    x, y = small
    aug = ImageAugmenter(PIPE, n_per_image=2)
    aug.to_yaml(tmp_path / "p.yaml")
    aug.to_json(tmp_path / "p.json")
    for back in (ImageAugmenter.from_yaml(tmp_path / "p.yaml", n_per_image=2),
                 ImageAugmenter.from_json(tmp_path / "p.json", n_per_image=2),
                 ImageAugmenter.from_yaml(aug.to_yaml(), n_per_image=2)):
        assert back.pipeline_dict() == aug.pipeline_dict()
        np.testing.assert_array_equal(back.augment(x, y, random_state=3).images,
                                      aug.augment(x, y, random_state=3).images)
    assert json.loads((tmp_path / "p.json").read_text())["transforms"][0]["name"] == "rotate"


def test_unknown_transform_and_bad_arguments(tmp_path, small):
    (tmp_path / "bad.yaml").write_text("synthgen_pipeline: 1\ntransforms:\n  - {name: rotate}\n  - {name: sharpen}\n")
    with pytest.raises(ConfigError, match="unknown transform 'sharpen'.*Known transforms"):
        ImageAugmenter.from_yaml(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="p must be a probability"):
        ImageAugmenter([{"name": "rotate", "p": 2}]).augment(*small)
    with pytest.raises(ConfigError, match="invalid arguments"):
        ImageAugmenter([{"name": "rotate", "no_such_argument": 1}]).augment(*small)
    with pytest.raises(ConfigError, match="not valid YAML"):
        ImageAugmenter.from_yaml("transforms: [unclosed\n")
    with pytest.raises(ConfigError, match="n_per_image"):
        ImageAugmenter(n_per_image=0).augment(*small)


def test_folder_input(tmp_path, small):
    x, y = small
    write_image_data((x[:10], y[:10]), tmp_path / "imgs")
    out = ImageAugmenter(PIPE).augment(tmp_path / "imgs", random_state=0)
    assert len(out) == 10
    np.testing.assert_array_equal(out.labels, y[:10])


def test_saved_model_holds_no_images_and_needs_reattaching(tmp_path, small):
    x, y = small
    with pytest.warns(UserWarning, match="NOT differentially private"):
        aug = ImageAugmenter(PIPE).fit((x, y), random_state=0)
    s = aug.sample(80, random_state=4)
    assert len(s) == 80 and set(s.labels) <= set(y)
    aug.save(tmp_path / "m")
    blob = b"".join(f.read_bytes() for f in (tmp_path / "m").iterdir())
    assert x[0].tobytes() not in blob and len(blob) < 20_000
    loaded = load_model(tmp_path / "m")
    with pytest.raises(ImagesNotAttachedError, match="attach_images"):
        loaded.sample(5)
    assert isinstance(ImagesNotAttachedError("x"), NotFittedError)
    with pytest.raises(DataValidationError, match="shape"):
        loaded.attach_images(np.zeros((3, 9, 9), np.float32))
    loaded.attach_images(x, y)
    np.testing.assert_array_equal(loaded.sample(80, random_state=4).images, s.images)


def test_refuses_ledger_and_schema(tmp_path, small):
    from synthgen.privacy.ledger import PrivacyLedger

    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=1.0, delta=1e-6)
    with pytest.raises(PrivacyError):
        ImageAugmenter().fit(small, ledger=ledger)
    with pytest.raises(ConfigError, match="no table schema"):
        ImageAugmenter().fit(small, schema=object())


def test_throughput(small):
    """Batched speed on small images (benchmarks/bench_images.py reports the full number; here a loose floor)."""
    x, y = small
    xs = np.tile(x, (40, 1, 1))
    aug = ImageAugmenter(PIPE)
    t = time.perf_counter()
    aug.augment(xs, random_state=0)
    rate = len(xs) / (time.perf_counter() - t)
    assert rate > 1000, f"{rate:.0f} images/s"


def test_parallel_output_equals_serial(small):
    x, y = small
    a = ImageAugmenter(PIPE[:2], n_per_image=80).augment(x, y, random_state=5)
    b = ImageAugmenter(PIPE[:2], n_per_image=80, n_jobs=2).augment(x, y, random_state=5)
    assert len(a) == 4000
    np.testing.assert_array_equal(a.images, b.images)
    with pytest.raises(ConfigError, match="n_jobs"):
        ImageAugmenter(n_jobs=0).augment(x, y)
