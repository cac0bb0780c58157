"""dp-marginal's DP bin edges (bins="dp-quantile"): the data enter the model bins and the decoding shape only
through the noisy fine histogram, the spend is still the target, the state round-trips, and on a skewed column
declared far wider than its data the DP bins fit its shape where equal-width bins cannot."""
import json

import numpy as np
import pandas as pd
import pytest

import synthgen.generators.marginal.private as private_mod
from evaluators.fidelity import ks_statistic
from synthgen.generators.marginal.dp import DPMarginal
from synthgen.generators.marginal.edges import shrunk_shape
from synthgen.persistence import load_model
from synthgen.privacy.accountants import ZCDPBudget
from synthgen.privacy.analysis import gaussian_sigma
from synthgen.privacy.noise import unsafe_seeded_noise
from synthgen.schema import CategoricalField, NumericField, Schema
from synthgen.testing.contract import contract_table

FAST = dict(epsilon=3.0, workload=[["x", "group"]], max_cliques=1, max_rounds=1, round_iters=50, final_iters=100,
            n_bins=16)
ADAPTIVE = ("x", "count", "day")  # the contract table's columns with a fine grid (x: real, count: 101 integers, day)
HEAPED = ("x",)  # those whose fine cells are not one per whole value (count's and day's are: 101 values, 366 days)


def _dp_state(gen):
    return {c.name: (c.grid, c.cuts, c.shape) for c in gen.codecs_ if c.fine}


def test_edges_and_shape_read_the_data_only_through_the_noisy_fine_histogram(monkeypatch):
    df, schema = contract_table()
    other = df.assign(x=np.clip(df["x"] * 3 + 200, 0, 1000), count=df["count"].fillna(0) // 2)
    with unsafe_seeded_noise(1):  # same noise for both tables: their releases differ, so do the edges
        a, b = (DPMarginal(**FAST).fit(t, schema, random_state=0) for t in (df, other))
    assert set(_dp_state(a)) == set(ADAPTIVE)
    assert _dp_state(a)["x"][0] != _dp_state(b)["x"][0]

    real = private_mod.noisy_histogram

    def fixed_release(counts, rho, noise):  # a release that does not depend on the counts at all
        if len(counts) > 100:  # the fine histograms (the model's marginals have at most 16 x 4 cells + null)
            return np.abs(np.sin(np.arange(len(counts)))) * 50.0
        return real(counts, rho, noise)

    monkeypatch.setattr(private_mod, "noisy_histogram", fixed_release)
    a, b = (DPMarginal(**FAST).fit(t, schema, random_state=0) for t in (df, other))
    assert _dp_state(a) == _dp_state(b)


def test_fine_histograms_are_charged_and_the_spend_is_the_target():
    df, schema = contract_table()
    gen = DPMarginal(**FAST).fit(df, schema, random_state=0)
    spent = gen.privacy_spent_
    rho = ZCDPBudget(3.0, spent.delta, 0.1 * spent.delta).rho  # a tenth of delta held for the heap thresholds
    split = spent.details["rho_split"]
    rho_column = 0.25 * rho / 5
    # x releases heaps with half its fine share; count's and day's fine cells are their whole values (no heaps)
    assert split["fine"] == pytest.approx((len(ADAPTIVE) - 0.5 * len(HEAPED)) * 0.5 * rho_column, rel=1e-9)
    assert split["heaps"] == pytest.approx(len(HEAPED) * 0.25 * rho_column, rel=1e-9)
    assert spent.details["delta_split"] == {"heaps": pytest.approx(0.1 * spent.delta)}
    assert split["one-way"] == pytest.approx((5 - len(ADAPTIVE) * 0.5) * rho_column, rel=1e-9)
    assert sum(split.values()) == pytest.approx(rho, rel=1e-9) and spent.epsilon == 3.0
    plain = DPMarginal(**FAST, heaps=False).fit(df, schema, random_state=0).privacy_spent_
    assert "heaps" not in plain.details["rho_split"] and "delta_split" not in plain.details
    assert sum(plain.details["rho_split"].values()) == pytest.approx(ZCDPBudget(3.0, spent.delta).rho, rel=1e-9)
    ones = {m.clique[0]: m.sigma for m in gen.measurements_ if len(m.clique) == 1}
    assert ones["x"] == pytest.approx(gaussian_sigma(0.5 * rho_column, 1.0))
    assert ones["group"] == pytest.approx(gaussian_sigma(rho_column, 1.0))
    uniform = DPMarginal(**FAST, bins="uniform").fit(df, schema, random_state=0)
    assert "fine" not in uniform.privacy_spent_.details["rho_split"] and not _dp_state(uniform)


def test_fresh_noise_moves_the_edges():
    """Same data, same random_state: only the privacy noise differs. The decoding shape (the shrunk noisy fine
    counts) differs in every fit; the edges are a coarse function of the same release (dyadic splits) and coincide
    in about half the pairs of fits (5 distinct grids in 12 fits with x's heaps, measured), so they are asked to
    move at least once in 12 fits (all 12 alike: about 0.5^11 if one grid took half the fits)."""
    df, schema = contract_table()
    states = [_dp_state(DPMarginal(**FAST).fit(df, schema, random_state=0))["x"] for _ in range(12)]
    assert len({shape for _, _, shape in states}) == 12
    assert len({grid for grid, _, _ in states}) > 1


def test_dp_bins_save_load_round_trip(tmp_path):
    df, schema = contract_table()
    gen = DPMarginal(**FAST).fit(df, schema, random_state=0)
    gen.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert "fine" in json.dumps(manifest) and sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "arrays.safetensors", "manifest.json"]
    loaded = load_model(tmp_path / "m")
    assert _dp_state(loaded) == _dp_state(gen)
    a, b = gen.sample(300, random_state=3), loaded.sample(300, random_state=3)
    assert a.astype(str).equals(b.astype(str))
    assert (a["count"].dropna() % 1 == 0).all()  # integers decode to whole values


