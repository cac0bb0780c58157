"""Privacy parameters on the command line (issue 13): epsilon = inf and delta >= 0.5 are bad input (exit 2), not
"cannot pay" (exit 1, which they gave before: the ledger's budget check ran before any validation); a DP fit
without a ledger and an epsilon above 10 each get one warning line."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from synthgen.cli import main


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def ledger(tmp_path):
    led = tmp_path / "l.json"
    assert invoke("ledger", "init", led, "--epsilon", 3, "--delta", 1e-5).exit_code == 0
    return led


def _fit(small_cps, tmp_path, *extra):
    return invoke("fit", small_cps / "train.csv", "--schema", small_cps / "schema.json", "--generator", "cli-test-dp",
                  "--out", tmp_path / "m", *extra)


@pytest.mark.parametrize("extra", [("--epsilon", "inf"), ("--epsilon", "nan"), ("--param", "epsilon=Infinity"),
                                   ("--epsilon", 1, "--delta", 0.5), ("--epsilon", 1, "--delta", 0.9)])
def test_bad_epsilon_or_delta_with_a_ledger_is_bad_input(small_cps, tmp_path, ledger, extra):
    before = ledger.read_bytes()
    r = _fit(small_cps, tmp_path, "--ledger", ledger, *extra)
    assert r.exit_code == 2, r.stderr
    assert json.loads(r.stdout)["error"]["type"] == "InvalidPrivacyParameterError"
    assert ledger.read_bytes() == before and not (tmp_path / "m").exists()


def test_bad_epsilon_for_a_draft_and_a_run_is_bad_input(small_cps, tmp_path, ledger):
    r = invoke("schema", "draft", small_cps / "train.csv", "--out", tmp_path / "s.json", "--epsilon", "inf",
               "--ledger", ledger)
    assert r.exit_code == 2 and "epsilon" in r.stderr and not (tmp_path / "s.json").exists()
    cfg = tmp_path / "r.yaml"
    for privacy in ("{epsilon: .inf, ledger: l.json}", "{epsilon: 1.0, delta: 0.5, ledger: l.json}"):
        cfg.write_text(f"data: {{train: {small_cps / 'train.csv'}}}\nschema: {small_cps / 'schema.json'}\n"
                       f"generator: {{name: cli-test-dp}}\nprivacy: {privacy}\noutputs: {{dir: out}}\n")
        r = invoke("run", cfg)
        assert r.exit_code == 2, r.stderr
    assert [c for c in json.loads(ledger.read_text())["entries"]] == []


def test_a_dp_fit_without_a_ledger_warns_once(small_cps, tmp_path, ledger):
    r = _fit(small_cps, tmp_path, "--epsilon", 1, "-q")
    assert r.exit_code == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "not charged to any ledger" in ln]
    assert len(lines) == 1 and lines[0].startswith("warning:")
    assert any("not charged" in w for w in json.loads(r.stdout)["warnings"])
    r = _fit(small_cps, tmp_path, "--epsilon", 1, "--ledger", ledger)
    assert r.exit_code == 0 and "not charged" not in r.stderr and "protects little" not in r.stderr


def test_a_large_epsilon_warns_that_it_protects_little(small_cps, tmp_path, ledger):
    big = tmp_path / "big.json"
    invoke("ledger", "init", big, "--epsilon", 100, "--delta", 1e-5)
    r = _fit(small_cps, tmp_path, "--epsilon", 20, "--ledger", big)
    assert r.exit_code == 0, r.stderr
    assert sum("protects little" in ln for ln in r.stderr.splitlines()) == 1
    r = _fit(small_cps, tmp_path, "--epsilon", 10, "--ledger", big)
    assert "protects little" not in r.stderr
