"""``synthgen audit``: JSON of the audit on stdout (or --out FILE), exit 1 on a violation, 2 on a usage error."""
import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from planted.plants import planted
from synthgen.cli import main

REPORT_SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "report.schema.json"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def audit_schema() -> dict:
    doc = json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))
    return {**doc["$defs"]["audit"], "$defs": doc["$defs"]}


def test_honest_audit_prints_a_valid_document_and_exits_0():
    r = invoke("audit", "--generator", "dp-copula", "--epsilon", 4, "--trials", 6, "--seed", 0)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["format"] == "synthgen-audit/1" and doc["generator"] == "dp-copula"
    assert doc["verdict"] in ("consistent", "inconclusive")
    assert doc["claimed"]["epsilon"] == 4.0 and doc["game"]["trials"] == 6
    assert doc["game"]["split"] == {"threshold": 3, "bound": 3}
    jsonschema.validate(doc, audit_schema())


def test_violation_exits_1_and_writes_out_file(tmp_path):
    path = tmp_path / "audit.json"
    with planted("dp-copula", "no_noise"):
        r = invoke("audit", "--generator", "dp-copula", "--trials", 32, "--out", path, "--quiet")
    assert r.exit_code == 1, r.output
    assert r.stdout == ""
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["verdict"] == "violation" and doc["empirical"]["epsilon_lb"] > 1.0


def test_usage_errors_exit_2():
    r = invoke("audit", "--generator", "dp-image", "--trials", 4)
    assert r.exit_code == 2 and json.loads(r.stdout)["status"] == "error"
    r = invoke("audit", "--generator", "dp-copula", "--trials", 4, "--param", "epsilon=2")
    assert r.exit_code == 2 and "epsilon" in json.loads(r.stdout)["error"]["message"]


def test_count_one_run_game_of_dp_ctgan(tmp_path):
    import pytest

    from synthgen.generators import registry

    if not registry.is_available("dp-ctgan"):
        pytest.skip("dp-ctgan needs torch")
    r = invoke("audit", "--generator", "dp-ctgan", "--game", "count-one-run", "--seed", 0)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["game"]["kind"] == "one-run" and doc["game"]["statistic"] == "released-count"
    assert doc["verdict"] == "consistent"
    jsonschema.validate(doc, audit_schema())
    with planted("dp-ctgan", "small_noise"):
        r = invoke("audit", "--generator", "dp-ctgan", "--game", "count-one-run", "--quiet")
    assert r.exit_code == 1 and json.loads(r.stdout)["verdict"] == "violation"
    r = invoke("audit", "--generator", "dp-copula", "--game", "count-one-run")
    assert r.exit_code == 2 and json.loads(r.stdout)["status"] == "error"
