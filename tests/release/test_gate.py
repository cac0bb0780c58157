"""The release gate (synthgen.release.gate): specs, both engines, and synthgen's own checks.

Tests marked "old main" fail on the code before the privacy-truthfulness work (issue 10):
- require_dp passed a malformed "dp" record (infinite or missing epsilon);
- the gate accepted a report that describes another table (no report_matches_release check);
- the gate document did not say when it holds statistics of the private data.
"""
import math

import numpy as np
import pandas as pd
import pytest

from synthgen import BooleanField, CategoricalField, DatetimeField, IdentifierField, NumericField, Schema
from synthgen.io import read_table, write_table
from synthgen.privacy.spend import DPSpend, NoGuarantee
from synthgen.release import Thresholds
from synthgen.release.gate import (check_result, copy_check, data_expectations, gx_available, privacy_checks,
                                   run_gate, run_native)

ENGINES = ["native"] + (["gx"] if gx_available() else [])


@pytest.fixture(scope="module")
def schema():
    return Schema((
        IdentifierField("id"),
        NumericField("age", 0, 120, integer=True, bounds_source="public:human ages"),
        NumericField("income", 0, 1e6, nullable=True, bounds_source="public:survey cap"),
        NumericField("visits", 0, 50, integer=True, nullable=True, bounds_source="public:cap"),
        CategoricalField("sex", ("f", "m"), categories_source="public:survey codebook"),
        CategoricalField("code", ("01", "7", "x"), categories_source="public:codebook"),
        BooleanField("smoker", nullable=True),
        DatetimeField("visit", "2020-01-01", "2020-12-31", bounds_source="public:study period"),
    ), name="survey")


@pytest.fixture(scope="module")
def table():
    """A release of ``schema`` (the identifier column is dropped from releases)."""
    rng = np.random.default_rng(0)
    n = 300
    return pd.DataFrame({
        "age": rng.integers(0, 121, n),
        "income": np.where(rng.random(n) < 0.1, np.nan, rng.uniform(0, 1e6, n).round(3)),
        "visits": pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 51, n)), dtype="Int64"),
        "sex": rng.choice(["f", "m"], n),
        "code": rng.choice(["7", "x"], n),
        "smoker": pd.Series(rng.choice([True, False, None], n), dtype=object),
        "visit": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24, n), unit="h"),
    })


def _privacy_only(privacy, **thresholds):
    return privacy_checks(privacy, Thresholds(**thresholds))


def _by_check(doc):
    return {r["expectation_config"]["meta"]["check"]: r for r in doc["results"]}


# ------------------------------------------------------------------------------------------------ DP checks
def test_require_dp_passes_a_valid_dp_spend():
    (r,) = _privacy_only(DPSpend(1.0, 1e-6).to_dict(), require_dp=True)
    assert r["success"] is True


def test_require_dp_fails_a_no_guarantee_spend_with_an_accounted_epsilon():
    """A fit on an inferred schema or under seeded test noise: the accountant's epsilon is not a guarantee."""
    spend = NoGuarantee("not DP: privacy noise seeded by a test switch", accounted=DPSpend(1.0, 1e-6)).to_dict()
    assert spend["guarantee"] == "none" and spend["accounted"]["epsilon"] == 1.0
    req, eps, budget = privacy_checks(spend, Thresholds(require_dp=True, max_epsilon=3.0), budget=(3.0, 1e-5))
    assert req["success"] is False and "seeded by a test switch" in req["result"]["message"]
    assert "does not hold" in req["result"]["message"]
    assert eps["success"] is False and eps["result"]["observed_value"]["epsilon"] is None  # infinite, not 1.0
    assert budget["success"] is False


@pytest.mark.parametrize("record", [
    {"guarantee": "dp", "epsilon": math.inf, "delta": 1e-6},
    {"guarantee": "dp", "epsilon": -1.0, "delta": 1e-6},
    {"guarantee": "dp"},
    {"guarantee": "DP", "epsilon": 1.0, "delta": 1e-6},
])
def test_require_dp_fails_a_malformed_dp_record(record):
    """old main: require_dp looked at the "guarantee" string only, so an infinite epsilon passed."""
    (r,) = _privacy_only(record, require_dp=True)
    assert r["success"] is False


def test_require_dp_fails_without_privacy_information():
    (r,) = _privacy_only(None, require_dp=True)
    assert r["success"] is False and "Fix:" in r["result"]["message"]


