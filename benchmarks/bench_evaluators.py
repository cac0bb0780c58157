"""Evaluators: whole-suite time at 50k rows x 15 columns, and our fidelity against sdmetrics' QualityReport.

    .venv/bin/python benchmarks/bench_evaluators.py            # 50,000 rows
    .venv/bin/python benchmarks/bench_evaluators.py --rows 20000

Table: ggplot2 diamonds (the 10 declared columns plus 5 derived ones = 15 columns). Real = a seeded sample of
``--rows`` rows, holdout = the remaining rows (3,940 at 50k), synthetic = as many rows from synthgen's
"dp-copula" at epsilon 1 fitted on the real part (or, if it is unavailable, a column-shuffled copy).

1. ``evaluators.evaluate`` with everything on (fidelity incl. detection, alpha/beta, 3-way marginals; utility with
   bootstrap CIs; privacy incl. DCR, NNDR, DOMIAS-style MIA, vulnerable records, k-anonymity). Target: < 60 s.
2. Fidelity vs sdmetrics 0.32 ``QualityReport`` on the same real/synthetic pair. sdmetrics cannot be installed in
   our venv (it downgrades pandas 3 -> 2.3), so it runs in benchmarks/.venv-sdv (``make bench-sdv-venv``) through
   the shared SDV worker. We print both numbers side by side (where definitions match they should agree within
   0.01) and both times. Target: our QualityReport-equivalent part (column shapes + pair trends) >= 5x faster.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common as C  # noqa: E402


def _table(rows: int, seed: int):
    from synthgen import datasets

    df, schema = datasets.load("diamonds")
    df = df[[f.name for f in schema.learnable]]
    df = df.assign(volume=df.x * df.y * df.z, price_per_carat=df.price / df.carat, log_price=np.log(df.price),
                   depth_table=df.depth / df.table,
                   size_class=pd.cut(df.carat, [0, 0.5, 1, 1.5, 2, 10], labels=["xs", "s", "m", "l", "xl"])
                   .astype(str))
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(df))
    real = df.iloc[idx[:rows]].reset_index(drop=True)
    holdout = df.iloc[idx[rows:]].reset_index(drop=True)
    return real, holdout, schema


def _synthetic(real: pd.DataFrame, schema, seed: int) -> tuple[pd.DataFrame, object, str]:
    from synthgen import registry

    base = [f.name for f in schema.learnable]
    if registry.is_available("dp-copula"):
        gen = registry.get("dp-copula")(epsilon=1.0, delta=1e-6)
        gen.fit(real[base].assign(rownames=np.arange(len(real)).astype(str)), schema, random_state=seed)
        syn = gen.sample(len(real), random_state=seed + 1)[base]
        syn = syn.assign(volume=syn.x * syn.y * syn.z, price_per_carat=syn.price / syn.carat.clip(lower=0.01),
                         log_price=np.log(syn.price.clip(lower=1)), depth_table=syn.depth / syn.table.clip(lower=1),
                         size_class=pd.cut(syn.carat, [-1, 0.5, 1, 1.5, 2, 10], labels=["xs", "s", "m", "l", "xl"])
                         .astype(str))
        return syn, gen.privacy_spent_, "dp-copula eps=1 (derived columns computed from its output)"
    rng = np.random.default_rng(seed)
    syn = real.copy()
    for c in syn.columns:
        syn[c] = rng.permutation(syn[c].to_numpy())
    return syn, None, "column-shuffled copy (dp-copula unavailable)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-sdmetrics", action="store_true")
    args = ap.parse_args()

    import evaluators
    from evaluators import fidelity
    from evaluators.base import prepare

    real, holdout, schema = _table(args.rows, args.seed)
    syn, spend, how = _synthetic(real, schema, args.seed)
    print(f"table: diamonds {real.shape[0]} x {real.shape[1]} real, {len(holdout)} holdout, synthetic: {how}")
    print("(timings on a shared 2-core machine under contention from other jobs)")

    # 1. whole suite
    evaluators.evaluate(real.iloc[:500], syn.iloc[:500], holdout.iloc[:500], target="cut")  # warm imports
    t0 = time.perf_counter()
    rep = evaluators.evaluate(real, syn, holdout, target="cut", privacy=spend, quasi_identifiers=["cut", "color"],
                              sensitive="clarity", random_state=args.seed)
    total = time.perf_counter() - t0
    secs = rep.meta["seconds"]
    print(f"\nwhole suite: {total:.1f} s (target < 60 s)  [" +
          ", ".join(f"{k} {v:.1f} s" for k, v in secs.items()) + "]")
    s = rep.summary
    print("summary: " + ", ".join(f"{k}={C.fmt(s[k])}" for k in ("fidelity_score", "detection_auc", "tstr_ratio",
                                                                "mia_auc", "dcr_share", "exact_match_rate")))
    print(f"verdict: {s['verdict']['status']}: " + "; ".join(s["verdict"]["reasons"]))

    # 2. fidelity vs sdmetrics
    t0 = time.perf_counter()
    prep = prepare(real, syn, None, None)
    _, shape_scores = fidelity.column_shapes(prep)
    pairs = fidelity.pair_trends(prep)["pairs"]
    ours_core = time.perf_counter() - t0
    shapes = float(np.mean([v for v, _ in shape_scores.values()]))
    trends = float(np.nanmean([p["score"] for p in pairs]))
    ours = {"Column Shapes": shapes, "Column Pair Trends": trends, "score": (shapes + trends) / 2}
    t0 = time.perf_counter()
    fidelity.run(prep, np.random.default_rng(args.seed))
    ours_full = time.perf_counter() - t0
    print(f"\nours: QualityReport-equivalent part {ours_core:.2f} s; full fidelity (+detection, alpha/beta, "
          f"3-way) {ours_full:.2f} s")
    if args.no_sdmetrics or not C.venv_ready(C.SDV_PYTHON):
        print("sdmetrics: skipped (benchmarks/.venv-sdv missing: make bench-sdv-venv)")
        return
    meta = {"columns": {c: {"sdtype": "numerical" if pd.api.types.is_numeric_dtype(real[c]) else "categorical"}
                        for c in real.columns}}
    with C.tempdir("bench-eval-") as tmp:
        tmp = Path(tmp)
        r_path = C.write_parquet(real, tmp / "real.parquet")
        s_path = C.write_parquet(syn, tmp / "syn.parquet")
        res = C.run_worker(C.SDV_PYTHON, "sdv_worker.py",
                           [{"task": "quality", "real": str(r_path), "synthetic": str(s_path), "metadata": meta}],
                           tmp, timeout=3600)[0]
    if "error" in res:
        print(f"sdmetrics failed: {res['error']}")
        return
    theirs = {"score": res["score"], **res["properties"]}
    print(f"sdmetrics QualityReport: {res['seconds']:.1f} s -> ours is {res['seconds'] / ours_core:.1f}x faster "
          f"(core) / {res['seconds'] / ours_full:.1f}x (full fidelity); target >= 5x")
    rows = [[k, C.fmt(ours[k], 4), C.fmt(theirs.get(k), 4), C.fmt(abs(ours[k] - theirs.get(k, np.nan)), 4)]
            for k in ("Column Shapes", "Column Pair Trends", "score")]
    print(C.markdown_table(["quantity", "ours", "sdmetrics", "|diff|"], rows))


if __name__ == "__main__":
    main()
