"""DPGaussianCopula: behaviour (quality at a moderate budget, declared bins, all column kinds)."""
import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau

from synthgen.exceptions import ConfigError
from synthgen.generators.dp_copula import DPGaussianCopula
from synthgen.schema import BooleanField, CategoricalField, DatetimeField, NumericField, Schema


def _table(n=20_000, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal([0, 0, 0], [[1, .7, .5], [.7, 1, .4], [.5, .4, 1]], size=n)
    df = pd.DataFrame({
        "wage": np.clip(np.exp(6 + 0.6 * z[:, 0]), 50, 20_000),
        "years": np.clip(np.round(12 + 3 * z[:, 1]), 0, 30).astype(int),
        "score": np.where(z[:, 2] > 1.2, np.nan, np.clip(50 + 10 * z[:, 2], 0, 100)),
        "region": np.array(["n", "s", "e", "w"])[np.digitize(z[:, 2], [-0.7, 0.0, 0.7])],
        "flag": z[:, 0] > 0.5,
        "day": pd.Timestamp("2021-01-01") + pd.to_timedelta(np.clip(180 + 60 * z[:, 1], 0, 364).astype(int), "D"),
        "const": 3.0,
    })
    schema = Schema((
        NumericField("wage", 50, 20_000, bounds_source="public:test"),
        NumericField("years", 0, 30, integer=True, bounds_source="public:test"),
        NumericField("score", 0, 100, nullable=True, bounds_source="public:test"),
        CategoricalField("region", ("n", "s", "e", "w"), categories_source="public:test"),
        BooleanField("flag"),
        DatetimeField("day", "2021-01-01", "2021-12-31", date_only=True, bounds_source="public:test"),
        NumericField("const", 0, 10, bounds_source="public:test"),
    ))
    return df, schema


@pytest.fixture(scope="module")
def fitted():
    df, schema = _table()
    return df, schema, DPGaussianCopula(1.0, 1e-6).fit(df, schema, random_state=0)


def test_samples_conform_and_marginals_close(fitted):
    df, schema, gen = fitted
    out = gen.sample(20_000, random_state=1)
    assert schema.validate(out, release=True).ok
    assert out["years"].dtype == np.int64
    for col in ("region", "flag"):
        p_real = df[col].astype(str).value_counts(normalize=True)
        p_syn = out[col].astype(str).value_counts(normalize=True).reindex(p_real.index, fill_value=0)
        assert 0.5 * (p_real - p_syn).abs().sum() < 0.03, col
    assert out["score"].isna().mean() == pytest.approx(df["score"].isna().mean(), abs=0.02)
    assert out["wage"].median() == pytest.approx(df["wage"].median(), rel=0.08)
    assert out["years"].mean() == pytest.approx(df["years"].mean(), abs=0.3)
    assert out["const"].between(2.5, 3.5).mean() > 0.9  # a constant column in the data works


def test_dependence_survives(fitted):
    df, _, gen = fitted
    out = gen.sample(20_000, random_state=2)
    for a, b in (("wage", "years"), ("wage", "flag")):
        assert kendalltau(out[a], out[b]).statistic == pytest.approx(kendalltau(df[a], df[b]).statistic, abs=0.08)
    real = df.groupby("region")["years"].mean()
    syn = out.groupby("region")["years"].mean()
    assert syn.sort_values().index.tolist()[::3] == real.sort_values().index.tolist()[::3]


def test_bins_come_from_declared_bounds(fitted):
    df, schema, gen = fitted
    bins = gen.fit_info_["bins"]
    assert bins["wage"]["scale"] == "log"  # 50..20000 declared: skewed money column
    assert bins["years"]["scale"] == "discrete" and bins["years"]["bins"] == 31
    assert bins["score"]["scale"] == "linear"
    wage_knots = gen.parts_[0].columns[0].values
    assert wage_knots[0] == 50 and wage_knots[-1] == 20_000  # declared, not the data min/max
    assert df["wage"].max() < 20_000


def test_spend_and_details(fitted):
    _, _, gen = fitted
    spent = gen.privacy_spent_
    assert spent.epsilon <= 1.0 + 1e-9 and spent.epsilon > 0.99
    assert set(spent.details["rho_split"]) == {f"marginal:{c}" for c in
                                               ("wage", "years", "score", "region", "flag", "day", "const")} | {
        "correlation"}
    assert spent.details["split"] == {"marginals": 0.5, "correlation": 0.5}


def test_condition_on_costs_nothing_extra():
    df, schema = _table(6000)
    plain = DPGaussianCopula(1.0, 1e-6).fit(df, schema, random_state=0)
    cond = DPGaussianCopula(1.0, 1e-6, condition_on="flag").fit(df, schema, random_state=0)
    assert cond.privacy_spent_.epsilon == pytest.approx(plain.privacy_spent_.epsilon)
    assert len(cond.parts_) == 2
    out = cond.sample(6000, random_state=0)
    assert schema.validate(out, release=True).ok
    assert out.loc[out["flag"], "wage"].median() > 1.5 * out.loc[~out["flag"], "wage"].median()


def test_reproducible():
    df, schema = _table(2000)
    a = DPGaussianCopula(1.0, 1e-6).fit(df, schema, random_state=3).sample(200, random_state=0)
    b = DPGaussianCopula(1.0, 1e-6).fit(df, schema, random_state=3).sample(200, random_state=0)
    c = DPGaussianCopula(1.0, 1e-6).fit(df, schema, random_state=4).sample(200, random_state=0)
    pd.testing.assert_frame_equal(a, b)
    assert not a["wage"].equals(c["wage"])


@pytest.mark.parametrize("params, word", [({"marginal_share": 1.0}, "marginal_share"), ({"n_bins": 1}, "n_bins"),
                                          ({"log_bins": "maybe"}, "log_bins"), ({"condition_on": "wage"}, "wage")])
def test_bad_params(params, word):
    df, schema = _table(200)
    with pytest.raises(ConfigError, match=word):
        DPGaussianCopula(1.0, 1e-6, **params).fit(df, schema, random_state=0)


def test_isolated_noise_spikes_are_dropped_but_chained_bins_kept():
    """_postprocess: a bin above 2 sigma far from any trusted bin is noise; one chained to the mass is kept."""
    from synthgen.privacy.analysis import gaussian_sigma

    rho = 0.01
    sigma = gaussian_sigma(rho, 1.0)  # ~7.07
    counts = np.zeros(128)
    counts[10:20] = 500.0               # the real mass: trusted bins
    counts[22] = 2.5 * sigma            # above 2 sigma, near the mass: kept (a sparse real tail)
    counts[100] = 2.5 * sigma           # above 2 sigma, far out in wide bounds: an isolated noise spike
    gen = DPGaussianCopula(1.0)
    out, total = gen._postprocess(counts.copy(), rho, n_ordered=128)
    assert out[10:20].sum() == 5000 and out[22] > 0
    assert out[100] == 0
    assert total == counts.sum()
    off = DPGaussianCopula(1.0, suppress_fp=0)._postprocess(counts.copy(), rho, n_ordered=128)[0]
    assert off[100] > 0  # without the rule only the 2-sigma threshold applies
