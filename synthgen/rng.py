"""Explicit randomness. Global generators (``np.random.seed``, ``torch.manual_seed``) are never touched."""
from __future__ import annotations

from typing import Union

import numpy as np

RandomState = Union[None, int, np.integer, np.random.Generator, np.random.SeedSequence]


def check_random_state(random_state: RandomState) -> np.random.Generator:
    """Turn ``None`` (fresh OS entropy), an int, a SeedSequence or a Generator into a Generator.

    A Generator passed in is used as is (its stream advances), like scikit-learn.
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, (bool, np.bool_)):
        raise TypeError("random_state must be None, an int, a SeedSequence or a numpy Generator; got a bool.")
    if isinstance(random_state, (int, np.integer)):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int; got {random_state}.")
        return np.random.default_rng(int(random_state))
    if isinstance(random_state, np.random.SeedSequence):
        return np.random.default_rng(random_state)
    raise TypeError(
        "random_state must be None, an int, a SeedSequence or a numpy Generator; "
        f"got {type(random_state).__name__}."
    )


def child_seed(rng: np.random.Generator) -> int:
    """Draw a 63-bit seed from ``rng`` for a child stream (e.g. a torch.Generator)."""
    return int(rng.integers(0, 2**63 - 1))


def torch_generator(rng: np.random.Generator, device: str = "cpu"):
    """A ``torch.Generator`` seeded from ``rng`` (never the global torch RNG)."""
    import torch

    g = torch.Generator(device=device)
    g.manual_seed(child_seed(rng))
    return g
