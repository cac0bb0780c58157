"""dp-marginal's coarse candidates and sampling support (marginal/coarse.py, marginal/support.py): merged cells
are exact sums of the full ones in numpy and in the mbi query alike, a coarse measurement carries the stated
noise around the merged counts, a correlated numeric pair that no full-resolution pick can afford is carried by a
coarse one, the state round-trips, and a column declared far wider than its data is sampled where its noisy
one-way counts are, not out to the declared bound."""
import numpy as np
import pandas as pd
import pytest

from synthgen.generators.marginal.coarse import CoarseQuery, aggregate, axis_map, coarse_index
from synthgen.generators.marginal.dp import DPMarginal
from synthgen.generators.marginal.model import mbi_module
from synthgen.generators.marginal.private import PrivateMarginals
from synthgen.generators.marginal.support import support_range
from synthgen.persistence import load_model
from synthgen.privacy.analysis import gaussian_sigma
from synthgen.privacy.noise import privacy_noise
from synthgen.schema import NumericField, Schema
from synthgen.schema.fields import RowBounds
from synthgen.privacy.noise import unsafe_seeded_noise
from synthgen.testing.contract import contract_table

FAST = dict(epsilon=3.0, workload=[["x", "group"]], max_cliques=1, max_rounds=1, round_iters=50, final_iters=100,
            n_bins=16)


