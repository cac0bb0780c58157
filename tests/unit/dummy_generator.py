"""A minimal test-only generator: independent noisy category frequencies and numeric midpoints.

It exists to test the base class and persistence without depending on a real model.
"""
import numpy as np
import pandas as pd

from synthgen.generators.base import BaseGenerator
from synthgen.privacy.accountants import ZCDPBudget
from synthgen.privacy.mechanisms import noisy_histogram


class DummyDP(BaseGenerator):
    registry_name = "test-dummy-dp"
    provides_dp = True

    def __init__(self, epsilon=1.0, delta=None, fail=False):
        self.epsilon = epsilon
        self.delta = delta
        self.fail = fail

    def _fit(self, data, schema, rng):
        if self.fail:
            raise RuntimeError("simulated failure mid-fit")
        budget = ZCDPBudget(self._target_.epsilon, self._target_.delta)
        rho = budget.spend("counts", budget.rho)
        f = schema.learnable[0]
        counts = data[f.name].value_counts().reindex(list(f.categories), fill_value=0).to_numpy(float)
        noisy = np.clip(noisy_histogram(counts, rho, rng), 0, None) + 1e-9
        self.probs_ = noisy / noisy.sum()
        return budget.to_spend()

    def _sample(self, n, rng):
        f = self.schema_.learnable[0]
        return pd.DataFrame({f.name: np.asarray(f.categories, dtype=object)[rng.choice(len(self.probs_), n,
                                                                                         p=self.probs_)]})

    def _get_state(self):
        return {"k": len(self.probs_)}, {"probs": self.probs_}

    def _set_state(self, state, arrays):
        self.probs_ = np.asarray(arrays["probs"], dtype=float)
        assert len(self.probs_) == state["k"]
