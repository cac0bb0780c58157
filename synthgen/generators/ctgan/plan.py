"""DP-CTGAN's plan: every decision that can be made from PUBLIC inputs, made before any budget is reserved.

Public inputs are the parameters, the declared schema and its declared row bounds (``rows.min``/``rows.max``);
the exact row count n is private and is not an input. :func:`make_plan` validates every parameter and the column
pairs, refuses a batch size no declared table can hold (``batch_size >= rows.max``), refuses ``secure=True``
where Opacus's secure mode cannot run (no ``torchcsprng``), refuses a fit whose memory estimate from the declared
domain, the pairs and the batch size exceeds the memory available (:func:`check_memory`), and checks that the
budget can pay for the count release and DP-SGD at the LARGEST sample rate any table within the declared bounds
can lead to (:func:`~synthgen.privacy.analysis.dpsgd_plan.worst_case_rate`): the epsilon of a planned run of
``epochs / q`` Poisson-subsampled steps at a given noise multiplier grows with q, so a run that fits there fits
at every smaller rate. No error raised after the data is read depends on n.

The DP-SGD schedule (:func:`schedule`: sample rate, steps) is fixed after the noisy row count, from its value
``n_hat`` only. The budget is split by :func:`~synthgen.privacy.analysis.dpsgd_plan.row_count_split`: the row
count is an exactly ``(row_count_epsilon, row_count_delta)``-DP Gaussian; the count release and DP-SGD are
planned to ``(rest_epsilon, rest_delta)`` (PRV) for every schedule ``n_hat`` can give; basic composition, valid
for the adaptive choice, adds the two up to the target.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...exceptions import ConfigError, InvalidPrivacyParameterError, PrivacyError
from ...privacy.analysis.dpsgd_plan import (MAX_SAMPLE_RATE, count_noise_multiplier, dpsgd_steps,
                                            gaussian_noise_multiplier, row_count_split, sample_rate, worst_case_rate)
from ...schema import Schema
from ..base import Plan
from .encoder import TableEncoder

DEFAULT_EPOCHS = 30
SIGMA_MAX = 50.0  # the largest DP-SGD noise multiplier searched


@dataclass(frozen=True)
class CTGANPlan(Plan):
    """Public decisions of one DP-CTGAN fit (see the module docstring)."""

    epochs: int
    batch_size: int
    pairs: tuple[tuple[int, int], ...]       # column pairs whose noisy 2-way counts are released
    binned: tuple[int, ...]                  # columns whose bin edges come from noisy fine histograms
    counts_multiplier: float | None          # joint noise multiplier of the count release (None: no counts)
    n_histograms: int                        # histograms in the count release
    row_count_multiplier: float              # noise multiplier of the row count that sets the schedule
    row_count_epsilon: float                 # ... which is exactly (row_count_epsilon, row_count_delta)-DP
    row_count_delta: float
    rest_epsilon: float                      # the count release + DP-SGD, for every schedule (PRV)
    rest_delta: float
    min_rows: int | None
    max_rows: int | None
    max_rate: float = MAX_SAMPLE_RATE
    secure: bool = False

    @property
    def cell_sd(self) -> float:
        """Noise std per histogram cell: ``m * sqrt(K)`` (K histograms, each row in one cell of each)."""
        return self.counts_multiplier * math.sqrt(self.n_histograms) if self.counts_multiplier else 0.0

    @property
    def prior(self) -> tuple[float, ...]:
        """Noise multipliers of the Gaussian releases on the full table composed with the DP-SGD steps (PRV)."""
        return (float(self.counts_multiplier),) if self.counts_multiplier is not None else ()


@dataclass(frozen=True)
class Schedule:
    """The DP-SGD schedule, from the plan and the DP row estimate only."""

    sample_rate: float
    planned_steps: int
    steps_per_epoch: int
    expected_batch: int


def schedule(plan: CTGANPlan, n_hat: float) -> Schedule:
    """Sample rate ``min(max_rate, batch_size / n_hat)``, ``epochs / q`` steps, expected batch ``q * n_hat``."""
    q = sample_rate(plan.batch_size, n_hat, plan.max_rate)
    return Schedule(q, dpsgd_steps(plan.epochs, q), max(1, int(round(1.0 / q))), max(1, int(round(q * n_hat))))


def make_plan(est: Any, schema: Schema, target: Any) -> CTGANPlan:
    """Validate ``est``'s parameters against ``schema`` and decide the fit (public inputs only)."""
    check_params(est)
    enc = TableEncoder(schema, n_bins=est.n_bins)
    pairs = resolve_pairs(enc, est.pairs)  # validated even when nothing is counted
    counted = est.count_fraction > 0
    quantile = est.bins == "dp-quantile" or (est.bins == "auto" and counted)
    binned = [j for j, c in enumerate(enc.columns) if c.binned] if quantile and counted else []
    pairs = pairs if counted else []
    rows = getattr(schema, "rows", None)
    min_rows = getattr(rows, "min", None)
    max_rows = getattr(rows, "max", None)
    check_memory(est, enc, pairs, min(max_rows, est.subsample_rows) if max_rows else None)  # Dask: a subsample
    if max_rows and est.batch_size >= max_rows:
        raise ConfigError(
            f"DPCTGAN batch_size={est.batch_size} is not smaller than the declared maximum of {max_rows} rows: "
            "every table the schema allows is smaller than one batch, so Poisson sampling gives no privacy "
            f"amplification. Fix: use batch_size <= {max(1, max_rows // 10)}, or declare the row bounds right.")
    if est.secure:
        from ...privacy.dpsgd import SECURE_MODE_FIX, secure_mode_available

        if not secure_mode_available():
            raise PrivacyError("DPCTGAN secure=True uses Opacus's secure mode, which needs the 'torchcsprng' "
                               f"package (not installed); refused before any data is read. {SECURE_MODE_FIX}")
    eps0, dlt0, eps1, dlt1 = row_count_split(target.epsilon, target.delta)
    cm = count_noise_multiplier(eps1, dlt1, float(est.count_fraction)) if counted else None
    plan = CTGANPlan(
        target, DEFAULT_EPOCHS if est.epochs is None else int(est.epochs), int(est.batch_size), tuple(pairs),
        tuple(binned), cm, (len(enc.columns) + len(pairs) + len(binned)) if counted else 0,
        gaussian_noise_multiplier(eps0, dlt0), eps0, dlt0, eps1, dlt1, min_rows, max_rows, MAX_SAMPLE_RATE,
        bool(est.secure))
    check_affordable(plan, est.count_fraction)
    return plan


