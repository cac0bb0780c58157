"""Marginals of a fitted model for the selection step, in numpy (post-processing of noisy releases only).

AIM scores every candidate clique against the current model's marginal of it. mbi answers such out-of-model
queries with JAX variable elimination (``MarkovRandomField.project``, ``calculate_many_marginals``); run eagerly on a
new model structure every round, those compile each small op afresh: measured 68 s (``calculate_many_marginals``)
and 111 s (``project`` per pair) for the 105 pairs of a 15-column model on this 2-core machine, against
milliseconds for the same answers here (equal to 1e-10). So this module holds the one piece of inference done
outside mbi: plain variable elimination over the model's log-potentials (numpy arrays), plus the independence model
of the first round (products of the noisy one-way marginals). A query whose elimination would build a factor of
more than ``MAX_CELLS`` cells (wide tables: a 54-column model asked for 112 GiB) is answered by the product of the
model's own one-way marginals instead: an approximation of the selection's score only, computed from the fitted
model (post-processing), so the privacy argument is unchanged.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

Clique = tuple[str, ...]
#: Largest intermediate factor (cells) exact elimination may build; beyond it, see the module docstring.
MAX_CELLS = 2_000_000


class _TooLarge(Exception):
    """Exact elimination of a query would exceed ``MAX_CELLS``."""


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(x - m), axis=axis))


def _expand(attrs: Clique, values: np.ndarray, target: Clique, sizes: Mapping[str, int]) -> np.ndarray:
    """``values`` over ``attrs`` broadcast to the axis order of ``target`` (a superset)."""
    order = [attrs.index(a) for a in target if a in attrs]
    v = np.transpose(values, order) if len(order) > 1 else values
    shape = [sizes[a] if a in attrs else 1 for a in target]
    return v.reshape(shape)


def _combine(factors: list[tuple[Clique, np.ndarray]], sizes: Mapping[str, int]) -> tuple[Clique, np.ndarray]:
    attrs: list[str] = []
    for a, _ in factors:
        attrs += [x for x in a if x not in attrs]
    target = tuple(attrs)
    total = np.zeros([1] * len(target))
    for a, v in factors:
        total = total + _expand(a, v, target, sizes)
    return target, np.broadcast_to(total, [sizes[x] for x in target])


def _elimination_order(cliques: Sequence[Clique], query: Clique, sizes: Mapping[str, int]) -> list[str]:
    """Greedy min-size order of the variables outside ``query``: each step eliminates the variable whose factor
    (its current neighbourhood, itself included) has the fewest cells, the first such in name order. Eliminating
    ``z`` joins its neighbours (their new neighbourhood is the union with ``z``'s, less ``z``), so only their costs
    change; kept per variable instead of re-read off every factor. Raises :class:`_TooLarge` past ``MAX_CELLS``."""
    hood: dict[str, set[str]] = {}
    for c in cliques:
        for a in c:
            hood.setdefault(a, set()).update(c)
    elim = sorted(set(hood) - set(query))
    cost = {z: math.prod(sizes[a] for a in hood[z]) for z in elim}  # Python ints: int64 overflows at 16 x 32 cells
    order: list[str] = []
    while elim:
        z = min(elim, key=cost.__getitem__)
        if cost[z] > MAX_CELLS:
            raise _TooLarge(query)
        elim.remove(z)
        order.append(z)
        joined = hood.pop(z) - {z}
        for u in joined:
            hood[u] = (hood[u] | joined) - {z}
            if u in cost:
                cost[u] = math.prod(sizes[a] for a in hood[u])
    return order


def marginal(potentials: Mapping[Clique, np.ndarray], query: Clique, sizes: Mapping[str, int], total: float
             ) -> np.ndarray:
    """The model's marginal over ``query`` (cells in ``query`` order), scaled to ``total``: greedy min-size
    variable elimination over log-potentials."""
    factors = [(tuple(c), np.asarray(v, dtype=np.float64)) for c, v in potentials.items()]
    for z in _elimination_order([c for c, _ in factors], query, sizes):
        inside = [f for f in factors if z in f[0]]
        factors = [f for f in factors if z not in f[0]]
        attrs, v = _combine(inside, sizes)
        axis = attrs.index(z)
        factors.append((attrs[:axis] + attrs[axis + 1:], _logsumexp(v, axis)))
    attrs, v = _combine(factors, sizes) if factors else ((), np.zeros(()))
    missing = tuple(a for a in query if a not in attrs)
    log = _expand(attrs + missing, np.broadcast_to(v.reshape(v.shape + (1,) * len(missing)),
                                                   v.shape + tuple(sizes[a] for a in missing)), tuple(query), sizes)
    log = np.broadcast_to(log, [sizes[a] for a in query])
    p = np.exp(log - np.max(log))
    return p / p.sum() * float(total)


def many_marginals(potentials: Mapping[Clique, np.ndarray], beliefs: Mapping[Clique, np.ndarray],
                   queries: Sequence[Clique], sizes: Mapping[str, int], total: float) -> list[np.ndarray]:
    """Marginals over each query; a query inside a clique whose marginal the model holds (``beliefs``) is a sum
    over that marginal, the others come from variable elimination over the potentials."""
    out = []
    for q in queries:
        holder = next((c for c in beliefs if set(q) <= set(c)), None)
        if holder is None:
            try:
                out.append(marginal(potentials, q, sizes, total))
            except _TooLarge:
                out.append(_product_of_oneways(beliefs, q, sizes, total))
            continue
        b = np.asarray(beliefs[holder], dtype=np.float64)
        summed = b.sum(axis=tuple(i for i, a in enumerate(holder) if a not in q))
        kept = tuple(a for a in holder if a in q)
        out.append(np.transpose(summed, [kept.index(a) for a in q]) if len(q) > 1 else summed)
    return out


def independent_marginals(oneways: Mapping[str, np.ndarray], queries: Sequence[Clique], total: float
                          ) -> list[np.ndarray]:
    """Marginals of the independence model whose one-way marginals are ``oneways`` (non-negative, any scale)."""
    out = []
    for q in queries:
        p = np.ones(())
        for a in q:
            w = np.maximum(np.asarray(oneways[a], dtype=np.float64), 0.0)
            w = w / w.sum() if w.sum() > 0 else np.full(w.shape, 1.0 / w.size)
            p = np.multiply.outer(p, w)
        out.append(p * float(total))
    return out


def _product_of_oneways(beliefs: Mapping[Clique, np.ndarray], query: Clique, sizes: Mapping[str, int],
                        total: float) -> np.ndarray:
    """The model's one-way marginals of ``query``'s columns (from any clique that holds each; uniform for a column
    the model does not hold), multiplied out and scaled to ``total``."""
    ones = {}
    for a in query:
        holder = next((c for c in beliefs if a in c), None)
        if holder is None:
            ones[a] = np.ones(sizes[a])
            continue
        b = np.asarray(beliefs[holder], dtype=np.float64)
        ones[a] = b.sum(axis=tuple(i for i, x in enumerate(holder) if x != a))
    return independent_marginals(ones, [tuple(query)], total)[0]
