"""Recipe: a nightly synthgen release as an Airflow task (Airflow is NOT a synthgen dependency).

Copy into your Airflow ``dags/`` folder. The task shells out to the installed ``synthgen`` command, so the
Airflow workers only need synthgen on PATH (or set SYNTHGEN to a virtualenv's binary). Exit codes map onto Airflow:

- 0: released (fit -> sample -> evaluate -> validate passed); in the config's ``outputs.dir``, ``release/`` is the
  bundle to publish and ``owner-evaluation/`` the private report and gate result (never publish it);
- 1: a check failed or the privacy budget would be overspent: the task fails, nothing more is charged;
- 2: bad config or input (fix the config; retrying will not help, hence ``retries=0``);
- 3: internal error.

The machine-readable result is written with ``--json-out``; only its public part (outputs, privacy spend, gate
pass/fail) is pushed to XCom. The gate's pass/fail is itself a function of the private data: keep XCom internal.
"""
from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime
from pathlib import Path

SYNTHGEN = os.environ.get("SYNTHGEN", "synthgen")
RELEASE_CONFIG = os.environ.get("SYNTHGEN_RELEASE_CONFIG", "/opt/releases/customers/release.yaml")


def run_release(config: str = RELEASE_CONFIG, result_path: str = "/tmp/synthgen-release.json") -> dict:
    """Run one release; raise on failure with the failing checks named (no data values in the message)."""
    proc = subprocess.run([SYNTHGEN, "run", config, "--quiet", "--json-out", result_path],
                          capture_output=True, text=True)
    result = json.loads(Path(result_path).read_text()) if Path(result_path).exists() else {}
    if proc.returncode != 0:
        gate = result.get("gate") or (result.get("owner_evaluation") or {}).get("gate") or {}
        failed = gate.get("failed_checks") or []
        raise RuntimeError(f"synthgen run exited {proc.returncode}; failed checks: {failed or 'see log'}\n"
                           f"{proc.stderr[-2000:]}")
    return result


try:  # only defined where Airflow is installed
    from airflow.decorators import dag, task

    @dag(schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False, tags=["synthgen", "privacy"],
         default_args={"retries": 0})
    def synthgen_release():
        @task
        def release() -> dict:
            result = run_release()
            return {"release": result["release"]["dir"], "privacy": result["privacy"],
                    "gate": result["owner_evaluation"]["gate"]["success"]}

        release()

    synthgen_release()
except ImportError:  # pragma: no cover - a recipe, not a dependency
    pass
