"""The release gate: a Great Expectations (GX 1.x) suite built from the declared schema and the report thresholds.

What goes into a suite is public by construction: the schema's declared column set, types, bounds, categories and
null rules, and the thresholds of a release config. Nothing is read off the data to build it.

:func:`run_gate` validates a synthetic release and returns ONE JSON document in GX's validation-result shape
(``success``, ``statistics``, ``results``) with synthgen's own checks appended to ``results`` (``require_dp``,
``max_epsilon``, ``budget_not_exceeded``, ``no_copied_rows``). Every result names its check in
``expectation_config.meta.check``; ``failed_checks`` lists the names that failed.

Report thresholds are table-level expectations run by GX on a second batch: the report's headline metrics as a
one-row table (``expect_column_values_to_be_between`` on ``mia_auc``, ``fidelity_score``, ...). That suite is
exported beside the data suite so teams can run both in their own GX deployments.

GX is an optional dependency (``pip install 'synthgen[gx]'``) imported lazily; without it the same checks run
natively and the document has the same shape (``meta.engine == "native"``).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from .exceptions import InputError
from .release import THRESHOLD_METRICS, Thresholds

INT_TYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
             "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"]
FLOAT_TYPES = ["float16", "float32", "float64", "Float32", "Float64"]
STRING_TYPES = ["str", "string", "object", "StringDtype"]
BOOL_TYPES = ["bool", "boolean", "BooleanDtype"]
DATETIME_TYPES = ["datetime64", "datetime64[ns]", "datetime64[us]", "datetime64[ms]", "datetime64[s]"]
# Result keys kept from GX results: counts and shares only (GX also lists unexpected values and row indices).
_KEEP_RESULT_KEYS = ("observed_value", "element_count", "unexpected_count", "unexpected_percent", "missing_count",
                     "missing_percent")
DEFAULT_MAX_EXACT_MATCH_RATE = 0.0


# ------------------------------------------------------------------------------------------ suite specs
def _spec(kind: str, check: str, source: str, **kwargs: Any) -> dict:
    return {"type": kind, "kwargs": kwargs, "meta": {"check": check, "source": source}}


def _type_list(f: Any) -> list[str]:
    if f.kind == "numeric":
        types = INT_TYPES + (FLOAT_TYPES if (not f.integer or f.nullable) else [])
        return types
    if f.kind == "boolean":
        return BOOL_TYPES + (["object", "float64"] if f.nullable else [])
    if f.kind == "datetime":
        return DATETIME_TYPES
    if f.kind == "categorical":
        t = f.type
        if t == "string":
            return STRING_TYPES
        if t == "integer":
            return INT_TYPES + (["float64"] if f.nullable else [])
        if t == "number":
            return INT_TYPES + FLOAT_TYPES
        return BOOL_TYPES + (["object", "float64"] if f.nullable else [])
    return STRING_TYPES


def data_expectations(schema: Any) -> list[dict]:
    """Expectation specs for a synthetic release of ``schema`` (public schema values only)."""
    specs = [_spec("expect_table_columns_to_match_set", "columns", "schema: declared column set",
                   column_set=list(schema.release_names), exact_match=True)]
    for f in schema.fields:
        if f.name not in schema.release_names or f.kind == "identifier":
            continue
        specs.append(_spec("expect_column_values_to_be_in_type_list", f"type:{f.name}",
                           f"schema: declared type {f.type}", column=f.name, type_list=_type_list(f)))
        if f.kind == "numeric":
            lo = int(f.lower) if f.integer and float(f.lower).is_integer() else f.lower
            hi = int(f.upper) if f.integer and float(f.upper).is_integer() else f.upper
            specs.append(_spec("expect_column_values_to_be_between", f"bounds:{f.name}", f.bounds_source,
                               column=f.name, min_value=lo, max_value=hi))
        elif f.kind == "datetime":
            specs.append(_spec("expect_column_values_to_be_between", f"bounds:{f.name}", f.bounds_source,
                               column=f.name, min_value=f.lower, max_value=f.upper))
        elif f.kind == "categorical":
            specs.append(_spec("expect_column_values_to_be_in_set", f"categories:{f.name}", f.categories_source,
                               column=f.name, value_set=_category_values(f)))
        if not f.nullable:
            specs.append(_spec("expect_column_values_to_not_be_null", f"not_null:{f.name}",
                               "schema: column is not nullable", column=f.name))
    return specs


def report_expectations(thresholds: Thresholds | None) -> list[dict]:
    """Table-level expectations on the report's headline metrics (one row, one column per metric)."""
    specs = []
    if thresholds is None:
        return specs
    for key, (metric, direction) in THRESHOLD_METRICS.items():
        value = getattr(thresholds, key)
        if value is None:
            continue
        bound = {"min_value": value} if direction == "min" else {"max_value": value}
        specs.append(_spec("expect_column_values_to_be_between", f"threshold:{key}", f"release config: {key}",
                           column=metric, **bound))
    return specs


