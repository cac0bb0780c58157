"""Deliberately broken variants of OUR generators, planted by monkeypatching (structure-independent: they patch
the noise source wherever a synthgen module imported it, or wrap the registered class's ``fit``).

- ``no_noise``: every noise source returns zeros (epsilon = infinity);
- ``small_noise``: a fresh-entropy source whose normal/laplace/gumbel draws are ten times too small (for
  dp-ctgan: its count release and row count; its DP-SGD noise comes from ``privacy_torch_generator``, untouched);
- ``seeded_noise``: ``privacy_noise()`` returns ``np.random.default_rng(0)`` on every call (and the DP-SGD
  generator is seeded with 0), so the noise repeats and can be subtracted;
- ``exact_n``: after fit, ``rows_estimate_`` is the exact row count;
- ``data_bounds``: the schema's bounds and categories are read off the data exactly, and NOT flagged inferred
  (so the canary's extreme value becomes a declared bound). Tables only;
- ``n_in_spend``: the spend's details record a sampling rate 1 / n computed from the exact n (as DP-CTGAN's did);
- ``no_threshold``: :func:`~synthgen.privacy.mechanisms.thresholded_counts` keeps every key whatever its noisy
  count (a value one row holds is released: dp-marginal's heaps; the only generator that thresholds in a fit);
- ``sigma_too_small``: the Gaussian calibration ``gaussian_sigma(rho)`` is a thousand times too small, in the
  noise and in every threshold derived from it (a wrong formula, not a wrong source).
"""
from __future__ import annotations

import contextlib
import sys
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd
import pytest

from synthgen.generators import registry
from synthgen.testing.contract import n_rows


class ZeroNoise:
    """A noise source that adds nothing."""

    @staticmethod
    def _zeros(loc: float, size: Any) -> Any:
        return float(loc) if size is None else np.zeros(size) + loc

    def normal(self, loc=0.0, scale=1.0, size=None):
        return self._zeros(loc, size)

    def laplace(self, loc=0.0, scale=1.0, size=None):
        return self._zeros(loc, size)

    def gumbel(self, loc=0.0, scale=1.0, size=None):
        return self._zeros(loc, size)

    def standard_normal(self, size=None):
        return self._zeros(0.0, size)

    def random(self, size=None):
        return self._zeros(0.5, size)


class TenthNoise:
    """Fresh OS-entropy noise, scaled to a tenth."""

    def __init__(self) -> None:
        self.g = np.random.default_rng()

    def normal(self, loc=0.0, scale=1.0, size=None):
        return self.g.normal(loc, 0.1 * scale, size)

    def laplace(self, loc=0.0, scale=1.0, size=None):
        return self.g.laplace(loc, 0.1 * scale, size)

    def gumbel(self, loc=0.0, scale=1.0, size=None):
        return self.g.gumbel(loc, 0.1 * scale, size)

    def standard_normal(self, size=None):
        return 0.1 * self.g.standard_normal(size)

    def random(self, size=None):
        return self.g.random(size)


def _seeded_torch_generator(device: str = "cpu") -> Any:
    import torch

    return torch.Generator(device=device).manual_seed(0)


def patch_everywhere(mp: pytest.MonkeyPatch, attr: str, fake: Callable, home: str = "synthgen.privacy.noise"
                     ) -> Callable:
    """Replace ``<home>.<attr>`` and every synthgen module's imported copy of it; returns the real one."""
    import importlib

    real = getattr(importlib.import_module(home), attr)
    for modname, mod in list(sys.modules.items()):
        if (modname == "synthgen" or modname.startswith("synthgen.")) and getattr(mod, attr, None) is real:
            mp.setattr(mod, attr, fake)
    return real


def _wrap_fit(mp: pytest.MonkeyPatch, name: str, wrapper: Callable) -> None:
    cls = registry.get(name)
    real_fit = cls.fit
    mp.setattr(cls, "fit", lambda self, data, schema=None, **kw: wrapper(real_fit, self, data, schema, **kw))


