"""dp-marginal's heaped values (synthgen.generators.marginal.heaps): exact values many rows share are released by
thresholded noisy counts and sampled exactly; a value one row holds is never released; the threshold's delta is
charged; heaps round-trip through save/load; the mechanism's noise has the stated level."""
import numpy as np
import pandas as pd
import pytest

from evaluators.fidelity import ks_statistic
from synthgen.generators.marginal.dp import DPMarginal
from synthgen.persistence import load_model
from synthgen.privacy.analysis import gaussian_sigma
from synthgen.privacy.mechanisms import thresholded_counts
from synthgen.schema import CategoricalField, NumericField, Schema

E, ROUND, CANARY = 2.718281828459045, 6.1, 7.777777777
FAST = dict(epsilon=3.0, delta=1e-6, workload=[["v", "g"]], max_cliques=1, max_rounds=1, round_iters=50,
            final_iters=100, n_bins=16)


def _heaped_table(n=3000, seed=0):
    """v in [0, 10]: half the rows exactly e, a fifth exactly 6.1, the rest uniform; one canary row at 7.777777777."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(3, n, p=[0.5, 0.2, 0.3])
    v = np.where(kind == 0, E, np.where(kind == 1, ROUND, rng.uniform(0, 10, n)))
    v[-1] = CANARY
    g = np.where(kind == 0, "a", rng.choice(["a", "b"], n))
    schema = Schema((NumericField("v", 0.0, 10.0, bounds_source="public:test"),
                     CategoricalField("g", ("a", "b"), categories_source="public:test")), name="heaped")
    return pd.DataFrame({"v": v, "g": g}), schema


def _codec(gen):
    return next(c for c in gen.codecs_ if c.name == "v")


def test_heaped_values_are_released_and_sampled_exactly():
    df, schema = _heaped_table()
    gen = DPMarginal(**FAST).fit(df, schema, random_state=0)
    heaps = _codec(gen).heaps
    assert E in heaps and ROUND in heaps and CANARY not in heaps
    out = gen.sample(6000, random_state=1)["v"].to_numpy(dtype=float)
    fine = np.asarray(_codec(gen).fine)
    for value, share in ((E, 0.5), (ROUND, 0.2)):  # every row drawn into the heap's fine cell lands on the heap
        k = np.searchsorted(fine, value, side="right") - 1
        in_cell = (out >= fine[k]) & (out < fine[k + 1])
        assert (out == value).sum() == in_cell.sum() and (out == value).mean() == pytest.approx(share, abs=0.1)
    assert not np.isclose(out, CANARY, rtol=0, atol=1e-9).any()
    plain = DPMarginal(**FAST, heaps=False).fit(df, schema, random_state=0)
    assert not _codec(plain).heaps
    ks, ks_plain = (ks_statistic(df["v"], g.sample(6000, random_state=1)["v"]) for g in (gen, plain))
    # without heaps the heap's rows spread over its fine cell, two thirds of them on the wrong side of e
    assert ks_plain > 0.2 and ks < 0.5 * ks_plain, (ks, ks_plain)


def test_a_value_one_row_holds_is_never_released_and_the_threshold_is_charged():
    df, schema = _heaped_table(seed=1)
    for _ in range(5):  # fresh noise each fit: the canary's release probability is at most a tenth of delta
        gen = DPMarginal(**FAST).fit(df, schema, random_state=0)
        assert CANARY not in _codec(gen).heaps
    spent = gen.privacy_spent_
    assert spent.details["delta_split"] == {"heaps": pytest.approx(1e-7)}
    assert spent.epsilon <= 3.0 and spent.delta <= 1e-6
    assert "heaps" in spent.details["mechanisms"] and spent.details["rho_split"]["heaps"] > 0


def test_heaps_round_trip(tmp_path):
    df, schema = _heaped_table()
    gen = DPMarginal(**FAST).fit(df, schema, random_state=0)
    gen.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert _codec(loaded).heaps == _codec(gen).heaps and _codec(loaded).heap_shares == _codec(gen).heap_shares
    assert gen.sample(500, random_state=3).equals(loaded.sample(500, random_state=3))


def test_thresholded_counts_noise_level_and_canary_rate():
    rng = np.random.default_rng(0)
    rho, delta = 0.5, 1e-3
    counts = np.r_[np.full(4000, 10_000.0), np.ones(4000)]
    keep, noisy = thresholded_counts(counts, rho, delta, rng)
    sigma = gaussian_sigma(rho, 1.0)
    assert np.std(noisy[:4000] - counts[:4000]) == pytest.approx(sigma, rel=0.1)  # noise of the stated level
    assert keep[:4000].all() and keep[4000:].mean() <= 3 * delta  # a one-row key: released w.p. <= delta
    tiny = thresholded_counts(counts, rho, 0.4, rng)[0]
    assert tiny[4000:].mean() > 10 * delta  # the rate tracks delta: the check can fail