def _category_values(f: Any) -> list:
    if f.type == "string":
        return [_canon(c) for c in f.categories]
    return list(f.categories)


def _canon(v: Any) -> Any:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _frame_for_gate(df: Any, schema: Any) -> Any:
    """The release as the gate sees it: datetimes parsed, string categories in canonical text (view only)."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:  # GX 1.24 does not recognise pandas 3's "str" dtype; object columns of str values it does
        if isinstance(out[col].dtype, pd.StringDtype):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    for f in schema.fields:
        if f.name not in out.columns:
            continue
        if f.kind == "datetime":
            out[f.name] = pd.to_datetime(out[f.name], errors="coerce")
        elif f.kind == "categorical" and f.type == "string" and pd.api.types.is_numeric_dtype(out[f.name]):
            s = out[f.name]
            out[f.name] = pd.Series([None if pd.isna(v) else _canon(v.item() if hasattr(v, "item") else v)
                                     for v in s], index=s.index, dtype=object)
    return out


# ------------------------------------------------------------------------------------------ GX plumbing
def gx_available() -> bool:
    try:
        import great_expectations  # noqa: F401
    except Exception:  # noqa: BLE001 - any import failure means "not usable here"
        return False
    return True


def _gx():
    import logging
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        import great_expectations.expectations as gxe
        from great_expectations.data_context.types.base import ProgressBarsConfig
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    return gx, gxe, ProgressBarsConfig


def _class_name(kind: str) -> str:
    return "".join(w.capitalize() for w in kind.split("_"))


def _gx_suite(gx: Any, gxe: Any, name: str, specs: Sequence[dict]) -> Any:
    suite = gx.ExpectationSuite(name=name, meta={"generated_by": "synthgen", "public_values_only": True})
    for s in specs:
        cls = getattr(gxe, _class_name(s["type"]))
        suite.add_expectation(cls(**s["kwargs"], meta=dict(s["meta"])))
    return suite


def suite_documents(schema: Any, thresholds: Thresholds | None = None, name: str = "synthgen-release") -> dict:
    """``{"data": suite_json, "report": suite_json}``: GX ExpectationSuite JSON (or the same shape natively)."""
    docs = {}
    for part, specs in (("data", data_expectations(schema)), ("report", report_expectations(thresholds))):
        sname = f"{name}-{part}"
        if gx_available():
            gx, gxe, _ = _gx()
            docs[part] = _gx_suite(gx, gxe, sname, specs).to_json_dict()
        else:
            docs[part] = {"name": sname, "expectations": [dict(s, severity="critical") for s in specs],
                          "meta": {"generated_by": "synthgen", "public_values_only": True, "engine": "native"},
                          "notes": None}
    return docs


def export_suite(schema: Any, path: str | Path, thresholds: Thresholds | None = None) -> list[Path]:
    """Write the data suite to ``path`` and, with thresholds, the report suite to ``<stem>.report.json``."""
    from .io import atomic_write_json

    path = Path(path)
    docs = suite_documents(schema, thresholds)
    written = [path]
    atomic_write_json(path, _jsonable(docs["data"]))
    if docs["report"]["expectations"]:
        rpath = path.with_name(f"{path.stem}.report{path.suffix or '.json'}")
        atomic_write_json(rpath, _jsonable(docs["report"]))
        written.append(rpath)
    return written


def _run_gx(frames: Sequence[tuple[str, Any, list[dict]]]) -> tuple[list[dict], str]:
    """Validate each (name, DataFrame, specs) in one fresh ephemeral context; return sanitised results."""
    gx, gxe, ProgressBarsConfig = _gx()
    import warnings

    results: list[dict] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = ctx.data_sources.add_pandas("synthgen")
        for name, df, specs in frames:
            if not specs:
                continue
            batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe(name)
            suite = ctx.suites.add(_gx_suite(gx, gxe, f"synthgen-release-{name}", specs))
            vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=f"validate-{name}", data=batch,
                                                                        suite=suite))
            res = vd.run(batch_parameters={"dataframe": df},
                         result_format={"result_format": "SUMMARY", "partial_unexpected_count": 0})
            for r in res.to_json_dict()["results"]:
                results.append(_sanitise(r))
    return results, f"great_expectations {gx.__version__}"


def _sanitise(r: dict) -> dict:
    cfg = r.get("expectation_config") or {}
    kwargs = {k: v for k, v in (cfg.get("kwargs") or {}).items() if k != "batch_id"}
    res = {k: v for k, v in (r.get("result") or {}).items() if k in _KEEP_RESULT_KEYS}
    exc = r.get("exception_info") or {}
    raised = False
    message = None
    if isinstance(exc, dict):
        if "raised_exception" in exc:
            raised, message = bool(exc.get("raised_exception")), exc.get("exception_message")
        else:  # keyed by metric id: {id: {exception_message, ...}}
            for v in exc.values():
                if isinstance(v, dict) and v.get("raised_exception", True):
                    raised, message = True, v.get("exception_message")
                    break
    if message:
        message = str(message).splitlines()[0][:200]
    return {"expectation_config": {"type": cfg.get("type"), "kwargs": kwargs, "meta": cfg.get("meta") or {}},
            "success": bool(r.get("success")), "result": res,
            "exception_info": {"raised_exception": raised, "exception_message": message}}


# ------------------------------------------------------------------------------------------ native engine
def _run_native(frames: Sequence[tuple[str, Any, list[dict]]]) -> tuple[list[dict], str]:
    import numpy as np
    import pandas as pd

    results = []
    for _, df, specs in frames:
        for s in specs:
            kw, kind = s["kwargs"], s["type"]
            res: dict = {}
            exc = {"raised_exception": False, "exception_message": None}
            ok = False
            col = kw.get("column")
            if col is not None and col not in df.columns:
                exc = {"raised_exception": True,
                       "exception_message": f'The column "{col}" in BatchData does not exist.'}
            elif kind == "expect_table_columns_to_match_set":
                observed = [str(c) for c in df.columns]
                res["observed_value"] = observed
                ok = set(observed) == set(kw["column_set"])
            elif kind == "expect_column_values_to_be_in_type_list":
                dtype = df[col].dtype
                name = "str" if isinstance(dtype, pd.StringDtype) else (
                    "datetime64" if pd.api.types.is_datetime64_any_dtype(dtype) else str(dtype))
                res["observed_value"] = name
                ok = name in kw["type_list"]
            else:
                s_ = df[col]
                nonnull = s_.notna()
                if kind == "expect_column_values_to_not_be_null":
                    bad = ~nonnull
                    res.update(element_count=len(s_))
                else:
                    v = s_[nonnull]
                    if kind == "expect_column_values_to_be_in_set":
                        bad_v = ~v.isin(kw["value_set"])
                    else:
                        if pd.api.types.is_datetime64_any_dtype(v):
                            x = v
                            lo = pd.Timestamp(kw["min_value"]) if kw.get("min_value") is not None else None
                            hi = pd.Timestamp(kw["max_value"]) if kw.get("max_value") is not None else None
                        else:
                            x = pd.to_numeric(v, errors="coerce")
                            lo, hi = kw.get("min_value"), kw.get("max_value")
                        bad_v = x.isna()
                        if lo is not None:
                            bad_v |= x < lo
                        if hi is not None:
                            bad_v |= x > hi
                    bad = pd.Series(False, index=s_.index)
                    bad[v.index] = bad_v.to_numpy()
                    res.update(element_count=len(s_), missing_count=int((~nonnull).sum()))
                n_bad = int(np.asarray(bad).sum())
                res.update(unexpected_count=n_bad, unexpected_percent=100.0 * n_bad / max(len(s_), 1))
                ok = n_bad == 0
            results.append({"expectation_config": {"type": kind, "kwargs": dict(kw), "meta": dict(s["meta"])},
                            "success": bool(ok) and not exc["raised_exception"], "result": res,
                            "exception_info": exc})
    return results, "native"


# ------------------------------------------------------------------------------------------ synthgen checks
def _check(name: str, success: bool, message: str, **observed: Any) -> dict:
    return {"expectation_config": {"type": f"synthgen_{name}", "kwargs": {}, "meta": {"check": name}},
            "success": bool(success), "result": {"observed_value": observed or None, "message": message},
            "exception_info": {"raised_exception": False, "exception_message": None}}


def privacy_checks(privacy: Mapping[str, Any] | None, thresholds: Thresholds | None,
                   budget: tuple[float | None, float | None] = (None, None), ledger: Any = None) -> list[dict]:
    """synthgen's own checks on the privacy of a release: DP required, max epsilon, budget not exceeded."""
    t = thresholds or Thresholds()
    out = []
    guarantee = (privacy or {}).get("guarantee")
    eps = (privacy or {}).get("epsilon") if guarantee == "dp" else (math.inf if guarantee == "none" else None)
    delta = (privacy or {}).get("delta") if guarantee == "dp" else None
    if t.require_dp:
        if privacy is None:
            out.append(_check("require_dp", False, "require_dp is set but no privacy information was given. "
                              "Fix: pass the report (--report) or the model directory (--model)."))
        else:
            out.append(_check("require_dp", guarantee == "dp",
                              "the release carries a DP guarantee" if guarantee == "dp" else
                              "the release has NO differential-privacy guarantee but the config requires one. "
                              "Fix: use a DP generator such as 'dp-copula'.", guarantee=guarantee))
    if t.max_epsilon is not None:
        if eps is None:
            out.append(_check("max_epsilon", False, "max_epsilon is set but no privacy information was given. "
                              "Fix: pass the report (--report) or the model directory (--model).",
                              max_epsilon=t.max_epsilon))
        else:
            ok = eps <= t.max_epsilon + 1e-12
            out.append(_check("max_epsilon", ok, f"epsilon {eps:g} {'<=' if ok else '>'} max_epsilon "
                              f"{t.max_epsilon:g}" + ("" if ok else ". Fix: fit with a smaller epsilon."),
                              epsilon=None if math.isinf(eps) else eps, max_epsilon=t.max_epsilon))
    b_eps, b_delta = budget
    if b_eps is not None or ledger is not None:
        problems = []
        observed: dict[str, Any] = {}
        if b_eps is not None and eps is not None:
            observed.update(epsilon=None if math.isinf(eps) else eps, budget_epsilon=b_eps)
            if eps > b_eps + 1e-12:
                problems.append(f"the release spent epsilon {eps:g}, over the configured budget {b_eps:g}")
            if b_delta is not None and delta is not None and delta > b_delta + 1e-15:
                problems.append(f"the release spent delta {delta:g}, over the configured {b_delta:g}")
        if ledger is not None:
            from .exceptions import LedgerError
            from .privacy.ledger import PrivacyLedger

            try:
                info = PrivacyLedger(ledger).to_dict()
                observed["ledger_spent"] = info["spent"]
                observed["ledger_budget"] = info["budget"]
            except LedgerError as exc:
                problems.append(str(exc))
        out.append(_check("budget_not_exceeded", not problems,
                          "; ".join(problems) if problems else "privacy budget respected", **observed))
    return out


