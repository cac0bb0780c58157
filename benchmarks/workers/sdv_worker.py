"""Runs inside benchmarks/.venv-sdv (sdv + sdmetrics). Usage: python sdv_worker.py JOBS.json RESULTS.json

Jobs (a JSON list), each answered by one result dict in the same order:
  {"task": "fit_sample", "model": "gaussian_copula" | "ctgan", "train": PARQUET, "metadata": {"columns": ...},
   "n": ROWS, "seed": INT, "out": PARQUET, "params": {...}}  -> {"fit_s", "sample_s", "rows"}
  {"task": "quality", "real": PARQUET, "synthetic": PARQUET, "metadata": {...}} -> {"score", "properties"}
SDV offers no random_state argument for fitting, so this worker (a separate process that exists only for the
benchmark) seeds numpy and torch's global generators before each CTGAN fit, and uses the synthesizer's own
``_set_random_state`` for sampling.
"""
import json
import sys
import time
import traceback
import warnings

warnings.filterwarnings("ignore")

import numpy as np
import pandas as pd


def _read(path, metadata):
    df = pd.read_parquet(path)
    for name, col in metadata["columns"].items():
        if col["sdtype"] in ("categorical", "boolean") and name in df:
            df[name] = df[name].astype(object)
    return df


def _sdv_major():
    import sdv

    return int(str(sdv.__version__).split(".")[0])


def fit_sample(job):
    global _DICT_API
    _DICT_API = _sdv_major() >= 2  # SDV 2.x single-table synthesizers take {table_name: DataFrame}
    from sdv.metadata import Metadata

    meta = Metadata.load_from_dict(job["metadata"], single_table_name="table")
    train = _read(job["train"], job["metadata"])
    params = dict(job.get("params") or {})
    seed = int(job.get("seed", 0))
    if job["model"] == "gaussian_copula":
        from sdv.single_table import GaussianCopulaSynthesizer as cls
    elif job["model"] == "ctgan":
        from sdv.single_table import CTGANSynthesizer as cls
        import torch

        np.random.seed(seed)  # rival process only: SDV's CTGAN has no explicit seed for fitting
        torch.manual_seed(seed)
        torch.set_num_threads(int(params.pop("threads", torch.get_num_threads())))
    else:
        raise ValueError(f"unknown model {job['model']!r}")
    synth = cls(meta, **params)
    t0 = time.perf_counter()
    synth.fit({"table": train} if _DICT_API else train)
    t1 = time.perf_counter()
    synth._set_random_state(seed)
    out = synth.sample(int(job["n"]))
    if isinstance(out, dict):  # SDV >= 2.0 returns {table_name: DataFrame}
        out = next(iter(out.values()))
    t2 = time.perf_counter()
    out.to_parquet(job["out"], index=False)
    res = {"fit_s": t1 - t0, "sample_s": t2 - t1, "rows": int(len(out))}
    if job["model"] == "ctgan":
        res["epochs"] = params.get("epochs", 300)
    return res


def quality(job):
    from sdmetrics.reports.single_table import QualityReport

    real = _read(job["real"], job["metadata"])
    syn = _read(job["synthetic"], job["metadata"])
    syn = syn[list(real.columns)]
    rep = QualityReport()
    t0 = time.perf_counter()
    rep.generate(real, syn, job["metadata"], verbose=False)
    props = rep.get_properties()
    return {"score": float(rep.get_score()), "seconds": time.perf_counter() - t0,
            "properties": {str(r["Property"]): float(r["Score"]) for _, r in props.iterrows()}}


def main():
    jobs = json.load(open(sys.argv[1]))
    results = []
    for job in jobs:
        try:
            results.append({"fit_sample": fit_sample, "quality": quality}[job["task"]](job))
        except Exception as exc:  # reported per job; the caller decides
            results.append({"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-2000:]})
    json.dump(results, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