def test_shrinkage_keeps_spikes_and_flattens_noise():
    rng = np.random.default_rng(0)
    widths, cuts, sigma = np.ones(64), np.array([0, 32, 64]), 10.0
    smooth = np.full(64, 20.0) + rng.normal(0, sigma, 64)  # a flat density under noise of its own size
    smooth[32:] = 0.0
    smooth[40] = 600.0  # a spike (a heaped value) in the second bin
    out = shrunk_shape(smooth, widths, cuts, sigma)
    assert np.std(out[:32]) < 0.5 * sigma  # noise shrunk towards the bin's uniform spread
    assert out[40] > 0.9 * out[32:].sum()  # the spike kept
    assert (out >= 0).all()


def test_a_spike_among_empty_cells_keeps_only_the_spike():
    """A heaped value alone in a wide bin: James-Stein alone keeps the empty cells' clipped positive noise (a fifth
    of the bin's draws here); the sparse rule keeps the clearly positive cells only, and a bin of thin real mass
    over many cells (no spike holding it) keeps its shrunk shape."""
    rng = np.random.default_rng(1)
    sigma, widths, cuts = 50.0, np.ones(80), np.array([0, 40, 80])
    c = rng.normal(0, sigma, 80)
    c[10] += 2800.0  # the spike
    c[40:] += 12.0  # thin mass, a quarter sigma per cell
    out = shrunk_shape(c, widths, cuts, sigma)
    assert out[10] > 0 and out[:40].sum() == pytest.approx(out[10] + sum(out[i] for i in range(40) if c[i] > 2 * sigma
                                                                             and i != 10))
    assert out[10] / out[:40].sum() > 0.9  # (a noise cell above 2 sigma may stay: 2 of 39 here)
    assert (out[40:] > 0).mean() > 0.5  # not sparse: the shrunk spread stays
    js = np.maximum(c[:40].sum() / 40 + (1 - 39 * sigma ** 2 / np.sum((c[:40] - c[:40].mean()) ** 2))
                    * (c[:40] - c[:40].mean()), 0)
    assert js[10] / js.sum() < 0.85  # what the bin had decoded without the rule (0.80 here)


def test_skewed_column_declared_far_wider_than_its_data():
    """x ~ exponential (mean 10-30) declared in [0, 20000] with linear bins: equal-width bins put every row in the
    first of 16 bins (1250 wide) and decode uniformly across it; DP bins from the noisy fine histogram follow
    the data (1-way shape score = KS complement)."""
    rng = np.random.default_rng(0)
    g = rng.choice(["a", "b"], 3000)
    df = pd.DataFrame({"x": rng.exponential(np.where(g == "a", 10.0, 30.0)), "g": g})
    schema = Schema((NumericField("x", 0, 20000.0, bounds_source="public:test"),
                     CategoricalField("g", ("a", "b"), categories_source="public:test")), name="skewed")
    params = dict(epsilon=1.0, delta=1e-6, log_bins=False, workload=[["x", "g"]], max_cliques=1, max_rounds=1,
                  round_iters=50, final_iters=100, n_bins=16)
    score = {}
    for bins in ("uniform", "dp-quantile"):
        gen = DPMarginal(**params, bins=bins).fit(df, schema, random_state=0)
        score[bins] = 1 - ks_statistic(df["x"].to_numpy(), gen.sample(3000, random_state=0)["x"].to_numpy(float))
    assert score["uniform"] < 0.2 and score["dp-quantile"] > 0.45, score
