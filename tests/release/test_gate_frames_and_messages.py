"""Issue 13: the gate judges a table in memory exactly as it judges the file it was written to, and every failing
check's message quotes the observed metric and the limit.

Fails before the fix: in memory the gate saw pandas' nullable dtypes (``Int64``, ``boolean``, ``Float64``) and
object columns of integer codes (the copula's integer-coded categoricals, corpus table STAR) where the file read back
gave ``int64``/``float64``/``bool`` (GX 1.x rejected the in-memory ``Int64``: ``run`` failed type
checks that ``validate`` on the same file passed); failing data and threshold checks had no message, so the CLI
printed ``1 value(s) fail`` without the metric or the limit.
"""
import numpy as np
import pandas as pd
import pytest

from synthgen import BooleanField, CategoricalField, NumericField, Schema
from synthgen.io import read_table, write_table
from synthgen.release import Thresholds
from synthgen.release.gate import gx_available, run_gate

ENGINES = ["native"] + (["gx"] if gx_available() else [])


@pytest.fixture(scope="module")
def schema():
    return Schema((
        NumericField("age", 0, 120, integer=True, bounds_source="public:ages"),
        NumericField("kids", 0, 20, integer=True, nullable=True, bounds_source="public:cap"),
        NumericField("score", 0, 1, bounds_source="public:unit"),
        BooleanField("smoker"),
        CategoricalField("grade", (1, 2, 3), nullable=True, categories_source="public:codebook"),
    ), name="frames")


@pytest.fixture(scope="module")
def nullable_table():
    """A release as a generator may return it: pandas' nullable extension dtypes."""
    rng = np.random.default_rng(1)
    n = 120
    kids = pd.array(rng.integers(0, 21, n), dtype="Int64")
    kids[::9] = pd.NA
    return pd.DataFrame({"age": pd.array(rng.integers(0, 121, n), dtype="Int64"), "kids": kids,
                         "score": pd.array(rng.random(n), dtype="Float64"),
                         "smoker": pd.array(rng.random(n) < 0.3, dtype="boolean"),
                         # an integer-coded category as a sampler returns it: Python ints and None, object dtype
                         "grade": pd.Series([None if i % 7 == 0 else int(v) for i, v in
                                             enumerate(rng.integers(1, 4, n))], dtype=object)})


def _types(doc):
    return {r["expectation_config"]["meta"]["check"]: (r["success"], r["result"].get("observed_value"))
            for r in doc["results"] if r["expectation_config"]["meta"]["check"].startswith("type:")}


@pytest.mark.parametrize("engine", ENGINES)
def test_gate_in_memory_agrees_with_the_file_read_back(schema, nullable_table, tmp_path, engine):
    path = tmp_path / "synthetic.csv"
    write_table(nullable_table, path)
    in_memory = run_gate(nullable_table, schema, engine=engine)
    from_file = run_gate(read_table(path), schema, engine=engine)
    assert from_file["success"] is True, from_file["failed_checks"]
    assert in_memory["success"] is True, in_memory["failed_checks"]
    assert _types(in_memory) == _types(from_file)


@pytest.mark.parametrize("engine", ENGINES)
def test_failing_data_checks_quote_the_count_and_the_declared_limit(schema, nullable_table, engine):
    bad = nullable_table.copy()
    bad["age"] = bad["age"].astype("int64")
    bad.loc[[2, 7], "age"] = 987654
    doc = run_gate(bad, schema, engine=engine)
    (r,) = [x for x in doc["results"] if x["expectation_config"]["meta"]["check"] == "bounds:age"]
    msg = r["result"]["message"]
    assert r["success"] is False and f"2 of {len(bad)} values" in msg and "[0, 120]" in msg
    assert "987654" not in repr(doc)  # counts and public limits only, never a value


def test_failing_thresholds_quote_the_metric_and_the_threshold(schema, nullable_table):
    summary = {"fidelity_score": 0.7123, "mia_auc": 0.51}
    doc = run_gate(nullable_table, schema, report_summary=summary, engine="native",
                   thresholds=Thresholds(min_fidelity=0.8, max_mia_auc=0.6))
    by = {r["expectation_config"]["meta"]["check"]: r for r in doc["results"]}
    fail, ok = by["threshold:min_fidelity"], by["threshold:max_mia_auc"]
    assert fail["success"] is False and fail["result"]["message"] == "fidelity_score 0.7123 < min_fidelity 0.8"
    assert ok["success"] is True and ok["result"]["message"] == "mia_auc 0.51 <= max_mia_auc 0.6"
    for r in doc["results"]:  # every failing check says what failed
        if not r["success"]:
            assert r["result"]["message"] or r["exception_info"]["exception_message"]