def copy_check(report_summary: Mapping[str, Any] | None, thresholds: Thresholds | None,
               direct_rate: float | None = None) -> list[dict]:
    """``no_copied_rows``: the share of synthetic rows equal to a training row must not exceed the threshold."""
    limit = thresholds.max_exact_match_rate if (thresholds and thresholds.max_exact_match_rate is not None) \
        else DEFAULT_MAX_EXACT_MATCH_RATE
    rate, source = None, None
    if direct_rate is not None:
        rate, source = direct_rate, "computed against the training table"
    elif report_summary is not None and report_summary.get("exact_match_rate") is not None:
        rate, source = float(report_summary["exact_match_rate"]), "report exact_match_rate"
    if rate is None:
        return []
    ok = rate <= limit + 1e-12
    msg = (f"{rate:.4%} of synthetic rows copy a training row ({source}); limit {limit:.4%}"
           + ("" if ok else ". Fix: use a DP generator or a smaller epsilon; do not release copied rows."))
    return [_check("no_copied_rows", ok, msg, exact_match_rate=rate, max_exact_match_rate=limit)]


def exact_match_rate(synthetic: Any, real: Any, schema: Any) -> float:
    """Share of synthetic rows equal (on every learnable release column) to some real row. Returns a share only."""
    import pandas as pd

    cols = [f.name for f in schema.learnable if f.name in synthetic.columns and f.name in real.columns]
    if not cols or len(synthetic) == 0:
        return 0.0

    def keys(df: Any) -> pd.Series:
        canon = schema.coerce(df[cols]) if hasattr(schema, "coerce") else df[cols]
        return pd.util.hash_pandas_object(canon[cols].astype(str), index=False)

    real_keys = set(keys(real).tolist())
    return float(keys(synthetic).isin(real_keys).mean())