def memory_estimate(est: Any, enc: TableEncoder, pairs: list[tuple[int, int]], max_rows: int | None = None
                    ) -> dict[str, float]:
    """Bytes a fit needs at its peak, by part, from the declared domain and the parameters only (no data).

    ``pair_loss``: the pair loss forms every 2-way table in one (slots x slots) matrix, with its gradient;
    ``counts``: the noisy 2-way histograms and their targets; ``networks``: weights, gradients and Adam state of
    the generator and critic (float32); ``activations``: a batch through both networks and back; ``table``: the
    encoded training table, sized by the declared maximum row count (0 when none is declared; at most
    ``subsample_rows``, the most a Dask fit holds in memory)."""
    slots = sum(c.slots for c in enc.columns)
    width, cond = enc.dim, enc.cond_dim
    pair_cells = sum(enc.columns[a].slots * enc.columns[b].slots for a, b in pairs)
    g_in, g_params = int(est.embedding_dim) + cond, 0
    for w in est.generator_dim:
        g_params += g_in * int(w)
        g_in += int(w)
    g_params += g_in * width
    d_in, d_params = width + cond, 0
    for w in est.discriminator_dim:
        d_params += d_in * int(w)
        d_in = int(w)
    pair_loss = bool(pairs) and float(est.pair_weight) > 0
    return {"pair_loss": 3.0 * 4 * slots * slots if pair_loss else 0.0,
            "counts": 48.0 * pair_cells,
            "networks": 16.0 * (g_params + d_params),
            "activations": 4.0 * 12 * int(est.batch_size) * (width + cond + g_in),
            "table": 16.0 * int(max_rows or 0) * len(enc.columns)}


