"""dp-marginal end to end on the small contract table: round trip, conditional sampling, budget, noise.

Every fit here uses one fixed workload, so the estimated model has the same structure each time and mbi's
compiled program is reused (a new structure costs an XLA compilation of seconds)."""
import math

import numpy as np
import pytest

from synthgen.exceptions import ConfigError
from synthgen.generators.marginal.dp import DPMarginal
from synthgen.persistence import load_model
from synthgen.privacy.accountants import ZCDPBudget
from synthgen.privacy.analysis import gaussian_sigma
from synthgen.testing.contract import contract_table

PARAMS = dict(epsilon=3.0, workload=[["x", "group"]], max_cliques=1, max_rounds=1, round_iters=50, final_iters=100,
              n_bins=16)


@pytest.fixture(scope="module")
def table():
    return contract_table()


@pytest.fixture(scope="module")
def fitted(table):
    df, schema = table
    return DPMarginal(**PARAMS).fit(df, schema, random_state=0)


def test_save_load_samples_identically(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == ["arrays.safetensors", "manifest.json"]
    loaded = load_model(tmp_path / "m")
    assert isinstance(loaded, DPMarginal)
    a, b = fitted.sample(200, random_state=5), loaded.sample(200, random_state=5)
    assert a.astype(str).equals(b.astype(str))
    c = fitted.sample(200, random_state=5, conditions={"group": "b"})
    assert c.astype(str).equals(loaded.sample(200, random_state=5, conditions={"group": "b"}).astype(str))
    assert [m.clique for m in loaded.measurements_] == [m.clique for m in fitted.measurements_]
    assert all(np.array_equal(m.values, n.values) and m.sigma == n.sigma
               for m, n in zip(loaded.measurements_, fitted.measurements_))


def test_conditional_sampling_is_evidence_in_the_model(fitted):
    c = fitted.sample(400, random_state=1, conditions={"group": "c"})
    a = fitted.sample(400, random_state=1, conditions={"group": "a"})
    assert (c["group"] == "c").all() and (a["group"] == "a").all()
    # (x, group) was measured: the condition moves x too (group c lives near 90, group a near 30)
    assert c["x"].mean() > a["x"].mean() + 30
    both = fitted.sample(300, random_state=2, conditions={"group": ["a", "b"], "flag": True})
    assert set(both["group"]) <= {"a", "b"} and both["flag"].all()
    for bad in ({"x": 3.0}, {"group": "nope"}, {"flag": "yes"}, {"nope": 1}):
        with pytest.raises(ConfigError):
            fitted.sample(10, conditions=bad)


def test_spend_is_the_target_with_the_golden_split(table):
    df, schema = table
    gen = DPMarginal(**{**PARAMS, "workload": [["x", "group"], ["count", "flag"]], "max_cliques": 2,
                        "max_rounds": 2}).fit(df, schema, random_state=0)
    spent = gen.privacy_spent_
    rho = ZCDPBudget(3.0, spent.delta, 0.1 * spent.delta).rho  # a tenth of delta held for x's heap threshold
    assert spent.epsilon == 3.0 and spent.details["rho_total"] == pytest.approx(rho, rel=1e-12)
    split = spent.details["rho_split"]
    # one-way share 0.25: 3 of the 5 columns (x, count, day) spend half of their part on a fine histogram, and x
    # half of that half on its heaps
    assert split["one-way"] + split["fine"] + split["heaps"] == pytest.approx(0.25 * rho, rel=1e-9)
    assert split["fine"] == pytest.approx(0.25 * rho * 0.5 * 2.5 / 5, rel=1e-9)
    assert split["heaps"] == pytest.approx(0.25 * rho * 0.5 * 0.5 / 5, rel=1e-9)
    assert split["selection"] == pytest.approx(0.1 * 0.75 * rho, rel=1e-9)
    assert split["measurement"] == pytest.approx(0.9 * 0.75 * rho, rel=1e-9)
    assert sum(split.values()) <= rho * (1 + 1e-9)
    assert [len(r["cliques"]) for r in gen.fit_info_["rounds"]] == [1, 1]
    assert {m.clique for m in gen.measurements_ if len(m.clique) == 2} == {("x", "group"), ("count", "flag")}


def test_one_way_measurements_carry_the_stated_noise(table):
    """Refits on the same data (same random_state): the one-way marginal of x (over each fit's own DP bins, half
    of x's one-way part: the other half bought its fine histogram) is noisy with the stated sigma, and never
    seeded by random_state."""
    df, schema = table
    gens = [DPMarginal(**PARAMS).fit(df, schema, random_state=0) for _ in range(5)]
    ms = [next(m for m in g.measurements_ if m.clique == ("x",)) for g in gens]
    delta = gens[0].privacy_spent_.delta
    rho = ZCDPBudget(3.0, delta, 0.1 * delta).rho  # with x's heaps, a tenth of delta is held for their threshold
    sigma = gaussian_sigma(0.5 * 0.25 * rho / 5, 1.0)
    assert all(m.sigma == pytest.approx(sigma) for m in ms)
    errs = np.concatenate([m.values - np.bincount(g.codecs_[0].encode(df["x"]), minlength=16)
                           for m, g in zip(ms, gens)])  # 80 draws
    assert 0.7 * sigma < errs.std() < 1.3 * sigma
    assert abs(errs.mean()) < 4 * sigma / math.sqrt(errs.size)
    assert len({g.rows_estimate_ for g in gens}) == 5 and all(g.rows_estimate_ != len(df) for g in gens)


def test_spend_and_manifest_do_not_depend_on_one_more_row(fitted):
    df, schema = contract_table(canary=False)
    other = DPMarginal(**PARAMS).fit(df, schema, random_state=0)
    assert other.privacy_spent_.to_dict() == fitted.privacy_spent_.to_dict()
    assert [m.clique for m in other.measurements_] == [m.clique for m in fitted.measurements_]


def test_bad_parameters_fail_before_any_budget(table):
    df, schema = table
    for bad in ({"workload": [["x", "nope"]]}, {"target": "nope"}, {"workload": "x"}, {"n_bins": 1},
                {"oneway_share": 1.0}, {"max_rounds": 0}, {"time_budget_s": -1}, {"target_order": 4},
                {"final_tol": 0}, {"target_order": True}):
        with pytest.raises(ConfigError):
            DPMarginal(**{**PARAMS, **bad}).fit(df, schema)


def test_a_cap_that_no_pick_fits_still_spends_exactly_the_target(table):
    """Every pick over the model-size cap is dropped; the rest of the budget re-measures the one-way marginals."""
    df, schema = table
    gen = DPMarginal(**{**PARAMS, "max_model_size_mb": 1e-9}).fit(df, schema, random_state=0)
    spent = gen.privacy_spent_
    assert spent.epsilon == 3.0
    assert spent.details["rho_spent"] == pytest.approx(spent.details["rho_total"], rel=1e-9)
    assert spent.details["rho_split"]["selection"] > 0
    assert all(len(m.clique) == 1 for m in gen.measurements_) and len(gen.measurements_) == 10


def test_target_order_three_adds_the_targets_triples_to_the_default_workload(table):
    df, schema = table
    names = tuple(f.name for f in schema.learnable)
    target = names[1]
    pairs = DPMarginal(epsilon=1.0, target=target)._workload(names)
    both = DPMarginal(epsilon=1.0, target=target, target_order=3)._workload(names)
    triples = [c for c in both if len(c) == 3]
    assert len(pairs) == math.comb(len(names), 2) and both[:len(pairs)] == pairs
    assert len(triples) == math.comb(len(names) - 1, 2) and all(target in c for c in triples)
    assert all(list(c) == sorted(c, key=names.index) for c in triples)
    cands, weights = DPMarginal(epsilon=1.0, target=target, target_order=3)._candidates(names)
    assert set(triples) <= set(cands)
    assert DPMarginal(epsilon=1.0, target_order=3)._workload(names) == pairs  # no target: pairs only


def test_final_tol_stops_the_full_solve_early_and_none_runs_every_iteration(table, monkeypatch):
    """The stop reads mbi's loss on the noisy measurements (post-processing); counted in mbi's 50-step blocks."""
    from mbi.estimation import MirrorDescent

    df, schema = table
    calls = []
    inner = MirrorDescent._multi_step

    def counting(self, *args, **kwargs):
        calls.append(1)
        return inner(self, *args, **kwargs)

    monkeypatch.setattr(MirrorDescent, "_multi_step", counting)
    blocks = {}
    for tol in (None, 0.5):
        calls.clear()
        DPMarginal(**{**PARAMS, "final_iters": 400, "final_tol": tol}).fit(df, schema, random_state=0)
        blocks[tol] = len(calls)
    assert blocks[None] == 400 // 50
    assert 3 <= blocks[0.5] < blocks[None]  # at least patience + 1 blocks, then the stop


def test_small_intermediate_models_compile_light_and_the_full_solve_does_not(table, monkeypatch):
    """XLA's optimizations are off only while an intermediate estimate of a small model compiles (its time is
    compilation), on for the final solve, and the flag is restored after; the light estimate is the same model."""
    import jax

    from synthgen.generators.marginal import aim, model

    df, schema = table
    seen = []
    inner = model.estimate

    def recording(*args, light=False, **kwargs):
        seen.append((light, bool(jax.config.read("jax_disable_most_optimizations"))))
        out = inner(*args, light=light, **kwargs)
        seen.append(("after", bool(jax.config.read("jax_disable_most_optimizations"))))
        return out

    monkeypatch.setattr(aim, "estimate", recording)
    DPMarginal(**{**PARAMS, "max_cliques": 2, "max_rounds": 2, "workload": [["x", "group"], ["count", "group"]]}).fit(
        df, schema, random_state=0)
    assert [s[0] for s in seen] == [True, "after", False, "after"]
    assert not any(s[1] for s in seen)  # read outside the block: never left on
    fitted = inner(*_small_problem(), iters=100, light=False)
    light = inner(*_small_problem(), iters=100, light=True)
    assert not jax.config.read("jax_disable_most_optimizations")
    for c in fitted.beliefs:
        assert np.allclose(fitted.beliefs[c], light.beliefs[c], rtol=1e-6, atol=1e-6)


def _small_problem():
    from synthgen.generators.marginal.private import Measurement

    rng = np.random.default_rng(0)
    ms = [Measurement(("a",), rng.random(3) * 50, 1.0), Measurement(("b",), rng.random(4) * 50, 1.0),
          Measurement(("a", "b"), rng.random(12) * 10, 2.0)]
    return ("a", "b"), (3, 4), ms, 100.0