def test_axis_map_keeps_the_null_cell_alone_and_merges_runs():
    assert axis_map(33, 32, 8) == tuple(i // 4 for i in range(32)) + (8,)
    assert axis_map(5, 5, 8) is None  # nothing to merge
    assert axis_map(10, 10, 4) == (0, 0, 0, 1, 1, 1, 2, 2, 2, 3)


def test_aggregate_coarse_index_and_the_mbi_query_agree():
    rng = np.random.default_rng(0)
    maps = (axis_map(7, 6, 3), tuple(range(3)))  # a nullable 6-value column x a 3-category column
    full = rng.integers(0, 50, size=21).astype(float)
    coarse = aggregate(full, maps)
    assert coarse.shape == (12,) and coarse.sum() == full.sum()
    idx = coarse_index(np.arange(21), (7, 3), maps)
    assert np.allclose(np.bincount(idx, weights=full, minlength=12), coarse)
    mbi = mbi_module()
    f = mbi.Factor(mbi.Domain(("a", "b"), (7, 3)), full.reshape(7, 3))
    assert np.allclose(np.asarray(CoarseQuery(maps)(f)), coarse)
    assert CoarseQuery(maps).op_norm_sq() == 2.0


def test_a_coarse_measurement_is_the_gaussian_mechanism_on_the_merged_counts():
    rng = np.random.default_rng(1)
    codes = np.stack([rng.integers(0, 16, 3000), rng.integers(0, 16, 3000)], axis=1)
    pm = PrivateMarginals(codes, ("a", "b"), (16, 16), privacy_noise())
    maps = (axis_map(16, 16, 4), axis_map(16, 16, 4))
    true = aggregate(np.bincount(codes[:, 0] * 16 + codes[:, 1], minlength=256), maps)
    ms = [pm.measure(("a", "b"), 0.01, maps) for _ in range(30)]
    sigma = gaussian_sigma(0.01, 1.0)
    assert all(m.values.shape == (16,) and m.maps == maps and m.sigma == pytest.approx(sigma) for m in ms)
    errs = np.concatenate([m.values - true for m in ms])  # 480 draws
    assert 0.85 * sigma < errs.std() < 1.15 * sigma and abs(errs.mean()) < 4 * sigma / np.sqrt(errs.size)


def _correlated(n: int = 4000, seed: int = 0) -> tuple[pd.DataFrame, Schema]:
    rng = np.random.default_rng(seed)
    u = rng.normal(size=n)
    df = pd.DataFrame({"u": np.clip(50 + 10 * u, 0, 100),
                       "v": np.clip(50 + 10 * (0.95 * u + 0.31 * rng.normal(size=n)), 0, 100),
                       "w": np.clip(50 + 10 * rng.normal(size=n), 0, 100)})
    fields = tuple(NumericField(c, 0.0, 100.0, bounds_source="public:test") for c in "uvw")
    return df, Schema(fields, name="correlated", rows=RowBounds(max=10_000))


def test_a_correlated_numeric_pair_is_carried_by_a_coarse_measurement():
    """Real corr(u, v) 0.95; an independent fit gives ~0 (+-0.03 at 4000 rows). Over 20 noise draws at this epsilon
    the sampled correlation ran 0.35-0.68 (median 0.6), so one fresh-noise fit against 0.4 failed ~1 run in 7 (a red
    CI on 772030d at 0.31). It uses five fixed draws of the test-only seeded noise (not a DP fit) and asks each to
    carry clearly more than independence, and their median to carry most of it."""
    df, schema = _correlated()
    params = dict(epsilon=0.5, n_bins=32, max_cliques=1, max_rounds=1, round_iters=50, final_iters=200)
    corrs = []
    for seed in range(5):
        with unsafe_seeded_noise(seed):
            gen = DPMarginal(**params).fit(df, schema, random_state=0)
        pairs = [m for m in gen.measurements_ if len(m.clique) == 2]
        assert [m.clique for m in pairs] == [("u", "v")] and pairs[0].maps  # the coarse (u, v): 8 x 8 cells
        syn = gen.sample(4000, random_state=1)
        corrs.append(syn["u"].corr(syn["v"]))
    assert min(corrs) > 0.25 and np.median(corrs) > 0.45, corrs


def test_coarse_measurements_round_trip(tmp_path):
    df, schema = _correlated(2000)
    gen = DPMarginal(epsilon=1.0, n_bins=16, max_cliques=2, max_rounds=1, round_iters=50,
                     final_iters=100).fit(df, schema, random_state=0)
    assert any(m.maps for m in gen.measurements_)
    gen.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert [m.key for m in loaded.measurements_] == [m.key for m in gen.measurements_]
    assert gen.sample(300, random_state=4).equals(loaded.sample(300, random_state=4))


def test_support_range_drops_unclear_ends_but_not_for_one_stray_cell():
    sigma = 10.0
    noisy = np.array([3.0, -5.0, 400.0, 900.0, 300.0, -8.0, 4.0, 25.0, -2.0, 6.0, -11.0, 1.0])
    assert support_range(noisy, sigma, 2.0) == (2, 5)  # the stray +25 (2.5 sigma) sits in an unclear tail
    assert support_range(np.array([1.0, -3.0, 2.0]), sigma, 2.0) == (0, 3)  # nothing clear: keep all
    # a small, noisy table: thin real mass over many cells is noise-level, and the run's noise could hide over a
    # quarter of the total: not trimmed
    thin = np.array([500.0, 30, 20, 25, 15, 20, 10, 30, 20, 15])
    assert support_range(thin, 80.0, 2.0) == (0, 10)


def test_a_column_declared_far_wider_than_its_data_is_sampled_where_the_data_are():
    """x: declared 0..1000, rows near 30/60/90 (and one canary near 988); count: declared 0..100, rows up to 11.
    Trimming reads noisy counts, so it misses now and then (count: ~1 fit in 10 with fresh noise, measured over 40
    fits; without trimming a third of the sampled count values land above 20 in every fit). Fresh noise made this
    test fail ~1 run in 4 (it asked every fit to trim), so it uses ten fixed draws of the test-only seeded noise
    (not a DP fit) and asks what the mechanism gives: at least 8 of the 10 trimmed, every untrimmed one not."""
    df, schema = contract_table()
    trimmed_ok, untrimmed_wide = 0, 0
    for seed in range(10):
        with unsafe_seeded_noise(seed):
            gen = DPMarginal(**FAST).fit(df, schema, random_state=0)
        trimmed = gen.sample(3000, random_state=1)
        gen.trim_tails = None
        untrimmed = gen.sample(3000, random_state=1)
        trimmed_ok += bool(trimmed["x"].max() < 200 and (trimmed["count"].dropna() <= 20).all())
        untrimmed_wide += bool(untrimmed["x"].max() > 200 and (untrimmed["count"].dropna() > 20).mean() > 0.2)
    assert trimmed_ok >= 8 and untrimmed_wide == 10, (trimmed_ok, untrimmed_wide)
