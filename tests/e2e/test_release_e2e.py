"""End to end through the installed `synthgen` command on a subsample of the real CPS1988 table."""
from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from .conftest import evaluators_available, synthgen, write_config


def _gate(r) -> dict:
    return json.loads(r.stdout)


def _validate(release, synthetic, *extra):
    d = release["dir"]
    args = ["validate", "--synthetic", synthetic, "--schema", d / "schema.json", "--model", d / "model", "-q"]
    if release["report"] is not None:
        args += ["--report", release["report"]]
    return synthgen(*args, *extra)


def test_good_release_passes_the_gx_gate(release, tmp_path):
    d = release["dir"]
    cfg = write_config(tmp_path / "release.yaml", d)
    r = _validate(release, d / "synthetic.csv", "--config", cfg, "--export-suite", tmp_path / "suite.json")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    doc = _gate(r)
    assert doc["success"] is True and doc["failed_checks"] == []
    assert doc["meta"]["engine"].startswith("great_expectations")
    checks = {res["expectation_config"]["meta"]["check"] for res in doc["results"]}
    assert {"columns", "bounds:wage", "categories:region", "not_null:wage", "require_dp", "max_epsilon",
            "budget_not_exceeded"} <= checks
    if release["report"] is not None:
        assert {"threshold:min_fidelity", "threshold:max_mia_auc", "no_copied_rows"} <= checks
    # The exported suite is GX JSON that GX itself loads, and holds only public schema values.
    import great_expectations as gx

    suite_doc = json.loads((tmp_path / "suite.json").read_text())
    suite = gx.ExpectationSuite(**suite_doc)
    assert len(suite.expectations) == len(suite_doc["expectations"]) > 10
    train = pd.read_csv(d / "train.csv")
    text = (tmp_path / "suite.json").read_text()
    assert str(train["wage"].max()) not in text and str(train["wage"].min()) not in text


@pytest.mark.parametrize("tamper, checks", [
    ("out_of_bounds+unknown_category", {"bounds:wage", "categories:region"}),  # one GX run for both (speed)
    ("copied_rows", {"no_copied_rows"}),
    ("epsilon_over_max", {"max_epsilon"}),
])
def test_tampered_release_fails_naming_the_check(release, tmp_path, tamper, checks):
    d = release["dir"]
    syn = pd.read_csv(d / "synthetic.csv")
    extra: list = []
    if tamper == "out_of_bounds+unknown_category":
        syn.loc[:4, "wage"] = 1e7
        syn.loc[10:12, "region"] = "atlantis"
    elif tamper == "copied_rows":
        train = pd.read_csv(d / "train.csv")
        syn.iloc[:50] = train[syn.columns].iloc[:50].to_numpy()
        extra = ["--real", d / "train.csv", "--engine", "native"]  # synthgen's own check: no GX import needed
    elif tamper == "epsilon_over_max":
        extra = ["--config", write_config(tmp_path / "strict.yaml", d, thresholds={"max_epsilon": 0.5}),
                 "--engine", "native"]
    syn.to_csv(tmp_path / "syn.csv", index=False)
    r = _validate(release, tmp_path / "syn.csv", *extra)
    assert r.returncode == 1, r.stderr
    doc = _gate(r)
    if release["report"] is not None and tamper != "epsilon_over_max":  # the report describes the untampered file
        checks = checks | {"report_matches_release"}
    assert doc["success"] is False and set(doc["failed_checks"]) == checks
    assert "atlantis" not in r.stdout and "10000000" not in r.stdout  # counts, not values


@pytest.mark.skipif(not evaluators_available(), reason="the evaluators package has not landed yet")
def test_run_release_end_to_end(release, tmp_path):
    """One command: the bundle in release/ (DP outputs only), the owner's evaluation apart in owner-evaluation/."""
    d = release["dir"]
    before = json.loads(synthgen("ledger", "show", d / "ledger.json", "-q").stdout)["spent"]["epsilon"]
    cfg = write_config(tmp_path / "release.yaml", d)
    r = synthgen("run", cfg, "--json-out", tmp_path / "result.json")
    assert r.returncode == 0, r.stderr[-3000:]
    doc = json.loads((tmp_path / "result.json").read_text())
    assert doc["status"] == "ok" and doc["dp"] is True and doc["owner_evaluation"]["gate"]["success"] is True
    out = tmp_path / "release-out"
    assert {p.name for p in (out / "release").iterdir()} == {"synthetic.csv", "model_card.json", "suite.json",
                                                             "suite.report.json"}
    for name in ("report.json", "report.html", "gate.json", "NOT-FOR-RELEASE.txt"):
        assert (out / "owner-evaluation" / name).exists(), name
    for name in ("report.json", "gate.json"):
        assert json.loads((out / "owner-evaluation" / name).read_text())["contains_private_statistics"] is True
    assert (out / "model" / "manifest.json").exists()
    assert len(pd.read_csv(out / "release" / "synthetic.csv")) == 800 == doc["release"]["rows"]
    card = json.loads((out / "release" / "model_card.json").read_text())
    assert card["privacy"]["epsilon"] == 1.0 and card["ledger_entry"]["id"] and card["release"]["rows"] == 800
    after = json.loads(synthgen("ledger", "show", d / "ledger.json", "-q").stdout)["spent"]["epsilon"]
    assert after == pytest.approx(before + 1.0)
    r = synthgen("validate", "--synthetic", out / "release" / "synthetic.csv", "--schema", d / "schema.json",
                 "--model", out / "model", "--ledger", d / "ledger.json", "--engine", "native", "-q")
    assert r.returncode == 0, r.stdout[-2000:]
    assert "ledger_entry" not in json.loads(r.stdout)["failed_checks"]
    assert synthgen("ledger", "verify", d / "ledger.json", "-q").returncode == 0


