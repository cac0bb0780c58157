"""Drafting a schema from data: bought with a DP budget (charged) or marked ``inferred`` (refused by DP generators).

Privacy argument of a DP draft (``epsilon`` given), under add/remove-one-row:

1. **Kinds, types and nullability** are not read from pandas dtypes (one row such as ``40.5``, ``NaN`` or
   ``'unknown'`` flips a dtype). Each value of a drafted column is given one *parse class* (null, boolean,
   integer, number, date, text, and three classes of year-last dates: certainly month-first, certainly day-first,
   either: :func:`parse_class_counts`); the per-column histogram of classes is released with
   Gaussian noise (one row changes one count of each column's histogram by 1: L2 sensitivity 1 per column),
   costing ``CLASSES_SHARE`` of the zCDP budget split equally over the drafted columns. The kind follows a public
   rule on the noisy counts (:func:`decide_kind`): the group with the largest noisy count (numeric / boolean /
   date / text), kept when the other non-null classes hold at most ``1 - KIND_SHARE`` of the noisy non-null
   mass (plus a noise allowance), otherwise categorical; a numeric column is integer unless its noisy count of
   non-integer numbers clears ``THRESHOLD_SIGMAS`` sigma; a datetime column's layout (how ``01/02/2017`` reads) is
   the order whose noisy count of certain dates clears that threshold (:func:`decide_layout`; both, or dates
   readable either way alone, leave the column text); a column is nullable when its noisy null count
   clears ``THRESHOLD_SIGMAS`` sigma or when that threshold could hide a ``NULL_SHARE_VISIBLE`` null share
   (:func:`drafted_nullable`; at large n a column without nulls is drafted nullable with probability about 3e-5);
   a categorical column is always drafted nullable, its null cell also holding the categories too rare to release
   (:mod:`synthgen.schema.draft_values`: a fixed rule, no extra read).
   A caller who knows a column's kind passes ``kinds={col: kind}`` (the histogram then only decides
   nullability) or the whole field in ``partial`` (kept as given; it costs nothing and reads nothing).
2. **Values**: numeric and datetime bounds from :func:`~synthgen.schema.bounds.dp_bounds` (a noisy histogram
   over public log-spaced buckets, read by a public rule that keeps almost all the mass, then a noisy equal-width
   histogram inside those bounds that narrows a column sitting far from zero: sensitivity 1 each, rho split
   between them); categories from
   thresholded noisy counts (:func:`~synthgen.privacy.mechanisms.dp_category_set`, half of delta paying for the
   thresholds). The rest of rho is split equally over the columns whose (noisy) kind needs values; as the kinds
   are DP outputs this is adaptive composition, which zCDP allows.
3. Noise comes from :func:`synthgen.privacy.noise.privacy_noise` (OS entropy); there is no seed. Under the test
   switch ``unsafe_seeded_noise`` the draft's spend says it carries no guarantee.
4. The default delta comes from the declared row bounds (``rows.max``), never from ``len(df)``. The budget is
   reserved on the ledger before anything is read and committed once the data was read, whatever happens next.

Without ``epsilon`` every drafted field is marked ``inferred`` (exact classes, exact bounds and categories) and a
warning says so; DP generators refuse such a schema unless told ``allow_inferred=True``.
"""
from __future__ import annotations

import calendar
import math
import re
import warnings
from datetime import date, datetime
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, SchemaError
from ..privacy.accountants import ZCDPBudget
from ..privacy.analysis import gaussian_sigma
from ..privacy.ledger import charge
from ..privacy.mechanisms import count_threshold, noisy_histogram
from ..privacy.noise import SEEDED_NOISE_REASON, noise_is_seeded, privacy_noise
from ..privacy.spend import NoGuarantee, resolve_delta
from .draft_values import (DROPPED, exact_field, listed_shares, release_values, warn_dropped,
                           warn_inferred, warn_unlisted)
from .fields import (Field, IdentifierField, RowBounds)
from .times import YEAR_LAST

#: The parse classes, in histogram order. Year-last dates (``01/02/2017``) are three classes of their own:
#: month-first for certain (second field above 12), day-first for certain (first field above 12), and either.
CLASSES = ("null", "boolean", "integer", "number", "date", "text", "date_month_first", "date_day_first",
           "date_either")
