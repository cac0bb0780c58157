"""Conveniences of issue 13: `synthgen split`, `synthgen generators --params NAME`, and status lines that do not
break a progress bar. Each fails before the change (no such command / option; status text appended to the bar)."""
from __future__ import annotations

import io
import json
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

from synthgen.cli import main


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": range(100), "b": [f"x{i % 7}" for i in range(100)]}).to_csv(path, index=False)
    return path


def test_split_is_seeded_complete_and_disjoint(table, tmp_path):
    r = invoke("split", table, "--train", tmp_path / "tr.csv", "--holdout", tmp_path / "ho.parquet", "--seed", 3)
    assert r.exit_code == 0, r.stderr
    tr, ho = pd.read_csv(tmp_path / "tr.csv"), pd.read_parquet(tmp_path / "ho.parquet")
    assert len(ho) == 20 and sorted(tr["a"].tolist() + ho["a"].tolist()) == list(range(100))
    assert "100" not in r.stderr and "80" not in r.stdout  # the table's size is not printed
    invoke("split", table, "--train", tmp_path / "tr2.csv", "--holdout", tmp_path / "ho2.csv", "--seed", 3)
    assert pd.read_csv(tmp_path / "ho2.csv")["a"].tolist() == ho["a"].tolist()
    invoke("split", table, "--train", tmp_path / "tr3.csv", "--holdout", tmp_path / "ho3.csv", "--seed", 4,
           "--holdout-rows", 7)
    h3 = pd.read_csv(tmp_path / "ho3.csv")
    assert len(h3) == 7 and h3["a"].tolist() != ho["a"].tolist()[:7]


