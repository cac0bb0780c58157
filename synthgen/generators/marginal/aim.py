"""The AIM-style loop of dp-marginal: what is measured, in which order, and what each step costs (zCDP).

Given the public :class:`AIMPlan` (columns, candidate cliques and their weights, shares, round counts) and the
:class:`~.private.PrivateMarginals` holder (the only reader of rows), :func:`run_aim` spends the zCDP budget ``rho``
(from the (epsilon, delta) target) as follows, and never more (every spend goes through a
:class:`~synthgen.privacy.accountants.ZCDPBudget`, which refuses to exceed ``rho``):

1. ``oneway_share * rho`` on the columns, equal parts ``rho_column``: one noisy one-way marginal per column; a
   column with DP bin edges (:mod:`.edges`, released before this loop and charged to the same budget) spent
   ``fine_share * rho_column`` of its part on its noisy fine histogram, and its one-way marginal gets the rest.
2. Rounds of selection and measurement. A round with ``k`` picks gives each pick ``rho_pick = remaining / picks
   left`` (the last round: exactly the remainder): a tenth to the exponential-mechanism selection (AIM's quality
   score against the current model, :meth:`~.private.PrivateMarginals.select`), nine tenths to the Gaussian
   measurement of the picked clique. Every candidate with a numeric column is also offered coarse (:mod:`.coarse`: its
   numeric axes merged to ``coarse_cells`` groups, the same cost, far less noise per cell); both versions are scored
   and either may be picked (each at most once). Within a round the picks are scored against the same model (one
   estimation per round: each new model structure costs one XLA compilation, which dominates the run time on CPU).
3. After each round the model is re-estimated (mbi mirror descent, warm-started); the last round's estimate is the
   full solve (at most ``final_iters``, stopping early at ``final_tol``: a stop read off the loss on the noisy
   measurements, post-processing). Sigma annealing (AIM): when most of a round's picks barely moved the model
   (``||M_r(new) - M_r(old)||_1 <= sqrt(2/pi) sigma n_r``), the planned picks left are halved, so each later pick
   gets more budget. A time budget turns the next round into the last one. Intermediate estimates of small models
   (``LIGHT_COMPILE_MB``) compile with XLA's optimizations mostly off: their time is compilation, not iterations.
4. If no candidate fits the model-size cap (or there is none), the rest of the budget re-measures the one-way
   marginals, so the budget is always spent in full.

The candidates' model answers come from models estimated from noisy releases only (:mod:`.inference`), so the
quality scores are the only place where true marginals meet the model, inside the private holder.
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...privacy.accountants import ZCDPBudget
from ...privacy.analysis import gaussian_sigma
from ..base import Plan
from .coarse import Maps, aggregate, coarse_maps
from .inference import independent_marginals, many_marginals
from .model import FittedModel, estimate, model_size_mb
from .private import Measurement, PrivateMarginals

Clique = tuple[str, ...]
Query = tuple[Clique, Maps]  # a candidate clique and its merge maps (() = full resolution): :mod:`.coarse`
SELECTION_SHARE = 0.1  # of each pick's budget; the rest measures the pick
#: Intermediate estimates of models up to this size compile with XLA's optimizations mostly off (:func:`estimate`'s
#: ``light``): their time is compilation (nhefs, 65 columns, <= 0.03 MB: ~40 s per new model, 0.9 s per 100 steps;
#: light 45 -> 32 s). Larger ones showed no gain: diamonds' first round (several MB) 9.1 -> 12.3 s, polls' (0.3 MB)
#: 16-19 -> 13-17 s within its fit-to-fit spread.
LIGHT_COMPILE_MB = 0.1


@dataclass(frozen=True)
class AIMPlan(Plan):
    """Public decisions of a dp-marginal fit (from parameters and the declared schema only)."""

    codecs: tuple
    candidates: tuple[Clique, ...]
    weights: tuple[float, ...]
    oneway_share: float
    picks: int
    rounds: int
    max_model_size_mb: float
    round_iters: int
    final_iters: int
    time_budget_s: float | None
    verbose: bool
    grids: tuple = ()  # per column: its public fine grid (:class:`~.edges.FineGrid`) or None (no DP edges)
    fine_share: float = 0.0
    coarse_cells: int | None = None  # numeric axes of a coarse candidate merged to at most this many cells
    final_tol: float | None = None  # the full solve stops early at this relative loss improvement (:func:`estimate`)
    heaps: tuple = ()  # per column: whether it releases its heaped values (:mod:`.heaps`)

    def oneway_part(self, i: int) -> float:
        """Share of column ``i``'s one-way part left for its one-way marginal (the rest bought its fine histogram)."""
        return 1.0 - self.fine_share if self.grids and self.grids[i] is not None else 1.0

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.codecs)

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(c.size for c in self.codecs)


