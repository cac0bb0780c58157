"""Fixtures of the corpus tests: a small seeded subsample of each corpus table, written as the CLI reads it."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

ROWS = 400  # per table: 300 training rows, 100 holdout rows (the evaluators refuse a holdout under 100)
HOLDOUT = 0.25
DP_EPSILON = 1.0
DRAFT_EPSILON = 3.0  # a wide table's draft splits this over ~60 columns; at 240 rows 1.0 cannot decide some kinds
LEDGER_EPSILON = 1000.0
LEDGER_DELTA = 1e-3
# Fast settings per generator (tiny DP-CTGAN); a generator not named here runs with its defaults.
FAST_PARAMS: dict[str, dict] = {
    "dp-ctgan": {"epochs": 1, "batch_size": 120, "embedding_dim": 16, "generator_dim": [32],
                 "discriminator_dim": [32], "verbose": False},
    "dp-marginal": {"max_rounds": 2, "round_iters": 20, "final_iters": 50},
}
METRICS = ["fidelity", "utility"]  # evaluate: fidelity includes detection (the crash of issue #13), utility TSTR
RUN_METRICS = ["utility"]  # run: the TSTR only (evaluate's fidelity parts are covered by the separate command)
# Generators whose tiny fit still costs 10-40 s here run on a few tables only (every other table generator runs on
# every table): DP-CTGAN (its accountant solves the noise multiplier) on the widest table and the one with dates;
# dp-marginal (~30 s a fit even with 2 rounds; > 150 s on a 59-column table: see Found) on the table of issue #13.
SLOW_TABLES: dict[str, tuple[str, ...]] = {"dp-ctgan": ("caravan", "breaches"), "dp-marginal": ("wages",)}


def invoke(*args) -> tuple:
    """Run one synthgen command in process; (result, seconds). Exceptions become exit codes as in the shell."""
    from synthgen.cli import main

    t0 = time.perf_counter()
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r, time.perf_counter() - t0


def message(r) -> str:
    """The error message or failed checks of a command's JSON (for assertion messages)."""
    try:
        doc = json.loads(r.stdout)
    except (ValueError, TypeError):
        return (r.stderr or "")[-800:]
    err = doc.get("error") or {}
    return str(err.get("message") or doc.get("failed_checks") or (doc.get("gate") or {}).get("failed_checks")
               or (doc.get("owner_evaluation") or {}).get("gate") or r.stderr[-800:])


def table_generators() -> list[str]:
    from synthgen.generators import registry

    return [e.name for e in registry.entries() if e.data_kind == "table"]


def available_table_generators() -> list[str]:
    from synthgen.generators import registry

    return [g for g in table_generators() if registry.is_available(g)]


def fast_params(generator: str) -> dict:
    return dict(FAST_PARAMS.get(generator, {}))


def param_flags(generator: str) -> list[str]:
    return [x for k, v in fast_params(generator).items() for x in ("--param", f"{k}={json.dumps(v)}")]


def is_dp(generator: str) -> bool:
    from synthgen.generators import registry

    return registry.entry(generator).guarantee == "dp"


def new_ledger(path: Path, epsilon: float = LEDGER_EPSILON, delta: float = LEDGER_DELTA) -> Path:
    r, _ = invoke("ledger", "init", path, "--epsilon", epsilon, "--delta", delta, "-q")
    assert r.exit_code == 0, message(r)
    return path


def spent(ledger: Path) -> float:
    r, _ = invoke("ledger", "show", ledger, "-q")
    return json.loads(r.stdout)["spent"]["epsilon"]


def release_config(path: Path, d: Path, gen: str, schema: Path, ledger: Path | None, out: Path, **over) -> Path:
    """A release.yaml over the subsample; thresholds that a fine release passes (DP required for a DP generator)."""
    cfg = {"version": 1, "data": {"train": str(d / "train.csv"), "holdout": str(d / "holdout.csv")},
           "schema": str(schema), "generator": {"name": gen, "params": fast_params(gen)},
           "rows": 200, "seed": 3, "evaluation": {"target": _target(d), "metrics": RUN_METRICS},
           "thresholds": {"max_epsilon": DP_EPSILON, "require_dp": True} if is_dp(gen) else {},
           "outputs": {"dir": str(out), "export_suite": False, "html": False}}
    if is_dp(gen):
        cfg["privacy"] = {"epsilon": DP_EPSILON, "ledger": str(ledger)}
    for key, value in over.items():
        cfg[key] = {**cfg[key], **value} if isinstance(value, dict) and isinstance(cfg.get(key), dict) else value
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def _target(d: Path) -> str:
    from synthgen.data import corpus

    return corpus.table(d.name).target


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory):
    """``corpus_dir(name)``: a folder (named after the table) with train.csv, holdout.csv, declared.json."""
    from synthgen import datasets
    from synthgen.data import corpus

    base = tmp_path_factory.mktemp("corpus")
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            df, _ = corpus.load(name, rows=ROWS, seed=0)
            train, holdout = datasets.train_holdout(df, holdout_fraction=HOLDOUT, seed=0)
            d = base / name
            d.mkdir()
            train.to_csv(d / "train.csv", index=False)
            holdout.to_csv(d / "holdout.csv", index=False)
            (d / "declared.json").write_text(corpus.schema_text(name), encoding="utf-8")
            made[name] = d
        return made[name]

    return get
