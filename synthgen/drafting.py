"""Drafting a schema from data: with a DP budget (charged) or marked ``inferred`` (refused by DP generators).

What is read from the data without budget: the column dtypes and names (public metadata the data owner holds
anyway, not values). With an epsilon, everything value-dependent goes through :mod:`synthgen.privacy.mechanisms`:

- numeric bounds: a noisy histogram over public log-spaced buckets; the outermost buckets whose noisy counts clear a
  threshold give the bounds (robust to ties and outliers, unlike quantile mechanisms on discrete data); integer
  columns rounded outward; values in the dropped tails are clipped by generators;
- categories: thresholded noisy counts (a category held by one row is released with probability <= delta);
- datetime bounds: the same on days since 1970.

The kind of a column without an epsilon follows dtype and (inferred) distinct counts; with an epsilon, object/
string/category dtypes become categorical and numeric dtypes numeric (an integer column with few distinct values
is not detectable privately, so it stays numeric; declare it categorical by hand if it is).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .exceptions import DataValidationError, SchemaError
from .privacy.accountants import ZCDPBudget
from .privacy.mechanisms import dp_category_set, dp_range, noise_source
from .privacy.ledger import interrupts_deferred
from .schema import (BooleanField, CategoricalField, DatetimeField, IdentifierField, NumericField, Schema,
                     warn_inferred)



def _kind_from_dtype(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime"
    if pd.api.types.is_numeric_dtype(s):
        return "numeric"
    return "categorical"


def _is_integer(s: pd.Series) -> bool:
    if pd.api.types.is_integer_dtype(s):
        return True
    return False


def draft_schema(cls: type[Schema], df: pd.DataFrame, *, epsilon: float | None, delta: float | None, ledger: Any,
                 random_state: Any, categorical_threshold: int, identifiers: Sequence[str],
                 name: str | None) -> Schema:
    if not isinstance(df, pd.DataFrame) or df.shape[1] == 0:
        raise DataValidationError("Schema.draft needs a pandas DataFrame with at least one column.")
    if len(df) == 0:
        raise DataValidationError("Schema.draft needs a table with rows; got an empty table.")
    unknown = [c for c in identifiers if c not in df.columns]
    if unknown:
        raise SchemaError(f"identifiers {unknown} are not columns of the table.")
    if epsilon is None:
        return _draft_inferred(cls, df, categorical_threshold, identifiers, name)
    return _draft_dp(cls, df, float(epsilon), delta, ledger, random_state, identifiers, name)


# ------------------------------------------------------------------------------------------- no budget
def _draft_inferred(cls, df, categorical_threshold, identifiers, name) -> Schema:
    fields = []
    for col in df.columns:
        s = df[col]
        c = str(col)
        nullable = bool(s.isna().any())
        if c in identifiers:
            fields.append(IdentifierField(c))
            continue
        kind = _kind_from_dtype(s)
        if kind == "numeric" and _is_integer(s) and s.nunique() <= categorical_threshold:
            kind = "categorical"
        if kind == "boolean":
            fields.append(BooleanField(c, nullable=nullable))
        elif kind == "numeric":
            x = pd.to_numeric(s, errors="coerce").astype("float64")
            x = x[np.isfinite(x.to_numpy())]
            if x.empty:
                raise DataValidationError(f"Column {c!r} has no finite values; cannot draft bounds. "
                                          "Fix: declare the column by hand or drop it.")
            lo, hi = float(x.min()), float(x.max())
            if lo == hi:
                lo, hi = lo - 0.5, hi + 0.5
            fields.append(NumericField(c, lo, hi, integer=_is_integer(s), nullable=nullable,
                                       bounds_source="inferred"))
        elif kind == "datetime":
            t = pd.to_datetime(s, errors="coerce").dropna()
            if t.empty:
                raise DataValidationError(f"Column {c!r} has no valid dates; declare it by hand.")
            lo, hi = t.min(), t.max()
            if lo == hi:
                hi = lo + pd.Timedelta(days=1)
            fields.append(DatetimeField(c, lo.isoformat(), hi.isoformat(), nullable=nullable,
                                        bounds_source="inferred"))
        else:
            cats = sorted({v.item() if isinstance(v, np.generic) else v for v in s.dropna().unique()}, key=str)
            if not cats:
                raise DataValidationError(f"Column {c!r} is entirely null; declare it by hand or drop it.")
            fields.append(CategoricalField(c, tuple(cats), nullable=nullable, categories_source="inferred"))
    schema = cls(tuple(fields), name=name)
    warn_inferred(schema.inferred_fields)
    return schema


# ---------------------------------------------------------------------------------------------- with DP
def _draft_dp(cls, df, epsilon, delta, ledger, random_state, identifiers, name) -> Schema:
    from .generators.base import default_delta

    n_learn = [c for c in df.columns if str(c) not in identifiers]
    if not n_learn:
        raise SchemaError("Every column is an identifier: nothing to draft.")
    if delta is None:
        delta = default_delta(len(df))
    n_cat = sum(1 for c in n_learn if _kind_from_dtype(df[c]) == "categorical")
    # Half of delta pays for the thresholds of the category sets; the rest converts epsilon to zCDP.
    budget = ZCDPBudget(epsilon, delta, delta_reserved=delta / 2 if n_cat else 0.0)
    needs_budget = [c for c in n_learn if _kind_from_dtype(df[c]) != "boolean"]
    shares = budget.split({str(c): 1.0 for c in needs_budget}) if needs_budget else {}
    rng = noise_source(random_state)
    reservation = None
    try:
        if ledger is not None:
            with interrupts_deferred():  # no Ctrl-C between the ledger write and our record of it
                reservation = ledger.reserve(epsilon, delta, generator="schema-draft",
                                             purpose="DP schema draft: bounds and category sets")
        fields = []
        for col in df.columns:
            c = str(col)
            s = df[col]
            if c in identifiers:
                fields.append(IdentifierField(c))
                continue
            # Nullability is declared conservatively (True) rather than read from the data.
            kind = _kind_from_dtype(s)
            if kind == "boolean":
                fields.append(BooleanField(c, nullable=True))
            elif kind == "numeric":
                rho = budget.spend(c, shares[c])
                x = pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()
                lo, hi = _dp_bounds(x, rho, rng, c)
                integer = _is_integer(s)
                if integer:
                    lo, hi = math.floor(lo), math.ceil(hi)
                    if lo == hi:
                        hi = lo + 1
                fields.append(NumericField(c, lo, hi, integer=integer, nullable=True,
                                           bounds_source=f"dp:{epsilon:g}"))
            elif kind == "datetime":
                rho = budget.spend(c, shares[c])
                t = pd.to_datetime(s, errors="coerce")
                days = (t.dropna().astype("int64") / 86_400e9).to_numpy()
                lo, hi = _dp_bounds(days, rho, rng, c)
                fields.append(DatetimeField(c, pd.Timestamp(math.floor(lo), unit="D").isoformat(),
                                            pd.Timestamp(math.ceil(hi) + 1, unit="D").isoformat(), nullable=True,
                                            bounds_source=f"dp:{epsilon:g}"))
            else:
                d_each = (delta / 2) / max(n_cat, 1)
                rho = budget.spend(c, shares[c], delta=d_each)
                cats, _ = dp_category_set(list(s.dropna()), rho, d_each, rng)
                if not cats:
                    raise DataValidationError(
                        f"Column {c!r}: no category is frequent enough to be released at epsilon={epsilon:g}. "
                        "Fix: declare its categories from a public source, or spend more epsilon.")
                cats = [v.item() if isinstance(v, np.generic) else v for v in cats]
                fields.append(CategoricalField(c, tuple(cats), nullable=True,
                                               categories_source=f"dp:{epsilon:g}"))
        spend = budget.to_spend(purpose="schema draft")
        schema = cls(tuple(fields), name=name, draft_spend=spend.to_dict())
    except BaseException:
        if reservation is not None:
            with interrupts_deferred():
                reservation.cancel("schema draft failed; nothing released")
        raise
    if reservation is not None:
        reservation.commit()
    return schema


def _dp_bounds(x: np.ndarray, rho: float, rng: Any, column: str) -> tuple[float, float]:
    """DP lower/upper bounds (see :func:`synthgen.privacy.mechanisms.dp_range`)."""
    r = dp_range(x, rho, rng)
    if r is None:
        raise DataValidationError(f"Column {column!r}: too few values to release DP bounds at this epsilon. "
                                  "Fix: declare public bounds for it, or spend more epsilon.")
    lo, hi = r
    # The bucket around zero is (-1e-4, 1e-4): snap its edges to 0 (post-processing of public edges).
    return (0.0 if abs(lo) <= 1e-4 else lo), (0.0 if abs(hi) <= 1e-4 else hi)
