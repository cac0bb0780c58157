"""dp-marginal: an AIM-style marginal-based DP generator on mbi (zCDP, add/remove one row).

A fit is ``plan = _plan(schema)`` (public inputs only: parameters, the declared schema and row bounds decide the
discrete domain's sizes and fine grids, the candidate cliques and their weights, the shares and round counts), then,
with ``bins="dp-quantile"``, :func:`~.edges.release_edges` (one noisy fine histogram per continuous column, charged
to the fit's budget; the model bins and the decoding shape are read off it: :mod:`.edges` holds that argument; in
memory, also the values many rows share, by thresholded noisy counts charged in rho and delta: :mod:`.heaps`), then
``PrivateMarginals.from_counts(exact marginals, ..., privacy_noise())`` (:mod:`.private`, the only holder of private
values, noise from OS entropy, never ``random_state``), then :func:`~.aim.run_aim` (selection and measurement through
that holder only, estimation on mbi from the noisy measurements). The privacy argument is in :mod:`.aim` (what is spent)
and :mod:`.private` (sensitivities); the total never exceeds the target because every spend goes through one
:class:`~synthgen.privacy.accountants.ZCDPBudget`, and the last step spends exactly the remainder.

Released with the model: the noisy measurements (``measurements_``: clique, noisy counts, sigma, and the public
merge maps of a coarse measurement, :mod:`.coarse`), the fitted model (cliques, log-potentials, clique marginals)
and ``rows_estimate_``, the inverse-variance weighted mean of the noisy one-way totals (never the exact n).
``random_state`` seeds only sampling (and nothing in the fit draws from it). Sampling conditions the model on each
numeric column's support read off its noisy one-way counts (:mod:`.support`, post-processing).

The exact marginals are counted in ONE pass before the loop (after the fine histograms' own pass with DP edges,
since the model bins depend on that release), in memory or over a Dask frame alike
(:func:`synthgen.scale.marginals.exact_marginals`: per-partition bincounts over the declared domain, merged exactly):
the total, every one-way and every public candidate clique. AIM's first selection scores every candidate within the
model-size cap anyway, so one pass reads no more than adaptive per-round passes would, and the noisy releases are those
of the in-memory fit bit for bit. Memory: the candidates' cell counts (the plan's domain), not the rows.
"""
from __future__ import annotations

import dataclasses
import itertools
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np
import pandas as pd

from ...exceptions import ConfigError
from ...privacy.accountants import ZCDPBudget
from ...privacy.noise import privacy_noise
from ...privacy.spend import DPSpend, PrivacySpend
from ...scale.marginals import exact_marginals
from ...schema import Schema
from ..base import BaseGenerator
from .aim import SELECTION_SHARE, AIMPlan, run_aim
from .domain import ColumnCodec, decode_table, make_domain
from .edges import fine_grid, release_edges
from .heaps import HEAP_DELTA_SHARE, HEAP_SHARE, wants_heaps
from .rare import RareMerge, rare_merge
from .model import FittedModel
from .private import Measurement, PrivateMarginals
from .support import support_evidence

Clique = tuple[str, ...]


def _is_int(v: Any, least: int) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v >= least


def _is_number(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float, np.integer, np.floating))


