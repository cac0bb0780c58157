"""Deprecated import path, kept only until the remaining importers move: use ``synthgen.generators.images``."""
from .images.dp_merf import DPImageGenerator

__all__ = ["DPImageGenerator"]
