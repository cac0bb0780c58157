"""Fits on Dask frames (synthgen.scale) against in-memory fits of the same rows, on a 2-worker LocalCluster.

Same data, same (test-only, seeded) noise: the Dask fit releases exactly the noisy statistics of the in-memory fit,
bit for bit, because every fit statistic is an exact per-partition reduction (a float Gram sum would fail here)."""
import warnings

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

from synthgen.exceptions import DataValidationError  # noqa: E402
from synthgen.generators.copula import DPGaussianCopula, GaussianCopula  # noqa: E402
from synthgen.generators.copula import dp as dp_module  # noqa: E402
from synthgen.privacy import PrivacyLedger  # noqa: E402
from synthgen.privacy.noise import unsafe_seeded_noise  # noqa: E402
from synthgen.scale.cluster import connect  # noqa: E402
from synthgen.scale.stats import ValueCounts, exact_gram, merge  # noqa: E402
from synthgen.schema import BooleanField, CategoricalField, DatetimeField, NumericField, Schema  # noqa: E402


def table(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal([0, 0, 0], [[1, .7, .5], [.7, 1, .4], [.5, .4, 1]], size=n)
    df = pd.DataFrame({
        "wage": np.clip(np.exp(6 + 0.6 * z[:, 0]), 50, 20_000),
        "years": np.clip(np.round(12 + 3 * z[:, 1]), 0, 30).astype(int),
        "score": np.where(z[:, 2] > 1.2, np.nan, np.clip(50 + 10 * z[:, 2], 0, 100)),
        "region": np.array(["n", "s", "e", "w", "x"])[np.digitize(z[:, 2], [-0.7, 0.0, 0.7, 2.2])],
        "flag": z[:, 0] > 0.5,
        "day": pd.Timestamp("2021-01-01") + pd.to_timedelta(np.clip(180 + 60 * z[:, 1], 0, 364).astype(int), "D"),
    })
    schema = Schema((
        NumericField("wage", 50, 20_000, bounds_source="public:test"),
        NumericField("years", 0, 30, integer=True, bounds_source="public:test"),
        NumericField("score", 0, 100, nullable=True, bounds_source="public:test"),
        CategoricalField("region", ("n", "s", "e", "w", "x"), categories_source="public:test"),
        BooleanField("flag"),
        DatetimeField("day", "2021-01-01", "2021-12-31", date_only=True, bounds_source="public:test"),
    ))
    return df, schema


def uneven(df, sizes=(1, 400, 0, 977, 3, 1619)):
    """A Dask frame of ``df`` in partitions of uneven sizes (one empty)."""
    import dask

    cuts = np.cumsum((0,) + sizes)
    parts = [dask.delayed(df.iloc[a:b].reset_index(drop=True)) for a, b in zip(cuts[:-1], cuts[1:])]
    return dd.from_delayed(parts, meta=df.iloc[:0])


@pytest.fixture(scope="module")
def client():
    c = connect("local", n_workers=2, processes=False)
    yield c
    c.close()


def captured_fit(monkeypatch, gen, data, schema, seed, ledger=None):
    seen = []
    real = dp_module.measure
    monkeypatch.setattr(dp_module, "measure", lambda t, p, nz: seen.append(real(t, p, nz)) or seen[-1])
    with unsafe_seeded_noise(seed):
        gen.fit(data, schema, random_state=0, progress=False, ledger=ledger)
    monkeypatch.setattr(dp_module, "measure", real)
    return seen[0]


@pytest.mark.parametrize("condition_on", [None, "region"])
def test_dp_copula_dask_fit_releases_identical_noisy_statistics(client, monkeypatch, condition_on):
    df, schema = table()
    ddf = uneven(df)
    mem = DPGaussianCopula(1.0, 1e-6, condition_on=condition_on)
    big = DPGaussianCopula(1.0, 1e-6, condition_on=condition_on)
    a = captured_fit(monkeypatch, mem, df, schema, 7)
    b = captured_fit(monkeypatch, big, ddf, schema, 7)
    assert (a.key_histogram is None) == (condition_on is None)
    if condition_on:
        assert np.array_equal(a.key_histogram, b.key_histogram)
    assert len(a.parts) == len(b.parts) >= 1
    for pa, pb in zip(a.parts, b.parts):
        assert pa.label == pb.label
        assert all(np.array_equal(x, y) for x, y in zip(pa.histograms, pb.histograms))
        assert np.array_equal(pa.gram, pb.gram)
    assert mem.rows_estimate_ == big.rows_estimate_
    assert mem.privacy_spent_.to_dict() == big.privacy_spent_.to_dict()
    pd.testing.assert_frame_equal(mem.sample(500, random_state=1), big.sample(500, random_state=1))
    # other noise, other release: the comparison can fail
    c = captured_fit(monkeypatch, DPGaussianCopula(1.0, 1e-6, condition_on=condition_on), ddf, schema, 8)
    assert not np.array_equal(a.parts[0].gram, c.parts[0].gram)


@pytest.mark.parametrize("condition_on", [None, "flag", "region"])
def test_plain_copula_dask_fit_is_the_same_model(client, condition_on):
    df, schema = table()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mem = GaussianCopula(condition_on=condition_on, min_class_rows=900).fit(df, schema, random_state=0)
        big = GaussianCopula(condition_on=condition_on, min_class_rows=900).fit(uneven(df), schema, random_state=0)
    assert len(mem.parts_) == len(big.parts_)
    for p, q in zip(mem.parts_, big.parts_):
        assert np.array_equal(p.corr, q.corr) and p.weight == q.weight and p.label == q.label
        for c, d in zip(p.columns, q.columns):
            assert c.mode == d.mode and np.array_equal(c.values, d.values) and np.array_equal(c.cdf, d.cdf)
            assert c.null_prob == d.null_prob and np.array_equal(c.offsets, d.offsets)


def test_validation_per_partition_same_rules_before_any_budget(client, tmp_path):
    df, schema = table(1000)
    bad = df.copy()
    bad.loc[990, "years"] = 99  # in the last partition only
    bad.loc[5, "region"] = "nowhere"
    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=2.0, delta=1e-5, dataset="t")
    ddf = dd.from_pandas(bad, npartitions=4)
    with pytest.raises(DataValidationError) as err:
        DPGaussianCopula(1.0, 1e-6).fit(ddf, schema, ledger=ledger)
    text = str(err.value)
    assert "'years'" in text and "'region'" in text and "99" not in text
    assert ledger.spent() == (0.0, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mem = GaussianCopula().fit(bad, schema, on_violation="clip", random_state=0)
        big = GaussianCopula().fit(ddf, schema, on_violation="clip", random_state=0)
    assert np.array_equal(mem.parts_[0].corr, big.parts_[0].corr)
    assert mem.rows_estimate_ == big.rows_estimate_ == 999.0  # a no-guarantee fit: the clip dropped one row


def test_generator_without_partition_support_refuses_before_reading():
    from synthgen.generators.base import BaseGenerator

    class InMemoryOnly(BaseGenerator):
        registry_name = "test-in-memory-only"

        def _fit(self, data, schema, rng, plan):
            raise AssertionError("must not be reached")

    df, schema = table(200)
    with pytest.raises(DataValidationError, match="cannot fit a Dask frame"):
        InMemoryOnly().fit(dd.from_pandas(df, npartitions=2), schema)


def test_exact_sums_do_not_depend_on_the_split():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5000, 6))
    x /= np.maximum(1.0, np.linalg.norm(x, axis=1, keepdims=True) / 2.5)
    whole = exact_gram(x, 3.0)
    parts = merge(*({"g": exact_gram(x[a:a + 700], 3.0)} for a in range(0, 5000, 700)))["g"]
    assert (whole == parts).all()
    vc = ValueCounts.of(np.array([3.0, 1.0, 3.0])) + ValueCounts.of(np.array([2.0, 3.0]))
    assert vc.values.tolist() == [1.0, 2.0, 3.0] and vc.counts.tolist() == [1, 1, 3]


