"""DP-SGD wiring: the only module in synthgen that imports ``opacus``.

What it offers:

- :func:`epsilon_prv` / :func:`epsilon_rdp`: Opacus's PRV and RDP accountants for a Poisson-subsampled Gaussian
  mechanism run for ``steps`` steps, optionally composed with ``prior`` Gaussian releases on the full table
  (cached; both are pure functions of their arguments).
- :func:`make_private_ghost`: wraps a module and an optimizer for DP-SGD with Opacus ghost clipping
  (``grad_sample_mode="ghost"``): per-sample gradient clipping to ``max_grad_norm`` and Gaussian noise of std
  ``noise_multiplier * max_grad_norm`` on the sum, drawn from an explicit ``torch.Generator`` (never the global
  RNG; callers pass :func:`synthgen.privacy.noise.privacy_torch_generator`, seeded from OS entropy, never from a
  user seed) or, with ``secure=True``, from Opacus's secure mode (a CSPRNG from ``torchcsprng``, whose presence
  :func:`secure_mode_available` checks before any data is read).
- :func:`poisson_sample`: Poisson sampling of row indices (each row independently with probability ``q``), the
  sampling the accountants assume, equivalent to Opacus's ``DPDataLoader`` but on an in-memory tensor and with
  an explicit generator.
- :func:`configure_torch`: process-global torch settings for fast CPU training, applied once per process;
  :func:`torch_threads`: a block run with a given intra-op thread count (restored afterwards).

Neighbouring relation: add/remove one row. None of the Opacus code paths used here call ``torch.manual_seed``
(only Opacus's own test utilities do).
"""
from __future__ import annotations

import contextlib
import functools
import math
import threading
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np
import torch

from ..exceptions import InvalidPrivacyParameterError, PrivacyError

_CONFIG_LOCK = threading.Lock()
_CONFIGURED: dict[str, Any] = {}


def configure_torch(num_threads: int | None = None) -> dict[str, Any]:
    """Process-global torch settings for CPU training; the first call wins, later calls change nothing.

    ``torch.set_flush_denormal(True)`` (subnormal floats made DP-SGD 12-15x slower on CPU) is set BEFORE
    ``torch.set_num_threads``: it only takes effect that way. The thread count is only set when asked for.
    Both settings are global to the process (they affect any other torch code running in it). The flag lives
    in the calling thread's floating-point state, so it is set again (cheaply) on every call.
    """
    with _CONFIG_LOCK:
        if not _CONFIGURED:
            _CONFIGURED["flush_denormal"] = bool(torch.set_flush_denormal(True))
            if num_threads is not None:
                torch.set_num_threads(int(num_threads))
            _CONFIGURED["num_threads"] = torch.get_num_threads()
        else:
            torch.set_flush_denormal(True)
        return dict(_CONFIGURED)


def auto_threads() -> int:
    """Intra-op threads for small-network CPU training: the cores left idle by the 1-minute load, at least 1.

    Measured on 2 cores (DP-CTGAN, batch 500): idle machine, 2 threads 0.71 s/epoch vs 1 thread 1.02; load ~8,
    2 threads 4-10x slower than 1 (threads wait on each other's time slices).
    """
    import os

    try:
        load = os.getloadavg()[0]
    except OSError:
        return 1
    return max(1, min(torch.get_num_threads(), int(round((os.cpu_count() or 1) - load))))


@contextlib.contextmanager
def torch_threads(num_threads: int) -> Iterator[None]:
    """Run a block with ``num_threads`` intra-op torch threads, then restore the previous count.

    DP-CTGAN's networks are small (batches of ~500 rows, layers of ~256): intra-op threads cost more in
    synchronisation than they save, and on a loaded machine 2 threads ran a step 4-10x slower than 1
    (a 1000x640x256 matmul: 31 ms on 2 threads vs 8 ms on 1 at load 8 on 2 cores). Process-global while active.
    """
    prev = torch.get_num_threads()
    n = max(1, int(num_threads))
    if n != prev:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n != prev:
            torch.set_num_threads(prev)


