"""Schema-driven, reversible encoding for DP-CTGAN. Everything here comes from the DECLARED schema (public), except
optional bin edges handed in by the caller, which DP-CTGAN reads off noisy counts (:func:`quantile_edges`).

Per learnable column:

- categorical / boolean: one softmax span over the declared categories (+ a null slot when nullable);
- integer numeric with a small declared range (at most ``max_int_levels`` values): one softmax span, one slot
  per whole number; a constant numeric or datetime column (declared minimum == maximum): one level;
- other numeric and datetime columns: fixed bins over the declared bounds (a softmax span, + a null slot when
  nullable) followed by one tanh scalar, the position inside the bin in [-1, 1]. Bins are equal-width, or
  equal-width on ``log1p(x - lower)`` when the declared range is non-negative, at least 1000 wide and spans two
  orders of magnitude (money columns such as a weekly wage in [50, 20000]): the choice depends on the declared
  bounds only, never on the data.

Training rows are held as small integer codes (one per column) plus bin offsets, and expanded to one-hot
vectors batch by batch, so memory stays ``O(n * columns)`` even for a column with hundreds of categories.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..._json import category_keys
from ...exceptions import ConfigError
from ...schema import Schema
from ...schema.times import to_timestamps

_NS = 1_000_000_000


@dataclass(frozen=True)
class ColumnCode:
    """How one column is encoded. ``slots`` softmax outputs (+1 tanh scalar when ``binned``)."""

    name: str
    kind: str            # "categorical", "boolean", "levels" (small-range integers), "binned"
    n_values: int        # categories / levels / bins (without the null slot)
    nullable: bool
    conditional: bool    # usable in the conditional vector (declared categories)
    lower: float = 0.0   # binned/levels: declared bounds in the transformed space
    upper: float = 1.0
    log: bool = False    # binned: bins equal-width on log1p(x - lower_raw)
    lower_raw: float = 0.0
    edges: tuple | None = None  # binned: bin edges in the transformed space (None: equal-width)

    @property
    def slots(self) -> int:
        return self.n_values + int(self.nullable)

    @property
    def binned(self) -> bool:
        return self.kind == "binned"

    @property
    def width(self) -> int:
        return self.slots + int(self.binned)

    @property
    def null_slot(self) -> int:
        return self.n_values if self.nullable else -1


class TableEncoder:
    """Builds the column codes from a schema; encodes a table to codes/offsets and decodes model outputs."""

    def __init__(self, schema: Schema, n_bins: int = 16, max_int_levels: int = 32,
                 edges: dict[str, Sequence[float]] | None = None):
        """``edges``: per binned column, bin edges in the transformed space (from DP counts: see
        :func:`quantile_edges`); the other binned columns keep equal-width bins over their declared bounds."""
        if n_bins < 2:
            raise ConfigError(f"n_bins must be >= 2; got {n_bins}. Fix: use e.g. n_bins=16.")
        edges = dict(edges or {})
        self.schema = schema
        self.fields = list(schema.learnable)
        cols = []
        for f in self.fields:
            if f.kind == "categorical":
                cols.append(ColumnCode(f.name, "categorical", len(f.categories), f.nullable, True))
            elif f.kind == "boolean":
                cols.append(ColumnCode(f.name, "boolean", 2, f.nullable, True))
            elif (constant := f.kind in ("numeric", "datetime") and f.lower == f.upper) or (
                    f.kind == "numeric" and f.integer and (f.upper - f.lower + 1) <= max_int_levels
                    and float(f.lower).is_integer()):  # a constant column (minimum == maximum): one level
                n = 1 if constant else int(np.floor(f.upper) - f.lower) + 1
                lo, hi = (f.lower, f.upper) if f.kind == "numeric" else (0.0, 0.0)  # datetime: seconds from lower
                cols.append(ColumnCode(f.name, "levels", n, f.nullable, False, lo, hi))
            elif f.kind in ("numeric", "datetime"):
                lo, hi = (f.lower, f.upper) if f.kind == "numeric" else (0.0, _span_seconds(f))
                log = f.kind == "numeric" and _skewed_range(lo, hi)
                t_lo, t_hi = (0.0, float(np.log1p(hi - lo))) if log else (lo, hi)
                e = edges.get(f.name)
                if e is not None:
                    e = tuple(float(v) for v in e)
                    if len(e) < 3 or any(b <= a for a, b in zip(e, e[1:])):
                        raise ConfigError(f"Column {f.name!r}: bin edges must be strictly increasing, at least 3.")
                cols.append(ColumnCode(f.name, "binned", len(e) - 1 if e else n_bins, f.nullable, False, t_lo,
                                       t_hi, log, lo, e))
            else:  # pragma: no cover - identifiers are not learnable
                raise ConfigError(f"Column {f.name!r}: kind {f.kind!r} cannot be encoded by DP-CTGAN.")
        self.columns: list[ColumnCode] = cols
        # output layout: per column [softmax slots][scalar?]
        self.spans: list[tuple[int, int, str]] = []  # (start, size, "softmax"|"tanh")
        self.col_softmax: list[tuple[int, int]] = []
        self.col_scalar: list[int] = []
        pos = 0
        for c in cols:
            self.col_softmax.append((pos, c.slots))
            self.spans.append((pos, c.slots, "softmax"))
            pos += c.slots
            if c.binned:
                self.col_scalar.append(pos)
                self.spans.append((pos, 1, "tanh"))
                pos += 1
            else:
                self.col_scalar.append(-1)
        self.dim = pos
        self.cond_columns = [i for i, c in enumerate(cols) if c.conditional]
        self.cond_offsets: list[int] = []
        off = 0
        for i in self.cond_columns:
            self.cond_offsets.append(off)
            off += cols[i].slots
        self.cond_dim = off

    # ------------------------------------------------------------------ encode (training data)
    def encode(self, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Return ``codes`` (n, columns) int64 slot indices and ``offsets`` (n, columns) float32 in [-1, 1]."""
        n = len(table)
        codes = np.zeros((n, len(self.columns)), dtype=np.int64)
        offsets = np.zeros((n, len(self.columns)), dtype=np.float32)
        for j, (c, f) in enumerate(zip(self.columns, self.fields)):
            s = table[f.name]
            null = s.isna().to_numpy()
            if c.kind == "categorical":
                lookup = {v: k for k, v in enumerate(f.categories)}
                vals = s.to_numpy(dtype=object)
                code = np.array([lookup.get(v, -1) if not nl else -1 for v, nl in zip(vals, null)], dtype=np.int64)
            elif c.kind == "boolean":
                code = np.where(null, -1, s.fillna(False).to_numpy(dtype=bool).astype(np.int64))
            else:
                x = self._to_space(s, f, c)
                if c.kind == "levels":
                    code = np.where(null, -1, np.clip(np.round(np.nan_to_num(x) - c.lower), 0, c.n_values - 1)
                                    ).astype(np.int64)
                else:
                    u = self.bin_position(np.nan_to_num(x), c)
                    b = np.floor(u)
                    code = np.where(null, -1, b).astype(np.int64)
                    offsets[:, j] = np.where(null, 0.0, 2.0 * (u - b) - 1.0).astype(np.float32)
            if (code < 0).any() and not c.nullable:
                raise ConfigError(f"Column {c.name!r} has nulls but is declared not nullable. Fix: declare "
                                  "x-synthgen.nullable=true.")
            codes[:, j] = np.where(code < 0, c.null_slot, code)
        return codes, offsets

    def _to_space(self, s: pd.Series, f: Any, c: ColumnCode) -> np.ndarray:
        if f.kind == "datetime":
            t = to_timestamps(s, f.layout)
            x = (t - f.lower_ts).dt.total_seconds().to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        if c.log:
            x = np.log1p(np.maximum(x - c.lower_raw, 0.0))
        return x

    @staticmethod
    def bin_position(x: np.ndarray, c: ColumnCode) -> np.ndarray:
        """Fractional bin index in [0, n_values) of transformed values ``x`` (clipped to the bounds)."""
        if c.edges is None:
            u = (x - c.lower) / (c.upper - c.lower) * c.n_values
            return np.clip(u, 0.0, c.n_values - 1e-9)
        e = np.asarray(c.edges)
        xc = np.clip(x, e[0], e[-1])
        b = np.clip(np.searchsorted(e, xc, side="right") - 1, 0, c.n_values - 1)
        return np.clip(b + (xc - e[b]) / (e[b + 1] - e[b]), 0.0, c.n_values - 1e-9)

    def transformed(self, table: pd.DataFrame, j: int) -> np.ndarray:
        """Column ``j``'s values in the space its bins live in (log1p for log-binned columns); NaN for nulls."""
        return self._to_space(table[self.fields[j].name], self.fields[j], self.columns[j])

    def histograms(self, codes: np.ndarray) -> list[np.ndarray]:
        """Per column, the count of rows in each softmax slot (each row in exactly one slot per column)."""
        return [np.bincount(codes[:, j], minlength=c.slots).astype(np.float64) for j, c in enumerate(self.columns)]

    def pair_histogram(self, codes: np.ndarray, a: int, b: int) -> np.ndarray:
        """The count of rows in each (slot of column ``a``, slot of column ``b``) cell (each row in one cell)."""
        ka, kb = self.columns[a].slots, self.columns[b].slots
        return np.bincount(codes[:, a] * kb + codes[:, b], minlength=ka * kb).astype(np.float64).reshape(ka, kb)

    # ------------------------------------------------------------------ decode (model outputs)
    def decode(self, slots: np.ndarray, scalars: np.ndarray) -> pd.DataFrame:
        """``slots`` (n, columns) chosen slot per column; ``scalars`` (n, columns) tanh outputs in [-1, 1]."""
        out: dict[str, Any] = {}
        for j, (c, f) in enumerate(zip(self.columns, self.fields)):
            k = slots[:, j]
            null = (k == c.null_slot) if c.nullable else np.zeros(len(k), dtype=bool)
            kk = np.where(null, 0, k)
            if c.kind == "categorical":
                cats = np.empty(len(f.categories), dtype=object)
                cats[:] = list(f.categories)
                vals = cats[kk].astype(object)
                vals[null] = None
                out[f.name] = vals
            elif c.kind == "boolean":
                b = pd.array(kk.astype(bool), dtype="boolean")
                b[null] = pd.NA
                out[f.name] = b
            else:
                if c.kind == "levels":
                    x = c.lower + kk.astype(np.float64)
                else:
                    t = (np.clip(scalars[:, j], -1, 1) + 1.0) / 2.0
                    if c.edges is None:
                        x = c.lower + (kk + t) / c.n_values * (c.upper - c.lower)
                    else:
                        e = np.asarray(c.edges)
                        x = e[kk] + t * (e[kk + 1] - e[kk])
                    if c.log:
                        x = c.lower_raw + np.expm1(x)
                x = np.where(null, np.nan, x)
                if f.kind == "datetime":
                    x = pd.Series(f.lower_ts + pd.to_timedelta(np.round(np.nan_to_num(x)), unit="s")).where(~null)
                out[f.name] = x
        return pd.DataFrame(out)

    def cond_index(self, col: int, slot: int) -> int:
        """Position in the conditional vector of slot ``slot`` of the ``col``-th conditional column."""
        return self.cond_offsets[col] + slot

    def resolve_condition(self, name: str, value: Any) -> tuple[int, int]:
        """(conditional column number, slot) for ``{name: value}``; errors name the column and the fix."""
        names = [self.columns[i].name for i in self.cond_columns]
        if name not in names:
            raise ConfigError(f"Cannot condition on column {name!r}: only categorical and boolean columns can be "
                              f"conditioned on ({names}). Fix: pick one of those.")
        ci = names.index(name)
        c, f = self.columns[self.cond_columns[ci]], self.fields[self.cond_columns[ci]]
        if value is None or (isinstance(value, float) and np.isnan(value)):
            if not c.nullable:
                raise ConfigError(f"Column {name!r} is not nullable; cannot condition on a null value.")
            return ci, c.null_slot
        choices: Sequence[Any] = f.categories if c.kind == "categorical" else (False, True)
        keys = category_keys(choices)
        key = category_keys([value])[0]
        if key not in keys:
            raise ConfigError(f"Cannot condition on {name}={value!r}: not a declared category of column {name!r}. "
                              f"Fix: use one of {list(choices)[:20]}.")
        return ci, keys.index(key)