# ------------------------------------------------------------------------------------------ the gate
def run_gate(synthetic: Any, schema: Any, *, report_summary: Mapping[str, Any] | None = None,
             thresholds: Thresholds | None = None, privacy: Mapping[str, Any] | None = None,
             budget: tuple[float | None, float | None] = (None, None), ledger: Any = None, real: Any = None,
             engine: str = "auto") -> dict:
    """Validate a release; return one JSON-able document (GX shape + synthgen checks). Never raises on failure."""
    import pandas as pd

    if engine not in ("auto", "gx", "native"):
        raise InputError(f"engine must be 'auto', 'gx' or 'native'; got {engine!r}.")
    if not isinstance(synthetic, pd.DataFrame):
        raise InputError(f"The synthetic release must be a table; got {type(synthetic).__name__}.")
    thresholds = thresholds or Thresholds()
    frames = [("release", _frame_for_gate(synthetic, schema), data_expectations(schema))]
    rspecs = report_expectations(thresholds)
    if rspecs:
        summary = dict(report_summary or {})
        row = {}
        for s in rspecs:
            metric = s["kwargs"]["column"]
            v = summary.get(metric)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v)):
                row[metric] = [float(v)]
        frames.append(("report", pd.DataFrame(row) if row else pd.DataFrame({"_no_report": [0]}), rspecs))
    use_gx = engine == "gx" or (engine == "auto" and gx_available())
    if engine == "gx" and not gx_available():
        raise InputError("Great Expectations is not installed. Fix: pip install 'synthgen[gx]' or use the native "
                         "engine.")
    results, engine_name = (_run_gx if use_gx else _run_native)(frames)
    for r in results:  # a threshold whose metric the report lacks: say so
        check = r["expectation_config"]["meta"].get("check", "")
        if check.startswith("threshold:") and r["exception_info"]["raised_exception"]:
            metric = r["expectation_config"]["kwargs"].get("column")
            r["exception_info"]["exception_message"] = (
                f"the report has no {metric!r} metric, so {check.split(':', 1)[1]} cannot be checked. "
                "Fix: pass a report (--report) that computes it, or remove the threshold.")
    if privacy is None and report_summary is not None and isinstance(report_summary.get("privacy"), Mapping):
        privacy = report_summary["privacy"]
    results += privacy_checks(privacy, thresholds, budget, ledger)
    direct = exact_match_rate(synthetic, real, schema) if real is not None else None
    results += copy_check(report_summary, thresholds, direct)
    n_ok = sum(1 for r in results if r["success"])
    failed = [r["expectation_config"]["meta"].get("check") or r["expectation_config"]["type"]
              for r in results if not r["success"]]
    from . import __version__

    return {
        "success": not failed,
        "statistics": {"evaluated_expectations": len(results), "successful_expectations": n_ok,
                       "unsuccessful_expectations": len(results) - n_ok,
                       "success_percent": 100.0 * n_ok / len(results) if results else 100.0},
        "results": results,
        "failed_checks": failed,
        "meta": {"engine": engine_name, "synthgen_version": __version__, "suite_name": "synthgen-release",
                 "thresholds": thresholds.to_dict(), "n_rows": int(len(synthetic)),
                 "privacy": dict(privacy) if privacy is not None else None},
    }


def _jsonable(obj: Any) -> Any:
    """Numpy scalars/arrays -> plain Python, NaN/inf -> None: the report's own converter."""
    from evaluators.base import jsonable

    return jsonable(obj)


def gate_json(doc: Mapping[str, Any]) -> dict:
    """The gate document made strictly JSON-serialisable (numpy scalars and infinities converted)."""
    return _jsonable(dict(doc))
