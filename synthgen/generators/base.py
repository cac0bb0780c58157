"""The generator contract, done once: validate, plan, charge the ledger, record the privacy spend, save/load.

A fit runs in this order (nothing private is read before step 3):

1. ``plan = self._plan(schema)``: parameters, schema and DECLARED row bounds only; every checkable error is
   raised here, before any budget is reserved. ``plan.target`` is the (epsilon, delta) to reserve; its delta comes
   from :func:`~synthgen.privacy.spend.resolve_delta` over the declared maximum row count, never the exact n.
2. ``table = self._prepare(data, schema)``: validation against the declared schema (errors name the column, not
   the rows), then ``ledger.charge(...)`` reserves ``plan.target``.
3. ``spent = self._fit(table, schema, rng, plan)``: from here on a failure commits the reservation. DP generators
   measure (one step reads rows, noise from :func:`~synthgen.privacy.noise.privacy_noise`), then estimate from
   the noisy release only. ``rng`` (from ``random_state``) seeds initialisation and sampling, never noise.
4. The spend is checked against the target; a fit on a schema read off the data without noise
   (``allow_inferred=True``) or under the seeded-noise test switch carries :class:`NoGuarantee` instead.
5. ``self._restore()`` rebuilds derived objects (also called by ``load``).

Subclasses implement ``_fit``, ``_sample(n, rng)``, ``_get_state() -> (json_state, arrays)`` and
``_set_state(json_state, arrays)``; optionally ``_plan`` and ``_restore``. A DP generator sets ``rows_estimate_``
(a DP estimate of the training row count, from its noisy statistics) in ``_fit``; pipelines use it as the default
release size. ``__init__`` only stores parameters (scikit-learn's contract); learned attributes end in ``_``.
"""
from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Mapping, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ..exceptions import (
    ConfigError,
    DataValidationError,
    InferredSchemaError,
    NotFittedError,
    PrivacyError,
)
from ..privacy.ledger import charge
from ..privacy.noise import SEEDED_NOISE_REASON, noise_is_seeded
from ..privacy.spend import DPSpend, NoGuarantee, PrivacySpend, check_epsilon_delta, resolve_delta
from ..rng import RandomState, check_random_state
from ..schema import Schema


@runtime_checkable
class Generator(Protocol):
    """What every synthgen generator offers."""

    registry_name: ClassVar[str]

    def fit(self, data: Any, schema: Schema | None = None, **kwargs: Any) -> "Generator": ...

    def sample(self, n: int, *, random_state: RandomState = None) -> Any: ...

    def save(self, path: str | Path) -> None: ...


INFERRED_SCHEMA_REASON = ("the schema's bounds/categories were read off the data without noise "
                          "(allow_inferred=True), so the fit leaks them")


@dataclass(frozen=True)
class Plan:
    """What a fit will do, decided from public inputs only (parameters, schema, declared row bounds).

    Generators subclass it (frozen) to add their own public decisions.
    """

    target: PrivacySpend


