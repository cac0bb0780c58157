"""Shared pieces of the evaluators: the frozen :class:`Result`, typed input errors and the prepared tables.

:func:`prepare` checks the inputs once (same columns, compatible dtypes, no empty or all-null columns) and
turns every table into the same numeric encodings, so each evaluator works on arrays and never sees pandas
object columns or raw values it would have to print.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Sequence

import numpy as np
import pandas as pd

from synthgen._json import category_key, category_keys, jsonable
from synthgen.exceptions import InputError
from synthgen.schema import Schema
from synthgen.schema.times import day_of, days

Group = Literal["fidelity", "utility", "privacy"]
Direction = Literal["higher_is_better", "lower_is_better"]
ColumnKind = Literal["numeric", "categorical"]

#: Fewest holdout rows the evaluators accept (the privacy attacks split it into parts of at least 30 rows).
MIN_HOLDOUT_ROWS = 100
#: Without a declared schema, a category seen fewer times than this in the real data is never named in a report.
MIN_CATEGORY_COUNT = 10
#: Categories kept per column for distance encodings (rarer ones share one "other" slot).
MAX_ONEHOT = 50
#: The label every evaluation report (JSON and HTML) and every gate document computed from private data carries.
PRIVATE_NOTICE = ("CONTAINS STATISTICS OF THE PRIVATE TRAINING DATA, computed without differential privacy. "
                  "For the data owner only: NOT FOR RELEASE; keep it apart from the release bundle.")


class EvaluationError(InputError):
    """The tables given to an evaluator cannot be compared. The message names the column and the fix."""


@dataclass(frozen=True)
class Result:
    """One number an evaluator produced, with the same number for a real holdout beside it."""

    name: str
    group: Group
    value: float | None
    direction: Direction
    ci: tuple[float, float] | None = None
    reference: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.group not in ("fidelity", "utility", "privacy"):
            raise EvaluationError(f"Result {self.name!r}: group must be fidelity/utility/privacy; got {self.group!r}.")
        if self.direction not in ("higher_is_better", "lower_is_better"):
            raise EvaluationError(f"Result {self.name!r}: direction must be 'higher_is_better' or "
                                  f"'lower_is_better'; got {self.direction!r}.")
        object.__setattr__(self, "value", _clean(self.value))
        object.__setattr__(self, "reference", _clean(self.reference))
        if self.ci is not None:
            object.__setattr__(self, "ci", (float(self.ci[0]), float(self.ci[1])))
        object.__setattr__(self, "details", dict(self.details))

    def to_dict(self) -> dict:
        return {"name": self.name, "group": self.group, "value": self.value, "direction": self.direction,
                "ci": list(self.ci) if self.ci is not None else None, "reference": self.reference,
                "details": jsonable(self.details)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Result":
        ci = d.get("ci")
        return cls(d["name"], d["group"], d.get("value"), d["direction"], tuple(ci) if ci is not None else None,
                   d.get("reference"), d.get("details", {}))


def _clean(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def synthgen_version() -> str:
    """synthgen's version (from ``synthgen._version``, not the package root, which would be an import circle)."""
    from synthgen._version import __version__

    return __version__


# ------------------------------------------------------------------------------------------ table fingerprint
def _canonical_text(value: Any, kind: str | None) -> str:
    if kind == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower()
    if kind == "datetime" or isinstance(value, (pd.Timestamp, np.datetime64)):
        try:
            return pd.Timestamp(value).isoformat()
        except (ValueError, TypeError):
            pass
    return category_key(value)


def table_sha256(df: pd.DataFrame, schema: Schema | None = None) -> str:
    """sha256 of a table's content: its column names and, column by column, every cell in a canonical text form.

    The same table hashes the same in memory and read back from the CSV or Parquet file it was written to: cells
    are keyed like categories (``synthgen._json.category_key``: 1.0 -> "1", True -> "true"), datetimes in ISO form,
    nulls as one marker. With a schema, a declared boolean column's "True"/"False" text and a declared datetime
    column's date text (as ``pandas.read_csv`` returns them) are read as the declared kind first. Row order counts.
    """
    h = hashlib.sha256()
    h.update(json.dumps([str(c) for c in df.columns]).encode())
    for name in df.columns:
        fld = schema[name] if schema is not None and name in schema.names else None
        kind = fld.kind if fld is not None else None
        codes, uniques = pd.factorize(df[name], use_na_sentinel=True)
        keys = np.array([_canonical_text(u, kind) for u in uniques] + ["\x00null"], dtype=object)
        h.update(b"\x1e" + json.dumps(keys[codes].tolist()).encode())
    return h.hexdigest()


