"""`synthgen run`, the release bundle, `ledger verify` and `validate --ledger`, in process with the test generators.

Each test here fails on the pre-round-3 main: `run` released exactly n rows and printed `"rows": n`; it wrote the
report and gate result beside the synthetic data; there was no `ledger verify`; `validate` did not cross-check a
model's spend against its ledger entry.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from synthgen.cli import main

OFFSET = 137.4  # with the fixture below, FakeDP.rows_estimate_ = n + OFFSET: far from n, so a test can tell


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def as_json(result) -> dict:
    return json.loads(result.stdout)


def ints_in(obj) -> list[int]:
    """Every integer (and integral float) anywhere in a JSON document."""
    if isinstance(obj, dict):
        return [i for v in obj.values() for i in ints_in(v)]
    if isinstance(obj, list):
        return [i for v in obj for i in ints_in(v)]
    if isinstance(obj, bool):
        return []
    if isinstance(obj, int) or (isinstance(obj, float) and obj.is_integer()):
        return [int(obj)]
    return []


def config(tmp_path: Path, d: Path, **over) -> Path:
    cfg = {"version": 1, "data": {"train": str(d / "train.csv"), "holdout": str(d / "holdout.csv")},
           "schema": str(d / "schema.json"), "generator": {"name": "cli-test-dp"},
           "privacy": {"epsilon": 1.0, "delta": 1e-6, "ledger": str(tmp_path / "ledger.json")}, "seed": 3,
           "evaluation": {"target": "parttime", "metrics": ["fidelity"]},
           "thresholds": {"require_dp": True, "max_epsilon": 1.0},
           # export_suite off: the bundle test lists the release files exactly (tests/release covers the suite)
           "outputs": {"dir": str(tmp_path / "out"), "export_suite": False}}
    cfg.update(over)
    path = tmp_path / "release.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    assert invoke("ledger", "init", tmp_path / "ledger.json", "--epsilon", 3, "--delta", 1e-5).exit_code == 0
    return path


@pytest.fixture
def offset_estimate(monkeypatch):
    """The DP fake's row estimate (a noisy count, which may round to n) replaced by n + OFFSET, deterministically."""
    from synthgen.testing.fakes import FakeDP

    noisy_fit = FakeDP._fit

    def _fit(self, data, schema, rng, plan):
        spent = noisy_fit(self, data, schema, rng, plan)
        self.rows_estimate_ = float(len(data)) + OFFSET
        return spent

    monkeypatch.setattr(FakeDP, "_fit", _fit)


@pytest.fixture
def run_out(small_cps, tmp_path, offset_estimate):
    r = invoke("run", config(tmp_path, small_cps), "--engine", "native")
    assert r.exit_code == 0, r.stderr[-3000:]
    return tmp_path / "out", as_json(r), r.stderr, len(pd.read_csv(small_cps / "train.csv"))


def test_run_releases_the_dp_row_estimate_never_n(run_out):
    out, doc, stderr, n = run_out
    released = len(pd.read_csv(out / "release" / "synthetic.csv"))
    assert released == round(n + OFFSET) == doc["release"]["rows"] and doc["release"]["rows_source"] == "dp_estimate"
    assert n not in ints_in(doc["release"]) and n not in ints_in(doc["privacy"])
    assert n not in ints_in({k: v for k, v in doc.items() if k != "owner_evaluation"})
    assert f" {n} " not in stderr and f"{n} rows" not in stderr
    card = json.loads((out / "release" / "model_card.json").read_text())
    assert n not in ints_in({k: v for k, v in card.items() if k != "schema"})


def test_release_bundle_holds_no_owner_statistics(run_out, small_cps):
    out, doc, _, n = run_out
    release = {p.name for p in (out / "release").iterdir()}
    assert release == {"synthetic.csv", "model_card.json"}
    card = json.loads((out / "release" / "model_card.json").read_text())
    assert card["dp"] is True and card["privacy"]["guarantee"] == "dp" and card["privacy"]["epsilon"] == 1.0
    assert card["ledger_entry"]["id"] and card["ledger_entry"]["hash"]
    assert card["schema"]["name"] == json.loads((small_cps / "schema.json").read_text())["name"]
    digest = hashlib.sha256((out / "release" / "synthetic.csv").read_bytes()).hexdigest()
    assert card["release"]["sha256"] == digest and "never" in card["seeds"]
    assert not any(k in json.dumps(card) for k in ("fidelity", "mia_auc", "report", "gate"))
    own = out / "owner-evaluation"
    assert {p.name for p in own.iterdir()} == {"report.json", "report.html", "gate.json", "NOT-FOR-RELEASE.txt"}
    gate = json.loads((own / "gate.json").read_text())
    assert gate["contains_private_statistics"] is True and gate["not_for_release"] is True
    assert json.loads((own / "report.json").read_text())["contains_private_statistics"] is True
    assert "NOT FOR RELEASE" in (own / "report.html").read_text()[:5000].upper()
    assert doc["owner_evaluation"]["contains_private_statistics"] is True
    assert (out / "model" / "manifest.json").exists()


def test_run_rows_from_the_config_are_used_as_given(small_cps, tmp_path):
    r = invoke("run", config(tmp_path, small_cps, rows=77, evaluation={"enabled": False}), "--engine", "native")
    assert r.exit_code == 0, r.stderr
    assert as_json(r)["release"]["rows"] == 77 and as_json(r)["release"]["rows_source"] == "config"
    assert len(pd.read_csv(tmp_path / "out" / "release" / "synthetic.csv")) == 77
    assert {p.name for p in (tmp_path / "out" / "owner-evaluation").iterdir()} == {"gate.json", "NOT-FOR-RELEASE.txt"}


