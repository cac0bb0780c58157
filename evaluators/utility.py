"""Utility: train on synthetic, test on real (TSTR) against train on real, test on real (TRTR).

Models: logistic (or ridge) regression and histogram gradient boosting. Classification targets report accuracy,
macro F1 and AUC; regression targets R² and MAE. A majority-class / mean predictor gives the floor. Confidence
intervals are percentile bootstraps over the real test rows. The test rows are the holdout when one is given
(else a 30 % split of the real table, which the generator saw: optimistic, and the report says so).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .base import EvaluationError, Prepared, Result, encode_matrix, numeric_scale, subsample

MAX_TRAIN_ROWS = 10_000
MAX_TEST_ROWS = 10_000
N_BOOT = 200


def check_target(prep: Prepared, target: str, why: str = "") -> str:
    """Return the task ("classification"/"regression"); raise a typed error for a missing or constant target.
    ``why``: the schema's sentence on why the target is not learned (``Schema.not_learnable``), named in the error.

    A numeric target holding two whole values in the real data (a 0/1 flag declared or drafted as an integer) is
    a classification: its R² rewards no one and its TSTR/TRTR ratio of two small R² values swings without bound."""
    if target not in prep.real.columns:
        raise EvaluationError(
            f"Target column {target!r} is not among the compared columns {list(prep.real.columns)}."
            f"{' ' + why if why else ''} "
            "Fix: pass target= one of those columns (or target=None to skip the utility evaluation).")
    col = prep.col(target)
    r = prep.real[target].to_numpy()
    vals = r[~np.isnan(r)] if col.kind == "numeric" else r[r >= 0]
    if len(np.unique(vals)) < 2:
        raise EvaluationError(
            f"Target column {target!r} is constant in the real data, so there is nothing to predict. "
            "Fix: choose a target with at least two distinct values, or pass target=None.")
    if col.kind == "numeric" and len(np.unique(vals)) == 2 and bool(np.all(vals == np.round(vals))):
        return "classification"
    return "regression" if col.kind == "numeric" else "classification"


def _labels(prep: Prepared, target: str, y: np.ndarray) -> np.ndarray:
    """A numeric classification target's values as class codes from 0 (the real data's smallest value), -1 for
    nulls and for values below it."""
    lo = float(np.nanmin(prep.real[target].to_numpy()))
    code = np.where(np.isnan(y), -1.0, np.rint(y) - lo)
    return np.where(code < 0, -1, code).astype(np.int64)


def _xy(prep: Prepared, frame: pd.DataFrame, target: str, scale: dict, task: str) -> tuple[np.ndarray, np.ndarray]:
    keep = [c for c in prep.columns if c.name != target]
    sub = Prepared(tuple(keep), prep.real, prep.synthetic, prep.holdout)  # one encoding width for every frame
    x = encode_matrix(sub, frame, scale)
    y = frame[target].to_numpy()
    if task == "classification" and prep.col(target).kind == "numeric":
        y = _labels(prep, target, y)
    ok = ~np.isnan(y) if task == "regression" else (y >= 0)
    return x[ok], y[ok]


def _weighted_auc(pos: np.ndarray, score: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Binary ROC AUC for each row of the weight matrix ``w`` (B x n; bootstrap counts), ties counted half."""
    u, inv = np.unique(score, return_inverse=True)
    k = len(u)
    wp = np.stack([np.bincount(inv[pos], weights=row[pos], minlength=k) for row in w])
    wn = np.stack([np.bincount(inv[~pos], weights=row[~pos], minlength=k) for row in w])
    neg_below = np.cumsum(wn, axis=1) - wn
    num = (wp * (neg_below + 0.5 * wn)).sum(1)
    den = wp.sum(1) * wn.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _cls_metrics(y: np.ndarray, proba: np.ndarray, classes: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy, macro F1 and (one-vs-rest macro) AUC for each weight row of ``w`` (B x n)."""
    pred = classes[np.argmax(proba, axis=1)]
    correct = (pred == y).astype("float64")
    tot = w.sum(1)
    out = {"accuracy": (w @ correct) / tot}
    f1s, aucs = [], []
    for j, c in enumerate(classes):
        tp = w @ ((pred == c) & (y == c)).astype("float64")
        fp = w @ ((pred == c) & (y != c)).astype("float64")
        fn = w @ ((pred != c) & (y == c)).astype("float64")
        denom = 2 * tp + fp + fn
        f1s.append(np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), 0.0))
        if (y == c).any() and (y != c).any() and (len(classes) > 2 or j == 1):
            aucs.append(_weighted_auc(y == c, proba[:, j], w))
    out["macro_f1"] = np.mean(f1s, axis=0)
    out["auc"] = np.nanmean(aucs, axis=0) if aucs else np.full(w.shape[0], np.nan)
    return out


def _reg_metrics(y: np.ndarray, pred: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
    tot = w.sum(1)
    mean = (w @ y) / tot
    ss_res = w @ ((y - pred) ** 2)
    ss_tot = w @ (y ** 2) - tot * mean ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.where(ss_tot > 1e-12, 1.0 - ss_res / ss_tot, np.nan)
    return {"r2": r2, "mae": (w @ np.abs(y - pred)) / tot}


def _fit_predict(kind: str, task: str, xtr: np.ndarray, ytr: np.ndarray, xte: np.ndarray, classes: np.ndarray,
                 seed: int) -> np.ndarray:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if task == "regression":
        if kind == "floor":
            return np.full(len(xte), float(np.mean(ytr)))
        model = make_pipeline(StandardScaler(), Ridge(alpha=1.0)) if kind == "linear" else \
            HistGradientBoostingRegressor(max_iter=100, random_state=seed)
        return model.fit(xtr, ytr).predict(xte)
    proba = np.zeros((len(xte), len(classes)))
    seen = np.unique(ytr)
    if kind == "floor" or len(seen) < 2:
        vals, counts = np.unique(ytr, return_counts=True)
        proba[:, np.searchsorted(classes, vals)] = counts / counts.sum()
        return proba
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)) if kind == "linear" else \
        HistGradientBoostingClassifier(max_iter=100, random_state=seed)
    model.fit(xtr, ytr)
    proba[:, np.searchsorted(classes, model.classes_)] = model.predict_proba(xte)
    return proba


def _real_split(prep: Prepared, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(real training rows, test rows, where the test rows come from): the holdout when there is one."""
    if prep.holdout is not None:
        return prep.real, prep.holdout, "holdout (rows the generator never saw)"
    perm = rng.permutation(len(prep.real))
    cut = int(len(perm) * 0.7)
    return (prep.real.iloc[perm[:cut]], prep.real.iloc[perm[cut:]],
            "30% of the real table (the generator saw these rows: TSTR is optimistic)")


def run(prep: Prepared, target: str, rng: np.random.Generator) -> tuple[list[Result], dict[str, Any]]:
    task = check_target(prep, target)
    scale = numeric_scale(prep)
    train_real, test, test_source = _real_split(prep, rng)
    test = test.iloc[np.sort(subsample(len(test), MAX_TEST_ROWS, rng))]
    train_real = train_real.iloc[subsample(len(train_real), MAX_TRAIN_ROWS, rng)]
    syn = prep.synthetic.iloc[subsample(len(prep.synthetic), MAX_TRAIN_ROWS, rng)]
    xr, yr = _xy(prep, train_real, target, scale, task)
    xs, ys = _xy(prep, syn, target, scale, task)
    xt, yt = _xy(prep, test, target, scale, task)
    if len(xs) == 0:
        raise EvaluationError(f"Target column {target!r} is null in every synthetic row. "
                              "Fix: check the generator's output for that column.")
    classes = np.unique(np.concatenate([yr, ys, yt])) if task == "classification" else np.array([])
    n_t = len(yt)
    boot_idx = rng.integers(0, n_t, size=(N_BOOT, n_t))
    weights = np.vstack([np.ones(n_t)] + [np.bincount(b, minlength=n_t) for b in boot_idx]).astype("float64")
    # row 0 is the test set itself, rows 1.. are bootstrap resamples (counts per test row)
    seed = int(rng.integers(2**31 - 1))

    def metrics_of(pred: np.ndarray) -> dict[str, np.ndarray]:
        return _cls_metrics(yt, pred, classes, weights) if task == "classification" else \
            _reg_metrics(yt, pred, weights)

    def ci_of(v: np.ndarray) -> tuple[float, float] | None:
        b = v[1:][np.isfinite(v[1:])]
        return (float(np.percentile(b, 2.5)), float(np.percentile(b, 97.5))) if len(b) > 10 else None

    names = ("accuracy", "macro_f1", "auc") if task == "classification" else ("r2", "mae")
    directions = {"mae": "lower_is_better"}
    floor = {k: float(v[0]) for k, v in metrics_of(_fit_predict("floor", task, xr, yr, xt, classes, seed)).items()}
    results: list[Result] = []
    table = []
    for kind, label in (("linear", "logistic regression" if task == "classification" else "ridge regression"),
                        ("gbm", "HistGradientBoosting")):
        m_real = metrics_of(_fit_predict(kind, task, xr, yr, xt, classes, seed))
        m_syn = metrics_of(_fit_predict(kind, task, xs, ys, xt, classes, seed))
        for m in names:
            ci_s, ci_r = ci_of(m_syn[m]), ci_of(m_real[m])
            tstr, trtr = float(m_syn[m][0]), float(m_real[m][0])
            results.append(Result(
                f"utility.{kind}.{m}", "utility", tstr, directions.get(m, "higher_is_better"), ci=ci_s,
                reference=trtr,
                details={"model": label, "metric": m, "task": task, "target": target,
                         "tstr": tstr, "trtr": trtr, "trtr_ci": list(ci_r) if ci_r else None, "floor": floor[m],
                         "floor_model": "majority class" if task == "classification" else "mean",
                         "test_rows": int(n_t), "test_set": test_source}))
            table.append({"model": label, "metric": m, "tstr": tstr, "tstr_ci": list(ci_s) if ci_s else None,
                          "trtr": trtr, "trtr_ci": list(ci_r) if ci_r else None, "floor": floor[m]})
    primary = "macro_f1" if task == "classification" else "r2"
    gbm = next(r for r in results if r.name == f"utility.gbm.{primary}")
    ratio = gbm.value / gbm.reference if gbm.value is not None and gbm.reference not in (None, 0) else None
    info = {"task": task, "target": target, "primary_metric": primary, "tstr_ratio": ratio, "table": table,
            "test_set": test_source}
    return results, info
