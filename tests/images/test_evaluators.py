import json

import numpy as np
import pytest

from evaluators.base import EvaluationError
from evaluators.images import (feature_metrics, frechet_distance, image_report, membership_auc, prdc, tstr)
from synthgen.generators.images.augment import ImageAugmenter
from synthgen.io.images import ImageData


@pytest.fixture(scope="module")
def split(digits):
    xtr, ytr, xte, yte = digits
    return (xtr[:600], ytr[:600]), (xte, yte)


def test_tstr_real_copy_matches_trtr_and_noise_is_poor(split):
    train, test = split
    res = {r.name: r for r in tstr(train, train, test)}
    lr = res["tstr_accuracy_logreg"]
    assert lr.value == pytest.approx(lr.reference) and lr.reference > 0.9
    assert res["tstr_accuracy_mlp"].reference > 0.9
    rng = np.random.default_rng(0)
    noise = ImageData(rng.random((300, 8, 8), dtype=np.float32), rng.integers(0, 10, 300))
    bad = {r.name: r for r in tstr(noise, train, test, models=("logreg",))}
    assert bad["tstr_accuracy_logreg"].value < 0.3


def test_frechet_and_prdc_basics():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 5)), rng.normal(size=(400, 5))
    assert frechet_distance(a, b) < 0.3
    assert frechet_distance(a, b + 3.0) == pytest.approx(45.0, rel=0.1)  # |mean shift|^2 = 5 * 9
    p_same, p_far = prdc(a, b), prdc(a, b + 10.0)
    assert p_same["precision"] > 0.7 and p_same["coverage"] > 0.7
    assert p_far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_feature_metrics_rank_real_above_noise(split):
    train, test = split
    rng = np.random.default_rng(0)
    noise = ImageData(rng.random((300, 8, 8), dtype=np.float32), rng.integers(0, 10, 300))
    real = {r.name: r for r in feature_metrics(test, train, test)}
    fake = {r.name: r for r in feature_metrics(noise, train, test)}
    assert real["frechet_distance"].value < fake["frechet_distance"].value
    assert real["coverage"].value > fake["coverage"].value
    assert real["frechet_distance"].reference == pytest.approx(real["frechet_distance"].value)


def test_membership_flags_augmented_copies_not_holdout(split):
    (x, y), (xte, yte) = split
    members, nonmembers = (x[:300], y[:300]), (x[300:600], y[300:600])
    aug = ImageAugmenter([{"name": "rotate", "limit": 10, "p": 0.7},
                          {"name": "noise", "std_range": [0.01, 0.03], "p": 0.5}]).augment(*members, random_state=0)
    leak = membership_auc(aug, members, nonmembers)
    assert leak.value > 0.8 and leak.details["verdict"] == "high risk"
    independent = membership_auc((xte, yte), members, nonmembers)  # images from neither set
    assert abs(independent.value - 0.5) < 0.1
    assert independent.ci[0] < 0.5 < independent.ci[1] and leak.ci[0] > 0.7  # Hanley-McNeil interval


def test_report_html_json_and_private_grids(tmp_path, split):
    train, test = split
    syn = ImageAugmenter().augment(*train, random_state=0)
    rep = image_report(syn, train, test, models=("logreg",))
    d = json.loads(rep.to_json())
    names = {r["name"] for r in d["results"]}
    assert {"tstr_accuracy_logreg", "frechet_distance", "precision", "recall", "density", "coverage",
            "membership_auc"} <= names
    assert d["privacy"]["guarantee"] == "none"
    assert list(d["grids"]) == ["synthetic"] and not d["meta"]["shows_private_images"]
    assert sum(d["class_counts"]["synthetic"].values()) == len(syn)
    page = rep.to_html()
    assert "NO DIFFERENTIAL-PRIVACY GUARANTEE" in page and page.count("data:image/png;base64,") == 1
    assert "http://" not in page and "https://" not in page
    rep.save_html(tmp_path / "r.html")
    rep.save_json(tmp_path / "r.json")
    assert (tmp_path / "r.html").read_text() == page
    shown = image_report(syn, train, test, models=("logreg",), show_private=True)
    assert shown.to_html().count("data:image/png;base64,") == 2


def test_bad_inputs(split):
    train, test = split
    with pytest.raises(EvaluationError, match="shapes differ"):
        tstr(ImageData(np.zeros((10, 4, 4), np.float32), np.zeros(10, int)), train, test)
    with pytest.raises(EvaluationError, match="need labels"):
        tstr(ImageData(train[0]), train, test)
