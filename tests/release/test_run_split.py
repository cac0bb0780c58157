"""``data.holdout_fraction`` (issue 13: ``run`` evaluated against a given holdout file only): without a holdout
file, run holds out a seeded share of the training rows (whole ``group_by`` groups), never fits on them, and
evaluates against them; a config that names both, or a group column the schema does not declare, is refused
before anything is read or charged."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthgen import CategoricalField, NumericField, Schema
from synthgen.exceptions import ConfigError
from synthgen.privacy.ledger import PrivacyLedger
from synthgen.release import pipeline
from synthgen.release.config import release_config_from_dict

SCHEMA = Schema((NumericField("x", -10, 10, bounds_source="public:t"),
                 CategoricalField("site", tuple("abcdefghij"), categories_source="public:t"),
                 CategoricalField("y", ("no", "yes"), categories_source="public:t")), name="split")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("split")
    rng = np.random.default_rng(0)
    n = 800
    x = rng.normal(0, 2, n)
    pd.DataFrame({"x": x, "site": rng.choice(list("abcdefghij"), n),
                  "y": np.where(x + rng.normal(0, 1, n) > 0, "yes", "no")}).to_csv(d / "train.csv", index=False)
    SCHEMA.save(d / "schema.json")
    return d


def _config(files, tmp_path, **data):
    PrivacyLedger.create(tmp_path / "ledger.json", 5.0, 1e-5, exist_ok=True)
    return release_config_from_dict({
        "version": 1, "data": {"train": str(files / "train.csv"), **data}, "schema": str(files / "schema.json"),
        "generator": {"name": "dp-copula"}, "privacy": {"epsilon": 1.0, "ledger": str(tmp_path / "ledger.json")},
        "seed": 3, "rows": 300, "evaluation": {"metrics": ["fidelity", "utility", "privacy"], "target": "y"},
        "outputs": {"dir": str(tmp_path / "out"), "export_suite": False, "html": False}})


@pytest.mark.parametrize("group_by", [None, ["site"]])
def test_run_holds_out_a_seeded_share_and_never_fits_on_it(files, tmp_path, monkeypatch, group_by):
    seen = {}
    real_fit = pipeline.fit

    def spy(prep, inputs, **kw):
        seen["train"], seen["holdout"] = inputs.train, inputs.holdout
        return real_fit(prep, inputs, **kw)

    monkeypatch.setattr(pipeline, "fit", spy)
    cfg = _config(files, tmp_path, holdout_fraction=0.25, **({"group_by": group_by} if group_by else {}))
    result = pipeline.run_release(cfg, engine="native")
    train, holdout = seen["train"], seen["holdout"]
    assert result.success and len(train) + len(holdout) == 800 and 150 <= len(holdout) <= 300
    keys = [tuple(r) for r in train.itertuples(index=False)]
    assert not set(keys) & {tuple(r) for r in holdout.itertuples(index=False)}  # disjoint rows
    if group_by:
        assert not set(train["site"]) & set(holdout["site"])  # whole sites held out
    summary = result.summary
    assert summary["mia_auc"] is not None and summary["exact_match_reference"] is not None  # evaluated on it
    led = PrivacyLedger(tmp_path / "ledger.json")
    assert [c.status for c in led.charges()] == ["committed"]


@pytest.mark.parametrize("data, match", [
    ({"holdout": "h.csv", "holdout_fraction": 0.2}, "both set"),
    ({"group_by": ["site"]}, "without data.holdout_fraction"),
    ({"holdout_fraction": 0.2, "group_by": ["nope"]}, "does not declare"),
])
def test_a_bad_split_is_refused_before_anything_is_charged(files, tmp_path, data, match):
    with pytest.raises(ConfigError, match=match):
        cfg = _config(files, tmp_path, **data)
        pipeline.run_release(cfg, engine="native")
    assert PrivacyLedger(tmp_path / "ledger.json").charges() == () and not (tmp_path / "out").exists()