def schema_from_data(df: pd.DataFrame, schema: Any) -> Any:
    """The declared schema with bounds and categories replaced by the data's exact min/max/unique values, sourced
    as if public (the bug: nothing says they were read off the data)."""
    d = schema.to_dict()
    for fd in d["fields"]:
        kind, col, cons = fd["x-synthgen"]["kind"], df[fd["name"]], fd["constraints"]
        if kind == "numeric":
            lo, hi = col.min(), col.max()
            cons["minimum"], cons["maximum"] = (int(lo), int(hi)) if fd["type"] == "integer" else (float(lo),
                                                                                                   float(hi))
            fd["x-synthgen"]["bounds_source"] = "public:planted"
        elif kind == "datetime":
            cons["minimum"], cons["maximum"] = col.min().isoformat(), col.max().isoformat()
            fd["x-synthgen"]["bounds_source"] = "public:planted"
        elif kind == "categorical":
            cons["enum"] = sorted(str(v) for v in col.dropna().unique())
            fd["x-synthgen"]["categories_source"] = "public:planted"
    return type(schema).from_dict(d)


def plant_no_noise(mp: pytest.MonkeyPatch, name: str) -> list:
    return [(patch_everywhere(mp, "privacy_noise", ZeroNoise), "privacy_noise")]


def plant_small_noise(mp: pytest.MonkeyPatch, name: str) -> list:
    return [(patch_everywhere(mp, "privacy_noise", TenthNoise), "privacy_noise")]


def plant_seeded_noise(mp: pytest.MonkeyPatch, name: str) -> list:
    return [(patch_everywhere(mp, "privacy_noise", lambda: np.random.default_rng(0)), "privacy_noise"),
            (patch_everywhere(mp, "privacy_torch_generator", _seeded_torch_generator), "privacy_torch_generator")]


def plant_exact_n(mp: pytest.MonkeyPatch, name: str) -> list:
    def fit(real_fit, self, data, schema, **kw):
        real_fit(self, data, schema, **kw)
        self.rows_estimate_ = float(n_rows(data))
        return self

    _wrap_fit(mp, name, fit)
    return []


def plant_data_bounds(mp: pytest.MonkeyPatch, name: str) -> list:
    def fit(real_fit, self, data, schema, **kw):
        return real_fit(self, data, schema_from_data(data, schema), **kw)

    _wrap_fit(mp, name, fit)
    return []


def plant_n_in_spend(mp: pytest.MonkeyPatch, name: str) -> list:
    from dataclasses import replace

    def fit(real_fit, self, data, schema, **kw):
        real_fit(self, data, schema, **kw)
        spent = self.privacy_spent_
        self.privacy_spent_ = replace(spent, details={**spent.details, "sample_rate": 1.0 / n_rows(data)})
        return self

    _wrap_fit(mp, name, fit)
    return []


def plant_sigma_too_small(mp: pytest.MonkeyPatch, name: str) -> list:
    from synthgen.privacy.analysis import gaussian_sigma

    def tiny(*args: Any, **kw: Any) -> float:
        return gaussian_sigma(*args, **kw) / 1000.0

    return [(patch_everywhere(mp, "gaussian_sigma", tiny, "synthgen.privacy.analysis"), "gaussian_sigma")]


def plant_no_threshold(mp: pytest.MonkeyPatch, name: str) -> list:
    from synthgen.privacy.mechanisms import thresholded_counts

    def keep_all(counts: Any, rho: float, delta: float, rng: Any, min_threshold: float = 1.0) -> tuple:
        _, noisy = thresholded_counts(counts, rho, delta, rng, min_threshold)
        return np.ones(len(noisy), dtype=bool), noisy

    return [(patch_everywhere(mp, "thresholded_counts", keep_all, "synthgen.privacy.mechanisms"),
             "thresholded_counts")]


PLANTS: dict[str, Callable[[pytest.MonkeyPatch, str], list]] = {
    "no_noise": plant_no_noise, "small_noise": plant_small_noise, "seeded_noise": plant_seeded_noise,
    "exact_n": plant_exact_n, "data_bounds": plant_data_bounds, "n_in_spend": plant_n_in_spend,
    "sigma_too_small": plant_sigma_too_small, "no_threshold": plant_no_threshold}


@contextlib.contextmanager
def planted(name: str, bug: str) -> Iterator[None]:
    """Run the block with ``bug`` planted into generator ``name``; afterwards every trace is removed, including
    copies of a fake that a module imported while the plant was active."""
    registry.get(name)  # import the generator's modules before patching their imported names
    with pytest.MonkeyPatch.context() as mp:
        patched = PLANTS[bug](mp, name)
        fakes = {attr: getattr(sys.modules[real.__module__], attr) for real, attr in patched}
        yield
    for real, attr in patched:
        for modname, mod in list(sys.modules.items()):
            if modname.startswith("synthgen") and getattr(mod, attr, None) is fakes[attr]:
                setattr(mod, attr, real)
