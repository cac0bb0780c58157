"""Image evaluators: TSTR next to TRTR, Frechet distance and precision/recall/density/coverage in a learned feature
space, a nearest-neighbour membership test, and a self-contained image report (JSON + HTML).

Every metric is a :class:`evaluators.base.Result` with the value a real holdout reaches as its ``reference``.

* :func:`tstr` trains logistic regression and a small MLP on the synthetic images and tests them on real held-out
  images; TRTR (train on the real training split) is the reference.
* :func:`feature_metrics`: the feature space is the last hidden layer of a small MLP trained **only on the real
  training split, inside the evaluator** (no downloaded weights). Frechet distance (lower is better) and PRDC
  (Naeem et al. 2020, k nearest neighbours) compare synthetic features to real training features; the reference
  compares the real holdout to the real training split.
* :func:`membership_auc`: for each real training image and each real holdout image, the distance to its nearest
  synthetic image; AUC of "closer means member". 0.5 = no signal; > 0.8 is flagged as a leak (what augmenting
  private images gives).
* :func:`image_report` runs them all and returns an :class:`ImageReport` (``to_dict``/``save_json``/``to_html``/
  ``save_html``). Its sample grids show synthetic images only, unless ``show_private=True`` is passed.

An image report is the data owner's evaluation (its metrics are computed on the private images without
differential privacy): its JSON and HTML carry :data:`~evaluators.base.PRIVATE_NOTICE`, not for release.
"""
from __future__ import annotations

import base64
import functools
import html
import io
import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from synthgen.io.images import ImageData, as_image_data
from synthgen._json import jsonable
from synthgen.io import atomic_write_text

from .base import PRIVATE_NOTICE, EvaluationError, Result

FORMAT = "synthgen-image-report/1"
MEMBERSHIP_FLAG = 0.8
MEMBERSHIP_OK = 0.55


