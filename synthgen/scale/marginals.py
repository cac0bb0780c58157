"""Exact marginals of a partitioned table, for measure steps that answer marginal queries (dp-marginal's AIM).

:func:`marginals_partition` maps one partition to cell codes over the PUBLIC domain (the caller's codecs) and
counts every requested clique (the 0-way total, the 1-ways and the plan's public candidate cliques) with
``bincount``; the counts merge by summation (:mod:`.stats`), so :func:`exact_marginals` over any partitioning of
the rows gives the same exact counts, bit for bit, as counting the whole table at once. These are private values:
they belong inside the generator's private holder (e.g. ``PrivateMarginals``), which releases only noisy answers;
nothing here adds noise or leaves the fit. Memory: the sum of the cliques' cell counts, on the client and on each
worker, instead of the ``n x d`` code matrix.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .stats import Stats, reduce_rows

Clique = tuple[str, ...]


def clique_key(clique: Clique) -> str:
    return "m:" + "\x1f".join(clique)


def marginals_partition(df: pd.DataFrame, codecs: Sequence[Any], cliques: Sequence[Clique]) -> Stats:
    """Exact counts of every clique over one partition (C order over the clique's cells; ``()`` is the count)."""
    index = {c.name: i for i, c in enumerate(codecs)}
    sizes = {c.name: int(c.size) for c in codecs}
    codes = {c.name: np.asarray(c.encode(df[c.name]), dtype=np.int64) for c in codecs} if len(df) else \
        {c.name: np.zeros(0, dtype=np.int64) for c in codecs}
    out: Stats = {}
    for clique in cliques:
        clique = tuple(clique)
        if not clique:
            out[clique_key(clique)] = np.array([len(df)], dtype=np.int64)
            continue
        shape = tuple(sizes[a] for a in clique)
        cols = [codes[a] for a in clique if a in index]
        flat = np.ravel_multi_index(cols, shape) if len(cols) > 1 else cols[0]
        out[clique_key(clique)] = np.bincount(flat, minlength=int(np.prod(shape))).astype(np.int64)
    return out


def exact_marginals(table: Any, codecs: Sequence[Any], cliques: Sequence[Clique]) -> dict[Clique, np.ndarray]:
    """``{clique: exact counts}`` of an in-memory table or a validated Dask frame, one merged pass."""
    wanted = tuple(dict.fromkeys(tuple(c) for c in cliques))
    merged = reduce_rows(table, marginals_partition, tuple(codecs), wanted)
    return {c: merged[clique_key(c)].astype(np.float64) for c in wanted}