def available_memory() -> float:
    """Bytes this process may still use: MemAvailable, capped by a cgroup limit when there is one."""
    avail = float("inf")
    try:
        for line in open("/proc/meminfo", encoding="ascii"):
            if line.startswith("MemAvailable:"):
                avail = float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        limit = open("/sys/fs/cgroup/memory.max", encoding="ascii").read().strip()
        if limit.isdigit():
            avail = min(avail, float(limit))
    except OSError:
        pass
    return avail


def check_memory(est: Any, enc: TableEncoder, pairs: list[tuple[int, int]], max_rows: int | None) -> None:
    """Refuse, before any budget is reserved, a fit whose estimated peak exceeds 80 % of the available memory;
    the message names the widest column (the usual cause: thousands of declared categories) and the fixes."""
    parts = memory_estimate(est, enc, pairs, max_rows)
    need, avail = sum(parts.values()), available_memory()
    if need <= 0.8 * avail:
        return
    widest = max(enc.columns, key=lambda c: c.slots)
    top = max(parts, key=lambda k: parts[k])
    raise ConfigError(
        f"DPCTGAN would need about {need / 2**30:.1f} GiB (mostly {top}: {parts[top] / 2**30:.1f} GiB) but "
        f"{avail / 2**30:.1f} GiB is available. Column {widest.name!r} has {widest.slots} declared values (of "
        f"{sum(c.slots for c in enc.columns)} in the table). Fix: declare fewer categories for {widest.name!r} "
        "(group rare ones into one 'other' category), or set pairs=None (or pair_weight=0), or lower batch_size, "
        "or use the dp-copula generator. Refused before any budget was reserved.")


def check_affordable(plan: CTGANPlan, count_fraction: float) -> None:
    """Refuse a plan whose count release and DP-SGD cannot fit the target at the worst-case (largest) rate."""
    from ...privacy.dpsgd import epsilon_prv

    eps, delta = plan.rest_epsilon, plan.rest_delta
    q = worst_case_rate(plan.batch_size, plan.min_rows, plan.max_rate)
    steps = dpsgd_steps(plan.epochs, q)
    what = f"the noisy counts (count_fraction={count_fraction:g})" if plan.prior else "nothing counted"
    eps_prior = epsilon_prv(0.0, 0.0, 0, delta, plan.prior)
    if plan.prior and eps_prior >= eps:
        raise InvalidPrivacyParameterError(
            f"DPCTGAN cannot train within epsilon={plan.target.epsilon:g}: {what} alone spend "
            f"epsilon={eps_prior:.4g}. "
            "Fix: raise epsilon or lower count_fraction.")
    if epsilon_prv(SIGMA_MAX, q, steps, delta, plan.prior) > eps:
        raise InvalidPrivacyParameterError(
            f"DPCTGAN cannot train within epsilon={plan.target.epsilon:g}: {steps} DP-SGD steps at sample rate "
            f"{q:.3g} (the largest the declared row bounds allow) with {what} exceed it even at noise multiplier "
            f"{SIGMA_MAX:g}. Fix: raise epsilon, or lower epochs, batch_size or count_fraction, or declare "
            "x-synthgen.rows.min.")


def _pos_int(name: str, v: Any) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ConfigError(f"DPCTGAN {name} must be a positive whole number; got {v!r}.")


def _number(name: str, v: Any, *, positive: bool) -> None:
    ok = not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v) and (v > 0 if positive
                                                                                          else v >= 0)
    if not ok:
        raise ConfigError(f"DPCTGAN {name} must be a number {'> 0' if positive else '>= 0'}; got {v!r}.")