def quantile_edges(noisy_counts: np.ndarray, lower: float, upper: float, n_bins: int,
                   noise_sd: float = 0.0) -> np.ndarray:
    """Bin edges at the quantiles of a NOISY fine histogram over ``[lower, upper]`` (post-processing).

    Counts below 3 noise standard deviations (a public number) count as 0, so noise in the empty parts of a wide
    declared range does not pull edges there. When that would drop more than a fifth of the (noisy) total, the
    fine bins are merged in twos (the threshold grows by sqrt(2)) until it does not, down to ``n_bins`` bins; if
    even then it does, the data are too few for the noise and equal-width edges come back. Shares are
    interpolated linearly inside bins; the outer edges stay at the declared bounds; edges closer than a quarter
    of a fine bin are merged, so fewer than ``n_bins`` bins may come back (a spike gets one bin, not many).
    """
    c = np.asarray(noisy_counts, dtype=np.float64)
    total = max(float(c.sum()), 0.0)
    sd = float(noise_sd)
    while True:
        kept = np.where(c >= 3.0 * sd, np.maximum(c, 0.0), 0.0)
        if kept.sum() >= 0.8 * total and kept.sum() > 0:
            break
        if len(c) < 2 * n_bins or len(c) % 2:  # too few rows for the noise: equal-width bins, as if declared
            return np.linspace(lower, upper, n_bins + 1)
        c = c.reshape(-1, 2).sum(1)
        sd *= math.sqrt(2.0)
    fine = np.linspace(lower, upper, len(kept) + 1)
    cdf = np.concatenate([[0.0], np.cumsum(kept) / kept.sum()])
    inner = _interp_flat(np.arange(1, n_bins) / n_bins, cdf, fine)
    edges = [float(lower)]
    min_w = (upper - lower) / len(kept) / 4.0
    for e in inner:
        if e - edges[-1] >= min_w and upper - e >= min_w:
            edges.append(float(e))
    edges.append(float(upper))
    if len(edges) < 3:  # everything in one spike: split the range in two around it
        edges = [float(lower), float((lower + upper) / 2), float(upper)]
    return np.asarray(edges)


def _interp_flat(q: np.ndarray, cdf: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Inverse of a non-decreasing piecewise-linear cdf (flat parts allowed): the first x where cdf reaches q."""
    out = np.empty(len(q))
    for i, qq in enumerate(q):
        k = int(np.searchsorted(cdf, qq, side="left"))
        k = min(max(k, 1), len(cdf) - 1)
        lo, hi = cdf[k - 1], cdf[k]
        out[i] = x[k - 1] + (x[k] - x[k - 1]) * ((qq - lo) / (hi - lo) if hi > lo else 0.0)
    return out


def _span_seconds(f: Any) -> float:
    return float((f.upper_ts - f.lower_ts).total_seconds())


def _skewed_range(lo: float, hi: float) -> bool:
    """Log-spaced bins for non-negative ranges >= 1000 wide spanning two orders of magnitude (public rule)."""
    return lo >= 0 and hi - lo >= 1000 and (hi - lo) / max(lo, 1.0) >= 100
