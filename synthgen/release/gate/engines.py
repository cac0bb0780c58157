"""The two engines that run expectation specs: Great Expectations (GX 1.x) and a native one of the same shape.

Both take ``[(batch name, DataFrame, specs)]`` and return ``(results, engine name)``, each result in GX's
validation-result shape (``expectation_config``, ``success``, ``result``, ``exception_info``). GX is an optional
dependency (``pip install 'synthgen[gx]'``), imported lazily.

Privacy argument: a result keeps counts and shares only (:data:`KEEP_RESULT_KEYS`); GX's lists of unexpected
values and row indices are dropped, so a gate document names no value and no row of the table it checked.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from synthgen._json import jsonable

from ..config import Thresholds
from .expectations import data_expectations, report_expectations

# Result keys kept from GX results: counts and shares only (GX also lists unexpected values and row indices).
KEEP_RESULT_KEYS = ("observed_value", "element_count", "unexpected_count", "unexpected_percent", "missing_count",
                    "missing_percent")
Frames = Sequence[tuple[str, Any, list[dict]]]


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


def suite_documents(schema: Any, thresholds: Thresholds | None = None, name: str = "synthgen-release",
                    engine: str = "auto") -> dict:
    """``{"data": suite_json, "report": suite_json}``: GX ExpectationSuite JSON (or the same shape natively).

    ``engine``: ``"native"`` never touches GX; ``"gx"`` needs it; ``"auto"`` uses GX when it is installed."""
    docs = {}
    use_gx = engine == "gx" or (engine == "auto" and gx_available())
    if use_gx:
        gx, gxe, _ = _gx()
        gx.get_context(mode="ephemeral")  # GX serialises suites only once a data context exists
    for part, specs in (("data", data_expectations(schema)), ("report", report_expectations(thresholds))):
        sname = f"{name}-{part}"
        if use_gx:
            docs[part] = _gx_suite(gx, gxe, sname, specs).to_json_dict()
        else:
            docs[part] = {"name": sname, "expectations": [dict(s, severity="critical") for s in specs],
                          "meta": {"generated_by": "synthgen", "public_values_only": True, "engine": "native"},
                          "notes": None}
    return docs


def export_suite(schema: Any, path: str | Path, thresholds: Thresholds | None = None, engine: str = "auto",
                 docs: dict | None = None) -> list[Path]:
    """Write the data suite to ``path`` and, with thresholds, the report suite to ``<stem>.report.json``.
    ``docs``: suite documents built before (:func:`suite_documents`), e.g. before any budget was charged."""
    from synthgen.io import atomic_write_json

    path = Path(path)
    docs = docs if docs is not None else suite_documents(schema, thresholds, engine=engine)
    written = [path]
    atomic_write_json(path, jsonable(docs["data"]))
    if docs["report"]["expectations"]:
        rpath = path.with_name(f"{path.stem}.report{path.suffix or '.json'}")
        atomic_write_json(rpath, jsonable(docs["report"]))
        written.append(rpath)
    return written


def run_gx(frames: Frames) -> tuple[list[dict], str]:
    """Validate each (name, DataFrame, specs) in one fresh ephemeral GX context; return sanitised results."""
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


def _exception(exc: Any) -> tuple[bool, str | None]:
    raised, message = False, None
    if isinstance(exc, dict):
        if "raised_exception" in exc:
            raised, message = bool(exc.get("raised_exception")), exc.get("exception_message")
        else:  # keyed by metric id: {id: {exception_message, ...}}
            for v in exc.values():
                if isinstance(v, dict) and v.get("raised_exception", True):
                    raised, message = True, v.get("exception_message")
                    break
    return raised, (str(message).splitlines()[0][:200] if message else None)


def _sanitise(r: dict) -> dict:
    cfg = r.get("expectation_config") or {}
    kwargs = {k: v for k, v in (cfg.get("kwargs") or {}).items() if k != "batch_id"}
    res = {k: v for k, v in (r.get("result") or {}).items() if k in KEEP_RESULT_KEYS}
    raised, message = _exception(r.get("exception_info") or {})
    return {"expectation_config": {"type": cfg.get("type"), "kwargs": kwargs, "meta": cfg.get("meta") or {}},
            "success": bool(r.get("success")), "result": res,
            "exception_info": {"raised_exception": raised, "exception_message": message}}


# ------------------------------------------------------------------------------------------ native engine
def _dtype_name(s: Any) -> str:
    import pandas as pd

    if isinstance(s.dtype, pd.StringDtype):
        return "str"
    return "datetime64" if pd.api.types.is_datetime64_any_dtype(s.dtype) else str(s.dtype)


def _bad_values(kind: str, kw: dict, v: Any) -> Any:
    """Boolean mask over the non-null values ``v`` of the values that break an in-set / between expectation."""
    import pandas as pd

    if kind == "expect_column_values_to_be_in_set":
        return ~v.isin(kw["value_set"])
    lo, hi = kw.get("min_value"), kw.get("max_value")
    if pd.api.types.is_datetime64_any_dtype(v):
        x = v
        lo = pd.Timestamp(lo) if lo is not None else None
        hi = pd.Timestamp(hi) if hi is not None else None
    else:
        x = pd.to_numeric(v, errors="coerce")
    bad = x.isna()
    if lo is not None:
        bad |= x < lo
    if hi is not None:
        bad |= x > hi
    return bad


def _column_values(kind: str, kw: dict, s: Any) -> tuple[bool, dict]:
    """A per-value expectation on column ``s``: (success, result counts)."""
    import numpy as np
    import pandas as pd

    nonnull = s.notna()
    if kind == "expect_column_values_to_not_be_null":
        bad = ~nonnull
        res: dict = {"element_count": len(s)}
    else:
        v = s[nonnull]
        bad = pd.Series(False, index=s.index)
        bad[v.index] = _bad_values(kind, kw, v).to_numpy()
        res = {"element_count": len(s), "missing_count": int((~nonnull).sum())}
    n_bad = int(np.asarray(bad).sum())
    res.update(unexpected_count=n_bad, unexpected_percent=100.0 * n_bad / max(len(s), 1))
    return n_bad == 0, res


def _native_one(df: Any, s: dict) -> dict:
    kw, kind = s["kwargs"], s["type"]
    res: dict = {}
    exc = {"raised_exception": False, "exception_message": None}
    ok = False
    col = kw.get("column")
    if col is not None and col not in df.columns:
        exc = {"raised_exception": True, "exception_message": f'The column "{col}" in BatchData does not exist.'}
    elif kind == "expect_table_columns_to_match_set":
        observed = [str(c) for c in df.columns]
        res["observed_value"] = observed
        ok = set(observed) == set(kw["column_set"])
    elif kind == "expect_column_values_to_be_in_type_list":
        res["observed_value"] = _dtype_name(df[col])
        ok = res["observed_value"] in kw["type_list"]
    else:
        ok, res = _column_values(kind, kw, df[col])
    return {"expectation_config": {"type": kind, "kwargs": dict(kw), "meta": dict(s["meta"])},
            "success": bool(ok) and not exc["raised_exception"], "result": res, "exception_info": exc}


def run_native(frames: Frames) -> tuple[list[dict], str]:
    """The same checks as :func:`run_gx`, without GX (same result shape, counts only)."""
    return [_native_one(df, s) for _, df, specs in frames for s in specs], "native"
