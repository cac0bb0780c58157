"""Declared table schemas.

A schema is **declared**, never silently inferred from private data. On disk it is a Frictionless Table Schema
(``fields[{name, type, constraints}]``) with an ``x-synthgen`` block per field; ``schemas/table.schema.json``
validates the file. In Python it is a frozen :class:`Schema` of frozen field objects, one class per column kind.

Each field records where its bounds or categories came from: ``public:<why>`` (documentation, a standard,
domain knowledge), ``dp:<epsilon>`` (bought with privacy budget by :meth:`Schema.draft`) or ``inferred``
(read off the data without noise: DP generators refuse it unless told ``allow_inferred=True``).
"""
from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field as dc_field, replace
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, Sequence, Union

import numpy as np
import pandas as pd

from .exceptions import DataValidationError, SchemaError
from .resources import load_json_schema

SCHEMA_FORMAT = "synthgen-table-schema/1"
Kind = Literal["numeric", "categorical", "boolean", "datetime", "identifier"]
Scalar = Union[str, int, float, bool]


def _check_source(name: str, source: str, what: str) -> str:
    if not isinstance(source, str) or not (
        source == "inferred" or source.startswith("public:") or source.startswith("dp:")
    ):
        raise SchemaError(
            f"Column {name!r}: {what} must be 'public:<why>', 'dp:<epsilon>' or 'inferred'; got {source!r}. "
            "Fix: say where the value comes from, e.g. 'public:census documentation'."
        )
    if source.startswith("dp:"):
        try:
            eps = float(source[3:])
        except ValueError:
            raise SchemaError(f"Column {name!r}: {what} {source!r} must be 'dp:<epsilon>' with a number.") from None
        if not eps > 0:
            raise SchemaError(f"Column {name!r}: {what} {source!r} needs a positive epsilon.")
    return source


# --------------------------------------------------------------------------------------------------- fields
@dataclass(frozen=True)
class NumericField:
    """A real or integer column with declared bounds ``lower <= x <= upper``."""

    name: str
    lower: float
    upper: float
    integer: bool = False
    nullable: bool = False
    bounds_source: str = "inferred"
    description: str = ""
    kind: Kind = dc_field(default="numeric", init=False)

    def __post_init__(self) -> None:
        for b, label in ((self.lower, "minimum"), (self.upper, "maximum")):
            if b is None or isinstance(b, bool) or not isinstance(b, (int, float, np.integer, np.floating)) \
                    or not math.isfinite(float(b)):
                raise SchemaError(
                    f"Column {self.name!r}: constraints.{label} must be a finite number; got {b!r}. "
                    "Fix: declare finite public bounds for every numeric column."
                )
        if not float(self.lower) < float(self.upper):
            raise SchemaError(
                f"Column {self.name!r}: declared minimum {self.lower} must be below maximum {self.upper}. "
                "Fix: widen the bounds, or declare a constant column as categorical with one category, or drop it."
            )
        _check_source(self.name, self.bounds_source, "bounds_source")
        object.__setattr__(self, "lower", float(self.lower))
        object.__setattr__(self, "upper", float(self.upper))

    @property
    def type(self) -> str:
        return "integer" if self.integer else "number"

    @property
    def source(self) -> str:
        return self.bounds_source


@dataclass(frozen=True)
class CategoricalField:
    """A column whose values come from a declared, finite set of categories."""

    name: str
    categories: tuple
    nullable: bool = False
    categories_source: str = "inferred"
    ordered: bool = False
    description: str = ""
    kind: Kind = dc_field(default="categorical", init=False)

    def __post_init__(self) -> None:
        cats = tuple(self.categories)
        if len(cats) == 0:
            raise SchemaError(
                f"Column {self.name!r}: a categorical column needs at least one declared category (constraints.enum)."
            )
        for c in cats:
            if isinstance(c, (float, np.floating)) and not math.isfinite(float(c)):
                raise SchemaError(f"Column {self.name!r}: categories must be finite values, not NaN/inf.")
            if not isinstance(c, (str, int, np.integer, bool, np.bool_, float, np.floating)):
                raise SchemaError(f"Column {self.name!r}: categories must be strings or numbers; got {type(c).__name__}.")
        cats = tuple(c.item() if isinstance(c, np.generic) else c for c in cats)
        if len(set(cats)) != len(cats):
            raise SchemaError(f"Column {self.name!r}: categories must be distinct; the enum lists a value twice.")
        object.__setattr__(self, "categories", cats)
        _check_source(self.name, self.categories_source, "categories_source")

    @property
    def type(self) -> str:
        if all(isinstance(c, bool) for c in self.categories):
            return "boolean"
        if all(isinstance(c, int) and not isinstance(c, bool) for c in self.categories):
            return "integer"
        if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in self.categories):
            return "number"
        return "string"

    @property
    def source(self) -> str:
        return self.categories_source


