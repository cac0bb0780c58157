"""A category the schema does not list costs no row (issue 13, found by tests/corpus on STAR: a DP draft of 47
columns left out the rare categories of many columns and the fit dropped nearly every row).

The rule (synthgen.generators.base.conform_rows): an undeclared category goes to the column's null cell; a row is
dropped only where that column is not nullable. A DP draft makes every categorical column nullable (its threshold
cannot release a category held by a few rows), so a fit on a drafted schema keeps every row. Hand-declared
columns keep their meaning: an undeclared value is a violation unless on_violation="clip", and the message says
what the fit then does.
"""
import numpy as np
import pandas as pd
import pytest

from synthgen.exceptions import DataValidationError
from synthgen.generators import registry
from synthgen.generators.base import blocking_violations, conform_rows
from synthgen.generators.recommend import profile
from synthgen.privacy.noise import unsafe_seeded_noise
from synthgen.schema import CategoricalField, NumericField, RowBounds, Schema

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
N, COLS = 2000, 40


def _wide(n=N, cols=COLS, seed=0) -> pd.DataFrame:
    """``cols`` categorical columns of two common values; in column j, rows j*n/cols .. (j+1)*n/cols - 1 hold a
    value of their own (held by one row: never released by a DP draft), so EVERY row holds one rare category."""
    rng = np.random.default_rng(seed)
    block = n // cols
    out = {}
    for j in range(cols):
        v = rng.choice(["a", "b"], n).astype(object)
        rows = np.arange(j * block, (j + 1) * block)
        v[rows] = [f"rare{j}_{i}" for i in rows]
        out[f"c{j}"] = v
    out["x"] = rng.normal(0, 1, n)
    return pd.DataFrame(out)


@pytest.fixture(scope="module")
def drafted():
    df = _wide()
    with unsafe_seeded_noise(3):
        schema = Schema.draft(df, epsilon=3.0, rows=RowBounds(max=10_000))
    return df, schema


def test_a_dp_drafted_categorical_column_is_nullable_and_says_why(drafted):
    df, schema = drafted
    for j in range(COLS):
        f = schema[f"c{j}"]
        assert f.kind == "categorical" and f.source.startswith("dp:")
        assert set(f.categories) == {"a", "b"}  # the rare values were left out by the threshold
        assert f.nullable, "a DP-drafted category set leaves rows out: its null cell must be in the domain"
        assert "too rare" in f.description
    unseen = _details(schema)["nullable_for_unseen"]
    # the table has no nulls: most columns are nullable only for the undrafted categories (a column whose noisy
    # null count could hide a 5% null share is nullable by the null-count rule as well)
    assert len(unseen) > COLS // 2
    assert set(unseen) == {f"c{j}" for j in range(COLS) if "only to hold" in schema[f"c{j}"].description}
    assert not schema["x"].nullable  # numeric columns keep the null-count rule


def _details(schema: Schema) -> dict:
    spend = schema.draft_spend  # under unsafe_seeded_noise the spend is NoGuarantee with the DP record inside
    return spend.get("details") or spend["accounted"]["details"]


def test_undrafted_categories_cost_no_row(drafted):
    df, schema = drafted
    assert "unknown_category" in schema.validate(df).codes()
    assert blocking_violations(schema.validate(df).violations, schema, "raise") == []
    table = conform_rows(df, schema)
    assert len(table) == len(df)  # before the fix: 0 rows (every row holds one undrafted category)
    rare = df["c0"].str.startswith("rare")
    assert table.loc[rare.to_numpy(), "c0"].isna().all() and table.loc[~rare.to_numpy(), "c0"].notna().all()


def test_a_fit_on_the_drafted_schema_learns_every_row(drafted):
    df, schema = drafted
    model = registry.get("dp-copula")(epsilon=1.0).fit(df, schema, random_state=0)
    # the DP row estimate follows the rows the fit kept (all of them); before the fix the fit refused (< 2 rows)
    assert model.rows_estimate_ > 0.8 * N
    out = model.sample(4000, random_state=1)
    # the null cells: the DP estimate of "not listed" (1/COLS = 2.5% of the rows in each column; at eps=1 over 41
    # columns the noise removes most of a 50-row cell, and keeps some)
    share = out[[f"c{j}" for j in range(COLS)]].isna().mean()
    assert 0.0 < share.mean() < 0.08 and share.max() < 0.3
    assert schema.validate(out).ok


def test_the_validation_message_says_what_a_fit_does(drafted):
    df, schema = drafted
    v = next(v for v in schema.validate(df).violations if v.code == "unknown_category")
    assert "bought with DP" in str(v) and "null cell" in str(v) and "kept" in str(v)


def _declared(nullable: bool) -> Schema:
    return Schema((CategoricalField("c", ("a", "b"), nullable=nullable, categories_source="public:codebook"),
                   NumericField("x", -10, 10, bounds_source="public:codebook")), rows=RowBounds(max=10_000))


def _small(n=400) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    c = rng.choice(["a", "b"], n).astype(object)
    c[:5] = "zz"  # not in the codebook
    return pd.DataFrame({"c": c, "x": rng.normal(0, 1, n)})


