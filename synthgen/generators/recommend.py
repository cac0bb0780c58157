"""Which DP table generator suits a table: a pure function of its DECLARED schema.

:func:`recommend` reads only what a schema declares (column kinds, declared categories and their number, declared
bounds and their width, nullability (not counting a DP draft's ``nullable_for_unseen`` columns, nor drafted
columns whose noisy null share is under ``NULL_SHARE_VISIBLE``: a draft makes those nullable when its noise cannot
rule nulls out, which is no evidence of structural nulls), the number of
columns, the declared row bounds) plus the caller's epsilon and target column: all public, so a recommendation
costs no budget and says nothing about the private rows. It never sees the data, so it cannot know whether a wide
declared range is filled; it judges what each generator's model can represent at the declared resolution.

The rules come from side-by-side fits at epsilon = 1 on real tables (quality = the evaluator's fidelity score,
TSTR/TRTR; ``tests/unit/test_recommend.py`` pins the tables and their measured winners):

* ``dp-marginal`` (select-measure-generate over 1- and 2-way marginals, binned to ``n_bins`` = 32) keeps categorical
  tables and their interactions best: pick it when most learnable columns are categorical, boolean or low-range
  integers (codes), or nominal categoricals exceed the copula's one-hot limit (the copula then orders them by code,
  which loses a nominal link), or many columns are nullable (structural nulls: null indicators are one more cell).
* ``dp-copula`` (noisy marginals at full resolution, adaptive bins under wide declared bounds, one noisy correlation
  matrix) keeps many continuous columns at their resolution and scales to wide and long tables: pick it when at
  least half of the columns are continuous, or when the marginal generator's model would not fit (a categorical
  with more than ``MARGINAL_MAX_CARDINALITY`` declared values) or its fit would be too slow (more than
  ``MARGINAL_MAX_COLUMNS`` columns: 47-86-column corpus tables exceeded a 90 s cap on a 2-core machine).
* A nominal target of 3 or more classes sends any table within the marginal generator's limits to ``dp-marginal``:
  the copula links a class to the other columns only monotonically (``benchmarks/bench_recommend.py``, 2 fits each
  on 2,000-row samples: london_boroughs TSTR/TRTR 0.17 vs 0.42, nycflights 0.41 vs 0.69; corpus storms 0.49 vs
  0.52 and polls 0.36 vs 0.42 against the conditioned copula; DoctorContacts' 4-class ``health`` a near tie).
* The target, when given, is passed on: ``dp-marginal``'s ``target`` (its 2-way marginals with the target are
  measured first: NASSCDS TSTR/TRTR 0.49 without, 0.99 with) and ``dp-copula``'s ``condition_on`` for a
  categorical target of at most ``CONDITION_MAX_CLASSES`` classes (a nullable target's null cell counted as one)
  when at least ``NULLABLE_SHARE`` of the columns are nullable (structural nulls that follow the class: NHEFS
  0.52 -> 1.0 in 2 of 3 fits, storms 0.44 -> 0.49, STAR's nullable lunch1 0.82 -> 0.90);
  without them a rare class's own copula is too noisy (NASSCDS 0.79 -> 0.54, DoctorContacts 0.44 -> 0.36), and
  width alone is no reason (two fits each without -> with: loanapp 0.53, 0.51 -> 0.93, 0.48; caravan 0.98, 1.02
  -> 0.96, 0.96; loans' quality 0.94 -> 0.87).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..exceptions import ConfigError
from ..schema import Schema
from ..schema.draft import NULL_SHARE_VISIBLE  # the draft's own rule: a smaller noisy null share is no evidence

COPULA_MAX_ONEHOT = 32  # dp-copula's default max_onehot: nominal categoricals above it are ordinal-coded
COPULA_MAX_DISCRETE = 128  # dp-copula's default max_discrete: integer ranges up to it get one bin per value
MARGINAL_MAX_CARDINALITY = 1000  # above: dp-marginal's clique domains outgrow its model-size cap
MARGINAL_MAX_COLUMNS = 40  # above: dp-marginal's selection rounds grow too slow (timeouts at 47+ columns)
CONDITION_MAX_CLASSES = 10
DISCRETE_SHARE = 0.5  # share of categorical/boolean/low-range columns above which dp-marginal is preferred
NULLABLE_SHARE = 0.2  # share of nullable columns from which structural nulls are expected


@dataclass(frozen=True)
class SchemaProfile:
    """Public features of a declared schema (learnable columns only)."""

    n_columns: int
    n_continuous: int  # numeric/datetime columns the copula models as continuous (wide or non-integer ranges)
    n_discrete: int  # categorical, boolean, and integer/date columns with at most COPULA_MAX_DISCRETE values
    n_nullable: int
    n_high_cardinality: int  # nominal categoricals above COPULA_MAX_ONEHOT categories
    max_cardinality: int
    max_rows: int | None  # declared row bound, if any

    @property
    def discrete_share(self) -> float:
        return self.n_discrete / max(self.n_columns, 1)

    @property
    def nullable_share(self) -> float:
        return self.n_nullable / max(self.n_columns, 1)


@dataclass(frozen=True)
class Recommendation:
    """A registered generator name, the parameters to pass it and why (one reason per line)."""

    generator: str
    params: Mapping[str, Any] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"generator": self.generator, "params": dict(self.params), "reasons": list(self.reasons)}


def _value_count(f: Any) -> float:
    """How many distinct values a numeric/datetime field's declared range allows (inf: not whole-valued)."""
    if f.kind == "numeric":
        if not f.integer:
            return math.inf
        return math.floor(float(f.upper)) - math.ceil(float(f.lower)) + 1
    if getattr(f, "date_only", False):
        return (f.upper_ts - f.lower_ts).days + 1
    return math.inf


