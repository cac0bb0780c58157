"""DP mechanisms. This module (with DP-SGD in :mod:`synthgen.privacy.dpsgd`) is the only place in synthgen
that draws privacy noise. Every function takes its noise source explicitly.

Neighbouring relation: add/remove one row. Sensitivities below are for that relation.

Noise sources come from :mod:`synthgen.privacy.noise` (OS entropy; never a user seed). Note: floating-point
Gaussian/Laplace samplers are known to leak through the low-order bits of the output (Mironov 2012). Counts are
rounded before they leave a generator, which removes that exact-bit channel for them; continuous releases (the
Gram matrix of the DP copula, DP-SGD's noisy gradients, DP-MERF's embedding sums) are NOT rounded, and rely on the
floating-point Gaussian as every DP-SGD library does.
"""
from __future__ import annotations

import math
import os
from typing import Any, Protocol, Sequence, Union

import numpy as np

from .._json import category_key
from ..exceptions import InvalidPrivacyParameterError, PrivacyError
from .analysis import gaussian_sigma


class SecureRandom:
    """Noise source backed by ``os.urandom``. It cannot be seeded."""

    def __init__(self, seed: Any = None):
        if seed is not None:
            raise PrivacyError("SecureRandom cannot be seeded: privacy noise must be unpredictable. "
                               "Fix: drop the seed; tests that need repeatable noise use "
                               "synthgen.privacy.noise.unsafe_seeded_noise (not DP).")

    def random(self, size: int | tuple[int, ...] | None = None) -> np.ndarray | float:
        shape = () if size is None else (size if isinstance(size, tuple) else (int(size),))
        n = int(np.prod(shape)) if shape else 1
        raw = np.frombuffer(os.urandom(8 * n), dtype=np.uint64) >> np.uint64(11)  # 53 random bits
        u = (raw.astype(np.float64) + 0.5) * (1.0 / (1 << 53))  # in (0, 1): never exactly 0 or 1
        return float(u[0]) if size is None else u.reshape(shape)

    def standard_normal(self, size: int | tuple[int, ...] | None = None) -> np.ndarray | float:
        u1, u2 = np.asarray(self.random(size)), np.asarray(self.random(size))
        z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)  # Box-Muller
        return float(z) if size is None else z

    def normal(self, loc: float = 0.0, scale: float = 1.0, size: Any = None) -> np.ndarray | float:
        return loc + scale * self.standard_normal(size)

    def laplace(self, loc: float = 0.0, scale: float = 1.0, size: Any = None) -> np.ndarray | float:
        u = np.asarray(self.random(size)) - 0.5
        x = loc - scale * np.sign(u) * np.log1p(-2.0 * np.abs(u))
        return float(x) if size is None else x

    def gumbel(self, loc: float = 0.0, scale: float = 1.0, size: Any = None) -> np.ndarray | float:
        x = loc - scale * np.log(-np.log(np.asarray(self.random(size))))
        return float(x) if size is None else x


NoiseSource = Union[np.random.Generator, SecureRandom]


class Mechanism(Protocol):
    """What every mechanism reports: its zCDP cost."""

    rho: float


# -------------------------------------------------------------------------------------------- raw noise
def gaussian_noise(shape: int | tuple[int, ...], sigma: float, rng: NoiseSource) -> np.ndarray:
    """i.i.d. N(0, sigma^2) noise of the given shape."""
    if not (math.isfinite(sigma) and sigma > 0):
        raise InvalidPrivacyParameterError(f"Noise std sigma must be finite and > 0; got {sigma}.")
    shape = shape if isinstance(shape, tuple) else (int(shape),)
    return np.asarray(rng.normal(0.0, sigma, size=shape), dtype=np.float64).reshape(shape)


def laplace_noise(shape: int | tuple[int, ...], scale: float, rng: NoiseSource) -> np.ndarray:
    """i.i.d. Laplace(0, scale) noise of the given shape."""
    if not (math.isfinite(scale) and scale > 0):
        raise InvalidPrivacyParameterError(f"Laplace scale must be finite and > 0; got {scale}.")
    shape = shape if isinstance(shape, tuple) else (int(shape),)
    return np.asarray(rng.laplace(0.0, scale, size=shape), dtype=np.float64).reshape(shape)


