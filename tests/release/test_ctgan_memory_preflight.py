"""Issue 13: DP-CTGAN with 50,000 declared categories was killed at 19.5 GB after its budget was reserved. The plan
now estimates the fit's peak memory from the declared domain, the pairs and the batch size (public inputs only) and
refuses, before any reservation, with a typed error naming the column and the fixes.

Fails before the fix: there was no estimate; the fit reserved the budget and ran out of memory.
"""
import numpy as np
import pandas as pd
import pytest

from synthgen import CategoricalField, NumericField, Schema
from synthgen.exceptions import ConfigError
from synthgen.generators import registry
from synthgen.generators.ctgan import plan as ctgan_plan
from synthgen.privacy.ledger import PrivacyLedger

GIB = 2.0 ** 30


def _schema(n_categories: int) -> Schema:
    return Schema((
        CategoricalField("zip", tuple(f"z{i:05d}" for i in range(n_categories)), categories_source="public:list"),
        CategoricalField("sex", ("f", "m"), categories_source="public:codebook"),
        NumericField("age", 0, 100, bounds_source="public:ages"),
    ), name="wide")


def _estimate(schema: Schema, **params) -> float:
    from synthgen.generators.ctgan.encoder import TableEncoder

    est = registry.get("dp-ctgan")(epsilon=1.0, **params)
    enc = TableEncoder(schema, n_bins=est.n_bins)
    return sum(ctgan_plan.memory_estimate(est, enc, ctgan_plan.resolve_pairs(enc, est.pairs)).values())


def test_fifty_thousand_categories_are_refused_before_the_budget_is_reserved(tmp_path, monkeypatch):
    if not registry.is_available("dp-ctgan"):
        pytest.skip("dp-ctgan is not available")
    monkeypatch.setattr(ctgan_plan, "available_memory", lambda: 24 * GIB)
    schema = _schema(50_000)
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"zip": rng.choice(list(schema["zip"].categories[:50]), 200), "sex": rng.choice(["f", "m"], 200),
                       "age": rng.uniform(0, 100, 200)})
    led = PrivacyLedger.create(tmp_path / "ledger.json", 3.0, 1e-5)
    before = (tmp_path / "ledger.json").read_bytes()
    with pytest.raises(ConfigError) as info:
        registry.get("dp-ctgan")(epsilon=1.0).fit(df, schema, ledger=led)
    msg = str(info.value)
    assert "'zip'" in msg and "GiB" in msg and "Fix:" in msg and "before any budget" in msg
    assert (tmp_path / "ledger.json").read_bytes() == before  # nothing reserved


def test_the_estimate_grows_with_the_declared_domain_and_a_small_table_passes(monkeypatch):
    small, big = _estimate(_schema(20)), _estimate(_schema(50_000))
    assert small < 0.5 * GIB < 20 * GIB < big
    assert _estimate(_schema(5_000), pairs=None) < _estimate(_schema(5_000))  # the pair loss is a slots^2 matrix
    monkeypatch.setattr(ctgan_plan, "available_memory", lambda: 24 * GIB)
    from synthgen.generators.ctgan.encoder import TableEncoder

    est = registry.get("dp-ctgan")(epsilon=1.0)
    ctgan_plan.check_memory(est, TableEncoder(_schema(20), n_bins=est.n_bins), [], None)  # no error
