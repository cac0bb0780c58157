"""Where privacy noise comes from: the operating system's entropy, never a user seed.

A seed is published with configs, READMEs and demos; noise drawn from it can be regenerated and subtracted from a
saved model (every exact count of an epsilon=1 fit was recovered that way). So ``random_state`` seeds only
initialisation and sampling, and every DP release draws its noise from :func:`privacy_noise` (numpy mechanisms:
:class:`~synthgen.privacy.mechanisms.SecureRandom` over ``os.urandom``) or :func:`privacy_torch_generator`
(DP-SGD: a ``torch.Generator`` seeded with 64 bits from ``os.urandom``).

Tests that need the same noise twice use :func:`unsafe_seeded_noise`, a loudly named switch: every fit that runs
inside it is marked "not DP: privacy noise seeded by a test switch" (a ``NoGuarantee`` whose ``accounted`` field
keeps the accountant's numbers), and the release gate refuses such a model.
"""
from __future__ import annotations

import contextlib
import os
import threading
from typing import Any, Iterator

import numpy as np

from .mechanisms import NoiseSource, SecureRandom

SEEDED_NOISE_REASON = "not DP: privacy noise seeded by a test switch (unsafe_seeded_noise)"

_state = threading.local()


def _seq() -> np.random.SeedSequence | None:
    return getattr(_state, "seq", None)


def noise_is_seeded() -> bool:
    """True inside :func:`unsafe_seeded_noise` (this thread)."""
    return _seq() is not None


@contextlib.contextmanager
def unsafe_seeded_noise(seed: int) -> Iterator[None]:
    """TEST ONLY: draw privacy noise from ``seed`` inside the block, so fits repeat exactly.

    Every fit made inside carries no DP guarantee (its spend says why); never use it for a release.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"unsafe_seeded_noise needs a non-negative int seed; got {seed!r}.")
    previous = _seq()
    _state.seq = np.random.SeedSequence([0x5EED, int(seed)])
    try:
        yield
    finally:
        _state.seq = previous


def _child() -> np.random.SeedSequence:
    return _seq().spawn(1)[0]


def privacy_noise() -> NoiseSource:
    """A fresh noise source for one DP computation: OS entropy (or, under the test switch, the next seeded one)."""
    if noise_is_seeded():
        return np.random.default_rng(_child())
    return SecureRandom()


def privacy_torch_generator(device: str = "cpu") -> Any:
    """A ``torch.Generator`` for DP-SGD noise, seeded with 64 bits of OS entropy (test switch: seeded)."""
    import torch

    g = torch.Generator(device=device)
    if noise_is_seeded():
        g.manual_seed(int(_child().generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)))
    else:
        g.manual_seed(int.from_bytes(os.urandom(8), "little") >> 1)
    return g
