"""CLI plumbing, in process (click's CliRunner) with test-only generators registered in conftest."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from synthgen.cli import main, parse_params

HERE = Path(__file__).parent
REPO = HERE.parent.parent
PY = sys.executable


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def as_json(result) -> dict:
    return json.loads(result.stdout)


def test_import_is_light_and_help_is_fast():
    code = ("import sys, time; t = time.perf_counter(); import synthgen.cli; "
            "heavy = [m for m in ('torch', 'pandas', 'sklearn', 'great_expectations') if m in sys.modules]; "
            "print(heavy); print(time.perf_counter() - t)")
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout.split("\n")
    assert out[0] == "[]", f"heavy modules imported by synthgen.cli: {out[0]}"
    assert float(out[1]) < 1.0
    r = invoke("--help")
    assert r.exit_code == 0 and "validate" in r.stdout and "demo" in r.stdout


def test_parse_params_json_then_string():
    p = parse_params(("epochs=10", "lr=0.5", "flag=true", "none=null", "name=hello", "lst=[1,2]", "eq=a=b"))
    assert p == {"epochs": 10, "lr": 0.5, "flag": True, "none": None, "name": "hello", "lst": [1, 2], "eq": "a=b"}
    r = invoke("fit", "x.csv", "--schema", "s.json", "--generator", "cli-test-dp", "--out", "m", "--param", "novalue")
    assert r.exit_code == 2 and "key=value" in r.stderr


def test_generators_lists_guarantees():
    r = invoke("generators")
    assert r.exit_code == 0
    rows = {g["name"]: g for g in as_json(r)["generators"]}
    assert rows["dp-copula"]["guarantee"] == "dp"
    assert rows["copula"]["guarantee"].startswith("NONE")
    assert rows["cli-test-dp"]["available"] is True


def test_ledger_init_and_show(tmp_path):
    led = tmp_path / "l.json"
    assert invoke("ledger", "init", led, "--epsilon", 2, "--delta", 1e-5, "--dataset", "cps").exit_code == 0
    r = invoke("ledger", "show", led)
    assert r.exit_code == 0
    doc = as_json(r)
    assert doc["budget"] == {"epsilon": 2.0, "delta": 1e-5} and doc["spent"]["epsilon"] == 0
    r = invoke("ledger", "init", led, "--epsilon", 2, "--delta", 1e-5)  # exists already
    assert r.exit_code == 2 and "already exists" in r.stderr
    r = invoke("ledger", "init", tmp_path / "bad.json", "--epsilon", -1, "--delta", 1e-5)
    assert r.exit_code == 2 and "epsilon" in r.stderr


def test_fit_sample_with_ledger(small_cps, tmp_path):
    led = tmp_path / "l.json"
    invoke("ledger", "init", led, "--epsilon", 3, "--delta", 1e-5)
    r = invoke("fit", small_cps / "train.csv", "--schema", small_cps / "schema.json", "--generator", "cli-test-dp",
               "--epsilon", 1, "--delta", 1e-6, "--ledger", led, "--out", tmp_path / "model", "--seed", 3,
               "--param", "spread=0.5")
    assert r.exit_code == 0, r.stderr
    doc = as_json(r)
    assert doc["privacy"]["guarantee"] == "dp" and doc["privacy"]["epsilon"] == 1.0
    n = len(pd.read_csv(small_cps / "train.csv"))
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text())
    assert "rows" not in doc and doc["rows_estimate"] == manifest["rows_estimate"]  # the DP estimate, not n
    assert f"{n} rows" not in r.stderr
    assert doc["ledger_entry"]["id"] and doc["ledger_entry"]["hash"]
    assert (tmp_path / "model" / "manifest.json").exists()
    assert as_json(invoke("ledger", "show", led))["spent"]["epsilon"] == pytest.approx(1.0)
    for name in ("s.csv", "s.parquet"):
        r = invoke("sample", tmp_path / "model", "--rows", 50, "--out", tmp_path / name, "--seed", 1)
        assert r.exit_code == 0, r.stderr
        assert as_json(r)["rows"] == 50
    a = pd.read_csv(tmp_path / "s.csv")
    b = pd.read_parquet(tmp_path / "s.parquet")
    assert len(a) == 50 and list(a.columns) == list(b.columns) and "rownames" not in a.columns
    assert a["wage"].max() <= 50 + (20000 - 50) * 0.5  # the --param reached the generator
    pd.testing.assert_frame_equal(a, b, check_dtype=False)  # same seed, same rows
    r = invoke("sample", tmp_path / "model", "--rows", 5, "--out", tmp_path / "s.txt")
    assert r.exit_code == 2 and ".csv or .parquet" in r.stderr


def test_non_dp_fit_is_loud(small_cps, tmp_path):
    r = invoke("fit", small_cps / "train.csv", "--schema", small_cps / "schema.json", "--generator", "cli-test-nodp",
               "--out", tmp_path / "m")
    assert r.exit_code == 0, r.stderr
    assert "NO DP GUARANTEE" in r.stderr
    doc = as_json(r)
    assert doc["dp"] is False and doc["privacy"]["guarantee"] == "none"
    assert any("NO DP GUARANTEE" in w for w in doc["warnings"])
    r = invoke("sample", tmp_path / "m", "--rows", 3, "--out", tmp_path / "s.csv", "--quiet")
    assert "NO DP GUARANTEE" in r.stderr and as_json(r)["dp"] is False
    r = invoke("fit", small_cps / "train.csv", "--schema", small_cps / "schema.json", "--generator", "cli-test-nodp",
               "--epsilon", 1, "--out", tmp_path / "m2")
    assert r.exit_code == 2 and "NO DP guarantee" in r.stderr and not (tmp_path / "m2").exists()


def test_unknown_param_names_it_and_lists_valid(small_cps, tmp_path):
    r = invoke("fit", small_cps / "train.csv", "--schema", small_cps / "schema.json", "--generator", "cli-test-dp",
               "--param", "epochz=3", "--out", tmp_path / "m")
    assert r.exit_code == 2
    assert "epochz" in r.stderr and "spread" in r.stderr and "sleep" in r.stderr
    assert as_json(r)["error"]["type"] == "ConfigError"
    r = invoke("fit", small_cps / "train.csv", "--schema", small_cps / "schema.json", "--generator", "nope",
               "--out", tmp_path / "m")
    assert r.exit_code == 2 and "Unknown generator" in r.stderr


def test_overspend_refused_before_work_ledger_unchanged(small_cps, tmp_path):
    led = tmp_path / "l.json"
    invoke("ledger", "init", led, "--epsilon", 0.5, "--delta", 1e-5)
    before = led.read_bytes()
    r = invoke("fit", small_cps / "train.csv", "--schema", small_cps / "schema.json", "--generator", "cli-test-dp",
               "--epsilon", 1, "--ledger", led, "--out", tmp_path / "m")
    assert r.exit_code == 1
    assert "Nothing was run" in r.stderr and as_json(r)["error"]["type"] == "BudgetExceededError"
    assert led.read_bytes() == before and not (tmp_path / "m").exists()


def test_bad_inputs_exit_2(small_cps, tmp_path):
    schema = small_cps / "schema.json"
    r = invoke("fit", tmp_path / "missing.csv", "--schema", schema, "--generator", "cli-test-dp",
               "--out", tmp_path / "m")
    assert r.exit_code == 2 and "does not exist" in r.stderr
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\xff\xfe garbage \x00\n\"unterminated")
    r = invoke("fit", bad, "--schema", schema, "--generator", "cli-test-dp", "--out", tmp_path / "m")
    assert r.exit_code == 2, r.stderr
    other = tmp_path / "other.parquet"
    pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_parquet(other)
    r = invoke("fit", other, "--schema", schema, "--generator", "cli-test-dp", "--out", tmp_path / "m")
    assert r.exit_code == 2 and "none of the schema's columns" in r.stderr
    r = invoke("schema", "validate", other, "--schema", schema)
    assert r.exit_code == 1 and as_json(r)["ok"] is False
    r = invoke("schema", "validate", small_cps / "train.csv", "--schema", schema)
    assert r.exit_code == 0 and as_json(r)["ok"] is True
    r = invoke("fit", small_cps / "train.csv", "--schema", tmp_path / "nope.json", "--generator", "cli-test-dp",
               "--out", tmp_path / "m")
    assert r.exit_code == 2 and "does not exist" in r.stderr
    r = invoke("fit", small_cps / "train.csv", "--schema", schema, "--generator", "cli-test-dp")  # click usage
    assert r.exit_code == 2
    assert not (tmp_path / "m").exists()


def test_internal_error_exit_3_without_traceback_or_values(small_cps, tmp_path, monkeypatch):
    from synthgen.release import pipeline

    def boom(*a, **k):
        raise RuntimeError("secret-private-value-42")

    monkeypatch.setattr(pipeline, "fit", boom)
    args = ["fit", small_cps / "train.csv", "--schema", small_cps / "schema.json", "--generator", "cli-test-dp",
            "--out", tmp_path / "m"]
    r = invoke(*args)
    assert r.exit_code == 3
    assert "secret-private-value-42" not in r.output and "Traceback" not in r.output
    assert "internal error (RuntimeError)" in r.stderr
    r = invoke(*args, "--debug")
    assert r.exit_code == 3 and "Traceback" in r.stderr


def test_sigint_mid_fit_leaves_nothing_and_charges_the_read(small_cps, tmp_path, default_sigint):
    """Ctrl-C after the fit has read the data: nothing is written, and the reservation is COMMITTED (the partial
    work may depend on the data, so a retry is not free); exit 130."""
    led = tmp_path / "l.json"
    invoke("ledger", "init", led, "--epsilon", 2, "--delta", 1e-5)
    code = "from synthgen.testing import fakes; fakes.register(); from synthgen.cli import main; main()"
    proc = subprocess.Popen(
        [PY, "-c", code, "fit", str(small_cps / "train.csv"), "--schema", str(small_cps / "schema.json"),
         "--generator", "cli-test-dp", "--epsilon", "1", "--ledger", str(led), "--out", str(tmp_path / "model"),
         "--param", "sleep=60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        preexec_fn=default_sigint)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and '"reserve"' not in led.read_text():
        time.sleep(0.1)
    assert '"reserve"' in led.read_text(), "the fit never started"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "nothing was released" in err and "charged" in err
    assert not (tmp_path / "model").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".model")] == []
    info = json.loads(subprocess.run([PY, "-m", "synthgen.cli", "ledger", "show", str(led), "-q"],
                                     capture_output=True, text=True, cwd=REPO).stdout)
    assert info["spent"]["epsilon"] == pytest.approx(1.0)
    assert [c["status"] for c in info["charges"]] == ["committed"]


def test_validate_gate_in_process(small_cps, tmp_path):
    """The gate passes a conforming release and names each failing check (native engine: fast)."""
    invoke("fit", small_cps / "train.csv", "--schema", small_cps / "schema.json", "--generator", "cli-test-dp",
           "--epsilon", 1, "--out", tmp_path / "m", "--seed", 0)
    invoke("sample", tmp_path / "m", "--rows", 100, "--out", tmp_path / "s.csv", "--seed", 0)
    base = ["validate", "--synthetic", tmp_path / "s.csv", "--schema", small_cps / "schema.json",
            "--model", tmp_path / "m", "--engine", "native"]
    r = invoke(*base)
    assert r.exit_code == 0, r.stderr
    doc = as_json(r)
    assert doc["success"] is True and doc["meta"]["engine"] == "native"
    assert doc["statistics"]["evaluated_expectations"] == len(doc["results"]) > 10
    s = pd.read_csv(tmp_path / "s.csv")
    s.loc[0, "education"] = 987654  # distinctive: must not appear anywhere in the gate JSON
    s.loc[1, "smsa"] = None
    s.to_csv(tmp_path / "bad.csv", index=False)
    r = invoke(*base[:2], tmp_path / "bad.csv", *base[3:], "--json-out", tmp_path / "gate.json")
    assert r.exit_code == 1
    doc = json.loads((tmp_path / "gate.json").read_text())
    assert set(doc["failed_checks"]) == {"bounds:education", "not_null:smsa"}
    assert "987654" not in json.dumps(doc)  # counts only, no values


def test_release_config_errors(tmp_path):
    from synthgen.exceptions import ConfigError
    from synthgen.release import load_release_config

    good = load_release_config(REPO / "examples" / "release.yaml")
    assert good.generator == "dp-copula" and good.thresholds.require_dp is True
    assert good.train.is_absolute() or good.train.parent == (REPO / "examples")
    cfg = tmp_path / "r.yaml"
    cfg.write_text("data: {train: t.csv}\nschema: s.json\ngenerator: {name: dp-copula}\noutputs: {dir: out}\n"
                   "tresholds: {max_mia_auc: 0.6}\n")
    with pytest.raises(ConfigError, match=r"unknown key 'tresholds' \(did you mean 'thresholds'\?\)"):
        load_release_config(cfg)
    cfg.write_text("data: {train: t.csv}\nschema: s.json\ngenerator: {name: dp-copula}\noutputs: {dir: out}\n"
                   "thresholds: {max_mia_auc: 1.5, min_fidelity: -0.1}\n")
    with pytest.raises(ConfigError) as ei:
        load_release_config(cfg)
    msg = str(ei.value)
    assert "thresholds.max_mia_auc" in msg and "thresholds.min_fidelity" in msg and "between 0 and 1" in msg
    cfg.write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_release_config(cfg)
    r = invoke("run", cfg)
    assert r.exit_code == 2
    r = invoke("run", tmp_path / "none.yaml")
    assert r.exit_code == 2 and "does not exist" in r.stderr


def test_validate_many_files_like_pre_commit(small_cps, tmp_path):
    invoke("fit", small_cps / "train.csv", "--schema", small_cps / "schema.json", "--generator", "cli-test-dp",
           "--epsilon", 1, "--out", tmp_path / "m", "--seed", 0)
    invoke("sample", tmp_path / "m", "--rows", 20, "--out", tmp_path / "a.csv", "--seed", 0)
    bad = pd.read_csv(tmp_path / "a.csv")
    bad.loc[0, "region"] = "atlantis"
    bad.to_parquet(tmp_path / "b.parquet")
    r = invoke("validate", "--schema", small_cps / "schema.json", "--engine", "native", tmp_path / "a.csv")
    assert r.exit_code == 0
    r = invoke("validate", "--schema", small_cps / "schema.json", "--engine", "native", tmp_path / "a.csv",
               tmp_path / "b.parquet")
    assert r.exit_code == 1
    doc = as_json(r)
    assert [d["success"] for d in doc["releases"]] == [True, False]
    assert doc["failed_checks"] == [f"{tmp_path / 'b.parquet'}: categories:region"]
    r = invoke("validate", "--schema", small_cps / "schema.json")
    assert r.exit_code == 2 and "Nothing to validate" in r.stderr


def test_examples_are_valid():
    import yaml

    hooks = yaml.safe_load((REPO / "examples" / ".pre-commit-hooks.yaml").read_text())
    assert hooks[0]["id"] == "synthgen-validate" and hooks[0]["entry"].startswith("synthgen validate")
    for name in ("api_walkthrough.py", "airflow_release_dag.py", "dagster_release_check.py", "prepare_cps.py"):
        compile((REPO / "examples" / name).read_text(), name, "exec")
    import importlib.util

    for name in ("airflow_release_dag.py", "dagster_release_check.py"):  # import without Airflow/Dagster installed
        spec = importlib.util.spec_from_file_location(name[:-3], REPO / "examples" / name)
        spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_image_generator_dispatch(tmp_path):
    from synthgen.generators import registry

    if not registry.is_available("dp-image"):
        pytest.skip("dp-image is not available")
    import numpy as np

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "imgs.npz", images=rng.random((60, 8, 8)).astype("float32"), labels=rng.integers(0, 2, 60))
    r = invoke("fit", tmp_path / "imgs.npz", "--generator", "dp-image", "--epsilon", 1, "--out", tmp_path / "m",
               "--seed", 0, "--param", "classes=[0,1]", "--param", "n_iter=5", "--param", "n_features=40",
               "--param", "hidden=8", "--param", "batch_size=30")
    assert r.exit_code == 0, r.stderr
    assert as_json(r)["privacy"]["guarantee"] == "dp"
    r = invoke("sample", tmp_path / "m", "--rows", 7, "--out", tmp_path / "out.npz", "--seed", 1)
    assert r.exit_code == 0, r.stderr
    z = np.load(tmp_path / "out.npz")
    assert z["images"].shape == (7, 8, 8) and set(np.unique(z["labels"])) <= {0, 1}
    r = invoke("fit", tmp_path / "missing.npz", "--generator", "dp-image", "--epsilon", 1, "--out", tmp_path / "m2",
               "--param", "classes=[0,1]")
    assert r.exit_code == 2 and "does not exist" in r.stderr


def test_schema_draft_dp_charges_ledger_and_inferred_is_refused(small_cps, tmp_path):
    led = tmp_path / "l.json"
    invoke("ledger", "init", led, "--epsilon", 3, "--delta", 1e-5)
    # fresh noise every run: epsilon 2 on 480 rows drafts this table's kinds and categories reliably
    r = invoke("schema", "draft", small_cps / "train.csv", "--out", tmp_path / "dp.json", "--epsilon", 2,
               "--ledger", led, "--seed", 0, "--identifier", "rownames", "--kind", "ethnicity=categorical",
               "--rows-max", 1000)
    assert r.exit_code == 0, r.stderr
    assert "--seed is ignored" in r.stderr  # a draft draws only privacy noise, which is never seeded
    assert as_json(r)["inferred_fields"] == [] and (tmp_path / "dp.json").exists()
    drafted = json.loads((tmp_path / "dp.json").read_text())
    assert drafted["x-synthgen"]["rows"]["max"] == 1000  # the declared bound is kept, and sets the delta
    assert as_json(r)["draft_spend"]["delta"] <= 1e-4
    assert as_json(invoke("ledger", "show", led))["spent"]["epsilon"] == pytest.approx(2)
    bad = invoke("schema", "draft", small_cps / "train.csv", "--out", tmp_path / "x.json", "--kind", "age")
    assert bad.exit_code == 2 and "COL=KIND" in bad.stderr
    r = invoke("schema", "draft", small_cps / "train.csv", "--out", tmp_path / "inf.json")
    assert r.exit_code == 0 and "WITHOUT noise" in r.stderr and as_json(r)["inferred_fields"]
    r = invoke("fit", small_cps / "train.csv", "--schema", tmp_path / "inf.json", "--generator", "cli-test-dp",
               "--epsilon", 1, "--out", tmp_path / "m")
    assert r.exit_code == 2 and as_json(r)["error"]["type"] == "InferredSchemaError"
    r = invoke("fit", small_cps / "train.csv", "--schema", tmp_path / "inf.json", "--generator", "cli-test-dp",
               "--epsilon", 1, "--out", tmp_path / "m", "--allow-inferred")
    assert r.exit_code == 0, r.stderr
    doc = as_json(r)  # bounds read off the data without noise: no DP guarantee, said loudly
    assert doc["dp"] is False and doc["privacy"]["guarantee"] == "none" and "NO DP GUARANTEE" in r.stderr
