"""dp-copula beyond one machine: fit, sample and evaluate on Dask (LocalCluster, 2 workers x 1 thread, 3 GB each)
from 1M to 20M rows x 20 columns, with the in-memory path beside it where it fits.

    flock /tmp/coord/heavy.lock .venv/bin/python benchmarks/bench_scale.py                  # 1M, 5M, 20M
    flock /tmp/coord/heavy.lock .venv/bin/python benchmarks/bench_scale.py --sizes 1,4,10 --inmem-max 4   # run here
    .venv/bin/python benchmarks/bench_scale.py --sizes 0.2 --rows-per-file 100000 --inmem-max 0.2   # smoke

Data: a plain GaussianCopula is fitted to the real AER/CPS1988 table (7 columns, its declared schema) and sampled;
13 columns are derived from each sampled row with seeded noise (age, log
wage, hours, annual earnings, age group, education level, high earner, interview date, tenure, children, union,
industry, savings with nulls), giving 20 columns of mixed kinds. Generation: one pool of ``--rows-per-file`` copula
rows, resampled with replacement for each file, derived columns drawn with fresh seeded noise per file; each file is
one Parquet partition (written once; the smaller sizes read the first files). Timed per size: the dp-copula fit
(eps=1, delta=1e-6; validation pass + two measure passes) on the Parquet files, sampling as many rows to partitioned
Parquet, and the merged-statistics fidelity evaluation (real vs synthetic files). Peak memory per worker: the
largest resident set of any worker process, polled every 0.25 s. The in-memory path (read the files into one
DataFrame, fit, sample, evaluate) runs in a child process with single-threaded BLAS (as Dask sets in its workers);
its peak is that process's ``ru_maxrss``. Imports are warmed up outside the timers on both paths.

``--fit-persist`` (2026-12-01, heavy lock, load avg 1.2-2.1): the 10M-row Dask fit took 42.8 s re-reading and
re-conforming per pass, 30.2 s with the conformed partitions kept on the workers (peak worker RSS 1.54 -> 1.93 GB).
``--marginal-pass --sizes 1 --workers 1`` (load 3.6): validation 6.9 s + one exact-marginal pass 3.9 s, 0.72 GB.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common as C  # noqa: E402

warnings.filterwarnings("ignore", message=".*NOT differentially private.*")
EPS, DELTA = 1.0, 1e-6


# ------------------------------------------------------------------------------------------------------ data
def schema20():
    from synthgen.datasets import load_schema
    from synthgen.schema import BooleanField, CategoricalField, DatetimeField, NumericField, Schema

    base = [f for f in load_schema("cps1988").learnable]
    pub = {"bounds_source": "public:bench_scale construction"}
    cats = {"categories_source": "public:bench_scale construction"}
    return Schema(tuple(base) + (
        NumericField("age", 0, 100, integer=True, **pub), NumericField("log_wage", 3.9, 10.0, **pub),
        NumericField("hours", 1, 99, **pub), NumericField("annual", 0, 1.1e6, **pub),
        CategoricalField("age_group", ("<25", "25-34", "35-44", "45-54", "55+"), ordered=True, **cats),
        CategoricalField("edu_level", ("none", "hs", "some", "college"), ordered=True, **cats),
        BooleanField("high_earner"),
        DatetimeField("interview", "1988-03-01", "1988-03-31", date_only=True, **pub),
        NumericField("tenure", 0, 70, integer=True, **pub), NumericField("children", 0, 8, integer=True, **pub),
        BooleanField("union"), CategoricalField("industry", tuple(f"ind{i}" for i in range(8)), **cats),
        NumericField("savings", 0, 1e6, nullable=True, **pub)))


def derive(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """13 columns from each sampled CPS1988 row (seeded noise)."""
    n = len(df)
    wage, edu, exp = df["wage"].to_numpy(), df["education"].to_numpy(), df["experience"].to_numpy()
    part = (df["parttime"] == "yes").to_numpy()
    age = np.clip(edu + exp + 6, 0, 100).astype(np.int64)
    out = df.copy()
    out["age"] = age
    out["log_wage"] = np.clip(np.log(wage), 3.9, 10.0)
    out["hours"] = np.clip(np.round(np.where(part, 20, 42) + rng.normal(0, 5, n), 1), 1, 99)
    out["annual"] = np.clip(wage * 52 * rng.uniform(0.8, 1.0, n), 0, 1.1e6)
    out["age_group"] = pd.Categorical.from_codes(np.digitize(age, [25, 35, 45, 55]),
                                                 ["<25", "25-34", "35-44", "45-54", "55+"])
    level = np.digitize(edu, [9, 13, 16])
    out["edu_level"] = pd.Categorical.from_codes(level, ["none", "hs", "some", "college"])
    out["high_earner"] = wage > 800
    out["interview"] = pd.Timestamp("1988-03-01") + pd.to_timedelta(rng.integers(0, 31, n), unit="D")
    out["tenure"] = np.floor(np.maximum(exp, 0) * rng.uniform(0, 1, n)).astype(np.int64)
    out["children"] = np.minimum(rng.poisson(np.clip((age - 20) / 10, 0, 2)), 8)
    out["union"] = rng.uniform(size=n) < 0.1 + 0.1 * (df["region"] == "northeast").to_numpy()
    ind = np.clip(np.floor(level * 2 + rng.uniform(0, 2.5, n)), 0, 7).astype(np.int64)
    out["industry"] = pd.Categorical.from_codes(ind, [f"ind{i}" for i in range(8)])
    sav = np.clip(np.exp(np.log(wage) + 2 + rng.normal(0, 1, n)), 0, 1e6)
    out["savings"] = np.where(rng.uniform(size=n) < np.where(part, 0.4, 0.15), np.nan, sav)
    return out


def make_files(folder: Path, n_files: int, rows: int) -> list[Path]:
    """Parquet files of ``rows`` rows each: a pool of ``rows`` rows sampled once from the fitted copula, resampled
    with replacement per file (seeded), then the 13 derived columns drawn with fresh seeded noise per file."""
    from synthgen.datasets import load
    from synthgen.generators.copula import GaussianCopula

    df, schema = load("cps1988")
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / f"part-{i:05d}.parquet" for i in range(n_files)]
    if all(f.exists() for f in files):
        return files
    base = GaussianCopula().fit(df, schema, random_state=0)
    pool = base.sample(rows, random_state=20, progress=False)[[x.name for x in schema.learnable]]
    for i, f in enumerate(files):
        if not f.exists():
            rng = np.random.default_rng([20, i])
            block = pool.iloc[rng.integers(0, rows, rows)].reset_index(drop=True)
            derive(block, rng).to_parquet(f, index=False)
    return files


# ------------------------------------------------------------------------------------------------ measuring
class WorkerPeak:
    """Largest resident set of any worker, polled in a background thread."""

    def __init__(self, client):
        self.client, self.peak, self._stop = client, 0, threading.Event()

    def _poll(self):
        import psutil

        while not self._stop.is_set():
            try:
                rss = self.client.run(lambda: psutil.Process().memory_info().rss)
                self.peak = max([self.peak, *rss.values()])
            except Exception:  # noqa: BLE001 - a poll may race with shutdown
                pass
            time.sleep(0.25)

    def __enter__(self):
        self.peak = 0
        self._stop.clear()
        self._t = threading.Thread(target=self._poll, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def run_dask(files: list[Path], rows: int, out: Path, schema) -> dict:
    from synthgen.generators.copula import DPGaussianCopula
    from synthgen.io.tables import read_partitioned
    from synthgen.scale.evaluate import fidelity
    from synthgen.scale.sample import sample_to_parquet

    from synthgen.scale.cluster import connect

    res = {}
    with connect("local", n_workers=2, threads_per_worker=1, memory_limit="3GB") as client:
        client.run(lambda: __import__("synthgen.generators.copula") and None)  # imports, outside the timers
        peaks = WorkerPeak(client)
        with peaks, C.timer() as t:
            gen = DPGaussianCopula(EPS, DELTA).fit(_frame(files), schema, random_state=0, progress=False)
        res.update(fit_s=t["s"], fit_peak=peaks.peak)
        shutil.rmtree(out, ignore_errors=True)
        with peaks, C.timer() as t:
            written = sample_to_parquet(gen, rows, out, random_state=1, rows_per_partition=1 << 20, progress=False)
        res.update(sample_s=t["s"], sample_peak=peaks.peak)
        with peaks, C.timer() as t:
            fid = fidelity(_frame(files), read_partitioned(str(out)), schema)
        res.update(eval_s=t["s"], eval_peak=peaks.peak, mean_tvd=fid["mean_tvd"], max_corr_gap=fid["max_corr_gap"],
                   files_out=len(written))
    return res


def run_fit_persist(files: list[Path], schema, repeats: int = 1, workers: int = 2) -> list[dict]:
    """The Dask dp-copula fit alone, conformed partitions kept on the workers (synthgen.persist) or re-read per
    pass, alternating, in one cluster, after an untimed warm-up fit on the first file."""
    import dask

    from synthgen.generators.copula import DPGaussianCopula
    from synthgen.scale.cluster import connect

    out = []
    with connect("local", n_workers=workers, threads_per_worker=1, memory_limit="3GB") as client:
        client.run(lambda: __import__("synthgen.generators.copula") and None)
        peaks = WorkerPeak(client)
        DPGaussianCopula(EPS, DELTA).fit(_frame(files[:1]), schema, random_state=0, progress=False)
        for persist in [False, True] * repeats:
            with dask.config.set({"synthgen.persist": persist}), peaks, C.timer() as t:
                DPGaussianCopula(EPS, DELTA).fit(_frame(files), schema, random_state=0, progress=False)
            out.append({"persist": persist, "fit_s": round(t["s"], 1), "peak_GB": round(peaks.peak / 2**30, 2),
                        "loadavg": [round(x, 2) for x in os.getloadavg()]})
            print(out[-1], flush=True)
    return out


def run_marginal_pass(files: list[Path], schema, workers: int = 2) -> dict:
    """dp-marginal's measurement input on Dask: the validation pass (partitions kept on the workers) and the one
    pass of exact marginals (total, one-ways, every candidate pair over the default 32-bin domain)."""
    from synthgen.generators.marginal.dp import DPMarginal
    from synthgen.scale.cluster import connect
    from synthgen.scale.marginals import exact_marginals

    gen = DPMarginal(EPS, DELTA)
    plan = gen._plan(schema)
    cliques = [()] + [(a,) for a in plan.names] + list(plan.candidates)
    with connect("local", n_workers=workers, threads_per_worker=1, memory_limit="3GB") as client:
        client.run(lambda: __import__("synthgen.scale.marginals") and None)
        peaks = WorkerPeak(client)
        with peaks, C.timer() as t:
            table = gen._prepare(_frame(files), schema, "raise")
        with peaks, C.timer() as m:
            counts = exact_marginals(table, plan.codecs, cliques)
    cells = sum(v.size for v in counts.values())
    out = {"validate_s": round(t["s"], 1), "marginals_s": round(m["s"], 1), "cliques": len(cliques), "cells": cells,
           "peak_GB": round(peaks.peak / 2**30, 2), "loadavg": [round(x, 2) for x in os.getloadavg()]}
    print(out, flush=True)
    return out


def _frame(files: list[Path]):
    import dask.dataframe as dd

    return dd.read_parquet([str(f) for f in files])


def run_memory_child(files: list[str], rows: int) -> dict:
    from synthgen.generators.copula import DPGaussianCopula
    from synthgen.io.tables import read_table
    from synthgen.scale.evaluate import fidelity

    schema = schema20()
    with C.timer() as t:
        df = pd.concat([read_table(f) for f in files], ignore_index=True)
    res = {"read_s": t["s"]}
    with C.timer() as t:
        gen = DPGaussianCopula(EPS, DELTA).fit(df, schema, random_state=0, progress=False)
    res["fit_s"] = t["s"]
    with C.timer() as t:
        syn = gen.sample(rows, random_state=1, progress=False)
    res["sample_s"] = t["s"]
    with C.timer() as t:
        fid = fidelity(df, syn, schema)
    res.update(eval_s=t["s"], mean_tvd=fid["mean_tvd"], max_corr_gap=fid["max_corr_gap"],
               peak=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return res


# ------------------------------------------------------------------------------------------------------ main
def _row(path: str, rows: int, r: dict, peak: float) -> dict:
    m = rows / 1e6
    return {"path": path, "rows_M": m, "fit_s": r["fit_s"], "sample_s": r["sample_s"], "eval_s": r["eval_s"],
            "fit_s_per_M": r["fit_s"] / m, "sample_s_per_M": r["sample_s"] / m, "eval_s_per_M": r["eval_s"] / m,
            "peak_GB": peak / 2**30, "mean_tvd": r["mean_tvd"], "max_corr_gap": r["max_corr_gap"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,5,20", help="millions of rows, comma-separated")
    ap.add_argument("--inmem-max", type=float, default=5.0, help="largest size (millions) run in memory too")
    ap.add_argument("--rows-per-file", type=int, default=1_000_000)
    ap.add_argument("--data", default="/tmp/synthgen-scale-data", help="where the generated Parquet files go")
    ap.add_argument("--memory-child", nargs="*", help=argparse.SUPPRESS)
    ap.add_argument("--fit-persist", action="store_true", help="only the Dask fit, persist off/on, at --sizes")
    ap.add_argument("--marginal-pass", action="store_true", help="only dp-marginal's exact-marginal pass at --sizes")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster workers of --fit-persist/--marginal-pass")
    args = ap.parse_args()
    if args.memory_child is not None:
        *files, rows = args.memory_child
        print(json.dumps(run_memory_child(files, int(rows))))
        return
    sizes = [int(float(s) * 1e6) for s in args.sizes.split(",")]
    info = C.machine_info()
    per = args.rows_per_file
    with C.timer() as t:
        files = make_files(Path(args.data) / "real", -(-max(sizes) // per), per)
    schema, rows_out = schema20(), []
    print(f"data: {len(files)} files x {per} rows x {len(schema.learnable)} columns in {t['s']:.0f} s", flush=True)
    if args.fit_persist or args.marginal_pass:
        for n in sizes:
            print(f"{n / 1e6:g}M rows, load average start {[round(x, 2) for x in os.getloadavg()]}", flush=True)
            if args.fit_persist:
                run_fit_persist(files[: -(-n // per)], schema, workers=args.workers)
            else:
                run_marginal_pass(files[: -(-n // per)], schema, workers=args.workers)
        return
    for n in sizes:
        use = files[: -(-n // per)]
        r = run_dask(use, n, Path(args.data) / "synthetic", schema)
        rows_out.append(_row("dask", n, r, max(r["fit_peak"], r["sample_peak"], r["eval_peak"])))
        print(rows_out[-1], flush=True)
        if n <= args.inmem_max * 1e6:
            cmd = [sys.executable, __file__, "--memory-child", *map(str, use), str(n)]
            env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}  # as Dask's workers
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
            r = json.loads(out.splitlines()[-1])
            rows_out.append(_row("in-memory", n, r, r["peak"]))
            print(rows_out[-1], flush=True)
        save(info, rows_out)  # after every size: a run cut short keeps what it measured


def save(info: dict, rows_out: list) -> None:
    info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    cols = ["path", "rows_M", "fit_s", "sample_s", "eval_s", "fit_s_per_M", "sample_s_per_M", "eval_s_per_M",
            "peak_GB", "mean_tvd", "max_corr_gap"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(f"{r[c]:.3g}" if isinstance(r[c], float) else str(r[c]) for c in cols) + " |"
              for r in rows_out]
    text = "\n".join(lines) + (f"\n\nload average start {info['loadavg_1_5_15']}, end {info['loadavg_end']}; "
                               f"{info['cpus']} cpus; peak_GB: dask = largest worker RSS, in-memory = process\n")
    print(text, flush=True)
    C.RESULTS_DIR.mkdir(exist_ok=True)
    stamp = info.setdefault("stamp", time.strftime("%Y%m%d-%H%M%S"))
    (C.RESULTS_DIR / f"bench_scale-{stamp}.json").write_text(json.dumps({"machine": info, "rows": rows_out}, indent=2))
    (C.RESULTS_DIR / "bench_scale-latest.md").write_text(text)


if __name__ == "__main__":
    main()
