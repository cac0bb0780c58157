"""A constant column (declared minimum == maximum) is legal: declared, saved, validated, drafted, fitted and
sampled by every table generator (issue 13: a declared constant was refused, and DP-CTGAN's encoder could not bin
it). Numeric and datetime. Fails before the fix: NumericField("c", 7, 7) raised SchemaError."""
import numpy as np
import pandas as pd
import pytest

from synthgen.exceptions import SchemaError
from synthgen.generators import registry
from synthgen.schema import CategoricalField, DatetimeField, NumericField, RowBounds, Schema

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

TINY_CTGAN = dict(epochs=1, batch_size=50, embedding_dim=8, generator_dim=(16,), discriminator_dim=(16,), n_bins=6,
                  verbose=False)


def _table(n=200, seed=0) -> tuple[pd.DataFrame, Schema]:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(50, 10, n).clip(0, 100), "c": 7.5, "ci": 3,
                       "k": rng.choice(["a", "b"], n), "d": pd.Timestamp("2020-05-01")})
    schema = Schema((NumericField("x", 0, 100, bounds_source="public:test"),
                     NumericField("c", 7.5, 7.5, bounds_source="public:test"),
                     NumericField("ci", 3, 3, integer=True, bounds_source="public:test"),
                     CategoricalField("k", ("a", "b"), categories_source="public:test"),
                     DatetimeField("d", "2020-05-01", "2020-05-01", bounds_source="public:test")),
                    rows=RowBounds(max=10_000))
    return df, schema


def test_a_declared_constant_is_legal_and_round_trips(tmp_path):
    df, schema = _table()
    assert schema["c"].constant and not schema["x"].constant
    schema.save(tmp_path / "s.json")
    again = Schema.load(tmp_path / "s.json")
    assert again["c"].lower == again["c"].upper == 7.5 and again["ci"].constant and again["d"].constant
    assert schema.validate(df).ok
    bad = df.assign(c=7.6)
    assert ("c", "above_maximum") in {(v.column, v.code) for v in schema.validate(bad).violations}
    with pytest.raises(SchemaError, match="above maximum"):
        NumericField("c", 8, 7, bounds_source="public:test")
    with pytest.raises(SchemaError, match="after the maximum"):
        DatetimeField("d", "2020-05-02", "2020-05-01", bounds_source="public:test")


def test_inferred_draft_keeps_a_constant_column_constant():
    df, _ = _table()
    drafted = Schema.draft(df[["x", "c", "d"]])
    assert drafted["c"].kind == "numeric" and drafted["c"].lower == drafted["c"].upper == 7.5
    assert drafted["d"].kind == "datetime" and drafted["d"].constant


def test_dp_draft_of_a_constant_column_gives_legal_bounds_around_it():
    df, _ = _table(2000)
    drafted = Schema.draft(df[["x", "c", "ci"]], epsilon=2.0, rows=RowBounds(max=10_000))
    for name, value in (("c", 7.5), ("ci", 3)):
        f = drafted[name]
        assert f.kind == "numeric" and f.lower <= value <= f.upper
    assert drafted.validate(df[["x", "c", "ci"]]).codes() <= {"below_minimum", "above_maximum"}
    zeros = pd.DataFrame({"z": np.zeros(2000, dtype=np.int64)})  # only the bucket around zero is kept: constant 0
    z = Schema.draft(zeros, epsilon=2.0, kinds={"z": "integer"}, rows=RowBounds(max=10_000))["z"]
    assert (z.lower, z.upper) == (0.0, 0.0) and z.constant


@pytest.mark.parametrize("name,params", [("copula", {}), ("dp-copula", {"epsilon": 1.0}),
                                         ("dp-ctgan", dict(TINY_CTGAN, epsilon=1.0))])
def test_every_table_generator_fits_and_samples_a_constant_column(name, params):
    df, schema = _table()
    model = registry.get(name)(**params).fit(df, schema, random_state=0)
    out = model.sample(40, random_state=1)
    assert (out["c"] == 7.5).all() and (out["ci"] == 3).all() and (out["d"] == pd.Timestamp("2020-05-01")).all()
    assert schema.validate(out).ok