class DPMarginal(BaseGenerator):
    """AIM-style marginal-based generator with (epsilon, delta)-differential privacy (zCDP, add/remove one row).

    Parameters
    ----------
    epsilon, delta:
        The privacy target; ``delta=None`` picks a default from the schema's DECLARED maximum row count.
    workload:
        Marginals that matter, as lists of column names (default: every pair of columns); candidates are the
        workload's cliques and their sub-cliques of two or more columns.
    target:
        A declared column whose marginals get ``target_weight`` times the weight in the selection.
    target_weight:
        Weight multiplier of workload cliques that contain ``target``.
    target_order:
        2 or 3: with ``target`` and no ``workload``, 3 adds every triple ``(target, a, b)`` to the default workload
        of all pairs (measured coarse where a numeric axis merges), so interactions with the target can be learnt.
    max_cliques:
        Cliques selected and measured in all (default: twice the number of columns); annealing may use fewer.
    max_rounds:
        Select-measure-estimate rounds (default ``2 + columns // 8``); each costs one model compilation.
    oneway_share:
        Share of the zCDP budget for the one-way marginals of every column.
    n_bins:
        Model bins per continuous column (linear or log, see ``log_bins``).
    bins:
        ``"dp-quantile"``: a continuous column's model bins are read off a noisy fine histogram over its declared
        bounds (about noisy quantiles) and values decode by its shape; ``"uniform"``: equal-width (or log) bins
        over the declared bounds, values uniform within a bin.
    fine_bins:
        Cells of the fine grid of ``bins="dp-quantile"`` (one per whole value for narrower integer ranges).
    fine_share:
        Part of a continuous column's one-way share spent on its fine histogram (``bins="dp-quantile"``), and of
        a high-cardinality categorical's on the noisy counts that pick its rare categories.
    max_categories:
        A categorical with more declared categories keeps at most this many cells: its rare categories (by noisy
        counts) share an "other" cell, decoded back to them by their noisy counts (``None``: never merge).
    max_discrete:
        Integer and date columns with at most this many values in their declared range get one cell per value.
    log_bins:
        ``"auto"``, ``True``, ``False`` or a list of columns: log-spaced bins (decided from declared bounds only).
    max_model_size_mb:
        Candidates whose addition would make mbi's junction tree larger than this are skipped.
    round_iters, final_iters:
        Mirror-descent iterations of the intermediate estimates and (at most) of the final full solve.
    final_tol:
        The full solve stops once two blocks of 50 iterations improve its loss (on the noisy measurements only) by
        at most this, relatively (``None``: always ``final_iters``; 1e-4 cut CPS1988's fit 15.6 -> 2.9 s and left
        diamonds' and storms' unchanged: benchmarks/README.md).
    coarse_cells:
        Every candidate with a binned numeric column is also offered with those axes merged to at most this many
        cells (:mod:`.coarse`; ``None``: full resolution only).
    heaps:
        With DP bins, release each continuous column's heaped values (exact values many rows share) by thresholded
        noisy counts, so they decode exactly (:mod:`.heaps`: part of its fine share and of delta; in memory only).
    trim_tails:
        ``z`` of the end-run test on a linear/log column's noisy one-way counts (:mod:`.support`: cells it finds
        empty are not sampled; post-processing; ``None``: sample every declared cell).
    time_budget_s:
        Soft time limit: past half of it, the next round is the last (the budget is still spent in full). The
        round count then depends on wall-clock time, a side channel outside the DP model; ``None`` keeps every
        decision a function of the noisy releases.
    verbose:
        Progress bar (rounds, rho spent, model size) on a terminal.
    """

    registry_name: ClassVar[str] = "dp-marginal"
    provides_dp: ClassVar[bool] = True
    accepts_partitions: ClassVar[bool] = True  # exact marginals merged per partition (synthgen.scale.marginals)
    contract_params: ClassVar[dict[str, Any]] = {"max_rounds": 1, "max_cliques": 2, "round_iters": 50,
                                                  "final_iters": 100, "n_bins": 16}

    def __init__(self, epsilon: float, delta: float | None = None, workload: Sequence[Sequence[str]] | None = None,
                 target: str | None = None, target_weight: float = 3.0, target_order: int = 2,
                 max_cliques: int | None = None,
                 max_rounds: int | None = None, oneway_share: float = 0.25, n_bins: int = 32,
                 bins: str = "dp-quantile", fine_bins: int = 1024, fine_share: float = 0.5,
                 max_categories: int | None = 64, max_discrete: int = 64, log_bins: Any = "auto",
                 max_model_size_mb: float = 16.0,
                 round_iters: int = 100, final_iters: int = 1000, final_tol: float | None = None,
                 coarse_cells: int | None = 8,
                 trim_tails: float | None = 2.0, heaps: bool = True,
                 time_budget_s: float | None = None, verbose: bool = False):
        self.epsilon = epsilon
        self.delta = delta
        self.workload = workload
        self.target = target
        self.target_weight = target_weight
        self.target_order = target_order
        self.max_cliques = max_cliques
        self.max_rounds = max_rounds
        self.oneway_share = oneway_share
        self.n_bins = n_bins
        self.bins = bins
        self.fine_bins = fine_bins
        self.fine_share = fine_share
        self.max_categories = max_categories
        self.max_discrete = max_discrete
        self.log_bins = log_bins
        self.max_model_size_mb = max_model_size_mb
        self.round_iters = round_iters
        self.final_iters = final_iters
        self.final_tol = final_tol
        self.coarse_cells = coarse_cells
        self.trim_tails = trim_tails
        self.heaps = heaps
        self.time_budget_s = time_budget_s
        self.verbose = verbose

    # ----------------------------------------------------------------- plan (public inputs only)
    def _check_params(self) -> None:
        for name, least in (("n_bins", 2), ("fine_bins", 2), ("max_discrete", 1), ("round_iters", 1),
                            ("final_iters", 1)):
            if not _is_int(getattr(self, name), least):
                raise ConfigError(f"{name} must be an integer >= {least}; got {getattr(self, name)!r}.")
        for name, least in (("max_cliques", 0), ("max_rounds", 1), ("max_categories", 2), ("coarse_cells", 2)):
            v = getattr(self, name)
            if v is not None and not _is_int(v, least):
                raise ConfigError(f"{name} must be None or an integer >= {least}; got {v!r}.")
        for name in ("oneway_share", "fine_share"):
            if not _is_number(getattr(self, name)) or not 0 < getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a number in (0, 1); got {getattr(self, name)!r}.")
        if self.bins not in ("dp-quantile", "uniform"):
            raise ConfigError(f"bins must be 'dp-quantile' (edges from a noisy fine histogram) or 'uniform' "
                              f"(equal-width over the declared bounds); got {self.bins!r}.")
        for name in ("target_weight", "max_model_size_mb"):
            if not _is_number(getattr(self, name)) or not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be a positive number; got {getattr(self, name)!r}.")
        if self.target_order not in (2, 3) or isinstance(self.target_order, bool):
            raise ConfigError(f"target_order must be 2 or 3; got {self.target_order!r}.")
        if self.trim_tails is not None and (not _is_number(self.trim_tails) or not self.trim_tails >= 0):
            raise ConfigError(f"trim_tails must be None or a number of sigmas >= 0; got {self.trim_tails!r}.")
        if not isinstance(self.heaps, (bool, np.bool_)):
            raise ConfigError(f"heaps must be True or False; got {self.heaps!r}.")
        if self.final_tol is not None and (not _is_number(self.final_tol) or not 0 < self.final_tol < 1):
            raise ConfigError(f"final_tol must be None or a number in (0, 1); got {self.final_tol!r}.")
        t = self.time_budget_s
        if t is not None and (not _is_number(t) or not t > 0):
            raise ConfigError(f"time_budget_s must be None or a positive number of seconds; got {t!r}.")
        if not (self.log_bins in ("auto", True, False) or isinstance(self.log_bins, (list, tuple, set))):
            raise ConfigError(f"log_bins must be 'auto', True, False or a list of column names; got {self.log_bins!r}.")

    def _workload(self, names: tuple[str, ...]) -> list[Clique]:
        if self.target is not None and self.target not in names:
            raise ConfigError(f"target={self.target!r} is not a learnable column of the schema. "
                              f"Fix: name one of {list(names)} or pass target=None.")
        if self.workload is None:
            pairs = list(itertools.combinations(names, 2))
            if self.target is None or self.target_order == 2:
                return pairs
            rest = [n for n in names if n != self.target]
            return pairs + [tuple(n for n in names if n in (self.target, a, b))
                            for a, b in itertools.combinations(rest, 2)]
        if isinstance(self.workload, (str, bytes)) or not isinstance(self.workload, (list, tuple)):
            raise ConfigError("workload must be a list of column-name lists, e.g. [['age', 'income']].")
        out = []
        for w in self.workload:
            cols = [w] if isinstance(w, str) else list(w)
            bad = [c for c in cols if c not in names]
            if bad or not cols or len(set(cols)) != len(cols):
                raise ConfigError(f"workload entry {w!r} must name distinct learnable columns; unknown: {bad}. "
                                  f"Fix: use columns of {list(names)}.")
            out.append(tuple(n for n in names if n in cols))
        return out

    def _candidates(self, names: tuple[str, ...]) -> tuple[tuple[Clique, ...], tuple[float, ...]]:
        """AIM's candidates (the workload's sub-cliques of size >= 2) and weights w_r = sum_s c_s |r & s|."""
        work = self._workload(names)
        coef = [float(self.target_weight) if self.target in s else 1.0 for s in work]
        cands = sorted({sub for s in work for k in range(2, len(s) + 1) for sub in itertools.combinations(s, k)},
                       key=lambda c: (len(c), [names.index(a) for a in c]))
        weights = tuple(sum(cs * len(set(r) & set(s)) for s, cs in zip(work, coef)) for r in cands)
        return tuple(cands), weights

    def _plan(self, schema: Schema) -> AIMPlan:
        """Every check and decision before any budget is reserved."""
        self._check_params()
        target = self._target_spend(schema)
        codecs = make_domain(schema, int(self.n_bins), int(self.max_discrete), self.log_bins)
        if not codecs:
            raise ConfigError("dp-marginal needs at least one learnable column. Fix: declare one in the schema.")
        names = tuple(c.name for c in codecs)
        cands, weights = self._candidates(names)
        picks = 2 * len(names) if self.max_cliques is None else int(self.max_cliques)
        picks = picks if cands else 0
        rounds = max(1, min(picks, 2 + len(names) // 8) if self.max_rounds is None else int(self.max_rounds))
        fields = {f.name: f for f in schema.learnable}
        grids = tuple(self._first_release(c, fields[c.name]) for c in codecs)
        heaps = tuple(bool(self.heaps) and wants_heaps(c, g) for c, g in zip(codecs, grids))
        return AIMPlan(target, codecs, cands, weights, float(self.oneway_share), picks, rounds,
                       float(self.max_model_size_mb), int(self.round_iters), int(self.final_iters),
                       None if self.time_budget_s is None else float(self.time_budget_s), bool(self.verbose),
                       grids, float(self.fine_share),
                       None if self.coarse_cells is None else int(self.coarse_cells),
                       None if self.final_tol is None else float(self.final_tol), heaps)

    def _first_release(self, codec: ColumnCodec, field: Any) -> Any:
        """What a column releases before the loop (public): a fine grid, a rare-category merge or nothing."""
        if codec.kind == "categorical":
            return None if self.max_categories is None else rare_merge(codec, int(self.max_categories))
        if self.bins != "dp-quantile":
            return None
        return fine_grid(field, codec, int(self.fine_bins), int(self.max_discrete), self.log_bins)

    # ----------------------------------------------------------------- fit: measure, then estimate
    def _fit(self, data: pd.DataFrame, schema: Schema, rng: np.random.Generator, plan: AIMPlan) -> PrivacySpend:
        if not isinstance(data, pd.DataFrame):  # heaps are counted in memory only (decided before any read)
            plan = dataclasses.replace(plan, heaps=())
        held = HEAP_DELTA_SHARE * plan.target.delta if any(plan.heaps) else 0.0
        budget, noise = ZCDPBudget(plan.target.epsilon, plan.target.delta, held), privacy_noise()
        if any(g is not None for g in plan.grids):  # DP edges: the fine histograms' pass, then the model bins
            plan = dataclasses.replace(plan, codecs=release_edges(data, plan.codecs, plan.grids, plan.fine_share,
                                                                  plan.oneway_share, budget, noise, plan.heaps))
        cliques = [()] + [(a,) for a in plan.names] + list(plan.candidates)
        counts = exact_marginals(data, plan.codecs, cliques)  # one pass, in memory or on Dask (see the docstring)
        private = PrivateMarginals.from_counts(counts, plan.names, plan.sizes, noise)
        result = run_aim(private, plan, budget)
        self.codecs_ = plan.codecs
        self.model_ = result.model
        self.measurements_ = result.measurements
        self.rows_estimate_ = float(result.total)
        self.fit_info_ = {"rounds": result.log, "n_measurements": len(result.measurements)}
        return self._spend(result.budget, plan)

    @staticmethod
    def _spend(budget: Any, plan: AIMPlan) -> DPSpend:
        d = len(plan.names)
        merged = sum(isinstance(g, RareMerge) for g in plan.grids) / d  # share of columns with rare merges
        fine = sum(g is not None for g in plan.grids) / d - merged  # share of columns with DP edges
        mechanisms = {"one-way": "Gaussian noisy one-way marginal per column (L2 sensitivity 1)",
                      "selection": "exponential mechanism over candidate cliques, AIM quality score "
                                   "(sensitivity max weight), epsilon^2/8-zCDP",
                      "measurement": "Gaussian noisy marginal of each selected clique (L2 sensitivity 1)"}
        split = {"one-way": plan.oneway_share * (1 - plan.fine_share * (fine + merged)),
                 "selection": SELECTION_SHARE * (1 - plan.oneway_share),
                 "measurement": (1 - SELECTION_SHARE) * (1 - plan.oneway_share)}
        if fine:
            mechanisms["fine"] = ("Gaussian noisy fine histogram per continuous column (L2 sensitivity 1); DP bin "
                                  "edges and the decoding shape are read off it")
            heaps = sum(map(bool, plan.heaps)) / d  # share of columns releasing heaps
            split["fine"] = plan.oneway_share * plan.fine_share * (fine - HEAP_SHARE * heaps)
            if heaps:
                mechanisms["heaps"] = ("thresholded Gaussian noisy counts of a continuous column's exact values "
                                       "(L2 sensitivity 1; a value one row holds is released with probability at "
                                       "most the column's part of the reserved delta)")
                split["heaps"] = plan.oneway_share * plan.fine_share * HEAP_SHARE * heaps
        if merged:
            mechanisms["categories"] = ("Gaussian noisy counts of a high-cardinality column's declared categories "
                                        "(L2 sensitivity 1); the rare ones share an 'other' cell")
            split["categories"] = plan.oneway_share * plan.fine_share * merged
        spent = budget.to_spend(
            mechanisms=mechanisms, split=split,
            domain={c.name: c.size for c in plan.codecs})
        details = dict(spent.details)
        details["rho_split"] = {k: float(f"{v:.12g}") for k, v in details["rho_split"].items()}
        details["rho_spent"] = float(f"{details['rho_spent']:.12g}")
        # The whole budget is spent by construction (up to float rounding): report the target itself.
        eps = plan.target.epsilon if budget.spent_rho >= budget.rho * (1 - 1e-9) else spent.epsilon
        return DPSpend(eps, spent.delta, spent.accountant, details=details)

    # ----------------------------------------------------------------- sampling
    def _condition_codes(self, conditions: Mapping[str, Any]) -> dict[str, list[int]]:
        if not isinstance(conditions, Mapping):
            raise ConfigError("conditions must be a mapping {column: value or list of values}.")
        by_name = {c.name: c for c in self.codecs_}
        out = {}
        for col, value in conditions.items():
            codec = by_name.get(col)
            if codec is None or codec.scale != "categorical":
                ok = [c.name for c in self.codecs_ if c.scale == "categorical"]
                raise ConfigError(f"conditions: {col!r} is not a declared categorical or boolean column. "
                                  f"Fix: condition on one of {ok}.")
            values = list(value) if isinstance(value, (list, tuple, set)) else [value]
            out[col] = sorted({self._value_code(codec, v) for v in values})
        return out

    def _allowed_rare(self, conditions: Mapping[str, Any]) -> dict[str, list]:
        """Per conditioned column with merged categories: the requested rare categories ("other" decodes to them)."""
        out = {}
        for codec in self.codecs_:
            if codec.rare and codec.name in conditions:
                value = conditions[codec.name]
                values = list(value) if isinstance(value, (list, tuple, set)) else [value]
                out[codec.name] = [v for v in values if any(v == r for r in codec.rare)]
        return out

    @staticmethod
    def _value_code(codec: ColumnCodec, v: Any) -> int:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            if codec.nullable:
                return codec.n_values
        else:
            labels = [False, True] if codec.kind == "boolean" else list(codec.grid) + list(codec.rare)
            for code, label in enumerate(labels):
                same_kind = isinstance(v, (bool, np.bool_)) == isinstance(label, bool)  # 1 is not True here
                if same_kind and label == v:
                    return min(code, len(codec.grid)) if codec.rare else code  # a rare one: the "other" cell
        raise ConfigError(f"conditions: {v!r} is not a declared value of column {codec.name!r}. "
                          f"Fix: use one of {list(codec.grid) + list(codec.rare)}"
                          + (" or None." if codec.nullable else "."))

    def _sample(self, n: int, rng: np.random.Generator, conditions: Mapping[str, Any] | None = None
                ) -> pd.DataFrame:
        evidence = support_evidence(self.codecs_, self.measurements_, getattr(self, "trim_tails", 2.0))
        evidence |= self._condition_codes(conditions) if conditions else {}
        codes = self.model_.sample_codes(n, rng, evidence)
        return decode_table(codes, self.codecs_, rng, self._allowed_rare(conditions) if conditions else None)

    # ----------------------------------------------------------------- persistence
    def _get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        model_js, arrays = self.model_.state()
        meas = []
        for i, m in enumerate(self.measurements_):
            arrays[f"measurement{i}"] = np.asarray(m.values)
            meas.append({"clique": list(m.clique), "sigma": m.sigma} | ({"maps": [list(a) for a in m.maps]}
                                                                         if m.maps else {}))
        return {"codecs": [c.to_json() for c in self.codecs_], "model": model_js, "measurements": meas,
                "extra": self.fit_info_}, arrays

    def _set_state(self, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        fields = {f.name: f for f in self.schema_.learnable} if getattr(self, "schema_", None) else {}
        self.codecs_ = tuple(ColumnCodec.from_json(c, fields.get(c["name"])) for c in state["codecs"])
        self.model_ = FittedModel.from_state(state["model"], arrays)
        self.measurements_ = [Measurement(tuple(m["clique"]), arrays[f"measurement{i}"], float(m["sigma"]),
                                          tuple(tuple(a) for a in m.get("maps", ())))
                              for i, m in enumerate(state["measurements"])]
        self.fit_info_ = dict(state.get("extra", {}))