# --------------------------------------------------------------------------------------------- preparation
@dataclass(frozen=True)
class Column:
    """How one column is compared. ``labels`` are only ever *public* names (declared or frequent categories)."""

    name: str
    kind: ColumnKind
    categories: tuple = ()          # categorical: the code order (declared first, then seen)
    public_labels: tuple = ()       # categorical: labels safe to print (declared, or frequent when undeclared)
    declared: bool = False          # bounds / categories come from a declared schema
    lower: float | None = None      # numeric: declared bounds (public) when a schema is given
    upper: float | None = None
    is_datetime: bool = False


@dataclass(frozen=True)
class Prepared:
    columns: tuple[Column, ...]
    real: pd.DataFrame        # numeric columns as float64 (NaN = null), categorical as int codes (-1 = null)
    synthetic: pd.DataFrame
    holdout: pd.DataFrame | None
    skipped: tuple[str, ...] = ()  # declared columns null in every real row: not compared

    def has_nulls(self, name: str) -> bool:
        """Whether a numeric column is null anywhere in the prepared tables (every encoding then gets the same
        null-indicator slot, so real, synthetic and holdout rows encode to matrices of one width)."""
        frames = [f for f in (self.real, self.synthetic, self.holdout) if f is not None]
        return any(bool(np.isnan(f[name].to_numpy()).any()) for f in frames)

    @property
    def numeric(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "numeric"]

    @property
    def categorical(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "categorical"]

    def col(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _is_numeric(s: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)) or \
        pd.api.types.is_datetime64_any_dtype(s)


def _to_float(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s):
        return days(s)
    return pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()


