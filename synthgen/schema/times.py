"""Datetime values, one rule for the whole project: naive UTC instants, and days since 1970-01-01 as floats.

Every reader of a datetime column (validation, drafting, the generators' encoders) goes through
:func:`to_timestamps`, so a column is parsed the same way everywhere: text in any layout pandas reads (a column
mixing layouts, e.g. dates and date-times, is parsed value by value where the first inferred layout leaves values
unread), timezone-aware values converted to UTC and made naive, anything unreadable a null. Day arithmetic names
its unit (microseconds, :func:`days`), never the column's own: pandas 3 parses text to microseconds, and an
integer view of those read as nanoseconds puts 2012 in January 1970.

A column's *layout* says how to read numeric dates with the year last (``01/02/2017``, ``1.2.2017 14:05``), which
text alone cannot tell: ``"iso"`` (the default: year-first text, and pandas' month-first reading of the rest),
``"month-first"`` or ``"day-first"``. Under the last two a value whose month field is above 12 is unreadable (a
null), not silently read the other way round; year-first values are read as usual in every layout.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

US_PER_DAY = 86_400_000_000  # microseconds: their range spans ±290,000 years (nanoseconds: 1677-2262 only)
#: How a datetime column's year-last dates are read (the field's ``layout``).
LAYOUTS = ("iso", "month-first", "day-first")
#: A date with the year last: first field, separator, second field, the same separator, a four-digit year (the
#: four groups, in that order).
YEAR_LAST = r"^\s*(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*$"


def _naive_utc(t: pd.Series) -> pd.Series:
    return t.dt.tz_convert("UTC").dt.tz_localize(None) if t.dt.tz is not None else t


def to_timestamps(s: pd.Series, layout: str = "iso") -> pd.Series:
    """A column as naive UTC datetimes (same index); values that are not dates or date-times become NaT.
    ``layout``: how year-last dates are read (module docstring)."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return _naive_utc(s)
    if layout == "iso" or not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
        return _naive_utc(_read(s))
    parts = s.astype("string").str.extract(YEAR_LAST)
    last = parts[0].notna().to_numpy()
    t = _read(s.where(~last))
    if last.any():
        t[last] = _read_year_last(s[last], parts[1][last], layout).to_numpy()
    return _naive_utc(t)


def _read(s: pd.Series) -> pd.Series:
    t = pd.to_datetime(s, errors="coerce", utc=True)
    unread = t.isna() & s.notna()
    if unread.any():  # a second layout: read the values the inferred one left, one by one
        t = t.where(~unread, pd.to_datetime(s[unread], errors="coerce", utc=True, format="mixed"))
    return t


def _read_year_last(s: pd.Series, seps: pd.Series, layout: str) -> pd.Series:
    """Year-last dates in one layout, by explicit formats (vectorised; a value of the other layout, month above
    12, stays NaT)."""
    t = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us, UTC]")
    for sep in seps.dropna().unique():
        day = f"%m{sep}%d{sep}%Y" if layout == "month-first" else f"%d{sep}%m{sep}%Y"
        for clock in ("", " %H:%M:%S", " %H:%M", " %H:%M:%S.%f", "T%H:%M:%S", "T%H:%M"):
            todo = t.isna() & (seps == sep)
            if not todo.any():
                break
            t[todo] = pd.to_datetime(s[todo].str.strip(), errors="coerce", utc=True, format=day + clock)
    return t


def to_timestamp(v: Any) -> pd.Timestamp:
    """One value (a declared bound) as a naive UTC timestamp; raises ValueError/TypeError when unreadable."""
    t = pd.Timestamp(v)
    return t.tz_convert("UTC").tz_localize(None) if t.tzinfo is not None else t


def days(s: pd.Series, layout: str = "iso") -> np.ndarray:
    """A column as float days since 1970-01-01 (NaN for nulls and unreadable values)."""
    t = to_timestamps(s, layout)
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
