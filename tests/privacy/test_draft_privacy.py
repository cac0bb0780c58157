"""Privacy of Schema.draft(epsilon=...): one row cannot flip a drafted kind, type or nullability deterministically;
the noise is not reproducible from a seed; the default delta ignores len(df); a failure after the data was read is
charged. Each test here fails on the main before the schema package (dtype-driven kinds, always-nullable fields,
seeded noise, delta from len(df), cancel-on-failure)."""
import inspect

import numpy as np
import pandas as pd
import pytest

from synthgen.exceptions import DataValidationError, InvalidPrivacyParameterError
from synthgen.privacy.ledger import PrivacyLedger
from synthgen.privacy.noise import unsafe_seeded_noise
from synthgen.privacy.spend import default_delta
from synthgen.schema import RowBounds, Schema

EPS, DELTA = 1.0, 1e-6


def _seed_kw() -> dict:
    """The old API took random_state (and seeded the noise with it); pass one where it is still accepted."""
    return {"random_state": 0} if "random_state" in inspect.signature(Schema.draft).parameters else {}


def _table(n=2000, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.integers(18, 80, size=n),
        "score": np.round(rng.normal(50, 10, size=n), 2),
        "group": rng.choice(["a", "b", "c"], size=n),
    })


def _signature(schema: Schema, col: str) -> tuple:
    f = schema[col]
    return f.kind, f.type, f.nullable


def _with_row(df: pd.DataFrame, age_value) -> pd.DataFrame:
    extra = pd.DataFrame({"age": [age_value], "score": [50.0], "group": ["a"]})
    return pd.concat([df, extra], ignore_index=True)


@pytest.mark.parametrize("odd", [40.5, np.nan, "unknown"])
def test_one_odd_row_does_not_flip_the_drafted_kind(odd):
    df = _table()
    neighbour = _with_row(df, odd)
    assert neighbour["age"].dtype != df["age"].dtype  # the dtype flips: the draft must not follow it
    for _ in range(2):  # fresh noise each draw; a flip has probability ~3e-5 per draw
        a = Schema.draft(df, epsilon=EPS, delta=DELTA)
        b = Schema.draft(neighbour, epsilon=EPS, delta=DELTA)
        assert _signature(a, "age") == _signature(b, "age") == ("numeric", "integer", False)
        assert _signature(b, "group")[0] == "categorical" and _signature(b, "score")[:2] == ("numeric", "number")


def test_table_without_nulls_is_drafted_non_nullable(cps):
    """No column of CPS1988 holds a null: numeric ones are drafted non-nullable; categorical ones are nullable by
    rule only (their null cell holds categories the noisy threshold could not release), and listed as such."""
    df, _ = cps
    for _ in range(2):
        s = Schema.draft(df, epsilon=EPS, delta=DELTA, identifiers=["rownames"])
        cats = sorted(f.name for f in s.learnable if f.kind == "categorical")
        assert cats and [f.name for f in s.learnable if f.nullable and f.kind != "categorical"] == []
        assert all(s[c].nullable for c in cats)
        assert sorted(s.draft_spend["details"]["nullable_for_unseen"]) == cats


def test_column_with_many_nulls_is_drafted_nullable():
    df = _table()
    df["score"] = df["score"].mask(np.arange(len(df)) % 4 == 0)  # 25% nulls
    s = Schema.draft(df, epsilon=EPS, delta=DELTA)
    assert s["score"].nullable and not s["age"].nullable


def test_failure_after_the_data_was_read_commits_the_reservation(tmp_path, monkeypatch):
    from synthgen.schema import draft

    def fail(*a, **k):  # a data-dependent failure after the noisy release
        raise DataValidationError("Column 'group': failed on a private value")

    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=3.0, delta=1e-5)
    monkeypatch.setattr(draft, "release_values", fail)
    with pytest.raises(DataValidationError, match="group"):
        Schema.draft(_table(), epsilon=EPS, delta=DELTA, ledger=ledger, **_seed_kw())
    assert ledger.spent() == pytest.approx((EPS, DELTA))
    assert [c.status for c in ledger.charges()] == ["committed"]