def _keys(s: pd.Series) -> pd.Series:
    """Canonical text keys of a column's values, computed once per distinct value (nulls stay null)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    keyed = np.array(category_keys(uniques) + [None], dtype=object)
    return pd.Series(keyed[codes], index=s.index, dtype=object)


def check_columns(real: pd.DataFrame, other: pd.DataFrame, what: str) -> None:
    missing = [c for c in real.columns if c not in other.columns]
    extra = [c for c in other.columns if c not in real.columns]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing column(s) {missing}")
        if extra:
            parts.append(f"unexpected column(s) {extra}")
        raise EvaluationError(
            f"The {what} table has {' and '.join(parts)} compared with the real table. "
            f"Fix: give both tables the same columns (e.g. {what}[real.columns]), or pass the schema they share.")


def _column_names(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None,
                  schema: Schema | None) -> list[str]:
    """The columns to compare, after checking the three tables (types, emptiness, shared columns, holdout size)."""
    for df, what in ((real, "real"), (synthetic, "synthetic"), (holdout, "holdout")):
        if df is not None and not isinstance(df, pd.DataFrame):
            raise EvaluationError(f"The {what} data must be a pandas DataFrame; got {type(df).__name__}.")
    if len(real) == 0:
        raise EvaluationError("The real table is empty. Fix: pass the private training table the release came from.")
    if len(synthetic) == 0:
        raise EvaluationError("The synthetic table is empty (0 rows). Fix: sample at least one row, e.g. "
                              "generator.sample(len(real)).")
    if schema is not None:
        names = [f.name for f in schema.learnable if f.name in real.columns or f.name in synthetic.columns]
        for n in names:
            for df, what in ((real, "real"), (synthetic, "synthetic"), (holdout, "holdout")):
                if df is not None and n not in df.columns:
                    raise EvaluationError(f"Column {n!r} is declared in the schema but missing from the {what} table. "
                                          f"Fix: add it to the {what} table or remove it from the schema.")
        if not names:
            raise EvaluationError("None of the schema's columns appear in the tables. Fix: pass the matching schema.")
    else:
        check_columns(real, synthetic, "synthetic")
        if holdout is not None:
            check_columns(real, holdout, "holdout")
        names = list(real.columns)
    if holdout is not None and len(holdout) < MIN_HOLDOUT_ROWS:
        raise EvaluationError(
            f"The holdout has {len(holdout)} rows; at least {MIN_HOLDOUT_ROWS} rows are needed (the privacy attacks "
            f"split it into a reference part and non-member targets). Fix: hold out {MIN_HOLDOUT_ROWS} or more real "
            "rows that the generator never saw, or pass holdout=None to skip the holdout comparisons.")
    return names


def _numeric_column(name: str, fld: Any, tables: Mapping[str, pd.DataFrame | None],
                    enc: dict[str, dict[str, Any]]) -> Column:
    """Encode one numeric (or datetime, in days) column of every table as float64; declared bounds kept.

    With a declared field, a value that is not a number (date) is read as a null, as a fit reads it
    (``Schema.coerce``: a DP-drafted type may leave a few such values in the real table). Without one, such a value
    in a column that is numeric in the real table is an error (it says which table, never how many values)."""
    for what, df in tables.items():
        if df is None or fld is not None:
            continue
        s = df[name]
        if not _is_numeric(s) and (pd.to_numeric(s, errors="coerce").isna() & s.notna()).any():
            raise EvaluationError(
                f"Column {name!r} is numeric in the real data but holds non-numeric values in the {what} table "
                f"(dtype {s.dtype}). Fix: give it the same dtype in every table, e.g. schema.coerce(df) or "
                "pd.to_numeric, or pass the schema.")
    is_dt = (fld is not None and fld.kind == "datetime") or pd.api.types.is_datetime64_any_dtype(tables["real"][name])
    for what, df in tables.items():
        if df is not None:
            enc[what][name] = days(df[name], getattr(fld, "layout", "iso")) if is_dt else _to_float(df[name])
    lo = hi = None
    if fld is not None and fld.kind == "numeric":
        lo, hi = fld.lower, fld.upper
    elif fld is not None and fld.kind == "datetime":
        lo, hi = day_of(fld.lower_ts), day_of(fld.upper_ts)
    return Column(name, "numeric", declared=fld is not None, lower=lo, upper=hi, is_datetime=is_dt)


def _categorical_column(name: str, fld: Any, tables: Mapping[str, pd.DataFrame | None],
                        enc: dict[str, dict[str, Any]]) -> Column:
    """Encode one categorical column of every table as int codes (declared categories first, then seen ones)."""
    real = tables["real"]
    if fld is None:
        for what, df in tables.items():
            if df is not None and what != "real" and _is_numeric(real[name]) != _is_numeric(df[name]) \
                    and not pd.api.types.is_bool_dtype(df[name]):
                raise EvaluationError(
                    f"Column {name!r} has dtype {real[name].dtype} in the real table but {df[name].dtype} in "
                    f"the {what} table. Fix: give it the same dtype in every table (schema.coerce(df)).")
    keys = {what: _keys(df[name]) for what, df in tables.items() if df is not None}
    if fld is not None and fld.kind == "categorical":
        declared = category_keys(fld.categories)
    elif fld is not None and fld.kind == "boolean":
        declared = ["false", "true"]
    else:
        declared = []
    counts = keys["real"].value_counts()
    seen = [k for k in counts.index if k not in declared]
    others = sorted({k for w, s in keys.items() if w != "real" for k in s.dropna().unique()}
                    - set(declared) - set(seen))
    cats = tuple(declared + list(seen) + others)
    public = tuple(declared) if declared else tuple(k for k in counts.index if counts[k] >= MIN_CATEGORY_COUNT)
    lookup = {k: i for i, k in enumerate(cats)}
    for what, s in keys.items():
        enc[what][name] = s.map(lookup).fillna(-1).astype("int64").to_numpy()
    return Column(name, "categorical", categories=cats, public_labels=public, declared=bool(declared))


def prepare(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None,
            schema: Schema | None) -> Prepared:
    """Check the three tables and encode them column by column (see module docstring)."""
    names = _column_names(real, synthetic, holdout, schema)
    columns: list[Column] = []
    enc: dict[str, dict[str, Any]] = {"real": {}, "synthetic": {}, "holdout": {}}
    tables = {"real": real, "synthetic": synthetic, "holdout": holdout}
    skipped = _all_null_real(real, names, schema)
    names = [n for n in names if n not in skipped]
    for name in names:
        fld = schema[name] if schema is not None else None
        for what, df in tables.items():
            if schema is None and df is not None and df[name].notna().sum() == 0:
                raise EvaluationError(
                    f"Column {name!r} is entirely null in the {what} table, so it cannot be compared. "
                    "Fix: drop the column from every table (and the schema) or fill it before evaluating, or "
                    "pass the schema (a declared column null in every synthetic row is then compared).")
        if fld is not None:
            numeric = fld.kind in ("numeric", "datetime")
        else:
            numeric = _is_numeric(real[name])
        columns.append((_numeric_column if numeric else _categorical_column)(name, fld, tables, enc))
    frames = {w: (pd.DataFrame(enc[w], columns=names) if tables[w] is not None else None) for w in tables}
    return Prepared(tuple(columns), frames["real"], frames["synthetic"], frames["holdout"], skipped)


def _all_null_real(real: pd.DataFrame, names: list[str], schema: Schema | None) -> tuple[str, ...]:
    """Declared nullable columns null in every real row (structural nulls: nothing to compare, so left out)."""
    skipped = () if schema is None else tuple(
        n for n in names if getattr(schema[n], "nullable", False) and real[n].notna().sum() == 0)
    if skipped and len(skipped) == len(names):
        raise EvaluationError(f"Every compared column is null in every real row ({list(skipped)}). Fix: pass the "
                              "real table the release came from.")
    return skipped


# ------------------------------------------------------------------------------------------- encodings
def numeric_scale(prep: Prepared) -> dict[str, tuple[float, float]]:
    """Centre and spread per numeric column from the real data (used only inside distance computations)."""
    out = {}
    for n in prep.numeric:
        x = prep.real[n].to_numpy()
        lo, hi = np.nanquantile(x, [0.01, 0.99])
        spread = hi - lo
        if not spread > 0:
            spread = float(np.nanstd(x)) or 1.0
        out[n] = (float(lo), float(spread))
    return out


def encode_matrix(prep: Prepared, frame: pd.DataFrame, scale: Mapping[str, tuple[float, float]] | None = None
                  ) -> np.ndarray:
    """Encode a prepared frame as a float32 matrix for distances and classifiers.

    Numeric columns are scaled so the real 1st-99th percentile range has width 1 (nulls: a 0/1 indicator, present
    when the column is null in any prepared table, plus the column's centre); categories are one-hot scaled by
    1/sqrt(2) so two different categories are 1 apart.
    """
    scale = scale or numeric_scale(prep)
    parts: list[np.ndarray] = []
    for c in prep.columns:
        x = frame[c.name].to_numpy()
        if c.kind == "numeric":
            lo, spread = scale[c.name]
            z = (x - lo) / spread
            null = np.isnan(z)
            if prep.has_nulls(c.name):
                parts.append(null.astype("float32")[:, None])
            parts.append(np.where(null, 0.5, z).astype("float32")[:, None])
        else:
            k = min(len(c.categories), MAX_ONEHOT)
            codes = np.where((x < 0), k, np.minimum(x, k))  # nulls and rare codes get their own slots
            oh = np.zeros((len(x), k + 1), dtype="float32")
            oh[np.arange(len(x)), codes] = 1.0 / math.sqrt(2.0)
            parts.append(oh)
    return np.hstack(parts) if parts else np.zeros((len(frame), 0), dtype="float32")


def subsample(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of a random subsample of at most ``m`` out of ``n`` rows (all rows, shuffled, when n <= m)."""
    return rng.permutation(n)[: min(n, m)]


def bin_codes(prep: Prepared, frames: Sequence[pd.DataFrame], n_bins: int = 10) -> tuple[list[np.ndarray], dict]:
    """Discretise every column (numeric: ``n_bins`` equal-width bins on the real range, open-ended, null last;
    categorical: its codes, null last). Returns per-frame int matrices and the number of levels per column."""
    outs = [np.zeros((len(f), len(prep.columns)), dtype="int64") for f in frames]
    levels = {}
    for j, c in enumerate(prep.columns):
        if c.kind == "numeric":
            r = prep.real[c.name].to_numpy()
            edges = np.histogram_bin_edges(r[~np.isnan(r)], bins=n_bins)
            inner = edges[1:-1]
            for o, f in zip(outs, frames):
                x = f[c.name].to_numpy()
                codes = np.searchsorted(inner, x, side="right")
                codes[np.isnan(x)] = n_bins
                o[:, j] = codes
            levels[c.name] = n_bins + 1
        else:
            k = len(c.categories)
            for o, f in zip(outs, frames):
                x = f[c.name].to_numpy()
                o[:, j] = np.where(x < 0, k, x)
            levels[c.name] = k + 1
    return outs, levels
