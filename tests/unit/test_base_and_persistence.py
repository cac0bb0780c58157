"""The generator base class and model persistence, on a test-only generator."""
import json

import numpy as np
import pandas as pd
import pytest

from synthgen import CategoricalField, PrivacyLedger, Schema, registry
from synthgen.exceptions import (ConfigError, DataValidationError, InferredSchemaError,
                                 InvalidPrivacyParameterError, ModelIntegrityError, NotFittedError, RegistryError)
from synthgen.generators.base import default_delta
from synthgen.persistence import load_model

from dummy_generator import DummyDP


@pytest.fixture(autouse=True, scope="module")
def registered():
    registry.register("test-dummy-dp", "dummy_generator:DummyDP", "dp", "table", "test only")
    yield
    registry._REGISTRY.pop("test-dummy-dp", None)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"c": rng.choice(["a", "b", "c"], 500, p=[0.6, 0.3, 0.1])})
    return df, Schema((CategoricalField("c", ("a", "b", "c"), categories_source="public:test"),))


def test_fit_returns_self_and_records_spend(data):
    df, schema = data
    gen = DummyDP(epsilon=1.0)
    assert gen.fit(df, schema, random_state=0) is gen
    assert gen.privacy_spent_.is_dp and gen.privacy_spent_.epsilon <= 1.0
    assert gen.privacy_spent_.delta == default_delta(500) == 1e-6
    out = gen.sample(100, random_state=1)
    assert out.attrs["privacy"]["guarantee"] == "dp" and len(out) == 100


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
    with pytest.raises(InvalidPrivacyParameterError, match="1/n"):
        DummyDP(delta=0.01).fit(df, schema)  # 0.01 >= 1/500


def test_inferred_schema_refused_unless_allowed(data):
    df, _ = data
    inferred = Schema((CategoricalField("c", ("a", "b", "c"), categories_source="inferred"),))
    with pytest.raises(InferredSchemaError, match="allow_inferred"):
        DummyDP().fit(df, inferred)
    gen = DummyDP().fit(df, inferred, allow_inferred=True, random_state=0)
    assert gen.allow_inferred_ and gen.privacy_spent_.details["allow_inferred_schema"] is True


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
    assert ledger.spent() == (0.0, 0.0)
    # on_violation="clip" drops rows with undeclared categories (a public row-wise rule) and fits.
    DummyDP().fit(bad, schema, on_violation="clip", random_state=0)


def test_ledger_is_charged_and_failed_fits_are_cancelled(data, tmp_path):
    df, schema = data
    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=1.5, delta=1e-5)
    DummyDP(epsilon=1.0).fit(df, schema, ledger=ledger, random_state=0)
    with pytest.raises(RuntimeError):
        DummyDP(epsilon=0.5, fail=True).fit(df, schema, ledger=ledger)
    assert [c.status for c in ledger.charges()] == ["committed", "cancelled"]
    from synthgen.exceptions import BudgetExceededError
    with pytest.raises(BudgetExceededError):
        DummyDP(epsilon=1.0).fit(df, schema, ledger=ledger)


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


def test_registry_rejects_duplicates_and_unknown_names():
    with pytest.raises(RegistryError, match="already registered"):
        registry.register("copula", "x:Y", "none", "table", "dup")
    with pytest.raises(RegistryError, match="Unknown generator"):
        registry.get("no-such-generator")


def test_params_and_set_params():
    gen = DummyDP(epsilon=2.0)
    assert gen.get_params() == {"epsilon": 2.0, "delta": None, "fail": False}
    with pytest.raises(ConfigError, match="no parameter"):
        gen.set_params(epsilonn=1)