@dataclass
class AIMResult:
    """What the loop produced: noisy measurements, the model, the noisy row total, the budget and a round log."""

    measurements: list[Measurement]
    model: FittedModel
    total: float
    budget: ZCDPBudget
    log: list[dict]


def noisy_total(oneways: list[Measurement]) -> float:
    """Inverse-variance weighted mean of the one-way marginals' noisy totals (at least 1)."""
    est = np.array([float(np.sum(m.values)) for m in oneways])
    var = np.array([m.sigma ** 2 * m.values.size for m in oneways])
    return max(1.0, float(np.sum(est / var) / np.sum(1.0 / var)))


class _Loop:
    """State of one run (see :func:`run_aim`)."""

    def __init__(self, private: PrivateMarginals, plan: AIMPlan, budget: ZCDPBudget | None = None):
        self.private, self.plan = private, plan
        self.budget = ZCDPBudget(plan.target.epsilon, plan.target.delta) if budget is None else budget
        self.sizes = dict(zip(plan.names, plan.sizes))
        self.weight = dict(zip(plan.candidates, plan.weights))
        self.measurements: list[Measurement] = []
        self.model: FittedModel | None = None
        self.log: list[dict] = []
        self.start = time.perf_counter()

    def measure(self, clique: Clique, rho: float, name: str, maps: Maps = ()) -> Measurement:
        self.budget.spend(name, rho)
        m = self.private.measure(clique, rho, maps)
        self.measurements.append(m)
        return m

    def answers(self, queries: list[Query], total: float) -> list[np.ndarray]:
        """The current model's marginal of each ``(clique, maps)`` query, merged by its maps."""
        cliques = list(dict.fromkeys(q[0] for q in queries))  # a clique's full and coarse versions: one answer
        if self.model is None:
            ones = {m.clique[0]: m.values for m in self.measurements if len(m.clique) == 1 and not m.maps}
            full = dict(zip(cliques, independent_marginals(ones, cliques, total)))
        else:
            full = dict(zip(cliques, many_marginals(self.model.potentials, self.model.beliefs, cliques, self.sizes,
                                                    total)))
        return [aggregate(full[c], maps) if maps else full[c] for c, maps in queries]

    def queries(self) -> list[Query]:
        """Every candidate clique at full resolution, and coarse where it has a numeric axis to merge."""
        codecs = {c.name: c for c in self.plan.codecs}
        out: list[Query] = []
        for c in self.plan.candidates:
            out.append((c, ()))
            maps = coarse_maps(c, codecs, self.plan.coarse_cells)
            if maps is not None:
                out.append((c, maps))
        return out

    def fits(self, cliques: list[Clique], c: Clique) -> bool:
        return model_size_mb(self.plan.names, self.plan.sizes, cliques + [c]) <= self.plan.max_model_size_mb

    def pick(self, k: int, rho_pick: float, total: float) -> list[Query]:
        """Up to ``k`` cliques by the exponential mechanism, each attempt charged ``SELECTION_SHARE * rho_pick``.

        The model-size cap is checked on the pick only (mbi's junction-tree size takes ~70 ms at 55 columns, too
        slow for every candidate): a pick over the cap is dropped (post-processing) and its unspent measurement
        share pays for further attempts; an attempt is made only while it and its measurement fit in
        ``k * rho_pick``, so a round never spends more (what is left goes to later rounds)."""
        rho_sel = SELECTION_SHARE * rho_pick
        sigma = gaussian_sigma((1.0 - SELECTION_SHARE) * rho_pick, 1.0)
        have = [m.clique for m in self.measurements]
        measured = {m.key for m in self.measurements}
        pool = [q for q in self.queries() if q not in measured]
        answers = self.answers(pool, total)
        chosen: list[Query] = []
        tries = 0
        # an attempt is made only if it and its measurement fit in the round's k * rho_pick
        while len(chosen) < k and pool and (tries + 1) * SELECTION_SHARE + (len(chosen) + 1) * (
                1.0 - SELECTION_SHARE) <= k * (1 + 1e-12):
            tries += 1
            self.budget.spend("selection", rho_sel)
            i = self.private.select(pool, answers, [self.weight[q[0]] for q in pool], rho_sel, sigma)
            q = pool.pop(i)
            answers.pop(i)
            if self.fits(have + [c for c, _ in chosen], q[0]):
                chosen.append(q)
        return chosen

    def stalled(self, new: FittedModel, chosen: list[Query], before: list[np.ndarray], sigma: float) -> bool:
        after = many_marginals(new.potentials, new.beliefs, [c for c, _ in chosen], self.sizes, new.total)
        after = [aggregate(a, q[1]) if q[1] else a for a, q in zip(after, chosen)]
        small = [float(np.abs(a - b).sum()) <= math.sqrt(2 / math.pi) * sigma * a.size
                 for a, b in zip(after, before)]
        return bool(small) and sum(small) >= 0.5 * len(small)


