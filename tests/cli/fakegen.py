"""Test-only generators for CLI plumbing. They never look at the data values, so the DP one is trivially DP."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

from synthgen.generators import registry
from synthgen.generators.base import BaseGenerator
from synthgen.privacy.spend import DPSpend, NoGuarantee


class FakeDP(BaseGenerator):
    registry_name = "cli-test-dp"
    provides_dp = True

    def __init__(self, epsilon: float = 1.0, delta: float | None = None, sleep: float = 0.0, spread: float = 1.0):
        self.epsilon, self.delta, self.sleep, self.spread = epsilon, delta, sleep, spread

    def _fit(self, data, schema, rng):
        end = time.monotonic() + float(self.sleep)
        while time.monotonic() < end:  # interruptible "work"
            time.sleep(0.05)
        if self.provides_dp:
            return DPSpend(self._target_.epsilon, self._target_.delta, accountant="test")
        return NoGuarantee(self.no_guarantee_reason)

    def _sample(self, n, rng):
        cols = {}
        for f in self.schema_.learnable:
            if f.kind == "numeric":
                cols[f.name] = rng.uniform(f.lower, f.lower + (f.upper - f.lower) * self.spread, n)
            elif f.kind == "categorical":
                cols[f.name] = np.asarray(f.categories, dtype=object)[rng.integers(0, len(f.categories), n)]
            elif f.kind == "boolean":
                cols[f.name] = rng.random(n) < 0.5
            elif f.kind == "datetime":
                lo, hi = f.lower_ts.value, f.upper_ts.value
                cols[f.name] = pd.to_datetime(rng.integers(lo, hi, n))
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


FAKES = (("cli-test-dp", "FakeDP", "dp"), ("cli-test-nodp", "FakeNoDP", "none"))


def register() -> None:
    """Register the fakes (not at import: the contract suite, collected later, must not see them)."""
    for name, cls, guarantee in FAKES:
        if name not in registry.names():
            registry.register(name, f"{__name__}:{cls}", guarantee, "table", f"test-only {cls}")


def unregister() -> None:
    for name, _, _ in FAKES:
        registry._REGISTRY.pop(name, None)
