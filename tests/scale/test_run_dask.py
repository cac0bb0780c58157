"""`synthgen run --scheduler` / `scheduler:` (issue 14 item 5): a release from a Parquet folder fitted on a Dask
cluster, one ledger charge, the owner's report recording its seeded evaluation sample; a bad scheduler is refused
before any charge."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

from synthgen.cli import main  # noqa: E402
from synthgen.release import scale_inputs  # noqa: E402


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def split(write_cps_split):
    """A 1,000-row CPS1988 split whose training table is a folder of 3 Parquet parts."""
    d = write_cps_split(1000, 7, "run_dask")
    train = pd.read_csv(d / "train.csv")
    parts = d / "train"
    parts.mkdir()
    for i, (a, b) in enumerate(((0, 300), (300, 301), (301, len(train)))):
        train.iloc[a:b].to_parquet(parts / f"part-{i}.parquet", index=False)
    return d


def config(tmp_path: Path, d: Path, **over) -> Path:
    cfg = {"version": 1, "data": {"train": str(d / "train"), "holdout": str(d / "holdout.csv")},
           "schema": str(d / "schema.json"), "generator": {"name": "dp-copula"},
           "privacy": {"epsilon": 1.0, "delta": 1e-6, "ledger": str(tmp_path / "ledger.json")}, "seed": 3,
           "evaluation": {"target": "parttime", "metrics": ["fidelity", "privacy"]},
           "thresholds": {"require_dp": True},
           "outputs": {"dir": str(tmp_path / "out"), "export_suite": False}}
    cfg.update(over)
    path = tmp_path / "release.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    if not (tmp_path / "ledger.json").exists():
        assert invoke("ledger", "init", tmp_path / "ledger.json", "--epsilon", 3, "--delta", 1e-5).exit_code == 0
    return path


def charges(tmp_path: Path) -> list:
    """The ledger's reservations and charges (one per paid fit), committed."""
    entries = json.loads((tmp_path / "ledger.json").read_text())["entries"]
    paid = [e for e in entries if e["event"] in ("charge", "reserve")]
    assert all(any(c["event"] == "commit" and c["ref"] == e["id"] for c in entries)
               for e in paid if e["event"] == "reserve")
    return paid


def check_release(tmp_path: Path, r) -> dict:
    assert r.exit_code == 0, r.stderr[-3000:]
    doc = json.loads(r.stdout)
    assert doc["release"]["written"] and doc["dp"]
    syn = pd.read_csv(tmp_path / "out" / "release" / "synthetic.csv")
    assert len(syn) == doc["release"]["rows"] and doc["release"]["rows_source"] == "dp_estimate"
    assert len(charges(tmp_path)) == 1
    report = json.loads((tmp_path / "out" / "owner-evaluation" / "report.json").read_text())
    sample = report["summary"]["evaluation_sample"]
    assert sample["cap"] == scale_inputs.EVAL_SAMPLE_CAP and sample["seed"] == 3
    assert sample["rows"] == report["meta"]["rows"]["real"]
    assert set(report["summary"]["full_table_fidelity"]["tvd"]) >= {"wage", "region"}
    assert "seeded sample of at most 50,000 training rows" in r.stderr
    release_text = "".join(p.read_text() for p in (tmp_path / "out" / "release").glob("*.json"))
    assert "evaluation_sample" not in release_text and "full_table_fidelity" not in release_text
    return report


def test_run_with_scheduler_flag_on_a_parquet_folder(split, tmp_path):
    r = invoke("run", config(tmp_path, split), "--engine", "native", "--scheduler", "local")
    report = check_release(tmp_path, r)
    assert report["summary"]["evaluation_sample"]["rows"] == len(pd.read_csv(split / "train.csv"))  # n < cap


def test_run_with_scheduler_in_the_config(split, tmp_path):
    r = invoke("run", config(tmp_path, split, scheduler="local"), "--engine", "native")
    check_release(tmp_path, r)


