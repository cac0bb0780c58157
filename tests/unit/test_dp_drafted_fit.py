"""A fit on a DP-drafted schema accepts what a noisy draft cannot see (issue 13, found by H-pipeline on AER/Affairs
and MASS/Boston): an integer flag bought with DP on a column with a few non-whole values made the fit refuse its own
training table ("not whole numbers", exit 2). Such values are now rounded, like tail values are clipped; a
declared (public) integer flag is still enforced."""
import numpy as np
import pandas as pd
import pytest

from synthgen.exceptions import DataValidationError
from synthgen.generators import registry
from synthgen.privacy.noise import unsafe_seeded_noise
from synthgen.schema import NumericField, RowBounds, Schema

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _table(n=1000, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 60, n).astype(float)
    age[:6] = 17.5  # as Affairs' age: a few half years among whole ones
    return pd.DataFrame({"age": age, "x": rng.normal(0, 1, n)})


def test_a_fit_rounds_non_whole_values_of_a_dp_drafted_integer_field():
    df = _table()
    with unsafe_seeded_noise(0):
        drafted = Schema.draft(df, epsilon=2.0, rows=RowBounds(max=10_000))
    assert drafted["age"].integer and drafted["age"].source.startswith("dp:")  # 6 rows: invisible in the noise
    assert "not_integer" in drafted.validate(df).codes()
    assert "fits round such values" in str(next(v for v in drafted.validate(df).violations if v.code == "not_integer"))
    model = registry.get("dp-copula")(epsilon=1.0).fit(df, drafted, random_state=0)
    out = model.sample(200, random_state=1)
    assert (out["age"] == out["age"].round()).all()


def test_a_declared_integer_flag_is_still_enforced():
    df = _table()
    schema = Schema((NumericField("age", 0, 100, integer=True, bounds_source="public:codebook"),
                     NumericField("x", -10, 10, bounds_source="public:codebook")), rows=RowBounds(max=10_000))
    with pytest.raises(DataValidationError, match="whole numbers"):
        registry.get("dp-copula")(epsilon=1.0).fit(df, schema, random_state=0)
    model = registry.get("dp-copula")(epsilon=1.0).fit(df, schema, random_state=0, on_violation="clip")
    assert (model.sample(50, random_state=1)["age"] % 1 == 0).all()


def test_a_fit_drops_rows_with_the_few_nulls_a_dp_draft_could_not_see():
    """H-corpus's find on loanapp: columns with a few nulls were drafted non-nullable and the fit refused."""
    df = _table()
    df.loc[:2, "x"] = np.nan  # 3 nulls in 1000 rows: far below the draft's noise
    with unsafe_seeded_noise(1):
        drafted = Schema.draft(df, epsilon=2.0, rows=RowBounds(max=10_000))
    assert not drafted["x"].nullable and "null_not_allowed" in drafted.validate(df).codes()
    model = registry.get("dp-copula")(epsilon=1.0).fit(df, drafted, random_state=0)
    assert model.sample(100, random_state=1)["x"].notna().all()
    declared = Schema((NumericField("age", 0, 100, bounds_source="public:codebook"),
                       NumericField("x", -10, 10, bounds_source="public:codebook")), rows=RowBounds(max=10_000))
    with pytest.raises(DataValidationError, match="null"):
        registry.get("dp-copula")(epsilon=1.0).fit(df, declared, random_state=0)


def _sleep_table(n=1000, seed=0) -> pd.DataFrame:
    """As openintro/yrbss: hours as numeric text with a few codes of another type ('<5', '10+') among them."""
    rng = np.random.default_rng(seed)
    hours = rng.integers(5, 10, n).astype(str).astype(object)
    hours[:20] = "<5"
    hours[20:30] = "10+"
    return pd.DataFrame({"hours": hours, "x": rng.normal(0, 1, n)})


def test_a_fit_reads_values_of_another_type_in_a_dp_drafted_column_as_nulls():
    """Found on yrbss and mosaicData/Weather (precip 'T' for trace): the DP draft keeps a type that holds almost
    all values (it cannot see 3 % of text among numbers), and the fit then refused its own training table."""
    df = _sleep_table()
    with unsafe_seeded_noise(2):
        drafted = Schema.draft(df, epsilon=2.0, rows=RowBounds(max=10_000))
    assert drafted["hours"].kind == "numeric"
    wrong = next(v for v in drafted.validate(df).violations if v.code == "wrong_type")
    assert "fits read such values as nulls" in str(wrong)  # and keep or drop the row as the nullability says
    model = registry.get("dp-copula")(epsilon=1.0).fit(df, drafted, random_state=0)
    out = model.sample(400, random_state=1)
    assert pd.to_numeric(out["hours"]).dropna().between(drafted["hours"].lower, drafted["hours"].upper).all()


