"""Worst-case neighbouring datasets for the distinguishing game: D and D' = D plus the canary.

A generator's DP claim holds for EVERY pair of neighbouring datasets, so the audit picks a pair where one row's
effect is largest and easiest to see: one column (for a copula the worst case: the canary's clipped normal score
then lies on one coordinate, so its Gram-matrix contribution reaches the clipping bound), narrow declared bounds,
few rows, and a canary that no row of D resembles:

- ``outlier``: the canary's ``x`` sits at the declared upper bound, far from every row of D (which lives in the
  bottom tenth of the declared range);
- ``unique-category``: the canary holds a declared category no row of D has;
- ``repeated``: the outlier canary added ``repeats`` times. D and D' then differ in ``repeats`` rows, so the claim
  to test is group privacy: an (eps, delta)-DP mechanism is ``(r eps, r e^{(r-1) eps} delta)``-DP for groups of r
  rows (:func:`group_claim`), and the game compares the bound against that.

Everything here is built for the audit from a public seed: no user data is read, so nothing here is private. The
schema declares ``rows.max`` so that every n-dependent default (delta) comes from a declared fact.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from synthgen.exceptions import ConfigError
from synthgen.schema import CategoricalField, NumericField, RowBounds, Schema

CANARIES = ("outlier", "unique-category", "repeated")
X_UPPER = 100.0  # declared bounds of x: [0, X_UPPER]; D's rows live in [0, X_UPPER / 10]
UNIQUE = "canary-only"
ROWS_MAX = 1000
SOURCE = "public:audit world"


@dataclass(frozen=True)
class WorldPair:
    """D (``base``) and the canary rows; ``data(True)`` is D'. ``column`` names the canary's telling column."""

    kind: str
    schema: Schema
    base: pd.DataFrame
    canary_rows: pd.DataFrame
    column: str

    @property
    def repeats(self) -> int:
        return len(self.canary_rows)

    @property
    def canary(self) -> dict:
        """The canary row (column -> value)."""
        return self.canary_rows.iloc[0].to_dict()

    def data(self, with_canary: bool) -> pd.DataFrame:
        if not with_canary:
            return self.base.copy()
        return pd.concat([self.base, self.canary_rows], ignore_index=True)


def _schema(column: str) -> Schema:
    field = (NumericField("x", 0.0, X_UPPER, bounds_source=SOURCE) if column == "x"
             else CategoricalField("y", ("a", "b", UNIQUE), categories_source=SOURCE))
    return Schema((field,), name="audit-world", rows=RowBounds(max=ROWS_MAX))


def make_worlds(canary: str = "outlier", *, n: int = 100, repeats: int = 2, random_state: int | None = 0
                ) -> WorldPair:
    """The worst-case pair for ``canary`` (one of :data:`CANARIES`) with ``n`` rows in D."""
    if canary not in CANARIES:
        raise ConfigError(f"canary must be one of {list(CANARIES)}; got {canary!r}.")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 2 <= n < ROWS_MAX - 10:
        raise ConfigError(f"n must be an integer in [2, {ROWS_MAX - 10}); got {n!r}.")
    r = int(repeats) if canary == "repeated" else 1
    if r < 1 or r > 10:
        raise ConfigError(f"repeats must be an integer in [1, 10]; got {repeats!r}.")
    rng = np.random.default_rng(random_state)
    if canary == "unique-category":
        column, row = "y", UNIQUE
        base = pd.DataFrame({"y": rng.choice(["a", "b"], size=int(n), p=[0.6, 0.4])})
    else:
        column, row = "x", X_UPPER
        base = pd.DataFrame({"x": rng.uniform(0.0, X_UPPER / 10, int(n))})
    rows = pd.DataFrame({column: [row] * r})
    return WorldPair(canary, _schema(column), base, rows, column)


def group_claim(epsilon: float, delta: float, repeats: int) -> tuple[float, float]:
    """(epsilon, delta) that an (epsilon, delta)-DP mechanism guarantees for datasets differing in ``repeats``
    rows (group privacy): ``(r eps, r e^{(r-1) eps} delta)``, delta capped at 1."""
    r = int(repeats)
    if r == 1:
        return float(epsilon), float(delta)
    return r * float(epsilon), min(1.0, r * math.exp((r - 1) * float(epsilon)) * float(delta))
