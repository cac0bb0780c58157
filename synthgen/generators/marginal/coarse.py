"""Coarse marginals: a clique measured over merged runs of its numeric columns' model cells.

A pair of 32-bin numeric columns has 1,024 cells; AIM's selection penalises a candidate by the noise its measurement
would carry over all of them (``sqrt(2/pi) sigma n_r``), so at epsilon <= 1 on tables of tens of thousands of rows no
numeric pair is ever picked and the synthetic columns come out independent (a 0.91 correlation released as 0.0). A
coarse candidate measures the same clique with every binned (linear/log) numeric axis merged into at most ``cells``
groups of consecutive model cells (one-cell-per-value integer codes keep their cells; a nullable column's null cell
stays its own group): 8 x 8 cells carry the pair's dependence at a sixteenth of the noise, and the model keeps its
fine bins (the one-way marginals and other measurements still resolve them). The selection scores both versions of a
clique.

Privacy: each row lies in exactly one cell of the merged marginal as of the full one, so its L2 sensitivity is 1
and a coarse measurement costs what a full one does (:mod:`.private` draws it); the maps are functions of the
domain's sizes only. Estimation reads a coarse measurement through :class:`CoarseQuery` (mbi's linear-query
interface: the model's clique marginal, summed over the same groups).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

Clique = tuple[str, ...]
Maps = tuple[tuple[int, ...], ...]  # per attribute of the clique: coarse cell of each model cell


def axis_map(size: int, n_values: int, cells: int) -> tuple[int, ...] | None:
    """Coarse cell of each of a column's ``size`` cells: value cells in groups of ``ceil(n_values / cells)``,
    the null cell (if any) alone at the end; None when nothing merges."""
    g = math.ceil(n_values / cells)
    if g <= 1:
        return None
    groups = [i // g for i in range(n_values)]
    return tuple(groups + [groups[-1] + 1] * (size - n_values))


def coarse_maps(clique: Clique, codecs: Mapping[str, Any], cells: int | None) -> Maps | None:
    """Maps of the coarse version of ``clique`` (numeric/datetime axes merged), or None if it has none."""
    if cells is None or len(clique) < 2:
        return None
    maps, merged = [], False
    for a in clique:
        c = codecs[a]
        m = axis_map(c.size, c.n_values, cells) if c.scale in ("linear", "log") else None
        merged |= m is not None
        maps.append(m if m is not None else tuple(range(c.size)))
    return tuple(maps) if merged else None


def coarse_shape(maps: Maps) -> tuple[int, ...]:
    return tuple(max(m) + 1 for m in maps)


def _onehot(m: tuple[int, ...]) -> np.ndarray:
    """(cells, coarse cells) 0/1 matrix of one axis map."""
    out = np.zeros((len(m), max(m) + 1))
    out[np.arange(len(m)), m] = 1.0
    return out


def aggregate(counts: np.ndarray, maps: Maps) -> np.ndarray:
    """Flat (C order) coarse counts of a clique's flat full counts (numpy; exact or noisy alike)."""
    x = np.asarray(counts, dtype=np.float64).reshape(tuple(len(m) for m in maps))
    for axis, m in enumerate(maps):
        x = np.moveaxis(np.tensordot(x, _onehot(m), axes=([axis], [0])), -1, axis)
    return x.ravel()


def coarse_index(cells: np.ndarray, full_shape: Sequence[int], maps: Maps) -> np.ndarray:
    """Coarse flat index of full flat cell indices."""
    idx = np.unravel_index(np.asarray(cells, dtype=np.int64), tuple(full_shape))
    coarse = [np.asarray(m, dtype=np.int64)[i] for m, i in zip(maps, idx)]
    return np.ravel_multi_index(coarse, coarse_shape(maps))


@dataclass(frozen=True)
class CoarseQuery:
    """mbi linear query: a clique marginal (a ``mbi.Factor`` in the clique's attribute order) summed over the
    groups of ``maps``, flattened in C order."""

    maps: Maps

    def __call__(self, f: Any) -> Any:
        import jax.numpy as jnp

        x = f.datavector(flatten=False)
        for axis, m in enumerate(self.maps):
            x = jnp.moveaxis(jnp.tensordot(x, jnp.asarray(_onehot(m)), axes=([axis], [0])), -1, axis)
        return x.reshape(-1)

    def op_norm_sq(self) -> float:
        """||Q||^2 of a 0/1 summation: the largest number of full cells in one coarse cell."""
        return float(np.prod([np.bincount(np.asarray(m)).max() for m in self.maps]))