#: Kinds a caller may fix with ``kinds={col: kind}``.
KINDS = ("numeric", "integer", "categorical", "boolean", "datetime", "identifier")
#: Share of the zCDP budget spent on the per-column class histograms (public constant).
CLASSES_SHARE = 0.2
#: A kind needs at least this share of a column's noisy non-null mass (public rule).
KIND_SHARE = 0.95
#: Noisy null / non-integer counts must clear this many noise standard deviations.
THRESHOLD_SIGMAS = 4.0
NULL_SHARE_VISIBLE = 0.05  # a null share the draft must be able to see before it drafts a column non-nullable
#: A column's kind is decided only when its largest noisy class group clears this many sigmas.
MIN_MASS_SIGMAS = 4.0

#: Year-first dates (ISO-8601's dashes, or slashes / dots as in '2017/01/18 23:35:59'), with an optional time and
#: offset. Year-last dates (01/02/2017) are read by :data:`~synthgen.schema.times.YEAR_LAST`.
_DATE = re.compile(r"^\d{4}([-/.])\d{1,2}\1\d{1,2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s?(Z|[+-]\d{2}:?\d{2})?)?$")
_YEAR_LAST = re.compile(YEAR_LAST)
_NULL_TEXT = {"", "nan", "na", "n/a", "null", "none", "nat"}


# --------------------------------------------------------------------------------------------- parse classes
def _classify_text(v: str) -> str:
    t = v.strip()
    low = t.lower()
    if low in _NULL_TEXT:
        return "null"
    if low in ("true", "false"):
        return "boolean"
    try:
        x = float(t)
    except ValueError:
        x = None
    if x is not None:
        if not math.isfinite(x):  # nan, and +/-inf: read as nulls by fits of a drafted column
            return "null"
        return "integer" if x.is_integer() else "number"
    if _DATE.match(t):
        try:
            pd.Timestamp(t)
            return "date"
        except (ValueError, TypeError):
            return "text"
    m = _YEAR_LAST.match(t)
    return _year_last_class(int(m.group(1)), int(m.group(3)), int(m.group(4))) if m else "text"


def _year_last_class(a: int, b: int, year: int) -> str:
    """The class of a year-last date whose first two fields are ``a`` and ``b``."""
    readable = [order for order, (m, d) in (("month_first", (a, b)), ("day_first", (b, a)))
                if 1 <= m <= 12 and 1 <= d <= calendar.monthrange(year, m)[1]]
    if len(readable) == 2:
        return "date_either"
    return f"date_{readable[0]}" if readable else "text"


def classify_value(v: Any) -> str:
    """The parse class of one value: null, boolean, integer, number, date or text."""
    if v is None or v is pd.NA or v is pd.NaT:
        return "null"
    if isinstance(v, (bool, np.bool_)):
        return "boolean"
    if isinstance(v, (int, np.integer)):
        return "integer"
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not math.isfinite(f):
            return "null"
        return "integer" if f.is_integer() else "number"
    if isinstance(v, (datetime, date, np.datetime64)):
        return "null" if pd.isna(v) else "date"
    if isinstance(v, str):
        return _classify_text(v)
    return "text"


def parse_class_counts(s: pd.Series) -> np.ndarray:
    """Exact count of each parse class (:data:`CLASSES` order) in one column; every row in exactly one class.

    The dtype only picks a vectorised path: the class of each value is the same as :func:`classify_value`'s.
    """
    out = np.zeros(len(CLASSES), dtype=np.float64)
    null = s.isna().to_numpy()
    out[0] = null.sum()
    if pd.api.types.is_bool_dtype(s):
        out[1] = (~null).sum()
    elif pd.api.types.is_datetime64_any_dtype(s):
        out[4] = (~null).sum()
    elif pd.api.types.is_numeric_dtype(s):
        x = s.to_numpy(dtype=np.float64, na_value=np.nan)[~null]
        finite = np.isfinite(x)
        whole = finite & (x == np.round(x))
        out[0] += (~finite).sum()
        out[2], out[3] = whole.sum(), (finite & ~whole).sum()
    else:
        codes, uniq = pd.factorize(s[~null])  # classify each distinct value once
        idx = {c: i for i, c in enumerate(CLASSES)}
        cls = np.array([idx[classify_value(u)] for u in uniq], dtype=np.int64)
        per_code = np.bincount(codes, minlength=len(uniq)).astype(np.float64)
        out += np.bincount(cls, weights=per_code, minlength=len(CLASSES)) if len(uniq) else 0.0
    return out


