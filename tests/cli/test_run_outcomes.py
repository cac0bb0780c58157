"""How `synthgen run` reports a step that failed after the fit (ReleaseStepError: exit 3 for a bug, 2 for bad
input, with the step and the kept model in the JSON) and a gate that failed (no release written)."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from synthgen.cli import main
from synthgen.exceptions import ReleaseStepError


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def config(small_cps, tmp_path):
    cfg = tmp_path / "r.yaml"
    cfg.write_text(f"data: {{train: {small_cps / 'train.csv'}, holdout: {small_cps / 'holdout.csv'}}}\n"
                   f"schema: {small_cps / 'schema.json'}\ngenerator: {{name: cli-test-dp}}\n"
                   f"privacy: {{epsilon: 1.0}}\noutputs: {{dir: {tmp_path / 'out'}}}\n")
    return cfg


@pytest.mark.parametrize("internal,code", [(True, 3), (False, 2)])
def test_a_failed_step_after_the_fit_maps_to_its_exit_code(config, tmp_path, monkeypatch, internal, code):
    from synthgen.release import pipeline

    def fail(*a, **k):
        raise ReleaseStepError("evaluate failed (ValueError); the fit's budget was committed",
                               step="evaluate", model_dir=str(tmp_path / "out" / "model"), internal=internal)

    monkeypatch.setattr(pipeline, "run_release", fail)
    r = invoke("run", config)
    assert r.exit_code == code, r.stderr
    err = json.loads(r.stdout)["error"]
    assert err["type"] == "ReleaseStepError" and err["step"] == "evaluate" and err["model_dir"].endswith("model")


def test_a_failed_gate_says_no_release_was_written(config, monkeypatch):
    from synthgen.cli import releases

    class Result:
        dp, success, released, summary = True, False, False, None
        gate = {"results": [], "statistics": {"successful_expectations": 0, "evaluated_expectations": 1},
                "success": False, "meta": {"engine": "native"}, "failed_checks": ["x"]}
        card = {"privacy_summary": "(epsilon=1)-DP"}

        def __init__(self):
            from pathlib import Path
            self.out_dir = Path("out")
            self.release_dir, self.evaluation_dir, self.rows = self.out_dir / "release", self.out_dir / "own", 10

        def to_json(self):
            return {"status": "failed"}

    monkeypatch.setattr(releases.pipeline, "run_release", lambda *a, **k: Result())
    r = invoke("run", config)
    assert r.exit_code == 1
    assert "release NOT written (gate failed); model kept in out/model" in r.stderr
    assert "release bundle" not in r.stderr