class BaseGenerator:
    """Base class of all generators. See module docstring for what subclasses implement."""

    registry_name: ClassVar[str] = ""
    data_kind: ClassVar[str] = "table"
    provides_dp: ClassVar[bool] = False
    # Whether _fit takes a validated Dask frame (synthgen.scale.frames.PartitionedTable) as well as a DataFrame.
    accepts_partitions: ClassVar[bool] = False
    no_guarantee_reason: ClassVar[str] = "this generator has no differential-privacy guarantee"
    # Parameters small enough for the contract test suite to run in seconds.
    contract_params: ClassVar[dict[str, Any]] = {}

    # ------------------------------------------------------------------ parameters (scikit-learn style)
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> "BaseGenerator":
        valid = set(self._param_names())
        for k, v in params.items():
            if k not in valid:
                raise ConfigError(f"{type(self).__name__} has no parameter {k!r}; valid: {sorted(valid)}.")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ plan (public inputs only)
    @staticmethod
    def _declared_max_rows(schema: Schema | None) -> int | None:
        rows = getattr(schema, "rows", None)
        return int(rows.max) if rows is not None and rows.max else None

    def _target_spend(self, schema: Schema | None) -> PrivacySpend:
        """The (epsilon, delta) target; delta from the declared row bounds (never the exact, private n)."""
        if not self.provides_dp:
            return NoGuarantee(self.no_guarantee_reason)
        eps, _ = check_epsilon_delta(getattr(self, "epsilon"), 0.0)
        return DPSpend(eps, resolve_delta(getattr(self, "delta", None), self._declared_max_rows(schema)),
                       accountant="target")

    def _plan(self, schema: Schema | None) -> Plan:
        """Check parameters against the schema and decide the fit from public inputs. Override to add fields."""
        return Plan(self._target_spend(schema))

    # ------------------------------------------------------------------ public API
    def fit(self, data: Any, schema: Schema | None = None, *, ledger: Any = None, random_state: RandomState = None,
            allow_inferred: bool = False, on_violation: str = "raise", **fit_params: Any) -> "BaseGenerator":
        """Learn from ``data`` (a DataFrame) declared by ``schema``; returns ``self``.

        ``ledger``: a :class:`~synthgen.privacy.PrivacyLedger`; the target (epsilon, delta) is reserved before any
        private value is read, cancelled if the fit fails before that, committed otherwise.
        ``random_state``: seeds initialisation and sampling only; privacy noise always comes from OS entropy.
        ``allow_inferred``: let a DP generator use a schema read off the data without noise; such a fit carries
        NO DP guarantee (recorded in its spend, summary and manifest).
        ``on_violation``: ``"raise"`` (default) reports every schema violation; ``"clip"`` clips numeric values
        into their declared bounds (rounds them for integer fields) and puts an undeclared category in the
        column's null cell (a public, row-wise rule; a row is dropped only where the column is not nullable).
        Fields bought with DP (``dp:``) are always treated so, as DP bounds may cut the tails, a DP integer flag
        may miss a few non-whole values and a DP category set leaves out rare categories (DP drafts make
        categorical columns nullable for them); rows with nulls in a field a DP draft declared non-nullable are
        dropped (it cannot see a few nulls).
        ``fit_params``: generator-specific fit-time arguments, passed to ``_fit`` (e.g. DP-CTGAN's ``on_epoch``).
        """
        self._check_schema(schema, allow_inferred)
        _check_extra_params(self._fit, fit_params, f"{type(self).__name__}.fit", fixed=4)
        inferred = bool(allow_inferred and schema is not None and schema.is_inferred)
        seeded = noise_is_seeded() or _draft_not_dp(schema)
        plan = self._plan(schema)
        target = plan.target
        if ledger is not None and not target.is_dp:
            raise PrivacyError(
                f"{type(self).__name__} gives no DP guarantee, so no ledger budget can cover it. "
                "Fix: use a DP generator (e.g. 'dp-copula') or fit without a ledger.")
        table = self._prepare(data, schema, on_violation)
        rng = check_random_state(random_state)
        for attr in ("rows_estimate_", "privacy_spent_"):
            self.__dict__.pop(attr, None)
        with charge(ledger, target.epsilon, target.delta, generator=self.registry_name,
                    purpose=f"fit {type(self).__name__}", details={"neighbouring": "add/remove one row"}) as ch:
            ch.data_read()
            spent = self._checked_spend(self._fit(table, schema, rng, plan, **fit_params), target)
            if spent.is_dp:
                ch.record_spent(spent.epsilon, spent.delta)
        self._record_fit(spent, schema, ch.entry, inferred, seeded or noise_is_seeded(), len(table))
        self._restore()
        return self

    def _checked_spend(self, spent: PrivacySpend, target: PrivacySpend) -> PrivacySpend:
        if target.is_dp and (not spent.is_dp or spent.epsilon > target.epsilon + 1e-9
                             or spent.delta > target.delta + 1e-15):
            raise PrivacyError(f"internal error: {type(self).__name__} spent {spent} above its target {target}.")
        if target.is_dp and not hasattr(self, "rows_estimate_"):
            raise PrivacyError(f"internal error: {type(self).__name__} set no DP row estimate (rows_estimate_).")
        return spent

    def _record_fit(self, spent: PrivacySpend, schema: Schema | None, entry: dict | None, inferred: bool,
                    seeded: bool, n_exact: int) -> None:
        """Learned attributes every fit has. ``n_exact`` is used only by generators that give no guarantee."""
        if spent.is_dp and (inferred or seeded):
            reason = SEEDED_NOISE_REASON if seeded else INFERRED_SCHEMA_REASON
            spent = NoGuarantee(reason, accounted=DPSpend(spent.epsilon, spent.delta, spent.accountant,
                                                          details=spent.details))
        if not self.provides_dp:
            self.rows_estimate_ = float(n_exact)  # no guarantee anyway
        self.schema_ = schema
        self.privacy_spent_ = spent
        self.allow_inferred_ = inferred
        self.ledger_entry_ = entry
        if schema is not None:
            self.n_features_in_ = len(schema.learnable)

    def _check_schema(self, schema: Schema | None, allow_inferred: bool) -> None:
        """Refuse a missing, wrong-typed or (for DP generators) inferred schema. Image generators override this
        (their data needs no table schema)."""
        if schema is None:
            raise ConfigError(
                f"{type(self).__name__}.fit needs a declared schema. Fix: pass schema=Schema.load(...), or draft "
                "one with Schema.draft(df, epsilon=...) (DP) and review it.")
        if not isinstance(schema, Schema):
            raise ConfigError(f"schema must be a synthgen.Schema; got {type(schema).__name__}.")
        if self.provides_dp and schema.is_inferred and not allow_inferred:
            raise InferredSchemaError(
                f"{type(self).__name__} is differentially private but the schema's fields "
                f"{list(schema.inferred_fields)} were inferred from the data without noise, which would leak them. "
                "Fix: declare public bounds/categories, draft the schema with an epsilon, or pass "
                "allow_inferred=True (recorded in the model and its reports).")

    def _prepare(self, data: Any, schema: Schema, on_violation: str) -> pd.DataFrame:
        """Validate a table against the schema and return it in canonical dtypes (learnable columns only).

        A Dask frame is validated partition by partition under the same rules (:mod:`synthgen.scale.frames`) and
        comes back as a lazy partitioned table, for generators with ``accepts_partitions``."""
        if on_violation not in ("raise", "clip"):
            raise ConfigError(f"on_violation must be 'raise' or 'clip'; got {on_violation!r}.")
        if not isinstance(data, pd.DataFrame):
            from ..scale.frames import is_dask_frame, prepare_partitions

            if is_dask_frame(data):
                parts = prepare_partitions(self, data, schema, on_violation, blocking_violations, conform_rows)
                check_enough_rows(self, len(parts))
                return parts
            raise DataValidationError(f"{type(self).__name__}.fit expects a pandas DataFrame; got "
                                      f"{type(data).__name__}.")
        blocking = blocking_violations(schema.validate(data).violations, schema, on_violation)
        if blocking:
            from ..schema import ValidationReport

            ValidationReport(tuple(blocking), len(data)).raise_if_invalid("training data")
        table = conform_rows(data, schema)
        check_enough_rows(self, len(table))
        return table

    def sample(self, n: int, *, random_state: RandomState = None, **sample_params: Any) -> pd.DataFrame:
        """Draw ``n`` synthetic rows conforming to the schema. The privacy spend rides in ``df.attrs``.

        ``random_state`` makes sampling from a fitted (or loaded) model reproducible. ``sample_params``:
        generator-specific options passed to ``_sample`` (e.g. DP-CTGAN's ``conditions``).
        """
        self._check_fitted()
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"sample needs a positive whole number of rows; got {n!r}.")
        _check_extra_params(self._sample, sample_params, f"{type(self).__name__}.sample", fixed=2)
        rng = check_random_state(random_state)
        raw = self._sample(int(n), rng, **sample_params)
        return self._finish_sample(raw, int(n), rng)

    def _finish_sample(self, raw: Any, n: int, rng: np.random.Generator) -> Any:
        """Turn ``_sample``'s output into the release (tables: conform to the schema, attach the privacy spend).
        Image generators override this."""
        out = self._finish_table(raw, n, rng)
        out.attrs["privacy"] = self.privacy_spent_.to_dict()
        return out

    def _finish_table(self, raw: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        schema = self.schema_
        raw = raw.copy()
        for f in schema.fields:
            if f.kind == "identifier" and f.synthesize == "regenerate":
                raw[f.name] = [f"{f.name}-{x:012x}" for x in rng.integers(0, 2**48, size=n)]
        return schema.conform(raw).reset_index(drop=True)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> None:
        """Write a model directory: ``manifest.json`` + arrays in safetensors. No pickle, no training rows."""
        from ..persistence import save_model

        self._check_fitted()
        save_model(self, path)

    @classmethod
    def load(cls, path: str | Path) -> "BaseGenerator":
        from ..persistence import load_model

        model = load_model(path)
        if not isinstance(model, cls):
            raise ConfigError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}.")
        return model

    # ------------------------------------------------------------------ helpers
    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "privacy_spent_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet. Fix: call fit(data, schema) "
                                 "or load a saved model first.")

    def privacy_summary(self) -> str:
        self._check_fitted()
        return self.privacy_spent_.summary()

    # ------------------------------------------------------------------ for subclasses
    def _fit(self, data: pd.DataFrame, schema: Schema, rng: np.random.Generator, plan: Plan) -> PrivacySpend:
        raise NotImplementedError

    def _restore(self) -> None:
        """Rebuild objects derived from the learned state (networks, encoders); called after fit and load."""

    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        raise NotImplementedError

    def _get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """JSON-serialisable state and named numeric arrays. Must hold parameters only, never rows."""
        raise NotImplementedError

    def _set_state(self, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        raise NotImplementedError


def _check_extra_params(method: Any, params: Mapping[str, Any], what: str, fixed: int) -> None:
    """Refuse an unknown generator-specific argument before any budget is reserved (not a TypeError mid-fit)."""
    known = list(inspect.signature(method).parameters)[fixed:]
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ConfigError(f"{what} got unknown argument(s) {unknown}. Fix: use one of "
                          f"{known or 'no extra arguments'}.")


def blocking_violations(violations: Any, schema: Schema, on_violation: str) -> list:
    """The violations a fit refuses: all but the fixable ones (out of bounds, undeclared category, not whole for
    an integer field) when clipping is asked for or the field was bought with DP (``dp:``: a noisy draft cannot
    see a few tail values, a few non-whole ones or rare categories); :func:`conform_rows` says what is done with
    them. Values of another type (``wrong_type``) and +/-inf (``non_finite``) pass only in a column whose type the
    DP draft chose (a noisy draft keeps a type that holds almost all values, and counts infinities as nulls): fits
    read them as nulls. A hand-declared
    (``public:``) field's violations block unless ``on_violation="clip"``."""
    fixable = {"below_minimum", "above_maximum", "unknown_category", "not_integer"}
    drafted = _dp_drafted_columns(schema)
    blocking = []
    for v in violations:
        f = schema[v.column] if (v.column is not None and v.column in schema) else None
        dp_sourced = f is not None and f.source.startswith("dp:")
        if v.code in fixable and (on_violation == "clip" or dp_sourced):
            continue
        if v.code in ("null_not_allowed", "wrong_type", "non_finite") and v.column in drafted:  # a DP draft
            continue  # cannot see a few nulls (rows dropped); other types and +/-inf are read as nulls
        blocking.append(v)
    return blocking


def _dp_drafted_columns(schema: Schema) -> set[str]:
    """Columns whose kind and nullability a DP draft decided (``Schema.draft(epsilon=...)``'s spend record)."""
    return set(schema.draft_details.get("kinds") or ())


def conform_rows(data: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Canonical dtypes, values clipped into declared bounds (and rounded for integer fields), an undeclared
    category put in the column's null cell, rows with a null in a non-nullable field dropped; learnable columns
    only.

    Privacy: each output row is a function of one input row and the public schema only (no statistic of the
    table), so the map is stable under add/remove-one-row (a neighbouring table gives at most one row more or
    less) and runs the same on each partition of a Dask table. An undeclared category costs no row where the
    column is nullable (every DP-drafted categorical column is: :mod:`synthgen.schema.draft_values`); the
    generator then learns "missing or not listed" as the null cell's share, under its own noise. The number of
    rows kept is never reported (only :func:`check_enough_rows`'s fixed message)."""
    table = schema.coerce(data)
    keep = np.ones(len(table), dtype=bool)
    drafted = _dp_drafted_columns(schema)
    for f in schema.learnable:
        if f.kind == "numeric":
            if f.name in drafted:  # the draft counted +/-inf as nulls: read them so, not clipped to a bound
                table[f.name] = table[f.name].mask(np.isinf(table[f.name].to_numpy(dtype=np.float64)))
            table[f.name] = table[f.name].clip(f.lower, f.upper)
            if f.integer:  # non-whole values of an integer field (allowed above only when clipping or dp:)
                table[f.name] = table[f.name].round().clip(np.ceil(f.lower), np.floor(f.upper))
        elif f.kind == "datetime":
            table[f.name] = table[f.name].clip(f.lower_ts, f.upper_ts)
        # categorical: coerce() put undeclared categories in the null cell, where they stay.
        if not f.nullable:  # nulls (or undeclared categories) here pass validation only under clip or a DP draft
            keep &= table[f.name].notna().to_numpy()
    return table.loc[keep, [f.name for f in schema.learnable]].reset_index(drop=True)


def check_enough_rows(gen: Any, n: int) -> None:
    if n < 2:
        raise DataValidationError(
            f"{type(gen).__name__} needs at least 2 rows to learn from (after rows with nulls or undeclared "
            "categories in non-nullable columns were dropped). Fix: pass a larger table, or declare those "
            "columns nullable.")  # no count: n is private


def _draft_not_dp(schema: Schema | None) -> bool:
    """A schema drafted under the seeded-noise test switch: its bounds are not DP, so no fit on it is."""
    spend = getattr(schema, "draft_spend", None)
    return bool(spend) and spend.get("guarantee") == "none"


def warn_no_guarantee(obj: BaseGenerator) -> None:
    warnings.warn(f"{type(obj).__name__}: {obj.no_guarantee_reason}. Its output is NOT differentially private.",
                  UserWarning, stacklevel=3)
