"""Image generators: ``augment.py`` (``image-augment``, NO DP guarantee; needs albumentations) and ``dp_merf.py``
(``dp-image``, DP-MERF; needs torch), on the shared image hooks of ``base.py``; ``merf_nets.py`` holds DP-MERF's
torch parts. Names are imported lazily, so using one generator never needs the other's dependency.
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY = {"ImageAugmenter": "augment", "ImagesNotAttachedError": "augment", "DEFAULT_PIPELINE": "augment",
         "TRANSFORMS": "augment", "build_compose": "augment", "normalize_pipeline": "augment",
         "DPImageGenerator": "dp_merf", "ImageGenerator": "base"}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