# ------------------------------------------------------------------------------------------ accountants
def _prior_key(prior: Any) -> tuple[float, ...]:
    """``prior`` as a sorted tuple of floats (composition is commutative: one cache entry per multiset).

    Each entry is the noise multiplier ``sigma / Delta`` of a Gaussian mechanism run once on the full table
    (sample rate 1); it must be finite and > 0.
    """
    if prior is None:
        return ()
    try:
        key = tuple(sorted(float(m) for m in prior))
    except (TypeError, ValueError):
        raise InvalidPrivacyParameterError(
            f"prior must be a sequence of noise multipliers (numbers); got {prior!r}.") from None
    for m in key:
        if not (math.isfinite(m) and m > 0):
            raise InvalidPrivacyParameterError(
                f"prior noise multipliers must be finite and > 0; got {m}. Fix: pass sigma / L2 sensitivity "
                "of each Gaussian release on the full table.")
    return key


def _opacus_epsilon(accountant: str, noise_multiplier: float, sample_rate: float, steps: int,
                    delta: float, prior: tuple[float, ...] = ()) -> float:
    """Epsilon at ``delta`` of ``steps`` Poisson-subsampled Gaussian steps composed with the ``prior`` releases.

    Each prior entry ``m`` is the history entry ``(m, 1.0, 1)``: a Gaussian mechanism with noise multiplier
    ``m`` on the whole table (sample rate 1, one step). Opacus composes the heterogeneous history exactly
    (PRV: numerical convolution of the privacy loss distributions; RDP: sum of the Renyi divergences).
    """
    from opacus.accountants import PRVAccountant, RDPAccountant

    history = [(float(m), 1.0, 1) for m in prior]
    if steps > 0:
        history.append((float(noise_multiplier), float(sample_rate), int(steps)))
    if not history:
        return 0.0
    acc = PRVAccountant() if accountant == "prv" else RDPAccountant()
    acc.history = history
    # Opacus's PRV evaluates log(1 - q), which is log(0) = -inf for a q = 1 entry: numpy warns, but the branch
    # it guards (t > -inf) is then always taken and the result is the Gaussian's exact privacy loss CDF.
    with np.errstate(divide="ignore"):
        return float(acc.get_epsilon(delta=float(delta)))


@functools.lru_cache(maxsize=4096)
def _epsilon_cached(accountant: str, noise_multiplier: float, sample_rate: float, steps: int, delta: float,
                    prior: tuple[float, ...]) -> float:
    return _opacus_epsilon(accountant, noise_multiplier, sample_rate, steps, delta, prior)


def _reading(accountant: str, noise_multiplier: float, sample_rate: float, steps: int, delta: float,
             prior: Sequence[float]) -> float:
    """Normalise the arguments (hashable, sorted prior; no DP-SGD entry when ``steps <= 0``), then read."""
    steps = max(0, int(steps))
    if steps == 0:  # the DP-SGD entry is absent: one cache entry for the prior alone
        noise_multiplier = sample_rate = 0.0
    return _epsilon_cached(accountant, float(noise_multiplier), float(sample_rate), steps, float(delta),
                           _prior_key(prior))


def epsilon_prv(noise_multiplier: float, sample_rate: float, steps: int, delta: float,
                prior: Sequence[float] = ()) -> float:
    """Upper bound on epsilon from Opacus's PRV accountant (Gopi et al. 2021) at ``delta`` (cached).

    ``prior``: noise multipliers of Gaussian mechanisms on the full table (e.g. noisy counts released before
    training), composed with the DP-SGD steps. With ``steps == 0`` the reading is that of the prior alone
    (0 when there is none).
    """
    return _reading("prv", noise_multiplier, sample_rate, steps, delta, prior)


def epsilon_rdp(noise_multiplier: float, sample_rate: float, steps: int, delta: float,
                prior: Sequence[float] = ()) -> float:
    """Epsilon from Opacus's RDP accountant at ``delta`` (reported beside the PRV reading; cached).

    ``prior`` as in :func:`epsilon_prv`.
    """
    return _reading("rdp", noise_multiplier, sample_rate, steps, delta, prior)


