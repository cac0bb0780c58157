"""Normal scores of discretised columns and the repair of latent correlation matrices (pure numerics).

A column value that occupies the probability slice ``(lo, hi]`` of its marginal gets the conditional normal score
``E[Z | Phi^{-1}(lo) < Z <= Phi^{-1}(hi)]``. Categorical or heavily tied columns have few wide slices, so the
variance of their scores ``a`` is below 1 and their covariances with other columns shrink by about ``a_i a_j``
(the first term of the Hermite expansion behind polyserial/polychoric correlations). :func:`corrected_correlation`
undoes that shrinkage and :func:`nearest_correlation` repairs the result into a valid correlation matrix.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtri

_SQRT_2PI = float(np.sqrt(2.0 * np.pi))
SCORE_CLIP = 8.0  # |score| never exceeds this (Phi^{-1}(1e-15) is about -7.9)


def _pdf_at(q: np.ndarray) -> np.ndarray:
    """phi(Phi^{-1}(q)) with phi(+-inf) = 0."""
    z = ndtri(q)
    out = np.exp(-0.5 * np.where(np.isfinite(z), z, 0.0) ** 2) / _SQRT_2PI
    return np.where(np.isfinite(z), out, 0.0)


def slice_scores(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Conditional normal score ``E[Z | Z in (Phi^{-1}(lo), Phi^{-1}(hi)]]`` of each probability slice.

    Zero-width slices (a value with no mass) get ``Phi^{-1}`` of their position. Scores are clipped to
    +/-``SCORE_CLIP``.
    """
    lo = np.clip(np.asarray(lo, dtype=np.float64), 0.0, 1.0)
    hi = np.clip(np.asarray(hi, dtype=np.float64), 0.0, 1.0)
    hi = np.maximum(hi, lo)
    width = hi - lo
    # Narrow slices (continuous columns): the midpoint's normal quantile is the conditional mean up to O(width^2)
    mid = np.clip(0.5 * (lo + hi), 1e-15, 1.0 - 1e-15)
    out = ndtri(mid)
    wide = width > 1e-5
    if wide.any():
        lw, hw = lo[wide], hi[wide]
        out[wide] = (_pdf_at(lw) - _pdf_at(hw)) / (hw - lw)
    return np.clip(out, -SCORE_CLIP, SCORE_CLIP)


def slices_from_probs(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper cumulative probabilities of consecutive slices with the given (normalised) masses."""
    p = np.asarray(probs, dtype=np.float64)
    hi = np.cumsum(p)
    if hi.size:
        hi = hi / hi[-1] if hi[-1] > 0 else hi
        hi[-1] = 1.0
    lo = np.concatenate([[0.0], hi[:-1]])
    return lo, hi


def score_variance(probs: np.ndarray) -> float:
    """Variance ``a`` of the conditional normal score of a column whose slices have masses ``probs``."""
    p = np.asarray(probs, dtype=np.float64)
    if p.sum() <= 0:
        return 0.0
    p = p / p.sum()
    s = slice_scores(*slices_from_probs(p))
    mean = float(np.dot(p, s))
    return max(0.0, float(np.dot(p, s * s)) - mean * mean)


def corrected_correlation(cov: np.ndarray, a: np.ndarray | None = None, min_var: float = 1e-6,
                          max_abs: float = 0.995) -> np.ndarray:
    """Latent correlation from the covariance of conditional normal scores: ``R_ij = C_ij / (a_i a_j)``.

    ``a`` defaults to ``diag(cov)``. Dimensions with (almost) no variance (a constant column, a category or null
    indicator that never occurs) are made independent of the rest. Off-diagonal entries are clipped to
    ``+/-max_abs``; the result is symmetric with a unit diagonal but may need :func:`nearest_correlation`.
    """
    cov = np.asarray(cov, dtype=np.float64)
    a = np.diag(cov).copy() if a is None else np.asarray(a, dtype=np.float64).copy()
    ok = a > min_var
    a_safe = np.where(ok, a, 1.0)
    r = cov / np.outer(a_safe, a_safe)
    r = np.clip(0.5 * (r + r.T), -max_abs, max_abs)
    r[~ok, :] = 0.0
    r[:, ~ok] = 0.0
    np.fill_diagonal(r, 1.0)
    return r


def nearest_correlation(r: np.ndarray, min_eig: float = 1e-4, iters: int = 100, tol: float = 1e-7) -> np.ndarray:
    """A valid (positive definite, unit diagonal) correlation matrix near the symmetric matrix ``r``.

    Higham's (2002) alternating projections with Dykstra's correction onto the PSD cone and the unit-diagonal set,
    then a final eigenvalue floor at ``min_eig`` and rescaling to a unit diagonal so a Cholesky factor exists.
    """
    x = 0.5 * (np.asarray(r, dtype=np.float64) + np.asarray(r, dtype=np.float64).T)
    d = x.shape[0]
    if d == 0:
        return x
    np.fill_diagonal(x, 1.0)
    if np.linalg.eigvalsh(x)[0] >= min_eig:
        return x
    y = x.copy()
    ds = np.zeros_like(x)
    for _ in range(iters):
        rk = y - ds
        w, v = np.linalg.eigh(rk)
        xk = (v * np.maximum(w, 0.0)) @ v.T
        ds = xk - rk
        y_new = xk.copy()
        np.fill_diagonal(y_new, 1.0)
        done = np.linalg.norm(y_new - y) <= tol * max(1.0, np.linalg.norm(y))
        y = y_new
        if done:
            break
    w, v = np.linalg.eigh(0.5 * (y + y.T))
    y = (v * np.maximum(w, min_eig)) @ v.T
    s = np.sqrt(np.diag(y))
    y = y / np.outer(s, s)
    y = 0.5 * (y + y.T)
    np.fill_diagonal(y, 1.0)
    return y


def cholesky_factor(r: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of a correlation matrix, repairing it first if needed."""
    try:
        return np.linalg.cholesky(r)
    except np.linalg.LinAlgError:
        return np.linalg.cholesky(nearest_correlation(r, min_eig=1e-3))