_GROUPS = (("numeric", (2, 3)), ("boolean", (1,)), ("datetime", (4, 6, 7, 8)), ("categorical", (5,)))


def decide_kind(counts: np.ndarray, sigma: float, column: str) -> tuple[str, bool]:
    """(kind, nullable) from (noisy) class counts by a public rule (post-processing of the noisy histogram).

    The candidate is the group with the largest noisy count (numeric: integer + number; boolean; datetime: date;
    text). A numeric, boolean or datetime candidate is kept when the noisy count of every other non-null class
    together is at most ``(1 - KIND_SHARE)`` of the noisy non-null mass plus ``THRESHOLD_SIGMAS`` standard
    deviations of that sum's noise (a column with no other values passes with probability above 0.99996);
    otherwise the column is categorical. Numeric is integer unless the noisy count of non-integer numbers clears
    ``THRESHOLD_SIGMAS * sigma``; nullable when the noisy null count does. ``sigma == 0`` means exact counts: a
    kind then needs every non-null value, and one null makes the column nullable.
    """
    c = np.asarray(counts, dtype=np.float64)
    mass = max(float(c[1:].sum()), 0.0)
    kind, own = max(_GROUPS, key=lambda g: float(c[list(g[1])].sum()))
    if sigma > 0 and float(c[list(own)].sum()) < MIN_MASS_SIGMAS * sigma * math.sqrt(len(own)):
        raise DataValidationError(
            f"Column {column!r}: too few non-null values to draft its kind at this epsilon. Fix: pass "
            f"kinds={{{column!r}: ...}} or declare the field in a partial schema, or spend more epsilon.")
    if sigma == 0 and mass == 0:
        raise DataValidationError(f"Column {column!r} is entirely null; declare it by hand or drop it.")
    thr = THRESHOLD_SIGMAS * sigma if sigma > 0 else 0.5
    nullable = drafted_nullable(float(c[0]), sigma, mass)
    if kind == "categorical":
        return kind, nullable
    other = [j for j in range(1, len(CLASSES)) if j not in own]
    allowed = (1.0 - KIND_SHARE) * mass + THRESHOLD_SIGMAS * sigma * math.sqrt(len(other)) if sigma > 0 else 0.0
    if float(c[other].sum()) > allowed:
        return "categorical", nullable
    if kind == "numeric":
        kind = "integer" if c[3] < thr else "numeric"
    if kind == "datetime" and decide_layout(c, sigma) is None:
        return "categorical", nullable
    return kind, nullable


def decide_layout(counts: np.ndarray, sigma: float) -> str | None:
    """How a drafted datetime column's year-last dates are read, from its (noisy) class counts by a public rule:
    ``"day-first"`` when the count of certainly day-first dates clears ``THRESHOLD_SIGMAS`` sigma,
    ``"month-first"`` when that of certainly month-first ones does, ``"iso"`` when neither nor the count of dates
    readable either way does; None (the column stays text) when both orders clear it, or only dates readable
    either way do (01/02/2017 cannot say which)."""
    c = np.asarray(counts, dtype=np.float64)
    thr = THRESHOLD_SIGMAS * sigma if sigma > 0 else 0.5
    month, day, either = (bool(c[CLASSES.index(k)] >= thr) for k in
                          ("date_month_first", "date_day_first", "date_either"))
    if month and day:
        return None
    if month or day:
        return "month-first" if month else "day-first"
    return None if either else "iso"


def drafted_nullable(null_count: float, sigma: float, mass: float) -> bool:
    """Nullable when the noisy null count clears ``THRESHOLD_SIGMAS`` sigma, OR when the noise is too large to
    rule out a null share of ``NULL_SHARE_VISIBLE`` of the noisy non-null mass (the draft cannot tell: a column
    drafted non-nullable would make fits drop every row with a null in it, which on a table with structural nulls
    is most rows). Post-processing of the noisy counts; exact counts (``sigma == 0``): nullable iff a null."""
    if sigma <= 0:
        return null_count >= 0.5
    thr = THRESHOLD_SIGMAS * sigma
    return bool(null_count >= thr or thr > NULL_SHARE_VISIBLE * mass)


