"""The evaluators discriminate: memorising releases score high risk, fresh real data low risk, broken pair
structure poor pair trends (real tables, subsampled)."""
import pytest

import evaluators
from synthgen.generators import registry


@pytest.fixture(scope="module")
def reports(diamonds_parts, copy50, shuffle):
    train, holdout, fresh, schema = diamonds_parts
    out = {}
    for name, syn in (("copy50", copy50), ("fresh", fresh), ("shuffled", shuffle(train, seed=3))):
        out[name] = evaluators.evaluate(train, syn, holdout, schema, target="price", random_state=0)
    return out


def test_copying_half_the_training_rows_scores_high_risk_and_high_fidelity(reports):
    s = reports["copy50"].summary
    assert s["exact_match_rate"] > 0.45
    assert s["mia_auc"] > 0.65
    assert s["dcr_share"] > 0.65
    assert reports["copy50"]["privacy.mia_tpr_at_1pct_fpr"].value > 0.2
    assert reports["copy50"]["privacy.nndr"].value < 0.05
    assert s["fidelity_score"] > 0.9
    assert s["verdict"]["status"] == "fail"
    assert any("exact-match" in r for r in s["verdict"]["reasons"])


def test_fresh_real_rows_score_low_risk(reports):
    rep = reports["fresh"]
    s = rep.summary
    assert s["exact_match_rate"] < 0.02
    assert 0.42 < s["mia_auc"] < 0.58
    assert 0.42 < s["dcr_share"] < 0.58
    assert s["verdict"]["status"] != "fail"
    # every risk number sits beside the holdout's, and fresh data looks like the holdout
    for name in ("privacy.dcr_share", "privacy.mia_auc", "fidelity.score", "fidelity.detection_auc"):
        r = rep[name]
        assert r.reference is not None
        assert abs(r.value - r.reference) < 0.08, name


def test_shuffled_columns_break_pair_trends_and_are_detected(reports):
    shuf, fresh = reports["shuffled"], reports["fresh"]
    assert shuf["fidelity.column_shapes"].value > 0.99          # marginals are kept exactly
    assert shuf["fidelity.pair_trends"].value < fresh["fidelity.pair_trends"].value - 0.08
    # the association-weighted score is not inflated by unassociated pairs: it drops further than the plain one
    assert shuf["fidelity.pair_trends_weighted"].value < shuf["fidelity.pair_trends"].value - 0.1
    assert shuf["fidelity.three_way"].value < fresh["fidelity.three_way"].value - 0.2
    assert shuf.summary["detection_auc"] > 0.9
    assert fresh.summary["detection_auc"] < 0.6
    assert shuf.summary["tstr_ratio"] < 0.3 < fresh.summary["tstr_ratio"]


def test_dp_release_at_epsilon_1_scores_low_risk(diamonds_parts):
    if not registry.is_available("dp-copula"):
        pytest.skip("the DP copula (registry name 'dp-copula') is not available yet")
    train, holdout, _, schema = diamonds_parts
    gen = registry.get("dp-copula")(epsilon=1.0)
    gen.fit(train, schema, random_state=0)
    syn = gen.sample(len(train), random_state=1)
    rep = evaluators.evaluate(train, syn, holdout, schema, privacy=gen.privacy_spent_, random_state=0)
    s = rep.summary
    assert s["privacy"]["guarantee"] == "dp" and s["privacy"]["epsilon"] <= 1.0 + 1e-9
    assert s["exact_match_rate"] < 0.01
    assert s["mia_auc"] < 0.58
    assert s["dcr_share"] < 0.58
    assert s["verdict"]["status"] != "fail"
