"""The values step of a DP schema draft (:mod:`synthgen.schema.draft`, privacy argument item 2): bounds of numeric
and datetime columns (:func:`synthgen.schema.bounds.dp_bounds`) and category sets of categorical ones
(:func:`~synthgen.privacy.mechanisms.dp_category_set`), from the budget left after the kinds, split equally.

A drafted categorical column is always nullable. The threshold of :func:`dp_category_set` keeps a category held
by few rows out of the draft (one held by one row with probability at most delta), so any table may hold rows
whose category the draft does not list; a fit puts such a value in the column's null cell (a public row-wise rule
of :func:`synthgen.generators.base.conform_rows`) instead of dropping the row, and the null cell must therefore
be in the column's domain: the synthetic data's null share in that column is the generator's DP estimate of
"missing or too rare to list". This reads nothing more (the nullability is a fixed rule, not a statistic), so the
draft's cost is unchanged. The field's description says so, and the draft's spend lists the columns that are
nullable only for this reason (``nullable_for_unseen``: their noisy null count alone would have drafted them
non-nullable), so that :func:`synthgen.generators.recommend.recommend` does not read them as structural nulls.

A column whose noisy statistics release nothing at this epsilon (no bucket clears the threshold: too few values;
no category frequent enough; too few non-null values to tell its kind) does not fail the whole draft after its
budget was charged: it is drafted as a dropped column (an identifier that is neither learned nor released), and a
warning names it and the fix. The choice follows only from noisy outputs (post-processing).
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .._json import category_key
from ..exceptions import DataValidationError
from ..privacy.mechanisms import dp_category_set
from .bounds import dp_bounds
from .fields import BooleanField, CategoricalField, DatetimeField, Field, IdentifierField, NumericField
from .times import days, to_timestamps

#: The decided "kind" of a column whose kind could not be drafted (drafted as a dropped identifier).
DROPPED = "dropped"
#: Descriptions of a drafted categorical field (nullable for the categories the draft could not see).
UNSEEN_IN_NULL = ("DP draft: nullable only to hold categories too rare for the draft to release; the null cell "
                  "stands for 'a category not listed' (the draft saw no nulls).")
UNSEEN_IN_NULL_TOO = ("DP draft: the null cell holds nulls and the categories too rare for the draft to release "
                      "('missing or not listed').")


def release_values(df: pd.DataFrame, decided: Mapping[str, tuple[str, bool]], budget: Any, noise: Any,
                   epsilon: float, delta: float, layouts: Mapping[str, str]
                   ) -> tuple[dict[str, Field], dict[str, float]]:
    """One field per decided column: bounds and category sets bought from the rest of the budget; ``layouts``:
    each datetime column's (decided) layout. Also, per drafted categorical column, the sum of its listed
    categories' noisy counts (a DP output: see :func:`listed_shares`)."""
    need = [c for c, (k, _) in decided.items() if k not in ("boolean", DROPPED)]
    n_cat = sum(1 for c in need if decided[c][0] == "categorical")
    rho_each = (budget.rho - budget.spent_rho) / len(need) if need else 0.0
    src = f"dp:{epsilon:g}"
    out: dict[str, Field] = {}
    listed: dict[str, float] = {}
    for c, (kind, nullable) in decided.items():
        if kind == "boolean":
            out[c] = BooleanField(c, nullable=nullable)
            continue
        field = None
        if kind in ("numeric", "integer"):
            field = _numeric(df[c], c, kind, nullable, budget.spend(c, rho_each), noise, src)
        elif kind == "datetime":
            field = _datetime(df[c], c, nullable, budget.spend(c, rho_each), noise, src, layouts.get(c, "iso"))
        elif kind == "categorical":
            d_each = (delta / 2) / n_cat
            field, listed[c] = _categorical(df[c], c, nullable, budget.spend(c, rho_each, delta=d_each), d_each,
                                            noise, src)
        out[c] = field if field is not None else IdentifierField(c, synthesize="drop")
    return out, listed


def _numeric(s: pd.Series, c: str, kind: str, nullable: bool, rho: float, noise: Any, src: str) -> Field | None:
    r = dp_bounds(pd.to_numeric(s, errors="coerce").astype("float64").to_numpy(), rho, noise)
    if r is None:
        return None
    lo, hi = r
    if kind == "integer":
        lo, hi = math.floor(lo), math.ceil(hi)  # lo == hi (only the zero bucket kept): a constant column
    return NumericField(c, lo, hi, integer=kind == "integer", nullable=nullable, bounds_source=src)


def _datetime(s: pd.Series, c: str, nullable: bool, rho: float, noise: Any, src: str,
              layout: str) -> Field | None:
    x = days(s, layout)
    r = dp_bounds(x[~np.isnan(x)], rho, noise, dates=True)
    if r is None:
        return None
    return DatetimeField(c, pd.Timestamp(math.floor(r[0]), unit="D").isoformat(),
                         pd.Timestamp(math.ceil(r[1]) + 1, unit="D").isoformat(), nullable=nullable,
                         bounds_source=src, layout=layout)