# -------------------------------------------------------------------------------------------- entry point
def draft_fields(df: pd.DataFrame, *, epsilon: float | None, delta: float | None, ledger: Any,
                 kinds: Mapping[str, str] | None, partial: Any, rows: RowBounds | None,
                 identifiers: Sequence[str], categorical_threshold: int) -> tuple[list[Field], dict | None]:
    """The fields of a drafted schema (in column order) and the draft's spend (``None`` when inferred)."""
    kinds = _check_inputs(df, kinds, partial, identifiers, epsilon, ledger)
    given = {f.name: f for f in partial.fields} if partial is not None else {}
    if partial is not None:
        missing = [n for n in given if n not in map(str, df.columns)]
        if missing:
            raise SchemaError(f"partial schema fields {missing} are not columns of the table. "
                              "Fix: drop them from the partial schema or add the columns.")
    fixed = dict(given)
    for c in df.columns:
        c = str(c)
        if c not in fixed and (c in identifiers or kinds.get(c) == "identifier"):
            fixed[c] = IdentifierField(c)
    todo = [str(c) for c in df.columns if str(c) not in fixed]
    if epsilon is None:
        drafted = _draft_inferred(df, todo, kinds, categorical_threshold)
        spend = None
    else:
        drafted, spend = _draft_dp(df, todo, kinds, float(epsilon), delta, ledger, rows)
    return [fixed.get(str(c)) or drafted[str(c)] for c in df.columns], spend


def _check_inputs(df: Any, kinds: Mapping[str, str] | None, partial: Any, identifiers: Sequence[str],
                  epsilon: float | None, ledger: Any) -> dict[str, str]:
    """Public checks only (names, shapes, parameters): they run before any budget is reserved."""
    if not isinstance(df, pd.DataFrame) or df.shape[1] == 0:
        raise DataValidationError("Schema.draft needs a pandas DataFrame with at least one column.")
    if len(set(map(str, df.columns))) != df.shape[1]:
        raise DataValidationError("Schema.draft needs unique column names.")
    if isinstance(identifiers, str):
        raise SchemaError("identifiers must be a list of column names, not one string.")
    names = set(map(str, df.columns))
    kinds = {str(k): v for k, v in (kinds or {}).items()}
    unknown = [c for c in list(identifiers) + list(kinds) if c not in names]
    if unknown:
        raise SchemaError(f"identifiers/kinds name {unknown}, which are not columns of the table.")
    bad = {c: k for c, k in kinds.items() if k not in KINDS}
    if bad:
        raise SchemaError(f"kinds {bad} are not known. Fix: use one of {list(KINDS)}.")
    if partial is not None and not hasattr(partial, "fields"):
        raise SchemaError("partial must be a Schema whose fields are kept as declared.")
    if ledger is not None and epsilon is None:
        raise SchemaError("A ledger only applies to a DP draft. Fix: pass epsilon=..., or drop the ledger.")
    return kinds


# ------------------------------------------------------------------------------------------------ no budget
def _draft_inferred(df: pd.DataFrame, todo: list[str], kinds: Mapping[str, str],
                    categorical_threshold: int) -> dict[str, Field]:
    if len(df) == 0 and todo:
        raise DataValidationError("Schema.draft needs a table with rows; got an empty table.")
    out: dict[str, Field] = {}
    for c in todo:
        s = df[c]
        counts = parse_class_counts(s)
        if c in kinds:
            kind, nullable = kinds[c], bool(s.isna().any())
        else:
            if counts[0] == len(s):  # null in every row: nothing to draft (a DP draft drops it too)
                out[c] = IdentifierField(c, synthesize="drop")
                continue
            kind, nullable = decide_kind(counts, 0.0, c)
            nullable = nullable or bool(s.isna().any())
            if kind == "integer" and s.nunique() <= categorical_threshold:
                kind = "categorical"
        out[c] = exact_field(c, s, kind, nullable, decide_layout(counts, 0.0) or "iso")
    names = [c for c in todo if out[c].source == "inferred"]
    if names:
        warn_inferred(names)
    empty = [c for c in todo if out[c].kind == "identifier"]
    if empty:
        warnings.warn(f"Schema draft: columns {empty} are null in every row; they are drafted as dropped columns "
                      "(not learned, not released). Fix: declare them by hand if they can hold values.",
                      UserWarning, stacklevel=4)
    return out


