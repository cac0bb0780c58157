"""The schema document on disk: a Frictionless Table Schema with an ``x-synthgen`` block per field.

``fields[{name, type, constraints{required, minimum, maximum, enum}, x-synthgen{kind, nullable, ...}}]`` plus a
top-level ``x-synthgen{format, rows{min, max, source}, draft_spend}``; ``schemas/table.schema.json`` validates it.
Everything in the document is public (declared, bought with DP, or marked ``inferred``); nothing here reads data.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Mapping

from ..exceptions import SchemaError
from ..resources import load_json_schema
from .fields import (BooleanField, CategoricalField, DatetimeField, Field, IdentifierField, NumericField,
                     RowBounds)

SCHEMA_FORMAT = "synthgen-table-schema/1"


# ------------------------------------------------------------------------------------------------ to JSON
def _numeric_parts(f: NumericField) -> tuple[dict, dict]:
    lo, hi = f.lower, f.upper
    cons = {"minimum": int(lo) if f.integer and float(lo).is_integer() else lo,
            "maximum": int(hi) if f.integer and float(hi).is_integer() else hi}
    return cons, {"integer": f.integer, "bounds_source": f.bounds_source}


_PARTS: dict[str, Callable[[Any], tuple[dict, dict]]] = {
    "numeric": _numeric_parts,
    "categorical": lambda f: ({"enum": list(f.categories)},
                              {"categories_source": f.categories_source, "ordered": f.ordered}),
    "datetime": lambda f: ({"minimum": f.lower, "maximum": f.upper},
                           {"bounds_source": f.bounds_source, **({"layout": f.layout} if f.layout != "iso" else {})}),
    "boolean": lambda f: ({}, {}),
}


def field_to_dict(f: Field) -> dict:
    """One field as a Frictionless field descriptor with its ``x-synthgen`` block."""
    d: dict[str, Any] = {"name": f.name, "type": f.type}
    if getattr(f, "description", ""):
        d["description"] = f.description
    if f.kind == "identifier":
        d["constraints"] = {"required": False}
        d["x-synthgen"] = {"kind": "identifier", "synthesize": f.synthesize}
        return d
    cons, extra = _PARTS[f.kind](f)
    if extra.get("layout"):
        d["format"] = "any"  # Frictionless: not ISO-8601; x-synthgen.layout says which year-last reading
    d["constraints"] = {"required": not f.nullable, **cons}
    d["x-synthgen"] = {"kind": f.kind, "nullable": f.nullable, **extra}
    return d


def schema_to_dict(schema: Any) -> dict:
    """The whole document of a :class:`~synthgen.schema.Schema`."""
    out: dict[str, Any] = {}
    if schema.name:
        out["name"] = schema.name
    if schema.description:
        out["description"] = schema.description
    out["fields"] = [field_to_dict(f) for f in schema.fields]
    top: dict[str, Any] = {"format": SCHEMA_FORMAT}
    if schema.rows is not None:
        r = schema.rows
        top["rows"] = {k: v for k, v in (("min", r.min), ("max", r.max), ("source", r.source)) if v is not None}
    if schema.draft_spend is not None:
        top["draft_spend"] = dict(schema.draft_spend)
    out["x-synthgen"] = top
    return out


# ---------------------------------------------------------------------------------------------- from JSON
def _need(name: str, cons: Mapping[str, Any], keys: tuple[str, ...], kind: str) -> None:
    if any(k not in cons for k in keys):
        raise SchemaError(f"Column {name!r}: {kind} columns need " + " and ".join(f"constraints.{k}" for k in keys)
                          + ".")


def _nullable(name: str, x: Mapping[str, Any], cons: Mapping[str, Any]) -> bool:
    nullable = x.get("nullable")
    if "required" in cons and nullable is not None and bool(cons["required"]) == bool(nullable):
        raise SchemaError(
            f"Column {name!r}: constraints.required={cons['required']} contradicts x-synthgen.nullable={nullable}. "
            "Fix: a nullable column has required=false."
        )
    return bool(not cons.get("required", True) if nullable is None else nullable)


def field_from_dict(d: Mapping[str, Any]) -> Field:
    """Inverse of :func:`field_to_dict`; raises :class:`SchemaError` naming the column."""
    name = d["name"]
    x = d.get("x-synthgen", {})
    cons = d.get("constraints", {}) or {}
    kind = x["kind"]
    nullable = _nullable(name, x, cons)
    desc = d.get("description", "")
    if kind == "numeric":
        _need(name, cons, ("minimum", "maximum"), "numeric")
        integer = x.get("integer", d.get("type") == "integer")
        return NumericField(name, cons["minimum"], cons["maximum"], integer=bool(integer), nullable=nullable,
                            bounds_source=x.get("bounds_source", "inferred"), description=desc)
    if kind == "categorical":
        _need(name, cons, ("enum",), "categorical")
        return CategoricalField(name, tuple(cons["enum"]), nullable=nullable,
                                categories_source=x.get("categories_source", "inferred"),
                                ordered=bool(x.get("ordered", False)), description=desc)
    if kind == "boolean":
        return BooleanField(name, nullable=nullable, description=desc)
    if kind == "datetime":
        _need(name, cons, ("minimum", "maximum"), "datetime")
        return DatetimeField(name, cons["minimum"], cons["maximum"], nullable=nullable,
                             bounds_source=x.get("bounds_source", "inferred"), date_only=d.get("type") == "date",
                             description=desc, layout=x.get("layout", "iso"))
    if kind == "identifier":
        return IdentifierField(name, synthesize=x.get("synthesize", "drop"), description=desc)
    raise SchemaError(f"Column {name!r}: unknown x-synthgen.kind {kind!r}.")


def schema_parts_from_dict(d: Mapping[str, Any]) -> dict:
    """Validate a document and return the keyword arguments of :class:`~synthgen.schema.Schema`."""
    validate_schema_document(d)
    top = d.get("x-synthgen", {}) or {}
    rows = None
    if "rows" in top:
        r = top["rows"]
        rows = RowBounds(min=r.get("min"), max=r.get("max"), source=r.get("source", "public:declared"))
    return {"fields": tuple(field_from_dict(fd) for fd in d["fields"]), "name": d.get("name"), "rows": rows,
            "description": d.get("description", ""), "draft_spend": top.get("draft_spend")}


def parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"Schema is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}.") from None


def read_document(path: str | Path) -> Any:
    path = Path(path)
    if not path.exists():
        raise SchemaError(f"Schema file {path} does not exist; check the path or draft one with "
                          "`synthgen schema draft`.")
    return parse_json(path.read_text(encoding="utf-8"))


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
