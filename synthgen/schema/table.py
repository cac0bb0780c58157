"""The :class:`Schema`: a frozen, declared table schema (fields + declared row bounds + draft provenance).

A schema is **declared**, never silently inferred from private data. This class holds the fields and delegates:
validation/coercion/conforming to :mod:`.validation`, the JSON document to :mod:`.document`, and drafting (DP,
charged, or marked ``inferred``) to :mod:`.draft`. Privacy: every value a Schema holds is public, bought with DP
budget (``dp:<epsilon>``, ``draft_spend`` records the spend) or marked ``inferred``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from ..exceptions import SchemaError
from . import document, validation
from .fields import Field, RowBounds


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
        if self.rows is not None and not isinstance(self.rows, RowBounds):
            raise SchemaError("Schema.rows must be a RowBounds(min=..., max=...) or None.")
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
    def draft_details(self) -> Mapping[str, Any]:
        """The details of the spend of the DP draft this schema came from (its noisy class counts, the columns
        whose kind it decided, ...); also under the seeded test switch, whose spend keeps them as ``accounted``.
        Empty for a schema that was not DP-drafted."""
        spend = self.draft_spend or {}
        return spend.get("details") or (spend.get("accounted") or {}).get("details") or {}

    def not_learnable(self, name: str) -> str:
        """Why column ``name`` is not learned (an error's sentence; empty for a learnable column): not in the
        schema, declared an identifier, or drafted as one by a DP draft that released nothing for it."""
        if name not in self.names:
            return f"The schema has no column {name!r}."
        if self[name].kind != "identifier":
            return ""
        if name in (self.draft_details.get("dropped") or ()):
            return (f"The schema's DP draft made {name!r} a dropped identifier: none of its values cleared the draft's "
                    "noise (too few rows for the draft's epsilon, or no frequent category). Declare it from a public "
                    "source (`synthgen schema draft --partial declared.json`, or --kind) or draft with more epsilon.")
        return (f"The schema declares {name!r} an identifier (neither learned nor released); to learn it, declare "
                "its kind instead (e.g. its categories from a codebook, `synthgen schema draft --partial`).")

    @property
    def release_names(self) -> tuple[str, ...]:
        """Columns a synthetic release carries (identifiers marked ``drop`` are left out)."""
        return tuple(f.name for f in self.fields if not (f.kind == "identifier" and f.synthesize == "drop"))

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
        return document.schema_to_dict(self)

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Schema":
        return cls(**document.schema_parts_from_dict(d))

    @classmethod
    def from_json(cls, text: str) -> "Schema":
        return cls.from_dict(document.parse_json(text))

    @classmethod
    def load(cls, path: str | Path) -> "Schema":
        return cls.from_dict(document.read_document(path))

    def save(self, path: str | Path) -> None:
        from ..io import atomic_write_text

        atomic_write_text(path, self.to_json() + "\n")

    # ----- validation
    def validate(self, df: pd.DataFrame, *, allow_extra: bool = False,
                 release: bool = False) -> validation.ValidationReport:
        """Report every way ``df`` breaks this schema; nothing is changed.

        ``release=True`` validates a synthetic release: identifiers marked ``drop`` must be absent.
        """
        return validation.validate_table(self, df, allow_extra=allow_extra, release=release)

    def check(self, df: pd.DataFrame, *, what: str = "data", **kw: Any) -> None:
        """Raise :class:`DataValidationError` listing every violation."""
        self.validate(df, **kw).raise_if_invalid(what)

    def coerce(self, df: pd.DataFrame) -> pd.DataFrame:
        """A copy with every declared column in its canonical dtype (floats, strings, booleans, datetimes).

        Call after :meth:`check`; values that cannot be converted become nulls.
        """
        return validation.coerce_table(self.fields, df)

    def conform(self, df: pd.DataFrame) -> pd.DataFrame:
        """Post-process generated data into the release form: column order, dtypes, bounds (public only)."""
        return validation.conform_table(self, df)

    # ----- drafting
    @classmethod
    def draft(cls, df: pd.DataFrame, epsilon: float | None = None, delta: float | None = None, *,
              ledger: Any = None, kinds: Mapping[str, str] | None = None, partial: "Schema | None" = None,
              rows: RowBounds | None = None, identifiers: Sequence[str] = (), categorical_threshold: int = 20,
              name: str | None = None) -> "Schema":
        """Propose a schema from data (see :func:`synthgen.schema.draft.draft_fields`).

        With ``epsilon``: column kinds, nullability, bounds and categories all come from charged DP mechanisms
        (or from the caller: ``partial`` fields are kept as given, ``kinds`` fixes a column's kind); the spend
        is charged to ``ledger`` (if given) and recorded in ``draft_spend``. Privacy noise comes from OS entropy
        (there is no seed). The default delta follows the declared ``rows`` bounds, never the table's length.
        Without ``epsilon``: every drafted field is marked ``inferred`` (a warning is issued) and DP generators
        refuse the schema unless called with ``allow_inferred=True``.
        """
        from .draft import draft_fields

        rows = rows if rows is not None else (partial.rows if partial is not None else None)
        df = validation.text_labels(df) if isinstance(df, pd.DataFrame) else df
        fields, draft_spend = draft_fields(df, epsilon=epsilon, delta=delta, ledger=ledger, kinds=kinds,
                                           partial=partial, rows=rows, identifiers=identifiers,
                                           categorical_threshold=categorical_threshold)
        return cls(tuple(fields), name=name if name is not None else (partial.name if partial else None),
                   rows=rows,
                   description=partial.description if partial else "", draft_spend=draft_spend)
