"""The distinguishing game (evaluators.audit.game), its worlds, scores and result document."""
import numpy as np
import pytest

from evaluators.audit import AuditResult, audit
from evaluators.audit.game import choose_test
from evaluators.audit.scores import statistics
from evaluators.audit.worlds import X_UPPER, make_worlds
from synthgen.exceptions import ConfigError


def test_worlds_are_neighbours_with_a_worst_case_canary():
    for kind in ("outlier", "unique-category", "repeated"):
        w = make_worlds(kind, n=50, repeats=3)
        d0, d1 = w.data(False), w.data(True)
        assert len(d1) - len(d0) == w.repeats == (3 if kind == "repeated" else 1)
        assert d1.iloc[: len(d0)].equals(d0)
        assert w.schema.rows.max is not None and w.schema.validate(d1).ok
        col = w.column
        if kind == "unique-category":
            assert w.canary[col] not in set(d0[col])
        else:
            assert w.canary[col] == X_UPPER and d0[col].max() <= X_UPPER / 10
    with pytest.raises(ConfigError):
        make_worlds("nope")


def test_choose_test_picks_the_separating_statistic_and_keeps_the_primary_on_ties():
    rng = np.random.default_rng(0)
    s0 = np.column_stack([rng.normal(0, 1, 20), np.zeros(20)])
    s1 = np.column_stack([rng.normal(0, 1, 20), np.ones(20)])
    j, thr, sign, eps = choose_test(s0, s1, 1e-6)
    assert (j, thr, sign) == (1, 0.5, 1.0) and eps > 0
    j, thr, sign, eps = choose_test(s1[:, ::-1], s0[:, ::-1], 1e-6)  # separation on 0, D' scores lower
    assert j == 0 and sign == -1.0
    flat = np.zeros((10, 2))
    assert choose_test(flat, flat, 1e-6)[0] == 0


def test_statistics_per_strength():
    assert statistics("dp-copula", "white-box")[0][0] == "release-lr"
    assert statistics("dp-copula", "model-based")[0][0] == "bin-probability"
    assert [n for n, _ in statistics("dp-copula", "black-box")] == ["neighbourhood-share"]
    assert statistics("dp-ctgan", "model-based")[0][0] == "model-frequency"
    for bad in (("dp-image", "model-based"), ("copula", "black-box"),
                ("dp-copula", "grey-box")):
        with pytest.raises(ConfigError):
            statistics(*bad)


def test_audit_checks_its_arguments():
    with pytest.raises(ConfigError):
        audit("dp-copula", trials=3)
    with pytest.raises(ConfigError):
        audit("dp-copula", trials=4, params={"epsilon": 2.0})


@pytest.mark.parametrize("canary,score", [("unique-category", "model-based"), ("outlier", "black-box"),
                                          ("repeated", "white-box")])
def test_small_audits_run_and_round_trip(canary, score):
    res = audit("dp-copula", epsilon=2.0, canary=canary, score=score, trials=6, random_state=0)
    d = res.to_dict()
    assert d["game"] == {**d["game"], "kind": "distinguishing", "canary": canary, "score": score, "trials": 6}
    assert d["verdict"] in ("consistent", "inconclusive")
    if canary == "repeated":  # group privacy of 2 rows
        assert d["claimed"]["epsilon"] == pytest.approx(4.0) and d["claimed"]["delta"] > 1e-6
    back = AuditResult.from_dict(d)
    assert back.to_dict() == d


def test_white_box_mu_hat_tracks_the_mechanism():
    """The white-box statistic is N(0, 1) vs N(mu, 1) with mu the mechanism's own (at eps 4 the canary reaches
    every sensitivity bound: mu = sqrt(2 rho) = 0.789): 60 fits per world estimate it to within ~0.19 (4 standard
    errors: 0.75)."""
    res = audit("dp-copula", epsilon=4.0, trials=60, random_state=0)
    emp = res.empirical
    assert 0.7 < emp["mu_mechanism"] < 0.8
    assert abs(emp["mu_hat"] - emp["mu_mechanism"]) < 0.75
    assert emp["mu_ci"][0] <= emp["mu_hat"] <= emp["mu_ci"][1]
    assert res.epsilon_lb <= 4.0


