"""Test-only generators: the one set of fakes for the base-class, persistence and CLI tests.

Privacy argument (they follow the real fit protocol, so they are honest about their spend):

- :class:`DummyDP` releases ONE noisy histogram of its first learnable column (a categorical) with the whole
  zCDP budget (L2 sensitivity 1 under add/remove one row); its row estimate is the noisy histogram's total (no
  extra cost). Noise comes from :func:`~synthgen.privacy.noise.privacy_noise`, never from ``random_state``.
- :class:`FakeDP` never looks at the data values; its only release is a noisy row count with the whole budget, so
  it is (epsilon, delta)-DP. :class:`FakeNoDP` claims no guarantee.

None of them is registered at import: :func:`register` / :func:`unregister` add and remove them, so the contract
suite (which runs over the registry) never sees them unless a test asks.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from ..generators import registry
from ..generators.base import BaseGenerator
from ..privacy.accountants import ZCDPBudget
from ..privacy.mechanisms import noisy_count, noisy_histogram
from ..privacy.noise import privacy_noise
from ..privacy.spend import NoGuarantee


class DummyDP(BaseGenerator):
    """Independent noisy category frequencies of the first learnable (categorical) column."""

    registry_name = "test-dummy-dp"
    provides_dp = True

    def __init__(self, epsilon: float = 1.0, delta: float | None = None, fail: bool = False):
        self.epsilon = epsilon
        self.delta = delta
        self.fail = fail

    def _fit(self, data: pd.DataFrame, schema: Any, rng: np.random.Generator, plan: Any):
        if self.fail:
            raise RuntimeError("simulated failure mid-fit")
        budget = ZCDPBudget(plan.target.epsilon, plan.target.delta)
        rho = budget.spend("counts", budget.rho)
        f = schema.learnable[0]
        counts = data[f.name].value_counts().reindex(list(f.categories), fill_value=0).to_numpy(float)
        noisy = noisy_histogram(counts, rho, privacy_noise())
        self.rows_estimate_ = max(float(noisy.sum()), 0.0)
        clipped = np.clip(np.round(noisy), 0, None) + 1e-9
        self.probs_ = clipped / clipped.sum()
        return budget.to_spend(mechanisms={"counts": "Gaussian noisy histogram (L2 sensitivity 1)"})

    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        f = self.schema_.learnable[0]
        cats = np.asarray(f.categories, dtype=object)
        return pd.DataFrame({f.name: cats[rng.choice(len(self.probs_), n, p=self.probs_)]})

    def _get_state(self):
        return {"k": len(self.probs_)}, {"probs": self.probs_}

    def _set_state(self, state, arrays):
        self.probs_ = np.asarray(arrays["probs"], dtype=float)
        assert len(self.probs_) == state["k"]


class FakeDP(BaseGenerator):
    """Samples uniformly within the declared schema (``spread`` narrows numeric ranges); ``sleep`` simulates work."""

    registry_name = "cli-test-dp"
    provides_dp = True

    def __init__(self, epsilon: float = 1.0, delta: float | None = None, sleep: float = 0.0, spread: float = 1.0):
        self.epsilon, self.delta, self.sleep, self.spread = epsilon, delta, sleep, spread

    def _work(self) -> None:
        end = time.monotonic() + float(self.sleep)
        while time.monotonic() < end:  # interruptible "work"
            time.sleep(0.05)

    def _fit(self, data: pd.DataFrame, schema: Any, rng: np.random.Generator, plan: Any):
        self._work()
        budget = ZCDPBudget(plan.target.epsilon, plan.target.delta)
        self.rows_estimate_ = noisy_count(len(data), budget.spend("rows", budget.rho), privacy_noise())
        return budget.to_spend(mechanisms={"rows": "Gaussian noisy row count (sensitivity 1)"})

    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        cols: dict[str, Any] = {}
        for f in self.schema_.learnable:
            if f.kind == "numeric":
                cols[f.name] = rng.uniform(f.lower, f.lower + (f.upper - f.lower) * self.spread, n)
            elif f.kind == "categorical":
                cols[f.name] = np.asarray(f.categories, dtype=object)[rng.integers(0, len(f.categories), n)]
            elif f.kind == "boolean":
                cols[f.name] = rng.random(n) < 0.5
            elif f.kind == "datetime":
                cols[f.name] = pd.to_datetime(rng.integers(f.lower_ts.value, f.upper_ts.value, n))
        return pd.DataFrame(cols)

    def _get_state(self):
        return {}, {"unused": np.zeros(1)}

    def _set_state(self, state, arrays):
        pass


class FakeNoDP(FakeDP):
    registry_name = "cli-test-nodp"
    provides_dp = False
    no_guarantee_reason = "test generator without DP"

    def __init__(self, sleep: float = 0.0, spread: float = 1.0):
        self.sleep, self.spread = sleep, spread

    def _fit(self, data: pd.DataFrame, schema: Any, rng: np.random.Generator, plan: Any):
        self._work()
        return NoGuarantee(self.no_guarantee_reason)


# name, class, guarantee string of the registry
FAKES = (("test-dummy-dp", "DummyDP", "dp"), ("cli-test-dp", "FakeDP", "dp"), ("cli-test-nodp", "FakeNoDP", "none"))
CLI_FAKES = ("cli-test-dp", "cli-test-nodp")


def register(names: tuple[str, ...] = CLI_FAKES) -> None:
    """Register the named fakes (default: the CLI ones) unless already registered."""
    for name, cls, guarantee in FAKES:
        if name in names and name not in registry.names():
            registry.register(name, f"{__name__}:{cls}", guarantee, "table", f"test-only {cls}")


def unregister(names: tuple[str, ...] = CLI_FAKES) -> None:
    for name in names:
        if name in registry.names():
            registry.unregister(name)
