"""Issue 13: how ``run`` fails. Every check that needs no private value runs before the ledger is touched; a step
that fails after the fit keeps the fitted model (its budget is spent, the ledger entry committed) with a clear
error; a release is written only when the gate passed, and nothing is half-written.

Each test fails before the fix: an evaluation crash after the fit lost the model (no output folder at all) with a
raw numpy error; a failed gate still wrote release/synthetic.csv; ``--engine native`` exported the suite through GX
after the charge; epsilon=1e9, an unknown target or an unwritable output folder were found only after the charge.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthgen import CategoricalField, NumericField, Schema
from synthgen.exceptions import ConfigError, InputError, InvalidPrivacyParameterError, ReleaseStepError
from synthgen.privacy.ledger import PrivacyLedger
from synthgen.release import bundle, pipeline
from synthgen.release.config import release_config_from_dict

SCHEMA = Schema((
    NumericField("age", 18, 90, integer=True, bounds_source="public:ages"),
    NumericField("income", 0, 200_000, bounds_source="public:cap"),
    CategoricalField("job", ("a", "b", "c"), categories_source="public:codebook"),
    CategoricalField("y", ("no", "yes"), categories_source="public:codebook"),
), name="runs")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("runs")
    rng = np.random.default_rng(0)
    n = 300
    pd.DataFrame({"age": rng.integers(18, 91, n), "income": rng.gamma(2.0, 15_000, n).clip(0, 200_000),
                  "job": rng.choice(["a", "b", "c"], n), "y": rng.choice(["no", "yes"], n)}).to_csv(
        d / "train.csv", index=False)
    SCHEMA.save(d / "schema.json")
    return d


def _config(files, tmp_path, **over):
    doc = {"version": 1, "data": {"train": str(files / "train.csv")}, "schema": str(files / "schema.json"),
           "generator": {"name": "dp-copula"}, "privacy": {"epsilon": 1.0, "ledger": str(tmp_path / "ledger.json")},
           "seed": 0, "rows": 200, "evaluation": {"metrics": ["fidelity"], "target": "y"},
           "outputs": {"dir": str(tmp_path / "out"), "export_suite": False}}
    for k, v in over.items():
        doc[k] = {**doc[k], **v} if isinstance(v, dict) and isinstance(doc.get(k), dict) else v
    PrivacyLedger.create(tmp_path / "ledger.json", 5.0, 1e-5, exist_ok=True)
    return release_config_from_dict(doc)


def _committed(tmp_path) -> list[dict]:
    led = PrivacyLedger(tmp_path / "ledger.json")
    recs = [led.find(c.id) for c in led.charges()]
    return [r for r in recs if r["status"] == "committed"]


# ------------------------------------------------------------------------------------- after the fit
def test_a_crash_after_the_fit_keeps_the_model_and_says_the_budget_was_spent(files, tmp_path, monkeypatch):
    cfg = _config(files, tmp_path)

    def crash(*_a, **_k):
        raise ValueError("arrays of sizes 5 and 6 at private value 12345.678")

    monkeypatch.setattr(pipeline, "evaluate", crash)
    with pytest.raises(ReleaseStepError) as info:
        pipeline.run_release(cfg)
    err, out = info.value, tmp_path / "out"
    assert err.step == "evaluate" and err.internal is True and err.model_dir == str(out / "model")
    assert "12345" not in str(err) and "ValueError" in str(err) and "committed" in str(err)
    assert (out / "model" / "manifest.json").exists() and not (out / "release").exists()
    (entry,) = _committed(tmp_path)
    manifest = json.loads((out / "model" / "manifest.json").read_text())
    assert manifest["ledger_entry"]["id"] == entry["id"] and entry["id"] in str(err)
    doc = json.loads((out / "owner-evaluation" / "error.json").read_text())
    assert bundle.is_owner_marked(out / "owner-evaluation" / "error.json") and doc["step"] == "evaluate"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # nothing half-written


def test_a_failed_gate_writes_no_release_but_keeps_the_model_and_the_evaluation(files, tmp_path):
    cfg = _config(files, tmp_path, thresholds={"min_fidelity": 0.999})
    result = pipeline.run_release(cfg, engine="native")
    out = tmp_path / "out"
    assert result.success is False and "threshold:min_fidelity" in result.gate["failed_checks"]
    assert not (out / "release").exists()
    assert (out / "model" / "manifest.json").exists() and (out / "owner-evaluation" / "gate.json").exists()
    doc = result.to_json()
    assert doc["release"]["written"] is False and doc["release"]["dir"] is None and len(_committed(tmp_path)) == 1


def test_native_engine_exports_its_own_suite_and_a_broken_gx_is_refused_before_the_charge(files, tmp_path,
                                                                                         monkeypatch):
    from synthgen.release.gate import engines

    def broken():
        raise RuntimeError("DataContextRequiredError: no data context")

    monkeypatch.setattr(engines, "_gx", broken)
    monkeypatch.setattr(engines, "gx_available", lambda: True)
    cfg = _config(files, tmp_path, outputs={"export_suite": True}, evaluation={"enabled": False})
    result = pipeline.run_release(cfg, engine="native")
    suite = json.loads((tmp_path / "out" / "release" / "suite.json").read_text())
    assert result.success and suite["meta"]["engine"] == "native" and suite["expectations"]
    before = (tmp_path / "ledger.json").read_bytes()
    cfg = _config(files, tmp_path, outputs={"export_suite": True, "dir": str(tmp_path / "out2")})
    with pytest.raises(ConfigError, match="no budget was charged"):
        pipeline.run_release(cfg, engine="auto")
    assert (tmp_path / "ledger.json").read_bytes() == before and not (tmp_path / "out2").exists()


# ------------------------------------------------------------------------------------- before the charge
@pytest.mark.parametrize("case", ["epsilon 1e9", "unknown target", "output under a file", "gx missing"])
def test_preflight_refuses_before_any_data_is_read_or_budget_reserved(files, tmp_path, monkeypatch, case):
    from synthgen.release.gate import engines

    (tmp_path / "a-file").write_text("x")
    over, engine, error = {
        "epsilon 1e9": ({"privacy": {"epsilon": 1e9}}, "native", InvalidPrivacyParameterError),
        "unknown target": ({"evaluation": {"target": "salary"}}, "native", ConfigError),
        "output under a file": ({"outputs": {"dir": str(tmp_path / "a-file" / "out")}}, "native", InputError),
        "gx missing": ({}, "gx", InputError),
    }[case]
    from synthgen.release.gate import run as gate_run

    monkeypatch.setattr(engines, "gx_available", lambda: False)
    monkeypatch.setattr(gate_run, "gx_available", lambda: False)
    cfg = _config(files, tmp_path, **over)
    before = (tmp_path / "ledger.json").read_bytes()

    def no_read(*_a, **_k):
        raise AssertionError("the private table was read before the refusal")

    monkeypatch.setattr(pipeline, "read_inputs", no_read)
    with pytest.raises(error):
        pipeline.run_release(cfg, engine=engine)
    assert (tmp_path / "ledger.json").read_bytes() == before and not (tmp_path / "out").exists()


@pytest.mark.parametrize("privacy", [{"epsilon": float("inf")}, {"epsilon": 1.0, "delta": 0.6}])
def test_a_bad_privacy_request_is_refused_at_load_not_as_cannot_pay(files, tmp_path, privacy):
    """Before: epsilon=inf / delta=0.6 reached the ledger's budget comparison and read as overspend (exit 1)."""
    from synthgen.exceptions import BudgetExceededError

    with pytest.raises(InvalidPrivacyParameterError):
        _config(files, tmp_path, privacy=privacy)
    led = PrivacyLedger.create(tmp_path / "l2.json", 5.0, 1e-5)
    with pytest.raises(InvalidPrivacyParameterError):
        pipeline.precheck_budget(led, privacy["epsilon"], privacy.get("delta"))
    with pytest.raises(BudgetExceededError):
        pipeline.precheck_budget(led, 6.0, None)


