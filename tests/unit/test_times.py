"""Datetime columns read one way everywhere (synthgen.schema.times), found on openintro/email and nycflights13/weather:
timezone-aware ISO text ('2012-01-16T21:32:18Z') crashed every fit (exit 3, a naive bound compared with aware values),
and under pandas 3, which parses text to microseconds, the DP draft read those microseconds as nanoseconds and
declared 2012 data to lie in January 1970."""
import numpy as np
import pandas as pd
import pytest

from synthgen.generators import registry
from synthgen.privacy.noise import unsafe_seeded_noise
from synthgen.exceptions import SchemaError
from synthgen.schema import DatetimeField, RowBounds, Schema
from synthgen.schema.times import day_of, days, from_days, to_timestamps

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_aware_mixed_and_unreadable_values():
    s = pd.Series(["2012-01-16T21:32:18Z", "2012-03-12T14:52:59+02:00", None, "2012-03-12", "junk", "1500-06-01"])
    t = to_timestamps(s)
    assert t.dt.tz is None
    assert t[0] == pd.Timestamp("2012-01-16 21:32:18") and t[1] == pd.Timestamp("2012-03-12 12:52:59")  # UTC
    assert t[3] == pd.Timestamp("2012-03-12")  # a second layout in the same column is read, not lost
    assert t[[2, 4]].isna().all() and t[5] == pd.Timestamp("1500-06-01")  # outside nanoseconds' 1677-2262
    d = days(s)
    assert d[0] == pytest.approx(15355.8974, abs=1e-4) and np.isnan(d[[2, 4]]).all()
    assert day_of("1970-01-02T00:00:00+00:00") == 1.0 and d[5] == day_of("1500-06-01")
    back = from_days(d, np.isnan(d))
    assert back[[0, 1, 3, 5]].tolist() == t[[0, 1, 3, 5]].tolist() and back[[2, 4]].isna().all()


def _emails(n=1500, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sent = pd.Timestamp("2012-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 365 * 86400, n), unit="s")
    return pd.DataFrame({"time": sent.strftime("%Y-%m-%dT%H:%M:%SZ"), "chars": rng.gamma(2.0, 5.0, n)})


@pytest.mark.parametrize("generator", ["copula", "dp-copula"])
def test_a_dp_draft_and_a_fit_on_aware_iso_text(generator):
    df = _emails()
    with unsafe_seeded_noise(0):
        drafted = Schema.draft(df, epsilon=2.0, rows=RowBounds(max=10_000))
    f = drafted["time"]
    assert f.kind == "datetime"
    assert f.lower_ts <= pd.Timestamp("2012-01-02") and f.upper_ts >= pd.Timestamp("2012-12-30")
    assert f.upper_ts - f.lower_ts < pd.Timedelta(days=365 * 40)  # the 2012 data's era, not 1970's
    params = {"epsilon": 1.0} if generator.startswith("dp") else {}
    model = registry.get(generator)(**params).fit(df, drafted, random_state=0)
    out = model.sample(300, random_state=1)
    t = to_timestamps(out["time"])
    assert t.notna().all() and t.between(f.lower_ts, f.upper_ts).all()


def test_year_first_slash_dates_are_drafted_as_datetimes():
    """openintro/mn_police_use_of_force's '2017/01/18 23:35:59' was drafted as text (then an identifier)."""
    df = _emails()
    df["time"] = to_timestamps(df["time"]).dt.strftime("%Y/%m/%d %H:%M:%S")
    with unsafe_seeded_noise(0):
        drafted = Schema.draft(df, epsilon=2.0, rows=RowBounds(max=10_000))
    assert drafted["time"].kind == "datetime" and drafted["time"].lower_ts.year >= 1980
    assert Schema.draft(pd.DataFrame({"d": ["01/02/2017", "03/04/2018"] * 10})).fields[0].kind != "datetime"


def test_year_last_layouts_are_read_strictly():
    s = pd.Series(["9/30/1990 0:00:00", "1/2/1993", "13/02/1990", "1993-05-06", "1.2.1993 14:05", None, "x"])
    month, day = to_timestamps(s, "month-first"), to_timestamps(s, "day-first")
    assert month[0] == pd.Timestamp("1990-09-30") and month[1] == pd.Timestamp("1993-01-02")
    assert pd.isna(month[2]) and month[4] == pd.Timestamp("1993-01-02 14:05")  # 13th month: unreadable, not swapped
    assert pd.isna(day[0]) and day[1] == pd.Timestamp("1993-02-01") and day[2] == pd.Timestamp("1990-02-13")
    assert month[3] == day[3] == pd.Timestamp("1993-05-06")  # year-first text reads the same in every layout
    assert month[[5, 6]].isna().all() and day[[5, 6]].isna().all()
    with pytest.raises(SchemaError, match="'d'.*layout"):
        DatetimeField("d", "1990-01-01", "2000-01-01", layout="us")


@pytest.mark.parametrize("layout,fmt", [("month-first", "%m/%d/%Y %H:%M:%S"), ("day-first", "%d.%m.%Y")])
def test_year_last_dates_are_drafted_with_their_layout(layout, fmt, tmp_path):
    """openintro/birds' '9/30/1990 0:00:00' was drafted as text, then dropped as an identifier."""
    df = _emails()
    df["time"] = to_timestamps(df["time"]).dt.strftime(fmt).str.replace(r"(^|[/.])0(\d)", r"\1\2", regex=True)
    with unsafe_seeded_noise(0):
        drafted = Schema.draft(df, epsilon=2.0, rows=RowBounds(max=10_000))
    f = drafted["time"]
    assert f.kind == "datetime" and f.layout == layout
    assert f.lower_ts <= pd.Timestamp("2012-01-02") and f.upper_ts >= pd.Timestamp("2012-12-30")
    assert f.upper_ts - f.lower_ts < pd.Timedelta(days=365 * 40)
    drafted.save(tmp_path / "s.json")
    assert Schema.load(tmp_path / "s.json")["time"].layout == layout  # x-synthgen.layout on disk
    assert Schema.draft(df)["time"].layout == layout  # the exact (inferred) draft reads it the same way
    assert not drafted.validate(df).violations  # every value read in the drafted layout
    model = registry.get("dp-copula")(epsilon=1.0).fit(df, drafted, random_state=0)
    assert to_timestamps(model.sample(200, random_state=1)["time"]).between(f.lower_ts, f.upper_ts).all()


def test_decide_layout_rule():
    from synthgen.schema.draft import CLASSES, decide_kind, decide_layout

    def counts(**k):
        return np.array([float(k.get(c, 0)) for c in CLASSES])

    sigma = 2.0  # threshold 8
    assert decide_layout(counts(date=900), sigma) == "iso"
    assert decide_layout(counts(date_month_first=300, date_either=600, date_day_first=3), sigma) == "month-first"
    assert decide_layout(counts(date_day_first=300, date_either=600), sigma) == "day-first"
    assert decide_layout(counts(date_either=900), sigma) is None  # 01/02/2017 alone cannot say which
    assert decide_layout(counts(date_month_first=300, date_day_first=300), sigma) is None
    assert decide_kind(counts(date_either=900), sigma, "d")[0] == "categorical"
    assert decide_kind(counts(date_month_first=300, date_either=600), sigma, "d")[0] == "datetime"
