"""The metric primitives match their reference definitions (the ones sdmetrics uses), checked by hand/scipy."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import evaluators
from evaluators import fidelity, utility
from evaluators.base import prepare


def test_ks_statistic_matches_scipy(rng):
    for _ in range(5):
        a = rng.normal(size=rng.integers(20, 300)).round(1)
        b = rng.normal(0.3, 1.2, size=rng.integers(20, 300)).round(1)
        a[:3] = np.nan
        want = stats.ks_2samp(a[~np.isnan(a)], b).statistic
        assert fidelity.ks_statistic(a, b) == pytest.approx(want, abs=1e-12)


def test_tv_complement_by_hand():
    a = np.array([0, 0, 1, 2])          # shares 0.5 0.25 0.25
    b = np.array([0, 1, 1, 1, -1])      # shares 0.2 0.6 0 + null 0.2
    want = 1 - 0.5 * (0.3 + 0.35 + 0.25 + 0.2)
    assert fidelity.tv_complement(a, b, 3) == pytest.approx(want)


def test_pair_scores_follow_their_definitions(rng):
    n = 500
    x = rng.normal(size=n)
    real = pd.DataFrame({"x": x, "y": x + rng.normal(size=n), "c": np.where(x > 0, "p", "q")})
    syn = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n), "c": rng.choice(["p", "q"], n)})
    prep = prepare(real, syn, None, None)
    pairs = {tuple(p["columns"]): p for p in fidelity.pair_trends(prep)["pairs"]}
    r_real = np.corrcoef(real.x, real.y)[0, 1]
    r_syn = np.corrcoef(syn.x, syn.y)[0, 1]
    assert pairs[("x", "y")]["score"] == pytest.approx(1 - abs(r_real - r_syn) / 2)
    assert pairs[("x", "y")]["weight"] == pytest.approx(abs(r_real))
    # contingency on 10 equal-width real-range bins of x against c
    edges = np.histogram_bin_edges(real.x, bins=10)[1:-1]
    jr = pd.crosstab(np.searchsorted(edges, real.x, side="right"), real.c, normalize=True)
    js = pd.crosstab(np.searchsorted(edges, syn.x, side="right"), syn.c, normalize=True)
    tv = 0.5 * jr.sub(js, fill_value=0).abs().to_numpy().sum()
    assert pairs[("x", "c")]["score"] == pytest.approx(1 - tv)
    assert pairs[("x", "c")]["real_association"] > 0.8 > 0.2 > pairs[("x", "c")]["synthetic_association"]


def test_bootstrap_metrics_equal_sklearn_on_unit_weights(rng):
    from sklearn.metrics import accuracy_score, f1_score, r2_score, roc_auc_score

    y = rng.integers(0, 3, 300)
    proba = rng.dirichlet([1, 1, 1], 300)
    w = np.ones((1, 300))
    m = utility._cls_metrics(y, proba, np.array([0, 1, 2]), w)
    pred = proba.argmax(1)
    assert m["accuracy"][0] == pytest.approx(accuracy_score(y, pred))
    assert m["macro_f1"][0] == pytest.approx(f1_score(y, pred, average="macro"))
    assert m["auc"][0] == pytest.approx(roc_auc_score(y, proba, multi_class="ovr"))
    yr, pr = rng.normal(size=200), rng.normal(size=200)
    assert utility._reg_metrics(yr, pr, np.ones((1, 200)))["r2"][0] == pytest.approx(r2_score(yr, pr))


def test_regression_target_and_floor(diamonds_parts):
    train, holdout, fresh, schema = diamonds_parts
    rep = evaluators.evaluate(train.iloc[:500], fresh.iloc[:500], holdout.iloc[:500], schema, target="price",
                              metrics=["utility"])
    r2 = rep["utility.gbm.r2"]
    assert r2.reference > 0.8 and r2.value > 0.8 and r2.details["floor"] == pytest.approx(0.0, abs=0.02)
    mae = rep["utility.gbm.mae"]
    assert mae.direction == "lower_is_better" and mae.value < mae.details["floor"]
    assert rep.summary["fidelity_score"] is None and rep.summary["tstr_ratio"] > 0.8


def test_random_state_makes_reports_repeatable(diamonds_parts):
    train, holdout, fresh, schema = diamonds_parts
    kw = dict(metrics=["detection", "mia"], random_state=7)
    a = evaluators.evaluate(train.iloc[:400], fresh.iloc[:400], holdout.iloc[:400], schema, **kw)
    b = evaluators.evaluate(train.iloc[:400], fresh.iloc[:400], holdout.iloc[:400], schema, **kw)
    assert [r.to_dict() for r in a.results] == [r.to_dict() for r in b.results]


def test_a_numeric_zero_one_target_is_a_classification(rng):
    """Found on openintro/email (``spam`` drafted as an integer 0-4): the regression R² of a 0/1 flag gave TSTR/TRTR
    ratios of -0.75 and -12.6; a numeric target with two whole values is now classified. A count stays a
    regression; a synthetic value the real target never takes below its smallest is no class."""
    n = 600

    def frame(flip):
        x = rng.normal(size=n)
        y = ((x + rng.normal(0, 0.5, n)) > 0).astype(float)
        return pd.DataFrame({"x": x, "flag": np.where(rng.random(n) < flip, 1 - y, y) + 1, "count": rng.poisson(3, n)})

    real, holdout, syn = frame(0.0), frame(0.0), frame(0.05)
    syn.loc[:9, "flag"] = 0  # below the real data's smallest value: dropped from training, not a class
    rep = evaluators.evaluate(real, syn, holdout, target="flag", metrics=["utility"])
    f1 = rep["utility.gbm.macro_f1"]
    assert f1.details["task"] == "classification" and 0.7 < f1.value <= 1 and 0.7 < f1.reference <= 1
    assert 0.8 < rep.summary["tstr_ratio"] < 1.1
    rep = evaluators.evaluate(real, syn, holdout, target="count", metrics=["utility"])
    assert rep["utility.gbm.r2"].details["task"] == "regression"
