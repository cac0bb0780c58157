"""The fitted form of a Gaussian copula, shared by the plain and the DP copula: per-column marginals plus one latent
correlation matrix, with sampling and (JSON + arrays) state. Holds parameters only, never rows; everything here is
applied to an already fitted (for the DP copula: already released) model, so it has no privacy cost.

Latent layout of one column: an optional null-indicator dimension (null when ``u < null_prob``), then its value
dimension(s): one for ``continuous`` (piecewise-linear quantile function through ``values``/``cdf`` knots),
``discrete`` (a step quantile function over ``values``) and ``ordinal`` (category codes in declared order); one per
emitted category for ``onehot`` (the category whose latent plus calibrated offset is largest wins).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy.special import ndtr

from ...schema.times import from_days
from .normal_scores import cholesky_factor


MODES = ("continuous", "discrete", "ordinal", "onehot")


# ----------------------------------------------------------------------------------------- value conversion
def category_codes(s: pd.Series, f: Any) -> np.ndarray:
    """Codes into the declared categories (booleans: False=0, True=1); -1 for nulls."""
    if f.kind == "boolean":
        b = s.astype("boolean")
        codes = b.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.where(np.isnan(codes), -1, codes).astype(np.int64)
    return pd.Categorical(s, categories=list(f.categories)).codes.astype(np.int64)


def key_classes(s: pd.Series, f: Any) -> np.ndarray:
    """The ``condition_on`` class of every row: its category code; a nullable key's null cell is one more class,
    the last (a row-wise map of public codes)."""
    codes = category_codes(s, f)
    return np.where(codes < 0, n_key_classes(f) - 1, codes) if f.nullable else codes


def n_key_classes(f: Any) -> int:
    """Classes of a ``condition_on`` key: its declared values, plus the null cell when it is nullable."""
    return (2 if f.kind == "boolean" else len(f.categories)) + bool(f.nullable)


def uses_onehot(f: Any, max_onehot: int) -> bool:
    """Nominal categoricals with 3..``max_onehot`` declared categories get one latent dimension per category."""
    return f.kind == "categorical" and not f.ordered and 2 < len(f.categories) <= max_onehot


def category_values(f: Any) -> np.ndarray:
    if f.kind == "boolean":
        return np.array([False, True], dtype=object)
    return np.array(list(f.categories) + [None], dtype=object)[:-1]


# ------------------------------------------------------------------------------------------- column model
@dataclass
class ColumnModel:
    name: str
    kind: str  # numeric | datetime | categorical | boolean
    mode: str  # continuous | discrete | ordinal | onehot
    values: np.ndarray  # knots / values / category codes
    cdf: np.ndarray  # cumulative probability at each entry of values (not used by onehot)
    null_prob: float | None = None  # None: no null dimension
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(0))  # onehot only

    @property
    def n_dims(self) -> int:
        return (self.null_prob is not None) + (len(self.values) if self.mode == "onehot" else 1)

    def decode(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latent block (n, n_dims) -> (values as float or codes, null mask)."""
        n = z.shape[0]
        j = 0
        null = np.zeros(n, dtype=bool)
        if self.null_prob is not None:
            null = ndtr(z[:, 0]) < self.null_prob
            j = 1
        if self.mode == "onehot":
            idx = np.argmax(z[:, j:] + self.offsets[None, :], axis=1)
            return self.values[idx], null
        u = ndtr(z[:, j])
        if self.mode == "continuous":
            return np.interp(u, self.cdf, self.values), null
        idx = np.minimum(np.searchsorted(self.cdf, u, side="left"), len(self.values) - 1)
        return self.values[idx], null

    def to_output(self, vals: np.ndarray, null: np.ndarray, f: Any) -> Any:
        if self.kind == "numeric":
            out = vals.astype(np.float64)
            out[null] = np.nan
            return out
        if self.kind == "datetime":
            return from_days(vals.astype(np.float64), null).to_numpy()
        codes = vals.astype(np.int64)
        if self.kind == "boolean":
            out = pd.array(codes.astype(bool), dtype="boolean")
            if null.any():
                out[null] = pd.NA
            return out
        if f.type == "string":  # a Categorical is built from codes without touching a million Python strings
            return pd.Categorical.from_codes(np.where(null, -1, codes), categories=list(f.categories))
        out = category_values(f)[codes]
        if null.any():
            out[null] = None
        return out

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        js = {"name": self.name, "kind": self.kind, "mode": self.mode, "null_prob": self.null_prob}
        arrays = {"values": np.asarray(self.values, dtype=np.float64), "cdf": np.asarray(self.cdf, dtype=np.float64)}
        if self.mode == "onehot":
            arrays["offsets"] = np.asarray(self.offsets, dtype=np.float64)
        return js, arrays

    @classmethod
    def from_state(cls, js: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> "ColumnModel":
        mode = js["mode"]
        values = np.asarray(arrays["values"], dtype=np.float64)
        if mode in ("ordinal", "onehot"):
            values = values.astype(np.int64)
        return cls(js["name"], js["kind"], mode, values, np.asarray(arrays["cdf"], dtype=np.float64),
                   None if js["null_prob"] is None else float(js["null_prob"]),
                   np.asarray(arrays.get("offsets", np.zeros(0)), dtype=np.float64))


# --------------------------------------------------------------------------------------------- one part
@dataclass
class CopulaPart:
    """One Gaussian copula (the whole table, or one class of a ``condition_on`` key column)."""

    columns: list[ColumnModel]
    corr: np.ndarray
    weight: float = 1.0
    label: int | None = None  # code of the class of the key column, if conditioned

    def __post_init__(self) -> None:
        self.chol_ = cholesky_factor(self.corr) if self.corr.size else self.corr

    @property
    def n_dims(self) -> int:
        return sum(c.n_dims for c in self.columns)

    def sample_latent(self, n: int, rng: np.random.Generator) -> np.ndarray:
        g = rng.standard_normal((n, self.n_dims))
        return g @ self.chol_.T

    def sample_columns(self, n: int, rng: np.random.Generator, fields: Mapping[str, Any]) -> dict[str, Any]:
        z = self.sample_latent(n, rng)
        out: dict[str, Any] = {}
        j = 0
        for c in self.columns:
            vals, null = c.decode(z[:, j:j + c.n_dims])
            out[c.name] = c.to_output(vals, null, fields[c.name])
            j += c.n_dims
        return out

    def state(self, prefix: str) -> tuple[dict, dict[str, np.ndarray]]:
        cols, arrays = [], {f"{prefix}.corr": np.asarray(self.corr, dtype=np.float64)}
        for i, c in enumerate(self.columns):
            js, arr = c.state()
            cols.append(js)
            arrays.update({f"{prefix}.col{i}.{k}": v for k, v in arr.items()})
        return {"weight": float(self.weight), "label": self.label, "columns": cols}, arrays

    @classmethod
    def from_state(cls, js: Mapping[str, Any], arrays: Mapping[str, np.ndarray], prefix: str) -> "CopulaPart":
        cols = []
        for i, cj in enumerate(js["columns"]):
            p = f"{prefix}.col{i}."
            cols.append(ColumnModel.from_state(cj, {k[len(p):]: v for k, v in arrays.items() if k.startswith(p)}))
        return cls(cols, np.asarray(arrays[f"{prefix}.corr"], dtype=np.float64), float(js["weight"]),
                   None if js["label"] is None else int(js["label"]))


# ------------------------------------------------------------------------------------- one-hot calibration
def calibrate_onehot_offsets(corr_block: np.ndarray, probs: np.ndarray, rng: np.random.Generator,
                             n_draws: int = 20_000, iters: int = 60) -> np.ndarray:
    """Offsets ``b`` such that ``argmax(z + b)`` with ``z ~ N(0, corr_block)`` picks category ``c`` with
    probability ``probs[c]`` (fixed-point iteration on a Monte-Carlo sample; post-processing of the model only)."""
    p = np.asarray(probs, dtype=np.float64)
    p = p / p.sum()
    k = len(p)
    if k == 1:
        return np.zeros(1)
    z = rng.standard_normal((n_draws, k)) @ cholesky_factor(corr_block).T
    b = np.log(np.maximum(p, 1e-12))
    for _ in range(iters):
        counts = np.bincount(np.argmax(z + b, axis=1), minlength=k)
        phat = (counts + 0.5) / (n_draws + 0.5 * k)
        step = np.log(np.maximum(p, 1e-12)) - np.log(phat)
        b = b + 0.7 * step
        if np.max(np.abs(phat - p)) < 2e-3:
            break
    return b - b.mean()


def sample_parts(parts: list[CopulaPart], n: int, rng: np.random.Generator, fields: Mapping[str, Any],
                 key: str | None) -> pd.DataFrame:
    """Sample ``n`` rows from a mixture of parts (class sizes multinomial in the parts' weights), shuffled."""
    if len(parts) == 1 and key is None:
        return pd.DataFrame(parts[0].sample_columns(n, rng, fields))
    w = np.array([p.weight for p in parts], dtype=np.float64)
    sizes = rng.multinomial(n, w / w.sum())
    frames = []
    for part, m in zip(parts, sizes):
        if m == 0:
            continue
        cols = part.sample_columns(int(m), rng, fields)
        if key is not None:
            fk = fields[key]
            cats = category_values(fk)
            val = cats[part.label] if part.label < len(cats) else None  # past the values: a nullable key's null cell
            cols[key] = pd.array([None if val is None else bool(val)] * int(m), dtype="boolean") \
                if fk.kind == "boolean" else np.full(int(m), val, dtype=object)
        frames.append(pd.DataFrame(cols))
    df = pd.concat(frames, ignore_index=True)
    return df.iloc[rng.permutation(len(df))].reset_index(drop=True)