@pytest.mark.parametrize("where", ["flag", "config"])
def test_a_bad_scheduler_is_refused_before_any_charge(split, tmp_path, where):
    path = config(tmp_path, split, **({"scheduler": "nowhere"} if where == "config" else {}))
    before = (tmp_path / "ledger.json").read_text()
    r = invoke("run", path, "--engine", "native", *(["--scheduler", "nowhere:8786"] if where == "flag" else []))
    assert r.exit_code == 2 and "scheduler" in r.stderr and "tcp://host:8786" in r.stderr
    assert (tmp_path / "ledger.json").read_text() == before and not (tmp_path / "out").exists()


def test_an_unreachable_scheduler_is_refused_before_any_charge(split, tmp_path, monkeypatch):
    from synthgen.exceptions import ConfigError
    from synthgen.scale import cluster

    def refuse(scheduler, **_):  # what connect() raises for an address nobody answers (after its 30 s timeout)
        raise ConfigError(f"Could not reach the Dask scheduler at {scheduler}: OSError. Fix: check the address.")

    monkeypatch.setattr(cluster, "connect", refuse)
    before_path = config(tmp_path, split)
    before = (tmp_path / "ledger.json").read_text()
    r = invoke("run", before_path, "--engine", "native", "--scheduler", "tcp://127.0.0.1:9")
    assert r.exit_code == 2 and "Could not reach" in r.stderr
    assert (tmp_path / "ledger.json").read_text() == before and not (tmp_path / "out").exists()


def test_the_evaluation_sample_is_seeded_and_capped(split):
    import dask.dataframe as dd

    frame = dd.read_parquet(str(split / "train"))
    a, b = scale_inputs.sample_rows(frame, 5, cap=100), scale_inputs.sample_rows(frame, 5, cap=100)
    c = scale_inputs.sample_rows(frame, 6, cap=100)
    assert len(a) == 100 and a.equals(b) and not a.equals(c)
    whole = pd.read_csv(split / "train.csv")
    assert len(scale_inputs.sample_rows(frame, 5, cap=10**6)) == len(whole)
    merged = a.merge(whole.drop_duplicates(), how="left", indicator=True)
    assert (merged["_merge"] == "both").all()  # real rows, not made-up ones


def test_evaluate_with_a_scheduler_on_parquet_folders(split, tmp_path):
    from synthgen.scale.evaluate import fidelity
    from synthgen.schema import Schema

    real = pd.read_csv(split / "train.csv")
    syn = real.sample(n=700, replace=True, random_state=1).reset_index(drop=True)
    syn["wage"] = syn["wage"] * 1.1  # not a copy
    (tmp_path / "syn").mkdir()
    syn.iloc[:350].to_parquet(tmp_path / "syn" / "part-0.parquet", index=False)
    syn.iloc[350:].to_parquet(tmp_path / "syn" / "part-1.parquet", index=False)
    r = invoke("evaluate", "--real", split / "train", "--holdout", split / "holdout.csv", "--synthetic",
               tmp_path / "syn", "--schema", split / "schema.json", "--metrics", "fidelity,privacy", "--seed", 4,
               "--out", tmp_path / "report.json", "--scheduler", "local")
    assert r.exit_code == 0, r.stderr[-3000:]
    summary = json.loads((tmp_path / "report.json").read_text())["summary"]
    sample = summary["evaluation_sample"]
    got = (sample["rows"], sample["synthetic_rows"], sample["seed"], sample["synthetic_seed"])
    assert got == (len(real), 700, 4, 5)
    whole = fidelity(real, syn, Schema.load(split / "schema.json"))
    assert summary["full_table_fidelity"]["mean_tvd"] == pytest.approx(whole["mean_tvd"])
    assert summary["full_table_fidelity"]["tvd"]["wage"] > 0
    r = invoke("evaluate", "--real", split / "train", "--holdout", split / "holdout.csv", "--synthetic",
               tmp_path / "syn", "--schema", split / "schema.json", "--out", tmp_path / "r2.json",
               "--scheduler", "nowhere")
    assert r.exit_code == 2 and "tcp://host:8786" in r.stderr and not (tmp_path / "r2.json").exists()
