"""The generator base class and model persistence, on a test-only generator (synthgen.testing.fakes.DummyDP)."""
import json

import numpy as np
import pandas as pd
import pytest

from synthgen import CategoricalField, PrivacyLedger, Schema
from synthgen.exceptions import (BudgetExceededError, ConfigError, DataValidationError, InferredSchemaError,
                                 InvalidPrivacyParameterError, ModelIntegrityError, NotFittedError, RegistryError)
from synthgen.generators import registry
from synthgen.persistence import load_model
from synthgen.privacy.noise import unsafe_seeded_noise
from synthgen.privacy.spend import DPSpend, NoGuarantee, default_delta
from synthgen.schema import RowBounds
from synthgen.testing import fakes
from synthgen.testing.fakes import DummyDP


@pytest.fixture(autouse=True, scope="module")
def registered():
    fakes.register(("test-dummy-dp",))
    yield
    fakes.unregister(("test-dummy-dp",))


def _table(n, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"c": rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1])})


def _schema(rows_max=None, source="public:test"):
    return Schema((CategoricalField("c", ("a", "b", "c"), categories_source=source),),
                  rows=RowBounds(max=rows_max) if rows_max else None)


@pytest.fixture
def data():
    return _table(500), _schema()


def test_fit_returns_self_and_records_spend(data):
    df, schema = data
    gen = DummyDP(epsilon=1.0)
    assert gen.fit(df, schema, random_state=0) is gen
    assert isinstance(gen.privacy_spent_, DPSpend) and gen.privacy_spent_.epsilon <= 1.0
    out = gen.sample(100, random_state=1)
    assert out.attrs["privacy"]["guarantee"] == "dp" and len(out) == 100


def test_default_delta_comes_from_declared_bounds_not_n():
    """Old main chose delta from the exact n (1e-6 for 500 rows); now only declared rows.max decides it."""
    for n in (500, 501, 100_000, 100_001):
        assert DummyDP().fit(_table(n), _schema()).privacy_spent_.delta == default_delta(None) == 1e-9
    assert DummyDP().fit(_table(500), _schema(rows_max=10_000)).privacy_spent_.delta == default_delta(10_000)
    assert default_delta(10_000) <= 1e-5 / 10


def test_delta_is_checked_against_declared_rows():
    df = _table(500)
    with pytest.raises(InvalidPrivacyParameterError, match="1/N"):
        DummyDP(delta=0.01).fit(df, _schema(rows_max=1000))  # 0.01 >= 1/1000
    with pytest.raises(InvalidPrivacyParameterError, match="rows.max"):
        DummyDP(delta=1e-4).fit(df, _schema())  # cannot be checked without a declared maximum
    assert DummyDP(delta=1e-4).fit(df, _schema(rows_max=1000)).privacy_spent_.delta == 1e-4


def test_rows_estimate_is_a_dp_estimate(data, tmp_path):
    df, schema = data
    ests = [DummyDP(epsilon=1.0).fit(df, schema, random_state=0).rows_estimate_ for _ in range(5)]
    assert len(set(ests)) > 1 and not all(e == len(df) for e in ests)  # fresh noise, never the exact n
    gen = DummyDP().fit(df, schema)
    gen.save(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "manifest.json").read_text())["rows_estimate"] == gen.rows_estimate_
    assert load_model(tmp_path / "m").rows_estimate_ == gen.rows_estimate_


def test_not_fitted(data):
    with pytest.raises(NotFittedError, match="fit"):
        DummyDP().sample(3)


def test_bad_privacy_parameters(data):
    df, schema = data
    for eps in (0, -1, float("inf")):
        with pytest.raises(InvalidPrivacyParameterError):
            DummyDP(epsilon=eps).fit(df, schema)
    with pytest.raises(InvalidPrivacyParameterError):
        DummyDP(delta=1.0).fit(df, schema)


def test_inferred_schema_refused_unless_allowed_and_then_no_guarantee(data, tmp_path):
    """Old main still claimed (epsilon, delta)-DP for an allow_inferred fit."""
    df, _ = data
    inferred = _schema(source="inferred")
    with pytest.raises(InferredSchemaError, match="allow_inferred"):
        DummyDP().fit(df, inferred)
    gen = DummyDP(epsilon=1.0).fit(df, inferred, allow_inferred=True, random_state=0)
    spent = gen.privacy_spent_
    assert gen.allow_inferred_ and isinstance(spent, NoGuarantee) and not spent.is_dp
    assert "allow_inferred" in spent.reason
    assert isinstance(spent.accounted, DPSpend) and 0 < spent.accounted.epsilon <= 1.0
    assert gen.privacy_summary().startswith("NO DIFFERENTIAL-PRIVACY GUARANTEE")
    assert gen.sample(5).attrs["privacy"]["guarantee"] == "none"
    gen.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["privacy"]["guarantee"] == "none" and manifest["allow_inferred_schema"] is True
    assert manifest["privacy"]["accounted"]["epsilon"] == spent.accounted.epsilon
    assert load_model(tmp_path / "m").privacy_spent_ == spent