# ------------------------------------------------------------------------------------------- clipping
def clip_rows_l2(x: np.ndarray, max_norm: float) -> np.ndarray:
    """Scale each row of ``x`` down to L2 norm at most ``max_norm`` (bounds one row's contribution)."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    factor = np.minimum(1.0, max_norm / np.maximum(norms, 1e-300))
    return x * factor


def clip_values(x: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """Clip values into declared public bounds."""
    return np.clip(np.asarray(x, dtype=np.float64), lower, upper)


# ----------------------------------------------------------------------------------------- mechanisms
def gaussian_mechanism(values: np.ndarray, l2_sensitivity: float, rho: float, rng: NoiseSource) -> np.ndarray:
    """Release ``values + N(0, sigma^2)`` with sigma set so the release is rho-zCDP."""
    sigma = gaussian_sigma(rho, l2_sensitivity)
    values = np.asarray(values, dtype=np.float64)
    return values + gaussian_noise(values.shape, sigma, rng)


def laplace_mechanism(values: np.ndarray, l1_sensitivity: float, epsilon: float, rng: NoiseSource) -> np.ndarray:
    """Release ``values + Laplace(l1_sensitivity / epsilon)``: epsilon-DP (hence epsilon^2/2-zCDP)."""
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise InvalidPrivacyParameterError(f"epsilon must be finite and > 0; got {epsilon}.")
    values = np.asarray(values, dtype=np.float64)
    return values + laplace_noise(values.shape, l1_sensitivity / epsilon, rng)


def exponential_mechanism(scores: np.ndarray, epsilon: float, sensitivity: float, rng: NoiseSource) -> int:
    """Pick index i with probability proportional to exp(epsilon * score_i / (2 sensitivity)) (Gumbel-max).

    epsilon-DP and epsilon^2/8-zCDP.
    """
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise InvalidPrivacyParameterError(f"epsilon must be finite and > 0; got {epsilon}.")
    scores = np.asarray(scores, dtype=np.float64)
    g = np.asarray(rng.gumbel(0.0, 1.0, size=scores.shape), dtype=np.float64)
    return int(np.argmax(epsilon * scores / (2.0 * sensitivity) + g))


def noisy_histogram(counts: np.ndarray, rho: float, rng: NoiseSource) -> np.ndarray:
    """Counts of ONE histogram (each row in exactly one bin) plus Gaussian noise: rho-zCDP (L2 sensitivity 1)."""
    return gaussian_mechanism(np.asarray(counts, dtype=np.float64), 1.0, rho, rng)


def noisy_count(n: float, rho: float, rng: NoiseSource) -> float:
    """A row count plus Gaussian noise (L2 sensitivity 1 under add/remove one row): rho-zCDP. Rounded, >= 0."""
    return max(0.0, float(np.round(gaussian_mechanism(np.array([float(n)]), 1.0, rho, rng)[0])))


def noisy_gram_matrix(x: np.ndarray, max_norm: float, rho: float, rng: NoiseSource) -> np.ndarray:
    """Release ``sum_r x_r x_r^T`` over rows clipped to L2 norm ``max_norm``, plus symmetric Gaussian noise.

    Adding or removing one row changes the upper triangle (diagonal included) by at most
    ``||x x^T||_F = ||x||^2 <= max_norm^2`` in L2, so i.i.d. N(0, sigma^2) noise on the upper triangle with
    ``sigma = max_norm^2 / sqrt(2 rho)``, mirrored below the diagonal, makes the release rho-zCDP.
    """
    x = clip_rows_l2(np.atleast_2d(np.asarray(x, dtype=np.float64)), max_norm)
    d = x.shape[1]
    gram = x.T @ x
    iu = np.triu_indices(d)
    noisy = gaussian_mechanism(gram[iu], float(max_norm) ** 2, rho, rng)
    out = np.zeros((d, d))
    out[iu] = noisy
    return out + np.triu(out, 1).T


def dp_category_set(values: Sequence[Any], rho: float, delta: float, rng: NoiseSource,
                    min_threshold: float = 1.0) -> tuple[list[Any], np.ndarray]:
    """Release the set of categories present in ``values`` by thresholded noisy counts.

    Each distinct value's count gets N(0, sigma^2) noise (sigma from rho); only values whose noisy count clears
    ``tau = 1 + sigma * Phi^{-1}(1 - delta)`` are kept. A category held by one row only is released with probability
    at most ``delta``; for the others the release is rho-zCDP. Total: the zCDP cost rho plus ``delta``.
    Returns the kept categories (sorted by their canonical key) and their noisy counts. Each category is returned
    in its canonical text form (:func:`synthgen._json.category_key`), so the released type never depends on which
    row came first.
    """
    uniq, counts = np.unique(np.asarray([category_key(v) for v in values], dtype=object), return_counts=True)
    keep, noisy = thresholded_counts(counts, rho, delta, rng, min_threshold)
    cats = [str(u) for u in uniq[keep]]
    return cats, noisy[keep]


def count_threshold(rho: float, delta: float, min_threshold: float = 1.0) -> float:
    """``tau = max(min_threshold, 1 + sigma * Phi^{-1}(1 - delta))``: the noisy count a key needs to be released by
    :func:`thresholded_counts` at ``rho`` (sigma from rho, L2 sensitivity 1) and ``delta``."""
    from scipy.stats import norm

    return max(min_threshold, 1.0 + gaussian_sigma(rho, 1.0) * float(norm.isf(delta)))


def thresholded_counts(counts: np.ndarray, rho: float, delta: float, rng: NoiseSource,
                       min_threshold: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Which keys of a set to release, from their exact counts (each row holds at most one key): ``(kept mask,
    rounded noisy counts)``. Each count gets N(0, sigma^2) noise (sigma from rho, L2 sensitivity 1) and a key is kept
    when its noisy count clears ``tau = max(min_threshold, 1 + sigma * Phi^{-1}(1 - delta))``. The key set is the
    data's, so a key one row alone holds is what a neighbour lacks: it is released with probability at most
    ``delta``; given the keys both hold, the release is rho-zCDP. Total: rho plus ``delta``."""
    if not (0 < delta < 1):
        raise InvalidPrivacyParameterError(f"delta for the threshold must be in (0, 1); got {delta}.")
    sigma = gaussian_sigma(rho, 1.0)
    tau = count_threshold(rho, delta, min_threshold)
    counts = np.asarray(counts, dtype=np.float64)
    noisy = counts + gaussian_noise(len(counts), sigma, rng) if len(counts) else np.zeros(0)
    return noisy >= tau, np.round(noisy, 0)


