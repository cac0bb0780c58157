"""Statistics that merge: what one partition of a table contributes to a fit, and how two contributions combine.

A fit statistic here is a dict of named parts, each a numpy array (counts, fixed-bin histograms, exact Gram
sums: merged by ``+``) or a :class:`ValueCounts` (the distinct values of a column and their counts: merged by
union). Merging is exact, associative and commutative, so the merged statistic of a table does not depend on how
its rows are split into partitions, nor on the order in which partitions are reduced: a fit over one in-memory
partition and a fit over a thousand Dask partitions see the same numbers, bit for bit.

Gram matrices are summed in fixed point for that reason (:func:`exact_gram`): floating-point sums depend on the
order of the additions. Each row vector is rounded onto the grid ``2^-s`` and the integer products are summed
exactly. Rounding moves a row by at most :func:`grid_margin` in L2, so a DP caller that clips rows to
``bound - grid_margin(bound, d)`` keeps every rounded row within ``bound`` (the sensitivity of its release).
No privacy noise is drawn here; nothing here leaves a generator without going through its measure step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

Stats = dict[str, Any]

CHUNK_ROWS = 1 << 17  # rows per exact block: 2^17 rows x 2^35 per row < 2^53 (float64 integers stay exact)
_ROW_BITS = 35  # a rounded row's squared norm (in grid units) is at most 2^35


@dataclass(frozen=True)
class ValueCounts:
    """Distinct (sorted) values of a column and how many rows hold each; ``a + b`` is the union."""

    values: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray) -> "ValueCounts":
        uniq, cnt = np.unique(np.asarray(x, dtype=np.float64), return_counts=True)
        return cls(uniq, cnt.astype(np.int64))

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def __add__(self, other: "ValueCounts") -> "ValueCounts":
        values = np.concatenate([self.values, other.values])
        uniq, inv = np.unique(values, return_inverse=True)
        counts = np.zeros(len(uniq), dtype=np.int64)
        np.add.at(counts, inv, np.concatenate([self.counts, other.counts]))
        return ValueCounts(uniq, counts)


def merge(*parts: Mapping[str, Any]) -> Stats:
    """Merge partition statistics (key by key; a key missing from one part counts as zero there)."""
    out: Stats = {}
    for p in parts:
        for k, v in p.items():
            out[k] = v if k not in out else out[k] + v
    return out


def reduce_rows(table: Any, fn: Callable[..., Stats], *args: Any) -> Stats:
    """``fn(partition, *args)`` over every partition of ``table``, merged. An in-memory DataFrame is one partition;
    a :class:`~synthgen.scale.frames.PartitionedTable` (a validated Dask frame) reduces on its scheduler."""
    if isinstance(table, pd.DataFrame):
        return merge(fn(table, *args))
    return table.reduce(fn, *args)


# ------------------------------------------------------------------------------------------- exact Gram sums
def gram_shift(bound: float) -> int:
    """Fixed-point bits ``s`` such that a row of L2 norm <= ``bound`` has squared norm <= 2^35 on the grid."""
    b2 = max(float(bound) ** 2, 1e-12)
    return int(min(30, max(0, math.floor((_ROW_BITS - math.log2(b2)) / 2))))


def grid_margin(bound: float, d: int) -> float:
    """The most a row of ``d`` entries moves in L2 when rounded onto the grid of :func:`exact_gram`."""
    return math.sqrt(max(int(d), 1)) * 2.0 ** -(gram_shift(bound) + 1)


def exact_gram(x: np.ndarray, bound: float) -> np.ndarray:
    """``sum_r m_r m_r^T`` with ``m_r = rint(x_r 2^s)`` as exact Python integers (object array).

    Every row of ``x`` must have L2 norm at most ``bound - grid_margin(bound, d)``. Blocks of
    :data:`CHUNK_ROWS` rows are multiplied in float64, which is exact since every partial sum is an integer below
    2^53; blocks are summed in int64 and returned as Python integers, so partition results merge exactly.
    """
    x = np.asarray(x, dtype=np.float64)
    s = gram_shift(bound)
    d = x.shape[1]
    total = np.zeros((d, d), dtype=np.int64).astype(object)
    acc = np.zeros((d, d), dtype=np.int64)
    scale = float(2**s)
    for i, start in enumerate(range(0, x.shape[0], CHUNK_ROWS)):
        m = np.rint(x[start:start + CHUNK_ROWS] * scale)
        acc += np.rint(m.T @ m).astype(np.int64)
        if i % 2048 == 2047:  # int64 holds 4096 blocks: hand over to Python integers before it could overflow
            total, acc = total + acc.astype(object), np.zeros_like(acc)
    return total + acc.astype(object)


def gram_value(exact: np.ndarray, bound: float) -> np.ndarray:
    """The float64 Gram matrix of an :func:`exact_gram` sum (each entry correctly rounded)."""
    denom = 4 ** gram_shift(bound)
    d = exact.shape[0]
    return np.array([[int(exact[i, j]) / denom for j in range(d)] for i in range(d)], dtype=np.float64).reshape(d, d)
