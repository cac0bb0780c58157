"""Non-DP CTGAN baseline through the BUSL-1.1 licensed ``ctgan`` package (optional extra ``baselines``).

NO DIFFERENTIAL-PRIVACY GUARANTEE: ctgan's transformer reads each numeric column's modes and range off the data
and its sampler keeps per-category row-index lists. It is here only so users can compare in one API.

The package is imported at module import time, so the registry reports "ctgan" unavailable (and the contract
test skips it) when the extra is not installed. In this repository's main environment it is NOT installed:
``pip install ctgan`` would downgrade pandas (3.x -> 2.3), so it belongs in a separate environment.

Saving: ctgan models are pickled by their own ``save()`` (loading runs code), and its fitted transformer and data
sampler hold values and row indices read off the training data. synthgen never pickles, so :meth:`CTGAN.save`
raises :class:`~synthgen.exceptions.ConfigError`: refit the baseline instead of saving it.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

import ctgan as _ctgan  # noqa: F401  (optional extra: fail at import so the registry reports it unavailable)

from ...exceptions import ConfigError
from ...privacy.spend import NoGuarantee, PrivacySpend
from ...schema import Schema
from ..base import BaseGenerator, warn_no_guarantee


class CTGAN(BaseGenerator):
    """SDV's non-DP CTGAN (``ctgan.CTGAN``) behind synthgen's API. Output is NOT differentially private."""

    registry_name = "ctgan"
    provides_dp = False
    no_guarantee_reason = ("non-DP CTGAN baseline (ctgan package): learns modes, ranges and category row lists "
                           "straight from the training rows")
    contract_params = {"epochs": 1, "batch_size": 50, "embedding_dim": 16, "generator_dim": (32, 32),
                       "discriminator_dim": (32, 32)}

    def __init__(self, epochs: int = 300, batch_size: int = 500, *, embedding_dim: int = 128,
                 generator_dim: tuple = (256, 256), discriminator_dim: tuple = (256, 256), pac: int = 10,
                 verbose: bool = False):
        self.epochs = epochs
        self.batch_size = batch_size
        self.embedding_dim = embedding_dim
        self.generator_dim = generator_dim
        self.discriminator_dim = discriminator_dim
        self.pac = pac
        self.verbose = verbose

    def _fit(self, data: pd.DataFrame, schema: Schema, rng: np.random.Generator, plan: Any) -> PrivacySpend:
        from ctgan import CTGAN as _Impl

        warn_no_guarantee(self)
        table = data.copy()
        discrete = []
        for f in schema.learnable:
            if f.kind in ("categorical", "boolean"):
                table[f.name] = table[f.name].astype(object).where(table[f.name].notna(), "__null__").astype(str)
                discrete.append(f.name)
            elif f.kind == "datetime":
                table[f.name] = (table[f.name] - f.lower_ts).dt.total_seconds()
        pac = self.pac if self.batch_size % self.pac == 0 else 1
        model = _Impl(embedding_dim=self.embedding_dim, generator_dim=tuple(self.generator_dim),
                      discriminator_dim=tuple(self.discriminator_dim), batch_size=self.batch_size,
                      epochs=self.epochs, pac=pac, verbose=self.verbose)
        model.set_random_state(int(rng.integers(0, 2**31 - 1)))  # ctgan's own generators, not global seeding
        model.fit(table, discrete_columns=discrete)
        self.model_ = model
        return NoGuarantee(self.no_guarantee_reason)

    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        self.model_.set_random_state(int(rng.integers(0, 2**31 - 1)))
        out = self.model_.sample(n)
        for f in self.schema_.learnable:
            if f.kind == "categorical":
                lookup = {str(c): c for c in f.categories}
                out[f.name] = [lookup.get(str(v)) for v in out[f.name]]
            elif f.kind == "boolean":
                out[f.name] = out[f.name].map({"True": True, "False": False})
            elif f.kind == "datetime":
                out[f.name] = f.lower_ts + pd.to_timedelta(pd.to_numeric(out[f.name]), unit="s")
        return out

    def save(self, path: Any) -> None:
        self._check_fitted()
        raise ConfigError("The non-DP CTGAN baseline cannot be saved: the ctgan package only saves by pickling, "
                          "and its fitted transformer/sampler hold values and row indices from the training data. "
                          "Fix: refit the baseline when needed (or use 'dp-ctgan', which saves weights only).")

    def _get_state(self) -> tuple[dict, dict[str, np.ndarray]]:  # pragma: no cover - save() refuses first
        raise ConfigError("The non-DP CTGAN baseline cannot be saved; see CTGAN.save.")

    def _set_state(self, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:  # pragma: no cover
        raise ConfigError("The non-DP CTGAN baseline cannot be loaded; see CTGAN.save.")
