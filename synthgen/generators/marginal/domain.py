"""The discrete domain of dp-marginal, from the DECLARED schema only (no budget, no private value).

Every learnable column becomes one :class:`ColumnCodec`: declared categories (booleans: False, True) one cell each;
integer and date columns with at most ``max_discrete`` values in their declared range one cell per value; other
numeric and datetime columns ``n_bins`` equal-width bins over the declared bounds (log-spaced bins for skewed declared
bounds, as dp-copula decides: ``lower > 0`` and ``upper / lower >= 100``, or ``lower == 0`` and ``upper >= 1e4``);
a nullable column adds a last null cell. The domain is a function of the schema and the parameters, so it is the
same for any data set (a value never seen in the data but inside the declared bounds is representable).

With ``bins="dp-quantile"`` the linear/log bins of a column are replaced after a noisy fine histogram is released
(:mod:`.edges`, which holds that privacy argument): the codec then also keeps the public fine grid (``fine``,
``points``), the model bins as fine-cell boundaries (``cuts``, so ``grid`` is ``fine[cuts]``) and the noisy fine
value counts clipped at 0 (``shape``); their count, hence the domain's sizes, is unchanged.

Encoding rows to cell codes is a row-wise map (who reads rows is :mod:`.private`'s business); decoding turns cell
codes of synthetic rows back into values (post-processing, seeded by ``random_state``): uniformly within a bin, or,
with a fine shape, a fine cell drawn in proportion to the shape and a value uniform within it (a bin that is one
fine cell with a public point decodes to the point; a cell holding released heaps, :mod:`.heaps`, mostly to one of
them); integers rounded into the bin or cell. A high-cardinality
categorical may share one "other" cell among its rare declared categories (:mod:`.rare`: ``rare``,
``rare_weights``), decoded back to one of them by their noisy counts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ...schema.times import day_of, from_days, to_floats
from .heaps import heaped
from .rare import draw_rare

SCALES = ("categorical", "discrete", "linear", "log")


@dataclass(frozen=True)
class ColumnCodec:
    """Cells of one column: ``grid`` holds the category labels (categorical), the values (discrete) or the bin
    edges (linear/log); ``nullable`` adds a last null cell. ``kind`` and ``integral`` say how to decode."""

    name: str
    kind: str  # numeric | datetime | categorical | boolean
    scale: str
    grid: tuple
    nullable: bool
    integral: bool = False
    fine: tuple = ()  # DP bins only: public fine-grid edges,
    cuts: tuple = ()  # the model bins' boundaries as fine-cell indices,
    shape: tuple = ()  # the noisy fine value counts clipped at 0,
    points: tuple = ()  # and each fine cell's public point (NaN: none)
    rare: tuple = ()  # merged categories only: the declared categories sharing the "other" cell,
    rare_weights: tuple = ()  # and their noisy counts clipped at 0 (:mod:`.rare`)
    heaps: tuple = ()  # DP bins only: exact values released by thresholded noisy counts (:mod:`.heaps`),
    heap_shares: tuple = ()  # and each one's share of its fine cell's draws

    @property
    def n_values(self) -> int:
        return len(self.grid) - 1 if self.scale in ("linear", "log") else len(self.grid) + int(bool(self.rare))

    @property
    def size(self) -> int:
        return self.n_values + int(self.nullable)

    def encode(self, s: pd.Series) -> np.ndarray:
        """Cell code of every row (nulls: the null cell). A row-wise map of values already in the schema."""
        if self.kind in ("numeric", "datetime"):
            x = to_floats(s, self.kind)
            null = np.isnan(x)
            grid = np.asarray(self.grid, dtype=np.float64)
            x = np.where(null, grid[0], x)
            if self.scale == "discrete":
                idx = np.rint(x - grid[0]).astype(np.int64)
            else:
                idx = np.searchsorted(grid, x, side="right") - 1
            idx = np.clip(idx, 0, self.n_values - 1)
        elif self.kind == "boolean":
            b = s.astype("boolean").to_numpy(dtype=np.float64, na_value=np.nan)
            null = np.isnan(b)
            idx = np.where(null, 0, b).astype(np.int64)
        else:
            idx = pd.Categorical(s, categories=list(self.grid) + list(self.rare)).codes.astype(np.int64)
            null = idx < 0
            idx = np.minimum(idx, len(self.grid))  # a rare category: the "other" cell
        return np.where(null, self.n_values, idx) if self.nullable else np.maximum(idx, 0)

    def decode(self, codes: np.ndarray, rng: np.random.Generator, allowed: list | None = None) -> pd.Series:
        """Values of synthetic cell codes (see the module docstring); ``allowed``: the rare categories the "other"
        cell may decode to (conditional sampling), default all."""
        codes = np.asarray(codes, dtype=np.int64)
        null = codes >= self.n_values
        c = np.minimum(codes, self.n_values - 1)
        if self.scale == "categorical":
            labels = [False, True] if self.kind == "boolean" else list(self.grid) + [None] * bool(self.rare)
            vals = np.array(labels, dtype=object)[c]
            other = (c == len(self.grid)) & ~null if self.rare else np.zeros(len(c), dtype=bool)
            vals[other] = draw_rare(self, int(other.sum()), rng, allowed)
            vals[null] = None
            return pd.Series(vals, name=self.name, dtype="boolean" if self.kind == "boolean" else object)
        grid = np.asarray(self.grid, dtype=np.float64)
        if self.scale == "discrete":
            x = grid[c]
        elif self.fine:
            x = self._decode_fine(c, rng)
        else:
            x = _within(grid[c], grid[c + 1], rng, self.integral)
        x[null] = np.nan
        if self.kind == "datetime":
            return from_days(x, null).rename(self.name)
        return pd.Series(x, name=self.name)

    def _decode_fine(self, c: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Fine cell by the noisy shape within each model bin, then a value within the cell (see the docstring)."""
        fine, cuts = np.asarray(self.fine, dtype=np.float64), np.asarray(self.cuts, dtype=np.int64)
        shape, points = np.asarray(self.shape, dtype=np.float64), np.asarray(self.points, dtype=np.float64)
        cell = np.empty(len(c), dtype=np.int64)
        u = rng.random(len(c))
        for b in np.unique(c):
            rows = c == b
            lo, hi = cuts[b], cuts[b + 1]
            w = shape[lo:hi] if shape[lo:hi].sum() > 0 else np.diff(fine[lo:hi + 1])
            cdf = np.cumsum(w) / w.sum()
            cell[rows] = lo + np.minimum(np.searchsorted(cdf, u[rows], side="right"), hi - lo - 1)
        x = _within(fine[cell], fine[cell + 1], rng, self.integral)
        alone = (cuts[c + 1] - cuts[c] == 1) & np.isfinite(points[cell])
        return heaped(np.where(alone, points[np.minimum(cell, len(points) - 1)], x), cell, self, rng)

    def to_json(self) -> dict:
        grid = [str(g) for g in self.grid] if self.scale == "categorical" else [float(g) for g in self.grid]
        out = {"name": self.name, "kind": self.kind, "scale": self.scale, "grid": grid,
               "nullable": self.nullable, "integral": self.integral}
        if self.rare:
            out.update(rare=[str(g) for g in self.rare], rare_weights=list(self.rare_weights))
        if self.fine:
            out.update(fine=list(self.fine), cuts=list(self.cuts), shape=list(self.shape),
                       points=[p if math.isfinite(p) else None for p in self.points])
        if self.heaps:
            out.update(heaps=list(self.heaps), heap_shares=list(self.heap_shares))
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any], field: Any = None) -> "ColumnCodec":
        grid, rare = tuple(d["grid"]), tuple(d.get("rare", ()))
        if d["scale"] == "categorical" and field is not None and field.kind == "categorical":
            declared = {str(c): c for c in field.categories}  # the declared labels, with their declared types
            grid = tuple(declared[g] for g in grid) if rare else tuple(field.categories)
            rare = tuple(declared[g] for g in rare)
        fine: dict = {"rare": rare, "rare_weights": tuple(float(w) for w in d.get("rare_weights", ()))}
        if d.get("fine"):
            fine |= {"fine": tuple(float(e) for e in d["fine"]), "cuts": tuple(int(i) for i in d["cuts"]),
                    "shape": tuple(float(v) for v in d["shape"]),
                    "points": tuple(float("nan") if p is None else float(p) for p in d["points"]),
                    "heaps": tuple(float(v) for v in d.get("heaps", ())),
                    "heap_shares": tuple(float(v) for v in d.get("heap_shares", ()))}
        return cls(d["name"], d["kind"], d["scale"], grid, bool(d["nullable"]), bool(d.get("integral", False)),
                   **fine)


