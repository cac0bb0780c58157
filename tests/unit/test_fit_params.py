"""Generator-specific fit/sample arguments pass through the base class; unknown ones are refused before budget."""
import json

import pytest

from synthgen.exceptions import ConfigError
from synthgen.generators.copula import DPGaussianCopula
from synthgen.privacy import PrivacyLedger


def test_unknown_fit_argument_is_refused_before_the_ledger_is_touched(contract_data, tmp_path):
    df, schema = contract_data
    ledger = PrivacyLedger.create(tmp_path / "l.json", epsilon=3.0, delta=1e-5)
    before = ledger.path.read_bytes()
    with pytest.raises(ConfigError, match="on_epoch"):
        DPGaussianCopula(epsilon=1.0).fit(df, schema, ledger=ledger, on_epoch=print)
    assert ledger.path.read_bytes() == before  # nothing reserved: a TypeError mid-fit would have charged it
    assert json.loads(before)["entries"] == []


def test_unknown_sample_argument_is_a_typed_error(contract_data):
    df, schema = contract_data
    gen = DPGaussianCopula(epsilon=1.0).fit(df, schema)
    with pytest.raises(ConfigError, match="conditions"):
        gen.sample(5, conditions={"group": "a"})