def _categorical(s: pd.Series, c: str, nullable: bool, rho: float, delta: float, noise: Any,
                 src: str) -> tuple[Field | None, float]:
    """Categories from thresholded noisy counts; always nullable (see the module docstring: the null cell holds
    the rows whose category the threshold could not release). ``nullable``: what the null count alone said."""
    cats, counts = dp_category_set(list(s.dropna()), rho, delta, noise)
    if not cats:
        return None, 0.0
    cats = [v.item() if isinstance(v, np.generic) else v for v in cats]
    return CategoricalField(c, tuple(cats), nullable=True, categories_source=src,
                            description=UNSEEN_IN_NULL if not nullable else UNSEEN_IN_NULL_TOO), float(counts.sum())


def exact_field(c: str, s: pd.Series, kind: str, nullable: bool, layout: str) -> Field:
    """The field of a draft without budget (``inferred``): exact bounds and categories, read off the column."""
    if kind == "boolean":
        return BooleanField(c, nullable=nullable)
    if kind in ("numeric", "integer"):
        x = pd.to_numeric(s, errors="coerce").astype("float64")
        x = x[np.isfinite(x.to_numpy())]
        if x.empty:
            raise DataValidationError(f"Column {c!r} has no finite values; cannot draft bounds. "
                                      "Fix: declare the column by hand or drop it.")
        lo, hi = float(x.min()), float(x.max())  # lo == hi: a constant column (legal)
        return NumericField(c, lo, hi, integer=kind == "integer", nullable=nullable, bounds_source="inferred")
    if kind == "datetime":
        t = to_timestamps(s, layout).dropna()
        if t.empty:
            raise DataValidationError(f"Column {c!r} has no valid dates; declare it by hand.")
        lo, hi = t.min(), t.max()  # lo == hi: a constant column (legal)
        return DatetimeField(c, lo.isoformat(), hi.isoformat(), nullable=nullable, bounds_source="inferred",
                             layout=layout)
    # categories as the values read, in their canonical text where not text or numbers (Timedelta, Period: as the
    # DP draft's category sets, and as validation and coerce read them)
    cats = sorted({_category(v) for v in s.dropna().unique()}, key=str)
    if not cats:
        raise DataValidationError(f"Column {c!r} is entirely null; declare it by hand or drop it.")
    return CategoricalField(c, tuple(cats), nullable=nullable, categories_source="inferred")


def _category(v: Any) -> Any:
    v = v.item() if isinstance(v, np.generic) else v
    return v if isinstance(v, (str, bool, int, float)) else category_key(v)


def warn_inferred(names: Sequence[str]) -> None:
    warnings.warn(
        f"Schema fields {list(names)} were inferred from the data without noise: their bounds/categories reveal "
        "private values. Review them and replace the source with 'public:<why>', or draft with an epsilon. "
        "DP generators refuse this schema unless allow_inferred=True.",
        UserWarning,
        stacklevel=5,
    )


#: A drafted categorical column whose listed categories hold less than this share of its rows gets a warning.
LISTED_WARN_SHARE = 0.8


def listed_shares(listed: Mapping[str, float], noisy_classes: Mapping[str, Mapping[str, int]]) -> dict[str, float]:
    """Per drafted categorical column, the share of its non-null rows whose category the draft listed: the listed
    categories' noisy counts over the column's noisy non-null class counts (post-processing of DP outputs: free).
    The rest fall in the null cell ("missing or not listed")."""
    out = {}
    for c, kept in listed.items():
        mass = sum(v for k, v in noisy_classes[c].items() if k != "null")
        out[c] = round(min(1.0, max(0.0, kept / mass)), 3) if mass > 0 else 0.0
    return out


def warn_unlisted(shares: Mapping[str, float]) -> None:
    low = {c: v for c, v in shares.items() if v < LISTED_WARN_SHARE}
    if low:
        warnings.warn(
            "Schema draft: the drafted categories hold only about "
            f"{', '.join(f'{100 * v:.0f} % of column {c!r}' for c, v in sorted(low.items()))} (noisy estimates); "
            "a fit puts the others in the null cell ('missing or not listed'). Categories held by few rows cannot "
            "be released at this epsilon. Fix: declare these columns' categories from a public source (a codebook: "
            "`synthgen schema draft --partial declared.json`), or spend more epsilon.", UserWarning, stacklevel=4)


def warn_dropped(names: Sequence[str], epsilon: float, every: bool = False,
                 needed: Mapping[str, int] | None = None) -> None:
    """``every``: no drafted column released anything; ``needed``: :func:`synthgen.schema.draft.rows_needed`."""
    needed = needed or {}
    sizes = " and ".join(f"{what} about {n:,} rows" for what, n in (("a column's kind needs", needed.get("kind")),
                                                                      ("a category", needed.get("category"))) if n)
    head = (f"Schema draft: no column released anything at epsilon={epsilon:g}: the table is too small for a DP "
            f"draft at this epsilon and column count" if every else
            f"Schema draft: columns {list(names)} released nothing at epsilon={epsilon:g} (too few values, or no "
            "category frequent enough)")
    warnings.warn(
        f"{head}{f' (here {sizes})' if sizes else ''}; they are drafted as dropped columns (not learned, not "
        "released). Fix: declare them from a public source (`synthgen schema draft --partial declared.json`, or "
        "--kind), or spend more epsilon.",
        UserWarning, stacklevel=4)
