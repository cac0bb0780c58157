"""DPGaussianCopula: behaviour (quality at a moderate budget, declared bins, all column kinds), and the
measure/estimate split (the estimate works from a release object alone)."""
import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau

from synthgen.exceptions import ConfigError
from synthgen.generators.copula import DPGaussianCopula
from synthgen.generators.copula.binning import SuppressRule, suppress
from synthgen.generators.copula.measure import CopulaRelease, PartRelease
from synthgen.privacy.noise import unsafe_seeded_noise
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
    # fresh DP noise per run: 0.08 missed once in ~10 runs (0.42 vs 0.51); a copula that lost the dependence gives ~0
    for a, b in (("wage", "years"), ("wage", "flag")):
        assert kendalltau(out[a], out[b]).statistic == pytest.approx(kendalltau(df[a], df[b]).statistic, abs=0.12)
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


def test_reproducible_only_under_the_seeded_noise_switch():
    """Fits repeat only with the test switch, and such a fit says it is not DP (keeping the accountant's numbers);
    a fitted model samples identically for the same seed."""
    df, schema = _table(2000)
    fits = []
    for noise_seed, seed in ((1, 3), (1, 3), (2, 3)):
        with unsafe_seeded_noise(noise_seed):
            fits.append(DPGaussianCopula(1.0, 1e-6).fit(df, schema, random_state=seed))
    a, b, c = (g.sample(200, random_state=0) for g in fits)
    pd.testing.assert_frame_equal(a, b)
    assert not a["wage"].equals(c["wage"])
    spent = fits[0].privacy_spent_
    assert not spent.is_dp and "seeded" in spent.reason
    assert spent.accounted.epsilon == pytest.approx(1.0, rel=1e-6) and "rho_split" in spent.accounted.details
    pd.testing.assert_frame_equal(fits[0].sample(50, random_state=9), fits[0].sample(50, random_state=9))


def test_same_random_state_gives_fresh_noise():
    """random_state never seeds privacy noise: two fits with the same seed release different noisy statistics.
    (Fails on the old main, where the noise was drawn from random_state.)"""
    df, schema = _table(2000)
    a = DPGaussianCopula(1.0, 1e-6).fit(df, schema, random_state=0)
    b = DPGaussianCopula(1.0, 1e-6).fit(df, schema, random_state=0)
    assert a.privacy_spent_.is_dp and b.privacy_spent_.is_dp
    assert not np.array_equal(a.parts_[0].columns[0].cdf, b.parts_[0].columns[0].cdf)
    assert not np.array_equal(a.parts_[0].corr, b.parts_[0].corr)


def test_rows_estimate_is_noisy_and_spend_holds_no_exact_n():
    """rows_estimate_ is a DP estimate (it varies across refits of the same data) and nothing in the spend or the
    manifest's privacy block is the exact row count. (Fails on the old main: no rows_estimate_.)"""
    n = 3001
    df, schema = _table(n)
    estimates, spends = [], []
    for cond in (None, None, None, "flag", "flag"):
        g = DPGaussianCopula(1.0, 1e-6, condition_on=cond).fit(df, schema, random_state=0)
        estimates.append(g.rows_estimate_)
        spends.append(g.privacy_spent_.to_dict())
    assert len(set(estimates)) == len(estimates)
    assert all(abs(e - n) < 0.12 * n for e in estimates)  # about 5 sd of the mean of the noisy totals
    assert all(e != n for e in estimates)
    assert spends[0] == spends[1] == spends[2] and spends[3] == spends[4]  # a function of the plan only

    def numbers(obj):
        if isinstance(obj, dict):
            return [x for v in obj.values() for x in numbers(v)]
        if isinstance(obj, (list, tuple)):
            return [x for v in obj for x in numbers(v)]
        return [obj] if isinstance(obj, (int, float)) and not isinstance(obj, bool) else []

    assert not any(x in (n, n - 1, n + 1) for s in spends for x in numbers(s))


