"""synthgen: releasable synthetic data with formal differential privacy, measured before it leaves.

Public API: :class:`Schema`, generators (``synthgen.GaussianCopula``, ``synthgen.DPGaussianCopula``, ... resolved
lazily), :class:`PrivacyLedger`, :func:`load`, :func:`evaluate`.
"""
from __future__ import annotations

from typing import Any

from ._version import __version__  # noqa: E402

from .generators import registry  # noqa: E402
from .exceptions import *  # noqa: E402,F401,F403
from .exceptions import SynthgenError  # noqa: E402

# Schema and privacy classes are imported on first use (they pull in pandas/numpy), so that light entry points
# such as ``synthgen --help`` stay fast.
_LAZY_ATTRS = {
    "DPSpend": "privacy", "NoGuarantee": "privacy", "PrivacyLedger": "privacy",
    "BooleanField": "schema", "CategoricalField": "schema", "DatetimeField": "schema",
    "IdentifierField": "schema", "NumericField": "schema", "Schema": "schema",
}

_LAZY = {
    "GaussianCopula": "copula",
    "DPGaussianCopula": "dp-copula",
    "DPCTGAN": "dp-ctgan",
    "DPMarginal": "dp-marginal",
    "CTGAN": "ctgan",
    "ImageAugmenter": "image-augment",
    "DPImageGenerator": "dp-image",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY_ATTRS:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY_ATTRS[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in ("schema", "privacy"):  # submodules that used to be bound by the eager imports
        import importlib

        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        return registry.get(_LAZY[name])
    raise AttributeError(f"module 'synthgen' has no attribute {name!r}")


def load(path: Any) -> Any:
    """Load a saved model directory (verifies every file's sha256; never runs code from the files)."""
    from .persistence import load_model

    return load_model(path)


def evaluate(*args: Any, **kwargs: Any) -> Any:
    """Fidelity, utility and privacy-risk report of a synthetic table (see :func:`evaluators.evaluate`)."""
    from evaluators import evaluate as _evaluate

    return _evaluate(*args, **kwargs)


def get_generator(name: str, **params: Any) -> Any:
    """Instantiate a registered generator by name, e.g. ``get_generator("dp-copula", epsilon=1.0)``."""
    return registry.get(name)(**params)


__all__ = [
    "BooleanField", "CategoricalField", "DPSpend", "DatetimeField", "IdentifierField", "NoGuarantee",
    "NumericField", "PrivacyLedger", "Schema", "SynthgenError", "__version__", "evaluate", "get_generator", "load",
    "registry",
]