def profile(schema: Schema) -> SchemaProfile:
    """The public features :func:`recommend` decides on."""
    cols = schema.learnable
    cont = disc = high = 0
    max_card = 0
    for f in cols:
        if f.kind in ("categorical", "boolean"):
            k = 2 if f.kind == "boolean" else len(f.categories)
            max_card = max(max_card, k)
            disc += 1
            high += int(f.kind == "categorical" and not f.ordered and k > COPULA_MAX_ONEHOT)
        elif _value_count(f) <= COPULA_MAX_DISCRETE:
            disc += 1
        else:
            cont += 1
    rows = getattr(schema, "rows", None)
    max_rows = int(rows.max) if rows is not None and rows.max else None
    no_nulls = _no_null_evidence(schema)
    nullable = sum(bool(f.nullable) and f.name not in no_nulls for f in cols)
    return SchemaProfile(len(cols), cont, disc, nullable, high, max_card, max_rows)


def _no_null_evidence(schema: Schema) -> set[str]:
    """Columns a DP draft made nullable without evidence of nulls: categorical ones only to hold the categories it
    could not release (its spend's ``nullable_for_unseen``), and any whose noisy null count is under
    ``NULL_SHARE_VISIBLE`` of its noisy class counts (the draft makes such a column nullable when its noise cannot
    rule that share out). Both read DP outputs only; neither is evidence of structural nulls."""
    details = schema.draft_details
    out = set(details.get("nullable_for_unseen") or ())
    for c, counts in (details.get("noisy_classes") or {}).items():
        total = sum(max(float(v), 0.0) for v in counts.values())
        if total > 0 and max(float(counts.get("null", 0)), 0.0) < NULL_SHARE_VISIBLE * total:
            out.add(c)
    return out


def _check(schema: Any, epsilon: float | None, target: str | None) -> None:
    if not isinstance(schema, Schema):
        raise ConfigError(f"recommend needs a declared Schema; got {type(schema).__name__}. "
                          "Fix: load it with Schema.load(path) or draft one with `synthgen schema draft`.")
    if epsilon is not None and (isinstance(epsilon, bool) or not isinstance(epsilon, (int, float))
                                or not math.isfinite(epsilon) or epsilon <= 0):
        raise ConfigError(f"epsilon must be a positive finite number or None; got {epsilon!r}.")
    if target is not None and target not in {f.name for f in schema.learnable}:
        raise ConfigError(f"target={target!r} is not a learnable column of the schema. {schema.not_learnable(target)} "
                          "Fix: name a declared, non-identifier column, or pass target=None.")


