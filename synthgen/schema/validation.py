"""Checking a table against a schema, converting it to canonical dtypes, and conforming generated rows.

Privacy: a table checked here is usually private. A :class:`Violation` message names the column, what is wrong
and the fix, with public schema values only: no data value and no count of offending rows (one row more or less
must not change the text of an error, a log line or a JSON report). The exact count stays on the object
(``Violation.count``) for the data owner's own code; it is not printed, not in ``str()`` and not in ``to_dict()``.
Nor does the table's row count (``ValidationReport.n_rows``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from .._json import category_keys
from ..exceptions import DataValidationError
from .fields import Field
from .times import to_timestamps


@dataclass(frozen=True)
class Violation:
    """One way a table breaks its schema. The message holds public schema values only, never data values or
    counts; ``count`` (the exact number of offending entries) is for the owner's code and is never printed."""

    column: str | None
    code: str
    message: str
    count: int = 0

    def __str__(self) -> str:
        where = f"Column {self.column!r}" if self.column is not None else "Table"
        return f"{where}: {self.message}"

    def to_dict(self) -> dict:
        return {"column": self.column, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class ValidationReport:
    """Every violation found. ``n_rows`` is the exact (private) row count: kept for the owner's code, never in
    :meth:`to_dict` or a message."""

    violations: tuple[Violation, ...]
    n_rows: int

    @property
    def ok(self) -> bool:
        return not self.violations

    def codes(self) -> set[str]:
        return {v.code for v in self.violations}

    def to_dict(self) -> dict:
        return {"ok": self.ok, "violations": [v.to_dict() for v in self.violations]}

    def raise_if_invalid(self, what: str = "data") -> None:
        if self.violations:
            lines = "\n  - ".join(str(v) for v in self.violations)
            raise DataValidationError(
                f"The {what} does not conform to the schema ({len(self.violations)} problem(s)):\n  - {lines}",
                self.violations,
            )


# --------------------------------------------------------------------------------------- value conversion
_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}


def numeric_values(s: pd.Series) -> tuple[pd.Series, int]:
    """Coerce to float; return (values, number of non-null entries that were not numbers)."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.astype("float64"), 0
    coerced = pd.to_numeric(s, errors="coerce")
    bad = int((coerced.isna() & s.notna()).sum())
    return coerced.astype("float64"), bad


def boolean_values(s: pd.Series) -> tuple[pd.Series, int]:
    """Coerce to the nullable boolean dtype; return (values, number of non-null entries that were not booleans)."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean"), 0
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    if pd.api.types.is_numeric_dtype(s):
        ok = s.isin([0, 1]) | s.isna()
        out[s == 1] = True
        out[s == 0] = False
        return out, int((~ok).sum())
    low = s.astype("string").str.strip().str.lower()
    out[low.isin(_TRUE)] = True
    out[low.isin(_FALSE)] = False
    return out, int((low.notna() & ~low.isin(_TRUE | _FALSE)).sum())


