"""dp-copula beyond one machine: fit, sample and evaluate on Dask (LocalCluster, 2 workers x 1 thread, 3 GB each)
from 1M to 20M rows x 20 columns, with the in-memory path beside it where it fits.

    .venv/bin/python benchmarks/bench_scale.py --sizes 0.2 --rows-per-file 100000 --inmem-max 0.2   # smoke
    flock /tmp/coord/heavy.lock .venv/bin/python benchmarks/bench_scale.py --sizes 20,1,4,10 --inmem-max 4 \
        --marginal-at 20 --ctgan-at 1      # the issue-14 run: + dp-marginal's pass at 20M, DP-CTGAN on 1M rows

Data: a plain GaussianCopula is fitted to the real AER/CPS1988 table (7 columns, its declared schema) and sampled;
13 columns are derived from each sampled row with seeded noise (age, log wage, hours, annual earnings, age group,
education level, high earner, interview date, tenure, children, union, industry, savings with nulls), giving 20
columns of mixed kinds. Generation: one pool of ``--rows-per-file`` copula rows, resampled with replacement for each
file, derived columns drawn with fresh seeded noise per file; each file is one Parquet partition (written once; the
smaller sizes read the first files). Timed per size: the dp-copula fit (eps=1, delta=1e-6; validation pass + two
measure passes) on the Parquet files, sampling as many rows to partitioned Parquet, and the merged-statistics
fidelity evaluation (real vs synthetic files). Peak memory per worker: the largest resident set of any worker
process, polled every 0.25 s. The in-memory path (read the files into one DataFrame, fit, sample, evaluate) runs in
a child process with single-threaded BLAS (as Dask sets in its workers); its peak is that process's ``ru_maxrss``.
Imports are warmed up outside the timers on both paths.

2026-12-01 17:00-17:08 UTC, heavy lock, load 1.0-2.3 (the issue-14 run above): 20M rows fit 57.8 s, sample 35.9 s,
eval 54.5 s, peak 1.95 GB per worker; dp-marginal at 20M validation 18.8 s + one marginal pass 26.9 s (2.0 GB).
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
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


def uptime(label: str) -> float:
    """Print ``uptime`` (the honest load next to every timing); returns the 1-minute load average."""
    line = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"[{label}] {line}", flush=True)
    return round(os.getloadavg()[0], 2)


@contextlib.contextmanager
def phase(res: dict, name: str, peaks: "WorkerPeak | None" = None):
    """Time the block into ``res[name + "_s"]`` with ``uptime`` before and after (``res[name + "_load"]``) and,
    with ``peaks``, the largest worker RSS during it (``res[name + "_peak"]``)."""
    before = uptime(f"before {name}")
    with peaks if peaks is not None else contextlib.nullcontext(), C.timer() as t:
        yield
    res[f"{name}_s"] = t["s"]
    res[f"{name}_load"] = [before, uptime(f"after {name} ({t['s']:.1f} s)")]
    if peaks is not None:
        res[f"{name}_peak"] = peaks.peak


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
        with phase(res, "fit", peaks):
            gen = DPGaussianCopula(EPS, DELTA).fit(_frame(files), schema, random_state=0, progress=False)
        shutil.rmtree(out, ignore_errors=True)
        with phase(res, "sample", peaks):
            written = sample_to_parquet(gen, rows, out, random_state=1, rows_per_partition=1 << 20, progress=False)
        with phase(res, "eval", peaks):
            fid = fidelity(_frame(files), read_partitioned(str(out)), schema)
        res.update(mean_tvd=fid["mean_tvd"], max_corr_gap=fid["max_corr_gap"], files_out=len(written))
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
            out.append({"persist": persist})
            with dask.config.set({"synthgen.persist": persist}), phase(out[-1], "fit", peaks):
                DPGaussianCopula(EPS, DELTA).fit(_frame(files), schema, random_state=0, progress=False)
    return out


def run_marginal_pass(files: list[Path], schema, workers: int = 2) -> dict:
    """dp-marginal's measurement passes on Dask, as its fit makes them: validation (partitions kept on the
    workers); with bins="dp-quantile" (the default) the fine histograms' pass and their release (the DP model
    bins); the one pass of exact marginals (total, one-ways, every candidate pair)."""
    from synthgen.generators.marginal.dp import DPMarginal
    from synthgen.generators.marginal.edges import release_edges
    from synthgen.privacy.accountants import ZCDPBudget
    from synthgen.privacy.noise import privacy_noise
    from synthgen.scale.cluster import connect
    from synthgen.scale.marginals import exact_marginals

    gen = DPMarginal(EPS, DELTA)
    plan = gen._plan(schema)
    cliques = [()] + [(a,) for a in plan.names] + list(plan.candidates)
    with connect("local", n_workers=workers, threads_per_worker=1, memory_limit="3GB") as client:
        client.run(lambda: __import__("synthgen.scale.marginals") and None)
        peaks, res, codecs = WorkerPeak(client), {"rows_M": _count(files) / 1e6}, plan.codecs
        with phase(res, "validate", peaks):
            table = gen._prepare(_frame(files), schema, "raise")
        if any(g is not None for g in getattr(plan, "grids", ())):
            with phase(res, "fine", peaks):
                codecs = release_edges(table, codecs, plan.grids, plan.fine_share, plan.oneway_share,
                                       ZCDPBudget(EPS, DELTA), privacy_noise())
        with phase(res, "marginals", peaks):
            counts = exact_marginals(table, codecs, cliques)
    res.update(cliques=len(cliques), cells=sum(v.size for v in counts.values()),
               peak_GB=max(v for k, v in res.items() if k.endswith("_peak")) / 2**30)
    print(res, flush=True)
    return res


def run_ctgan(files: list[Path], schema, rows_max: int, subsample_rows: int, epochs: int) -> dict:
    """DP-CTGAN at scale: a Poisson subsample at rate subsample_rows / rows_max (declared), trained on in this
    process, amplified; fidelity of 200k sampled rows vs the frame. delta 1e-7 (below 1 / rows.max)."""
    from synthgen.generators.ctgan.model import DPCTGAN
    from synthgen.scale.cluster import connect
    from synthgen.scale.evaluate import fidelity
    from synthgen.schema.fields import RowBounds

    declared = dataclasses.replace(schema, rows=RowBounds(1, int(rows_max), "public:bench_scale construction"))
    res = {"rows_M": _count(files) / 1e6, "rows_max": rows_max, "subsample_rows": subsample_rows, "epochs": epochs}
    with connect("local", n_workers=2, threads_per_worker=1, memory_limit="3GB") as client:
        client.run(lambda: __import__("synthgen.scale.subsample") and None)
        peaks = WorkerPeak(client)
        with phase(res, "fit", peaks):
            gen = DPCTGAN(EPS, 1e-7, epochs=epochs, subsample_rows=subsample_rows, verbose=False).fit(
                _frame(files), declared, random_state=0)
        with phase(res, "eval", peaks):
            fid = fidelity(_frame(files), gen.sample(200_000, random_state=1), schema)
    spend = gen.privacy_spent_
    res.update(epsilon=spend.epsilon, delta=spend.delta, subsampling=spend.details.get("subsampling"),
               client_peak_GB=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
               mean_tvd=fid["mean_tvd"], max_corr_gap=fid["max_corr_gap"])
    print(res, flush=True)
    return res


def _count(files: list[Path]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def _frame(files: list[Path]):
    import dask.dataframe as dd

    return dd.read_parquet([str(f) for f in files])


def run_memory_child(files: list[str], rows: int) -> dict:
    from synthgen.generators.copula import DPGaussianCopula
    from synthgen.io.tables import read_table
    from synthgen.scale.evaluate import fidelity

    schema, res = schema20(), {}
    with phase(res, "read"):
        df = pd.concat([read_table(f) for f in files], ignore_index=True)
    with phase(res, "fit"):
        gen = DPGaussianCopula(EPS, DELTA).fit(df, schema, random_state=0, progress=False)
    with phase(res, "sample"):
        syn = gen.sample(rows, random_state=1, progress=False)
    with phase(res, "eval"):
        fid = fidelity(df, syn, schema)
    res.update(mean_tvd=fid["mean_tvd"], max_corr_gap=fid["max_corr_gap"],
               peak=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    return res


def _row(path: str, rows: int, r: dict, peak: float) -> dict:
    m = rows / 1e6
    return {"path": path, "rows_M": m, "fit_s": r["fit_s"], "sample_s": r["sample_s"], "eval_s": r["eval_s"],
            "fit_s_per_M": r["fit_s"] / m, "sample_s_per_M": r["sample_s"] / m, "eval_s_per_M": r["eval_s"] / m,
            "peak_GB": peak / 2**30, "mean_tvd": r["mean_tvd"], "max_corr_gap": r["max_corr_gap"],
            "load": f"{r['fit_load'][0]}-{max(r['fit_load'] + r['sample_load'] + r['eval_load'])}",
            "loads": {k: r[k] for k in r if k.endswith("_load")}}


def _args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,5,20", help="millions of rows, comma-separated")
    ap.add_argument("--inmem-max", type=float, default=5.0, help="largest size (millions) run in memory too")
    ap.add_argument("--rows-per-file", type=int, default=1_000_000)
    ap.add_argument("--data", default="/tmp/synthgen-scale-data", help="where the generated Parquet files go")
    ap.add_argument("--memory-child", nargs="*", help=argparse.SUPPRESS)
    ap.add_argument("--fit-persist", action="store_true", help="only the Dask fit, persist off/on, at --sizes")
    ap.add_argument("--marginal-pass", action="store_true", help="only dp-marginal's exact-marginal pass at --sizes")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster workers of --fit-persist/--marginal-pass")
    ap.add_argument("--marginal-at", type=float, default=0, help="after the grid: dp-marginal's pass at this size (M)")
    ap.add_argument("--ctgan-at", type=float, default=0, help="after the grid: a DP-CTGAN subsampled fit at this size")
    ap.add_argument("--ctgan-rows-max", type=int, default=2_000_000, help="declared rows.max of the DP-CTGAN fit")
    ap.add_argument("--ctgan-subsample", type=int, default=50_000, help="DP-CTGAN subsample_rows (rate = this / max)")
    ap.add_argument("--ctgan-epochs", type=int, default=3)
    return ap.parse_args()


def main() -> None:
    args = _args()
    if args.memory_child is not None:
        *files, rows = args.memory_child
        print(json.dumps(run_memory_child(files, int(rows))))
        return
    sizes = [int(float(s) * 1e6) for s in args.sizes.split(",")]
    info, per = C.machine_info(), args.rows_per_file
    first = uptime(f"before data: {args.data}, {per} rows per file")
    with C.timer() as t:
        files = make_files(Path(args.data) / "real", -(-max(sizes + [int(args.marginal_at * 1e6)]) // per), per)
    schema, doc = schema20(), {"machine": info, "rows": []}
    doc["data"] = {"files": len(files), "per_file": per, "s": t["s"], "load": [first, uptime("after data")]}
    part = lambda n: files[: -(-n // per)]  # noqa: E731 - the first files holding n rows
    if args.fit_persist or args.marginal_pass:
        for n in sizes:
            print(f"{n / 1e6:g}M rows, load average start {[round(x, 2) for x in os.getloadavg()]}", flush=True)
            if args.fit_persist:
                run_fit_persist(part(n), schema, workers=args.workers)
            else:
                run_marginal_pass(part(n), schema, workers=args.workers)
        return
    out = Path(args.data) / "synthetic"
    steps = [(f"{n / 1e6:g}M", lambda n=n: run_size(doc, part(n), n, out, schema, n <= args.inmem_max * 1e6))
             for n in sizes]
    if args.marginal_at:
        steps.append(("marginal", lambda: doc.__setitem__("marginal", run_marginal_pass(
            part(int(args.marginal_at * 1e6)), schema, workers=args.workers))))
    if args.ctgan_at:
        steps.append(("ctgan", lambda: doc.__setitem__("ctgan", run_ctgan(
            part(int(args.ctgan_at * 1e6)), schema, args.ctgan_rows_max, args.ctgan_subsample, args.ctgan_epochs))))
    for name, step in steps:  # one failed step (e.g. a worker lost) is recorded; the others still run
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - recorded with its type and message, then the next step
            doc.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"
            print(f"step {name} failed: {doc['errors'][name]}", flush=True)
        save(doc)  # after every step: a run cut short keeps what it measured


def run_size(doc: dict, use: list[Path], n: int, out: Path, schema, in_memory: bool) -> None:
    """The Dask path at ``n`` rows, then (``in_memory``) the in-memory path in a child process."""
    r = run_dask(use, n, out, schema)
    doc["rows"].append(_row("dask", n, r, max(r["fit_peak"], r["sample_peak"], r["eval_peak"])))
    print(doc["rows"][-1], flush=True)
    if in_memory:
        cmd = [sys.executable, __file__, "--memory-child", *map(str, use), str(n)]
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}  # as Dask's workers
        lines = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout.splitlines()
        print("\n".join(lines[:-1]), flush=True)  # the child's uptime lines
        r = json.loads(lines[-1])
        doc["rows"].append(_row("in-memory", n, r, r["peak"]))
        print(doc["rows"][-1], flush=True)


def save(doc: dict) -> None:
    info = doc["machine"]
    info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    cols = ["path", "rows_M", "fit_s", "sample_s", "eval_s", "fit_s_per_M", "sample_s_per_M", "eval_s_per_M",
            "peak_GB", "mean_tvd", "max_corr_gap", "load"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(f"{r[c]:.3g}" if isinstance(r[c], float) else str(r[c]) for c in cols) + " |"
              for r in doc["rows"]]
    text = "\n".join(lines) + (f"\n\nload average start {info['loadavg_1_5_15']}, end {info['loadavg_end']}; "
                               f"{info['cpus']} cpus; peak_GB: dask = largest worker RSS, in-memory = process; "
                               "load: 1-min load average before the fit - highest after a phase\n")
    for key in ("marginal", "ctgan", "errors"):
        if key in doc:
            text += f"\n{key}: {json.dumps(doc[key])}\n"
    print(text, flush=True)
    C.RESULTS_DIR.mkdir(exist_ok=True)
    stamp = info.setdefault("stamp", time.strftime("%Y%m%d-%H%M%S"))
    (C.RESULTS_DIR / f"bench_scale-{stamp}.json").write_text(json.dumps(doc, indent=2, default=str))
    (C.RESULTS_DIR / "bench_scale-latest.md").write_text(text)


if __name__ == "__main__":
    main()