def test_seeded_noise_switch_gives_no_guarantee(data):
    df, schema = data
    with unsafe_seeded_noise(3):
        a = DummyDP().fit(df, schema, random_state=0)
    with unsafe_seeded_noise(3):
        b = DummyDP().fit(df, schema, random_state=0)
    assert a.rows_estimate_ == b.rows_estimate_ and np.array_equal(a.probs_, b.probs_)
    assert isinstance(a.privacy_spent_, NoGuarantee) and "seeded" in a.privacy_spent_.reason
    assert a.privacy_spent_.accounted.is_dp
    assert DummyDP().fit(df, schema, random_state=0).privacy_spent_.is_dp  # outside the switch: DP again


def test_table_problems_raise_before_any_budget_is_spent(data, tmp_path):
    df, schema = data
    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=1.0, delta=1e-5)
    bad = df.copy()
    bad.loc[0, "c"] = "zzz"
    with pytest.raises(DataValidationError, match="unknown|declared categories"):
        DummyDP().fit(bad, schema, ledger=ledger)
    with pytest.raises(DataValidationError, match="at least 2 rows"):
        DummyDP().fit(df.head(1), schema, ledger=ledger)
    with pytest.raises(ConfigError, match="schema"):
        DummyDP().fit(df, None, ledger=ledger)
    with pytest.raises(InvalidPrivacyParameterError):
        DummyDP(epsilon=-1).fit(df, schema, ledger=ledger)
    assert ledger.spent() == (0.0, 0.0) and ledger.charges() == ()
    # on_violation="clip" drops rows with undeclared categories (a public row-wise rule) and fits.
    DummyDP().fit(bad, schema, on_violation="clip", random_state=0)


def test_ledger_is_charged_and_a_fit_failing_after_reading_data_commits(data, tmp_path):
    """Old main cancelled (refunded) a fit that failed after reading the data; now it is charged."""
    df, schema = data
    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=1.5, delta=1e-5)
    gen = DummyDP(epsilon=1.0).fit(df, schema, ledger=ledger, random_state=0)
    with pytest.raises(RuntimeError):
        DummyDP(epsilon=0.25, fail=True).fit(df, schema, ledger=ledger)
    assert [c.status for c in ledger.charges()] == ["committed", "committed"]
    assert ledger.spent()[0] == pytest.approx(1.25)
    with pytest.raises(BudgetExceededError):
        DummyDP(epsilon=0.5).fit(df, schema, ledger=ledger)
    # The fit records the ledger entry it was charged to, with the committed spend.
    rec = ledger.find(gen.ledger_entry_["id"])
    assert rec["status"] == "committed" and rec["spent"]["epsilon"] == gen.privacy_spent_.epsilon
    assert gen.ledger_entry_["hash"] and gen.ledger_entry_["ledger"] == ledger.dataset
    gen.save(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "manifest.json").read_text())["ledger_entry"] == gen.ledger_entry_
    assert load_model(tmp_path / "m").ledger_entry_ == gen.ledger_entry_
    assert DummyDP().fit(df, schema).ledger_entry_ is None  # no ledger, no entry


def test_save_load_roundtrip_and_integrity(data, tmp_path):
    df, schema = data
    gen = DummyDP().fit(df, schema, random_state=0)
    path = tmp_path / "model"
    gen.save(path)
    loaded = load_model(path)
    assert loaded.sample(50, random_state=3).equals(gen.sample(50, random_state=3))
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["privacy"]["guarantee"] == "dp" and manifest["schema"]["fields"][0]["name"] == "c"
    assert set(p.name for p in path.iterdir()) == {"manifest.json", "arrays.safetensors"}

    # Tampered arrays file.
    blob = bytearray((path / "arrays.safetensors").read_bytes())
    blob[-1] ^= 0xFF
    (path / "arrays.safetensors").write_bytes(bytes(blob))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        load_model(path)


def test_edited_manifest_and_missing_files_are_refused(data, tmp_path):
    df, schema = data
    gen = DummyDP().fit(df, schema, random_state=0)
    gen.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    manifest["privacy"]["epsilon"] = 0.001
    (tmp_path / "m" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match="modified"):
        load_model(tmp_path / "m")
    (tmp_path / "m" / "manifest.json").write_text("{not json")
    with pytest.raises(ModelIntegrityError, match="corrupt"):
        load_model(tmp_path / "m")
    with pytest.raises(ModelIntegrityError, match="not a synthgen model"):
        load_model(tmp_path / "nothing-here")


def test_saving_over_an_existing_model_is_atomic(data, tmp_path):
    df, schema = data
    gen = DummyDP().fit(df, schema, random_state=0)
    gen.save(tmp_path / "m")
    gen.save(tmp_path / "m")  # replaces as a whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temp leftovers


def test_registry_rejects_duplicates_and_unknown_names_and_unregisters():
    with pytest.raises(RegistryError, match="already registered"):
        registry.register("copula", "x:Y", "none", "table", "dup")
    with pytest.raises(RegistryError, match="Unknown generator"):
        registry.get("no-such-generator")
    registry.register("test-temp", "synthgen.testing.fakes:DummyDP", "dp", "table", "test only")
    assert registry.get("test-temp") is DummyDP
    registry.unregister("test-temp")
    assert "test-temp" not in registry.names()
    with pytest.raises(RegistryError, match="unregister"):
        registry.unregister("test-temp")


def test_params_and_set_params():
    gen = DummyDP(epsilon=2.0)
    assert gen.get_params() == {"epsilon": 2.0, "delta": None, "fail": False}
    with pytest.raises(ConfigError, match="no parameter"):
        gen.set_params(epsilonn=1)