def test_the_run_says_how_much_it_clipped_in_the_owner_evaluation_only(files, tmp_path):
    train = pd.read_csv(files / "train.csv")
    train.loc[:14, "age"] = 95  # 15 of 300 rows above the declared maximum of 90
    train.to_csv(tmp_path / "train.csv", index=False)
    cfg = _config(files, tmp_path, data={"train": str(tmp_path / "train.csv")},
                  generator={"name": "dp-copula", "on_violation": "clip"})
    lines: list[str] = []
    result = pipeline.run_release(cfg, engine="native", say=lines.append)
    assert result.summary["clipped"] == pytest.approx({"age": 15 / 300})
    assert any("age 5.0%" in line and "private" in line for line in lines)
    report = json.loads((tmp_path / "out" / "owner-evaluation" / "report.json").read_text())
    assert report["contains_private_statistics"] is True and report["summary"]["clipped"]["age"] == pytest.approx(0.05)
    release = "".join(p.read_text() for p in (tmp_path / "out" / "release").iterdir())
    assert '"clipped"' not in release and 'clipped_share' not in release  # private: never in the bundle


@pytest.mark.parametrize("over", [
    {"thresholds": {"max_exact_match_rate": 0.5}},                           # privacy not in evaluation.metrics
    {"thresholds": {"max_mia_auc": 0.6}, "evaluation": {"metrics": ["privacy"]}},  # mia needs a holdout
    {"thresholds": {"min_fidelity": 0.5}, "evaluation": {"enabled": False}},
])
def test_a_threshold_the_evaluation_cannot_compute_is_refused_before_the_charge(files, tmp_path, over):
    """Found by H-corpus (wages): such a threshold failed the gate only after the fit, the budget committed."""
    cfg = _config(files, tmp_path, **over)
    before = (tmp_path / "ledger.json").read_bytes()
    with pytest.raises(ConfigError, match="thresholds.*no budget was charged"):
        pipeline.run_release(cfg, engine="native")
    assert (tmp_path / "ledger.json").read_bytes() == before and not (tmp_path / "out").exists()