def _within(lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator, integral: bool) -> np.ndarray:
    """A value uniform in ``[lo, hi)`` per row; integers: the floor, kept among the whole values of the range."""
    x = lo + rng.random(len(lo)) * (hi - lo)
    if integral:
        x = np.clip(np.floor(x), np.ceil(lo), np.maximum(np.ceil(lo), np.ceil(hi) - 1))
    return x


def _uses_log(lo: float, hi: float, kind: str, log_bins: Any, name: str) -> bool:
    if log_bins is True or (isinstance(log_bins, (list, tuple, set)) and name in log_bins):
        return True
    return (log_bins == "auto" and kind == "numeric"
            and ((lo > 0 and hi / lo >= 100) or (lo == 0 and hi >= 1e4)))


def column_codec(f: Any, n_bins: int, max_discrete: int, log_bins: Any = "auto") -> ColumnCodec:
    """The cells of one declared field (public inputs only)."""
    nullable = bool(f.nullable)
    if f.kind == "boolean":
        return ColumnCodec(f.name, "boolean", "categorical", (False, True), nullable)
    if f.kind == "categorical":
        return ColumnCodec(f.name, "categorical", "categorical", tuple(f.categories), nullable)
    if f.kind == "numeric":
        lo, hi, integral = float(f.lower), float(f.upper), bool(f.integer)
    else:
        lo, hi, integral = day_of(f.lower_ts), day_of(f.upper_ts), bool(f.date_only)
    if integral and math.floor(hi) - math.ceil(lo) + 1 <= max_discrete:
        values = tuple(float(v) for v in np.arange(math.ceil(lo), math.floor(hi) + 1))
        return ColumnCodec(f.name, f.kind, "discrete", values, nullable, True)
    if _uses_log(lo, hi, f.kind, log_bins, f.name):
        shift = 0.0 if lo > 0 else hi / 1e4
        edges, scale = np.geomspace(lo + shift, hi + shift, n_bins + 1) - shift, "log"
    else:
        edges, scale = np.linspace(lo, hi, n_bins + 1), "linear"
    edges[0], edges[-1] = lo, hi
    return ColumnCodec(f.name, f.kind, scale, tuple(float(e) for e in edges), nullable, integral)


def make_domain(schema: Any, n_bins: int, max_discrete: int, log_bins: Any = "auto") -> tuple[ColumnCodec, ...]:
    """The codecs of every learnable column, in schema order."""
    return tuple(column_codec(f, n_bins, max_discrete, log_bins) for f in schema.learnable)


def encode_table(table: pd.DataFrame, codecs: tuple[ColumnCodec, ...]) -> np.ndarray:
    """(n, d) int64 cell codes of a validated table (a row-wise map)."""
    if not codecs:
        return np.zeros((len(table), 0), dtype=np.int64)
    return np.stack([c.encode(table[c.name]) for c in codecs], axis=1).astype(np.int64)


def decode_table(codes: Mapping[str, np.ndarray], codecs: tuple[ColumnCodec, ...], rng: np.random.Generator,
                 allowed: Mapping[str, list] | None = None) -> pd.DataFrame:
    """``allowed``: per column, the rare categories its "other" cell may decode to (conditional sampling)."""
    allowed = allowed or {}
    return pd.DataFrame({c.name: c.decode(codes[c.name], rng, allowed.get(c.name)).to_numpy() for c in codecs})