def test_a_column_that_releases_nothing_is_drafted_dropped_not_a_failed_draft(tmp_path):
    """H-corpus's find (star 'birth', caravan, nhefs 'yrdth', planes/polls 99% null): one such column failed the
    whole draft after its budget was charged; now it is drafted as a dropped column with a warning."""
    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=3.0, delta=1e-5)
    df = _table()
    df["group"] = [f"u{i}" for i in range(len(df))]  # no category frequent enough
    df["rare"] = np.where(np.arange(len(df)) < 3, 1.5, np.nan)  # 3 non-null values: no kind, no bounds
    with pytest.warns(UserWarning, match=r"\['group', 'rare'\].*dropped"):
        s = Schema.draft(df, epsilon=EPS, delta=DELTA, ledger=ledger)
    assert s["group"].kind == s["rare"].kind == "identifier" and s["group"].synthesize == "drop"
    assert s["age"].kind == "numeric" and s["score"].kind == "numeric"
    assert s.draft_spend["details"]["dropped"] == ["group", "rare"]
    assert [c.status for c in ledger.charges()] == ["committed"]
    assert s.validate(df).codes() <= {"below_minimum", "above_maximum"}  # dropped columns are not checked


def test_failure_before_any_read_costs_nothing(tmp_path):
    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=3.0, delta=1e-5)
    with pytest.raises(InvalidPrivacyParameterError):  # delta >= 1/rows.max: refused before anything is reserved
        Schema.draft(_table(), epsilon=EPS, delta=1e-2, ledger=ledger, rows=RowBounds(max=5000))
    assert ledger.spent() == (0.0, 0.0)


def test_draft_noise_does_not_come_from_the_seed():
    df = _table(n=500)
    drafts = [Schema.draft(df, epsilon=EPS, delta=DELTA, **_seed_kw()) for _ in range(3)]
    seen = {(d["age"].lower, d["age"].upper, d["score"].lower, d["score"].upper,
             str(d.draft_spend["details"].get("noisy_classes"))) for d in drafts}
    assert len(seen) > 1


def test_seeded_test_switch_repeats_and_is_marked_not_dp():
    df = _table(n=500)
    with unsafe_seeded_noise(7):
        a = Schema.draft(df, epsilon=EPS, delta=DELTA)
    with unsafe_seeded_noise(7):
        b = Schema.draft(df, epsilon=EPS, delta=DELTA)
    assert a == b
    assert a.draft_spend["guarantee"] == "none" and a.draft_spend["accounted"]["epsilon"] == pytest.approx(EPS)


def test_default_delta_comes_from_declared_rows_not_the_table_length():
    small, large = _table(n=999), _table(n=1001)
    assert Schema.draft(small, epsilon=EPS).draft_spend["delta"] == Schema.draft(large, epsilon=EPS).draft_spend[
        "delta"]
    s = Schema.draft(small, epsilon=EPS, rows=RowBounds(max=5000, source="public:registry size"))
    assert s.draft_spend["details"]["target"]["delta"] == pytest.approx(default_delta(5000))
    assert s.rows == RowBounds(max=5000, source="public:registry size")


def test_kinds_from_the_caller_are_kept_and_partial_fields_untouched():
    from synthgen.schema import NumericField

    df = _table()
    given = NumericField("score", 0, 100, bounds_source="public:test scale")
    s = Schema.draft(df, epsilon=EPS, delta=DELTA, kinds={"age": "categorical"},
                     partial=Schema((given,)))
    assert s["score"] is given
    assert s["age"].kind == "categorical" and s["age"].source == "dp:1"
    assert "score" not in s.draft_spend["details"]["rho_split"]
    assert s.draft_spend["details"]["kinds"] == {"age": "caller", "group": "dp"}


def test_schema_package_does_not_import_generators():
    import ast
    from pathlib import Path

    import synthgen.schema

    for path in Path(synthgen.schema.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                mod = ("." * node.level) + (node.module or "")
                assert "generators" not in mod, f"{path.name} imports {mod}"
            elif isinstance(node, ast.Import):
                assert not any("generators" in a.name for a in node.names), path.name


@pytest.mark.parametrize("values,refined", [(np.linspace(44.89, 45.05, 3000), True),
                                            (np.linspace(0.0, 900.0, 3000), False)])
def test_bounds_spend_exactly_their_rho_refined_or_not(monkeypatch, values, refined):
    """dp_bounds spends its rho in two Gaussian histograms of sensitivity 1 (every row in exactly one cell of each):
    a refinement over the first bounds when they are offset from zero, else a second look at the same buckets."""
    from synthgen.privacy import mechanisms
    from synthgen.privacy.noise import privacy_noise
    from synthgen.schema import bounds

    calls = []
    real = mechanisms.noisy_histogram

    def spy(counts, rho, rng):
        calls.append((len(counts), float(np.sum(counts)), rho))
        return real(counts, rho, rng)

    monkeypatch.setattr(bounds, "noisy_histogram", spy)
    bounds.dp_bounds(values, 0.01, privacy_noise())
    assert sum(r for _, _, r in calls) == pytest.approx(0.01)
    assert all(total == len(values) for _, total, _ in calls)  # each row counted once per histogram
    assert (calls[1][0] == bounds.REFINE_CELLS) is refined
