"""An in-memory DP fit (DP-CTGAN) on a Dask frame: train on a Poisson subsample, account by amplification.

Privacy argument (add/remove one row). The rate ``q = min(1, max_rows / rows.max)`` comes from the DECLARED
maximum row count and the generator's in-memory cap only (public; a fit without a declared ``rows.max`` is refused
before any budget is reserved). Each row of the frame is kept independently with probability ``q`` (one Poisson
subsample, drawn once, on the workers, from OS entropy: :func:`synthgen.privacy.noise.privacy_noise` decides the
source, never ``random_state``). The generator's ordinary in-memory fit then runs on the subsample, planned for
``(eps0, delta0) = inner_target(epsilon, delta, q)`` (:mod:`synthgen.privacy.analysis.subsampling`), so it is
``(eps0, delta0)``-DP with respect to the subsample and the whole run is
``(log(1 + q (e^eps0 - 1)), q delta0)``-DP, at most the target. The spend says so (``details["subsampling"]``:
mechanism, rate, eps0, delta0); the other details describe the in-memory fit of the subsample.

The subsample's exact size is private: it is not an input of any plan (the inner plan's row bounds are the
declared ones scaled by ``q``) and reaches no output; the in-memory fit sees it only as its (private) input size.
Rows of the subsample come to the client process (the data owner's), never into a release. Memory on the client:
about ``q * n <= max_rows`` rows, conformed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..exceptions import ConfigError, PrivacyError
from ..privacy.analysis.subsampling import amplified_delta, amplified_epsilon, inner_target
from ..privacy.mechanisms import SecureRandom
from ..privacy.noise import noise_is_seeded, privacy_noise
from ..privacy.spend import DPSpend, PrivacySpend

MECHANISM = ("Poisson subsample of the Dask frame (each row kept independently with probability q, drawn once from "
             "OS entropy), then the in-memory fit on it; amplification by subsampling (Li, Qardaji & Su 2012; "
             "Balle, Barthe & Gaboardi 2018, Thm 8): (eps0, delta0) -> (log(1 + q (e^eps0 - 1)), q delta0)")


@dataclass(frozen=True)
class SubsamplePlan:
    """Public decisions of a subsampled fit, made before any budget is reserved."""

    rate: float          # q, from the declared rows.max and the in-memory cap
    max_rows: int        # the in-memory cap the rate was chosen for
    inner_target: Any    # (eps0, delta0) of the in-memory fit (a DPSpend)
    inner_schema: Any    # the schema with the declared row bounds scaled by q (for the inner plan's checks)
    inner_plan: Any      # the generator's plan of the in-memory fit (for inner_target and inner_schema)


def subsample_bounds(rows: Any, q: float) -> Any:
    """Row bounds for the subsample: the declared ones times ``q``, widened by 6 binomial standard deviations (used
    by the inner plan's checks only; its guarantee holds whatever the subsample's size)."""
    if q >= 1:
        return rows
    hi = q * rows.max
    lo = q * rows.min if rows.min else 0.0
    low = math.floor(lo - 6 * math.sqrt(lo))
    return replace(rows, min=low if low > 0 else None, max=int(min(rows.max, math.ceil(hi + 6 * math.sqrt(hi) + 1))),
                   source=f"{rows.source}; x{q:.6g} (Poisson subsample)")


def plan_subsample(schema: Any, target: Any, max_rows: int, make_inner: Callable[[Any, Any], Any]) -> SubsamplePlan:
    """``q`` from the declared ``rows.max``; the inner target and the inner plan (``make_inner(schema, target)``)."""
    rows = getattr(schema, "rows", None)
    if rows is None or not rows.max:
        raise ConfigError("A DP fit on a Dask frame by subsampling needs a declared maximum row count (its rate is "
                          "chosen from it, never from the private n). Fix: declare x-synthgen.rows.max in the schema.")
    q = min(1.0, int(max_rows) / int(rows.max))
    eps0, delta0 = inner_target(target.epsilon, target.delta, q)
    if not delta0 < 0.5:
        raise ConfigError(f"delta={target.delta:g} is too large for subsample rate {q:.3g} (delta / q >= 0.5). "
                          "Fix: lower delta (or leave it None), or raise subsample_rows.")
    inner = DPSpend(eps0, delta0, accountant="target")
    inner_schema = replace(schema, rows=subsample_bounds(rows, q))
    return SubsamplePlan(q, int(max_rows), inner, inner_schema, make_inner(inner_schema, inner))


def _keep(part: pd.DataFrame, seed: int | None, q: float) -> pd.DataFrame:
    """The rows of one conformed partition that the Poisson subsample keeps (runs on a worker)."""
    if q >= 1 or not len(part):
        return part.reset_index(drop=True)
    src = np.random.default_rng(seed) if seed is not None else SecureRandom()
    return part[np.asarray(src.random(len(part))) < q].reset_index(drop=True)


def draw_subsample(table: Any, q: float) -> pd.DataFrame:
    """One Poisson ``q``-subsample of a :class:`~synthgen.scale.frames.PartitionedTable`, brought to the client.
    Workers draw from OS entropy; only under the test switch (unsafe_seeded_noise) do they get seeds."""
    seeds = [int(privacy_noise().integers(2**63)) if noise_is_seeded() else None for _ in table.parts]
    return table.collect(_keep, seeds, float(q))


def amplified_spend(inner: PrivacySpend, sp: SubsamplePlan) -> DPSpend:
    """The whole run's guarantee from the in-memory fit's spend on the subsample."""
    q = sp.rate
    details = dict(inner.details)
    details["subsampling"] = {
        "mechanism": MECHANISM, "rate": q, "rate_from": f"declared rows.max and the in-memory cap ({sp.max_rows})",
        "inner_epsilon": float(inner.epsilon), "inner_delta": float(inner.delta),
        "note": "the other details describe the in-memory fit of the subsample, at (inner_epsilon, inner_delta)"}
    return DPSpend(amplified_epsilon(inner.epsilon, q), amplified_delta(inner.delta, q),
                   f"amplification by Poisson subsampling of: {inner.accountant}", details=details)


def fit_subsampled(table: Any, fit_inner: Callable[..., PrivacySpend], on_epoch: Callable | None
                   ) -> tuple[DPSpend, float]:
    """Draw the subsample, run ``fit_inner(subsample, inner_schema, inner_plan, on_epoch)`` on it and return the
    amplified spend and ``q``. ``on_epoch`` callbacks see amplified epsilon readings."""
    sp = getattr(table, "fit_plan", None)
    if not isinstance(sp, SubsamplePlan):
        raise PrivacyError("internal error: a subsampled fit without its plan (made before the budget was reserved).")
    cb = None if on_epoch is None else \
        (lambda epoch, eps, losses: on_epoch(epoch, amplified_epsilon(eps, sp.rate), losses))
    sub = draw_subsample(table, sp.rate)
    inner = fit_inner(sub, sp.inner_schema, sp.inner_plan, cb)
    return amplified_spend(inner, sp), sp.rate