def _hard_limits(p: SchemaProfile) -> list[str]:
    """Reasons the marginal generator's model would not fit (then the copula it is)."""
    out = []
    if p.max_cardinality > MARGINAL_MAX_CARDINALITY:
        out.append(f"a categorical column declares {p.max_cardinality} categories (> {MARGINAL_MAX_CARDINALITY}): "
                   "dp-marginal's 2-way marginals would outgrow its model-size cap; dp-copula's cost is linear in it")
    if p.n_columns > MARGINAL_MAX_COLUMNS:
        out.append(f"{p.n_columns} columns (> {MARGINAL_MAX_COLUMNS}): dp-marginal's selection rounds grow too slow")
    return out


def _marginal_reasons(p: SchemaProfile) -> list[str]:
    """Reasons to prefer the marginal generator (empty: the copula)."""
    out = []
    if p.n_continuous * 2 >= p.n_columns and p.n_continuous >= 3:
        return out
    if p.discrete_share >= DISCRETE_SHARE:
        out.append(f"{p.n_discrete} of {p.n_columns} columns are categorical, boolean or integer codes with at most "
                   f"{COPULA_MAX_DISCRETE} values: dp-marginal measures their joint counts directly")
    if p.n_high_cardinality:
        out.append(f"{p.n_high_cardinality} nominal categorical column(s) with more than {COPULA_MAX_ONEHOT} "
                   "categories: dp-copula would order them by code, dp-marginal keeps them nominal")
    if p.nullable_share >= NULLABLE_SHARE:
        out.append(f"{p.n_nullable} of {p.n_columns} columns are nullable (structural nulls): dp-marginal models a "
                   "null as one more cell of every marginal it measures")
    return out


def _nominal_target(schema: Schema, target: str | None) -> list[str]:
    """A nominal target of 3 or more classes goes to the marginal generator whatever the other columns are: the
    copula holds a class only through monotone (Gaussian) links, so a class that depends on where the other values
    lie (a borough from its coordinates, an airport from times and delays) is lost, while dp-marginal measures the
    target's 2-way marginals with every column first (third unseen sweep, 2 fits each at 2,000 rows: TSTR/TRTR
    london_boroughs 0.17 -> 0.42, nycflights 0.41 -> 0.69, Weather 0.64 -> 0.69)."""
    if target is None:
        return []
    f = schema[target]
    k = len(getattr(f, "categories", ()) or ())
    if f.kind != "categorical" or f.ordered or k < 3:
        return []
    return [f"target={target!r} is nominal with {k} classes: the copula links a class to the other columns only "
            "monotonically; dp-marginal measures the target's 2-way marginals with every column first"]


def _target_params(schema: Schema, generator: str, target: str | None, p: SchemaProfile) -> tuple[dict, list[str]]:
    if target is None:
        return {}, []
    if generator == "dp-marginal":
        return {"target": target}, [f"target={target!r}: its 2-way marginals with the other columns are measured "
                                    "first (they decide TSTR)"]
    f = schema[target]
    k = (2 if f.kind == "boolean" else len(getattr(f, "categories", ()) or ())) + bool(f.nullable)
    if f.kind in ("categorical", "boolean") and 2 <= k <= CONDITION_MAX_CLASSES \
            and p.nullable_share >= NULLABLE_SHARE:
        null = " (its null cell one of them)" if f.nullable else ""
        return {"condition_on": target}, [f"condition_on={target!r}: {p.n_nullable} of {p.n_columns} columns are "
                                          f"nullable; one copula per class ({k} classes{null} partition the rows, "
                                          "so no extra budget) keeps structural nulls that follow the class"]
    return {}, []


def recommend(schema: Schema, *, epsilon: float | None = None, target: str | None = None) -> Recommendation:
    """The registered DP generator (and parameters) that suits a table, from its declared schema only.

    epsilon:
        The privacy target of the release (None: judged as at epsilon = 1, where the rules were measured).
    target:
        The column downstream models predict (its link to the rest is what TSTR measures), or None.
    """
    _check(schema, epsilon, target)
    p = profile(schema)
    limits = _hard_limits(p)
    reasons = [] if limits else _nominal_target(schema, target) + _marginal_reasons(p)
    if reasons:
        generator = "dp-marginal"
    else:
        generator = "dp-copula"
        reasons = limits or [f"{p.n_continuous} of {p.n_columns} columns are continuous: dp-copula keeps each at "
                             "full resolution (adaptive bins inside the declared bounds) and their correlations"]
    params, why = _target_params(schema, generator, target, p)
    if epsilon is not None:
        params = {"epsilon": float(epsilon), **params}
    return Recommendation(generator, params, tuple(reasons + why))
