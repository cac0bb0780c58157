"""Shared helpers for the benchmarks: data, TSTR/TRTR, DCR share, timing, markdown tables, rival workers.

The rivals (SDV, smartnoise-synth) run in their own virtual environments inside ``benchmarks/`` (created by
``make bench-venvs``); this module talks to them through small worker scripts in ``benchmarks/workers/``,
exchanging tables as Parquet files and jobs/results as JSON in a temporary directory. Nothing here touches a
global random number generator: every seed is passed explicitly.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
WORKERS_DIR = BENCH_DIR / "workers"
SDV_PYTHON = BENCH_DIR / ".venv-sdv" / "bin" / "python"
SMARTNOISE_PYTHON = BENCH_DIR / ".venv-smartnoise" / "bin" / "python"

if str(ROOT) not in sys.path:  # running `python benchmarks/x.py` from a checkout
    sys.path.insert(0, str(ROOT))


# ---------------------------------------------------------------------------------------------------- timing
@contextmanager
def timer() -> Iterator[dict]:
    """``with timer() as t: ...`` then ``t["s"]`` holds the wall time in seconds."""
    box: dict = {}
    start = time.perf_counter()
    try:
        yield box
    finally:
        box["s"] = time.perf_counter() - start


def machine_info() -> dict:
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_1_5_15": [round(x, 2) for x in load],
    }


# ---------------------------------------------------------------------------------------------------- data
def load_split(name: str, seed: int = 0, holdout: float = 0.2, max_train: int | None = None):
    """``(train, holdout, schema)`` for a bundled table: the seeded 80/20 split, all declared columns kept
    (synthgen generators take the declared table; use :func:`learnable` for the rivals and metrics).

    ``max_train`` keeps a seeded random subset of the training part (the holdout is never shrunk).
    """
    from synthgen import datasets

    df, schema = datasets.load(name)
    train, test = datasets.train_holdout(df, holdout, seed)
    if max_train is not None and len(train) > max_train:
        idx = np.random.default_rng(seed + 10_000).choice(len(train), size=max_train, replace=False)
        train = train.iloc[np.sort(idx)].reset_index(drop=True)
    return train, test, schema


def learnable(df: pd.DataFrame, schema) -> pd.DataFrame:
    """Only the columns a generator learns (identifiers and undeclared columns dropped)."""
    return df[[f.name for f in schema.learnable]].reset_index(drop=True)


def sdmetrics_metadata(schema) -> dict:
    """sdmetrics/SDV single-table metadata with the column types we declared (no auto-detection)."""
    kinds = {"numeric": "numerical", "categorical": "categorical", "boolean": "boolean", "datetime": "datetime"}
    cols = {}
    for f in schema.learnable:
        cols[f.name] = {"sdtype": kinds[f.kind]}
    return {"columns": cols}


def for_exchange(df: pd.DataFrame) -> pd.DataFrame:
    """A copy that any pandas/pyarrow version reads back the same (object strings, float/int numbers)."""
    out = {}
    for c in df.columns:
        s = df[c].reset_index(drop=True)
        if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype) \
                or isinstance(s.dtype, pd.CategoricalDtype):
            if pd.api.types.is_datetime64_any_dtype(s.dtype):
                out[c] = s
            else:
                out[c] = s.astype(object).where(s.notna(), None)
        elif pd.api.types.is_integer_dtype(s.dtype) and not s.isna().any():
            out[c] = s.astype("int64")
        else:
            out[c] = s.astype("float64")
    return pd.DataFrame(out)


def write_parquet(df: pd.DataFrame, path: Path) -> Path:
    for_exchange(df).to_parquet(path, index=False)
    return path


# ---------------------------------------------------------------------------------------------------- utility
def _feature_matrix(df: pd.DataFrame, schema, features: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    cols, is_cat = [], []
    for name in features:
        f = schema[name]
        s = df[name]
        if f.kind in ("categorical", "boolean"):
            cats = [str(c) for c in getattr(f, "categories", (False, True))]
            codes = pd.Categorical(s.astype(object).map(lambda v: None if pd.isna(v) else str(v)),
                                   categories=cats).codes.astype(float)
            codes[codes < 0] = np.nan
            cols.append(codes)
            is_cat.append(True)
        elif f.kind == "datetime":
            cols.append(pd.to_datetime(s).astype("int64").to_numpy(dtype=float))
            is_cat.append(False)
        else:
            cols.append(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float))
            is_cat.append(False)
    return np.column_stack(cols), np.array(is_cat)


def _labels(df: pd.DataFrame, target: str) -> np.ndarray:
    return df[target].astype(object).map(lambda v: "<NA>" if pd.isna(v) else str(v)).to_numpy()


def ml_f1(train: pd.DataFrame, test: pd.DataFrame, schema, target: str, seed: int = 0) -> float:
    """Macro F1 on ``test`` of a HistGradientBoostingClassifier trained on ``train`` (native categoricals)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import f1_score

    features = [f.name for f in schema.learnable if f.name != target]
    Xtr, is_cat = _feature_matrix(train, schema, features)
    Xte, _ = _feature_matrix(test, schema, features)
    ytr, yte = _labels(train, target), _labels(test, target)
    if len(np.unique(ytr)) < 2:  # a synthetic table with one class: the classifier can only predict it
        pred = np.full(len(yte), ytr[0] if len(ytr) else "<none>", dtype=object)
    else:
        clf = HistGradientBoostingClassifier(categorical_features=is_cat, random_state=seed)
        clf.fit(Xtr, ytr)
        pred = clf.predict(Xte)
    return float(f1_score(yte, pred, average="macro", labels=np.unique(yte)))