def _progress(plan: AIMPlan) -> Any:
    from tqdm.auto import tqdm

    show = plan.verbose and sys.stderr.isatty()
    return tqdm(total=plan.rounds, desc="dp-marginal", unit="round", disable=not show, leave=False, file=sys.stderr)


def run_aim(private: PrivateMarginals, plan: AIMPlan, budget: ZCDPBudget | None = None) -> AIMResult:
    """Run the loop described in the module docstring (``budget``: the fit's, if something was spent before)."""
    loop = _Loop(private, plan, budget)
    rho = loop.budget.rho
    d = len(plan.names)
    for i, a in enumerate(plan.names):
        loop.measure((a,), plan.oneway_share * rho / d * plan.oneway_part(i), "one-way")
    total = noisy_total(loop.measurements)
    picks_left, rounds_left = plan.picks, plan.rounds
    with _progress(plan) as bar:
        while picks_left > 0 and rounds_left > 0:
            late = plan.time_budget_s is not None and time.perf_counter() - loop.start > 0.5 * plan.time_budget_s
            k = math.ceil(picks_left / rounds_left)
            final = rounds_left == 1 or late or k >= picks_left
            k = picks_left if final else k
            remaining = rho - loop.budget.spent_rho
            rho_pick = remaining / (k if final else picks_left)
            chosen = loop.pick(k, rho_pick, total)
            if not chosen:
                break
            before = loop.answers(chosen, total)
            for c, maps in chosen:
                loop.measure(c, (1.0 - SELECTION_SHARE) * rho_pick, "measurement", maps)
            size = model_size_mb(plan.names, plan.sizes, [m.clique for m in loop.measurements])
            new = estimate(plan.names, plan.sizes, loop.measurements, total,
                           plan.final_iters if final else plan.round_iters, loop.model,
                           plan.final_tol if final else None, light=not final and size <= LIGHT_COMPILE_MB)
            picks_left = 0 if final else picks_left - len(chosen)
            rounds_left -= 1
            sigma = gaussian_sigma((1.0 - SELECTION_SHARE) * rho_pick, 1.0)
            if picks_left > rounds_left and loop.stalled(new, chosen, before, sigma):
                picks_left = max(rounds_left, picks_left // 2)
            loop.model = new
            _log_round(loop, chosen, final, bar, size)
            if final or len(chosen) < k:
                break
    _spend_rest(loop, total)
    return AIMResult(loop.measurements, loop.model, total, loop.budget, loop.log)


def _log_round(loop: _Loop, chosen: list[Query], final: bool, bar: Any, size: float) -> None:
    """One round's log entry and progress; ``size``: the model's junction-tree size after the round (MB)."""
    loop.log.append({"cliques": [list(c) for c, _ in chosen], "coarse": [bool(m) for _, m in chosen],
                     "final": final, "model_size_mb": size,
                     "seconds": round(time.perf_counter() - loop.start, 2)})
    bar.update(1)
    bar.set_postfix(rho=f"{loop.budget.spent_rho:.3g}/{loop.budget.rho:.3g}", size_mb=f"{size:.2g}")


def _spend_rest(loop: _Loop, total: float) -> None:
    """Whatever budget is left (no candidate fitted, or the loop stopped early) re-measures the one-way marginals;
    then the final model is estimated if the last estimate was not the full solve."""
    plan = loop.plan
    left = loop.budget.rho - loop.budget.spent_rho
    need_final = not loop.log or not loop.log[-1]["final"]
    if left > 1e-9 * loop.budget.rho:
        for a in plan.names:
            loop.measure((a,), left / len(plan.names), "measurement")
        need_final = True
    if need_final:
        loop.model = estimate(plan.names, plan.sizes, loop.measurements, total, plan.final_iters, loop.model,
                              plan.final_tol)
