"""Seeded train/holdout splits of a table: by rows, or by whole groups of rows.

A row split draws the holdout's rows at random. When several rows belong to one unit (readings of one storm, polls
of one pollster, visits of one patient), a row split puts rows of the same unit on both sides, and the holdout then
measures how well a model recalls units it has seen, not how it does on new ones: on the corpus's storms table a
real-data model's macro F1 falls from 0.857 to 0.471 when whole storms are held out
(``benchmarks/bench_grouped_trtr.py``). A DP generator learns the population, not single units, so a grouped
holdout (``group_by``) is the yardstick of its downstream utility on such tables; it also keeps rows of a training
unit out of the membership-inference attacker's "non-member" side.

The seed only permutes rows or groups; it is not privacy noise, and nothing here is released.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .exceptions import ConfigError, InputError


def _row_order(n: int, seed: int) -> np.ndarray:
    """The seeded permutation of a row split: its first ``k`` rows are the holdout."""
    return np.random.default_rng(seed).permutation(n)


def holdout_mask(df: pd.DataFrame, k: int, seed: int = 0, group_by: Sequence[str] | None = None) -> np.ndarray:
    """Boolean mask of the holdout rows: ``k`` rows drawn at random, or, with ``group_by``, whole groups (equal
    values of those columns, a null its own value) drawn at random until they hold at least ``k`` rows."""
    if not group_by:
        mask = np.zeros(len(df), dtype=bool)
        mask[_row_order(len(df), seed)[:k]] = True
        return mask
    missing = [c for c in group_by if c not in df.columns]
    if missing:
        raise InputError(f"Group column(s) {', '.join(map(repr, missing))} not in the table. Fix: name columns of "
                         "the table in --group-by / group_by.")
    codes = df.groupby(list(group_by), dropna=False, sort=True).ngroup().to_numpy()
    sizes = np.bincount(codes)
    order = np.random.default_rng(seed).permutation(len(sizes))
    taken = int(np.searchsorted(np.cumsum(sizes[order]), k)) + 1  # groups until the holdout reaches k rows
    held = np.zeros(len(sizes), dtype=bool)
    held[order[:taken]] = True
    return held[codes]


def train_holdout(df: pd.DataFrame, holdout_fraction: float = 0.2, seed: int = 0, *,
                  holdout_rows: int | None = None, group_by: Sequence[str] | None = None
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(training part, holdout) of ``df``: ``holdout_rows`` rows (default ``round(holdout_fraction * len(df))``)
    held out at random, or whole groups of ``group_by`` until at least that many. A row split gives both parts in
    the seeded permutation's order; a grouped split keeps the table's order."""
    k = int(round(len(df) * holdout_fraction)) if holdout_rows is None else int(holdout_rows)
    if not group_by:
        idx = _row_order(len(df), seed)
        return df.iloc[idx[k:]].reset_index(drop=True), df.iloc[idx[:k]].reset_index(drop=True)
    mask = holdout_mask(df, k, seed, group_by)
    if mask.all() or not mask.any():
        raise ConfigError("The grouped split would leave the training or the holdout part empty (too few groups). "
                          "Fix: a smaller holdout, or group columns with more distinct values.")
    return df[~mask].reset_index(drop=True), df[mask].reset_index(drop=True)