def test_fidelity_from_merged_statistics(client):
    from synthgen.scale.evaluate import fidelity

    df, schema = table(2000)
    same = fidelity(df, uneven(df, (500, 0, 1500)), schema)
    assert same["mean_tvd"] == pytest.approx(0.0, abs=1e-12) and same["max_corr_gap"] < 1e-9
    shifted = df.assign(years=np.clip(df["years"] + 5, 0, 30))
    moved = fidelity(df, shifted, schema)
    assert moved["tvd"]["years"] > 0.3 and moved["tvd"]["wage"] == pytest.approx(0.0, abs=1e-12)


def test_partitions_kept_on_the_workers_give_the_same_release(client, monkeypatch):
    import dask

    from synthgen.generators.base import blocking_violations, conform_rows
    from synthgen.scale.frames import prepare_partitions

    df, schema = table(2000)
    gen = DPGaussianCopula(1.0, 1e-6)
    kept = prepare_partitions(gen, uneven(df), schema, "raise", blocking_violations, conform_rows)
    assert type(kept.parts[0]).__name__ == "Future" and len(kept) == 2000  # conformed once, held by the workers
    with dask.config.set({"synthgen.persist": False}):
        lazy = prepare_partitions(gen, uneven(df), schema, "raise", blocking_violations, conform_rows)
        a = captured_fit(monkeypatch, DPGaussianCopula(1.0, 1e-6), uneven(df), schema, 3)
    assert type(lazy.parts[0]).__name__ == "Delayed"
    b = captured_fit(monkeypatch, DPGaussianCopula(1.0, 1e-6), uneven(df), schema, 3)
    assert np.array_equal(a.parts[0].gram, b.parts[0].gram)
    assert all(np.array_equal(x, y) for x, y in zip(a.parts[0].histograms, b.parts[0].histograms))
