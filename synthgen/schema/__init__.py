"""Declared table schemas (public by construction): fields, validation, the JSON document and DP drafting.

- :mod:`.fields`: frozen field value objects (one class per column kind) and :class:`RowBounds`;
- :mod:`.table`: the :class:`Schema` that holds them;
- :mod:`.validation`: :meth:`Schema.validate` / ``coerce`` / ``conform`` (messages carry no data values or counts);
- :mod:`.document`: the Frictionless JSON document (``schemas/table.schema.json``);
- :mod:`.draft`: :meth:`Schema.draft`, bought with DP budget (kinds, nullability, bounds, categories) or marked
  ``inferred``.

This package imports nothing from :mod:`synthgen.generators`.
"""
from .document import SCHEMA_FORMAT, validate_schema_document
from .fields import (FIELD_KINDS, BooleanField, CategoricalField, DatetimeField, Field, IdentifierField, Kind,
                     NumericField, RowBounds, Scalar)
from .table import Schema
from .validation import ValidationReport, Violation

__all__ = [
    "FIELD_KINDS", "SCHEMA_FORMAT", "BooleanField", "CategoricalField", "DatetimeField", "Field", "IdentifierField",
    "Kind", "NumericField", "RowBounds", "Scalar", "Schema", "ValidationReport", "Violation",
    "validate_schema_document",
]
