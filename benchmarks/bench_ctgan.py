"""CTGANs side by side: synthgen "dp-ctgan", smartnoise-synth DPCTGAN and SDV's non-DP CTGANSynthesizer.

    .venv/bin/python benchmarks/bench_ctgan.py --quick     # minutes: fewer rows, epochs and seeds
    .venv/bin/python benchmarks/bench_ctgan.py             # the full grid (see --help for its knobs)

Needs benchmarks/.venv-sdv (SDV CTGAN and the sdmetrics judge) and, for smartnoise, benchmarks/.venv-smartnoise
(``make bench-venvs``); a missing rival is reported and skipped. Two settings:

* main grid: AER/CPS1988 and ggplot2/diamonds (80/20 split, seed 0; the training part capped at --max-train
  rows by a seeded subsample, the holdout kept whole), synthgen dp-ctgan at every ε (delta 1e-6, --seeds seeds)
  next to SDV's non-DP CTGAN (--sdv-epochs, batch 500, --sdv-seeds seeds);
* head-to-head: a --h2h-rows subsample of the CPS1988 training part, synthgen dp-ctgan and smartnoise DPCTGAN
  (its defaults: sigma 5, batch 500, up to 300 epochs until its budget check stops it; the same declared bounds
  are handed to it so it spends nothing on preprocessing) at each ε in --h2h-eps.

Per run: fit+sample wall time, ε actually spent (synthgen: PRV, RDP beside it; smartnoise: its own RDP
accountant recomputed from the steps it took), sdmetrics QualityReport score against the training part, TSTR
macro F1 (HistGradientBoosting on synthetic rows, tested on the real holdout) next to TRTR, and DCR share (share
of synthetic rows closer to a training row than to a holdout row, equal-size samples; 0.5 is ideal).
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common as C  # noqa: E402

warnings.filterwarnings("ignore", message=".*NOT differentially private.*")
warnings.filterwarnings("ignore", category=UserWarning, module=r"opacus(\..*)?$")  # accountant/hook chatter
warnings.filterwarnings("ignore", category=UserWarning, module=r"torch(\..*)?$")
TARGETS = {"cps1988": "parttime", "diamonds": "cut"}
DELTA = 1e-6


def _setting(dataset: str, max_train: int | None, work: Path, tag: str) -> dict:
    train, test, schema = C.load_split(dataset, seed=0, max_train=max_train)
    path = C.write_parquet(C.learnable(train, schema), work / f"{tag}-train.parquet")
    return {"dataset": dataset, "tag": tag, "train": train, "test": test, "schema": schema, "train_path": path,
            "target": TARGETS[dataset], "meta": C.sdmetrics_metadata(schema)}


def _score(st: dict, syn: pd.DataFrame, seed: int) -> dict:
    return {"tstr_f1": C.ml_f1(syn, st["test"], st["schema"], st["target"], seed=seed),
            "dcr_share": C.dcr_share(C.learnable(syn, st["schema"]), C.learnable(st["train"], st["schema"]),
                                     C.learnable(st["test"], st["schema"]), st["schema"], seed=seed)}


def run_ours(st: dict, eps: float, seed: int, epochs: int | None, work: Path) -> dict:
    gen = C.make_ours("dp-ctgan", epsilon=eps, delta=DELTA, epochs=epochs, verbose=False)
    with C.timer() as t_fit:
        gen.fit(st["train"], st["schema"], random_state=seed)
    with C.timer() as t_sample:
        syn = gen.sample(len(st["train"]), random_state=seed + 1000)
    path = C.write_parquet(C.learnable(syn, st["schema"]), work / f"{st['tag']}-ours-{eps}-{seed}.parquet")
    sp = gen.privacy_spent_
    d = getattr(sp, "details", {}) or {}
    epochs_run = d.get("epochs_run")
    r = {"method": "synthgen dp-ctgan", "epsilon": eps, "seed": seed, "fit_s": t_fit["s"], "sample_s": t_sample["s"],
         "time_s": t_fit["s"] + t_sample["s"], "epsilon_spent": sp.epsilon, "delta_spent": sp.delta,
         "epsilon_rdp": (d.get("dpsgd") or {}).get("epsilon_rdp"), "epochs_run": epochs_run,
         "s_per_epoch": t_fit["s"] / epochs_run if epochs_run else None, "path": str(path)}
    r.update(_score(st, syn, seed))
    return r


def run_sdv_ctgan(st: dict, seeds: list[int], epochs: int, work: Path) -> list[dict]:
    jobs = [{"task": "fit_sample", "model": "ctgan", "train": str(st["train_path"]), "metadata": st["meta"],
             "n": len(st["train"]), "seed": s, "out": str(work / f"{st['tag']}-sdvctgan-{s}.parquet"),
             "params": {"epochs": epochs, "batch_size": 500, "enable_gpu": False, "verbose": False}}
            for s in seeds]
    try:
        res = C.run_worker(C.SDV_PYTHON, "sdv_worker.py", jobs, work, timeout=3600)
    except C.WorkerError as exc:
        print(f"  SDV CTGAN failed: {exc}", flush=True)
        return []
    out = []
    for s, job, r in zip(seeds, jobs, res):
        if "error" in r:
            print(f"  SDV CTGAN seed {s} failed: {r['error']}", flush=True)
            continue
        syn = pd.read_parquet(job["out"])
        row = {"method": "SDV CTGAN (no DP)", "epsilon": None, "seed": s, "fit_s": r["fit_s"],
               "sample_s": r["sample_s"], "time_s": r["fit_s"] + r["sample_s"], "epsilon_spent": None,
               "epochs_run": epochs, "s_per_epoch": r["fit_s"] / epochs, "path": job["out"]}
        row.update(_score(st, syn, s))
        out.append(row)
        print(f"  {'SDV CTGAN (no DP)':<28} seed {s}: {row['time_s']:.1f} s, TSTR {row['tstr_f1']:.3f}", flush=True)
    return out


def run_smartnoise(st: dict, eps: float, seed: int, work: Path, timeout: float, epochs: int | None) -> dict | None:
    schema = st["schema"]
    job = {"task": "fit_sample", "train": str(st["train_path"]), "n": len(st["train"]), "seed": seed,
           "out": str(work / f"{st['tag']}-sn-{eps}-{seed}.parquet"), "epsilon": eps, "delta": DELTA,
           "categorical": [f.name for f in schema.learnable if f.kind in ("categorical", "boolean")],
           "continuous": {f.name: [float(f.lower), float(f.upper)] for f in schema.learnable if f.kind == "numeric"},
           "params": {"epochs": epochs} if epochs else {}}
    try:
        (r,) = C.run_worker(C.SMARTNOISE_PYTHON, "smartnoise_worker.py", [job], work, timeout=timeout)
    except C.WorkerError as exc:
        print(f"  smartnoise ε={eps:g} seed {seed} failed: {str(exc)[:300]}", flush=True)
        return {"method": "smartnoise DPCTGAN", "epsilon": eps, "seed": seed, "error": str(exc)[:2000]}
    if "error" in r:
        print(f"  smartnoise ε={eps:g} seed {seed} failed: {r['error']}", flush=True)
        return {"method": "smartnoise DPCTGAN", "epsilon": eps, "seed": seed, "error": r["error"]}
    syn = pd.read_parquet(job["out"])
    # smartnoise returns float32 numbers for integer columns: round them as a user would (post-processing)
    for f in schema.learnable:
        if f.kind == "numeric" and f.integer:
            syn[f.name] = np.round(syn[f.name].astype(float))
    C.write_parquet(syn, Path(job["out"]))
    row = {"method": "smartnoise DPCTGAN", "epsilon": eps, "seed": seed, "fit_s": r["fit_s"],
           "sample_s": r["sample_s"], "time_s": r["fit_s"] + r["sample_s"], "epsilon_spent": r["epsilon_spent"],
           "epochs_run": r["epochs_run"], "s_per_epoch": r["fit_s"] / max(r["epochs_run"], 1),
           "path": job["out"], "smartnoise": r}
    row.update(_score(st, syn, seed))
    return row


def add_quality(st: dict, runs: list[dict], work: Path, use_judge: bool) -> None:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return
    if not use_judge:
        for r in ok:
            r["quality"] = float("nan")
        return
    scores = C.sdv_quality([(st["train_path"], Path(r["path"])) for r in ok], st["meta"], work, timeout=3600)
    for r, s in zip(ok, scores):
        r["quality"] = s


def table_md(st: dict, runs: list[dict], trtr: list[float]) -> tuple[str, list[dict]]:
    trtr_m = float(np.mean(trtr))
    keys = list(dict.fromkeys((r["method"], r["epsilon"]) for r in runs))
    rows, summary = [], []
    for method, eps in keys:
        rs = [r for r in runs if r["method"] == method and r["epsilon"] == eps and "error" not in r]
        failed = [r for r in runs if r["method"] == method and r["epsilon"] == eps and "error" in r]
        if not rs:
            rows.append([method, C.fmt(eps, 0) if eps else "—", "failed", "—", "—", "—", "—", "—", "—", "—"])
            continue
        q, f = [r["quality"] for r in rs], [r["tstr_f1"] for r in rs]
        s = {"method": method, "epsilon": eps, "n_seeds": len(rs), "n_failed": len(failed),
             "time_s": C.mean_sd([r["time_s"] for r in rs])[0],
             "s_per_epoch": C.mean_sd([r["s_per_epoch"] for r in rs if r.get("s_per_epoch")])[0],
             "epsilon_spent_max": max(r["epsilon_spent"] for r in rs) if eps else None,
             "quality": C.mean_sd(q)[0], "quality_min": float(np.nanmin(q)) if np.isfinite(q).any() else None,
             "quality_max": float(np.nanmax(q)) if np.isfinite(q).any() else None,
             "tstr_f1": C.mean_sd(f)[0], "tstr_over_trtr": C.mean_sd(f)[0] / trtr_m,
             "dcr_share": C.mean_sd([r["dcr_share"] for r in rs])[0],
             "epochs_run": [r["epochs_run"] for r in rs]}
        summary.append(s)
        spent = "none (no DP)" if not eps else " / ".join(C.fmt(r["epsilon_spent"], 3) for r in rs)
        rows.append([method, C.fmt(eps, 0) if eps else "—", spent, C.fmt_ms([r["time_s"] for r in rs], 1),
                     C.fmt(s["s_per_epoch"], 2), "/".join(str(e) for e in s["epochs_run"]),
                     C.fmt_ms(q), C.fmt_ms(f), C.fmt(s["tstr_over_trtr"], 2) + "×", C.fmt(s["dcr_share"], 3)])
    rows.append(["real data (TRTR)", "—", "—", "—", "—", "—", "—", C.fmt_ms(trtr), "1.00×", "—"])
    header = ["method", "ε target", "ε spent (per seed)", "fit+sample s", "s/epoch", "epochs", "quality",
              f"TSTR F1 ({st['target']})", "TSTR/TRTR", "DCR share"]
    return C.markdown_table(header, rows), summary


def target_checks(main: dict[str, list[dict]], h2h: list[dict], h2h_rows: int,
                  raw_rows: dict[str, int]) -> list[list[str]]:
    out = []

    def find(summary, method, eps):
        return next((s for s in summary if s["method"] == method and s["epsilon"] == eps), None)

    def check(name, value, ok, ref=""):
        out.append([name, value, ("met" if ok else "MISSED") if ok is not None else "n/a", ref])

    ours1, sn1 = find(h2h, "synthgen dp-ctgan", 1.0), find(h2h, "smartnoise DPCTGAN", 1.0)
    if ours1 and sn1:
        ratio = sn1["time_s"] / ours1["time_s"]
        check(f"{h2h_rows} CPS1988 rows, ε=1: ≥ 15× faster than smartnoise", f"{ratio:.1f}×", ratio >= 15,
              "[18×] (target on 4.8k rows)")
        check(f"{h2h_rows} rows, ε=1: quality above smartnoise's in every seed",
              f"ours min {ours1['quality_min']:.3f} vs smartnoise max {sn1['quality_max']:.3f}",
              ours1["quality_min"] > sn1["quality_max"], "[0.80–0.86 vs 0.53]")
    cps = main.get("cps1988", [])
    for eps, qmin in ((1.0, 0.85), (3.0, 0.89)):
        s = find(cps, "synthgen dp-ctgan", eps)
        if s:
            check(f"CPS1988 ({raw_rows.get('cps1988', '?')} train rows), ε={eps:g}: quality ≥ {qmin}",
                  f"{s['quality']:.3f}",
                  s["quality"] >= qmin, "[0.857]" if eps == 1 else "[0.89–0.91]")
            check(f"CPS1988, ε={eps:g}: TSTR ≥ 0.9× TRTR", f"{s['tstr_over_trtr']:.2f}×",
                  s["tstr_over_trtr"] >= 0.9, "[0.95×]" if eps == 1 else "[0.93–1.00×]")
    for ds, summ in main.items():
        sdv = find(summ, "SDV CTGAN (no DP)", None)
        ours = [s for s in summ if s["method"] == "synthgen dp-ctgan"]
        if sdv and ours:
            worst = max(s["s_per_epoch"] for s in ours)
            check(f"{ds}: s/epoch ≤ SDV CTGAN's (batch 500)", f"{worst:.2f} vs {sdv['s_per_epoch']:.2f}",
                  worst <= sdv["s_per_epoch"], "[0.6×]")
    over = [(s["method"], s["epsilon"], s["epsilon_spent_max"]) for s in h2h + [x for v in main.values() for x in v]
            if s.get("epsilon_spent_max") is not None and s["epsilon_spent_max"] > s["epsilon"] + 1e-9]
    ours_over = [o for o in over if o[0] == "synthgen dp-ctgan"]
    check("synthgen: ε spent never above target", "none above" if not ours_over else str(ours_over),
          not ours_over, "")
    sn_over = [o for o in over if o[0] == "smartnoise DPCTGAN"]
    if sn_over:
        check("smartnoise: ε spent above target (for information)",
              "; ".join(f"ε={e:g}: {v:.3f}" for _, e, v in sn_over), None, "[1.072 for 1.0]")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="5k-row training parts, 10 epochs, 1 seed, SDV CTGAN 10 epochs, 2k-row head-to-head")
    p.add_argument("--datasets", nargs="*", default=list(TARGETS), choices=list(TARGETS),
                   help="tables for the main grid (given with no names: the head-to-head only)")
    p.add_argument("--eps", nargs="+", type=float, default=[1.0, 3.0, 10.0])
    p.add_argument("--seeds", type=int, default=None, help="dp-ctgan seeds (default 3; quick 1)")
    p.add_argument("--epochs", type=int, default=None, help="dp-ctgan epochs (default: its own, 30; quick 10)")
    p.add_argument("--max-train", type=int, default=None, help="cap on training rows (default 25000; quick 5000)")
    p.add_argument("--sdv-epochs", type=int, default=None, help="SDV CTGAN epochs (default 100; quick 10)")
    p.add_argument("--sdv-seeds", type=int, default=1)
    p.add_argument("--no-sdv", action="store_true", help="skip SDV CTGAN and the sdmetrics judge")
    p.add_argument("--h2h-rows", type=int, default=None, help="head-to-head training rows (default 4800; quick 2000)")
    p.add_argument("--h2h-eps", nargs="+", type=float, default=[1.0])
    p.add_argument("--sn-seeds", type=int, default=None, help="smartnoise seeds (default 3; quick 1)")
    p.add_argument("--sn-epochs", type=int, default=None, help="smartnoise max epochs (default: its own, 300)")
    p.add_argument("--sn-timeout", type=float, default=1800, help="seconds per smartnoise run")
    p.add_argument("--no-smartnoise", action="store_true")
    a = p.parse_args(argv)

    seeds = list(range(a.seeds or (1 if a.quick else 3)))
    sn_seeds = list(range(a.sn_seeds or (1 if a.quick else 3)))
    sdv_seeds = list(range(a.sdv_seeds))
    epochs = a.epochs or (10 if a.quick else None)
    max_train = a.max_train or (5000 if a.quick else 25000)
    sdv_epochs = a.sdv_epochs or (10 if a.quick else 100)
    h2h_rows = a.h2h_rows or (2000 if a.quick else 4800)
    use_sdv = not a.no_sdv and C.venv_ready(C.SDV_PYTHON)
    use_sn = not a.no_smartnoise and C.venv_ready(C.SMARTNOISE_PYTHON)
    if not a.no_sdv and not use_sdv:
        print("benchmarks/.venv-sdv is missing (`make bench-sdv-venv`): SDV CTGAN and the quality judge skipped.")
    if not a.no_smartnoise and not use_sn:
        print("benchmarks/.venv-smartnoise is missing (`make bench-smartnoise-venv`): smartnoise skipped.")
    if not C.available("dp-ctgan"):
        print("synthgen 'dp-ctgan' is not available yet: only the rivals run.")
    ours_ok = C.available("dp-ctgan")
    info = C.machine_info()
    print(f"# bench_ctgan — {info['date']}, {info['cpus']} CPUs, load avg {info['loadavg_1_5_15']}; "
          f"dp-ctgan seeds {seeds}, epochs {epochs or 'default'}, ε {a.eps}, δ={DELTA:g}; train cap {max_train}; "
          f"SDV CTGAN {sdv_epochs} epochs × {len(sdv_seeds)} seed(s); head-to-head {h2h_rows} rows, ε {a.h2h_eps}, "
          f"smartnoise seeds {sn_seeds}", flush=True)

    md, raw, main_summary, h2h_summary = [], {}, {}, []
    with C.tempdir("bench-ctgan-") as d:
        work = Path(d)
        if ours_ok:  # warm-up: first-call imports (torch, opacus) not timed
            st = _setting("cps1988", 600, work, "warm")
            run_ours(st, 10.0, 0, 1, work)
        for ds in a.datasets:
            st = _setting(ds, max_train, work, ds)
            print(f"\n## {ds}: {len(st['train'])} train / {len(st['test'])} holdout rows, target `{st['target']}`",
                  flush=True)
            runs = []
            if ours_ok:
                for eps in a.eps:
                    for s in seeds:
                        runs.append(run_ours(st, eps, s, epochs, work))
                        r = runs[-1]
                        print(f"  dp-ctgan ε={eps:<4g} seed {s}: {r['time_s']:.1f} s, ε spent {r['epsilon_spent']:.3f},"
                              f" TSTR {r['tstr_f1']:.3f}, DCR {r['dcr_share']:.3f}", flush=True)
            if use_sdv:
                runs += run_sdv_ctgan(st, sdv_seeds, sdv_epochs, work)
            add_quality(st, runs, work, use_sdv)
            trtr = [C.ml_f1(st["train"], st["test"], st["schema"], st["target"], seed=s) for s in seeds]
            text, main_summary[ds] = table_md(st, runs, trtr)
            md.append(f"### {ds}: {len(st['train'])} training rows, target `{st['target']}`\n\n{text}")
            print("\n" + md[-1], flush=True)
            raw[ds] = {"runs": runs, "trtr_f1": trtr, "n_train": len(st["train"]), "n_holdout": len(st["test"])}

        if use_sn or ours_ok:
            st = _setting("cps1988", h2h_rows, work, "h2h")
            print(f"\n## head-to-head: CPS1988, {len(st['train'])} training rows, ε {a.h2h_eps}", flush=True)
            runs = []
            for eps in a.h2h_eps:
                if ours_ok:
                    for s in range(max(len(seeds), len(sn_seeds))):
                        runs.append(run_ours(st, eps, s, epochs, work))
                        print(f"  dp-ctgan ε={eps:g} seed {s}: {runs[-1]['time_s']:.1f} s", flush=True)
                if use_sn:
                    for s in sn_seeds:
                        r = run_smartnoise(st, eps, s, work, a.sn_timeout, a.sn_epochs)
                        runs.append(r)
                        if "error" not in r:
                            print(f"  smartnoise ε={eps:g} seed {s}: {r['time_s']:.1f} s, ε spent "
                                  f"{r['epsilon_spent']:.3f} ({r['epochs_run']} epochs)", flush=True)
            add_quality(st, runs, work, use_sdv)
            trtr = [C.ml_f1(st["train"], st["test"], st["schema"], st["target"], seed=s) for s in seeds]
            text, h2h_summary = table_md(st, runs, trtr)
            md.append(f"### head-to-head: CPS1988, {len(st['train'])} training rows\n\n{text}")
            print("\n" + md[-1], flush=True)
            raw["head_to_head"] = {"runs": runs, "trtr_f1": trtr, "n_train": len(st["train"])}

    checks = target_checks(main_summary, h2h_summary, h2h_rows,
                           {k: v["n_train"] for k, v in raw.items() if k != "head_to_head"})
    md.append("### targets\n\n" + C.markdown_table(["target", "measured", "status", "prototype"], checks))
    print("\n" + md[-1])
    info_after = C.machine_info()
    path = C.save_results("bench_ctgan", {
        "machine": info, "load_after": info_after["loadavg_1_5_15"], "args": vars(a), "delta": DELTA,
        "settings": {"seeds": seeds, "epochs": epochs, "max_train": max_train, "sdv_epochs": sdv_epochs,
                     "h2h_rows": h2h_rows, "sn_seeds": sn_seeds},
        "raw": raw, "summary": {"main": main_summary, "head_to_head": h2h_summary}, "targets": checks,
        "markdown": "\n\n".join(md)})
    print(f"\nresults: {path.relative_to(C.ROOT)} (load avg at end {info_after['loadavg_1_5_15']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
