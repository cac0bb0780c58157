"""`synthgen fit --scheduler` (a lazily read Parquet dataset, fitted on Dask) and `synthgen sample --out DIR`
(Parquet parts), H-dask's #14 CLI request: the CLI gives the same model as the in-memory fit's command."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

from synthgen.cli import main  # noqa: E402


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_fit_on_parquet_parts_with_a_local_scheduler_and_sample_to_a_folder(small_cps, tmp_path):
    train = pd.read_csv(small_cps / "train.csv")
    parts = tmp_path / "train"
    parts.mkdir()
    for i, chunk in enumerate((train.iloc[:200], train.iloc[200:])):
        chunk.to_parquet(parts / f"part-{i}.parquet", index=False)
    common = ["--schema", small_cps / "schema.json", "--generator", "copula", "--seed", 0]
    r = invoke("fit", parts, *common, "--out", tmp_path / "m", "--scheduler", "local")
    assert r.exit_code == 0, r.stderr
    r = invoke("sample", tmp_path / "m", "--rows", 300, "--out", tmp_path / "syn", "--seed", 1)
    assert r.exit_code == 0, r.stderr
    syn = pd.read_parquet(tmp_path / "syn")
    assert len(syn) == 300 and set(syn.columns) <= set(train.columns)
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["generator"] == "copula"
    r = invoke("sample", tmp_path / "m", "--rows", 5, "--out", tmp_path / "s.csv", "--scheduler", "local")
    assert r.exit_code == 2 and "folder" in r.stderr and not (tmp_path / "s.csv").exists()


def test_scheduler_is_refused_for_a_generator_that_cannot_fit_partitions(small_cps, tmp_path):
    r = invoke("fit", small_cps / "train.csv", "--schema", small_cps / "schema.json", "--generator", "cli-test-dp",
               "--epsilon", 1, "--out", tmp_path / "m", "--scheduler", "local")
    assert r.exit_code == 2 and "cannot fit on a partitioned table" in r.stderr
