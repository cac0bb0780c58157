"""Recipe: a synthetic release as a Dagster asset guarded by a BLOCKING asset check (Dagster is NOT a dependency).

The asset runs ``synthgen run release.yaml`` (fit -> sample -> evaluate -> gate); the asset check re-runs the
release gate, ``synthgen validate``, on the materialised file. With ``blocking=True`` a failed check stops every
downstream asset from materialising, so a release that breaks its schema or thresholds never propagates.

The run's output folder holds ``release/`` (the bundle: synthetic data and model card), ``owner-evaluation/`` (the
report and gate result: private statistics, never published) and ``model/``.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

SYNTHGEN = os.environ.get("SYNTHGEN", "synthgen")
CONFIG = Path(os.environ.get("SYNTHGEN_RELEASE_CONFIG", "release.yaml"))
OUT_DIR = Path(os.environ.get("SYNTHGEN_RELEASE_DIR", "out/cps1988"))  # the config's outputs.dir
SCHEMA = Path(os.environ.get("SYNTHGEN_SCHEMA", "schema.json"))


def gate(synthetic: Path) -> tuple[bool, dict]:
    """Run the gate on a release file; return (passed, gate document)."""
    proc = subprocess.run([SYNTHGEN, "validate", "--synthetic", str(synthetic), "--schema", str(SCHEMA),
                           "--config", str(CONFIG), "--report", str(OUT_DIR / "owner-evaluation" / "report.json"),
                           "--model", str(OUT_DIR / "model"), "--quiet"], capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"synthgen validate could not run (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return proc.returncode == 0, json.loads(proc.stdout)


try:  # only defined where Dagster is installed
    import dagster as dg

    @dg.asset(group_name="synthetic")
    def synthetic_customers() -> dg.MaterializeResult:
        proc = subprocess.run([SYNTHGEN, "run", str(CONFIG), "--quiet"], capture_output=True, text=True)
        if proc.returncode == 2 or proc.returncode == 3:
            raise RuntimeError(f"synthgen run failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
        result = json.loads(proc.stdout)
        return dg.MaterializeResult(metadata={
            "rows": (result.get("release") or {}).get("rows"), "epsilon": (result.get("privacy") or {}).get("epsilon"),
            "dp": result.get("dp"),
            "gate_passed": ((result.get("owner_evaluation") or {}).get("gate") or {}).get("success")})

    @dg.asset_check(asset=synthetic_customers, blocking=True)
    def synthetic_customers_release_gate() -> dg.AssetCheckResult:
        passed, doc = gate(OUT_DIR / "release" / "synthetic.csv")
        return dg.AssetCheckResult(passed=passed, metadata={
            "failed_checks": ", ".join(doc.get("failed_checks", [])) or "none",
            "checks_passed": f"{doc['statistics']['successful_expectations']}/"
                             f"{doc['statistics']['evaluated_expectations']}"})

    defs = dg.Definitions(assets=[synthetic_customers], asset_checks=[synthetic_customers_release_gate])
except ImportError:  # pragma: no cover - a recipe, not a dependency
    pass