def check_params(est: Any) -> None:
    """Every parameter's type and range; errors name the parameter and the fix."""
    for name in ("batch_size", "embedding_dim", "n_bins", "subsample_rows"):
        _pos_int(name, getattr(est, name))
    if est.n_threads != "auto":
        _pos_int("n_threads (or 'auto')", est.n_threads)
    if est.epochs is not None:
        _pos_int("epochs", est.epochs)
    for name in ("generator_dim", "discriminator_dim"):
        dims = getattr(est, name)
        if not isinstance(dims, (list, tuple)) or not dims:
            raise ConfigError(f"DPCTGAN {name} must be a non-empty list of layer widths; got {dims!r}.")
        for d in dims:
            _pos_int(name, d)
    for name in ("generator_lr", "discriminator_lr", "max_grad_norm"):
        _number(name, getattr(est, name), positive=True)
    for name in ("marginal_weight", "pair_weight"):
        _number(name, getattr(est, name), positive=False)
    if est.discriminator_loss not in ("wasserstein", "bce"):
        raise ConfigError(f"DPCTGAN discriminator_loss must be 'wasserstein' or 'bce'; got {est.discriminator_loss!r}.")
    if est.bins not in ("auto", "uniform", "dp-quantile"):
        raise ConfigError(f"DPCTGAN bins must be 'auto' ('dp-quantile' when count_fraction > 0, else 'uniform'), "
                          f"'uniform' (equal-width over the declared bounds) or 'dp-quantile' (edges at the "
                          f"quantiles of noisy counts); got {est.bins!r}.")
    cf = est.count_fraction
    if isinstance(cf, bool) or not (isinstance(cf, (int, float)) and 0 <= cf < 1):
        raise ConfigError(f"DPCTGAN count_fraction must be in [0, 1); got {cf!r}. "
                          "Fix: e.g. 0.1 (10% of the budget for the noisy counts) or 0 (uniform).")
    if est.bins == "dp-quantile" and not cf:
        raise ConfigError("DPCTGAN bins='dp-quantile' places bin edges from noisy counts, which needs "
                          "count_fraction > 0. Fix: set count_fraction (e.g. 0.1) or use bins='uniform'.")
    if not isinstance(est.secure, bool):
        raise ConfigError(f"DPCTGAN secure must be True or False; got {est.secure!r}.")


def resolve_pairs(enc: TableEncoder, pairs: Any) -> list[tuple[int, int]]:
    """Column pairs whose noisy 2-way counts are released: ``"auto"`` every pair with at least one categorical
    or boolean column (the conditional columns, whose links to the rest matter most for downstream models);
    ``None``/``()`` none; or a list of ``(name, name)`` pairs. Decided from the schema only."""
    names = [c.name for c in enc.columns]
    if pairs is None or (not isinstance(pairs, str) and len(pairs) == 0):
        return []
    if isinstance(pairs, str):
        if pairs != "auto":
            raise ConfigError(f"DPCTGAN pairs must be 'auto', None or a list of (column, column); got {pairs!r}.")
        cond = set(enc.cond_columns)
        return [(a, b) for a in range(len(names)) for b in range(a + 1, len(names)) if a in cond or b in cond]
    out: list[tuple[int, int]] = []
    for pr in pairs:
        if isinstance(pr, str) or len(pr) != 2:
            raise ConfigError(f"DPCTGAN pairs entries must be (column, column); got {pr!r}.")
        a, b = (str(x) for x in pr)
        for x in (a, b):
            if x not in names:
                raise ConfigError(f"DPCTGAN pairs names column {x!r}, which is not a learnable column of the "
                                  f"schema ({names}). Fix: use declared column names.")
        if a == b:
            raise ConfigError(f"DPCTGAN pairs entry ({a!r}, {b!r}) pairs a column with itself.")
        ia, ib = sorted((names.index(a), names.index(b)))
        if (ia, ib) not in out:
            out.append((ia, ib))
    return out