def _fit(small_cps, tmp_path, ledger=True):
    led = tmp_path / "l.json"
    invoke("ledger", "init", led, "--epsilon", 3, "--delta", 1e-5)
    args = ["fit", small_cps / "train.csv", "--schema", small_cps / "schema.json", "--generator", "cli-test-dp",
            "--epsilon", 1, "--delta", 1e-6, "--out", tmp_path / "m"] + (["--ledger", led] if ledger else [])
    assert invoke(*args).exit_code == 0
    assert invoke("sample", tmp_path / "m", "--rows", 40, "--out", tmp_path / "s.csv", "--seed", 0).exit_code == 0
    return led


def test_ledger_verify_detects_a_raised_budget_and_removed_charges(small_cps, tmp_path):
    led = _fit(small_cps, tmp_path)
    r = invoke("ledger", "verify", led)
    assert r.exit_code == 0, r.stderr
    assert as_json(r)["ok"] is True and as_json(r)["problems"] == []
    good = led.read_text()
    doc = json.loads(good)
    doc["budget"]["epsilon"] = 30.0
    led.write_text(json.dumps(doc))
    r = invoke("ledger", "verify", led)
    assert r.exit_code == 1 and as_json(r)["ok"] is False and as_json(r)["problems"]
    doc = json.loads(good)
    doc["entries"] = doc["entries"][:-1]
    led.write_text(json.dumps(doc))
    r = invoke("ledger", "verify", led)
    assert r.exit_code == 1 and as_json(r)["problems"]
    assert invoke("ledger", "verify", tmp_path / "missing.json").exit_code == 2


def _forge_epsilon(model_dir: Path, epsilon: float) -> None:
    """Edit the manifest's epsilon and recompute its digest, as a hand edit would."""
    from synthgen.persistence import _canonical

    mpath = model_dir / "manifest.json"
    m = json.loads(mpath.read_text())
    m["privacy"]["epsilon"] = epsilon
    body = {k: v for k, v in m.items() if k != "manifest_sha256"}
    m["manifest_sha256"] = hashlib.sha256(_canonical(body)).hexdigest()
    mpath.write_text(json.dumps(m))


def test_validate_cross_checks_the_model_spend_against_its_ledger_entry(small_cps, tmp_path):
    led = _fit(small_cps, tmp_path)
    base = ["validate", "--synthetic", tmp_path / "s.csv", "--schema", small_cps / "schema.json",
            "--model", tmp_path / "m", "--engine", "native"]
    r = invoke(*base, "--ledger", led)
    assert r.exit_code == 0, r.stderr
    checks = {x["expectation_config"]["meta"]["check"]: x["success"] for x in as_json(r)["results"]}
    assert checks["ledger_entry"] is True
    assert as_json(r)["contains_private_statistics"] is False  # no report, no training table: public inputs only
    _forge_epsilon(tmp_path / "m", 0.1)
    r = invoke(*base, "--ledger", led)
    assert r.exit_code == 1 and "ledger_entry" in as_json(r)["failed_checks"]
    assert "epsilon=0.1" in r.stderr
    other = tmp_path / "other.json"
    invoke("ledger", "init", other, "--epsilon", 3, "--delta", 1e-5)
    r = invoke(*base, "--ledger", other)
    assert r.exit_code == 1 and "ledger_entry" in as_json(r)["failed_checks"]


def test_validate_ledger_refuses_a_model_fitted_without_one(small_cps, tmp_path):
    led = _fit(small_cps, tmp_path, ledger=False)
    r = invoke("validate", "--synthetic", tmp_path / "s.csv", "--schema", small_cps / "schema.json",
               "--model", tmp_path / "m", "--engine", "native", "--ledger", led)
    assert r.exit_code == 1 and as_json(r)["failed_checks"] == ["ledger_entry"]
    assert "no ledger entry" in r.stderr


def test_demo_writes_the_bundle_apart_from_the_owner_evaluation(small_cps, tmp_path, monkeypatch):
    """The demo is the pipeline over a canned config (here on a small CPS1988 sample, for speed)."""
    from synthgen.generators import registry
    from synthgen.release import demo, pipeline
    from synthgen.schema import Schema

    if not registry.is_available("dp-copula"):
        pytest.skip("dp-copula is not available")
    inputs = pipeline.Inputs(pd.read_csv(small_cps / "train.csv"), Schema.load(small_cps / "schema.json"),
                             pd.read_csv(small_cps / "holdout.csv"))
    monkeypatch.setattr(demo, "demo_inputs", lambda seed: inputs)
    monkeypatch.setattr(demo.pipeline, "evaluators_module", _no_evaluators)
    r = invoke("demo", "--out", tmp_path / "out")
    assert r.exit_code == 0, r.stderr[-3000:]
    doc = as_json(r)
    assert doc["release"]["rows_source"] == "dp_estimate"  # a noisy count, not len(train)
    assert {p.name for p in (tmp_path / "out" / "release").iterdir()} >= {"synthetic.csv", "model_card.json"}
    assert not [p for p in (tmp_path / "out" / "release").iterdir() if "report" in p.name or "gate" in p.name
                and not p.name.startswith("suite")]
    assert (tmp_path / "out" / "owner-evaluation" / "gate.json").exists()
    assert doc["ledger"]["spent"]["epsilon"] == pytest.approx(1.0) and (tmp_path / "out" / "ledger.json").exists()
    assert "report skipped" in r.stderr


def _no_evaluators():
    from synthgen.exceptions import InputError

    raise InputError("evaluators switched off for this test")