def geometric_grid(lower_mag: float = 1e-6, upper_mag: float = 1e12, per_decade: int = 48) -> np.ndarray:
    """A public, data-independent grid of candidate values: 0 and +/- a log-spaced ladder."""
    decades = math.log10(upper_mag) - math.log10(lower_mag)
    pos = np.logspace(math.log10(lower_mag), math.log10(upper_mag), int(decades * per_decade) + 1)
    return np.concatenate([-pos[::-1], [0.0], pos])


def log_bucket_edges(lower_mag: float = 1e-4, upper_mag: float = 1e15, per_decade: int = 4) -> np.ndarray:
    """Public bucket edges covering -upper_mag..upper_mag: +/- log-spaced edges and one bucket around zero.

    Up to 1e15 (was 1e10, which clipped a third of dslabs/gapminder's GDP in dollars, up to 1.2e13, at 1e10)."""
    pos = geometric_grid(lower_mag, upper_mag, per_decade)
    return pos[pos != 0.0]


def dp_range(values: np.ndarray, rho: float, rng: NoiseSource, edges: np.ndarray | None = None,
             threshold_sigmas: float = 4.0) -> tuple[float, float] | None:
    """DP bounds: a Gaussian noisy histogram over PUBLIC log-spaced buckets, then the lowest and highest bucket
    whose noisy count clears ``threshold_sigmas * sigma``. rho-zCDP (one histogram, L2 sensitivity 1).

    Robust where quantile mechanisms fail (ties at the extremes): a few outlying rows cannot move the bounds
    because their bucket needs about ``threshold_sigmas * sigma`` rows to be kept. Values in dropped tails are
    clipped by whoever uses the bounds. Returns None when no bucket clears the threshold.
    """
    edges = log_bucket_edges() if edges is None else np.asarray(edges, dtype=np.float64)
    x = np.asarray(values, dtype=np.float64)
    x = np.clip(x[np.isfinite(x)], edges[0], edges[-1])
    counts = np.histogram(x, bins=edges)[0].astype(np.float64)
    noisy = noisy_histogram(counts, rho, rng)
    keep = np.flatnonzero(noisy >= threshold_sigmas * gaussian_sigma(rho, 1.0))
    if keep.size == 0:
        return None
    return float(edges[keep[0]]), float(edges[keep[-1] + 1])
