"""The demo: a canned release config over the embedded real CPS1988 table, run by the ordinary pipeline.

Privacy argument: the same as :mod:`synthgen.release.pipeline` (the table is public here, but the demo treats it as
private to show the real procedure): the release bundle in ``<out>/release/`` holds DP outputs only, the report
and gate result go to ``<out>/owner-evaluation/``, marked as private statistics. ``seed`` seeds the train/holdout
split, the fit's initialisation and the sampling; privacy noise comes from OS entropy, so two demo runs with the
same seed give different (equally private) releases.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..exceptions import InputError
from . import pipeline
from .config import ReleaseConfig, Thresholds

GENERATOR = "dp-copula"
DATASET = "cps1988"
TARGET = "parttime"


def demo_inputs(seed: int) -> pipeline.Inputs:
    """CPS1988 split 80/20 into training rows and a real holdout (the split is seeded: it is not privacy noise)."""
    from .. import datasets

    df, schema = datasets.load(DATASET)
    train, holdout = datasets.train_holdout(df, seed=seed)
    return pipeline.Inputs(train, schema, holdout)


def demo_config(out_dir: str | Path, *, epsilon: float, delta: float, seed: int, ledger: Path | None,
                evaluate: bool) -> ReleaseConfig:
    """The canned config: dp-copula at (epsilon, delta), DP required, release size from the DP row estimate."""
    embedded = Path(f"<embedded {DATASET}>")
    return ReleaseConfig(path=None, train=embedded, schema=embedded, generator=GENERATOR, outputs_dir=Path(out_dir),
                         epsilon=epsilon, delta=delta, ledger=ledger, rows=None, seed=seed, evaluate=evaluate,
                         target=TARGET, thresholds=Thresholds(require_dp=True, max_epsilon=epsilon),
                         name=f"{DATASET}-demo")


@dataclass(frozen=True)
class DemoResult:
    result: pipeline.ReleaseResult
    ledger_path: Path
    ledger: dict
    note: str | None

    def to_json(self) -> dict:
        led = self.ledger
        return {**self.result.to_json(), "note": self.note,
                "ledger": {"path": str(self.ledger_path), "spent": led["spent"], "budget": led["budget"]}}


def run_demo(out_dir: str | Path, *, epsilon: float = 1.0, delta: float = 1e-6, seed: int = 0,
             engine: str = "auto", say: Callable[[str], None] = pipeline._quiet,
             step: Callable[[], None] = lambda: None, bars: bool = False) -> DemoResult:
    """Run the demo release into ``out_dir`` (replaced as a whole); its ledger covers exactly this run."""
    from ..generators import registry
    from ..privacy.ledger import PrivacyLedger

    if not registry.is_available(GENERATOR):
        raise InputError(f"The demo needs the {GENERATOR!r} generator, which is not available in this "
                         "installation. Fix: reinstall synthgen (make install).")
    note = None
    try:
        pipeline.evaluators_module()
        evaluate = True
    except InputError as exc:
        note, evaluate = f"report skipped: {exc}", False
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory(prefix="synthgen-demo-") as tmp:
        ledger_tmp = Path(tmp) / "ledger.json"
        PrivacyLedger.create(ledger_tmp, epsilon=epsilon, delta=delta, dataset=f"{DATASET} (demo)")
        cfg = demo_config(out_dir, epsilon=epsilon, delta=delta, seed=seed, ledger=ledger_tmp, evaluate=evaluate)
        inputs = demo_inputs(seed)
        step()
        result = pipeline.run_release(cfg, engine=engine, inputs=inputs, say=say, step=step, bars=bars)
        ledger_path = out_dir / "ledger.json"
        shutil.copyfile(ledger_tmp, ledger_path)
    info: Any = PrivacyLedger(ledger_path).to_dict()
    return DemoResult(result, ledger_path, info, note)
