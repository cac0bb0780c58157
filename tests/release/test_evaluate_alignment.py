"""Issue 13: the owner's evaluation of tables whose nulls and categories differ, and how much the fit clipped.

Fails before the fix: a numeric column null in only one of the tables gave the real and synthetic encodings
different widths, so ``fidelity.detection`` (and the DCR/MIA distances, TSTR) crashed with a numpy shape error
(``synthgen evaluate``/``run`` exit 3); a declared column null in every row of one table was refused (corpus NHEFS,
POLLS: ``run`` failed after its charge); and no report said which share of the real rows lay outside the declared
bounds (clipped by the fit).
"""
import numpy as np
import pandas as pd
import pytest

import evaluators
from synthgen import CategoricalField, NumericField, Schema

N = 240
SCHEMA = Schema((
    NumericField("a", 0, 10, nullable=True, bounds_source="public:scale"),
    NumericField("b", 0, 100, integer=True, bounds_source="public:cap"),
    CategoricalField("c", ("x", "y", "z"), nullable=True, categories_source="public:codebook"),
    CategoricalField("t", ("no", "yes"), categories_source="public:codebook"),
), name="align")


def _table(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.uniform(0, 10, N), "b": rng.integers(0, 101, N),
                         "c": rng.choice(["x", "y"], N), "t": rng.choice(["no", "yes"], N)})


def _with_nulls(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.loc[::6, "a"] = np.nan
    out.loc[::5, "c"] = None
    return out


def _with_new_category(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.loc[::3, "c"] = "z"
    return out


def _all_null(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(a=np.nan, c=None)


CASES = {
    "columns null in every synthetic row": (lambda r: r, _all_null, lambda h: h),
    "nulls only in the synthetic table": (lambda r: r, _with_nulls, lambda h: h),
    "nulls only in the real table": (_with_nulls, lambda s: s, lambda h: h),
    "nulls only in the holdout": (lambda r: r, lambda s: s, _with_nulls),
    "a category only in the synthetic table": (lambda r: r, _with_new_category, lambda h: h),
    "a category only in the real table": (_with_new_category, lambda s: s, lambda h: h),
}


@pytest.mark.parametrize("case", list(CASES))
def test_evaluate_aligns_nulls_and_categories_across_tables(case):
    fr, fs, fh = CASES[case]
    real, syn, hold = fr(_table(0)), fs(_table(1)), fh(_table(2))
    rep = evaluators.evaluate(real, syn, hold, SCHEMA, target="t", metrics=["fidelity", "utility", "privacy", "mia"])
    for name in ("fidelity_score", "detection_auc", "tstr_ratio", "dcr_share", "mia_auc"):
        assert rep.summary[name] is not None, name
    assert 0.0 <= rep.summary["detection_auc"] <= 1.0


def test_the_owner_evaluation_says_how_much_of_the_real_table_lies_outside_the_declared_bounds():
    real = _table(0)
    real.loc[:5, "b"] = 150           # 6 of 240 rows above the declared maximum of 100
    real.loc[6:8, "a"] = -1.0         # 3 rows below the declared minimum of 0
    real = real.astype({"c": object})
    real.loc[9, "c"] = "w-secret"   # 1 row of a category the schema does not declare
    rep = evaluators.evaluate(real, _table(1), None, SCHEMA, metrics=["fidelity"])
    clip = rep["fidelity.clipped_share"]
    cols = clip.details["columns"]
    assert cols["b"]["share"] == pytest.approx(6 / N) and cols["b"]["above"] == pytest.approx(6 / N)
    assert cols["a"]["below"] == pytest.approx(3 / N) and cols["c"]["share"] == pytest.approx(1 / N)
    assert cols["t"]["share"] == 0.0 and clip.value == pytest.approx(6 / N) and clip.details["worst_column"] == "b"
    assert rep.summary["clipped"] == pytest.approx({"a": 3 / N, "b": 6 / N, "c": 1 / N})
    doc = rep.to_dict()
    assert doc["contains_private_statistics"] is True  # an owner's statistic, labelled as such
    assert "w-secret" not in repr(clip.to_dict())     # shares only, never a value


def test_no_clipping_is_reported_as_zero_and_without_a_schema_not_at_all():
    rep = evaluators.evaluate(_table(0), _table(1), None, SCHEMA, metrics=["fidelity"])
    assert rep["fidelity.clipped_share"].value == 0.0 and rep.summary["clipped"] == {}
    bare = evaluators.evaluate(_table(0), _table(1), None, None, metrics=["fidelity"])
    assert bare.summary["clipped"] is None


def test_a_declared_column_null_in_every_real_row_is_left_out_and_said_so():
    """A structural null (no real row has a value: corpus POLLS): nothing to compare, so not compared."""
    rep = evaluators.evaluate(_all_null(_table(0)), _table(1), None, SCHEMA, target="t", metrics=["fidelity"])
    assert {x["name"] for x in rep.not_computed} >= {"column:a", "column:c"}
    assert "a" not in rep.meta["columns"] and rep.summary["fidelity_score"] is not None
    evaluators.validate_report_dict(rep.to_dict())  # still a valid report


def test_a_target_null_in_every_synthetic_row_is_a_missing_utility_not_a_crash():
    rep = evaluators.evaluate(_table(0), _table(1).assign(t=None), _table(2), SCHEMA, target="t",
                              metrics=["fidelity", "utility"])
    assert rep.summary["tstr_ratio"] is None and rep.summary["fidelity_score"] is not None
    assert any(x["name"] == "utility" and "null in every synthetic row" in x["reason"] for x in rep.not_computed)
