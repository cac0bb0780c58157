"""Runs inside benchmarks/.venv-smartnoise (smartnoise-synth 1.0.8, opacus 0.14).
Usage: python smartnoise_worker.py JOBS.json RESULTS.json

Job: {"task": "fit_sample", "train": PARQUET, "n": ROWS, "seed": INT, "out": PARQUET, "epsilon": E,
      "delta": D, "categorical": [cols], "continuous": {col: [lower, upper]}, "params": {...}}
Result: {"fit_s", "sample_s", "rows", "epsilon_target", "epsilon_spent", "epochs_run", "steps", ...}

smartnoise is given the same declared bounds for continuous columns as synthgen (MinMaxTransformer with
lower/upper, so no preprocessing budget is spent) and its own defaults otherwise. Its accountant only checks the
budget at the start of each epoch, so the spend after the last epoch is recomputed here from the number of
optimizer steps actually taken, with the same RDP analysis (opacus 0.14) and the same sample rate it assumes.
Seeding the global generators here is the only way to seed smartnoise (its discriminator also reseeds torch
to 0 by itself); this process exists only for the benchmark.
"""
import json
import sys
import time
import traceback
import warnings

warnings.filterwarnings("ignore")

import numpy as np
import pandas as pd


def fit_sample(job):
    import torch
    from opacus import privacy_analysis
    from snsynth import Synthesizer
    from snsynth.transform.minmax import MinMaxTransformer

    seed = int(job.get("seed", 0))
    np.random.seed(seed)
    torch.manual_seed(seed)
    params = dict(job.get("params") or {})
    threads = params.pop("threads", None)
    if threads:
        torch.set_num_threads(int(threads))
    train = pd.read_parquet(job["train"])
    cats = list(job["categorical"])
    conts = dict(job["continuous"])
    for c in cats:
        train[c] = train[c].astype(object)
    constraints = {c: MinMaxTransformer(lower=float(lo), upper=float(hi), negative=True)
                   for c, (lo, hi) in conts.items()}
    for c in cats:
        constraints[c] = "categorical"
    eps = float(job["epsilon"])
    synth = Synthesizer.create("dpctgan", epsilon=eps, delta=job.get("delta"), verbose=False, cuda=False, **params)
    t0 = time.perf_counter()
    synth.fit(train, transformer=constraints, categorical_columns=cats, continuous_columns=list(conts),
              preprocessor_eps=0.0)
    t1 = time.perf_counter()
    out = synth.sample(int(job["n"]))
    t2 = time.perf_counter()
    out = pd.DataFrame(out, columns=list(train.columns)) if not isinstance(out, pd.DataFrame) else out
    out.to_parquet(job["out"], index=False)

    # Spend actually incurred: epochs trained x steps per epoch, same RDP analysis and orders as smartnoise.
    n, bs = len(train), synth._batch_size
    steps_per_epoch = max(n // bs, 1)
    checks = list(synth.epsilon_list)
    broke = len(checks) > 0 and checks[-1] > synth.epsilon
    epochs_run = len(checks) - 1 if broke else synth._epochs
    # with the default cross-entropy loss smartnoise calls optimizerD.step() twice per iteration (fake, then
    # real), and its accountant counts both steps; with the Wasserstein loss once.
    steps = epochs_run * steps_per_epoch * (2 if synth.loss == "cross_entropy" else 1)
    orders = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))
    rdp = privacy_analysis.compute_rdp(bs / n, synth.sigma, steps, orders)
    spent, _ = privacy_analysis.get_privacy_spent(orders, rdp, synth.delta)
    return {"fit_s": t1 - t0, "sample_s": t2 - t1, "rows": int(len(out)), "epsilon_target": eps,
            "epsilon_spent": float(spent), "epsilon_last_check": float(checks[-1]) if checks else None,
            "epochs_run": int(epochs_run), "steps": int(steps), "delta": float(synth.delta),
            "sigma": float(synth.sigma), "batch_size": int(bs)}


def fit_sample_marginal(job):
    """smartnoise's AIM or MST ("synth": "aim" | "mst"): continuous columns binned over the DECLARED bounds
    (BinTransformer, no preprocessing budget), categorical ones label-encoded (smartnoise reads their categories
    off the data). ``n`` rows are sampled (smartnoise's default would be the exact training n)."""
    from snsynth import Synthesizer
    from snsynth.transform.bin import BinTransformer
    from snsynth.transform.label import LabelTransformer

    seed = int(job.get("seed", 0))
    np.random.seed(seed)
    params = dict(job.get("params") or {})
    bins = int(params.pop("bins", 32))
    train = pd.read_parquet(job["train"])
    cats = list(job["categorical"])
    conts = dict(job["continuous"])
    nullable = set(job.get("nullable", []))
    for c in cats:
        train[c] = train[c].astype(object)
    constraints = {c: BinTransformer(bins=bins, lower=float(lo), upper=float(hi), nullable=c in nullable)
                   for c, (lo, hi) in conts.items()}
    for c in cats:
        constraints[c] = LabelTransformer(nullable=True)
    synth = Synthesizer.create(job["synth"], epsilon=float(job["epsilon"]), delta=job.get("delta"), verbose=False,
                               **params)
    t0 = time.perf_counter()
    synth.fit(train, transformer=constraints, categorical_columns=cats, continuous_columns=list(conts),
              preprocessor_eps=0.0, nullable=bool(nullable))
    t1 = time.perf_counter()
    out = synth.sample(int(job["n"]))
    t2 = time.perf_counter()
    out = pd.DataFrame(out, columns=list(train.columns)) if not isinstance(out, pd.DataFrame) else out
    for c in cats:
        out[c] = out[c].astype(str)
    out.to_parquet(job["out"], index=False)
    return {"fit_s": t1 - t0, "sample_s": t2 - t1, "rows": int(len(out)), "epsilon_target": float(job["epsilon"])}


def main():
    jobs = json.load(open(sys.argv[1]))
    results = []
    for job in jobs:
        try:
            results.append({"fit_sample": fit_sample, "fit_sample_marginal": fit_sample_marginal}[job["task"]](job))
        except Exception as exc:
            results.append({"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-2000:]})
    json.dump(results, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
