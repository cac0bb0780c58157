"""Expectation specs for a release: built from the declared schema and the release thresholds, nothing else.

Privacy argument: every value in a spec (column set, types, bounds, categories, null rules, thresholds) is public:
it comes from the declared schema or the release config, never from the data. A spec is an engine-neutral dict
``{"type": <GX expectation name>, "kwargs": {...}, "meta": {"check": <name>, "source": <where it came from>}}``,
run by either engine in :mod:`.engines`.
"""
from __future__ import annotations

from typing import Any

from synthgen._json import category_key
from synthgen.schema.times import to_timestamps

from ..config import THRESHOLD_METRICS, Thresholds

# pandas' nullable dtypes are listed twice: by their str() (the native engine) and by their class name, the only
# spelling GX 1.x resolves to the extension dtype (it cannot resolve "Int64": nullable integer columns failed).
_NULLABLE_INTS = ["Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"]
INT_TYPES = (["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"] + _NULLABLE_INTS
             + [f"{t}Dtype" for t in _NULLABLE_INTS])
FLOAT_TYPES = ["float16", "float32", "float64", "Float32", "Float64", "Float32Dtype", "Float64Dtype"]
STRING_TYPES = ["str", "string", "object", "StringDtype"]
BOOL_TYPES = ["bool", "boolean", "BooleanDtype"]
DATETIME_TYPES = ["datetime64", "datetime64[ns]", "datetime64[us]", "datetime64[ms]", "datetime64[s]"]


def spec(kind: str, check: str, source: str, **kwargs: Any) -> dict:
    """One expectation spec (see the module docstring)."""
    return {"type": kind, "kwargs": kwargs, "meta": {"check": check, "source": source}}


def _type_list(f: Any) -> list[str]:
    nullable_bool = ["object", "float64"] if f.nullable else []
    if f.kind == "numeric":
        return INT_TYPES + (FLOAT_TYPES if (not f.integer or f.nullable) else [])
    if f.kind == "boolean":
        return BOOL_TYPES + nullable_bool
    if f.kind == "datetime":
        return DATETIME_TYPES
    if f.kind == "categorical":
        if f.type == "string":
            return STRING_TYPES
        if f.type == "integer":
            return INT_TYPES + (["float64"] if f.nullable else [])
        if f.type == "number":
            return INT_TYPES + FLOAT_TYPES
        return BOOL_TYPES + nullable_bool
    return STRING_TYPES


def _category_values(f: Any) -> list:
    """Declared categories as the gate compares them: string categories by their canonical key."""
    if f.type == "string":
        return [category_key(c) for c in f.categories]
    return list(f.categories)


def _field_specs(f: Any) -> list[dict]:
    out = [spec("expect_column_values_to_be_in_type_list", f"type:{f.name}", f"schema: declared type {f.type}",
                column=f.name, type_list=_type_list(f))]
    if f.kind == "numeric":
        lo = int(f.lower) if f.integer and float(f.lower).is_integer() else f.lower
        hi = int(f.upper) if f.integer and float(f.upper).is_integer() else f.upper
        out.append(spec("expect_column_values_to_be_between", f"bounds:{f.name}", f.bounds_source,
                        column=f.name, min_value=lo, max_value=hi))
    elif f.kind == "datetime":
        out.append(spec("expect_column_values_to_be_between", f"bounds:{f.name}", f.bounds_source,
                        column=f.name, min_value=f.lower, max_value=f.upper))
    elif f.kind == "categorical":
        out.append(spec("expect_column_values_to_be_in_set", f"categories:{f.name}", f.categories_source,
                        column=f.name, value_set=_category_values(f)))
    if not f.nullable:
        out.append(spec("expect_column_values_to_not_be_null", f"not_null:{f.name}",
                        "schema: column is not nullable", column=f.name))
    return out


def data_expectations(schema: Any) -> list[dict]:
    """Expectation specs for a synthetic release of ``schema`` (public schema values only)."""
    specs = [spec("expect_table_columns_to_match_set", "columns", "schema: declared column set",
                  column_set=list(schema.release_names), exact_match=True)]
    for f in schema.fields:
        if f.name in schema.release_names and f.kind != "identifier":
            specs += _field_specs(f)
    return specs


def report_expectations(thresholds: Thresholds | None) -> list[dict]:
    """Table-level expectations on the report's headline metrics (one row, one column per metric)."""
    specs: list[dict] = []
    if thresholds is None:
        return specs
    for key, (metric, direction) in THRESHOLD_METRICS.items():
        value = getattr(thresholds, key)
        if value is None:
            continue
        bound = {"min_value": value} if direction == "min" else {"max_value": value}
        specs.append(spec("expect_column_values_to_be_between", f"threshold:{key}", f"release config: {key}",
                          column=metric, **bound))
    return specs


def _numpy_dtype(s: Any) -> Any:
    """A column in the numpy dtype a CSV read would give it: nullable integers as int64 (float64 with nulls),
    nullable floats as float64, nullable booleans as bool (object with None for nulls), strings as object."""
    import pandas as pd

    dtype = s.dtype
    if isinstance(dtype, pd.StringDtype):  # GX 1.24 does not recognise pandas 3's "str" dtype
        return s.astype(object).where(s.notna(), None)
    if not pd.api.types.is_extension_array_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return s
    if pd.api.types.is_bool_dtype(dtype):
        return s.astype(bool) if not s.isna().any() else s.astype(object).where(s.notna(), None)
    if pd.api.types.is_integer_dtype(dtype):
        return s.astype("int64") if not s.isna().any() else s.astype("float64")
    if pd.api.types.is_float_dtype(dtype):
        return s.astype("float64")
    return s


def frame_for_gate(df: Any, schema: Any) -> Any:
    """The release as the gate sees it, the one place that prepares a frame for either engine (a copy only).

    Whether the table is in memory (``synthgen run``) or read back from its file (``synthgen validate``), the
    gate sees the same dtypes: pandas' nullable extension dtypes become the numpy dtypes a file read gives
    (:func:`_numpy_dtype`; GX 1.x rejected an in-memory ``Int64`` column), datetimes are parsed and string
    categories are in canonical text."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        out[col] = _numpy_dtype(out[col])
    for f in schema.fields:
        if f.name not in out.columns:
            continue
        if f.kind == "datetime":
            out[f.name] = to_timestamps(out[f.name], f.layout)
        elif f.kind == "categorical" and f.type == "string" and pd.api.types.is_numeric_dtype(out[f.name]):
            s = out[f.name]
            out[f.name] = pd.Series([None if pd.isna(v) else category_key(v.item() if hasattr(v, "item") else v)
                                     for v in s], index=s.index, dtype=object)
        elif (f.kind == "numeric" or (f.kind == "categorical" and f.type in ("integer", "number"))) \
                and out[f.name].dtype == object:
            out[f.name] = _numbers_as_read(out[f.name])
    return out


def _numbers_as_read(s: Any) -> Any:
    """An object column of numbers (and nulls), as a CSV read gives it: int64 when whole and complete, else
    float64. A column holding anything that is not a number is left as it is (its type check then fails)."""
    import pandas as pd

    x = pd.to_numeric(s, errors="coerce")
    if bool((x.isna() & s.notna()).any()):
        return s
    if not x.isna().any() and bool((x == x.round()).all()):
        return x.astype("int64")
    return x.astype("float64")