@dataclass(frozen=True)
class BooleanField:
    name: str
    nullable: bool = False
    description: str = ""
    kind: Kind = dc_field(default="boolean", init=False)

    @property
    def type(self) -> str:
        return "boolean"

    @property
    def source(self) -> str:
        return "public:boolean domain"


@dataclass(frozen=True)
class DatetimeField:
    """A date or datetime column with declared ISO-8601 bounds."""

    name: str
    lower: str
    upper: str
    nullable: bool = False
    bounds_source: str = "inferred"
    date_only: bool = False
    description: str = ""
    kind: Kind = dc_field(default="datetime", init=False)

    def __post_init__(self) -> None:
        try:
            lo, hi = pd.Timestamp(self.lower), pd.Timestamp(self.upper)
        except (ValueError, TypeError):
            raise SchemaError(
                f"Column {self.name!r}: datetime bounds must be ISO-8601 strings like '2020-01-31'."
            ) from None
        if lo is pd.NaT or hi is pd.NaT or not lo < hi:
            raise SchemaError(f"Column {self.name!r}: declared minimum must be before the maximum.")
        object.__setattr__(self, "lower", lo.isoformat())
        object.__setattr__(self, "upper", hi.isoformat())
        _check_source(self.name, self.bounds_source, "bounds_source")

    @property
    def type(self) -> str:
        return "date" if self.date_only else "datetime"

    @property
    def source(self) -> str:
        return self.bounds_source

    @property
    def lower_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.lower)

    @property
    def upper_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.upper)


@dataclass(frozen=True)
class IdentifierField:
    """A direct identifier (name, id, email...). Never learned: dropped from releases or regenerated."""

    name: str
    synthesize: Literal["drop", "regenerate"] = "drop"
    description: str = ""
    kind: Kind = dc_field(default="identifier", init=False)

    def __post_init__(self) -> None:
        if self.synthesize not in ("drop", "regenerate"):
            raise SchemaError(
                f"Column {self.name!r}: x-synthgen.synthesize must be 'drop' or 'regenerate'; got {self.synthesize!r}."
            )

    @property
    def nullable(self) -> bool:
        return True

    @property
    def type(self) -> str:
        return "string"

    @property
    def source(self) -> str:
        return "public:identifier (not learned)"


Field = Union[NumericField, CategoricalField, BooleanField, DatetimeField, IdentifierField]


# ----------------------------------------------------------------------------------------------- validation
@dataclass(frozen=True)
class Violation:
    """One way a table breaks its schema. Holds counts and public schema values only, never data values."""

    column: str | None
    code: str
    message: str
    count: int = 0

    def __str__(self) -> str:
        where = f"Column {self.column!r}" if self.column is not None else "Table"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ValidationReport:
    violations: tuple[Violation, ...]
    n_rows: int

    @property
    def ok(self) -> bool:
        return not self.violations

    def codes(self) -> set[str]:
        return {v.code for v in self.violations}

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "n_rows": self.n_rows,
            "violations": [
                {"column": v.column, "code": v.code, "count": v.count, "message": v.message} for v in self.violations
            ],
        }

    def raise_if_invalid(self, what: str = "data") -> None:
        if self.violations:
            lines = "\n  - ".join(str(v) for v in self.violations)
            raise DataValidationError(
                f"The {what} does not conform to the schema ({len(self.violations)} problem(s)):\n  - {lines}",
                self.violations,
            )