def test_gate_document_fails_require_dp_for_an_accounted_no_guarantee(schema, table):
    spend = NoGuarantee("not DP: bounds inferred from the data", accounted=DPSpend(0.5, 1e-7)).to_dict()
    doc = run_gate(table, schema, thresholds=Thresholds(require_dp=True), privacy=spend, engine="native")
    assert doc["success"] is False and "require_dp" in doc["failed_checks"]


# ---------------------------------------------------------------------------------------- report integrity
@pytest.fixture(scope="module")
def report_summary(schema, table):
    import evaluators

    real = table.sample(frac=1.0, random_state=3).reset_index(drop=True)
    return dict(evaluators.evaluate(real, table, None, schema, metrics=["privacy"]).summary)


def test_report_records_the_sha256_of_the_table_it_evaluated(report_summary, schema, table):
    from evaluators.base import table_sha256

    rec = report_summary["synthetic_table"]
    assert rec == {"sha256": table_sha256(table, schema), "basis": "schema"}
    other = table.copy()
    other.loc[0, "age"] = (int(other.loc[0, "age"]) + 1) % 121
    assert table_sha256(other, schema) != rec["sha256"]


def test_gate_refuses_a_report_that_describes_another_table(report_summary, schema, table):
    """old main: the gate read the report's metrics without asking which table they described."""
    other = table.iloc[::-1].reset_index(drop=True)  # same rows, another file
    doc = run_gate(other, schema, report_summary=report_summary, engine="native")
    assert doc["success"] is False and "report_matches_release" in doc["failed_checks"]
    r = _by_check(doc)["report_matches_release"]
    assert r["result"]["observed_value"]["report_sha256"] == report_summary["synthetic_table"]["sha256"]


