"""Deprecated import path, kept only until the remaining importers move: use ``synthgen.generators.copula``."""
from .copula.dp import DPGaussianCopula

__all__ = ["DPGaussianCopula"]