def test_split_group_by_holds_out_whole_groups(table, tmp_path):
    """Rows of one group (here b, 7 values, and the pair b, a // 50) never sit on both sides; the holdout has at
    least the asked share; the split is seeded; a row split on the same table does mix groups."""
    r = invoke("split", table, "--train", tmp_path / "tr.csv", "--holdout", tmp_path / "ho.csv", "--group-by", "b",
               "--json-out", tmp_path / "s.json")
    assert r.exit_code == 0, r.stderr
    tr, ho = pd.read_csv(tmp_path / "tr.csv"), pd.read_csv(tmp_path / "ho.csv")
    assert not set(tr["b"]) & set(ho["b"]) and len(ho) >= 20 and len(tr) + len(ho) == 100
    assert json.loads((tmp_path / "s.json").read_text())["group_by"] == ["b"]
    invoke("split", table, "--train", tmp_path / "tr2.csv", "--holdout", tmp_path / "ho2.csv", "--group-by", "b")
    assert pd.read_csv(tmp_path / "ho2.csv").equals(ho)
    (tmp_path / "s.json").unlink()
    from synthgen.splits import train_holdout

    df = pd.read_csv(table).assign(c=lambda d: d["a"] // 50)
    tr, ho = train_holdout(df, 0.3, seed=1, group_by=["b", "c"])
    assert not set(zip(tr["b"], tr["c"])) & set(zip(ho["b"], ho["c"])) and len(ho) >= 30
    rows_tr, rows_ho = train_holdout(df, 0.3, seed=1)
    assert set(rows_tr["b"]) & set(rows_ho["b"])
    r = invoke("split", table, "--train", tmp_path / "tr4.csv", "--holdout", tmp_path / "ho4.csv", "--group-by",
               "nope")
    assert r.exit_code == 2 and "nope" in r.stderr and not (tmp_path / "tr4.csv").exists()


@pytest.mark.parametrize("extra", [("--holdout-fraction", 1.5), ("--holdout-rows", 100),
                                   ("--holdout-fraction", 0.2, "--holdout-rows", 5)])
def test_split_refuses_bad_sizes_and_writes_nothing(table, tmp_path, extra):
    r = invoke("split", table, "--train", tmp_path / "tr.csv", "--holdout", tmp_path / "ho.csv", *extra)
    assert r.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_split_never_overwrites_its_input_and_leaves_no_half_on_failure(table, tmp_path, monkeypatch):
    assert invoke("split", table, "--train", table, "--holdout", tmp_path / "ho.csv").exit_code == 2
    real_to_parquet = pd.DataFrame.to_parquet

    def fail(self, *a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", fail)
    r = invoke("split", table, "--train", tmp_path / "tr.csv", "--holdout", tmp_path / "ho.parquet")
    assert r.exit_code == 3
    monkeypatch.setattr(pd.DataFrame, "to_parquet", real_to_parquet)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]  # neither half, no temporary file


def test_generators_params_lists_keys_types_defaults_and_docs():
    r = invoke("generators", "--params", "dp-copula")
    assert r.exit_code == 0, r.stderr
    rows = {p["name"]: p for p in json.loads(r.stdout)["params"]}
    assert rows["epsilon"]["required"] is True and rows["epsilon"]["type"] == "float"
    assert rows["n_bins"]["default"] == 128 and rows["n_bins"]["type"] == "int"
    assert "bins" in rows["n_bins"]["doc"].lower()
    assert "marginal_share" in r.stderr and "default 0.5" in r.stderr
    ctgan = {p["name"]: p for p in json.loads(invoke("generators", "--params", "dp-ctgan").stdout)["params"]}
    assert ctgan["generator_dim"]["default"] == [256, 256] and "clipping" in ctgan["max_grad_norm"]["doc"]
    assert invoke("generators", "--params", "no-such").exit_code == 2


def test_status_lines_do_not_break_a_progress_bar(monkeypatch):
    from synthgen.cli.output import Out

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    out = Out(None, quiet=False, debug=False)
    bar = out.progress(5, "release")
    bar.update(1)
    out.say("fitting 'dp-copula' ...")
    out.warn("careful")
    bar.close()
    segments = [s.strip() for s in term.getvalue().replace("\r", "\n").split("\n")]
    assert "fitting 'dp-copula' ..." in segments and "warning: careful" in segments


def test_schema_draft_keeps_partial_fields_and_drops_what_releases_nothing(tmp_path):
    """H-corpus's find: one column releasing nothing failed the whole draft after its charge, and the Fix
    ("declare public bounds for it") could not be followed from the CLI (no --partial)."""
    import numpy as np

    from synthgen.schema import NumericField, RowBounds, Schema

    rng = np.random.default_rng(0)
    n = 1500
    df = pd.DataFrame({"a": rng.normal(50, 10, n).round(1), "b": np.where(np.arange(n) < 4, 2.5, np.nan),
                       "c": [f"u{i}" for i in range(n)]})
    df.to_csv(tmp_path / "t.csv", index=False)
    led = tmp_path / "l.json"
    invoke("ledger", "init", led, "--epsilon", 5, "--delta", 1e-5)
    args = ["schema", "draft", tmp_path / "t.csv", "--epsilon", 1, "--ledger", led, "--rows-max", 10_000]
    r = invoke(*args, "--out", tmp_path / "s.json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["dropped"] == ["b", "c"] and "drafted as dropped columns" in r.stderr
    Schema((NumericField("b", 0, 10, nullable=True, bounds_source="public:codebook"),),
           rows=RowBounds(max=10_000)).save(tmp_path / "partial.json")
    r = invoke(*args, "--partial", tmp_path / "partial.json", "--out", tmp_path / "s2.json")
    assert r.exit_code == 0, r.stderr
    s2 = Schema.load(tmp_path / "s2.json")
    assert (s2["b"].lower, s2["b"].upper, s2["b"].source) == (0.0, 10.0, "public:codebook")
    assert s2["a"].source.startswith("dp:") and s2["c"].kind == "identifier"


def test_recommend_and_generator_auto_read_the_declared_schema_only(small_cps, tmp_path):
    r = invoke("recommend", "--schema", small_cps / "schema.json", "--epsilon", 1)
    assert r.exit_code == 0, r.stderr
    rec = json.loads(r.stdout)
    assert rec["generator"] and rec["reasons"] and f"generator: {rec['generator']}" in r.stderr
    from synthgen.cli.output import Out
    from synthgen.cli.recommend import resolve_auto

    name, params = resolve_auto(Out(None, True, False), "auto", str(small_cps / "schema.json"), 1.0, {"x": 1})
    assert name == rec["generator"] and params["x"] == 1 and "epsilon" not in params
    assert resolve_auto(Out(None, True, False), "dp-copula", None, 1.0, {}) == ("dp-copula", {})
    r = invoke("fit", small_cps / "train.csv", "--generator", "auto", "--out", tmp_path / "m")
    assert r.exit_code == 2 and "needs --schema" in r.stderr
