"""Declared schemas: JSON round-trip, validation of every kind of bad input, drafting."""
import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from synthgen import (BooleanField, CategoricalField, DatetimeField, IdentifierField, NumericField, PrivacyLedger,
                      Schema)
from synthgen.exceptions import DataValidationError, SchemaError


@pytest.fixture
def schema():
    return Schema((
        IdentifierField("id"),
        NumericField("age", 0, 120, integer=True, bounds_source="public:human ages"),
        NumericField("income", 0, 1e6, nullable=True, bounds_source="public:survey cap"),
        CategoricalField("sex", ("f", "m"), categories_source="public:survey codebook"),
        BooleanField("smoker"),
        DatetimeField("visit", "2020-01-01", "2020-12-31", bounds_source="public:study period"),
    ), name="survey")


@pytest.fixture
def good():
    return pd.DataFrame({
        "id": ["a", "b", "c"], "age": [30, 41, 55], "income": [1000.0, np.nan, 52000.5],
        "sex": ["f", "m", "f"], "smoker": [True, False, True],
        "visit": pd.to_datetime(["2020-02-01", "2020-03-04", "2020-12-30"]),
    })


def test_json_roundtrip_and_file_validates(schema, tmp_path):
    path = tmp_path / "s.json"
    schema.save(path)
    assert Schema.load(path) == schema
    doc = json.loads(path.read_text())
    assert doc["fields"][1]["constraints"] == {"required": True, "minimum": 0, "maximum": 120}
    assert doc["fields"][1]["x-synthgen"]["bounds_source"] == "public:human ages"


def test_good_table_validates(schema, good):
    assert schema.validate(good).ok


def codes(schema, df, **kw):
    return {(v.column, v.code) for v in schema.validate(df, **kw).violations}


def test_every_violation_is_reported_with_its_column(schema, good):
    bad = good.copy()
    bad["age"] = [30, 200, np.nan]                     # above max + null in non-nullable
    bad["income"] = [np.inf, 1.0, 2.0]                 # +inf
    bad["sex"] = ["f", "x", "m"]                       # unseen category
    bad["extra"] = 1                                   # extra column
    bad = bad.drop(columns=["smoker"])                 # missing column
    found = codes(schema, bad)
    assert {("age", "above_maximum"), ("age", "null_not_allowed"), ("income", "non_finite"),
            ("sex", "unknown_category"), ("extra", "extra_column"), ("smoker", "missing_column")} <= found
    with pytest.raises(DataValidationError) as err:
        schema.check(bad)
    assert len(err.value.violations) >= 6
    assert "Fix:" in str(err.value)


def test_messages_hold_no_private_values(schema, good):
    bad = good.copy()
    bad["sex"] = ["f", "secret-value-123", "m"]
    bad["age"] = [30, 987, 40]
    msg = "\n".join(str(v) for v in schema.validate(bad).violations)
    assert "secret-value-123" not in msg and "987" not in msg


def test_strings_in_numeric_column_and_not_integer(schema, good):
    bad = good.copy()
    bad["age"] = ["30", "forty", "55.5"]
    found = codes(schema, bad)
    assert ("age", "wrong_type") in found and ("age", "not_integer") in found


def test_empty_table(schema, good):
    assert (None, "empty_table") in codes(schema, good.iloc[:0])


def test_release_mode_requires_dropped_identifiers_absent(schema, good):
    assert codes(schema, good.drop(columns=["id"]), release=True) == set()
    assert ("id", "extra_column") in codes(schema, good, release=True)


@pytest.mark.parametrize("make", [
    lambda: NumericField("c", 5, 4, bounds_source="public:x"),            # minimum above maximum
    lambda: NumericField("c", 5.2, 5.8, integer=True, bounds_source="public:x"),  # no whole number inside
    lambda: NumericField("c", 0, float("inf")),
    lambda: NumericField("c", 0, 1, bounds_source="guess"),
    lambda: CategoricalField("c", ()),
    lambda: CategoricalField("c", ("a", "a")),
    lambda: DatetimeField("c", "2021-01-01", "2020-01-01"),
    lambda: IdentifierField("c", synthesize="keep"),
    lambda: Schema(()),
    lambda: Schema((BooleanField("a"), BooleanField("a"))),
])
def test_bad_schemas_raise_schema_error_naming_the_fix(make):
    with pytest.raises(SchemaError) as err:
        make()
    assert len(str(err.value)) > 20


def test_schema_document_errors(tmp_path):
    with pytest.raises(SchemaError, match="not valid JSON"):
        Schema.from_json("{nope")
    doc = {"fields": [{"name": "a", "type": "number", "x-synthgen": {"kind": "numeric"}}]}
    with pytest.raises(SchemaError, match="invalid|minimum"):
        Schema.from_dict(doc)
    doc = {"fields": [{"name": "a", "type": "number", "constraints": {"minimum": 0, "maximum": 1, "required": True},
                       "x-synthgen": {"kind": "numeric", "nullable": True}}]}
    with pytest.raises(SchemaError, match="contradicts"):
        Schema.from_dict(doc)
    with pytest.raises(SchemaError, match="does not exist"):
        Schema.load(tmp_path / "missing.json")


