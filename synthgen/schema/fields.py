"""Field value objects: one frozen class per column kind, plus the declared row-count bounds.

Everything here is **public** by construction: a field holds what the data owner declared (or bought with DP
budget, or marked ``inferred``), never a statistic computed here. Each bound or category set records its
provenance: ``public:<why>``, ``dp:<epsilon>`` (bought by :meth:`Schema.draft`) or ``inferred`` (read off the
data without noise: DP generators refuse it unless told ``allow_inferred=True``, and such a fit has no DP
guarantee).

A new column kind is one new class here (name, ``kind``, ``type``, ``source``), its entry in :data:`FIELD_KINDS`,
and its converters in :mod:`synthgen.schema.validation` and :mod:`synthgen.schema.document`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field as dc_field
from typing import Literal, Union

import numpy as np
import pandas as pd

from ..exceptions import SchemaError
from .times import LAYOUTS, to_timestamp

Kind = Literal["numeric", "categorical", "boolean", "datetime", "identifier"]
Scalar = Union[str, int, float, bool]


def check_source(name: str, source: str, what: str) -> str:
    """Validate a provenance string (``public:<why>``, ``dp:<epsilon>`` or ``inferred``)."""
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


@dataclass(frozen=True)
class NumericField:
    """A real or integer column with declared bounds ``lower <= x <= upper`` (``lower == upper``: a constant
    column, legal; every row holds that value and generators reproduce it without learning from it)."""

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
        if not float(self.lower) <= float(self.upper):
            raise SchemaError(
                f"Column {self.name!r}: declared minimum {self.lower} must not be above maximum {self.upper}. "
                "Fix: swap or widen the bounds (minimum == maximum declares a constant column)."
            )
        if self.integer and math.ceil(float(self.lower)) > math.floor(float(self.upper)):
            raise SchemaError(
                f"Column {self.name!r}: declared integer, but no whole number lies in [{self.lower}, {self.upper}]. "
                "Fix: widen the bounds or declare x-synthgen.integer=false.")
        check_source(self.name, self.bounds_source, "bounds_source")
        object.__setattr__(self, "lower", float(self.lower))
        object.__setattr__(self, "upper", float(self.upper))

    @property
    def type(self) -> str:
        return "integer" if self.integer else "number"

    @property
    def constant(self) -> bool:
        """Whether the declared bounds leave one value only (a constant column)."""
        return self.lower == self.upper

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
                raise SchemaError(
                    f"Column {self.name!r}: categories must be strings or numbers; got {type(c).__name__}.")
        cats = tuple(c.item() if isinstance(c, np.generic) else c for c in cats)
        if len(set(cats)) != len(cats):
            raise SchemaError(f"Column {self.name!r}: categories must be distinct; the enum lists a value twice.")
        object.__setattr__(self, "categories", cats)
        check_source(self.name, self.categories_source, "categories_source")

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
    """A true/false column (its domain is public by definition)."""

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
    """A date or datetime column with declared ISO-8601 bounds (``lower == upper``: a constant column, legal)."""

    name: str
    lower: str
    upper: str
    nullable: bool = False
    bounds_source: str = "inferred"
    date_only: bool = False
    description: str = ""
    #: how year-last text dates (01/02/2017) are read: "iso" (default), "month-first" or "day-first"
    layout: str = "iso"
    kind: Kind = dc_field(default="datetime", init=False)

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise SchemaError(f"Column {self.name!r}: layout {self.layout!r} is not one of {list(LAYOUTS)}. Fix: "
                              "'month-first' for 12/31/2017, 'day-first' for 31/12/2017, 'iso' for 2017-12-31.")
        try:
            lo, hi = to_timestamp(self.lower), to_timestamp(self.upper)
        except (ValueError, TypeError):
            raise SchemaError(
                f"Column {self.name!r}: datetime bounds must be ISO-8601 strings like '2020-01-31'."
            ) from None
        if lo is pd.NaT or hi is pd.NaT or not lo <= hi:
            raise SchemaError(f"Column {self.name!r}: declared minimum must not be after the maximum (minimum == "
                              "maximum declares a constant column).")
        object.__setattr__(self, "lower", lo.isoformat())
        object.__setattr__(self, "upper", hi.isoformat())
        check_source(self.name, self.bounds_source, "bounds_source")

    @property
    def type(self) -> str:
        return "date" if self.date_only else "datetime"

    @property
    def source(self) -> str:
        return self.bounds_source

    @property
    def constant(self) -> bool:
        """Whether the declared bounds leave one instant only (a constant column)."""
        return self.lower == self.upper

    @property
    def lower_ts(self) -> pd.Timestamp:
        return to_timestamp(self.lower)

    @property
    def upper_ts(self) -> pd.Timestamp:
        return to_timestamp(self.upper)


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

#: x-synthgen.kind -> field class (the one list of column kinds).
FIELD_KINDS: dict[str, type] = {
    "numeric": NumericField, "categorical": CategoricalField, "boolean": BooleanField,
    "datetime": DatetimeField, "identifier": IdentifierField,
}


@dataclass(frozen=True)
class RowBounds:
    """Declared bounds on the number of rows (public): the default delta and every n-dependent quantity use these,
    never the private row count."""

    min: int | None = None
    max: int | None = None
    source: str = "public:declared"

    def __post_init__(self) -> None:
        for label, v in (("min", self.min), ("max", self.max)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer))):
                raise SchemaError(f"x-synthgen.rows.{label} must be an integer; got {v!r}.")
        if self.min is not None and self.min < 0:
            raise SchemaError("x-synthgen.rows.min must not be negative.")
        if self.max is not None and self.max < 1:
            raise SchemaError("x-synthgen.rows.max must be a positive integer.")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise SchemaError("x-synthgen.rows.min must not exceed x-synthgen.rows.max.")
