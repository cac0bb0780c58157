"""Privacy properties of DPGaussianCopula and the noisy Gram-matrix mechanism."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from synthgen.exceptions import InferredSchemaError
from synthgen.generators.copula import DPGaussianCopula
from synthgen.generators.copula import dp as dp_module
from synthgen.generators.copula.latent import model_bounds
from synthgen.privacy import mechanisms
from synthgen.privacy.analysis import gaussian_sigma, zcdp_rho
from synthgen.schema import CategoricalField, NumericField, Schema


def _data(n=1000, seed=0, canary=False):
    rng = np.random.default_rng(seed)
    x = np.clip(40 + 10 * rng.standard_normal(n), 0, 100)
    g = rng.choice(["a", "b"], size=n).astype(object)
    if canary:
        x[-1], g[-1] = 990.0, "rare"
    df = pd.DataFrame({"x": x, "g": g})
    schema = Schema((NumericField("x", 0, 1000, bounds_source="public:t"),
                     CategoricalField("g", ("a", "b", "rare"), categories_source="public:t")))
    return df, schema


def test_budget_split_sums_to_target(tmp_path):
    df, schema = _data()
    gen = DPGaussianCopula(1.0, 1e-6, marginal_share=0.3).fit(df, schema, random_state=0)
    d = gen.privacy_spent_.details
    rho = zcdp_rho(1.0, 1e-6)
    assert d["rho_total"] == pytest.approx(rho)
    assert sum(d["rho_split"].values()) == pytest.approx(rho, rel=1e-9)
    assert d["rho_split"]["correlation"] == pytest.approx(0.7 * rho)
    assert d["rho_split"]["marginal:x"] == pytest.approx(0.15 * rho)
    assert gen.privacy_spent_.epsilon == pytest.approx(1.0, rel=1e-6)
    assert gen.privacy_spent_.epsilon <= 1.0
    gen.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["privacy"]["details"]["rho_split"] == pytest.approx(d["rho_split"])


def test_marginal_noise_matches_split(monkeypatch):
    """Empirical std of the generator's released histogram noise over repeated fits on fixed data = sigma implied
    by the split. The releases are captured from real fits (the generator's own measure step), and the exact
    counts are recomputed here from the public bins."""
    df, schema = _data(400)
    releases = []
    real = dp_module.measure

    def capture(table, plan, noise):
        release = real(table, plan, noise)
        releases.append((table, plan, release))
        return release

    monkeypatch.setattr(dp_module, "measure", capture)
    eps, delta, share = 1.0, 1e-6, 0.5
    for seed in range(25):
        DPGaussianCopula(eps, delta, marginal_share=share, n_bins=32).fit(df, schema, random_state=seed)
    expected_rho = share * zcdp_rho(eps, delta) / 2  # two columns
    fine_share = DPGaussianCopula(eps).fine_share
    noise: dict[float, list] = {expected_rho: [], fine_share * expected_rho: [], (1 - fine_share) * expected_rho: []}
    for table, plan, release in releases:
        assert plan.rules.rho_column == pytest.approx(expected_rho)
        part = release.parts[0]
        for b, hist, fine in zip(plan.columns, part.histograms, part.fine):
            exact = np.bincount(b.bin_index(table[b.name]), minlength=b.n_value_bins)
            if not b.adaptive:
                noise[expected_rho].append(hist - exact)
                continue
            # x (declared 0..1000): a fine histogram over 2001 bins (centred on multiples of 0.5), then one over 32
            # bins derived from it alone
            assert fine.shape == (2001,) and b.n_value_bins == 2001 and hist.shape == (32,)
            bounds = model_bounds(b, fine, plan.rules)
            noise[fine_share * expected_rho].append(fine - exact)
            noise[(1 - fine_share) * expected_rho].append(hist - np.add.reduceat(exact, bounds[:-1]))
    assert all(noise.values())
    for rho, parts in noise.items():  # each release's noise at the sigma its share of the column's rho implies
        values, sigma = np.concatenate(parts), gaussian_sigma(rho)
        assert values.size >= 25 * 3
        assert np.std(values) == pytest.approx(sigma, rel=4.0 / math.sqrt(2 * values.size))  # ~4 sd of the sd
        assert abs(np.mean(values)) < 4.0 * sigma / math.sqrt(values.size)


def test_noisy_gram_matrix_noise_and_symmetry():
    rng = np.random.default_rng(0)
    x = np.zeros((50, 4))
    rho, bound = 0.5, 2.0
    draws = np.stack([mechanisms.noisy_gram_matrix(x, bound, rho, rng) for _ in range(400)])
    assert np.allclose(draws, np.swapaxes(draws, 1, 2))
    iu = np.triu_indices(4)
    assert np.std(draws[:, iu[0], iu[1]]) == pytest.approx(bound**2 / math.sqrt(2 * rho), rel=0.05)
    # rows are clipped to the bound: one huge row adds at most bound^2 to the diagonal
    big = np.zeros((1, 4))
    big[0, 0] = 1e6
    clipped = mechanisms.clip_rows_l2(big, bound)
    assert np.linalg.norm(clipped) == pytest.approx(bound)


def test_canary_not_detectable():
    """D with a canary (x = 990, the only 'rare' row) vs D without it, fresh noise in every fit: the canary's traces
    in the samples are noise-level in both worlds. Judged on the median of 7 fits per world, since one fit's noise
    alone can keep a noise-only bin (about 3% of fits), which the canary must not make systematic."""
    with_c, schema = _data(canary=True)
    without, _ = _data(canary=False)
    without = without.iloc[:-1]
    high, rare = {True: [], False: []}, {True: [], False: []}
    for world, df in ((True, with_c), (False, without)):
        for seed in range(7):
            gen = DPGaussianCopula(1.0, 1e-6).fit(df, schema, random_state=seed)
            s = gen.sample(5000, random_state=seed)
            high[world].append((s["x"] > 500).mean())
            rare[world].append((s["g"] == "rare").mean())
            if world:
                _, arrays = gen._get_state()
                assert not any(np.isclose(v, 990.0).any() for v in arrays.values() if v.size)
    assert abs(np.median(high[True]) - np.median(high[False])) < 0.01
    assert np.median(rare[True]) < 0.01 and np.median(rare[False]) < 0.01


def test_noise_is_never_drawn_from_random_state():
    """Same data, same random_state: the released statistics differ (OS-entropy noise). Fails on the old main,
    where a seeded fit drew its noise from random_state (and the noise could be regenerated and subtracted)."""
    df, schema = _data(300)
    seen = []
    real = dp_module.measure
    for _ in range(2):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(dp_module, "measure", lambda t, p, nz: seen.append(real(t, p, nz)) or seen[-1])
            DPGaussianCopula(1.0, 1e-6).fit(df, schema, random_state=0)
    a, b = (r.parts[0] for r in seen)
    assert not any(np.array_equal(x, y) for x, y in zip(a.histograms, b.histograms))
    assert not np.array_equal(a.gram, b.gram)
    assert "secure" not in DPGaussianCopula(1.0).get_params()  # noise is always OS entropy now


def test_inferred_schema_refused_unless_allowed():
    df, _ = _data(300)
    inferred = Schema((NumericField("x", 0, 1000), CategoricalField("g", ("a", "b", "rare"))))
    with pytest.raises(InferredSchemaError):
        DPGaussianCopula(1.0, 1e-6).fit(df, inferred, random_state=0)
    gen = DPGaussianCopula(1.0, 1e-6).fit(df, inferred, random_state=0, allow_inferred=True)
    assert not gen.privacy_spent_.is_dp and gen.allow_inferred_
    assert gen.privacy_spent_.accounted.epsilon == pytest.approx(1.0, rel=1e-6)