def test_estimate_works_from_a_release_alone():
    """The measure step is the only reader of rows: _estimate builds the whole model from a release built by hand
    (here: 300 rows in one 'years' value, all wages in the lowest bins, and a Gram matrix of a strong correlation)."""
    schema = Schema((NumericField("wage", 50, 20_000, bounds_source="public:test"),
                     NumericField("years", 0, 30, integer=True, bounds_source="public:test")))
    gen = DPGaussianCopula(1.0, 1e-6, n_bins=16, fine_bins=0)
    plan = gen._plan(schema)
    wage_b, years_b = plan.columns
    wage_h = np.zeros(wage_b.n_value_bins)
    wage_h[:2] = [150.0, 150.0]
    years_h = np.zeros(years_b.n_value_bins)
    years_h[12] = 300.0
    from synthgen.generators.copula.latent import latent_column

    a = np.concatenate([latent_column(b, h, plan.rules).a for b, h in ((wage_b, wage_h), (years_b, years_h))])
    gram = 300.0 * np.array([[a[0], 0.0], [0.0, a[1] + 1.0]])
    release = CopulaRelease(None, (PartRelease(None, (wage_h, years_h), gram),))
    gen._estimate(release, plan, np.random.default_rng(0))
    assert gen.rows_estimate_ == pytest.approx(300.0)
    wage, years = gen.parts_[0].columns
    assert wage.cdf[2] == pytest.approx(1.0) and wage.values[0] == 50
    assert years.mode == "discrete" and years.values[np.searchsorted(years.cdf, 0.5)] == 12
    with pytest.raises(Exception):
        release.parts[0].gram[0, 0] = 1.0  # the release is frozen


@pytest.mark.parametrize("params, word", [({"marginal_share": 1.0}, "marginal_share"), ({"n_bins": 1}, "n_bins"),
                                          ({"log_bins": "maybe"}, "log_bins"), ({"condition_on": "wage"}, "wage")])
def test_bad_params(params, word):
    df, schema = _table(200)
    with pytest.raises(ConfigError, match=word):
        DPGaussianCopula(1.0, 1e-6, **params).fit(df, schema, random_state=0)


def test_isolated_noise_spikes_are_dropped_but_chained_bins_kept():
    """suppress: a bin above 2 sigma far from any trusted bin is noise; one chained to the mass is kept."""
    from synthgen.privacy.analysis import gaussian_sigma

    rho = 0.01
    sigma = gaussian_sigma(rho, 1.0)  # ~7.07
    counts = np.zeros(128)
    counts[10:20] = 500.0               # the real mass: trusted bins
    counts[22] = 2.5 * sigma            # above 2 sigma, near the mass: kept (a sparse real tail)
    counts[100] = 2.5 * sigma           # above 2 sigma, far out in wide bounds: an isolated noise spike
    out = suppress(counts.copy(), rho, SuppressRule(), n_ordered=128)
    assert out[10:20].sum() == 5000 and out[22] > 0
    assert out[100] == 0
    off = suppress(counts.copy(), rho, SuppressRule(fp=0.0), n_ordered=128)
    assert off[100] > 0  # without the rule only the 2-sigma threshold applies