# ------------------------------------------------------------------------------------------ sampling
def poisson_sample(n: int, sample_rate: float, generator: Any) -> torch.Tensor:
    """Indices of the rows drawn by Poisson sampling: each of ``n`` rows independently with ``sample_rate``."""
    return torch.nonzero(torch.rand(n, generator=generator) < sample_rate, as_tuple=False).flatten()


SECURE_MODE_FIX = ("Fix: install torchcsprng built for this torch version, or use secure=False (DP-SGD noise and "
                   "Poisson sampling then come from torch generators seeded with 64 bits of OS entropy).")


def secure_mode_available() -> bool:
    """Whether Opacus's secure mode can run here (``torchcsprng`` importable). Checked before a fit reads data."""
    import importlib.util

    return importlib.util.find_spec("torchcsprng") is not None


def secure_generator() -> Any:
    """Opacus's secure-mode generator (``torchcsprng`` reading /dev/urandom). It cannot be seeded."""
    try:
        import torchcsprng as csprng  # type: ignore[import-not-found]
    except ImportError:
        raise PrivacyError("secure=True uses Opacus's secure mode, which needs the 'torchcsprng' package (not "
                           f"installed). {SECURE_MODE_FIX}") from None
    return csprng.create_random_device_generator("/dev/urandom")


# ------------------------------------------------------------------------------------------ DP-SGD
@dataclass
class PrivateModule:
    """A module wrapped for DP-SGD with ghost clipping: call ``criterion(logits, target).backward()`` then
    ``optimizer.step()``. ``module`` computes per-sample gradient norms while its hooks are enabled."""

    module: Any
    optimizer: Any
    criterion: Any
    noise_multiplier: float
    max_grad_norm: float
    expected_batch_size: int

    def hooks_off(self) -> None:
        """Use the module outside DP-SGD (e.g. to train a GAN's generator through it)."""
        self.module.disable_hooks()

    def hooks_on(self) -> None:
        self.module.enable_hooks()


def make_private_ghost(module: torch.nn.Module, optimizer: torch.optim.Optimizer, criterion: torch.nn.Module, *,
                       noise_multiplier: float, max_grad_norm: float, expected_batch_size: int,
                       noise_generator: Any = None, secure: bool = False) -> PrivateModule:
    """Wrap ``module``/``optimizer``/``criterion`` for DP-SGD with Opacus ghost clipping.

    ``loss_reduction="mean"``: the noisy sum of clipped per-sample gradients is divided by
    ``expected_batch_size`` (public: ``sample_rate * n``), as Opacus does under Poisson sampling.
    The module must hold no buffers (no BatchNorm): each row's gradient then depends on that row only.
    """
    from opacus.grad_sample import GradSampleModuleFastGradientClipping
    from opacus.optimizers import DPOptimizerFastGradientClipping
    from opacus.utils.fast_gradient_clipping_utils import DPLossFastGradientClipping
    from opacus.validators import ModuleValidator

    if secure and noise_generator is not None:
        raise PrivacyError("secure=True refuses a seeded noise generator (Opacus secure mode). Fix: drop the seed.")
    errors = ModuleValidator.validate(module, strict=False)
    if errors:
        raise PrivacyError(f"module is not compatible with DP-SGD: {errors[0]}")
    generator = secure_generator() if secure else noise_generator
    gsm = GradSampleModuleFastGradientClipping(module, batch_first=True, loss_reduction="mean",
                                               max_grad_norm=max_grad_norm, use_ghost_clipping=True)
    dp_opt = DPOptimizerFastGradientClipping(optimizer, noise_multiplier=noise_multiplier,
                                             max_grad_norm=max_grad_norm, expected_batch_size=expected_batch_size,
                                             loss_reduction="mean", generator=generator, secure_mode=bool(secure))
    dp_crit = DPLossFastGradientClipping(gsm, dp_opt, criterion, loss_reduction="mean")
    return PrivateModule(gsm, dp_opt, dp_crit, float(noise_multiplier), float(max_grad_norm),
                         int(expected_batch_size))
