"""Digits walk-through: augmentation (private, no guarantee) versus a DP image generator (releasable).

    .venv/bin/python examples/digits_walkthrough.py [--out OUTDIR] [--epsilon 1.0] [--quick]

1. Load sklearn's 8x8 digits (ships with scikit-learn) and split 80/20; the 80 % is the "private" set.
2. Augment the private images with a declarative pipeline saved as YAML; show that the augmented copies are
   flagged by the nearest-neighbour membership test (they reveal the originals).
3. Fit ``DPImageGenerator`` at a declared (epsilon, delta) charged to a privacy ledger, save it (weights only),
   load it back and sample.
4. Write the synthetic images (.npz and a PNG folder) into OUT/release/ and the image report (statistics of the
   private images, NOT for release) into OUT/owner-evaluation/.

``random_state`` seeds initialisation and sampling only: the DP noise always comes from OS entropy.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> Path:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from evaluators.images import image_report, membership_auc
    from synthgen.generators.images import DPImageGenerator, ImageAugmenter
    from synthgen.io.images import ImageData, read_image_data, write_image_data
    from synthgen.persistence import load_model
    from synthgen.privacy.ledger import PrivacyLedger

    ap = argparse.ArgumentParser(description="synthgen digits walk-through")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary one)")
    ap.add_argument("--epsilon", type=float, default=1.0)
    ap.add_argument("--quick", action="store_true", help="short training (for smoke tests)")
    args = ap.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="synthgen-digits-"))
    out.mkdir(parents=True, exist_ok=True)

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)
    xtr, xte, ytr, yte = train_test_split(x, digits.target, test_size=0.2, random_state=0, stratify=digits.target)
    private, holdout = ImageData(xtr, ytr), ImageData(xte, yte)
    write_image_data(private, out / "private.npz")  # the CLI reads .npz files and PNG folders the same way
    private = read_image_data(out / "private.npz")
    print(f"private training images: {len(private)} of shape {private.image_shape}; holdout: {len(holdout)}")

    # --- 2. augmentation: for use inside the trust boundary only
    aug = ImageAugmenter([{"name": "rotate", "limit": 12, "p": 0.7},
                          {"name": "brightness_contrast", "brightness_limit": 0.15, "p": 0.5},
                          {"name": "noise", "std_range": [0.01, 0.04], "p": 0.3}], n_per_image=2)
    aug.to_yaml(out / "pipeline.yaml")
    aug = ImageAugmenter.from_yaml(out / "pipeline.yaml", n_per_image=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copies = aug.augment(private, random_state=0)
    leak = membership_auc(copies, private, holdout)
    print(f"augmented copies: {len(copies)}, membership AUC {leak.value:.3f} ({leak.details['verdict']}): "
          f"{copies.privacy['reason'][:60]}...")

    # --- 3. DP generator, charged to a ledger
    ledger = PrivacyLedger.create(out / "ledger.json", epsilon=2 * args.epsilon, delta=1e-5)
    params = dict(n_iter=100, n_features=500, hidden=64) if args.quick else {}
    gen = DPImageGenerator(epsilon=args.epsilon, classes=list(range(10)), **params)
    gen.fit(private, ledger=ledger, random_state=0)  # seeds init/sampling; the DP noise is never seeded
    print(f"fitted: {gen.privacy_summary()}; ledger spent {ledger.spent()}")
    gen.save(out / "model")
    gen = load_model(out / "model")  # weights + class proportions only, no images
    synthetic = gen.sample(2000, random_state=1)
    (out / "release").mkdir(exist_ok=True)
    write_image_data(synthetic, out / "release" / "synthetic.npz")
    write_image_data(ImageData(synthetic.images[:100], synthetic.labels[:100]), out / "release" / "synthetic_png")

    # --- 4. report (synthetic sample grids only; private images are never shown unless show_private=True)
    report = image_report(synthetic, private, holdout, models=("logreg",) if args.quick else ("logreg", "mlp"))
    (out / "owner-evaluation").mkdir(exist_ok=True)  # private statistics: kept apart from the release
    report.save_json(out / "owner-evaluation" / "report.json")
    report.save_html(out / "owner-evaluation" / "report.html")
    for r in report.results:
        print(f"  {r.name:24s} {r.value:8.3f}   (real reference {r.reference:.3f})")
    print(f"written to {out}")
    return out


if __name__ == "__main__":
    main()
