"""Datetime values, one rule for the whole project: naive UTC instants, and days since 1970-01-01 as floats.

Every reader of a datetime column (validation, drafting, the generators' encoders) goes through
:func:`to_timestamps`, so a column is parsed the same way everywhere: text in any layout pandas reads (a column
mixing layouts, e.g. dates and date-times, is parsed value by value where the first inferred layout leaves values
unread), timezone-aware values converted to UTC and made naive, anything unreadable a null. Day arithmetic names
its unit (microseconds, :func:`days`), never the column's own: pandas 3 parses text to microseconds, and an
integer view of those read as nanoseconds puts 2012 in January 1970.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

US_PER_DAY = 86_400_000_000  # microseconds: their range spans ±290,000 years (nanoseconds: 1677-2262 only)


def _naive_utc(t: pd.Series) -> pd.Series:
    return t.dt.tz_convert("UTC").dt.tz_localize(None) if t.dt.tz is not None else t


def to_timestamps(s: pd.Series) -> pd.Series:
    """A column as naive UTC datetimes (same index); values that are not dates or date-times become NaT."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return _naive_utc(s)
    t = pd.to_datetime(s, errors="coerce", utc=True)
    unread = t.isna() & s.notna()
    if unread.any():  # a second layout: read the values the inferred one left, one by one
        t = t.where(~unread, pd.to_datetime(s[unread], errors="coerce", utc=True, format="mixed"))
    return _naive_utc(t)


def to_timestamp(v: Any) -> pd.Timestamp:
    """One value (a declared bound) as a naive UTC timestamp; raises ValueError/TypeError when unreadable."""
    t = pd.Timestamp(v)
    return t.tz_convert("UTC").tz_localize(None) if t.tzinfo is not None else t


def days(s: pd.Series) -> np.ndarray:
    """A column as float days since 1970-01-01 (NaN for nulls and unreadable values)."""
    t = to_timestamps(s)
    out = t.to_numpy(dtype="datetime64[us]").astype(np.int64).astype(np.float64) / US_PER_DAY
    out[t.isna().to_numpy()] = np.nan
    return out


def to_floats(s: pd.Series, kind: str) -> np.ndarray:
    """A numeric column as float64, a datetime column as days since 1970-01-01; NaN for nulls and unreadable values
    (the generators' one reading of a numeric or datetime column)."""
    if kind == "datetime":
        return days(s)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def day_of(ts: Any) -> float:
    """One timestamp as float days since 1970-01-01."""
    return float(np.datetime64(to_timestamp(ts).to_datetime64(), "us").astype(np.int64)) / US_PER_DAY


def from_days(x: np.ndarray, null: np.ndarray) -> pd.Series:
    """Float days since 1970-01-01 back to datetimes (microsecond unit), NaT where ``null``."""
    us = np.round(np.where(null, 0.0, x) * US_PER_DAY).astype(np.int64)
    return pd.Series(pd.to_datetime(us, unit="us")).mask(pd.Series(null))