def _wide_year(n=3000, seed=0):
    """A year column declared 1000-3000 (as codebooks give it) for data in 1997-2002, beside a skewed amount."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"year": rng.integers(1997, 2003, n), "amount": np.clip(np.exp(rng.normal(8, 1, n)), 1, 1e6)})
    df["flag"] = (df["year"] >= 2000) ^ (rng.random(n) < 0.1)
    schema = Schema((NumericField("year", 1000, 3000, integer=True, bounds_source="public:t"),
                     NumericField("amount", 0, 1e6, bounds_source="public:t"), BooleanField("flag")))
    return df, schema


def _shape(real, synthetic):
    from evaluators.fidelity import ks_statistic

    return 1.0 - ks_statistic(real.to_numpy(dtype=float), synthetic.to_numpy(dtype=float))


def test_wide_declared_bounds_keep_the_shape_at_eps1():
    """Issue #13: with 128 equal-width bins over 1000-3000 the data sat in one 15.6-year bin (shape ~0.56 here);
    model bins derived from a noisy fine histogram follow the data (shape ~0.98), and the year-flag link stays."""
    df, schema = _wide_year()
    scores = {0: [], 2048: []}
    for fine in scores:
        for seed in range(3):
            with unsafe_seeded_noise(seed):
                gen = DPGaussianCopula(1.0, fine_bins=fine).fit(df, schema, random_state=seed)
            out = gen.sample(len(df), random_state=seed)
            late = out["year"] >= 2000
            scores[fine].append((_shape(df["year"], out["year"]), _shape(df["amount"], out["amount"]),
                                 out.loc[late, "flag"].mean() - out.loc[~late, "flag"].mean()))
    old, new = np.median(scores[0], axis=0), np.median(scores[2048], axis=0)
    assert old[0] < 0.7 and new[0] > 0.9
    assert new[1] > 0.88  # the skewed column is no worse off than with log bins
    assert new[2] > 0.45  # real difference: 0.8; the plain copula gives 0.68 (a probit link, not a step)
    assert gen.fit_info_["bins"]["year"] == {"scale": "linear", "bins": 128, "fine_bins": 2001}


def test_coarsen_puts_model_bins_where_the_noisy_mass_is():
    from synthgen.generators.copula.binning import coarsen

    rng = np.random.default_rng(0)
    counts = np.zeros(2048)
    counts[1000:1006] = 800.0
    bounds = coarsen(counts + rng.normal(0, 60, 2048), 128, 60.0, 2.0, 200.0)
    assert len(bounds) == 129 and bounds[0] == 0 and bounds[-1] == 2048 and (np.diff(bounds) > 0).all()
    assert set(range(1000, 1007)) <= set(bounds.tolist())  # every populated fine bin is a model bin of its own
    flat = coarsen(rng.normal(0, 60, 2048), 128, 60.0, 2.0, 200.0)  # no mass anywhere: equal-width bins
    assert (np.diff(flat) == 16).all()


def test_sparse_structural_null_column_keeps_its_null_rate():
    """Issue #13 (NHEFS: year of death only for the dead): the observed values of a structural-null column spread
    over many bins, each below the suppression threshold; the null share must come from the raw noisy mass (here
    ~0.8), not from the suppressed bins (which made the column null in every synthetic row)."""
    rng = np.random.default_rng(1)
    n = 3000
    dead = rng.random(n) < 0.2
    df = pd.DataFrame({f"x{i}": rng.integers(0, 5, n) for i in range(20)})
    df["dead"] = dead
    df["day"] = np.where(dead, rng.integers(1, 32, n), np.nan)
    schema = Schema(tuple(NumericField(f"x{i}", 0, 4, integer=True, bounds_source="public:t") for i in range(20))
                    + (BooleanField("dead"), NumericField("day", 1, 31, integer=True, nullable=True,
                                                          bounds_source="public:t")))
    shares = []
    for seed in range(3):
        with unsafe_seeded_noise(seed):
            gen = DPGaussianCopula(1.0).fit(df, schema, random_state=seed)
        shares.append(gen.sample(4000, random_state=seed)["day"].isna().mean())
    assert 0.7 < np.median(shares) < 0.88


def test_mass_on_a_declared_bound_stays_there():
    """Issue #13 (DoctorContacts fmde, lc, lpi: 24-42 % exact zeros, declared 0..10): an adaptive model bin that
    is the first fine bin alone puts its mass on the declared lower bound; spread over its bin, KS counted it as
    missing (shape 0.58)."""
    rng = np.random.default_rng(2)
    n = 4000
    x = np.where(rng.random(n) < 0.4, 0.0, np.clip(rng.gamma(2.0, 1.5, n), 0, 10))
    df = pd.DataFrame({"x": x, "y": x + rng.normal(0, 1, n)})
    schema = Schema((NumericField("x", 0, 10, bounds_source="public:t"),
                     NumericField("y", -20, 30, bounds_source="public:t")))
    scores = []
    for seed in range(3):
        with unsafe_seeded_noise(seed):
            gen = DPGaussianCopula(1.0).fit(df, schema, random_state=seed)
        out = gen.sample(n, random_state=seed)
        scores.append((_shape(df["x"], out["x"]), (out["x"] == 0).mean()))
    shape, zeros = np.median(scores, axis=0)
    assert shape > 0.85 and 0.3 < zeros < 0.5


def test_heaped_values_of_a_real_valued_column_stay_exact():
    """DoctorContacts educdec (declared 0..25, not integer, 35 distinct values): fine bins centred on a round step
    (0.02 here) keep whole-number values exact when a model bin is one fine bin alone."""
    rng = np.random.default_rng(3)
    n = 4000
    df = pd.DataFrame({"educ": rng.choice([8.0, 10.0, 12.0, 14.0, 16.0, 18.0], n, p=[.1, .1, .4, .15, .15, .1])})
    df["y"] = df["educ"] * 2 + rng.normal(0, 3, n)
    schema = Schema((NumericField("educ", 0, 25, bounds_source="public:t"),
                     NumericField("y", -20, 80, bounds_source="public:t")))
    scores = {0: [], 2048: []}
    for fine in scores:
        for seed in range(3):
            with unsafe_seeded_noise(seed):
                gen = DPGaussianCopula(1.0, fine_bins=fine).fit(df, schema, random_state=seed)
            scores[fine].append(_shape(df["educ"], gen.sample(n, random_state=seed)["educ"]))
    assert np.median(scores[0]) < 0.8 and np.median(scores[2048]) > 0.9
