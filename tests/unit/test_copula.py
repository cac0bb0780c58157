"""GaussianCopula (plain, no DP) and the shared normal-score / correlation-repair transforms."""
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau, ks_2samp

from synthgen.exceptions import ConfigError
from synthgen.generators.copula import GaussianCopula
from synthgen.generators.copula.normal_scores import (corrected_correlation, nearest_correlation, score_variance,
                                                         slice_scores)
from synthgen.privacy.spend import NoGuarantee
from synthgen.schema import BooleanField, CategoricalField, DatetimeField, NumericField, Schema

pytestmark = pytest.mark.filterwarnings("ignore:GaussianCopula")


def _table(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal([0, 0, 0], [[1, .8, .5], [.8, 1, .4], [.5, .4, 1]], size=n)
    grp = np.array(["lo", "mid", "hi", "top", "x"])[np.digitize(z[:, 2], [-1.0, 0.0, 1.0, 1.8])]
    income = np.exp(3 + z[:, 0])
    years = np.clip(np.round(10 + 3 * z[:, 1]), 0, 40)
    score = np.where(z[:, 0] > 1.0, np.nan, 50 + 10 * z[:, 2])  # missing when income is high
    day = pd.Timestamp("2021-01-01") + pd.to_timedelta(np.clip(180 + 60 * z[:, 1], 0, 364).astype(int), unit="D")
    df = pd.DataFrame({"income": income, "years": years.astype(int), "score": score, "grp": grp,
                       "flag": z[:, 2] > 0.3, "day": day, "const": 7.0})
    schema = Schema((
        NumericField("income", 0, 1e5, bounds_source="public:test"),
        NumericField("years", 0, 40, integer=True, bounds_source="public:test"),
        NumericField("score", 0, 200, nullable=True, bounds_source="public:test"),
        CategoricalField("grp", ("lo", "mid", "hi", "top", "x"), categories_source="public:test"),
        BooleanField("flag"),
        DatetimeField("day", "2021-01-01", "2021-12-31", date_only=True, bounds_source="public:test"),
        NumericField("const", 0, 10, bounds_source="public:test"),
    ))
    return df, schema


@pytest.fixture(scope="module")
def fitted():
    df, schema = _table()
    return df, schema, GaussianCopula().fit(df, schema, random_state=0)


# ------------------------------------------------------------------------------------------ transforms
def test_slice_scores_known_values():
    # E[Z | Z > 0] = sqrt(2/pi); a zero-width slice gets Phi^{-1} of its position
    assert slice_scores(np.array([0.5]), np.array([1.0]))[0] == pytest.approx(np.sqrt(2 / np.pi), rel=1e-9)
    assert slice_scores(np.array([0.0]), np.array([0.5]))[0] == pytest.approx(-np.sqrt(2 / np.pi), rel=1e-9)
    assert slice_scores(np.array([0.975]), np.array([0.975]))[0] == pytest.approx(1.959964, abs=1e-5)
    # a binary split at 1/2 keeps 2/pi of the variance
    assert score_variance(np.array([0.5, 0.5])) == pytest.approx(2 / np.pi, rel=1e-9)
    assert score_variance(np.full(1000, 1e-3)) > 0.99


def test_shrinkage_correction_recovers_latent_correlation():
    rng = np.random.default_rng(1)
    rho = 0.6
    z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=200_000)
    p = 0.3  # a binary column: 1 when z0 > Phi^{-1}(0.7)
    s0, s1 = slice_scores(np.array([0.0, 1 - p]), np.array([1 - p, 1.0]))
    x = np.where(z[:, 0] > np.quantile(z[:, 0], 1 - p), s1, s0)
    s = np.column_stack([x, z[:, 1]])
    cov = s.T @ s / len(s)
    raw = cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])
    fixed = corrected_correlation(cov)[0, 1]
    assert raw < rho - 0.1  # the shrinkage is real
    assert fixed == pytest.approx(rho, abs=0.02)


def test_nearest_correlation_repairs_invalid_matrix():
    r = np.array([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]])
    assert np.linalg.eigvalsh(r)[0] < 0
    fixed = nearest_correlation(r)
    assert np.allclose(np.diag(fixed), 1.0)
    assert np.allclose(fixed, fixed.T)
    assert np.linalg.eigvalsh(fixed)[0] > 0
    np.linalg.cholesky(fixed)
    valid = np.array([[1.0, 0.3], [0.3, 1.0]])
    assert np.array_equal(nearest_correlation(valid), valid)


# ------------------------------------------------------------------------------------------ generator
def test_says_no_guarantee(fitted):
    _, _, gen = fitted
    assert isinstance(gen.privacy_spent_, NoGuarantee)
    assert "NOT differentially private" in gen.privacy_spent_.reason
    df, schema = _table(200)
    with pytest.warns(UserWarning, match="NOT differentially private"):
        GaussianCopula().fit(df, schema, random_state=0)


