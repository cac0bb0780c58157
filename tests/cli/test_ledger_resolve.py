"""`synthgen ledger resolve` (issue 13): a process killed outright (SIGKILL) inside two charges leaves two pending
reservations, which no command could close before; resolve commits the one whose process had marked reading
data and cancels the one it had not reached, and `ledger verify` passes after."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from synthgen.cli import main

REPO = Path(__file__).resolve().parents[2]
KILLED = """
import os, signal, sys
from synthgen.privacy.ledger import PrivacyLedger, charge
led = PrivacyLedger(sys.argv[1])
with charge(led, 0.5, 1e-6, generator="g", purpose="read then killed") as h1:
    h1.data_read()
    with charge(led, 0.25, 0.0, generator="g", purpose="killed before reading"):
        os.kill(os.getpid(), signal.SIGKILL)
"""


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_resolve_closes_the_reservations_of_a_killed_process(tmp_path):
    led = tmp_path / "l.json"
    assert invoke("ledger", "init", led, "--epsilon", 2, "--delta", 1e-5).exit_code == 0
    proc = subprocess.run([sys.executable, "-c", KILLED, str(led)], cwd=REPO, capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    r = invoke("ledger", "show", led)
    assert [c["status"] for c in json.loads(r.stdout)["charges"]] == ["pending", "pending"]
    assert "synthgen ledger resolve" in r.stderr
    r = invoke("ledger", "verify", led)
    assert r.exit_code == 0 and json.loads(r.stdout)["pending"] == 2 and "ledger resolve" in r.stderr
    r = invoke("ledger", "resolve", led)
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [x["action"] for x in doc["resolved"]] and doc["left_pending"] == []
    by_purpose = {c["purpose"]: c["status"] for c in json.loads(invoke("ledger", "show", led).stdout)["charges"]}
    assert by_purpose == {"read then killed": "committed", "killed before reading": "cancelled"}
    assert doc["spent"]["epsilon"] == 0.5
    r = invoke("ledger", "verify", led)
    assert r.exit_code == 0 and json.loads(r.stdout)["pending"] == 0
    r = invoke("ledger", "resolve", led)
    assert r.exit_code == 0 and json.loads(r.stdout)["resolved"] == []


def test_resolve_leaves_a_live_holder_pending_and_exits_1(tmp_path):
    from synthgen.privacy.ledger import PrivacyLedger

    led = PrivacyLedger.create(tmp_path / "l.json", epsilon=2.0, delta=1e-5)
    res = led.reserve(0.5, 0.0, generator="g", purpose="still running here")
    r = invoke("ledger", "resolve", led.path)
    assert r.exit_code == 1 and json.loads(r.stdout)["left_pending"] == [res.id]
    assert "--force" in r.stderr
    r = invoke("ledger", "resolve", led.path, "--id", res.id, "--force")
    assert r.exit_code == 0 and led.find(res.id)["status"] == "committed"
    assert invoke("ledger", "resolve", led.path, "--id", "c-nope").exit_code == 2