def test_accounting_check_rides_along():
    pytest.importorskip("dp_accounting")
    res = audit("dp-copula", epsilon=1.0, trials=4, random_state=0, accounting=True)
    acc = res.to_dict()["accounting"]
    assert acc["agrees"] is True and acc["epsilon_claimed"] == pytest.approx(1.0)
    assert audit("dp-copula", epsilon=1.0, trials=4, random_state=0).accounting is None


def test_dp_ctgan_scores_read_its_released_counts():
    from synthgen.generators import registry

    if not registry.is_available("dp-ctgan"):
        pytest.skip("dp-ctgan needs torch")
    from evaluators.audit.scores import make_generator

    w = make_worlds("unique-category")
    gen = make_generator("dp-ctgan", "white-box", {"epsilon": 1.0, "epochs": 1, "batch_size": 32})
    gen.fit(w.data(True), w.schema, random_state=0)
    (name, count), *rest = statistics("dp-ctgan", "white-box")
    freq = statistics("dp-ctgan", "model-based")[0][1](gen, w)
    assert name == "released-count" and 0.0 <= freq <= 1.0
    assert count(gen, w) == pytest.approx(freq * gen.rows_estimate_)  # one column: its frequency times n-hat


def test_metadata_fields_keep_what_varies_and_find_a_world_dependent_field():
    from evaluators.audit import metadata

    fits = [{"a": 1.0, "noisy": 0.3, "n": 0.01}, {"a": 1.0, "noisy": 0.7, "n": 0.01},
            {"a": 1.0, "noisy": 0.3, "n": 1 / 101}, {"a": 1.0, "n": 1 / 101}]
    names, values = metadata.field_matrix(fits)
    assert names == ["metadata:n", "metadata:noisy"]  # the constant field cannot tell the worlds apart
    assert values.shape == (4, 2) and values[3, 1] == metadata._hash(metadata.MISSING)
    assert metadata.differing_fields(names, values[:2], values[2:]) == ["metadata:n"]
    assert metadata._scalar("x") == metadata._scalar("x") != metadata._scalar("y")


def test_released_fields_of_a_fit_hold_its_spend_and_no_clock():
    from evaluators.audit import metadata
    from synthgen.generators import registry

    w = make_worlds("outlier", n=30)
    gen = registry.get("dp-copula")(epsilon=1.0).fit(w.data(False), w.schema, random_state=0)
    fields = metadata.released_fields(gen)
    assert "rows_estimate" in fields and any(k.startswith("privacy.details.") for k in fields)
    assert not any(k.split(".")[0] in metadata.SKIP for k in fields)


def test_the_pre_registered_test_uses_every_fit_and_the_union_bound():
    res = audit("dp-copula", epsilon=4.0, trials=20, random_state=0)
    emp, game = res.empirical, res.game
    pre, sel = emp["tests"]["pre-registered"], emp["tests"]["selected"]
    assert pre["n1"] == pre["n0"] == 20 and sel["n1"] == sel["n0"] == 10
    assert emp["confidence_per_test"] == pytest.approx(0.975)
    assert res.epsilon_lb == max(pre["epsilon_lb"], sel["epsilon_lb"])
    assert game["test"] in ("pre-registered", "selected") and pre["statistic"] == "release-lr"
    assert 0.7 < pre["mu_ref"] < 0.8 and emp["epsilon_lb_attainable"] >= 0.0
    ctgan_free = audit("dp-copula", epsilon=1.0, score="model-based", trials=6, random_state=0).empirical
    assert list(ctgan_free["tests"]) == ["selected"] and ctgan_free["confidence_per_test"] == 0.95


def test_dp_marginal_white_box_reads_its_measurements_and_tracks_its_mu():
    """Issue 12: the white-box game on dp-marginal's noisy measurements is consistent, and its statistic is
    N(0, 1) vs N(mu, 1) with mu from the measurements' sigmas (60 fits per world: within ~4 standard errors)."""
    from synthgen.generators import registry

    if not registry.is_available("dp-marginal"):
        pytest.skip("dp-marginal is not available")
    assert statistics("dp-marginal", "white-box")[0][0] == "release-lr"
    res = audit("dp-marginal", epsilon=4.0, trials=60, random_state=0)
    emp = res.empirical
    assert 0.3 < emp["mu_mechanism"] < 0.8 and abs(emp["mu_hat"] - emp["mu_mechanism"]) < 0.75
    assert res.verdict != "violation" and res.epsilon_lb <= 4.0