def _one_thread(fn):
    """Run ``fn`` with BLAS/OpenMP limited to one thread: on a shared CPU, small sklearn fits are 5-15x faster
    than with contended threads (measured: MLP on 600 digits 37 s -> 2 s)."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            return fn(*args, **kwargs)
    return wrapper


def _data(x: Any, what: str, need_labels: bool = True) -> ImageData:
    try:
        d = as_image_data(x)
    except Exception as exc:  # typed synthgen errors already: re-raise as the evaluators' error with context
        raise EvaluationError(f"{what}: {exc}") from None
    if need_labels and d.labels is None:
        raise EvaluationError(f"{what} need labels for this evaluator. Fix: pass (images, labels).")
    return d


def _flat(d: ImageData) -> np.ndarray:
    return d.images.reshape(len(d), -1).astype(np.float64)


def _check_shapes(*pairs: tuple[str, ImageData]) -> None:
    shapes = {name: d.image_shape for name, d in pairs}
    if len(set(shapes.values())) > 1:
        raise EvaluationError(f"Image shapes differ: {shapes}. Fix: compare images of one size.")


# ------------------------------------------------------------------------------------------------ TSTR
def _classifier(kind: str, seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    if kind == "logreg":
        return LogisticRegression(max_iter=1000)
    if kind == "mlp":
        return MLPClassifier(hidden_layer_sizes=(128,), max_iter=200, early_stopping=False, random_state=seed)
    raise EvaluationError(f"Unknown TSTR model {kind!r}; use 'logreg' or 'mlp'.")


def _fit_score(kind: str, xtr, ytr, xte, yte, seed: int) -> float:
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    if len(np.unique(ytr)) < 2:
        return float(np.mean(yte == ytr[0]))  # one class only: constant prediction
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return float(_classifier(kind, seed).fit(xtr, ytr).score(xte, yte))


@_one_thread
def tstr(synthetic: Any, train: Any, test: Any, models: Sequence[str] = ("logreg", "mlp"),
         random_state: int = 0) -> list[Result]:
    """Train-on-synthetic, test-on-real accuracy per model, with TRTR (train on real train) as the reference."""
    s, tr, te = _data(synthetic, "synthetic images"), _data(train, "real training images"), \
        _data(test, "real test images")
    _check_shapes(("synthetic", s), ("train", tr), ("test", te))
    out = []
    for kind in models:
        acc = _fit_score(kind, _flat(s), s.labels, _flat(te), te.labels, random_state)
        ref = _fit_score(kind, _flat(tr), tr.labels, _flat(te), te.labels, random_state)
        out.append(Result(f"tstr_accuracy_{kind}", "utility", acc, "higher_is_better", reference=ref,
                          details={"model": kind, "trtr": ref, "ratio": acc / ref if ref > 0 else None,
                                   "n_synthetic": len(s), "n_test": len(te)}))
    return out


# ------------------------------------------------------------------------------------------ feature space
class FeatureNet:
    """A small MLP trained on the real training split only; ``transform`` gives its last hidden layer."""

    def __init__(self, hidden: tuple[int, ...] = (128, 64), max_iter: int = 60, random_state: int = 0):
        self.hidden, self.max_iter, self.random_state = hidden, max_iter, random_state

    def fit(self, train: ImageData) -> "FeatureNet":
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model_ = MLPClassifier(hidden_layer_sizes=self.hidden, max_iter=self.max_iter,
                                        random_state=self.random_state).fit(_flat(train), train.labels)
        return self

    def transform(self, data: ImageData) -> np.ndarray:
        h = _flat(data)
        for w, b in zip(self.model_.coefs_[:-1], self.model_.intercepts_[:-1]):
            h = np.maximum(h @ w + b, 0.0)
        return h


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets.

    The trace term tr((C1 C2)^1/2) is computed as the sum of square roots of the eigenvalues of the symmetric PSD
    matrix C1^1/2 C2 C1^1/2 (same spectrum), which stays stable when a covariance is singular (dead units).
    """
    mu1, mu2 = a.mean(0), b.mean(0)
    c1, c2 = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    w, v = np.linalg.eigh(c1)
    s1 = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    tr_covmean = float(np.sqrt(np.clip(np.linalg.eigvalsh(s1 @ c2 @ s1), 0.0, None)).sum())
    return float(max(0.0, ((mu1 - mu2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2.0 * tr_covmean))


def prdc(real: np.ndarray, fake: np.ndarray, k: int = 5) -> dict[str, float]:
    """Precision, recall, density, coverage (Naeem et al. 2020) with k-nearest-neighbour balls."""
    from sklearn.metrics import pairwise_distances

    d_rr = pairwise_distances(real, real)
    r_real = np.sort(d_rr, axis=1)[:, k]  # column 0 is the point itself
    d_ff = pairwise_distances(fake, fake)
    r_fake = np.sort(d_ff, axis=1)[:, k]
    d_rf = pairwise_distances(real, fake)  # (n_real, n_fake)
    inside = d_rf < r_real[:, None]
    return {
        "precision": float(inside.any(axis=0).mean()),
        "recall": float((d_rf < r_fake[None, :]).any(axis=1).mean()),
        "density": float(inside.sum(axis=0).mean() / k),
        "coverage": float((d_rf.min(axis=1) < r_real).mean()),
    }


def _subsample(x: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    return x if len(x) <= m else x[rng.choice(len(x), m, replace=False)]


@_one_thread
def feature_metrics(synthetic: Any, train: Any, holdout: Any, *, k: int = 5, max_points: int = 2000,
                    random_state: int = 0, net: FeatureNet | None = None) -> list[Result]:
    """Frechet distance and PRDC in the feature space of a small net trained on ``train`` only."""
    s, tr, ho = _data(synthetic, "synthetic images"), _data(train, "real training images"), \
        _data(holdout, "real holdout images")
    _check_shapes(("synthetic", s), ("train", tr), ("holdout", ho))
    if min(len(s), len(tr), len(ho)) <= k:
        raise EvaluationError(f"Feature metrics need more than k={k} images in each set.")
    rng = np.random.default_rng(random_state)
    net = net or FeatureNet(random_state=random_state).fit(tr)
    f_tr = _subsample(net.transform(tr), max_points, rng)
    f_s = _subsample(net.transform(s), max_points, rng)
    f_ho = _subsample(net.transform(ho), max_points, rng)
    fd, fd_ref = frechet_distance(f_tr, f_s), frechet_distance(f_tr, f_ho)
    p, p_ref = prdc(f_tr, f_s, k), prdc(f_tr, f_ho, k)
    info = {"feature_net": f"MLP{net.hidden} trained on the real training split inside the evaluator", "k": k}
    out = [Result("frechet_distance", "fidelity", fd, "lower_is_better", reference=fd_ref, details=info)]
    for key in ("precision", "recall", "density", "coverage"):
        out.append(Result(key, "fidelity", p[key], "higher_is_better", reference=p_ref[key], details=info))
    return out


# ------------------------------------------------------------------------------------------- membership
@_one_thread
def membership_auc(synthetic: Any, train: Any, holdout: Any, random_state: int = 0) -> Result:
    """Nearest-neighbour membership test in pixel space: AUC of -distance-to-nearest-synthetic, train vs holdout.

    0.5 means the synthetic images are no closer to training images than to unseen ones; above 0.8 is flagged.
    All members and non-members are used (AUC does not depend on the balance); ``ci`` is a 95 % Hanley-McNeil
    interval. ``random_state`` is unused (the test is deterministic) and kept for a uniform signature.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import NearestNeighbors

    s = _data(synthetic, "synthetic images", need_labels=False)
    tr = _data(train, "real training images", need_labels=False)
    ho = _data(holdout, "real holdout images", need_labels=False)
    _check_shapes(("synthetic", s), ("train", tr), ("holdout", ho))
    x_tr, x_ho = _flat(tr), _flat(ho)
    nn = NearestNeighbors(n_neighbors=1).fit(_flat(s))
    d_tr = nn.kneighbors(x_tr)[0][:, 0]
    d_ho = nn.kneighbors(x_ho)[0][:, 0]
    y = np.r_[np.ones(len(d_tr)), np.zeros(len(d_ho))]  # AUC does not depend on the class balance: use all
    auc = float(roc_auc_score(y, -np.r_[d_tr, d_ho]))
    # Hanley & McNeil (1982) standard error of an AUC, for a 95 % interval
    n1, n0 = len(d_tr), len(d_ho)
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    se = float(np.sqrt(max(0.0, auc * (1 - auc) + (n1 - 1) * (q1 - auc ** 2) + (n0 - 1) * (q2 - auc ** 2))
                       / (n1 * n0)))
    verdict = "high risk" if auc > MEMBERSHIP_FLAG else ("ok" if auc <= MEMBERSHIP_OK else "elevated")
    return Result("membership_auc", "privacy", auc, "lower_is_better", ci=(auc - 1.96 * se, auc + 1.96 * se),
                  reference=0.5,
                  details={"attack": "nearest synthetic neighbour distance (pixel space)", "n_members": n1,
                           "n_non_members": n0,
                           "verdict": verdict, "flag_above": MEMBERSHIP_FLAG, "ok_at_most": MEMBERSHIP_OK,
                           "median_distance_train": float(np.median(d_tr)),
                           "median_distance_holdout": float(np.median(d_ho))})


# ----------------------------------------------------------------------------------------------- report
def _grid_png(images: np.ndarray, labels: np.ndarray | None, per_class: int = 8, max_classes: int = 10,
              scale: int | None = None) -> str:
    """A base64 PNG grid: one row per class (first ``per_class`` images of each), nearest-neighbour upscaled."""
    from PIL import Image

    from synthgen.io.images import to_uint8

    imgs = to_uint8(images)
    if imgs.ndim == 4 and imgs.shape[-1] == 1:
        imgs = imgs[..., 0]
    h, w = imgs.shape[1:3]
    scale = scale or max(1, 48 // max(h, w))
    if labels is None:
        rows = [np.arange(min(len(imgs), per_class * max_classes))]
        rows = [r for r in np.array_split(rows[0], max(1, -(-len(rows[0]) // per_class)))]
    else:
        rows = [np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)[:max_classes]]
    pad = 2
    grid_shape = (len(rows) * (h + pad) + pad, per_class * (w + pad) + pad) + imgs.shape[3:]
    grid = np.full(grid_shape, 255, dtype=np.uint8)
    for r, idx in enumerate(rows):
        for c, i in enumerate(idx):
            y0, x0 = pad + r * (h + pad), pad + c * (w + pad)
            grid[y0:y0 + h, x0:x0 + w] = imgs[i]
    im = Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


@dataclass(frozen=True)
class ImageReport:
    results: tuple[Result, ...]
    class_counts: Mapping[str, Mapping[str, int]]
    privacy: Mapping[str, Any] | None
    grids: Mapping[str, str] = field(default_factory=dict)  # name -> base64 PNG
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Result:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(name)

    def to_dict(self) -> dict:
        return jsonable({"format": FORMAT, "contains_private_statistics": True, "notice": PRIVATE_NOTICE,
                         "meta": dict(self.meta), "privacy": self.privacy,
                         "class_counts": {k: dict(v) for k, v in self.class_counts.items()},
                         "results": [r.to_dict() for r in self.results], "grids": dict(self.grids)})

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def save_json(self, path: str | os.PathLike) -> None:
        atomic_write_text(path, self.to_json() + "\n")

    def to_html(self) -> str:
        return render_image_html(self.to_dict())

    def save_html(self, path: str | os.PathLike) -> None:
        atomic_write_text(path, self.to_html())


def _counts(labels: np.ndarray | None) -> dict[str, int]:
    if labels is None:
        return {}
    u, c = np.unique(labels, return_counts=True)
    return {str(int(a)): int(b) for a, b in zip(u, c)}


@_one_thread
def image_report(synthetic: Any, train: Any, holdout: Any, *, privacy: Mapping[str, Any] | None = None,
                 show_private: bool = False, models: Sequence[str] = ("logreg", "mlp"), random_state: int = 0,
                 title: str = "synthgen image report") -> ImageReport:
    """All image metrics plus sample grids (synthetic only unless ``show_private``) and per-class counts.

    The real holdout serves as the TSTR test set and as the non-member set of the membership test.
    ``privacy``: the generator's privacy spend dict (taken from ``synthetic.privacy`` when it is an ImageData).
    """
    s = _data(synthetic, "synthetic images")
    tr, ho = _data(train, "real training images"), _data(holdout, "real holdout images")
    privacy = privacy if privacy is not None else (dict(s.privacy) if s.privacy else None)
    results = [*tstr(s, tr, ho, models=models, random_state=random_state),
               *feature_metrics(s, tr, ho, random_state=random_state),
               membership_auc(s, tr, ho, random_state=random_state)]
    grids = {"synthetic": _grid_png(s.images, s.labels)}
    counts = {"synthetic": _counts(s.labels)}
    if show_private:
        grids["real training (private!)"] = _grid_png(tr.images, tr.labels)
        counts["real training (private!)"] = _counts(tr.labels)
    meta = {"title": title, "n_synthetic": len(s), "n_train": len(tr), "n_holdout": len(ho),
            "image_shape": list(s.image_shape), "shows_private_images": bool(show_private)}
    return ImageReport(tuple(results), counts, privacy, grids, meta)


def render_image_html(d: Mapping[str, Any]) -> str:
    """One self-contained page (no network requests) from the report dict."""
    esc = html.escape
    p = d.get("privacy") or {}
    if p.get("guarantee") == "dp":
        banner = (f'<div class="ok">Differentially private: epsilon={p["epsilon"]:.3g}, delta={p["delta"]:.2g} '
                  f'({esc(str(p.get("accountant", "")))}; neighbouring: {esc(str(p.get("neighbouring", "")))})</div>')
    elif p.get("guarantee") == "none":
        banner = f'<div class="bad">NO DIFFERENTIAL-PRIVACY GUARANTEE: {esc(str(p.get("reason", "")))}</div>'
    else:
        banner = '<div class="bad">Privacy guarantee unknown (not given to the report).</div>'
    rows = []
    for r in d["results"]:
        v, ref = r["value"], r["reference"]
        extra = r["details"].get("verdict", "")
        rows.append(f"<tr><td>{esc(r['name'])}</td><td>{esc(r['group'])}</td>"
                    f"<td>{'' if v is None else f'{v:.4g}'}</td><td>{'' if ref is None else f'{ref:.4g}'}</td>"
                    f"<td>{esc(r['direction'].replace('_', ' '))}</td><td>{esc(str(extra))}</td></tr>")
    grids = "".join(f'<figure><img alt="{esc(k)} samples" src="data:image/png;base64,{v}"/>'
                    f"<figcaption>{esc(k)} (one row per class)</figcaption></figure>"
                    for k, v in d.get("grids", {}).items())
    classes = sorted({c for v in d["class_counts"].values() for c in v}, key=lambda x: int(x))
    head = "".join(f"<th>{esc(c)}</th>" for c in classes)
    crows = "".join(f"<tr><td>{esc(k)}</td>" + "".join(f"<td>{v.get(c, 0)}</td>" for c in classes) + "</tr>"
                    for k, v in d["class_counts"].items())
    meta = d.get("meta", {})
    return f"""<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>PRIVATE, NOT FOR RELEASE: {esc(str(meta.get("title", "image report")))}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}.ok{{background:#e6f4ea;padding:8px}}
.bad{{background:#fde2e1;padding:8px;font-weight:bold}}img{{image-rendering:pixelated}}
.private{{background:#4a0072;color:#fff;padding:8px;font-weight:bold}}</style></head><body>
<div class="private" id="not-for-release">{esc(PRIVATE_NOTICE)}</div>
<h1>{esc(str(meta.get("title", "image report")))}</h1>{banner}
<p>{meta.get("n_synthetic")} synthetic images; {meta.get("n_train")} real training and {meta.get("n_holdout")}
real holdout images of shape {esc(str(meta.get("image_shape")))}. Reference = the value real data reaches
(TRTR for accuracy, real holdout vs real train for the feature metrics, 0.5 for membership).</p>
<h2>Metrics</h2><table><tr><th>metric</th><th>group</th><th>value</th><th>reference</th><th>direction</th>
<th>verdict</th></tr>{''.join(rows)}</table>
<h2>Per-class counts</h2><table><tr><th>set</th>{head}</tr>{crows}</table>
<h2>Samples</h2>{grids}
<div class="private">{esc(PRIVATE_NOTICE)}</div></body></html>"""