def test_marginals_match(fitted):
    df, schema, gen = fitted
    out = gen.sample(6000, random_state=1)
    assert schema.validate(out, release=True).ok
    assert ks_2samp(out["income"], df["income"]).statistic < 0.04
    assert ks_2samp(out["years"], df["years"]).statistic < 0.04
    # integer columns re-use observed integer values
    assert out["years"].dtype == np.int64
    assert set(out["years"].unique()) <= set(df["years"].unique())
    freq_real = df["grp"].value_counts(normalize=True)
    freq_syn = out["grp"].value_counts(normalize=True).reindex(freq_real.index, fill_value=0)
    assert (freq_real - freq_syn).abs().max() < 0.03  # one-hot decoding keeps the category frequencies
    assert abs(out["flag"].mean() - df["flag"].mean()) < 0.03
    assert (out["const"] == 7.0).all()  # a constant column in the data works


def test_dependence_survives(fitted):
    df, _, gen = fitted
    out = gen.sample(6000, random_state=2)
    for a, b in (("income", "years"), ("income", "day")):
        num = lambda s: s.astype("int64") if pd.api.types.is_datetime64_any_dtype(s) else s  # noqa: E731
        t_real = kendalltau(num(df[a]), num(df[b])).statistic
        t_syn = kendalltau(num(out[a]), num(out[b])).statistic
        assert t_syn == pytest.approx(t_real, abs=0.05), (a, b)
    # categories keep their relation to numbers: group order of mean years
    order_real = df.groupby("grp")["years"].mean().sort_values().index.tolist()
    order_syn = out.groupby("grp")["years"].mean().sort_values().index.tolist()
    assert order_syn == order_real
    assert out.loc[out["flag"], "score"].mean() > out.loc[~out["flag"], "score"].mean() + 5


def test_nulls_keep_their_relation(fitted):
    df, _, gen = fitted
    out = gen.sample(6000, random_state=3)
    assert out["score"].isna().mean() == pytest.approx(df["score"].isna().mean(), abs=0.03)
    # score is missing when income is high, in the synthetic data too
    assert out.loc[out["score"].isna(), "income"].median() > 2 * out.loc[out["score"].notna(), "income"].median()


def test_datetimes(fitted):
    df, _, gen = fitted
    out = gen.sample(2000, random_state=4)
    assert pd.api.types.is_datetime64_any_dtype(out["day"])
    assert out["day"].min() >= pd.Timestamp("2021-01-01") and out["day"].max() <= pd.Timestamp("2021-12-31")
    assert (out["day"] == out["day"].dt.normalize()).all()
    assert out["day"].dt.month.nunique() >= 10


def test_reproducible_and_seed_sensitive():
    df, schema = _table(500)
    a = GaussianCopula().fit(df, schema, random_state=5).sample(300, random_state=1)
    b = GaussianCopula().fit(df, schema, random_state=5).sample(300, random_state=1)
    c = GaussianCopula().fit(df, schema, random_state=5).sample(300, random_state=2)
    pd.testing.assert_frame_equal(a, b)
    assert not a["income"].equals(c["income"])


def test_value_protection_on_by_default():
    df, schema = _table(1000)
    df.loc[0, ["income", "grp"]] = [99_999.0, "x"]
    df.loc[df["grp"] == "x", "grp"] = "top"
    df.loc[0, "grp"] = "x"  # "x" now held by one row only
    k = 5
    kth_largest = np.sort(df["income"].to_numpy())[-k]
    gen = GaussianCopula().fit(df, schema, random_state=0)
    out = gen.sample(20_000, random_state=0)
    assert out["income"].max() <= kth_largest + 1e-9
    assert "x" not in set(out["grp"])
    state, arrays = gen._get_state()
    assert not any(np.isclose(v, 99_999.0).any() for v in arrays.values())
    # knots are bounded: no more than one per k rows
    assert max(v.size for v in arrays.values() if v.ndim == 1) <= 1000 // k + 1
    raw = GaussianCopula(protect_values=False).fit(df, schema, random_state=0).sample(20_000, random_state=0)
    assert raw["income"].max() > kth_largest
    assert (raw["grp"] == "x").any()


def test_condition_on_per_class():
    df, schema = _table(2000)
    gen = GaussianCopula(condition_on="flag").fit(df, schema, random_state=0)
    assert len(gen.parts_) == 2
    out = gen.sample(4000, random_state=0)
    assert schema.validate(out, release=True).ok
    assert out["flag"].mean() == pytest.approx(df["flag"].mean(), abs=0.03)
    assert out.loc[out["flag"], "score"].mean() > out.loc[~out["flag"], "score"].mean() + 5
    with pytest.raises(ConfigError, match="income"):
        GaussianCopula(condition_on="income").fit(df, schema)
    with pytest.raises(ConfigError, match="nope"):
        GaussianCopula(condition_on="nope").fit(df, schema)


def test_bad_params():
    df, schema = _table(100)
    with pytest.raises(ConfigError, match="protect_k"):
        GaussianCopula(protect_k=0).fit(df, schema)


def test_tiny_and_all_null_columns():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=12), "b": [np.nan] * 12, "c": ["u"] * 12})
    schema = Schema((NumericField("a", -10, 10, bounds_source="public:t"),
                     NumericField("b", 0, 1, nullable=True, bounds_source="public:t"),
                     CategoricalField("c", ("u", "v"), categories_source="public:t")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = GaussianCopula().fit(df, schema, random_state=0).sample(50, random_state=0)
    assert out["b"].isna().all() and (out["c"] == "u").all()
    assert schema.validate(out, release=True).ok
