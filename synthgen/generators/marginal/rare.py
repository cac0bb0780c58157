"""Rare declared categories of a high-cardinality categorical, merged into one "other" cell by noisy counts.

Which columns: categorical columns with more than ``max_categories`` DECLARED categories (a schema fact). What is
released, and what it costs (zCDP, add/remove one row): per such column, ONE noisy histogram over its declared
categories (plus the null cell of a nullable column), drawn with the fine histograms of :mod:`.edges` in the same
pass and the same way (the private holder's Gaussian mechanism, L2 sensitivity 1: each row is in one cell), for
``fine_share * rho_column`` of the column's one-way part (the rest buys its one-way marginal over the merged cells,
:mod:`.aim`), charged to the fit's budget before it is drawn.

Everything after is post-processing of that release and public thresholds: the categories kept as cells of their
own are the at most ``max_categories - 1`` with the largest noisy counts among those clearing
``KEEP_SIGMAS * sigma`` (the noise sd of the release); the others share one "other" cell, which decodes back to one
of them in proportion to its noisy count, counts below ``RARE_SIGMAS * sigma`` taken as 0 (else the many declared
categories no row holds, each clipped noise of mean ``0.4 sigma``, would take most of the draws); when no rare count
clears it, in proportion to the noisy counts clipped at 0, and uniformly when none is positive. So the domain's
size depends on the data only through the noisy counts, and a declared category seen in no row can still be drawn.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

KEEP_SIGMAS = 3.0  # a category keeps its own cell only if its noisy count clears this many noise sds
RARE_SIGMAS = 2.0  # a rare category's noisy count below this many noise sds decodes as 0 (see the docstring)


@dataclass(frozen=True)
class RareMerge:
    """A column whose rare declared categories are merged (public: the declared count exceeds ``max_categories``)."""

    max_categories: int


def rare_merge(codec: Any, max_categories: int) -> RareMerge | None:
    """The merge plan of one column from its declared domain, or None."""
    if codec.kind != "categorical" or codec.n_values <= max_categories:
        return None
    return RareMerge(int(max_categories))


def merged_codec(codec: Any, merge: RareMerge, noisy: np.ndarray, sigma: float) -> Any:
    """The column's codec with its rare categories in one "other" cell (post-processing of ``noisy``, the noisy
    counts of the declared categories in declared order)."""
    noisy = np.asarray(noisy, dtype=np.float64)
    order = np.argsort(-noisy, kind="stable")
    keep = sorted(int(i) for i in order[:merge.max_categories - 1] if noisy[i] >= KEEP_SIGMAS * sigma)
    kept = set(keep)
    rare = [i for i in range(len(noisy)) if i not in kept]
    w = np.maximum(noisy[rare], 0.0)
    w = np.where(w >= RARE_SIGMAS * sigma, w, 0.0) if (w >= RARE_SIGMAS * sigma).any() else w
    return dataclasses.replace(codec, grid=tuple(codec.grid[i] for i in keep), rare=tuple(codec.grid[i] for i in rare),
                               rare_weights=tuple(float(v) for v in w))


def draw_rare(codec: Any, n: int, rng: np.random.Generator, allowed: list | None = None) -> np.ndarray:
    """``n`` rare categories in proportion to their clipped noisy counts (among ``allowed`` when given)."""
    labels = list(codec.rare)
    w = np.asarray(codec.rare_weights, dtype=np.float64)
    if allowed is not None:
        w = np.where([lab in allowed for lab in labels], w, 0.0)
        if w.sum() <= 0:
            w = np.array([1.0 if lab in allowed else 0.0 for lab in labels])
    w = w if w.sum() > 0 else np.ones(len(labels))
    out = np.empty(n, dtype=object)
    out[:] = [labels[i] for i in rng.choice(len(labels), size=n, p=w / w.sum())] if n else []
    return out
