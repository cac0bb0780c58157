"""One readable message per expectation result: the observed metric and the limit it was held to.

Both engines return counts (:mod:`.engines`); a message built from them says what was measured and what the
declared schema or the release config allowed, e.g. ``fidelity_score 0.712 < min_fidelity 0.8`` or
``3 of 500 values (0.60%) outside the declared bounds [0, 120]``.

Privacy argument: a message quotes counts and shares of the synthetic table, the public limits (declared bounds,
declared categories' number, the config's thresholds) and, for threshold checks, the report's headline metric,
which is already in the owner's gate document. It never quotes a value or a row of any table.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

_TYPES_SHOWN = 6


def _num(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)


def _share(res: Mapping[str, Any]) -> str:
    n_bad, n = int(res.get("unexpected_count") or 0), int(res.get("element_count") or 0)
    return f"{n_bad} of {n} values ({100.0 * n_bad / max(n, 1):.2f}%)"


def _threshold(kw: Mapping[str, Any], check: str, summary: Mapping[str, Any] | None, ok: bool) -> str:
    metric, key = kw.get("column"), check.split(":", 1)[1]
    value = (summary or {}).get(metric)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(float(value)):
        return f"the report has no finite {metric!r} metric, so {key} cannot be checked"
    if "min_value" in kw:
        op = ">=" if ok else "<"
        return f"{metric} {float(value):.4g} {op} {key} {_num(kw['min_value'])}"
    op = "<=" if ok else ">"
    return f"{metric} {float(value):.4g} {op} {key} {_num(kw['max_value'])}"


def _data(kind: str, kw: Mapping[str, Any], res: Mapping[str, Any]) -> str:
    col = kw.get("column")
    if kind == "expect_table_columns_to_match_set":
        observed = [str(c) for c in res.get("observed_value") or []]
        want = [str(c) for c in kw.get("column_set") or []]
        missing, extra = sorted(set(want) - set(observed)), sorted(set(observed) - set(want))
        return f"columns: missing {missing}, unexpected {extra} (declared {len(want)} columns)"
    if kind == "expect_column_values_to_be_in_type_list":
        allowed = list(kw.get("type_list") or [])
        shown = ", ".join(allowed[:_TYPES_SHOWN]) + (", ..." if len(allowed) > _TYPES_SHOWN else "")
        return f"column {col!r}: observed dtype {res.get('observed_value')!s}; the declared type allows {shown}"
    if kind == "expect_column_values_to_be_between":
        return (f"column {col!r}: {_share(res)} outside the declared bounds "
                f"[{_num(kw.get('min_value'))}, {_num(kw.get('max_value'))}] (limit: 0 values)")
    if kind == "expect_column_values_to_be_in_set":
        return (f"column {col!r}: {_share(res)} not among the {len(kw.get('value_set') or [])} declared "
                "categories (limit: 0 values)")
    if kind == "expect_column_values_to_not_be_null":
        return f"column {col!r}: {_share(res)} null in a column declared not nullable (limit: 0 values)"
    return f"column {col!r}: {_share(res)} fail {kind}"


def message(r: Mapping[str, Any], summary: Mapping[str, Any] | None = None) -> str:
    """The message of one expectation result (see the module docstring)."""
    cfg = r["expectation_config"]
    check = str(cfg["meta"].get("check") or cfg["type"])
    exc = r.get("exception_info") or {}
    if exc.get("raised_exception") and exc.get("exception_message"):
        return str(exc["exception_message"])
    if check.startswith("threshold:"):
        return _threshold(cfg["kwargs"], check, summary, bool(r["success"]))
    if exc.get("raised_exception"):
        return str(exc.get("exception_message") or "the check could not run")
    return _data(cfg["type"], cfg["kwargs"], r.get("result") or {})


def add_messages(results: list[dict], summary: Mapping[str, Any] | None = None) -> list[dict]:
    """Give every expectation result (not synthgen's own checks, which have theirs) a ``result.message``."""
    for r in results:
        res = r.setdefault("result", {})
        if res.get("message") is None:
            res["message"] = message(r, summary)
    return results