# --------------------------------------------------------------------------------------------------- with DP
def _draft_dp(df: pd.DataFrame, todo: list[str], kinds: Mapping[str, str], epsilon: float, delta: float | None,
              ledger: Any, rows: RowBounds | None) -> tuple[dict[str, Field], dict]:
    if not todo:
        raise SchemaError("Every column is an identifier or declared in the partial schema: nothing to draft. "
                          "Fix: drop epsilon (nothing needs buying).")
    delta = resolve_delta(delta, rows.max if rows is not None else None)
    may_be_categorical = any(kinds.get(c, "categorical") == "categorical" for c in todo)
    budget = ZCDPBudget(epsilon, delta, delta_reserved=delta / 2 if may_be_categorical else 0.0)
    seeded = noise_is_seeded()
    with charge(ledger, epsilon, delta, generator="schema-draft",
                purpose="DP schema draft: kinds, nullability, bounds and category sets") as handle:
        noise = privacy_noise()
        handle.data_read()  # from here a failure (e.g. which column has too few values) is charged
        decided, noisy, layouts = _release_kinds(df, todo, kinds, budget, noise)
        fields, listed = release_values(df, decided, budget, noise, epsilon, delta, layouts)
        dropped = sorted(c for c in todo if fields[c].kind == "identifier")
        unseen = sorted(c for c in todo if fields[c].kind == "categorical" and not decided[c][1])
        shares = listed_shares(listed, noisy)
        spend = budget.to_spend(purpose="schema draft", classes_share=CLASSES_SHARE, kind_rule={
            "kind_share": KIND_SHARE, "threshold_sigmas": THRESHOLD_SIGMAS}, noisy_classes=noisy,
            kinds={c: ("caller" if c in kinds else "dp") for c in todo}, dropped=dropped,
            nullable_for_unseen=unseen, listed_share=shares)
        handle.record_spent(spend.epsilon, spend.delta)
    out = spend.to_dict() if not seeded else NoGuarantee(SEEDED_NOISE_REASON, accounted=spend).to_dict()
    if handle.entry is not None:
        out["ledger_entry"] = dict(handle.entry)
    if dropped:
        needed = rows_needed(spend.to_dict().get("details") or {}, todo)
        warn_dropped(dropped, epsilon, len(dropped) == len(todo), needed)
    warn_unlisted({c: v for c, v in shares.items() if c not in dropped})
    return fields, out


def rows_needed(details: Mapping[str, Any], todo: Sequence[str]) -> dict[str, int]:
    """About how many non-null values a column needs for the draft to decide its kind, and how many rows a category
    needs to be listed, at this draft's budget split (public: from the spend's rho and delta split alone)."""
    rho, dlt = details.get("rho_split") or {}, details.get("delta_split") or {}
    out = {}
    classes = [rho[f"{c}:classes"] for c in todo if f"{c}:classes" in rho]
    if classes:
        out["kind"] = math.ceil(MIN_MASS_SIGMAS * gaussian_sigma(min(classes), 1.0))
    cats = [count_threshold(rho[c], dlt[c]) for c in todo if c in dlt and c in rho]
    if cats:
        out["category"] = math.ceil(min(cats))
    return out


def _release_kinds(df: pd.DataFrame, todo: list[str], kinds: Mapping[str, str], budget: ZCDPBudget,
                   noise: Any) -> tuple[dict[str, tuple[str, bool]], dict[str, dict[str, int]], dict[str, str]]:
    """Noisy class histogram of every drafted column -> (kind, nullable) per column, the rounded noisy
    histograms (DP outputs, recorded in the spend details) and each datetime column's layout."""
    share = budget.rho * CLASSES_SHARE / len(todo)
    sigma = gaussian_sigma(share, 1.0)
    decided, noisy, layouts = {}, {}, {}
    for c in todo:
        rho = budget.spend(f"{c}:classes", share)
        counts = noisy_histogram(parse_class_counts(df[c]), rho, noise)
        noisy[c] = {k: int(round(v)) for k, v in zip(CLASSES, counts)}
        if c in kinds:
            decided[c] = (kinds[c], drafted_nullable(float(counts[0]), sigma, max(float(counts[1:].sum()), 0.0)))
        else:
            try:
                decided[c] = decide_kind(counts, sigma, c)
            except DataValidationError:  # too few non-null values to tell its kind at this epsilon
                decided[c] = (DROPPED, True)
        if decided[c][0] == "datetime":
            layouts[c] = decide_layout(counts, sigma) or "iso"
    return decided, noisy, layouts


__all__ = ["CLASSES", "KINDS", "classify_value", "decide_kind", "decide_layout", "draft_fields", "parse_class_counts",
           "warn_inferred"]