def _numeric_values(s: pd.Series) -> tuple[pd.Series, int]:
    """Coerce to float; return (values, number of non-null entries that were not numbers)."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64"), 0
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64"), 0
    coerced = pd.to_numeric(s, errors="coerce")
    bad = int((coerced.isna() & s.notna()).sum())
    return coerced.astype("float64"), bad


_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}


def _boolean_values(s: pd.Series) -> tuple[pd.Series, int]:
    if pd.api.types.is_bool_dtype(s):
        return s.astype("boolean"), 0
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    bad = 0
    if pd.api.types.is_numeric_dtype(s):
        ok = s.isin([0, 1]) | s.isna()
        bad = int((~ok).sum())
        out[s == 1] = True
        out[s == 0] = False
        return out, bad
    low = s.astype("string").str.strip().str.lower()
    out[low.isin(_TRUE)] = True
    out[low.isin(_FALSE)] = False
    bad = int((low.notna() & ~low.isin(_TRUE | _FALSE)).sum())
    return out, bad


def _category_key(values: Iterable[Any]) -> list[str]:
    """Compare categories by a canonical text form, so 1 (int) from a CSV matches a declared 1 or '1'."""
    out = []
    for v in values:
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            v = int(v)
        if isinstance(v, (bool, np.bool_)):
            v = str(bool(v)).lower()
        out.append(str(v))
    return out


# ---------------------------------------------------------------------------------------------------- schema
@dataclass(frozen=True)
class RowBounds:
    """Declared bounds on the number of rows (public), used e.g. to pick a default delta below 1/n."""

    min: int | None = None
    max: int | None = None
    source: str = "public:declared"

    def __post_init__(self) -> None:
        if self.max is not None and self.max < 1:
            raise SchemaError("x-synthgen.rows.max must be a positive integer.")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise SchemaError("x-synthgen.rows.min must not exceed x-synthgen.rows.max.")


@dataclass(frozen=True)
class Schema:
    """A frozen, declared table schema. Build it in code, from JSON (:meth:`load`) or draft it (:meth:`draft`)."""

    fields: tuple[Field, ...]
    name: str | None = None
    rows: RowBounds | None = None
    description: str = ""
    draft_spend: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        fields = tuple(self.fields)
        if not fields:
            raise SchemaError("A schema needs at least one field.")
        names = [f.name for f in fields]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise SchemaError(f"Column name(s) declared twice: {dup}. Fix: give every field a unique name.")
        for f in fields:
            if not isinstance(f.name, str) or not f.name:
                raise SchemaError("Every field needs a non-empty string name.")
        object.__setattr__(self, "fields", fields)

    # ----- access
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def learnable(self) -> tuple[Field, ...]:
        """Fields a generator models (everything but identifiers)."""
        return tuple(f for f in self.fields if f.kind != "identifier")

    @property
    def release_names(self) -> tuple[str, ...]:
        """Columns a synthetic release carries (identifiers marked ``drop`` are left out)."""
        return tuple(
            f.name for f in self.fields if not (f.kind == "identifier" and f.synthesize == "drop")
        )

    def __getitem__(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    @property
    def inferred_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.source == "inferred")

    @property
    def is_inferred(self) -> bool:
        return bool(self.inferred_fields)

    def with_fields(self, fields: Sequence[Field]) -> "Schema":
        return replace(self, fields=tuple(fields))

    # ----- serialisation
    def to_dict(self) -> dict:
        out: dict[str, Any] = {}
        if self.name:
            out["name"] = self.name
        if self.description:
            out["description"] = self.description
        out["fields"] = [_field_to_dict(f) for f in self.fields]
        top: dict[str, Any] = {"format": SCHEMA_FORMAT}
        if self.rows is not None:
            top["rows"] = {k: v for k, v in
                           (("min", self.rows.min), ("max", self.rows.max), ("source", self.rows.source))
                           if v is not None}
        if self.draft_spend is not None:
            top["draft_spend"] = dict(self.draft_spend)
        out["x-synthgen"] = top
        return out

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Schema":
        validate_schema_document(d)
        fields = tuple(_field_from_dict(fd) for fd in d["fields"])
        top = d.get("x-synthgen", {}) or {}
        rows = None
        if "rows" in top:
            r = top["rows"]
            rows = RowBounds(min=r.get("min"), max=r.get("max"), source=r.get("source", "public:declared"))
        return cls(fields=fields, name=d.get("name"), rows=rows, description=d.get("description", ""),
                   draft_spend=top.get("draft_spend"))

    @classmethod
    def from_json(cls, text: str) -> "Schema":
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaError(f"Schema is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}.") from None
        return cls.from_dict(d)

    @classmethod
    def load(cls, path: str | Path) -> "Schema":
        path = Path(path)
        if not path.exists():
            raise SchemaError(f"Schema file {path} does not exist; check the path or draft one with "
                              "`synthgen schema draft`.")
        return cls.from_json(path.read_text(encoding="utf-8"))

    def save(self, path: str | Path) -> None:
        from .io import atomic_write_text

        atomic_write_text(path, self.to_json() + "\n")

    # ----- validation
    def validate(self, df: pd.DataFrame, *, allow_extra: bool = False, release: bool = False) -> ValidationReport:
        """Report every way ``df`` breaks this schema; nothing is changed.

        ``release=True`` validates a synthetic release: identifiers marked ``drop`` must be absent.
        """
        if not isinstance(df, pd.DataFrame):
            raise DataValidationError(f"Expected a pandas DataFrame; got {type(df).__name__}.")
        v: list[Violation] = []
        n = len(df)
        if n == 0:
            v.append(Violation(None, "empty_table", "the table has no rows. Fix: pass a table with data.", 0))
        expected = self.release_names if release else self.names
        present = set(map(str, df.columns))
        for name in expected:
            if name not in present:
                v.append(Violation(name, "missing_column",
                                   "declared in the schema but missing from the table. "
                                   "Fix: add the column or remove it from the schema."))
        if not allow_extra:
            for col in df.columns:
                if str(col) not in expected:
                    v.append(Violation(str(col), "extra_column",
                                       "present in the table but not declared in the schema. "
                                       "Fix: declare it in the schema or drop it before fitting."))
        if len(set(map(str, df.columns))) != df.shape[1]:
            v.append(Violation(None, "duplicate_columns", "the table has duplicate column names."))
        for f in self.fields:
            if f.name in present and f.name in expected and n > 0:
                col = df[f.name]
                if isinstance(col, pd.DataFrame):
                    continue
                v.extend(_validate_column(f, col))
        return ValidationReport(tuple(v), n)

    def check(self, df: pd.DataFrame, *, what: str = "data", **kw: Any) -> None:
        """Raise :class:`DataValidationError` listing every violation."""
        self.validate(df, **kw).raise_if_invalid(what)

    def coerce(self, df: pd.DataFrame) -> pd.DataFrame:
        """Return a copy with every declared column in its canonical dtype (floats, strings, booleans, datetimes).

        Call after :meth:`check`; values that cannot be converted become nulls.
        """
        out = {}
        for f in self.fields:
            if f.name not in df.columns:
                continue
            s = df[f.name]
            if f.kind == "numeric":
                out[f.name] = _numeric_values(s)[0]
            elif f.kind == "boolean":
                out[f.name] = _boolean_values(s)[0]
            elif f.kind == "datetime":
                out[f.name] = pd.to_datetime(s, errors="coerce")
            elif f.kind == "categorical":
                keys = _category_key(f.categories)
                lookup = dict(zip(keys, f.categories))
                mask = s.notna().to_numpy()
                vals = np.full(len(s), None, dtype=object)
                codes, uniq = pd.factorize(s[mask])  # map each distinct value once, not each row
                mapped = np.array([lookup.get(k) for k in _category_key(uniq)] + [None], dtype=object)
                vals[mask] = mapped[codes]
                out[f.name] = pd.Series(vals, index=s.index, dtype=object)
            else:
                out[f.name] = s
        return pd.DataFrame(out, index=df.index)

    def conform(self, df: pd.DataFrame) -> pd.DataFrame:
        """Post-process generated data into the release form: column order, dtypes, bounds (public only)."""
        cols = {}
        for f in self.fields:
            if f.name not in df.columns:
                continue
            s = df[f.name]
            if f.kind == "numeric":
                x = pd.to_numeric(s, errors="coerce").astype("float64").clip(f.lower, f.upper)
                if f.integer:
                    x = x.round()
                    cols[f.name] = x.astype("Int64") if (f.nullable or x.isna().any()) else x.astype("int64")
                else:
                    cols[f.name] = x
            elif f.kind == "boolean":
                b = s.astype("boolean")
                cols[f.name] = b if (f.nullable or b.isna().any()) else b.astype(bool)
            elif f.kind == "datetime":
                t = pd.to_datetime(s, errors="coerce").clip(f.lower_ts, f.upper_ts)
                cols[f.name] = t.dt.normalize() if f.date_only else t
            elif f.kind == "categorical":
                if f.type == "integer" and not s.isna().any():
                    cols[f.name] = s.astype("int64")
                elif f.type == "string":
                    cols[f.name] = s.astype(object)
                else:
                    cols[f.name] = s
            else:
                cols[f.name] = s
        return pd.DataFrame(cols, index=df.index)[[c for c in self.release_names if c in cols]]

    # ----- drafting
    @classmethod
    def draft(
        cls,
        df: pd.DataFrame,
        epsilon: float | None = None,
        delta: float | None = None,
        *,
        ledger: Any = None,
        random_state: Any = None,
        categorical_threshold: int = 20,
        identifiers: Sequence[str] = (),
        name: str | None = None,
    ) -> "Schema":
        """Propose a schema from data.

        With ``epsilon``: bounds from DP quantiles and categories from thresholded noisy counts, the spend charged
        to ``ledger`` (if given) and recorded in the schema; the data is only touched through the mechanisms in
        :mod:`synthgen.privacy`. Without: every field is marked ``inferred``, a warning is issued, and DP
        generators refuse the schema unless called with ``allow_inferred=True``.
        The choice of column *kind* uses dtypes (public metadata) and, without epsilon, distinct counts.
        """
        from .drafting import draft_schema

        return draft_schema(cls, df, epsilon=epsilon, delta=delta, ledger=ledger, random_state=random_state,
                            categorical_threshold=categorical_threshold, identifiers=identifiers, name=name)


def _validate_column(f: Field, col: pd.Series) -> list[Violation]:
    v: list[Violation] = []
    name = f.name
    if f.kind == "identifier":
        return v
    nulls = int(col.isna().sum())
    if f.kind == "numeric":
        vals, bad = _numeric_values(col)
        if bad:
            v.append(Violation(name, "wrong_type", f"{bad} value(s) are not numbers (declared type {f.type}). "
                               "Fix: clean the column or declare it categorical.", bad))
        nonfinite = int(np.isinf(vals.to_numpy()).sum())
        if nonfinite:
            v.append(Violation(name, "non_finite", f"{nonfinite} value(s) are +/-inf. "
                               "Fix: replace infinities with nulls (and declare nullable) or with finite values.",
                               nonfinite))
        finite = vals[np.isfinite(vals.to_numpy())]
        below = int((finite < f.lower).sum())
        above = int((finite > f.upper).sum())
        if below:
            v.append(Violation(name, "below_minimum", f"{below} value(s) below the declared minimum {f.lower:g}. "
                               "Fix: widen constraints.minimum or clip/clean the data.", below))
        if above:
            v.append(Violation(name, "above_maximum", f"{above} value(s) above the declared maximum {f.upper:g}. "
                               "Fix: widen constraints.maximum or clip/clean the data.", above))
        if f.integer:
            frac = int((np.abs(finite - np.round(finite)) > 1e-9).sum())
            if frac:
                v.append(Violation(name, "not_integer", f"{frac} value(s) are not whole numbers but the column is "
                                   "declared integer. Fix: declare x-synthgen.integer=false or round the data.", frac))
    elif f.kind == "boolean":
        _, bad = _boolean_values(col)
        if bad:
            v.append(Violation(name, "wrong_type", f"{bad} value(s) are not booleans (true/false, 1/0). "
                               "Fix: clean the column or declare it categorical.", bad))
    elif f.kind == "datetime":
        t = pd.to_datetime(col, errors="coerce")
        bad = int((t.isna() & col.notna()).sum())
        if bad:
            v.append(Violation(name, "wrong_type", f"{bad} value(s) are not dates/datetimes. "
                               "Fix: use ISO-8601 text or a datetime dtype.", bad))
        below = int((t < f.lower_ts).sum())
        above = int((t > f.upper_ts).sum())
        if below:
            v.append(Violation(name, "below_minimum", f"{below} value(s) before the declared minimum {f.lower}. "
                               "Fix: widen the bounds or clean the data.", below))
        if above:
            v.append(Violation(name, "above_maximum", f"{above} value(s) after the declared maximum {f.upper}. "
                               "Fix: widen the bounds or clean the data.", above))
    elif f.kind == "categorical":
        mask = col.notna()
        known = set(_category_key(f.categories))
        codes, uniq = pd.factorize(col[mask])  # check each distinct value once, not each row
        bad = np.array([k not in known for k in _category_key(uniq)], dtype=bool)
        unknown = int(np.bincount(codes, minlength=len(uniq))[bad].sum()) if len(uniq) else 0
        if unknown:
            v.append(Violation(name, "unknown_category",
                               f"{unknown} value(s) are not among the {len(f.categories)} declared categories. "
                               "Fix: add the missing categories to constraints.enum (from a public source or "
                               "`synthgen schema draft --epsilon`), or map them to a declared one.", unknown))
    if nulls and not f.nullable:
        v.append(Violation(name, "null_not_allowed", f"{nulls} null value(s) but the column is not nullable. "
                           "Fix: declare x-synthgen.nullable=true (constraints.required=false) or impute first.",
                           nulls))
    return v


# ------------------------------------------------------------------------------------------ JSON conversion
def _field_to_dict(f: Field) -> dict:
    d: dict[str, Any] = {"name": f.name, "type": f.type}
    if getattr(f, "description", ""):
        d["description"] = f.description
    cons: dict[str, Any] = {"required": not f.nullable}
    x: dict[str, Any] = {"kind": f.kind, "nullable": f.nullable}
    if f.kind == "numeric":
        lo, hi = f.lower, f.upper
        cons["minimum"] = int(lo) if f.integer and float(lo).is_integer() else lo
        cons["maximum"] = int(hi) if f.integer and float(hi).is_integer() else hi
        x.update(integer=f.integer, bounds_source=f.bounds_source)
    elif f.kind == "categorical":
        cons["enum"] = list(f.categories)
        x.update(categories_source=f.categories_source, ordered=f.ordered)
    elif f.kind == "datetime":
        cons["minimum"], cons["maximum"] = f.lower, f.upper
        x.update(bounds_source=f.bounds_source)
    elif f.kind == "identifier":
        cons = {"required": False}
        x = {"kind": "identifier", "synthesize": f.synthesize}
    d["constraints"] = cons
    d["x-synthgen"] = x
    return d


def _field_from_dict(d: Mapping[str, Any]) -> Field:
    name = d["name"]
    x = d.get("x-synthgen", {})
    cons = d.get("constraints", {}) or {}
    kind = x["kind"]
    nullable = x.get("nullable")
    if "required" in cons and nullable is not None and bool(cons["required"]) == bool(nullable):
        raise SchemaError(
            f"Column {name!r}: constraints.required={cons['required']} contradicts x-synthgen.nullable={nullable}. "
            "Fix: a nullable column has required=false."
        )
    if nullable is None:
        nullable = not cons.get("required", True)
    desc = d.get("description", "")
    if kind == "numeric":
        if "minimum" not in cons or "maximum" not in cons:
            raise SchemaError(f"Column {name!r}: numeric columns need constraints.minimum and constraints.maximum.")
        integer = x.get("integer", d.get("type") == "integer")
        return NumericField(name, cons["minimum"], cons["maximum"], integer=bool(integer), nullable=bool(nullable),
                            bounds_source=x.get("bounds_source", "inferred"), description=desc)
    if kind == "categorical":
        if "enum" not in cons:
            raise SchemaError(f"Column {name!r}: categorical columns need constraints.enum.")
        return CategoricalField(name, tuple(cons["enum"]), nullable=bool(nullable),
                                categories_source=x.get("categories_source", "inferred"),
                                ordered=bool(x.get("ordered", False)), description=desc)
    if kind == "boolean":
        return BooleanField(name, nullable=bool(nullable), description=desc)
    if kind == "datetime":
        if "minimum" not in cons or "maximum" not in cons:
            raise SchemaError(f"Column {name!r}: datetime columns need constraints.minimum and constraints.maximum.")
        return DatetimeField(name, cons["minimum"], cons["maximum"], nullable=bool(nullable),
                             bounds_source=x.get("bounds_source", "inferred"), date_only=d.get("type") == "date",
                             description=desc)
    if kind == "identifier":
        return IdentifierField(name, synthesize=x.get("synthesize", "drop"), description=desc)
    raise SchemaError(f"Column {name!r}: unknown x-synthgen.kind {kind!r}.")


def validate_schema_document(d: Any) -> None:
    """Validate a schema document against ``schemas/table.schema.json``; raise :class:`SchemaError` listing errors."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_json_schema("table"))
    errors = sorted(validator.iter_errors(d), key=lambda e: list(e.path))
    if errors:
        msgs = []
        for e in errors[:10]:
            where = "/".join(str(p) for p in e.path) or "(top level)"
            msgs.append(f"{where}: {e.message}")
        raise SchemaError("Schema document is invalid:\n  - " + "\n  - ".join(msgs))


def warn_inferred(names: Sequence[str]) -> None:
    warnings.warn(
        f"Schema fields {list(names)} were inferred from the data without noise: their bounds/categories reveal "
        "private values. Review them and replace the source with 'public:<why>', or draft with an epsilon. "
        "DP generators refuse this schema unless allow_inferred=True.",
        UserWarning,
        stacklevel=3,
    )