# ---------------------------------------------------------------------------------------------------- privacy
def _distance_space(frames: Sequence[pd.DataFrame], schema) -> list[np.ndarray]:
    """Numeric columns scaled to [0, 1] by the DECLARED bounds; categoricals one-hot (weight 1 per column)."""
    outs: list[list[np.ndarray]] = [[] for _ in frames]
    for f in schema.learnable:
        if f.kind == "numeric":
            lo, hi = float(f.lower), float(f.upper)
            span = (hi - lo) or 1.0
            for o, df in zip(outs, frames):
                v = pd.to_numeric(df[f.name], errors="coerce").to_numpy(dtype=float)
                o.append(((np.nan_to_num(v, nan=lo) - lo) / span)[:, None])
        elif f.kind in ("categorical", "boolean"):
            cats = [str(c) for c in getattr(f, "categories", (False, True))]
            for o, df in zip(outs, frames):
                codes = pd.Categorical(df[f.name].astype(object).map(lambda v: None if pd.isna(v) else str(v)),
                                       categories=cats).codes
                onehot = np.zeros((len(df), len(cats) + 1))
                onehot[np.arange(len(df)), codes] = 1.0  # code -1 (null/unknown) lands in the last slot
                o.append(onehot / np.sqrt(2.0))
        elif f.kind == "datetime":
            lo, hi = f.lower_ts.value, f.upper_ts.value
            for o, df in zip(outs, frames):
                v = pd.to_datetime(df[f.name]).astype("int64").to_numpy(dtype=float)
                o.append(((v - lo) / ((hi - lo) or 1.0))[:, None])
    return [np.hstack(o).astype(np.float32) for o in outs]


def dcr_share(synthetic: pd.DataFrame, train: pd.DataFrame, holdout: pd.DataFrame, schema, seed: int = 0,
              max_rows: int = 5000) -> float:
    """Share of synthetic rows closer to a training row than to a holdout row (0.5 is ideal; ties count half).

    The training part is subsampled to the holdout's size so that 0.5 is what a generator that never saw the
    training rows would score; at most ``max_rows`` synthetic rows (seeded subsample) are scored.
    """
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(seed)
    k = min(len(train), len(holdout))
    tr = train.iloc[rng.choice(len(train), size=k, replace=False)]
    ho = holdout.iloc[rng.choice(len(holdout), size=k, replace=False)]
    syn = synthetic.iloc[rng.choice(len(synthetic), size=min(max_rows, len(synthetic)), replace=False)]
    S, T, H = _distance_space([syn, tr, ho], schema)
    d_t = NearestNeighbors(n_neighbors=1).fit(T).kneighbors(S)[0][:, 0]
    d_h = NearestNeighbors(n_neighbors=1).fit(H).kneighbors(S)[0][:, 0]
    return float(np.mean((d_t < d_h) + 0.5 * (d_t == d_h)))