def test_a_too_small_holdout_is_refused_before_the_charge(files, tmp_path):
    """Found by H-corpus (wages): a 60-row holdout was refused by the evaluators only after the fit."""
    pd.read_csv(files / "train.csv").head(60).to_csv(tmp_path / "holdout.csv", index=False)
    cfg = _config(files, tmp_path, data={"train": str(files / "train.csv"), "holdout": str(tmp_path / "holdout.csv")})
    before = (tmp_path / "ledger.json").read_bytes()
    with pytest.raises(InputError, match="fewer than 100 rows") as info:
        pipeline.run_release(cfg, engine="native")
    assert "60" not in str(info.value)  # the holdout's size is not printed
    assert (tmp_path / "ledger.json").read_bytes() == before and not (tmp_path / "out").exists()


def test_a_too_small_held_out_share_names_its_fix(files, tmp_path):
    """Third unseen sweep (iris, 150 rows; cia_factbook): `holdout_fraction: 0.2` of a small table held out fewer
    rows than the evaluators need, and the fix named only `data.holdout`, which the config did not have."""
    pd.read_csv(files / "train.csv").head(300).to_csv(tmp_path / "small.csv", index=False)
    cfg = _config(files, tmp_path, data={"train": str(tmp_path / "small.csv"), "holdout_fraction": 0.2})
    before = (tmp_path / "ledger.json").read_bytes()
    with pytest.raises(InputError, match=r"fewer than 100 rows.*raise data\.holdout_fraction.*or remove it") as info:
        pipeline.run_release(cfg, engine="native")
    assert "60" not in str(info.value) and "300" not in str(info.value)  # neither the holdout's nor the table's size
    assert (tmp_path / "ledger.json").read_bytes() == before and not (tmp_path / "out").exists()
