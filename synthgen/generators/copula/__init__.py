"""Gaussian copulas: the plain one (:mod:`.plain`, NO DP guarantee) and the DP one (:mod:`.dp`).

Layout: ``model.py`` and ``normal_scores.py`` hold the fitted form and its numerics (sampling, state, correlation
repair: no data access); ``base.py`` what both generators share; ``binning.py``, ``latent.py`` and ``measure.py``
the DP copula's public bins, its post-processing of noisy histograms and its measure step (the only reader of
private rows in the DP copula).
"""
from .dp import DPGaussianCopula
from .plain import GaussianCopula

__all__ = ["DPGaussianCopula", "GaussianCopula"]