def test_conform_casts_and_clips(schema):
    raw = pd.DataFrame({"id": ["x"], "age": [130.4], "income": [np.nan], "sex": ["m"], "smoker": [True],
                        "visit": [pd.Timestamp("2019-05-05")]})
    out = schema.conform(raw)
    assert list(out.columns) == ["age", "income", "sex", "smoker", "visit"]  # id is dropped
    assert out["age"].dtype == np.int64 and out["age"].iloc[0] == 120
    assert out["visit"].iloc[0] == pd.Timestamp("2020-01-01")


def test_bundled_schemas_are_public_and_valid(cps):
    df, schema = cps
    assert not schema.is_inferred
    assert schema.validate(df).ok


def test_draft_without_epsilon_is_marked_inferred_and_warns(cps):
    df, _ = cps
    with pytest.warns(UserWarning, match="inferred"):
        s = Schema.draft(df.head(500), identifiers=["rownames"])
    assert s.is_inferred and "wage" in s.inferred_fields
    assert s["rownames"].kind == "identifier"


def test_draft_with_epsilon_is_charged_and_noisy(cps, tmp_path):
    df, _ = cps
    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=2.0, delta=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = Schema.draft(df, epsilon=1.0, delta=1e-6, ledger=ledger, identifiers=["rownames"])
    assert not s.is_inferred
    assert s["wage"].bounds_source == "dp:1"
    assert s["wage"].upper != df["wage"].max() and s["wage"].lower != df["wage"].min()
    assert set(s["region"].categories) == set(df["region"].unique())
    assert ledger.spent() == pytest.approx((1.0, 1e-6))
    assert s.draft_spend["epsilon"] <= 1.0 + 1e-9
    assert Schema.from_json(s.to_json()) == s


def test_draft_canary_category_and_extreme_not_released(cps):
    df, _ = cps
    df = df.drop(columns=["rownames"]).copy()
    df.loc[0, "region"] = "atlantis-canary"
    df.loc[1, "wage"] = 987654.0
    s = Schema.draft(df, epsilon=1.0, delta=1e-6)
    assert "atlantis-canary" not in s["region"].categories
    assert s["wage"].upper < 987654.0


def test_atomic_writes_respect_the_umask(tmp_path):
    import os
    import stat

    from synthgen.io import atomic_directory, atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        with atomic_directory(tmp_path / "d") as d:
            (d / "f").write_text("y")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "d" / "f").stat().st_mode) == 0o644


def test_validation_messages_give_no_row_counts(schema, good):
    bad = pd.concat([good] * 5, ignore_index=True)            # 15 rows
    bad["age"] = [30] * 8 + [200] * 7                           # 7 above the maximum
    bad["sex"] = ["f"] * 11 + ["x"] * 4                         # 4 unknown categories
    bad["smoker"] = [None] * 11 + [True] * 4                    # 11 nulls in a non-nullable column
    report = schema.validate(bad)
    assert {"above_maximum", "unknown_category", "null_not_allowed"} <= report.codes()
    text = "\n".join(str(v) for v in report.violations) + str(report.to_dict())
    for count in ("7", "4", "11", "15"):
        assert not re.search(rf"\b{count}\b", text), count
    assert "n_rows" not in report.to_dict() and all("count" not in v for v in report.to_dict()["violations"])
    with pytest.raises(DataValidationError) as err:
        schema.check(bad)
    assert not re.search(r"\b(7|4|11|15)\b", str(err.value))  # "3 problem(s)" counts violations, not rows


def test_draft_refuses_unknown_kinds_and_columns(good):
    with pytest.raises(SchemaError, match="not known"):
        Schema.draft(good, epsilon=1.0, delta=1e-6, kinds={"age": "float"})
    with pytest.raises(SchemaError, match="not columns"):
        Schema.draft(good, epsilon=1.0, delta=1e-6, kinds={"nope": "numeric"})


def test_parse_classes_do_not_depend_on_dtype():
    from synthgen.schema.draft import CLASSES, parse_class_counts

    as_int = pd.Series([1, 2, 3])
    as_float = pd.Series([1.0, 2.0, np.nan])
    as_text = pd.Series(["1", "2.5", "unknown", None, "2020-01-02", "true"])
    cls = dict(zip(CLASSES, parse_class_counts(as_int)))
    assert cls["integer"] == 3
    cls = dict(zip(CLASSES, parse_class_counts(as_float)))
    assert cls["integer"] == 2 and cls["null"] == 1
    cls = dict(zip(CLASSES, parse_class_counts(as_text)))
    assert (cls["integer"], cls["number"], cls["text"], cls["null"], cls["date"], cls["boolean"]) == (1, 1, 1, 1, 1, 1)
