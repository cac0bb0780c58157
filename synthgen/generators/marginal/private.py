"""THE ONLY HOLDER OF PRIVATE ROWS IN DP-MARGINAL: true marginals in, noisy answers out.

:class:`PrivateMarginals` is built from the validated table (encoded to cell codes over the public domain of
:mod:`.domain`) and a noise source from :func:`~synthgen.privacy.noise.privacy_noise`. It keeps the codes and the
exact marginals it computes (numpy ``bincount``, once per clique) to itself and answers only through two
mechanisms, each of which the caller charges (zCDP, add/remove one row):

- :meth:`measure`: a noisy marginal, ``counts + N(0, sigma^2)`` per cell with ``sigma = 1 / sqrt(2 rho)``: each row
  is in exactly one cell of a marginal, so its L2 sensitivity is 1 and the release is ``rho``-zCDP; the noisy counts
  are rounded (post-processing) so the floating-point Gaussian's low-order bits never leave (Mironov 2012). A
  coarse marginal (:mod:`.coarse`: runs of cells merged by public maps) is the same mechanism on the merged counts:
  each row is still in exactly one cell;
- :meth:`select`: AIM's exponential-mechanism selection among candidate cliques. Candidate ``r``'s quality is ``w_r
  (||M_r(D) - M_r(model)||_1 - sqrt(2/pi) sigma n_r)``, where ``M_r(model)`` comes from the model estimated from
  earlier noisy releases (public at this point), ``sigma`` is the noise the pick will be measured with and ``n_r`` its
  cell count (for a coarse candidate, both over its merged cells). Adding or removing one row moves ``||M_r(D) -
  M_r(model)||_1`` by at most 1, so the quality's sensitivity is ``max_r w_r``; with parameter ``epsilon`` the pick is
  ``epsilon^2 / 8``-zCDP.

Neither returns anything else: no exact count, no exact marginal, no row.

:meth:`PrivateMarginals.from_counts` builds the same holder from exact marginals already counted (e.g. merged over
the partitions of a Dask frame by :func:`synthgen.scale.marginals.exact_marginals`): same mechanisms, same noise,
so the same releases as from codes; a clique it was not given is an internal error, never a silent recount.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ...exceptions import PrivacyError
from ...privacy.analysis import gaussian_sigma
from ...privacy.mechanisms import NoiseSource, exponential_mechanism, noisy_histogram
from .coarse import Maps, aggregate

Clique = tuple[str, ...]


@dataclass(frozen=True)
class Measurement:
    """One noisy marginal: its clique (attribute order as given), the noisy cell counts (C order over the
    clique's cells, or over the merged cells of ``maps``: :mod:`.coarse`) and the Gaussian noise standard
    deviation."""

    clique: Clique
    values: np.ndarray
    sigma: float
    maps: Maps = ()

    def __post_init__(self) -> None:
        v = np.array(self.values, dtype=np.float64)
        v.setflags(write=False)
        object.__setattr__(self, "values", v)
        object.__setattr__(self, "clique", tuple(self.clique))
        object.__setattr__(self, "maps", tuple(tuple(int(i) for i in m) for m in self.maps))

    @property
    def key(self) -> tuple[Clique, Maps]:
        return self.clique, self.maps


class PrivateMarginals:
    """Private rows as cell codes; see the module docstring for what leaves (noisy answers only)."""

    def __init__(self, codes: np.ndarray, names: Sequence[str], sizes: Sequence[int], noise: NoiseSource):
        self._codes = np.asarray(codes, dtype=np.int64)
        self._index = {n: i for i, n in enumerate(names)}
        self._sizes = {n: int(s) for n, s in zip(names, sizes)}
        self._noise = noise
        self._cache: dict[Clique, np.ndarray] = {}
        self._merged: dict[tuple[Clique, Maps], np.ndarray] = {}

    @classmethod
    def from_counts(cls, counts: Mapping[Clique, np.ndarray], names: Sequence[str], sizes: Sequence[int],
                    noise: NoiseSource) -> "PrivateMarginals":
        """A holder of exact marginals ``{clique: counts (C order)}`` instead of codes (``()``: the row count)."""
        holder = cls(np.zeros((0, len(names)), dtype=np.int64), names, sizes, noise)
        holder._codes = None
        holder._cache = {tuple(c): np.asarray(v, dtype=np.float64) for c, v in counts.items()}
        return holder

    def _true(self, clique: Clique) -> np.ndarray:
        """Exact counts of ``clique`` (private; never returned to a caller)."""
        clique = tuple(clique)
        if clique not in self._cache and self._codes is None:
            raise PrivacyError(f"internal error: marginal {clique} was not counted before the fit.")
        if clique not in self._cache:
            shape = tuple(self._sizes[a] for a in clique)
            if not clique:
                counts = np.array([float(len(self._codes))])
            else:
                cols = [self._codes[:, self._index[a]] for a in clique]
                flat = np.ravel_multi_index(cols, shape) if len(cols) > 1 else cols[0]
                counts = np.bincount(flat, minlength=int(np.prod(shape))).astype(np.float64)
            self._cache[clique] = counts
        return self._cache[clique]

    def _counts(self, clique: Clique, maps: Maps = ()) -> np.ndarray:
        """Exact counts of ``clique``, merged by ``maps`` (cached: the selection scores them every round)."""
        if not maps:
            return self._true(clique)
        key = (tuple(clique), maps)
        if key not in self._merged:
            self._merged[key] = aggregate(self._true(clique), maps)
        return self._merged[key]

    def measure(self, clique: Clique, rho: float, maps: Maps = ()) -> Measurement:
        """A ``rho``-zCDP noisy marginal of ``clique``, merged by ``maps`` if given (L2 sensitivity 1)."""
        noisy = np.round(noisy_histogram(self._counts(clique, maps), rho, self._noise))  # rounded: no LSB channel
        return Measurement(tuple(clique), noisy, gaussian_sigma(rho, 1.0), maps)

    def select(self, candidates: Sequence[tuple[Clique, Maps]], model_answers: Sequence[np.ndarray],
               weights: Sequence[float], rho: float, sigma_next: float) -> int:
        """AIM's exponential-mechanism pick among ``(clique, maps)`` candidates (model answers over the same
        cells; ``rho``-zCDP, ``epsilon = sqrt(8 rho)``); returns the index."""
        w = np.asarray(weights, dtype=np.float64)
        penalty = math.sqrt(2.0 / math.pi) * float(sigma_next)
        scores = np.array([wr * (float(np.abs(self._counts(cl, mp) - np.ravel(m)).sum()) - penalty * m.size)
                           for (cl, mp), m, wr in zip(candidates, model_answers, w)])
        return exponential_mechanism(scores, math.sqrt(8.0 * rho), float(w.max()), self._noise)