# ---------------------------------------------------------------------------------------------- checking
def text_labels(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its column labels as text (a frame made from an array is labelled 0, 1, ...; a schema names
    columns by text); the same frame when they already are. Labels that collide as text are refused by name."""
    if all(isinstance(c, str) for c in df.columns):
        return df
    names = [str(c) for c in df.columns]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise DataValidationError(f"Columns {dup} have the same name once written as text (e.g. 1 and '1'). Fix: "
                                  "rename them so that every column name is distinct text.")
    return df.set_axis(names, axis=1)


def validate_table(schema: Any, df: pd.DataFrame, *, allow_extra: bool = False,
                   release: bool = False) -> ValidationReport:
    """Report every way ``df`` breaks ``schema`` (see :meth:`Schema.validate`)."""
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"Expected a pandas DataFrame; got {type(df).__name__}.")
    df = text_labels(df)
    v: list[Violation] = []
    n = len(df)
    if n == 0:
        v.append(Violation(None, "empty_table", "the table has no rows. Fix: pass a table with data."))
    expected = schema.release_names if release else schema.names
    present = set(map(str, df.columns))
    for name in expected:
        if name not in present:
            v.append(Violation(name, "missing_column", "declared in the schema but missing from the table. "
                               "Fix: add the column or remove it from the schema."))
    if not allow_extra:
        for col in df.columns:
            if str(col) not in expected:
                v.append(Violation(str(col), "extra_column", "present in the table but not declared in the "
                                   "schema. Fix: declare it in the schema or drop it before fitting."))
    if len(present) != df.shape[1]:
        v.append(Violation(None, "duplicate_columns", "the table has duplicate column names."))
    for f in schema.fields:
        if f.name in present and f.name in expected and n > 0:
            col = df[f.name]
            if not isinstance(col, pd.DataFrame):
                v.extend(validate_column(f, col))
    return ValidationReport(tuple(v), n)


def _problem(out: list[Violation], f: Field, code: str, count: int, what: str, fix: str) -> None:
    """Append a violation when ``count`` > 0; the message says 'some values', never how many."""
    if count:
        out.append(Violation(f.name, code, f"some values {what}. Fix: {fix}", int(count)))


def _check_numeric(f: Field, col: pd.Series, out: list[Violation]) -> None:
    vals, bad = numeric_values(col)
    _problem(out, f, "wrong_type", bad, f"are not numbers (declared type {f.type})",
             "clean the column or declare it categorical." + _wrong_type_fate(f))
    arr = vals.to_numpy()
    _problem(out, f, "non_finite", int(np.isinf(arr).sum()), "are +/-inf",
             "replace infinities with nulls (and declare nullable) or with finite values." + _wrong_type_fate(f))
    finite = arr[np.isfinite(arr)]
    dp = (" These bounds were bought with DP (a noisy draft may cut a thin tail); fits clip such values "
          "without --on-violation clip.") if f.source.startswith("dp:") else ""
    _problem(out, f, "below_minimum", int((finite < f.lower).sum()), f"are below the declared minimum {f.lower:g}",
             "widen constraints.minimum or clip/clean the data." + dp)
    _problem(out, f, "above_maximum", int((finite > f.upper).sum()), f"are above the declared maximum {f.upper:g}",
             "widen constraints.maximum or clip/clean the data." + dp)
    if f.integer:
        _problem(out, f, "not_integer", int((np.abs(finite - np.round(finite)) > 1e-9).sum()),
                 "are not whole numbers but the column is declared integer",
                 "declare x-synthgen.integer=false or round the data." + (
                     " The integer flag was bought with DP (a noisy draft cannot see a few non-whole values); "
                     "fits round such values." if f.source.startswith("dp:") else ""))


def _wrong_type_fate(f: Field) -> str:
    """What a fit does with values of another type in a column whose type a DP draft chose
    (:func:`synthgen.generators.base.blocking_violations`)."""
    if not f.source.startswith("dp:"):
        return ""
    return (" If a DP draft chose this type (a noisy draft keeps a type that holds almost all values, and cannot "
            "see a few of another type), fits read such values as nulls" +
            (" (the row is kept)." if f.nullable else " and drop their rows (the column is not nullable)."))


def _check_boolean(f: Field, col: pd.Series, out: list[Violation]) -> None:
    _problem(out, f, "wrong_type", boolean_values(col)[1], "are not booleans (true/false, 1/0)",
             "clean the column or declare it categorical." + _wrong_type_fate(f))


def _check_datetime(f: Field, col: pd.Series, out: list[Violation]) -> None:
    t = to_timestamps(col, f.layout)
    layout = "" if f.layout == "iso" else f" (or {f.layout} dates, as the field's layout declares)"
    _problem(out, f, "wrong_type", int((t.isna() & col.notna()).sum()), "are not dates/datetimes",
             f"use ISO-8601 text{layout} or a datetime dtype." + _wrong_type_fate(f))
    _problem(out, f, "below_minimum", int((t < f.lower_ts).sum()), f"are before the declared minimum {f.lower}",
             "widen the bounds or clean the data.")
    _problem(out, f, "above_maximum", int((t > f.upper_ts).sum()), f"are after the declared maximum {f.upper}",
             "widen the bounds or clean the data.")


def _check_categorical(f: Field, col: pd.Series, out: list[Violation]) -> None:
    known = set(category_keys(f.categories))
    codes, uniq = pd.factorize(col[col.notna()])  # check each distinct value once, not each row
    bad = np.array([k not in known for k in category_keys(uniq)], dtype=bool)
    unknown = int(np.bincount(codes, minlength=len(uniq))[bad].sum()) if len(uniq) else 0
    _problem(out, f, "unknown_category", unknown, f"are not among the {len(f.categories)} declared categories",
             "add the missing categories to constraints.enum (from a public source or `synthgen schema draft "
             "--epsilon`), or map them to a declared one." + _unknown_category_fate(f))


def _unknown_category_fate(f: Field) -> str:
    """What a fit does with an undeclared category (:func:`synthgen.generators.base.conform_rows`)."""
    fate = ("fits put such values in the column's null cell (the row is kept)" if f.nullable else
            "fits drop such rows (the column is not nullable; declare it nullable to keep them as nulls)")
    if f.source.startswith("dp:"):
        return f" These categories were bought with DP (a noisy draft leaves out rare ones); {fate}."
    return f" With --on-violation clip (on_violation='clip'), {fate}."


_CHECKS: dict[str, Callable[[Field, pd.Series, list[Violation]], None]] = {
    "numeric": _check_numeric, "boolean": _check_boolean, "datetime": _check_datetime,
    "categorical": _check_categorical,
}


def validate_column(f: Field, col: pd.Series) -> list[Violation]:
    """Every violation of one column (identifiers are never checked)."""
    out: list[Violation] = []
    if f.kind == "identifier":
        return out
    _CHECKS[f.kind](f, col, out)
    if not f.nullable:
        _problem(out, f, "null_not_allowed", int(col.isna().sum()), "are null but the column is not nullable",
                 "declare x-synthgen.nullable=true (constraints.required=false) or impute first.")
    return out


# --------------------------------------------------------------------------------------------- converting
def _coerce_categorical(f: Field, s: pd.Series) -> pd.Series:
    lookup = dict(zip(category_keys(f.categories), f.categories))
    mask = s.notna().to_numpy()
    vals = np.full(len(s), None, dtype=object)
    codes, uniq = pd.factorize(s[mask])  # map each distinct value once, not each row
    mapped = np.array([lookup.get(k) for k in category_keys(uniq)] + [None], dtype=object)
    vals[mask] = mapped[codes]
    return pd.Series(vals, index=s.index, dtype=object)


_COERCE: dict[str, Callable[[Field, pd.Series], pd.Series]] = {
    "numeric": lambda f, s: numeric_values(s)[0],
    "boolean": lambda f, s: boolean_values(s)[0],
    "datetime": lambda f, s: to_timestamps(s, f.layout),
    "categorical": _coerce_categorical,
    "identifier": lambda f, s: s,
}


def coerce_table(fields: Sequence[Field], df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every declared column in its canonical dtype; unconvertible values become nulls."""
    df = text_labels(df)
    out = {f.name: _COERCE[f.kind](f, df[f.name]) for f in fields if f.name in df.columns}
    return pd.DataFrame(out, index=df.index)


def _conform_numeric(f: Field, s: pd.Series) -> pd.Series:
    x = pd.to_numeric(s, errors="coerce").astype("float64").clip(f.lower, f.upper)
    if not f.integer:
        return x
    x = x.round()
    return x.astype("Int64") if (f.nullable or x.isna().any()) else x.astype("int64")


def _conform_boolean(f: Field, s: pd.Series) -> pd.Series:
    b = s.astype("boolean")
    return b if (f.nullable or b.isna().any()) else b.astype(bool)


def _conform_datetime(f: Field, s: pd.Series) -> pd.Series:
    t = to_timestamps(s, f.layout).clip(f.lower_ts, f.upper_ts)
    return t.dt.normalize() if f.date_only else t


def _conform_categorical(f: Field, s: pd.Series) -> pd.Series:
    if f.type == "integer" and not s.isna().any():
        return s.astype("int64")
    if f.type == "string":
        return s.astype(object)
    return s


_CONFORM: dict[str, Callable[[Field, pd.Series], pd.Series]] = {
    "numeric": _conform_numeric, "boolean": _conform_boolean, "datetime": _conform_datetime,
    "categorical": _conform_categorical, "identifier": lambda f, s: s,
}


def conform_table(schema: Any, df: pd.DataFrame) -> pd.DataFrame:
    """Generated rows in release form: column order, dtypes, bounds (post-processing with public values only)."""
    df = text_labels(df)
    cols = {f.name: _CONFORM[f.kind](f, df[f.name]) for f in schema.fields if f.name in df.columns}
    return pd.DataFrame(cols, index=df.index)[[c for c in schema.release_names if c in cols]]