# ---------------------------------------------------------------------------------------------------- rivals
class WorkerError(RuntimeError):
    pass


def venv_ready(python: Path) -> bool:
    return python.exists() and (python.parent.parent / ".installed").exists()


def run_worker(python: Path, worker: str, jobs: list[dict], workdir: Path, timeout: float | None = None,
               env: Mapping[str, str] | None = None) -> list[dict]:
    """Run ``benchmarks/workers/<worker>`` under another venv's python on a list of JSON jobs.

    Returns one result dict per job (a job that failed has an ``"error"`` key). Raises WorkerError when the
    process itself fails or times out.
    """
    if not python.exists():
        raise WorkerError(f"{python} does not exist; create it with `make bench-venvs`.")
    tag = f"{worker.removesuffix('.py')}-{time.time_ns()}"
    job_path, out_path = workdir / f"{tag}.jobs.json", workdir / f"{tag}.results.json"
    job_path.write_text(json.dumps(jobs))
    run_env = dict(os.environ)
    run_env.pop("PYTHONPATH", None)
    run_env.update({"PYTHONHASHSEED": "0", "TQDM_DISABLE": "1"})
    if env:
        run_env.update(env)
    try:
        proc = subprocess.run([str(python), str(WORKERS_DIR / worker), str(job_path), str(out_path)],
                              capture_output=True, text=True, timeout=timeout, env=run_env, cwd=str(workdir))
    except subprocess.TimeoutExpired as exc:
        raise WorkerError(f"{worker} timed out after {timeout:.0f} s") from exc
    if proc.returncode != 0 or not out_path.exists():
        tail = (proc.stderr or proc.stdout or "")[-3000:]
        raise WorkerError(f"{worker} exited with {proc.returncode}:\n{tail}")
    return json.loads(out_path.read_text())


def sdv_quality(jobs: list[tuple[Path, Path]], metadata: dict, workdir: Path,
                timeout: float | None = None) -> list[float]:
    """sdmetrics QualityReport score (the neutral judge, computed in the SDV venv) for (real, synthetic) pairs."""
    res = run_worker(SDV_PYTHON, "sdv_worker.py",
                     [{"task": "quality", "real": str(r), "synthetic": str(s), "metadata": metadata}
                      for r, s in jobs], workdir, timeout=timeout)
    out = []
    for r in res:
        if "error" in r:
            print(f"  quality failed: {r['error']}", file=sys.stderr)
            out.append(float("nan"))
        else:
            out.append(float(r["score"]))
    return out


def tempdir(prefix: str) -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix=prefix)


# ---------------------------------------------------------------------------------------------------- ours
def make_ours(name: str, **params: Any):
    """An instance of a registered synthgen generator, passing only the parameters its class accepts."""
    from synthgen.generators import registry

    cls = registry.get(name)
    accepted = set(cls._param_names()) if hasattr(cls, "_param_names") else set(params)
    return cls(**{k: v for k, v in params.items() if k in accepted and v is not None})


def available(name: str) -> bool:
    from synthgen.generators import registry

    return registry.is_available(name)


# ---------------------------------------------------------------------------------------------------- tables
def mean_sd(values: Iterable[float]) -> tuple[float, float]:
    v = np.array([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if len(v) == 0:
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if not np.isfinite(x):
        return "—"
    return f"{x:.{digits}f}"


def fmt_ms(values: Sequence[float], digits: int = 3) -> str:
    m, s = mean_sd(values)
    if not np.isfinite(m):
        return "—"
    return f"{m:.{digits}f} ± {s:.{digits}f}" if len(values) > 1 else f"{m:.{digits}f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in header]] + [[c if isinstance(c, str) else fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


def save_results(name: str, payload: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    text = json.dumps(payload, indent=2, default=_json_default)
    path.write_text(text)
    (RESULTS_DIR / f"{name}-latest.json").write_text(text)
    return path


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    return str(o)