def test_values_of_another_type_in_a_declared_column_still_block_the_fit():
    df = _sleep_table()
    schema = Schema((NumericField("hours", 0, 24, integer=True, nullable=True, bounds_source="public:codebook"),
                     NumericField("x", -10, 10, bounds_source="public:codebook")), rows=RowBounds(max=10_000))
    with pytest.raises(DataValidationError, match="not numbers"):
        registry.get("dp-copula")(epsilon=1.0).fit(df, schema, random_state=0)
    with pytest.raises(DataValidationError, match="not numbers"):  # clipping fixes bounds, not types
        registry.get("dp-copula")(epsilon=1.0).fit(df, schema, random_state=0, on_violation="clip")


def test_evaluate_reads_the_real_tables_as_the_schema_does():
    """The evaluation of such a fit read the real table's text values as an error (exit 2 after the charge), with
    their count in the message; with the schema it reads them as nulls, and without one it names no count."""
    from evaluators import evaluate
    from synthgen.exceptions import SynthgenError

    df = _sleep_table()
    with unsafe_seeded_noise(2):
        drafted = Schema.draft(df, epsilon=2.0, rows=RowBounds(max=10_000))
    syn = registry.get("dp-copula")(epsilon=1.0).fit(df, drafted, random_state=0).sample(300, random_state=1)
    report = evaluate(df, syn, schema=drafted, metrics=["fidelity"])
    assert report.summary["fidelity_score"] is not None
    with pytest.raises(SynthgenError, match="'hours'") as err:  # without the schema: a typed error, no count
        evaluate(df, syn, metrics=["fidelity"])
    assert "30" not in str(err.value) and "value(s)" not in str(err.value)
    num = pd.DataFrame({"hours": pd.to_numeric(syn["hours"]), "x": syn["x"]})
    with pytest.raises(SynthgenError, match="non-numeric values in the synthetic table"):
        evaluate(num.head(200), df.head(200).assign(hours=df["hours"].head(200)), metrics=["fidelity"])


def test_infinities_in_a_dp_drafted_column_are_nulls_to_the_draft_and_the_fit():
    """Found by a dtype sweep: a column with a few +/-inf was drafted numeric, then every fit refused its own
    training table ('some values are +/-inf'); a fit with clipping would have read inf as the upper bound."""
    from synthgen.schema.draft import CLASSES, parse_class_counts

    rng = np.random.default_rng(0)
    x = rng.normal(size=1200)
    x[:40] = np.inf
    df = pd.DataFrame({"x": x, "y": rng.choice(["a", "b"], 1200)})
    counts = dict(zip(CLASSES, parse_class_counts(df["x"])))
    assert counts["null"] == 40 and counts["number"] == 1160
    with unsafe_seeded_noise(0):
        drafted = Schema.draft(df, epsilon=2.0, rows=RowBounds(max=10_000))
    assert drafted["x"].kind == "numeric" and drafted["x"].nullable and drafted["x"].upper < 100
    model = registry.get("dp-copula")(epsilon=1.0).fit(df, drafted, random_state=0)
    out = pd.to_numeric(model.sample(2000, random_state=1)["x"])
    assert out.isna().mean() > 0.005  # the infinities came back as the null share, not as the upper bound
    assert (out.dropna() == drafted["x"].upper).mean() < 0.01
    declared = Schema((NumericField("x", -10, 10, nullable=True, bounds_source="public:codebook"),
                       drafted["y"]), rows=RowBounds(max=10_000))
    with pytest.raises(DataValidationError, match="inf"):  # a declared column still refuses them
        registry.get("dp-copula")(epsilon=1.0).fit(df, declared, random_state=0)


def test_frames_with_integer_labels_and_odd_value_types_draft_fit_and_evaluate():
    """Found by a dtype sweep: a frame made from an array (labels 0, 1, 2) crashed the draft (KeyError '0'); an
    inferred draft refused Timedelta/Period columns and a column null in every row (the DP draft dropped it)."""
    from evaluators.suite import evaluate

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(600, 2)))
    df[2] = pd.to_timedelta(rng.integers(0, 5, 600), unit="min")
    df[3] = None
    with pytest.warns(UserWarning, match=r"\['3'\] are null in every row"):
        inferred = Schema.draft(df)
    assert inferred.names == ("0", "1", "2", "3") and inferred["3"].kind == "identifier"
    assert inferred["2"].kind == "categorical" and "0 days 00:01:00" in inferred["2"].categories
    with unsafe_seeded_noise(0):
        drafted = Schema.draft(df, epsilon=2.0, rows=RowBounds(max=10_000))
    model = registry.get("dp-copula")(epsilon=1.0).fit(df, drafted, random_state=0)
    out = model.sample(300, random_state=1)
    report = evaluate(df.iloc[:400], out, holdout=df.iloc[400:], schema=drafted, metrics=["fidelity"])
    assert 0 < report.summary["fidelity_score"] <= 1
    with pytest.raises(DataValidationError, match=r"\['1'\] have the same name"):
        Schema.draft(pd.DataFrame({1: [1.0, 2.0], "1": [3.0, 4.0]}))
