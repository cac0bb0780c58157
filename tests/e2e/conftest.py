import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SYNTHGEN = Path(sys.executable).parent / "synthgen"
FAST_METRICS = "fidelity,utility,privacy,mia"  # skips the slow optional parts (three-way, alpha-precision, ...)


def synthgen(*args, cwd=None, timeout=240):
    """Run the installed `synthgen` command; return the CompletedProcess (stdout = JSON, stderr = human text)."""
    if not SYNTHGEN.exists():
        pytest.skip(f"the synthgen command is not installed at {SYNTHGEN} (pip install -e .)")
    return subprocess.run([str(SYNTHGEN), *map(str, args)], capture_output=True, text=True, cwd=cwd or REPO,
                          timeout=timeout)


def evaluators_available() -> bool:
    try:
        import evaluators

        return callable(getattr(evaluators, "evaluate", None))
    except ImportError:
        return False


@pytest.fixture(scope="session")
def cps_dir(write_cps_split):
    """A 1,000-row subsample of the real AER/CPS1988 table: 80/20 train/holdout CSVs and the declared schema."""
    return write_cps_split(1000, 1, "e2e")


@pytest.fixture(scope="session")
def release(cps_dir):
    """ledger init -> fit (dp-copula, eps=1) -> sample -> evaluate, all through the installed command."""
    from synthgen.generators import registry

    if not registry.is_available("dp-copula"):
        pytest.skip("dp-copula is not available yet")
    d = cps_dir
    r = synthgen("ledger", "init", d / "ledger.json", "--epsilon", 3, "--delta", 1e-5, "--dataset", "cps1988")
    assert r.returncode == 0, r.stderr
    r = synthgen("fit", d / "train.csv", "--schema", d / "schema.json", "--generator", "dp-copula", "--epsilon", 1,
                 "--delta", 1e-6, "--ledger", d / "ledger.json", "--out", d / "model", "--seed", 0, "-q")
    assert r.returncode == 0, r.stderr
    r = synthgen("sample", d / "model", "--rows", 800, "--out", d / "synthetic.csv", "--seed", 1, "-q")
    assert r.returncode == 0, r.stderr
    report = None
    if evaluators_available():
        r = synthgen("evaluate", "--real", d / "train.csv", "--holdout", d / "holdout.csv", "--synthetic",
                     d / "synthetic.csv", "--schema", d / "schema.json", "--target", "parttime", "--model",
                     d / "model", "--out", d / "report.json", "--html", d / "report.html", "-q",
                     "--metrics", FAST_METRICS)
        assert r.returncode == 0, r.stderr
        report = d / "report.json"
    return {"dir": d, "report": report}


def write_config(path: Path, d: Path, **over) -> Path:
    """A release.yaml for the e2e table, thresholds sized for a 1,000-row subsample."""
    import yaml

    cfg = {
        "version": 1,
        "data": {"train": str(d / "train.csv"), "holdout": str(d / "holdout.csv")},
        "schema": str(d / "schema.json"),
        "generator": {"name": "dp-copula"},
        "privacy": {"epsilon": 1.0, "delta": 1e-6, "ledger": str(d / "ledger.json")},
        "rows": 800, "seed": 3,
        "evaluation": {"target": "parttime", "metrics": FAST_METRICS.split(",")},
        "thresholds": {"min_fidelity": 0.6, "max_mia_auc": 0.75, "max_exact_match_rate": 0.0,
                       "require_dp": True, "max_epsilon": 1.0},
        "outputs": {"dir": str(path.parent / "release-out")},
    }
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path
