"""`synthgen evaluate` names what it evaluated in the owner's report (dataset, generator, parameters, ledger:
H-report's Report.with_release), from public facts only."""
from __future__ import annotations

import json

from click.testing import CliRunner

from synthgen.cli import main


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_evaluate_report_names_dataset_generator_and_ledger(small_cps, tmp_path):
    led = tmp_path / "l.json"
    invoke("ledger", "init", led, "--epsilon", 3, "--delta", 1e-5)
    r = invoke("fit", small_cps / "train.csv", "--schema", small_cps / "schema.json", "--generator", "cli-test-dp",
               "--epsilon", 1, "--ledger", led, "--out", tmp_path / "m", "--seed", 0)
    assert r.exit_code == 0, r.stderr
    invoke("sample", tmp_path / "m", "--rows", 100, "--out", tmp_path / "s.csv", "--seed", 0)
    r = invoke("evaluate", "--real", small_cps / "train.csv", "--holdout", small_cps / "holdout.csv", "--synthetic",
               tmp_path / "s.csv", "--schema", small_cps / "schema.json", "--model", tmp_path / "m", "--ledger", led,
               "--metrics", "fidelity", "--out", tmp_path / "report.json")
    assert r.exit_code == 0, r.stderr
    release = json.loads((tmp_path / "report.json").read_text())["release"]
    text = json.dumps(release)
    assert "cli-test-dp" in text and "train.csv" in text and "l.json" in text
