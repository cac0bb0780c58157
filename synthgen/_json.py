"""The one JSON converter and the one category key of synthgen (schema, evaluators, gate and CLI all use these).

``jsonable`` turns numpy scalars/arrays, tuples and paths into plain JSON types; non-finite floats become ``None``
(JSON has no NaN), or a tagged ``{"__float__": "inf"}`` object with ``nonfinite="tag"`` where they must round-trip
(model manifests). ``category_key`` is how a category value is compared everywhere: a canonical text form, so
``1`` (int) read from a CSV matches a declared ``1`` or ``"1"``, and ``True`` matches ``"true"``.
"""
from __future__ import annotations

import math
from pathlib import PurePath
from typing import Any, Iterable, Mapping

import numpy as np


def jsonable(obj: Any, nonfinite: str = "null") -> Any:
    """``obj`` with numpy types, tuples, ranges and paths made JSON-serialisable.

    ``nonfinite``: ``"null"`` (NaN/inf -> None) or ``"tag"`` (-> ``{"__float__": repr}``, see :func:`unjsonable`).
    """
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v, nonfinite) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, range)):
        return [jsonable(v, nonfinite) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist(), nonfinite)
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        if math.isfinite(f):
            return f
        return {"__float__": repr(f)} if nonfinite == "tag" else None
    return obj


def unjsonable(obj: Any) -> Any:
    """Inverse of ``jsonable(..., nonfinite="tag")`` for the tagged floats."""
    if isinstance(obj, dict):
        if set(obj) == {"__float__"}:
            return float(obj["__float__"])
        return {k: unjsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [unjsonable(v) for v in obj]
    return obj


def category_key(value: Any) -> str:
    """The canonical text form of one category value (1.0 -> "1", True -> "true")."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    return str(value)


def category_keys(values: Iterable[Any]) -> list[str]:
    """``category_key`` of each value."""
    return [category_key(v) for v in values]
