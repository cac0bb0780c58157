"""Bad input gives typed errors that name the column and the fix."""
import numpy as np
import pandas as pd
import pytest

import evaluators
from evaluators import MIN_HOLDOUT_ROWS, EvaluationError
from synthgen import SynthgenError


@pytest.fixture
def tables():
    rng = np.random.default_rng(0)

    def t(n):
        return pd.DataFrame({"x": rng.normal(size=n), "k": rng.choice(["a", "b"], n), "y": rng.choice(["u", "v"], n)})

    return t(200), t(150), t(120)


def test_errors_are_synthgen_errors():
    assert issubclass(EvaluationError, SynthgenError)


def test_different_columns(tables):
    real, syn, _ = tables
    with pytest.raises(EvaluationError, match=r"missing column\(s\) \['k'\].*Fix"):
        evaluators.evaluate(real, syn.drop(columns="k"))
    with pytest.raises(EvaluationError, match=r"unexpected column\(s\) \['extra'\]"):
        evaluators.evaluate(real, syn.assign(extra=1))


def test_different_dtypes(tables):
    real, syn, _ = tables
    bad = syn.assign(x=["oops"] * len(syn))
    with pytest.raises(EvaluationError, match=r"Column 'x' is numeric.*Fix"):
        evaluators.evaluate(real, bad)


def test_empty_synthetic(tables):
    real, syn, _ = tables
    with pytest.raises(EvaluationError, match="synthetic table is empty"):
        evaluators.evaluate(real, syn.iloc[:0])


def test_target_missing_or_constant(tables):
    real, syn, hold = tables
    with pytest.raises(EvaluationError, match=r"Target column 'nope'.*Fix"):
        evaluators.evaluate(real, syn, hold, target="nope")
    with pytest.raises(EvaluationError, match=r"Target column 'y' is constant.*Fix"):
        evaluators.evaluate(real.assign(y="u"), syn, hold, target="y")



def test_a_target_the_schema_drops_is_named_as_such(tables):
    """birds/txhousing in the second unseen sweep: a DP draft dropped the target (no category over its threshold)
    and `evaluate --target` only said it was not compared."""
    from synthgen.schema import CategoricalField, IdentifierField, NumericField, Schema

    real, syn, hold = tables
    schema = Schema((NumericField("x", -10, 10, bounds_source="public:t"),
                     CategoricalField("k", ("a", "b"), categories_source="public:t"), IdentifierField("y")))
    with pytest.raises(EvaluationError, match=r"declares 'y' an identifier.*--partial.*Fix"):
        evaluators.evaluate(real, syn.drop(columns="y"), hold, schema=schema, target="y")


def test_holdout_too_small_says_how_many_rows(tables):
    real, syn, hold = tables
    with pytest.raises(EvaluationError, match=rf"holdout has 50 rows; at least {MIN_HOLDOUT_ROWS} rows are needed"):
        evaluators.evaluate(real, syn, hold.iloc[:50])


def test_all_null_column(tables):
    real, syn, hold = tables
    with pytest.raises(EvaluationError, match=r"Column 'x' is entirely null in the synthetic table.*Fix"):
        evaluators.evaluate(real, syn.assign(x=np.nan), hold)
    with pytest.raises(EvaluationError, match=r"Column 'k' is entirely null in the real table"):
        evaluators.evaluate(real.assign(k=None), syn, hold)


def test_bad_quasi_identifiers_and_metrics(tables):
    real, syn, hold = tables
    with pytest.raises(EvaluationError, match=r"Column 'zip'"):
        evaluators.evaluate(real, syn, hold, quasi_identifiers=["zip"])
    with pytest.raises(EvaluationError, match=r"Column 'k' is both"):
        evaluators.evaluate(real, syn, hold, quasi_identifiers=["k"], sensitive="k")
    with pytest.raises(EvaluationError, match=r"Unknown metric.*choose from"):
        evaluators.evaluate(real, syn, hold, metrics=["speed"])


def test_schema_column_missing_from_a_table(diamonds_parts):
    train, holdout, _, schema = diamonds_parts
    with pytest.raises(EvaluationError, match=r"Column 'carat' is declared in the schema but missing"):
        evaluators.evaluate(train.iloc[:200], holdout.iloc[:200].drop(columns="carat"), None, schema)