@pytest.mark.parametrize("nullable", [True, False])
def test_a_hand_declared_column_still_reports_an_undeclared_value(nullable):
    df = _small()
    schema = _declared(nullable)
    with pytest.raises(DataValidationError, match="not among the 2 declared categories") as e:
        registry.get("dp-copula")(epsilon=1.0).fit(df, schema, random_state=0)
    text = str(e.value)
    assert "--on-violation clip" in text
    assert ("null cell" in text) if nullable else ("drop such rows" in text)
    assert "bought with DP" not in text


def test_clip_keeps_the_row_as_null_in_a_nullable_declared_column_and_drops_it_otherwise():
    df = _small()
    kept = conform_rows(df, _declared(True))
    assert len(kept) == len(df) and kept["c"].isna().sum() == 5
    dropped = conform_rows(df, _declared(False))
    assert len(dropped) == len(df) - 5 and dropped["c"].notna().all()
    assert blocking_violations(_declared(False).validate(df).violations, _declared(False), "clip") == []


def test_conform_rows_is_row_wise_so_a_neighbour_changes_at_most_one_row(drafted):
    """The privacy argument of the mapping: it uses the public schema and the row itself, nothing of the table, so
    adding one row (any row, a rare category or a null included) adds at most one row and changes no other."""
    df, schema = drafted
    base = conform_rows(df.iloc[:300], schema)
    for extra in (df.iloc[[0]], df.iloc[[1999]].assign(c5=None), df.iloc[[7]].assign(c3="never-seen")):
        more = conform_rows(pd.concat([df.iloc[:300], extra], ignore_index=True), schema)
        assert len(more) in (len(base), len(base) + 1)
        pd.testing.assert_frame_equal(more.iloc[:len(base)], base)


def test_recommend_does_not_read_nullable_for_unseen_as_structural_nulls(drafted):
    df, schema = drafted
    assert _details(schema)["nullable_for_unseen"]  # nullable only to hold undrafted categories
    assert profile(schema).n_nullable == 0  # and no column's noisy null share reaches 5 %: no structural nulls
    bare = Schema(schema.fields, rows=schema.rows)  # the same fields without the draft's record
    assert profile(bare).n_nullable == COLS
    holes = df.assign(c0=df["c0"].where(np.arange(len(df)) % 3 > 0))  # a third of c0 null: structural
    with unsafe_seeded_noise(4):
        again = Schema.draft(holes, epsilon=3.0, rows=RowBounds(max=10_000))
    assert profile(again).n_nullable == 1


# --------------------------------------------------------------------- condition_on a nullable key (a drafted target)
def _structural(n=3000, seed=2) -> tuple[pd.DataFrame, Schema]:
    """``grade`` is null for a third of the rows (not enrolled); ``score`` is present exactly when it is not."""
    rng = np.random.default_rng(seed)
    grade = rng.choice(["low", "high"], n).astype(object)
    out = rng.random(n) < 1 / 3
    grade[out] = None
    score = np.where(grade == "high", rng.normal(70, 5, n), rng.normal(40, 5, n))
    score[out] = np.nan
    df = pd.DataFrame({"grade": grade, "score": score, "x": rng.normal(0, 1, n)})
    schema = Schema((CategoricalField("grade", ("low", "high"), nullable=True, categories_source="public:codebook"),
                     NumericField("score", 0, 100, nullable=True, bounds_source="public:codebook"),
                     NumericField("x", -10, 10, bounds_source="public:codebook")), rows=RowBounds(max=100_000))
    return df, schema


@pytest.mark.parametrize("name, params", [("dp-copula", {"epsilon": 1.0}), ("copula", {})])
def test_condition_on_a_nullable_key_makes_its_null_cell_one_more_class(name, params, tmp_path):
    """A DP draft makes a categorical target nullable; condition_on must still take it (it refused a nullable key).
    The null cell is one more class of the partition (disjoint rows: no extra budget for the DP copula)."""
    df, schema = _structural()
    model = registry.get(name)(condition_on="grade", **params).fit(df, schema, random_state=0)
    assert sorted(p.label for p in model.parts_) == [0, 1, 2]  # low, high, null
    model.save(tmp_path / "m")
    out = type(model).load(tmp_path / "m").sample(3000, random_state=1)
    null_key = out["grade"].isna()
    assert 0.2 < null_key.mean() < 0.45  # the real share is 1/3
    # the structural null follows its class (the DP copula's noisy histograms give a null class some values)
    assert out.loc[null_key, "score"].isna().mean() > 0.7
    assert out.loc[~null_key, "score"].isna().mean() < 0.2
    assert out.loc[out["grade"] == "high", "score"].mean() > out.loc[out["grade"] == "low", "score"].mean() + 15
    assert schema.validate(out).ok


def test_recommend_conditions_on_a_nullable_target_when_nulls_are_structural():
    from synthgen.generators.recommend import recommend

    _, schema = _structural()
    more = tuple(NumericField(f"x{i}", -10, 10, bounds_source="public:codebook") for i in range(3))
    rec = recommend(schema.with_fields(schema.fields + more), epsilon=1.0, target="grade")
    assert rec.generator == "dp-copula" and rec.params.get("condition_on") == "grade"
    assert any("3 classes (its null cell one of them)" in r for r in rec.reasons)