def test_run_default_size_is_the_dp_row_estimate(release, tmp_path):
    """No `rows:` in the config: the release size is the generator's DP estimate, and n appears in no output."""
    d = release["dir"]
    n = len(pd.read_csv(d / "train.csv"))
    cfg = write_config(tmp_path / "release.yaml", d)
    doc = yaml.safe_load(cfg.read_text())
    del doc["rows"]
    doc.update(evaluation={"enabled": False}, thresholds={"require_dp": True},
               outputs={"dir": str(tmp_path / "release-out"), "export_suite": False})
    cfg.write_text(yaml.safe_dump(doc))
    r = synthgen("run", cfg, "--engine", "native")
    assert r.returncode == 0, r.stderr[-3000:]
    doc = json.loads(r.stdout)
    manifest = json.loads((tmp_path / "release-out" / "model" / "manifest.json").read_text())
    assert doc["release"]["rows_source"] == "dp_estimate"
    assert doc["release"]["rows"] == max(1, round(manifest["rows_estimate"]))
    assert len(pd.read_csv(tmp_path / "release-out" / "release" / "synthetic.csv")) == doc["release"]["rows"]
    if doc["release"]["rows"] != n:  # the fresh-noise estimate rounds to n itself now and then (CI, 2026-12-02)
        assert f"{n} rows" not in r.stderr and f'"rows": {n},' not in r.stdout


def test_run_refuses_before_any_work(release, tmp_path):
    d = release["dir"]
    ledger_before = (d / "ledger.json").read_bytes()
    # epsilon over the config's maximum: refused, exit 1, the check named, nothing charged or written
    cfg = write_config(tmp_path / "over.yaml", d, privacy={"epsilon": 2.0})
    r = synthgen("run", cfg)
    assert r.returncode == 1
    assert json.loads(r.stdout)["gate"]["failed_checks"] == ["max_epsilon"]
    # a ledger that would be overspent: exit 1, ledger unchanged
    small = tmp_path / "small.ledger.json"
    assert synthgen("ledger", "init", small, "--epsilon", 0.5, "--delta", 1e-5).returncode == 0
    small_before = small.read_bytes()
    cfg = write_config(tmp_path / "poor.yaml", d, privacy={"ledger": str(small)})
    r = synthgen("run", cfg)
    assert r.returncode == 1 and "Nothing was run" in r.stderr
    assert small.read_bytes() == small_before
    assert (d / "ledger.json").read_bytes() == ledger_before
    assert not (tmp_path / "release-out").exists()


def test_malformed_configs_and_bad_inputs_exit_2(release, tmp_path):
    d = release["dir"]
    cfg = write_config(tmp_path / "typo.yaml", d)
    cfg.write_text(cfg.read_text().replace("max_mia_auc", "max_mia_acu"))
    r = synthgen("run", cfg)
    assert r.returncode == 2
    assert "max_mia_acu" in r.stderr and "did you mean 'max_mia_auc'" in r.stderr
    assert json.loads(r.stdout)["error"]["type"] == "ConfigError"
    cfg = write_config(tmp_path / "range.yaml", d, thresholds={"max_mia_auc": 1.7})
    r = synthgen("validate", "--synthetic", d / "synthetic.csv", "--schema", d / "schema.json", "--config", cfg)
    assert r.returncode == 2 and "thresholds.max_mia_auc" in r.stderr
    r = synthgen("validate", "--synthetic", tmp_path / "missing.csv", "--schema", d / "schema.json")
    assert r.returncode == 2 and "does not exist" in r.stderr
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really parquet")
    r = synthgen("validate", "--synthetic", tmp_path / "broken.parquet", "--schema", d / "schema.json")
    assert r.returncode == 2 and "Could not read" in r.stderr
    pd.DataFrame({"x": [1.0], "y": ["a"]}).to_parquet(tmp_path / "other.parquet")
    r = synthgen("validate", "--synthetic", tmp_path / "other.parquet", "--schema", d / "schema.json")
    assert r.returncode == 2 and "none of the schema's columns" in r.stderr