def test_gate_refuses_a_report_without_a_recorded_table(report_summary, schema, table):
    legacy = {k: v for k, v in report_summary.items() if k != "synthetic_table"}
    doc = run_gate(table, schema, report_summary=legacy, engine="native")
    assert "report_matches_release" in doc["failed_checks"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_report_matches_its_table_read_back_from_a_file(report_summary, schema, table, tmp_path, suffix):
    """The sha256 is of the content, so the file the pipeline writes matches the report made in memory."""
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    path = tmp_path / f"synthetic{suffix}"
    write_table(table, path)
    doc = run_gate(read_table(path), schema, report_summary=report_summary, engine="native")
    assert _by_check(doc)["report_matches_release"]["success"] is True
    # a whole report document is accepted as well as its summary
    whole = run_gate(read_table(path), schema, report_summary={"summary": report_summary}, engine="native")
    assert _by_check(whole)["report_matches_release"]["success"] is True


def test_gate_document_is_labelled_when_it_holds_private_statistics(report_summary, schema, table):
    """old main: a gate document computed from the report or the training table carried no label."""
    private = run_gate(table, schema, report_summary=report_summary, engine="native")
    assert private["contains_private_statistics"] is True and "NOT FOR RELEASE" in private["notice"]
    with_real = run_gate(table, schema, real=table, engine="native")
    assert with_real["contains_private_statistics"] is True
    public = run_gate(table, schema, engine="native")
    assert public["contains_private_statistics"] is False and "NOT FOR RELEASE" not in public["notice"]


# ------------------------------------------------------------------------------------------------ copy check
def test_copy_check_is_the_evaluators_exact_match(schema, table):
    import evaluators
    from evaluators.privacy import exact_match_rate

    real = table.iloc[:200].reset_index(drop=True)
    syn = pd.concat([table.iloc[:60], table.iloc[200:]], ignore_index=True)  # 60 of 160 rows copied
    rep = evaluators.evaluate(real, syn, None, schema, metrics=["privacy"])
    rate = exact_match_rate(syn, real, schema)
    assert rate == pytest.approx(60 / 160) == pytest.approx(rep["privacy.exact_match_rate"].value)
    (r,) = copy_check(None, Thresholds(max_exact_match_rate=0.1), syn, real, schema)
    assert r["success"] is False and r["result"]["observed_value"]["exact_match_rate"] == pytest.approx(rate)
    assert copy_check(None, Thresholds(), syn.iloc[60:], real, schema)[0]["success"] is True


def test_default_copy_limit_is_the_holdouts_chance_matches():
    """Found on AER/ResumeNames (27 columns of few categories): a DP release in which 1 row of 500 equalled a
    training row failed the gate's default limit of 0, while fresh real rows match training rows as often by
    chance. With the report's holdout reference the default limit is that share plus FAIL_EXACT_EXCESS; without
    one it stays 0; a declared limit wins; a DP release's Fix does not tell it to use a DP generator."""
    from evaluators import evaluate
    from evaluators.privacy import FAIL_EXACT_EXCESS

    rng = np.random.default_rng(0)
    small = pd.DataFrame({"a": rng.choice(["x", "y"], 900), "b": rng.choice(["p", "q", "r"], 900)})
    real, holdout, fresh = small.iloc[:300], small.iloc[300:600], small.iloc[600:]
    summary = evaluate(real, fresh, holdout, metrics=["privacy"]).summary
    assert summary["exact_match_reference"] == pytest.approx(1.0) and summary["exact_match_rate"] == 1.0
    (r,) = copy_check(summary, Thresholds())
    assert r["success"] and "chance matches" in r["result"]["message"]
    copier = {"exact_match_rate": 0.30, "exact_match_reference": 0.02}  # copies well beyond chance
    assert copy_check(copier, Thresholds())[0]["success"] is False
    assert copy_check({**copier, "exact_match_rate": 0.02 + FAIL_EXACT_EXCESS}, Thresholds())[0]["success"]
    dp = copy_check({**copier, "privacy": {"guarantee": "dp"}}, Thresholds())[0]["result"]["message"]
    assert "the release is DP" in dp and "use a DP generator" not in dp
    assert copy_check({"exact_match_rate": 0.002}, Thresholds())[0]["success"] is False  # no reference: 0
    assert copy_check({**copier, "exact_match_rate": 0.002}, Thresholds(max_exact_match_rate=0.0))[0][
        "success"] is False


def test_exact_match_handles_a_column_null_in_one_table(schema, table):
    from evaluators.privacy import exact_match_rate

    real = table.iloc[:100].copy()
    syn = table.iloc[:40].copy()
    syn["income"] = np.nan  # entirely null in the release: only training rows null there can be matched
    expected = float(real["income"].iloc[:40].isna().mean())
    assert exact_match_rate(syn, real, schema) == pytest.approx(expected)


# --------------------------------------------------------------------------------------------- data checks
@pytest.mark.parametrize("engine", ENGINES)
def test_data_checks_pass_a_conforming_table_and_name_each_failure(schema, table, engine):
    good = run_gate(table, schema, engine=engine)
    assert good["success"] is True, good["failed_checks"]
    bad = table.copy()
    bad["age"] = bad["age"].astype("int64")
    bad.loc[3, "age"] = 987654
    bad.loc[5, "sex"] = "unknown-category"
    doc = run_gate(bad, schema, engine=engine)
    assert set(doc["failed_checks"]) == {"bounds:age", "categories:sex"}
    assert _by_check(doc)["bounds:age"]["result"]["unexpected_count"] == 1
    text = repr(doc)
    assert "987654" not in text and "unknown-category" not in text  # counts only, never values


def test_expectations_come_from_the_schema_only(schema):
    specs = data_expectations(schema)
    checks = [s["meta"]["check"] for s in specs]
    assert checks[0] == "columns" and "bounds:age" in checks and "categories:code" in checks
    assert not any(c.endswith(":id") for c in checks[1:])  # identifiers are not checked
    codes = next(s for s in specs if s["meta"]["check"] == "categories:code")["kwargs"]["value_set"]
    assert codes == ["01", "7", "x"]


def test_native_engine_reports_a_missing_column(schema, table):
    results, name = run_native([("release", table.drop(columns=["sex"]), data_expectations(schema))])
    assert name == "native"
    missing = [r for r in results if r["expectation_config"]["kwargs"].get("column") == "sex"]
    assert missing and all(r["exception_info"]["raised_exception"] and not r["success"] for r in missing)


def test_threshold_without_its_metric_says_so(schema, table):
    doc = run_gate(table, schema, report_summary={"fidelity_score": 0.9},
                   thresholds=Thresholds(max_mia_auc=0.6), engine="native")
    r = _by_check(doc)["threshold:max_mia_auc"]
    assert r["success"] is False and "no 'mia_auc' metric" in r["exception_info"]["exception_message"]


def test_check_result_shape():
    r = check_result("x", True, "fine", a=1)
    assert r["expectation_config"]["meta"]["check"] == "x" and r["result"]["observed_value"] == {"a": 1}


def test_export_suite_works_in_a_fresh_process(tmp_path):
    """GX serialises a suite only once a data context exists: a fresh process with no gate run before it failed."""
    import json
    import subprocess
    import sys

    code = ("from synthgen import datasets; from synthgen.release.gate.engines import export_suite; "
            f"print(export_suite(datasets.load_schema('cps1988'), {str(tmp_path / 'suite.json')!r}))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((tmp_path / "suite.json").read_text())["expectations"]
